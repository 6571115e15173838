# glm's workflow around a fitted logistic or softmax regression: residuals,
# the model's frame and matrix, weights, degrees of freedom, AIC for step(),
# analysis of deviance (anova, drop1, add1). The methods rebuild the model
# matrix from the terms and the data when they need it, as glm's do: a fit
# keeps no copy of it unless asked (`x = TRUE`).

#' Residuals of a fitted logistic or softmax regression
#'
#' The residuals [residuals.glm()] gives for a binomial fit: `"deviance"`
#' (signed square roots of each observation's contribution to the deviance),
#' `"pearson"` \eqn{(y - \mu) \sqrt{w} / \sqrt{\mu (1 - \mu)}}, `"working"`
#' \eqn{(y - \mu) / (\mu (1 - \mu))} and `"response"` \eqn{y - \mu}. For a
#' softmax regression, `"response"` is the n x K matrix \eqn{T - P} (as
#' `residuals()` of `nnet::multinom()`), `"pearson"` the n x K matrix
#' \eqn{(t_k - p_k) \sqrt{w} / \sqrt{p_k}}, and `"deviance"` the unsigned
#' \eqn{\sqrt{2 w \sum_k t_k \log(t_k / p_k)}} per observation (their squares
#' sum to the deviance); working residuals have no single definition for K
#' classes and are an error. Rows dropped by `na.action = na.exclude` come
#' back as `NA`.
#'
#' @param object A fit from [logistic_regression()] or [softmax_regression()].
#' @param type The kind of residual (see Details).
#' @param ... Unused; anything given is an error.
#' @return A vector (logistic) or matrix (softmax).
#' @family fitting
#' @importFrom stats residuals model.frame model.matrix weights df.residual case.names variable.names
#'   extractAIC family anova drop1 add1
#' @export
#' @examples
#' fit <- logistic_regression(am ~ wt, data = mtcars)
#' g <- glm(am ~ wt, data = mtcars, family = binomial)
#' all.equal(residuals(fit), residuals(g), tolerance = 1e-8)
#' sum(residuals(fit, "pearson")^2)   # Pearson's X^2
residuals.xentropy_fit <- function(object, type = c("deviance", "pearson", "working",
                                                    "response"), ...) {
  where <- sys.call()
  type <- match_choice(type, c("deviance", "pearson", "working", "response"), "type", where)
  no_dots(list(...), where)
  wt <- object$prior.weights
  if (inherits(object, "softmax_regression")) {
    Tm <- object$targets
    P <- object$fitted.values
    r <- switch(type,
      response = Tm - P,
      # (0 where the row has no weight, or both the target and the fit are exactly 0)
      pearson = ifelse(wt == 0 | (P == 0 & Tm == 0), 0, (Tm - P) * sqrt(wt) / sqrt(P)),
      deviance = {
        d <- rowSums(ifelse(Tm > 0, Tm * (log(Tm) - log(P)), 0))
        ifelse(wt == 0, 0, sqrt(pmax(2 * wt * d, 0)))
      },
      working = abort(paste("Working residuals are defined for one linear predictor;",
                            "a softmax regression has K - 1: use \"response\",",
                            "\"pearson\" or \"deviance\"."), where, argument = "type", class = "xentropy_error_unsupported")
    )
    if (is.matrix(r)) dimnames(r) <- dimnames(P) else names(r) <- rownames(P)
    return(pad_rows(object$na.action, r))
  }
  y <- object$y
  mu <- object$fitted.values
  # (a fitted probability of exactly 0 or 1 equal to y: the residuals' limits, not 0/0;
  # a row of zero weight: Pearson and deviance residuals 0, as glm's)
  v <- mu * (1 - mu)
  exact <- v == 0 & y == mu
  r <- switch(type,
    response = y - mu,
    working = ifelse(exact, 2 * mu - 1, (y - mu) / v),
    pearson = ifelse(exact | wt == 0, 0, (y - mu) * sqrt(wt) / sqrt(v)),
    deviance = {
      d <- 2 * wt * (ifelse(y > 0, y * log(y / mu), 0) +
                       ifelse(y < 1, (1 - y) * log((1 - y) / (1 - mu)), 0))
      ifelse(wt == 0, 0, sign(y - mu) * sqrt(pmax(d, 0)))
    }
  )
  names(r) <- names(mu)
  pad_rows(object$na.action, r)
}

