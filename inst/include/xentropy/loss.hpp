// xentropy/loss.hpp -- classification losses and their gradients, fused.
//
// Per observation i with target distribution t_i over K classes:
//   cross_entropy_loss:     l_i = -sum_k t_ik log p_ik            (probabilities)
//   softmax_cross_entropy:  l_i = -sum_k t'_ik log_softmax(z_i)_k  (logits)
//       with t' = (1 - eps) t + eps / K (label smoothing, as PyTorch)
//   binary_cross_entropy:   l_i = -[y log p + (1 - y) log(1 - p)]
//   sigmoid_cross_entropy:  l_i = w+ y softplus(-z) + (1 - y) softplus(z)
//       (= -[w+ y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], PyTorch's
//       BCEWithLogits with pos_weight w+)
// A label y_i is the one-hot target t_ik = [k = y_i]. This is the negative
// log-likelihood of the observation (PRML eqs. 4.90 and 4.108).
// Reductions: "sum" is sum_i w_i l_i, "mean" is sum_i w_i l_i / sum_i w_i (the
// weighted mean of yardstick and PyTorch), "none" gives w_i l_i.
//
// Numerical tricks:
// * From logits, -log_softmax(z)_k = (m - z_k) + log1p(sum_{z_j < m} e^{z_j - m}
//   + c - 1), m = max_j z_j, c = #{j : z_j = m} (see normalise.hpp): no
//   probability is formed and no log of a rounded probability is taken, so
//   the loss is exact for logits of +-1e10 and stays finite where the limit is.
// * Binary from logits: softplus (Maechler's log1pexp, link.hpp).
// * 0 log 0 = 0: a class with target 0 contributes nothing, whatever its
//   prediction. A true class with probability 0 costs Inf (no clipping).
// Each loss reads its predictions once and allocates nothing of their size:
// per-observation losses live in a stack buffer for one block of observations,
// and block totals are added in block order (thread-count independent).
#ifndef XENTROPY_LOSS_HPP
#define XENTROPY_LOSS_HPP

#include <climits>

#include "information.hpp"
#include "link.hpp"
#include "normalise.hpp"
#include "reduce.hpp"

