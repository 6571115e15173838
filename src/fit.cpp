// Rcpp glue for xentropy/fit.hpp: logistic and softmax regression.
//
// The only translation unit that compiles Eigen (src/xentropy_types.h keeps it
// out of the generated RcppExports.cpp). Arguments are checked in R/fit.R;
// here x is a double n x p matrix, y / t double, w NULL or double.
// fit.hpp compiles Eigen without its SIMD code (see there), so GCC's
// -Wignored-attributes warnings about Eigen's SSE types do not arise.
#include <xentropy/fit.hpp>

#include "glue.h"

namespace {

using xentropy::index_t;
namespace xf = xentropy::fit;

Rcpp::NumericMatrix to_r(const xf::Mat& M) {
  Rcpp::NumericMatrix out(M.rows(), M.cols());
  std::copy(M.data(), M.data() + M.size(), out.begin());
  return out;
}

Rcpp::NumericVector to_r(const xf::Vec& v) {
  Rcpp::NumericVector out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.begin());
  return out;
}

const double* weights_of(SEXP w) { return Rf_isNull(w) ? nullptr : REAL(w); }
const double* offset_of(SEXP o) { return Rf_isNull(o) ? nullptr : REAL(o); }

Rcpp::List common(const xf::result& r) {
  Rcpp::List out = Rcpp::List::create(
      Rcpp::Named("coefficients") = to_r(r.coef), Rcpp::Named("loss") = r.loss,
      Rcpp::Named("penalty") = r.penalty, Rcpp::Named("gradient") = to_r(r.grad),
      Rcpp::Named("hessian") = R_NilValue,
      Rcpp::Named("fitted") = to_r(r.fitted),
      Rcpp::Named("trace") = Rcpp::NumericVector(r.trace.begin(), r.trace.end()),
      Rcpp::Named("iter") = r.iter, Rcpp::Named("code") = r.code,
      Rcpp::Named("method") = r.method);
  if (r.hess.size()) out["hessian"] = to_r(r.hess);
  return out;
}

}  // namespace

// Whether each column of x is all ones (an intercept, left unpenalised).
// [[Rcpp::export(rng = false)]]
Rcpp::LogicalVector ones_columns_impl(SEXP x) {
  const glue::shape s = glue::shape_of(x);
  const double* px = REAL(x);
  Rcpp::LogicalVector out(s.ncol);
  for (index_t j = 0; j < s.ncol; ++j) {
    const double* c = px + j * s.nrow;
    bool all = s.nrow > 0;
    for (index_t i = 0; i < s.nrow && all; ++i) all = c[i] == 1.0;
    out[j] = all;
  }
  return out;
}

// 1-based position of the first NA, NaN or infinite element of x, 0 if none
// (one pass, no allocation; R's is.finite() would allocate a logical copy).
// [[Rcpp::export(rng = false)]]
double first_nonfinite_impl(SEXP x) {
  const double* px = REAL(x);
  const R_xlen_t n = XLENGTH(x);
  for (R_xlen_t i = 0; i < n; ++i)
    if (!std::isfinite(px[i])) return static_cast<double>(i) + 1;
  return 0;
}

// [[Rcpp::export(rng = false)]]
Rcpp::List fit_binary_impl(SEXP x, SEXP y, SEXP w, SEXP offset, SEXP pen, double lambda,
                           SEXP start, double tol, int maxit, bool hessian) {
  const int nthreads = glue::thread_count();  // the package setting (xentropy_threads())
  const glue::shape s = glue::shape_of(x);
  xf::binary_problem pb{REAL(x), s.nrow, s.ncol, REAL(y), weights_of(w), nthreads,
                        offset_of(offset)};
  xf::control ctl;
  ctl.tol = tol;
  ctl.maxit = maxit;
  ctl.hessian = hessian;
  ctl.nthreads = nthreads;
  const xf::Vec beta0 = Eigen::Map<const xf::Vec>(REAL(start), s.ncol);
  // a p x p matrix `pen` is the penalty matrix of another basis (fit.hpp)
  const bool full = Rf_isMatrix(pen) && Rf_nrows(pen) == s.ncol && Rf_ncols(pen) == s.ncol;
  return common(xf::fit_binary(pb, REAL(pen), lambda, beta0, ctl, full ? REAL(pen) : nullptr));
}

// `free` is a p x K double matrix of 0/1, `start` p x K.
// [[Rcpp::export(rng = false)]]
Rcpp::List fit_softmax_impl(SEXP x, SEXP t, SEXP w, SEXP offset, SEXP free, SEXP pen,
                            double lambda, SEXP start, double tol, int maxit,
                            int newton_max_dim, bool hessian) {
  const int nthreads = glue::thread_count();  // the package setting (xentropy_threads())
  const glue::shape s = glue::shape_of(x);
  const glue::shape st = glue::shape_of(t);
  xf::softmax_problem pb{REAL(x), s.nrow, s.ncol, st.ncol, REAL(t), weights_of(w), nthreads,
                         offset_of(offset)};
  xf::control ctl;
  ctl.tol = tol;
  ctl.maxit = maxit;
  ctl.nthreads = nthreads;
  ctl.newton_max_dim = newton_max_dim;
  ctl.hessian = hessian;
  const xf::Mat F = Eigen::Map<const xf::Mat>(REAL(free), s.ncol, st.ncol);
  const xf::Mat W0 = Eigen::Map<const xf::Mat>(REAL(start), s.ncol, st.ncol);
  return common(xf::fit_softmax(pb, F, REAL(pen), lambda, W0, ctl));
}

