// A small C++ client of xentropy's public headers, as another package would
// write it with `LinkingTo: xentropy` (here compiled by Rcpp::sourceCpp(),
// which `Rcpp::depends(xentropy)` points at the installed headers).
// tests/testthat/test-cpp.R compiles it and checks it against the R functions.
// It uses only what the "Using xentropy from C++" vignette documents.

// [[Rcpp::depends(xentropy)]]
// [[Rcpp::plugins(openmp)]]
#include <Rcpp.h>
#include <xentropy.h>

#include <cmath>
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

// The first invalid value a kernel noted: c(position + 1, operand) with
// operand 0 (target / p) or 1 (prediction / q), or c(0, NA) when none.
static Rcpp::NumericVector invalid_report(const xentropy::first_invalid& bad) {
  const xentropy::invalid_at at = bad.get();
  if (!at.found()) return Rcpp::NumericVector::create(0, NA_REAL);
  return Rcpp::NumericVector::create(static_cast<double>(at.position) + 1,
                                     static_cast<double>(at.which));
}

// The view of one distribution per row (margin 1) or per column (margin 2)
// of a column-major matrix: element k of observation o is
// data[o * so + k * sk].
static xentropy::view margin_view(const Rcpp::NumericMatrix& x, int margin) {
  const xentropy::index_t nr = x.nrow();
  return margin == 1 ? xentropy::view{x.begin(), 1, nr} : xentropy::view{x.begin(), nr, 1};
}

// information.hpp: entropy (q = NULL) or cross-entropy of each row or column,
// in units of log(base); the result carries the first_invalid report.
// [[Rcpp::export]]
Rcpp::NumericVector client_information(Rcpp::NumericMatrix p, Rcpp::Nullable<Rcpp::NumericMatrix> q,
                                       int margin, double base, bool na_rm, int nthreads) {
  xentropy::measure_shape shape;
  shape.nobs = margin == 1 ? p.nrow() : p.ncol();
  shape.nclass = margin == 1 ? p.ncol() : p.nrow();
  shape.contiguous = margin == 2;
  xentropy::measure_options opt;
  opt.log_base = std::log(base);
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  Rcpp::NumericVector out(Rcpp::no_init(shape.nobs));
  xentropy::first_invalid bad;
  if (q.isNull()) {
    xentropy::entropy(margin_view(p, margin), shape, out.begin(), opt, bad);
  } else {
    Rcpp::NumericMatrix qm(q.get());
    xentropy::cross_entropy(margin_view(p, margin), margin_view(qm, margin), shape,
                            out.begin(), opt, bad);
  }
  out.attr("invalid") = invalid_report(bad);
  return out;
}

// loss.hpp: softmax cross-entropy of integer labels 1..K against an n x K
// matrix of logits, with label smoothing and a reduction ("mean", "sum" or
// "none"); the result carries the first_invalid report.
// [[Rcpp::export]]
Rcpp::NumericVector client_softmax_cross_entropy(Rcpp::IntegerVector y, Rcpp::NumericMatrix logits,
                                                 std::string reduction, bool na_rm,
                                                 double label_smoothing, int nthreads) {
  const xentropy::index_t n = logits.nrow(), K = logits.ncol();
  xentropy::categorical_targets t;
  t.labels.i = y.begin();
  xentropy::categorical_options copt;
  copt.label_smoothing = label_smoothing;
  xentropy::loss_options opt;
  opt.red = reduction == "sum" ? xentropy::reduction::sum
          : reduction == "none" ? xentropy::reduction::none
          : xentropy::reduction::mean;
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  xentropy::first_invalid bad;
  Rcpp::NumericVector out;
  if (opt.red == xentropy::reduction::none) {
    out = Rcpp::NumericVector(Rcpp::no_init(n));
    xentropy::softmax_cross_entropy(t, logits.begin(), n, K, copt, opt, out.begin(), bad);
  } else {
    out = Rcpp::NumericVector::create(
        xentropy::softmax_cross_entropy(t, logits.begin(), n, K, copt, opt, nullptr, bad));
  }
  out.attr("invalid") = invalid_report(bad);
  return out;
}
