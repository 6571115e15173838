// xentropy/weighted.hpp -- the weighted log-sum-exp of the rows or columns of
// a column-major matrix:
//
//   logsumexp_weighted(x, w) = log(sum_k w_k exp(x_k)),   w_k >= 0
//
// (a mixture's log density, or a log-sum-exp with multiplicities). It runs
// on normalise.hpp's row blocks, column chunks and short-column layout, with
// the same numerical trick (the largest term factored out, the rest summed
// compensated and added through log1p) and the same determinism: partial
// sums are added in a fixed order, whatever the thread count.
#ifndef XENTROPY_WEIGHTED_HPP
#define XENTROPY_WEIGHTED_HPP

#include <vector>

#include "normalise.hpp"

namespace xentropy {

namespace detail {

// --- Weighted log-sum-exp: log sum_k b_k exp(x_k), b_k >= 0 ---------------
// Entries with b_k = 0 are left out (whatever x_k is, as SciPy's `b`); with
// m the largest x_k among the others, t = sum over x_k < m of
// b_k exp(x_k - m) (compensated) and c = sum of b_k over x_k = m,
// the value is m + log(t + c), taken as log1p(t + (c - 1)) when t + c is in
// [1/2, 2]. The weight of element (i, j) (row i, column j) is
// w[j * wsj + i * wsi].

// Pass 1 over rows [r0, r0 + nb), columns [j0, j1): maxima and missing counts.
template <bool WRow>
struct wrows_max_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* w, index_t nrow,
                                     index_t wsj, index_t j0, index_t j1, index_t r0,
                                     index_t nb, double* m, double* nc) {
    for (index_t j = j0; j < j1; ++j) {
      const double* col = x + j * nrow + r0;
      const double* wc = w + j * wsj + (WRow ? r0 : 0);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i], b = wc[WRow ? i : 0];
        const bool on = b > 0.0;
        nc[i] += (b != b || (v != v && b != 0.0)) ? 1.0 : 0.0;
        m[i] = on && v > m[i] ? v : m[i];
      }
    }
  }
};

template <bool WRow>
struct wrows_sum_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* w, index_t nrow,
                                     index_t wsj, index_t j0, index_t j1, index_t r0,
                                     index_t nb, const double* m, double* t, double* k,
                                     double* c) {
    for (index_t j = j0; j < j1; ++j) {
      const double* col = x + j * nrow + r0;
      const double* wc = w + j * wsj + (WRow ? r0 : 0);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i], b = wc[WRow ? i : 0];
        const bool on = b > 0.0;
        const double e = b * exp_shift<true>(v, m[i], 1.0);
        const double y = (on && v < m[i] ? e : 0.0) - k[i];
        const double s = t[i] + y;
        k[i] = (s - t[i]) - y;
        t[i] = s;
        c[i] += on && v == m[i] ? b : 0.0;
      }
    }
  }
};

// log(t + c) as above.
inline double weighted_log(double t, double c) {
  const double s = t + c;
  return s >= 0.5 && s <= 2.0 ? std::log1p(t + (c - 1.0)) : std::log(s);
}

// Whether the missing entries of a weighted stretch are NA or NaN (scalar).
inline void weighted_missing(const double* x, const double* w, index_t n,
                             index_t xs, index_t ws, lse_stats& s) {
  for (index_t i = 0; i < n; ++i) {
    const double v = x[i * xs], b = w[i * ws];
    if (std::isnan(b)) {
      if (is_na(b)) s.na = true; else s.nan = true;
    } else if (std::isnan(v) && b != 0.0) {
      if (is_na(v)) s.na = true; else s.nan = true;
    }
  }
}

inline double weighted_value(const lse_stats& s, bool na_rm) {
  const kind k = classify(s, na_rm);
  if (k != kind::regular) return lse_value(s, k);
  return s.m + weighted_log(s.t, s.c);
}

// One contiguous stretch (a column): pass 1 and pass 2 as one-row "blocks"
// would be slow, so the column kernels take the weights with stride 1.
struct wstretch_max_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* w, index_t n,
                                     double* res) {
    // `lanes` partial maxima and counts (a conditional max reduction does
    // not vectorise as such); the maximum and the count do not depend on
    // the order
    double m[lanes], nc[lanes];
    for (int l = 0; l < lanes; ++l) m[l] = neg_inf, nc[l] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int l = 0; l < lanes; ++l) {
        const double v = x[i + l], b = w[i + l];
        nc[l] += (b != b || (v != v && b != 0.0)) ? 1.0 : 0.0;
        m[l] = b > 0.0 && v > m[l] ? v : m[l];
      }
    }
    for (; i < n; ++i) {
      const double v = x[i], b = w[i];
      nc[0] += (b != b || (v != v && b != 0.0)) ? 1.0 : 0.0;
      m[0] = b > 0.0 && v > m[0] ? v : m[0];
    }
    res[0] = neg_inf;
    res[1] = 0.0;
    for (int l = 0; l < lanes; ++l) {
      res[0] = m[l] > res[0] ? m[l] : res[0];
      res[1] += nc[l];
    }
  }
};

