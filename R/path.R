# Regularisation paths: lasso, elastic net, ridge and group lasso for logistic and
# softmax regression (kernels in inst/include/xentropy/path.hpp, glue in src/path.cpp).

#' Lasso and elastic-net regularisation paths for logistic and softmax regression
#'
#' Fits the penalised cross-entropy over a decreasing sequence of `lambda`, with
#' glmnet's conventions so that results compare:
#' \deqn{\frac{1}{\sum_i w_i} \sum_i w_i \, \ell_i(o_i + a + x_i^\top b) +
#'   \lambda \sum_j pf_j \left(\frac{1 - \alpha}{2} b_j^2 + \alpha |b_j|\right)}{
#'   (1 / sum(w)) sum_i w_i loss_i(o_i + a + x_i' b) +
#'   lambda sum_j pf_j ((1 - alpha) / 2 b_j^2 + alpha |b_j|)}
#' where \eqn{\ell_i} is the binary cross-entropy (`logistic_path()`) or the
#' categorical cross-entropy over all K classes (`softmax_path()`, glmnet's
#' over-parameterised multinomial model: the penalty identifies the
#' coefficients, except for the lasso with an even number of classes, where a
#' feature's K coefficients can shift together within their median interval at
#' no cost and, as glmnet does, are reported at its midpoint; the intercepts are
#' reported centred to mean zero). With
#' `standardize = TRUE` the penalty applies to the coefficients of the columns
#' scaled to unit weighted standard deviation, and coefficients are reported on
#' the original scale. Intercepts are not penalised; `penalty_factor` is rescaled
#' to sum to the number of columns. `grouped = TRUE` (softmax) replaces
#' \eqn{|b_j|} by the Euclidean norm of feature j's K coefficients (the group
#' lasso, glmnet's `type.multinomial = "grouped"`); `alpha = 0` is ridge.
#'
#' The solver is proximal Newton: a quadratic model of the loss (binary: IRLS
#' weights; softmax: the full softmax Hessian, not glmnet's class-diagonal
#' approximation) minimised with the penalty by coordinate descent, and solved
#' exactly on the active set once it settles (conjugate gradients; for the
#' group lasso a factorisation of the full Hessian), with warm starts along the
#' path, the sequential strong rule and a working set. Every lambda is accepted
#' only after the KKT conditions have been checked over all features: the largest
#' violation (distance of the negative gradient from the penalty's
#' subdifferential), divided by `S = min(lambda, g0)`, is stored in `kkt`, and
#' must be at most `control$kkt_tol`; `g0 = lambda_max * max(alpha, 1e-3)` is the
#' null model's largest penalised gradient, so for the lasso `S` is lambda, and a
#' ridge path, which starts at `1000 * g0`, is held to the size of the gradient
#' rather than of lambda. The intercepts' gradients are included, divided by
#' `min(S, 1)` (a mean residual, at most 1 in size: with unstandardised columns
#' `S` can be far above 1). A lambda that cannot reach it is reported with a warning of class `xentropy_warning_convergence`
#' and `converged` is `FALSE` for it.
#'
#' `x` may be a dense numeric matrix or a sparse `Matrix::dgCMatrix`, which is
#' read in place: standardisation is applied implicitly (column means and scales
#' enter the inner products), never by densifying or copying `x`.
#'
#' @param x A numeric matrix, a `Matrix::dgCMatrix` (n x p, without an intercept
#'   column), or a model formula (then `data` gives its variables, and the
#'   model matrix without its intercept column is used).
#' @param y `logistic_path()`: a two-level factor (the second level is the event),
#'   a logical vector or a numeric vector of 0/1 (or proportions in \[0, 1\]).
#'   `softmax_path()`: a factor (or a character vector) of classes.
#' @param alpha The elastic-net mixing in \[0, 1\]: 1 the lasso, 0 ridge.
#' @param lambda `NULL` (the default sequence) or a decreasing vector of positive
#'   penalties.
#' @param nlambda Length of the default sequence: from lambda_max (the smallest
#'   lambda at which all penalised coefficients are zero, divided by
#'   `max(alpha, 1e-3)`) down to `lambda_min_ratio * lambda_max`, log-spaced.
#'   The default sequence stops early, as glmnet's does, once the fraction of
#'   deviance explained reaches 0.999 or grows by less than 1e-5 (absolute).
#' @param lambda_min_ratio `NULL` (0.01 when n < p, else 1e-4) or a number in (0, 1).
#' @param weights `NULL` or n non-negative observation weights.
#' @param offset `NULL`, n offsets (logistic), or an n x K matrix (softmax: an
#'   offset per row alone, the same for every class, would cancel in the
#'   softmax, so a vector or a formula's `offset()` term is an error).
#' @param penalty_factor `NULL` or p non-negative factors (0: not penalised), by
#'   position, or named by the column names of `x` (each once, in any order).
#'   Unpenalised columns that, with the intercepts, separate the classes leave
#'   the objective without a minimum at any lambda (as for [glm()]): their
#'   coefficients grow until the gradient is below the tolerance, and the
#'   values returned are where that happened. This is detected as [glm()]
#'   detects it (the fit of the intercepts and unpenalised columns alone has
#'   fitted probabilities numerically 0 or 1) and reported with a warning of
#'   class `xentropy_warning_separation`.
#' @param standardize Whether to penalise standardised columns.
#' @param intercept Whether to fit an intercept (per class for softmax).
#' @param control A list: `thresh` (1e-7, coordinate descent stops when no
#'   coefficient update changes the model's objective by more than `thresh`
#'   times the null loss), `kkt_tol` (1e-6, the largest KKT violation allowed,
#'   relative to `min(lambda, g0)`, see Details), `maxit` (100000 coordinate-descent passes per lambda)
#'   and `max_outer` (200 proximal Newton steps per lambda). Any other name is
#'   an error.
#' @param grouped `softmax_path()`: penalise each feature's K coefficients as a
#'   group.
#' @param data A data frame for the formula interface.
#' @param ... For the formula methods, the arguments of the default method, and
#'   `subset` and `na.action` (`na.omit` by default, `getOption("na.action")`).
#'   As for [glm()], `weights`, `offset` and `subset` are evaluated in `data`,
#'   `offset()` terms of the formula are added to the offset (and `predict()`
#'   takes them from `newx`), a formula without an intercept (`0 +` or `- 1`)
#'   fits none, `predict()` on a data frame uses the fit's contrasts, and levels
#'   of a factor response left without observations (by `subset`, say) are
#'   dropped.
#' @return An object of class `c("logistic_path", "xentropy_path")` or
#'   `c("softmax_path", "xentropy_path")`: a list with `lambda`, `df` (number of
#'   features with a non-zero coefficient), `dev_ratio` (fraction of the null
#'   deviance explained), `deviance` and `null_deviance` (glm's and glmnet's:
#'   twice the weighted loss less the saturated model's, which is 0 for 0/1
#'   targets), `kkt` (certified largest
#'   KKT violation relative to `min(lambda, g0)`), `passes` (coordinate-descent passes), `converged`,
#'   `a0` and `beta` (intercepts and coefficients on the original scale: for
#'   softmax a K x L matrix and a list of K p x L matrices), and what `cv_path()`
#'   needs to refit. Methods: `print()`, `coef()`, `predict()`, `plot()`,
#'   `autoplot()`, `deviance()` (one per lambda) and `nobs()`.
#' @family regularisation paths
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(200 * 10), 200, 10)
#' y <- rbinom(200, 1, plogis(x[, 1] - 2 * x[, 2]))
#' fit <- logistic_path(x, y)
#' fit
#' # the first features to enter are the ones that matter
#' coef(fit, s = 0.05)
#' max(fit$kkt)  # the certified KKT violation, relative to lambda (lasso)
#'
#' # sparse input, read in place
#' if (requireNamespace("Matrix", quietly = TRUE)) {
#'   xs <- Matrix::rsparsematrix(300, 50, density = 0.05)
#'   ys <- rbinom(300, 1, plogis(as.numeric(xs %*% rep(c(3, 0), c(5, 45)))))
#'   print(logistic_path(xs, ys, nlambda = 20))
#' }
#'
#' # softmax with the group lasso, by formula
#' sp <- softmax_path(Species ~ ., data = iris, grouped = TRUE)
#' coef(sp, s = 0.02)$setosa
#' @export
logistic_path <- function(x, ...) UseMethod("logistic_path")

