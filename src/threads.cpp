// Rcpp glue: how many processors OpenMP can use (1 when built without it).
#include "glue.h"

// [[Rcpp::export(rng = false)]]
int available_threads_impl() { return xentropy::available_threads(); }

// [[Rcpp::export(rng = false)]]
bool openmp_impl() { return xentropy::has_openmp(); }
