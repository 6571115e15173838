#' xentropy: exact and fast sigmoid, softmax, likelihood, entropy and
#' cross-entropy
#'
#' Numerically exact building blocks of classification, computed in
#' header-only C++ kernels (`inst/include/xentropy.h`) that other packages
#' can use with `LinkingTo: xentropy` (`vignette("cpp-api", package =
#' "xentropy")`). The families:
#'
#' * Link functions: [sigmoid()], [logit()], [log_sigmoid()], [softplus()],
#'   and [log1mexp()], [logdiffexp()].
#' * Normalisers: [logsumexp()], [softmax()], [log_softmax()].
#' * Information measures: [entropy()], [cross_entropy()],
#'   [kl_divergence()].
#' * Likelihoods: [loglik_bernoulli()], [loglik_categorical()],
#'   [loglik_multinomial()], [mle_categorical()].
#' * Losses and gradients: [cross_entropy_loss()],
#'   [softmax_cross_entropy()], [binary_cross_entropy()],
#'   [sigmoid_cross_entropy()], their gradients
#'   [softmax_cross_entropy_grad()], [sigmoid_cross_entropy_grad()], and the
#'   focal losses [sigmoid_focal_loss()], [softmax_focal_loss()] with
#'   [sigmoid_focal_loss_grad()], [softmax_focal_loss_grad()].
#' * Fitting: [logistic_regression()], [softmax_regression()] and their
#'   [predict()][predict.xentropy_fit()] method.
#' * Calibration: [brier_score()], [calibration_error()],
#'   [reliability_table()], [top_k_accuracy()], [temperature_scaling()].
#' * Threads: [xentropy_threads()].
#'
#' Every function follows the same conventions: numeric (double, integer or
#' logical) vectors, matrices or arrays in; elementwise results keep the
#' input's attributes; `NA` stays `NA` and `NaN` stays `NaN`; a matrix holds
#' one observation per row and one class per column, and `margin = 2` works
#' per column instead; any other input is an error that names the argument.
#' Errors and warnings are conditions of documented classes
#' ([xentropy_conditions]), so code can catch them by class.
#' Kernels run on [xentropy_threads()] threads and give the same result for
#' any thread count.
#'
#' The vignettes derive each function: `vignette(package = "xentropy")`.
#'
#' @keywords internal
#' @useDynLib xentropy, .registration = TRUE
#' @importFrom Rcpp sourceCpp
"_PACKAGE"