match_choice <- function(x, choices, arg, where) {
  if (identical(x, choices)) return(choices[1])
  # a unique abbreviation is taken, as match.arg() takes it (glm's methods do)
  if (is.character(x) && length(x) == 1L && !is.na(x) && nzchar(x) && !x %in% choices) {
    hit <- pmatch(x, choices)
    if (!is.na(hit)) x <- choices[hit]
  }
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    abort(sprintf("`%s` must be one of %s, not %s.", arg,
                  paste0("\"", choices, "\"", collapse = ", "),
                  if (is.character(x) && length(x) == 1L) paste0("\"", x, "\"")
                  else friendly_type(x)), where, argument = arg, class = "xentropy_error_value")
  }
  x
}

#' @export
model.frame.xentropy_fit <- function(formula, ...) {
  object <- formula
  # as model.frame.glm(): `data`, `na.action` and `subset` rebuild the frame with them
  dots <- list(...)
  nargs <- dots[match(c("data", "na.action", "subset"), names(dots), 0L)]
  if (!length(nargs) && !is.null(object$model)) return(object$model)
  if (is.null(object$terms)) {
    abort("This model was fitted with the matrix interface (`x`, `y`): it has no model frame.",
          sys.call(), class = "xentropy_error_unsupported")
  }
  # rebuild it from the call, as model.frame.glm() does
  fcall <- object$call
  m <- match(c("formula", "data", "subset", "weights", "na.action", "offset"),
             names(fcall), 0L)
  fcall <- fcall[c(1L, m)]
  fcall$drop.unused.levels <- TRUE
  fcall[[1L]] <- quote(stats::model.frame)
  fcall$xlev <- object$xlevels
  fcall$formula <- object$terms
  env <- environment(object$terms)
  if (!is.null(object$data)) fcall$data <- object$data
  fcall[names(nargs)] <- nargs
  eval(fcall, env)
}

#' @export
model.matrix.xentropy_fit <- function(object, ...) {
  if (!is.null(object$x)) return(object$x)
  mf <- stats::model.frame(object, ...)
  X <- stats::model.matrix(object$terms, mf, contrasts.arg = object$contrasts)
  X
}

#' @export
weights.xentropy_fit <- function(object, type = c("prior", "working"), ...) {
  type <- match_choice(type, c("prior", "working"), "type", sys.call())
  w <- object$prior.weights
  if (type == "working") {
    if (inherits(object, "softmax_regression")) {
      abort("Working weights are defined for one linear predictor, not for a softmax regression.",
            sys.call(), argument = "type", class = "xentropy_error_unsupported")
    }
    mu <- object$fitted.values
    w <- w * mu * (1 - mu)
  }
  names(w) <- names(object$linear.predictors) %||% rownames(object$linear.predictors)
  pad_rows(object$na.action, w)
}

`%||%` <- function(a, b) if (is.null(a)) b else a

#' @export
df.residual.xentropy_fit <- function(object, ...) object$df.residual

#' @export
extractAIC.xentropy_fit <- function(fit, scale = 0, k = 2, ...) {
  c(fit$df, -2 * fit$loglik + k * fit$df)
}

#' @export
family.logistic_regression <- function(object, ...) stats::binomial()

# ---- analysis of deviance -------------------------------------------------

