// xentropy/path.hpp -- regularisation paths of logistic and softmax regression
// (lasso, elastic net, ridge, group lasso) by proximal Newton with coordinate
// descent, warm starts, strong rules, a working set and a KKT certificate.
//
// Objective at each lambda (glmnet's convention; w_i normalised to sum to 1,
// z_ij = (x_ij - c_j) / s_j the standardised columns, beta their coefficients):
//   F(a, beta) = sum_i w_i loss_i(o_i + a + z_i' beta) + lambda sum_j pf_j P(beta_j)
//   P(b) = (1 - alpha) / 2 ||b||^2 + alpha ||b||_1           (ridge, lasso, elastic net)
//   P(b) = (1 - alpha) / 2 ||b||^2 + alpha ||b||_2           (group lasso, b = a feature's K
//                                                             softmax coefficients)
// Binary loss: y softplus(-eta) + (1 - y) softplus(eta) (PRML 4.90, via link.hpp's softplus,
// never the log of a rounded probability); softmax: logsumexp(eta_i) - sum_k y_ik eta_ik
// (PRML 4.108), all K classes free (glmnet's over-parameterisation; the penalty identifies
// the coefficients but for the lasso's even K, the intercepts are centred when reported).
//
// Solver (one for every penalty): proximal Newton. At the current eta the loss is replaced
// by its second-order model and the model plus the penalty is minimised by cyclic
// coordinate descent over the working set; the step to the model's minimiser is damped by
// backtracking on F itself, so F decreases at every outer step whatever the model.
//  - Binary: the model's Hessian is Z' diag(v) Z with IRLS weights v_i = w_i p_i (1 - p_i),
//    exact. Once the active set and signs settle, the model is solved on them by conjugate
//    gradients (the step cut at the first sign change), which replaces the many passes
//    descent needs on correlated or ill-conditioned columns (CG's iterations grow with
//    the square root of the condition number, descent's passes with the number itself).
//  - Softmax: the model has the full softmax Hessian, sum_i w_i z_i z_i' (x) (diag p_i -
//    p_i p_i'), not glmnet's class-diagonal approximation (which converges only linearly
//    in the outer steps, far too slowly for a certificate). Coordinate (j, k) reads the
//    model gradient sum_i z_ij (r_ik - w_i p_ik (d_ik - t_i)) from the change d of eta
//    and t_i = sum_k p_ik d_ik, both kept up to date, so a coordinate costs O(n) as in the
//    binary case and proximal Newton converges quadratically. The group lasso moves a
//    feature's K coefficients as a block under the majorant diag(p_i) of the class block
//    of the Hessian, minimised exactly (penalty.hpp). Exact steps on the settled active
//    set: conjugate gradients (separable penalties), an LDLT (the group lasso).
// Penalties are small types with value(), update() (the proximal coordinate step),
// violation() (distance of -gradient from the subdifferential) and dual_norm() (for
// lambda_max and the strong rule).
//
// Standardisation is implicit: c_j and s_j are computed once, x is never copied. Binary:
// the centring enters the inner products as scalars (glmnet's device for sparse x): with
// dX = X (delta / s) and a scalar C, the model residual m = mx - v C, so an update of one
// coefficient touches only that column's non-zeros. Softmax: dense columns are centred on
// the fly; sparse ones are not centred (c_j = 0): with an unpenalised intercept the fit is
// the same, and an update touches only the column's non-zeros.
//
// Certificate: a lambda is accepted only after the gradient of the loss at the final
// iterate has been computed afresh over ALL features and the largest KKT violation
// (including the intercepts' gradients) is at most kkt_tol * min(lambda, ||g(0)||), with
// ||g(0)|| = lambda_max max(alpha, 1e-3) the null model's largest gradient (for the
// lasso: kkt_tol * lambda); it is stored per lambda, relative to that scale. Otherwise
// the lambda's status says why (max_iterations, stalled).
//
// Sequential strong rule (Tibshirani et al. 2012): a feature enters the working set at
// lambda_l when ||grad_j||_* >= alpha pf_j (2 lambda_l - lambda_{l-1}); features with
// non-zero coefficients and unpenalised ones are always in. Violators found by the full
// KKT check are added and the lambda is solved again.
//
// The data matrix is read in place: a dense column-major Eigen::Map or a compressed
// sparse column Eigen::Map (a dgCMatrix's slots). Per-row arrays are class-major (n x K,
// column k contiguous), so each coordinate's loops run over contiguous memory. Nothing
// here calls R.
#ifndef XENTROPY_PATH_HPP
#define XENTROPY_PATH_HPP

// The same Eigen configuration as fit.hpp (both may be compiled into one program).
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#if !defined(EIGEN_DONT_VECTORIZE) && !defined(XENTROPY_FIT_EIGEN_VECTORIZE)
#define EIGEN_DONT_VECTORIZE
#endif

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

#include "common.hpp"
#include "link.hpp"
#include "path_kernels.hpp"
#include "path_problem.hpp"
#include "penalty.hpp"

namespace xentropy {
namespace path {

template <class Matrix, class Penalty>
class solver {
 public:
  solver(const Matrix& X, const problem& pb, const Penalty& pen, const control& ctl)
      : X_(X), pb_(pb), pen_(pen), ctl_(ctl), n_(pb.n), p_(pb.p), K_(pb.K) {
    setup();
  }

