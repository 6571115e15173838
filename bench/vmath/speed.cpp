// Speed of xentropy::vm functions on each dispatch path vs glibc, single thread.
// Build and run (see README.md):
//   g++ -std=gnu++14 -g -O2 -fpic -fopenmp -I../../inst/include speed.cpp -o /tmp/vm_speed
//   /tmp/vm_speed [n]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "xentropy/vmath.hpp"

using namespace xentropy;
using idx = std::ptrdiff_t;

struct exp_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::exp(x); } };
struct log_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::log(x); } };
struct log1p_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::log1p(x); } };
struct sigmoid_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::sigmoid(x); } };
struct log1pexp_op { XENTROPY_VM_INLINE double operator()(double x) const { return vm::log1pexp(x); } };
// the "simple" sigmoid of the brief: 1 / (1 + e) or e / (1 + e), e = exp(-|x|)
struct sigmoid_plain_op {
  XENTROPY_VM_INLINE double operator()(double x) const {
    const double e = vm::exp(x < 0 ? x : -x);
    return (x < 0 ? e : 1.0) / (1.0 + e);
  }
};

template <class Op>
struct simd_map {
  XENTROPY_VM_INLINE static void run(const double* x, double* out, idx n) {
    const Op op{};
    XENTROPY_VM_SIMD
    for (idx i = 0; i < n; ++i) out[i] = op(x[i]);
  }
};
struct lse_sum {  // sum_i exp(x_i - m): the inner loop of logsumexp
  XENTROPY_VM_INLINE static void run(const double* x, idx n, double m, double* t) {
    double s = 0.0;
    XENTROPY_VM_SIMD_REDUCTION(+ : s)
    for (idx i = 0; i < n; ++i) s += vm::exp(x[i] - m);
    *t = s;
  }
};

static volatile double sink;

template <class F>
static double time_ns(F f, idx n, int reps = 7) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best / n;
}

int main(int argc, char** argv) {
  const idx n = argc > 1 ? std::atol(argv[1]) : 10000000;
  std::mt19937_64 rng(1);
  std::vector<double> xs(n), xp(n), out(n);
  for (idx i = 0; i < n; ++i) xs[i] = std::uniform_real_distribution<double>(-20, 20)(rng);
  for (idx i = 0; i < n; ++i) xp[i] = std::uniform_real_distribution<double>(0, 20)(rng);
  const double* x = xs.data();
  const double* p = xp.data();
  double* o = out.data();
  std::printf("n = %ld, detected %s; ns per element, best of 7\n", (long)n, vm::isa_name(vm::detected_isa()));

  // Memory baselines: write -x (what R's `-x` does after allocating), and sum(x).
  double t_neg = time_ns([&] { for (idx i = 0; i < n; ++i) o[i] = -x[i]; sink = o[n / 2]; }, n);
  double t_sum = time_ns([&] { long double s = 0; for (idx i = 0; i < n; ++i) s += x[i]; sink = (double)s; }, n);
  double t_sumd = time_ns([&] { double s = 0; for (idx i = 0; i < n; ++i) s += x[i]; sink = s; }, n);
  std::printf("%-28s %8.3f\n", "out = -x", t_neg);
  std::printf("%-28s %8.3f\n", "sum(x) (long double, as R)", t_sum);
  std::printf("%-28s %8.3f\n", "sum(x) (double)", t_sumd);

  // glibc, scalar
  double g_exp = time_ns([&] { for (idx i = 0; i < n; ++i) o[i] = std::exp(x[i]); sink = o[1]; }, n);
  double g_log = time_ns([&] { for (idx i = 0; i < n; ++i) o[i] = std::log(p[i]); sink = o[1]; }, n);
  double g_log1p = time_ns([&] { for (idx i = 0; i < n; ++i) o[i] = std::log1p(p[i]); sink = o[1]; }, n);
  double g_sig = time_ns([&] {
    for (idx i = 0; i < n; ++i) {
      const double v = x[i];
      if (v >= 0) o[i] = 1.0 / (1.0 + std::exp(-v));
      else { const double e = std::exp(v); o[i] = e / (1.0 + e); }
    }
    sink = o[1];
  }, n);
  double g_sp = time_ns([&] {
    for (idx i = 0; i < n; ++i) {
      const double v = x[i];
      o[i] = v <= -37 ? std::exp(v) : v <= 18 ? std::log1p(std::exp(v)) : v <= 33.3 ? v + std::exp(-v) : v;
    }
    sink = o[1];
  }, n);
  double g_lse = time_ns([&] { double s = 0; for (idx i = 0; i < n; ++i) s += std::exp(x[i] - 20.0); sink = s; }, n);

  std::FILE* md = std::fopen("/tmp/vm_speed.md", "w");
  std::fprintf(md, "| ns / element (n = %ld) | glibc | baseline (SSE2) | AVX2+FMA | AVX-512 |\n|---|---|---|---|---|\n", (long)n);
  struct row { const char* name; double g; double v[3]; };
  std::vector<row> rows = {
      {"exp (vm::map)", g_exp, {}}, {"exp (omp simd loop)", g_exp, {}},
      {"log (vm::map)", g_log, {}}, {"log1p (vm::map)", g_log1p, {}},
      {"sigmoid (vm::sigmoid)", g_sig, {}}, {"sigmoid plain e/(1+e)", g_sig, {}},
      {"log1pexp (softplus)", g_sp, {}}, {"sum exp(x - m) (reduction)", g_lse, {}}};
  for (int path = 0; path <= 2; ++path) {
    if ((int)vm::set_isa_limit(static_cast<vm::isa>(path)) != path) {
      for (auto& r : rows) r.v[path] = NAN;
      continue;
    }
    rows[0].v[path] = time_ns([&] { vm::map<exp_op>(x, o, n); }, n);
    rows[1].v[path] = time_ns([&] { vm::dispatch<simd_map<exp_op>>(x, o, n); }, n);
    rows[2].v[path] = time_ns([&] { vm::map<log_op>(p, o, n); }, n);
    rows[3].v[path] = time_ns([&] { vm::map<log1p_op>(p, o, n); }, n);
    rows[4].v[path] = time_ns([&] { vm::map<sigmoid_op>(x, o, n); }, n);
    rows[5].v[path] = time_ns([&] { vm::map<sigmoid_plain_op>(x, o, n); }, n);
    rows[6].v[path] = time_ns([&] { vm::map<log1pexp_op>(x, o, n); }, n);
    rows[7].v[path] = time_ns([&] { double t; vm::dispatch<lse_sum>(x, n, 20.0, &t); sink = t; }, n);
  }
  vm::set_isa_limit(vm::isa::avx512);
  std::printf("%-28s %8s %8s %8s %8s\n", "", "glibc", "baseline", "avx2", "avx512");
  for (auto& r : rows) {
    std::printf("%-28s %8.3f %8.3f %8.3f %8.3f\n", r.name, r.g, r.v[0], r.v[1], r.v[2]);
    std::fprintf(md, "| %s | %.2f | %.2f | %.2f | %.2f |\n", r.name, r.g, r.v[0], r.v[1], r.v[2]);
  }
  std::fprintf(md, "| out = -x (memory baseline) | %.2f | | | |\n", t_neg);
  std::fprintf(md, "| sum(x), long double (R's sum) | %.2f | | | |\n", t_sum);
  std::fprintf(md, "| sum(x), double | %.2f | | | |\n", t_sumd);
  std::fclose(md);
  return 0;
}