# Refits the model on the columns `cols` of its model matrix X (glm.fit on a
# subset of columns, as anova.glm and drop1.glm do): deviance, rank and the
# coefficients over `cols` (NA where aliased).
refit_columns <- function(object, X, cols) {
  softmax <- inherits(object, "softmax_regression")
  Xs <- X[, cols, drop = FALSE]
  ctl <- object$control[c("tol", "maxit", if (softmax) "newton_max_dim")]
  args <- list(x = Xs, lambda = object$lambda, control = ctl)
  if (softmax) {
    args$y <- object$targets
    args$weights <- object$weights
    args$label_smoothing <- 0
  } else {
    args$y <- object$y
    args$weights <- object$weights
  }
  args$offset <- object$offset
  if (ncol(Xs) == 0L) {
    dev <- if (softmax) {
      softmax_null_deviance(object$targets, object$weights, object$prior.weights,
                            object$offset, FALSE, saturated_loss(object), ctl)
    } else {
      binary_null_deviance(object$y, object$weights, object$prior.weights, object$offset,
                           FALSE, saturated_loss(object), ctl)
    }
    return(list(deviance = dev, rank = 0L, coefficients = NULL, fit = NULL))
  }
  fit <- suppressWarnings(do.call(if (softmax) softmax_regression else logistic_regression,
                                  args))
  # the same targets: the deviance is measured from the same saturated model
  list(deviance = fit$deviance, rank = fit$rank, fit = fit,
       coefficients = fit$coefficients)
}

saturated_loss <- function(object) {
  wt <- object$prior.weights
  if (inherits(object, "softmax_regression")) sum(wt * entropy(object$targets))
  else sum(wt * binary_entropy(object$y))
}

# Rao's score statistic for adding the columns of X not in `small_cols` to the
# model fitted on `small_cols` (coefficients `beta_small`): g' H^- g at the
# smaller model's estimate, over the estimable columns of X (binary models). The
# linear predictor is the smaller model's, from all its columns (one of them may be
# aliased in X); a badly conditioned X is scored on the basis fit_basis() gives.
rao_score <- function(object, X, small_cols, beta_small) {
  b <- double(ncol(X))
  if (length(small_cols)) {
    bs <- beta_small
    bs[is.na(bs)] <- 0
    b[small_cols] <- bs
  }
  eta <- drop(X %*% b)
  if (!is.null(object$offset)) eta <- eta + object$offset
  dq <- design_qr(X, object$weights, object$control$tol, 0)
  X <- X[, !dq$aliased, drop = FALSE]
  basis <- fit_basis(dq$R)
  if (!is.null(basis)) X <- X %*% basis$T
  e <- binary_eval_impl(X, object$y, object$weights, eta, double(ncol(X)), TRUE, 0L)
  g <- e$gradient
  H <- e$hessian
  s <- tryCatch(solve(H, g), error = function(err) MASS_ginv(H) %*% g)
  sum(g * s)
}

MASS_ginv <- function(H) {
  s <- svd(H)
  d <- ifelse(s$d > max(s$d) * 1e-10, 1 / s$d, 0)
  s$v %*% (d * t(s$u))
}

test_choice <- function(test, where) {
  if (is.null(test) || identical(test, FALSE)) return("none")
  match_choice(test, c("none", "Chisq", "LRT", "Rao", "F", "Cp"), "test", where)
}

