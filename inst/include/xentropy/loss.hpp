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
#ifndef XENTROPY_LOSS_HPP
#define XENTROPY_LOSS_HPP

#include <climits>
#include <type_traits>

#include "blocks.hpp"
#include "flags.hpp"
#include "invalid.hpp"
#include "link.hpp"
#include "normalise.hpp"
#include "reduce.hpp"

namespace xentropy {

enum class reduction { mean = 0, sum = 1, none = 2 };

// Binary targets: doubles in [0, 1] (d), or integer codes (i) minus `offset`
// (0/1 for integer and logical vectors, factor codes 1/2 with offset 1).
struct binary_targets {
  const double* d = nullptr;
  const int* i = nullptr;
  int offset = 0;
  // The target as a double: NA for NA_integer_, NaN stays NaN; sets `valid`
  // false for a value outside [0, 1].
  double get(index_t k, bool& valid) const {
    if (d) {
      const double v = d[k];
      valid = std::isnan(v) || (v >= 0.0 && v <= 1.0);
      return v;
    }
    if (i[k] == INT_MIN) {
      valid = true;
      return na_real();
    }
    const int v = i[k] - offset;
    valid = v == 0 || v == 1;
    return static_cast<double>(v);
  }
  binary_targets shifted(index_t by) const {
    binary_targets s = *this;
    if (d) s.d += by; else s.i += by;
    return s;
  }
};

// Class labels 1..K: integer codes (factor, integer; NA_integer_ missing) or
// doubles (whole numbers; NA and NaN missing).
struct class_labels {
  const int* i = nullptr;
  const double* d = nullptr;
  static constexpr index_t absent = -1, out_of_range = -2;
  // 0-based class; `absent` (and m set) when missing, `out_of_range` when
  // not in 1..K.
  index_t get(index_t obs, index_t K, missing& m) const {
    if (i) {
      const int v = i[obs];
      if (v == INT_MIN) return m = missing::na, absent;
      return v >= 1 && v <= K ? static_cast<index_t>(v - 1) : out_of_range;
    }
    const double v = d[obs];
    if (std::isnan(v)) return m = missing_of(v), absent;
    return v >= 1.0 && v <= static_cast<double>(K) && v == std::floor(v)
               ? static_cast<index_t>(v) - 1
               : out_of_range;
  }
};

// Targets of a categorical loss: labels, or an n x K matrix of target
// probabilities (one-hot or soft) when labels.i and labels.d are null.
struct categorical_targets {
  class_labels labels;
  view matrix{nullptr, 0, 0};
  index_t origin = 0;  // position of label 0 in the caller's vector (for reports)
  bool is_matrix() const { return matrix.data != nullptr; }
};

struct loss_options {
  const double* weights = nullptr;  // one per observation, or null for 1
  reduction red = reduction::mean;
  bool na_rm = false;
  int nthreads = 1;
};

// Options of the categorical losses beyond the shared ones.
struct categorical_options {
  double label_smoothing = 0.0;
  const double* class_weights = nullptr;  // K non-negative numbers, or null for 1
};

namespace detail {

inline bool is_unit(double v) { return v >= 0.0 && v <= 1.0; }

// log(exp(a) + exp(b)), -Inf when both are -Inf; branch-free.
XENTROPY_VM_INLINE double logaddexp(double a, double b) {
  const double hi = a > b ? a : b, lo = a > b ? b : a;
  const double r = hi + vm::log1p(vm::exp(lo - hi));
  return hi == -inf() ? hi : r;
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Binary policies. Each has
//   pre(v)          a value computed by a first simple loop (or 0),
//   loss(t, v, e)   the loss of target t in [0, 1] for prediction v, e = pre(v),
//   valid(v)        whether v is a valid prediction (else: an error),
//   grad(t, v)      d loss / d v (logits only),
// all XENTROPY_VM_INLINE and branch-free (selects), so that they vectorise.

// Binary cross-entropy from probabilities.
struct bce_prob_policy {
  static constexpr bool has_pre = false;
  XENTROPY_VM_INLINE double pre(double) const { return 0.0; }
  XENTROPY_VM_INLINE bool valid(double v) const { return v >= 0.0 && v <= 1.0; }
  XENTROPY_VM_INLINE double loss(double t, double v, double) const {
    const double lp = vm::log(v), lq = vm::log1p(-v);
    return (t > 0.0 ? -t * lp : 0.0) + (t < 1.0 ? -(1.0 - t) * lq : 0.0);
  }
};

// softplus(z) and softplus(-z) from e = exp(-|z|) (<= 1: no overflow), as
// sums of non-negative terms: exact for any z.
struct softplus_pair {
  double pos, neg;  // softplus(z), softplus(-z)
  XENTROPY_VM_INLINE softplus_pair(double z, double e) : softplus_pair(z, e, vm::log1p(e)) {}
  // given a = log1p(e)
  XENTROPY_VM_INLINE softplus_pair(double z, double, double a) {
    pos = (z > 0.0 ? z : 0.0) + a;
    neg = (z < 0.0 ? -z : 0.0) + a;
  }
};

// Binary cross-entropy from logits with positive-class weight pw. The
// exponential is a first loop: two simple loops over a block in cache run
// faster than one with both polynomials (2.2 -> 1.7 ns per element, AVX-512).
struct bce_logit_policy {
  double pw = 1.0;
  static constexpr bool has_pre = true;
  XENTROPY_VM_INLINE double pre(double v) const { return vm::exp(v < 0.0 ? v : -v); }
  XENTROPY_VM_INLINE bool valid(double v) const { return v == v; }
  XENTROPY_VM_INLINE double loss(double t, double v, double e) const {
    const softplus_pair s(v, e);
    return (t > 0.0 ? pw * t * s.neg : 0.0) + (t < 1.0 ? (1.0 - t) * s.pos : 0.0);
  }
  // (1 - t) sigmoid(z) - pw t sigmoid(-z)
  XENTROPY_VM_INLINE double grad(double t, double v) const {
    const double s = vm::sigmoid(v), sn = vm::sigmoid(-v);
    return (t < 1.0 ? (1.0 - t) * s : 0.0) - (t > 0.0 ? pw * t * sn : 0.0);
  }
};

// Sigmoid focal loss (Lin et al. 2017, torchvision.ops.sigmoid_focal_loss):
// alpha_t (1 - p_t)^gamma CE, with CE the cross-entropy from logits above.
// 1 - p_t = t sigmoid(-z) + (1 - t) sigmoid(z) = N / (1 + e), e = exp(-|z|),
// with N = c e + d a sum of non-negative terms (c = t, d = 1 - t for z >= 0;
// the other way round for z < 0), so log(1 - p_t) = log N - log1p(e) with
// one logarithm; where d = 0 (a hard target on the far side), c = 1 and
// log N = -|z| exactly, whatever e underflows to. For hard targets this is
// exactly -softplus(+-z), i.e. log_sigmoid(-+z).
//
// Square (gamma = 2, the default; chosen by sigmoid_focal_loss_grad()):
// (1 - p_t)^2 is formed as q * q with q = N / (1 + e), without the log and
// the exp (q underflows only where q^2 is below the smallest subnormal).
template <bool Square>
struct sigmoid_focal_policy_t {
  double gamma = 2.0;
  double alpha = -1.0;  // < 0: no alpha
  static constexpr bool has_pre = true;
  XENTROPY_VM_INLINE double pre(double v) const { return vm::exp(v < 0.0 ? v : -v); }
  XENTROPY_VM_INLINE bool valid(double v) const { return v == v; }
  XENTROPY_VM_INLINE double alpha_t(double t) const {
    return alpha < 0.0 ? 1.0 : alpha * t + (1.0 - alpha) * (1.0 - t);
  }
  // log(1 - p_t) from e = exp(-|z|) and a = log1p(e)
  XENTROPY_VM_INLINE double log_q(double t, double v, double e, double a) const {
    const bool up = v >= 0.0;
    const double c = up ? t : 1.0 - t, d = up ? 1.0 - t : t;
    const double av = v < 0.0 ? -v : v;
    const double ln = vm::log(c * e + d);
    return (d > 0.0 ? ln : -av) - a;
  }
  // (1 - p_t)^gamma, 1 for gamma = 0 (also where 1 - p_t = 0)
  XENTROPY_VM_INLINE double factor(double lq) const {
    const double f = vm::exp(gamma * lq);
    return gamma == 0.0 ? 1.0 : f;
  }
  XENTROPY_VM_INLINE double loss(double t, double v, double e) const {
    const double a = vm::log1p(e);
    const softplus_pair s(v, e, a);
    const double ce = (t > 0.0 ? t * s.neg : 0.0) + (t < 1.0 ? (1.0 - t) * s.pos : 0.0);
    return alpha_t(t) * factor(log_q(t, v, e, a)) * ce;
  }
  // alpha_t F [gamma (1 - 2t) r CE + (1 - t) sigmoid(z) - t sigmoid(-z)] with
  // F = (1 - p_t)^gamma and r = sigmoid(z) sigmoid(-z) / (1 - p_t), whose log
  // is formed so that it is exactly log_sigmoid(+-z) for hard targets. The
  // sigmoids come from the same exponential as e (vm::sigmoid_pair, bit for
  // bit vm::sigmoid), so gamma = 0 is the cross-entropy's gradient.
  //
  // r = sigmoid(z) sigmoid(-z) (1 + e) / N where d > 0 (N >= d: no
  // underflow to 0); where d = 0, 1 - p_t is one of the sigmoids and r the
  // other, exactly.
  XENTROPY_VM_INLINE double grad(double t, double v) const {
    double sn, e;
    const double sp = vm::sigmoid_pair(v, sn, e);
    const double a = vm::log1p(e);
    const softplus_pair s(v, e, a);
    const double ce = (t > 0.0 ? t * s.neg : 0.0) + (t < 1.0 ? (1.0 - t) * s.pos : 0.0);
    const bool up = v >= 0.0;
    const double c = up ? t : 1.0 - t, d = up ? 1.0 - t : t;
    const double N = c * e + d;
    const double av = v < 0.0 ? -v : v;
    double F;
    if (Square) {
      const double q = N / (1.0 + e);
      F = q * q;
    } else {
      const double lq = (d > 0.0 ? vm::log(N) : -av) - a;
      F = factor(lq);
    }
    const double r = d > 0.0 ? sp * sn * (1.0 + e) / N : (up ? sp : sn);
    const double mod = gamma == 0.0 || r == 0.0 ? 0.0 : gamma * (1.0 - 2.0 * t) * r * ce;
    const double g = (t < 1.0 ? (1.0 - t) * sp : 0.0) - (t > 0.0 ? t * sn : 0.0);
    const double out = alpha_t(t) * F * (mod + g);
    return F == 0.0 ? 0.0 : out;
  }
};
using sigmoid_focal_policy = sigmoid_focal_policy_t<false>;

namespace detail {

// Sums of one block of per-observation losses: res = {sum of w l over
// non-missing l (0 where w is 0, even for an infinite l), sum of w d over
// them, number of missing l}. W: weights w; D: denominator factors d.
template <bool W, bool D>
struct block_sum_k {
  XENTROPY_VM_INLINE static void one(const double* l, const double* w, const double* d,
                                     index_t i, double& wl, double& ws, double& nc) {
    const double v = l[i], wi = W ? w[i] : 1.0, di = D ? d[i] : 1.0;
    const bool miss = v != v;
    wl += miss || wi == 0.0 ? 0.0 : wi * v;
    ws += miss ? 0.0 : wi * di;
    nc += miss ? 1.0 : 0.0;
  }
  XENTROPY_VM_INLINE static void run(const double* l, const double* w, const double* d,
                                     index_t n, double* res) {
    double wl[lanes], ws[lanes], nc[lanes];
    for (int k = 0; k < lanes; ++k) wl[k] = 0.0, ws[k] = 0.0, nc[k] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int k = 0; k < lanes; ++k) one(l, w, d, i + k, wl[k], ws[k], nc[k]);
    }
    for (; i < n; ++i) one(l, w, d, i, wl[0], ws[0], nc[0]);
    res[0] = res[1] = res[2] = 0.0;
    for (int k = 0; k < lanes; ++k) res[0] += wl[k], res[1] += ws[k], res[2] += nc[k];
  }
};

// out[i] = w_i l_i (0 where w_i is 0), missing l kept as they are.
template <bool W>
struct block_none_k {
  XENTROPY_VM_INLINE static void run(const double* l, const double* w, index_t n,
                                     double* out) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) {
      const double v = l[i], wi = W ? w[i] : 1.0;
      out[i] = v != v ? v : (wi == 0.0 ? 0.0 : wi * v);
    }
  }
};

