// Accuracy of xentropy::vm functions against MPFR, on every dispatch path.
// Build and run (see README.md):
//   g++ -std=gnu++14 -g -O2 -fpic -fopenmp -I../../inst/include accuracy.cpp -lmpfr -o /tmp/vm_accuracy
//   /tmp/vm_accuracy [points_per_set]
#include <mpfr.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "xentropy/vmath.hpp"

using namespace xentropy;

struct exp_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::exp(x); } };
struct log_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::log(x); } };
struct log1p_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::log1p(x); } };
struct log1pexp_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::log1pexp(x); } };
struct sigmoid_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::sigmoid(x); } };

// Same ops through a plain `omp simd` loop (the other way kernels may be written).
template <class Op>
struct simd_kernel {
  XENTROPY_VM_INLINE static void run(const double* x, double* out, std::ptrdiff_t n) {
    const Op op{};
    XENTROPY_VM_SIMD
    for (std::ptrdiff_t i = 0; i < n; ++i) out[i] = op(x[i]);
  }
};

static std::mt19937_64 rng(20240611);
static double unif(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }
static double from_bits(std::uint64_t u) { double x; std::memcpy(&x, &u, 8); return x; }
// random double with |x| in [2^lo, 2^hi), random mantissa, sign s (+1, -1, 0 = random)
static double binade(int lo, int hi, int s) {
  int e = std::uniform_int_distribution<int>(lo, hi - 1)(rng);
  double m = unif(1.0, 2.0);
  double x = std::ldexp(m, e);
  if (x == 0) x = from_bits(1);
  int sg = s ? s : ((rng() & 1) ? 1 : -1);
  return sg * x;
}

using ref_fn = std::function<void(mpfr_t, double)>;

struct result { double max_ulp = 0; double at = 0; double mean = 0; std::size_t n = 0; };

template <class Op>
static void run_paths(const char* name, const std::vector<double>& xs, const ref_fn& ref,
                      double (*libm)(double), std::FILE* md) {
  const std::size_t n = xs.size();
  std::vector<double> y(n);
  mpfr_t r, t;
  mpfr_init2(r, 160);
  mpfr_init2(t, 160);
  mpfr_set_emin(mpfr_get_emin_min());
  mpfr_set_emax(mpfr_get_emax_max());
  // Reference values, once: the exact value v as ue (exponent of its ulp, at
  // least -1074) and v 2^-ue as a double-double hs + ls (|hs| < 2^53), so the
  // error of y is |(y 2^-ue - hs) - ls| ulp, in double arithmetic.
  std::vector<double> hs(n), ls(n);
  std::vector<long> ue(n);
  std::vector<char> special(n);  // 1: reference is 0, Inf or NaN; compare exactly
  std::vector<double> sval(n);
  for (std::size_t i = 0; i < n; ++i) {
    ref(r, xs[i]);
    double d = mpfr_get_d(r, MPFR_RNDN);
    if (!mpfr_number_p(r) || mpfr_zero_p(r) || std::isinf(d) || d == 0.0) {
      special[i] = 1;
      sval[i] = d;
      continue;
    }
    long e = mpfr_get_exp(r) - 53;
    if (e < -1074) e = -1074;
    ue[i] = e;
    mpfr_mul_2si(t, r, -e, MPFR_RNDN);
    hs[i] = mpfr_get_d(t, MPFR_RNDN);
    mpfr_sub_d(t, t, hs[i], MPFR_RNDN);
    ls[i] = mpfr_get_d(t, MPFR_RNDN);
  }
  auto eval = [&](const std::vector<double>& yy, result& res) {
    double sum = 0;
    res.max_ulp = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double e;
      if (special[i]) {
        e = (std::isnan(sval[i]) ? std::isnan(yy[i]) : yy[i] == sval[i]) ? 0.0 : INFINITY;
      } else if (!std::isfinite(yy[i])) {
        e = INFINITY;
      } else {
        e = std::fabs((std::ldexp(yy[i], -ue[i]) - hs[i]) - ls[i]);
      }
      sum += e;
      if (!(e <= res.max_ulp)) { res.max_ulp = e; res.at = xs[i]; }
    }
    res.mean = sum / n;
    res.n = n;
  };
  std::printf("%-9s n=%zu\n", name, n);
  std::fprintf(md, "| %s |", name);
  for (int p = 0; p <= 2; ++p) {
    vm::isa got = vm::set_isa_limit(static_cast<vm::isa>(p));
    if (static_cast<int>(got) != p) { std::fprintf(md, " n/a | n/a |"); continue; }
    result a, b;
    vm::map<Op>(xs.data(), y.data(), (std::ptrdiff_t)n);
    eval(y, a);
    vm::dispatch<simd_kernel<Op>>(xs.data(), y.data(), (std::ptrdiff_t)n);
    eval(y, b);
    std::printf("  %-8s map: max %.4f ulp at %.17g (mean %.4f) | simd loop: max %.4f ulp at %.17g\n",
                vm::isa_name(got), a.max_ulp, a.at, a.mean, b.max_ulp, b.at);
    std::fprintf(md, " %.3f | %.3f |", a.max_ulp, b.max_ulp);
  }
  vm::set_isa_limit(vm::isa::avx512);
  if (libm) {
    for (std::size_t i = 0; i < n; ++i) y[i] = libm(xs[i]);
    result c;
    eval(y, c);
    std::printf("  glibc    max %.4f ulp at %.17g\n", c.max_ulp, c.at);
    std::fprintf(md, " %.3f |", c.max_ulp);
  } else {
    std::fprintf(md, " - |");
  }
  std::fprintf(md, "\n");
  std::fflush(stdout);
  mpfr_clear(r);
  mpfr_clear(t);
}

