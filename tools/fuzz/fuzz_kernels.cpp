// libFuzzer harness for xentropy's header-only kernels (inst/include).
//
//   sh tools/fuzz/run.sh 60        # build, then fuzz for 60 seconds
//
// Each input picks a kernel, an instruction-set path (baseline, AVX2,
// AVX-512, as far as the CPU has them) and the data. The data are doubles
// drawn from raw bit patterns (every NaN payload, subnormals, infinities),
// from a table of edge values (R's NA, +-0, +-Inf, the exp/log overflow and
// underflow thresholds, +-1e10, +-1e308) and from ordinary ranges.
// Results are compared with references computed in long double (x86-64's
// 80-bit format: 11 more bits than double), and must stay within:
//
//   link functions       2 ulp of the reference (the promise in link.hpp),
//                        subnormal results included;
//   logsumexp            4 ulp + eps * (2 |m / T| + 2 n + 4) absolute,
//                        m the maximum, n the number of terms;
//   softmax              relative eps * (2 n + 8 + |z_k| / 1024) + 4 * 2^-1074,
//                        z_k = (x_k - m) / T (the kernels carry the rounding
//                        of z_k into exp; |z_k| / 1024 is the long-double
//                        reference's own rounding of z_k);
//   log_softmax          absolute 4 ulp + eps * (2 |z_k| + 2 n + 8);
//   entropy, cross_entropy  relative eps * (2 n + 4) (all terms >= 0),
//                        plus (n + 1) * 2^-1074 for terms rounded as subnormals;
//   kl_divergence        eps * ((2 n + 4) * sum |term| + 2 sum p) absolute,
//                        plus the same subnormal allowance,
//
// with eps = 2^-52 and T the temperature. And the NA/NaN contract: NA in
// gives NA out, NaN (not NA) gives NaN that is not NA, in every kernel;
// na_rm drops both; rows of -Inf give -Inf (softmax NaN); +Inf entries get
// 1 / c in softmax. A failure prints the input and aborts, which libFuzzer
// saves as crash-<sha1> for replay (run.sh FILE).
//
// Kept small on purpose: it calls the public signatures only, so a change of
// signature in the headers is a one-line change here.
#include <fuzzer/FuzzedDataProvider.h>

#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <vector>

#include <xentropy.h>

static_assert(LDBL_MANT_DIG >= 64, "the references need x86-64's 80-bit long double");

namespace {

using ld = long double;
const double eps = DBL_EPSILON;
const double tiny = 4.9406564584124654e-324;  // 2^-1074

// What the current input exercises beyond its numbers (printed on failure).
char context[160] = "";

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

[[noreturn]] void fail(const char* what, const std::vector<double>& x, double got,
                       double want, double tol) {
  std::fprintf(stderr, "\nFUZZ FAILURE: %s\n  got  %.17g\n  want %.21Lg (tolerance %.3g)\n  input (%zu):",
               what, got, static_cast<ld>(want), tol, x.size());
  for (double v : x) std::fprintf(stderr, " %.17g", v);
  std::fprintf(stderr, "\n  isa %s %s\n",
               xentropy::vm::isa_name(xentropy::vm::current_isa()), context);
  std::abort();
}

// ulp of a double of magnitude |v| (2^-1074 in the subnormal range).
double ulp(double v) {
  v = std::fabs(v);
  if (!(v < DBL_MAX)) return HUGE_VAL;
  const double u = std::nextafter(v, HUGE_VAL) - v;
  return u > tiny ? u : tiny;
}

// got vs a long-double reference: NaN/NA class and infinities must match.
void check_close(const char* what, const std::vector<double>& x, double got, ld ref,
                 double tol) {
  const double r = static_cast<double>(ref);
  if (std::isnan(r) || std::isinf(r)) {
    if (!(std::isnan(r) ? std::isnan(got) : got == r)) fail(what, x, got, r, tol);
    return;
  }
  if (!(std::fabs(static_cast<ld>(got) - ref) <= tol)) fail(what, x, got, r, tol);
}

double edge(uint8_t i) {
  static const double table[] = {
      0.0, -0.0, 1.0, -1.0, 0.5, 0.25, 0.75, 2.0,
      HUGE_VAL, -HUGE_VAL, std::nan(""), xentropy::na_real(),
      709.782712893384, -745.1332191019411, -708.3964185322641, 36.7368005696771,
      -36.7368005696771, 18.0, -18.0, 1e10, -1e10, 1e308, -1e308, DBL_MAX,
      -DBL_MAX, DBL_MIN, tiny, -tiny, 1e-300, 1 - 1e-16, 1e-16, 0.49999999999999994};
  return table[i % (sizeof table / sizeof table[0])];
}

// One double, mostly finite and of moderate size, sometimes anything.
double any_double(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: {
      const uint64_t b = in.ConsumeIntegral<uint64_t>();
      double v;
      std::memcpy(&v, &b, sizeof v);
      return v;
    }
    case 1: return edge(in.ConsumeIntegral<uint8_t>());
    case 2: return in.ConsumeFloatingPointInRange<double>(-800.0, 800.0);
    case 3: return in.ConsumeFloatingPointInRange<double>(-40.0, 40.0);
    case 4: return edge(in.ConsumeIntegral<uint8_t>()) +
                   in.ConsumeFloatingPointInRange<double>(-4.0, 4.0);
    default: return in.ConsumeFloatingPointInRange<double>(-3.0, 3.0);
  }
}

