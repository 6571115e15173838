// xentropy/vmath.hpp -- exp, log, log1p, log1pexp and sigmoid written so that a
// compiler can vectorise loops over them, plus run-time dispatch to AVX2 and
// AVX-512 code paths without -march=native.
//
// Every function is branch-free (special cases are selects), uses only + - * /,
// comparisons and 64-bit integer add / and / or / shifts on the bit patterns
// (no double <-> int64 conversions, which SSE2 and AVX2 lack), and is forced
// inline, so a loop calling it vectorises with the widest ISA of the function
// it is inlined into.
//
// exp(x)   x = k ln2 + r, k = round(x / ln2) taken from the low bits of
//          x / ln2 + 1.5 * 2^52 (Cody & Waite 1980; as in musl's exp.c).
//          ln2 in two parts (fdlibm's ln2_hi has 32 bits, so k * ln2_hi is
//          exact for |k| <= 2^21 and x - k * ln2_hi is exact); the rounding error
//          of r = (x - k ln2_hi) - k ln2_lo is kept as rl (Fast2Sum), so r + rl
//          is x - k ln2 to about 2^-100 relatively, |r| <= ln2/2 (+ tiny).
//          exp(r + rl) = 1 + r + [r^2/2 + r^3 Q(r) + rl (1 + r)], 1/2 + r Q(r) ~
//          (e^r - 1 - r)/r^2 of degree 10: a Chebyshev fit by mpmath.chebyfit on
//          |r| <= ln2/2 (1 + 2^-20) (bench/vmath/coeffs.py; approximation error
//          0.003 ulp). 1 + r is
//          added as a Fast2Sum pair hi + lo, so the only large rounding is the
//          last addition. The result is scaled by 2^k as (p * 2^k1) * 2^k2 with
//          k1 = round(k / 2), k2 = k - k1, both powers of two built from exponent
//          bits: the first product is exact, the second rounds once, so subnormal
//          results (k down to -1076) are rounded once, correctly up to the
//          sub-ulp error of p. The input is clamped to [-746, 709.78] first: the
//          arithmetic then gives 0 below -745.13 on its own; above the largest x
//          with a finite exp(x) the result is selected to be +Inf. NaN passes
//          through the clamp and the arithmetic (payload kept by x86; NA stays a
//          NaN, callers that care test is_na() first).
// log(x)   x = 2^k m, m in [sqrt(1/2), sqrt(2)) by subtracting the bits of
//          sqrt(1/2) (musl's log.c), subnormals scaled by 2^52 first; f = m - 1
//          (exact), s = f / (2 + f), log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2))
//          with fdlibm's degree-14 Remez polynomial R (Lg1..Lg7, e_log.c, error
//          < 2^-58.45), and k ln2 in two parts:
//          log(x) = k ln2_hi - ((f^2/2 - (s (f^2/2 + R) + (k ln2_lo + c))) - f).
//          k is turned into a double through the bits of 2^52 + k + 1024.
// log1p(x) fdlibm's s_log1p.c: for sqrt(1/2) - 1 < x < sqrt(2) - 1, f = x, k = 0;
//          otherwise u = 1 + x is decomposed as above and the rounding error of u
//          is added back as c = (x - (u - 1)) / u (exact numerator for |x| < 2^53).
// log1pexp(x) = log(1 + e^x) (softplus), Maechler (2012), "Accurately computing
//          log(1 - exp(-|a|))", Rmpfr vignette: log1p(e^x) for x <= 18 (for
//          x <= -37 that is e^x to the last bit), x + e^-x above (= x above 33.3):
//          one exp of (x <= 18 ? x : -x) and one log1p, selected. exp's
//          rounding error is passed to log1p's correction term c.
// sigmoid(x) = 1 / (1 + e^-x): e = exp(-|x|) <= 1 never overflows, and
//          q = (x < 0 ? e : 1) / (1 + e) keeps full relative precision for x < 0
//          down to the subnormal range (sigmoid(-740) ~ 4e-322). The rounding
//          error dl of d = 1 + e (Fast2Sum) and exp's own rounding error el
//          (exp_split returns it) are taken back to first order,
//          q + (el - q dl) / d, with 1 / d = q (x >= 0) or 1 - q (x < 0):
//          without them the error reaches 2.1 ulp (as with glibc's exp).
//
// Special values. exp: exp(-Inf) = 0, exp(+Inf) = +Inf, NaN -> NaN.
// log: log(0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, NaN -> NaN (same
// bits). log1p: log1p(-1) = -Inf, log1p(x < -1) = NaN, log1p(+Inf) = +Inf,
// NaN -> NaN (same bits). log1pexp(-Inf) = 0, log1pexp(+Inf) = +Inf.
//
// Measured max error against MPFR (bench/vmath/accuracy.cpp, 3-5 million points
// per function over the whole double range incl. subnormal results, on each of
// the three paths, -O2 with GCC's default -ffp-contract=fast so the AVX2 and
// AVX-512 paths use FMA; bench/vmath/README.md):
//   exp 0.76 ulp (0.61 for normal results; 0.76 in the subnormal range, where
//   the result is rounded twice), log 0.82 (0.73 with FMA), log1p 0.85 (0.74),
//   log1pexp 0.79 (0.75), sigmoid 1.21 (1.19 in the 1e6 run, 1.21 with 1e5). glibc: exp 0.51, log 0.52, log1p 0.85;
//   e / (1 + e) with glibc's exp 2.32.
// Speed (AVX-512 / AVX2 / SSE2 baseline / glibc, ns per element, Zen 4):
//   exp 0.71 / 1.32 / 4.0 / 2.6, log 0.58 / 1.13 / 3.3 / 2.1,
//   log1p 0.66 / 1.20 / 3.5 / 7.6, sigmoid 1.28 / 2.42 / 6.4 / 7.5.
//
// Dispatch. A loop that calls these functions is vectorised for the ISA of the
// function it is compiled in. To get SSE2, AVX2 + FMA and AVX-512 versions of a
// loop from one source and pick one at run time:
//
//   struct sigmoid_op {                                // an elementwise map
//     XENTROPY_VM_INLINE double operator()(double x) const { return vm::sigmoid(x); }
//   };
//   vm::map<sigmoid_op>(x, out, n);                    // out may alias x
//
//   struct lse_kernel {                                // anything else
//     XENTROPY_VM_INLINE static void run(const double* x, index_t n, double m,
//                                        double* t) {
//       double s = 0.0;
//       XENTROPY_VM_SIMD_REDUCTION(+ : s)
//       for (index_t i = 0; i < n; ++i) s += vm::exp(x[i] - m);
//       *t = s;
//     }
//   };
//   vm::dispatch<lse_kernel>(x, n, m, &t);
//
// vm::dispatch<K>(args...) calls K::run(args...) inlined into one of three
// functions compiled with target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"),
// target("avx2,fma") or no target attribute (baseline x86-64 = SSE2), chosen by
// __builtin_cpu_supports once per process and capped by vm::set_isa_limit() (for
// tests: run the same input through every path). K::run and any function it calls
// must be XENTROPY_VM_INLINE (always_inline): a callee that is not inlined is
// compiled for the baseline only.
//
// Vectorising at R's -O2. GCC 12 at -O2 uses the "very cheap" cost model, which
// refuses loops whose trip count is unknown (an epilogue is needed) or that need
// a run-time alias check, i.e. every loop here. Two things work without changing
// R's flags (bench/vmath/README.md), given the optimize attribute of
// XENTROPY_VM_INLINE (see below) on every function of the kernel:
// * XENTROPY_VM_SIMD / XENTROPY_VM_SIMD_REDUCTION(op : var) before the loop:
//   `#pragma omp simd`, honoured with -fopenmp (R's SHLIB_OPENMP_CXXFLAGS) or
//   -fopenmp-simd. It tells the compiler the iterations are independent and
//   makes GCC vectorise regardless of the cost model. Without OpenMP the macros
//   expand to `#pragma GCC ivdep` (GCC) or nothing.
// * vm::map uses such a loop with OpenMP; without, it copies blocks of 16
//   elements to local arrays (no aliasing, trip count 16), which GCC vectorises
//   at -O2 anyway (about 0.4-0.9 ns per element slower with AVX2).
// clang vectorises at -O2 with its own cost model, and honours the same pragmas.
//
// Where dispatch is off (not x86-64, not Linux/FreeBSD ELF, not GCC >= 6 or
// clang >= 7, or XENTROPY_NO_DISPATCH defined) vm::dispatch calls K::run compiled
// for whatever the command line allows; the functions are still vectorisable
// with SSE2 / NEON. Windows is excluded because MinGW-w64 GCC does not align the
// stack for 32-byte AVX spills (GCC bug 54412). XENTROPY_TARGET_CLONES is also
// provided (GCC's ifunc-based target_clones) for loops that need no per-path test.
//
// Why not Eigen's packet math (RcppEigen is a dependency anyway): Eigen 3.3
// (RcppEigen 0.3.3.x) vectorises exp but not log or log1p for doubles
// (packet_traits<double>: HasExp only), and it picks the instruction set at
// compile time from -m flags, which CRAN packages cannot use; run-time
// dispatch needs functions that are inlined into target-attributed copies, as
// here.
//
// No function here calls R or allocates.
#ifndef XENTROPY_VMATH_HPP
#define XENTROPY_VMATH_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

