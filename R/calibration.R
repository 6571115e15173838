# Evaluating and calibrating probabilistic classifiers: Brier score,
# calibration error, reliability tables and diagrams, top-k accuracy,
# temperature and Platt scaling. The kernels are in
# inst/include/xentropy/calibration.hpp; targets are read as the losses read
# them (R/targets.R).

#' Brier score of probabilistic predictions
#'
#' The mean squared distance between predicted probabilities and the
#' targets (Brier 1950): for observation \eqn{i} with predicted
#' probabilities \eqn{p_i} over \eqn{K} classes and target \eqn{t_i} (the
#' one-hot row of its label, or target probabilities),
#' \deqn{b_i = \sum_k (p_{ik} - t_{ik})^2,}
#' which lies in \[0, 2\]: 0 for a certain, correct prediction and 2 for a
#' certain, wrong one. For two classes given as a vector of probabilities of
#' the positive class, \eqn{b_i = (p_i - y_i)^2} in \[0, 1\] (the usual binary
#' Brier score, half the two-class sum). It is a strictly proper scoring
#' rule: its expectation is smallest when the predictions are the true
#' probabilities. Reductions and weights work as in [cross_entropy_loss()]:
#' `"mean"` is \eqn{\sum_i w_i b_i / \sum_i w_i}.
#'
#' One pass over the predictions in C++; nothing of their size is allocated
#' (except the result with `reduction = "none"`).
#'
#' @param y Targets. With an n x K matrix of predictions: a factor (levels
#'   matched to `colnames(prob)` when it has them), integer labels in 1..K,
#'   or an n x K matrix of target probabilities. With a vector of
#'   predictions (two classes): 0/1, logical, probabilities in \[0, 1\], or a
#'   two-level factor whose second level is the positive class (as in
#'   [glm()]).
#' @param prob Predicted probabilities: an n x K matrix whose rows sum to 1
#'   (within an absolute tolerance of \eqn{10^{-6}}), or a vector of
#'   probabilities of the positive class (two classes). Unlike
#'   [cross_entropy_loss()], a vector here means n observations of a binary
#'   classifier.
#' @inheritParams cross_entropy_loss
#' @return A number, or with `reduction = "none"` one score per observation.
#'   `NA` (`NaN`) when a target or prediction is `NA` (`NaN`) and `na.rm` is
#'   `FALSE`.
#' @references Brier, G. W. (1950). Verification of forecasts expressed in
#'   terms of probability. *Monthly Weather Review* 78(1), 1-3.
#' @family calibration
#' @export
#' @examples
#' P <- rbind(c(0.7, 0.2, 0.1), c(0.1, 0.8, 0.1), c(1, 0, 0))
#' y <- c(1, 2, 3)
#' brier_score(y, P, reduction = "none")    # the last is certain and wrong: 2
#' brier_score(y, P)
#'
#' # binary: probabilities of the positive class
#' brier_score(c(1, 0, 1), c(0.9, 0.2, 0.6))
#' mean((c(0.9, 0.2, 0.6) - c(1, 0, 1))^2)  # the same
brier_score <- function(y, prob, weights = NULL,
                        reduction = c("mean", "sum", "none"), na.rm = FALSE) {
  # one .Call for what C can answer (src/calibration.cpp; a missing
  # reduction goes as "mean": forcing the default vector costs more than a
  # small loss); otherwise R's checks say why, or shape the arguments for the
  # same entry
  out <- .Call(xentropy_brier_score, y, prob, weights,
               if (missing(reduction)) "mean" else reduction, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  inp <- calibration_inputs(y, prob, "prob", weights, na.rm, call)
  reduction <- check_reduction(reduction, call)
  if (is.null(out)) {
    out <- .Call(xentropy_brier_score, inp$y, inp$prob, inp$weights, reduction, inp$na.rm,
                 TRUE)
    if (is.double(out)) return(out)
  }
  report_calibration_invalid(out[[1L]], inp, y, call)
}

#' Calibration error of probabilistic predictions
#'
#' How far predicted probabilities are from the frequencies they predict,
#' estimated by binning. Confidences and outcomes are formed by `type`:
#' * `"top-label"` (the usual ECE of Guo et al. 2017): the confidence of
#'   observation \eqn{i} is \eqn{c_i = \max_k p_{ik}}, the outcome
#'   \eqn{o_i = t_{i a_i}} is 1 when the predicted class \eqn{a_i} (the
#'   first maximum, as [which.max()]) is the label (with target
#'   probabilities: the target probability of \eqn{a_i}). For two classes
#'   given as a vector \eqn{p}, \eqn{c_i = \max(p_i, 1 - p_i)}, the class
#'   being the positive one when \eqn{p_i > 1/2}.
#' * `"classwise"` (Kull et al. 2019): every class \eqn{k} separately, with
#'   confidences \eqn{p_{ik}} and outcomes \eqn{t_{ik}}; the \eqn{K} classes'
#'   bins share the weight equally. For two classes given as a vector, only
#'   the positive class is binned (the usual binary reliability diagram:
#'   \eqn{p_i} against \eqn{y_i}).
#'
#' Bins (`binning`), for \eqn{B} = `bins`:
#' * `"equal-width"`: bin \eqn{b} is \eqn{((b-1)/B, b/B]} (Guo et al. 2017;
#'   Naeini et al. 2015), a confidence of exactly 0 going to the first; the
#'   bin of \eqn{c} is \eqn{\lceil cB \rceil} computed in floating point.
#' * `"equal-mass"` (adaptive bins, Nixon et al. 2019): the edges are the
#'   order statistics of (0-based) rank \eqn{\lfloor bN/B \rfloor},
#'   \eqn{b = 1, \dots, B-1}, of the \eqn{N} confidences, and \eqn{c} goes to
#'   bin \eqn{1 + \#\{\text{edges} \le c\}}: each bin holds \eqn{N/B}
#'   confidences when there are no ties; tied confidences always share a
#'   bin. Edges depend on the counts, not on `weights`.
#'
#' With \eqn{W_b} the total weight in bin \eqn{b} (its count without
#' weights), \eqn{W} the total weight, \eqn{\bar c_b} and \eqn{\bar o_b} the
#' weighted mean confidence and outcome in the bin, `norm` gives
#' * `"l1"`: \eqn{\sum_b (W_b/W) |\bar o_b - \bar c_b|}, the expected
#'   calibration error (ECE) of Naeini et al. (2015) and Guo et al. (2017);
#'   classwise, Kull et al.'s classwise-ECE \eqn{\frac1K \sum_k \sum_b
#'   (W_{kb}/W) |\bar o_{kb} - \bar c_{kb}|};
#' * `"l2"`: \eqn{\sqrt{\sum_b (W_b/W) (\bar o_b - \bar c_b)^2}}, the
#'   \eqn{\ell_2} calibration error of Kumar et al. (2019) (classwise: the
#'   same over all class-bin cells with weights \eqn{W_{kb}/(KW)});
#' * `"max"`: \eqn{\max_b |\bar o_b - \bar c_b|} over non-empty bins, the
#'   maximum calibration error (MCE) of Naeini et al. (2015) (classwise: over
#'   all cells).
#'
#' Binned estimates are biased upwards for small samples (Kumar et al.
#' 2019): a perfectly calibrated model shows an ECE of order
#' \eqn{\sqrt{B/N}}, which shrinks as \eqn{N} grows.
#'
#' Equal-width bins take one pass over the predictions in C++, allocating
#' only the per-bin sums; equal-mass bins take a second pass and a copy of
#' the \eqn{N} confidences (one column at a time for `"classwise"`), whose
#' quantiles are found by a counting pass over value buckets and
#' `std::nth_element` within the buckets that hold them. Results
#' do not depend on the thread count.
#'
#' @inheritParams brier_score
#' @param bins Number of bins \eqn{B}, a whole number >= 1.
#' @param type `"top-label"` or `"classwise"`, see Details.
#' @param binning `"equal-width"` or `"equal-mass"`.
#' @param norm `"l1"` (ECE), `"l2"` or `"max"` (MCE).
#' @param weights `NULL`, or one non-negative weight per observation.
#' @param na.rm If `TRUE`, observations with an `NA`/`NaN` target or
#'   prediction are left out; if `FALSE` the result is `NA` (`NaN`).
#' @return A number in \[0, 1\].
#' @references
#' Guo, C., Pleiss, G., Sun, Y. and Weinberger, K. Q. (2017). On calibration
#'   of modern neural networks. *ICML*, PMLR 70, 1321-1330.
#'
#' Naeini, M. P., Cooper, G. F. and Hauskrecht, M. (2015). Obtaining well
#'   calibrated probabilities using Bayesian binning. *AAAI*, 2901-2907.
#'
#' Kull, M., Perello-Nieto, M., Kängsepp, M., Silva Filho, T., Song, H. and
#'   Flach, P. (2019). Beyond temperature scaling: obtaining well-calibrated
#'   multiclass probabilities with Dirichlet calibration. *NeurIPS* 32.
#'
#' Nixon, J., Dusenberry, M., Zhang, L., Jerfel, G. and Tran, D. (2019).
#'   Measuring calibration in deep learning. *CVPR Workshops*, 38-41.
#'
#' Kumar, A., Liang, P. and Ma, T. (2019). Verified uncertainty
#'   calibration. *NeurIPS* 32.
#' @family calibration
#' @export
#' @examples
#' # a model that is right 70% of the time but claims 90%
#' set.seed(1)
#' n <- 2000
#' y <- sample(1:3, n, replace = TRUE)
#' hit <- runif(n) < 0.7
#' pred <- ifelse(hit, y, y %% 3 + 1)
#' P <- matrix(0.05, n, 3)
#' P[cbind(seq_len(n), pred)] <- 0.9
#' calibration_error(y, P)                      # about 0.9 - 0.7 = 0.2
#' calibration_error(y, P, type = "classwise")
#' calibration_error(y, P, norm = "max")
#'
#' # calibrated binary predictions: small, and smaller with more data
#' p <- runif(1e5)
#' calibration_error(runif(1e5) < p, p)
calibration_error <- function(y, prob, bins = 15,
                              type = c("top-label", "classwise"),
                              binning = c("equal-width", "equal-mass"),
                              norm = c("l1", "l2", "max"),
                              weights = NULL, na.rm = FALSE) {
  # one .Call for what C can answer (src/calibration.cpp; missing choices
  # are passed as their first value: forcing the default vectors would cost
  # more than the computation); otherwise R's checks say why, or shape the
  # arguments for the same entry
  out <- .Call(xentropy_calibration_error, y, prob, bins,
               if (missing(type)) "top-label" else type,
               if (missing(binning)) "equal-width" else binning,
               if (missing(norm)) "l1" else norm, weights, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  norm <- check_option(norm, c("l1", "l2", "max"), "norm", call)
  type <- check_option(type, c("top-label", "classwise"), "type", call)
  binning <- check_option(binning, c("equal-width", "equal-mass"), "binning", call)
  inp <- calibration_inputs(y, prob, "prob", weights, na.rm, call)
  bins <- check_bins(bins, call)
  if (is.null(out)) {
    out <- .Call(xentropy_calibration_error, inp$y, inp$prob, bins, type, binning, norm,
                 inp$weights, inp$na.rm, TRUE)
    if (is.double(out)) return(out)
  }
  report_calibration_invalid(out[[1L]], inp, y, call)
}

#' Reliability table and diagram
#'
#' One row per bin (per class and bin for `type = "classwise"`) of the
#' binning that [calibration_error()] uses: the bin's range, how many
#' observations fell into it, their mean confidence and observed frequency
#' (the weighted mean outcome), and a Wilson score interval for the
#' frequency (Wilson 1927),
#' \deqn{\frac{\hat p + \frac{z^2}{2n} \pm z \sqrt{\frac{\hat p (1 - \hat
#' p)}{n} + \frac{z^2}{4n^2}}}{1 + z^2/n},}
#' with \eqn{z} the normal quantile for `level` and \eqn{n} the bin's count
#' (with weights, Kish's effective size \eqn{(\sum w)^2 / \sum w^2}). The
#' interval stays inside \[0, 1\] and is sensible for frequencies near 0 or
#' 1, where the normal (Wald) interval is not.
#'
#' `autoplot()` (with ggplot2) and `plot()` draw the reliability diagram
#' (DeGroot and Fienberg 1983; Niculescu-Mizil and Caruana 2005): observed
#' frequency against mean confidence per bin with its interval, the
#' diagonal of perfect calibration, and below it the share of observations
#' in each bin.
#'
#' @inheritParams calibration_error
#' @param level Confidence level of the Wilson intervals.
#' @return A data frame of class
#'   `c("xentropy_reliability", "data.frame")` with columns `class` (for `"classwise"`: the class, named by the
#'   columns of `prob` when it has names), `bin`, `lower`, `upper` (the
#'   bin's range), `count`, `weight` (total weight; the count without
#'   weights), `confidence`, `frequency`, `ci_lower`, `ci_upper` (`NA` for
#'   empty bins), and attributes `type`, `binning`, `level`, `ece`, `mce`.
#'   Observations with `NA`/`NaN` values are an error unless `na.rm = TRUE`.
#' @references
#' Wilson, E. B. (1927). Probable inference, the law of succession, and
#'   statistical inference. *JASA* 22(158), 209-212.
#'
#' DeGroot, M. H. and Fienberg, S. E. (1983). The comparison and evaluation
#'   of forecasters. *The Statistician* 32(1/2), 12-22.
#'
#' Niculescu-Mizil, A. and Caruana, R. (2005). Predicting good
#'   probabilities with supervised learning. *ICML*, 625-632.
#' @family calibration
#' @export
#' @examples
#' set.seed(2)
#' z <- rnorm(5000, sd = 2)
#' y <- runif(5000) < sigmoid(z)            # calibrated for sigmoid(z)...
#' overconfident <- sigmoid(3 * z)          # ...but not for sigmoid(3 z)
#' tab <- reliability_table(y, overconfident, bins = 10, type = "classwise")
#' tab
#' if (requireNamespace("ggplot2", quietly = TRUE)) {
#'   ggplot2::autoplot(tab)
#' }
reliability_table <- function(y, prob, bins = 15,
                              type = c("top-label", "classwise"),
                              binning = c("equal-width", "equal-mass"),
                              weights = NULL, na.rm = FALSE, level = 0.95) {
  # one .Call for what C can answer (src/calibration.cpp: the per-bin sums and
  # the settings as it read them); otherwise R's checks say why, or shape the
  # arguments for the same entry
  res <- .Call(xentropy_reliability_table, y, prob, bins,
               if (missing(type)) "top-label" else type,
               if (missing(binning)) "equal-width" else binning,
               weights, na.rm, level, FALSE)
  call <- sys.call()
  if (is.null(res) || is.null(names(res))) {
    level <- check_number(level, "level", "a single number between 0 and 1",
                          function(l) l > 0 && l < 1, call)
    type <- check_option(type, c("top-label", "classwise"), "type", call)
    binning <- check_option(binning, c("equal-width", "equal-mass"), "binning", call)
    inp <- calibration_inputs(y, prob, "prob", weights, na.rm, call)
    bins <- check_bins(bins, call)
    if (is.null(res)) {
      res <- .Call(xentropy_reliability_table, inp$y, inp$prob, bins, type, binning,
                   inp$weights, inp$na.rm, level, TRUE)
    }
    if (is.null(names(res))) report_calibration_invalid(res[[1L]], inp, y, call)
  }
  if (isTRUE(res$missing)) {
    pos <- first_missing(y, prob, "prob")
    abort(sprintf(
      "`%s` has %s at %s; use `na.rm = TRUE` to leave those observations out.",
      pos$arg, pos$what, pos$where
    ), call, class = "xentropy_error_missing", argument = pos$arg)
  }
  res$class_names <- if (res$binary) {
    if (is.factor(y)) levels(y)[2] else "1"
  } else if (!is.null(colnames(prob))) {
    colnames(prob)
  } else {
    as.character(seq_len(ncol(prob)))
  }
  level <- res$level
  S <- res$sums
  B <- res$bins
  C <- res$classes
  count <- S[, 1]
  weight <- S[, 2]
  confidence <- ifelse(weight > 0, S[, 4] / weight, NA_real_)
  frequency <- ifelse(weight > 0, S[, 5] / weight, NA_real_)
  n_eff <- ifelse(weight > 0, weight^2 / S[, 3], 0)
  ci <- wilson_interval(frequency, n_eff, level)
  out <- data.frame(
    bin = rep(seq_len(B), C),
    lower = res$lower, upper = res$upper,
    count = count, weight = weight,
    confidence = confidence, frequency = frequency,
    ci_lower = ci$lower, ci_upper = ci$upper
  )
  if (res$type == "classwise") {
    cls <- res$class_names
    out <- cbind(class = factor(rep(cls, each = B), levels = cls), out)
  }
  attr(out, "type") <- res$type
  attr(out, "binning") <- res$binning
  attr(out, "level") <- level
  attr(out, "ece") <- res$errors[[1]]
  attr(out, "mce") <- res$errors[[3]]
  attr(out, "sums") <- S  # exact per-bin sums, for merge_reliability()
  class(out) <- c("xentropy_reliability", "data.frame")
  out
}

#' @export
print.xentropy_reliability <- function(x, digits = 4, ...) {
  cat(sprintf(
    "Reliability table: %s, %s bins; ECE = %s, MCE = %s\n",
    attr(x, "type"), attr(x, "binning"),
    format(attr(x, "ece"), digits = digits), format(attr(x, "mce"), digits = digits)
  ))
  df <- x
  class(df) <- "data.frame"
  print(df, digits = digits, row.names = FALSE, ...)
  invisible(x)
}

#' @rdname reliability_table
#' @param object,x A reliability table.
#' @param ... Unused.
#' @exportS3Method ggplot2::autoplot
autoplot.xentropy_reliability <- function(object, ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("The reliability diagram needs the ggplot2 package.", sys.call(), class = "xentropy_error_dependency", package = "ggplot2")
  }
  .data <- ggplot2::.data
  classwise <- identical(attr(object, "type"), "classwise")
  tab <- as.data.frame(unclass(object), stringsAsFactors = FALSE)
  if (!classwise) tab$class <- factor("all")
  filled <- tab[tab$count > 0, , drop = FALSE]
  panels <- c("observed frequency", "share of observations")
  filled$panel <- factor(panels[1], panels)
  share <- tab
  share$panel <- factor(panels[2], panels)
  total <- stats::ave(share$weight, share$class, FUN = sum)
  share$share <- ifelse(total > 0, share$weight / total, 0)
  diag_df <- data.frame(x = c(0, 1), y = c(0, 1), panel = factor(panels[1], panels))
  p <- ggplot2::ggplot() +
    ggplot2::geom_line(data = diag_df, ggplot2::aes(.data$x, .data$y),
                       linetype = "dashed", colour = "grey50") +
    ggplot2::geom_rect(data = share,
                       ggplot2::aes(xmin = .data$lower, xmax = .data$upper,
                                    ymin = 0, ymax = .data$share),
                       fill = "grey60", colour = "white") +
    ggplot2::geom_errorbar(data = filled,
                           ggplot2::aes(x = .data$confidence, ymin = .data$ci_lower,
                                        ymax = .data$ci_upper),
                           width = 0.015, colour = "steelblue4") +
    ggplot2::geom_line(data = filled, ggplot2::aes(.data$confidence, .data$frequency),
                       colour = "steelblue4") +
    ggplot2::geom_point(data = filled, ggplot2::aes(.data$confidence, .data$frequency),
                        colour = "steelblue4", size = 1.8) +
    ggplot2::scale_x_continuous(limits = c(0, 1)) +
    ggplot2::labs(
      x = "confidence (mean predicted probability in the bin)", y = NULL,
      subtitle = sprintf("%s, %s bins: ECE %.3f, MCE %.3f; %g%% Wilson intervals",
                         attr(object, "type"), attr(object, "binning"),
                         attr(object, "ece"), attr(object, "mce"),
                         100 * attr(object, "level"))
    ) +
    ggplot2::theme_minimal()
  if (classwise) {
    p + ggplot2::facet_grid(ggplot2::vars(.data$panel), ggplot2::vars(.data$class),
                            scales = "free_y", space = "free_y")
  } else {
    p + ggplot2::facet_grid(ggplot2::vars(.data$panel), scales = "free_y",
                            space = "free_y")
  }
}

#' @rdname reliability_table
#' @export
plot.xentropy_reliability <- function(x, ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("Plotting a reliability table needs the ggplot2 package.", sys.call(), class = "xentropy_error_dependency", package = "ggplot2")
  }
  print(autoplot.xentropy_reliability(x, ...))
  invisible(x)
}