double any_probability(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return 0.0;
    case 1: return 1.0;
    case 2: return tiny;
    case 3: return in.ConsumeBool() ? xentropy::na_real() : std::nan("");
    case 4: return std::ldexp(in.ConsumeProbability<double>(), -in.ConsumeIntegralInRange<int>(0, 1070));
    default: return in.ConsumeProbability<double>();
  }
}

// NA beats NaN; returns 2 for NA, 1 for NaN, 0 for none.
int missing_kind(const double* x, size_t n) {
  int k = 0;
  for (size_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) k = xentropy::is_na(x[i]) ? 2 : (k ? k : 1);
  return k;
}
void check_missing(const char* what, const std::vector<double>& x, double got, int kind) {
  const bool ok = kind == 2 ? xentropy::is_na(got) : std::isnan(got) && !xentropy::is_na(got);
  if (!ok) fail(what, x, got, kind == 2 ? xentropy::na_real() : std::nan(""), 0);
}

// ---- link functions -------------------------------------------------------
ld ref_softplus(ld x) { return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x)); }

void fuzz_link(FuzzedDataProvider& in) {
  const int which = in.ConsumeIntegralInRange<int>(0, 3);
  std::vector<double> x(in.ConsumeIntegralInRange<size_t>(1, 40));
  for (double& v : x) v = which == 3 && in.ConsumeBool() ? any_probability(in) : any_double(in);
  std::vector<double> out(x.size());
  const char* name[] = {"sigmoid", "softplus", "log_sigmoid", "logit"};
  switch (which) {
    case 0: xentropy::sigmoid(x.data(), out.data(), x.size()); break;
    case 1: xentropy::softplus(x.data(), out.data(), x.size()); break;
    case 2: xentropy::log_sigmoid(x.data(), out.data(), x.size()); break;
    default: xentropy::logit(x.data(), out.data(), x.size()); break;
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    // The scalar version is compiled for the baseline path: on that path the
    // array version agrees bit for bit (AVX2 and AVX-512 may fuse a multiply
    // and an add, so there both are only checked against the reference).
    const double s = which == 0 ? xentropy::sigmoid(v) : which == 1 ? xentropy::softplus(v)
                   : which == 2 ? xentropy::log_sigmoid(v) : xentropy::logit(v);
    if (xentropy::vm::current_isa() == xentropy::vm::isa::baseline && !same_bits(s, out[i]))
      fail("scalar and array versions differ", {v}, out[i], s, 0);
    if (std::isnan(v)) {  // NA and NaN come back with their bits
      if (!same_bits(out[i], v)) fail(name[which], {v}, out[i], v, 0);
      continue;
    }
    ld ref;
    const ld X = v;
    switch (which) {
      case 0: ref = 1.0L / (1.0L + expl(-X)); break;
      case 1: ref = ref_softplus(X); break;
      case 2: ref = -ref_softplus(-X); break;
      default:
        if (v < 0 || v > 1) ref = NAN;
        else if (v == 0 || v == 1) ref = v == 0 ? -HUGE_VALL : HUGE_VALL;
        // near 1/2, log(p) - log1p(-p) cancels even in long double: use the
        // sum of two same-signed terms, d = 2p - 1 exact
        else if (v >= 0.25 && v <= 0.75) ref = log1pl(2 * X - 1) - log1pl(1 - 2 * X);
        else ref = logl(X) - log1pl(-X);
    }
    check_close(name[which], {v}, out[i], ref, 2 * ulp(static_cast<double>(ref)));
    check_close(name[which], {v}, s, ref, 2 * ulp(static_cast<double>(ref)));
  }
}

