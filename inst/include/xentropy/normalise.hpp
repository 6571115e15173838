// xentropy/normalise.hpp -- log-sum-exp, softmax and log-softmax over the rows
// or the columns of a column-major matrix (a vector is one column).
//
//   logsumexp(x)    = log(sum_k exp(x_k))
//   softmax(x)_k    = exp(x_k) / sum_j exp(x_j)         (PRML eq. 4.62-4.63)
//   log_softmax(x)_k = x_k - logsumexp(x)
// each applied to x / T for a temperature T > 0.
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
#include <vector>

#include "common.hpp"
#include "vmath.hpp"

namespace xentropy {

namespace detail {

constexpr index_t row_block = 256;     // rows swept together (margin = 1)
constexpr index_t col_chunk = 4096;    // elements per chunk of a column (margin = 2)

// Summary of one row or one column (or one chunk of a column).
struct lse_stats {
  double m = -inf();  // maximum of the non-missing entries
  double t = 0.0;     // sum of exp(x - m) over entries below m
  double c = 0.0;     // number of entries equal to m
  bool na = false;    // an NA was seen
  bool nan = false;   // a NaN that is not NA was seen
};

// Scaled input: x / T, or x itself when T is 1 (skips a division per element).
struct scale {
  double temperature;
  bool unit;
  explicit scale(double T) : temperature(T), unit(T == 1.0) {}
  double operator()(double x) const { return unit ? x : x / temperature; }
};

// The row or column outcome once the maximum and flags are known.
enum class kind { regular, na, nan, all_neg_inf, pos_inf };

inline kind classify(const lse_stats& s, bool na_rm) {
  if (!na_rm && s.na) return kind::na;
  if (!na_rm && s.nan) return kind::nan;
  if (s.m == -inf()) return kind::all_neg_inf;
  if (s.m == inf()) return kind::pos_inf;
  return kind::regular;
}

inline double lse_value(const lse_stats& s, kind k) {
  switch (k) {
    case kind::na: return na_real();
    case kind::nan: return nan_real();
    case kind::all_neg_inf: return -inf();
    case kind::pos_inf: return inf();
    default: return s.m + vm::log1p(s.t + (s.c - 1.0));
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

// Pass 1 over one contiguous stretch: res = {maximum, number of NaNs}.
template <bool Unit>
struct stretch_max_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t n, double T, double* res) {
    double m[lanes], nc[lanes];
    for (int l = 0; l < lanes; ++l) m[l] = neg_inf, nc[l] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int l = 0; l < lanes; ++l) {
        const double v = Unit ? x[i + l] : x[i + l] / T;
        nc[l] += v != v ? 1.0 : 0.0;
        m[l] = v > m[l] ? v : m[l];
      }
    }
    for (; i < n; ++i) {
      const double v = Unit ? x[i] : x[i] / T;
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

// Pass 2 over one contiguous stretch, given its maximum m > -Inf:
// res = {sum of exp(v - m) over v < m, number of v == m}. When m is +Inf this
// counts the +Inf entries (exp(v - Inf) adds 0 for the others).
template <bool Unit>
struct stretch_sum_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t n, double T, double m,
                                     double* res) {
    double t[lanes], c[lanes];
    for (int l = 0; l < lanes; ++l) t[l] = 0.0, c[l] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int l = 0; l < lanes; ++l) {
        const double v = Unit ? x[i + l] : x[i + l] / T;
        const double e = vm::exp(v - m);
        t[l] += v < m ? e : 0.0;
        c[l] += v == m ? 1.0 : 0.0;
      }
    }
    for (; i < n; ++i) {
      const double v = Unit ? x[i] : x[i] / T;
      const double e = vm::exp(v - m);
      t[0] += v < m ? e : 0.0;
      c[0] += v == m ? 1.0 : 0.0;
    }
    res[0] = 0.0;
    res[1] = 0.0;
    for (int l = 0; l < lanes; ++l) res[0] += t[l], res[1] += c[l];
  }
};