// One block of per-observation losses reduced: into `out` for "none", else
// into acc (sum, weight, NA/NaN flags). d: denominator factors or null.
inline void reduce_block(const double* l, const double* d, index_t o0, index_t nb,
                         const loss_options& opt, double* out, accumulator& acc) {
  const double* w = opt.weights ? opt.weights + o0 : nullptr;
  if (opt.red == reduction::none) {
    dispatch_flags<block_none_k>(flags(w), l, w, nb, out + o0);
    return;
  }
  double res[3];
  dispatch_flags<block_sum_k>(flags(w, d), l, w, d, nb, res);
  acc.sum += res[0];
  acc.weight += res[1];
  if (res[2] > 0 && !opt.na_rm)
    for (index_t i = 0; i < nb; ++i)
      if (std::isnan(l[i])) acc.missing(l[i]);
}

// Total of per-observation losses produced block by block: block_loss(o0, o1,
// l, d, bad) writes l[0 .. o1 - o0) (NA/NaN when missing), optionally the
// denominator factors d (returning false when there are none) and notes the
// first invalid value of the block in `bad`.
template <class BlockLoss>
inline accumulator reduce_losses(index_t n, index_t block, index_t work,
                                 const loss_options& opt, double* out,
                                 first_invalid& bad, BlockLoss block_loss) {
  return sum_blocks(n, block, work, opt.nthreads,
                    [&](index_t o0, index_t o1, accumulator& acc) {
    double l[blocks::binary], d[blocks::binary];
    invalid_at first;
    const bool has_d = block_loss(o0, o1, l, d, first);
    bad.note(first);
    reduce_block(l, has_d ? d : nullptr, o0, o1 - o0, opt, out, acc);
  });
}