  // lambdas: the sequence to fit (decreasing), or empty with nlambda / ratio for the
  // default sequence.
  result run(std::vector<double> lambdas, index_t nlambda, double ratio) {
    result out;
    out.centre = c_;
    out.scale = s_;
    out.pf = pf_;
    // the null model (intercepts with the offset): deviance and starting point
    std::vector<index_t> ws;
    solve(1.0, ws, nullptr);
    const double null_loss = loss_at(eta_.data());
    // deviances as glm's and glmnet's: from the saturated model's loss (0 for 0/1 targets)
    const double sat = saturated_loss(y_.data(), w_.data(), n_, K_);
    out.null_dev = 2.0 * sumw_ * (null_loss - sat);
    f0_ = std::max(null_loss, 1e-300);
    // unpenalised features join the starting fit
    for (index_t j = 0; j < p_; ++j)
      if (!excluded_[j] && pf_[j] == 0.0) ws.push_back(j);
    if (!ws.empty()) solve(1.0, ws, nullptr);
    // glm's test for separation (no minimum) on the fit without penalised columns
    if (pb_.intercept || !ws.empty()) out.separated = extreme_fit(eta_.data(), w_.data(), n_, K_);
    full_gradient();
    const double a = std::max(pen_.alpha, 1e-3);
    double lmax = 0.0;
    std::vector<double> gc(K_);
    for (index_t j = 0; j < p_; ++j) {
      if (excluded_[j] || pf_[j] == 0.0) continue;
      // the gradient of the centred column (as for dense x, whatever the solver's own
      // centring), and zero when it is at the level of rounding, or of the residuals
      // the starting fits leave (their gradients are at most aux_tol_: where the
      // intercepts or unpenalised columns separate the data, the residuals are that
      // small), so that dense and sparse x (whose sums run in different orders, to
      // starting fits that differ at that level) start from the same lambda
      double ab = 0.0, xa = 0.0;
      for_col(X_, j, [&](index_t i, double x) { xa += w_[i] * std::fabs(x); });
      xa = (xa + std::fabs(mean_[j])) / s_[j];
      for (index_t k = 0; k < K_; ++k) {
        gc[k] = G_[j * K_ + k] + (mean_[j] - c_[j]) * Rk_[k] / s_[j];
        double sa = 0.0;
        const double* r = &res_[k * n_];
        for_col(X_, j, [&](index_t i, double x) { sa += std::fabs(x * r[i]); });
        ab = std::max(ab, (sa + std::fabs(mean_[j] * Rk_[k])) / s_[j]);
      }
      const double gn = Penalty::dual_norm(gc.data(), K_);
      if (gn <= 64.0 * std::numeric_limits<double>::epsilon() * ab + 100.0 * aux_tol_ * xa) continue;
      lmax = std::max(lmax, gn / (pf_[j] * a));
    }
    out.lambda_max = lmax;
    gscale_ = lmax * a;
    const bool user = !lambdas.empty();
    if (!user) {
      const double top = lmax > 0 ? lmax : 1.0;  // nothing can enter: any sequence
      lambdas.resize(static_cast<size_t>(nlambda));
      for (index_t l = 0; l < nlambda; ++l)
        lambdas[l] = nlambda == 1 ? top
                                  : std::exp(std::log(top) + l * std::log(ratio) / (nlambda - 1));
      if (nlambda > 0) lambdas[0] = top;
    }
    double prev = lmax > 0 ? std::max(lmax, lambdas.empty() ? 0.0 : lambdas[0]) : 0.0;
    for (size_t l = 0; l < lambdas.size(); ++l) {
      const double lam = lambdas[l];
      // working set: non-zero, unpenalised and strong features
      std::vector<index_t> next;
      for (index_t j = 0; j < p_; ++j) {
        if (excluded_[j]) continue;
        bool in = pf_[j] == 0.0;
        for (index_t k = 0; k < K_ && !in; ++k) in = beta_[j * K_ + k] != 0.0;
        if (!in) in = Penalty::dual_norm(&G_[j * K_], K_) >= pen_.alpha * pf_[j] * (2.0 * lam - prev);
        if (in) next.push_back(j);
      }
      ws.swap(next);
      lambda_stats st;
      solve(lam, ws, &st);
      if (interrupted_) {
        out.interrupted = true;
        break;
      }
      prev = lam;
      // record on the original scale (the lasso with an even K: see median_midpoint();
      // the solver keeps a penalised feature's coefficients there, up to rounding, and
      // an unpenalised one's at mean zero)
      std::vector<double> mid(p_, 0.0);
      for (index_t j = 0; K_ % 2 == 0 && !Penalty::grouped && pen_.alpha == 1.0 && j < p_; ++j)
        if (pf_[j] > 0.0) mid[j] = median_midpoint(&beta_[j * K_], K_);
      for (index_t k = 0; k < K_; ++k) {
        double a0 = a0_[k];
        for (index_t j = 0; j < p_; ++j) {
          const double bj = beta_[j * K_ + k] - mid[j];
          const double b = bj == 0.0 ? 0.0 : bj / s_[j];
          out.beta.push_back(b);
          a0 -= c_[j] * b;
        }
        tmp_a0_[k] = a0;
      }
      if (K_ > 1 && pb_.intercept) {
        double m = 0.0;
        for (index_t k = 0; k < K_; ++k) m += tmp_a0_[k];
        m /= K_;
        for (index_t k = 0; k < K_; ++k) tmp_a0_[k] -= m;
      }
      for (index_t k = 0; k < K_; ++k) out.a0.push_back(tmp_a0_[k]);
      int df = 0;
      for (index_t j = 0; j < p_; ++j) {
        bool nz = false;
        for (index_t k = 0; k < K_ && !nz; ++k) nz = beta_[j * K_ + k] != 0.0;
        df += nz;
      }
      const double loss = loss_at(eta_.data());
      const double dev = 2.0 * sumw_ * (loss - sat);
      out.lambda.push_back(lam);
      out.loss.push_back(loss);
      out.penalty.push_back(penalty_all(lam));
      out.dev.push_back(dev);
      out.dev_ratio.push_back(out.null_dev > 0 ? 1.0 - dev / out.null_dev : 0.0);
      out.df.push_back(df);
      out.passes.push_back(st.passes);
      out.kkt.push_back(st.kkt / kkt_scale(lam));
      out.code.push_back(st.code);
      if (ctl_.early_stop && !user && l >= 4) {
        const size_t m = out.dev_ratio.size();
        const double d1 = out.dev_ratio[m - 1], d0 = out.dev_ratio[m - 2];
        if (d1 >= 0.999 || d1 - d0 < 1e-5) break;  // glmnet's rule (absolute)
      }
    }
    return out;
  }

