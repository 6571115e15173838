// xentropy/binning.hpp -- calibration error by binning: per-bin sums of
// confidences and outcomes (top-label or classwise, equal-width or
// equal-mass bins), from probabilities or from logits, and the calibration
// error (ECE, L2, MCE) from them. With metrics.hpp and scaling.hpp it makes
// the calibration layer (calibration.hpp includes the three).
//
// Observation i has predicted probabilities p_i over K classes (an n x K
// column-major matrix, or for two classes a vector of P(class 2), read as the
// distribution (1 - p_i, p_i)) and a target t_i (a label, i.e. the one-hot
// row t_ik = [k = y_i], or a row of target probabilities).
//   top-label:   confidence c_i = max_k p_ik at the first maximum a_i (the
//                lowest class index among ties, as which.max()), outcome
//                o_i = t_{i, a_i} (1 when the label is a_i)
//   classwise:   confidence p_ik and outcome t_ik for every class k (only
//                the positive class for a vector of two-class predictions)
//   bins:        equal width: confidence c goes to bin ceil(c B) - 1 (clamped
//                to 0..B-1), i.e. bins ((b-1)/B, b/B] as in Guo et al.
//                (2017), with 0 in the first; equal mass: edges e_b (b =
//                1..B-1) are the order statistics of rank floor(b N / B)
//                (0-based) of the N confidences, and c goes to the number of
//                edges <= c (Nixon et al. 2019): without ties each bin holds
//                N / B confidences, with ties equal values share a bin.
//   per bin:     count, sum w, sum w^2, sum w c, sum w o; from them the
//                calibration error sum_b (W_b / W) |obar_b - cbar_b| (L1,
//                the ECE of Naeini et al. 2015 and Guo et al. 2017),
//                sqrt(sum_b (W_b / W) (obar_b - cbar_b)^2) (L2, Kumar et al.
//                2019), max_b |obar_b - cbar_b| over non-empty bins (MCE);
//                classwise, the (class, bin) cells with weight W_kb / (K W)
//                (Kull et al. 2019's classwise-ECE for L1).
//
// Determinism: every pass runs fixed-size blocks of observations whose partial
// sums (per-bin sums per block) are added in block order: results are
// identical for any thread count. Allocation: the result, per-bin sums per
// block, and for equal-mass top-label bins the N confidences twice (one copy
// is reordered by the selection of the edges: a counting pass over buckets
// of the values and std::nth_element within the buckets that hold them),
// the N outcomes and, with weights, the N weights, so that the predictions
// are read once; classwise equal-mass bins copy one column at a time.
// Temperature scaling's ECE before and after comes from the logits
// (logit_bins()), without forming the probabilities.
//
// Missing values: a row with an NA (NaN) target or prediction is missing;
// without na_rm the result is flagged NA (NaN), with na_rm it is left out.
// Invalid values (probabilities outside [0, 1], labels outside 1..K, rows
// of a probability matrix whose sum is more than `sum_tolerance` from 1,
// non-finite logits for the temperature fit) are reported through
// first_invalid for the caller to turn into an error.
#ifndef XENTROPY_BINNING_HPP
#define XENTROPY_BINNING_HPP

#include <algorithm>
#include <vector>

#include "blocks.hpp"
#include "flags.hpp"
#include "invalid.hpp"
#include "link.hpp"
#include "loss.hpp"
#include "normalise.hpp"

