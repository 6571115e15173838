// Rcpp glue for xentropy/loss.hpp: one function per R function. Targets,
// predictions and weights are checked and shaped in R (R/targets.R); the
// kernels report invalid values (labels outside 1..K, probabilities outside
// [0, 1]) through glue::flag_invalid() for R to turn into an error. Ctrl-C
// stops a loss between blocks (glue::interruptible).
#include "glue.h"
#include "interrupt.h"

namespace {

using xentropy::index_t;

xentropy::loss_options options(SEXP weights, const std::string& reduction, bool na_rm,
                               int nthreads) {
  xentropy::loss_options opt;
  opt.weights = Rf_isNull(weights) ? nullptr : REAL(weights);
  opt.red = glue::reduction_of(reduction);
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
// Rcpp or the fast path's guard, and R's jump resets the protect stack.)
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

}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP cross_entropy_loss_impl(SEXP y, SEXP prob, SEXP weights, SEXP class_weights,
                             std::string reduction, bool na_rm, int nthreads) {
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
// [[Rcpp::export(rng = false)]]
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

// [[Rcpp::export(rng = false)]]
SEXP softmax_cross_entropy_impl(SEXP y, SEXP logits, SEXP weights, SEXP class_weights,
                                std::string reduction, bool na_rm,
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

// [[Rcpp::export(rng = false)]]
SEXP softmax_cross_entropy_grad_impl(SEXP y, SEXP logits, SEXP weights,
                                     SEXP class_weights, std::string reduction,
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

// [[Rcpp::export(rng = false)]]
SEXP softmax_focal_loss_impl(SEXP y, SEXP logits, SEXP weights, std::string reduction,
                             bool na_rm, double gamma, double alpha, int nthreads) {
  const glue::shape s = glue::shape_of(logits);
  const auto t = glue::categorical_targets(y, s.nrow);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(s.nrow, opt, [&](double* out, xentropy::first_invalid& bad) {
    return xentropy::softmax_focal_loss(t, REAL(logits), s.nrow, s.ncol, gamma, alpha, opt,
                                        out, bad);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP softmax_focal_loss_grad_impl(SEXP y, SEXP logits, SEXP weights,
                                  std::string reduction, bool na_rm, double gamma,
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

// [[Rcpp::export(rng = false)]]
SEXP binary_cross_entropy_impl(SEXP y, int offset, SEXP prob, SEXP weights,
                               std::string reduction, bool na_rm, int nthreads) {
  const index_t n = XLENGTH(y);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  const index_t stride = XLENGTH(prob) == 1 ? 0 : 1;
  return reduced(n, opt, [&](double* out, xentropy::first_invalid& bad) {
    return glue::binary_loss(xentropy::bce_prob_policy{}, y, offset, REAL(prob), stride,
                             n, opt, out, bad);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP sigmoid_cross_entropy_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                std::string reduction, bool na_rm, double pos_weight,
                                int nthreads) {
  const index_t n = XLENGTH(y);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(n, opt, [&](double* out, xentropy::first_invalid& bad) {
    return glue::binary_loss(xentropy::bce_logit_policy{pos_weight}, y, offset,
                             REAL(logits), 1, n, opt, out, bad);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP sigmoid_cross_entropy_grad_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                     std::string reduction, bool na_rm,
                                     double pos_weight, int nthreads) {
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return gradient(logits, [&](double* out, xentropy::first_invalid& bad) {
    xentropy::sigmoid_cross_entropy_grad(glue::binary_targets(y, offset), REAL(logits),
                                         XLENGTH(y), pos_weight, opt, out, bad);
  });
}

// alpha < 0: no alpha (NULL in R).
// [[Rcpp::export(rng = false)]]
SEXP sigmoid_focal_loss_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                             std::string reduction, bool na_rm, double gamma,
                             double alpha, int nthreads) {
  const index_t n = XLENGTH(y);
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return reduced(n, opt, [&](double* out, xentropy::first_invalid& bad) {
    return glue::binary_loss(xentropy::sigmoid_focal_policy{gamma, alpha}, y, offset,
                             REAL(logits), 1, n, opt, out, bad);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP sigmoid_focal_loss_grad_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                  std::string reduction, bool na_rm, double gamma,
                                  double alpha, int nthreads) {
  const auto opt = options(weights, reduction, na_rm, nthreads);
  return gradient(logits, [&](double* out, xentropy::first_invalid& bad) {
    xentropy::sigmoid_focal_loss_grad(glue::binary_targets(y, offset), REAL(logits),
                                      XLENGTH(y), gamma, alpha, opt, out, bad);
  });
}
