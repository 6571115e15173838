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
    default: return s.m + std::log1p(s.t + (s.c - 1.0));
  }
}

// Pass 1 over one contiguous stretch: maximum and missing-value flags.
inline void scan_max(const double* x, index_t n, const scale& sc, lse_stats& s) {
  for (index_t i = 0; i < n; ++i) {
    const double v = sc(x[i]);
    if (std::isnan(v)) {
      if (is_na(x[i])) s.na = true; else s.nan = true;
    } else if (v > s.m) {
      s.m = v;
    }
  }
}

// Pass 2 over one contiguous stretch, given the maximum m > -Inf. When m is
// +Inf, this counts the +Inf entries (exp(v - Inf) adds 0 for the others).
inline void scan_sum(const double* x, index_t n, const scale& sc, double m,
                     double& t, double& c) {
  for (index_t i = 0; i < n; ++i) {
    const double v = sc(x[i]);
    if (v == m) c += 1.0;
    else if (v < m) t += std::exp(v - m);  // NaN compares false: skipped
  }
}

// Statistics of every row in [r0, r1) of an nrow x ncol matrix.
inline void row_stats(const double* x, index_t nrow, index_t ncol, index_t r0,
                      index_t r1, const scale& sc, lse_stats* st) {
  const index_t nb = r1 - r0;
  for (index_t i = 0; i < nb; ++i) st[i] = lse_stats();
  for (index_t j = 0; j < ncol; ++j) {
    const double* col = x + j * nrow + r0;
    for (index_t i = 0; i < nb; ++i) {
      const double v = sc(col[i]);
      if (std::isnan(v)) {
        if (is_na(col[i])) st[i].na = true; else st[i].nan = true;
      } else if (v > st[i].m) {
        st[i].m = v;
      }
    }
  }
  for (index_t j = 0; j < ncol; ++j) {
    const double* col = x + j * nrow + r0;
    for (index_t i = 0; i < nb; ++i) {
      const double m = st[i].m;
      if (m == -inf()) continue;  // +Inf still counts its entries in c
      const double v = sc(col[i]);
      if (v == m) st[i].c += 1.0;
      else if (v < m) st[i].t += std::exp(v - m);
    }
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
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (index_t j = 0; j < ncol; ++j) f(j, 1);
    (void)nt;
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
      if (log) {
        const double shift = std::log1p(s.t + (s.c - 1.0));
        for (index_t i = 0; i < n; ++i)
          out[i * stride] = (sc(x[i * stride]) - s.m) - shift;
      } else {
        const double total = s.t + s.c;
        for (index_t i = 0; i < n; ++i)
          out[i * stride] = std::exp(sc(x[i * stride]) - s.m) / total;
      }
    }
  }
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
      for (index_t i = 0; i < r1 - r0; ++i)
        out[r0 + i] = detail::lse_value(st[i], detail::classify(st[i], na_rm));
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
      for (index_t i = 0; i < r1 - r0; ++i)
        detail::normalise_stretch(x + r0 + i, out + r0 + i, ncol, nrow, sc,
                                  st[i], log_output);
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