 private:
  struct lambda_stats {
    int passes = 0;
    int code = converged;
    double kkt = 0.0;
  };

  const Matrix& X_;
  const problem& pb_;
  Penalty pen_;
  control ctl_;
  index_t n_, p_, K_;
  double sumw_ = 0.0, f0_ = 1.0;
  bool interrupted_ = false;
  std::vector<double> w_, y_, off_, pf_, c_, s_, mean_;  // mean_: weighted means (intercept)
  std::vector<char> excluded_;
  double gscale_ = 0.0;  // ||g(0)||: lambda_max max(alpha, 1e-3) (0 until known)
  index_t npos_ = 0;   // rows of positive weight
  std::vector<double> beta_, a0_, tmp_a0_, eta_;
  // Per outer step; n x K arrays class-major. res: w (y - p); v: IRLS weights; binary:
  // mx the model residual, dX the change of eta; softmax: P, wp = w P, dX, t = sum_k P dX.
  std::vector<double> v_, res_, mx_, dX_, P_, wp_, t_, xv_, h_, G_, Rk_, scratch_n_;
  mutable std::vector<double> lterms_;  // loss_at()'s per-row terms
  // auxiliary fits (null model, unpenalised features) start the path: well below any
  // lambda's tolerance
  static constexpr double aux_tol_ = 1e-12;
  // binary: passes before the next exact step, an eighth of the last one's iterations
  index_t cg_wait_ = 2;

  void setup() {
    const index_t n = n_, K = K_;
    w_.assign(n, 1.0);
    if (pb_.w)
      for (index_t i = 0; i < n; ++i) w_[i] = pb_.w[i];
    sumw_ = 0.0;
    for (index_t i = 0; i < n; ++i) sumw_ += w_[i];
    for (index_t i = 0; i < n; ++i) w_[i] /= sumw_;
    npos_ = 0;
    for (index_t i = 0; i < n; ++i) npos_ += w_[i] > 0.0;
    y_.assign(pb_.y, pb_.y + n * K);
    if (pb_.offset) off_.assign(pb_.offset, pb_.offset + n * K);
    else off_.assign(n * K, 0.0);
    // penalty factors rescaled to sum to p (glmnet)
    pf_.assign(p_, 1.0);
    if (pb_.pf) {
      double s = 0.0;
      for (index_t j = 0; j < p_; ++j) s += pb_.pf[j];
      for (index_t j = 0; j < p_; ++j) pf_[j] = s > 0 ? pb_.pf[j] * p_ / s : pb_.pf[j];
    }
    // weighted column centres and scales, read from x once
    c_.assign(p_, 0.0);
    mean_.assign(p_, 0.0);
    s_.assign(p_, 1.0);
    excluded_.assign(p_, 0);
    // softmax on sparse x: columns are not centred (the intercept absorbs it)
    const bool centre = pb_.intercept && !(K > 1 && is_sparse(X_));
    for (index_t j = 0; j < p_; ++j) {
      double m = 0.0;
      for_col(X_, j, [&](index_t i, double x) { m += w_[i] * x; });
      double ss = 0.0, sq = 0.0;
      for_col(X_, j, [&](index_t i, double x) {
        const double d = x - m;
        ss += w_[i] * d * d;
        sq += w_[i] * x * x;
      });
      // rows not stored (sparse zeros) contribute w_i m^2; counted, not inferred from
      // 1 - (weight stored), which is rounding (about eps m^2, far above a constant
      // column's variance) when every row of positive weight is stored
      double wstored = 0.0, v0 = 0.0;
      index_t npos = 0;
      bool constant = true;  // over the rows of positive weight, tested exactly
      for_col(X_, j, [&](index_t i, double x) {
        wstored += w_[i];
        if (w_[i] > 0.0) {
          if (npos == 0) v0 = x;
          else constant = constant && x == v0;
          ++npos;
        }
      });
      if (npos < npos_) {
        ss += std::max(1.0 - wstored, 0.0) * m * m;
        constant = constant && (npos == 0 || v0 == 0.0);  // the unstored rows are zeros
      }
      ss = std::max(ss, 0.0);
      // zero a constant column's variance (the rounding of its mean: 150 ones, (20 eps)^2)
      const double eps = std::numeric_limits<double>::epsilon();
      const double var = constant || ss <= 64.0 * eps * eps * sq ? 0.0 : ss;
      if (pb_.intercept) mean_[j] = m;
      if (centre) c_[j] = m;
      // without an intercept a constant column is a covariate (the intercept, when its
      // penalty factor is 0), scaled by its root mean square; with one it cannot enter
      if (pb_.standardize) s_[j] = std::sqrt(pb_.intercept || var > 0.0 ? var : sq);
      const bool usable = pb_.intercept ? var > 0.0 : sq > 0.0;
      if (!usable) {
        excluded_[j] = 1;
        s_[j] = 1.0;
      }
    }
    beta_.assign(p_ * K, 0.0);
    a0_.assign(K, 0.0);
    tmp_a0_.assign(K, 0.0);
    eta_ = off_;
    v_.assign(n * K, 0.0);
    res_.assign(n * K, 0.0);
    dX_.assign(n * K, 0.0);
    if (K == 1) {
      mx_.assign(n, 0.0);
    } else {
      P_.assign(n * K, 0.0);
      wp_.assign(n * K, 0.0);
      t_.assign(n, 0.0);
    }
    xv_.assign(p_ * K, 0.0);
    h_.assign(p_ * K, 0.0);
    G_.assign(p_ * K, 0.0);
    Rk_.assign(K, 0.0);
    lterms_.assign(n, 0.0);
  }