#' @rdname logistic_path
#' @export
logistic_path.default <- function(x, y, alpha = 1, lambda = NULL, nlambda = 100,
                                  lambda_min_ratio = NULL, weights = NULL, offset = NULL,
                                  penalty_factor = NULL, standardize = TRUE,
                                  intercept = TRUE, control = list(), ...) {
  where <- sys.call()
  no_dots(list(...), where)
  path_fit(x, y, alpha, lambda, nlambda, lambda_min_ratio, weights, offset,
           penalty_factor, standardize, intercept, control, softmax = FALSE,
           grouped = FALSE, where = where, call = generic_call(match.call(), "logistic_path"))
}

#' @rdname logistic_path
#' @export
logistic_path.formula <- function(x, data, ...) {
  path_formula(match.call(expand.dots = FALSE), parent.frame(), sys.call(), "logistic_path")
}

#' @rdname logistic_path
#' @export
softmax_path <- function(x, ...) UseMethod("softmax_path")

#' @rdname logistic_path
#' @export
softmax_path.default <- function(x, y, alpha = 1, lambda = NULL, nlambda = 100,
                                 lambda_min_ratio = NULL, weights = NULL, offset = NULL,
                                 penalty_factor = NULL, standardize = TRUE,
                                 intercept = TRUE, control = list(), ...,
                                 grouped = FALSE) {
  where <- sys.call()
  no_dots(list(...), where)
  path_fit(x, y, alpha, lambda, nlambda, lambda_min_ratio, weights, offset,
           penalty_factor, standardize, intercept, control, softmax = TRUE,
           grouped = check_flag(grouped, "grouped", where), where = where,
           call = generic_call(match.call(), "softmax_path"))
}

# The call as the user wrote it (the generic's name, not the method's), as
# glm and glmnet print it.
generic_call <- function(call, name) {
  call[[1L]] <- as.name(name)
  call
}

#' @rdname logistic_path
#' @export
softmax_path.formula <- function(x, data, ...) {
  path_formula(match.call(expand.dots = FALSE), parent.frame(), sys.call(), "softmax_path")
}

# The formula methods, as glm builds its model frame: `weights`, `offset`,
# `subset` and `na.action` (na.omit by default, getOption("na.action")) are
# evaluated in `data`, offset() terms are added to the offset, and a formula
# without an intercept fits none; the other arguments go to the default method,
# evaluated in the caller's frame.
path_formula <- function(mc, env, where, name) {
  formula <- eval(mc$x, env)
  if (is.null(mc$data)) {
    abort("`data` must be a data frame holding the variables of the formula, not missing.",
          where, class = "xentropy_error_type", argument = "data")
  }
  data <- eval(mc$data, env)
  dots <- mc$...
  dot_names <- if (is.null(names(dots))) character(length(dots)) else names(dots)
  in_mf <- dot_names %in% c("weights", "offset", "subset", "na.action")
  mf_args <- dots[in_mf]
  rest <- dots[!in_mf]
  mf <- path_model_frame(formula, data, where, mf_args, env)
  # the other arguments matched as the default method matches them (by position, by
  # partial name), unknown ones refused as it refuses them, and path_fit() called
  # with the user's call for its conditions (a do.call() of the default method
  # would give them a call with the model matrix, response and weights inlined)
  fun <- if (name == "logistic_path") logistic_path.default else softmax_path.default
  cl <- as.call(c(list(as.name(name), quote(x), quote(y), weights = quote(weights),
                       offset = quote(offset)), rest))
  matched <- as.list(match.call(fun, cl, expand.dots = FALSE))[-1L]
  no_dots(matched$..., where)
  given <- setdiff(names(matched), c("x", "y", "weights", "offset", "..."))
  args <- lapply(formals(fun)[setdiff(names(formals(fun)), c("x", "y", "..."))], eval,
                 baseenv())  # the defaults (constants)
  args[given] <- lapply(matched[given], eval, env)
  if (!mf$intercept) {
    if ("intercept" %in% given && isTRUE(args$intercept)) {
      abort("The formula has no intercept (`- 1` or `0 +`) but `intercept = TRUE`: say which.",
            where, class = "xentropy_error_argument", argument = "intercept")
    }
    args$intercept <- FALSE
  }
  softmax <- name == "softmax_path"
  fit <- path_fit(mf$x, mf$y, args$alpha, args$lambda, args$nlambda, args$lambda_min_ratio,
                  mf$weights, mf$offset, args$penalty_factor, args$standardize,
                  args$intercept, args$control, softmax = softmax,
                  grouped = softmax && check_flag(args$grouped, "grouped", where),
                  where = where, call = NULL)
  fit$terms <- mf$terms
  fit$xlevels <- mf$xlevels
  fit$contrasts <- mf$contrasts
  fit$offset_terms <- !is.null(attr(mf$terms, "offset"))
  fit$offset_arg <- !is.null(mf_args$offset)
  fit$na.action <- mf$na.action
  call <- mc
  call[[1L]] <- as.name(name)
  call$... <- NULL
  fit$call <- as.call(c(as.list(call), dots))
  fit
}

