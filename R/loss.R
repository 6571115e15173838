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
#' loss of positive targets, both as in PyTorch. Weights that are all 0 give
#' a `"mean"` of `NaN` (0 / 0, as [weighted.mean()]); `"sum"` is then 0. `mean(cross_entropy(T, P))`
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
#' @param class_weights `NULL`, or one non-negative weight \eqn{c_k} per class
#'   (column of the predictions; named weights are matched to the column
#'   names), PyTorch's `weight`: each class term is multiplied by its weight,
#'   \eqn{\ell_i = -\sum_k c_k t_{ik} \log p_{ik}}. With labels, `"mean"`
#'   divides by the total weight of the observed classes,
#'   \eqn{\sum_i w_i c_{y_i} \ell_i / \sum_i w_i c_{y_i}} (as PyTorch); with a
#'   target matrix it divides by \eqn{\sum_i w_i}.
#' @return A number, or with `reduction = "none"` one loss per observation,
#'   named by the row names of the predictions (categorical), or by the names
#'   of `y`, else of the predictions when there is one per observation
#'   (binary). An observation with an `NA` target or prediction has loss `NA`
#'   (`NaN` for `NaN`, a `NaN` label included).
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
                               na.rm = FALSE, class_weights = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_cross_entropy_loss, y, prob, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, class_weights, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- categorical_args(y, prob, "prob", weights, reduction, na.rm, class_weights, call)
  if (is.null(out)) {
    out <- .Call(xentropy_cross_entropy_loss, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 a$class_weights, TRUE)
  }
  categorical_result(out, a, "prob", "probabilities in [0, 1]", call)
}

#' @rdname cross_entropy_loss
#' @export
softmax_cross_entropy <- function(y, logits, weights = NULL,
                                  reduction = c("mean", "sum", "none"),
                                  na.rm = FALSE, label_smoothing = 0,
                                  class_weights = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_softmax_cross_entropy, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm,
               label_smoothing, class_weights, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- categorical_args(y, logits, "logits", weights, reduction, na.rm, class_weights, call)
  label_smoothing <- check_label_smoothing(label_smoothing, call)
  if (is.null(out)) {
    out <- .Call(xentropy_softmax_cross_entropy, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 label_smoothing, a$class_weights, TRUE)
  }
  categorical_result(out, a, "logits", "logits", call)
}

#' @rdname cross_entropy_loss
#' @export
binary_cross_entropy <- function(y, prob, weights = NULL,
                                 reduction = c("mean", "sum", "none"),
                                 na.rm = FALSE) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_binary_cross_entropy, y, prob, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- binary_args(y, prob, "prob", weights, reduction, na.rm, call, shared = TRUE)
  if (is.null(out)) {
    out <- .Call(xentropy_binary_cross_entropy, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 TRUE)
  }
  binary_result(out, a, "prob", call)
}

#' @rdname cross_entropy_loss
#' @export
sigmoid_cross_entropy <- function(y, logits, weights = NULL,
                                  reduction = c("mean", "sum", "none"),
                                  na.rm = FALSE, pos_weight = 1) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_sigmoid_cross_entropy, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, pos_weight, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- binary_args(y, logits, "logits", weights, reduction, na.rm, call)
  pos_weight <- check_pos_weight(pos_weight, call)
  if (is.null(out)) {
    out <- .Call(xentropy_sigmoid_cross_entropy, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 pos_weight, TRUE)
  }
  binary_result(out, a, "logits", call)
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
#'   with `na.rm = TRUE` (with `"mean"` and no observation left, every
#'   gradient is `NaN`, as the mean loss is: 0 / 0).
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
                                       na.rm = FALSE, label_smoothing = 0,
                                       class_weights = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_softmax_cross_entropy_grad, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm,
               label_smoothing, class_weights, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- categorical_args(y, logits, "logits", weights, reduction, na.rm, class_weights, call)
  label_smoothing <- check_label_smoothing(label_smoothing, call)
  if (is.null(out)) {
    out <- .Call(xentropy_softmax_cross_entropy_grad, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 label_smoothing, a$class_weights, TRUE)
  }
  vector_shaped(categorical_result(out, a, "logits", "logits", call), logits)
}

