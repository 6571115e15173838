# Cross-validation of a regularisation path (logistic_path(), softmax_path()).

#' Cross-validate a regularisation path
#'
#' Refits `path` with the same settings (and the same lambda sequence) on each
#' training fold and scores the held-out fold at every lambda, as glmnet's
#' `cv.glmnet()` does. The folds run over the current `future` plan
#' (`future.apply::future_lapply()` with `future.seed = TRUE`) when future.apply
#' is installed, sequentially otherwise.
#'
#' For each fold f the held-out score \eqn{c_f(\lambda)} is the weighted mean of
#' the per-observation measure (`"cross_entropy"`: \eqn{-\log p_{i,y_i}};
#' `"misclassification"`: whether the most probable class is wrong, for
#' proportions \eqn{y_i} the expected error, \eqn{y_i} when class 0 is predicted
#' and \eqn{1 - y_i} when class 1 is, as cv.glmnet's `"class"`; `"brier"`:
#' [brier_score()]'s per-observation score), or, for `"calibration_error"`, the
#' fold's [calibration_error()]. With \eqn{W_f} the fold's total weight,
#' `cvm` is \eqn{\sum_f W_f c_f / \sum_f W_f} and `cvsd` is
#' \eqn{\sqrt{\sum_f W_f (c_f - cvm)^2 / \sum_f W_f / (F - 1)}} (cv.glmnet's
#' formulas), so with the same folds and 0/1 targets the cross-entropy curve is cv.glmnet's
#' binomial or multinomial deviance / 2 (cv.glmnet clips probabilities to
#' \[1e-5, 1 - 1e-5\]; this does not). `lambda_min` is the lambda of the smallest
#' `cvm`; `lambda_1se` the largest lambda whose `cvm` is within one `cvsd` of it.
#'
#' @param path A `logistic_path()` or `softmax_path()` result.
#' @param nfolds Number of folds (at least 3), used when `foldid` is `NULL`.
#' @param foldid `NULL` or a vector of fold numbers 1..F, one per observation.
#' @param measure What to score held-out rows by.
#' @return An object of class `xentropy_cv_path`: `lambda`, `cvm`, `cvsd`, `cvup`,
#'   `cvlo`, `df`, `lambda_min`, `lambda_1se`, `index` (their positions),
#'   `measure`, `foldid` and `path`. `coef()` and `predict()` take
#'   `s = "lambda_1se"` (the default), `"lambda_min"` or numbers; `print()`,
#'   `plot()` and `autoplot()` show the curve with its error bars.
#' @family regularisation paths
#' @examples
#' set.seed(4)
#' x <- matrix(rnorm(300 * 20), 300, 20)
#' y <- rbinom(300, 1, plogis(x[, 1] - x[, 2]))
#' cv <- cv_path(logistic_path(x, y, nlambda = 30), nfolds = 5)
#' cv
#' coef(cv, s = "lambda_min")[1:4, ]
#' plot(cv)
#' @export
cv_path <- function(path, nfolds = 10, foldid = NULL,
                    measure = c("cross_entropy", "misclassification", "brier",
                                "calibration_error")) {
  where <- sys.call()
  if (!inherits(path, "xentropy_path")) {
    abort(sprintf("`path` must be a logistic_path() or softmax_path() result, not %s.",
                  friendly_type(path)), where, class = "xentropy_error_type", argument = "path")
  }
  measure <- match.arg(measure)
  st <- path$settings
  n <- path$nobs
  if (is.null(foldid)) {
    nfolds <- check_number(nfolds, "nfolds", "a whole number from 3 to the number of observations",
                           function(v) v >= 3 && v <= n && v == round(v), where)
    foldid <- sample(rep(seq_len(nfolds), length.out = n))
  } else {
    if (!is.numeric(foldid) || length(foldid) != n || anyNA(foldid) ||
        any(foldid != round(foldid)) || any(foldid < 1)) {
      abort(sprintf("`foldid` must hold one whole fold number >= 1 per observation (%.0f).", n),
            where, class = "xentropy_error_value", argument = "foldid")
    }
    foldid <- as.integer(foldid)
    if (length(unique(foldid)) < 3L) {
      abort("`foldid` must define at least 3 folds.", where, class = "xentropy_error_value",
            argument = "foldid")
    }
  }
  folds <- sort(unique(foldid))
  w <- if (is.null(st$weights)) rep(1, n) else st$weights
  lambda <- path$lambda
  # Matrix is only suggested: a sparse x needs its methods (`[`, `%*%`) wherever the
  # folds run (a future worker, or a session that read the path from a file)
  sparse <- inherits(st$x, "dgCMatrix")
  use_future <- requireNamespace("future.apply", quietly = TRUE)
  nt <- if (use_future) worker_threads()
  one_fold <- function(f) {
    if (sparse) loadNamespace("Matrix")
    if (!is.null(nt)) {
      old <- options(xentropy.threads = nt)
      on.exit(options(old))
    }
    test <- which(foldid == f)
    train <- which(foldid != f)
    sub_off <- function(o, rows) if (is.null(o)) NULL else if (is.matrix(o)) o[rows, , drop = FALSE] else o[rows]
    fit <- path_fit(st$x[train, , drop = FALSE], st$y[train], st$alpha, lambda,
                    length(lambda), 0.5, st$weights[train], sub_off(st$offset, train),
                    st$penalty_factor, st$standardize, st$intercept, st$control,
                    softmax = st$softmax, grouped = st$grouped, where = where,
                    call = path$call)
    score_fold(fit, st$x[test, , drop = FALSE], st$y[test], w[test],
               sub_off(st$offset, test), measure)
  }
  scores <- if (use_future) {
    future.apply::future_lapply(folds, one_fold, future.seed = TRUE,
                                future.packages = if (sparse) "Matrix")
  } else {
    lapply(folds, one_fold)
  }
  cvraw <- do.call(rbind, scores)              # folds x lambda
  Wf <- vapply(folds, function(f) sum(w[foldid == f]), 0)
  # a fold of weight 0 has no score (0 / 0) and counts for nothing in cvm and cvsd (as in
  # cv.glmnet, whose F still counts it)
  pos <- Wf > 0
  cvm <- colSums(cvraw[pos, , drop = FALSE] * Wf[pos]) / sum(Wf)
  cvsd <- sqrt(colSums(Wf[pos] * sweep(cvraw[pos, , drop = FALSE], 2, cvm)^2) / sum(Wf) /
                 (length(folds) - 1))
  imin <- which(cvm <= min(cvm))
  lambda_min <- max(lambda[imin])
  i_min <- match(lambda_min, lambda)
  lambda_1se <- max(lambda[cvm <= (cvm + cvsd)[i_min]])
  out <- list(lambda = lambda, cvm = cvm, cvsd = cvsd, cvup = cvm + cvsd, cvlo = cvm - cvsd,
              df = path$df, lambda_min = lambda_min, lambda_1se = lambda_1se,
              index = c(min = i_min, `1se` = match(lambda_1se, lambda)),
              measure = measure, foldid = foldid, path = path, call = match.call())
  class(out) <- "xentropy_cv_path"
  out
}

