#' Scores of a fitted classifier on new data, in memory or in chunks
#'
#' The cross-entropy (mean negative log-likelihood per observation), the
#' Brier score, the expected calibration error (top-label, 15 equal-width
#' bins, as [calibration_error()]) and the accuracy of a fit from
#' [logistic_regression()] or [softmax_regression()] on `newdata`, a data
#' frame or a [data_chunks()] source. Every measure is a sum over rows (the
#' calibration error is computed from the per-bin sums of reliability
#' tables merged with [merge_reliability()]), so over chunks the result
#' equals the one on the same rows in memory; chunks are scored on the
#' current `future` plan. Rows with a missing response or prediction are
#' left out; a response that is not one of the model's classes is an error.
#'
#' A grouped response is scored per trial, as the same data with one row per
#' trial: a binary `cbind(successes, failures)` row counts as its successes
#' and failures, a softmax matrix of class proportions as its classes with
#' those weights (for one-hot rows, the row's class), and `nobs` is then the
#' total weight.
#'
#' @param object A fit from [logistic_regression()] or [softmax_regression()].
#' @param newdata A data frame holding the response and the predictors, or a
#'   [data_chunks()] source.
#' @param measures Any of `"cross_entropy"`, `"brier"`,
#'   `"calibration_error"`, `"accuracy"`.
#' @return A data frame with columns `measure` and `value`, and attributes
#'   `nobs` (rows scored, or trials for a grouped response) and `reliability`
#'   (the merged reliability table).
#' @family fitting
#' @export
#' @examples
#' parts <- unname(split(mtcars, rep(1:4, length.out = nrow(mtcars))))
#' fit <- logistic_regression(am ~ wt, data = data_chunks(parts))
#' model_metrics(fit, data_chunks(parts))
#' model_metrics(fit, mtcars)   # the same numbers
model_metrics <- function(object, newdata,
                          measures = c("cross_entropy", "brier", "calibration_error",
                                       "accuracy")) {
  where <- sys.call()
  if (!inherits(object, "xentropy_fit") || is.null(object$terms)) {
    abort("`object` must be a formula fit from logistic_regression() or softmax_regression().",
          where, class = "xentropy_error_type", argument = "object")
  }
  all_m <- c("cross_entropy", "brier", "calibration_error", "accuracy")
  if (!is.character(measures) || !length(measures) || !all(measures %in% all_m)) {
    abort(sprintf("`measures` must be some of %s.", paste0("\"", all_m, "\"", collapse = ", ")),
          where, class = "xentropy_error_value", argument = "measures")
  }
  src <- if (inherits(newdata, "xentropy_chunks")) newdata else if (is.data.frame(newdata))
    data_chunks(list(newdata)) else
      abort(sprintf("`newdata` must be a data frame or data_chunks(), not %s.",
                    friendly_type(newdata)), where, class = "xentropy_error_type", argument = "newdata")
  # the workers get the variables and functions the formula takes from its
  # environment (constants, the caller's functions), as the chunked fits' workers do
  d1 <- read_chunk(src, 1L)
  we <- worker_env(list(object$terms, object$call$offset), environment(object$terms),
                   names(d1))
  environment(object$terms) <- we$env
  parts <- chunk_map(src, chunk_scores, object = object)
  n <- sum(vapply(parts, `[[`, 0, "n"))
  if (n == 0) abort("`newdata` has no rows to score.", where, class = "xentropy_error_data", argument = "newdata")
  ce <- sum(vapply(parts, `[[`, 0, "ce")) / n
  br <- sum(vapply(parts, `[[`, 0, "brier")) / n
  acc <- sum(vapply(parts, `[[`, 0, "hits")) / n
  tabs <- Filter(Negate(is.null), lapply(parts, `[[`, "rel"))
  rel <- do.call(merge_reliability, tabs)
  vals <- c(cross_entropy = ce, brier = br, calibration_error = attr(rel, "ece"),
            accuracy = acc)
  out <- data.frame(measure = measures, value = unname(vals[measures]))
  attr(out, "nobs") <- n
  attr(out, "reliability") <- rel
  out
}

