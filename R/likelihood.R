#' Log-likelihoods of Bernoulli, categorical and multinomial data
#'
#' The log-likelihood of observed data under given probabilities, the first
#' step of the derivation likelihood \eqn{\to} log-likelihood \eqn{\to}
#' cross-entropy:
#' \deqn{\log L_{\mathrm{Bern}} = \sum_i y_i \log p_i + (1 - y_i) \log(1 - p_i),}
#' \deqn{\log L_{\mathrm{Cat}} = \sum_i \log p_{i, y_i} = \sum_i \sum_k t_{ik}
#'   \log p_{ik},}
#' \deqn{\log L_{\mathrm{Mult}} = \log\frac{N!}{\prod_k n_k!} + \sum_k n_k \log p_k.}
#' Their negatives divided by the number of observations are the mean
#' cross-entropy losses: `-loglik_categorical(y, P) / length(y)` equals
#' `cross_entropy_loss(y, P)`.
#'
#' `loglik_bernoulli()` equals `sum(dbinom(y, 1, prob, log = TRUE))` and
#' `loglik_multinomial()` equals `dmultinom(counts, prob = prob, log = TRUE)`,
#' with the same conventions: \eqn{0 \log 0 = 0}, and an outcome of
#' probability 0 gives `-Inf`. As `dmultinom()` does, `loglik_multinomial()`
#' rescales `prob` to sum to 1; `full = FALSE` drops the multinomial
#' coefficient, leaving \eqn{\sum_k n_k \log p_k}, the part that depends on
#' the probabilities.
#'
#' @param y For `loglik_bernoulli()`: 0/1, logical, a two-level factor
#'   (second level = success), or probabilities in \[0, 1\] (soft outcomes).
#'   For `loglik_categorical()`: a factor (levels matched to `colnames(prob)`
#'   when it has them) or integer labels in 1..K.
#' @param prob For `loglik_bernoulli()`: success probabilities, one per
#'   observation or one for all. For `loglik_categorical()`: an n x K matrix
#'   of class probabilities, or a vector of K probabilities shared by all
#'   observations. For `loglik_multinomial()`: non-negative numbers, a vector
#'   of length K, or a matrix of the shape of `counts`.
#' @param counts Non-negative whole numbers: a vector of K counts, or a
#'   matrix with one set of counts per row.
#' @param full If `TRUE` (the default), include the multinomial
#'   coefficient \eqn{\log(N! / \prod_k n_k!)}.
#' @param na.rm If `TRUE`, observations with `NA` are left out.
#' @return A number (for `loglik_multinomial()` with a matrix, one per row).
#' @family likelihoods
#' @export
#' @examples
#' # a coin: 7 heads in 10 throws
#' y <- c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1)
#' loglik_bernoulli(y, 0.7)
#' sum(dbinom(y, 1, 0.7, log = TRUE))
#'
#' # a die thrown 20 times
#' throws <- c(3, 1, 6, 6, 2, 5, 4, 6, 1, 3, 6, 2, 5, 6, 4, 1, 6, 3, 2, 6)
#' counts <- tabulate(throws, nbins = 6)
#' loglik_multinomial(counts, rep(1/6, 6))
#' dmultinom(counts, prob = rep(1/6, 6), log = TRUE)
#' loglik_categorical(throws, rep(1/6, 6))          # = 20 * log(1/6)
#'
#' # the maximum-likelihood estimate beats any other probabilities
#' p_hat <- mle_categorical(factor(throws, levels = 1:6))
#' loglik_categorical(throws, p_hat) > loglik_categorical(throws, rep(1/6, 6))
loglik_bernoulli <- function(y, prob, na.rm = FALSE) {
  # one .Call for what C can answer (src/loss.cpp); otherwise R's checks say
  # why, or shape the arguments for the same entry
  out <- .Call(xentropy_loglik_bernoulli, y, prob, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- binary_args(y, prob, "prob", NULL, "sum", na.rm, call, shared = TRUE)
  if (is.null(out)) out <- .Call(xentropy_loglik_bernoulli, a$y, a$pred, a$na.rm, TRUE)
  binary_result(out, a, "prob", call)
}

#' @rdname loglik_bernoulli
#' @export
loglik_categorical <- function(y, prob, na.rm = FALSE) {
  out <- .Call(xentropy_loglik_categorical, y, prob, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  if (is.matrix(prob)) {
    a <- categorical_args(y, prob, "prob", NULL, "sum", na.rm, NULL, call)
    if (is.null(out)) out <- .Call(xentropy_loglik_categorical, a$y, a$pred, a$na.rm, TRUE)
    return(categorical_result(out, a, "prob", "probabilities in [0, 1]", call))
  }
  # one distribution for every observation: the labels are read in place
  # (a compact sequence such as seq_len(n) is never expanded)
  prob <- check_numeric(prob, "prob", call)
  na.rm <- check_flag(na.rm, "na.rm", call)
  pm <- matrix(prob, 1L, dimnames = list(NULL, names(prob)))
  y_given <- y
  y <- as_categorical_targets(y, pm, "y", "prob", call, check_length = FALSE)
  if (is.matrix(y)) {
    abort("`y` must be a factor or integer labels when `prob` is a vector.", call,
          class = "xentropy_error_argument", argument = "y")
  }
  if (is.factor(y)) y <- unclass_factor(y)
  if (is.null(out)) {
    out <- .Call(xentropy_loglik_categorical, y, prob, na.rm, TRUE)
    if (is.double(out)) return(out)
  }
  report_invalid(out[[1L]], c("y", "prob"), list(y_given, prob),
                 c(sprintf("class labels in 1..%.0f (the length of `prob`)", length(prob)),
                   "probabilities in [0, 1]"), call)
}

#' @rdname loglik_bernoulli
#' @export
loglik_multinomial <- function(counts, prob, full = TRUE) {
  # one .Call for what C can answer (src/information.cpp); otherwise R's
  # checks say why, or normalise the arguments for the same entry
  out <- .Call(xentropy_loglik_multinomial, counts, prob, full, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  counts <- check_numeric_matrix(counts, "counts", call)
  prob <- check_numeric_matrix(prob, "prob", call)
  full <- check_flag(full, "full", call)
  measure_layout(counts, prob, 1L, c("counts", "prob"), call)
  if (is.null(out)) {
    out <- .Call(xentropy_loglik_multinomial, counts, prob, full, TRUE)
    if (is.double(out)) return(out)
  }
  # the kernel adds log N! and rescales prob to sum to 1 (as dmultinom),
  # flagging an invalid value or a prob that sums to 0
  out <- out[[1L]]
  report_invalid(out, c("counts", "prob"), list(counts, prob),
                 c("non-negative whole numbers", "non-negative finite numbers"),
                 call)
  abort("`prob` must not be all 0.", call, class = "xentropy_error_invalid_value", argument = "prob")
}

#' Maximum-likelihood estimate of categorical probabilities
#'
#' The probabilities \eqn{\hat y_k} that maximise the categorical
#' log-likelihood \eqn{\sum_k n_k \log y_k} subject to \eqn{\sum_k y_k = 1}
#' are the relative frequencies \eqn{\hat y_k = n_k / N} (a Lagrange
#' multiplier gives \eqn{n_k / y_k = \lambda}, and the constraint gives
#' \eqn{\lambda = N}).
#'
#' @param y A factor (every level is a class, including levels that were not
#'   observed) or integer labels in 1..K.
#' @param K Number of classes for integer labels; by default the largest
#'   label. Ignored for factors.
#' @param na.rm If `TRUE`, `NA` observations are dropped; if `FALSE` (the
#'   default) any `NA` gives `NA` estimates.
#' @return A named numeric vector of K relative frequencies (names: the
#'   levels, or 1..K), equal to `prop.table(table(y))` when every class is
#'   observed.
#' @family likelihoods
#' @export
#' @examples
#' throws <- c(3, 1, 6, 6, 2, 5, 4, 6, 1, 3, 6, 2, 5, 6, 4, 1, 6, 3, 2, 6)
#' mle_categorical(throws)
#' prop.table(table(throws))
#'
#' # unobserved levels of a factor get probability 0
#' mle_categorical(factor(c("a", "a", "b"), levels = c("a", "b", "c")))
mle_categorical <- function(y, K = NULL, na.rm = FALSE) {
  # one .Call for what C can answer (src/information.cpp); otherwise R's
  # checks say why, from the label counts the entry made (list(counts))
  out <- .Call(xentropy_mle_categorical, y, K, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  if (!identical(na.rm, FALSE)) na.rm <- check_flag(na.rm, "na.rm", call)
  if (is.factor(y)) {
    # the codes are counted in place (tabulate() skips NA)
    lev <- levels(y)
    codes <- unclass_factor(y)
    n_na <- if (anyNA(codes)) sum(is.na(codes)) else 0
    counts <- tabulate(codes, nbins = length(lev))
  } else if (is.numeric(y) && !is.object(y) && is.null(dim(y))) {
    # one pass in C++: the labels checked and counted without copying y
    if (is.null(out)) {
      out <- .Call(xentropy_mle_categorical, y, K, na.rm, TRUE)
      if (is.double(out)) return(out)
    }
    counts <- out[[1L]]
    bad <- attr(counts, "xentropy_invalid", exact = TRUE)
    if (!is.null(bad)) {
      abort(sprintf("`y` must contain class labels 1, 2, ...; found %s at position %.0f.",
                    format(y[bad]), bad), call, class = "xentropy_error_invalid_value", argument = "y")
    }
    n_na <- attr(counts, "n_na", exact = TRUE)
    attributes(counts) <- NULL
    largest <- length(counts)
    if (is.null(K)) {
      K <- largest
    } else {
      K <- check_number(K, "K", "a single whole number >= the largest label",
                        function(k) k >= 0 && k == round(k) && k >= largest,
                        call)
      if (K > largest) counts <- c(counts, numeric(K - largest))
    }
    lev <- as.character(seq_len(K))
  } else {
    abort(sprintf("`y` must be a factor or integer labels, not %s.%s", friendly_type(y),
                  if (is.character(y)) " Use factor(y) for character labels." else ""),
          call, class = "xentropy_error_type", argument = "y")
  }
  if (n_na > 0) {
    if (!na.rm) return(structure(rep(NA_real_, length(lev)), names = lev))
  }
  structure(counts / (length(y) - n_na), names = lev)
}
