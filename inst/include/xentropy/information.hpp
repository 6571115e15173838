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

#include <atomic>

#include "flags.hpp"
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

// --- Multinomial log-likelihood ----------------------------------------------
// log P(n | q) = sum_k n_k log q_k - N log T + log N! - sum_k log n_k!
// (N = sum_k n_k, T = sum_k q_k: q rescaled to sum to 1, as dmultinom), for
// whole counts n >= 0 and finite q >= 0. The terms cancel (log N! against
// sum n log q), so every term is formed in double-double and summed so:
// * log(q) as hi + lo (vm::log_dd_split, ~2^-60 relative); n log q as
//   n * h (exact: h is hi cut to 32 bits and n < 2^21) plus n * ((hi - h) + lo);
// * log n! from a table of hi + lo pairs for n < lfact_table (sums of
//   double-double logs, built once), or Stirling's series for larger n with
//   (n + 1/2) log(n + 1) formed as above;
// * N log T likewise, T summed as a double-double.
// Measured against 200-bit MPFR (tests/testthat/test-likelihood.R): within
// 2 ulp of each row's value where the old plain-double sum was off by up to
// 170 ulp. No lgamma() is called (glibc's writes the global signgam), so
// rows run on threads.
//
// Fast path: blocks of rows (counts and q each a matrix walked by rows, or a
// vector shared by every row), class by class with the rows in the inner,
// vectorised loop. A row with anything else (a missing or invalid value, a
// count >= 2^21, a total count >= 2^26, q = 0 < n, a total T that is 0,
// subnormal or huge) is computed again by the scalar path, which handles
// everything (and is what other layouts use).

