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
// Sums are compensated (reduce.hpp), so they do not lose digits with length. Probabilities outside [0, 1] are reported through
// accumulator::bad (linear index into p; q's indices are flagged separately).
#ifndef XENTROPY_INFORMATION_HPP
#define XENTROPY_INFORMATION_HPP

#include <atomic>

#include "reduce.hpp"

namespace xentropy {

// The first invalid element seen by any thread: which operand (0 = p,
// 1 = q) and where, or where < 0 when all were valid.
struct first_invalid {
  std::atomic<long long> key{-1};
  void note(index_t at, int which) {
    const long long k = static_cast<long long>(at) * 2 + which;
    long long cur = key.load();
    while ((cur < 0 || k < cur) && !key.compare_exchange_weak(cur, k)) {
    }
  }
  index_t where() const { return key.load() < 0 ? -1 : static_cast<index_t>(key.load() / 2); }
  int which() const { return static_cast<int>(key.load() % 2); }
};

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

}  // namespace detail

// Entropy of each of nobs distributions over nclass classes, viewed by p.
inline void entropy(view p, index_t nobs, index_t nclass, bool contiguous,
                    double* out, double log_base, bool na_rm, int nthreads,
                    first_invalid& bad) {
  detail::measure(p, view{nullptr, 0, 0}, nobs, nclass, contiguous, out,
                  log_base, na_rm, nthreads, bad,
                  [](double pv, double) { return -pv * std::log(pv); });
}

inline void cross_entropy(view p, view q, index_t nobs, index_t nclass,
                          bool contiguous, double* out, double log_base,
                          bool na_rm, int nthreads, first_invalid& bad) {
  detail::measure(p, q, nobs, nclass, contiguous, out, log_base, na_rm,
                  nthreads, bad, [](double pv, double qv) {
                    return qv == 0.0 ? inf() : -pv * std::log(qv);
                  });
}

inline void kl_divergence(view p, view q, index_t nobs, index_t nclass,
                          bool contiguous, double* out, double log_base,
                          bool na_rm, int nthreads, first_invalid& bad) {
  detail::measure(p, q, nobs, nclass, contiguous, out, log_base, na_rm,
                  nthreads, bad, [](double pv, double qv) {
                    return detail::kl_term(pv, qv);
                  });
}

// Multinomial log-likelihood terms: sum_k n_k log q_k (minus
// sum_k lgamma(n_k + 1) when full) for counts n (whole, >= 0) and
// probabilities q >= 0; the caller adds lgamma(N + 1) and normalises q.
inline void multinomial_terms(view counts, view q, index_t nobs, index_t nclass,
                              bool contiguous, bool full, double* out,
                              int nthreads, first_invalid& bad) {
  detail::measure(
      counts, q, nobs, nclass, contiguous, out, 1.0, false, nthreads, bad,
      [](double n) { return n >= 0.0 && n < inf() && n == std::floor(n); },
      [](double v) { return v >= 0.0 && v < inf(); },
      [full](double n, double qv) {
        const double t = qv == 0.0 ? -inf() : n * std::log(qv);
        return full ? t - std::lgamma(n + 1.0) : t;
      });
}

}  // namespace xentropy

#endif  // XENTROPY_INFORMATION_HPP