namespace xentropy {

enum class reduction { mean = 0, sum = 1, none = 2 };

// Which operand an invalid value came from (see first_invalid).
enum operand { target = 0, prediction = 1 };

// Binary targets: doubles in [0, 1] (d), or integer codes (i) minus `offset`
// (0/1 for integer and logical vectors, factor codes 1/2 with offset 1).
struct binary_targets {
  const double* d = nullptr;
  const int* i = nullptr;
  int offset = 0;
  // The target as a double: NaN (NA for NA_integer_) when missing; sets
  // `valid` false for a value outside [0, 1].
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
};

// Class labels 1..K: integer codes (factor, integer; NA_integer_ missing) or
// doubles (whole numbers; NaN missing).
struct class_labels {
  const int* i = nullptr;
  const double* d = nullptr;
  // 0-based class, -1 when missing (NA), -2 when not in 1..K.
  index_t get(index_t obs, index_t K) const {
    if (i) {
      const int v = i[obs];
      if (v == INT_MIN) return -1;
      return v >= 1 && v <= K ? static_cast<index_t>(v - 1) : -2;
    }
    const double v = d[obs];
    if (std::isnan(v)) return -1;
    return v >= 1.0 && v <= static_cast<double>(K) && v == std::floor(v)
               ? static_cast<index_t>(v) - 1
               : -2;
  }
};

// Targets of a categorical loss: labels, or an n x K matrix of target
// probabilities (one-hot or soft) when labels.i and labels.d are null.
struct categorical_targets {
  class_labels labels;
  view matrix{nullptr, 0, 0};
  bool is_matrix() const { return matrix.data != nullptr; }
};

struct loss_options {
  const double* weights = nullptr;  // one per observation, or null for 1
  reduction red = reduction::mean;
  bool na_rm = false;
  int nthreads = 1;
  double* none_out = nullptr;       // n results when red == none
};

namespace detail {

constexpr index_t binary_block = 2048;

inline double missing_value(bool na) { return na ? na_real() : nan_real(); }

// Sums of one block of per-observation losses: res = {sum of w l over
// non-missing l (0 where w is 0, even for an infinite l), sum of w over them,
// number of missing l}. W says whether there are weights.
template <bool W>
struct block_sum_k {
  XENTROPY_VM_INLINE static void run(const double* l, const double* w, index_t n,
                                     double* res) {
    double wl[lanes], ws[lanes], nc[lanes];
    for (int k = 0; k < lanes; ++k) wl[k] = 0.0, ws[k] = 0.0, nc[k] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int k = 0; k < lanes; ++k) {
        const double v = l[i + k], wi = W ? w[i + k] : 1.0;
        const bool miss = v != v;
        wl[k] += miss || wi == 0.0 ? 0.0 : wi * v;
        ws[k] += miss ? 0.0 : wi;
        nc[k] += miss ? 1.0 : 0.0;
      }
    }
    for (; i < n; ++i) {
      const double v = l[i], wi = W ? w[i] : 1.0;
      const bool miss = v != v;
      wl[0] += miss || wi == 0.0 ? 0.0 : wi * v;
      ws[0] += miss ? 0.0 : wi;
      nc[0] += miss ? 1.0 : 0.0;
    }
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

// Reduces per-observation losses produced block by block: block_loss(o0, o1,
// nll, acc) writes nll[0 .. o1 - o0) (NaN-encoded when missing) and notes
// invalid input in acc.bad.
template <class BlockLoss>
inline double reduce_losses(index_t n, index_t block, index_t work,
                            const loss_options& opt, first_invalid& bad,
                            BlockLoss block_loss) {
  const accumulator total = sum_blocks(
      n, block, work, opt.nthreads,
      [&](index_t o0, index_t o1, accumulator& acc) {
        double nll[binary_block];
        const index_t nb = o1 - o0;
        block_loss(o0, o1, nll, acc);
        if (acc.bad >= 0) bad.note(acc.bad / 2, static_cast<int>(acc.bad % 2));
        const double* w = opt.weights ? opt.weights + o0 : nullptr;
        if (opt.red == reduction::none) {
          if (w) vm::dispatch<block_none_k<true>>(nll, w, nb, opt.none_out + o0);
          else vm::dispatch<block_none_k<false>>(nll, w, nb, opt.none_out + o0);
          return;
        }
        double res[3];
        if (w) vm::dispatch<block_sum_k<true>>(nll, w, nb, res);
        else vm::dispatch<block_sum_k<false>>(nll, w, nb, res);
        acc.sum += res[0];
        acc.weight += res[1];
        if (res[2] > 0 && !opt.na_rm)
          for (index_t i = 0; i < nb; ++i)
            if (std::isnan(nll[i])) acc.missing(nll[i]);
      });
  if (opt.red == reduction::none) return 0.0;
  const double s = total.value(opt.na_rm);
  if (std::isnan(s) || opt.red == reduction::sum) return s;
  return s / total.weight;
}

// -log_softmax(z)_k of a row with statistics st (regular or +Inf rows).
inline double nll_entry(const lse_stats& st, kind k, double L, double z) {
  if (k == kind::pos_inf) return z == inf() ? std::log(st.c) : inf();
  return (st.m - z) + L;
}

// Label of each observation in a block, noting invalid labels; -1 missing.
inline void block_labels(const class_labels& lab, index_t o0, index_t nb,
                         index_t K, index_t* y, accumulator& acc) {
  for (index_t i = 0; i < nb; ++i) {
    y[i] = lab.get(o0 + i, K);
    if (y[i] == -2) acc.invalid((o0 + i) * 2 + target);
  }
}

// Smoothed target t'_ik for a label y (0-based) or a target value tv.
inline double smooth(double tv, double eps, index_t K) {
  return eps == 0.0 ? tv : (1.0 - eps) * tv + eps / static_cast<double>(K);
}

// Target t_ik of observation o = o0 + i for class k: the label's one-hot
// entry, or the target matrix entry, checked. A missing entry marks row i
// (na or nan) and an entry outside [0, 1] is noted in acc; both return -1,
// which callers skip.
inline double target_at(const categorical_targets& y, const index_t* lab,
                        index_t i, index_t o, index_t k, bool* na, bool* nan,
                        accumulator& acc) {
  if (!y.is_matrix()) return lab[i] < 0 ? -1.0 : (lab[i] == k ? 1.0 : 0.0);
  const double t = y.matrix(o, k);
  if (std::isnan(t)) {
    if (is_na(t)) na[i] = true; else nan[i] = true;
    return -1.0;
  }
  if (!is_prob(t)) {
    acc.invalid(y.matrix.at(o, k) * 2 + target);
    return -1.0;
  }
  return t;
}

// Statistics and per-entry loss terms of the softmax rows of a block.
struct softmax_block {
  lse_stats st[obs_block];
  kind kinds[obs_block];
  double L[obs_block];