// ---- normalisers ------------------------------------------------------------
void fuzz_normalise(FuzzedDataProvider& in) {
  const int which = in.ConsumeIntegralInRange<int>(0, 2);  // lse, softmax, log_softmax
  const bool rows = in.ConsumeBool();
  const bool na_rm = which == 0 && in.ConsumeBool();
  // FUZZ_UNIT_TEMPERATURE=1 in the environment keeps T = 1 (see README.md).
  static const bool unit_only = [] {
    const char* e = std::getenv("FUZZ_UNIT_TEMPERATURE");
    return e && std::strcmp(e, "1") == 0;
  }();
  static const double temps[] = {1.0, 1.0, 1.0, 0.5, 2.0, 3.0, 0.1, 7.5};
  const int ti = in.ConsumeIntegralInRange<int>(0, 7);
  const double T = unit_only ? 1.0 : temps[ti];
  const size_t nrow = in.ConsumeIntegralInRange<size_t>(1, 6);
  const size_t ncol = in.ConsumeIntegralInRange<size_t>(1, 12);
  std::vector<double> x(nrow * ncol);
  const double shift = in.ConsumeBool() ? 0.0 : edge(in.ConsumeIntegral<uint8_t>());
  for (double& v : x) {
    v = any_double(in);
    if (std::isfinite(shift) && std::fabs(shift) < 1e300) v += shift;  // large common offsets
  }
  std::snprintf(context, sizeof context, "%s, margin = %d (%zu x %zu), temperature = %g%s",
                which == 0 ? "logsumexp" : which == 1 ? "softmax" : "log_softmax",
                rows ? 1 : 2, nrow, ncol, T, na_rm ? ", na_rm" : "");
  const size_t nvec = rows ? nrow : ncol, len = rows ? ncol : nrow;
  std::vector<double> out(which == 0 ? nvec : x.size());
  const int margin = rows ? 1 : 2;
  if (which == 0)
    xentropy::logsumexp(x.data(), nrow, ncol, margin, out.data(), na_rm, 1, T);
  else
    xentropy::softmax(x.data(), nrow, ncol, margin, out.data(), which == 2, 1, T);

  std::vector<double> v(len);
  for (size_t r = 0; r < nvec; ++r) {
    for (size_t k = 0; k < len; ++k) v[k] = rows ? x[r + k * nrow] : x[k + r * nrow];
    auto at = [&](size_t k) { return rows ? out[r + k * nrow] : out[k + r * nrow]; };
    const int miss = missing_kind(v.data(), len);
    std::vector<double> kept;
    for (double e : v) if (!std::isnan(e)) kept.push_back(e);
    if (miss && !na_rm) {
      if (which == 0) { check_missing("logsumexp", v, out[r], miss); continue; }
      for (size_t k = 0; k < len; ++k) {  // missing entries keep their bits
        if (std::isnan(v[k]) ? !same_bits(at(k), v[k]) : false) fail("softmax missing entry", v, at(k), v[k], 0);
        if (!std::isnan(v[k])) check_missing("softmax row with a missing entry", v, at(k), miss);
      }
      continue;
    }
    const double m = kept.empty() ? -HUGE_VAL : *std::max_element(kept.begin(), kept.end());
    const size_t n = kept.size();
    if (m == -HUGE_VAL) {  // empty or all -Inf
      if (which == 0) { if (out[r] != -HUGE_VAL) fail("logsumexp of -Inf", v, out[r], -HUGE_VAL, 0); }
      else for (size_t k = 0; k < len; ++k)
        if (!std::isnan(at(k)) || xentropy::is_na(at(k))) fail("softmax of -Inf", v, at(k), NAN, 0);
      continue;
    }
    if (m == HUGE_VAL) {
      size_t c = 0;
      for (double e : kept) c += e == HUGE_VAL;
      for (size_t k = 0; k < len && which; ++k) {
        const ld want = which == 1 ? (v[k] == HUGE_VAL ? 1.0L / c : 0.0L)
                                   : (v[k] == HUGE_VAL ? -logl(static_cast<ld>(c)) : -HUGE_VALL);
        check_close(which == 1 ? "softmax with +Inf" : "log_softmax with +Inf", v, at(k), want,
                    2 * ulp(static_cast<double>(want)));
      }
      if (which == 0 && out[r] != HUGE_VAL) fail("logsumexp with +Inf", v, out[r], HUGE_VAL, 0);
      continue;
    }
    // regular row: references in long double, z_k = (x_k - m) / T
    ld S = 0;
    for (double e : kept) S += expl((static_cast<ld>(e) - m) / T);
    const ld lse = static_cast<ld>(m) / T + logl(S);
    if (which == 0) {
      const double tol = 4 * ulp(static_cast<double>(lse)) + eps * (2 * std::fabs(m / T) + 2 * n + 4);
      check_close("logsumexp", v, out[r], lse, tol);
      continue;
    }
    for (size_t k = 0; k < len; ++k) {
      const ld z = (static_cast<ld>(v[k]) - m) / T;
      const ld az = std::isfinite(static_cast<double>(z)) ? fabsl(z) : 0.0L;  // ld: 2 |z| may overflow
      if (which == 1) {
        const ld p = expl(z) / S;
        check_close("softmax", v, at(k), p,
                    static_cast<double>(p * eps * (2 * n + 8 + az / 1024)) + 4 * tiny);
      } else {
        const ld lp = z - logl(S);
        check_close("log_softmax", v, at(k), lp,
                    4 * ulp(static_cast<double>(lp)) + static_cast<double>(eps * (2 * az + 2 * n + 8)));
      }
    }
  }
}

