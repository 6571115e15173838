#' Cross-entropy losses for classifiers
#'
#' The mean (or sum, or per-observation) negative log-likelihood of targets
#' under a classifier's predictions: for observation \eqn{i} with target
#' distribution \eqn{t_i} (one-hot for a label) and predicted probabilities
#' \eqn{p_i},
#' \deqn{\ell_i = -\sum_k t_{ik} \log p_{ik},}
#' the per-sample cross-entropy of Bishop (2006, eq. 4.108).
#' `cross_entropy_loss()` takes probabilities; `softmax_cross_entropy()`
#' takes logits (scores) \eqn{z_i} with \eqn{p_i = \mathrm{softmax}(z_i)}
#' and computes \eqn{\ell_i = \sum_k t_{ik} (\mathrm{logsumexp}(z_i) -
#' z_{ik})} without forming probabilities, so it is exact and finite for
#' logits of \eqn{\pm 10^{10}}. `binary_cross_entropy()` and
#' `sigmoid_cross_entropy()` are the two-class versions, with
#' \eqn{\ell_i = -[y_i \log p_i + (1 - y_i) \log(1 - p_i)]} and
#' \eqn{p_i = \sigma(z_i)}; the latter uses [softplus()]:
#' \eqn{\ell_i = w_+ y_i\, \mathrm{softplus}(-z_i) + (1 - y_i)\,
#' \mathrm{softplus}(z_i)}.
#'
#' Conventions: \eqn{0 \log 0 = 0}, so classes with target 0 add nothing;
#' a true class predicted with probability 0 costs `Inf` (nothing is clipped:
#' there is no `eps`). With `weights`, `"sum"` is \eqn{\sum_i w_i \ell_i},
#' `"mean"` the weighted mean \eqn{\sum_i w_i \ell_i / \sum_i w_i} (as
#' yardstick and PyTorch define it) and `"none"` gives \eqn{w_i \ell_i}.
#' `label_smoothing` \eqn{\epsilon} replaces the targets by
#' \eqn{(1 - \epsilon) t_i + \epsilon / K}, and `pos_weight` multiplies the
#' loss of positive targets, both as in PyTorch. `mean(cross_entropy(T, P))`
#' equals `cross_entropy_loss(labels, P)` for the one-hot matrix `T` of the
#' labels, and `softmax_cross_entropy(y, Z)` equals
#' `cross_entropy_loss(y, softmax(Z))`.
#'
#' Each loss is one pass over the predictions in C++ and allocates only its
#' result.
#'
#' @param y Targets. For the categorical losses: a factor (its levels are
#'   the classes, matched to `colnames()` of the predictions when they have
#'   them), integer labels in 1..K, or an n x K matrix of target
#'   probabilities (one-hot or soft). For the binary losses: 0/1, logical,
#'   probabilities in \[0, 1\], or a two-level factor whose second level is
#'   the positive class (as in [glm()]).
#' @param prob Predicted probabilities: an n x K matrix (one row per
#'   observation, one column per class; a vector is one observation) for
#'   `cross_entropy_loss()`, or a vector of probabilities of the positive
#'   class for `binary_cross_entropy()` (length n, or 1 for all).
#' @param logits Scores before the softmax (an n x K matrix) or the sigmoid
#'   (a vector of length n).
#' @param weights `NULL`, or one non-negative weight per observation.
#' @param reduction `"mean"` (the default), `"sum"` or `"none"` (one loss
#'   per observation).
#' @param na.rm If `TRUE`, observations whose loss is `NA`/`NaN` are left out
#'   (of the sum and of the weights' total); if `FALSE`, the result is `NA`.
#' @param label_smoothing A number \eqn{\epsilon} in \[0, 1\].
#' @param pos_weight A positive number multiplying the loss of the positive
#'   class.
#' @return A number, or with `reduction = "none"` one loss per observation.
#'   An observation with an `NA` target or prediction has loss `NA` (`NaN`
#'   for `NaN`).
#' @references Bishop, C. M. (2006). *Pattern Recognition and Machine
#'   Learning*, sections 4.3.2 and 4.3.4. Springer.
#' @family losses
#' @seealso [softmax_cross_entropy_grad()] for the gradients; [cross_entropy()]
#'   for one cross-entropy per distribution.
#' @export
#' @examples
#' # three observations, three classes
#' Z <- rbind(c(2, 0, -1), c(0.5, 1.5, 0), c(-1, 0, 3))
#' colnames(Z) <- c("cat", "dog", "bird")
#' y <- factor(c("cat", "dog", "bird"), levels = colnames(Z))
#' softmax_cross_entropy(y, Z)
#' cross_entropy_loss(y, softmax(Z))        # the same, through probabilities
#' softmax_cross_entropy(y, Z, reduction = "none")
#' softmax_cross_entropy(y, Z, label_smoothing = 0.1)
#'
#' # it is the mean cross-entropy between one-hot targets and predictions
#' onehot <- diag(3)
#' mean(cross_entropy(onehot, softmax(Z)))
#'
#' # binary: from logits stays exact where probabilities round to 0 or 1
#' z <- c(-40, 0, 40)
#' y01 <- c(1, 1, 0)
#' sigmoid_cross_entropy(y01, z, reduction = "none")
#' binary_cross_entropy(y01, sigmoid(z), reduction = "none")
#' sigmoid_cross_entropy(1, -1e10)
#'
#' # a two-level factor: the second level is the positive class, as in glm()
#' outcome <- factor(c("no", "yes", "yes"), levels = c("no", "yes"))
#' binary_cross_entropy(outcome, c(0.2, 0.7, 0.9))
cross_entropy_loss <- function(y, prob, weights = NULL,
                               reduction = c("mean", "sum", "none"),
                               na.rm = FALSE) {
  categorical_loss(0L, y, prob, "prob", weights, reduction, na.rm, 0, sys.call())
}