// The value of a reduction from its total.
inline double reduced_value(const accumulator& total, const loss_options& opt) {
  if (opt.red == reduction::none) return 0.0;
  const double s = total.value(opt.na_rm);
  if (std::isnan(s) || opt.red == reduction::sum) return s;
  return s / total.weight;
}

// Scale of each observation's gradient: w_i / sum(w) for "mean" (over the
// observations kept), w_i otherwise. Returns the denominator for "mean" when
// it can be known before the pass (no na_rm, no class weights), else 1
// (rescale afterwards by the total that the pass accumulates).
inline double mean_denominator(index_t n, const loss_options& opt, bool later) {
  if (opt.red != reduction::mean || later) return 1.0;
  if (!opt.weights) return static_cast<double>(n);
  const accumulator s = sum_blocks(n, blocks::binary, n, opt.nthreads,
                                   [&](index_t b0, index_t b1, accumulator& a) {
    for (index_t i = b0; i < b1; ++i) a.sum += opt.weights[i];
  });
  return s.sum;
}

// After a pass that could not know the "mean" denominator: divide by it.
inline void rescale(double* out, index_t len, double denom, int nthreads) {
  parallel_chunks(len, blocks::elementwise, threads_for(nthreads, len),
                  [=](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) out[i] /= denom;
  });
}

// ---------------------------------------------------------------------------
// The binary driver.

template <class Y>
XENTROPY_VM_INLINE double target_value(const Y* y, int offset, index_t i) {
  return static_cast<double>(y[i]) - offset;
}

// The common case of a block, branch-free: targets in [0, 1], predictions
// valid, no NA. res[0] counts the elements that are not (the caller then
// redoes the block with the scalar code, which sorts out missing and invalid
// values). `lanes` partial counts: an omp simd reduction over mixed int and
// double data does not vectorise in GCC 12.
template <class P>
struct binary_kernels {
  template <bool IntY, bool Shared>
  struct loss_k {
    // loss of element i into l[i] (which holds pre(v) on entry); 1 when the
    // element needs the scalar code
    XENTROPY_VM_INLINE static double one(const P& pol, const binary_targets& y,
                                         const double* pred, index_t i, double* l) {
      const double t = IntY ? target_value(y.i, y.offset, i) : y.d[i];
      const double v = pred[Shared ? 0 : i];
      l[i] = pol.loss(t, v, P::has_pre ? l[i] : 0.0);
      return (t >= 0.0 && t <= 1.0 && pol.valid(v)) ? 0.0 : 1.0;
    }
    XENTROPY_VM_INLINE static void run(P pol, binary_targets y, const double* pred,
                                       index_t n, double* l, double* res) {
      if (P::has_pre) {
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < n; ++i) l[i] = pol.pre(pred[Shared ? 0 : i]);
      }
      double nbad[lanes];
      for (int k = 0; k < lanes; ++k) nbad[k] = 0.0;
      index_t i = 0;
      for (; i + lanes <= n; i += lanes) {
        XENTROPY_VM_SIMD
        for (int k = 0; k < lanes; ++k) nbad[k] += one(pol, y, pred, i + k, l);
      }
      for (; i < n; ++i) nbad[0] += one(pol, y, pred, i, l);
      res[0] = 0.0;
      for (int k = 0; k < lanes; ++k) res[0] += nbad[k];
    }
  };
  template <bool IntY, bool W>
  struct grad_k {
    XENTROPY_VM_INLINE static void run(P pol, binary_targets y, const double* z,
                                       const double* w, index_t n, double denom,
                                       double* out, double* res) {
      double nbad = 0.0;
      XENTROPY_VM_SIMD_REDUCTION(+ : nbad)
      for (index_t i = 0; i < n; ++i) {
        const double t = IntY ? target_value(y.i, y.offset, i) : y.d[i];
        const double v = z[i];
        out[i] = pol.grad(t, v) * ((W ? w[i] : 1.0) / denom);
        nbad += (t >= 0.0 && t <= 1.0 && pol.valid(v)) ? 0.0 : 1.0;
      }
      res[0] = nbad;
    }
  };
};

