// xentropy/link.hpp -- the logistic link functions, elementwise.
//
//   sigmoid(x)     = 1 / (1 + exp(-x))            (PRML eq. 4.59)
//   logit(p)       = log(p / (1 - p))             (PRML eq. 4.61, inverse of sigmoid)
//   softplus(x)    = log(1 + exp(x))
//   log_sigmoid(x) = log(sigmoid(x)) = -softplus(-x)
//   log1mexp(x)    = log(1 - exp(-x)),  logdiffexp(a, b) = log(exp(a) - exp(b))
//
// Numerical tricks (each keeps the result within 2 ulp of the exact value over
// the whole double range, subnormal results included; tests check this against
// 200-bit Rmpfr values on every instruction-set path):
// * sigmoid (vm::sigmoid in vmath.hpp): exp() is only taken of -|x|, so it
//   cannot overflow; for x < 0 the form e / (1 + e), e = exp(x), keeps full
//   relative precision down to the subnormal range (base R's plogis(-710) is
//   0, the exact value is about 4.4e-309), and the rounding errors of exp and
//   of 1 + e are carried and corrected (1.2 ulp; with glibc's exp and no
//   correction the error reaches 2.3 ulp, at x = -3.462).
// * softplus (vm::log1pexp): Maechler (2012), "Accurately computing
//   log(1 - exp(-|a|))", section on log1pexp: log1p(exp(x)) up to 18 (which is
//   exp(x) to the last bit below -37), x + exp(-x) beyond.
// * logit: in [1/4, 3/4], d = 2p - 1 is exact (Sterbenz) and
//   logit(p) = log1p(d) - log1p(-d) is a sum of two terms of the same sign, so
//   nothing cancels (the textbook log(p / (1 - p)) loses about 8 digits within
//   1e-9 of 1/2, as qlogis does). Outside, log(p) - log1p(-p) (p < 1/4) and
//   log(p / (1 - p)) with 1 - p exact (p > 3/4) are well conditioned.
// NA and NaN inputs are returned unchanged (same bits), so R can tell them apart.
#ifndef XENTROPY_LINK_HPP
#define XENTROPY_LINK_HPP

#include <cmath>
#include <limits>

#include "blocks.hpp"
#include "common.hpp"
#include "vmath.hpp"

