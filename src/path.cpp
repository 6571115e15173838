// Rcpp glue for xentropy/path.hpp: lasso / elastic-net / group-lasso paths.
//
// Arguments are checked in R/path.R. x is a double matrix or a Matrix::dgCMatrix
// (its slots i, p, x mapped in place: never densified or copied); y an n x K double
// matrix of targets (K = 1: binary), w / offset NULL or double, pf double p.
#include <xentropy.h>  // before R's headers (Rmath.h defines log1mexp as a macro)
#include <xentropy/path.hpp>

#include "glue.h"
#include "interrupt.h"

namespace {

namespace xp = xentropy::path;
using xentropy::index_t;

template <class T>
Rcpp::NumericVector num(const std::vector<T>& v) {
  return Rcpp::NumericVector(v.begin(), v.end());
}

}  // namespace

// [[Rcpp::export(rng = false)]]
Rcpp::List path_fit_impl(SEXP x, bool sparse, SEXP y, SEXP w, SEXP offset, SEXP pf,
                         double alpha, bool grouped, SEXP lambda, int nlambda, double ratio,
                         bool intercept, bool standardize, double thresh, double kkt_tol,
                         int maxit, int max_outer, bool early_stop) {
  const glue::shape sy = glue::shape_of(y);
  xp::problem pb;
  pb.n = sy.nrow;
  pb.K = sy.ncol;
  pb.y = REAL(y);
  pb.w = Rf_isNull(w) ? nullptr : REAL(w);
  pb.offset = Rf_isNull(offset) ? nullptr : REAL(offset);
  pb.pf = REAL(pf);
  pb.intercept = intercept;
  pb.standardize = standardize;
  xp::control ctl;
  ctl.thresh = thresh;
  ctl.kkt_tol = kkt_tol;
  ctl.maxit = maxit;
  ctl.max_outer = max_outer;
  ctl.early_stop = early_stop;
  ctl.nthreads = glue::thread_count();
  std::vector<double> lam;
  if (!Rf_isNull(lambda)) lam.assign(REAL(lambda), REAL(lambda) + XLENGTH(lambda));
  xp::result r;
  if (sparse) {
    SEXP dim = R_do_slot(x, Rf_install("Dim"));
    const int nr = INTEGER(dim)[0], nc = INTEGER(dim)[1];
    SEXP xi = R_do_slot(x, Rf_install("i")), xpp = R_do_slot(x, Rf_install("p")),
         xx = R_do_slot(x, Rf_install("x"));
    const xp::SparseMap X(nr, nc, INTEGER(xpp)[nc], INTEGER(xpp), INTEGER(xi), REAL(xx));
    pb.p = nc;
    glue::interruptible([&] { r = xp::fit_path(X, pb, alpha, grouped, lam, nlambda, ratio, ctl); });
  } else {
    const glue::shape sx = glue::shape_of(x);
    const xp::DenseMap X(REAL(x), sx.nrow, sx.ncol);
    pb.p = sx.ncol;
    glue::interruptible([&] { r = xp::fit_path(X, pb, alpha, grouped, lam, nlambda, ratio, ctl); });
  }
  const index_t L = static_cast<index_t>(r.lambda.size());
  Rcpp::NumericVector beta = num(r.beta);
  beta.attr("dim") = Rcpp::IntegerVector::create(pb.p, pb.K, L);
  Rcpp::NumericVector a0 = num(r.a0);
  a0.attr("dim") = Rcpp::IntegerVector::create(pb.K, L);
  return Rcpp::List::create(
      Rcpp::Named("beta") = beta, Rcpp::Named("a0") = a0,
      Rcpp::Named("lambda") = num(r.lambda), Rcpp::Named("dev") = num(r.dev),
      Rcpp::Named("dev_ratio") = num(r.dev_ratio), Rcpp::Named("kkt") = num(r.kkt),
      Rcpp::Named("loss") = num(r.loss), Rcpp::Named("penalty") = num(r.penalty),
      Rcpp::Named("df") = Rcpp::IntegerVector(r.df.begin(), r.df.end()),
      Rcpp::Named("passes") = Rcpp::IntegerVector(r.passes.begin(), r.passes.end()),
      Rcpp::Named("code") = Rcpp::IntegerVector(r.code.begin(), r.code.end()),
      Rcpp::Named("null_dev") = r.null_dev, Rcpp::Named("lambda_max") = r.lambda_max,
      Rcpp::Named("centre") = num(r.centre), Rcpp::Named("scale") = num(r.scale),
      Rcpp::Named("pf") = num(r.pf), Rcpp::Named("separated") = r.separated);
}