// The target and prediction of observation o, sorted out (scalar code): a
// valid pair returns true; a missing one sets m, an invalid one `bad`.
template <class P>
inline bool binary_pair(const P& pol, const binary_targets& y, const double* pred,
                        index_t pstride, index_t o, index_t origin, double& t,
                        double& v, missing& m, invalid_at& bad) {
  bool valid;
  t = y.get(o, valid);
  v = pred[o * pstride];
  m = missing::none;
  if (!valid) {
    bad.merge(invalid_at{origin + o, operand::target});
    return false;
  }
  if (std::isnan(t) || std::isnan(v)) {
    m = missing_of(t) | missing_of(v);
    return false;
  }
  if (!pol.valid(v)) {
    bad.merge(invalid_at{(origin + o) * pstride, operand::prediction});
    return false;
  }
  return true;
}

}  // namespace detail

// Total of a binary loss over observations [0, n) of y, pred (stride 0: one
// prediction for all), weights opt.weights; "none" writes w_i l_i to out.
// Positions are reported from `origin` (for callers that read long targets in
// chunks).
template <class P>
inline accumulator binary_loss_total(const P& pol, const binary_targets& y,
                                     const double* pred, index_t pstride, index_t n,
                                     const loss_options& opt, double* out,
                                     first_invalid& bad, index_t origin = 0) {
  return detail::reduce_losses(
      n, blocks::binary, n, opt, out, bad,
      [&](index_t o0, index_t o1, double* l, double*, invalid_at& first) {
        double res[1];
        const binary_targets yb = y.shifted(o0);
        dispatch_flags<detail::binary_kernels<P>::template loss_k>(
            flags(y.i != nullptr, pstride == 0), pol, yb, pred + o0 * pstride,
            o1 - o0, l, res);
        if (res[0] == 0.0) return false;
        for (index_t o = o0; o < o1; ++o) {
          double t, v;
          missing m;
          const bool ok = detail::binary_pair(pol, y, pred, pstride, o, origin, t, v, m, first);
          l[o - o0] = ok ? pol.loss(t, v, pol.pre(v))
                         : (m == missing::none ? 0.0 : missing_value(m));
        }
        return false;
      });
}

// A binary loss reduced as opt.red says ("none": the losses are in out).
template <class P>
inline double binary_loss(const P& pol, const binary_targets& y, const double* pred,
                          index_t pstride, index_t n, const loss_options& opt,
                          double* out, first_invalid& bad) {
  return detail::reduced_value(binary_loss_total(pol, y, pred, pstride, n, opt, out, bad),
                               opt);
}

// d loss / d logits of a binary loss, written to out (length n): each
// observation's gradient times w_i (and divided by the total weight for
// "mean"). Missing observations give NA (NaN), or 0 with na_rm.
template <class P>
inline void binary_loss_grad(const P& pol, const binary_targets& y, const double* logits,
                             index_t n, const loss_options& opt, double* out,
                             first_invalid& bad) {
  const bool later = opt.red == reduction::mean && opt.na_rm;
  const double denom = detail::mean_denominator(n, opt, later);
  const accumulator kept = sum_blocks(
      n, blocks::binary, n, opt.nthreads,
      [&](index_t o0, index_t o1, accumulator& acc) {
        const index_t nb = o1 - o0;
        const double* w = opt.weights ? opt.weights + o0 : nullptr;
        double res[1];
        dispatch_flags<detail::binary_kernels<P>::template grad_k>(
            flags(y.i != nullptr, w), pol, y.shifted(o0), logits + o0, w, nb, denom,
            out + o0, res);
        if (res[0] == 0.0) {
          if (later)
            for (index_t i = 0; i < nb; ++i) acc.weight += w ? w[i] : 1.0;
          return;
        }
        invalid_at first;
        for (index_t o = o0; o < o1; ++o) {
          double t, v;
          missing m;
          const double wo = opt.weights ? opt.weights[o] : 1.0;
          if (detail::binary_pair(pol, y, logits, 1, o, 0, t, v, m, first)) {
            out[o] = pol.grad(t, v) * (wo / denom);
            acc.weight += wo;
          } else {
            out[o] = m == missing::none || opt.na_rm ? 0.0 : missing_value(m);
          }
        }
        bad.note(first);
      });
  if (later) detail::rescale(out, n, kept.weight, opt.nthreads);
}

// The named binary losses.
inline double binary_cross_entropy(const binary_targets& y, const double* prob,
                                   index_t prob_stride, index_t n,
                                   const loss_options& opt, double* out,
                                   first_invalid& bad) {
  return binary_loss(bce_prob_policy{}, y, prob, prob_stride, n, opt, out, bad);
}

inline double sigmoid_cross_entropy(const binary_targets& y, const double* logits,
                                    index_t n, double pos_weight,
                                    const loss_options& opt, double* out,
                                    first_invalid& bad) {
  return binary_loss(bce_logit_policy{pos_weight}, y, logits, 1, n, opt, out, bad);
}

inline void sigmoid_cross_entropy_grad(const binary_targets& y, const double* logits,
                                       index_t n, double pos_weight,
                                       const loss_options& opt, double* out,
                                       first_invalid& bad) {
  binary_loss_grad(bce_logit_policy{pos_weight}, y, logits, n, opt, out, bad);
}

inline double sigmoid_focal_loss(const binary_targets& y, const double* logits,
                                 index_t n, double gamma, double alpha,
                                 const loss_options& opt, double* out,
                                 first_invalid& bad) {
  return binary_loss(sigmoid_focal_policy{gamma, alpha}, y, logits, 1, n, opt, out, bad);
}

inline void sigmoid_focal_loss_grad(const binary_targets& y, const double* logits,
                                    index_t n, double gamma, double alpha,
                                    const loss_options& opt, double* out,
                                    first_invalid& bad) {
  if (gamma == 2.0)
    binary_loss_grad(sigmoid_focal_policy_t<true>{gamma, alpha}, y, logits, n, opt, out, bad);
  else
    binary_loss_grad(sigmoid_focal_policy{gamma, alpha}, y, logits, n, opt, out, bad);
}