struct wstretch_sum_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* w, index_t n,
                                     double m, double* res) {
    double t[lanes], k[lanes], c[lanes];
    for (int l = 0; l < lanes; ++l) t[l] = 0.0, k[l] = 0.0, c[l] = 0.0;
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (int l = 0; l < lanes; ++l) {
        const double v = x[i + l], b = w[i + l];
        const bool on = b > 0.0;
        const double e = b * exp_shift<true>(v, m, 1.0);
        const double y = (on && v < m ? e : 0.0) - k[l];
        const double s = t[l] + y;
        k[l] = (s - t[l]) - y;
        t[l] = s;
        c[l] += on && v == m ? b : 0.0;
      }
    }
    for (; i < n; ++i) {
      const double v = x[i], b = w[i];
      const bool on = b > 0.0;
      const double e = b * exp_shift<true>(v, m, 1.0);
      const double y = (on && v < m ? e : 0.0) - k[0];
      const double s = t[0] + y;
      k[0] = (s - t[0]) - y;
      t[0] = s;
      c[0] += on && v == m ? b : 0.0;
    }
    compensated_sum ts, cs;
    for (int l = 0; l < lanes; ++l) {
      ts.add(t[l]);
      ts.add(-k[l]);
      cs.add(c[l]);
    }
    res[0] = ts.value();
    res[1] = cs.value();
  }
};


// --- Weighted log-sum-exp of short columns (margin 2, few rows) -----------
// As logsumexp_short: blocks of whole columns, contiguous; the maxima (of the
// entries with weight > 0) column by column with 16 columns in registers,
// then b exp(x - m) and the weights at the maximum over the whole block in
// one vectorised loop, then their sums column by column. `wb` holds the
// weights laid out as the block (the weight matrix itself, or one weight per
// row repeated for every column).

struct wshort_max_k {
  XENTROPY_VM_INLINE static void run(const double* xb, const double* wb, index_t nrow,
                                     index_t nb, double* m, double* nc) {
    constexpr index_t L = 16;
    index_t j0 = 0;
    for (; j0 + L <= nb; j0 += L) {
      double mm[L], cc[L];
      for (index_t l = 0; l < L; ++l) mm[l] = neg_inf, cc[l] = 0.0;
      const double* xj = xb + j0 * nrow;
      const double* wj = wb + j0 * nrow;
      for (index_t i = 0; i < nrow; ++i) {
        XENTROPY_VM_SIMD
        for (index_t l = 0; l < L; ++l) {
          const double v = xj[l * nrow + i], b = wj[l * nrow + i];
          cc[l] += (b != b || (v != v && b != 0.0)) ? 1.0 : 0.0;
          mm[l] = b > 0.0 && v > mm[l] ? v : mm[l];
        }
      }
      for (index_t l = 0; l < L; ++l) m[j0 + l] = mm[l], nc[j0 + l] = cc[l];
    }
    for (index_t j = j0; j < nb; ++j) {
      double mx = neg_inf, cn = 0.0;
      for (index_t i = 0; i < nrow; ++i) {
        const double v = xb[j * nrow + i], b = wb[j * nrow + i];
        cn += (b != b || (v != v && b != 0.0)) ? 1.0 : 0.0;
        mx = b > 0.0 && v > mx ? v : mx;
      }
      m[j] = mx;
      nc[j] = cn;
    }
  }
};

// tmp[e] = b exp(x - m) over entries below the maximum, cb[e] = b at it.
struct wblock_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* w, const double* mm,
                                     index_t n, double* tmp, double* cb) {
    XENTROPY_VM_SIMD
    for (index_t e = 0; e < n; ++e) {
      const double v = x[e], b = w[e], m = mm[e];
      const bool on = b > 0.0;
      const double t = b * exp_shift<true>(v, m, 1.0);
      tmp[e] = on && v < m ? t : 0.0;
      cb[e] = on && v == m ? b : 0.0;
    }
  }
};

