// Helpers shared by the Rcpp glue: shapes of R objects and result allocation.
// Only the glue (main thread) calls R's API; the kernels never do.
#ifndef XENTROPY_GLUE_H
#define XENTROPY_GLUE_H

#include <Rcpp.h>
#include <xentropy.h>

namespace glue {

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

}  // namespace glue

#endif  // XENTROPY_GLUE_H
