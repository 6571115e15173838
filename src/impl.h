// The Rcpp glue functions (src/*.cpp) that the fast paths (src/fast.cpp)
// call directly. Each is also exported to R, where the checking path of the
// R wrapper calls it.
#ifndef XENTROPY_IMPL_H
#define XENTROPY_IMPL_H

#include <string>

#include <Rcpp.h>

SEXP sigmoid_impl(SEXP x, int nthreads);
SEXP logit_impl(SEXP p, int nthreads);
SEXP log_sigmoid_impl(SEXP x, int nthreads);
SEXP softplus_impl(SEXP x, int nthreads);
SEXP log1mexp_impl(SEXP x, int nthreads);
SEXP logdiffexp_impl(SEXP a, SEXP b, int nthreads);
SEXP logsumexp_impl(SEXP x, int margin, bool na_rm, int nthreads);
SEXP logsumexp_weighted_impl(SEXP x, SEXP weights, bool per_class, int margin,
                             bool na_rm, int nthreads);
SEXP softmax_impl(SEXP x, int margin, double temperature, bool log_output,
                  int nthreads);
SEXP multinomial_impl(SEXP counts, SEXP prob, Rcpp::NumericVector layout, bool full);
SEXP label_counts_impl(SEXP y);
SEXP cross_entropy_loss_impl(SEXP y, SEXP prob, SEXP weights, SEXP class_weights,
                             std::string reduction, bool na_rm, int nthreads);
SEXP loglik_categorical_impl(SEXP y, SEXP prob, bool na_rm, int nthreads);
SEXP softmax_cross_entropy_impl(SEXP y, SEXP logits, SEXP weights, SEXP class_weights,
                                std::string reduction, bool na_rm,
                                double label_smoothing, int nthreads);
SEXP softmax_cross_entropy_grad_impl(SEXP y, SEXP logits, SEXP weights,
                                     SEXP class_weights, std::string reduction,
                                     bool na_rm, double label_smoothing, int nthreads);
SEXP softmax_focal_loss_impl(SEXP y, SEXP logits, SEXP weights, std::string reduction,
                             bool na_rm, double gamma, double alpha, int nthreads);
SEXP softmax_focal_loss_grad_impl(SEXP y, SEXP logits, SEXP weights,
                                  std::string reduction, bool na_rm, double gamma,
                                  double alpha, int nthreads);
SEXP binary_cross_entropy_impl(SEXP y, int offset, SEXP prob, SEXP weights,
                               std::string reduction, bool na_rm, int nthreads);
SEXP sigmoid_cross_entropy_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                std::string reduction, bool na_rm, double pos_weight,
                                int nthreads);
SEXP sigmoid_cross_entropy_grad_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                     std::string reduction, bool na_rm,
                                     double pos_weight, int nthreads);
SEXP sigmoid_focal_loss_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                             std::string reduction, bool na_rm, double gamma,
                             double alpha, int nthreads);
SEXP sigmoid_focal_loss_grad_impl(SEXP y, int offset, SEXP logits, SEXP weights,
                                  std::string reduction, bool na_rm, double gamma,
                                  double alpha, int nthreads);
SEXP brier_score_impl(SEXP y, int offset, SEXP prob, bool binary, SEXP weights,
                      std::string reduction, bool na_rm, int nthreads);
double calibration_error_value(SEXP y, int offset, SEXP prob, bool binary, int bins,
                               bool classwise, bool equal_mass, int norm, SEXP weights,
                               bool na_rm, int nthreads, bool& flagged);
SEXP top_k_accuracy_impl(SEXP y, SEXP scores, double k, SEXP weights, bool na_rm,
                         int nthreads);

#endif  // XENTROPY_IMPL_H
