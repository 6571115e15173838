// xentropy/link.hpp -- the logistic link functions, elementwise.
//
//   sigmoid(x)     = 1 / (1 + exp(-x))            (PRML eq. 4.59)
//   logit(p)       = log(p / (1 - p))             (PRML eq. 4.61, inverse of sigmoid)
//   softplus(x)    = log(1 + exp(x))
//   log_sigmoid(x) = log(sigmoid(x)) = -softplus(-x)
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

}  // namespace xentropy

#endif  // XENTROPY_LINK_HPP