  void compute(const double* z, index_t n, index_t K, index_t o0, index_t o1) {
    row_stats(z, n, K, o0, o1, scale(1.0), st);
    for (index_t i = 0; i < o1 - o0; ++i) {
      kinds[i] = classify(st[i], false);
      L[i] = kinds[i] == kind::regular ? std::log1p(st[i].t + (st[i].c - 1.0)) : 0.0;
    }
  }
  // softmax(z)_k given the row's statistics (kinds regular or pos_inf).
  double prob(index_t i, double zv) const {
    if (kinds[i] == kind::pos_inf) return zv == inf() ? 1.0 / st[i].c : 0.0;
    return std::exp(zv - st[i].m) / (st[i].t + st[i].c);
  }
  bool missing(index_t i) const {
    return kinds[i] == kind::na || kinds[i] == kind::nan ||
           kinds[i] == kind::all_neg_inf;
  }
  double missing_value(index_t i) const {
    return kinds[i] == kind::na ? na_real() : nan_real();
  }
};

}  // namespace detail

// Cross-entropy loss from an n x K matrix of probabilities (column-major).
inline double cross_entropy_loss(const categorical_targets& y, const double* prob,
                                 index_t n, index_t K, const loss_options& opt,
                                 first_invalid& bad) {
  const view P{prob, 1, n};
  return detail::reduce_losses(
      n, detail::obs_block, n * K, opt, bad,
      [&](index_t o0, index_t o1, double* nll, accumulator& acc) {
        const index_t nb = o1 - o0;
        index_t lab[detail::obs_block];
        bool na[detail::obs_block], nan[detail::obs_block];
        if (!y.is_matrix()) detail::block_labels(y.labels, o0, nb, K, lab, acc);
        for (index_t i = 0; i < nb; ++i) {
          nll[i] = 0.0;
          na[i] = !y.is_matrix() && lab[i] == -1;
          nan[i] = false;
        }
        for (index_t k = 0; k < K; ++k) {
          for (index_t i = 0; i < nb; ++i) {
            const index_t o = o0 + i;
            const double p = P(o, k);
            if (std::isnan(p)) {
              if (is_na(p)) na[i] = true; else nan[i] = true;
              continue;
            }
            if (!detail::is_prob(p)) {
              acc.invalid(P.at(o, k) * 2 + prediction);
              continue;
            }
            const double t = detail::target_at(y, lab, i, o, k, na, nan, acc);
            if (t > 0.0) nll[i] += p == 0.0 ? inf() : -t * std::log(p);
          }
        }
        for (index_t i = 0; i < nb; ++i)
          if (na[i] || nan[i]) nll[i] = detail::missing_value(na[i]);
      });
}

// Cross-entropy loss from an n x K matrix of logits, with label smoothing eps.
inline double softmax_cross_entropy(const categorical_targets& y,
                                    const double* logits, index_t n, index_t K,
                                    double eps, const loss_options& opt,
                                    first_invalid& bad) {
  const view Z{logits, 1, n};
  return detail::reduce_losses(
      n, detail::obs_block, n * K, opt, bad,
      [&](index_t o0, index_t o1, double* nll, accumulator& acc) {
        const index_t nb = o1 - o0;
        detail::softmax_block sb;
        sb.compute(logits, n, K, o0, o1);
        index_t lab[detail::obs_block];
        bool na[detail::obs_block], nan[detail::obs_block];
        if (!y.is_matrix()) detail::block_labels(y.labels, o0, nb, K, lab, acc);
        for (index_t i = 0; i < nb; ++i) {
          nll[i] = 0.0;
          na[i] = sb.kinds[i] == detail::kind::na ||
                  (!y.is_matrix() && lab[i] == -1);
          nan[i] = sb.missing(i) && sb.kinds[i] != detail::kind::na;
        }
        if (!y.is_matrix() && eps == 0.0) {
          // one entry per row: the true class
          for (index_t i = 0; i < nb; ++i) {
            if (na[i] || nan[i] || lab[i] < 0) continue;
            nll[i] = detail::nll_entry(sb.st[i], sb.kinds[i], sb.L[i], Z(o0 + i, lab[i]));
          }
        } else {
          for (index_t k = 0; k < K; ++k) {
            for (index_t i = 0; i < nb; ++i) {
              const index_t o = o0 + i;
              if (na[i] || nan[i]) continue;
              double t = detail::target_at(y, lab, i, o, k, na, nan, acc);
              if (t < 0.0) continue;
              t = detail::smooth(t, eps, K);
              if (t > 0.0)
                nll[i] += t * detail::nll_entry(sb.st[i], sb.kinds[i], sb.L[i], Z(o, k));
            }
          }
        }
        for (index_t i = 0; i < nb; ++i)
          if (na[i] || nan[i]) nll[i] = detail::missing_value(na[i]);
      });
}

namespace detail {

// The common case of a block of binary losses, branch-free: targets in
// [0, 1] and predictions in range, no NA. res[0] counts the elements that are
// not (the caller then redoes the block with the scalar code, which sorts out
// missing and invalid values). From logits, with a = log1p(exp(-|z|)),
// softplus(z) = max(z, 0) + a and softplus(-z) = max(-z, 0) + a: sums of
// non-negative terms, exact for any z.
template <class Y, bool Logits, bool Shared>
struct binary_block_k {
  // loss of element i; `bad` is 1 when it needs the scalar code. From logits,
  // e = exp(-|z|) (<= 1: no overflow) was computed by a first loop: two
  // simple loops over a block in cache run faster than one with both
  // polynomials (2.2 -> 1.7 ns per element with AVX-512).
  XENTROPY_VM_INLINE static double one(const Y* y, int offset, const double* pred,
                                       index_t i, double pw, double e, double& bad) {
    const double t = static_cast<double>(y[i]) - offset;
    const double v = Shared ? pred[0] : pred[i];  // one probability for all
    double l, ok_pred;
    if (Logits) {
      const double a = vm::log1p(e);
      const double sp = (v > 0.0 ? v : 0.0) + a, sn = (v < 0.0 ? -v : 0.0) + a;
      l = (t > 0.0 ? pw * t * sn : 0.0) + (t < 1.0 ? (1.0 - t) * sp : 0.0);
      ok_pred = v == v;
    } else {
      const double lp = vm::log(v), lq = vm::log1p(-v);
      l = (t > 0.0 ? -t * lp : 0.0) + (t < 1.0 ? -(1.0 - t) * lq : 0.0);
      ok_pred = v >= 0.0 && v <= 1.0;
    }
    bad = (t >= 0.0 && t <= 1.0 && ok_pred) ? 0.0 : 1.0;
    return l;
  }
  // `lanes` partial counts (an omp simd reduction over mixed int and double
  // data does not vectorise in GCC 12)
  XENTROPY_VM_INLINE static void run(const Y* y, int offset, const double* pred,
                                     index_t n, double pw, double* nll, double* res) {
    if (Logits) {
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < n; ++i) {
        const double v = pred[i];
        nll[i] = vm::exp(v < 0.0 ? v : -v);
      }
    }
    double nbad[lanes];
    for (int k = 0; k < lanes; ++k) nbad[k] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int k = 0; k < lanes; ++k) {
        double b;
        nll[i + k] = one(y, offset, pred, i + k, pw, Logits ? nll[i + k] : 0.0, b);
        nbad[k] += b;
      }
    }
    for (; i < n; ++i) {
      double b;
      nll[i] = one(y, offset, pred, i, pw, Logits ? nll[i] : 0.0, b);
      nbad[0] += b;
    }
    res[0] = 0.0;
    for (int k = 0; k < lanes; ++k) res[0] += nbad[k];
  }
};

