// Rcpp glue for xentropy/calibration.hpp. Arguments are checked and shaped in
// R (R/calibration.R, with R/targets.R); the kernels report invalid values
// through glue::flag_invalid() (elements) and the attribute
// "xentropy_bad_sum" (the 0-based row whose probabilities do not sum to 1).
#include "glue.h"

#include <xentropy/calibration.hpp>

namespace {

namespace cal = xentropy::calibration;

// Predictions: an n x K matrix, or (binary) a vector of P(class 2).
cal::predictions predictions_of(SEXP prob, bool binary) {
  cal::predictions P;
  P.p = REAL(prob);
  if (binary) {
    P.n = XLENGTH(prob);
    P.K = 2;
    P.binary = true;
  } else {
    const glue::shape s = glue::shape_of(prob);
    P.n = s.nrow;
    P.K = s.ncol;
  }
  return P;
}

// Targets: binary (0/1, logical, probabilities, factor codes minus offset)
// with binary predictions; otherwise labels (integer or double) or an n x K
// double matrix.
cal::targets targets_of(SEXP y, int offset, bool binary, xentropy::index_t n) {
  cal::targets t;
  if (binary) {
    t.binary = true;
    t.bin = glue::binary_targets(y, offset);
  } else {
    const xentropy::categorical_targets c = glue::categorical_targets(y, n);
    t.labels = c.labels;
    t.matrix = c.matrix;
  }
  return t;
}

SEXP flag_report(SEXP value, const cal::report& rep) {
  Rcpp::RObject out(value);
  glue::flag_invalid(out, rep.values);
  const xentropy::invalid_at row = rep.sums.get();
  if (row.found()) out.attr("xentropy_bad_sum") = static_cast<double>(row.position);
  return out;
}

// Invalid input ends a fit after its first pass (R reports it): the pass
// is marked missing, which the fits treat as "stop".
cal::scaling_sums stop_if_invalid(cal::scaling_sums s, const cal::report& rep) {
  if (rep.values.get().found()) s.miss |= xentropy::missing::nan;
  return s;
}

// The per-bin sums of calibration_bins() for R's arguments.
cal::bin_sums bin_sums_of(SEXP y, int offset, SEXP prob, bool binary, int bins,
                          bool classwise, bool equal_mass, SEXP weights, bool na_rm,
                          int nthreads, cal::report& rep) {
  const cal::predictions P = predictions_of(prob, binary);
  const cal::targets t = targets_of(y, offset, binary, P.n);
  cal::binning opt;
  opt.bins = bins;
  opt.classwise = classwise;
  opt.equal_mass = equal_mass;
  opt.na_rm = na_rm;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.nthreads = nthreads;
  return cal::calibration_bins(t, P, opt, rep);
}

}  // namespace

// Per-bin sums and the three calibration errors.
// [[Rcpp::export(rng = false)]]
SEXP calibration_bins_impl(SEXP y, int offset, SEXP prob, bool binary, int bins,
                           bool classwise, bool equal_mass, SEXP weights,
                           bool na_rm, int nthreads) {
  cal::report rep;
  const cal::bin_sums s = bin_sums_of(y, offset, prob, binary, bins, classwise,
                                      equal_mass, weights, na_rm, nthreads, rep);
  const R_xlen_t cells = s.classes * s.bins;
  Rcpp::NumericMatrix sums(cells, 5);
  for (R_xlen_t j = 0; j < cells; ++j)
    for (int c = 0; c < 5; ++c) sums(j, c) = s.sums[static_cast<std::size_t>(j * 5 + c)];
  Rcpp::NumericVector errors = Rcpp::NumericVector::create(
      cal::calibration_error(s, cal::norm::l1), cal::calibration_error(s, cal::norm::l2),
      cal::calibration_error(s, cal::norm::max));
  Rcpp::List out = Rcpp::List::create(
      Rcpp::Named("sums") = sums,
      Rcpp::Named("lower") = Rcpp::NumericVector(s.lower.begin(), s.lower.end()),
      Rcpp::Named("upper") = Rcpp::NumericVector(s.upper.begin(), s.upper.end()),
      Rcpp::Named("classes") = static_cast<double>(s.classes),
      Rcpp::Named("missing") = s.miss != xentropy::missing::none,
      Rcpp::Named("errors") = errors);
  return flag_report(out, rep);
}