#' Analysis of deviance for logistic and softmax regressions
#'
#' `anova()` of one fit gives the sequential analysis of deviance (terms
#' added one at a time, in the order of the formula), and of several nested
#' fits a table comparing them, with the numbers and tests of
#' [anova.glm()] (`test = "Chisq"` or `"LRT"`: likelihood-ratio; `"Rao"`:
#' score test; `"F"` as glm computes it for binomial, with its warning).
#' For softmax regressions of several models it gives
#' `nnet::multinom()`'s likelihood-ratio table. `drop1()` and `add1()` give
#' the tables of [drop1.glm()] and [add1.glm()], so that [step()] selects
#' terms by AIC as it does for a glm.
#'
#' @param object A fit from [logistic_regression()] or [softmax_regression()].
#' @param ... Further fits (nested, on the same data) for `anova()`.
#' @param test `NULL` or `"none"`, `"Chisq"`, `"LRT"`, `"Rao"` (binary only)
#'   or `"F"`.
#' @param scope,scale,k As for [drop1()] and [add1()] (`scale` is
#'   fixed at 1 for these models; `k` is the AIC's penalty per parameter).
#' @return A data frame of class `"anova"` with a heading, as [anova.glm()].
#' @family fitting
#' @export
#' @examples
#' if (requireNamespace("MASS", quietly = TRUE)) {
#'   fit <- logistic_regression(type ~ glu + bmi + ped, data = MASS::Pima.tr)
#'   print(anova(fit, test = "Chisq"))
#'   small <- logistic_regression(type ~ glu, data = MASS::Pima.tr)
#'   print(anova(small, fit, test = "LRT"))
#'   print(drop1(fit, test = "LRT"))
#' }
anova.xentropy_fit <- function(object, ..., test = NULL) {
  where <- sys.call()
  dots <- list(...)
  test <- test_choice(test, where)
  fits <- c(list(object), dots)
  is_fit <- vapply(fits, inherits, logical(1), "xentropy_fit")
  if (!all(is_fit)) {
    abort("anova() compares fits from logistic_regression() or softmax_regression(); other arguments are not models.",
          where, class = "xentropy_error_argument")
  }
  if (length(fits) > 1L) return(anova_list(fits, test, where))
  if (!ml_fit(object)) {
    abort(sprintf("An analysis of deviance needs maximum-likelihood fits (`lambda = 0`, `label_smoothing = 0`); this fit %s.",
                  not_ml_why(object)), where, class = "xentropy_error_unsupported")
  }
  if (is.null(object$terms)) {
    abort("A sequential analysis of deviance needs a formula fit (terms to add one at a time).",
          where, class = "xentropy_error_unsupported")
  }
  softmax <- inherits(object, "softmax_regression")
  check_test(object, test, where)
  X <- stats::model.matrix(object)
  asgn <- attr(X, "assign")
  tl <- attr(object$terms, "term.labels")
  nt <- length(tl)
  dev <- double(nt + 1L)
  rk <- integer(nt + 1L)
  score <- double(nt)
  prev <- NULL
  for (i in 0:nt) {
    cols <- which(asgn <= i)
    r <- if (i == nt) list(deviance = object$deviance, rank = object$rank,
                           coefficients = object$coefficients) else refit_columns(object, X, cols)
    if (i > 0 && test == "Rao") {
      score[i] <- rao_score(object, X[, cols, drop = FALSE], prev$cols, prev$coefficients)
    }
    dev[i + 1L] <- r$deviance
    rk[i + 1L] <- r$rank
    prev <- list(cols = which(asgn <= i), coefficients = r$coefficients)
  }
  base_df <- if (softmax) object$nobs * (length(object$levels) - 1L) else object$nobs
  resdf <- base_df - rk
  table <- data.frame(c(NA, -diff(resdf)), c(NA, pmax(0, -diff(dev))), resdf, dev)
  dimnames(table) <- list(c("NULL", tl), c("Df", "Deviance", "Resid. Df", "Resid. Dev"))
  if (test == "Rao") table <- cbind(table, Rao = c(NA, score))
  title <- paste0("Analysis of Deviance Table\n\nModel: ",
                  if (softmax) "softmax (multinomial logit)" else "binomial, link: logit",
                  "\n\nResponse: ", deparse(object$terms[[2L]]),
                  "\n\nTerms added sequentially (first to last)\n\n")
  anova_finish(table, title, test, where, NROW(object$fitted.values))
}

# n: the rows of the model matrix (glm's, for Mallows' Cp)
anova_finish <- function(table, title, test, where, n) {
  if (test != "none") {
    if (test == "F") {
      warn("using F test with a 'binomial' family is inappropriate", NULL,
           class = "xentropy_warning_test")
    }
    table <- stats::stat.anova(table = table, test = test, scale = 1,
                               df.scale = Inf, n = n)
  }
  structure(table, heading = title, class = c("anova", "data.frame"))
}