// Runs binary_block_k for the target type at hand; false if the block needs
// the scalar code.
template <bool Logits>
inline bool binary_block_fast(const binary_targets& y, const double* pred,
                              index_t pstride, index_t o0, index_t nb, double pw,
                              double* nll) {
  double res[1];
  const double* p = pred + o0 * pstride;
  if (pstride == 0) {
    if (y.d) vm::dispatch<binary_block_k<double, Logits, true>>(y.d + o0, 0, p, nb, pw, nll, res);
    else vm::dispatch<binary_block_k<int, Logits, true>>(y.i + o0, y.offset, p, nb, pw, nll, res);
  } else {
    if (y.d) vm::dispatch<binary_block_k<double, Logits, false>>(y.d + o0, 0, p, nb, pw, nll, res);
    else vm::dispatch<binary_block_k<int, Logits, false>>(y.i + o0, y.offset, p, nb, pw, nll, res);
  }
  return res[0] == 0.0;
}

}  // namespace detail

// Binary cross-entropy from probabilities of the positive class (stride 0
// shares one probability among all observations).
inline double binary_cross_entropy(const binary_targets& y, const double* prob,
                                   index_t prob_stride, index_t n,
                                   const loss_options& opt, first_invalid& bad) {
  return detail::reduce_losses(
      n, detail::binary_block, n, opt, bad,
      [&](index_t o0, index_t o1, double* nll, accumulator& acc) {
        if (detail::binary_block_fast<false>(y, prob, prob_stride, o0, o1 - o0, 1.0, nll))
          return;
        for (index_t o = o0; o < o1; ++o) {
          bool valid;
          const double t = y.get(o, valid);
          const double p = prob[o * prob_stride];
          double l;
          if (!valid) {
            acc.invalid(o * 2 + target);
            l = 0.0;
          } else if (std::isnan(t) || std::isnan(p)) {
            l = is_na(t) || is_na(p) ? na_real() : nan_real();
          } else if (!detail::is_prob(p)) {
            acc.invalid(o * prob_stride * 2 + prediction);
            l = 0.0;
          } else {
            l = 0.0;
            if (t > 0.0) l += p == 0.0 ? inf() : -t * std::log(p);
            if (t < 1.0) l += p == 1.0 ? inf() : -(1.0 - t) * std::log1p(-p);
          }
          nll[o - o0] = l;
        }
      });
}