# Per-lambda score of held-out rows (weighted mean of a per-observation measure, or
# the fold's calibration error).
score_fold <- function(fit, x, y, w, off, measure) {
  L <- length(fit$lambda)
  softmax <- inherits(fit, "softmax_path")
  eta <- predict.xentropy_path(fit, x, type = "link", newoffset = off)
  if (softmax) {
    yi <- as.integer(factor(y, levels = fit$classes))
    Y <- matrix(0, length(yi), length(fit$classes))
    Y[cbind(seq_along(yi), yi)] <- 1
  } else {
    yb <- path_targets(y, length(y), FALSE, NULL, held_out = TRUE)$y[, 1]
  }
  vapply(seq_len(L), function(l) {
    if (softmax) {
      e <- eta[, , l, drop = FALSE]
      dim(e) <- dim(e)[1:2]
      lse <- logsumexp(e, margin = 1)
      P <- exp(e - lse)
      per <- switch(measure,
                    cross_entropy = lse - rowSums(Y * e),
                    misclassification = as.double(max.col(e, ties.method = "first") != yi),
                    brier = rowSums((P - Y)^2),
                    calibration_error = return(calibration_error(yi, P, weights = w)))
    } else {
      e <- eta[, l]
      per <- switch(measure,
                    cross_entropy = yb * softplus(-e) + (1 - yb) * softplus(e),
                    # the expected error: y if class 0 is predicted, 1 - y if class 1
                    misclassification = ifelse(e > 0, 1 - yb, yb),
                    brier = (yb - sigmoid(e))^2,
                    calibration_error = return(calibration_error(yb, sigmoid(e), weights = w)))
    }
    sum(w * per) / sum(w)
  }, 0)
}

