#' Entropy, cross-entropy and Kullback-Leibler divergence
#'
#' For discrete distributions \eqn{p} and \eqn{q} over \eqn{K} classes:
#' \deqn{H(p) = -\sum_k p_k \log p_k, \qquad H(p, q) = -\sum_k p_k \log q_k,}
#' \deqn{\mathrm{KL}(p \,\|\, q) = \sum_k p_k \log\frac{p_k}{q_k} = H(p, q) - H(p)
#'   \ge 0.}
#' \eqn{H(p)} is the average length of an ideal code for data from \eqn{p};
#' \eqn{H(p, q)} is the average length when the code was built for \eqn{q}
#' instead, and the divergence is the cost of that mistake. With
#' `base = 2` the unit is bits.
#'
#' A vector is one distribution; for a matrix there is one distribution per
#' row (`margin = 1`, one observation per row and one class per column) or
#' per column (`margin = 2`). One of `p` and `q` may be a vector of the
#' length of a distribution: it is then used for every row (or column) of the
#' other. No averaging is done: see [cross_entropy_loss()] for the mean over
#' observations.
#'
#' The limits are respected: \eqn{0 \log 0 = 0}, so a class with
#' \eqn{p_k = 0} adds nothing whatever \eqn{q_k} is, and \eqn{p_k > 0} with
#' \eqn{q_k = 0} gives `Inf`. The distributions are not required to sum to
#' 1 (nor rescaled), but every value must lie in \[0, 1\]. The divergence is
#' summed as \eqn{p \log(p / q)}, so it is exactly 0 when `p` equals `q`.
#'
#' @param p,q Numeric vectors (one distribution) or matrices (one per row, or
#'   per column with `margin = 2`) of probabilities in \[0, 1\].
#' @param base Base of the logarithm: `exp(1)` (nats, the default) or `2`
#'   (bits), or any positive number other than 1.
#' @param margin 1 (rows, the default) or 2 (columns). Ignored for vectors.
#' @param na.rm If `TRUE`, classes where `p` or `q` is `NA`/`NaN` are left
#'   out of the sum; if `FALSE` (the default) the result is `NA` (or `NaN`).
#' @return One value per distribution: a number for vectors, a vector
#'   named by the rows (or columns) for matrices.
#' @family information measures
#' @export
#' @examples
#' # the weather example: four equally likely outcomes need 2 bits ...
#' entropy(rep(1/4, 4), base = 2)
#' # ... and merging two of them saves half a bit on average
#' entropy(c(1/4, 1/4, 1/2), base = 2)
#'
#' # coding data from p with a code built for q costs H(p, q) >= H(p)
#' p <- c(1/4, 1/4, 1/2)
#' q <- c(1/2, 1/4, 1/4)
#' cross_entropy(p, q, base = 2)
#' kl_divergence(p, q, base = 2)
#' cross_entropy(p, q, base = 2) - entropy(p, base = 2)
#'
#' # one distribution per row; q shared by all rows
#' P <- rbind(fair = rep(1/6, 6), loaded = c(0.5, rep(0.1, 5)))
#' entropy(P)
#' kl_divergence(P, rep(1/6, 6))
#'
#' # limits: 0 log 0 = 0, and a class q deems impossible costs Inf
#' entropy(c(1, 0))
#' cross_entropy(c(0.5, 0.5), c(1, 0))
entropy <- function(p, base = exp(1), margin = 1, na.rm = FALSE) {
  # one .Call for what C can answer (src/information.cpp); otherwise R's
  # checks say why, or normalise the arguments for the same entry
  out <- .Call(xentropy_entropy, p, base, margin, na.rm, FALSE)
  if (is.double(out)) return(out)
  information("entropy", out, p, NULL, base, margin, na.rm, sys.call())
}

#' @rdname entropy
#' @export
cross_entropy <- function(p, q, base = exp(1), margin = 1, na.rm = FALSE) {
  # one .Call for what C can answer (src/information.cpp); otherwise R's
  # checks say why, or normalise the arguments for the same entry
  out <- .Call(xentropy_cross_entropy, p, q, base, margin, na.rm, FALSE)
  if (is.double(out)) return(out)
  information("cross_entropy", out, p, q, base, margin, na.rm, sys.call())
}

#' @rdname entropy
#' @export
kl_divergence <- function(p, q, base = exp(1), margin = 1, na.rm = FALSE) {
  # one .Call for what C can answer (src/information.cpp); otherwise R's
  # checks say why, or normalise the arguments for the same entry
  out <- .Call(xentropy_kl_divergence, p, q, base, margin, na.rm, FALSE)
  if (is.double(out)) return(out)
  information("kl_divergence", out, p, q, base, margin, na.rm, sys.call())
}

