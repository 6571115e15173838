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

}  // namespace glue

#endif  // XENTROPY_GLUE_H