// One calibration error (norm 0 L1, 1 L2, 2 max) for the fast path of
// calibration_error() (src/fast.cpp), without the per-bin table; `flagged`
// says that an invalid value or a row not summing to 1 was found, for R to
// report.
double calibration_error_value(SEXP y, int offset, SEXP prob, bool binary, int bins,
                               bool classwise, bool equal_mass, int norm, SEXP weights,
                               bool na_rm, int nthreads, bool& flagged) {
  cal::report rep;
  const cal::bin_sums s = bin_sums_of(y, offset, prob, binary, bins, classwise,
                                      equal_mass, weights, na_rm, nthreads, rep);
  flagged = rep.values.get().found() || rep.sums.get().found();
  return cal::calibration_error(s, static_cast<cal::norm>(norm));
}

// [[Rcpp::export(rng = false)]]
SEXP brier_score_impl(SEXP y, int offset, SEXP prob, bool binary, SEXP weights,
                      std::string reduction, bool na_rm, int nthreads) {
  const cal::predictions P = predictions_of(prob, binary);
  const cal::targets t = targets_of(y, offset, binary, P.n);
  xentropy::loss_options opt;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.red = glue::reduction_of(reduction);
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  Rcpp::NumericVector none;
  double* out = nullptr;
  if (opt.red == xentropy::reduction::none) {
    none = Rcpp::NumericVector(Rcpp::no_init(P.n));
    out = REAL(none);
  }
  cal::report rep;
  const double value = cal::brier_score(t, P, opt, out, rep);
  if (opt.red == xentropy::reduction::none) return flag_report(none, rep);
  return flag_report(Rcpp::NumericVector::create(value), rep);
}

// [[Rcpp::export(rng = false)]]
SEXP top_k_accuracy_impl(SEXP y, SEXP scores, double k, SEXP weights,
                         bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(scores);
  xentropy::class_labels lab;
  if (TYPEOF(y) == INTSXP) lab.i = INTEGER(y);
  else lab.d = REAL(y);
  xentropy::loss_options opt;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  xentropy::first_invalid bad;
  const double value = xentropy::calibration::top_k_accuracy(
      lab, REAL(scores), s.nrow, s.ncol, static_cast<xentropy::index_t>(k), opt, bad);
  return glue::flag_invalid(Rcpp::NumericVector::create(value), bad);
}

// Top-label calibration errors (L1, L2, max; equal-width bins) of the
// probabilities formed from the logits: softmax(logits / T) of a matrix
// (hard: T = 0), or sigmoid(a z + b) of a vector (hard: the limit of a ->
// Inf with b = 0), without forming them.
// [[Rcpp::export(rng = false)]]
SEXP logit_calibration_error_impl(SEXP y, int offset, SEXP logits, bool binary,
                                  double T, double a, double b, bool hard, int bins,
                                  SEXP weights, bool na_rm, int nthreads) {
  cal::logit_scale sc;
  sc.T = T;
  sc.a = a;
  sc.b = b;
  sc.hard = hard;
  cal::binning opt;
  opt.bins = bins;
  opt.na_rm = na_rm;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.nthreads = nthreads;
  const glue::shape sh = glue::shape_of(logits);
  const xentropy::index_t n = binary ? XLENGTH(logits) : sh.nrow;
  const cal::targets t = targets_of(y, offset, binary, n);
  cal::report rep;
  const cal::bin_sums s =
      cal::logit_bins(t, REAL(logits), n, binary ? 1 : sh.ncol, sc, opt, rep);
  Rcpp::NumericVector errors = Rcpp::NumericVector::create(
      cal::calibration_error(s, cal::norm::l1), cal::calibration_error(s, cal::norm::l2),
      cal::calibration_error(s, cal::norm::max));
  return flag_report(errors, rep);
}

