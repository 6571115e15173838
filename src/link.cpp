// Rcpp glue for xentropy/link.hpp. `x` is a double vector, matrix or array
// (checked and coerced in R); the result keeps its attributes, like exp().
#include "glue.h"
#include "interrupt.h"

namespace {
using kernel = void (*)(const double*, double*, xentropy::index_t, int);

// The result is a plain protected R vector (Rcpp's bookkeeping would cost
// as much as the kernel on a number); an interrupt unwinds through Rcpp or
// the fast path's guard, and R's jump resets the protect stack.
SEXP elementwise(kernel f, SEXP x, int nthreads) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
  SHALLOW_DUPLICATE_ATTRIB(out, x);
  glue::interruptible([&] { f(REAL(x), REAL(out), XLENGTH(x), nthreads); });
  UNPROTECT(1);
  return out;
}
}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP sigmoid_impl(SEXP x, int nthreads) {
  return elementwise(static_cast<kernel>(xentropy::sigmoid), x, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP logit_impl(SEXP p, int nthreads) {
  return elementwise(static_cast<kernel>(xentropy::logit), p, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP log_sigmoid_impl(SEXP x, int nthreads) {
  return elementwise(static_cast<kernel>(xentropy::log_sigmoid), x, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP softplus_impl(SEXP x, int nthreads) {
  return elementwise(static_cast<kernel>(xentropy::softplus), x, nthreads);
}
