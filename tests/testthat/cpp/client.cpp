// A small C++ client of xentropy's public headers, as another package would
// write it with `LinkingTo: xentropy` (here compiled by Rcpp::sourceCpp(),
// which `Rcpp::depends(xentropy)` points at the installed headers).
// tests/testthat/test-cpp.R compiles it and checks it against the R functions.
// It uses only what the "Using xentropy from C++" vignette documents.

// [[Rcpp::depends(xentropy)]]
// [[Rcpp::plugins(openmp)]]
#include <Rcpp.h>
#include <xentropy.h>

#include <string>

// Array versions of the link functions: out[i] = f(x[i]), over nthreads.
// [[Rcpp::export]]
Rcpp::NumericVector client_link(Rcpp::NumericVector x, std::string f, int nthreads) {
  Rcpp::NumericVector out(Rcpp::no_init(x.size()));
  const double* in = x.begin();
  double* res = out.begin();
  const xentropy::index_t n = x.size();
  if (f == "sigmoid") xentropy::sigmoid(in, res, n, nthreads);
  else if (f == "softplus") xentropy::softplus(in, res, n, nthreads);
  else if (f == "log_sigmoid") xentropy::log_sigmoid(in, res, n, nthreads);
  else if (f == "logit") xentropy::logit(in, res, n, nthreads);
  else Rcpp::stop("unknown link function");
  return out;
}

// Scalar versions, called in the client's own loop.
// [[Rcpp::export]]
Rcpp::NumericVector client_link_scalar(Rcpp::NumericVector x, std::string f) {
  Rcpp::NumericVector out(x.size());
  for (R_xlen_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    out[i] = f == "sigmoid" ? xentropy::sigmoid(v)
           : f == "softplus" ? xentropy::softplus(v)
           : f == "log_sigmoid" ? xentropy::log_sigmoid(v)
           : xentropy::logit(v);
  }
  return out;
}

// In place: the array versions allow out == x.
// [[Rcpp::export]]
Rcpp::NumericVector client_sigmoid_in_place(Rcpp::NumericVector x) {
  Rcpp::NumericVector y = Rcpp::clone(x);
  xentropy::sigmoid(y.begin(), y.begin(), y.size(), 1);
  return y;
}

// log-sum-exp of the rows (margin 1) or columns (margin 2) of a matrix.
// [[Rcpp::export]]
Rcpp::NumericVector client_logsumexp(Rcpp::NumericMatrix x, int margin, bool na_rm,
                                     int nthreads, double temperature) {
  Rcpp::NumericVector out(Rcpp::no_init(margin == 1 ? x.nrow() : x.ncol()));
  xentropy::logsumexp(x.begin(), x.nrow(), x.ncol(), margin, out.begin(), na_rm,
                      nthreads, temperature);
  return out;
}

// softmax or log-softmax of the rows or columns; out must not alias x.
// [[Rcpp::export]]
Rcpp::NumericMatrix client_softmax(Rcpp::NumericMatrix x, int margin, bool log_output,
                                   int nthreads, double temperature) {
  Rcpp::NumericMatrix out(Rcpp::no_init(x.nrow(), x.ncol()));
  if (log_output)
    xentropy::log_softmax(x.begin(), x.nrow(), x.ncol(), margin, out.begin(), nthreads,
                          temperature);
  else
    xentropy::softmax(x.begin(), x.nrow(), x.ncol(), margin, out.begin(), false,
                      nthreads, temperature);
  return out;
}

// common.hpp: R's NA told apart from other NaNs without R's headers.
// [[Rcpp::export]]
Rcpp::LogicalVector client_is_na(Rcpp::NumericVector x) {
  Rcpp::LogicalVector out(x.size());
  for (R_xlen_t i = 0; i < x.size(); ++i) out[i] = xentropy::is_na(x[i]);
  return out;
}

// [[Rcpp::export]]
Rcpp::NumericVector client_missing() {
  return Rcpp::NumericVector::create(xentropy::na_real(), xentropy::nan_real(),
                                     xentropy::inf());
}