# The sums of one chunk's scores. A response of counts (binary cbind(successes,
# failures), a softmax matrix of counts or proportions) is scored per trial, as the
# same data with one row per trial: each row is spread over its classes, weighted by
# the counts.
chunk_scores <- function(d, i, object) {
  softmax <- inherits(object, "softmax_regression")
  resp <- object$terms[[2L]]
  y <- eval(resp, d, environment(object$terms))
  P <- stats::predict(object, newdata = d, type = "prob")
  lev <- object$levels
  unknown <- function(v) {
    bad <- unique(v[!is.na(v) & !(v %in% lev)])
    if (length(bad)) {
      abort(sprintf("The response in `newdata` has %s not among the model's classes (%s).",
                    paste0("\"", utils::head(bad, 3), "\"", collapse = ", "),
                    paste0("\"", lev, "\"", collapse = ", ")),
            NULL, class = "xentropy_error_data", argument = "newdata")
    }
  }
  counts <- function(Y, ok) {
    # rows of Y (counts per class) as one row per (observation, class) with a count
    Y <- Y[ok, , drop = FALSE]
    if (any(Y < 0 | Y == Inf)) {
      abort("The response in `newdata` has negative or infinite counts or proportions.",
            NULL, class = "xentropy_error_data", argument = "newdata")
    }
    k <- which(Y > 0, arr.ind = TRUE)
    list(row = which(ok)[k[, 1]], cls = k[, 2], w = Y[k])
  }
  w <- NULL
  if (softmax) {
    P <- as.matrix(P)
    if (is.matrix(y)) {
      if (ncol(y) != length(lev)) {
        abort(sprintf("The response in `newdata` has %d columns; the model has %d classes.",
                      ncol(y), length(lev)), NULL, class = "xentropy_error_data", argument = "newdata")
      }
      e <- counts(y, stats::complete.cases(y) & stats::complete.cases(P))
      yc <- e$cls
      P <- P[e$row, , drop = FALSE]
      w <- e$w
    } else {
      yv <- as.character(y)
      unknown(yv)
      yc <- match(yv, lev)
      ok <- !is.na(yc) & stats::complete.cases(P)
      P <- P[ok, , drop = FALSE]
      yc <- yc[ok]
    }
    if (!length(yc)) return(list(n = 0, ce = 0, brier = 0, hits = 0, rel = NULL))
    ce <- cross_entropy_loss(yc, P, weights = w, reduction = "sum")
    br <- brier_score(yc, P, weights = w, reduction = "sum")
    hit <- max.col(P, ties.method = "first") == yc
    rel <- reliability_table(yc, P, weights = w)
  } else {
    P <- as.double(P)
    if (is.matrix(y)) {
      if (ncol(y) != 2L) {
        abort(sprintf("A binary response matrix in `newdata` must be cbind(successes, failures), not %d columns.",
                      ncol(y)), NULL, class = "xentropy_error_data", argument = "newdata")
      }
      e <- counts(y, stats::complete.cases(y) & !is.na(P))
      yy <- as.double(e$cls == 1L)
      P <- P[e$row]
      w <- e$w
    } else {
      if (is.factor(y) || is.character(y)) {
        yv <- as.character(y)
        unknown(yv)
        yy <- as.double(yv == lev[2])
      } else {
        yy <- as.double(y)
      }
      ok <- !is.na(yy) & !is.na(P)
      yy <- yy[ok]
      P <- P[ok]
    }
    if (!length(yy)) return(list(n = 0, ce = 0, brier = 0, hits = 0, rel = NULL))
    ce <- binary_cross_entropy(yy, P, weights = w, reduction = "sum")
    br <- brier_score(yy, P, weights = w, reduction = "sum")
    hit <- (P > 0.5) == (yy > 0.5)
    rel <- reliability_table(yy, P, weights = w)
  }
  n <- if (is.null(w)) length(hit) else sum(w)
  list(n = n, ce = ce, brier = br, hits = if (is.null(w)) sum(hit) else sum(w * hit), rel = rel)
}

