#' The logistic sigmoid and its relatives
#'
#' Elementwise link functions of logistic regression and neural networks:
#' \deqn{\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad
#'   \mathrm{logit}(p) = \log\frac{p}{1 - p},}
#' \deqn{\log\sigma(x) = -\log(1 + e^{-x}), \qquad
#'   \mathrm{softplus}(x) = \log(1 + e^{x}).}
#' `sigmoid()` is the inverse of `logit()`, `log_sigmoid(x)` is
#' `-softplus(-x)`, and `1 - sigmoid(x)` is `sigmoid(-x)` (Bishop 2006, eqs.
#' 4.59-4.61).
#'
#' Every result is within 2 units in the last place (ulp) of the exact value
#' over the whole range of doubles, subnormal results included (the package's
#' tests check this against 200-bit arithmetic from \pkg{Rmpfr}). Base R is
#' less exact at the edges: `plogis(-710)` returns 0 although the answer is
#' about 4.4e-309, and `qlogis(p)` loses about 8 significant digits for `p`
#' within 1e-9 of 1/2, where `logit()` computes `log1p(d) - log1p(-d)` with
#' the exact `d = 2p - 1`. `log_sigmoid()` and `softplus()` never overflow or
#' round to `-Inf`: `log_sigmoid(-1e10)` is `-1e10` and `softplus(1e10)` is
#' `1e10`, following Maechler's (2012) `log1pexp()`.
#'
#' @param x Numeric vector, matrix or array (integer and logical are
#'   coerced to double).
#' @param p Numeric vector, matrix or array of probabilities.
#' @return A double vector, matrix or array of the same shape as the input,
#'   with its attributes (names, dim, dimnames) kept, as [exp()] does.
#'   `NA` stays `NA` and `NaN` stays `NaN`. `logit()` maps 0 to `-Inf` and 1
#'   to `Inf`; values outside \[0, 1\] give `NaN` with a warning, as
#'   [qlogis()] does.
#' @references
#' Bishop, C. M. (2006). *Pattern Recognition and Machine Learning*,
#' section 4.2. Springer.
#'
#' Maechler, M. (2012). Accurately computing log(1 - exp(-|a|)). Vignette of
#' the \pkg{Rmpfr} package.
#' @family link functions
#' @seealso [plogis()] and [qlogis()] in base R; [softmax()] for more than
#'   two classes.
#' @export
#' @examples
#' sigmoid(c(-5, 0, 5))
#' logit(sigmoid(c(-5, 0, 5)))
#'
#' # the symmetry sigma(-a) = 1 - sigma(a)
#' a <- 2.5
#' c(sigmoid(-a), 1 - sigmoid(a))
#'
#' # shapes and names are kept
#' sigmoid(matrix(c(a = -1, b = 0, c = 1, d = 2), 2,
#'                dimnames = list(c("r1", "r2"), c("c1", "c2"))))
#'
#' # far in the tails, the textbook formulas fail and these do not
#' c(plogis(-710), sigmoid(-710))
#' c(log(plogis(-800)), log_sigmoid(-800))
#' c(log(1 + exp(800)), softplus(800))
#'
#' # near 1/2, qlogis() loses digits; logit() keeps them
#' p <- 0.5 + 1e-12
#' c(qlogis(p), logit(p))
sigmoid <- function(x) {
  # one .Call for what C can answer (src/link.cpp); NULL: R's checks say why,
  # or normalise x (a classed number) for the same entry
  out <- .Call(xentropy_sigmoid, x, FALSE)
  if (is.null(out)) out <- .Call(xentropy_sigmoid, check_numeric(x), TRUE)
  out
}

#' @rdname sigmoid
#' @export
logit <- function(p) {
  out <- .Call(xentropy_logit, p, FALSE)
  if (is.double(out)) return(out)
  if (is.null(out)) {
    out <- .Call(xentropy_logit, check_numeric(p), TRUE)
    if (is.double(out)) return(out)
  }
  # only inputs outside [0, 1] turn a non-missing value into NaN
  warned(out, sys.call())
}

#' @rdname sigmoid
#' @export
log_sigmoid <- function(x) {
  out <- .Call(xentropy_log_sigmoid, x, FALSE)
  if (is.null(out)) out <- .Call(xentropy_log_sigmoid, check_numeric(x), TRUE)
  out
}

#' @rdname sigmoid
#' @export
softplus <- function(x) {
  out <- .Call(xentropy_softplus, x, FALSE)
  if (is.null(out)) out <- .Call(xentropy_softplus, check_numeric(x), TRUE)
  out
}