# The model matrix (without its intercept column) and response of a formula.
path_model_frame <- function(formula, data, where, mf_args = list(), env = parent.frame()) {
  if (!is.data.frame(data)) {
    abort(sprintf("`data` must be a data frame holding the variables of the formula, not %s.",
                  friendly_type(data)), where, class = "xentropy_error_type", argument = "data")
  }
  if (length(formula) != 3L) {
    abort("`x` must have a response on its left-hand side (`y ~ x1 + x2`).", where, class = "xentropy_error_argument")
  }
  if (is.null(mf_args$na.action)) mf_args$na.action <- getOption("na.action", "na.omit")
  cl <- as.call(c(list(quote(stats::model.frame), formula = formula, data = quote(data)), mf_args))
  mf <- eval(cl, list(data = data), env)
  tt <- stats::terms(mf)
  X <- stats::model.matrix(tt, mf)
  keep <- colnames(X) != "(Intercept)"
  y <- stats::model.response(mf)
  # as glm: the levels of a factor response that `subset` or `na.action` left unused
  # are dropped (a class without observations has no fit)
  if (is.factor(y)) y <- droplevels(y)
  list(x = X[, keep, drop = FALSE], y = y, terms = tt,
       xlevels = stats::.getXlevels(tt, mf), contrasts = attr(X, "contrasts"),
       weights = stats::model.weights(mf), offset = stats::model.offset(mf),
       intercept = attr(tt, "intercept") == 1L, na.action = attr(mf, "na.action"))
}

path_controls <- list(thresh = 1e-7, kkt_tol = 1e-6, maxit = 100000L, max_outer = 200L)

check_path_control <- function(control, where) {
  if (!is.list(control)) {
    abort(sprintf("`control` must be a list such as `list(thresh = 1e-7, kkt_tol = 1e-6)`, not %s.",
                  friendly_type(control)), where, class = "xentropy_error_type",
          argument = "control")
  }
  nm <- names(control)
  unknown <- if (length(control) && is.null(nm)) "(unnamed)" else setdiff(nm, names(path_controls))
  if (length(unknown)) {
    abort(sprintf("`control` has unknown element%s %s; known: %s.",
                  if (length(unknown) > 1) "s" else "",
                  paste0("`", unknown, "`", collapse = ", "),
                  paste0("`", names(path_controls), "`", collapse = ", ")),
          where, class = "xentropy_error_value", argument = "control")
  }
  ctl <- path_controls
  ctl[nm] <- control
  ctl$thresh <- check_number(ctl$thresh, "control$thresh", "a single positive number",
                             function(v) is.finite(v) && v > 0, where)
  ctl$kkt_tol <- check_number(ctl$kkt_tol, "control$kkt_tol", "a single positive number",
                              function(v) is.finite(v) && v > 0, where)
  ctl$maxit <- as.integer(check_number(ctl$maxit, "control$maxit",
                                       "a single positive whole number",
                                       function(v) v >= 1 && v <= .Machine$integer.max &&
                                         v == round(v), where))
  ctl$max_outer <- as.integer(check_number(ctl$max_outer, "control$max_outer",
                                           "a single positive whole number",
                                           function(v) v >= 1 && v <= 1e6 && v == round(v),
                                           where))
  ctl
}

# x: a double matrix or a dgCMatrix; anything else is an error naming it.
check_path_x <- function(x, where) {
  if (inherits(x, "dgCMatrix")) {
    bad <- first_nonfinite_impl(x@x)  # one pass, nothing allocated
    if (bad > 0) {
      abort(sprintf("`x` must be finite; found %s among its non-zero entries.",
                    format(x@x[bad])), where, class = "xentropy_error_value", argument = "x")
    }
    return(list(x = x, sparse = TRUE))
  }
  if (isS4(x) || inherits(x, "Matrix")) {
    abort(sprintf(paste0("`x` must be a numeric matrix or a Matrix::dgCMatrix, not %s; ",
                         "convert it with as(x, \"CsparseMatrix\") (sparse) or as.matrix() (dense)."),
                  friendly_type(x)), where, class = "xentropy_error_type", argument = "x",
          expected = "a numeric matrix or a dgCMatrix", given = friendly_type(x),
          given_class = class(x))
  }
  if (!is.matrix(x) || !(is.double(x) || is.integer(x) || is.logical(x)) ||
      (is.object(x) && !inherits(x, "matrix"))) {
    abort(sprintf("`x` must be a numeric matrix or a Matrix::dgCMatrix, not %s.",
                  friendly_type(x)), where, class = "xentropy_error_type", argument = "x",
          expected = "a numeric matrix or a dgCMatrix", given = friendly_type(x),
          given_class = class(x))
  }
  if (!is.double(x)) storage.mode(x) <- "double"
  bad <- first_nonfinite_impl(x)
  if (bad > 0) {
    abort(sprintf("`x` must be finite; found %s at [%.0f, %.0f].", format(x[bad]),
                  (bad - 1) %% nrow(x) + 1, (bad - 1) %/% nrow(x) + 1),
          where, class = "xentropy_error_value", argument = "x")
  }
  list(x = x, sparse = FALSE)
}

