#' Log-sum-exp
#'
#' \deqn{\mathrm{logsumexp}(x) = \log \sum_k e^{x_k}, \qquad
#'   \mathrm{logsumexp}(x; b) = \log \sum_k b_k e^{x_k},}
#' for a vector, or for each row (`margin = 1`) or column (`margin = 2`) of
#' a matrix, computed without overflow or underflow as
#' \eqn{m + \mathrm{log1p}(\sum_{x_k < m} e^{x_k - m} + c - 1)}, where
#' \eqn{m} is the largest entry and \eqn{c} the number of entries equal to
#' it (Blanchard, Higham and Higham 2021). The `log1p()` keeps full relative
#' precision when one term dominates. Long rows and columns are summed with
#' compensation, so the error does not grow with their length.
#'
#' With `weights` \eqn{b_k \ge 0} (SciPy's `b`), \eqn{m} is the largest
#' entry with a positive weight, \eqn{c} the sum of the weights of the
#' entries equal to it, and the terms are \eqn{b_k e^{x_k - m}}. An entry
#' with weight 0 is left out whatever its value (even `NA` or `Inf`), so
#' weights of 0 and 1 select entries: `logsumexp(x, weights = x > 0)`.
#'
#' @param x Numeric vector (one set of values) or matrix (one set per row,
#'   or per column with `margin = 2`). Integer and logical are coerced.
#' @param margin 1 for rows (the default), 2 for columns. Ignored for a
#'   vector.
#' @param weights `NULL` (the default, every weight 1) or non-negative
#'   finite weights: a vector with one weight per entry of a row (length
#'   `ncol(x)`, margin 1) or of a column (length `nrow(x)`, margin 2),
#'   shared by every row (or column); or a matrix of the shape of `x`, one
#'   weight per entry. For a vector `x`, a vector of the same length. An `NA`
#'   (or `NaN`) weight is a missing value like one in `x`.
#' @param na.rm If `TRUE`, `NA` and `NaN` entries (of `x` or `weights`) are
#'   dropped; if `FALSE` (the default) a row with an `NA` gives `NA`, and one
#'   with a `NaN` (and no `NA`) gives `NaN`.
#' @return A single number for a vector; for a matrix, one value per row
#'   (or column), named by the row (or column) names. A row whose entries are
#'   all `-Inf` (or that is empty) gives `-Inf`; a row with a `+Inf` gives
#'   `Inf`.
#' @references Blanchard, P., Higham, D. J. and Higham, N. J. (2021).
#'   Accurately computing the log-sum-exp and softmax functions. *IMA Journal
#'   of Numerical Analysis* 41(4), 2311-2330.
#' @family normalisers
#' @seealso `matrixStats::rowLogSumExps()`.
#' @export
#' @examples
#' # the textbook formula overflows; logsumexp() does not
#' x <- c(1000, 1000)
#' c(log(sum(exp(x))), logsumexp(x))
#'
#' # one value per row of a score matrix
#' scores <- matrix(c(2, 0, -1, 1, 3, -Inf), 2, byrow = TRUE,
#'                  dimnames = list(c("obs1", "obs2"), NULL))
#' logsumexp(scores)
#' logsumexp(scores, margin = 2)
#'
#' # tiny contributions are kept: log(1 + 1e-20) is 1e-20, not 0
#' logsumexp(c(0, -46.0517))
#' logsumexp(c(NA, 1, 2), na.rm = TRUE)
#'
#' # weights: log(2 e^1000 + 3 e^999) without overflow, and a log-mean-exp
#' logsumexp(c(1000, 999), weights = c(2, 3))
#' logsumexp(c(-1000, -1001, -1002), weights = rep(1 / 3, 3))
#' # one weight per column, shared by the rows
#' logsumexp(scores, weights = c(1, 0.5, 0))
logsumexp <- function(x, margin = 1, weights = NULL, na.rm = FALSE) {
  # one .Call for what C can answer (src/normalise.cpp); NULL: R's checks
  # say why, or normalise the arguments for the same entry
  out <- .Call(xentropy_logsumexp, x, margin, weights, na.rm, FALSE)
  if (!is.null(out)) return(out)
  if (!is.double(x) || is.object(x) || length(dim(x)) > 2L) x <- check_numeric_matrix(x)
  if (!is.numeric(margin) || length(margin) != 1L || is.na(margin) ||
      (margin != 1 && margin != 2)) {
    margin <- check_margin(margin)
  }
  if (!is.logical(na.rm) || length(na.rm) != 1L || is.na(na.rm)) na.rm <- check_flag(na.rm)
  if (!is.null(weights)) weights <- check_lse_weights(weights, x, margin, sys.call())$weights
  # (a 1-d array, e.g. a table, is a vector: one number)
  .Call(xentropy_logsumexp, x, margin, weights, na.rm, TRUE)
}