// Both passes over rows [r0, r0 + nb) of an nrow x ncol matrix, sweeping the
// columns with the rows of the block in the inner (vectorised) loop.
template <bool Unit>
struct rows_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t nrow, index_t ncol,
                                     index_t r0, index_t nb, double T, double* m,
                                     double* nc, double* t, double* c) {
    for (index_t i = 0; i < nb; ++i) m[i] = neg_inf, nc[i] = 0.0, t[i] = 0.0, c[i] = 0.0;
    for (index_t j = 0; j < ncol; ++j) {
      const double* col = x + j * nrow + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = Unit ? col[i] : col[i] / T;
        nc[i] += v != v ? 1.0 : 0.0;
        m[i] = v > m[i] ? v : m[i];
      }
    }
    for (index_t j = 0; j < ncol; ++j) {
      const double* col = x + j * nrow + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = Unit ? col[i] : col[i] / T;
        const double e = vm::exp(v - m[i]);
        t[i] += v < m[i] ? e : 0.0;
        c[i] += v == m[i] ? 1.0 : 0.0;
      }
    }
  }
};

// L[i] = log1p(t[i] + c[i] - 1) for the rows of a block.
struct log1p_k {
  XENTROPY_VM_INLINE static void run(const double* t, const double* c, index_t nb, double* L) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < nb; ++i) L[i] = vm::log1p(t[i] + (c[i] - 1.0));
  }
};

// Writes softmax (Log = false: exp(v - m) / a) or log-softmax (Log = true:
// (v - m) - a) of rows [r0, r0 + nb), column by column.
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
        const double v = Unit ? col[i] : col[i] / T;
        o[i] = Log ? (v - m[i]) - a[i] : vm::exp(v - m[i]) / a[i];
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
      const double v = Unit ? x[i] : x[i] / T;
      out[i] = Log ? (v - m) - a : vm::exp(v - m) / a;
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
  if (sc.unit) vm::dispatch<stretch_max_k<true>>(x, n, sc.temperature, res);
  else vm::dispatch<stretch_max_k<false>>(x, n, sc.temperature, res);
  s.m = res[0] > s.m ? res[0] : s.m;
  if (res[1] > 0) missing_kind(x, n, 1, s);
}

inline void scan_sum(const double* x, index_t n, const scale& sc, double m,
                     double& t, double& c) {
  double res[2];
  if (sc.unit) vm::dispatch<stretch_sum_k<true>>(x, n, sc.temperature, m, res);
  else vm::dispatch<stretch_sum_k<false>>(x, n, sc.temperature, m, res);
  t += res[0];
  c += res[1];
}

// Statistics of every row in [r0, r1) of an nrow x ncol matrix.
inline void row_stats(const double* x, index_t nrow, index_t ncol, index_t r0,
                      index_t r1, const scale& sc, lse_stats* st) {
  const index_t nb = r1 - r0;
  double m[row_block], nc[row_block], t[row_block], c[row_block];
  if (sc.unit) vm::dispatch<rows_k<true>>(x, nrow, ncol, r0, nb, sc.temperature, m, nc, t, c);
  else vm::dispatch<rows_k<false>>(x, nrow, ncol, r0, nb, sc.temperature, m, nc, t, c);
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
  if (s.m == -inf()) return s;
  const double m = s.m;
  parallel_chunks(n, col_chunk, nt, [&](index_t b, index_t e) {
    lse_stats& p = part[static_cast<std::size_t>(b / col_chunk)];
    p.t = 0.0;
    p.c = 0.0;
    scan_sum(x + b, e - b, sc, m, p.t, p.c);
  });
  for (const lse_stats& p : part) {
    s.t += p.t;
    s.c += p.c;
  }
  return s;
}