# y as an n x K double target matrix, and the class labels. `held_out`: rows scored by
# cv_path(), which may all be of one class (leave-one-out, rare events).
path_targets <- function(y, n, softmax, where, held_out = FALSE) {
  if (length(y) != n || !is.null(dim(y)) && length(dim(y)) > 1L) {
    abort(sprintf("`y` must be a vector with one value per row of `x` (%.0f), not %s of length %.0f.",
                  n, friendly_type(y), length(y)), where, class = "xentropy_error_value",
          argument = "y")
  }
  if (anyNA(y)) {
    abort(sprintf("`y` has NA at position %.0f.", which(is.na(y))[1]), where,
          class = "xentropy_error_value", argument = "y")
  }
  if (softmax) {
    if (is.character(y)) y <- factor(y)
    if (!is.factor(y)) {
      abort(sprintf("`y` must be a factor (or character vector) of classes, not %s.",
                    friendly_type(y)), where, class = "xentropy_error_type", argument = "y")
    }
    lev <- levels(y)
    counts <- tabulate(as.integer(y), length(lev))
    if (length(lev) < 2L || any(counts == 0L)) {
      abort(sprintf("`y` must have at least two classes, each observed; %s.",
                    if (length(lev) < 2L) "it has fewer than two levels"
                    else paste0("no observations of ", paste0("\"", lev[counts == 0L], "\"", collapse = ", "))),
            where, class = "xentropy_error_value", argument = "y")
    }
    Y <- matrix(0, n, length(lev))
    Y[cbind(seq_len(n), as.integer(y))] <- 1
    return(list(y = Y, levels = lev))
  }
  if (is.factor(y)) {
    lev <- levels(y)
    if (length(lev) != 2L) {
      abort(sprintf("`y` must be a two-level factor for logistic_path(), not one with %.0f levels (use softmax_path() for more).",
                    length(lev)), where, class = "xentropy_error_value", argument = "y")
    }
    y <- as.double(as.integer(y) == 2L)
    if (!held_out && (all(y == 0) || all(y == 1))) {
      abort(sprintf("`y` must have both classes; all %.0f values are \"%s\".", length(y),
                    lev[1L + y[1]]), where, class = "xentropy_error_value", argument = "y")
    }
    return(list(y = matrix(y), levels = lev))
  }
  if (is.logical(y)) {
    if (!held_out && (all(y) || !any(y))) {
      abort(sprintf("`y` must have both classes; all %.0f values are %s.", length(y), y[1]),
            where, class = "xentropy_error_value", argument = "y")
    }
    return(list(y = matrix(as.double(y)), levels = c("FALSE", "TRUE")))
  }
  if (!is.numeric(y) || is.object(y)) {
    abort(sprintf("`y` must be a two-level factor, a logical vector or numbers in [0, 1], not %s.",
                  friendly_type(y)), where, class = "xentropy_error_type", argument = "y")
  }
  if (any(y < 0 | y > 1)) {
    bad <- which(y < 0 | y > 1)[1]
    abort(sprintf("`y` must be in [0, 1]; found %s at position %.0f.", format_value(y[bad]), bad),
          where, class = "xentropy_error_value", argument = "y")
  }
  if (!held_out && (all(y == 0) || all(y == 1))) {
    abort(sprintf("`y` must have both classes; all %.0f values are %s (the intercept would be infinite).",
                  length(y), format_value(y[1])), where, class = "xentropy_error_value",
          argument = "y")
  }
  list(y = matrix(as.double(y)), levels = c("0", "1"))
}