#' Top-k accuracy
#'
#' The (weighted) share of observations whose label is among the `k`
#' highest scores of its row. Scores may be probabilities or logits (any
#' order-preserving transformation gives the same result). Ties are broken
#' towards the lower class index: the label \eqn{y} of a row with scores
#' \eqn{s} counts as a hit when
#' \deqn{\#\{j : s_j > s_y\} + \#\{j < y : s_j = s_y\} < k,}
#' so `k = 1` agrees with `max.col(scores, ties.method = "first") == y`
#' and [which.max()], and `k = K` is always 1. A row with an `NA` (`NaN`)
#' score or label makes the result `NA` (`NaN`) unless `na.rm = TRUE`;
#' infinite scores are compared as numbers.
#'
#' One pass over the scores in C++, allocating nothing of their size.
#'
#' @param y Labels: a factor (levels matched to `colnames(scores)` when it
#'   has them) or integers in 1..K.
#' @param scores An n x K numeric matrix, one row per observation (a vector
#'   is one observation).
#' @param k A whole number in 1..K.
#' @inheritParams calibration_error
#' @return A number in \[0, 1\].
#' @family calibration
#' @export
#' @examples
#' S <- rbind(c(0.5, 0.3, 0.2), c(0.1, 0.3, 0.6), c(0.4, 0.4, 0.2))
#' y <- c(2, 2, 2)
#' top_k_accuracy(y, S, k = 1)    # row 3 ties: class 1 comes first
#' top_k_accuracy(y, S, k = 2)
#' # on logits the answer is the same
#' top_k_accuracy(y, log(S), k = 2)
top_k_accuracy <- function(y, scores, k = 1, weights = NULL, na.rm = FALSE) {
  # one .Call for what C can answer (src/calibration.cpp); otherwise R's
  # checks say why, or shape the arguments for the same entry
  out <- .Call(xentropy_top_k_accuracy, y, scores, k, weights, na.rm, FALSE)
  if (is.double(out)) return(out)
  call <- sys.call()
  scores <- as_prediction_matrix(scores, "scores", call)
  y_in <- y
  y <- as_categorical_targets(y, scores, "y", "scores", call)
  if (is.matrix(y)) {
    abort("`y` must be a factor or integer labels 1..K for top-k accuracy, not a target matrix.",
          call, class = "xentropy_error_type", argument = "y")
  }
  K <- ncol(scores)
  k <- check_number(k, "k", sprintf("a whole number in 1..%.0f (the columns of `scores`)", K),
                    function(v) is.finite(v) && v >= 1 && v <= K && v == round(v), call)
  weights <- check_weights(weights, nrow(scores), call)
  na.rm <- check_flag(na.rm, "na.rm", call)
  if (is.null(out)) {
    out <- .Call(xentropy_top_k_accuracy, y, scores, k, weights, na.rm, TRUE)
    if (is.double(out)) return(out)
  }
  report_invalid(out[[1L]], c("y", "scores"), list(y_in, scores),
                 c(sprintf("class labels in 1..%.0f (the columns of `scores`)", K), "scores"),
                 call)
}