anova_list <- function(fits, test, where) {
  softmax <- vapply(fits, inherits, logical(1), "softmax_regression")
  if (any(softmax) && !all(softmax)) {
    abort("anova() compares models of one kind: all logistic or all softmax regressions.",
          where, class = "xentropy_error_argument")
  }
  n <- vapply(fits, function(f) f$nobs, double(1))
  if (any(n != n[1])) {
    abort("The models were not all fitted to the same observations (their `nobs()` differ).",
          where, class = "xentropy_error_argument")
  }
  if (!all(vapply(fits, ml_fit, logical(1)))) {
    abort("Likelihood-ratio tables need maximum-likelihood fits (`lambda = 0`, `label_smoothing = 0`).",
          where, class = "xentropy_error_unsupported")
  }
  if (all(softmax)) {
    if (test == "Rao" || test == "F" || test == "Cp") {
      abort("For softmax regressions anova() gives the likelihood-ratio table: `test` must be \"Chisq\", \"LRT\" or \"none\".",
            where, argument = "test", class = "xentropy_error_value")
    }
    # nnet::multinom's table: models ordered by their number of parameters
    edf <- vapply(fits, function(f) f$df, double(1))
    s <- order(edf)
    fits <- fits[s]
    K <- length(fits[[1]]$levels)
    dfs <- fits[[1]]$nobs * (K - 1) - edf[s]
    lls <- vapply(fits, stats::deviance, double(1))
    nt <- length(fits)
    mds <- vapply(fits, function(f) {
      if (is.null(f$terms)) "x" else paste(deparse(stats::formula(f)[[3L]]), collapse = " ")
    }, character(1))
    rsp <- if (is.null(fits[[1]]$terms)) "y" else deparse(stats::formula(fits[[1]])[[2L]])
    df <- c(NA, -diff(dfs))
    x2 <- c(NA, -diff(lls))
    pr <- c(NA, stats::pchisq(x2[-1L], df[-1L], lower.tail = FALSE))
    out <- data.frame(Model = mds, Resid.df = dfs, Deviance = lls,
                      Test = c("", paste(seq_len(nt - 1L), 2:nt, sep = " vs ")),
                      Df = df, LRtest = x2, Prob = pr)
    names(out) <- c("Model", "Resid. df", "Resid. Dev", "Test", "   Df", "LR stat.",
                    "Pr(Chi)")
    if (test == "none") out <- out[, 1:6]
    class(out) <- c("Anova", "data.frame")
    attr(out, "heading") <- c("Likelihood ratio tests of Multinomial Models\n",
                              paste("Response:", rsp))
    return(out)
  }
  resdf <- vapply(fits, function(f) f$df.residual, double(1))
  resdev <- vapply(fits, function(f) f$deviance, double(1))
  table <- data.frame(resdf, resdev, c(NA, -diff(resdf)), c(NA, -diff(resdev)))
  variables <- lapply(fits, function(f) {
    if (is.null(f$terms)) "x" else paste(deparse(stats::formula(f)), collapse = "\n")
  })
  dimnames(table) <- list(seq_along(fits), c("Resid. Df", "Resid. Dev", "Df", "Deviance"))
  if (test == "Rao") {
    rao <- c(NA, vapply(seq_along(fits)[-1L], function(i) {
      big <- fits[[i]]
      small <- fits[[i - 1L]]
      Xb <- stats::model.matrix(big)
      Xs_names <- names(small$coefficients)
      if (!all(Xs_names %in% colnames(Xb))) {
        abort("`test = \"Rao\"` needs each model's columns to be among the next one's.", where,
              argument = "test", class = "xentropy_error_unsupported")
      }
      idx <- match(Xs_names, colnames(Xb))
      sgn <- if (resdf[i] < resdf[i - 1L]) 1 else -1
      if (sgn < 0) return(NA_real_)
      rao_score(big, Xb, idx, small$coefficients)
    }, double(1)))
    table <- cbind(table, Rao = rao)
  }
  title <- "Analysis of Deviance Table\n"
  topnote <- paste0("Model ", format(seq_along(fits)), ": ", variables, collapse = "\n")
  anova_finish(table, c(title, topnote), test, where, NROW(fits[[1L]]$fitted.values))
}

