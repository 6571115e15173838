// Rcpp glue for xentropy/loss.hpp. Targets, predictions and weights are
// checked and shaped in R (R/targets.R); the kernels report invalid values
// (labels outside 1..K, probabilities outside [0, 1]) through
// glue::flag_invalid() for R to turn into an error message.
#include "glue.h"

namespace {

xentropy::loss_options options(SEXP weights, int reduction, bool na_rm,
                               int nthreads) {
  xentropy::loss_options opt;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.red = static_cast<xentropy::reduction>(reduction);
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  return opt;
}

// Labels (integer codes or doubles) or an n x K target matrix (doubles).
xentropy::categorical_targets categorical(SEXP y, xentropy::index_t n) {
  xentropy::categorical_targets t;
  if (Rf_isMatrix(y)) {
    t.matrix = xentropy::view{REAL(y), 1, n};
  } else if (TYPEOF(y) == INTSXP) {
    t.labels.i = INTEGER(y);
  } else {
    t.labels.d = REAL(y);
  }
  return t;
}

// 0/1 doubles or probabilities, integer or logical 0/1, or factor codes.
xentropy::binary_targets binary(SEXP y, int offset) {
  xentropy::binary_targets t;
  if (TYPEOF(y) == REALSXP) t.d = REAL(y);
  else t.i = TYPEOF(y) == LGLSXP ? LOGICAL(y) : INTEGER(y);
  t.offset = offset;
  return t;
}

}  // namespace

// kind: 0 cross_entropy_loss (probabilities), 1 softmax_cross_entropy,
// 2 softmax_cross_entropy_grad. pred is an n x K double matrix.
// [[Rcpp::export(rng = false)]]
SEXP categorical_loss_impl(int kind, SEXP y, SEXP pred, SEXP weights,
                                 int reduction, bool na_rm,
                                 double label_smoothing, int nthreads) {
  const glue::shape s = glue::shape_of(pred);
  const xentropy::categorical_targets t = categorical(y, s.nrow);
  xentropy::loss_options opt = options(weights, reduction, na_rm, nthreads);
  xentropy::first_invalid bad;
  if (kind == 2) {
    Rcpp::NumericVector out = glue::alloc_like(pred);
    xentropy::softmax_cross_entropy_grad(t, REAL(pred), s.nrow, s.ncol,
                                         label_smoothing, opt, REAL(out), bad);
    return glue::flag_invalid(out, bad);
  }
  Rcpp::NumericVector none;
  if (opt.red == xentropy::reduction::none) {
    none = Rcpp::NumericVector(Rcpp::no_init(s.nrow));
    opt.none_out = REAL(none);
  }
  const double value =
      kind == 0 ? xentropy::cross_entropy_loss(t, REAL(pred), s.nrow, s.ncol, opt, bad)
                : xentropy::softmax_cross_entropy(t, REAL(pred), s.nrow, s.ncol,
                                                  label_smoothing, opt, bad);
  if (opt.red == xentropy::reduction::none) return glue::flag_invalid(none, bad);
  return glue::flag_invalid(Rcpp::NumericVector::create(value), bad);
}

// kind: 0 binary_cross_entropy (probabilities), 1 sigmoid_cross_entropy,
// 2 sigmoid_cross_entropy_grad. pred has length n, or 1 (shared) for kind 0.
// [[Rcpp::export(rng = false)]]
SEXP binary_loss_impl(int kind, SEXP y, int offset, SEXP pred,
                            SEXP weights, int reduction, bool na_rm,
                            double pos_weight, int nthreads) {
  const xentropy::index_t n = XLENGTH(y);
  const xentropy::binary_targets t = binary(y, offset);
  xentropy::loss_options opt = options(weights, reduction, na_rm, nthreads);
  xentropy::first_invalid bad;
  if (kind == 2) {
    Rcpp::NumericVector out = glue::alloc_like(pred);
    xentropy::sigmoid_cross_entropy_grad(t, REAL(pred), n, pos_weight, opt,
                                         REAL(out), bad);
    return glue::flag_invalid(out, bad);
  }
  Rcpp::NumericVector none;
  if (opt.red == xentropy::reduction::none) {
    none = Rcpp::NumericVector(Rcpp::no_init(n));
    opt.none_out = REAL(none);
  }
  const double value =
      kind == 0 ? xentropy::binary_cross_entropy(t, REAL(pred), XLENGTH(pred) == 1 ? 0 : 1,
                                                 n, opt, bad)
                : xentropy::sigmoid_cross_entropy(t, REAL(pred), n, pos_weight, opt, bad);
  if (opt.red == xentropy::reduction::none) return glue::flag_invalid(none, bad);
  return glue::flag_invalid(Rcpp::NumericVector::create(value), bad);
}