namespace xentropy {
namespace calibration {

// Largest |sum_k p_ik - 1| accepted where predictions must be a distribution.
constexpr double sum_tolerance = 1e-6;

// Predictions: an n x K matrix (column-major), or a vector (binary = true,
// K = 2) of P(class 2) per observation.
struct predictions {
  const double* p = nullptr;
  index_t n = 0;
  index_t K = 2;
  bool binary = false;
  // linear index of the stored element behind entry (o, k)
  index_t at(index_t o, index_t k) const { return binary ? o : o + k * n; }
  double get(index_t o, index_t k) const {
    if (binary) return k == 1 ? p[o] : 1.0 - p[o];
    return p[o + k * n];
  }
};

// Targets: labels (1..K, as in loss.hpp), an n x K matrix of target
// probabilities, or binary targets (with binary predictions).
struct targets {
  class_labels labels;
  view matrix{nullptr, 0, 0};
  binary_targets bin;
  bool binary = false;
  bool is_matrix() const { return matrix.data != nullptr; }
};

// Where invalid input was found: `values` (position in the targets or the
// predictions) and `sums` (row whose sum is off; operand target).
struct report {
  first_invalid values;
  first_invalid sums;
};

// State of a row: missing (NA / NaN: left out with na_rm, else the result is
// NA / NaN) or invalid (reported; an invalid row is never counted missing).
struct row_state {
  missing miss = missing::none;
  bool bad = false;
  bool ok() const { return !bad && miss == missing::none; }
  // the missingness a pass notes for this row
  missing noted() const { return bad ? missing::none : miss; }
};

namespace detail {

// Rows swept together (per-row statistics of one block live on the stack).
constexpr index_t obs_block = blocks::categorical;

// One block of rows [o0, o0 + nb): status, maximum and argmax of the
// predictions, their sum, label per row; invalid entries reported.
// The sweep over the predictions of a block (rows in the inner, vectorised
// loop): maximum and first argmax, row sum, number of values outside [0, 1]
// (NaN included), and with Squares the Brier sum of (p - [k = label])^2.
template <bool Squares>
struct scan_k {
  XENTROPY_VM_INLINE static void run(const double* p, index_t stride, index_t K, index_t nb,
                                     const double* lab, double* conf, double* arg,
                                     double* sum, double* sq, double* nbad) {
    for (index_t i = 0; i < nb; ++i)
      conf[i] = -std::numeric_limits<double>::infinity(), arg[i] = 0.0, sum[i] = 0.0,
      sq[i] = 0.0, nbad[i] = 0.0;
    for (index_t k = 0; k < K; ++k) {
      const double* col = p + k * stride;
      const double kd = static_cast<double>(k);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i];
        nbad[i] += v >= 0.0 && v <= 1.0 ? 0.0 : 1.0;
        sum[i] += v;
        const bool gt = v > conf[i];
        arg[i] = gt ? kd : arg[i];
        conf[i] = gt ? v : conf[i];
        if (Squares) {
          const double d = v - (lab[i] == kd ? 1.0 : 0.0);
          sq[i] += d * d;
        }
      }
    }
  }
};

struct scanned_block {
  row_state status[obs_block];
  double conf[obs_block];
  index_t arg[obs_block];
  index_t lab[obs_block];
  double sum[obs_block];
  double sq[obs_block];  // Brier score of rows with labels (with_squares)

  // Resets the rows' states and reads their targets (K classes): labels,
  // missingness, invalid values (the first one merged into `first`).
  void read_targets(const targets& y, index_t K, index_t o0, index_t nb,
                    invalid_at& first) {
    for (index_t i = 0; i < nb; ++i) {
      status[i] = row_state{};
      conf[i] = -inf();
      arg[i] = 0;
      sum[i] = 0.0;
      lab[i] = -1;
    }
    if (!y.is_matrix() && !y.binary) {
      for (index_t i = 0; i < nb; ++i) {
        lab[i] = y.labels.get(o0 + i, K, status[i].miss);
        if (lab[i] == class_labels::out_of_range) {
          first.merge(invalid_at{o0 + i, operand::target});
          status[i].bad = true;
        }
      }
    } else if (y.binary) {
      for (index_t i = 0; i < nb; ++i) {
        bool valid;
        const double t = y.bin.get(o0 + i, valid);
        if (!valid) {
          first.merge(invalid_at{o0 + i, operand::target});
          status[i].bad = true;
        } else {
          status[i].miss |= missing_of(t);
        }
      }
    } else {
      for (index_t k = 0; k < K; ++k)
        for (index_t i = 0; i < nb; ++i) {
          const double t = y.matrix(o0 + i, k);
          if (std::isnan(t)) {
            status[i].miss |= missing_of(t);
          } else if (!(t >= 0.0 && t <= 1.0)) {
            first.merge(invalid_at{y.matrix.at(o0 + i, k), operand::target});
            status[i].bad = true;
          }
        }
    }
  }

