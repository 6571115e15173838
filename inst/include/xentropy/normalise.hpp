// xentropy/normalise.hpp -- log-sum-exp, softmax and log-softmax over the rows
// or the columns of a column-major matrix (a vector is one column).
//
//   logsumexp(x)    = log(sum_k exp(x_k))
//   softmax(x)_k    = exp(x_k) / sum_j exp(x_j)         (PRML eq. 4.62-4.63)
//   log_softmax(x)_k = x_k - logsumexp(x)
// each applied to x / T for a temperature T > 0. The weighted log-sum-exp,
// log sum_k w_k exp(x_k), is in weighted.hpp, on the same kernels.
//
// Temperature: the maximum m is taken of x itself and the shifted scores are
// (x_k - m) / T, one rounding, never x_k / T - m / T (x / T overflows or
// loses every digit of x_k - m when T is tiny, and x_k / T - m / T cancels):
// logsumexp(x / T) = m / T + log1p(t + c - 1) with t the sum of
// exp((x_k - m) / T) below m. Where x_k - m overflows (x_k and m huge, of
// opposite signs) it is formed as ((x_k / 2 - m / 2) / T) * 2, exactly.
//
// Numerical trick: with m = max_k x_k, t = sum_{x_k < m} exp(x_k - m) and
// c = #{k : x_k = m},
//   logsumexp(x) = m + log1p(t + (c - 1)),
// which cannot overflow (every exponent is <= 0) and keeps full relative
// precision when one term dominates (Blanchard, Higham & Higham 2021,
// "Accurately computing the log-sum-exp and softmax functions", IMA J. Numer.
// Anal. 41, 2311-2330). Softmax is exp(x_k - m) / (t + c), and log-softmax
// (x_k - m) - log1p(t + c - 1), never the log of a rounded probability.
//
// Special values, per row (or column):
// * NA in the row gives NA (NaN gives NaN) unless na_rm (logsumexp only):
//   then NA and NaN are dropped. In softmax / log-softmax, NA and NaN entries
//   stay as they are and the other entries of that row become NA (or NaN).
// * All entries -Inf, or none: logsumexp is -Inf; softmax and log-softmax
//   are NaN (0 / 0: the limit depends on how the entries went to -Inf).
// * c entries +Inf: logsumexp is +Inf, softmax is 1 / c on them and 0
//   elsewhere, log-softmax is -log(c) and -Inf (the limit as they grow together).
//
// Rows of a column-major matrix are processed in blocks of rows small enough to
// stay in cache while the columns are swept, so the input is read from memory
// once. Columns are processed in fixed-size chunks whose partial sums are added
// in chunk order: the result does not depend on the thread count.
#ifndef XENTROPY_NORMALISE_HPP
#define XENTROPY_NORMALISE_HPP

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "blocks.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "vmath.hpp"