#' @rdname cross_entropy_loss
#' @export
softmax_cross_entropy <- function(y, logits, weights = NULL,
                                  reduction = c("mean", "sum", "none"),
                                  na.rm = FALSE, label_smoothing = 0) {
  categorical_loss(1L, y, logits, "logits", weights, reduction, na.rm,
                   label_smoothing, sys.call())
}

#' @rdname cross_entropy_loss
#' @export
binary_cross_entropy <- function(y, prob, weights = NULL,
                                 reduction = c("mean", "sum", "none"),
                                 na.rm = FALSE) {
  binary_loss(0L, y, prob, "prob", weights, reduction, na.rm, 1, sys.call())
}

#' @rdname cross_entropy_loss
#' @export
sigmoid_cross_entropy <- function(y, logits, weights = NULL,
                                  reduction = c("mean", "sum", "none"),
                                  na.rm = FALSE, pos_weight = 1) {
  binary_loss(1L, y, logits, "logits", weights, reduction, na.rm, pos_weight,
              sys.call())
}

#' Gradients of the cross-entropy losses with respect to the logits
#'
#' For the softmax cross-entropy, the gradient of observation \eqn{i}'s loss
#' with respect to its logits is \eqn{\mathrm{softmax}(z_i) - t_i} (Bishop
#' 2006, eq. 4.109); for the sigmoid cross-entropy it is
#' \eqn{\sigma(z_i) - y_i} (eq. 4.91), or
#' \eqn{(1 - y_i)\sigma(z_i) - w_+ y_i \sigma(-z_i)} with `pos_weight`
#' \eqn{w_+}. These functions return the gradient of the loss computed by
#' [softmax_cross_entropy()] and [sigmoid_cross_entropy()] with the same
#' arguments: each observation's gradient is multiplied by its weight, and
#' for `"mean"` divided by the total weight. With `"none"` each row is the
#' gradient of that observation's own (weighted) loss.
#'
#' Together with the losses they make fitting a softmax (multinomial
#' logistic) regression with [optim()] a few lines: see the example.
#'
#' @inheritParams cross_entropy_loss
#' @return A matrix (or vector) of the shape of `logits`, attributes kept.
#'   Observations with an `NA` target or logit have `NA` gradients, or 0
#'   with `na.rm = TRUE`.
#' @family losses
#' @export
#' @examples
#' Z <- rbind(c(2, 0, -1), c(0.5, 1.5, 0))
#' y <- c(1, 2)
#' softmax_cross_entropy_grad(y, Z)
#' (softmax(Z) - diag(3)[y, ]) / 2          # the same
#'
#' # fit a multinomial logistic regression to iris with optim()
#' X <- cbind(1, scale(as.matrix(iris[, 1:4])))
#' y <- iris$Species
#' K <- nlevels(y)
#' loss <- function(w) softmax_cross_entropy(y, X %*% matrix(w, ncol = K))
#' grad <- function(w) {
#'   crossprod(X, softmax_cross_entropy_grad(y, X %*% matrix(w, ncol = K)))
#' }
#' fit <- optim(numeric(ncol(X) * K), loss, grad, method = "BFGS")
#' fit$value
#' mean(max.col(X %*% matrix(fit$par, ncol = K)) == as.integer(y))
softmax_cross_entropy_grad <- function(y, logits, weights = NULL,
                                       reduction = c("mean", "sum", "none"),
                                       na.rm = FALSE, label_smoothing = 0) {
  categorical_loss(2L, y, logits, "logits", weights, reduction, na.rm,
                   label_smoothing, sys.call())
}