namespace detail {

constexpr index_t lfact_table = 1024;

// Error-free sum a + b = s + e.
XENTROPY_VM_INLINE double two_sum(double a, double b, double& e) {
  const double s = a + b;
  const double bv = s - a;
  e = (a - (s - bv)) + (b - bv);
  return s;
}

// x with its significand cut to its leading `Bits` bits (x normal or 0).
template <int Bits>
XENTROPY_VM_INLINE double cut(double x) {
  constexpr std::uint64_t mask = ~((std::uint64_t(1) << (53 - Bits)) - 1);
  return vm::detail::from_bits(vm::detail::bits(x) & mask);
}

// log(x!) for whole x in [lfact_table, 2^26) by Stirling's series for
// lgamma(x + 1), as hi + lo: (y - 1/2) log y - y + log(2 pi) / 2 + 1 / (12 y)
// - 1 / (360 y^3) + 1 / (1260 y^5) - 1 / (1680 y^7), y = x + 1 (the next term
// is below 1e-30 for y > 1024).
XENTROPY_VM_INLINE double lfact_stirling(double x, double& lo) {
  const double y = x + 1.0;
  double ll;
  const double l = vm::log_dd_split(y, 0.0, ll);
  const double h = cut<25>(l);            // (y - 1/2) has at most 28 bits
  const double r = (l - h) + ll;
  const double ym = y - 0.5;
  const double p1 = ym * h;               // exact
  double e1;
  const double a = two_sum(p1, -y, e1);
  const double z = 1.0 / y, z2 = z * z;
  const double ser = z * (1.0 / 12 - z2 * (1.0 / 360 - z2 * (1.0 / 1260 - z2 * (1.0 / 1680))));
  constexpr double hl2pi_hi = 0.91893853320467278;      // log(2 pi) / 2
  constexpr double hl2pi_lo = -3.8782941580672414e-17;
  double e2;
  const double b = two_sum(a, hl2pi_hi, e2);
  lo = ((e1 + e2) + ym * r) + (hl2pi_lo + ser);
  return b;
}

// n mod lfact_table for whole n in [0, 2^52), from the bits of n + 2^52
// (any index in the table for other n).
XENTROPY_VM_INLINE std::uint64_t table_index(double n) {
  return vm::detail::bits(n + 4503599627370496.0) & std::uint64_t(lfact_table - 1);
}

// log(x!) for whole x in [0, lfact_table) as hi + lo: built once, sums of
// log k (k = 2..x) in double-double.
struct lfact_values {
  double hi[lfact_table];
  double lo[lfact_table];
  lfact_values() {
    hi[0] = hi[1] = 0.0;
    lo[0] = lo[1] = 0.0;
    double s = 0.0, c = 0.0;
    for (index_t k = 2; k < lfact_table; ++k) {
      double l;
      const double h = vm::log_dd_split(static_cast<double>(k), 0.0, l);
      double e;
      s = two_sum(s, h, e);
      c += e + l;
      const double v = s + c;  // renormalise (Fast2Sum, |s| >= |c|)
      c = c - (v - s);
      s = v;
      hi[k] = s;
      lo[k] = c;
    }
  }
};

inline const lfact_values& lfact() {
  static const lfact_values v;
  return v;
}

// log(x!) as hi + lo for any whole x >= 0 (scalar).
inline double lfact_scalar(double x, double& lo) {
  if (x < static_cast<double>(lfact_table)) {
    const index_t i = static_cast<index_t>(x);
    lo = lfact().lo[i];
    return lfact().hi[i];
  }
  if (x < 67108864.0) return lfact_stirling(x, lo);  // 2^26
  // larger: the same series with the products split by fma
  const double y = x + 1.0;
  double ll;
  const double l = vm::log_dd_split(y, 0.0, ll);
  const double ym = y - 0.5;
  const double p1 = ym * l;
  const double p1e = std::fma(ym, l, -p1);
  double e1;
  const double a = two_sum(p1, -y, e1);
  const double z = 1.0 / y;
  lo = ((e1 + p1e) + ym * ll) + (-3.8782941580672414e-17 + z / 12.0);
  double e2;
  const double b = two_sum(a, 0.91893853320467278, e2);
  lo += e2;
  return b;
}

// Per-row double-double state of the fast path.
struct mult_block {
  double shi[obs_block], slo[obs_block];  // sum_k n log q - [full] log n!
  double n[obs_block];                     // N
  double thi[obs_block], tlo[obs_block];   // T
  double flag[obs_block];                  // > 0: the scalar path redoes the row
  double big[obs_block];                   // > 0: a count >= lfact_table
};

template <bool CRow, bool QRow, bool Big>
struct mult_rows_k {
  XENTROPY_VM_INLINE static void run(const double* c, index_t csk, const double* q,
                                     index_t qsk, index_t o0, index_t nb, index_t nclass,
                                     double full, const double* tab_hi,
                                     const double* tab_lo, mult_block* b) {
    double* shi = b->shi;
    double* slo = b->slo;
    double* nn = b->n;
    double* thi = b->thi;
    double* tlo = b->tlo;
    double* flag = b->flag;
    double* big = b->big;
    for (index_t i = 0; i < nb; ++i)
      shi[i] = slo[i] = nn[i] = thi[i] = tlo[i] = flag[i] = big[i] = 0.0;
    for (index_t k = 0; k < nclass; ++k) {
      const double* cc = c + k * csk + (CRow ? o0 : 0);
      const double* qc = q + k * qsk + (QRow ? o0 : 0);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double n = cc[CRow ? i : 0];
        const double qv = qc[QRow ? i : 0];
        // whole and in [0, 2^21): n + 2^52 - 2^52 rounds n to a whole number
        const double nw = (n + 4503599627370496.0) - 4503599627370496.0;
        const bool okn = (n >= 0.0) & (n < 2097152.0) & (nw == n);
        const bool okq = (qv >= 0.0) & (qv < std::numeric_limits<double>::infinity());
        const bool pos = n > 0.0;
        const bool ok = okn & okq & !(pos & (qv == 0.0));
        flag[i] += ok ? 0.0 : 1.0;
        const bool use = ok & pos;
        const double nu = use ? n : 0.0;
        const double qs = use ? qv : 1.0;
        double ll;
        const double l = vm::log_dd_split(qs, 0.0, ll);
        const double h = cut<32>(l);
        const double a = nu * h;                     // exact
        const double r = nu * ((l - h) + ll);
        // log n! from the table (n < lfact_table) or Stirling's series
        // The index is the low bits of n (from n + 2^52), and the loaded
        // values are not selected against a constant: GCC turns either into
        // a branch that makes the load conditional, which it does not
        // vectorise. (n = 0 reads entry 0, which is 0; other unused n are
        // in flagged rows.)
        const bool small = nu < static_cast<double>(lfact_table);
        const std::uint64_t idx = table_index(n);
        double fh = tab_hi[idx], fl = tab_lo[idx];
        if (Big) {
          double sl;
          const double sh = lfact_stirling(small ? 2048.0 : nu, sl);
          fh = small ? fh : sh;
          fl = small ? fl : sl;
        } else {
          big[i] += small ? 0.0 : 1.0;
        }
        double e1, e2, e3;
        const double s1 = two_sum(shi[i], a, e1);
        const double s2 = two_sum(s1, -(full * fh), e2);
        shi[i] = s2;
        slo[i] += ((e1 + e2) + r) - full * fl;
        nn[i] += nu;
        const double qa = ok ? qv : 0.0;
        thi[i] = two_sum(thi[i], qa, e3);
        tlo[i] += e3;
      }
    }
  }
};

