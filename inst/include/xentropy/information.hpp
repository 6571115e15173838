// xentropy/information.hpp -- entropy, cross-entropy and Kullback-Leibler
// divergence of discrete distributions (one per row, per column, or a vector).
//
//   H(p)     = -sum_k p_k log p_k
//   H(p, q)  = -sum_k p_k log q_k
//   KL(p||q) =  sum_k p_k log(p_k / q_k) = H(p, q) - H(p) >= 0
// in nats; divide by log(base) for other units (base 2: bits).
//
// Conventions (the limits as p_k -> 0): 0 log 0 = 0 and 0 log(0 / q) = 0, so
// a class with p_k = 0 contributes nothing whatever q_k is; p_k > 0 with
// q_k = 0 contributes +Inf. KL's terms are p log1p((p - q) / q) where p and q
// are within a factor 2 (p - q is then exact), p log(p / q) elsewhere, so each
// term is within a few ulp of its exact value and exactly 0 when p equals q.
// Sums are compensated (reduce.hpp), so they do not lose digits with length.
// Probabilities outside [0, 1] are reported through first_invalid (position
// and operand: p is the target, q the prediction).
//
// Each measure takes its operands' views, a measure_shape (how many
// distributions, how many classes, laid out how) and measure_options (log
// base, na_rm, threads), and writes one value per distribution to `out`.
#ifndef XENTROPY_INFORMATION_HPP
#define XENTROPY_INFORMATION_HPP

#include "invalid.hpp"
#include "reduce.hpp"
#include "vmath.hpp"