  void scan(const predictions& P, const targets& y, index_t o0, index_t nb,
            bool check_sum, report& rep, bool with_squares = false) {
    invalid_at first, first_sum;
    read_targets(y, P.K, o0, nb, first);
    // one branch-free (vectorised) sweep over the block; only rows with a
    // value outside [0, 1] (NaN included) are looked at again
    const index_t K = P.binary ? 1 : P.K;
    double labd[obs_block], argd[obs_block], nbad[obs_block];
    const bool squares = with_squares && !P.binary && !y.is_matrix() && !y.binary;
    for (index_t i = 0; i < nb; ++i) labd[i] = static_cast<double>(lab[i]);
    const double* base = P.p + o0;
    dispatch_flags<scan_k>(flags(squares), base, P.binary ? 0 : P.n, K, nb,
                           static_cast<const double*>(labd), conf, argd, sum, sq, nbad);
    for (index_t i = 0; i < nb; ++i) {
      arg[i] = static_cast<index_t>(argd[i]);
      if (nbad[i] == 0.0) continue;
      for (index_t k = 0; k < K; ++k) {
        const double v = base[i + (P.binary ? 0 : k * P.n)];
        if (std::isnan(v)) {
          status[i].miss |= missing_of(v);
        } else if (!(v >= 0.0 && v <= 1.0)) {
          first.merge(invalid_at{P.at(o0 + i, k), operand::prediction});
          status[i].bad = true;
        }
      }
    }
    if (P.binary) {
      for (index_t i = 0; i < nb; ++i) {
        const double p1 = P.p[o0 + i];
        conf[i] = p1 > 0.5 ? p1 : 1.0 - p1;
        arg[i] = p1 > 0.5 ? 1 : 0;
      }
    } else if (check_sum) {
      for (index_t i = 0; i < nb; ++i)
        if (status[i].ok() && !(std::fabs(sum[i] - 1.0) <= sum_tolerance)) {
          first_sum.merge(invalid_at{o0 + i, operand::target});
          status[i].bad = true;
        }
    }
    rep.values.note(first);
    rep.sums.note(first_sum);
  }

  // Target of row i (observation o) for class k (rows with status ok).
  double target_at(const targets& y, index_t i, index_t o, index_t k) const {
    if (y.is_matrix()) return y.matrix(o, k);
    if (y.binary) {
      bool valid;
      const double t = y.bin.get(o, valid);
      return k == 1 ? t : 1.0 - t;
    }
    return lab[i] == k ? 1.0 : 0.0;
  }
};

// Observations per part of a binned pass: each part keeps its own per-bin
// sums (cells x 5 doubles), so parts are large enough that there are at most
// 64 of them, and fewer when there are many cells. Depends only on n and the
// number of cells, never on the thread count.
inline index_t part_size(index_t n, index_t cells) {
  index_t parts = 64;
  const index_t budget = index_t(1) << 22;  // doubles of per-part bin sums
  while (parts > 1 && parts * cells * 5 > budget) parts /= 2;
  index_t size = n / parts + 1;
  if (size < 16384) size = 16384;
  return size;
}

// Bin of confidence c: equal width (edges empty) or by the B - 1 edges.
inline index_t bin_of(double c, index_t B, const double* edges) {
  if (!edges) {
    index_t b = static_cast<index_t>(std::ceil(c * static_cast<double>(B))) - 1;
    return b < 0 ? 0 : (b >= B ? B - 1 : b);
  }
  if (B <= 64) {
    // a branch-free count: binary search mispredicts a branch per level
    index_t b = 0;
    for (index_t j = 0; j < B - 1; ++j) b += edges[j] <= c ? 1 : 0;
    return b;
  }
  return static_cast<index_t>(std::upper_bound(edges, edges + (B - 1), c) - edges);
}

// Bins of a block of confidences (bin_of() as a vectorised loop): equal
// width, ceil(c B) - 1 as floor(c B) less 1 where c B is whole, clamped; or
// the number of edges <= c. Values outside [0, 1] (rows left out) get bin 0.
template <bool Width>
struct bins_k {
  XENTROPY_VM_INLINE static void run(const double* conf, index_t nb, index_t B,
                                     const double* edges, double* bin) {
    if (Width) {
      const double Bd = static_cast<double>(B);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double c = conf[i];
        const double x = c >= 0.0 && c <= 1.0 ? c * Bd : 0.0;
        const double f = static_cast<double>(static_cast<std::int64_t>(x));
        const double b = f == x ? f - 1.0 : f;
        bin[i] = b < 0.0 ? 0.0 : (b > Bd - 1.0 ? Bd - 1.0 : b);
      }
      return;
    }
    for (index_t i = 0; i < nb; ++i) bin[i] = 0.0;
    for (index_t j = 0; j < B - 1; ++j) {
      const double ej = edges[j];
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) bin[i] += ej <= conf[i] ? 1.0 : 0.0;
    }
  }
};

// The values of increasing 0-based ranks[0..nr) of x[0..n) (x is
// reordered), by nth_element on shrinking ranges: O(n log nr).
inline void select_ranks(double* x, index_t n, const index_t* ranks, index_t nr,
                         double* out) {
  struct range { index_t lo, hi, r0, r1; };  // x[lo, hi) holds ranks[r0..r1]
  std::vector<range> todo{{0, n, 0, nr - 1}};
  while (!todo.empty()) {
    const range r = todo.back();
    todo.pop_back();
    if (r.r0 > r.r1) continue;
    const index_t j = (r.r0 + r.r1) / 2;
    const index_t rank = ranks[j];
    if (rank >= r.lo && rank < r.hi) std::nth_element(x + r.lo, x + rank, x + r.hi);
    out[j] = x[rank];
    todo.push_back({r.lo, rank, r.r0, j - 1});
    todo.push_back({rank + 1, r.hi, j + 1, r.r1});
  }
}