namespace xentropy {

namespace detail {

constexpr index_t row_block = blocks::rows;      // rows swept together (margin = 1)
constexpr index_t col_chunk = blocks::column;     // elements per chunk of a column (margin = 2)

// Summary of one row or one column (or one chunk of a column).
struct lse_stats {
  double m = -inf();  // maximum of the non-missing entries
  double t = 0.0;     // sum of exp(x - m) over entries below m
  double c = 0.0;     // number of entries equal to m
  bool na = false;    // an NA was seen
  bool nan = false;   // a NaN that is not NA was seen
};

// The temperature T; `unit` when T is 1 (skips a division per element).
struct scale {
  double temperature;
  bool unit;
  explicit scale(double T) : temperature(T), unit(T == 1.0) {}
  double operator()(double x) const { return unit ? x : x / temperature; }
};

// (x - m) / T for x <= m (m finite), rounded once; x - m may overflow when x
// and m are huge and of opposite signs: then the halves are subtracted (exact,
// they are far from the subnormal range) and the quotient doubled.
// Branch-free so that loops over it vectorise.
XENTROPY_VM_INLINE double shifted(double x, double m, double T) {
  const double d = x - m;
  const double h = ((0.5 * x - 0.5 * m) / T) * 2.0;
  return d == -std::numeric_limits<double>::infinity() && x == x &&
                 x != -std::numeric_limits<double>::infinity()
             ? h
             : d / T;
}

// exp(s) for the shift s = (x - m) / T of an entry x <= m (s is written), with the
// rounding error of s carried into it to first order, exp(s + c) = exp(s) (1 + c): exact
// to about an ulp however far x lies below m. exp of the rounded shift alone is off by
// up to |s| 2^-53 relative: 180 ulp for a softmax probability of 1e-150 (s = -345).
// The error of x - m is exact (two-sum); that of the division by T comes from the
// product s T as an unevaluated sum (vm::two_prod). Entries whose exp is 0 (or NaN) are
// returned as they are.
template <bool Unit, bool Normal = false>
XENTROPY_VM_INLINE double exp_shift(double x, double m, double T, double& s) {
  const double d = x - m;
  const double bb = d - x;
  const double cs = (x - (d - bb)) - (m + bb);  // x - m = d + cs exactly
  double c;
  if (Unit) {
    s = d;
    c = cs;
  } else {
    s = shifted(x, m, T);
    double pe;
    const double pr = vm::two_prod(s, T, pe);  // s T = pr + pe
    c = (((d - pr) - pe) + cs) / T;
  }
  const double e = Normal ? vm::exp_normal(s) : vm::exp(s);
  // (c is NaN where x - m overflowed and shifted() took the halves: no correction)
  return e > 0.0 && c == c ? e + e * c : e;
}
template <bool Unit>
XENTROPY_VM_INLINE double exp_shift(double x, double m, double T) {
  double s;
  return exp_shift<Unit>(x, m, T, s);
}

// The row or column outcome once the maximum and flags are known.
enum class kind { regular, na, nan, all_neg_inf, pos_inf };

inline kind classify(const lse_stats& s, bool na_rm) {
  if (!na_rm && s.na) return kind::na;
  if (!na_rm && s.nan) return kind::nan;
  if (s.m == -inf()) return kind::all_neg_inf;
  if (s.m == inf()) return kind::pos_inf;
  return kind::regular;
}

// m / T + log1p(t + c - 1) for a regular row (T = 1: m + ...).
inline double lse_value(const lse_stats& s, kind k, double T = 1.0) {
  switch (k) {
    case kind::na: return na_real();
    case kind::nan: return nan_real();
    case kind::all_neg_inf: return -inf();
    case kind::pos_inf: return inf();
    default: return (T == 1.0 ? s.m : s.m / T) + vm::log1p(s.t + (s.c - 1.0));
  }
}

// The hot loops below run through vm::dispatch (vmath.hpp): each is compiled
// for the baseline, AVX2 and AVX-512 instruction sets and the best one for the
// CPU is picked at run time. They are branch-free (selects, `v != v` for NaN)
// so that they vectorise; sums over a stretch are kept in `lanes` partial
// sums added in a fixed order, so the result does not depend on the vector
// width either.
constexpr int lanes = 8;
constexpr double neg_inf = -std::numeric_limits<double>::infinity();

// Pass 1 over one contiguous stretch: res = {maximum, number of NaNs}. The
// maximum is of x itself (T > 0 does not change where it is).
struct stretch_max_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t n, double* res) {
    double m[lanes], nc[lanes];
    for (int l = 0; l < lanes; ++l) m[l] = neg_inf, nc[l] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int l = 0; l < lanes; ++l) {
        const double v = x[i + l];
        nc[l] += v != v ? 1.0 : 0.0;
        m[l] = v > m[l] ? v : m[l];
      }
    }
    for (; i < n; ++i) {
      const double v = x[i];
      nc[0] += v != v ? 1.0 : 0.0;
      m[0] = v > m[0] ? v : m[0];
    }
    res[0] = neg_inf;
    res[1] = 0.0;
    for (int l = 0; l < lanes; ++l) {
      res[0] = m[l] > res[0] ? m[l] : res[0];
      res[1] += nc[l];
    }
  }
};

// The shifted, scaled score (x - m) / T of an entry x <= m.
template <bool Unit>
XENTROPY_VM_INLINE double shift_of(double x, double m, double T) {
  return Unit ? x - m : shifted(x, m, T);
}

// Pass 2 over one contiguous stretch, given its maximum m > -Inf:
// res = {sum of exp((x - m) / T) over x < m, number of x == m}. When m is
// +Inf this counts the +Inf entries (the others add 0 or NaN, not selected).
template <bool Unit>
struct stretch_sum_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t n, double T, double m,
                                     double* res) {
    // t[l] - k[l] is the lane's sum, compensated (Kahan: every term is >= 0)
    double t[lanes], k[lanes], c[lanes];
    for (int l = 0; l < lanes; ++l) t[l] = 0.0, k[l] = 0.0, c[l] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int l = 0; l < lanes; ++l) {
        const double v = x[i + l];
        const double e = exp_shift<Unit>(v, m, T);
        const double y = (v < m ? e : 0.0) - k[l];
        const double s = t[l] + y;
        k[l] = (s - t[l]) - y;
        t[l] = s;
        c[l] += v == m ? 1.0 : 0.0;
      }
    }
    for (; i < n; ++i) {
      const double v = x[i];
      const double e = exp_shift<Unit>(v, m, T);
      const double y = (v < m ? e : 0.0) - k[0];
      const double s = t[0] + y;
      k[0] = (s - t[0]) - y;
      t[0] = s;
      c[0] += v == m ? 1.0 : 0.0;
    }
    compensated_sum total;
    res[1] = 0.0;
    for (int l = 0; l < lanes; ++l) {
      total.add(t[l]);
      total.add(-k[l]);
      res[1] += c[l];
    }
    res[0] = total.value();
  }
};

