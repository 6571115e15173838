// The entries of the losses and of loglik_bernoulli() and
// loglik_categorical() (xentropy/loss.hpp; see src/entry.h). Each reads
// targets as users hold them (factors, integer or double labels, one-hot or
// soft target matrices; 0/1, logical, probabilities or a two-level factor
// for binary losses), predictions, weights and settings; what it cannot
// read R checks and shapes (R/targets.R) for a second call. The kernels
// report invalid values (labels outside 1..K, probabilities outside [0, 1])
// through glue::flag_invalid(); the entry returns such a result as
// list(result) for R to turn into an error. Ctrl-C stops a loss between
// blocks (glue::interruptible).
#include "entry.h"

namespace {

using xentropy::index_t;

xentropy::loss_options options(SEXP weights, xentropy::reduction reduction, bool na_rm,
                               int nthreads) {
  xentropy::loss_options opt;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.red = reduction;
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  return opt;
}

xentropy::categorical_options categorical_opts(double label_smoothing, SEXP class_weights) {
  xentropy::categorical_options c;
  c.label_smoothing = label_smoothing;
  c.class_weights = Rf_isNull(class_weights) ? nullptr : REAL(class_weights);
  return c;
}

// A reduced loss: `f(out, bad)` returns the value and, for "none", writes the
// n losses to out.
// (Results are plain protected R vectors, not Rcpp ones: on small inputs
// Rcpp's bookkeeping costs as much as the loss. An interrupt unwinds through
// the entry's guard, and R's jump resets the protect stack.)
template <class F>
SEXP reduced(index_t n, const xentropy::loss_options& opt, F f) {
  xentropy::first_invalid bad;
  SEXP out;
  if (opt.red == xentropy::reduction::none) {
    out = PROTECT(Rf_allocVector(REALSXP, n));
    glue::interruptible([&] { f(REAL(out), bad); });
  } else {
    double v = 0.0;
    glue::interruptible([&] { v = f(nullptr, bad); });
    out = PROTECT(Rf_ScalarReal(v));
  }
  glue::flag_invalid(out, bad);
  UNPROTECT(1);
  return out;
}

template <class F>
SEXP gradient(SEXP logits, F f) {
  xentropy::first_invalid bad;
  SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(logits)));
  SHALLOW_DUPLICATE_ATTRIB(out, logits);
  glue::interruptible([&] { f(REAL(out), bad); });
  glue::flag_invalid(out, bad);
  UNPROTECT(1);
  return out;
}


SEXP cross_entropy_loss_impl(SEXP y, SEXP prob, SEXP weights, SEXP class_weights,
                             xentropy::reduction reduction, bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(prob);
  const auto t = glue::categorical_targets(y, s.nrow);
  const auto copt = categorical_opts(0.0, class_weights);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(s.nrow, opt, [&](double* out, xentropy::first_invalid& bad) {
    return xentropy::cross_entropy_loss(t, REAL(prob), s.nrow, s.ncol, copt, opt, out, bad);
  });
}

// sum_i log prob[y_i] for one distribution `prob` shared by all observations
// (loglik_categorical() with a vector): the labels are read in place.
SEXP loglik_categorical_impl(SEXP y, SEXP prob, bool na_rm, int nthreads) {
  const index_t n = XLENGTH(y), K = XLENGTH(prob);
  const auto t = glue::compact(y) ? xentropy::categorical_targets{} : glue::categorical_targets(y, n);
  xentropy::loss_options opt;
  opt.red = xentropy::reduction::sum;
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  const xentropy::view P{REAL(prob), 0, 1};
  return reduced(n, opt, [&](double*, xentropy::first_invalid& bad) {
    if (!glue::compact(y)) {
      return -xentropy::categorical_loss_total(xentropy::ce_prob_policy{}, t, P, n, K,
                                               xentropy::categorical_options{}, opt,
                                               nullptr, bad).value(na_rm);
    }
    // a compact sequence (1:n) is read chunk by chunk, never expanded
    const index_t len0 = n < glue::region_chunk ? n : glue::region_chunk;
    std::vector<double> dbuf(TYPEOF(y) == REALSXP ? len0 : 0);
    std::vector<int> ibuf(TYPEOF(y) == REALSXP ? 0 : len0);
    xentropy::accumulator total;
    for (index_t c0 = 0; c0 < n && bad.where() < 0; c0 += glue::region_chunk) {
      const index_t len = n - c0 < glue::region_chunk ? n - c0 : glue::region_chunk;
      glue::read_region(y, c0, len, dbuf, ibuf);
      xentropy::categorical_targets tc;
      if (TYPEOF(y) == REALSXP) tc.labels.d = dbuf.data(); else tc.labels.i = ibuf.data();
      tc.origin = c0;
      total.merge(xentropy::categorical_loss_total(xentropy::ce_prob_policy{}, tc, P, len,
                                                   K, xentropy::categorical_options{},
                                                   opt, nullptr, bad));
    }
    return -total.value(na_rm);
  });
}