// Bucket of a value in [0, 1] for select_edges: the exponent and the top 7
// bits of the significand of a double (128 buckets per binade, monotone in
// the value), for values from 2^-30 up; bucket 0 holds everything below.
constexpr std::uint64_t bucket_low = static_cast<std::uint64_t>(1023 - 30) << 7;
constexpr index_t bucket_count = (index_t(1023) << 7) - index_t(bucket_low) + 2;
inline index_t bucket_of(double v) {
  if (!(v >= 9.313225746154785e-10)) return 0;  // 2^-30
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const index_t b = static_cast<index_t>((bits >> 45) - bucket_low) + 1;
  return b < bucket_count ? b : bucket_count - 1;
}

// Order statistics of ranks floor(b n / B), b = 1..B-1, of the values
// x[0..n) in [0, 1] (x is reordered). One counting pass finds the bucket of
// each rank (bucket_of), a partition moves the values of those buckets to
// the front, and nth_element selects among them only: O(n) plus the
// selection within the few buckets concerned.
inline void select_edges(double* x, index_t n, index_t B, double* edges) {
  if (B < 2 || n == 0) return;
  std::vector<index_t> ranks(static_cast<std::size_t>(B - 1));
  for (index_t b = 1; b < B; ++b)
    ranks[static_cast<std::size_t>(b - 1)] =
        static_cast<index_t>((static_cast<long double>(b) * n) / B);
  if (n < 4 * bucket_count) {
    select_ranks(x, n, ranks.data(), B - 1, edges);
    return;
  }
  std::vector<index_t> first(static_cast<std::size_t>(bucket_count + 1), 0);
  for (index_t i = 0; i < n; ++i) ++first[static_cast<std::size_t>(bucket_of(x[i]) + 1)];
  for (index_t h = 0; h < bucket_count; ++h)
    first[static_cast<std::size_t>(h + 1)] += first[static_cast<std::size_t>(h)];
  // buckets holding a wanted rank, and each rank's position among their values
  std::vector<index_t> before(static_cast<std::size_t>(bucket_count), -1);
  std::vector<index_t> bucket_of_rank(static_cast<std::size_t>(B - 1));
  index_t h = 0;
  for (index_t j = 0; j < B - 1; ++j) {
    const index_t r = ranks[static_cast<std::size_t>(j)];
    while (first[static_cast<std::size_t>(h + 1)] <= r) ++h;
    bucket_of_rank[static_cast<std::size_t>(j)] = h;
    before[static_cast<std::size_t>(h)] = 0;  // wanted
  }
  index_t m = 0;
  for (index_t g = 0; g < bucket_count; ++g) {
    if (before[static_cast<std::size_t>(g)] < 0) continue;
    before[static_cast<std::size_t>(g)] = m;
    m += first[static_cast<std::size_t>(g + 1)] - first[static_cast<std::size_t>(g)];
  }
  std::partition(x, x + n, [&](double v) {
    return before[static_cast<std::size_t>(bucket_of(v))] >= 0;
  });
  std::vector<index_t> sub(static_cast<std::size_t>(B - 1));
  for (index_t j = 0; j < B - 1; ++j) {
    const index_t g = bucket_of_rank[static_cast<std::size_t>(j)];
    sub[static_cast<std::size_t>(j)] = ranks[static_cast<std::size_t>(j)] -
                                       first[static_cast<std::size_t>(g)] +
                                       before[static_cast<std::size_t>(g)];
  }
  select_ranks(x, m, sub.data(), B - 1, edges);
}

}  // namespace detail

// Options shared by the binned metrics.
struct binning {
  index_t bins = 15;
  bool classwise = false;  // false: top-label
  bool equal_mass = false; // false: equal width
  bool na_rm = false;
  const double* weights = nullptr;
  int nthreads = 1;
};

// Per-bin sums: cells = (classes) x bins, each with count, sum w, sum w^2,
// sum w c (confidence), sum w o (outcome), in that order; the lower and upper
// edge of each cell's bin; and whether a row was missing (NA wins over NaN)
// while na_rm was false (the sums then leave those rows out).
struct bin_sums {
  index_t bins = 0, classes = 1;
  std::vector<double> sums;   // classes * bins * 5
  std::vector<double> lower;  // classes * bins
  std::vector<double> upper;
  missing miss = missing::none;
};

