#' Logistic and softmax regression by minimising the cross-entropy
#'
#' Fit a classifier \eqn{p(C_k \mid x) = \mathrm{softmax}_k(W^\top x)} (two
#' classes: \eqn{p(C_1 \mid x) = \sigma(b^\top x)}) by minimising the
#' (weighted) cross-entropy error, optionally with an L2 (ridge) penalty,
#' \deqn{E(W) = -\sum_i w_i \sum_k t_{ik} \log p_{ik} + \frac{\lambda}{2}
#'   \sum_{j \notin \mathrm{intercepts}} \sum_k W_{jk}^2,}
#' which with \eqn{\lambda = 0} and one-hot targets is the negative
#' log-likelihood: the fit is the maximum-likelihood estimate, the same as
#' [glm()] with `family = binomial` gives for two classes and
#' `nnet::multinom()` or `VGAM::vglm(family = multinomial(refLevel = 1))`
#' for K classes (Bishop 2006, sections 4.3.2-4.3.4).
#'
#' `logistic_regression()` uses Newton's method, i.e. iteratively reweighted
#' least squares (PRML eq. 4.99-4.100): the Hessian \eqn{X^\top R X +
#' \lambda I} (eq. 4.97) is factorised by Eigen's Cholesky decomposition and
#' the step is halved until the objective decreases. `softmax_regression()`
#' uses Newton's method with the full Hessian (the \eqn{K \times K} blocks
#' \eqn{X^\top \mathrm{diag}(p_k (\delta_{kl} - p_l)) X} of eq. 4.110) while
#' there are at most `control$newton_max_dim` (200) free parameters, and
#' above that a truncated Newton method (conjugate gradients on exact
#' Hessian-vector products, preconditioned by the Hessian's diagonal), which
#' never forms the Hessian. Both stop when half the Newton decrement
#' \eqn{-g^\top d / 2} falls below `tol * (|E| + 0.1)`, after taking that
#' last step; the gradient at the returned coefficients is in `$gradient`.
#' The model matrix is read where it lies (no copy beyond the one
#' [model.matrix()] makes), and results are identical for any number of
#' [xentropy_threads()].
#'
#' **Parametrisation.** With `lambda = 0` the softmax model uses the first
#' class as reference (its coefficients are fixed at 0, as in
#' `nnet::multinom()`): `coef()` is a \eqn{(K - 1) \times p} matrix. With
#' `lambda > 0` all K classes have coefficients (`coef()` is \eqn{K \times
#' p}, symmetric in the classes): the penalty makes the slopes identifiable,
#' and at the optimum they sum to zero over the classes; the intercepts are
#' not penalised, so they are identified by fixing the first class's during
#' the fit and are then reported centred to sum to zero over the classes
#' (which changes no probability). Columns of the model matrix that are all
#' ones (the intercept) are not penalised; every other column is, on the
#' scale it has (standardise predictors first if their scales differ).
#'
#' **Targets.** Logistic: a two-level factor (the second level is the
#' positive class, as in [glm()]), logical, or numbers in \[0, 1\] (0/1, or
#' soft targets). Softmax: a factor (its levels are the classes; unused levels
#' are dropped), a character vector, or an n x K matrix of target
#' probabilities (rows summing to 1, e.g. a teacher's predictions for
#' distillation), whose column names name the classes. `label_smoothing`
#' \eqn{\epsilon} replaces the targets by \eqn{(1 - \epsilon) t_i +
#' \epsilon / K}.
#'
#' **Separation.** When a hyperplane separates the classes and `lambda = 0`,
#' the maximum-likelihood estimate does not exist (coefficients grow without
#' bound). The iteration then stops (the decrement falls below `tol` as the
#' error approaches 0, or after `maxit` iterations), the coefficients
#' reached are returned (finite, possibly large) and, as [glm()] does, a
#' warning says "fitted probabilities numerically 0 or 1 occurred" (and
#' "algorithm did not converge" when `maxit` was reached). With `lambda > 0`
#' the minimum always exists and is finite.
#'
#' **Missing values.** The formula interface handles `NA` through
#' `na.action` (`na.omit` by default, as [glm()]); the matrix interface
#' rejects `NA`, `NaN` and infinite values in `x` and `y` with an error.
#'
#' @param formula A model formula, `response ~ predictors`, as for [glm()].
#' @param data A data frame (or environment) holding the variables.
#' @param weights Optional non-negative observation weights (with the
#'   formula interface, evaluated in `data` like [glm()]'s).
#' @param subset Optional vector selecting observations.
#' @param na.action What to do with `NA`s (formula interface); default
#'   `getOption("na.action")`, normally [na.omit()].
#' @param lambda Non-negative L2 penalty \eqn{\lambda} (on the sum, not the
#'   mean, of the errors).
#' @param label_smoothing A number \eqn{\epsilon} in \[0, 1\].
#' @param control A list: `tol` (default `1e-8`), `maxit` (100), `trace`
#'   (`FALSE`; `TRUE` prints the objective per iteration), for
#'   `softmax_regression()` `newton_max_dim` (200: free parameters up to which
#'   the full Hessian is formed); and `hessian` (default `FALSE`; `TRUE`
#'   keeps the Hessian at the optimum in the fit, as it is anyway when
#'   `lambda > 0`; otherwise `vcov()` and `summary()` form it when called, in
#'   one pass over the model matrix, which the fit references without a copy).
#' @param x,y The matrix interface, instead of `formula`: a numeric model
#'   matrix `x` used as it is (add a column of ones for an intercept, as for
#'   [glm.fit()]) and the targets `y`.
#' @return An object of class `"logistic_regression"` or
#'   `"softmax_regression"` (both inheriting from `"xentropy_fit"`), a list
#'   with `coefficients`, `fitted.values` (probabilities: a vector, or an
#'   n x K matrix), `linear.predictors`, `loglik`, `deviance`,
#'   `null.deviance`, `gradient` (of the penalised objective, at the returned
#'   coefficients), `hessian` (of the penalised objective, over the free
#'   parameters, when kept: see `control`), `iter`, `converged`, `trace` (the penalised objective
#'   \eqn{E} at the start and after each Newton iteration), `lambda`, `df`,
#'   `nobs`, `prior.weights`, `levels`, `method`, `call`, `terms`. Methods:
#'   `print`, `summary`, `coef`, `vcov`, `confint` (Wald), `logLik`,
#'   `deviance`, `nobs`, `fitted`, `predict`, `formula`, `terms` (so
#'   `AIC()` and `BIC()` work). With `lambda > 0`, `vcov()` is the inverse of the
#'   penalised Hessian and `logLik()`'s `df` the effective number of
#'   parameters \eqn{\mathrm{tr}(H_0 (H_0 + \lambda P)^{-1})}.
#' @references Bishop, C. M. (2006). *Pattern Recognition and Machine
#'   Learning*, sections 4.3.2-4.3.4. Springer.
#' @family fitting
#' @seealso [predict.xentropy_fit()] for predictions.
#' @importFrom stats coef confint deviance fitted formula logLik nobs predict
#'   terms vcov
#' @export
#' @examples
#' # two classes: the same fit as glm()
#' fit <- logistic_regression(am ~ wt + hp, data = mtcars)
#' fit
#' g <- glm(am ~ wt + hp, data = mtcars, family = binomial)
#' cbind(xentropy = coef(fit), glm = coef(g))
#' c(logLik(fit), logLik(g))
#' summary(fit)
#'
#' # K classes, first class as reference (as nnet::multinom)
#' sfit <- softmax_regression(Species ~ Sepal.Length, data = iris)
#' coef(sfit)
#' if (requireNamespace("nnet", quietly = TRUE))
#'   coef(nnet::multinom(Species ~ Sepal.Length, data = iris, trace = FALSE))
#' head(predict(sfit, type = "prob"))
#' table(predicted = predict(sfit, type = "class"), observed = iris$Species)
#'
#' # complete separation: finite coefficients and glm's warning
#' fit_sep <- logistic_regression(Species == "setosa" ~ Petal.Length, data = iris)
#' coef(fit_sep)
#'
#' # a ridge penalty: all K classes, slopes summing to zero
#' coef(softmax_regression(Species ~ ., data = iris, lambda = 1))
#'
#' # the matrix interface, for large data
#' X <- cbind(1, as.matrix(iris[, 1, drop = FALSE]))
#' coef(softmax_regression(x = X, y = iris$Species))
logistic_regression <- function(formula, data, weights, subset, na.action,
                                lambda = 0, control = list(), x = NULL, y = NULL) {
  call <- match.call()
  where <- sys.call()
  matrix_args <- missing(formula)
  prep <- fit_inputs(call, parent.frame(), matrix_args, x, y,
                     if (!matrix_args || missing(weights)) NULL else weights,
                     if (!matrix_args || missing(subset)) NULL else subset, where)
  lambda <- check_number(lambda, "lambda", "a single non-negative finite number",
                         function(l) is.finite(l) && l >= 0, where)
  ctl <- fit_control(control, softmax = FALSE, where)
  tg <- binary_fit_targets(prep$y, where)
  X <- prep$x
  w <- check_weights(prep$weights, nrow(X), where)
  check_enough_rows(X, w, where)
  ones <- ones_columns_impl(X)
  pen <- as.double(!ones)
  # start from the intercept-only fit (the null model's estimate)
  start <- double(ncol(X))
  wt <- if (is.null(w)) rep(1, nrow(X)) else w
  if (any(ones)) start[which(ones)[1]] <- stats::qlogis(sum(wt * tg$y) / sum(wt))
  keep_h <- lambda > 0 || isTRUE(ctl$hessian)  # the effective df needs it
  res <- fit_binary_impl(X, tg$y, w, pen, lambda, start, ctl$tol,
                         ctl$maxit, keep_h, thread_count())
  cn <- colnames(X)
  if (is.null(cn)) cn <- paste0("x", seq_len(ncol(X)))
  beta <- stats::setNames(res$coefficients, cn)
  eta <- drop(X %*% beta)
  names(eta) <- rownames(X)
  mu <- res$fitted
  names(mu) <- rownames(X)
  H <- res$hessian
  if (!is.null(H)) dimnames(H) <- list(cn, cn)
  # the saturated model's loss (0 for 0/1 targets) and the null model's
  soft <- tg$soft && any(tg$y > 0 & tg$y < 1)
  sat <- if (soft) sum(wt * binary_entropy(tg$y)) else 0
  null_dev <- if (any(ones)) {
    s1 <- sum(wt * tg$y)
    s0 <- sum(wt) - s1
    ybar <- s1 / sum(wt)
    2 * (-(s1 * log(ybar) + s0 * log1p(-ybar)) - sat)
  } else NA_real_
  out <- list(
    coefficients = beta, fitted.values = mu, linear.predictors = eta,
    loglik = -res$loss, deviance = 2 * (res$loss - sat), null.deviance = null_dev,
    objective = res$loss + res$penalty,
    gradient = stats::setNames(res$gradient, cn), hessian = H,
    iter = res$iter, converged = res$code == 0L, trace = res$trace,
    lambda = lambda, penalised = stats::setNames(pen == 1, cn),
    df = if (is.null(H)) ncol(X) else effective_df(H, pen * lambda), nobs = sum(wt > 0),
    prior.weights = wt, y = tg$y, x = X, weights = w, pen = pen,
    levels = tg$levels, method = "newton",
    control = ctl, call = call, terms = prep$terms, xlevels = prep$xlevels,
    contrasts = prep$contrasts, na.action = prep$na.action, xnames = cn
  )
  class(out) <- c("logistic_regression", "xentropy_fit")
  fit_warnings(out, "logistic_regression", mu)
  fit_trace(out, ctl)
  out
}

