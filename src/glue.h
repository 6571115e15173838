// Helpers shared by the Rcpp glue: shapes of R objects and result allocation.
// Only the glue (main thread) calls R's API; the kernels never do.
#ifndef XENTROPY_GLUE_H
#define XENTROPY_GLUE_H

#include <string>
#include <vector>

#include <Rcpp.h>
#include <xentropy.h>

namespace glue {

// The thread count for a kernel call: the option `xentropy.threads` (or the
// default), capped by the processors and OMP_THREAD_LIMIT (src/threads.cpp).
int thread_count();

// A matrix is nrow x ncol; a vector (or 1-d array) of length n is treated as
// an n x 1 matrix: one column, one distribution.
struct shape {
  xentropy::index_t nrow, ncol;
  bool matrix;
};

inline shape shape_of(SEXP x) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (!Rf_isNull(dim) && XLENGTH(dim) == 2) {
    const int* d = INTEGER(dim);
    return shape{d[0], d[1], true};
  }
  return shape{static_cast<xentropy::index_t>(XLENGTH(x)), 1, false};
}

// A double vector with the length and attributes of x (dim, dimnames, names).
inline Rcpp::NumericVector alloc_like(SEXP x) {
  Rcpp::NumericVector out(Rcpp::no_init(XLENGTH(x)));
  SHALLOW_DUPLICATE_ATTRIB(out, x);
  return out;
}

// The kernels' report of the first invalid input value, attached to the
// result as attribute "xentropy_invalid" = c(0-based position, operand) only
// when there is one, so that a valid result reaches R without a wrapper (and
// can be named in place).
inline SEXP flag_invalid(SEXP value, const xentropy::first_invalid& bad) {
  if (bad.where() >= 0) {
    Rcpp::NumericVector info = Rcpp::NumericVector::create(
        static_cast<double>(bad.where()), static_cast<double>(bad.which()));
    Rf_setAttrib(value, Rf_install("xentropy_invalid"), info);
  }
  return value;
}

// Binary targets read in place: doubles, or integer / logical codes minus
// `offset` (1 for the codes of a two-level factor).
// Labels (integer codes or doubles) or an n x K target matrix (doubles).
inline xentropy::categorical_targets categorical_targets(SEXP y, xentropy::index_t n) {
  xentropy::categorical_targets t;
  if (Rf_isMatrix(y)) {
    t.matrix = xentropy::view{REAL(y), 1, n};
  } else if (TYPEOF(y) == INTSXP) {
    t.labels.i = INTEGER(y);
  } else {
    t.labels.d = REAL(y);
  }
  return t;
}

inline xentropy::binary_targets binary_targets(SEXP y, int offset) {
  xentropy::binary_targets t;
  if (TYPEOF(y) == REALSXP) t.d = REAL(y);
  else t.i = TYPEOF(y) == LGLSXP ? LOGICAL(y) : INTEGER(y);
  t.offset = offset;
  return t;
}

// Whether x is an ALTREP vector without a data pointer (a compact sequence
// such as 1:n): REAL() or INTEGER() would expand it into memory.
inline bool compact(SEXP x) { return ALTREP(x) && DATAPTR_OR_NULL(x) == nullptr; }

// Reads x[c0, c0 + len) of a compact vector into buf (as doubles or ints).
inline void read_region(SEXP x, xentropy::index_t c0, xentropy::index_t len,
                        std::vector<double>& dbuf, std::vector<int>& ibuf) {
  if (TYPEOF(x) == REALSXP) REAL_GET_REGION(x, c0, len, dbuf.data());
  else if (TYPEOF(x) == LGLSXP) LOGICAL_GET_REGION(x, c0, len, ibuf.data());
  else INTEGER_GET_REGION(x, c0, len, ibuf.data());
}

// Chunk of a compact vector read at a time: a whole number of blocks, so the
// kernels see the same blocks as with the vector in memory.
constexpr xentropy::index_t region_chunk = 16 * xentropy::blocks::elementwise;

// A binary loss with targets y: in place, or, for a compact y, chunk by chunk
// (stopping at the first invalid value, which R reports).
template <class P>
inline double binary_loss(const P& pol, SEXP y, int offset, const double* pred,
                          xentropy::index_t pstride, xentropy::index_t n,
                          const xentropy::loss_options& opt, double* out,
                          xentropy::first_invalid& bad) {
  if (!compact(y))
    return xentropy::binary_loss(pol, binary_targets(y, offset), pred, pstride, n, opt,
                                 out, bad);
  const xentropy::index_t len0 = n < region_chunk ? n : region_chunk;
  std::vector<double> dbuf(TYPEOF(y) == REALSXP ? len0 : 0);
  std::vector<int> ibuf(TYPEOF(y) == REALSXP ? 0 : len0);
  xentropy::accumulator total;
  for (xentropy::index_t c0 = 0; c0 < n && bad.where() < 0; c0 += region_chunk) {
    const xentropy::index_t len = n - c0 < region_chunk ? n - c0 : region_chunk;
    read_region(y, c0, len, dbuf, ibuf);
    xentropy::binary_targets t;
    if (TYPEOF(y) == REALSXP) t.d = dbuf.data(); else t.i = ibuf.data();
    t.offset = offset;
    xentropy::loss_options o = opt;
    if (opt.weights) o.weights = opt.weights + c0;
    total.merge(xentropy::binary_loss_total(pol, t, pred + c0 * pstride, pstride, len, o,
                                            out ? out + c0 : nullptr, bad, c0));
  }
  return xentropy::detail::reduced_value(total, opt);
}

}  // namespace glue

#endif  // XENTROPY_GLUE_H