namespace xentropy {

// Scalar versions, vectorisable where inlined into a loop (vmath.hpp); NA and
// NaN pass through with their bits. The NaN test is `x != x` selected after
// the arithmetic: std::isnan() is a call GCC will not if-convert here, and it
// makes the loop scalar (10 ns instead of 1.3 ns per element).
XENTROPY_VM_INLINE double sigmoid(double x) {
  const double y = vm::sigmoid(x);
  return x != x ? x : y;
}

XENTROPY_VM_INLINE double softplus(double x) {
  const double y = vm::log1pexp(x);
  return x != x ? x : y;
}

XENTROPY_VM_INLINE double log_sigmoid(double x) {
  const double y = -vm::log1pexp(-x);
  return x != x ? x : y;
}

// Outside [0, 1] the result is NaN; callers that must warn count those cases.
// Branch-free (the three forms are all computed and one is selected), so
// that the array version vectorises; the scalar and the array versions are
// the same function, so they agree to the bit.
XENTROPY_VM_INLINE double logit(double p) {
  const bool low = p < 0.25, mid = p <= 0.75;
  const double d = 2.0 * p - 1.0;
  const double a = vm::log1p(d);                      // mid: log1p(d)
  const double b = vm::log(low ? p : p / (1.0 - p));  // low: log p; high: all
  const double c = vm::log1p(low ? -p : -d);          // low: log1p(-p); mid: log1p(-d)
  const double y = low ? b - c : (mid ? a - c : b);
  const double bad = ((p < 0.0) | (p > 1.0)) ? std::numeric_limits<double>::quiet_NaN() : y;
  return p != p ? p : bad;
}

// Array versions: out[i] = f(x[i]) for i in [0, n); `out` may alias `x`.
// Each chunk runs the loop compiled for the best instruction set of the CPU
// (vm::map); chunks are spread over threads.
namespace detail {
constexpr index_t link_chunk = blocks::elementwise;

struct sigmoid_op {
  XENTROPY_VM_INLINE double operator()(double x) const { return xentropy::sigmoid(x); }
};
struct softplus_op {
  XENTROPY_VM_INLINE double operator()(double x) const { return xentropy::softplus(x); }
};
struct logit_op {
  XENTROPY_VM_INLINE double operator()(double x) const { return xentropy::logit(x); }
};
struct log_sigmoid_op {
  XENTROPY_VM_INLINE double operator()(double x) const { return xentropy::log_sigmoid(x); }
};

template <class Op>
inline void map(const double* x, double* out, index_t n, int nthreads) {
  parallel_chunks(n, link_chunk, threads_for(nthreads, n), [=](index_t begin, index_t end) {
    vm::map<Op>(x + begin, out + begin, end - begin);
  });
}
}  // namespace detail

inline void sigmoid(const double* x, double* out, index_t n, int nthreads = 1) {
  detail::map<detail::sigmoid_op>(x, out, n, nthreads);
}
inline void softplus(const double* x, double* out, index_t n, int nthreads = 1) {
  detail::map<detail::softplus_op>(x, out, n, nthreads);
}
inline void log_sigmoid(const double* x, double* out, index_t n, int nthreads = 1) {
  detail::map<detail::log_sigmoid_op>(x, out, n, nthreads);
}
inline void logit(const double* p, double* out, index_t n, int nthreads = 1) {
  detail::map<detail::logit_op>(p, out, n, nthreads);
}

// log(1 - exp(-x)) elementwise (x >= 0; x < 0 gives NaN, NA and NaN pass
// through with their bits); out may alias x.
namespace detail {
struct log1mexp_op {
  XENTROPY_VM_INLINE double operator()(double x) const { return vm::log1mexp(x); }
};
constexpr index_t map_chunk = 8192;

// log(exp(a) - exp(b)) for a >= b: a + log1mexp(d + dl) with d + dl = a - b
// exactly (TwoSum), the first-order term dl exp(-d) / (1 - exp(-d)) added.
XENTROPY_VM_INLINE double logdiffexp1(double a, double b) {
  const double d = a - b;
  const double bb = d - a;
  const double dl0 = (a - (d - bb)) + (-b - bb);   // d + dl0 = a - b (TwoSum)
  const bool finite = d - d == 0.0;
  const double dl = finite ? dl0 : 0.0;
  // log1mexp(d + dl) = L + Ll (log1mexp_split takes d's low part), then
  // a + L + Ll with the rounding of a + L kept: where the result is much
  // smaller than a (log(exp(a) - exp(b)) near 0) the digits of L matter.
  double Ll, y;
  const double dd = finite && d > 0.0 ? d : 1.0;   // harmless where not used
  const double L = vm::log1mexp_split(dd, dl, Ll, y);
  const double r = a + L;
  const double av = r - a;
  const double rl = (a - (r - av)) + (L - av);
  const double v0 = r + (rl + Ll);
  // a == b: exp(a) - exp(b) = 0 (also for a = b = -Inf); a = b = +Inf: NaN
  const double eq = a == std::numeric_limits<double>::infinity()
                        ? std::numeric_limits<double>::quiet_NaN()
                        : -std::numeric_limits<double>::infinity();
  // d = +Inf (b = -Inf, a = +Inf, or a - b overflows): the value is a
  const double v = a == b ? eq : (d == std::numeric_limits<double>::infinity() ? a : v0);
  return d < 0.0 || (d != d && a != b) ? std::numeric_limits<double>::quiet_NaN() : v;
}

struct logdiffexp_k {
  XENTROPY_VM_INLINE static void run(const double* a, index_t sa, const double* b,
                                     index_t sb, double* out, index_t n) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) out[i] = logdiffexp1(a[i * sa], b[i * sb]);
  }
};
}  // namespace detail

inline void log1mexp(const double* x, double* out, index_t n, int nthreads = 1) {
  parallel_chunks(n, detail::map_chunk, threads_for(nthreads, n),
                  [=](index_t begin, index_t end) {
    vm::map<detail::log1mexp_op>(x + begin, out + begin, end - begin);
  });
}

// out[i] = log(exp(a[i % na]) - exp(b[i % nb])) for i in [0, n) (R's
// recycling); NaN where a < b. Where a or b is NA the result is NA, else where
// one is NaN, NaN.
inline void logdiffexp(const double* a, index_t na, const double* b, index_t nb,
                       double* out, index_t n, int nthreads = 1) {
  if (na == 0 || nb == 0) return;
  parallel_chunks(n, detail::map_chunk, threads_for(nthreads, n),
                  [=](index_t begin, index_t end) {
    index_t i = begin;
    while (i < end) {
      // a stretch where neither operand wraps around
      const index_t ia = na == 1 ? 0 : i % na, ib = nb == 1 ? 0 : i % nb;
      index_t len = end - i;
      if (na > 1 && na - ia < len) len = na - ia;
      if (nb > 1 && nb - ib < len) len = nb - ib;
      vm::dispatch<detail::logdiffexp_k>(a + ia, na == 1 ? index_t(0) : index_t(1),
                                         b + ib, nb == 1 ? index_t(0) : index_t(1),
                                         out + i, len);
      for (index_t j = i; j < i + len; ++j) {
        if (out[j] == out[j]) continue;
        const double av = a[na == 1 ? 0 : j % na], bv = b[nb == 1 ? 0 : j % nb];
        if (std::isnan(av) || std::isnan(bv))
          out[j] = is_na(av) || is_na(bv) ? na_real() : nan_real();
      }
      i += len;
    }
  });
}

}  // namespace xentropy

#endif  // XENTROPY_LINK_HPP