#' Merge reliability tables of parts of the data
#'
#' Reliability tables from [reliability_table()] of disjoint parts of the
#' data (chunks, files, workers), with the same equal-width bins and type,
#' combine exactly: their per-bin counts and weighted sums add up, and the
#' merged table, its ECE and MCE are those of the table of all the rows.
#' `c()` on reliability tables does the same. Equal-mass bins depend on all
#' the data and cannot be merged.
#'
#' @param ... Tables from [reliability_table()].
#' @return A table of class `"xentropy_reliability"`, as [reliability_table()]'s.
#' @family calibration
#' @export
#' @examples
#' set.seed(3)
#' p <- runif(2000)
#' y <- runif(2000) < p
#' a <- reliability_table(y[1:1000], p[1:1000], bins = 10)
#' b <- reliability_table(y[-(1:1000)], p[-(1:1000)], bins = 10)
#' m <- merge_reliability(a, b)
#' c(merged = attr(m, "ece"), all = calibration_error(y, p, bins = 10))
merge_reliability <- function(...) {
  where <- sys.call()
  tabs <- list(...)
  if (length(tabs) == 1L && is.list(tabs[[1L]]) && !is.data.frame(tabs[[1L]])) tabs <- tabs[[1L]]
  if (!length(tabs) || !all(vapply(tabs, inherits, logical(1), "xentropy_reliability"))) {
    abort("`...` must be tables from reliability_table().", where, class = "xentropy_error_type")
  }
  t1 <- tabs[[1L]]
  for (t in tabs) {
    if (!identical(attr(t, "type"), attr(t1, "type")) || nrow(t) != nrow(t1) ||
        !isTRUE(all.equal(t$lower, t1$lower)) || !identical(t$class, t1$class)) {
      abort("The tables must have the same type, classes and bins to be merged.", where, class = "xentropy_error_argument")
    }
    if (!isTRUE(all.equal(attr(t, "level"), attr(t1, "level")))) {
      abort(sprintf("The tables must have the same `level` to be merged (%s and %s): the merged intervals would depend on the tables' order.",
                    format(attr(t1, "level")), format(attr(t, "level"))),
            where, class = "xentropy_error_argument", argument = "level")
    }
    if (!identical(attr(t, "binning"), "equal-width")) {
      abort("Only tables with equal-width bins can be merged (equal-mass bins depend on all the data).",
            where, class = "xentropy_error_unsupported")
    }
  }
  S <- Reduce(`+`, lapply(tabs, table_sums, where = where))
  count <- S[, 1]
  weight <- S[, 2]
  confidence <- ifelse(weight > 0, S[, 4] / weight, NA_real_)
  frequency <- ifelse(weight > 0, S[, 5] / weight, NA_real_)
  n_eff <- ifelse(weight > 0, weight^2 / S[, 3], 0)
  level <- attr(t1, "level")
  ci <- wilson_interval(frequency, n_eff, level)
  out <- t1
  out$count <- count
  out$weight <- weight
  out$confidence <- confidence
  out$frequency <- frequency
  out$ci_lower <- ci$lower
  out$ci_upper <- ci$upper
  gap <- ifelse(weight > 0, abs(confidence - frequency), 0)
  grp <- if (is.null(out$class)) rep(1L, nrow(out)) else out$class
  ece <- mean(tapply(weight * gap, grp, sum) / tapply(weight, grp, sum))
  attr(out, "ece") <- ece
  attr(out, "mce") <- max(gap)
  attr(out, "sums") <- S
  out
}

#' @export
c.xentropy_reliability <- function(...) merge_reliability(...)

# The exact per-bin sums reliability_table() keeps (count, weight, sum of
# squared weights, weighted confidence, weighted outcome). A table without
# them (e.g. rows removed or edited) cannot be merged exactly: an error,
# never an approximation.
table_sums <- function(t, where) {
  S <- attr(t, "sums")
  if (is.null(S) || !is.matrix(S) || nrow(S) != nrow(t)) {
    abort("A table has lost its per-bin sums (attribute \"sums\"), so it cannot be merged exactly; merge the tables as reliability_table() returns them.",
          where, class = "xentropy_error_unsupported")
  }
  S
}