// out = S - N log T [+ log N!] for the rows of a block (Rescale), or S;
// rows the fast path cannot finish get flag > 0.
template <bool Rescale>
struct mult_finish_k {
  XENTROPY_VM_INLINE static void run(mult_block* b, index_t nb, double full,
                                     const double* tab_hi, const double* tab_lo,
                                     double* out) {
    double* flag = b->flag;
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < nb; ++i) {
      const double N = b->n[i];
      double tl;
      const double T = two_sum(b->thi[i], b->tlo[i], tl);
      const bool okt = (T >= 2.2250738585072014e-308) & (T < 1e300) & (N < 67108864.0);
      flag[i] += (!Rescale || okt) ? 0.0 : 1.0;
      const double Ts = okt ? T : 1.0;
      const double Tl = okt ? tl : 0.0;
      double ll;
      const double l = vm::log_dd_split(Ts, Tl, ll);
      const double h = cut<27>(l);                 // N < 2^26
      const double a = N * h;                      // exact
      const double r = N * ((l - h) + ll);
      const bool small = N < static_cast<double>(lfact_table);
      const std::uint64_t idx = table_index(N);
      double sl;
      const double sh = lfact_stirling(small ? 2048.0 : N, sl);
      // blended, not selected: a select would move the loads under a
      // condition, which GCC does not vectorise (sh, sl are finite)
      const double m = small ? 1.0 : 0.0;
      const double fh = tab_hi[idx] * m + sh * (1.0 - m);
      const double fl = tab_lo[idx] * m + sl * (1.0 - m);
      double e1, e2;
      const double s1 = two_sum(b->shi[i], Rescale ? -a : 0.0, e1);
      const double s2 = two_sum(s1, Rescale ? full * fh : 0.0, e2);
      const double lo = b->slo[i] + ((e1 + e2) + (Rescale ? full * fl - r : 0.0));
      out[i] = s2 + lo;
    }
  }
};

// The scalar path for observation o: value (NA, NaN, -Inf for q = 0 < n),
// first invalid element (bad) and whether T is 0.
inline double multinomial_one(view counts, view q, index_t o, index_t nclass,
                              bool full, bool rescale, first_invalid& bad,
                              bool& zero_total) {
  accumulator acc;
  double shi = 0.0, slo = 0.0, N = 0.0, thi = 0.0, tlo = 0.0;
  bool neg_inf = false;
  for (index_t k = 0; k < nclass; ++k) {
    const double n = counts(o, k), qv = q(o, k);
    double e;
    thi = two_sum(thi, qv, e);
    tlo += e;
    N += n;
    if (std::isnan(n) || std::isnan(qv)) {
      if (std::isnan(n)) acc.missing(n);
      if (std::isnan(qv)) acc.missing(qv);
      continue;
    }
    if (!(n >= 0.0 && n < inf() && n == std::floor(n))) {
      acc.invalid(counts.at(o, k) * 2);
      continue;
    }
    if (!(qv >= 0.0 && qv < inf())) {
      acc.invalid(q.at(o, k) * 2 + 1);
      continue;
    }
    if (n == 0.0) continue;
    if (qv == 0.0) {
      neg_inf = true;
      continue;
    }
    double ll;
    const double l = vm::log_dd_split(qv, 0.0, ll);
    const double a = n * l;
    const double ae = std::fma(n, l, -a);
    double fl = 0.0, fh = 0.0;
    if (full) fh = lfact_scalar(n, fl);
    double e1, e2;
    shi = two_sum(shi, a, e1);
    shi = two_sum(shi, -fh, e2);
    slo += ((e1 + e2) + (ae + n * ll)) - fl;
  }
  if (acc.bad >= 0) {
    bad.note(acc.bad / 2, static_cast<int>(acc.bad % 2));
    return nan_real();
  }
  // a total that overflows (finite q summing past the largest double): sum q / 2^64
  // (exact) and add 64 log 2 to its log
  double shift = 0.0;
  if (rescale && !acc.na && !acc.nan && !(thi < inf())) {
    thi = tlo = 0.0;
    for (index_t k = 0; k < nclass; ++k) {
      double e;
      thi = two_sum(thi, std::ldexp(q(o, k), -64), e);
      tlo += e;
    }
    shift = 64.0;
  }
  const double T = thi + tlo;
  if (rescale && T == 0.0) zero_total = true;
  if (acc.na) return na_real();
  if (acc.nan) return nan_real();
  if (neg_inf) return -inf();
  if (!rescale) return shi + slo;
  if (!(T > 0.0 && T < inf())) {
    double fl = 0.0;
    const double fh = full ? lfact_scalar(N, fl) : 0.0;
    return ((shi + slo) - N * std::log(T)) + (fh + fl);
  }
  const double tl = tlo - (T - thi);
  double ll;
  double l = vm::log_dd_split(T, tl, ll);
  if (shift != 0.0) {  // log 2 = ln2_hi + ln2_lo as a double-double; shift * ln2_hi is exact
    constexpr double ln2_hi = 0.6931471805599453, ln2_lo = 2.3190468138462996e-17;
    double e;
    l = two_sum(l, shift * ln2_hi, e);
    ll += e + shift * ln2_lo;
  }
  const double a = N * l;
  const double ae = std::fma(N, l, -a);
  double fl = 0.0, fh = 0.0;
  if (full) fh = lfact_scalar(N, fl);
  double e1, e2;
  const double s1 = two_sum(shi, -a, e1);
  const double s2 = two_sum(s1, fh, e2);
  return s2 + (slo + ((e1 + e2) + ((fl - ae) - N * ll)));
}