// Two GCC optimisations stop these branch-free functions from vectorising
// (except with AVX-512 masking) and are turned off for them and their kernels by
// a function attribute:
// * -ftrapping-math (the default): if-conversion will not execute a
//   floating-point operation that sits in one arm of a branch unconditionally;
//   nothing here looks at floating-point exception flags.
// * -ftree-pre: partial redundancy elimination folds the code after a select
//   with a constant arm (the clamps in exp, the special cases) into a constant
//   on that path, and then a select of selects of booleans (e.g. log1p's
//   `small` test on exp's result) that GCC 12 cannot vectorise without masks.
// Inside a loop of branch-free code PRE has little else to find. A function
// inlined into one without floating-point code of its own passes its math flags on to it (GCC's inline_call), so every
// function in a kernel's call chain must carry it: use XENTROPY_VM_INLINE for
// K::run and for the operator() of map() ops.
#if defined(__GNUC__) && !defined(__clang__)
#define XENTROPY_VM_KERNEL __attribute__((optimize("no-trapping-math", "no-tree-pre")))
#define XENTROPY_VM_INLINE inline __attribute__((always_inline, optimize("no-trapping-math", "no-tree-pre")))
#elif defined(__clang__)
#define XENTROPY_VM_KERNEL
#define XENTROPY_VM_INLINE inline __attribute__((always_inline))
#else
#define XENTROPY_VM_KERNEL
#define XENTROPY_VM_INLINE inline
#endif