// Runs f(j) for each of ncol columns of length nrow: in parallel over columns
// when they are short, one after another (each parallel inside) when long.
template <class F>
inline void for_columns(index_t nrow, index_t ncol, int nthreads, F f) {
  if (nrow <= col_chunk) {
    const int nt = threads_for(nthreads, nrow * ncol);
    if (nt <= 1) {  // no parallel region for one thread (see parallel_chunks)
      for (index_t j = 0; j < ncol; ++j) f(j, 1);
      return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (index_t j = 0; j < ncol; ++j) f(j, 1);
  } else {
    for (index_t j = 0; j < ncol; ++j) f(j, nthreads);
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
        out[i * stride] = sc(x[i * stride]) == inf() ? on : off;
      return;
    }
    default: {
      // regular rows of a matrix are written by rows_out_k; this is a column
      const double a = log ? vm::log1p(s.t + (s.c - 1.0)) : s.t + s.c;
      const double T = sc.temperature;
      if (log) {
        if (sc.unit) vm::dispatch<stretch_out_k<true, true>>(x, n, T, s.m, a, out);
        else vm::dispatch<stretch_out_k<false, true>>(x, n, T, s.m, a, out);
      } else {
        if (sc.unit) vm::dispatch<stretch_out_k<true, false>>(x, n, T, s.m, a, out);
        else vm::dispatch<stretch_out_k<false, false>>(x, n, T, s.m, a, out);
      }
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
  if (log) {
    if (sc.unit) vm::dispatch<rows_out_k<true, true>>(x, nrow, ncol, r0, nb, T, m, a, out);
    else vm::dispatch<rows_out_k<false, true>>(x, nrow, ncol, r0, nb, T, m, a, out);
  } else {
    if (sc.unit) vm::dispatch<rows_out_k<true, false>>(x, nrow, ncol, r0, nb, T, m, a, out);
    else vm::dispatch<rows_out_k<false, false>>(x, nrow, ncol, r0, nb, T, m, a, out);
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
                  });
}

}  // namespace detail

// log-sum-exp of each row (margin = 1) or column (margin = 2) of the
// column-major nrow x ncol matrix x / temperature; out has nrow (or ncol)
// elements. A vector of length n is a matrix with one column, margin = 2.
inline void logsumexp(const double* x, index_t nrow, index_t ncol, int margin,
                      double* out, bool na_rm = false, int nthreads = 1,
                      double temperature = 1.0) {
  const detail::scale sc(temperature);
  if (margin == 1) {
    detail::for_row_blocks(nrow, ncol, nthreads,
                           [&](index_t r0, index_t r1, detail::lse_stats* st) {
      detail::row_stats(x, nrow, ncol, r0, r1, sc, st);
      const index_t nb = r1 - r0;
      double t[detail::row_block], c[detail::row_block], L[detail::row_block];
      for (index_t i = 0; i < nb; ++i) t[i] = st[i].t, c[i] = st[i].c;
      vm::dispatch<detail::log1p_k>(t, c, nb, L);
      for (index_t i = 0; i < nb; ++i) {
        const detail::kind k = detail::classify(st[i], na_rm);
        out[r0 + i] = k == detail::kind::regular ? st[i].m + L[i]
                                                 : detail::lse_value(st[i], k);
      }
    });
  } else {
    detail::for_columns(nrow, ncol, nthreads, [&](index_t j, int nt) {
      const detail::lse_stats s = detail::column_stats(x + j * nrow, nrow, sc, nt);
      out[j] = detail::lse_value(s, detail::classify(s, na_rm));
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
  if (margin == 1) {
    detail::for_row_blocks(nrow, ncol, nthreads,
                           [&](index_t r0, index_t r1, detail::lse_stats* st) {
      detail::row_stats(x, nrow, ncol, r0, r1, sc, st);
      detail::normalise_rows(x, out, nrow, ncol, r0, r1, sc, st, log_output);
    });
  } else {
    detail::for_columns(nrow, ncol, nthreads, [&](index_t j, int nt) {
      const detail::lse_stats s = detail::column_stats(x + j * nrow, nrow, sc, nt);
      detail::normalise_stretch(x + j * nrow, out + j * nrow, nrow, 1, sc, s,
                                log_output);
    });
  }
}

inline void log_softmax(const double* x, index_t nrow, index_t ncol, int margin,
                        double* out, int nthreads = 1, double temperature = 1.0) {
  softmax(x, nrow, ncol, margin, out, true, nthreads, temperature);
}

}  // namespace xentropy

#endif  // XENTROPY_NORMALISE_HPP