path_fit <- function(x, y, alpha, lambda, nlambda, lambda_min_ratio, weights, offset,
                     penalty_factor, standardize, intercept, control, softmax, grouped,
                     where, call) {
  cx <- check_path_x(x, where)
  n <- nrow(cx$x)
  p <- ncol(cx$x)
  if (n < 2L || p < 1L) {
    abort(sprintf("`x` must have at least two rows and one column, not %.0f x %.0f.", n, p),
          where, class = "xentropy_error_value", argument = "x")
  }
  tg <- path_targets(y, n, softmax, where)
  K <- ncol(tg$y)
  alpha <- check_number(alpha, "alpha", "a single number in [0, 1]",
                        function(a) a >= 0 && a <= 1, where)
  standardize <- check_flag(standardize, "standardize", where)
  intercept <- check_flag(intercept, "intercept", where)
  ctl <- check_path_control(control, where)
  if (!is.null(lambda)) {
    if (!is.numeric(lambda) || is.object(lambda) || length(lambda) < 1L || anyNA(lambda) ||
        any(!is.finite(lambda)) || any(lambda <= 0)) {
      abort(sprintf("`lambda` must be NULL or a vector of positive finite numbers, not %s.",
                    given_value(lambda)), where, class = "xentropy_error_value",
            argument = "lambda")
    }
    if (is.unsorted(rev(lambda), strictly = TRUE)) {
      abort("`lambda` must be strictly decreasing (the path is fitted from the largest penalty down, with warm starts).",
            where, class = "xentropy_error_value", argument = "lambda")
    }
    lambda <- as.double(lambda)
    nlambda <- length(lambda)
  } else {
    nlambda <- as.integer(check_number(nlambda, "nlambda", "a single positive whole number",
                                       function(v) v >= 1 && v <= 1e6 && v == round(v), where))
  }
  if (is.null(lambda_min_ratio)) {
    lambda_min_ratio <- if (n < p) 0.01 else 1e-4
  }
  lambda_min_ratio <- check_number(lambda_min_ratio, "lambda_min_ratio",
                                   "a single number in (0, 1)", function(v) v > 0 && v < 1,
                                   where)
  w <- check_weights(weights, n, where)
  if (!is.null(w) && sum(w) <= 0) {
    abort("`weights` must not all be zero.", where, class = "xentropy_error_value",
          argument = "weights")
  }
  if (!is.null(w) && any(w == 0)) {
    # a class seen only on rows of weight zero has no finite fit (its intercept would
    # go to -Inf): refuse it as the unweighted case is refused
    Yw <- tg$y[w > 0, , drop = FALSE]
    seen <- if (K > 1L) colSums(Yw) > 0 else c(any(Yw < 1), any(Yw > 0))
    if (!all(seen)) {
      lev <- if (K > 1L) tg$levels else tg$levels[1:2]
      abort(sprintf("`y` must have every class on some row of positive weight; %s only on rows where `weights` is 0.",
                    paste0("\"", lev[!seen], "\"", collapse = ", ")),
            where, class = "xentropy_error_value", argument = "y")
    }
  }
  off <- NULL
  if (!is.null(offset)) {
    if (!is.numeric(offset) || is.object(offset) && !is.matrix(offset)) {
      abort(sprintf("`offset` must be a numeric vector or matrix, not %s.", friendly_type(offset)),
            where, class = "xentropy_error_type", argument = "offset")
    }
    ok_shape <- if (softmax) is.matrix(offset) && all(dim(offset) == c(n, K)) else
      length(offset) == n && (is.null(dim(offset)) || ncol(offset) == 1L)
    if (!ok_shape && softmax && length(offset) == n && (is.null(dim(offset)) || ncol(offset) == 1L)) {
      # one offset per row is the same for every class: it cancels in the softmax
      abort(sprintf(paste0("`offset` must be an n x K matrix (%.0f x %.0f) for softmax_path(), one ",
                           "offset per row and class, not %s of length %.0f: an offset per row (a ",
                           "vector, or an `offset()` term of a formula) is the same for every class, ",
                           "cancels in the softmax and would have no effect."),
                    n, K, friendly_type(offset), length(offset)),
            where, class = "xentropy_error_value", argument = "offset")
    }
    if (!ok_shape) {
      abort(sprintf("`offset` must be %s, not %s of length %.0f.",
                    if (softmax) sprintf("an n x K matrix (%.0f x %.0f)", n, K)
                    else sprintf("a vector of length %.0f (one per row of `x`)", n),
                    friendly_type(offset), length(offset)),
            where, class = "xentropy_error_value", argument = "offset")
    }
    if (!all(is.finite(offset))) {
      abort("`offset` must be finite.", where, class = "xentropy_error_value", argument = "offset")
    }
    off <- offset
    storage.mode(off) <- "double"
  }
  if (is.null(penalty_factor)) {
    pf <- rep(1, p)
  } else {
    if (!is.numeric(penalty_factor) || length(penalty_factor) != p) {
      abort(sprintf("`penalty_factor` must be a numeric vector of length %.0f (one per column of `x`), not %s of length %.0f.",
                    p, friendly_type(penalty_factor), length(penalty_factor)),
            where, class = "xentropy_error_value", argument = "penalty_factor")
    }
    if (!is.null(names(penalty_factor))) {
      # named: one factor per column of `x`, by name (unnamed: by position)
      xn <- colnames(cx$x)
      if (is.null(xn)) xn <- paste0("V", seq_len(p))
      pos <- match(xn, names(penalty_factor))
      if (anyNA(pos) || anyDuplicated(names(penalty_factor))) {
        quote_some <- function(v) paste0("\"", utils::head(v, 6), "\"", collapse = ", ")
        extra <- setdiff(names(penalty_factor), xn)
        why <- c(if (anyNA(pos)) paste("none for", quote_some(xn[is.na(pos)])),
                 if (length(extra)) paste("not columns of `x`:", quote_some(extra)),
                 if (!anyNA(pos)) "some named more than once")
        abort(sprintf("`penalty_factor` has names, so they must be the column names of `x`, each once; %s.",
                      paste(why, collapse = "; ")),
              where, class = "xentropy_error_value", argument = "penalty_factor")
      }
      penalty_factor <- penalty_factor[pos]
    }
    if (anyNA(penalty_factor) || any(penalty_factor < 0) || any(!is.finite(penalty_factor))) {
      bad <- which(is.na(penalty_factor) | penalty_factor < 0 | !is.finite(penalty_factor))[1]
      col <- if (is.null(colnames(cx$x))) sprintf("position %.0f", bad)
             else sprintf("column \"%s\" (position %.0f)", colnames(cx$x)[bad], bad)
      abort(sprintf("`penalty_factor` must be non-negative and finite; found %s for %s%s.",
                    format_value(penalty_factor[bad]), col,
                    if (isTRUE(penalty_factor[[bad]] == Inf))
                      " (glmnet's exclusion is not offered: to leave a column out, drop it from `x`)"
                    else ""),
            where, class = "xentropy_error_value", argument = "penalty_factor")
    }
    if (all(penalty_factor == 0)) {
      abort("`penalty_factor` must have at least one positive entry (else nothing is penalised: use logistic_regression()).",
            where, class = "xentropy_error_value", argument = "penalty_factor")
    }
    pf <- as.double(penalty_factor)
  }
  res <- path_fit_impl(cx$x, cx$sparse, tg$y, w, off, pf, alpha, grouped, lambda,
                       as.integer(nlambda), lambda_min_ratio, intercept, standardize,
                       ctl$thresh, ctl$kkt_tol, ctl$maxit, ctl$max_outer, is.null(lambda))
  L <- length(res$lambda)
  xn <- colnames(cx$x)
  if (is.null(xn)) xn <- paste0("V", seq_len(p))
  sn <- paste0("s", seq_len(L) - 1L)
  if (softmax) {
    beta <- lapply(seq_len(K), function(k) {
      matrix(res$beta[, k, ], p, L, dimnames = list(xn, sn))
    })
    names(beta) <- tg$levels
    a0 <- matrix(res$a0, K, L, dimnames = list(tg$levels, sn))
  } else {
    beta <- matrix(res$beta, p, L, dimnames = list(xn, sn))
    a0 <- stats::setNames(res$a0[1, ], sn)
  }
  converged <- res$code == 0L & res$kkt <= ctl$kkt_tol
  out <- list(
    a0 = a0, beta = beta, lambda = res$lambda, df = res$df, dev_ratio = res$dev_ratio,
    deviance = res$dev, null_deviance = res$null_dev, kkt = res$kkt, passes = res$passes,
    converged = converged, status = res$code, lambda_max = res$lambda_max,
    objective = res$loss + res$penalty, nobs = n, nvars = p, classes = tg$levels,
    xnames = xn, alpha = alpha, grouped = grouped, offset = !is.null(off),
    call = call,
    # what cv_path() needs to refit (R copies none of these unless modified)
    settings = list(x = cx$x, y = y, weights = w, offset = off, penalty_factor = penalty_factor,
                    standardize = standardize, intercept = intercept, control = ctl,
                    alpha = alpha, grouped = grouped, softmax = softmax)
  )
  class(out) <- c(if (softmax) "softmax_path" else "logistic_path", "xentropy_path")
  if (res$separated) {
    free <- c(if (intercept) if (softmax) "the intercepts" else "the intercept",
              if (any(pf == 0)) "the unpenalised columns (`penalty_factor` 0)")
    warn(sprintf(paste0("%s(): fitted probabilities numerically 0 or 1 occurred in the fit of %s ",
                        "alone: they separate the classes, so the objective has no minimum at any ",
                        "lambda, and the unpenalised coefficients returned are where the iterations ",
                        "stopped (finite, possibly large)."),
                 if (softmax) "softmax_path" else "logistic_path", paste(free, collapse = " and ")),
         where, class = "xentropy_warning_separation")
  }
  if (!all(converged)) {
    bad <- which(!converged)
    why <- ifelse(res$code[bad] == 3L, "the iteration limit was reached",
                  ifelse(res$code[bad] == 7L, "no step decreased the objective",
                         "the KKT tolerance was not reached"))
    warn(sprintf(paste0("%s(): %.0f of %.0f lambdas did not reach the KKT tolerance %s ",
                        "(largest relative violation %s at lambda = %s: %s); see `$kkt` and `$converged`, ",
                        "or raise `control$maxit`."),
                 if (softmax) "softmax_path" else "logistic_path", length(bad), L,
                 format(ctl$kkt_tol), format(max(res$kkt[bad]), digits = 3),
                 format(res$lambda[bad[which.max(res$kkt[bad])]], digits = 4), why[1]),
         where, class = "xentropy_warning_convergence")
  }
  out
}

