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
  return glue::flag_invalid(out, bad);
}