// The two passes over rows [r0, r0 + nb) of an nrow x ncol matrix, for the
// columns [j0, j1), sweeping the columns with the rows of the block in the
// inner (vectorised) loop; they add to their outputs, so that the columns can
// be taken in ranges (with an interrupt poll between ranges) and give the
// same result as in one sweep.
struct rows_max_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t nrow, index_t j0,
                                     index_t j1, index_t r0, index_t nb, double* m,
                                     double* nc) {
    for (index_t j = j0; j < j1; ++j) {
      const double* col = x + j * nrow + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i];
        nc[i] += v != v ? 1.0 : 0.0;
        m[i] = v > m[i] ? v : m[i];
      }
    }
  }
};

// Store: the exponentials are also written to e (nrow x ncol, as x), for a
// caller that needs them again (the softmax gradients).
template <bool Unit, bool Store>
struct rows_sum_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t nrow, index_t j0,
                                     index_t j1, index_t r0, index_t nb, double T,
                                     const double* m, double* t, double* k, double* c,
                                     double* ex) {
    for (index_t j = j0; j < j1; ++j) {
      const double* col = x + j * nrow + r0;
      double* ecol = Store ? ex + j * nrow + r0 : nullptr;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i];
        const double e = exp_shift<Unit>(v, m[i], T);
        if (Store) ecol[i] = e;
        // compensated (Kahan; terms >= 0; t - k is the sum): a row of 1e8
        // columns summed in sequence was off by 1.3e-10 relative
        const double y = (v < m[i] ? e : 0.0) - k[i];
        const double s = t[i] + y;
        k[i] = (s - t[i]) - y;
        t[i] = s;
        c[i] += v == m[i] ? 1.0 : 0.0;
      }
    }
  }
};

// Columns per range of a row block of nb rows: about interrupt_interval
// elements.
inline index_t column_range(index_t nb) {
  const index_t w = static_cast<index_t>(detail::interrupt_interval) / (nb > 0 ? nb : 1);
  return w > 0 ? w : 1;
}

// L[i] = log1p(t[i] + c[i] - 1) for the rows of a block.
struct log1p_k {
  XENTROPY_VM_INLINE static void run(const double* t, const double* c, index_t nb, double* L) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < nb; ++i) L[i] = vm::log1p(t[i] + (c[i] - 1.0));
  }
};

// Writes softmax (Log = false: exp(v) / a) or log-softmax (Log = true:
// v - a), v = (x - m) / T, of rows [r0, r0 + nb), column by column.
template <bool Unit, bool Log>
struct rows_out_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t nrow, index_t ncol,
                                     index_t r0, index_t nb, double T, const double* m,
                                     const double* a, double* out) {
    for (index_t j = 0; j < ncol; ++j) {
      const double* col = x + j * nrow + r0;
      double* o = out + j * nrow + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        if (Log) {
          o[i] = shift_of<Unit>(col[i], m[i], T) - a[i];
        } else {
          o[i] = exp_shift<Unit>(col[i], m[i], T) / a[i];
        }
      }
    }
  }
};

// The same for one contiguous stretch with one m and a.
template <bool Unit, bool Log>
struct stretch_out_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t n, double T, double m,
                                     double a, double* out) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) {
      if (Log) {
        out[i] = shift_of<Unit>(x[i], m, T) - a;
      } else {
        out[i] = exp_shift<Unit>(x[i], m, T) / a;
      }
    }
  }
};

// Whether a stretch with NaNs has an NA among them (scalar; only called when
// NaNs were counted).
inline void missing_kind(const double* x, index_t n, index_t stride, lse_stats& s) {
  for (index_t i = 0; i < n; ++i) {
    const double v = x[i * stride];
    if (std::isnan(v)) {
      if (is_na(v)) s.na = true; else s.nan = true;
    }
  }
}

// Statistics of one contiguous stretch (pass 1 and, given m, pass 2).
inline void scan_max(const double* x, index_t n, const scale& sc, lse_stats& s) {
  double res[2];
  (void)sc;
  vm::dispatch<stretch_max_k>(x, n, res);
  s.m = res[0] > s.m ? res[0] : s.m;
  if (res[1] > 0) missing_kind(x, n, 1, s);
}