namespace detail {

// One observation into a cell's sums: count, w, w^2, w c, w o.
inline void add_to_bin(double* s, double w, double conf, double out) {
  s[0] += 1.0;
  s[1] += w;
  s[2] += w * w;
  s[3] += w * conf;
  s[4] += w * out;
}

// Per-bin sums of a pass over n observations (`work` elements read) in
// parts of part_size() observations, each with its own cells x 5 sums, added
// in part order (thread-count independent): part_fn(p0, p1, S, seen) adds
// rows [p0, p1) into S and notes missing rows in `seen`. res.sums is sized.
template <class PartFn>
inline void sum_bins(index_t n, index_t work, const binning& opt, bin_sums& res,
                     PartFn part_fn) {
  const index_t cells = res.classes * res.bins;
  const index_t part = part_size(n, cells);
  const index_t nparts = n == 0 ? 0 : (n - 1) / part + 1;
  std::vector<double> partial(static_cast<std::size_t>(nparts * cells * 5), 0.0);
  std::vector<missing> pmiss(static_cast<std::size_t>(nparts), missing::none);
  const int nt = nparts > 1 ? threads_for(opt.nthreads, work) : 1;
  parallel_chunks(n, part, nt, [&](index_t p0, index_t p1) {
    const index_t pi = p0 / part;
    part_fn(p0, p1, partial.data() + pi * cells * 5, pmiss[static_cast<std::size_t>(pi)]);
  });
  for (index_t pi = 0; pi < nparts; ++pi) {
    const double* S = partial.data() + pi * cells * 5;
    for (index_t j = 0; j < cells * 5; ++j) res.sums[static_cast<std::size_t>(j)] += S[j];
    res.miss |= pmiss[static_cast<std::size_t>(pi)];
  }
  if (opt.na_rm) res.miss = missing::none;
}

}  // namespace detail

