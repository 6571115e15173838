// xentropy/link.hpp -- the logistic link functions, elementwise.
//
//   sigmoid(x)     = 1 / (1 + exp(-x))            (PRML eq. 4.59)
//   logit(p)       = log(p / (1 - p))             (PRML eq. 4.61, inverse of sigmoid)
//   softplus(x)    = log(1 + exp(x))
//   log_sigmoid(x) = log(sigmoid(x)) = -softplus(-x)
//
// Numerical tricks (each keeps the result within 2 ulp of the exact value over
// the whole double range, subnormal results included; tests check this against
// 200-bit Rmpfr values):
// * sigmoid: exp() is only ever taken of a non-positive number, so it cannot
//   overflow; for x < 0 the form e / (1 + e), e = exp(x), keeps full relative
//   precision down to the subnormal range (base R's plogis(-710) is 0, the
//   exact value is about 4.4e-309).
// * softplus: Maechler (2012), "Accurately computing log(1 - exp(-|a|))",
//   section on log1pexp: exp(x) below -37, log1p(exp(x)) up to 18,
//   x + exp(-x) up to 33.3, x beyond (where exp(-x) is below half an ulp of x).
// * logit: in [1/4, 3/4], d = 2p - 1 is exact (Sterbenz) and
//   logit(p) = log1p(d) - log1p(-d) is a sum of two terms of the same sign, so
//   nothing cancels (the textbook log(p / (1 - p)) loses about 8 digits within
//   1e-9 of 1/2, as qlogis does). Outside, log(p) - log1p(-p) (p < 1/4) and
//   log(p / (1 - p)) with 1 - p exact (p > 3/4) are well conditioned.
// NA and NaN inputs are returned unchanged (same bits), so R can tell them apart.
#ifndef XENTROPY_LINK_HPP
#define XENTROPY_LINK_HPP

#include "common.hpp"

namespace xentropy {

inline double sigmoid(double x) {
  if (std::isnan(x)) return x;
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

inline double softplus(double x) {
  if (std::isnan(x)) return x;
  if (x <= -37.0) return std::exp(x);
  if (x <= 18.0) return std::log1p(std::exp(x));
  if (x <= 33.3) return x + std::exp(-x);
  return x;
}

inline double log_sigmoid(double x) {
  if (std::isnan(x)) return x;
  return -softplus(-x);
}

// Outside [0, 1] the result is NaN; callers that must warn count those cases.
inline double logit(double p) {
  if (std::isnan(p)) return p;
  if (p < 0.0 || p > 1.0) return nan_real();
  if (p < 0.25) return std::log(p) - std::log1p(-p);
  if (p <= 0.75) {
    const double d = 2.0 * p - 1.0;
    return std::log1p(d) - std::log1p(-d);
  }
  return std::log(p / (1.0 - p));
}

// Array versions: out[i] = f(x[i]) for i in [0, n); `out` may alias `x`.
namespace detail {
constexpr index_t link_chunk = 8192;

template <double (*F)(double)>
inline void map(const double* x, double* out, index_t n, int nthreads) {
  parallel_chunks(n, link_chunk, threads_for(nthreads, n), [=](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) out[i] = F(x[i]);
  });
}
}  // namespace detail

inline void sigmoid(const double* x, double* out, index_t n, int nthreads = 1) {
  detail::map<static_cast<double (*)(double)>(sigmoid)>(x, out, n, nthreads);
}
inline void softplus(const double* x, double* out, index_t n, int nthreads = 1) {
  detail::map<static_cast<double (*)(double)>(softplus)>(x, out, n, nthreads);
}
inline void log_sigmoid(const double* x, double* out, index_t n, int nthreads = 1) {
  detail::map<static_cast<double (*)(double)>(log_sigmoid)>(x, out, n, nthreads);
}
inline void logit(const double* p, double* out, index_t n, int nthreads = 1) {
  detail::map<static_cast<double (*)(double)>(logit)>(p, out, n, nthreads);
}

}  // namespace xentropy

#endif  // XENTROPY_LINK_HPP