#' @export
deviance.xentropy_path <- function(object, ...) {
  stats::setNames(object$deviance, paste0("s", seq_along(object$lambda) - 1L))
}

#' @export
nobs.xentropy_path <- function(object, ...) object$nobs

#' @export
print.xentropy_path <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("\nCall: ", paste(deparse(x$call), collapse = "\n"), "\n\n", sep = "")
  tab <- data.frame(Df = x$df, `%Dev` = round(100 * x$dev_ratio, 2),
                    Lambda = signif(x$lambda, digits), check.names = FALSE)
  if (!all(x$converged)) tab$Converged <- x$converged
  print(tab)
  cat(sprintf("\nLargest relative KKT violation: %s\n", format(max(x$kkt), digits = 3)))
  invisible(x)
}

# Columns of `m` (one per lambda) at penalties `s`, linear in lambda between fitted
# ones (glmnet's coef(s =)); outside the path, the end columns.
interpolate_path <- function(m, lambda, s) {
  L <- length(lambda)
  out <- vapply(s, function(si) {
    if (si >= lambda[1L]) return(m[, 1L])
    if (si <= lambda[L]) return(m[, L])
    l <- max(which(lambda >= si))
    f <- (si - lambda[l + 1L]) / (lambda[l] - lambda[l + 1L])
    f * m[, l] + (1 - f) * m[, l + 1L]
  }, numeric(nrow(m)))
  out <- matrix(out, nrow(m), length(s))
  dimnames(out) <- list(rownames(m), paste0("s", seq_along(s)))  # glmnet's names for s
  out
}

check_s <- function(s, where) {
  if (is.null(s)) return(NULL)
  if (!is.numeric(s) || length(s) < 1L || anyNA(s) || any(s < 0)) {
    abort(sprintf("`s` must be NULL or non-negative penalties (lambda values), not %s.",
                  given_value(s)), where, class = "xentropy_error_value", argument = "s")
  }
  as.double(s)
}

#' Coefficients and predictions of a regularisation path
#'
#' `coef()` returns the intercept and coefficients on the original scale of `x`:
#' a (p + 1) x L matrix, intercept first, one column per lambda (softmax: a list
#' of K such matrices named by class). With `s`, the coefficients at those
#' penalties, linear in lambda between the fitted ones (as glmnet's
#' `coef(s =)`); on a `cv_path()` result `s` may be `"lambda_min"` or
#' `"lambda_1se"`. `predict()` gives the linear predictor (`"link"`), the
#' probabilities (`"prob"`) or the most probable class (`"class"`) for new rows:
#' for logistic paths n x L matrices (the probability of the second class), for
#' softmax paths n x K x L arrays (`"class"`: an n x L matrix of labels).
#'
#' @param object A `logistic_path()`, `softmax_path()` or `cv_path()` result.
#' @param s `NULL` (every lambda of the path) or penalties.
#' @param newx New rows: a numeric matrix or `dgCMatrix` with the columns of `x`,
#'   or a data frame for a path fitted by formula. When both `newx` and the fit's
#'   `x` have column names, columns are matched by name (in any order; names
#'   that are not the fit's are an error); otherwise by position, as glmnet's.
#' @param type `"link"`, `"prob"` or `"class"`.
#' @param newoffset The offsets of the new rows (a vector, or an n x K matrix for
#'   softmax), required when the path was fitted with an offset. It is added to the
#'   linear predictor whenever it is given (glmnet ignores it for a path fitted
#'   without an offset). For a path fitted by formula with `offset()` terms, a
#'   data frame `newx` supplies those terms (`newoffset` is then only the
#'   `offset =` argument's part, if any); a matrix `newx` cannot, so `newoffset`
#'   is required and is the whole offset.
#' @param ... Nothing: any argument here is an error (glmnet's `exact` included;
#'   `coef()` and `predict()` interpolate, see Description).
#' @return See Description.
#' @family regularisation paths
#' @examples
#' set.seed(2)
#' x <- matrix(rnorm(100 * 5), 100, 5)
#' y <- factor(ifelse(x[, 1] + rnorm(100) > 0, "yes", "no"))
#' fit <- logistic_path(x, y, nlambda = 10)
#' coef(fit, s = c(0.1, 0.01))
#' predict(fit, x[1:3, ], s = 0.01, type = "prob")
#' predict(fit, x[1:3, ], s = 0.01, type = "class")
#' @name coef.xentropy_path
#' @export
coef.xentropy_path <- function(object, s = NULL, ...) {
  where <- sys.call()
  path_no_dots(list(...), where)
  path_coef(object, s, where)
}

