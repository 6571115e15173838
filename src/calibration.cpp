// Rcpp glue for xentropy/calibration.hpp, and the entries of brier_score(),
// calibration_error() and top_k_accuracy() (see src/entry.h). The kernels
// report invalid values through glue::flag_invalid() (elements) and the
// attribute "xentropy_bad_sum" (the 0-based row whose probabilities do not
// sum to 1); an entry returns such a result as list(result) for R to report
// (R/calibration.R). The entries of reliability_table() and
// temperature_scaling() answer with a named list of what the kernels found,
// which R turns into the table or the fitted object. scaling_pass_impl(),
// still exported, is for the tests (arguments R has checked and shaped).
#include "entry.h"

#include <climits>

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
namespace {
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
}  // namespace

// Top-label calibration errors (L1, L2, max; equal-width bins) of the
// probabilities formed from the logits: softmax(logits / T) of a matrix
// (hard: T = 0), or sigmoid(a z + b) of a vector (hard: the limit of a ->
// Inf with b = 0), without forming them.
namespace {
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
}  // namespace

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
namespace {
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
      fit = cal::fit_platt([&](double a, double b, double c) {
        return stop_if_invalid(cal::binary_scaling_pass(t.bin, z, n, a, b, true, w, na_rm,
                                                        nthreads, rep, c), rep);
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
}  // namespace

namespace {

using namespace entry;

bool reported(SEXP out) {
  static SEXP bad_sum = sym("xentropy_bad_sum");
  return flagged(out) || Rf_getAttrib(out, bad_sum) != R_NilValue;
}

SEXP brier_score_impl(SEXP y, int offset, SEXP prob, bool binary, SEXP weights,
                      xentropy::reduction reduction, bool na_rm, int nthreads) {
  const cal::predictions P = predictions_of(prob, binary);
  const cal::targets t = targets_of(y, offset, binary, P.n);
  xentropy::loss_options opt;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.red = reduction;
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

// Predictions and targets as calibration_inputs() takes them: a vector of
// P(class 2) with 0/1, logical or probability targets of its length or a
// two-level factor, or an n x K matrix with labels (a factor whose levels
// are the columns, integer or double labels) or a target matrix. Sets
// `binary`, the number of observations and the targets' offset.
struct calibration_call {
  SEXP prob = R_NilValue;
  bool binary = false;
  index_t n = 0;
  int offset = 0;
};

bool calibration_args(SEXP y, SEXP prob, bool second, calibration_call& c, int& nprot) {
  c.prob = PROTECT(numeric_data(prob, second));
  ++nprot;
  if (Rf_isNull(c.prob)) return false;
  const int d = ndim(c.prob);
  if (d != 2) {
    if (d != 0 && !second) return false;
    c.binary = true;
    c.n = XLENGTH(c.prob);
    if (binary_factor(y)) {
      c.offset = 1;
      return XLENGTH(y) == c.n;
    }
    return !OBJECT(y) &&
           (TYPEOF(y) == REALSXP || TYPEOF(y) == INTSXP || TYPEOF(y) == LGLSXP) &&
           XLENGTH(y) == c.n;
  }
  c.n = nrow(c.prob);
  if (Rf_isFactor(y)) return factor_classes(y, c.prob);
  if (OBJECT(y)) return false;
  if (ndim(y) == 0) return (TYPEOF(y) == INTSXP || TYPEOF(y) == REALSXP) && XLENGTH(y) == c.n;
  return TYPEOF(y) == REALSXP && same_dims(y, c.prob);
}


// The named list `a` with the elements of the named list `b` after its own.
SEXP concat(SEXP a, SEXP b) {
  PROTECT(a);
  PROTECT(b);
  const R_xlen_t na = XLENGTH(a), nb = XLENGTH(b);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, na + nb));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, na + nb));
  SEXP an = Rf_getAttrib(a, R_NamesSymbol), bn = Rf_getAttrib(b, R_NamesSymbol);
  for (R_xlen_t i = 0; i < na; ++i) {
    SET_VECTOR_ELT(out, i, VECTOR_ELT(a, i));
    SET_STRING_ELT(nm, i, STRING_ELT(an, i));
  }
  for (R_xlen_t i = 0; i < nb; ++i) {
    SET_VECTOR_ELT(out, na + i, VECTOR_ELT(b, i));
    SET_STRING_ELT(nm, na + i, STRING_ELT(bn, i));
  }
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(4);
  return out;
}

// The settings of reliability_table(): type, binning (indices into the
// choices: 0 is the default), bins and level (0 < level < 1). False when R
// must check them.
struct table_settings {
  int type = 0, binning = 0, bins = 0;
  double level = 0;
};

