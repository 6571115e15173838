// Rcpp glue for xentropy/normalise.hpp. `x` is a double vector or matrix
// (checked and coerced in R); margin is 1 or 2; a vector is one column.
#include "glue.h"
#include "interrupt.h"

namespace {
// The kernels ask R about Ctrl-C through this hook (installed when the
// package's shared library is loaded).
const bool hook_installed =
    (xentropy::set_interrupt_hook(&glue::r_interrupt_requested), true);
}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP logsumexp_impl(SEXP x, int margin, bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  Rcpp::NumericVector out(Rcpp::no_init(margin == 1 ? s.nrow : s.ncol));
  glue::interruptible([&] {
    xentropy::logsumexp(REAL(x), s.nrow, s.ncol, margin, REAL(out), na_rm,
                        nthreads);
  });
  return out;
}

// [[Rcpp::export(rng = false)]]
SEXP softmax_impl(SEXP x, int margin, double temperature, bool log_output,
                  int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  Rcpp::NumericVector out = glue::alloc_like(x);
  glue::interruptible([&] {
    xentropy::softmax(REAL(x), s.nrow, s.ncol, margin, REAL(out), log_output,
                      nthreads, temperature);
  });
  return out;
}

namespace {
int polls_left = 0;
int polls_made = 0;
bool stop_after_polls() {
  ++polls_made;
  return --polls_left <= 0;
}
}  // namespace

// For the tests: logsumexp(x) (or of each row, margin 1) with a hook that
// asks to stop at its `polls`-th call instead of asking R, then R's hook
// back. Returns the number of polls made (if the kernel finished) or
// raises R's interrupt (if the hook fired).
// [[Rcpp::export(rng = false)]]
int interrupt_test_impl(SEXP x, int margin, int polls, int nthreads) {
  polls_left = polls;
  polls_made = 0;
  struct restore {
    xentropy::interrupt_hook_fn old;
    ~restore() { xentropy::set_interrupt_hook(old); }
  } r{xentropy::set_interrupt_hook(&stop_after_polls)};
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  std::vector<double> out(static_cast<std::size_t>(margin == 1 ? s.nrow : s.ncol));
  glue::interruptible([&] {
    xentropy::logsumexp(REAL(x), s.nrow, s.ncol, margin, out.data(), false,
                        nthreads);
  });
  return polls_made;
}

// Weighted log-sum-exp: `weights` has the shape of x (per_class = false) or
// one weight per class, i.e. per column for margin 1 and per row for margin 2
// (per_class = true); checked in R.
// [[Rcpp::export(rng = false)]]
SEXP logsumexp_weighted_impl(SEXP x, SEXP weights, bool per_class, int margin,
                             bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  xentropy::index_t wsj, wsi;
  if (!per_class) {
    wsj = s.nrow;
    wsi = 1;
  } else if (margin == 1) {
    wsj = 1;
    wsi = 0;
  } else {
    wsj = 0;
    wsi = 1;
  }
  Rcpp::NumericVector out(Rcpp::no_init(margin == 1 ? s.nrow : s.ncol));
  glue::interruptible([&] {
    xentropy::logsumexp_weighted(REAL(x), REAL(weights), wsj, wsi, s.nrow, s.ncol,
                                 margin, REAL(out), na_rm, nthreads);
  });
  return out;
}