// Binary cross-entropy from logits, with positive-class weight pos_weight.
inline double sigmoid_cross_entropy(const binary_targets& y, const double* logits,
                                    index_t n, double pos_weight,
                                    const loss_options& opt, first_invalid& bad) {
  return detail::reduce_losses(
      n, detail::binary_block, n, opt, bad,
      [&](index_t o0, index_t o1, double* nll, accumulator& acc) {
        if (detail::binary_block_fast<true>(y, logits, 1, o0, o1 - o0, pos_weight, nll))
          return;
        for (index_t o = o0; o < o1; ++o) {
          bool valid;
          const double t = y.get(o, valid);
          const double z = logits[o];
          double l;
          if (!valid) {
            acc.invalid(o * 2 + target);
            l = 0.0;
          } else if (std::isnan(t) || std::isnan(z)) {
            l = is_na(t) || is_na(z) ? na_real() : nan_real();
          } else {
            l = 0.0;
            if (t > 0.0) l += pos_weight * t * softplus(-z);
            if (t < 1.0) l += (1.0 - t) * softplus(z);
          }
          nll[o - o0] = l;
        }
      });
}

namespace detail {

// Scale of each observation's gradient: w_i / sum(w) for "mean" (over the
// observations kept), w_i otherwise. Returns the denominator for "mean" when
// it can be known before the pass (no na_rm), else 0 (rescale afterwards).
inline double mean_denominator(index_t n, const loss_options& opt) {
  if (opt.red != reduction::mean || opt.na_rm) return 1.0;
  if (!opt.weights) return static_cast<double>(n);
  const accumulator s = sum_blocks(n, binary_block, n, opt.nthreads,
                                   [&](index_t b0, index_t b1, accumulator& a) {
    for (index_t i = b0; i < b1; ++i) a.sum += opt.weights[i];
  });
  return s.sum;
}

// After a pass with na_rm and "mean": divide the gradient by the total weight
// of the observations kept.
inline void rescale(double* out, index_t len, double denom, int nthreads) {
  parallel_chunks(len, 8192, threads_for(nthreads, len), [=](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) out[i] /= denom;
  });
}

}  // namespace detail