  // sum_i w_i loss_i at eta (n x K, class-major): the terms by the vectorised kernels,
  // their sum compensated
  double loss_at(const double* eta) const {
    const index_t n = n_, K = K_;
    double* l = lterms_.data();
    if (K == 1) vm::dispatch<kernels::binary_loss_k>(eta, y_.data(), w_.data(), n, l);
    else vm::dispatch<kernels::softmax_loss_k>(eta, y_.data(), w_.data(), n, K, l);
    compensated_sum f;
    for (index_t i = 0; i < n; ++i) f.add(l[i]);
    return f.value();
  }

  double penalty_ws(const std::vector<index_t>& ws, const double* beta, double lam) const {
    double s = 0.0;
    for (index_t j : ws) s += pen_.value(beta + j * K_, K_, lam * pf_[j]);
    return s;
  }
  double penalty_all(double lam) const {
    double s = 0.0;
    for (index_t j = 0; j < p_; ++j) s += pen_.value(&beta_[j * K_], K_, lam * pf_[j]);
    return s;
  }

  // residuals res = w (y - p), IRLS weights v, and their class sums, at eta_
  void working() {
    const index_t n = n_, K = K_;
    if (K == 1)
      vm::dispatch<kernels::binary_working_k>(eta_.data(), y_.data(), w_.data(),
                                              ctl_.weight_floor, n, res_.data(), v_.data());
    else
      vm::dispatch<kernels::softmax_working_k>(eta_.data(), y_.data(), w_.data(),
                                               ctl_.weight_floor, n, K, P_.data(), wp_.data(),
                                               res_.data(), v_.data());
    for (index_t k = 0; k < K; ++k) {
      double r = 0.0;
      for (index_t i = 0; i < n; ++i) r += res_[k * n + i];
      Rk_[k] = r;
    }
  }

  // loss gradient of feature j (K values) at the current res_
  void gradient_of(index_t j, double* g) const {
    for (index_t k = 0; k < K_; ++k)
      g[k] = -(col_dot(X_, j, &res_[k * n_]) - c_[j] * Rk_[k]) / s_[j];
  }

  // G_ for every feature (excluded ones: 0), threads over features
  void full_gradient() {
    // threads only for work worth waking them (a region's start and its idle spin cost
    // more than a small gradient)
    const index_t work = (static_cast<index_t>(X_.nonZeros()) + p_) * K_;  // dense: n p K
    const int nt = work < (index_t(1) << 20) ? 1 : threads_for(ctl_.nthreads, work);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16) if (nt > 1)
#endif
    for (index_t j = 0; j < p_; ++j) {
      if (excluded_[j]) {
        for (index_t k = 0; k < K_; ++k) G_[j * K_ + k] = 0.0;
        continue;
      }
      gradient_of(j, &G_[j * K_]);
    }
    (void)nt;
  }

  // eta = offset + a0 + sum_j (x_j - c_j) beta_j / s_j, afresh
  void refresh_eta() {
    const index_t n = n_, K = K_;
    for (index_t k = 0; k < K; ++k) {
      double a = a0_[k];
      for (index_t j = 0; j < p_; ++j)
        if (beta_[j * K + k] != 0.0) a -= c_[j] * beta_[j * K + k] / s_[j];
      double* e = &eta_[k * n];
      const double* o = &off_[k * n];
      for (index_t i = 0; i < n; ++i) e[i] = o[i] + a;
      for (index_t j = 0; j < p_; ++j)
        if (beta_[j * K + k] != 0.0) col_axpy(X_, j, beta_[j * K + k] / s_[j], e);
    }
  }

  // The scale of the KKT tolerance at lambda: kkt_tol times min(lambda, the largest
  // gradient of the null model, ||g(0)|| = lambda_max max(alpha, 1e-3)). For the lasso
  // that is lambda (lambda <= lambda_max); a ridge path starts at 1000 ||g(0)||, where
  // kkt_tol lambda would allow a gradient error of 0.1% of the gradient itself and,
  // on ill-conditioned problems, objectives off by 1e-4 relative.
  double kkt_scale(double lam) const { return gscale_ > 0.0 ? std::min(lam, gscale_) : lam; }

  // The intercepts' largest gradient, scaled to be compared with kkt_tol S (S =
  // kkt_scale(lambda)) as the features' violations are: an intercept's gradient is a
  // mean residual (at most 1 in size), so its tolerance is kkt_tol min(S, 1). (With
  // unstandardised columns of size 1e6, S can be 1e8: kkt_tol S alone would not
  // constrain it at all.)
  double intercept_violation(double S) const {
    if (!pb_.intercept) return 0.0;
    double m = 0.0;
    for (index_t k = 0; k < K_; ++k) m = std::max(m, std::fabs(Rk_[k]));
    return S > 1.0 ? m * S : m;
  }