// Column sums of tmp and cb (16 columns in registers).
struct wshort_sum_k {
  XENTROPY_VM_INLINE static void run(const double* tmp, const double* cb, index_t nrow,
                                     index_t nb, double* t, double* c) {
    constexpr index_t L = 16;
    index_t j0 = 0;
    for (; j0 + L <= nb; j0 += L) {
      double tt[L], cc[L];
      for (index_t l = 0; l < L; ++l) tt[l] = 0.0, cc[l] = 0.0;
      const double* ej = tmp + j0 * nrow;
      const double* bj = cb + j0 * nrow;
      for (index_t i = 0; i < nrow; ++i) {
        XENTROPY_VM_SIMD
        for (index_t l = 0; l < L; ++l) {
          tt[l] += ej[l * nrow + i];
          cc[l] += bj[l * nrow + i];
        }
      }
      for (index_t l = 0; l < L; ++l) t[j0 + l] = tt[l], c[j0 + l] = cc[l];
    }
    for (index_t j = j0; j < nb; ++j) {
      double ts = 0.0, cs = 0.0;
      for (index_t i = 0; i < nrow; ++i) ts += tmp[j * nrow + i], cs += cb[j * nrow + i];
      t[j] = ts;
      c[j] = cs;
    }
  }
};

// L[i] = log(t[i] + c[i]) as weighted_log(), vectorised.
struct wlog_k {
  XENTROPY_VM_INLINE static void run(const double* t, const double* c, index_t n,
                                     double* L) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) {
      const double s = t[i] + c[i];
      const double a = vm::log1p(t[i] + (c[i] - 1.0));
      const double b = vm::log(s);
      L[i] = s >= 0.5 && s <= 2.0 ? a : b;
    }
  }
};

// Weighted log-sum-exp of each of ncol short columns; the weight of element
// (i, j) is w[j * wsj + i] (wsj = nrow: a weight matrix; 0: one per row).
inline void logsumexp_weighted_short(const double* x, const double* w, index_t wsj,
                                     index_t nrow, index_t ncol, double* out, bool na_rm,
                                     int nthreads) {
  // smaller blocks than the unweighted path's: five arrays of the block's
  // size are swept together
  constexpr index_t wblock = 1024;
  const index_t per = std::max<index_t>(1, wblock / nrow);
  // one weight per row, repeated for every column of a block
  std::vector<double> rep;
  if (wsj == 0) {
    rep.resize(static_cast<std::size_t>(per * nrow));
    for (index_t e = 0; e < per * nrow; ++e) rep[static_cast<std::size_t>(e)] = w[e % nrow];
  }
  for_short_blocks(nrow, ncol, nthreads, [&](index_t j0, index_t j1) {
    const index_t nb = j1 - j0, n = nb * nrow;
    // heap, not stack: worker threads may have small stacks (uninitialised:
    // every element is written before it is read)
    std::unique_ptr<double[]> buf(new double[3 * static_cast<std::size_t>(per * nrow) +
                                             5 * static_cast<std::size_t>(per)]);
    double* mm = buf.get();
    double* tmp = mm + per * nrow;
    double* cb = tmp + per * nrow;
    double* m = cb + per * nrow;
    double* nc = m + per;
    double* t = nc + per;
    double* c = t + per;
    double* L = c + per;
    const double* xb = x + j0 * nrow;
    const double* wb = wsj == 0 ? rep.data() : w + j0 * wsj;
    vm::dispatch<wshort_max_k>(xb, wb, nrow, nb, m, nc);
    for (index_t j = 0; j < nb; ++j) {
      const double fill = m[j] > neg_inf && m[j] < inf() ? m[j] : 0.0;
      double* mj = mm + j * nrow;
      for (index_t i = 0; i < nrow; ++i) mj[i] = fill;
    }
    vm::dispatch<wblock_k>(xb, wb, mm, n, tmp, cb);
    vm::dispatch<wshort_sum_k>(tmp, cb, nrow, nb, t, c);
    vm::dispatch<wlog_k>(t, c, nb, L);
    for (index_t j = 0; j < nb; ++j) {
      lse_stats s;
      s.t = t[j];
      s.c = c[j];
      // (a column whose largest positive-weight entry is +Inf has no finite shift: its
      // sums are empty and it is +Inf)
      s.m = m[j] == inf() || c[j] > 0.0 || t[j] > 0.0 ? m[j] : neg_inf;
      if (nc[j] > 0) weighted_missing(xb + j * nrow, wb + j * nrow, nrow, 1, 1, s);
      const kind k = classify(s, na_rm);
      out[j0 + j] = k == kind::regular ? s.m + L[j] : lse_value(s, k);
    }
  }, wblock);
}

}  // namespace detail