#' @rdname logistic_regression
#' @export
softmax_regression <- function(formula, data, weights, subset, na.action,
                               lambda = 0, label_smoothing = 0, control = list(),
                               x = NULL, y = NULL) {
  call <- match.call()
  where <- sys.call()
  matrix_args <- missing(formula)
  prep <- fit_inputs(call, parent.frame(), matrix_args, x, y,
                     if (!matrix_args || missing(weights)) NULL else weights,
                     if (!matrix_args || missing(subset)) NULL else subset, where)
  lambda <- check_number(lambda, "lambda", "a single non-negative finite number",
                         function(l) is.finite(l) && l >= 0, where)
  label_smoothing <- check_number(label_smoothing, "label_smoothing",
                                  "a single number in [0, 1]",
                                  function(e) e >= 0 && e <= 1, where)
  ctl <- fit_control(control, softmax = TRUE, where)
  X <- prep$x
  tg <- softmax_fit_targets(prep$y, nrow(X), where)
  Tm <- tg$targets
  K <- ncol(Tm)
  if (label_smoothing > 0) Tm <- (1 - label_smoothing) * Tm + label_smoothing / K
  w <- check_weights(prep$weights, nrow(X), where)
  check_enough_rows(X, w, where)
  p <- ncol(X)
  ones <- ones_columns_impl(X)
  pen <- as.double(!ones)
  free <- matrix(1, p, K)
  if (lambda == 0) free[, 1] <- 0 else free[ones, 1] <- 0
  nfree <- sum(free)
  hessian <- lambda > 0 || isTRUE(ctl$hessian)  # the effective df needs it
  # start from the intercept-only fit (the null model's estimate): every row
  # then has the same probabilities, and the first Hessian is one Gram matrix
  start <- matrix(0, p, K)
  wt <- if (is.null(w)) rep(1, nrow(X)) else w
  if (any(ones)) {
    pbar <- pmax(colSums(wt * Tm) / sum(wt), 1e-10)
    start[which(ones)[1], ] <- log(pbar) - log(pbar[1])
  }
  res <- fit_softmax_impl(X, Tm, w, free, pen, lambda, start, ctl$tol,
                          ctl$maxit, as.integer(ctl$newton_max_dim), hessian,
                          thread_count())
  cn <- colnames(X)
  if (is.null(cn)) cn <- paste0("x", seq_len(p))
  lev <- tg$levels
  W <- matrix(res$coefficients, p, K, dimnames = list(cn, lev))
  # the reported parametrisation: reference class dropped (lambda = 0), or
  # all classes with centred intercepts (lambda > 0); A maps the free
  # parameters to it
  free_idx <- which(free == 1)
  if (lambda == 0) {
    rep_idx <- free_idx
    A <- diag(length(free_idx))
  } else {
    W[ones, ] <- W[ones, , drop = FALSE] - rowMeans(W[ones, , drop = FALSE])
    rep_idx <- seq_len(p * K)
    A <- matrix(0, p * K, length(free_idx))
    A[cbind(free_idx, seq_along(free_idx))] <- 1
    for (j in which(ones)) {
      rows <- j + p * (seq_len(K) - 1L)
      cols <- match(rows, free_idx)  # NA for the first class (fixed at 0)
      for (l in which(!is.na(cols))) A[rows, cols[l]] <- (seq_len(K) == l) - 1 / K
    }
  }
  pnames <- paste(rep(lev, each = p), rep(cn, K), sep = ":")
  H <- res$hessian
  if (!is.null(H)) dimnames(H) <- list(pnames[free_idx], pnames[free_idx])
  coefs <- t(W)
  if (lambda == 0) coefs <- coefs[-1L, , drop = FALSE]
  eta <- X %*% W
  dimnames(eta) <- list(rownames(X), lev)
  P <- matrix(res$fitted, nrow(X), K, dimnames = list(rownames(X), lev))
  wt <- if (is.null(w)) rep(1, nrow(X)) else w
  sat <- if (tg$soft || label_smoothing > 0) sum(wt * entropy(Tm)) else 0
  null_dev <- if (any(ones)) {
    pbar <- colSums(wt * Tm) / sum(wt)
    2 * (-sum(wt * (Tm %*% ifelse(pbar > 0, log(pbar), 0))) - sat)
  } else NA_real_
  grad <- matrix(res$gradient, p, K, dimnames = list(cn, lev))
  out <- list(
    coefficients = coefs, fitted.values = P, linear.predictors = eta,
    loglik = -res$loss, deviance = 2 * (res$loss - sat), null.deviance = null_dev,
    objective = res$loss + res$penalty,
    gradient = grad, free = matrix(free == 1, p, K, dimnames = list(cn, lev)),
    hessian = H, transform = A, param_names = pnames[rep_idx],
    iter = res$iter, converged = res$code == 0L, trace = res$trace,
    lambda = lambda, label_smoothing = label_smoothing,
    penalised = stats::setNames(pen == 1, cn),
    df = if (is.null(H)) nfree else effective_df(H, pen[(free_idx - 1L) %% p + 1L] * lambda),
    nobs = sum(wt > 0), prior.weights = wt, targets = Tm, x = X, weights = w,
    pen = pen, levels = lev,
    method = if (res$method == 0L) "newton" else "newton-cg",
    control = ctl, call = call, terms = prep$terms, xlevels = prep$xlevels,
    contrasts = prep$contrasts, na.action = prep$na.action, xnames = cn
  )
  class(out) <- c("softmax_regression", "xentropy_fit")
  fit_warnings(out, "softmax_regression", P)
  fit_trace(out, ctl)
  out
}

