// Rcpp glue for xentropy/information.hpp. Shapes are checked in R, which
// passes the layout: nobs, nclass, p's and q's strides (per observation, per
// class) and whether the classes of an observation are contiguous.
#include "glue.h"
#include "interrupt.h"

namespace {
xentropy::view view_of(SEXP x, const Rcpp::NumericVector& layout, int at) {
  if (Rf_isNull(x)) return xentropy::view{nullptr, 0, 0};
  return xentropy::view{REAL(x), static_cast<xentropy::index_t>(layout[at]),
                        static_cast<xentropy::index_t>(layout[at + 1])};
}
}  // namespace

// measure: 0 entropy, 1 cross-entropy, 2 KL divergence, 3 multinomial terms
// (full), 4 multinomial terms (without the coefficient).
// [[Rcpp::export(rng = false)]]
SEXP information_impl(int measure, SEXP p, SEXP q,
                            Rcpp::NumericVector layout, double log_base,
                            bool na_rm, int nthreads) {
  const auto nobs = static_cast<xentropy::index_t>(layout[0]);
  const auto nclass = static_cast<xentropy::index_t>(layout[1]);
  const bool contiguous = layout[6] != 0;
  const xentropy::view pv = view_of(p, layout, 2), qv = view_of(q, layout, 4);
  Rcpp::NumericVector out(Rcpp::no_init(nobs));
  xentropy::first_invalid bad;
  glue::interruptible([&] {
    switch (measure) {
      case 0:
        xentropy::entropy(pv, nobs, nclass, contiguous, REAL(out), log_base, na_rm,
                          nthreads, bad);
        break;
      case 1:
        xentropy::cross_entropy(pv, qv, nobs, nclass, contiguous, REAL(out),
                                log_base, na_rm, nthreads, bad);
        break;
      case 2:
        xentropy::kl_divergence(pv, qv, nobs, nclass, contiguous, REAL(out),
                                log_base, na_rm, nthreads, bad);
        break;
      default:
        // one thread: lgamma() writes the global signgam in glibc
        xentropy::multinomial_terms(pv, qv, nobs, nclass, contiguous,
                                    measure == 3, REAL(out), 1, bad);
    }
  });
  if (measure >= 3 && bad.where() < 0) {
    // (one pass over counts and prob, no vectors of length nobs in R)
    // rescale prob to sum to 1 (as dmultinom) and add log N!, in place:
    // out - N log(total) (+ lgamma(N + 1)), with N and total summed in long
    // double as rowSums() and sum() do, so the result is the R expression's
    bool zero_total = false;
    double* o = REAL(out);
    for (xentropy::index_t i = 0; i < nobs; ++i) {
      long double n = 0, t = 0;
      for (xentropy::index_t k = 0; k < nclass; ++k) {
        n += pv(i, k);
        t += qv(i, k);
      }
      const double N = static_cast<double>(n), total = static_cast<double>(t);
      if (total == 0) zero_total = true;
      o[i] = o[i] - N * std::log(total);
      if (measure == 3) o[i] = o[i] + R::lgammafn(N + 1);  // R's lgamma()
    }
    if (zero_total) Rf_setAttrib(out, Rf_install("xentropy_zero_total"), Rf_ScalarLogical(TRUE));
  }
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