SEXP softmax_cross_entropy_impl(SEXP y, SEXP logits, SEXP weights, SEXP class_weights,
                                xentropy::reduction reduction, bool na_rm,
                                double label_smoothing, int nthreads) {
  const glue::shape s = glue::shape_of(logits);
  const auto t = glue::categorical_targets(y, s.nrow);
  const auto copt = categorical_opts(label_smoothing, class_weights);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(s.nrow, opt, [&](double* out, xentropy::first_invalid& bad) {
    return xentropy::softmax_cross_entropy(t, REAL(logits), s.nrow, s.ncol, copt, opt,
                                           out, bad);
  });
}

SEXP softmax_cross_entropy_grad_impl(SEXP y, SEXP logits, SEXP weights,
                                     SEXP class_weights, xentropy::reduction reduction,
                                     bool na_rm, double label_smoothing, int nthreads) {
  const glue::shape s = glue::shape_of(logits);
  const auto t = glue::categorical_targets(y, s.nrow);
  const auto copt = categorical_opts(label_smoothing, class_weights);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return gradient(logits, [&](double* out, xentropy::first_invalid& bad) {
    xentropy::softmax_cross_entropy_grad(t, REAL(logits), s.nrow, s.ncol, copt, opt, out,
                                         bad);
  });
}

SEXP softmax_focal_loss_impl(SEXP y, SEXP logits, SEXP weights, xentropy::reduction reduction,
                             bool na_rm, double gamma, double alpha, int nthreads) {
  const glue::shape s = glue::shape_of(logits);
  const auto t = glue::categorical_targets(y, s.nrow);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(s.nrow, opt, [&](double* out, xentropy::first_invalid& bad) {
    return xentropy::softmax_focal_loss(t, REAL(logits), s.nrow, s.ncol, gamma, alpha, opt,
                                        out, bad);
  });
}

SEXP softmax_focal_loss_grad_impl(SEXP y, SEXP logits, SEXP weights,
                                  xentropy::reduction reduction, bool na_rm, double gamma,
                                  double alpha, int nthreads) {
  const glue::shape s = glue::shape_of(logits);
  const auto t = glue::categorical_targets(y, s.nrow);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return gradient(logits, [&](double* out, xentropy::first_invalid& bad) {
    xentropy::softmax_focal_loss_grad(t, REAL(logits), s.nrow, s.ncol, gamma, alpha, opt,
                                      out, bad);
  });
}

// Binary losses: y is double (0/1 or probabilities), integer or logical 0/1,
// or factor codes 1/2 (offset 1); integer targets are read in place, and a
// compact sequence (ALTREP) in chunks without expanding it (glue::binary_loss).

SEXP binary_cross_entropy_impl(SEXP y, int offset, SEXP prob, SEXP weights,
                               xentropy::reduction reduction, bool na_rm, int nthreads) {
  const index_t n = XLENGTH(y);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  const index_t stride = XLENGTH(prob) == 1 ? 0 : 1;
  return reduced(n, opt, [&](double* out, xentropy::first_invalid& bad) {
    return glue::binary_loss(xentropy::bce_prob_policy{}, y, offset, REAL(prob), stride,
                             n, opt, out, bad);
  });
}

SEXP sigmoid_cross_entropy_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                xentropy::reduction reduction, bool na_rm, double pos_weight,
                                int nthreads) {
  const index_t n = XLENGTH(y);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(n, opt, [&](double* out, xentropy::first_invalid& bad) {
    return glue::binary_loss(xentropy::bce_logit_policy{pos_weight}, y, offset,
                             REAL(logits), 1, n, opt, out, bad);
  });
}

