// xentropy/metrics.hpp -- scores of probabilistic classifiers that are sums
// over observations: the Brier score and top-k accuracy (inputs, targets and
// missing values as in binning.hpp).
//
//   Brier:       b_i = sum_k (p_ik - t_ik)^2          (Brier 1950; two
//                classes given as a vector: (p_i - y_i)^2, half of that sum)
//   top-k:       the label y is among the k highest scores when
//                #{j : s_j > s_y} + #{j < y : s_j = s_y} < k (ties are broken
//                towards the lower class index, so k = 1 agrees with which.max).
//
// Determinism: fixed-size blocks of observations whose partial sums are
// added in block order: results are identical for any thread count.
#ifndef XENTROPY_METRICS_HPP
#define XENTROPY_METRICS_HPP

#include "binning.hpp"

namespace xentropy {
namespace calibration {

// Brier score: per-observation scores b_i (see the top of this file), reduced
// as the losses are (loss_options: weights, mean / sum / none, na_rm); "none"
// writes the n scores to `out`. Returns the reduced value (0 for "none").
inline double brier_score(const targets& y, const predictions& P,
                          const loss_options& opt, double* out, report& rep) {
  const accumulator total = xentropy::detail::reduce_losses(
      P.n, detail::obs_block, P.n * P.K, opt, out, rep.values,
      [&](index_t o0, index_t o1, double* score, double*, invalid_at&) {
        const index_t nb = o1 - o0;
        detail::scanned_block sb;
        const bool labels = !y.is_matrix() && !y.binary;
        sb.scan(P, y, o0, nb, true, rep, labels);
        for (index_t i = 0; i < nb; ++i) score[i] = 0.0;
        if (labels) {
          for (index_t i = 0; i < nb; ++i) score[i] = sb.sq[i];
        } else if (P.binary) {
          for (index_t i = 0; i < nb; ++i) {
            const double d = P.p[o0 + i] - sb.target_at(y, i, o0 + i, 1);
            score[i] = d * d;
          }
        } else {
          for (index_t k = 0; k < P.K; ++k) {
            const double* col = P.p + k * P.n + o0;
            for (index_t i = 0; i < nb; ++i) {
              const double d = col[i] - sb.target_at(y, i, o0 + i, k);
              score[i] += d * d;
            }
          }
        }
        // missing rows are NA / NaN; invalid rows (reported) NaN
        for (index_t i = 0; i < nb; ++i)
          if (!sb.status[i].ok())
            score[i] = sb.status[i].bad ? nan_real() : missing_value(sb.status[i].miss);
        return false;
      });
  return xentropy::detail::reduced_value(total, opt);
}

namespace detail {

// Rank of each row's label score (classes scoring higher, or equal with a
// lower index) and the number of NaNs, rows in the inner (vectorised) loop.
struct rank_k {
  XENTROPY_VM_INLINE static void run(const double* s, index_t n, index_t K, index_t nb,
                                     const double* lab, const double* sy, double* rank,
                                     double* nnan) {
    for (index_t i = 0; i < nb; ++i) rank[i] = 0.0, nnan[i] = 0.0;
    for (index_t j = 0; j < K; ++j) {
      const double* col = s + j * n;
      const double jd = static_cast<double>(j);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i];
        nnan[i] += v != v ? 1.0 : 0.0;
        rank[i] += (v > sy[i] || (v == sy[i] && jd < lab[i])) ? 1.0 : 0.0;
      }
    }
  }
};

}  // namespace detail

// Top-k accuracy of an n x K score matrix (any real scores: probabilities or
// logits) for labels: the (weighted) share of observations whose label is
// among the k highest scores, ties as at the top of this file. A row with an
// NA (NaN) score or label is missing.
inline double top_k_accuracy(const class_labels& y, const double* scores,
                             index_t n, index_t K, index_t k,
                             const loss_options& opt, first_invalid& bad) {
  const accumulator total = xentropy::detail::reduce_losses(
      n, detail::obs_block, n * K, opt, nullptr, bad,
      [&](index_t o0, index_t o1, double* hit, double*, invalid_at& first) {
        const index_t nb = o1 - o0;
        index_t lab[detail::obs_block];
        double sy[detail::obs_block], rank[detail::obs_block];
        missing st[detail::obs_block];
        for (index_t i = 0; i < nb; ++i) {
          st[i] = missing::none;
          lab[i] = y.get(o0 + i, K, st[i]);
          if (lab[i] == class_labels::out_of_range)
            first.merge(invalid_at{o0 + i, operand::target});
          sy[i] = lab[i] >= 0 ? scores[o0 + i + lab[i] * n] : 0.0;
          rank[i] = 0.0;
        }
        double labd[detail::obs_block], nnan[detail::obs_block];
        for (index_t i = 0; i < nb; ++i) labd[i] = static_cast<double>(lab[i]);
        vm::dispatch<detail::rank_k>(scores + o0, n, K, nb, labd, sy, rank, nnan);
        for (index_t i = 0; i < nb; ++i) {
          if (nnan[i] == 0.0) continue;
          for (index_t j = 0; j < K; ++j) {
            const double v = scores[o0 + i + j * n];
            st[i] |= missing_of(v);
          }
        }
        const double kd = static_cast<double>(k);
        for (index_t i = 0; i < nb; ++i) {
          if (lab[i] == class_labels::out_of_range) hit[i] = nan_real();
          else if (st[i] != missing::none) hit[i] = missing_value(st[i]);
          else hit[i] = rank[i] < kd ? 1.0 : 0.0;
        }
        return false;
      });
  return xentropy::detail::reduced_value(total, opt);
}

}  // namespace calibration
}  // namespace xentropy

#endif  // XENTROPY_METRICS_HPP
