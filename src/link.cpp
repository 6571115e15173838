// Rcpp glue for xentropy/link.hpp. `x` is a double vector, matrix or array
// (checked and coerced in R); the result keeps its attributes, like exp().
#include "glue.h"
#include "interrupt.h"

namespace {
using kernel = void (*)(const double*, double*, xentropy::index_t, int);

SEXP elementwise(kernel f, SEXP x, int nthreads) {
  Rcpp::NumericVector out = glue::alloc_like(x);
  glue::interruptible([&] { f(REAL(x), REAL(out), XLENGTH(x), nthreads); });
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