namespace detail {

// (softmax(z_i) - t'_i) * scale_i for the rows [o0, o0 + nb) of an n x K
// logit matrix, class by class with the rows in the inner (vectorised) loop.
// Targets are labels (0-based, as doubles) or a target matrix T; t' is the
// smoothed target (1 - eps) t + eps / K, which is t when eps is 0.
template <bool Matrix>
struct softmax_grad_k {
  XENTROPY_VM_INLINE static void run(const double* z, index_t n, index_t K, index_t o0,
                                     index_t nb, const double* m, const double* S,
                                     const double* lab, const double* T, double eps,
                                     const double* scale, double* out) {
    const double keep = 1.0 - eps, spread = eps / static_cast<double>(K);
    for (index_t k = 0; k < K; ++k) {
      const double* zc = z + k * n + o0;
      const double* tc = Matrix ? T + k * n + o0 : nullptr;
      double* oc = out + k * n + o0;
      const double kd = static_cast<double>(k);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double p = vm::exp(zc[i] - m[i]) / S[i];
        const double t = Matrix ? tc[i] : (lab[i] == kd ? 1.0 : 0.0);
        oc[i] = (p - (keep * t + spread)) * scale[i];
      }
    }
  }
};

}  // namespace detail

// d loss / d logits for softmax_cross_entropy, written to out (n x K):
// (softmax(z_i) - t'_i) times w_i (and divided by the total weight for
// "mean"). Missing observations give NA (NaN) rows, or 0 rows with na_rm.
inline void softmax_cross_entropy_grad(const categorical_targets& y,
                                       const double* logits, index_t n,
                                       index_t K, double eps,
                                       const loss_options& opt, double* out,
                                       first_invalid& bad) {
  const view Z{logits, 1, n};
  const double denom = detail::mean_denominator(n, opt);
  const accumulator kept = sum_blocks(
      n, detail::obs_block, n * K, opt.nthreads,
      [&](index_t o0, index_t o1, accumulator& acc) {
        const index_t nb = o1 - o0;
        detail::softmax_block sb;
        sb.compute(logits, n, K, o0, o1);
        index_t lab[detail::obs_block];
        double scale[detail::obs_block];
        bool na[detail::obs_block], nan[detail::obs_block];
        if (!y.is_matrix()) detail::block_labels(y.labels, o0, nb, K, lab, acc);
        for (index_t i = 0; i < nb; ++i) {
          na[i] = sb.kinds[i] == detail::kind::na || (!y.is_matrix() && lab[i] == -1);
          nan[i] = sb.missing(i) && sb.kinds[i] != detail::kind::na;
        }
        if (y.is_matrix()) {
          // a missing target anywhere in the row makes the row missing
          for (index_t k = 0; k < K; ++k)
            for (index_t i = 0; i < nb; ++i)
              detail::target_at(y, lab, i, o0 + i, k, na, nan, acc);
        }
        for (index_t i = 0; i < nb; ++i) {
          const double w = opt.weights ? opt.weights[o0 + i] : 1.0;
          scale[i] = w / denom;
          if (!(na[i] || nan[i])) acc.weight += w;
        }
        if (acc.bad >= 0) bad.note(acc.bad / 2, static_cast<int>(acc.bad % 2));
        // one vectorised pass for the block, with harmless values for rows
        // that are missing or infinite; those rows are rewritten below
        double m[detail::obs_block], S[detail::obs_block], labd[detail::obs_block];
        bool special = false;
        for (index_t i = 0; i < nb; ++i) {
          const bool regular = sb.kinds[i] == detail::kind::regular && !(na[i] || nan[i]);
          special = special || !regular;
          m[i] = regular ? sb.st[i].m : 0.0;
          S[i] = regular ? sb.st[i].t + sb.st[i].c : 1.0;
          labd[i] = y.is_matrix() ? -1.0 : static_cast<double>(lab[i]);
        }
        const double* T = y.is_matrix() ? y.matrix.data : nullptr;
        if (T) vm::dispatch<detail::softmax_grad_k<true>>(logits, n, K, o0, nb, m, S, labd, T, eps, scale, out);
        else vm::dispatch<detail::softmax_grad_k<false>>(logits, n, K, o0, nb, m, S, labd, T, eps, scale, out);
        if (!special) return;
        for (index_t i = 0; i < nb; ++i) {
          if (sb.kinds[i] == detail::kind::regular && !(na[i] || nan[i])) continue;
          const index_t o = o0 + i;
          for (index_t k = 0; k < K; ++k) {
            double g;
            if (na[i] || nan[i]) {
              g = opt.na_rm ? 0.0 : detail::missing_value(na[i]);
            } else {
              const double t = detail::smooth(
                  y.is_matrix() ? y.matrix(o, k) : (lab[i] == k ? 1.0 : 0.0),
                  eps, K);
              g = (sb.prob(i, Z(o, k)) - t) * scale[i];
            }
            out[Z.at(o, k)] = g;
          }
        }
      });
  if (opt.red == reduction::mean && opt.na_rm)
    detail::rescale(out, n * K, kept.weight, opt.nthreads);
}