// ---------------------------------------------------------------------------
// Categorical policies. A row of logits is summarised by its softmax
// statistics (softmax_row); per class k, with t the (weighted) target:
//   term(t, r, z)   the loss term of class k (t > 0),
//   coef(t, r, z)   a_k such that d l / d z_j = p_j sum_k a_k - a_j
//                   (a_k = t_k for the cross-entropy),
//   row_sum         whether sum_k a_k must be formed (else it is the sum of
//                   the targets, taken as 1).
// From probabilities (cross_entropy_loss) term(t, p) is -t log p.

// Softmax statistics of one row: m, S = t + c, S - 1 and L = log1p(S - 1).
struct softmax_row {
  double m, S, Sm1, L;
  bool pos_inf;  // the row has c entries +Inf: softmax is 1/c on them, 0 elsewhere
  // -log softmax(z)
  XENTROPY_VM_INLINE double nll(double z) const {
    const double v = (m - z) + L;
    return pos_inf ? (z == inf() ? std::log(S) : inf()) : v;
  }
  XENTROPY_VM_INLINE double prob(double z) const {
    const double v = vm::exp(z - m) / S;
    return pos_inf ? (z == inf() ? 1.0 / S : 0.0) : v;
  }
  // log(1 - softmax(z)), without cancellation (see the top of the file)
  XENTROPY_VM_INLINE double log1m_prob(double z) const {
    const double q = z == m ? Sm1 / S : 1.0 - vm::exp(z - m) / S;
    return vm::log(q);
  }
};

struct softmax_ce_policy {
  static constexpr bool logits = true;
  static constexpr bool row_sum = false;
  XENTROPY_VM_INLINE double term(double t, const softmax_row& r, double z) const {
    return t * r.nll(z);
  }
  XENTROPY_VM_INLINE double coef(double t, const softmax_row&, double) const { return t; }
};

// -alpha t (1 - p)^gamma log p. Its gradient coefficient is
// a = alpha t (1 - p)^gamma (1 + gamma p (-log p) / (1 - p)).
struct softmax_focal_policy {
  double gamma = 2.0;
  double alpha = 1.0;
  static constexpr bool logits = true;
  static constexpr bool row_sum = true;
  XENTROPY_VM_INLINE double factor(const softmax_row& r, double z) const {
    const double f = vm::exp(gamma * r.log1m_prob(z));
    return gamma == 0.0 ? 1.0 : f;
  }
  XENTROPY_VM_INLINE double term(double t, const softmax_row& r, double z) const {
    return alpha * t * factor(r, z) * r.nll(z);
  }
  // (one exponential for p and 1 - p: q is formed as log1m_prob() forms it,
  // not taken back from its logarithm)
  XENTROPY_VM_INLINE double coef(double t, const softmax_row& r, double z) const {
    const double p = r.prob(z), nll = r.nll(z);
    const double q = z == r.m ? r.Sm1 / r.S : 1.0 - vm::exp(z - r.m) / r.S;
    const double lq = vm::log(q);
    const double f = gamma == 0.0 ? 1.0 : vm::exp(gamma * lq);
    const double extra = gamma == 0.0 || p == 0.0 || q == 0.0 ? 0.0 : gamma * p * nll / q;
    return alpha * t * f * (1.0 + extra);
  }
};

struct ce_prob_policy {
  static constexpr bool logits = false;
  static constexpr bool row_sum = false;
  XENTROPY_VM_INLINE double term(double t, double p) const {
    return p == 0.0 ? inf() : -t * std::log(p);
  }
};

namespace detail {

// Labels of the observations of a block, with missingness and invalid labels.
inline void block_labels(const categorical_targets& y, index_t o0, index_t nb,
                         index_t K, index_t* lab, missing* miss, invalid_at& bad) {
  for (index_t i = 0; i < nb; ++i) {
    miss[i] = missing::none;
    if (y.is_matrix()) {
      lab[i] = class_labels::absent;
      continue;
    }
    lab[i] = y.labels.get(o0 + i, K, miss[i]);
    if (lab[i] == class_labels::out_of_range)
      bad.merge(invalid_at{y.origin + o0 + i, operand::target});
  }
}

// Target t_ik of observation o = o0 + i for class k: the label's one-hot
// entry, or the target matrix entry, checked. A missing entry marks the row
// and an entry outside [0, 1] is noted; both return -1, which callers skip.
inline double target_at(const categorical_targets& y, const index_t* lab, index_t i,
                        index_t o, index_t k, missing* miss, invalid_at& bad) {
  if (!y.is_matrix()) return lab[i] < 0 ? -1.0 : (lab[i] == k ? 1.0 : 0.0);
  const double t = y.matrix(o, k);
  if (std::isnan(t)) {
    miss[i] |= missing_of(t);
    return -1.0;
  }
  if (!is_unit(t)) {
    bad.merge(invalid_at{y.matrix.at(o, k), operand::target});
    return -1.0;
  }
  return t;
}

// The weighted, smoothed target c_k ((1 - eps) t + eps / K).
inline double weighted_target(double t, index_t k, index_t K, const categorical_options& c) {
  const double s = c.label_smoothing == 0.0
                       ? t
                       : (1.0 - c.label_smoothing) * t + c.label_smoothing / static_cast<double>(K);
  return c.class_weights ? c.class_weights[k] * s : s;
}

// Softmax statistics of the rows of a block (logits) and their missingness.
struct softmax_block {
  softmax_row rows[blocks::categorical];
  kind kinds[blocks::categorical];