// Per-bin sums of top-label or classwise confidences and outcomes.
inline bin_sums calibration_bins(const targets& y, const predictions& P,
                                 const binning& opt, report& rep) {
  const index_t n = P.n, B = opt.bins;
  // classes binned: top-label 1; classwise K (a binary vector: class 2 only)
  const index_t C = opt.classwise ? (P.binary ? 1 : P.K) : 1;
  const index_t kfirst = opt.classwise && P.binary ? 1 : 0;
  bin_sums res;
  res.bins = B;
  res.classes = C;
  res.sums.assign(static_cast<std::size_t>(C * B * 5), 0.0);
  res.lower.assign(static_cast<std::size_t>(C * B), 0.0);
  res.upper.assign(static_cast<std::size_t>(C * B), 1.0);

  if (opt.equal_mass && B > 1 && !opt.classwise) {
    // top-label: one scan keeps the confidence, outcome and weight of each
    // row that takes part; the edges come from a copy of the confidences and
    // the kept rows are binned without reading the predictions again
    std::vector<double> copy(static_cast<std::size_t>(n)), conf(static_cast<std::size_t>(n)),
        outc(static_cast<std::size_t>(n));
    std::vector<double> wk(static_cast<std::size_t>(opt.weights ? n : 0));
    index_t m = 0;
    missing seen = missing::none;
    detail::scanned_block sb;
    for (index_t o0 = 0; o0 < n; o0 += detail::obs_block) {
      const index_t nb = std::min(detail::obs_block, n - o0);
      sb.scan(P, y, o0, nb, true, rep);
      for (index_t i = 0; i < nb; ++i) {
        seen |= sb.status[i].noted();
        if (!sb.status[i].ok()) continue;
        const std::size_t j = static_cast<std::size_t>(m++);
        copy[j] = conf[j] = sb.conf[i];
        outc[j] = sb.target_at(y, i, o0 + i, sb.arg[i]);
        if (opt.weights) wk[j] = opt.weights[o0 + i];
      }
    }
    std::vector<double> e(static_cast<std::size_t>(B - 1), 1.0);
    if (m > 0) detail::select_edges(copy.data(), m, B, e.data());
    for (index_t b = 0; b < B; ++b) {
      res.lower[static_cast<std::size_t>(b)] = b == 0 ? 0.0 : e[static_cast<std::size_t>(b - 1)];
      res.upper[static_cast<std::size_t>(b)] = b == B - 1 ? 1.0 : e[static_cast<std::size_t>(b)];
    }
    detail::sum_bins(m, m, opt, res, [&](index_t j0, index_t j1, double* S, missing&) {
      for (index_t j = j0; j < j1; ++j) {
        const double c = conf[static_cast<std::size_t>(j)];
        const double w = opt.weights ? wk[static_cast<std::size_t>(j)] : 1.0;
        detail::add_to_bin(S + detail::bin_of(c, B, e.data()) * 5, w, c,
                           outc[static_cast<std::size_t>(j)]);
      }
    });
    if (!opt.na_rm) res.miss |= seen;
    return res;
  }

  // edges of equal-mass bins, per binned class
  std::vector<double> edges;
  if (opt.equal_mass && B > 1) {
    edges.assign(static_cast<std::size_t>(C * (B - 1)), 0.0);
    std::vector<double> copy(static_cast<std::size_t>(n));
    // rows that take part (status ok), from one scan; top-label confidences
    // are copied during it
    std::vector<unsigned char> keep(static_cast<std::size_t>(n), 0);
    index_t nkeep = 0;
    {
      detail::scanned_block sb;
      report scratch;  // problems are reported by the binning pass
      for (index_t o0 = 0; o0 < n; o0 += detail::obs_block) {
        const index_t nb = std::min(detail::obs_block, n - o0);
        sb.scan(P, y, o0, nb, true, scratch);
        for (index_t i = 0; i < nb; ++i) {
          if (!sb.status[i].ok()) continue;
          keep[static_cast<std::size_t>(o0 + i)] = 1;
          if (!opt.classwise) copy[static_cast<std::size_t>(nkeep)] = sb.conf[i];
          ++nkeep;
        }
      }
    }
    for (index_t c = 0; c < C; ++c) {
      index_t m = nkeep;
      if (opt.classwise) {
        const index_t k = c + kfirst;
        m = 0;
        for (index_t o = 0; o < n; ++o)
          if (keep[static_cast<std::size_t>(o)]) copy[static_cast<std::size_t>(m++)] = P.get(o, k);
      }
      double* e = edges.data() + c * (B - 1);
      if (m > 0) {
        detail::select_edges(copy.data(), m, B, e);
      } else {
        for (index_t b = 0; b < B - 1; ++b) e[b] = 1.0;
      }
      for (index_t b = 0; b < B; ++b) {
        res.lower[static_cast<std::size_t>(c * B + b)] = b == 0 ? 0.0 : e[b - 1];
        res.upper[static_cast<std::size_t>(c * B + b)] = b == B - 1 ? 1.0 : e[b];
      }
    }
  } else {
    for (index_t c = 0; c < C; ++c)
      for (index_t b = 0; b < B; ++b) {
        res.lower[static_cast<std::size_t>(c * B + b)] = static_cast<double>(b) / B;
        res.upper[static_cast<std::size_t>(c * B + b)] = static_cast<double>(b + 1) / B;
      }
  }

  detail::sum_bins(n, n * P.K, opt, res, [&](index_t p0, index_t p1, double* S,
                                              missing& seen) {
    detail::scanned_block sb;
    // classwise sums go to four interleaved copies of the cells (row i to
    // copy i % 4), added at the end of the part: consecutive rows falling
    // into the same bin then do not wait for each other's additions
    const index_t cw = C * B * 5;
    const bool split = opt.classwise && !P.binary && cw <= 16384;
    std::vector<double> lanes(static_cast<std::size_t>(split ? 4 * cw : 0), 0.0);
    for (index_t o0 = p0; o0 < p1; o0 += detail::obs_block) {
      const index_t nb = std::min(detail::obs_block, p1 - o0);
      sb.scan(P, y, o0, nb, true, rep);
      for (index_t i = 0; i < nb; ++i) seen |= sb.status[i].noted();
      if (opt.classwise && !P.binary) {
        // class by class: each column of the block is read contiguously;
        // its bins by a vectorised loop, then the sums: without weights only
        // the count and the confidence (sum w = sum w^2 = count, set at the
        // end of the part); with labels, the outcome only in the label's cell
        double bin[detail::obs_block];
        const double* w = opt.weights ? opt.weights + o0 : nullptr;
        for (index_t c = 0; c < C; ++c) {
          const double* col = P.p + c * n + o0;
          const double* e = edges.empty() ? nullptr : edges.data() + c * (B - 1);
          double* Sc = split ? lanes.data() + c * B * 5 : S + c * B * 5;
          const index_t lane_step = split ? cw : 0;
          if (e && B > 64) {  // many edges: binary search
            for (index_t i = 0; i < nb; ++i)
              bin[i] = sb.status[i].ok() ? static_cast<double>(detail::bin_of(col[i], B, e)) : 0.0;
          } else {
            dispatch_flags<detail::bins_k>(flags(e == nullptr), col, nb, B, e, bin);
          }
          for (index_t i = 0; i < nb; ++i) {
            if (!sb.status[i].ok()) continue;
            double* s = Sc + (i & 3) * lane_step + static_cast<index_t>(bin[i]) * 5;
            s[0] += 1.0;
            if (w) {
              s[1] += w[i];
              s[2] += w[i] * w[i];
              s[3] += w[i] * col[i];
            } else {
              s[3] += col[i];
            }
            if (y.is_matrix()) s[4] += (w ? w[i] : 1.0) * y.matrix(o0 + i, c);
            else if (sb.lab[i] == c) s[4] += w ? w[i] : 1.0;
          }
        }
        continue;
      }
      for (index_t i = 0; i < nb; ++i) {
        if (!sb.status[i].ok()) continue;
        const index_t o = o0 + i;
        const double w = opt.weights ? opt.weights[o] : 1.0;
        for (index_t c = 0; c < C; ++c) {
          double conf, out;
          if (opt.classwise) {
            const index_t k = c + kfirst;
            conf = P.get(o, k);
            out = sb.target_at(y, i, o, k);
          } else {
            conf = sb.conf[i];
            out = sb.target_at(y, i, o, sb.arg[i]);
          }
          const double* e = edges.empty() ? nullptr : edges.data() + c * (B - 1);
          const index_t b = B > 1 ? detail::bin_of(conf, B, e) : 0;
          detail::add_to_bin(S + (c * B + b) * 5, w, conf, out);
        }
      }
    }
    for (index_t l = 0; l < (split ? 4 : 0); ++l)
      for (index_t j = 0; j < cw; ++j) S[j] += lanes[static_cast<std::size_t>(l * cw + j)];
    if (opt.classwise && !P.binary && !opt.weights)
      for (index_t j = 0; j < C * B; ++j) S[j * 5 + 1] = S[j * 5 + 2] = S[j * 5];
  });
  return res;
}