# ---- inputs ---------------------------------------------------------------

# The model matrix, response, weights and what predict() needs, from either
# interface. `call` is the user's matched call (formula interface: evaluated
# with model.frame() in `env`, as glm() does).
fit_inputs <- function(call, env, no_formula, x, y, weights, subset, where) {
  if (!no_formula) {
    if (!is.null(x) || !is.null(y)) {
      abort("Give either `formula` (and `data`) or `x` and `y`, not both.", where)
    }
    if (!inherits(call$formula, "formula") &&
        !inherits(tryCatch(eval(call$formula, env), error = function(e) NULL), "formula")) {
      abort(sprintf("`formula` must be a model formula such as `y ~ x1 + x2`, not %s.",
                    friendly_type(tryCatch(eval(call$formula, env), error = function(e) NULL))),
            where)
    }
    mf <- call[c(1L, match(c("formula", "data", "subset", "weights", "na.action"),
                           names(call), 0L))]
    mf$drop.unused.levels <- TRUE
    mf[[1L]] <- quote(stats::model.frame)
    mf <- eval(mf, env)
    mt <- attr(mf, "terms")
    if (attr(mt, "response") == 0L) {
      abort("`formula` must have a response on its left-hand side (`y ~ x`).", where)
    }
    yy <- stats::model.response(mf)
    X <- stats::model.matrix(mt, mf)
    check_fit_x(X, "the model matrix", where)
    return(list(x = X, y = yy, weights = stats::model.weights(mf), terms = mt,
                xlevels = stats::.getXlevels(mt, mf),
                contrasts = attr(X, "contrasts"),
                na.action = attr(mf, "na.action")))
  }
  if (is.null(x) || is.null(y)) {
    abort("Give `formula` (and `data`), or both `x` (a numeric matrix) and `y`.", where)
  }
  if (is.data.frame(x) || !is.matrix(x)) {
    abort(sprintf("`x` must be a numeric matrix (a model matrix), not %s.",
                  friendly_type(x)), where)
  }
  x <- check_numeric(x, "x", where)
  ny <- if (is.matrix(y)) nrow(y) else length(y)
  if (ny != nrow(x)) {
    abort(sprintf("`y` has %.0f observations but `x` has %.0f rows.", ny, nrow(x)), where)
  }
  if (!is.null(subset)) {
    idx <- seq_len(nrow(x))[subset]
    if (anyNA(idx)) abort("`subset` selects rows that do not exist.", where)
    x <- x[idx, , drop = FALSE]
    y <- if (is.matrix(y)) y[idx, , drop = FALSE] else y[idx]
    if (!is.null(weights)) weights <- weights[idx]
  }
  check_fit_x(x, "x", where)
  list(x = x, y = y, weights = weights, terms = NULL, xlevels = NULL,
       contrasts = NULL, na.action = NULL)
}