  // Solves at lambda over the working set ws (extended by KKT violators), from the
  // current state. st == nullptr: an auxiliary fit (null model), no certificate.
  void solve(double lam, std::vector<index_t>& ws, lambda_stats* st) {
    const index_t K = K_, n = n_;
    std::vector<char> in_ws(p_, 0);
    for (index_t j : ws) in_ws[j] = 1;
    working();
    std::vector<double> gtmp(K), beta_old, eta_new(n * K), Cm(K), Smx(K), V(K);
    const double S = st == nullptr ? 1.0 : kkt_scale(lam);
    const double tol_kkt = ctl_.kkt_tol * S;
    int passes = 0;
    int code = converged;
    // violation over the working set and the intercepts at the current state
    // (when the working set holds most of x's entries, every feature is checked at
    // each outer step for about the same cost, and violators join at once rather than
    // after the working set has been solved to the certificate's tolerance)
    index_t nnz_ws = 0, nnz_all = 0;
    for (index_t j : ws) nnz_ws += col_nnz(X_, j);
    for (index_t j = 0; j < p_; ++j) nnz_all += excluded_[j] ? 0 : col_nnz(X_, j);
    const bool check_all = st != nullptr && 2 * nnz_ws >= nnz_all;
    // the largest violation over all features and the intercepts, from a fresh full
    // gradient; violators join the working set (`added` says whether any did)
    auto all_violations = [&](bool& added) {
      full_gradient();
      double m = intercept_violation(S);
      added = false;
      for (index_t j = 0; j < p_; ++j) {
        if (excluded_[j]) continue;
        const double e = pen_.violation(&beta_[j * K], &G_[j * K], K, lam * pf_[j]);
        m = std::max(m, e);
        if (e > tol_kkt && !in_ws[j]) {
          in_ws[j] = 1;
          ws.push_back(j);
          added = true;
        }
      }
      return m;
    };
    auto ws_violation = [&]() {
      if (check_all) {
        bool added;
        return all_violations(added);
      }
      double m = intercept_violation(S);
      for (index_t j : ws) {
        gradient_of(j, gtmp.data());
        m = std::max(m, pen_.violation(&beta_[j * K], gtmp.data(), K, lam * pf_[j]));
      }
      return m;
    };
    double viol = ws_violation();
    for (int outer = 0;; ++outer) {
      if (st == nullptr ? viol <= aux_tol_ : viol <= tol_kkt) {
        if (st == nullptr) break;
        // certificate over all features, at eta recomputed from the coefficients (the
        // ones returned), not the eta updated step by step, which carries the rounding
        // of every move (large where columns of size 1e6 moved and moved back)
        refresh_eta();
        working();
        bool added;
        const double m = all_violations(added);
        st->kkt = m;
        if (m <= tol_kkt) break;
        if (!added) {  // cannot happen unless rounding: report it
          code = stalled;
          break;
        }
        viol = m;
      }
      if (outer >= ctl_.max_outer || passes >= ctl_.maxit) {
        code = max_iterations;
        break;
      }
      if (interrupted(n * K * static_cast<index_t>(ws.size() + 1))) {
        interrupted_ = true;
        return;
      }
      // --- quadratic model at eta_: curvatures of the working set ---
      for (index_t k = 0; k < K; ++k) {
        double s = 0.0;
        for (index_t i = 0; i < n; ++i) s += v_[k * n + i];
        V[k] = s;
        Smx[k] = Rk_[k];
        Cm[k] = 0.0;
      }
      std::fill(dX_.begin(), dX_.end(), 0.0);
      if (K == 1) mx_ = res_;
      else std::fill(t_.begin(), t_.end(), 0.0);
      // Group lasso: a feature's block of the softmax Hessian, sum_i w_i z_ij^2 (diag p_i -
      // p_i p_i'), is below both sum_i w_i z_ij^2 diag(p_i) and twice its own diagonal (the
      // block is diagonally dominant with equality); the block step takes the one with the
      // smaller trace (the first is tight for balanced classes, the second near separation).
      if (Penalty::grouped)
        for (index_t k = 0; k < K; ++k) {
          double s = 0.0;
          for (index_t i = 0; i < n; ++i) s += wp_[k * n + i];
          Cm[k] = s;  // sum_i w_i p_ik, used only here
        }
      std::vector<double> hb(K);
      for (index_t j : ws) {
        const double c = c_[j], s = s_[j];
        double tr_v = 0.0, tr_p = 0.0;
        for (index_t k = 0; k < K; ++k) {
          double xv, xxv;
          col_wsums(X_, j, &v_[k * n], xv, xxv);
          const double h = (xxv - 2.0 * c * xv + c * c * V[k]) / (s * s);
          h_[j * K + k] = h > 1e-300 ? h : 1e-300;
          xv_[j * K + k] = xv;
          if (!Penalty::grouped) continue;
          tr_v += 2.0 * h_[j * K + k];
          col_wsums(X_, j, &wp_[k * n], xv, xxv);
          const double hp = (xxv - 2.0 * c * xv + c * c * Cm[k]) / (s * s);
          hb[k] = hp > 1e-300 ? hp : 1e-300;
          tr_p += hb[k];
        }
        if (Penalty::grouped)
          for (index_t k = 0; k < K; ++k)
            h_[j * K + k] = tr_p < tr_v ? hb[k] : 2.0 * h_[j * K + k];
      }
      std::fill(Cm.begin(), Cm.end(), 0.0);
      beta_old.assign(beta_.begin(), beta_.end());
      const std::vector<double> a0_old = a0_;
      const double g_tol = std::max(0.05 * tol_kkt, 0.1 * viol);
      const double d_tol = ctl_.thresh * f0_;
      if (K == 1) {
        passes += cd_binary(ws, lam, Cm, Smx, V, g_tol, d_tol, passes,
                            std::integral_constant<bool, Penalty::grouped>());
        // the change of eta (uncentred part; the centring is in Cm), once per step
        // rather than with every coordinate move
        for (index_t j : ws) {
          const double d = beta_[j] - beta_old[j];
          if (d != 0.0) col_axpy(X_, j, d / s_[j], dX_.data());
        }
      } else {
        passes += cd_softmax(ws, lam, V, g_tol, d_tol, passes);
      }
      // --- direction and backtracking on F ---
      const double pen_old = penalty_ws(ws, beta_old.data(), lam);
      std::vector<double> dbeta(beta_.size());
      for (size_t q = 0; q < beta_.size(); ++q) dbeta[q] = beta_[q] - beta_old[q];
      std::vector<double> da0(K);
      for (index_t k = 0; k < K; ++k) da0[k] = a0_[k] - a0_old[k];
      const double F0 = loss_at(eta_.data()) + pen_old;
      double t = 1.0, Fn = 0.0;
      bool ok = false;
      const double noise = 64 * std::numeric_limits<double>::epsilon() * std::fabs(F0);
      for (int tries = 0; tries < 40; ++tries) {
        for (index_t k = 0; k < K; ++k) {
          const double* d = &dX_[k * n];
          const double* e = &eta_[k * n];
          double* en = &eta_new[k * n];
          const double ck = Cm[k];
          for (index_t i = 0; i < n; ++i) en[i] = e[i] + t * (d[i] + ck);
        }
        if (t != 1.0)
          for (index_t j : ws)
            for (index_t k = 0; k < K; ++k)
              beta_[j * K + k] = beta_old[j * K + k] + t * dbeta[j * K + k];
        Fn = loss_at(eta_new.data()) + penalty_ws(ws, beta_.data(), lam);
        if (std::isfinite(Fn) && Fn <= F0 + noise) {
          ok = true;
          break;
        }
        t /= 2.0;
      }
      if (!ok) {
        beta_ = beta_old;
        a0_ = a0_old;
        working();
        code = stalled;
        break;
      }
      for (index_t k = 0; k < K; ++k) a0_[k] = a0_old[k] + t * da0[k];
      eta_.swap(eta_new);
      // softmax: move each feature's K coefficients together to where the penalty is
      // least; the loss (and eta's softmax) is unchanged, the objective does not rise,
      // and the loss-flat direction is resolved at once rather than by slow descent
      // (unpenalised features: to mean zero, or they drift along that direction until
      // x_ij beta_jk swamps the rest of eta in rounding)
      if (K > 1)
        for (index_t j : ws) {
          double cj = 0.0;
          if (pf_[j] == 0.0) {
            for (index_t k = 0; k < K; ++k) cj += beta_[j * K + k];
            cj /= static_cast<double>(K);
            // and eta with them (a per-row shift common to the classes)
            if (cj != 0.0)
              for (index_t k = 0; k < K; ++k) col_axpy(X_, j, -cj / s_[j], &eta_[k * n]);
          } else {
            cj = pen_.centre(&beta_[j * K], K);
          }
          if (cj != 0.0)
            for (index_t k = 0; k < K; ++k) beta_[j * K + k] -= cj;
        }
      working();
      viol = ws_violation();
    }
    if (st) {
      st->passes = passes;
      st->code = code;
      if (code != converged) {
        full_gradient();
        double m = intercept_violation(S);
        for (index_t j = 0; j < p_; ++j)
          if (!excluded_[j])
            m = std::max(m, pen_.violation(&beta_[j * K], &G_[j * K], K, lam * pf_[j]));
        st->kkt = m;
      }
    }
  }