// Weighted log-sum-exp, log sum_k w_k exp(x_k), of each row (margin 1) or
// column (margin 2) of the nrow x ncol matrix x, weights w_k >= 0 (NA and NaN
// weights are missing values; the caller checks the rest). The weight of
// element (i, j) is w[j * wsj + i * wsi]: a matrix of x's shape has
// wsj = nrow, wsi = 1; one weight per class shared by every row has
// (margin 1) wsj = 1, wsi = 0, or (margin 2) wsj = 0, wsi = 1.
inline void logsumexp_weighted(const double* x, const double* w, index_t wsj,
                               index_t wsi, index_t nrow, index_t ncol, int margin,
                               double* out, bool na_rm = false, int nthreads = 1) {
  // one row becomes a contiguous column: element j of the row has weight
  // w[j] whether w is a matrix or one weight per class
  if (margin == 1 && nrow == 1) wsj = 0;
  const detail::layout L = detail::choose_layout(nrow, ncol, margin);
  if (L == detail::layout::rows) {
    detail::for_row_blocks(nrow, ncol, nthreads,
                           [&](index_t r0, index_t r1, detail::lse_stats* st) {
      const index_t nb = r1 - r0;
      double m[detail::row_block], nc[detail::row_block], t[detail::row_block],
          c[detail::row_block], k[detail::row_block];
      for (index_t i = 0; i < nb; ++i)
        m[i] = detail::neg_inf, nc[i] = 0.0, t[i] = 0.0, c[i] = 0.0, k[i] = 0.0;
      const index_t wr = detail::column_range(nb);
      for (index_t j0 = 0; j0 < ncol; j0 += wr) {
        const index_t j1 = j0 + wr < ncol ? j0 + wr : ncol;
        dispatch_flags<detail::wrows_max_k>(flags(wsi), x, w, nrow, wsj, j0, j1, r0, nb, m, nc);
        if (interrupted((j1 - j0) * nb)) return;
      }
      for (index_t i = 0; i < nb; ++i) m[i] = m[i] == detail::neg_inf ? 0.0 : m[i];
      for (index_t j0 = 0; j0 < ncol; j0 += wr) {
        const index_t j1 = j0 + wr < ncol ? j0 + wr : ncol;
        dispatch_flags<detail::wrows_sum_k>(flags(wsi), x, w, nrow, wsj, j0, j1, r0, nb, m, t, k, c);
        if (interrupted((j1 - j0) * nb)) return;
      }
      for (index_t i = 0; i < nb; ++i) t[i] -= k[i];
      double L[detail::row_block];
      vm::dispatch<detail::wlog_k>(t, c, nb, L);
      for (index_t i = 0; i < nb; ++i) {
        detail::lse_stats& s = st[i];
        s = detail::lse_stats();
        s.t = t[i];
        s.c = c[i];
        s.m = c[i] > 0.0 || t[i] > 0.0 ? m[i] : detail::neg_inf;
        // a row whose maximum is +Inf: c counts its weight, t gets NaN
        if (nc[i] > 0)
          detail::weighted_missing(x + r0 + i, w + (wsi ? r0 + i : 0), ncol, nrow, wsj, s);
        const detail::kind kd = detail::classify(s, na_rm);
        out[r0 + i] = kd == detail::kind::regular ? s.m + L[i] : detail::lse_value(s, kd);
      }
    });
  } else if (L == detail::layout::short_columns && nrow > 0 && wsi == 1) {
    detail::logsumexp_weighted_short(x, w, wsj, nrow, ncol, out, na_rm, nthreads);
  } else {
    detail::for_columns(nrow, ncol, nthreads, [&](index_t j, int nt) {
      const double* xj = x + j * nrow;
      const double* wj = w + j * wsj;
      detail::lse_stats s;
      const index_t nchunks = nrow == 0 ? 0 : (nrow - 1) / detail::col_chunk + 1;
      std::vector<detail::lse_stats> part(static_cast<std::size_t>(nchunks));
      const int ntc = threads_for(nt, nrow);
      parallel_chunks(nrow, detail::col_chunk, ntc, [&](index_t b, index_t e) {
        double res[2];
        vm::dispatch<detail::wstretch_max_k>(xj + b, wj + b, e - b, res);
        detail::lse_stats& p = part[static_cast<std::size_t>(b / detail::col_chunk)];
        p.m = res[0];
        if (res[1] > 0) detail::weighted_missing(xj + b, wj + b, e - b, 1, 1, p);
      });
      for (const detail::lse_stats& p : part) {
        s.na = s.na || p.na;
        s.nan = s.nan || p.nan;
        if (p.m > s.m) s.m = p.m;
      }
      if (s.m > detail::neg_inf && s.m < inf() && !interrupted()) {
        const double m = s.m;
        parallel_chunks(nrow, detail::col_chunk, ntc, [&](index_t b, index_t e) {
          double res[2];
          vm::dispatch<detail::wstretch_sum_k>(xj + b, wj + b, e - b, m, res);
          detail::lse_stats& p = part[static_cast<std::size_t>(b / detail::col_chunk)];
          p.t = res[0];
          p.c = res[1];
        });
        compensated_sum ts, cs;
        for (const detail::lse_stats& p : part) ts.add(p.t), cs.add(p.c);
        s.t = ts.value();
        s.c = cs.value();
      }
      out[j] = detail::weighted_value(s, na_rm);
    });
  }
}

}  // namespace xentropy

#endif  // XENTROPY_WEIGHTED_HPP