SEXP sigmoid_cross_entropy_grad_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                     xentropy::reduction reduction, bool na_rm,
                                     double pos_weight, int nthreads) {
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return gradient(logits, [&](double* out, xentropy::first_invalid& bad) {
    xentropy::sigmoid_cross_entropy_grad(glue::binary_targets(y, offset), REAL(logits),
                                         XLENGTH(y), pos_weight, opt, out, bad);
  });
}

// alpha < 0: no alpha (NULL in R).
SEXP sigmoid_focal_loss_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                             xentropy::reduction reduction, bool na_rm, double gamma,
                             double alpha, int nthreads) {
  const index_t n = XLENGTH(y);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(n, opt, [&](double* out, xentropy::first_invalid& bad) {
    if (gamma == 2.0)  // (1 - p_t)^2 as one product (the default)
      return glue::binary_loss(xentropy::sigmoid_focal_policy_t<true>{gamma, alpha}, y, offset,
                               REAL(logits), 1, n, opt, out, bad);
    return glue::binary_loss(xentropy::sigmoid_focal_policy{gamma, alpha}, y, offset,
                             REAL(logits), 1, n, opt, out, bad);
  });
}

SEXP sigmoid_focal_loss_grad_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                  xentropy::reduction reduction, bool na_rm, double gamma,
                                  double alpha, int nthreads) {
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return gradient(logits, [&](double* out, xentropy::first_invalid& bad) {
    xentropy::sigmoid_focal_loss_grad(glue::binary_targets(y, offset), REAL(logits),
                                      XLENGTH(y), gamma, alpha, opt, out, bad);
  });
}

// ---- reading the arguments -------------------------------------------------

using namespace entry;

// The arguments every loss shares, read (data protected by the caller's
// count `nprot`).
struct loss_args {
  SEXP y = R_NilValue, pred = R_NilValue, weights = R_NilValue;
  xentropy::reduction red = xentropy::reduction::mean;
  bool na_rm = false;
  int offset = 0;  // binary targets: 1 for a two-level factor's codes 1/2
  index_t n = 0;
};

// n x K predictions (doubles; integer and logical coerced), labels (a factor
// whose levels are pred's classes, integer or double labels, one per row)
// or a target matrix of pred's shape, weights, a reduction and na.rm.
// Anything else (a vector of predictions, factor levels to match by name,
// integer weights) R checks and shapes for the second call.
bool categorical_args(SEXP y, SEXP pred, SEXP weights, SEXP reduction, SEXP na_rm,
                      bool second, loss_args& a, int& nprot) {
  if (!reduction_of(reduction, a.red) || !flag(na_rm, a.na_rm)) return false;
  a.pred = PROTECT(numeric_data(pred, second));
  ++nprot;
  // (no classes: R's checks give the error)
  if (Rf_isNull(a.pred) || ndim(a.pred) != 2 || ncol(a.pred) == 0) return false;
  a.n = nrow(a.pred);
  const int dy = ndim(y);
  if (Rf_isFactor(y)) {
    if (!factor_classes(y, a.pred)) return false;
    a.y = y;
  } else if (dy == 0) {
    if ((TYPEOF(y) != INTSXP && TYPEOF(y) != REALSXP) || OBJECT(y) || XLENGTH(y) != a.n)
      return false;
    a.y = y;
  } else {
    a.y = PROTECT(numeric_data(y, second));
    ++nprot;
    if (Rf_isNull(a.y) || !same_dims(a.y, a.pred)) return false;
  }
  return read_weights(weights, a.n, a.weights, nprot);
}

// NULL, or one non-negative finite double per column of pred, unnamed or
// with pred unnamed (named weights are matched to column names in R).
bool class_weights_ok(SEXP cw, SEXP pred) {
  if (Rf_isNull(cw)) return true;
  if (!plain_double(cw) || ndim(cw) != 0 || XLENGTH(cw) != ncol(pred)) return false;
  if (!Rf_isNull(Rf_getAttrib(cw, R_NamesSymbol))) {
    SEXP dn = Rf_getAttrib(pred, R_DimNamesSymbol);
    if (!Rf_isNull(dn) && !Rf_isNull(VECTOR_ELT(dn, 1))) return false;
  }
  return !any_of<true, false>(REAL(cw), XLENGTH(cw));
}

// A loss value (per-observation losses named by the rows of pred), or
// list(flagged result).
SEXP categorical_result(SEXP out, const loss_args& a, bool name) {
  if (flagged(out)) return to_report(out);
  return name && a.red == xentropy::reduction::none ? named(out, rownames_of(a.pred)) : out;
}