# The checks of entropy(), cross_entropy() and kl_divergence() (`measure`:
# the function's name), for an answer `out` that is NULL (the entry could not
# answer: the checks say why, or normalise p and q for a second call) or
# list(flagged result) (an invalid value, reported here).
information <- function(measure, out, p, q, base, margin, na.rm, call) {
  two <- measure != "entropy"
  if (!is.double(p) || is.object(p) || length(dim(p)) > 2L) {
    p <- check_numeric_matrix(p, "p", call)
  }
  if (two && (!is.double(q) || is.object(q) || length(dim(q)) > 2L)) {
    q <- check_numeric_matrix(q, "q", call)
  }
  if (!is.double(base) || length(base) != 1L || is.object(base) ||
      is.na(base) || base <= 0 || base == Inf || base == 1) {
    base <- check_base(base, call)
  }
  if (!is.numeric(margin) || length(margin) != 1L || is.na(margin) ||
      (margin != 1 && margin != 2)) {
    margin <- check_margin(margin, call = call)
  }
  if (!is.logical(na.rm) || length(na.rm) != 1L || is.na(na.rm)) {
    na.rm <- check_flag(na.rm, "na.rm", call)
  }
  if (is.null(out)) {
    if (is.matrix(p) || is.matrix(q) || (two && length(q) != length(p))) {
      measure_layout(p, q, margin, c("p", "q"), call)
    }
    out <- switch(measure,
      entropy = .Call(xentropy_entropy, p, base, margin, na.rm, TRUE),
      cross_entropy = .Call(xentropy_cross_entropy, p, q, base, margin, na.rm, TRUE),
      kl_divergence = .Call(xentropy_kl_divergence, p, q, base, margin, na.rm, TRUE)
    )
    if (is.double(out)) return(out)
  }
  report_invalid(out[[1L]], c("p", "q"), list(p, q),
                 rep("probabilities in [0, 1]", 2), call)
}

# How the kernels walk p and q: number of distributions (observations) and
# classes, each operand's strides per observation and per class, and whether
# the classes of one observation are adjacent in memory. A vector operand is
# one distribution, shared by every observation of a matrix operand. Messages
# are built on the error path only.
measure_layout <- function(p, q, margin, args, call) {
  p_matrix <- is.matrix(p)
  q_matrix <- is.matrix(q)
  if (!p_matrix && !q_matrix) {
    # one distribution (the small-call case)
    n <- length(p)
    if (!is.null(q) && length(q) != n) layout_mismatch(p, q, margin, args, call)
    return(c(1, n, 0, 1, if (is.null(q)) c(0, 0) else c(0, 1), 1))
  }
  if (p_matrix && q_matrix && !identical(dim(p), dim(q))) {
    abort(sprintf("`%s` is %.0f x %.0f but `%s` is %.0f x %.0f: the matrices must have the same shape.",
                  args[1], nrow(p), ncol(p), args[2], nrow(q), ncol(q)), call, class = "xentropy_error_shape", argument = args[2])
  }
  lead <- if (p_matrix) p else q
  d <- dim(lead)
  by_row <- margin == 1L
  nobs <- if (by_row) d[1L] else d[2L]
  nclass <- if (by_row) d[2L] else d[1L]
  matrix_strides <- if (by_row) c(1, d[1L]) else c(d[1L], 1)
  sp <- if (p_matrix) matrix_strides else if (length(p) == nclass) c(0, 1)
  sq <- if (is.null(q)) c(0, 0) else if (q_matrix) matrix_strides else if (length(q) == nclass) c(0, 1)
  if (is.null(sp) || is.null(sq)) layout_mismatch(p, q, margin, args, call)
  c(nobs, nclass, sp, sq, margin == 2L)
}

# The error of measure_layout() for a vector whose length is not the number
# of classes.
layout_mismatch <- function(p, q, margin, args, call) {
  q_leads <- !is.matrix(p) && is.matrix(q)
  lead <- if (q_leads) q else p
  if (is.matrix(lead)) {
    by_row <- margin == 1L
    nclass <- if (by_row) ncol(lead) else nrow(lead)
    unit <- sprintf("%s of `%s`", if (by_row) "columns" else "rows",
                    if (q_leads) args[2] else args[1])
  } else {
    nclass <- length(lead)
    unit <- sprintf("elements in `%s`", args[1])
  }
  bad <- if (q_leads) 1L else 2L  # the vector operand
  x <- if (bad == 1L) p else q
  abort(sprintf("`%s` has %.0f elements but there are %.0f %s: the distributions must have the same length.",
                args[bad], length(x), nclass, unit), call, class = "xentropy_error_length", argument = args[bad])
}

# Names of the result: the row (or column) names of the matrix operand.
measure_names <- function(p, q, margin) {
  lead <- if (is.matrix(p)) p else q
  dimnames(lead)[[margin]]
}