# Weights of logsumexp(): non-negative finite (NA/NaN allowed: missing), one
# per entry of a row (margin 1) or column (margin 2), or x's shape.
check_lse_weights <- function(weights, x, margin, call) {
  weights <- check_numeric(weights, "weights", call)
  if (is.matrix(x)) {
    n_class <- if (margin == 1L) ncol(x) else nrow(x)
    if (is.matrix(weights) && identical(dim(weights), dim(x))) {
      per_class <- FALSE
    } else if (!is.matrix(weights) && length(weights) == n_class) {
      per_class <- TRUE
    } else {
      given <- if (is.matrix(weights)) {
        sprintf("a %.0f x %.0f matrix", nrow(weights), ncol(weights))
      } else {
        sprintf("length %.0f", length(weights))
      }
      abort(sprintf(
        "`weights` must have one weight per %s of `x` (%.0f) or the shape of `x` (%.0f x %.0f), not %s.",
        if (margin == 1L) "column" else "row", n_class, nrow(x), ncol(x), given
      ), call, argument = "weights", class = "xentropy_error_shape")
    }
  } else {
    if (length(weights) != length(x)) {
      abort(sprintf(
        "`weights` must have the length of `x` (%.0f), not length %.0f.",
        length(x), length(weights)
      ), call, argument = "weights", class = "xentropy_error_length")
    }
    per_class <- TRUE
  }
  bad <- which(weights < 0 | is.infinite(weights))
  if (length(bad)) {
    abort(sprintf(
      "`weights` must be non-negative finite numbers; found %s at position %.0f.",
      format(weights[bad[1]], digits = 15), bad[1]
    ), call, argument = "weights", position = bad[1], value = weights[bad[1]], class = "xentropy_error_invalid_value")
  }
  list(weights = weights, per_class = per_class)
}

#' Softmax and log-softmax
#'
#' The normalised exponential (Bishop 2006, eq. 4.62): for scores \eqn{x}
#' and a temperature \eqn{T},
#' \deqn{\mathrm{softmax}(x)_k = \frac{e^{x_k / T}}{\sum_j e^{x_j / T}},
#'   \qquad \mathrm{log\_softmax}(x)_k = \frac{x_k}{T} -
#'   \mathrm{logsumexp}(x / T),}
#' over a vector, or over each row (`margin = 1`) or column (`margin = 2`)
#' of a matrix. With \eqn{x_k = \log p(x \mid C_k) p(C_k)} the softmax is the
#' posterior probability \eqn{p(C_k \mid x)} of class \eqn{k}.
#'
#' Both shift by the largest entry first, so nothing overflows:
#' `softmax(c(1000, 1000, -Inf))` is `c(0.5, 0.5, 0)`. `log_softmax()` never
#' takes the log of a rounded probability, so it stays exact where
#' `log(softmax(x))` gives `-Inf`. Entries equal to `+Inf` are treated as the
#' limit of equal large scores: they share the probability equally and the
#' other entries get 0. A row whose entries are all `-Inf` gives `NaN`, since
#' its limit depends on how the scores went to `-Inf`.
#'
#' @inheritParams logsumexp
#' @param temperature A positive number \eqn{T} dividing the scores: large
#'   values flatten the distribution, small values sharpen it towards the
#'   largest score.
#' @return A double vector or matrix of the same shape as `x`, attributes
#'   kept. Each row (or column, or the vector) of `softmax()` sums to 1. In a
#'   row containing `NA` (or `NaN`), those entries are kept as they are and
#'   the others become `NA` (or `NaN`).
#' @family normalisers
#' @export
#' @examples
#' scores <- rbind(a = c(2, 1, 0), b = c(1000, 1000, -Inf))
#' p <- softmax(scores)
#' p
#' rowSums(p)
#'
#' # temperature: flatter (T > 1) or sharper (T < 1)
#' softmax(c(2, 1, 0), temperature = 5)
#' softmax(c(2, 1, 0), temperature = 0.2)
#'
#' # log-softmax stays finite where log(softmax()) does not
#' x <- c(0, -800)
#' log(softmax(x))
#' log_softmax(x)
#'
#' # column-wise
#' softmax(matrix(1:6, 3), margin = 2)
softmax <- function(x, margin = 1, temperature = 1) {
  out <- .Call(xentropy_softmax, x, margin, temperature, FALSE)
  if (!is.null(out)) return(out)
  if (!is.double(x) || is.object(x) || length(dim(x)) > 2L) x <- check_numeric_matrix(x)
  if (!is.numeric(margin) || length(margin) != 1L || is.na(margin) ||
      (margin != 1 && margin != 2)) {
    margin <- check_margin(margin)
  }
  if (!is.double(temperature) || length(temperature) != 1L ||
      is.object(temperature) || is.na(temperature) || temperature <= 0 ||
      temperature == Inf) {
    temperature <- check_temperature(temperature)
  }
  .Call(xentropy_softmax, x, margin, temperature, TRUE)
}