inline void scan_sum(const double* x, index_t n, const scale& sc, double m,
                     double& t, double& c) {
  double res[2];
  dispatch_flags<stretch_sum_k>(flags(sc.unit), x, n, sc.temperature, m, res);
  t += res[0];
  c += res[1];
}

// Statistics of every row in [r0, r1) of an nrow x ncol matrix; ex, when not
// null, receives exp((x - m) / T) of those rows (an nrow x ncol matrix that
// does not alias x).
inline void row_stats(const double* x, index_t nrow, index_t ncol, index_t r0,
                      index_t r1, const scale& sc, lse_stats* st, double* ex = nullptr) {
  const index_t nb = r1 - r0;
  double m[row_block], nc[row_block], t[row_block], c[row_block], k[row_block];
  for (index_t i = 0; i < nb; ++i)
    m[i] = neg_inf, nc[i] = 0.0, t[i] = 0.0, c[i] = 0.0, k[i] = 0.0;
  const index_t w = column_range(nb);
  for (index_t j0 = 0; j0 < ncol; j0 += w) {
    const index_t j1 = j0 + w < ncol ? j0 + w : ncol;
    vm::dispatch<rows_max_k>(x, nrow, j0, j1, r0, nb, m, nc);
    if (interrupted((j1 - j0) * nb)) break;
  }
  for (index_t j0 = 0; j0 < ncol; j0 += w) {
    const index_t j1 = j0 + w < ncol ? j0 + w : ncol;
    const double T = sc.temperature;
    dispatch_flags<rows_sum_k>(flags(sc.unit, ex != nullptr), x, nrow, j0, j1, r0, nb, T, m, t,
                               k, c, ex);
    if (interrupted((j1 - j0) * nb)) break;
  }
  for (index_t i = 0; i < nb; ++i) t[i] -= k[i];
  for (index_t i = 0; i < nb; ++i) {
    st[i] = lse_stats();
    st[i].m = m[i];
    st[i].t = t[i];
    st[i].c = c[i];
    if (nc[i] > 0) missing_kind(x + r0 + i, ncol, nrow, st[i]);
  }
}

// Statistics of one column of length n, in fixed chunks added in order.
inline lse_stats column_stats(const double* x, index_t n, const scale& sc,
                              int nthreads) {
  const index_t nchunks = n == 0 ? 0 : (n - 1) / col_chunk + 1;
  lse_stats s;
  if (nchunks <= 1) {
    scan_max(x, n, sc, s);
    if (s.m > -inf()) scan_sum(x, n, sc, s.m, s.t, s.c);
    return s;
  }
  std::vector<lse_stats> part(static_cast<std::size_t>(nchunks));
  const int nt = threads_for(nthreads, n);
  parallel_chunks(n, col_chunk, nt, [&](index_t b, index_t e) {
    scan_max(x + b, e - b, sc, part[static_cast<std::size_t>(b / col_chunk)]);
  });
  for (const lse_stats& p : part) {
    s.na = s.na || p.na;
    s.nan = s.nan || p.nan;
    if (p.m > s.m) s.m = p.m;
  }
  if (s.m == -inf() || interrupted()) return s;
  const double m = s.m;
  parallel_chunks(n, col_chunk, nt, [&](index_t b, index_t e) {
    lse_stats& p = part[static_cast<std::size_t>(b / col_chunk)];
    p.t = 0.0;
    p.c = 0.0;
    scan_sum(x + b, e - b, sc, m, p.t, p.c);
  });
  compensated_sum t;
  for (const lse_stats& p : part) {
    t.add(p.t);
    s.c += p.c;
  }
  s.t = t.value();
  return s;
}

// Runs f(j) for each of ncol columns of length nrow: in parallel over columns
// when they are short, one after another (each parallel inside) when long.
template <class F>
inline void for_columns(index_t nrow, index_t ncol, int nthreads, F f) {
  if (nrow <= col_chunk) {
    parallel_chunks(ncol, 1, threads_for(nthreads, nrow * ncol),
                    [&](index_t j0, index_t j1) {
                      for (index_t j = j0; j < j1; ++j) f(j, 1);
                    }, nrow > 0 ? nrow : 1);
  } else {
    for (index_t j = 0; j < ncol && !interrupted(); ++j) f(j, nthreads);
  }
}

