// xentropy/loss.hpp -- classification losses and their gradients, fused.
//
// Per observation i with target distribution t_i over K classes:
//   cross_entropy_loss:     l_i = -sum_k c_k t_ik log p_ik            (probabilities)
//   softmax_cross_entropy:  l_i = -sum_k c_k t'_ik log_softmax(z_i)_k  (logits)
//       with t' = (1 - eps) t + eps / K (label smoothing, as PyTorch) and
//       class weights c_k (PyTorch's `weight`; 1 by default)
//   softmax_focal_loss:     l_i = -alpha sum_k t_ik (1 - p_ik)^gamma log p_ik
//   binary_cross_entropy:   l_i = -[y log p + (1 - y) log(1 - p)]
//   sigmoid_cross_entropy:  l_i = w+ y softplus(-z) + (1 - y) softplus(z)
//       (= -[w+ y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], PyTorch's
//       BCEWithLogits with pos_weight w+)
//   sigmoid_focal_loss:     l_i = alpha_t (1 - p_t)^gamma CE_i, p_t = p y + (1 - p)(1 - y),
//       alpha_t = alpha y + (1 - alpha)(1 - y) (Lin et al. 2017, as torchvision)
// A label y_i is the one-hot target t_ik = [k = y_i]. Cross-entropy is the
// negative log-likelihood of the observation (PRML eqs. 4.90 and 4.108).
// Reductions: "sum" is sum_i w_i l_i, "mean" is sum_i w_i l_i / sum_i w_i d_i
// (the weighted mean of yardstick and PyTorch; d_i = c_{y_i} for labels with
// class weights, else 1), "none" gives w_i l_i.
//
// The layer: each loss is a *policy* (a small struct) holding its formula,
// its validity rule for predictions and its gradient, written once with the
// vm:: functions (vmath.hpp) so that the same code runs in the vectorised
// kernels and in the scalar code for blocks with missing or invalid values.
// Two drivers do everything else: binary_loss() / binary_loss_grad() and
// categorical_loss() / categorical_loss_grad() block the observations, read
// the targets, apply weights, na.rm and the reduction, report the first
// invalid value (invalid.hpp) and spread blocks over threads (reduce.hpp's
// sum_blocks(), common.hpp's parallel_chunks()). A new loss is a new policy.
//
// Numerical tricks:
// * From logits, -log_softmax(z)_k = (m - z_k) + log1p(sum_{z_j < m} e^{z_j - m}
//   + c - 1), m = max_j z_j, c = #{j : z_j = m} (see normalise.hpp): no
//   probability is formed and no log of a rounded probability is taken, so
//   the loss is exact for logits of +-1e10 and stays finite where the limit is.
// * 1 - softmax(z)_k without cancellation: for the maximum it is
//   (S - 1) / S with S - 1 = sum_{z_j < m} e^{z_j - m} + c - 1 summed
//   directly; for the others softmax(z)_k <= 1/2.
// * Binary from logits: softplus (Maechler's log1pexp, link.hpp), and
//   log(1 - p_t) = logaddexp(log y - softplus(z), log(1 - y) - softplus(-z)),
//   so the focal factor exp(gamma log(1 - p_t)) is exact for any logit.
// * 0 log 0 = 0: a class with target 0 contributes nothing, whatever its
//   prediction. A true class with probability 0 costs Inf (no clipping).
// Each loss reads its predictions once and allocates nothing of their size:
// per-observation losses live in a stack buffer for one block of observations
// (blocks.hpp), and block totals are added by sum_blocks() in a fixed order
// (thread-count independent).
//
// The code is in three headers: loss_base.hpp (targets, options, reductions),
// binary_loss.hpp and categorical_loss.hpp; this one includes them all.
#ifndef XENTROPY_LOSS_HPP
#define XENTROPY_LOSS_HPP

#include "loss_base.hpp"
#include "binary_loss.hpp"
#include "categorical_loss.hpp"

#endif  // XENTROPY_LOSS_HPP