#' Temperature and Platt scaling
#'
#' Fits the temperature \eqn{T > 0} that minimises the mean softmax
#' cross-entropy of `logits / T` against `y` (Guo et al. 2017), usually on
#' held-out data; `predict()` then applies it to new logits. Dividing all
#' logits by one number changes no ranking, so accuracy is unchanged, but
#' over-confident models (\eqn{T > 1}) become calibrated.
#'
#' With \eqn{\beta = 1/T} and \eqn{p = \mathrm{softmax}(\beta z)}, the loss
#' of an observation is \eqn{L(\beta) = \mathrm{logsumexp}(\beta z) - \beta
#' z_y}, with \eqn{L'(\beta) = E_p[z] - z_y} and \eqn{L''(\beta) =
#' \mathrm{Var}_p[z] \ge 0}: the loss is convex in \eqn{\beta}, and one pass
#' over the logits gives all three, so the fit is an exact Newton iteration
#' in \eqn{\beta} (from \eqn{\beta = 1}, safeguarded by bisection), not a grid
#' search; it stops when \eqn{|L'(\beta)|} (mean over observations) is below
#' \eqn{10^{-12}} or the step is below 4 ulp, typically after 4 to 8 passes.
#' For a vector of binary logits the loss is the sigmoid cross-entropy of
#' \eqn{\beta z}. `method = "platt"` (binary logits only) fits
#' \eqn{\sigma(a z + b)} instead (Platt 1999), by Newton's method on
#' \eqn{(a, b)} with step halving; this is the maximum-likelihood fit of
#' `glm(y ~ z, family = binomial)` (without Platt's target smoothing).
#'
#' The log-sum-exp uses the package's exact form (see [logsumexp()]).
#' Logits must be finite. When the logits separate the classes (every
#' observation's label has the strictly largest logit), the loss keeps
#' falling as \eqn{T \to 0}; when they carry no information about `y`, or
#' point the wrong way, its minimum over \eqn{T > 0} is at \eqn{T = \infty}.
#' Both are reported with a warning and the boundary value of `T` (0 or
#' `Inf`); `predict()` then gives the limits (all probability on the
#' largest logits, or uniform probabilities). Platt scaling of logits that a
#' threshold separates has no finite fit: a warning, and `a`, `b` are `NaN`.
#'
#' @param y Targets, as for [softmax_cross_entropy()] (a factor, labels
#'   1..K or a target matrix) with a matrix of logits, or as for
#'   [sigmoid_cross_entropy()] (0/1, logical, probabilities or a two-level
#'   factor) with a vector of logits.
#' @param logits An n x K matrix of logits (scores before the softmax), or
#'   a vector of logits of the positive class (two classes).
#' @param weights `NULL`, or one non-negative weight per observation.
#' @param method `"temperature"` or (binary logits only) `"platt"`.
#' @param na.rm If `TRUE`, observations with an `NA`/`NaN` target or logit
#'   are left out; if `FALSE`, they are an error.
#' @param bins Number of equal-width bins of the top-label ECE reported
#'   before and after.
#' @return An object of class `"xentropy_temperature"`: a list with
#'   `method`, `temperature` (\eqn{T}; `NA` for Platt), `coefficients`
#'   (`c(a = , b = )` for Platt; for temperature scaling `c(beta = 1/T)`),
#'   `loss` (mean cross-entropy `c(before = , after = )`, before meaning
#'   \eqn{T = 1}), `ece` (top-label ECE before and after), `gradient` (the
#'   mean derivative of the loss at the fit), `passes` (over the logits),
#'   `iterations`, `n`, `classes` and `status` (0 converged; 1 \eqn{T \to 0};
#'   2 \eqn{T = \infty}; 3 not converged).
#' @references
#' Guo, C., Pleiss, G., Sun, Y. and Weinberger, K. Q. (2017). On calibration
#'   of modern neural networks. *ICML*, PMLR 70, 1321-1330.
#'
#' Platt, J. (1999). Probabilistic outputs for support vector machines and
#'   comparisons to regularized likelihood methods. In *Advances in Large
#'   Margin Classifiers*, 61-74. MIT Press.
#' @family calibration
#' @export
#' @examples
#' # logits three times too large: temperature scaling finds T = 3
#' set.seed(3)
#' n <- 5000
#' Z <- matrix(rnorm(n * 4), n, 4)
#' y <- apply(Z, 1, function(z) sample.int(4, 1, prob = softmax(z)))
#' fit <- temperature_scaling(y, 3 * Z)
#' fit
#' head(predict(fit, 3 * Z))
#'
#' # binary logits, temperature and Platt
#' z <- rnorm(n)
#' yb <- runif(n) < sigmoid(0.5 * z - 1)
#' temperature_scaling(yb, z)
#' platt <- temperature_scaling(yb, z, method = "platt")
#' coef(platt)
#' coef(glm(yb ~ z, family = binomial))   # the same fit
temperature_scaling <- function(y, logits, weights = NULL,
                                method = c("temperature", "platt"),
                                na.rm = FALSE, bins = 15) {
  # one .Call for what C can answer (src/calibration.cpp: the fit and the ECE
  # before and after it); otherwise R's checks say why, or shape the
  # arguments for the same entry
  fit <- .Call(xentropy_temperature_scaling, y, logits, weights,
               if (missing(method)) "temperature" else method, na.rm, bins, FALSE)
  call <- sys.call()
  if (is.null(fit) || is.null(names(fit))) {
    method <- check_option(method, c("temperature", "platt"), "method", call)
    inp <- calibration_inputs(y, logits, "logits", weights, na.rm, call,
                              probabilities = FALSE)
    bins <- check_bins(bins, call)
    if (method == "platt" && !inp$binary) {
      abort("`method = \"platt\"` needs a vector of binary logits; for a matrix of logits use `method = \"temperature\"`.",
            call, class = "xentropy_error_argument", argument = "method")
    }
    if (is.null(fit)) {
      fit <- .Call(xentropy_temperature_scaling, inp$y, inp$prob, inp$weights, method,
                   inp$na.rm, bins, TRUE)
    }
    if (is.null(names(fit))) {
      report_calibration_invalid(fit[[1L]], inp, y, call, pred_what = "finite logits")
    }
  }
  method <- fit$method
  platt <- method == "platt"
  if (fit$status == 4L) {
    pos <- first_missing(y, logits, "logits")
    abort(sprintf(
      "`%s` has %s at %s; use `na.rm = TRUE` to leave those observations out.",
      pos$arg, pos$what, pos$where
    ), call, class = "xentropy_error_missing", argument = pos$arg)
  }
  if (fit$status == 6L) {
    abort("There are no observations with positive weight to fit on.", call, class = "xentropy_error_data")
  }
  if (fit$status == 1L) {
    warn(if (platt) "A threshold on the logits separates the classes: Platt scaling has no finite fit (a and b are NaN)." else
           "The logits separate the classes (each label has the largest logit): the cross-entropy falls all the way as T -> 0, so T = 0.",
         NULL, class = "xentropy_warning_separation")
  } else if (fit$status == 2L) {
    warn("The logits carry no information about `y` (or point the wrong way): the best temperature is T = Inf.",
         NULL, class = "xentropy_warning_degenerate")
  } else if (fit$status == 3L) {
    warn(if (fit$iterations >= 100L) "The fit did not converge in 100 Newton steps." else
           sprintf("The fit did not converge: after %d Newton steps no step lowers the loss, short of the gradient tolerance.",
                   fit$iterations), NULL,
         class = "xentropy_warning_convergence")
  }
  coefficients <- if (platt) c(a = fit$par[1], b = fit$par[2]) else c(beta = fit$par[1])
  object <- structure(list(
    method = method,
    temperature = if (platt) NA_real_ else 1 / fit$par[1],
    coefficients = coefficients,
    loss = c(before = fit$loss0, after = fit$loss),
    # top-label ECE of the probabilities before (T = 1) and after the fit, as
    # predict() forms them, straight from the logits (no n x K matrix)
    ece = c(before = fit$ece[1], after = fit$ece[2]),
    gradient = if (platt) fit$gradient else fit$gradient[1],
    passes = fit$passes, iterations = fit$iterations,
    n = rows_used(y, logits, weights, na.rm),
    classes = if (fit$binary) 2L else ncol(logits),
    binary = fit$binary, bins = fit$bins, status = fit$status, call = call
  ), class = "xentropy_temperature")
  object
}