namespace detail {

// The common case of a block of sigmoid_cross_entropy_grad, branch-free (see
// binary_block_k); res[0] counts elements the scalar code must redo.
template <class Y, bool W>
struct sigmoid_grad_k {
  XENTROPY_VM_INLINE static void run(const Y* y, int offset, const double* z,
                                     const double* w, index_t n, double pw,
                                     double denom, double* out, double* res) {
    double nbad = 0.0;
    XENTROPY_VM_SIMD_REDUCTION(+ : nbad)
    for (index_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(y[i]) - offset;
      const double v = z[i];
      const double s = vm::sigmoid(v), sn = vm::sigmoid(-v);
      const double g = (t < 1.0 ? (1.0 - t) * s : 0.0) - (t > 0.0 ? pw * t * sn : 0.0);
      out[i] = g * ((W ? w[i] : 1.0) / denom);
      nbad += (t >= 0.0 && t <= 1.0 && v == v) ? 0.0 : 1.0;
    }
    res[0] = nbad;
  }
};

}  // namespace detail

// d loss / d logits for sigmoid_cross_entropy, written to out (length n):
// ((1 - y) sigmoid(z) - pos_weight y sigmoid(-z)) times the scale above.
inline void sigmoid_cross_entropy_grad(const binary_targets& y,
                                       const double* logits, index_t n,
                                       double pos_weight, const loss_options& opt,
                                       double* out, first_invalid& bad) {
  const double denom = detail::mean_denominator(n, opt);
  const accumulator kept = sum_blocks(
      n, detail::binary_block, n, opt.nthreads,
      [&](index_t o0, index_t o1, accumulator& acc) {
        const index_t nb = o1 - o0;
        const double* w = opt.weights ? opt.weights + o0 : nullptr;
        double res[1];
        if (y.d) {
          if (w) vm::dispatch<detail::sigmoid_grad_k<double, true>>(y.d + o0, 0, logits + o0, w, nb, pos_weight, denom, out + o0, res);
          else vm::dispatch<detail::sigmoid_grad_k<double, false>>(y.d + o0, 0, logits + o0, w, nb, pos_weight, denom, out + o0, res);
        } else {
          if (w) vm::dispatch<detail::sigmoid_grad_k<int, true>>(y.i + o0, y.offset, logits + o0, w, nb, pos_weight, denom, out + o0, res);
          else vm::dispatch<detail::sigmoid_grad_k<int, false>>(y.i + o0, y.offset, logits + o0, w, nb, pos_weight, denom, out + o0, res);
        }
        if (res[0] == 0.0) {
          if (opt.red == reduction::mean && opt.na_rm)
            for (index_t i = 0; i < nb; ++i) acc.weight += w ? w[i] : 1.0;
          return;
        }
        for (index_t o = o0; o < o1; ++o) {
          bool valid;
          const double t = y.get(o, valid);
          const double z = logits[o];
          const double wo = opt.weights ? opt.weights[o] : 1.0;
          double g;
          if (!valid) {
            acc.invalid(o * 2 + target);
            g = 0.0;
          } else if (std::isnan(t) || std::isnan(z)) {
            g = opt.na_rm ? 0.0 : (is_na(t) || is_na(z) ? na_real() : nan_real());
          } else {
            g = 0.0;
            if (t < 1.0) g += (1.0 - t) * sigmoid(z);
            if (t > 0.0) g -= pos_weight * t * sigmoid(-z);
            g *= wo / denom;
            acc.weight += wo;
          }
          out[o] = g;
        }
        if (acc.bad >= 0) bad.note(acc.bad / 2, static_cast<int>(acc.bad % 2));
      });
  if (opt.red == reduction::mean && opt.na_rm)
    detail::rescale(out, n, kept.weight, opt.nthreads);
}

}  // namespace xentropy

#endif  // XENTROPY_LOSS_HPP