  // Runs coordinate descent passes: one over the whole working set, then over its
  // non-zero coefficients until they settle, then the whole set again, until a pass over
  // the whole set moves nothing more than the tolerances. `pass(set, dmax, gmax)`
  // returns the largest h d^2 and h |d| of the moves; `settle(act, dmax, gmax)` may
  // replace passes over the active set (the binary exact solve). Returns the passes.
  template <class Pass, class Settle>
  int descend(const std::vector<index_t>& ws, double g_tol, double d_tol, int passes_before,
              Pass pass, Settle settle) {
    const index_t K = K_;
    int passes = 0;
    auto done = [&](double dmax, double gmax) { return dmax <= d_tol && gmax <= g_tol; };
    std::vector<index_t> act;
    const int limit = ctl_.maxit - passes_before;
    while (passes < limit) {
      double dmax, gmax;
      pass(ws, dmax, gmax);
      ++passes;
      if (done(dmax, gmax)) break;
      act.clear();
      for (index_t j : ws) {
        bool nz = false;
        for (index_t k = 0; k < K && !nz; ++k) nz = beta_[j * K + k] != 0.0;
        if (nz) act.push_back(j);
      }
      // (when every coordinate of the set is active, settle() ends with a pass over the
      // whole set that moved nothing beyond the tolerances: converged)
      if (settle(act, passes, limit, done) && act.size() == ws.size()) break;
    }
    return passes;
  }

  // Only the code a (matrix, penalty) pair can reach is compiled for it (the installed
  // library stays small): the group lasso is softmax-only, each matrix type has its
  // own exact step.
  int cd_binary(const std::vector<index_t>& ws, double lam, std::vector<double>& Cm,
                std::vector<double>& Smx, const std::vector<double>& V, double g_tol,
                double d_tol, int passes_before, std::false_type) {
    return cd(ws, lam, Cm, Smx, V, g_tol, d_tol, passes_before);
  }
  int cd_binary(const std::vector<index_t>&, double, std::vector<double>&, std::vector<double>&,
                const std::vector<double>&, double, double, int, std::true_type) {
    return 0;  // not reached: fit_path() takes the group lasso only for K > 1
  }
  // Binary: coordinate descent on the quadratic model over ws. Returns the passes made.
  int cd(const std::vector<index_t>& ws, double lam, std::vector<double>& Cm,
         std::vector<double>& Smx, const std::vector<double>& V, double g_tol, double d_tol,
         int passes_before) {
    double* mx = mx_.data();
    const double* v = v_.data();
    auto pass = [&](const std::vector<index_t>& set, double& dmax, double& gmax) {
      dmax = gmax = 0.0;
      if (pb_.intercept) {
        const double d0 = (Smx[0] - Cm[0] * V[0]) / V[0];
        Cm[0] += d0;
        a0_[0] += d0;
        dmax = std::max(dmax, V[0] * d0 * d0);
        gmax = std::max(gmax, V[0] * std::fabs(d0));
      }
      // the coefficient's step given its column's sum_i x_ij mx_i; returns the move of
      // the model residual (0: none)
      auto step = [&](index_t j, double xm) {
        const double c = c_[j], s = s_[j], xv = xv_[j], h = h_[j];
        double& b = beta_[j];
        const double g = (xm - Cm[0] * xv - c * (Smx[0] - Cm[0] * V[0])) / s;
        double uk = g + h * b, bk = b;
        pen_.update(&bk, &uk, &h, 1, lam * pf_[j]);
        const double d = bk - b;
        if (d == 0.0) return 0.0;
        dmax = std::max(dmax, h * d * d);
        gmax = std::max(gmax, h * std::fabs(d));
        const double st = d / s;
        Smx[0] -= xv * st;
        Cm[0] -= c * st;
        b = bk;
        return st;
      };
      if (is_sparse(X_)) {
        for (index_t j : set) {
          const double st = step(j, col_dot(X_, j, mx));
          if (st != 0.0) col_move(X_, j, st, v, mx);
        }
        return;
      }
      // dense: rows in blocks, shared among threads on long columns
      blocked_pass(
          static_cast<index_t>(set.size()), n_, cd_threads(ctl_.nthreads, n_),
          [&](index_t q, index_t i0, index_t i1, double* o) { col_dot_rows(X_, set[q], mx, i0, i1, o); },
          [&](index_t q, double s0, double) { return step(set[q], s0); },
          [&](index_t q, double st, index_t i0, index_t i1) {
            col_move_rows(X_, set[q], st, v, mx, i0, i1);
          });
    };
    // Once the active set and signs repeat, one exact solve of the model on them
    // replaces the many passes coordinate descent needs when columns are correlated
    auto settle = [&](const std::vector<index_t>& act, int& passes, int limit,
                      const std::function<bool(double, double)>& done) -> bool {
      const bool exact = !act.empty();
      std::vector<signed char> sig, sig_prev;
      std::vector<index_t> actk;
      index_t same = 0;
      double dmax, gmax;
      while (passes < limit) {
        pass(act, dmax, gmax);
        ++passes;
        if (done(dmax, gmax)) return true;
        if (!exact) continue;
        sig.clear();
        actk.clear();
        for (index_t j : act) {
          const double b = beta_[j];
          sig.push_back(static_cast<signed char>((b > 0) - (b < 0)));
          if (b != 0.0) actk.push_back(j);
        }
        // an iteration of the exact step costs about a pass: once the signs repeat,
        // descent waits an eighth of the last step's iterations before the next one
        if (sig == sig_prev && !actk.empty()) {
          if (++same >= std::max<index_t>(2, cg_wait_)) {
            cg_wait_ = exact_step_cg(actk, lam, Cm, Smx, V, 0.5 * g_tol, 1000) / 8;
            sig_prev.clear();
            same = 0;
          }
        } else {
          sig_prev = sig;
          same = 0;
        }
      }
      return false;
    };
    return descend(ws, g_tol, d_tol, passes_before, pass, settle);
  }