# Finite predictors, at least one column (one pass in C++, no copy).
check_fit_x <- function(x, arg, where) {
  if (ncol(x) == 0L) abort(sprintf("`%s` has no columns: nothing to fit.", arg), where)
  bad <- first_nonfinite_impl(x)
  if (bad > 0) {
    i <- (bad - 1) %% nrow(x) + 1
    j <- (bad - 1) %/% nrow(x) + 1
    abort(sprintf(
      "Predictors must be finite; %s has %s at row %.0f, column %s.",
      if (arg == "x") "`x`" else arg, format(x[[bad]]), i,
      if (is.null(colnames(x))) format(j) else paste0("\"", colnames(x)[j], "\"")
    ), where, argument = arg)
  }
}

check_enough_rows <- function(x, w, where) {
  n <- if (is.null(w)) nrow(x) else sum(w > 0)
  if (n < 1) abort("There are no observations (with positive weight) to fit.", where)
}

# Binary targets as doubles in [0, 1], with the class names.
binary_fit_targets <- function(y, where) {
  lev <- c("0", "1")
  if (is.factor(y)) {
    y <- droplevels(y)
    if (nlevels(y) > 2L) {
      abort(sprintf(
        "The response `y` must have two classes for logistic_regression(), not %.0f (%s); use softmax_regression().",
        nlevels(y), paste0("\"", utils::head(levels(y), 5), "\"", collapse = ", ")), where,
        argument = "y")
    }
    lev <- levels(y)
    if (length(lev) < 2L) one_class(lev, where)
    y <- as.double(unclass(y) == 2L)
    return(list(y = y, levels = lev, soft = FALSE))
  }
  if (is.logical(y)) {
    lev <- c("FALSE", "TRUE")
    storage.mode(y) <- "double"
  }
  if (!(is.double(y) || is.integer(y)) || is.matrix(y) || is.object(y)) {
    abort(sprintf(
      "The response `y` must be 0/1, logical, numbers in [0, 1] or a two-level factor, not %s.",
      friendly_type(y)), where, argument = "y")
  }
  y <- as.double(y)
  if (anyNA(y) || (length(y) && (min(y) < 0 || max(y) > 1))) {
    bad <- which(is.na(y) | y < 0 | y > 1)[1]
    abort(sprintf("The response `y` must be in [0, 1]; found %s at position %.0f.",
                  format(y[bad]), bad), where, argument = "y")
  }
  if (max(y) == 0 || min(y) == 1) one_class(if (max(y) == 0) lev[1] else lev[2], where)
  list(y = y, levels = lev, soft = TRUE)
}