#' @rdname temperature_scaling
#' @param object A fitted `"xentropy_temperature"` object.
#' @param newdata Logits of the shape the model was fitted on: an n x K
#'   matrix, or a vector for binary logits.
#' @param type `"prob"` (calibrated probabilities: a matrix, or for binary
#'   logits the probabilities of the positive class) or `"link"` (the
#'   scaled logits \eqn{z/T}, or \eqn{a z + b}).
#' @param ... Unused.
#' @export
predict.xentropy_temperature <- function(object, newdata, type = c("prob", "link"), ...) {
  call <- sys.call()
  type <- check_option(type, c("prob", "link"), "type", call)
  newdata <- check_numeric_matrix(newdata, "newdata", call)
  if (object$binary) {
    if (is.matrix(newdata) && ncol(newdata) != 1L) {
      abort(sprintf("`newdata` must be a vector of binary logits (the model was fitted on binary logits), not a %.0f-column matrix.",
                    ncol(newdata)), call, class = "xentropy_error_shape", argument = "newdata")
    }
    link <- if (object$method == "platt") {
      object$coefficients[["a"]] * newdata + object$coefficients[["b"]]
    } else {
      newdata * object$coefficients[["beta"]]
    }
    if (object$method != "platt" && object$coefficients[["beta"]] == Inf) {
      # T = 0: the limit of sigmoid(z / T)
      hard <- newdata
      hard[] <- ifelse(newdata > 0, 1, ifelse(newdata < 0, 0, 0.5))
      return(if (type == "link") link else hard)
    }
    return(if (type == "link") link else sigmoid(link))
  }
  if (!is.matrix(newdata)) newdata <- matrix(newdata, nrow = 1L, dimnames = list(NULL, names(newdata)))
  if (ncol(newdata) != object$classes) {
    abort(sprintf("`newdata` has %.0f columns but the model was fitted on %.0f classes.",
                  ncol(newdata), object$classes), call, class = "xentropy_error_shape", argument = "newdata")
  }
  beta <- object$coefficients[["beta"]]
  if (type == "link") return(newdata * beta)
  if (beta == Inf) {
    # T = 0: the limit of softmax(z / T), shared equally by tied maxima
    top <- newdata[cbind(seq_len(nrow(newdata)), max.col(newdata, ties.method = "first"))]
    hard <- newdata == top
    out <- newdata
    out[] <- hard / rowSums(hard)
    return(out)
  }
  if (beta == 0) {
    out <- newdata
    out[] <- 1 / ncol(newdata)
    out[is.na(newdata)] <- newdata[is.na(newdata)]
    return(out)
  }
  softmax(newdata, temperature = 1 / beta)
}