# `...` of coef() and predict() takes nothing: an argument there (glmnet's `exact`, a
# misspelt `newoffset`) would otherwise be ignored without a word.
path_no_dots <- function(dots, where) {
  if ("exact" %in% names(dots)) {
    abort(paste0("Unknown argument `exact`: exact refits at `s` are not offered; coef() and ",
                 "predict() interpolate linearly in lambda between the path's fitted lambdas ",
                 "(glmnet's `exact = FALSE`). For the exact solution, refit with `s` in `lambda`."),
          where, class = "xentropy_error_argument", argument = "exact")
  }
  no_dots(dots, where)
}

path_coef <- function(object, s, where) {
  s <- check_s(s, where)
  one <- function(a0, beta) {
    m <- rbind(`(Intercept)` = a0, beta)
    if (is.null(s)) m else interpolate_path(m, object$lambda, s)
  }
  if (inherits(object, "softmax_path")) {
    out <- lapply(seq_along(object$classes), function(k) one(object$a0[k, ], object$beta[[k]]))
    names(out) <- object$classes
    return(out)
  }
  one(object$a0, object$beta)
}

path_newx <- function(object, newx, where) {
  if (is.data.frame(newx)) {
    if (is.null(object$terms)) {
      abort("`newx` must be a matrix: this path was fitted with a matrix, not a formula.",
            where, class = "xentropy_error_type", argument = "newx")
    }
    tt <- stats::delete.response(object$terms)
    mf <- stats::model.frame(tt, newx, xlev = object$xlevels, na.action = stats::na.pass)
    X <- stats::model.matrix(tt, mf, contrasts.arg = object$contrasts)
    X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
    if (!identical(colnames(X), object$xnames)) {
      abort(sprintf("`newx` gives the model matrix columns %s, not the fit's %s (factor levels or contrasts that differ).",
                    paste0("\"", utils::head(colnames(X), 6), "\"", collapse = ", "),
                    paste0("\"", utils::head(object$xnames, 6), "\"", collapse = ", ")),
            where, class = "xentropy_error_value", argument = "newx")
    }
    attr(X, "offset") <- stats::model.offset(mf)  # the formula's offset() terms
    return(X)
  }
  cx <- check_path_x(newx, where)
  X <- cx$x
  # named columns are matched to the fit's by name (reordered if need be); unnamed
  # ones (or a fit on an unnamed x) by position, as glmnet's
  fit_names <- colnames(object$settings$x)
  new_names <- colnames(X)
  if (!is.null(fit_names) && !is.null(new_names) && !identical(new_names, fit_names)) {
    missing <- setdiff(fit_names, new_names)
    extra <- setdiff(new_names, fit_names)
    if (length(missing) || length(extra) || anyDuplicated(new_names) ||
        anyDuplicated(fit_names)) {
      quote_some <- function(v) {
        paste0(paste0("\"", utils::head(v, 6), "\"", collapse = ", "),
               if (length(v) > 6) sprintf(" and %.0f more", length(v) - 6) else "")
      }
      why <- c(if (length(missing)) paste("missing", quote_some(missing)),
               if (length(extra)) paste("not in the fit", quote_some(extra)),
               if (!length(missing) && !length(extra)) "some named more than once")
      abort(sprintf("`newx`'s column names must be the fit's (in any order): %s.",
                    paste(why, collapse = "; ")),
            where, class = "xentropy_error_value", argument = "newx")
    }
    if (cx$sparse) requireNamespace("Matrix", quietly = TRUE)  # `[` of a dgCMatrix
    X <- X[, match(fit_names, new_names), drop = FALSE]
  }
  if (ncol(X) != object$nvars) {
    abort(sprintf("`newx` has %.0f columns but the path was fitted on %.0f.", ncol(X),
                  object$nvars), where, class = "xentropy_error_value", argument = "newx")
  }
  X
}

#' @rdname coef.xentropy_path
#' @export
predict.xentropy_path <- function(object, newx, s = NULL, type = c("link", "prob", "class"),
                                  newoffset = NULL, ...) {
  where <- sys.call()
  path_no_dots(list(...), where)
  path_predict(object, newx, s, match.arg(type), newoffset, where)
}