one_class <- function(lev, where) {
  abort(sprintf(
    "The response `y` has only one class (%s): there is nothing to classify.",
    paste0("\"", lev, "\"", collapse = ", ")), where, argument = "y")
}

# Softmax targets: an n x K matrix of probabilities, with the class names.
softmax_fit_targets <- function(y, n, where) {
  if (is.character(y) && is.null(dim(y))) y <- factor(y)
  if (is.factor(y)) {
    y <- droplevels(y)
    if (anyNA(y)) {
      abort(sprintf("The response `y` has NA at position %.0f.", which(is.na(y))[1]),
            where, argument = "y")
    }
    lev <- levels(y)
    if (length(lev) < 2L) one_class(lev, where)
    Tm <- matrix(0, length(y), length(lev), dimnames = list(NULL, lev))
    Tm[cbind(seq_along(y), unclass(y))] <- 1
    return(list(targets = Tm, levels = lev, soft = FALSE))
  }
  if (is.matrix(y) && (is.double(y) || is.integer(y)) && !is.object(y)) {
    storage.mode(y) <- "double"
    if (ncol(y) < 2L) {
      abort("A target matrix `y` needs one column per class (at least two).", where,
            argument = "y")
    }
    if (anyNA(y) || any(y < 0 | y > 1)) {
      bad <- which(is.na(y) | y < 0 | y > 1)[1]
      abort(sprintf("The target matrix `y` must hold probabilities in [0, 1]; found %s at [%.0f, %.0f].",
                    format(y[bad]), (bad - 1) %% nrow(y) + 1, (bad - 1) %/% nrow(y) + 1),
            where, argument = "y")
    }
    s <- rowSums(y)
    if (any(abs(s - 1) > 1e-8 * ncol(y))) {
      bad <- which(abs(s - 1) > 1e-8 * ncol(y))[1]
      abort(sprintf("The rows of the target matrix `y` must sum to 1; row %.0f sums to %s.",
                    bad, format(s[bad], digits = 15)), where, argument = "y")
    }
    lev <- colnames(y)
    if (is.null(lev)) lev <- as.character(seq_len(ncol(y)))
    if (sum(colSums(y) > 0) < 2L) one_class(lev[colSums(y) > 0], where)
    dimnames(y) <- list(NULL, lev)
    return(list(targets = y, levels = lev, soft = TRUE))
  }
  abort(sprintf(
    "The response `y` must be a factor (its levels are the classes), a character vector or an n x K matrix of target probabilities, not %s.",
    friendly_type(y)), where, argument = "y")
}