#define XENTROPY_VM_PRAGMA(x) _Pragma(#x)
#if defined(_OPENMP) || defined(XENTROPY_OPENMP_SIMD)
#define XENTROPY_VM_SIMD XENTROPY_VM_PRAGMA(omp simd)
#define XENTROPY_VM_SIMD_REDUCTION(r) XENTROPY_VM_PRAGMA(omp simd reduction(r))
#elif defined(__GNUC__) && !defined(__clang__)
#define XENTROPY_VM_SIMD XENTROPY_VM_PRAGMA(GCC ivdep)
#define XENTROPY_VM_SIMD_REDUCTION(r) XENTROPY_VM_PRAGMA(GCC ivdep)
#else
#define XENTROPY_VM_SIMD
#define XENTROPY_VM_SIMD_REDUCTION(r)
#endif

#if !defined(XENTROPY_NO_DISPATCH) && defined(__x86_64__) && \
    (defined(__linux__) || defined(__FreeBSD__)) &&            \
    ((defined(__clang__) && __clang_major__ >= 7) ||            \
     (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 6))
#define XENTROPY_VM_DISPATCH 1
#define XENTROPY_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define XENTROPY_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#if !defined(__clang__) || __clang_major__ >= 14
#define XENTROPY_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#else
#define XENTROPY_VM_DISPATCH 0
#endif
#ifndef XENTROPY_TARGET_CLONES
#define XENTROPY_TARGET_CLONES
#endif