namespace detail {

// Top-label confidence and first argmax of softmax(z / T) for a block of rows
// of logits (rows in the inner, vectorised loop), as normalise.hpp forms it:
// u = z / T, m = max u, t = sum of exp(u - m) below m, c = count at m; the
// confidence is 1 / (t + c) and the argmax the first class with u = m. Hard
// (T = 0): the limit, t = 0 and u = z. nc counts NaNs.
template <bool Hard>
struct softmax_top_k {
  XENTROPY_VM_INLINE static void run(const double* z, index_t n, index_t K, index_t r0,
                                     index_t nb, double T, double* m, double* nc,
                                     double* t, double* c, double* arg) {
    for (index_t i = 0; i < nb; ++i)
      m[i] = -std::numeric_limits<double>::infinity(), nc[i] = 0.0, t[i] = 0.0,
      c[i] = 0.0, arg[i] = -1.0;
    for (index_t k = 0; k < K; ++k) {
      const double* col = z + k * n + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double u = Hard || T == 1.0 ? col[i] : col[i] / T;
        nc[i] += u != u ? 1.0 : 0.0;
        m[i] = u > m[i] ? u : m[i];
      }
    }
    for (index_t k = 0; k < K; ++k) {
      const double* col = z + k * n + r0;
      const double kd = static_cast<double>(k);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double d = (Hard || T == 1.0 ? col[i] : col[i] / T) - m[i];
        const bool below = d < 0.0;
        if (!Hard) t[i] += below ? vm::exp(d) : 0.0;
        c[i] += d == 0.0 ? 1.0 : 0.0;
        arg[i] = arg[i] < 0.0 && d == 0.0 ? kd : arg[i];
      }
    }
  }
};

}  // namespace detail

// How logits become probabilities: softmax(z / T) of a row of K logits, or
// sigmoid(a z + b) of a binary logit (temperature scaling: a = 1 / T, b =
// 0). hard: the limit T = 0 (ties at the maximum share it; a binary logit
// gives 1, 0 or 1/2 by its sign). T = Inf (a = 0) makes the classes equally
// likely.
struct logit_scale {
  double T = 1.0;
  double a = 1.0, b = 0.0;
  bool hard = false;
};