#' @rdname softmax_cross_entropy_grad
#' @export
sigmoid_cross_entropy_grad <- function(y, logits, weights = NULL,
                                       reduction = c("mean", "sum", "none"),
                                       na.rm = FALSE, pos_weight = 1) {
  binary_loss(2L, y, logits, "logits", weights, reduction, na.rm, pos_weight,
              sys.call())
}

categorical_loss <- function(kind, y, pred, pred_arg, weights, reduction,
                             na.rm, label_smoothing, call) {
  pred <- as_prediction_matrix(pred, pred_arg, call)
  y <- as_categorical_targets(y, pred, "y", pred_arg, call)
  weights <- check_weights(weights, nrow(pred), call)
  red <- check_reduction(reduction, call)
  na.rm <- check_flag(na.rm, "na.rm", call)
  label_smoothing <- check_number(
    label_smoothing, "label_smoothing", "a single number in [0, 1]",
    function(e) e >= 0 && e <= 1, call
  )
  out <- categorical_loss_impl(kind, y, pred, weights, red, na.rm,
                               label_smoothing, thread_count())
  what <- c(if (is.matrix(y)) "target probabilities in [0, 1]" else
              sprintf("class labels in 1..%.0f (the columns of `%s`)", ncol(pred), pred_arg),
            if (kind == 0L) "probabilities in [0, 1]" else "logits")
  report_invalid(out, c("y", pred_arg), list(y, pred), what, call)
  if (red == 2L && kind != 2L) names(out) <- rownames(pred)
  out
}

binary_loss <- function(kind, y, pred, pred_arg, weights, reduction, na.rm,
                        pos_weight, call) {
  target <- as_binary_targets(y, "y", call)
  pred <- check_numeric(pred, pred_arg, call)
  n <- length(target$y)
  if (length(pred) != n && !(kind == 0L && length(pred) == 1L)) {
    abort(sprintf("`y` has %.0f values but `%s` has %.0f.", n, pred_arg, length(pred)), call)
  }
  weights <- check_weights(weights, n, call)
  red <- check_reduction(reduction, call)
  na.rm <- check_flag(na.rm, "na.rm", call)
  pos_weight <- check_number(pos_weight, "pos_weight", "a single positive finite number",
                             function(w) w > 0 && w < Inf, call)
  out <- binary_loss_impl(kind, target$y, target$offset, pred, weights, red,
                          na.rm, pos_weight, thread_count())
  what <- c("0/1 or probabilities in [0, 1]", "probabilities in [0, 1]")
  report_invalid(out, c("y", pred_arg), list(y, pred), what, call)
  if (red == 2L && kind != 2L) names(out) <- names(pred)
  out
}