  // Softmax: coordinate descent on the model with the full softmax Hessian (see the
  // header); separable penalties move one (feature, class) coordinate at a time, the
  // group lasso a feature's K coefficients at once. Returns the passes made.
  int cd_softmax(const std::vector<index_t>& ws, double lam, const std::vector<double>& V,
                 double g_tol, double d_tol, int passes_before) {
    const index_t K = K_, n = n_;
    std::vector<double> u(K), bnew(K), gk(K);
    double* t = t_.data();
    auto grad = [&](index_t j, index_t k) {
      return col_model_grad(X_, j, c_[j], &res_[k * n], &wp_[k * n], &dX_[k * n], t) / s_[j];
    };
    auto move = [&](index_t j, index_t k, double d) {
      col_model_move(X_, j, c_[j], d / s_[j], &P_[k * n], &dX_[k * n], t);
    };
    double dmax_ = 0.0, gmax_ = 0.0;
    // coordinate (j, k)'s step given its model gradient g; returns the move d of the
    // coefficient (0: none). After a feature's last class, its K coefficients move
    // together to where the penalty is least: the model does not change when they do
    // (its gradient sums to zero over the classes, its Hessian has that null space, and
    // eta's rows shift by a constant the softmax ignores), and the coordinate steps
    // would reach that point only slowly.
    auto step = [&](index_t j, index_t k, double g) {
      double* b = &beta_[j * K];
      const double* h = &h_[j * K];
      double uk = g + h[k] * b[k], bk = b[k];
      pen_.update(&bk, &uk, h + k, 1, lam * pf_[j]);
      const double d = bk - b[k];
      if (d != 0.0) {
        dmax_ = std::max(dmax_, h[k] * d * d);
        gmax_ = std::max(gmax_, h[k] * std::fabs(d));
        b[k] = bk;
      }
      if (k == K - 1 && pf_[j] > 0.0) {
        const double cj = pen_.centre(b, K);
        if (cj != 0.0)
          for (index_t l = 0; l < K; ++l) b[l] -= cj;
      }
      return d;
    };
    auto pass = [&](const std::vector<index_t>& set, double& dmax, double& gmax) {
      dmax_ = gmax_ = 0.0;
      if (pb_.intercept) {
        for (index_t k = 0; k < K; ++k) {
          const double* r = &res_[k * n];
          const double* wp = &wp_[k * n];
          const double* p = &P_[k * n];
          double* d = &dX_[k * n];
          double g = 0.0;
          for (index_t i = 0; i < n; ++i) g += r[i] - wp[i] * (d[i] - t[i]);
          const double d0 = g / V[k];
          if (d0 == 0.0) continue;
          a0_[k] += d0;
          for (index_t i = 0; i < n; ++i) {
            d[i] += d0;
            t[i] += p[i] * d0;
          }
          dmax_ = std::max(dmax_, V[k] * d0 * d0);
          gmax_ = std::max(gmax_, V[k] * std::fabs(d0));
        }
      }
      if (Penalty::grouped) {
        for (index_t j : set) {
          double* b = &beta_[j * K];
          const double* h = &h_[j * K];
          for (index_t k = 0; k < K; ++k) {
            u[k] = grad(j, k) + h[k] * b[k];
            bnew[k] = b[k];
          }
          pen_.update(bnew.data(), u.data(), h, K, lam * pf_[j]);
          for (index_t k = 0; k < K; ++k) {
            const double d = bnew[k] - b[k];
            if (d == 0.0) continue;
            dmax_ = std::max(dmax_, h[k] * d * d);
            gmax_ = std::max(gmax_, h[k] * std::fabs(d));
            b[k] = bnew[k];
            move(j, k, d);
          }
        }
      } else if (is_sparse(X_)) {
        for (index_t j : set)
          for (index_t k = 0; k < K; ++k) {
            const double d = step(j, k, grad(j, k));
            if (d != 0.0) move(j, k, d);
          }
      } else {
        // dense: coordinate (j, k) = (set[q / K], q % K), rows in blocks, shared among
        // threads on long columns
        blocked_pass(
            static_cast<index_t>(set.size()) * K, n, cd_threads(ctl_.nthreads, n),
            [&](index_t q, index_t i0, index_t i1, double* o) {
              const index_t j = set[q / K], k = q % K;
              col_model_grad_rows(X_, j, &res_[k * n], &wp_[k * n], &dX_[k * n], t, i0, i1, o);
            },
            [&](index_t q, double s0, double s1) {
              const index_t j = set[q / K], k = q % K;
              return step(j, k, (s0 - c_[j] * s1) / s_[j]) / s_[j];
            },
            [&](index_t q, double st, index_t i0, index_t i1) {
              const index_t j = set[q / K], k = q % K;
              col_model_move_rows(X_, j, c_[j], st, &P_[k * n], &dX_[k * n], t, i0, i1);
            });
      }
      dmax = dmax_;
      gmax = gmax_;
    };
    // As for the binary model: once the non-zero pattern repeats, an exact solve of the
    // model on it
    auto settle = [&](const std::vector<index_t>& act, int& passes, int limit,
                      const std::function<bool(double, double)>& done) -> bool {
      std::vector<signed char> sig, sig_prev;
      index_t same = 0;
      double dmax, gmax;
      while (passes < limit) {
        pass(act, dmax, gmax);
        ++passes;
        if (done(dmax, gmax)) return true;
        sig.clear();
        index_t d = 0;
        for (index_t j : act)
          for (index_t k = 0; k < K; ++k) {
            const double b = beta_[j * K + k];
            sig.push_back(static_cast<signed char>((b > 0) - (b < 0)));
            d += b != 0.0;
          }
        const index_t na = static_cast<index_t>(act.size());
        // separable penalties: conjugate gradients (no d x d matrix, any d); the group
        // lasso (whose norm has a Hessian of its own): the LDLT, where that is cheap
        const bool cg = !Penalty::grouped;
        const bool cheap = d > 0 && (cg || (d <= ctl_.exact_max && d * d <= 64 * na * K));
        if (cheap && sig == sig_prev) {
          if (++same >= std::max<index_t>(2, cg ? cg_wait_ : d / 8)) {
            const index_t it = exact_softmax(act, lam, V, 0.5 * g_tol,
                                             std::integral_constant<bool, Penalty::grouped>());
            if (cg) cg_wait_ = it / 8;
            sig_prev.clear();
            same = 0;
          }
        } else {
          sig_prev = sig;
          same = 0;
        }
      }
      return false;
    };
    return descend(ws, g_tol, d_tol, passes_before, pass, settle);
  }