static double softplus_libm(double x) {  // link.hpp's current scalar version
  if (std::isnan(x)) return x;
  if (x <= -37.0) return std::exp(x);
  if (x <= 18.0) return std::log1p(std::exp(x));
  if (x <= 33.3) return x + std::exp(-x);
  return x;
}
static double sigmoid_libm(double x) {
  if (std::isnan(x)) return x;
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

int main(int argc, char** argv) {
  const std::size_t N = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  std::printf("detected: %s\n", vm::isa_name(vm::detected_isa()));
  std::FILE* md = std::fopen("/tmp/vm_accuracy.md", "w");
  std::fprintf(md, "| function | baseline map | baseline simd | avx2 map | avx2 simd | avx512 map | avx512 simd | glibc |\n");
  std::fprintf(md, "|---|---|---|---|---|---|---|---|\n");
  const double inf = INFINITY, nan = NAN;
  const double specials[] = {0.0, -0.0, inf, -inf, nan, 1.0, -1.0, 2.0, 0.5, 1e-310, -1e-310,
                             from_bits(1), 709.782712893384, 709.7827128933841, -745.1332191019411,
                             -745.1332191019412, -745.2, -708.4, -708.39641853226408, 18.0, 33.3,
                             -37.0, 1.7976931348623157e308, -1.7976931348623157e308,
                             2.2250738585072014e-308, -0.2928932188134524, 0.41421356237309503};

  // exp
  {
    std::vector<double> xs(std::begin(specials), std::end(specials));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-746.0, 710.0));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(binade(-1074, 10, 0));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-745.2, -708.3));   // subnormal results
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(709.0, 709.8));  // near overflow
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(-1.0, 1.0));
    for (std::size_t i = 0; i < N / 4; ++i) {  // near multiples of ln2/2 (reduction edges)
      double k = std::floor(unif(-2150, 2048));
      xs.push_back(k * 0.34657359027997264 * (1 + unif(-1e-15, 1e-15)));
    }
    run_paths<exp_op>("exp", xs, [](mpfr_t r, double x) { mpfr_set_d(r, x, MPFR_RNDN); mpfr_exp(r, r, MPFR_RNDN); },
                      static_cast<double (*)(double)>(std::exp), md);
  }
  // log
  {
    std::vector<double> xs(std::begin(specials), std::end(specials));
    for (std::size_t i = 0; i < 2 * N; ++i) xs.push_back(from_bits(rng() % 0x7ff0000000000000ULL));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(binade(-1074, 1024, 1));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(1.0 + binade(-60, -1, 0));      // near 1
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(0.70, 1.42));
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(from_bits(rng() % 0x0010000000000000ULL));  // subnormal
    run_paths<log_op>("log", xs, [](mpfr_t r, double x) { mpfr_set_d(r, x, MPFR_RNDN); mpfr_log(r, r, MPFR_RNDN); },
                      static_cast<double (*)(double)>(std::log), md);
  }
  // log1p
  {
    std::vector<double> xs(std::begin(specials), std::end(specials));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(binade(-1074, 1024, 1));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(binade(-1074, 0, -1));     // (-1, 0)
    for (std::size_t i = 0; i < N; ++i) xs.push_back(-1.0 + binade(-53, -1, 1));  // near -1
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-0.5, 1.0));
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(-0.30, -0.28));
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(0.40, 0.43));
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(binade(-60, 60, 1));
    run_paths<log1p_op>("log1p", xs, [](mpfr_t r, double x) { mpfr_set_d(r, x, MPFR_RNDN); mpfr_log1p(r, r, MPFR_RNDN); },
                        static_cast<double (*)(double)>(std::log1p), md);
  }
  // log1pexp
  {
    std::vector<double> xs(std::begin(specials), std::end(specials));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-750.0, 750.0));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-40.0, 40.0));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(binade(-1074, 12, 0));
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(-2.0, 2.0));
    run_paths<log1pexp_op>("log1pexp", xs, [](mpfr_t r, double x) {
      mpfr_set_d(r, -std::fabs(x), MPFR_RNDN); mpfr_exp(r, r, MPFR_RNDN); mpfr_log1p(r, r, MPFR_RNDN);
      if (x > 0) mpfr_add_d(r, r, x, MPFR_RNDN);
    }, softplus_libm, md);
  }
  // sigmoid
  {
    std::vector<double> xs(std::begin(specials), std::end(specials));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-750.0, 40.0));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(unif(-40.0, 40.0));
    for (std::size_t i = 0; i < N; ++i) xs.push_back(binade(-1074, 12, 0));
    for (std::size_t i = 0; i < N / 4; ++i) xs.push_back(unif(-745.2, -708.0));
    run_paths<sigmoid_op>("sigmoid", xs, [](mpfr_t r, double x) {
      mpfr_set_d(r, -x, MPFR_RNDN); mpfr_exp(r, r, MPFR_RNDN); mpfr_add_ui(r, r, 1, MPFR_RNDN);
      mpfr_ui_div(r, 1, r, MPFR_RNDN);
    }, sigmoid_libm, md);
  }
  std::fclose(md);
  return 0;
}
