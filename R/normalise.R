#' Log-sum-exp
#'
#' \deqn{\mathrm{logsumexp}(x) = \log \sum_k e^{x_k},}
#' for a vector, or for each row (`margin = 1`) or column (`margin = 2`) of
#' a matrix, computed without overflow or underflow as
#' \eqn{m + \mathrm{log1p}(\sum_{x_k < m} e^{x_k - m} + c - 1)}, where
#' \eqn{m} is the largest entry and \eqn{c} the number of entries equal to
#' it (Blanchard, Higham and Higham 2021). The `log1p()` keeps full relative
#' precision when one term dominates.
#'
#' @param x Numeric vector (one set of values) or matrix (one set per row,
#'   or per column with `margin = 2`). Integer and logical are coerced.
#' @param margin 1 for rows (the default), 2 for columns. Ignored for a
#'   vector.
#' @param na.rm If `TRUE`, `NA` and `NaN` entries are dropped; if `FALSE`
#'   (the default) a row with an `NA` gives `NA`, and one with a `NaN` (and no
#'   `NA`) gives `NaN`.
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
logsumexp <- function(x, margin = 1, na.rm = FALSE) {
  x <- check_numeric_matrix(x)
  margin <- check_margin(margin)
  na.rm <- check_flag(na.rm)
  out <- logsumexp_impl(x, margin, na.rm, thread_count())
  if (is.matrix(x)) names(out) <- dimnames(x)[[margin]]
  out
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
  x <- check_numeric_matrix(x)
  margin <- check_margin(margin)
  temperature <- check_temperature(temperature)
  softmax_impl(x, margin, temperature, FALSE, thread_count())
}

#' @rdname softmax
#' @export
log_softmax <- function(x, margin = 1, temperature = 1) {
  x <- check_numeric_matrix(x)
  margin <- check_margin(margin)
  temperature <- check_temperature(temperature)
  softmax_impl(x, margin, temperature, TRUE, thread_count())
}