#' @rdname anova.xentropy_fit
#' @export
drop1.xentropy_fit <- function(object, scope, scale = 0, test = c("none", "Rao", "LRT",
                                                                  "Chisq", "F"),
                               k = 2, ...) {
  where <- sys.call()
  test <- test_choice(if (identical(test, eval(formals()$test))) "none" else test, where)
  no_dots(list(...)[setdiff(names(list(...)), "trace")], where)
  if (is.null(object$terms)) abort("drop1() needs a formula fit.", where, class = "xentropy_error_unsupported")
  check_scale(scale, where)
  softmax <- inherits(object, "softmax_regression")
  check_test(object, test, where)
  X <- stats::model.matrix(object)
  asgn <- attr(X, "assign")
  tl <- attr(object$terms, "term.labels")
  if (missing(scope)) {
    scope <- stats::drop.scope(object)
  } else {
    if (!is.character(scope)) {
      scope <- attr(stats::terms(stats::update.formula(object, scope)), "term.labels")
    }
    if (!all(match(scope, tl, 0L) > 0L)) abort("`scope` is not a subset of the model's terms.", where, class = "xentropy_error_argument", argument = "scope")
  }
  ns <- length(scope)
  dfs <- double(ns + 1L)
  devs <- double(ns + 1L)
  score <- double(ns + 1L)
  dfs[1] <- object$df
  devs[1] <- object$deviance
  full_cols <- seq_len(ncol(X))
  for (i in seq_len(ns)) {
    ii <- which(tl == scope[i])
    cols <- full_cols[asgn != ii]
    r <- refit_columns(object, X, cols)
    dfs[i + 1L] <- if (is.null(r$fit)) 0 else r$fit$df
    devs[i + 1L] <- r$deviance
    if (test == "Rao") {
      score[i + 1L] <- rao_score(object, X, cols, r$coefficients)
    }
  }
  drop1_table(object, c("<none>", scope), dfs, devs, score, test, k, added = FALSE)
}

#' @rdname anova.xentropy_fit
#' @export
add1.xentropy_fit <- function(object, scope, scale = 0, test = c("none", "Rao", "LRT",
                                                                 "Chisq", "F"),
                              k = 2, ...) {
  where <- sys.call()
  test <- test_choice(if (identical(test, eval(formals()$test))) "none" else test, where)
  no_dots(list(...)[setdiff(names(list(...)), c("trace", "x"))], where)
  if (missing(scope) || is.null(scope)) abort("No terms in `scope` to add.", where, class = "xentropy_error_argument", argument = "scope")
  if (is.null(object$terms)) abort("add1() needs a formula fit.", where, class = "xentropy_error_unsupported")
  check_scale(scale, where)
  softmax <- inherits(object, "softmax_regression")
  check_test(object, test, where)
  if (!is.character(scope)) {
    scope <- stats::add.scope(object, stats::update.formula(object, scope))
  }
  if (!length(scope)) abort("No terms in `scope` to add.", where, class = "xentropy_error_argument", argument = "scope")
  ns <- length(scope)
  dfs <- double(ns + 1L)
  devs <- double(ns + 1L)
  score <- double(ns + 1L)
  dfs[1] <- object$df
  devs[1] <- object$deviance
  env <- environment(stats::formula(object))
  for (i in seq_len(ns)) {
    fcall <- stats::update(object, stats::as.formula(paste("~ . +", scope[i])),
                           evaluate = FALSE)
    fcall$control <- utils::modifyList(as.list(fcall$control), list(trace = FALSE))
    nfit <- suppressWarnings(eval(fcall, env))
    if (nfit$nobs != object$nobs) {
      abort(sprintf("Adding `%s` changes the number of observations used (%.0f, not %.0f): remove the rows with missing values first.",
                    scope[i], nfit$nobs, object$nobs), where, class = "xentropy_error_data", argument = "scope")
    }
    dfs[i + 1L] <- nfit$df
    devs[i + 1L] <- nfit$deviance
    if (test == "Rao") {
      Xb <- stats::model.matrix(nfit)
      idx <- match(names(object$coefficients), colnames(Xb))
      score[i + 1L] <- rao_score(nfit, Xb, idx, object$coefficients)
    }
  }
  drop1_table(object, c("<none>", scope), dfs, devs, score, test, k, added = TRUE)
}