// Writes softmax (log = false) or log-softmax (log = true) of one stretch
// x[0..n) given its statistics; `stride` steps through the stretch.
inline void normalise_stretch(const double* x, double* out, index_t n,
                              index_t stride, const scale& sc,
                              const lse_stats& s, bool log) {
  const kind k = classify(s, false);
  switch (k) {
    case kind::na:
    case kind::nan: {
      const double fill = k == kind::na ? na_real() : nan_real();
      for (index_t i = 0; i < n; ++i) {
        const double v = x[i * stride];
        out[i * stride] = std::isnan(v) ? v : fill;
      }
      return;
    }
    case kind::all_neg_inf:
      for (index_t i = 0; i < n; ++i) out[i * stride] = nan_real();
      return;
    case kind::pos_inf: {
      const double on = log ? -std::log(s.c) : 1.0 / s.c;
      const double off = log ? -inf() : 0.0;
      for (index_t i = 0; i < n; ++i)
        out[i * stride] = x[i * stride] == inf() ? on : off;
      return;
    }
    default: {
      // regular rows of a matrix are written by rows_out_k; this is a column
      const double a = log ? vm::log1p(s.t + (s.c - 1.0)) : s.t + s.c;
      const double T = sc.temperature;
      dispatch_flags<stretch_out_k>(flags(sc.unit, log), x, n, T, s.m, a, out);
      (void)stride;
    }
  }
}

// Softmax (or log-softmax) of rows [r0, r1) given their statistics: one
// vectorised pass for the block, then the rows with special values again.
inline void normalise_rows(const double* x, double* out, index_t nrow,
                           index_t ncol, index_t r0, index_t r1, const scale& sc,
                           const lse_stats* st, bool log) {
  const index_t nb = r1 - r0;
  double m[row_block], a[row_block], t[row_block], c[row_block];
  bool special = false;
  for (index_t i = 0; i < nb; ++i) {
    const bool regular = classify(st[i], false) == kind::regular;
    special = special || !regular;
    // harmless values for special rows, which are rewritten below
    m[i] = regular ? st[i].m : 0.0;
    t[i] = regular ? st[i].t : 0.0;
    c[i] = regular ? st[i].c : 1.0;
  }
  if (log) {
    vm::dispatch<log1p_k>(t, c, nb, a);
  } else {
    for (index_t i = 0; i < nb; ++i) a[i] = t[i] + c[i];
  }
  const double T = sc.temperature;
  const index_t w = column_range(nb);
  for (index_t j0 = 0; j0 < ncol; j0 += w) {
    const index_t nc = j0 + w < ncol ? w : ncol - j0;
    const double* xj = x + j0 * nrow;
    double* oj = out + j0 * nrow;
    dispatch_flags<rows_out_k>(flags(sc.unit, log), xj, nrow, nc, r0, nb, T, m, a, oj);
    if (interrupted(nc * nb)) return;
  }
  if (!special) return;
  for (index_t i = 0; i < nb; ++i)
    if (classify(st[i], false) != kind::regular)
      normalise_stretch(x + r0 + i, out + r0 + i, ncol, nrow, sc, st[i], log);
}

template <class F>
inline void for_row_blocks(index_t nrow, index_t ncol, int nthreads, F f) {
  parallel_chunks(nrow, row_block, threads_for(nthreads, nrow * ncol),
                  [&](index_t r0, index_t r1) {
                    lse_stats st[row_block];
                    f(r0, r1, st);
                  }, row_block * (ncol > 0 ? ncol : 1));
}


// --- Short columns (margin 2 with few rows) --------------------------------
// One column at a time would spend its time in per-column set-up (10 rows:
// 8x the memory floor). Instead the columns are taken in groups of
// short_lanes, the column index as the vector lane: a group is read once
// (strided loads) into a small tile in row-major order, which then gives the
// maxima, exp((x - m) / T) with the sums and counts, and the results, each
// as a vectorised loop over the lanes, row after row. Each column's sum is
// taken in row order, as a single column's would be. A NaN is not tested
// for on its own: unless dropped (na_rm) it makes the column's sum NaN.
// Columns with a NaN or an infinite maximum come out with a non-finite
// log-sum-exp (or a NaN in their softmax) and are done again afterwards
// (scalar).
constexpr index_t short_col = 64;      // columns up to this long take this path
constexpr index_t short_block = 4096;  // elements per block of columns (a task)
constexpr index_t short_lanes = 8;     // columns in a group
constexpr index_t short_sub = 256;     // columns whose log1p are taken together