bool table_settings_of(SEXP bins, SEXP type, SEXP binning, SEXP level, table_settings& t) {
  static const SEXP types[] = {cached("top-label"), cached("classwise")};
  static const SEXP binnings[] = {cached("equal-width"), cached("equal-mass")};
  t.type = option_of(type, types, 2);
  t.binning = option_of(binning, binnings, 2);
  double b;
  if (t.type < 0 || t.binning < 0 || !number(bins, b) || !(b >= 1 && b <= INT_MAX) ||
      b != std::floor(b) || !number(level, t.level) || !(t.level > 0 && t.level < 1)) {
    return false;
  }
  t.bins = static_cast<int>(b);
  return true;
}

// A fit's result with the top-label ECE before (T = 1) and after it, as
// predict() forms the probabilities, straight from the logits (no n x K
// matrix). Not for fits that end in an error (missing values: status 4; no
// positive weight: 6), whose ECE R never reads.
SEXP with_ece(SEXP fit, SEXP y, int offset, SEXP logits, bool binary, bool platt,
              int bins, SEXP weights, bool na_rm, int nthreads) {
  PROTECT(fit);
  const Rcpp::List f(fit);
  const int status = Rcpp::as<int>(f["status"]);
  double before = NA_REAL, after = NA_REAL;
  if (status != 4 && status != 6) {
    const Rcpp::NumericVector par = f["par"];
    const double beta = par[0];
    Rcpp::NumericVector e0 = logit_calibration_error_impl(y, offset, logits, binary, 1.0, 1.0,
                                                          0.0, false, bins, weights, na_rm,
                                                          nthreads);
    before = e0[0];
    Rcpp::NumericVector e1 =
        platt ? logit_calibration_error_impl(y, offset, logits, binary, 1.0, par[0], par[1],
                                             false, bins, weights, na_rm, nthreads)
              : logit_calibration_error_impl(y, offset, logits, binary, 1.0 / beta, beta,
                                             0.0, beta == R_PosInf, bins, weights, na_rm,
                                             nthreads);
    after = e1[0];
  }
  SEXP out = concat(fit, Rcpp::List::create(
                             Rcpp::Named("ece") = Rcpp::NumericVector::create(before, after)));
  UNPROTECT(1);
  return out;
}
}  // namespace

extern "C" {

SEXP xentropy_brier_score(SEXP y, SEXP prob, SEXP weights, SEXP reduction, SEXP na_rm,
                          SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    calibration_call c;
    xentropy::reduction red;
    bool rm;
    int nprot = 0;
    SEXP w;
    SEXP out = R_NilValue;
    if (reduction_of(reduction, red) && flag(na_rm, rm) &&
        calibration_args(y, prob, second, c, nprot) && read_weights(weights, c.n, w, nprot)) {
      out = PROTECT(brier_score_impl(y, c.offset, c.prob, c.binary, w, red, rm,
                                     threads(XLENGTH(c.prob))));
      ++nprot;
      if (reported(out)) {
        out = to_report(out);
      } else if (red == xentropy::reduction::none) {
        out = named(out, c.binary ? Rf_getAttrib(c.prob, R_NamesSymbol) : rownames_of(c.prob));
      }
    }
    UNPROTECT(nprot);
    return out;
  });
}

SEXP xentropy_calibration_error(SEXP y, SEXP prob, SEXP bins, SEXP type, SEXP binning,
                                SEXP norm, SEXP weights, SEXP na_rm, SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    static const SEXP types[] = {cached("top-label"), cached("classwise")};
    static const SEXP binnings[] = {cached("equal-width"), cached("equal-mass")};
    static const SEXP norms[] = {cached("l1"), cached("l2"), cached("max")};
    static const cal::norm norm_values[] = {cal::norm::l1, cal::norm::l2, cal::norm::max};
    const int ty = option_of(type, types, 2), bi = option_of(binning, binnings, 2),
              no = option_of(norm, norms, 3);
    double b;
    bool rm;
    if (ty < 0 || bi < 0 || no < 0 || !number(bins, b) || !(b >= 1 && b <= INT_MAX) ||
        b != std::floor(b) || !flag(na_rm, rm)) {
      return R_NilValue;
    }
    calibration_call c;
    int nprot = 0;
    SEXP out = R_NilValue;
    SEXP w;
    if (calibration_args(y, prob, second, c, nprot) && read_weights(weights, c.n, w, nprot)) {
      cal::report rep;
      const cal::bin_sums s =
          bin_sums_of(y, c.offset, c.prob, c.binary, static_cast<int>(b), ty == 1, bi == 1,
                      w, rm, threads(XLENGTH(c.prob)), rep);
      out = PROTECT(Rf_ScalarReal(cal::calibration_error(s, norm_values[no])));
      ++nprot;
      if (rep.values.get().found() || rep.sums.get().found()) {
        out = PROTECT(flag_report(out, rep));
        ++nprot;
        out = to_report(out);
      }
    }
    UNPROTECT(nprot);
    return out;
  });
}