  // Softmax: Newton step of the model on its non-zero coefficients (separable penalties:
  // signs fixed, the step cut at the first sign change; the group lasso: the non-zero
  // groups, with the group norm's Hessian) and the intercepts, taken only if the model
  // plus the penalty decreases. The active columns are standardised into an n x (m + 1)
  // scratch (m active features, and a column of ones for the intercepts); settle()
  // calls it only when that is cheap.
  void exact_step_softmax(const std::vector<index_t>& act, double lam);

  // Binary: moves coefficient j of the model by d (standardised scale), keeping the
  // model residual in step (the change of eta is rebuilt from the coefficients).
  void move(index_t j, double d, std::vector<double>& Cm, std::vector<double>& Smx) {
    if (d == 0.0) return;
    const double st = d / s_[j];
    Smx[0] -= xv_[j] * st;
    Cm[0] -= c_[j] * st;
    beta_[j] += d;
    col_move(X_, j, st, v_.data(), mx_.data());
  }

  // (only the one a penalty type uses is compiled for it)
  index_t exact_softmax(const std::vector<index_t>& act, double lam, const std::vector<double>&,
                        double, std::true_type) {
    exact_step_softmax(act, lam);
    return 0;
  }
  index_t exact_softmax(const std::vector<index_t>& act, double lam, const std::vector<double>& V,
                        double tol, std::false_type) {
    return exact_step_softmax_cg(act, lam, V, tol, 1000);
  }

  // Softmax, separable penalties: that step by conjugate gradients; returns the
  // iterations made.
  index_t exact_step_softmax_cg(const std::vector<index_t>& act, double lam,
                                const std::vector<double>& V, double tol, index_t maxit);

  // Binary: Newton step of the model on the active set A with its signs fixed, by
  // conjugate gradients to a residual of tol; returns the iterations made.
  index_t exact_step_cg(const std::vector<index_t>& A, double lam, std::vector<double>& Cm,
                        std::vector<double>& Smx, const std::vector<double>& V, double tol,
                        index_t maxit);
};

}  // namespace path
}  // namespace xentropy

#include "path_exact.hpp"  // the solver's exact steps (member definitions)

namespace xentropy {
namespace path {

// Runs the path for one matrix type, choosing the penalty type from alpha and grouped.
template <class Matrix>
inline result fit_path(const Matrix& X, const problem& pb, double alpha, bool grouped,
                       const std::vector<double>& lambdas, index_t nlambda, double ratio,
                       const control& ctl) {
  if (grouped && pb.K > 1 && alpha > 0.0) {  // (at alpha = 0 grouping changes nothing)
    solver<Matrix, group_lasso> s(X, pb, group_lasso(alpha), ctl);
    return s.run(lambdas, nlambda, ratio);
  }
  // ridge and the lasso are elastic_net at alpha = 0 and 1 with the same arithmetic (a
  // soft threshold at 0 is the identity; h + 0 is h), so one instantiation serves all
  // three and the installed library stays small
  solver<Matrix, elastic_net> s(X, pb, elastic_net(alpha), ctl);
  return s.run(lambdas, nlambda, ratio);
}

}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_HPP