// Reads the W columns of a group (nrow each, contiguous) into the tile
// X[i * W + l] and returns their maxima m; returns whether every shifted
// score (x - m) / T of the group's regular columns is at least
// vm::exp_normal_min (then exp_normal() gives exp() for all of them).
template <index_t W, bool Unit>
XENTROPY_VM_INLINE bool short_tile(const double* xj, index_t nrow, double T, double* X,
                                   double* m) {
  double lo[W];
  for (index_t l = 0; l < W; ++l) m[l] = neg_inf, lo[l] = inf();
  for (index_t i = 0; i < nrow; ++i) {
    XENTROPY_VM_SIMD
    for (index_t l = 0; l < W; ++l) {
      const double v = xj[l * nrow + i];
      X[i * W + l] = v;
      m[l] = v > m[l] ? v : m[l];
      lo[l] = v < lo[l] ? v : lo[l];
    }
  }
  // a NaN (a column of NaN and -Inf, whose result is set afterwards) is
  // never the minimum
  double worst = inf();
  for (index_t l = 0; l < W; ++l) {
    const double s = shift_of<Unit>(lo[l], m[l], T);
    worst = s < worst ? s : worst;
  }
  return worst >= vm::exp_normal_min;
}

// Sums t of exp((x - m) / T) over the entries below the maximum (and, unless
// NaRm, the NaNs, which make it NaN) and counts c of the entries equal to
// it; Keep: the tile gets exp (Log = false) or the shifted score (Log = true)
// in place.
template <index_t W, bool Unit, bool NaRm, bool Keep, bool Log, bool Normal>
XENTROPY_VM_INLINE void short_sums(double* X, index_t nrow, double T, const double* m,
                                   double* t, double* c) {
  for (index_t l = 0; l < W; ++l) t[l] = 0.0, c[l] = 0.0;
  for (index_t i = 0; i < nrow; ++i) {
    XENTROPY_VM_SIMD
    for (index_t l = 0; l < W; ++l) {
      const double v = X[i * W + l];
      // (the rounding of the shift matters only for softmax's outputs, Keep and not Log;
      // logsumexp's sums are exact enough without it, and smaller code)
      double s = shift_of<Unit>(v, m[l], T);
      const double e = Keep && !Log ? exp_shift<Unit, Normal>(v, m[l], T, s)
                                    : (Normal ? vm::exp_normal(s) : vm::exp(s));
      const bool below = NaRm ? v < m[l] : !(v >= m[l]);
      t[l] += below ? e : 0.0;
      c[l] += v == m[l] ? 1.0 : 0.0;
      if (Keep) X[i * W + l] = Log ? s : e;
    }
  }
}

// Asks for the cache lines of the group short_ahead groups on (measured:
// 12% off a 10 x 1e6 log-sum-exp, whose strided reads the hardware
// prefetcher follows late). A prefetch never faults, so the address may
// lie past the data; it is formed as an integer for that reason.
constexpr index_t short_ahead = 16;
XENTROPY_VM_INLINE void short_prefetch(const double* xj, index_t nrow) {
#if defined(__GNUC__) || defined(__clang__)
  const std::uintptr_t p = reinterpret_cast<std::uintptr_t>(xj) +
                           sizeof(double) * static_cast<std::uintptr_t>(
                                                short_ahead * short_lanes * nrow);
  const std::uintptr_t bytes = sizeof(double) * static_cast<std::uintptr_t>(short_lanes * nrow);
  for (std::uintptr_t b = 0; b < bytes; b += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(p + b));
#else
  (void)xj;
  (void)nrow;
#endif
}

// The maxima, sums and counts of a group.
template <index_t W, bool Unit, bool NaRm, bool Keep, bool Log>
XENTROPY_VM_INLINE void short_group(const double* xj, index_t nrow, double T, double* X,
                                    double* m, double* t, double* c) {
  if (short_tile<W, Unit>(xj, nrow, T, X, m))
    short_sums<W, Unit, NaRm, Keep, Log, true>(X, nrow, T, m, t, c);
  else
    short_sums<W, Unit, NaRm, Keep, Log, false>(X, nrow, T, m, t, c);
}

// Log-sum-exp of the nb columns of a block (contiguous, nrow <= short_col
// each) into out: groups of short_lanes columns (then the rest one at a
// time), their log1p short_sub columns at a time.
template <bool Unit, bool NaRm>
struct short_lse_k {
  XENTROPY_VM_INLINE static void run(const double* xb, index_t nrow, index_t nb,
                                     double T, double* out) {
    constexpr index_t L = short_lanes;
    alignas(64) double X[short_col * L];
    double m[short_sub], t[short_sub], c[short_sub];
    for (index_t j0 = 0; j0 < nb; j0 += short_sub) {
      const index_t ns = nb - j0 < short_sub ? nb - j0 : short_sub;
      const double* xs = xb + j0 * nrow;
      index_t j = 0;
      for (; j + L <= ns; j += L) {
        short_prefetch(xs + j * nrow, nrow);
        short_group<L, Unit, NaRm, false, false>(xs + j * nrow, nrow, T, X, m + j, t + j,
                                                 c + j);
      }
      for (; j < ns; ++j)
        short_group<1, Unit, NaRm, false, false>(xs + j * nrow, nrow, T, X, m + j, t + j,
                                                 c + j);
      double* o = out + j0;
      XENTROPY_VM_SIMD
      for (index_t k = 0; k < ns; ++k)
        o[k] = (Unit ? m[k] : m[k] / T) + vm::log1p(t[k] + (c[k] - 1.0));
    }
  }
};