#' @export
print.xentropy_temperature <- function(x, digits = 4, ...) {
  what <- if (x$binary) "binary logits" else sprintf("%.0f classes", x$classes)
  if (x$method == "platt") {
    cat(sprintf("Platt scaling of %s on %.0f observations\n", what, x$n))
    cat(sprintf("  sigmoid(a z + b): a = %s, b = %s\n",
                format(x$coefficients[["a"]], digits = digits),
                format(x$coefficients[["b"]], digits = digits)))
  } else {
    cat(sprintf("Temperature scaling of %s on %.0f observations\n", what, x$n))
    cat(sprintf("  T = %s (1/T = %s)\n", format(x$temperature, digits = digits),
                format(x$coefficients[["beta"]], digits = digits)))
  }
  tab <- rbind(`cross-entropy` = x$loss, ece = x$ece)
  rownames(tab)[2] <- sprintf("ECE (%d bins)", x$bins)
  colnames(tab) <- c("before", "after")
  print(round(tab, digits))
  g <- max(abs(x$gradient))
  cat(sprintf("  %d passes over the logits; mean gradient %s\n", x$passes,
              if (is.finite(g) && g < 1e-12) "below 1e-12" else paste("=", format(g, digits = 2))))
  invisible(x)
}

#' @export
coef.xentropy_temperature <- function(object, ...) {
  if (object$method == "platt") object$coefficients else c(temperature = object$temperature)
}