// One pass of the scaling loss at beta (temperature; binary: a = beta, b) or
// (platt) at (a, b): c(total weight, loss, d/da, d/db, d2/da2, d2/dadb,
// d2/db2), sums over observations (not means); NA / NaN when missing.
// [[Rcpp::export(rng = false)]]
SEXP scaling_pass_impl(SEXP y, int offset, SEXP logits, bool binary, bool platt,
                       double a, double b, SEXP weights, bool na_rm, int nthreads) {
  const double* w = Rf_isNull(weights) ? nullptr : REAL(weights);
  cal::report rep;
  cal::scaling_sums s;
  if (binary) {
    const cal::targets t = targets_of(y, offset, true, XLENGTH(logits));
    s = cal::binary_scaling_pass(t.bin, REAL(logits), XLENGTH(logits), a, b, platt, w,
                                 na_rm, nthreads, rep);
  } else {
    const glue::shape sh = glue::shape_of(logits);
    const cal::targets t = targets_of(y, offset, false, sh.nrow);
    s = cal::temperature_pass(t, REAL(logits), sh.nrow, sh.ncol, a, w, na_rm, nthreads, rep);
  }
  Rcpp::NumericVector out = Rcpp::NumericVector::create(s.w, s.loss, s.g[0], s.g[1],
                                                        s.h[0], s.h[1], s.h[2]);
  if (s.any_missing())
    for (R_xlen_t j = 0; j < out.size(); ++j) out[j] = xentropy::missing_value(s.miss);
  return flag_report(out, rep);
}

// Fits beta = 1 / T (platt = false) or Platt's (a, b).
// [[Rcpp::export(rng = false)]]
SEXP scaling_fit_impl(SEXP y, int offset, SEXP logits, bool binary, bool platt,
                      SEXP weights, bool na_rm, int nthreads) {
  const double* w = Rf_isNull(weights) ? nullptr : REAL(weights);
  cal::report rep;
  cal::scaling_fit fit;
  if (binary) {
    const xentropy::index_t n = XLENGTH(logits);
    const cal::targets t = targets_of(y, offset, true, n);
    const double* z = REAL(logits);
    if (platt) {
      fit = cal::fit_platt([&](double a, double b) {
        return stop_if_invalid(cal::binary_scaling_pass(t.bin, z, n, a, b, true, w, na_rm,
                                                        nthreads, rep), rep);
      });
    } else {
      fit = cal::fit_temperature([&](double beta) {
        return stop_if_invalid(cal::binary_scaling_pass(t.bin, z, n, beta, 0.0, false, w,
                                                        na_rm, nthreads, rep), rep);
      });
    }
  } else {
    const glue::shape sh = glue::shape_of(logits);
    const cal::targets t = targets_of(y, offset, false, sh.nrow);
    const double* z = REAL(logits);
    fit = cal::fit_temperature([&](double beta) {
      return stop_if_invalid(
          cal::temperature_pass(t, z, sh.nrow, sh.ncol, beta, w, na_rm, nthreads, rep), rep);
    });
  }
  Rcpp::List out = Rcpp::List::create(
      Rcpp::Named("par") = Rcpp::NumericVector::create(fit.par[0], fit.par[1]),
      Rcpp::Named("loss") = fit.loss,
      Rcpp::Named("gradient") = Rcpp::NumericVector::create(fit.grad[0], fit.grad[1]),
      Rcpp::Named("loss0") = fit.loss0,
      Rcpp::Named("passes") = fit.passes,
      Rcpp::Named("iterations") = fit.iterations,
      Rcpp::Named("status") = fit.status,
      Rcpp::Named("na") = fit.na);
  return flag_report(out, rep);
}