cv_s <- function(object, s, where) {
  if (is.character(s)) {
    s <- match.arg(s, c("lambda_1se", "lambda_min"))
    return(object[[s]])
  }
  s
}

#' @rdname cv_path
#' @param object A `cv_path()` result.
#' @param s `"lambda_1se"`, `"lambda_min"` or penalties.
#' @param ... `predict()`: the path's `type` and `newoffset`; any other argument
#'   (to either method) is an error.
#' @export
coef.xentropy_cv_path <- function(object, s = c("lambda_1se", "lambda_min"), ...) {
  where <- sys.call()
  path_no_dots(list(...), where)
  path_coef(object$path, cv_s(object, s, where), where)
}

#' @rdname cv_path
#' @param newx New rows, as for the path's `predict()`.
#' @export
predict.xentropy_cv_path <- function(object, newx, s = c("lambda_1se", "lambda_min"), ...) {
  where <- sys.call()
  cv_predict <- function(type = c("link", "prob", "class"), newoffset = NULL, ...) {
    path_no_dots(list(...), where)
    path_predict(object$path, newx, cv_s(object, s, where), match.arg(type), newoffset, where)
  }
  cv_predict(...)
}

#' @export
print.xentropy_cv_path <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("\nCall: ", paste(deparse(x$call), collapse = "\n"), "\n\n", sep = "")
  cat("Measure:", x$measure, "\n\n")
  i <- x$index
  tab <- data.frame(Lambda = signif(x$lambda[i], digits), Index = i,
                    Measure = signif(x$cvm[i], digits), SE = signif(x$cvsd[i], digits),
                    Nonzero = x$df[i], row.names = c("min", "1se"))
  print(tab)
  invisible(x)
}

#' @rdname cv_path
#' @param x A `cv_path()` result.
#' @export
plot.xentropy_cv_path <- function(x, ...) {
  ll <- log(x$lambda)
  graphics::plot(ll, x$cvm, ylim = range(x$cvlo, x$cvup), pch = 20, col = "red",
                 xlab = "log(lambda)", ylab = x$measure, ...)
  graphics::segments(ll, x$cvlo, ll, x$cvup, col = "grey50")
  graphics::abline(v = log(c(x$lambda_min, x$lambda_1se)), lty = 3)
  invisible(x)
}

#' @rdname cv_path
#' @exportS3Method ggplot2::autoplot
autoplot.xentropy_cv_path <- function(object, ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("autoplot() needs the ggplot2 package.", sys.call(), class = "xentropy_error_dependency", package = "ggplot2")
  }
  .data <- ggplot2::.data
  d <- data.frame(log_lambda = log(object$lambda), cvm = object$cvm, lo = object$cvlo,
                  hi = object$cvup)
  ggplot2::ggplot(d, ggplot2::aes(.data$log_lambda, .data$cvm)) +
    ggplot2::geom_errorbar(ggplot2::aes(ymin = .data$lo, ymax = .data$hi), colour = "grey60") +
    ggplot2::geom_point(colour = "red") +
    ggplot2::geom_vline(xintercept = log(c(object$lambda_min, object$lambda_1se)),
                        linetype = "dotted") +
    ggplot2::labs(x = "log(lambda)", y = object$measure)
}