# ---- internals ---------------------------------------------------------------

# A choice among `choices` (the full vector is the default: the first).
check_option <- function(x, choices, arg, call) {
  if (identical(x, choices)) return(choices[1])
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    given <- if (is.character(x) && length(x) == 1L) paste0("\"", x, "\"") else friendly_type(x)
    abort(sprintf("`%s` must be one of %s, not %s.", arg,
                  paste0("\"", choices, "\"", collapse = ", "), given), call, class = "xentropy_error_value", argument = arg)
  }
  x
}

check_bins <- function(bins, call) {
  as.integer(check_number(bins, "bins", "a whole number >= 1",
                          function(b) is.finite(b) && b >= 1 && b == round(b) &&
                            b <= .Machine$integer.max, call))
}

# Predictions (probabilities or logits) and targets as the kernels take them:
# a matrix with categorical targets, or a vector with binary targets.
calibration_inputs <- function(y, prob, prob_arg, weights, na.rm, call,
                               probabilities = TRUE) {
  prob <- check_numeric_matrix(prob, prob_arg, call)
  binary <- !is.matrix(prob)
  if (binary) {
    target <- as_binary_targets(y, "y", call)
    if (length(target$y) != length(prob)) {
      abort(sprintf("`y` has %.0f values but `%s` has %.0f.", length(target$y),
                    prob_arg, length(prob)), call, class = "xentropy_error_length", argument = prob_arg)
    }
    yk <- target$y
    offset <- target$offset
    n <- length(prob)
  } else {
    yk <- as_categorical_targets(y, prob, "y", prob_arg, call)
    offset <- 0L
    n <- nrow(prob)
  }
  list(y = yk, offset = offset, prob = prob, prob_arg = prob_arg, binary = binary,
       weights = check_weights(weights, n, call),
       na.rm = check_flag(na.rm, "na.rm", call), y_user = y,
       probabilities = probabilities)
}