namespace xentropy {

namespace detail {

inline bool is_prob(double v) { return v >= 0.0 && v <= 1.0; }

// p log(p / q) for p > 0, to a few ulp. Where q / 2 <= p <= 2 q, p - q is
// exact (Sterbenz) and p log1p((p - q) / q) keeps every digit: p / q itself
// rounds by about 1e-16, which log(p / q) ~ p / q - 1 turns into a relative
// error of 1e-16 / |p / q - 1| (2e-3 measured, issue 11). Elsewhere
// |log(p / q)| > log 2 and the rounding of p / q costs under an ulp, unless
// p / q is subnormal or overflows: then log p - log q, which cannot cancel
// there (its magnitude exceeds 708).
inline double kl_term(double pv, double qv) {
  if (qv == 0.0) return inf();
  if (pv >= 0.5 * qv && pv <= 2.0 * qv) return pv * std::log1p((pv - qv) / qv);
  const double r = pv / qv;
  const double l = r >= std::numeric_limits<double>::min() && r < inf()
                       ? std::log(r)
                       : std::log(pv) - std::log(qv);
  return pv * l;
}

// Runs a two-operand (or one-operand, q.data == nullptr) measure: out[obs] =
// sum / log_base, with missing values and invalid operands handled. Terms
// are only called for valid values with p > 0 (p = 0 contributes nothing).
template <class ValidP, class ValidQ, class Term>
inline void measure(view p, view q, index_t nobs, index_t nclass,
                    bool contiguous, double* out, double log_base, bool na_rm,
                    int nthreads, first_invalid& bad, ValidP valid_p,
                    ValidQ valid_q, Term term) {
  sum_over_margin(
      nobs, nclass, contiguous, nthreads,
      [&](index_t o, index_t k, accumulator& acc) {
        const double pv = p(o, k);
        const double qv = q.data ? q(o, k) : 0.0;
        if (std::isnan(pv) || std::isnan(qv)) {
          if (std::isnan(pv)) acc.missing(pv);
          if (std::isnan(qv)) acc.missing(qv);
          return;
        }
        if (!valid_p(pv)) {
          acc.invalid(p.at(o, k) * 2);
          return;
        }
        if (q.data && !valid_q(qv)) {
          acc.invalid(q.at(o, k) * 2 + 1);
          return;
        }
        if (pv == 0.0) return;  // 0 log 0 = 0, whatever q is
        acc.add(term(pv, qv));
      },
      [&](index_t o, const accumulator& acc) {
        if (acc.bad >= 0) bad.note(acc.bad / 2, static_cast<int>(acc.bad % 2));
        out[o] = acc.value(na_rm) / log_base;
      });
}

template <class Term>
inline void measure(view p, view q, index_t nobs, index_t nclass,
                    bool contiguous, double* out, double log_base, bool na_rm,
                    int nthreads, first_invalid& bad, Term term) {
  measure(p, q, nobs, nclass, contiguous, out, log_base, na_rm, nthreads, bad,
          is_prob, is_prob, term);
}

// --- Vectorised path: one distribution per row of a matrix ---------------
// The terms of a block of rows are computed class by class with the rows in
// the inner (vectorised) loop, with vm::log / vm::log1p, summed with Kahan
// compensation per row. A row with anything the fast terms do not cover (a
// missing or invalid value; for KL, q = 0 or p / q outside the normal range)
// is counted in `flag` and summed again by the scalar path, so results and
// error reports are the scalar path's. Measure: 0 entropy, 1 cross-entropy,
// 2 KL divergence.

template <int Measure>
XENTROPY_VM_INLINE double fast_term(double pv, double qv, bool& special) {
  if (Measure == 0) {
    special = false;
    return -pv * vm::log(pv);
  } else if (Measure == 1) {
    special = qv == 0.0;  // +Inf: summed by the scalar path
    return -pv * vm::log(qv);
  } else {
    // kl_term's two forms through one log: log1p(d), d = (p - q) / q, where
    // p and q are within a factor 2, as log((1 + d) + dl) with 1 + d
    // carried exactly (TwoSum; the log kernel adds dl / (1 + d), as log1p
    // does), else log(p / q)
    const bool close = (pv >= 0.5 * qv) & (pv <= 2.0 * qv);
    const double r = pv / qv;
    const double d = (pv - qv) / qv;
    const double u = 1.0 + d;
    const double bv = u - 1.0;
    const double ul = (1.0 - (u - bv)) + (d - bv);
    special = (!close) & !((r >= std::numeric_limits<double>::min()) & (r < inf()));
    const double l = vm::log_dd(close ? u : r, close ? ul : 0.0);
    return pv * l;
  }
}

template <int Measure, bool PRow, bool QRow>
struct info_rows_k {
  XENTROPY_VM_INLINE static void run(const double* p, index_t psk, const double* q,
                                     index_t qsk, index_t o0, index_t nb,
                                     index_t nclass, double* sum, double* comp,
                                     double* flag) {
    for (index_t i = 0; i < nb; ++i) sum[i] = 0.0, comp[i] = 0.0, flag[i] = 0.0;
    for (index_t k = 0; k < nclass; ++k) {
      const double* pc = p + k * psk + (PRow ? o0 : 0);
      const double* qc = Measure == 0 ? pc : q + k * qsk + (QRow ? o0 : 0);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double pv = pc[PRow ? i : 0];
        const double qv = Measure == 0 ? 0.5 : qc[QRow ? i : 0];
        // NaN fails these comparisons too
        // bitwise, not short-circuit: branches would stop vectorisation
        const bool ok = (pv >= 0.0) & (pv <= 1.0) & (qv >= 0.0) & (qv <= 1.0);
        bool special;
        const double term = fast_term<Measure>(pv, qv, special);
        const bool use = ok & (pv > 0.0);
        flag[i] += (!ok) | (use & special) ? 1.0 : 0.0;
        const double y = (use ? term : 0.0) - comp[i];
        const double t = sum[i] + y;
        comp[i] = (t - sum[i]) - y;
        sum[i] = t;
      }
    }
  }
};

template <int Measure, bool PRow, bool QRow>
inline void info_rows(const double* p, index_t psk, const double* q, index_t qsk,
                      index_t o0, index_t nb, index_t nclass, double* sum,
                      double* comp, double* flag) {
  vm::dispatch<info_rows_k<Measure, PRow, QRow>>(p, psk, q, qsk, o0, nb, nclass,
                                                 sum, comp, flag);
}

// Runs the vectorised path where it applies (rows of a matrix: p and q each
// a matrix walked by rows, so = 1, or a shared vector, so = 0); returns
// whether it did.
template <int Measure, class Term>
inline bool measure_rows_fast(view p, view q, index_t nobs, index_t nclass,
                              bool contiguous, double* out, double log_base,
                              bool na_rm, int nthreads, first_invalid& bad,
                              Term term) {
  if (contiguous || !(p.so == 0 || p.so == 1)) return false;
  if (Measure > 0 && (!q.data || !(q.so == 0 || q.so == 1))) return false;
  const bool prow = p.so == 1, qrow = Measure > 0 && q.so == 1;
  parallel_chunks(nobs, obs_block, threads_for(nthreads, nobs * nclass),
                  [&](index_t o0, index_t o1) {
    const index_t nb = o1 - o0;
    double sum[obs_block], comp[obs_block], flag[obs_block];
    const double* qd = Measure > 0 ? q.data : p.data;
    const index_t qsk = Measure > 0 ? q.sk : p.sk;
    if (prow && qrow) info_rows<Measure, true, true>(p.data, p.sk, qd, qsk, o0, nb, nclass, sum, comp, flag);
    else if (prow) info_rows<Measure, true, false>(p.data, p.sk, qd, qsk, o0, nb, nclass, sum, comp, flag);
    else if (qrow) info_rows<Measure, false, true>(p.data, p.sk, qd, qsk, o0, nb, nclass, sum, comp, flag);
    else info_rows<Measure, false, false>(p.data, p.sk, qd, qsk, o0, nb, nclass, sum, comp, flag);
    for (index_t i = 0; i < nb; ++i) {
      const index_t o = o0 + i;
      if (flag[i] == 0.0) {
        out[o] = (sum[i] - comp[i]) / log_base;
        continue;
      }
      accumulator acc;
      for (index_t k = 0; k < nclass; ++k) {
        const double pv = p(o, k);
        const double qv = q.data ? q(o, k) : 0.0;
        if (std::isnan(pv) || std::isnan(qv)) {
          if (std::isnan(pv)) acc.missing(pv);
          if (std::isnan(qv)) acc.missing(qv);
          continue;
        }
        if (!is_prob(pv)) {
          acc.invalid(p.at(o, k) * 2);
          continue;
        }
        if (q.data && !is_prob(qv)) {
          acc.invalid(q.at(o, k) * 2 + 1);
          continue;
        }
        if (pv == 0.0) continue;
        acc.add(term(pv, qv));
      }
      acc.settle();
      if (acc.bad >= 0) bad.note(acc.bad / 2, static_cast<int>(acc.bad % 2));
      out[o] = acc.value(na_rm) / log_base;
    }
  }, obs_block * (nclass > 0 ? nclass : 1));
  return true;
}

}  // namespace detail