// Per-bin sums of top-label confidences and outcomes, equal-width bins, of
// the probabilities that `sc` forms from the logits z (n x K, or a vector of
// n binary logits when y.binary), without forming them: one pass over the
// logits, allocating only the per-bin sums. Equals calibration_bins() on
// the probabilities (up to their rounding). Non-finite logits other than NA /
// NaN are reported as invalid predictions.
inline bin_sums logit_bins(const targets& y, const double* z, index_t n, index_t K,
                           const logit_scale& sc, const binning& opt, report& rep) {
  const index_t B = opt.bins;
  bin_sums res;
  res.bins = B;
  res.classes = 1;
  res.sums.assign(static_cast<std::size_t>(B * 5), 0.0);
  res.lower.resize(static_cast<std::size_t>(B));
  res.upper.resize(static_cast<std::size_t>(B));
  for (index_t b = 0; b < B; ++b) {
    res.lower[static_cast<std::size_t>(b)] = static_cast<double>(b) / B;
    res.upper[static_cast<std::size_t>(b)] = static_cast<double>(b + 1) / B;
  }
  const bool hard = sc.hard;
  const index_t width = y.binary ? 1 : K;
  detail::sum_bins(n, n * width, opt, res, [&](index_t p0, index_t p1, double* S,
                                               missing& seen) {
    using detail::obs_block;
    detail::scanned_block sb;
    double m[obs_block], nc[obs_block], t[obs_block], c[obs_block], arg[obs_block];
    invalid_at first;
    for (index_t o0 = p0; o0 < p1; o0 += obs_block) {
      const index_t nb = std::min(obs_block, p1 - o0);
      sb.read_targets(y, y.binary ? 2 : K, o0, nb, first);
      if (y.binary) {
        for (index_t i = 0; i < nb; ++i) {
          const double v = z[o0 + i];
          double p1v;
          if (hard) p1v = v > 0.0 ? 1.0 : (v < 0.0 ? 0.0 : (v == 0.0 ? 0.5 : v));
          else p1v = xentropy::sigmoid(sc.a * v + sc.b);
          // a missing probability (from a missing logit or coefficient) is
          // a missing row, as for probabilities given directly
          if (std::isnan(p1v)) sb.status[i].miss |= missing_of(p1v);
          if (!std::isnan(v) && !std::isfinite(v)) {
            first.merge(invalid_at{o0 + i, operand::prediction});
            sb.status[i].bad = true;
          }
          sb.conf[i] = p1v > 0.5 ? p1v : 1.0 - p1v;
          sb.arg[i] = p1v > 0.5 ? 1 : 0;
        }
      } else {
        dispatch_flags<detail::softmax_top_k>(flags(hard), z, n, K, o0, nb, sc.T, m, nc, t,
                                              c, arg);
        for (index_t i = 0; i < nb; ++i) {
          if (nc[i] > 0.0 || !std::isfinite(m[i])) {
            for (index_t k = 0; k < K; ++k) {
              const double v = z[o0 + i + k * n];
              if (std::isnan(v)) sb.status[i].miss |= missing_of(v);
              else if (!std::isfinite(v)) {
                first.merge(invalid_at{o0 + i + k * n, operand::prediction});
                sb.status[i].bad = true;
              }
            }
          }
          sb.conf[i] = 1.0 / (t[i] + c[i]);
          sb.arg[i] = static_cast<index_t>(arg[i] < 0.0 ? 0.0 : arg[i]);
        }
      }
      for (index_t i = 0; i < nb; ++i) {
        seen |= sb.status[i].noted();
        if (!sb.status[i].ok()) continue;
        const index_t o = o0 + i;
        const double w = opt.weights ? opt.weights[o] : 1.0;
        const double conf = sb.conf[i];
        detail::add_to_bin(S + (B > 1 ? detail::bin_of(conf, B, nullptr) : 0) * 5, w, conf,
                           sb.target_at(y, i, o, sb.arg[i]));
      }
    }
    rep.values.note(first);
  });
  return res;
}

enum class norm { l1 = 0, l2 = 1, max = 2 };

// Calibration error from per-bin sums (see the top of this file); NA / NaN
// when a row was missing without na_rm, NaN when there is no weight at all.
inline double calibration_error(const bin_sums& s, norm p) {
  if (s.miss != missing::none) return missing_value(s.miss);
  const index_t cells = s.classes * s.bins;
  double W = 0.0;
  for (index_t j = 0; j < cells; ++j) W += s.sums[static_cast<std::size_t>(j * 5 + 1)];
  if (!(W > 0.0)) return nan_real();
  double acc = 0.0;
  for (index_t j = 0; j < cells; ++j) {
    const double* c = s.sums.data() + j * 5;
    if (!(c[1] > 0.0)) continue;
    const double gap = std::fabs(c[4] / c[1] - c[3] / c[1]);
    // classes share the total: each class's bins weigh W_b / (C W)
    const double share = c[1] / W;
    switch (p) {
      case norm::l1: acc += share * gap; break;
      case norm::l2: acc += share * gap * gap; break;
      case norm::max: acc = gap > acc ? gap : acc; break;
    }
  }
  return p == norm::l2 ? std::sqrt(acc) : acc;
}

}  // namespace calibration
}  // namespace xentropy

#endif  // XENTROPY_BINNING_HPP
