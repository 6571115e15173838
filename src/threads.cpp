// Rcpp glue: threads (how many processors OpenMP can use, 1 without it) and
// the instruction-set path of the vectorised kernels.
#include "glue.h"

// [[Rcpp::export(rng = false)]]
int available_threads_impl() { return xentropy::available_threads(); }

// [[Rcpp::export(rng = false)]]
bool openmp_impl() { return xentropy::has_openmp(); }

// The instruction-set path of the vectorised kernels: caps it at `limit`
// (0 baseline, 1 AVX2, 2 AVX-512; -1 leaves it) and returns the path in use
// and the best one this CPU supports, as c(current, detected).
// [[Rcpp::export(rng = false)]]
Rcpp::IntegerVector simd_path_impl(int limit) {
  if (limit >= 0) xentropy::vm::set_isa_limit(static_cast<xentropy::vm::isa>(limit));
  return Rcpp::IntegerVector::create(static_cast<int>(xentropy::vm::current_isa()),
                                     static_cast<int>(xentropy::vm::detected_isa()));
}