  void compute(const double* z, index_t n, index_t K, index_t o0, index_t o1,
               missing* miss) {
    lse_stats st[blocks::categorical];
    row_stats(z, n, K, o0, o1, scale(1.0), st);
    // L = log1p(t + c - 1) of the block's rows in one vectorised loop, as
    // logsumexp() and log_softmax() form it
    const index_t nb = o1 - o0;
    double t[blocks::categorical], c[blocks::categorical], L[blocks::categorical];
    for (index_t i = 0; i < nb; ++i) {
      kinds[i] = classify(st[i], false);
      const bool reg = kinds[i] == kind::regular;
      t[i] = reg ? st[i].t : 0.0;
      c[i] = reg ? st[i].c : 1.0;
    }
    vm::dispatch<log1p_k>(static_cast<const double*>(t), static_cast<const double*>(c), nb,
                          static_cast<double*>(L));
    for (index_t i = 0; i < nb; ++i) {
      const double Sm1 = st[i].t + (st[i].c - 1.0);
      rows[i] = softmax_row{st[i].m, st[i].t + st[i].c, Sm1,
                            kinds[i] == kind::regular ? L[i] : 0.0,
                            kinds[i] == kind::pos_inf};
      if (kinds[i] == kind::na) miss[i] |= missing::na;
      else if (kinds[i] == kind::nan || kinds[i] == kind::all_neg_inf) miss[i] |= missing::nan;
    }
  }
  bool regular(index_t i) const { return kinds[i] == kind::regular; }
};

// l[i] = term of the true class of regular rows (use[i] = 1), else 0.
template <class P>
struct label_terms_k {
  XENTROPY_VM_INLINE static void run(P pol, const double* z, const double* tw,
                                     const double* m, const double* S, const double* Sm1,
                                     const double* L, const double* use, index_t nb,
                                     double* l) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < nb; ++i) {
      const double v = pol.term(tw[i], softmax_row{m[i], S[i], Sm1[i], L[i], false}, z[i]);
      l[i] = use[i] != 0.0 ? v : 0.0;
    }
  }
};

// Per-observation losses of a block of a categorical loss from logits.
// Returns whether it wrote denominator factors d (labels and class weights).
template <class P>
inline bool categorical_block(const P& pol, const categorical_targets& y,
                              const double* logits, index_t n, index_t K,
                              const categorical_options& opts, index_t o0, index_t o1,
                              double* l, double* d, invalid_at& bad) {
  const categorical_options copt = opts;  // a local copy: no reload after each store to l
  const view Z{logits, 1, n};
  const index_t nb = o1 - o0;
  index_t lab[blocks::categorical];
  missing miss[blocks::categorical];
  block_labels(y, o0, nb, K, lab, miss, bad);
  softmax_block sb;
  sb.compute(logits, n, K, o0, o1, miss);
  for (index_t i = 0; i < nb; ++i) l[i] = 0.0;
  if (!y.is_matrix() && copt.label_smoothing == 0.0) {
    // one entry per row: the true class; regular rows in one vectorised
    // loop (the focal factor's exp and log), rows with +Inf after it
    double zt[blocks::categorical], tw[blocks::categorical], rm[blocks::categorical],
        rS[blocks::categorical], rSm1[blocks::categorical], rL[blocks::categorical],
        use[blocks::categorical];
    bool special = false;
    for (index_t i = 0; i < nb; ++i) {
      const bool ok = miss[i] == missing::none && lab[i] >= 0;
      const bool fast = ok && sb.regular(i);
      special = special || (ok && !fast);
      use[i] = fast ? 1.0 : 0.0;
      zt[i] = fast ? Z(o0 + i, lab[i]) : 0.0;
      tw[i] = fast ? weighted_target(1.0, lab[i], K, copt) : 0.0;
      rm[i] = fast ? sb.rows[i].m : 0.0;
      rS[i] = fast ? sb.rows[i].S : 1.0;
      rSm1[i] = fast ? sb.rows[i].Sm1 : 0.0;
      rL[i] = fast ? sb.rows[i].L : 0.0;
    }
    vm::dispatch<label_terms_k<P>>(pol, static_cast<const double*>(zt),
                                   static_cast<const double*>(tw),
                                   static_cast<const double*>(rm),
                                   static_cast<const double*>(rS),
                                   static_cast<const double*>(rSm1),
                                   static_cast<const double*>(rL),
                                   static_cast<const double*>(use), nb, l);
    if (special) {
      for (index_t i = 0; i < nb; ++i) {
        if (miss[i] != missing::none || lab[i] < 0 || sb.regular(i)) continue;
        l[i] = pol.term(weighted_target(1.0, lab[i], K, copt), sb.rows[i], Z(o0 + i, lab[i]));
      }
    }
  } else {
    for (index_t k = 0; k < K; ++k) {
      for (index_t i = 0; i < nb; ++i) {
        const index_t o = o0 + i;
        if (miss[i] != missing::none) continue;
        const double t = target_at(y, lab, i, o, k, miss, bad);
        if (t < 0.0) continue;
        const double tw = weighted_target(t, k, K, copt);
        if (tw > 0.0) l[i] += pol.term(tw, sb.rows[i], Z(o, k));
      }
    }
  }
  for (index_t i = 0; i < nb; ++i)
    if (miss[i] != missing::none) l[i] = missing_value(miss[i]);
  if (y.is_matrix() || !copt.class_weights) return false;
  for (index_t i = 0; i < nb; ++i) d[i] = lab[i] >= 0 ? copt.class_weights[lab[i]] : 1.0;
  return true;
}

// The same from probabilities: every entry is read and checked.
inline bool categorical_block(const ce_prob_policy& pol, const categorical_targets& y,
                              view P, index_t K, const categorical_options& opts,
                              index_t o0, index_t o1, double* l, double* d,
                              invalid_at& bad) {
  const categorical_options copt = opts;
  const index_t nb = o1 - o0;
  index_t lab[blocks::categorical];
  missing miss[blocks::categorical];
  block_labels(y, o0, nb, K, lab, miss, bad);
  for (index_t i = 0; i < nb; ++i) l[i] = 0.0;
  for (index_t k = 0; k < K; ++k) {
    for (index_t i = 0; i < nb; ++i) {
      const index_t o = o0 + i;
      const double p = P(o, k);
      if (std::isnan(p)) {
        miss[i] |= missing_of(p);
        continue;
      }
      if (!is_unit(p)) {
        bad.merge(invalid_at{P.at(o, k), operand::prediction});
        continue;
      }
      const double t = target_at(y, lab, i, o, k, miss, bad);
      if (t <= 0.0) continue;  // no label smoothing here: t = 0 adds nothing
      const double tw = copt.class_weights ? copt.class_weights[k] * t : t;
      if (tw > 0.0) l[i] += pol.term(tw, p);
    }
  }
  for (index_t i = 0; i < nb; ++i)
    if (miss[i] != missing::none) l[i] = missing_value(miss[i]);
  if (y.is_matrix() || !copt.class_weights) return false;
  for (index_t i = 0; i < nb; ++i) d[i] = lab[i] >= 0 ? copt.class_weights[lab[i]] : 1.0;
  return true;
}