#' @rdname softmax_cross_entropy_grad
#' @export
sigmoid_cross_entropy_grad <- function(y, logits, weights = NULL,
                                       reduction = c("mean", "sum", "none"),
                                       na.rm = FALSE, pos_weight = 1) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_sigmoid_cross_entropy_grad, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, pos_weight, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- binary_args(y, logits, "logits", weights, reduction, na.rm, call)
  pos_weight <- check_pos_weight(pos_weight, call)
  if (is.null(out)) {
    out <- .Call(xentropy_sigmoid_cross_entropy_grad, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 pos_weight, TRUE)
  }
  binary_result(out, a, "logits", call)
}

# The arguments every categorical loss shares, checked: predictions as an
# n x K matrix, targets, weights, class weights, the reduction as a string.
categorical_args <- function(y, pred, pred_arg, weights, reduction, na.rm,
                             class_weights, call) {
  pred <- as_prediction_matrix(pred, pred_arg, call)
  list(y = as_categorical_targets(y, pred, "y", pred_arg, call), pred = pred,
       y_given = y,
       weights = if (!is.null(weights)) check_weights(weights, nrow(pred), call),
       class_weights = if (!is.null(class_weights)) {
         check_class_weights(class_weights, pred, pred_arg, call)
       },
       reduction = check_reduction(reduction, call),
       na.rm = check_flag(na.rm, "na.rm", call))
}

# A gradient for a vector of logits (one observation) has the vector's shape and
# names, not the 1 x K matrix the kernels took.
vector_shaped <- function(out, logits) {
  if (is.matrix(out) && is.null(dim(logits))) {
    out <- as.vector(out)
    names(out) <- names(logits)
  }
  out
}

# The answer of a categorical loss's entry: a value, or list(flagged result)
# reported as the error it is.
categorical_result <- function(out, a, pred_arg, pred_what, call) {
  if (is.double(out)) return(out)
  # the message is built on the error path only
  what <- c(if (is.matrix(a$y)) "target probabilities in [0, 1]" else
              sprintf("class labels in 1..%.0f (the columns of `%s`)", ncol(a$pred), pred_arg),
            pred_what)
  report_invalid(out[[1L]], c("y", pred_arg), list(a$y_given, a$pred), what, call)
}

# The arguments every binary loss shares, checked. `shared`: one prediction
# may serve every observation.
binary_args <- function(y, pred, pred_arg, weights, reduction, na.rm, call,
                        shared = FALSE) {
  target <- as_binary_targets(y, "y", call)
  if (!is.double(pred) || is.object(pred)) pred <- check_numeric(pred, pred_arg, call)
  n <- length(target$y)
  if (length(pred) != n && !(shared && length(pred) == 1L)) {
    abort(sprintf("`y` has %.0f values but `%s` has %.0f.", n, pred_arg, length(pred)),
          call, class = "xentropy_error_length", argument = pred_arg)
  }
  list(y = target$y, offset = target$offset, y_given = y, pred = pred, n = n,
       weights = if (!is.null(weights)) check_weights(weights, n, call),
       reduction = check_reduction(reduction, call),
       na.rm = check_flag(na.rm, "na.rm", call))
}

# The answer of a binary loss's entry: a value, or list(flagged result)
# reported as the error it is.
binary_result <- function(out, a, pred_arg, call) {
  if (is.double(out)) return(out)
  report_invalid(out[[1L]], c("y", pred_arg), list(a$y_given, a$pred),
                 c("0/1 or probabilities in [0, 1]",
                   if (pred_arg == "prob") "probabilities in [0, 1]" else "logits"), call)
}

check_label_smoothing <- function(label_smoothing, call) {
  if (is.double(label_smoothing) && length(label_smoothing) == 1L &&
      !is.object(label_smoothing) && !is.na(label_smoothing) &&
      label_smoothing >= 0 && label_smoothing <= 1) {
    return(label_smoothing)
  }
  check_number(label_smoothing, "label_smoothing", "a single number in [0, 1]",
               function(e) e >= 0 && e <= 1, call)
}