// Softmax (Log = false) or log-softmax (true) of W columns into o (the same
// layout as xj); *sp counts the columns to do again (a NaN sum or an
// infinite maximum).
template <index_t W, bool Unit, bool Log>
XENTROPY_VM_INLINE void short_softmax_group(const double* xj, index_t nrow, double T,
                                            double* X, double* o, double* sp) {
  double m[W], t[W], c[W], a[W];
  short_group<W, Unit, false, true, Log>(xj, nrow, T, X, m, t, c);
  double s = 0.0;
  XENTROPY_VM_SIMD_REDUCTION(+ : s)
  for (index_t l = 0; l < W; ++l) {
    a[l] = Log ? vm::log1p(t[l] + (c[l] - 1.0)) : t[l] + c[l];
    s += t[l] != t[l] || m[l] == neg_inf || m[l] == inf() ? 1.0 : 0.0;
  }
  *sp += s;
  for (index_t i = 0; i < nrow; ++i) {
    XENTROPY_VM_SIMD
    for (index_t l = 0; l < W; ++l) {
      const double v = X[i * W + l];
      o[l * nrow + i] = Log ? v - a[l] : v / a[l];
    }
  }
}

template <bool Unit, bool Log>
struct short_softmax_k {
  XENTROPY_VM_INLINE static void run(const double* xb, index_t nrow, index_t nb,
                                     double T, double* ob, double* nsp) {
    constexpr index_t L = short_lanes;
    alignas(64) double X[short_col * L];
    double sp = 0.0;
    index_t j = 0;
    for (; j + L <= nb; j += L) {
      short_prefetch(xb + j * nrow, nrow);
      short_softmax_group<L, Unit, Log>(xb + j * nrow, nrow, T, X, ob + j * nrow, &sp);
    }
    for (; j < nb; ++j)
      short_softmax_group<1, Unit, Log>(xb + j * nrow, nrow, T, X, ob + j * nrow, &sp);
    *nsp = sp;
  }
};

// Calls f(j0, j1) for blocks of short columns, in parallel.
template <class F>
inline void for_short_blocks(index_t nrow, index_t ncol, int nthreads, F f,
                             index_t block = short_block) {
  const index_t per = nrow > 0 ? std::max<index_t>(1, block / nrow) : block;
  parallel_chunks(ncol, per, threads_for(nthreads, nrow * ncol), f,
                  per * (nrow > 0 ? nrow : 1));
}

// Whether column x[0..nrow) is one the short kernels leave to the scalar
// path: a NaN, or a maximum of -Inf (all -Inf or NaN) or +Inf.
inline bool short_flagged(const double* x, index_t nrow) {
  double m = neg_inf;
  bool nan = false;
  for (index_t i = 0; i < nrow; ++i) {
    const double v = x[i];
    nan = nan || v != v;
    m = v > m ? v : m;
  }
  return nan || m == neg_inf || m == inf();
}

inline void logsumexp_short(const double* x, index_t nrow, index_t ncol,
                            double* out, bool na_rm, int nthreads, const scale& sc) {
  for_short_blocks(nrow, ncol, nthreads, [&](index_t j0, index_t j1) {
    const double* xb = x + j0 * nrow;
    dispatch_flags<short_lse_k>(flags(sc.unit, na_rm), xb, nrow, j1 - j0,
                                sc.temperature, out + j0);
    // a regular column's result is finite (but for m / T overflowing, which
    // the scalar path gives again)
    for (index_t j = j0; j < j1; ++j) {
      if (std::isfinite(out[j])) continue;
      const lse_stats s = column_stats(x + j * nrow, nrow, sc, 1);
      out[j] = lse_value(s, classify(s, na_rm), sc.temperature);
    }
  });
}

inline void softmax_short(const double* x, index_t nrow, index_t ncol, double* out,
                          bool log, int nthreads, const scale& sc) {
  for_short_blocks(nrow, ncol, nthreads, [&](index_t j0, index_t j1) {
    const double* xb = x + j0 * nrow;
    double* ob = out + j0 * nrow;
    double nsp = 0.0;
    dispatch_flags<short_softmax_k>(flags(sc.unit, log), xb, nrow, j1 - j0,
                                    sc.temperature, ob, &nsp);
    for (index_t j = 0; nsp > 0 && j < j1 - j0; ++j) {
      const double* col = xb + j * nrow;
      if (!short_flagged(col, nrow)) continue;
      nsp -= 1.0;
      const lse_stats s = column_stats(col, nrow, sc, 1);
      normalise_stretch(col, ob + j * nrow, nrow, 1, sc, s, log);
    }
  });
}