// The gradient of the regular rows of a block, class by class with the rows
// in the inner (vectorised) loop: out = (p A - a) * scale, a_k = coef(t'_k),
// A = sum_k a_k (pass 1, when the policy needs it; else 1). Targets are
// labels (0-based, as doubles) or a target matrix T; t' the weighted,
// smoothed target.
template <class P>
struct softmax_grad_kernels {
  template <bool Matrix, bool CW, bool Sum>
  struct k {
    XENTROPY_VM_INLINE static double target(const double* tc, const double* lab,
                                            index_t i, double kd, double keep,
                                            double spread, double c) {
      const double t = Matrix ? tc[i] : (lab[i] == kd ? 1.0 : 0.0);
      return (CW ? c : 1.0) * (keep * t + spread);
    }
    XENTROPY_VM_INLINE static void run(P pol, const double* z, index_t n, index_t K,
                                       index_t o0, index_t nb, const double* m,
                                       const double* S, const double* Sm1,
                                       const double* L, const double* lab, const double* T,
                                       const double* cw, double eps, const double* scale,
                                       double* A, double* out) {
      const double keep = 1.0 - eps, spread = eps / static_cast<double>(K);
      if (Sum && !Matrix && eps == 0.0) {
        // labels: a_k = 0 but for the true class, so A is that class's
        // coefficient (adding the zeros changes nothing), formed once per row
        double zt[blocks::categorical], tw[blocks::categorical];
        for (index_t i = 0; i < nb; ++i) {
          const bool has = lab[i] >= 0.0;
          const index_t kl = has ? static_cast<index_t>(lab[i]) : 0;
          zt[i] = has ? z[kl * n + o0 + i] : 0.0;
          tw[i] = has ? (CW ? cw[kl] : 1.0) : 0.0;
        }
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < nb; ++i) {
          const double a = pol.coef(tw[i], softmax_row{m[i], S[i], Sm1[i], L[i], false}, zt[i]);
          A[i] = lab[i] >= 0.0 ? a : 0.0;
        }
        for (index_t k = 0; k < K; ++k) {
          const double* zc = z + k * n + o0;
          double* oc = out + k * n + o0;
          const double kd = static_cast<double>(k);
          XENTROPY_VM_SIMD
          for (index_t i = 0; i < nb; ++i) {
            const double p = vm::exp(zc[i] - m[i]) / S[i];
            const double a = lab[i] == kd ? A[i] : 0.0;
            oc[i] = (p * A[i] - a) * scale[i];
          }
        }
        return;
      }
      if (Sum) {
        for (index_t i = 0; i < nb; ++i) A[i] = 0.0;
        for (index_t k = 0; k < K; ++k) {
          const double* zc = z + k * n + o0;
          const double* tc = Matrix ? T + k * n + o0 : nullptr;
          const double kd = static_cast<double>(k), c = CW ? cw[k] : 1.0;
          double* oc = out + k * n + o0;  // a_k kept for pass 2
          XENTROPY_VM_SIMD
          for (index_t i = 0; i < nb; ++i) {
            const double a = pol.coef(target(tc, lab, i, kd, keep, spread, c),
                                      softmax_row{m[i], S[i], Sm1[i], L[i], false}, zc[i]);
            oc[i] = a;
            A[i] += a;
          }
        }
      }
      for (index_t k = 0; k < K; ++k) {
        const double* zc = z + k * n + o0;
        const double* tc = Matrix ? T + k * n + o0 : nullptr;
        double* oc = out + k * n + o0;
        const double kd = static_cast<double>(k), c = CW ? cw[k] : 1.0;
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < nb; ++i) {
          const double p = vm::exp(zc[i] - m[i]) / S[i];
          const double a = Sum ? oc[i]
                               : pol.coef(target(tc, lab, i, kd, keep, spread, c),
                                          softmax_row{m[i], S[i], Sm1[i], L[i], false}, zc[i]);
          oc[i] = ((Sum ? p * A[i] : p) - a) * scale[i];
        }
      }
    }
  };
};

}  // namespace detail

// Total of a categorical loss from logits (n x K, column-major).
template <class P>
inline accumulator categorical_loss_total(const P& pol, const categorical_targets& y,
                                          const double* logits, index_t n, index_t K,
                                          const categorical_options& copt,
                                          const loss_options& opt, double* out,
                                          first_invalid& bad) {
  return detail::reduce_losses(
      n, blocks::categorical, n * K, opt, out, bad,
      [&](index_t o0, index_t o1, double* l, double* d, invalid_at& first) {
        return detail::categorical_block(pol, y, logits, n, K, copt, o0, o1, l, d, first);
      });
}

// From probabilities, viewed by P (a matrix, or one distribution shared by
// all observations: P.so = 0).
inline accumulator categorical_loss_total(const ce_prob_policy& pol,
                                          const categorical_targets& y, view P, index_t n,
                                          index_t K, const categorical_options& copt,
                                          const loss_options& opt, double* out,
                                          first_invalid& bad) {
  return detail::reduce_losses(
      n, blocks::categorical, n * K, opt, out, bad,
      [&](index_t o0, index_t o1, double* l, double* d, invalid_at& first) {
        return detail::categorical_block(pol, y, P, K, copt, o0, o1, l, d, first);
      });
}