#' @rdname softmax
#' @export
log_softmax <- function(x, margin = 1, temperature = 1) {
  out <- .Call(xentropy_log_softmax, x, margin, temperature, FALSE)
  if (!is.null(out)) return(out)
  if (!is.double(x) || is.object(x) || length(dim(x)) > 2L) x <- check_numeric_matrix(x)
  if (!is.numeric(margin) || length(margin) != 1L || is.na(margin) ||
      (margin != 1 && margin != 2)) {
    margin <- check_margin(margin)
  }
  if (!is.double(temperature) || length(temperature) != 1L ||
      is.object(temperature) || is.na(temperature) || temperature <= 0 ||
      temperature == Inf) {
    temperature <- check_temperature(temperature)
  }
  .Call(xentropy_log_softmax, x, margin, temperature, TRUE)
}

#' Log of one minus an exponential, and log of a difference of exponentials
#'
#' \deqn{\mathrm{log1mexp}(x) = \log(1 - e^{-x}), \quad x \ge 0, \qquad
#'   \mathrm{logdiffexp}(a, b) = \log(e^a - e^b), \quad a \ge b,}
#' the subtracting companions of [softplus()] (`log(1 + exp(x))`) and
#' [logsumexp()]. Written directly, both fail: `log(1 - exp(-x))` is `-Inf`
#' for `x` below 1e-16 (where the value is about `log(x)`) and loses every
#' digit for large `x` (where it is about `-exp(-x)`); `log(exp(a) - exp(b))`
#' overflows for `a` above 709.
#'
#' `log1mexp()` follows Maechler (2012): `log(-expm1(-x))` for
#' \eqn{x \le \log 2} and `log1p(-exp(-x))` above, each with the rounding
#' error of the exponential carried into the logarithm.
#' `logdiffexp(a, b)` is `a + log1mexp(a - b)`, with the rounding errors of
#' `a - b` and of the final sum carried as well, so that it stays exact where
#' the result is much smaller than `a` (`logdiffexp(log(3), log(2))` is
#' `log(1)`, up to the rounding of the inputs). Both are within 2 units in
#' the last place of the exact value over the whole range of doubles (the
#' tests check this against 200-bit \pkg{Rmpfr}); for `logdiffexp()` where
#' the result is not a near-total cancellation of `a` (an error growing
#' like `|a| / |result|` times 2^-60 relative to `a`).
#'
#' @param x Numeric vector, matrix or array, \eqn{x \ge 0}.
#' @param a,b Numeric vectors, matrices or arrays, \eqn{a \ge b}, recycled to
#'   the longer as in base R arithmetic (with its warning when the longer
#'   length is not a multiple of the shorter).
#' @return A double vector of the shape of `x` (for `logdiffexp()`, of the
#'   longer of `a` and `b`, or of `a` when they are as long and `a` has
#'   attributes), attributes kept. `log1mexp(0)` is `-Inf` and
#'   `log1mexp(Inf)` is 0; `logdiffexp(a, a)` is `-Inf` (also for
#'   `a = -Inf`), `logdiffexp(a, -Inf)` is `a`, and `logdiffexp(Inf, Inf)` is
#'   `NaN`. Where `x < 0` (or `a < b`) the result is `NaN` with a warning, as
#'   [log()] gives for negative numbers. `NA` stays `NA` and `NaN` stays
#'   `NaN` (an `NA` in either of `a` and `b` gives `NA`).
#' @references Maechler, M. (2012). Accurately computing log(1 - exp(-|a|)).
#'   Vignette of the \pkg{Rmpfr} package.
#' @family normalisers
#' @export
#' @examples
#' # tiny and large x: the direct formula gives -Inf and loses all digits
#' x <- c(1e-20, 1, 50)
#' cbind(direct = log(1 - exp(-x)), log1mexp = log1mexp(x))
#'
#' # a difference of huge exponentials
#' logdiffexp(1000, 999)          # 1000 + log(1 - exp(-1))
#' logdiffexp(c(a = 1, b = 2), 0) # recycled, names kept
#'
#' # the probability of an interval from log-CDF values, far in the tail
#' logdiffexp(pnorm(-40, log.p = TRUE), pnorm(-41, log.p = TRUE))
#' log(pnorm(-40) - pnorm(-41))
log1mexp <- function(x) {
  out <- .Call(xentropy_log1mexp, x, FALSE)
  if (is.double(out)) return(out)
  if (is.null(out)) {
    out <- .Call(xentropy_log1mexp, check_numeric(x), TRUE)
    if (is.double(out)) return(out)
  }
  # only x < 0 turns a non-missing value into NaN
  warned(out, sys.call())
}

#' @rdname log1mexp
#' @export
logdiffexp <- function(a, b) {
  out <- .Call(xentropy_logdiffexp, a, b, FALSE)
  if (is.double(out)) return(out)
  if (is.null(out)) {
    if (!is.double(a) || is.object(a)) a <- check_numeric(a)
    if (!is.double(b) || is.object(b)) b <- check_numeric(b)
    out <- .Call(xentropy_logdiffexp, a, b, TRUE)
    if (is.double(out)) return(out)
  }
  warned(out, sys.call())
}
