// xentropy/binary_loss.hpp -- the binary losses (binary cross-entropy from
// probabilities, sigmoid cross-entropy and sigmoid focal loss from logits):
// their policies and the binary driver. The formulas and numerical tricks are
// listed in loss.hpp.
#ifndef XENTROPY_BINARY_LOSS_HPP
#define XENTROPY_BINARY_LOSS_HPP

#include "loss_base.hpp"

namespace xentropy {

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

namespace detail {
// (1 - p_t)^gamma for target t, logit v and e = exp(-|v|) (see below): log(1 - p_t) =
// log N - log1p(e) and its product by gamma as double-doubles, so the power keeps its
// digits where it is tiny (exp of the rounded product alone is off by up to
// |gamma log(1 - p_t)| 2^-53 relative: 436 ulp at gamma = 3.7). Out of line: one copy
// serves every kernel (inlined, the double-double arithmetic grew the library by 100 KB).
XENTROPY_VM_NOINLINE double focal_factor(double gamma, double t, double v, double e) {
  const bool up = v >= 0.0;
  const double c = up ? t : 1.0 - t, d = up ? 1.0 - t : t;
  const double av = v < 0.0 ? -v : v;
  const double N = c * e + d;
  double nl = 0.0, al;
  const double ln = d > 0.0 ? vm::log_dd_split(N > 0.0 ? N : 1.0, 0.0, nl) : -av;
  nl = d > 0.0 ? nl : 0.0;
  const double ah = vm::log1p_dd_split(e, 0.0, al);
  const double s = ln - ah, bb = s - ln;
  const double sl = ((ln - (s - bb)) - (ah + bb)) + (nl - al);  // log(1 - p_t) = s + sl
  return vm::exp_scaled_dd(gamma, s, sl);
}
}  // namespace detail

// Sigmoid focal loss (Lin et al. 2017, torchvision.ops.sigmoid_focal_loss):
// alpha_t (1 - p_t)^gamma CE, with CE the cross-entropy from logits above.
// 1 - p_t = t sigmoid(-z) + (1 - t) sigmoid(z) = N / (1 + e), e = exp(-|z|),
// with N = c e + d a sum of non-negative terms (c = t, d = 1 - t for z >= 0;
// the other way round for z < 0), so log(1 - p_t) = log N - log1p(e) with
// one logarithm; where d = 0 (a hard target on the far side), c = 1 and
// log N = -|z| exactly, whatever e underflows to. For hard targets this is
// exactly -softplus(+-z), i.e. log_sigmoid(-+z).
//
// Square (gamma = 2, the default; chosen by sigmoid_focal_loss() and its gradient):
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
  // (1 - p_t)^gamma, 1 for gamma = 0 (also where 1 - p_t = 0)
  XENTROPY_VM_INLINE double factor(double t, double v, double e) const {
    if (Square) {
      // exp(2 log(1 - p_t)) with the sum log N - log1p(e) carried as a double-double
      // (the doubling is exact): about 1 ulp for hard targets, where (N / (1 + e))^2
      // is off by up to 5
      const bool up = v >= 0.0;
      const double c = up ? t : 1.0 - t, d = up ? 1.0 - t : t;
      const double av = v < 0.0 ? -v : v;
      const double ln = d > 0.0 ? vm::log(c * e + d) : -av;
      const double a = vm::log1p(e);
      const double s = ln - a, bb = s - ln;
      const double sl = (ln - (s - bb)) - (a + bb);
      return vm::exp_dd(2.0 * s, 2.0 * sl);
    }
    const double f = detail::focal_factor(gamma, t, v, e);
    return gamma == 0.0 ? 1.0 : f;
  }
  XENTROPY_VM_INLINE double loss(double t, double v, double e) const {
    const double a = vm::log1p(e);
    const softplus_pair s(v, e, a);
    const double ce = (t > 0.0 ? t * s.neg : 0.0) + (t < 1.0 ? (1.0 - t) * s.pos : 0.0);
    return alpha_t(t) * factor(t, v, e) * ce;
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
    double F;
    if (Square) {
      const double q = N / (1.0 + e);
      F = q * q;
    } else {
      F = factor(t, v, e);
    }
    const double r = d > 0.0 ? sp * sn * (1.0 + e) / N : (up ? sp : sn);
    const double mod = gamma == 0.0 || r == 0.0 ? 0.0 : gamma * (1.0 - 2.0 * t) * r * ce;
    const double g = (t < 1.0 ? (1.0 - t) * sp : 0.0) - (t > 0.0 ? t * sn : 0.0);
    const double out = alpha_t(t) * F * (mod + g);
    return F == 0.0 ? 0.0 : out;
  }
};
using sigmoid_focal_policy = sigmoid_focal_policy_t<false>;

// ---------------------------------------------------------------------------
// The binary driver.

namespace detail {

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
  if (gamma == 2.0)
    return binary_loss(sigmoid_focal_policy_t<true>{gamma, alpha}, y, logits, 1, n, opt, out, bad);
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

}  // namespace xentropy

#endif  // XENTROPY_BINARY_LOSS_HPP
