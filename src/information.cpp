// Rcpp glue for xentropy/information.hpp: one function per R function.
// Shapes are checked in R (measure_layout() in R/information.R), which passes
// the layout: nobs, nclass, p's and q's strides (per observation, per class)
// and whether the classes of an observation are contiguous.
#include "glue.h"
#include "interrupt.h"

extern "C" SEXP xentropy_thread_count();

namespace {

// The thread count the R wrappers would pass (option xentropy.threads), for
// glue functions whose R signature has none.
int current_threads() { return INTEGER(xentropy_thread_count())[0]; }

xentropy::view view_of(SEXP x, const Rcpp::NumericVector& layout, int at) {
  if (Rf_isNull(x)) return xentropy::view{nullptr, 0, 0};
  return xentropy::view{REAL(x), static_cast<xentropy::index_t>(layout[at]),
                        static_cast<xentropy::index_t>(layout[at + 1])};
}

xentropy::measure_shape shape_of(const Rcpp::NumericVector& layout) {
  xentropy::measure_shape s;
  s.nobs = static_cast<xentropy::index_t>(layout[0]);
  s.nclass = static_cast<xentropy::index_t>(layout[1]);
  s.contiguous = layout[6] != 0;
  return s;
}

// Runs measure(p, q, shape, out, options, bad) with Ctrl-C polling and
// returns one value per distribution, invalid input flagged for R.
template <class Measure>
SEXP run_measure(Measure measure, SEXP p, SEXP q, const Rcpp::NumericVector& layout,
                 double log_base, bool na_rm, int nthreads) {
  const xentropy::measure_shape s = shape_of(layout);
  xentropy::measure_options opt;
  opt.log_base = log_base;
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  const xentropy::view pv = view_of(p, layout, 2), qv = view_of(q, layout, 4);
  Rcpp::NumericVector out(Rcpp::no_init(s.nobs));
  xentropy::first_invalid bad;
  glue::interruptible([&] { measure(pv, qv, s, REAL(out), opt, bad); });
  return glue::flag_invalid(out, bad);
}

}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP entropy_impl(SEXP p, SEXP q, Rcpp::NumericVector layout, double log_base,
                  bool na_rm, int nthreads) {
  return run_measure(
      [](xentropy::view pv, xentropy::view, const xentropy::measure_shape& s, double* out,
         const xentropy::measure_options& opt, xentropy::first_invalid& bad) {
        xentropy::entropy(pv, s, out, opt, bad);
      },
      p, q, layout, log_base, na_rm, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP cross_entropy_impl(SEXP p, SEXP q, Rcpp::NumericVector layout, double log_base,
                        bool na_rm, int nthreads) {
  return run_measure(
      [](xentropy::view pv, xentropy::view qv, const xentropy::measure_shape& s,
         double* out, const xentropy::measure_options& opt, xentropy::first_invalid& bad) {
        xentropy::cross_entropy(pv, qv, s, out, opt, bad);
      },
      p, q, layout, log_base, na_rm, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP kl_divergence_impl(SEXP p, SEXP q, Rcpp::NumericVector layout, double log_base,
                        bool na_rm, int nthreads) {
  return run_measure(
      [](xentropy::view pv, xentropy::view qv, const xentropy::measure_shape& s,
         double* out, const xentropy::measure_options& opt, xentropy::first_invalid& bad) {
        xentropy::kl_divergence(pv, qv, s, out, opt, bad);
      },
      p, q, layout, log_base, na_rm, nthreads);
}

// The multinomial log-likelihood of each row of counts under prob
// (loglik_multinomial(); full adds the multinomial coefficient).
// [[Rcpp::export(rng = false)]]
SEXP multinomial_impl(SEXP counts, SEXP prob, Rcpp::NumericVector layout, bool full) {
  const xentropy::measure_shape s = shape_of(layout);
  const xentropy::view pv = view_of(counts, layout, 2), qv = view_of(prob, layout, 4);
  Rcpp::NumericVector out(Rcpp::no_init(s.nobs));
  xentropy::first_invalid bad;
  bool zero_total = false;
  // one pass: the terms, prob rescaled to sum to 1 (as dmultinom) and log N!
  // (thread-safe: no lgamma())
  const int nthreads = current_threads();
  glue::interruptible([&] {
    xentropy::multinomial_loglik(pv, qv, s, full, REAL(out), nthreads, bad, zero_total);
  });
  if (bad.where() < 0 && zero_total)
    Rf_setAttrib(out, Rf_install("xentropy_zero_total"), Rf_ScalarLogical(TRUE));
  return glue::flag_invalid(out, bad);
}

// Counts of the class labels y (doubles or integers, NA skipped) for
// mle_categorical(), in one pass without copying y: a vector of
// max(label) counts, with attribute "n_na" (the number of NAs) and, when a
// value is not a label 1, 2, ..., "xentropy_invalid" (its 1-based position;
// the counts are then incomplete).
// [[Rcpp::export(rng = false)]]
SEXP label_counts_impl(SEXP y) {
  const R_xlen_t n = XLENGTH(y);
  std::vector<double> counts;
  double n_na = 0;
  R_xlen_t bad = -1;
  if (TYPEOF(y) == REALSXP) {
    const double* v = REAL(y);
    for (R_xlen_t i = 0; i < n; ++i) {
      const double x = v[i];
      if (std::isnan(x)) { ++n_na; continue; }
      if (!(x >= 1 && x <= INT_MAX && x == std::trunc(x))) { bad = i; break; }
      const auto k = static_cast<std::size_t>(x);
      if (k > counts.size()) counts.resize(k, 0.0);
      counts[k - 1] += 1;
    }
  } else {
    const int* v = INTEGER(y);
    for (R_xlen_t i = 0; i < n; ++i) {
      const int x = v[i];
      if (x == NA_INTEGER) { ++n_na; continue; }
      if (x < 1) { bad = i; break; }
      const auto k = static_cast<std::size_t>(x);
      if (k > counts.size()) counts.resize(k, 0.0);
      counts[k - 1] += 1;
    }
  }
  Rcpp::NumericVector out(counts.begin(), counts.end());
  out.attr("n_na") = n_na;
  if (bad >= 0) out.attr("xentropy_invalid") = static_cast<double>(bad + 1);
  return out;
}
