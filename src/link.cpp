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

// [[Rcpp::export(rng = false)]]
SEXP log1mexp_impl(SEXP x, int nthreads) {
  Rcpp::NumericVector out = glue::alloc_like(x);
  glue::interruptible([&] { xentropy::log1mexp(REAL(x), REAL(out), XLENGTH(x), nthreads); });
  return out;
}

// Recycled like base R arithmetic; the result takes the attributes of the
// longer operand (of `a` when the lengths are equal and it has any).
// [[Rcpp::export(rng = false)]]
SEXP logdiffexp_impl(SEXP a, SEXP b, int nthreads) {
  const R_xlen_t na = XLENGTH(a), nb = XLENGTH(b);
  const R_xlen_t n = na == 0 || nb == 0 ? 0 : (na > nb ? na : nb);
  SEXP like = na > nb ? a : nb > na ? b
              : (ATTRIB(a) != R_NilValue || ATTRIB(b) == R_NilValue ? a : b);
  Rcpp::NumericVector out(Rcpp::no_init(n));
  if (XLENGTH(like) == n) SHALLOW_DUPLICATE_ATTRIB(out, like);
  glue::interruptible([&] {
    xentropy::logdiffexp(REAL(a), na, REAL(b), nb, REAL(out), n, nthreads);
  });
  return out;
}