// 0/1, logical or probability targets (unclassed), or a two-level factor;
// predictions (doubles; integer and logical coerced), one per target, or one
// for all when `shared`; weights, reduction, na.rm.
bool binary_args(SEXP y, SEXP pred, SEXP weights, SEXP reduction, SEXP na_rm, bool shared,
                 bool second, loss_args& a, int& nprot) {
  if (!reduction_of(reduction, a.red) || !flag(na_rm, a.na_rm)) return false;
  if (binary_factor(y)) {
    a.offset = 1;
  } else if ((TYPEOF(y) != REALSXP && TYPEOF(y) != INTSXP && TYPEOF(y) != LGLSXP) ||
             OBJECT(y)) {
    return false;
  }
  a.y = y;
  a.pred = PROTECT(numeric_data(pred, second));
  ++nprot;
  if (Rf_isNull(a.pred)) return false;
  a.n = XLENGTH(y);
  if (XLENGTH(a.pred) != a.n && !(shared && XLENGTH(a.pred) == 1)) return false;
  return read_weights(weights, a.n, a.weights, nprot);
}

// Per-observation losses are named by y, else by the predictions when there
// is one per observation; list(flagged result) for R to report.
SEXP binary_result(SEXP out, const loss_args& a, bool name) {
  if (flagged(out)) return to_report(out);
  if (!name || a.red != xentropy::reduction::none) return out;
  SEXP nm = Rf_getAttrib(a.y, R_NamesSymbol);
  if (Rf_isNull(nm) && XLENGTH(a.pred) == XLENGTH(a.y)) nm = Rf_getAttrib(a.pred, R_NamesSymbol);
  return named(out, nm);
}

bool pos_weight_ok(SEXP pw, double& v) { return number(pw, v) && v > 0 && v < HUGE_VAL; }

bool gamma_ok(SEXP g, double& v) { return number(g, v) && v >= 0 && v < HUGE_VAL; }

// alpha: NULL (`none`) or a number in [0, 1].
bool alpha_ok(SEXP a, double none, double& v) {
  if (Rf_isNull(a)) {
    v = none;
    return true;
  }
  return number(a, v) && v >= 0 && v <= 1;
}

bool label_smoothing_ok(SEXP e, double& v) { return number(e, v) && v >= 0 && v <= 1; }

// The categorical losses and their gradients (grad): arguments read,
// settings checked by ok(a), then the kernel, run(a, nthreads); NULL for R
// when something is not readable here.
template <class Ok, class Run>
SEXP categorical_entry(SEXP y, SEXP pred, SEXP weights, SEXP reduction, SEXP na_rm,
                       SEXP checked, bool grad, Ok ok, Run run) {
  return guarded(checked, [&](bool second) -> SEXP {
    loss_args a;
    int nprot = 0;
    SEXP out = R_NilValue;
    if (categorical_args(y, pred, weights, reduction, na_rm, second, a, nprot) && ok(a)) {
      out = categorical_result(run(a, threads(XLENGTH(a.pred))), a, !grad);
    }
    UNPROTECT(nprot);
    return out;
  });
}

template <class Ok, class Run>
SEXP binary_entry(SEXP y, SEXP pred, SEXP weights, SEXP reduction, SEXP na_rm,
                  SEXP checked, bool shared, bool grad, Ok ok, Run run) {
  return guarded(checked, [&](bool second) -> SEXP {
    loss_args a;
    int nprot = 0;
    SEXP out = R_NilValue;
    if (ok() && binary_args(y, pred, weights, reduction, na_rm, shared, second, a, nprot)) {
      out = binary_result(run(a, threads(a.n)), a, !grad);
    }
    UNPROTECT(nprot);
    return out;
  });
}

// "sum" as the log-likelihoods, which have no `reduction` argument, take it.
SEXP sum_reduction() {
  static SEXP r = [] {
    SEXP v = Rf_mkString("sum");
    R_PreserveObject(v);
    return v;
  }();
  return r;
}

// Minus a loss (a fresh length-1 result), unless flagged (reported by R).
SEXP negated_or_flagged(SEXP out) {
  if (!flagged(out)) REAL(out)[0] = -REAL(out)[0];
  return out;
}