drop1_table <- function(object, rn, dfs, devs, score, test, k, added) {
  ll <- -devs / 2  # up to the constant shared by all models of the same data
  loglik0 <- object$loglik + object$deviance / 2
  aic <- -2 * (ll + loglik0) + k * dfs
  d <- if (added) dfs - dfs[1] else dfs[1] - dfs
  d[1] <- NA
  aod <- data.frame(Df = d, Deviance = devs, AIC = aic, row.names = rn, check.names = FALSE)
  if (test %in% c("Chisq", "LRT")) {
    dev <- if (added) devs[1] - devs else devs - devs[1]
    dev[1] <- NA
    nas <- !is.na(dev) & aod$Df > 0  # no test on 0 df (an aliased term), as glm's
    lr <- dev
    aod[, "LRT"] <- lr
    p <- rep(NA_real_, length(lr))
    p[nas] <- stats::pchisq(lr[nas], aod$Df[nas], lower.tail = FALSE)
    aod[, "Pr(>Chi)"] <- p
  } else if (test == "Rao") {
    sc <- score
    sc[1] <- NA
    aod[, "Rao score"] <- sc
    p <- rep(NA_real_, length(sc))
    nas <- !is.na(sc) & aod$Df > 0
    p[nas] <- stats::pchisq(sc[nas], aod$Df[nas], lower.tail = FALSE)
    aod[, "Pr(>Chi)"] <- p
  } else if (test == "F") {
    warn("F test assumes 'quasibinomial' family", NULL, class = "xentropy_warning_test")
    dev <- abs(devs - devs[1])
    dev[1] <- NA
    rdf <- object$df.residual
    rdfs <- if (added) rdf - aod$Df else rdf + aod$Df
    rms <- if (added) devs / rdfs else devs[1] / rdf
    Fs <- dev / aod$Df / rms
    Fs[!is.na(aod$Df) & aod$Df < 1e-4] <- NA
    aod[, "F value"] <- Fs
    p <- rep(NA_real_, length(Fs))
    nas <- !is.na(Fs)
    p[nas] <- stats::pf(Fs[nas], aod$Df[nas], if (added) rdfs[nas] else rdf,
                        lower.tail = FALSE)
    aod[, "Pr(>F)"] <- p
  }
  head <- c(if (added) "Single term additions" else "Single term deletions", "\nModel:",
            deparse(stats::formula(object)))
  structure(aod, heading = head, class = c("anova", "data.frame"))
}

# The dispersion of a binomial or multinomial model is 1; drop1()/add1()'s
# `scale = 0` (the default, as step() passes it) means that.
check_scale <- function(scale, where) {
  if (!(is.numeric(scale) && length(scale) == 1L && scale %in% c(0, 1))) {
    abort("`scale` must be 0 or 1: the dispersion of these models is fixed at 1.", where,
          argument = "scale", class = "xentropy_error_value")
  }
}

# Tests a fit can give: the score test for one linear predictor only, and
# likelihood-ratio-type tests for maximum-likelihood fits only.
check_test <- function(object, test, where) {
  if (inherits(object, "softmax_regression") && test == "Rao") {
    abort("`test = \"Rao\"` is available for logistic regressions only.", where,
          argument = "test", class = "xentropy_error_unsupported")
  }
  if (test != "none" && !ml_fit(object)) {
    abort(sprintf("`test = \"%s\"` needs a maximum-likelihood fit (`lambda = 0`, `label_smoothing = 0`); this fit %s.",
                  test, not_ml_why(object)), where, argument = "test", class = "xentropy_error_unsupported")
  }
}

# Whether a fit maximises the likelihood of the observed classes: not with a penalty,
# nor with smoothed labels (it fits targets other than the observed ones).
ml_fit <- function(object) {
  object$lambda == 0 && !isTRUE(object$label_smoothing > 0)
}
not_ml_why <- function(object) {
  if (object$lambda > 0) "is penalised" else "fits smoothed labels"
}

# lm's variable.names() and case.names(): the estimable coefficients' columns (all of
# them with full = TRUE), and the rows (those of non-zero prior weight unless full).
#' @export
variable.names.xentropy_fit <- function(object, full = FALSE, ...) {
  nm <- object$xnames
  if (isTRUE(full)) nm else nm[!object$aliased]
}

#' @export
case.names.xentropy_fit <- function(object, full = FALSE, ...) {
  eta <- object$linear.predictors
  dn <- if (is.matrix(eta)) rownames(eta) else names(eta)
  w <- object$prior.weights
  if (isTRUE(full) || is.null(w) || is.null(dn)) dn else dn[w != 0]
}