SEXP xentropy_top_k_accuracy(SEXP y, SEXP scores, SEXP k, SEXP weights, SEXP na_rm,
                             SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    double kk;
    bool rm;
    if (!flag(na_rm, rm)) return R_NilValue;
    SEXP s = PROTECT(numeric_data(scores, second));
    int nprot = 1;
    SEXP out = R_NilValue, w;
    if (!Rf_isNull(s) && ndim(s) == 2 && ndim(y) == 0 &&
        (Rf_isFactor(y) ? factor_classes(y, s)
                        : !OBJECT(y) && (TYPEOF(y) == INTSXP || TYPEOF(y) == REALSXP)) &&
        XLENGTH(y) == nrow(s) && number(k, kk) && kk >= 1 && kk <= ncol(s) &&
        kk == std::floor(kk) && read_weights(weights, nrow(s), w, nprot)) {
      out = top_k_accuracy_impl(y, s, kk, w, rm, threads(XLENGTH(s)));
      if (flagged(out)) out = to_report(out);
    }
    UNPROTECT(nprot);
    return out;
  });
}


SEXP xentropy_reliability_table(SEXP y, SEXP prob, SEXP bins, SEXP type, SEXP binning,
                                SEXP weights, SEXP na_rm, SEXP level, SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    table_settings ts;
    bool rm;
    if (!table_settings_of(bins, type, binning, level, ts) || !flag(na_rm, rm))
      return R_NilValue;
    calibration_call c;
    int nprot = 0;
    SEXP out = R_NilValue;
    SEXP w;
    if (calibration_args(y, prob, second, c, nprot) && read_weights(weights, c.n, w, nprot)) {
      out = PROTECT(calibration_bins_impl(y, c.offset, c.prob, c.binary, ts.bins, ts.type == 1,
                                          ts.binning == 1, w, rm, threads(XLENGTH(c.prob))));
      ++nprot;
      if (reported(out)) {
        out = to_report(out);
      } else {
        static const char* type_names[] = {"top-label", "classwise"};
        static const char* binning_names[] = {"equal-width", "equal-mass"};
        out = concat(out, Rcpp::List::create(Rcpp::Named("bins") = ts.bins,
                                             Rcpp::Named("type") = type_names[ts.type],
                                             Rcpp::Named("binning") = binning_names[ts.binning],
                                             Rcpp::Named("level") = ts.level,
                                             Rcpp::Named("binary") = c.binary));
      }
    }
    UNPROTECT(nprot);
    return out;
  });
}

SEXP xentropy_temperature_scaling(SEXP y, SEXP logits, SEXP weights, SEXP method,
                                  SEXP na_rm, SEXP bins, SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    static const SEXP methods[] = {cached("temperature"), cached("platt")};
    const int me = option_of(method, methods, 2);
    double b;
    bool rm;
    if (me < 0 || !number(bins, b) || !(b >= 1 && b <= INT_MAX) || b != std::floor(b) ||
        !flag(na_rm, rm)) {
      return R_NilValue;
    }
    calibration_call c;
    int nprot = 0;
    SEXP out = R_NilValue;
    SEXP w;
    // Platt scaling of a matrix is an error R reports
    if (calibration_args(y, logits, second, c, nprot) && (me == 0 || c.binary) &&
        read_weights(weights, c.n, w, nprot)) {
      const bool platt = me == 1;
      const int nt = threads(XLENGTH(c.prob));
      out = PROTECT(scaling_fit_impl(y, c.offset, c.prob, c.binary, platt, w, rm, nt));
      ++nprot;
      if (reported(out)) {
        out = to_report(out);
      } else {
        out = PROTECT(with_ece(out, y, c.offset, c.prob, c.binary, platt,
                               static_cast<int>(b), w, rm, nt));
        ++nprot;
        out = concat(out, Rcpp::List::create(
                              Rcpp::Named("method") = platt ? "platt" : "temperature",
                              Rcpp::Named("bins") = static_cast<int>(b),
                              Rcpp::Named("binary") = c.binary));
      }
    }
    UNPROTECT(nprot);
    return out;
  });
}

}  // extern "C"