# Errors for the kernels' reports: invalid elements (R/targets.R's
# report_invalid()) and rows that do not sum to 1.
report_calibration_invalid <- function(out, inp, y, call,
                                       pred_what = "probabilities in [0, 1]") {
  y_what <- if (inp$binary) {
    "0/1 or probabilities in [0, 1]"
  } else if (is.matrix(inp$y)) {
    "target probabilities in [0, 1]"
  } else {
    sprintf("class labels in 1..%.0f (the columns of `%s`)", ncol(inp$prob), inp$prob_arg)
  }
  report_invalid(out, c("y", inp$prob_arg), list(y, inp$prob), c(y_what, pred_what), call)
  row <- attr(out, "xentropy_bad_sum", exact = TRUE)
  if (!is.null(row)) {
    r <- row + 1
    abort(sprintf(
      "Each row of `%s` must be a probability distribution summing to 1 (within 1e-6); row %.0f sums to %s.",
      inp$prob_arg, r, format(sum(inp$prob[r, ]), digits = 15)
    ), call, class = "xentropy_error_not_distribution", argument = inp$prob_arg, position = r)
  }
  invisible()
}

# The first NA / NaN in `y` or in `pred` (named `pred_arg`); only called on
# an error, so which() may allocate.
first_missing <- function(y, pred, pred_arg) {
  for (arg in c("y", pred_arg)) {
    x <- if (arg == "y") y else pred
    bad <- which(is.na(x))
    if (length(bad)) {
      pos <- bad[1]
      where <- if (is.matrix(x)) {
        sprintf("[%.0f, %.0f]", (pos - 1) %% nrow(x) + 1, (pos - 1) %/% nrow(x) + 1)
      } else {
        sprintf("position %.0f", pos)
      }
      v <- if (is.factor(x)) NA else x[[pos]]
      what <- if (is.double(v) && is.nan(v)) "NaN" else "NA"
      return(list(arg = arg, what = what, where = where))
    }
  }
  list(arg = "y", what = "NA", where = "an unknown position")
}

# Rows a fit used: all of them, or with na.rm those with no missing target or logit
# (weights are never missing).
rows_used <- function(y, logits, weights, na.rm) {
  if (!isTRUE(na.rm)) return(NROW(logits))
  miss <- function(v) if (is.matrix(v)) rowSums(is.na(v)) > 0 else is.na(v)
  sum(!miss(logits) & !miss(y))
}

# Wilson score interval for a proportion p out of n (n may be fractional).
wilson_interval <- function(p, n, level) {
  z <- stats::qnorm(1 - (1 - level) / 2)
  ok <- !is.na(p) & n > 0
  lower <- upper <- rep(NA_real_, length(p))
  pp <- p[ok]
  nn <- n[ok]
  centre <- (pp + z^2 / (2 * nn)) / (1 + z^2 / nn)
  half <- z * sqrt(pp * (1 - pp) / nn + z^2 / (4 * nn^2)) / (1 + z^2 / nn)
  lower[ok] <- pmax(0, centre - half)
  upper[ok] <- pmin(1, centre + half)
  list(lower = lower, upper = upper)
}
