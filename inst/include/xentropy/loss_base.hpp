// xentropy/loss_base.hpp -- what every loss shares: the targets (binary,
// class labels, categorical distributions), the options (weights, na.rm,
// reduction, class weights, label smoothing) and the reduction of blocks of
// per-observation losses to a sum or a weighted mean, in a fixed order. The
// losses themselves are in binary_loss.hpp and categorical_loss.hpp; loss.hpp
// includes all three.
#ifndef XENTROPY_LOSS_BASE_HPP
#define XENTROPY_LOSS_BASE_HPP


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

}  // namespace detail

}  // namespace xentropy

#endif  // XENTROPY_LOSS_BASE_HPP
