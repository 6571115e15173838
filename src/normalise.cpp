// Rcpp glue for xentropy/normalise.hpp. `x` is a double vector or matrix
// (checked and coerced in R); margin is 1 or 2; a vector is one column.
#include "glue.h"

// [[Rcpp::export(rng = false)]]
SEXP logsumexp_impl(SEXP x, int margin, bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  Rcpp::NumericVector out(Rcpp::no_init(margin == 1 ? s.nrow : s.ncol));
  xentropy::logsumexp(REAL(x), s.nrow, s.ncol, margin, REAL(out), na_rm,
                      nthreads);
  return out;
}

// [[Rcpp::export(rng = false)]]
SEXP softmax_impl(SEXP x, int margin, double temperature, bool log_output,
                  int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  Rcpp::NumericVector out = glue::alloc_like(x);
  xentropy::softmax(REAL(x), s.nrow, s.ncol, margin, REAL(out), log_output,
                    nthreads, temperature);
  return out;
}