// ---- information measures (one distribution per row or column) ---------------
void fuzz_information(FuzzedDataProvider& in) {
  const int which = in.ConsumeIntegralInRange<int>(0, 2);  // H, cross-entropy, KL
  const bool na_rm = in.ConsumeBool();
  const size_t nobs = in.ConsumeIntegralInRange<size_t>(1, 5);
  const size_t nclass = in.ConsumeIntegralInRange<size_t>(1, 10);
  const bool contiguous = in.ConsumeBool();  // classes of one observation adjacent
  std::vector<double> p(nobs * nclass), q(nobs * nclass);
  for (double& v : p) v = any_probability(in);
  for (double& v : q) v = any_probability(in);
  // element (o, k): contiguous -> o * nclass + k, else o + k * nobs
  const xentropy::index_t so = contiguous ? nclass : 1, sk = contiguous ? 1 : nobs;
  const xentropy::view pv{p.data(), so, sk}, qv{q.data(), so, sk};
  std::vector<double> out(nobs);
  xentropy::first_invalid bad;
  xentropy::measure_shape shape;
  shape.nobs = static_cast<xentropy::index_t>(nobs);
  shape.nclass = static_cast<xentropy::index_t>(nclass);
  shape.contiguous = contiguous;
  xentropy::measure_options opt;
  opt.na_rm = na_rm;
  switch (which) {
    case 0: xentropy::entropy(pv, shape, out.data(), opt, bad); break;
    case 1: xentropy::cross_entropy(pv, qv, shape, out.data(), opt, bad); break;
    default: xentropy::kl_divergence(pv, qv, shape, out.data(), opt, bad); break;
  }
  if (bad.where() >= 0) fail("a probability in [0, 1] reported invalid", p, static_cast<double>(bad.where()), -1, 0);
  const char* name[] = {"entropy", "cross_entropy", "kl_divergence"};
  for (size_t o = 0; o < nobs; ++o) {
    std::vector<double> row;
    int miss = 0;
    ld sum = 0, abs_sum = 0, psum = 0;
    bool pos_inf = false;
    for (size_t k = 0; k < nclass; ++k) {
      const double a = pv(o, k), b = which ? qv(o, k) : 0.0;
      row.push_back(a);
      if (which) row.push_back(b);
      if (std::isnan(a) || std::isnan(b)) {
        miss = std::max(miss, std::max(missing_kind(&a, 1), missing_kind(&b, 1)));
        continue;
      }
      if (a == 0) continue;
      ld t;
      if (which == 0) t = -static_cast<ld>(a) * logl(a);
      else if (b == 0) { pos_inf = true; continue; }
      else if (which == 1) t = -static_cast<ld>(a) * logl(b);
      else t = static_cast<ld>(a) * (logl(a) - logl(b));
      sum += t;
      abs_sum += fabsl(t);
      psum += a;
    }
    if (miss && !na_rm) { check_missing(name[which], row, out[o], miss); continue; }
    if (pos_inf) {
      if (out[o] != HUGE_VAL) fail(name[which], row, out[o], HUGE_VAL, 0);
      continue;
    }
    const double n = static_cast<double>(nclass);
    // (n + 1) * 2^-1074: each term may round in the subnormal range
    const double tol = which < 2 ? static_cast<double>(sum) * eps * (2 * n + 4) + (n + 1) * tiny
                                 : eps * static_cast<double>((2 * n + 4) * abs_sum + 2 * psum) + (n + 1) * tiny;
    check_close(name[which], row, out[o], sum, tol);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  context[0] = '\0';
  const int isa = in.ConsumeIntegralInRange<int>(0, 2);
  xentropy::vm::set_isa_limit(static_cast<xentropy::vm::isa>(isa));
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: fuzz_link(in); break;
    case 1: fuzz_normalise(in); break;
    default: fuzz_information(in); break;
  }
  return 0;
}