fit_control <- function(control, softmax, where) {
  if (!is.list(control)) {
    abort(sprintf("`control` must be a list such as `list(tol = 1e-8, maxit = 100)`, not %s.",
                  friendly_type(control)), where)
  }
  known <- c("tol", "maxit", "trace", "hessian", if (softmax) "newton_max_dim")
  unknown <- setdiff(names(control), known)
  if (length(unknown) || (length(control) && is.null(names(control)))) {
    abort(sprintf("`control` has unknown element%s %s; known: %s.",
                  if (length(unknown) > 1) "s" else "",
                  paste0("`", unknown, "`", collapse = ", "),
                  paste0("`", known, "`", collapse = ", ")), where)
  }
  ctl <- list(tol = 1e-8, maxit = 100L, trace = FALSE, newton_max_dim = 200L,
              hessian = NULL)
  ctl[names(control)] <- control
  ctl$tol <- check_number(ctl$tol, "control$tol", "a single positive number",
                          function(v) is.finite(v) && v > 0, where)
  ctl$maxit <- as.integer(check_number(ctl$maxit, "control$maxit",
                                       "a single positive whole number",
                                       function(v) is.finite(v) && v >= 1 && v == round(v),
                                       where))
  ctl$trace <- check_flag(as.logical(ctl$trace), "control$trace", where)
  ctl$newton_max_dim <- check_number(ctl$newton_max_dim, "control$newton_max_dim",
                                     "a single non-negative whole number",
                                     function(v) is.finite(v) && v >= 0 && v == round(v),
                                     where)
  if (!is.null(ctl$hessian)) ctl$hessian <- check_flag(ctl$hessian, "control$hessian", where)
  ctl
}

binary_entropy <- function(y) {
  ifelse(y == 0 | y == 1, 0, -(y * log(y) + (1 - y) * log1p(-y)))
}

# tr(H0 (H0 + Lambda)^{-1}) with H = H0 + Lambda: the effective number of
# parameters of a ridge fit (the number of parameters when lambda = 0).
effective_df <- function(H, lam) {
  if (all(lam == 0)) return(nrow(H))
  Hinv <- tryCatch(solve(H), error = function(e) NULL)
  if (is.null(Hinv)) return(nrow(H))
  nrow(H) - sum(lam * diag(Hinv))
}

fit_warnings <- function(fit, who, prob) {
  if (!fit$converged) {
    warning(sprintf("%s: algorithm did not converge", who), call. = FALSE)
  }
  eps <- 10 * .Machine$double.eps
  p <- prob
  if (min(fit$prior.weights) == 0) {
    pos <- fit$prior.weights > 0
    p <- if (is.matrix(prob)) prob[pos, , drop = FALSE] else prob[pos]
  }
  if (max(p) > 1 - eps || (!is.matrix(p) && min(p) < eps)) {
    warning(sprintf("%s: fitted probabilities numerically 0 or 1 occurred", who),
            call. = FALSE)
  }
}

fit_trace <- function(fit, ctl) {
  if (!isTRUE(ctl$trace)) return(invisible())
  tr <- fit$trace
  for (i in seq_along(tr)) {
    cat(sprintf("iter %3d  objective %.12g\n", i - 1L, tr[i]))
  }
}

# ---- methods --------------------------------------------------------------

#' Predictions of a fitted logistic or softmax regression
#'
#' Probabilities \eqn{p(C_k \mid x)}, the most probable class, or the linear
#' predictors (logits) \eqn{w_k^\top x} for new data or the data fitted.
#'
#' @param object A fit from [logistic_regression()] or
#'   [softmax_regression()].
#' @param newdata A data frame with the predictors (formula fits) or a
#'   numeric matrix with the columns of `x` (matrix fits). Omitted: the
#'   fitted data.
#' @param type `"prob"` (probabilities: a vector for two classes, an n x K
#'   matrix for K), `"class"` (a factor; probability above 1/2, or the
#'   largest, ties to the first class) or `"link"` (logits: a vector, or an
#'   n x K matrix whose reference column is 0 when `lambda = 0`).
#' @param ... Unused.
#' @return See `type`. Rows of `newdata` with missing predictors give `NA`.
#' @family fitting
#' @export
#' @examples
#' fit <- softmax_regression(Species ~ Petal.Length + Petal.Width, data = iris,
#'                           lambda = 0.1)
#' new <- data.frame(Petal.Length = c(1.5, 4.5, 6), Petal.Width = c(0.2, 1.5, 2.2))
#' predict(fit, new)
#' predict(fit, new, type = "class")
#' predict(fit, new, type = "link")
predict.xentropy_fit <- function(object, newdata, type = c("prob", "class", "link"), ...) {
  where <- sys.call()
  if (!is.character(type) || !(length(type) == 1L || identical(type, c("prob", "class", "link"))) ||
      !type[1] %in% c("prob", "class", "link")) {
    abort(sprintf("`type` must be one of \"prob\", \"class\" or \"link\", not %s.",
                  if (is.character(type) && length(type) == 1L) paste0("\"", type, "\"")
                  else friendly_type(type)), where)
  }
  type <- type[1]
  softmax <- inherits(object, "softmax_regression")
  if (missing(newdata) || is.null(newdata)) {
    eta <- object$linear.predictors
    prob <- object$fitted.values
  } else {
    X <- newdata_matrix(object, newdata, where)
    W <- full_coef(object)
    if (softmax) {
      eta <- X %*% W
      colnames(eta) <- object$levels
      prob <- softmax(eta)
    } else {
      eta <- drop(X %*% W)
      names(eta) <- rownames(X)
      prob <- sigmoid(eta)
    }
  }
  switch(type,
    link = eta,
    prob = prob,
    class = {
      cls <- if (softmax) {
        k <- max.col(prob, ties.method = "first")
        k[!stats::complete.cases(prob)] <- NA
        k
      } else {
        ifelse(prob > 0.5, 2L, 1L)
      }
      out <- factor(object$levels[cls], levels = object$levels)
      names(out) <- if (softmax) rownames(prob) else names(prob)
      out
    }
  )
}