// Where the distributions are: nobs of them over nclass classes, each read
// through a view (information.hpp's `view`: element (obs, k) at
// data[obs * so + k * sk]); `contiguous` says the classes of one observation
// are adjacent in memory (a column-major matrix with margin = 2).
struct measure_shape {
  index_t nobs = 0;
  index_t nclass = 0;
  bool contiguous = false;
};

// How each sum is reported: divided by log_base (1 for nats, log 2 for
// bits), missing values dropped with na_rm, on up to nthreads threads.
struct measure_options {
  double log_base = 1.0;
  bool na_rm = false;
  int nthreads = 1;
};

// Entropy of each distribution viewed by p: out[obs] = -sum_k p log p.
inline void entropy(view p, const measure_shape& s, double* out,
                    const measure_options& opt, first_invalid& bad) {
  auto term = [](double pv, double) { return -pv * std::log(pv); };
  const view none{nullptr, 0, 0};
  if (detail::measure_rows_fast<0>(p, none, s.nobs, s.nclass, s.contiguous, out,
                                   opt.log_base, opt.na_rm, opt.nthreads, bad, term))
    return;
  detail::measure(p, none, s.nobs, s.nclass, s.contiguous, out, opt.log_base,
                  opt.na_rm, opt.nthreads, bad, term);
}

// Cross-entropy: out[obs] = -sum_k p log q (Inf where q = 0 < p).
inline void cross_entropy(view p, view q, const measure_shape& s, double* out,
                          const measure_options& opt, first_invalid& bad) {
  auto term = [](double pv, double qv) {
    return qv == 0.0 ? inf() : -pv * std::log(qv);
  };
  if (detail::measure_rows_fast<1>(p, q, s.nobs, s.nclass, s.contiguous, out,
                                   opt.log_base, opt.na_rm, opt.nthreads, bad, term))
    return;
  detail::measure(p, q, s.nobs, s.nclass, s.contiguous, out, opt.log_base,
                  opt.na_rm, opt.nthreads, bad, term);
}

// Kullback-Leibler divergence: out[obs] = sum_k p log(p / q), each term
// exact where p is close to q (detail::kl_term).
inline void kl_divergence(view p, view q, const measure_shape& s, double* out,
                          const measure_options& opt, first_invalid& bad) {
  auto term = [](double pv, double qv) { return detail::kl_term(pv, qv); };
  if (detail::measure_rows_fast<2>(p, q, s.nobs, s.nclass, s.contiguous, out,
                                   opt.log_base, opt.na_rm, opt.nthreads, bad, term))
    return;
  detail::measure(p, q, s.nobs, s.nclass, s.contiguous, out, opt.log_base,
                  opt.na_rm, opt.nthreads, bad, term);
}

// Multinomial log-likelihood terms: sum_k n_k log q_k (minus
// sum_k lgamma(n_k + 1) when full) for counts n (whole, >= 0) and
// probabilities q >= 0; the caller adds lgamma(N + 1) and normalises q.
// One thread is safest: glibc's lgamma() writes the global signgam.
inline void multinomial_terms(view counts, view q, const measure_shape& s,
                              bool full, double* out, int nthreads,
                              first_invalid& bad) {
  detail::measure(
      counts, q, s.nobs, s.nclass, s.contiguous, out, 1.0, false, nthreads, bad,
      [](double n) { return n >= 0.0 && n < inf() && n == std::floor(n); },
      [](double v) { return v >= 0.0 && v < inf(); },
      [full](double n, double qv) {
        const double t = qv == 0.0 ? -inf() : n * std::log(qv);
        return full ? t - std::lgamma(n + 1.0) : t;
      });
}

}  // namespace xentropy

#endif  // XENTROPY_INFORMATION_HPP