// The one choice of kernel by shape, shared by every normaliser below.
// A single row is contiguous, so it is treated as one column. Rows
// (margin 1) go through row blocks; columns of at most `short_col` elements
// (many short columns) through the short-column kernels, which work across
// columns; longer columns one (or, for long ones, several threads) at a time.
enum class layout { rows, short_columns, columns };

inline layout choose_layout(index_t& nrow, index_t& ncol, int& margin) {
  if (margin == 1 && nrow == 1) {
    margin = 2;
    nrow = ncol;
    ncol = 1;
  }
  if (margin == 1) return layout::rows;
  return nrow <= short_col && ncol > 1 ? layout::short_columns : layout::columns;
}

}  // namespace detail

// log-sum-exp of each row (margin = 1) or column (margin = 2) of the
// column-major nrow x ncol matrix x / temperature; out has nrow (or ncol)
// elements. A vector of length n is a matrix with one column, margin = 2.
inline void logsumexp(const double* x, index_t nrow, index_t ncol, int margin,
                      double* out, bool na_rm = false, int nthreads = 1,
                      double temperature = 1.0) {
  const detail::scale sc(temperature);
  const detail::layout L = detail::choose_layout(nrow, ncol, margin);
  if (L == detail::layout::rows) {
    detail::for_row_blocks(nrow, ncol, nthreads,
                           [&](index_t r0, index_t r1, detail::lse_stats* st) {
      detail::row_stats(x, nrow, ncol, r0, r1, sc, st);
      const index_t nb = r1 - r0;
      double t[detail::row_block], c[detail::row_block], L[detail::row_block];
      for (index_t i = 0; i < nb; ++i) t[i] = st[i].t, c[i] = st[i].c;
      vm::dispatch<detail::log1p_k>(t, c, nb, L);
      for (index_t i = 0; i < nb; ++i) {
        const detail::kind k = detail::classify(st[i], na_rm);
        out[r0 + i] = k == detail::kind::regular
                          ? (sc.unit ? st[i].m : st[i].m / temperature) + L[i]
                          : detail::lse_value(st[i], k);
      }
    });
  } else if (L == detail::layout::short_columns) {
    detail::logsumexp_short(x, nrow, ncol, out, na_rm, nthreads, sc);
  } else {
    detail::for_columns(nrow, ncol, nthreads, [&](index_t j, int nt) {
      const detail::lse_stats s = detail::column_stats(x + j * nrow, nrow, sc, nt);
      out[j] = detail::lse_value(s, detail::classify(s, na_rm), temperature);
    });
  }
}

// softmax (log_output = false) or log-softmax (true) over rows (margin = 1)
// or columns (margin = 2) of x / temperature; out has the shape of x and
// may not alias it.
inline void softmax(const double* x, index_t nrow, index_t ncol, int margin,
                    double* out, bool log_output = false, int nthreads = 1,
                    double temperature = 1.0) {
  const detail::scale sc(temperature);
  const detail::layout L = detail::choose_layout(nrow, ncol, margin);
  if (L == detail::layout::rows) {
    detail::for_row_blocks(nrow, ncol, nthreads,
                           [&](index_t r0, index_t r1, detail::lse_stats* st) {
      detail::row_stats(x, nrow, ncol, r0, r1, sc, st);
      detail::normalise_rows(x, out, nrow, ncol, r0, r1, sc, st, log_output);
    });
  } else if (L == detail::layout::short_columns) {
    detail::softmax_short(x, nrow, ncol, out, log_output, nthreads, sc);
  } else {
    detail::for_columns(nrow, ncol, nthreads, [&](index_t j, int nt) {
      const detail::lse_stats s = detail::column_stats(x + j * nrow, nrow, sc, nt);
      // the output of a long column in chunks over the threads too (each
      // element depends only on the column's statistics)
      parallel_chunks(nrow, detail::col_chunk, threads_for(nt, nrow),
                      [&](index_t b, index_t e) {
        detail::normalise_stretch(x + j * nrow + b, out + j * nrow + b, e - b, 1, sc, s,
                                  log_output);
      });
    });
  }
}

inline void log_softmax(const double* x, index_t nrow, index_t ncol, int margin,
                        double* out, int nthreads = 1, double temperature = 1.0) {
  softmax(x, nrow, ncol, margin, out, true, nthreads, temperature);
}

}  // namespace xentropy

#endif  // XENTROPY_NORMALISE_HPP