inline void multinomial_run(view counts, view q, const measure_shape& s, bool full,
                            bool rescale, double* out, int nthreads,
                            first_invalid& bad, bool& zero_total) {
  const lfact_values& tab = lfact();  // built here, on the calling thread
  const index_t nobs = s.nobs, nclass = s.nclass;
  std::atomic<bool> zero{false};
  const bool fast = !s.contiguous && (counts.so == 0 || counts.so == 1) &&
                    (q.so == 0 || q.so == 1) && nclass > 0;
  const int nt = threads_for(nthreads, nobs * (nclass > 0 ? nclass : 1));
  if (!fast) {
    parallel_chunks(nobs, obs_block, nt, [&](index_t o0, index_t o1) {
      bool z = false;
      for (index_t o = o0; o < o1; ++o)
        out[o] = multinomial_one(counts, q, o, nclass, full, rescale, bad, z);
      if (z) zero.store(true);
    }, obs_block * (nclass > 0 ? nclass : 1));
    zero_total = zero.load();
    return;
  }
  const bool crow = counts.so == 1, qrow = q.so == 1;
  const double fullf = full ? 1.0 : 0.0;
  parallel_chunks(nobs, obs_block, nt, [&](index_t o0, index_t o1) {
    const index_t nb = o1 - o0;
    mult_block b;
    auto rows = [&](bool big) {
      dispatch_flags<mult_rows_k>(flags(crow, qrow, big), counts.data, counts.sk, q.data,
                                  q.sk, o0, nb, nclass, fullf, tab.hi, tab.lo, &b);
    };
    rows(false);
    bool any_big = false;
    for (index_t i = 0; i < nb; ++i) any_big = any_big || b.big[i] > 0.0;
    if (any_big) rows(true);
    dispatch_flags<mult_finish_k>(flags(rescale), &b, nb, fullf, tab.hi, tab.lo, out + o0);
    bool z = false;
    for (index_t i = 0; i < nb; ++i)
      if (b.flag[i] > 0.0)
        out[o0 + i] = multinomial_one(counts, q, o0 + i, nclass, full, rescale, bad, z);
    if (z) zero.store(true);
  }, obs_block * nclass);
  zero_total = zero.load();
}

}  // namespace detail

// Multinomial log-likelihood terms: sum_k n_k log q_k (minus
// sum_k log(n_k!) when full) for counts n (whole, >= 0) and probabilities
// q >= 0; the caller adds log(N!) and normalises q (or calls
// multinomial_loglik(), which does both). NA / NaN give NA / NaN, q_k = 0 <
// n_k gives -Inf; invalid values are reported in `bad`. Thread-safe (no
// lgamma()), on up to nthreads threads.
inline void multinomial_terms(view counts, view q, const measure_shape& s,
                              bool full, double* out, int nthreads,
                              first_invalid& bad) {
  bool zero_total = false;
  detail::multinomial_run(counts, q, s, full, false, out, nthreads, bad, zero_total);
}

// The multinomial log-likelihood of each observation, as dmultinom(log =
// TRUE): sum_k n_k log(q_k / T) (+ log N! - sum_k log n_k! when full), T =
// sum_k q_k. zero_total is set when some T is 0 (the value is then
// meaningless). Missing and invalid values as multinomial_terms().
inline void multinomial_loglik(view counts, view q, const measure_shape& s,
                               bool full, double* out, int nthreads,
                               first_invalid& bad, bool& zero_total) {
  zero_total = false;
  detail::multinomial_run(counts, q, s, full, true, out, nthreads, bad, zero_total);
}

}  // namespace xentropy

#endif  // XENTROPY_INFORMATION_HPP
