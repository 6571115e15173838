#' xentropy: exact and fast sigmoid, softmax, likelihood, entropy and
#' cross-entropy
#'
#' Link functions ([sigmoid()], [logit()], [log_sigmoid()], [softplus()]),
#' normalisers ([logsumexp()], [softmax()], [log_softmax()]) and the
#' information measures, likelihoods and losses built on them, computed in
#' header-only C++ kernels (`inst/include/xentropy.h`) that other packages
#' can use with `LinkingTo: xentropy`.
#'
#' Every function follows the same conventions: numeric (double, integer or
#' logical) vectors, matrices or arrays in; elementwise results keep the
#' input's attributes; `NA` stays `NA` and `NaN` stays `NaN`; a matrix holds
#' one observation per row and one class per column, and `margin = 2` works
#' per column instead; any other input is an error that names the argument.
#' Kernels run on [xentropy_threads()] threads and give the same result for
#' any thread count.
#'
#' The vignettes derive each function: `vignette(package = "xentropy")`.
#'
#' @keywords internal
#' @useDynLib xentropy, .registration = TRUE
#' @importFrom Rcpp sourceCpp
"_PACKAGE"