// d loss / d logits of a categorical loss, written to out (n x K): p_j A - a_j
// per row (softmax(z_i) - t'_i for the cross-entropy) times w_i, divided by
// the total weight for "mean". Missing observations give NA (NaN) rows, or 0
// rows with na_rm.
template <class P>
inline void categorical_loss_grad(const P& pol, const categorical_targets& y,
                                  const double* logits, index_t n, index_t K,
                                  const categorical_options& copt,
                                  const loss_options& opt, double* out,
                                  first_invalid& bad) {
  const view Z{logits, 1, n};
  const bool labels_cw = !y.is_matrix() && copt.class_weights;
  const bool later = opt.red == reduction::mean && (opt.na_rm || labels_cw);
  const double denom = detail::mean_denominator(n, opt, later);
  const bool row_sum = P::row_sum || copt.class_weights;
  const accumulator kept = sum_blocks(
      n, blocks::categorical, n * K, opt.nthreads,
      [&](index_t o0, index_t o1, accumulator& acc) {
        const index_t nb = o1 - o0;
        index_t lab[blocks::categorical];
        missing miss[blocks::categorical];
        invalid_at first;
        detail::block_labels(y, o0, nb, K, lab, miss, first);
        detail::softmax_block sb;
        sb.compute(logits, n, K, o0, o1, miss);
        if (y.is_matrix()) {
          // a missing target anywhere in the row makes the row missing
          for (index_t k = 0; k < K; ++k)
            for (index_t i = 0; i < nb; ++i)
              detail::target_at(y, lab, i, o0 + i, k, miss, first);
        }
        bad.note(first);
        double scale[blocks::categorical], labd[blocks::categorical], A[blocks::categorical];
        double m[blocks::categorical], S[blocks::categorical], Sm1[blocks::categorical],
            L[blocks::categorical];
        bool special = false;
        for (index_t i = 0; i < nb; ++i) {
          const double w = opt.weights ? opt.weights[o0 + i] : 1.0;
          scale[i] = w / denom;
          const bool ok = miss[i] == missing::none;
          if (ok) acc.weight += labels_cw && lab[i] >= 0 ? w * copt.class_weights[lab[i]] : w;
          // harmless values for rows that are missing or infinite; those
          // rows are rewritten below
          const bool regular = sb.regular(i) && ok;
          special = special || !regular;
          m[i] = regular ? sb.rows[i].m : 0.0;
          S[i] = regular ? sb.rows[i].S : 1.0;
          Sm1[i] = regular ? sb.rows[i].Sm1 : 0.0;
          L[i] = regular ? sb.rows[i].L : 0.0;
          labd[i] = y.is_matrix() ? -1.0 : static_cast<double>(lab[i]);
        }
        dispatch_flags<detail::softmax_grad_kernels<P>::template k>(
            flags(y.is_matrix(), copt.class_weights, row_sum), pol, logits, n, K, o0, nb,
            static_cast<const double*>(m), static_cast<const double*>(S),
            static_cast<const double*>(Sm1), static_cast<const double*>(L),
            static_cast<const double*>(labd),
            y.is_matrix() ? y.matrix.data : nullptr, copt.class_weights,
            copt.label_smoothing, static_cast<const double*>(scale), A, out);
        if (!special) return;
        for (index_t i = 0; i < nb; ++i) {
          if (sb.regular(i) && miss[i] == missing::none) continue;
          const index_t o = o0 + i;
          if (miss[i] != missing::none) {
            const double g = opt.na_rm ? 0.0 : missing_value(miss[i]);
            for (index_t k = 0; k < K; ++k) out[Z.at(o, k)] = g;
            continue;
          }
          auto tw = [&](index_t k) {
            return detail::weighted_target(
                y.is_matrix() ? y.matrix(o, k) : (lab[i] == k ? 1.0 : 0.0), k, K, copt);
          };
          const softmax_row& r = sb.rows[i];
          double Ai = 1.0;
          if (row_sum) {
            Ai = 0.0;
            for (index_t k = 0; k < K; ++k) Ai += pol.coef(tw(k), r, Z(o, k));
          }
          for (index_t k = 0; k < K; ++k)
            out[Z.at(o, k)] = (r.prob(Z(o, k)) * Ai - pol.coef(tw(k), r, Z(o, k))) * scale[i];
        }
      });
  if (later) detail::rescale(out, n * K, kept.weight, opt.nthreads);
}

// The named categorical losses.
inline double cross_entropy_loss(const categorical_targets& y, const double* prob,
                                 index_t n, index_t K, const categorical_options& copt,
                                 const loss_options& opt, double* out,
                                 first_invalid& bad) {
  return detail::reduced_value(
      categorical_loss_total(ce_prob_policy{}, y, view{prob, 1, n}, n, K, copt, opt, out, bad),
      opt);
}

inline double softmax_cross_entropy(const categorical_targets& y, const double* logits,
                                    index_t n, index_t K, const categorical_options& copt,
                                    const loss_options& opt, double* out,
                                    first_invalid& bad) {
  return detail::reduced_value(
      categorical_loss_total(softmax_ce_policy{}, y, logits, n, K, copt, opt, out, bad),
      opt);
}

inline void softmax_cross_entropy_grad(const categorical_targets& y, const double* logits,
                                       index_t n, index_t K,
                                       const categorical_options& copt,
                                       const loss_options& opt, double* out,
                                       first_invalid& bad) {
  categorical_loss_grad(softmax_ce_policy{}, y, logits, n, K, copt, opt, out, bad);
}

inline double softmax_focal_loss(const categorical_targets& y, const double* logits,
                                 index_t n, index_t K, double gamma, double alpha,
                                 const loss_options& opt, double* out,
                                 first_invalid& bad) {
  return detail::reduced_value(
      categorical_loss_total(softmax_focal_policy{gamma, alpha}, y, logits, n, K,
                             categorical_options{}, opt, out, bad),
      opt);
}

inline void softmax_focal_loss_grad(const categorical_targets& y, const double* logits,
                                    index_t n, index_t K, double gamma, double alpha,
                                    const loss_options& opt, double* out,
                                    first_invalid& bad) {
  categorical_loss_grad(softmax_focal_policy{gamma, alpha}, y, logits, n, K,
                        categorical_options{}, opt, out, bad);
}

}  // namespace xentropy

#endif  // XENTROPY_LOSS_HPP