check_pos_weight <- function(pos_weight, call) {
  if (is.double(pos_weight) && length(pos_weight) == 1L && !is.object(pos_weight) &&
      !is.na(pos_weight) && pos_weight > 0 && pos_weight < Inf) {
    return(pos_weight)
  }
  check_number(pos_weight, "pos_weight", "a single positive finite number",
               function(w) w > 0 && w < Inf, call)
}

#' Focal losses from logits
#'
#' The focal loss of Lin et al. (2017) down-weights observations the model
#' already classifies well, by the modulating factor \eqn{(1 - p_t)^\gamma}.
#' `sigmoid_focal_loss()` is the binary version as torchvision's
#' `sigmoid_focal_loss()` defines it: with \eqn{p = \sigma(z_i)},
#' \eqn{p_t = p y_i + (1 - p)(1 - y_i)} and
#' \eqn{\alpha_t = \alpha y_i + (1 - \alpha)(1 - y_i)},
#' \deqn{\ell_i = \alpha_t (1 - p_t)^\gamma \,
#'   [y_i\, \mathrm{softplus}(-z_i) + (1 - y_i)\, \mathrm{softplus}(z_i)],}
#' i.e. \eqn{\alpha_t (1 - p_t)^\gamma} times [sigmoid_cross_entropy()]
#' (\eqn{\alpha_t = 1} when `alpha` is `NULL`). `softmax_focal_loss()` is the
#' multi-class version, \eqn{\ell_i = -\alpha \sum_k t_{ik} (1 -
#' p_{ik})^\gamma \log p_{ik}} with \eqn{p_i = \mathrm{softmax}(z_i)} (as
#' kornia's `focal_loss()`; \eqn{\alpha = 1} when `alpha` is `NULL`).
#'
#' With `gamma = 0` and no `alpha` they equal [sigmoid_cross_entropy()] and
#' [softmax_cross_entropy()] exactly. Neither forms a probability: the
#' factor is \eqn{\exp(\gamma \log(1 - p_t))} with \eqn{\log(1 - p_t)}
#' computed from the logits (\eqn{\log\sigma(-z)} for a positive target, and
#' \eqn{\log(1 - \mathrm{softmax}(z)_k)} without cancellation), so the
#' losses and gradients are exact and finite for logits of
#' \eqn{\pm 10^{10}}. `NA` and `NaN` targets or logits give `NA` and `NaN`
#' losses (dropped with `na.rm = TRUE`); weights and reductions are those of
#' [sigmoid_cross_entropy()].
#'
#' The gradients with respect to the logits: for the sigmoid version
#' \eqn{\alpha_t (1 - p_t)^\gamma [\gamma (1 - 2y) r\, \mathrm{CE} + \sigma(z)
#' - y]} with \eqn{r = \sigma(z)\sigma(-z) / (1 - p_t)}; for the softmax
#' version \eqn{p_j \sum_k a_k - a_j} with \eqn{a_k = \alpha t_k (1 -
#' p_k)^\gamma (1 - \gamma p_k \log p_k / (1 - p_k))}.
#'
#' @inheritParams cross_entropy_loss
#' @param y Targets: for `sigmoid_focal_loss()` 0/1, logical, probabilities
#'   in \[0, 1\] or a two-level factor; for `softmax_focal_loss()` a factor,
#'   labels 1..K or an n x K target matrix.
#' @param logits Logits: a vector (sigmoid) or an n x K matrix (softmax).
#' @param gamma The focusing parameter \eqn{\gamma \ge 0}.
#' @param alpha `NULL`, or a number in \[0, 1\]: the weight of the positive
#'   class (sigmoid; negatives get \eqn{1 - \alpha}), or a factor on every
#'   term (softmax).
#' @return A number, or with `reduction = "none"` one loss per observation;
#'   the gradients have the shape of `logits`.
#' @references Lin, T.-Y., Goyal, P., Girshick, R., He, K. and Dollar, P.
#'   (2017). Focal loss for dense object detection. *ICCV*, 2980-2988.
#' @family losses
#' @export
#' @examples
#' z <- c(-3, -1, 0, 2, 5)
#' y <- c(0, 0, 1, 1, 1)
#' sigmoid_focal_loss(y, z, reduction = "none")
#' sigmoid_cross_entropy(y, z, reduction = "none")   # easy examples count less above
#' sigmoid_focal_loss(y, z, gamma = 0) == sigmoid_cross_entropy(y, z)
#' sigmoid_focal_loss(1, -1e10, gamma = 2)           # exact: 1e10
#'
#' Z <- rbind(c(2, 0, -1), c(0.5, 1.5, 0), c(-1, 0, 3))
#' softmax_focal_loss(c(1, 2, 3), Z, reduction = "none")
#' softmax_focal_loss_grad(c(1, 2, 3), Z)
sigmoid_focal_loss <- function(y, logits, weights = NULL,
                               reduction = c("mean", "sum", "none"),
                               na.rm = FALSE, gamma = 2, alpha = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_sigmoid_focal_loss, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, gamma, alpha, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- binary_args(y, logits, "logits", weights, reduction, na.rm, call)
  gamma <- check_gamma(gamma, call)
  if (!is.null(alpha)) alpha <- check_alpha(alpha, call, -1)
  if (is.null(out)) {
    out <- .Call(xentropy_sigmoid_focal_loss, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 gamma, alpha, TRUE)
  }
  binary_result(out, a, "logits", call)
}