path_predict <- function(object, newx, s, type, newoffset, where) {
  s <- check_s(s, where)
  X <- path_newx(object, newx, where)
  n <- nrow(X)
  # a formula fit's offset() terms come from a data frame `newx`; an offset given
  # otherwise is needed again as `newoffset`, and a matrix `newx` cannot carry the
  # offset() terms, so then `newoffset` is the whole offset
  term_off <- attr(X, "offset")
  attr(X, "offset") <- NULL
  if (object$offset && is.null(newoffset)) {
    if (isTRUE(object$offset_terms) && !is.data.frame(newx)) {
      abort(paste0("This path was fitted with offset() terms in its formula, which a matrix `newx` ",
                   "cannot carry: give the new rows' whole offsets as `newoffset`, or `newx` as a ",
                   "data frame."),
            where, class = "xentropy_error_value", argument = "newoffset")
    }
    if (!isTRUE(object$offset_terms) || isTRUE(object$offset_arg)) {
      abort("This path was fitted with an offset: give the new rows' offsets as `newoffset`.",
            where, class = "xentropy_error_value", argument = "newoffset")
    }
  }
  if (!is.null(newoffset)) {
    softmax <- inherits(object, "softmax_path")
    K <- length(object$classes)
    ok <- is.numeric(newoffset) && !anyNA(newoffset) && all(is.finite(newoffset)) &&
      (if (softmax) is.matrix(newoffset) && identical(dim(newoffset), c(n, K))
       else length(newoffset) == n && (!is.matrix(newoffset) || ncol(newoffset) == 1L))
    if (!ok) {
      abort(sprintf("`newoffset` must be %s of finite numbers (one per new row%s), not %s.",
                    if (softmax) sprintf("a %.0f x %.0f matrix", n, K) else sprintf("a vector of %.0f", n),
                    if (softmax) " and class" else "", given_value(newoffset)),
            where, class = "xentropy_error_value", argument = "newoffset")
    }
  }
  if (!is.null(term_off)) {
    # (a softmax path's offset is an n x K matrix: a fit refuses a per-row vector)
    newoffset <- if (is.null(newoffset)) term_off else newoffset + term_off
  }
  cf <- path_coef(object, s, where)
  link <- function(m) {
    e <- as.matrix(X %*% m[-1L, , drop = FALSE]) + rep(m[1L, ], each = n)
    dimnames(e) <- list(rownames(X), colnames(m))
    e
  }
  if (inherits(object, "softmax_path")) {
    K <- length(object$classes)
    eta <- vapply(cf, link, matrix(0, n, ncol(cf[[1L]])))
    eta <- array(eta, c(n, ncol(cf[[1L]]), K))
    eta <- aperm(eta, c(1L, 3L, 2L))
    dimnames(eta) <- list(rownames(X), object$classes, colnames(cf[[1L]]))
    if (!is.null(newoffset)) eta <- eta + as.vector(newoffset)
    if (type == "link") return(eta)
    if (type == "prob") {
      for (l in seq_len(dim(eta)[3L])) eta[, , l] <- softmax(eta[, , l, drop = TRUE], margin = 1)
      return(eta)
    }
    cls <- apply(eta, c(1L, 3L), function(v) if (anyNA(v)) NA_integer_ else which.max(v))
    out <- matrix(object$classes[cls], n, dim(eta)[3L], dimnames = dimnames(eta)[c(1L, 3L)])
    return(out)
  }
  eta <- link(cf)
  if (!is.null(newoffset)) eta <- eta + as.vector(newoffset)
  switch(type,
         link = eta,
         prob = sigmoid(eta),
         class = {
           out <- matrix(object$classes[1L + (eta > 0)], n, ncol(eta), dimnames = dimnames(eta))
           out
         })
}

# Coefficient paths in long form (for the plots).
path_long <- function(x) {
  betas <- if (inherits(x, "softmax_path")) x$beta else list(x$beta)
  cls <- if (inherits(x, "softmax_path")) x$classes else ""
  do.call(rbind, lapply(seq_along(betas), function(k) {
    b <- betas[[k]]
    data.frame(log_lambda = rep(log(x$lambda), each = nrow(b)),
               coefficient = as.vector(b), feature = rep(rownames(b), ncol(b)),
               class = cls[k], stringsAsFactors = FALSE)
  }))
}

#' Plot the coefficient paths of a regularisation path
#'
#' Draws each coefficient (original scale) against log(lambda), one panel per
#' class for softmax paths: `autoplot()` with ggplot2, `plot()` with base
#' graphics.
#'
#' @param object,x A `logistic_path()` or `softmax_path()` result.
#' @param ... Passed to [graphics::matplot()] (`plot()`); not used by `autoplot()`.
#' @return `autoplot()`: a ggplot object; `plot()`: `x`, invisibly.
#' @family regularisation paths
#' @examples
#' set.seed(3)
#' x <- matrix(rnorm(200 * 8), 200, 8)
#' y <- rbinom(200, 1, plogis(x %*% c(2, -1, 0.5, rep(0, 5))))
#' fit <- logistic_path(x, y, nlambda = 30)
#' plot(fit)
#' if (requireNamespace("ggplot2", quietly = TRUE)) ggplot2::autoplot(fit)
#' @name plot.xentropy_path
#' @exportS3Method ggplot2::autoplot
autoplot.xentropy_path <- function(object, ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("autoplot() needs the ggplot2 package.", sys.call(), class = "xentropy_error_dependency", package = "ggplot2")
  }
  .data <- ggplot2::.data
  d <- path_long(object)
  g <- ggplot2::ggplot(d, ggplot2::aes(x = .data$log_lambda, y = .data$coefficient,
                                       colour = .data$feature)) +
    ggplot2::geom_line() +
    ggplot2::labs(x = "log(lambda)", y = "coefficient", colour = "feature")
  if (inherits(object, "softmax_path")) g <- g + ggplot2::facet_wrap(ggplot2::vars(.data$class))
  g
}

#' @rdname plot.xentropy_path
#' @export
plot.xentropy_path <- function(x, ...) {
  betas <- if (inherits(x, "softmax_path")) x$beta else list(x$beta)
  titles <- if (inherits(x, "softmax_path")) x$classes else ""
  if (length(betas) > 1L) {
    op <- graphics::par(mfrow = grDevices::n2mfrow(length(betas)))
    on.exit(graphics::par(op))
  }
  for (k in seq_along(betas)) {
    graphics::matplot(log(x$lambda), t(betas[[k]]), type = "l", lty = 1,
                      xlab = "log(lambda)", ylab = "coefficient", main = titles[k], ...)
    graphics::abline(h = 0, col = "grey")
  }
  invisible(x)
}