// The penalised Hessian at `beta` (binary) or `W` (softmax, p x K, over the
// free entries), for vcov() of a fit that did not keep it.
// [[Rcpp::export(rng = false)]]
Rcpp::NumericMatrix binary_hessian_impl(SEXP x, SEXP y, SEXP w, SEXP offset, SEXP pen,
                                        double lambda, SEXP beta) {
  const int nthreads = glue::thread_count();  // the package setting (xentropy_threads())
  const glue::shape s = glue::shape_of(x);
  xf::binary_problem pb{REAL(x), s.nrow, s.ncol, REAL(y), weights_of(w), nthreads,
                        offset_of(offset)};
  const xf::Vec b = Eigen::Map<const xf::Vec>(REAL(beta), s.ncol);
  return to_r(xf::binary_hessian(pb, REAL(pen), lambda, b));
}

// [[Rcpp::export(rng = false)]]
Rcpp::NumericMatrix softmax_hessian_impl(SEXP x, SEXP t, SEXP w, SEXP offset, SEXP free,
                                         SEXP pen, double lambda, SEXP W) {
  const int nthreads = glue::thread_count();  // the package setting (xentropy_threads())
  const glue::shape s = glue::shape_of(x);
  const glue::shape st = glue::shape_of(t);
  xf::softmax_problem pb{REAL(x), s.nrow, s.ncol, st.ncol, REAL(t), weights_of(w), nthreads,
                         offset_of(offset)};
  const xf::Mat F = Eigen::Map<const xf::Mat>(REAL(free), s.ncol, st.ncol);
  const xf::Mat W0 = Eigen::Map<const xf::Mat>(REAL(W), s.ncol, st.ncol);
  return to_r(xf::softmax_hessian(pb, F, REAL(pen), lambda, W0));
}

// R of a QR decomposition of diag(sqrt(w)) X, p x p (for the aliasing test).
// [[Rcpp::export(rng = false)]]
Rcpp::NumericMatrix weighted_r_impl(SEXP x, SEXP w) {
  const glue::shape s = glue::shape_of(x);
  return to_r(xf::weighted_r_factor(REAL(x), s.nrow, s.ncol, weights_of(w)));
}

// The unpenalised loss, its gradient and (optionally) its Hessian at given
// coefficients, over the rows given: one chunk's share of a Newton step (sums
// over chunks add up to the whole data's), and the score test's ingredients.
// Softmax: W is p x K, the gradient p x K, the Hessian over all K classes
// (class-major blocks of p).
// [[Rcpp::export(rng = false)]]
Rcpp::List binary_eval_impl(SEXP x, SEXP y, SEXP w, SEXP offset, SEXP beta, bool hessian,
                            int nthreads) {
  if (nthreads <= 0) nthreads = glue::thread_count();  // 0: the package setting
  const glue::shape s = glue::shape_of(x);
  xf::binary_problem pb{REAL(x), s.nrow, s.ncol, REAL(y), weights_of(w), nthreads,
                        offset_of(offset)};
  const xf::Vec b = Eigen::Map<const xf::Vec>(REAL(beta), s.ncol);
  xf::Vec g;
  xf::Mat H;
  const double f = pb.eval(b, g, hessian ? &H : nullptr);
  return Rcpp::List::create(Rcpp::Named("loss") = f, Rcpp::Named("gradient") = to_r(g),
                            Rcpp::Named("hessian") = hessian ? SEXP(to_r(H)) : R_NilValue);
}

// [[Rcpp::export(rng = false)]]
Rcpp::List softmax_eval_impl(SEXP x, SEXP t, SEXP w, SEXP offset, SEXP W, bool hessian,
                             int nthreads) {
  if (nthreads <= 0) nthreads = glue::thread_count();  // 0: the package setting
  const glue::shape s = glue::shape_of(x);
  const glue::shape st = glue::shape_of(t);
  xf::softmax_problem pb{REAL(x), s.nrow, s.ncol, st.ncol, REAL(t), weights_of(w), nthreads,
                         offset_of(offset)};
  const xf::Mat W0 = Eigen::Map<const xf::Mat>(REAL(W), s.ncol, st.ncol);
  std::vector<index_t> active(st.ncol);
  for (index_t k = 0; k < st.ncol; ++k) active[k] = k;
  xf::Mat G, H;
  const double f = pb.eval(W0, G, hessian ? &H : nullptr, active);
  return Rcpp::List::create(Rcpp::Named("loss") = f, Rcpp::Named("gradient") = to_r(G),
                            Rcpp::Named("hessian") = hessian ? SEXP(to_r(H)) : R_NilValue);
}

// The Newton direction d solving A d = -g as the in-memory fits find it (LLT,
// else LDLT, else LLT with a growing ridge), for the chunked fits' Newton
// iteration in R; NULL when nothing finite is found.
// [[Rcpp::export(rng = false)]]
SEXP newton_direction_impl(SEXP A, SEXP g) {
  const glue::shape s = glue::shape_of(A);
  const xf::Mat Am = Eigen::Map<const xf::Mat>(REAL(A), s.nrow, s.ncol);
  const xf::Vec gv = Eigen::Map<const xf::Vec>(REAL(g), s.nrow);
  xf::Vec d;
  if (!xf::detail::newton_direction(Am, gv, d)) return R_NilValue;
  return to_r(d);
}