#' @rdname sigmoid_focal_loss
#' @export
softmax_focal_loss <- function(y, logits, weights = NULL,
                               reduction = c("mean", "sum", "none"),
                               na.rm = FALSE, gamma = 2, alpha = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_softmax_focal_loss, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, gamma, alpha, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- categorical_args(y, logits, "logits", weights, reduction, na.rm, NULL, call)
  gamma <- check_gamma(gamma, call)
  if (!is.null(alpha)) alpha <- check_alpha(alpha, call, 1)
  if (is.null(out)) {
    out <- .Call(xentropy_softmax_focal_loss, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 gamma, alpha, TRUE)
  }
  categorical_result(out, a, "logits", "logits", call)
}

#' @rdname sigmoid_focal_loss
#' @export
sigmoid_focal_loss_grad <- function(y, logits, weights = NULL,
                                    reduction = c("mean", "sum", "none"),
                                    na.rm = FALSE, gamma = 2, alpha = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_sigmoid_focal_loss_grad, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, gamma, alpha, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- binary_args(y, logits, "logits", weights, reduction, na.rm, call)
  gamma <- check_gamma(gamma, call)
  if (!is.null(alpha)) alpha <- check_alpha(alpha, call, -1)
  if (is.null(out)) {
    out <- .Call(xentropy_sigmoid_focal_loss_grad, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 gamma, alpha, TRUE)
  }
  binary_result(out, a, "logits", call)
}

#' @rdname sigmoid_focal_loss
#' @export
softmax_focal_loss_grad <- function(y, logits, weights = NULL,
                                    reduction = c("mean", "sum", "none"),
                                    na.rm = FALSE, gamma = 2, alpha = NULL) {
  # one .Call for what C can answer (src/loss.cpp; a missing reduction goes
  # as "mean": forcing the default vector costs more than a small loss);
  # otherwise R's checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_softmax_focal_loss_grad, y, logits, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, gamma, alpha, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  a <- categorical_args(y, logits, "logits", weights, reduction, na.rm, NULL, call)
  gamma <- check_gamma(gamma, call)
  if (!is.null(alpha)) alpha <- check_alpha(alpha, call, 1)
  if (is.null(out)) {
    out <- .Call(xentropy_softmax_focal_loss_grad, a$y, a$pred, a$weights, a$reduction, a$na.rm,
                 gamma, alpha, TRUE)
  }
  vector_shaped(categorical_result(out, a, "logits", "logits", call), logits)
}

check_gamma <- function(gamma, call) {
  check_number(gamma, "gamma", "a single non-negative finite number",
               function(g) g >= 0 && g < Inf, call)
}

# `alpha`: NULL (then `none`, what the kernel takes for "no alpha") or a
# number in [0, 1].
check_alpha <- function(alpha, call, none) {
  if (is.null(alpha)) return(none)
  check_number(alpha, "alpha", "NULL or a single number in [0, 1]",
               function(a) a >= 0 && a <= 1, call)
}