namespace xentropy {
namespace vm {

namespace detail {

XENTROPY_VM_INLINE std::uint64_t bits(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
XENTROPY_VM_INLINE double from_bits(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

constexpr double shift = 6755399441055744.0;          // 0x1.8p52
constexpr double inv_ln2 = 1.4426950408889634074;     // 0x1.71547652b82fep0
constexpr double ln2_hi = 6.93147180369123816490e-01; // 0x3fe62e42fee00000 (32 bits)
constexpr double ln2_lo = 1.90821492927058770002e-10; // 0x3dea39ef35793c76

// 2^k for integer-valued z - shift = k in [-1022, 1023], from the bits of
// z = k + 1.5 * 2^52: (bits(z) + 1023) << 52 keeps the low 12 bits, k + 1023.
XENTROPY_VM_INLINE double pow2_shifted(double z) {
  return from_bits((bits(z) + 1023u) << 52);
}

// log(1 + f) + k ln2 + c for f in [sqrt(1/2) - 1, sqrt(2) - 1) (fdlibm).
XENTROPY_VM_INLINE double log_kernel(double f, double kd, double c) {
  constexpr double Lg1 = 6.666666666666735130e-01;  // 3FE55555 55555593
  constexpr double Lg2 = 3.999999999940941908e-01;  // 3FD99999 9997FA04
  constexpr double Lg3 = 2.857142874366239149e-01;  // 3FD24924 94229359
  constexpr double Lg4 = 2.222219843214978396e-01;  // 3FCC71C5 1D8E78AF
  constexpr double Lg5 = 1.818357216161805012e-01;  // 3FC74664 96CB03DE
  constexpr double Lg6 = 1.531383769920937332e-01;  // 3FC39A09 D078C69F
  constexpr double Lg7 = 1.479819860511658591e-01;  // 3FC2F112 DF3E5244
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  return kd * ln2_hi - ((hfsq - (s * (hfsq + R) + (kd * ln2_lo + c))) - f);
}

// log_kernel as hi + lo: the two last roundings are kept (TwoSum), so hi + lo
// is log(1 + f) + k ln2 + c to about 2^-60 relative (for logdiffexp, where
// the result may cancel against a large operand).
XENTROPY_VM_INLINE double log_kernel_dd(double f, double kd, double c, double& lo) {
  constexpr double Lg1 = 6.666666666666735130e-01;
  constexpr double Lg2 = 3.999999999940941908e-01;
  constexpr double Lg3 = 2.857142874366239149e-01;
  constexpr double Lg4 = 2.222219843214978396e-01;
  constexpr double Lg5 = 1.818357216161805012e-01;
  constexpr double Lg6 = 1.531383769920937332e-01;
  constexpr double Lg7 = 1.479819860511658591e-01;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  const double H = hfsq - (s * (hfsq + R) + (kd * ln2_lo + c));
  const double B = H - f;                       // B + Bl = H - f
  const double bv = B - H;
  const double Bl = (H - (B - bv)) + (-f - bv);
  const double A = kd * ln2_hi;                 // exact
  const double hi = A - B;                      // hi + l1 = A - B
  const double av = hi - A;
  const double l1 = (A - (hi - av)) + (-B - av);
  lo = l1 - Bl;
  return hi;
}

// For normal positive u: k and f with u = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)).
XENTROPY_VM_INLINE void log_reduce(double u, double& f, double& kd) {
  const std::uint64_t off = 0x3fe6a09e667f3bcdULL;  // bits of sqrt(1/2)
  const std::uint64_t iu = bits(u);
  const std::uint64_t tmp = iu - off;               // exponent field: k (mod 4096)
  const std::uint64_t top = 0xfff0000000000000ULL;
  const double m = from_bits(iu - (tmp & top));     // u / 2^k
  // k + 1024 in [1, 2047] as the low bits of a double 2^52 + (k + 1024).
  const std::uint64_t kb = (tmp + (std::uint64_t(1024) << 52)) >> 52;
  kd = from_bits(0x4330000000000000ULL | kb) - (4503599627370496.0 + 1024.0);
  f = m - 1.0;
}

}  // namespace detail

namespace detail {

// exp(x) as a rounded value (returned) and the rest of the exact value of the
// rounded polynomial, lo (|lo| <= ulp/2 of the result, scaled with it; not
// meaningful where the result is subnormal, 0 or Inf). vm::exp drops lo, and the
// compiler drops its computation.
// e^(r + rl) as p + pl for x (clamped) = k ln2 + r + rl, with z = k + 1.5 * 2^52
// and kd = k: the part of exp_split before the scaling by 2^k.
XENTROPY_VM_INLINE double exp_reduced(double xc, double& z, double& kd, double& pl) {
  z = xc * inv_ln2 + shift;
  kd = z - shift;                              // k = round(x / ln2), in [-1076, 1024]
  const double rh = xc - kd * ln2_hi;          // exact
  const double t = kd * ln2_lo;
  const double r = rh - t;
  const double rl = (rh - r) - t;              // r + rl = rh - t (Fast2Sum)
  constexpr double c3 = 0.1666666666666667;       // 0x1.5555555555557p-3
  constexpr double c4 = 0.04166666666666667;      // 0x1.5555555555556p-5
  constexpr double c5 = 0.008333333333326141;     // 0x1.11111111100dfp-7
  constexpr double c6 = 0.0013888888888883752;    // 0x1.6c16c16c162d6p-10
  constexpr double c7 = 0.00019841269874800683;   // 0x1.a01a01abe6323p-13
  constexpr double c8 = 2.4801587325533502e-05;   // 0x1.a01a01a6d7831p-16
  constexpr double c9 = 2.75572554255029e-06;     // 0x1.71de0237484cdp-19
  constexpr double c10 = 2.7557273661174726e-07;  // 0x1.27e4db67ac2b0p-22
  constexpr double c11 = 2.5105206475334834e-08;  // 0x1.af4ddda1c08cdp-26
  constexpr double c12 = 2.091467944897855e-09;   // 0x1.1f72fc83bcbc7p-29
  // e^r - 1 - r = r^2/2 + r^3 Q(r), Q = c3 + c4 r + ... + c12 r^9 by Estrin's
  // scheme (its rounding errors are scaled by |r|^3 < 0.042; the leading r^2/2
  // is added on its own, with a single rounding).
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double q34 = c3 + c4 * r, q56 = c5 + c6 * r, q78 = c7 + c8 * r;
  const double q910 = c9 + c10 * r, q1112 = c11 + c12 * r;
  const double q36 = q34 + q56 * r2, q710 = q78 + q910 * r2;
  const double Q = (q36 + q710 * r4) + q1112 * (r4 * r4);
  const double s = (0.5 * r2 + r2 * r * Q) + (rl + rl * r);  // e^(r + rl) - 1 - r
  const double hi = 1.0 + r;
  const double lo = (1.0 - hi) + r;            // exact (Fast2Sum, |r| < 1)
  const double tl = lo + s;
  const double p = hi + tl;                    // e^(r + rl), in [0.70, 1.42]
  pl = (hi - p) + tl;                          // p + pl = hi + tl (Fast2Sum)
  return p;
}

XENTROPY_VM_INLINE double exp_split(double x, double& lo_out) {
  // exp(-746) rounds to 0, so the lower clamp changes no result. The upper one
  // is the largest x with a finite exp(x); above it the result is set to +Inf
  // at the end (a clamp to 710 would let GCC thread a constant path that
  // overflows, which it refuses to fold or to if-convert).
  constexpr double xmax = 709.782712893384;  // 0x1.62e42fefa39efp+9
  double xc = x < -746.0 ? -746.0 : x;       // NaN passes
  xc = xc > xmax ? xmax : xc;
  double z, kd, pl;
  const double p = exp_reduced(xc, z, kd, pl);
  // 2^k = 2^k1 * 2^k2 with k1, k2 in [-538, 512]: p * 2^k1 is exact.
  const double z1 = kd * 0.5 + shift;          // k1 = round(k / 2)
  const double z2 = (kd - (z1 - shift)) + shift;
  const double s1 = pow2_shifted(z1), s2 = pow2_shifted(z2);
  lo_out = (pl * s1) * s2;
  const double y = (p * s1) * s2;
  return x > xmax ? std::numeric_limits<double>::infinity() : y;
}

// log1p(x + xl) for |xl| <= ulp(x) / 2 (fdlibm's s_log1p.c, with xl added to
// the correction term), for finite x > -1 only.
XENTROPY_VM_INLINE double log1p_core(double x, double xl) {
  const double u = 1.0 + x;
  double fu, kd;
  log_reduce(u, fu, kd);
  const bool small = x > -0.2928932188134524 && x < 0.41421356237309503;
  const double err = small ? 0.0 : x - (u - 1.0);  // 1 + x = u + err (|x| < 2^53)
  const double c = (err + xl) / u;
  const double f = small ? x : fu;
  kd = small ? 0.0 : kd;
  return log_kernel(f, kd, c);
}

// log1p(x + xl), all x.
XENTROPY_VM_INLINE double log1p_dd(double x, double xl) {
  const double y = log1p_core(x, xl);
  const double special = x == -1.0 ? -std::numeric_limits<double>::infinity()
                         : x < -1.0 ? std::numeric_limits<double>::quiet_NaN()
                                    : x;  // +Inf, NaN
  return (x > -1.0 && x < std::numeric_limits<double>::infinity()) ? y : special;
}

}  // namespace detail

XENTROPY_VM_INLINE double exp(double x) {
  double lo;
  return detail::exp_split(x, lo);
}

// exp(x) for -708 <= x <= 0 (or NaN, giving NaN) only, where exp(x) is a
// normal number: exp() without its clamps and its two-step scaling (which
// are there for the subnormal and overflow ranges), about a quarter fewer
// operations, for loops that can check the range. Same algorithm and error
// (0.60 ulp measured against expl on [-708, 0]); with FMA the compiler may
// contract it differently from exp(), so the two can differ in the last bit.
constexpr double exp_normal_min = -708.0;
XENTROPY_VM_INLINE double exp_normal(double x) {
  double z, kd, pl;
  const double p = detail::exp_reduced(x, z, kd, pl);
  (void)pl;
  return p * detail::pow2_shifted(z);
}

// a b = p + lo exactly (p = a b rounded, returned) for finite a, b whose product
// neither overflows nor underflows: Dekker's product from halves of a and b cut by
// masking their significands (26 leading bits and the rest). Integer masking, not
// Veltkamp's splitting, which the compiler's FMA contraction breaks; the last partial
// product al bl is rounded (an error 2^-106 of a b), so lo is exact to about 2^-52 of
// itself: ample for a first-order correction.
XENTROPY_VM_INLINE double two_prod(double a, double b, double& lo) {
  constexpr std::uint64_t top26 = ~((std::uint64_t(1) << 27) - 1);
  const double p = a * b;
  const double ah = detail::from_bits(detail::bits(a) & top26), al = a - ah;
  const double bh = detail::from_bits(detail::bits(b) & top26), bl = b - bh;
  lo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}

// exp(y + yl) for |yl| about ulp(y) or less: exp(y) (1 + yl) (first order; the
// correction is skipped where exp(y) is 0 or yl is NaN).
XENTROPY_VM_INLINE double exp_dd(double y, double yl) {
  const double e = exp(y);
  return e > 0.0 && yl == yl ? e + e * yl : e;
}

XENTROPY_VM_INLINE double log(double x) {
  using namespace detail;
  const bool sub = x < 2.2250738585072014e-308;     // subnormal (or 0, < 0)
  const double xs = sub ? x * 4503599627370496.0 : x; // * 2^52
  double f, kd;
  log_reduce(xs, f, kd);
  kd = sub ? kd - 52.0 : kd;
  const double y = log_kernel(f, kd, 0.0);
  const double special = x == 0.0 ? -std::numeric_limits<double>::infinity()
                         : x < 0.0 ? std::numeric_limits<double>::quiet_NaN()
                                   : x;  // +Inf, NaN
  return (x > 0.0 && x < std::numeric_limits<double>::infinity()) ? y : special;
}

XENTROPY_VM_INLINE double log1p(double x) { return detail::log1p_dd(x, 0.0); }

// log(x + xl) for |xl| <= ulp(x) / 2: log(x) + xl / x, the correction added
// inside the kernel (as log1p does with its rounding error). Special values
// as log(x).
XENTROPY_VM_INLINE double log_dd(double x, double xl) {
  using namespace detail;
  const bool sub = x < 2.2250738585072014e-308;
  const double xs = sub ? x * 4503599627370496.0 : x;
  double f, kd;
  log_reduce(xs, f, kd);
  kd = sub ? kd - 52.0 : kd;
  const double y = log_kernel(f, kd, xl / x);  // log(x + xl) = log x + xl / x
  const double special = x == 0.0 ? -std::numeric_limits<double>::infinity()
                         : x < 0.0 ? std::numeric_limits<double>::quiet_NaN()
                                   : x;
  return (x > 0.0 && x < std::numeric_limits<double>::infinity()) ? y : special;
}

// log(x + xl) as hi + lo, for finite x > 0 only.
XENTROPY_VM_INLINE double log_dd_split(double x, double xl, double& lo) {
  using namespace detail;
  const bool sub = x < 2.2250738585072014e-308;
  const double xs = sub ? x * 4503599627370496.0 : x;
  double f, kd;
  log_reduce(xs, f, kd);
  kd = sub ? kd - 52.0 : kd;
  return log_kernel_dd(f, kd, xl / x, lo);
}

// log1p(x + xl) as hi + lo, for finite x > -1 only.
XENTROPY_VM_INLINE double log1p_dd_split(double x, double xl, double& lo) {
  using namespace detail;
  const double u = 1.0 + x;
  double fu, kd;
  log_reduce(u, fu, kd);
  const bool small = x > -0.2928932188134524 && x < 0.41421356237309503;
  const double err = small ? 0.0 : x - (u - 1.0);
  const double c = (err + xl) / u;
  const double f = small ? x : fu;
  kd = small ? 0.0 : kd;
  return log_kernel_dd(f, kd, c, lo);
}

// Out-of-line functions: one compiled copy serves every kernel that calls them (a
// call in a kernel's loop keeps that loop scalar, so this is for the less common
// paths whose double-double arithmetic would otherwise be inlined into every
// instantiation of every SIMD path).
#if defined(__GNUC__) || defined(__clang__)
#define XENTROPY_VM_NOINLINE inline __attribute__((noinline))
#else
#define XENTROPY_VM_NOINLINE inline
#endif

// exp(g (l + ll)) for a double-double l + ll: the product as a double-double too, so
// the result keeps its digits where it is tiny (exp of the rounded product g l alone is
// off by up to |g l| 2^-53 relative).
XENTROPY_VM_INLINE double exp_scaled_dd(double g, double l, double ll) {
  double yl;
  const double y = two_prod(g, l, yl);
  return exp_dd(y, yl + g * ll);
}

// q^g for q in (0, Inf), g finite: log q as a double-double, then exp_scaled_dd; other
// q as exp(g log q).
XENTROPY_VM_NOINLINE double pow_dd(double q, double g) {
  if (!(q > 0.0 && q < std::numeric_limits<double>::infinity())) return exp(g * log(q));
  double ql;
  const double lq = log_dd_split(q, 0.0, ql);
  return exp_scaled_dd(g, lq, ql);
}

// log(1 - exp(-x)) for x >= 0 (Maechler 2012, "Accurately computing
// log(1 - exp(-|a|))", Rmpfr vignette): with exp(-x) = e + el from exp_split,
// for x <= log 2 the difference 1 - e is exact (Sterbenz) and
// log((1 - e) - el) is taken with its rounding error carried (log_dd), the
// role of log(-expm1(-x)); above, log1p(-e - el) (log1p_dd). log1mexp(0) =
// -Inf, log1mexp(+Inf) = 0; x < 0 gives NaN, NaN passes through.
XENTROPY_VM_INLINE double log1mexp(double x) {
  double el;
  const double e = detail::exp_split(-x, el);
  const bool near = x <= 0.6931471805599453;  // log 2
  const double a = 1.0 - e;                   // exact for x <= log 2
  const double y = a - el;
  const double yl = (a - y) - el;             // y + yl = a - el (Fast2Sum, |a| >= |el|)
  const double lo = log_dd(y, yl);
  const double hi = detail::log1p_dd(-e, -el);
  const double r = near ? lo : hi;
  return x < 0.0 ? std::numeric_limits<double>::quiet_NaN() : (x != x ? x : r);
}

// log1mexp(x + xl) as hi + lo for finite x > 0 (|xl| <= ulp(x) / 2), and
// y = 1 - exp(-x) (for the caller's first-order terms). Other x: garbage.
XENTROPY_VM_INLINE double log1mexp_split(double x, double xl, double& lo, double& y) {
  double el;
  const double e = detail::exp_split(-x, el);
  const bool near = x <= 0.6931471805599453;
  const double a = 1.0 - e;
  y = a - el;
  const double yl = (a - y) - el;
  // d/dx log1mexp(x) = e^-x / (1 - e^-x): xl moves the value by xl e / y
  const double corr = xl == 0.0 ? 0.0 : xl * (e / y);  // y may be subnormal
  // log_dd_split(y, yl) (near) or log1p_dd_split(-e, -el) (far) through one
  // log kernel: the arguments of the reduction and the kernel are selected,
  // each branch's own operations are unchanged
  using namespace detail;
  const double x1 = -e;
  const double u1 = 1.0 + x1;
  const bool sub = near && y < 2.2250738585072014e-308;
  const double ur = near ? (sub ? y * 4503599627370496.0 : y) : u1;
  double fu, kd;
  log_reduce(ur, fu, kd);
  kd = sub ? kd - 52.0 : kd;
  const bool small = !near && x1 > -0.2928932188134524;  // (x1 < sqrt(2) - 1 always)
  const double err = small ? 0.0 : x1 - (u1 - 1.0);
  const double c = near ? yl / y : (err - el) / u1;
  const double f = small ? x1 : fu;
  kd = small ? 0.0 : kd;
  const double h = log_kernel_dd(f, kd, c, lo);
  lo += corr;
  return h;
}

// log(1 + exp(x)), softplus.
XENTROPY_VM_INLINE double log1pexp(double x) {
  const bool low = x <= 18.0;
  double el;
  const double e = detail::exp_split(low ? x : -x, el);
  // e is in [0, 6.6e7] (or NaN, then x + e is NaN): no special cases in log1p.
  const double a = detail::log1p_core(e, low ? el : 0.0);
  return low ? a : x + e;  // NaN: x + e
}

// 1 / (1 + exp(-x)).
XENTROPY_VM_INLINE double sigmoid(double x) {
  const bool neg = x < 0.0;
  double el;
  const double e = detail::exp_split(neg ? x : -x, el);  // exp(-|x|) = e + el
  const double d = 1.0 + e;
  const double dl = (1.0 - d) + e;              // 1 + e = d + dl (Fast2Sum)
  const double q = (neg ? e : 1.0) / d;
  // (num + numl) / (d + dl) = q + (numl - q dl) / d to first order, with
  // 1 / d = q (x >= 0) or 1 - q (x < 0).
  const double rem = (neg ? el : 0.0) - q * dl;
  return q + rem * (neg ? 1.0 - q : q);
}

// sigmoid(x) and sigmoid(-x) from one exponential, each bit for bit what
// sigmoid() gives (both take exp(-|x|) and its rounding error); also returns
// e = exp(-|x|).
XENTROPY_VM_INLINE double sigmoid_pair(double x, double& s_neg, double& e_out) {
  const bool neg = x < 0.0;
  double el;
  const double e = detail::exp_split(neg ? x : -x, el);  // exp(-|x|) = e + el
  const double d = 1.0 + e;
  const double dl = (1.0 - d) + e;
  // sigmoid(x): numerator e (x < 0) or 1; sigmoid(-x): the other one
  const double q = (neg ? e : 1.0) / d;
  const double rem = (neg ? el : 0.0) - q * dl;
  const double qn = (neg ? 1.0 : e) / d;
  const double remn = (neg ? 0.0 : el) - qn * dl;
  s_neg = qn + remn * (neg ? qn : 1.0 - qn);
  e_out = e;
  return q + rem * (neg ? 1.0 - q : q);
}

// ---------------------------------------------------------------------------
// Run-time dispatch.

enum class isa : int { baseline = 0, avx2 = 1, avx512 = 2 };

inline const char* isa_name(isa i) {
  return i == isa::avx512 ? "avx512" : i == isa::avx2 ? "avx2" : "baseline";
}

// Best path this CPU (and build) supports.
inline isa detected_isa() {
#if XENTROPY_VM_DISPATCH
  static const isa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
      return isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return isa::avx2;
    return isa::baseline;
  }();
  return best;
#else
  return isa::baseline;
#endif
}

namespace detail {
inline std::atomic<int>& isa_limit() {
  static std::atomic<int> limit(static_cast<int>(isa::avx512));
  return limit;
}
}  // namespace detail

// Cap the path used by dispatch() (process-wide); returns the path now in use.
inline isa set_isa_limit(isa limit) {
  detail::isa_limit().store(static_cast<int>(limit), std::memory_order_relaxed);
  const int d = static_cast<int>(detected_isa());
  return static_cast<isa>(static_cast<int>(limit) < d ? static_cast<int>(limit) : d);
}

// Path dispatch() uses now.
inline isa current_isa() {
  const int l = detail::isa_limit().load(std::memory_order_relaxed);
  const int d = static_cast<int>(detected_isa());
  return static_cast<isa>(l < d ? l : d);
}

namespace detail {
template <class K, class... A>
XENTROPY_VM_KERNEL void run_baseline(A... a) { K::run(a...); }
#if XENTROPY_VM_DISPATCH
template <class K, class... A>
XENTROPY_VM_KERNEL XENTROPY_TARGET_AVX2 void run_avx2(A... a) { K::run(a...); }
template <class K, class... A>
XENTROPY_VM_KERNEL XENTROPY_TARGET_AVX512 void run_avx512(A... a) { K::run(a...); }
#endif
}  // namespace detail

// K::run(args...) compiled for the path current_isa().
template <class K, class... A>
inline void dispatch(A... a) {
#if XENTROPY_VM_DISPATCH
  switch (current_isa()) {
    case isa::avx512: detail::run_avx512<K>(a...); return;
    case isa::avx2: detail::run_avx2<K>(a...); return;
    default: break;
  }
#endif
  detail::run_baseline<K>(a...);
}

namespace detail {
// out[i] = Op()(x[i]). With OpenMP (or -fopenmp-simd and XENTROPY_OPENMP_SIMD)
// an `omp simd` loop; without, blocks of 16 through local arrays: no aliasing
// and a constant trip count, so GCC vectorises the block at -O2 without pragmas
// (slower: the copies cost about 0.4 ns per element with AVX2).
template <class Op>
struct map_kernel {
#if defined(_OPENMP) || defined(XENTROPY_OPENMP_SIMD)
  XENTROPY_VM_INLINE static void run(const double* x, double* out, std::ptrdiff_t n) {
    const Op op{};
    XENTROPY_VM_SIMD
    for (std::ptrdiff_t i = 0; i < n; ++i) out[i] = op(x[i]);
  }
#else
  XENTROPY_VM_INLINE static void run(const double* x, double* out, std::ptrdiff_t n) {
    constexpr int B = 16;
    const Op op{};
    std::ptrdiff_t i = 0;
    for (; i + B <= n; i += B) {
      double a[B], b[B];
      for (int j = 0; j < B; ++j) a[j] = x[i + j];
      for (int j = 0; j < B; ++j) b[j] = op(a[j]);
      for (int j = 0; j < B; ++j) out[i + j] = b[j];
    }
    if (i < n) {
      double a[B], b[B];
      const int m = static_cast<int>(n - i);
      for (int j = 0; j < B; ++j) a[j] = j < m ? x[i + j] : 0.0;
      for (int j = 0; j < B; ++j) b[j] = op(a[j]);
      for (int j = 0; j < m; ++j) out[i + j] = b[j];
    }
  }
#endif
};
}  // namespace detail

// out[i] = Op()(x[i]) for i in [0, n), dispatched; `out` may alias `x`.
// Op: default-constructible, with an XENTROPY_VM_INLINE operator()(double) const.
template <class Op>
inline void map(const double* x, double* out, std::ptrdiff_t n) {
  dispatch<detail::map_kernel<Op>>(x, out, n);
}

}  // namespace vm
}  // namespace xentropy

#endif  // XENTROPY_VMATH_HPP