// A factor whose codes are classes 1..K of a distribution `prob` (a vector):
// K levels, equal to names(prob) in order when prob has names.
bool factor_of_vector(SEXP y, SEXP prob) {
  if (!Rf_isFactor(y) || ndim(y) != 0) return false;
  SEXP lev = Rf_getAttrib(y, R_LevelsSymbol);
  const index_t K = XLENGTH(prob);
  if (TYPEOF(lev) != STRSXP || XLENGTH(lev) != K) return false;
  SEXP cols = Rf_getAttrib(prob, R_NamesSymbol);
  if (Rf_isNull(cols)) return true;
  for (index_t k = 0; k < K; ++k) {
    SEXP a = STRING_ELT(lev, k), b = STRING_ELT(cols, k);
    if (a != b && (Rf_getCharCE(a) != Rf_getCharCE(b) || std::strcmp(CHAR(a), CHAR(b)) != 0))
      return false;
  }
  return true;
}

}  // namespace

extern "C" {

SEXP xentropy_cross_entropy_loss(SEXP y, SEXP prob, SEXP weights, SEXP reduction,
                                 SEXP na_rm, SEXP class_weights, SEXP checked) {
  return categorical_entry(
      y, prob, weights, reduction, na_rm, checked, false,
      [&](const loss_args& a) { return class_weights_ok(class_weights, a.pred); },
      [&](const loss_args& a, int nt) {
        return cross_entropy_loss_impl(a.y, a.pred, a.weights, class_weights, a.red,
                                       a.na_rm, nt);
      });
}

SEXP xentropy_softmax_cross_entropy(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                    SEXP na_rm, SEXP label_smoothing, SEXP class_weights,
                                    SEXP checked) {
  double eps;
  return categorical_entry(
      y, logits, weights, reduction, na_rm, checked, false,
      [&](const loss_args& a) {
        return label_smoothing_ok(label_smoothing, eps) && class_weights_ok(class_weights, a.pred);
      },
      [&](const loss_args& a, int nt) {
        return softmax_cross_entropy_impl(a.y, a.pred, a.weights, class_weights, a.red,
                                          a.na_rm, eps, nt);
      });
}

SEXP xentropy_softmax_cross_entropy_grad(SEXP y, SEXP logits, SEXP weights,
                                         SEXP reduction, SEXP na_rm, SEXP label_smoothing,
                                         SEXP class_weights, SEXP checked) {
  double eps;
  return categorical_entry(
      y, logits, weights, reduction, na_rm, checked, true,
      [&](const loss_args& a) {
        return label_smoothing_ok(label_smoothing, eps) && class_weights_ok(class_weights, a.pred);
      },
      [&](const loss_args& a, int nt) {
        return softmax_cross_entropy_grad_impl(a.y, a.pred, a.weights, class_weights, a.red,
                                               a.na_rm, eps, nt);
      });
}

SEXP xentropy_softmax_focal_loss(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                 SEXP na_rm, SEXP gamma, SEXP alpha, SEXP checked) {
  double g, al;
  return categorical_entry(
      y, logits, weights, reduction, na_rm, checked, false,
      [&](const loss_args&) { return gamma_ok(gamma, g) && alpha_ok(alpha, 1, al); },
      [&](const loss_args& a, int nt) {
        return softmax_focal_loss_impl(a.y, a.pred, a.weights, a.red, a.na_rm, g, al, nt);
      });
}

SEXP xentropy_softmax_focal_loss_grad(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                      SEXP na_rm, SEXP gamma, SEXP alpha, SEXP checked) {
  double g, al;
  return categorical_entry(
      y, logits, weights, reduction, na_rm, checked, true,
      [&](const loss_args&) { return gamma_ok(gamma, g) && alpha_ok(alpha, 1, al); },
      [&](const loss_args& a, int nt) {
        return softmax_focal_loss_grad_impl(a.y, a.pred, a.weights, a.red, a.na_rm, g, al, nt);
      });
}

SEXP xentropy_binary_cross_entropy(SEXP y, SEXP prob, SEXP weights, SEXP reduction,
                                   SEXP na_rm, SEXP checked) {
  return binary_entry(
      y, prob, weights, reduction, na_rm, checked, true, false, [] { return true; },
      [&](const loss_args& a, int nt) {
        return binary_cross_entropy_impl(a.y, a.offset, a.pred, a.weights, a.red, a.na_rm, nt);
      });
}

SEXP xentropy_sigmoid_cross_entropy(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                    SEXP na_rm, SEXP pos_weight, SEXP checked) {
  double pw;
  return binary_entry(
      y, logits, weights, reduction, na_rm, checked, false, false,
      [&] { return pos_weight_ok(pos_weight, pw); },
      [&](const loss_args& a, int nt) {
        return sigmoid_cross_entropy_impl(a.y, a.offset, a.pred, a.weights, a.red, a.na_rm,
                                          pw, nt);
      });
}

SEXP xentropy_sigmoid_cross_entropy_grad(SEXP y, SEXP logits, SEXP weights,
                                         SEXP reduction, SEXP na_rm, SEXP pos_weight,
                                         SEXP checked) {
  double pw;
  return binary_entry(
      y, logits, weights, reduction, na_rm, checked, false, true,
      [&] { return pos_weight_ok(pos_weight, pw); },
      [&](const loss_args& a, int nt) {
        return sigmoid_cross_entropy_grad_impl(a.y, a.offset, a.pred, a.weights, a.red,
                                               a.na_rm, pw, nt);
      });
}

SEXP xentropy_sigmoid_focal_loss(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                 SEXP na_rm, SEXP gamma, SEXP alpha, SEXP checked) {
  double g, al;
  return binary_entry(
      y, logits, weights, reduction, na_rm, checked, false, false,
      [&] { return gamma_ok(gamma, g) && alpha_ok(alpha, -1, al); },
      [&](const loss_args& a, int nt) {
        return sigmoid_focal_loss_impl(a.y, a.offset, a.pred, a.weights, a.red, a.na_rm, g,
                                       al, nt);
      });
}

SEXP xentropy_sigmoid_focal_loss_grad(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                      SEXP na_rm, SEXP gamma, SEXP alpha, SEXP checked) {
  double g, al;
  return binary_entry(
      y, logits, weights, reduction, na_rm, checked, false, true,
      [&] { return gamma_ok(gamma, g) && alpha_ok(alpha, -1, al); },
      [&](const loss_args& a, int nt) {
        return sigmoid_focal_loss_grad_impl(a.y, a.offset, a.pred, a.weights, a.red, a.na_rm,
                                            g, al, nt);
      });
}

// sum_i log P(y_i): minus the binary cross-entropy summed.
SEXP xentropy_loglik_bernoulli(SEXP y, SEXP prob, SEXP na_rm, SEXP checked) {
  return binary_entry(
      y, prob, R_NilValue, sum_reduction(), na_rm, checked, true, false, [] { return true; },
      [&](const loss_args& a, int nt) {
        return negated_or_flagged(binary_cross_entropy_impl(a.y, a.offset, a.pred, R_NilValue,
                                                            a.red, a.na_rm, nt));
      });
}

// sum_i log prob[i, y_i] (prob a matrix), or sum_i log prob[y_i] for one
// distribution `prob` (a vector) shared by every observation, whose labels
// are read in place (a compact sequence such as seq_len(n) never expanded).
SEXP xentropy_loglik_categorical(SEXP y, SEXP prob, SEXP na_rm, SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    const int dp = ndim(prob);
    if (dp == 2) {
      loss_args a;
      int nprot = 0;
      SEXP out = R_NilValue;
      if (categorical_args(y, prob, R_NilValue, sum_reduction(), na_rm, second, a, nprot)) {
        out = categorical_result(
            negated_or_flagged(cross_entropy_loss_impl(a.y, a.pred, R_NilValue, R_NilValue,
                                                       a.red, a.na_rm,
                                                       threads(XLENGTH(a.pred)))),
            a, false);
      }
      UNPROTECT(nprot);
      return out;
    }
    bool rm;
    if (!flag(na_rm, rm) || (dp != 0 && !second)) return R_NilValue;
    SEXP p = PROTECT(numeric_data(prob, second));
    const bool labels = Rf_isFactor(y) ? !Rf_isNull(p) && factor_of_vector(y, p)
                                       : (TYPEOF(y) == INTSXP || TYPEOF(y) == REALSXP) &&
                                             !OBJECT(y) && ndim(y) == 0;
    if (Rf_isNull(p) || !labels) {
      UNPROTECT(1);
      return R_NilValue;
    }
    SEXP out = loglik_categorical_impl(y, p, rm, threads(XLENGTH(y)));
    out = flagged(out) ? to_report(out) : out;
    UNPROTECT(1);
    return out;
  });
}

}  // extern "C"