# p x K (softmax, every class) or p (binary) coefficients as the kernels use them.
full_coef <- function(object) {
  if (inherits(object, "softmax_regression")) {
    W <- t(object$coefficients)
    if (object$lambda == 0) W <- cbind(0, W)
    colnames(W) <- object$levels
    return(W)
  }
  object$coefficients
}

newdata_matrix <- function(object, newdata, where) {
  if (!is.null(object$terms)) {
    if (!is.data.frame(newdata) && !is.list(newdata) && !is.environment(newdata)) {
      abort(sprintf("`newdata` must be a data frame, not %s.", friendly_type(newdata)), where)
    }
    tt <- stats::delete.response(object$terms)
    need <- all.vars(tt)
    have <- if (is.environment(newdata)) ls(newdata) else names(newdata)
    miss <- setdiff(need, have)
    if (length(miss)) {
      abort(sprintf("`newdata` lacks the column%s %s used by the model.",
                    if (length(miss) > 1) "s" else "",
                    paste0("\"", miss, "\"", collapse = ", ")), where,
            argument = "newdata")
    }
    mf <- stats::model.frame(tt, newdata, na.action = stats::na.pass,
                             xlev = object$xlevels)
    return(stats::model.matrix(tt, mf, contrasts.arg = object$contrasts))
  }
  if (is.data.frame(newdata)) newdata <- as.matrix(newdata)
  if (!is.matrix(newdata)) {
    abort(sprintf("`newdata` must be a numeric matrix with the columns of `x`, not %s.",
                  friendly_type(newdata)), where)
  }
  newdata <- check_numeric(newdata, "newdata", where)
  cn <- object$xnames
  if (!is.null(colnames(newdata)) && all(cn %in% colnames(newdata))) {
    return(newdata[, cn, drop = FALSE])
  }
  if (!is.null(colnames(newdata)) && !all(grepl("^x[0-9]+$", cn))) {
    miss <- setdiff(cn, colnames(newdata))
    abort(sprintf("`newdata` lacks the column%s %s used by the model.",
                  if (length(miss) > 1) "s" else "",
                  paste0("\"", miss, "\"", collapse = ", ")), where, argument = "newdata")
  }
  if (ncol(newdata) != length(cn)) {
    abort(sprintf("`newdata` has %.0f columns but the model has %.0f.", ncol(newdata),
                  length(cn)), where, argument = "newdata")
  }
  newdata
}

#' @export
coef.xentropy_fit <- function(object, ...) object$coefficients

#' @export
vcov.xentropy_fit <- function(object, ...) {
  H <- fit_hessian(object)
  V <- tryCatch(chol2inv(chol(H)), error = function(e) {
    tryCatch(solve(H), error = function(e) {
      matrix(Inf, nrow(H), ncol(H))
    })
  })
  if (inherits(object, "softmax_regression")) {
    A <- object$transform
    V <- A %*% V %*% t(A)
    dimnames(V) <- list(object$param_names, object$param_names)
  } else {
    dimnames(V) <- dimnames(H)
  }
  V
}

# The penalised Hessian at the optimum: kept in the fit, or formed now (one
# pass over the model matrix, which the fit references without a copy).
fit_hessian <- function(object) {
  if (!is.null(object$hessian)) return(object$hessian)
  if (inherits(object, "softmax_regression")) {
    H <- softmax_hessian_impl(object$x, object$targets, object$weights,
                              1 * object$free, object$pen, object$lambda,
                              full_coef(object), thread_count())
    nm <- object$param_names[if (object$lambda == 0) seq_len(nrow(H)) else
      which(object$free)]
    dimnames(H) <- list(nm, nm)
  } else {
    H <- binary_hessian_impl(object$x, object$y, object$weights, object$pen,
                             object$lambda, object$coefficients, thread_count())
    dimnames(H) <- list(object$xnames, object$xnames)
  }
  H
}

# Coefficients as one named vector, in the order of vcov().
coef_vector <- function(object) {
  if (inherits(object, "softmax_regression")) {
    return(stats::setNames(as.vector(t(object$coefficients)), object$param_names))
  }
  object$coefficients
}

#' @export
confint.xentropy_fit <- function(object, parm, level = 0.95, ...) {
  cf <- coef_vector(object)
  se <- sqrt(diag(stats::vcov(object)))
  pnames <- names(cf)
  if (missing(parm)) parm <- pnames else if (is.numeric(parm)) parm <- pnames[parm]
  a <- (1 - level) / 2
  pct <- paste(format(100 * c(a, 1 - a), trim = TRUE, scientific = FALSE, digits = 3), "%")
  z <- stats::qnorm(1 - a)
  ci <- cbind(cf[parm] - z * se[parm], cf[parm] + z * se[parm])
  dimnames(ci) <- list(parm, pct)
  ci
}

#' @export
logLik.xentropy_fit <- function(object, ...) {
  structure(object$loglik, df = object$df, nobs = object$nobs, class = "logLik")
}

#' @export
deviance.xentropy_fit <- function(object, ...) object$deviance

#' @export
nobs.xentropy_fit <- function(object, ...) object$nobs

#' @export
fitted.xentropy_fit <- function(object, ...) object$fitted.values

#' @export
formula.xentropy_fit <- function(x, ...) {
  if (is.null(x$terms)) {
    abort("This model was fitted with the matrix interface (`x`, `y`): it has no formula.",
          sys.call())
  }
  stats::formula(x$terms)
}

#' @export
terms.xentropy_fit <- function(x, ...) {
  if (is.null(x$terms)) {
    abort("This model was fitted with the matrix interface (`x`, `y`): it has no terms.",
          sys.call())
  }
  x$terms
}

#' @export
print.xentropy_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  what <- if (inherits(x, "softmax_regression")) "Softmax" else "Logistic"
  cat(what, "regression fitted by minimising the cross-entropy",
      if (x$lambda > 0) sprintf("(L2 penalty lambda = %s)", format(x$lambda, digits = digits)),
      "\n\n")
  cat("Call:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n\n", sep = "")
  cat("Coefficients:\n")
  print.default(format(x$coefficients, digits = digits), print.gap = 2L, quote = FALSE)
  cat("\nClasses:", paste(x$levels, collapse = ", "),
      if (inherits(x, "softmax_regression") && x$lambda == 0)
        sprintf("(reference: %s)", x$levels[1]), "\n")
  cat(sprintf("Observations: %.0f   Log-likelihood: %s (df = %s)   AIC: %s\n",
              x$nobs, format(x$loglik, digits = digits + 3L), format(x$df, digits = digits),
              format(-2 * x$loglik + 2 * x$df, digits = digits + 3L)))
  cat(sprintf("Residual deviance: %s   Null deviance: %s\n",
              format(x$deviance, digits = digits + 3L),
              format(x$null.deviance, digits = digits + 3L)))
  cat(sprintf("%s iterations (%s)%s\n", x$iter, x$method,
              if (x$converged) "" else ", NOT converged"))
  invisible(x)
}

#' @export
summary.xentropy_fit <- function(object, ...) {
  cf <- coef_vector(object)
  V <- tryCatch(stats::vcov(object), error = function(e) NULL)
  se <- if (is.null(V)) rep(NA_real_, length(cf)) else sqrt(pmax(diag(V), 0))
  z <- cf / se
  table <- cbind(Estimate = cf, `Std. Error` = se, `z value` = z,
                 `Pr(>|z|)` = 2 * stats::pnorm(-abs(z)))
  rownames(table) <- names(cf)
  out <- list(call = object$call, coefficients = table, loglik = object$loglik,
              df = object$df, nobs = object$nobs, deviance = object$deviance,
              null.deviance = object$null.deviance,
              aic = -2 * object$loglik + 2 * object$df, iter = object$iter,
              converged = object$converged, lambda = object$lambda,
              levels = object$levels, softmax = inherits(object, "softmax_regression"),
              method = object$method)
  if (out$softmax) {
    out$standard.errors <- matrix(se, nrow(object$coefficients), byrow = TRUE,
                                  dimnames = dimnames(object$coefficients))
  }
  class(out) <- "summary.xentropy_fit"
  out
}

#' @export
print.summary.xentropy_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat(if (x$softmax) "Softmax" else "Logistic",
      "regression fitted by minimising the cross-entropy",
      if (x$lambda > 0) sprintf("(L2 penalty lambda = %s)", format(x$lambda, digits = digits)),
      "\n\n")
  cat("Call:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n\n", sep = "")
  cat("Coefficients", if (x$softmax) " (class:term)", ":\n", sep = "")
  stats::printCoefmat(x$coefficients, digits = digits, na.print = "NA")
  if (x$lambda > 0) {
    cat("(Standard errors from the inverse of the penalised Hessian.)\n")
  }
  cat(sprintf("\nClasses: %s%s\n", paste(x$levels, collapse = ", "),
              if (x$softmax && x$lambda == 0) sprintf(" (reference: %s)", x$levels[1]) else ""))
  cat(sprintf("    Null deviance: %s\nResidual deviance: %s on %.0f observations\n",
              format(x$null.deviance, digits = digits + 3L),
              format(x$deviance, digits = digits + 3L), x$nobs))
  cat(sprintf("Log-likelihood: %s (df = %s)   AIC: %s\n",
              format(x$loglik, digits = digits + 3L), format(x$df, digits = digits),
              format(x$aic, digits = digits + 3L)))
  cat(sprintf("\nNumber of Newton iterations: %s (%s)%s\n", x$iter, x$method,
              if (x$converged) "" else ", NOT converged"))
  invisible(x)
}
