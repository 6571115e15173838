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
// the coefficients, the intercepts are centred to mean zero when reported).
//
// Solver (one for every penalty): proximal Newton. At the current eta a quadratic model of
// the loss with IRLS weights v_ik = w_i p_ik (1 - p_ik) (the Hessian's diagonal in the
// classes, as glmnet; exact Newton for K = 1) is minimised with the penalty by cyclic
// coordinate descent over the working set (softmax with a separable penalty: one class
// block at a time, each an exact Newton model for that class, as glmnet; the group lasso:
// block descent over a feature's K coefficients, each block minimised exactly). Once the
// active set and signs settle, the model is solved exactly on them (an LDLT of the
// active set's weighted Gram matrix, the step cut at the first sign change), which
// replaces the many passes descent needs on correlated columns. Softmax blocks ignore the
// coupling of the classes and converge linearly, so after each outer step a Newton step
// with the full softmax Hessian on the non-zero coefficients (orthant-projected) or
// groups (with the group norm's Hessian) is tried, when the active set is small enough
// (its standardised columns held in an n x m scratch of at most 2^22 values). The step to the model's minimiser is damped by
// backtracking on F itself, so F decreases at every outer step whatever the model.
// Penalties are small types with value(), update() (the proximal coordinate step),
// violation() (distance of -gradient from the subdifferential) and dual_norm() (for
// lambda_max and the strong rule).
//
// Standardisation is implicit: c_j and s_j are computed once, x is never copied, and the
// centring enters the inner products as scalars (glmnet's device for sparse x): with
// dX = X (delta / s) and a per-class scalar C, the model residual m = mx - v C, so an update
// of one coefficient touches only that column's non-zeros.
//
// Certificate: a lambda is accepted only after the gradient of the loss at the final
// iterate has been computed afresh over ALL features and the largest KKT violation
// (including the intercepts' gradients) is at most kkt_tol * lambda; it is stored per
// lambda. Otherwise the lambda's status says why (max_iterations, stalled).
//
// Sequential strong rule (Tibshirani et al. 2012): a feature enters the working set at
// lambda_l when ||grad_j||_* >= alpha pf_j (2 lambda_l - lambda_{l-1}); features with
// non-zero coefficients and unpenalised ones are always in. Violators found by the full
// KKT check are added and the lambda is solved again.
//
// The data matrix is read in place: a dense column-major Eigen::Map or a compressed
// sparse column Eigen::Map (a dgCMatrix's slots). Nothing here calls R.
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
#include <limits>
#include <vector>

#include "common.hpp"
#include "link.hpp"
#include "penalty.hpp"

namespace xentropy {
namespace path {

using DenseMap = Eigen::Map<const Eigen::MatrixXd>;
using SparseMap = Eigen::Map<const Eigen::SparseMatrix<double, Eigen::ColMajor, int>>;

// f(i, x_ij) over the stored entries of column j.
template <class F>
inline void for_col(const DenseMap& X, index_t j, F f) {
  const index_t n = X.rows();
  const double* c = X.data() + j * n;
  for (index_t i = 0; i < n; ++i) f(i, c[i]);
}
template <class F>
inline void for_col(const SparseMap& X, index_t j, F f) {
  for (SparseMap::InnerIterator it(X, j); it; ++it) f(static_cast<index_t>(it.index()), it.value());
}
inline index_t col_entries(const DenseMap& X, index_t) { return X.rows(); }
inline index_t col_entries(const SparseMap& X, index_t j) {
  return X.outerIndexPtr()[j + 1] - X.outerIndexPtr()[j];
}

// -------------------------------------------------------------- problem --

struct control {
  double thresh = 1e-7;    // coordinate descent: max_j h_j delta_j^2 <= thresh * null loss
  double kkt_tol = 1e-6;   // accept a lambda when max KKT violation <= kkt_tol * lambda
  int maxit = 100000;      // coordinate-descent passes per lambda
  int max_outer = 200;     // proximal Newton steps per lambda
  double weight_floor = 1e-10;  // IRLS weight floor, relative to w_i (near-separable data)
  bool early_stop = false; // glmnet's rule: stop when dev_ratio >= 0.999 or stalls
  index_t exact_max = 500;  // exact model solves on active sets up to this size
  int nthreads = 1;        // the full-KKT gradient, over features
};

// Inputs (all read in place). Row-major n x K arrays are built by the solver.
struct problem {
  index_t n = 0, p = 0, K = 1;  // K = 1: binary (logistic)
  const double* y = nullptr;    // n x K column-major targets (binary: n values in [0, 1])
  const double* w = nullptr;    // n non-negative weights or nullptr (all 1)
  const double* offset = nullptr;  // n x K column-major or nullptr
  const double* pf = nullptr;   // p penalty factors (>= 0) or nullptr (all 1)
  bool intercept = true;
  bool standardize = true;
};

struct result {
  // per lambda l: coefficients on the original scale
  std::vector<double> beta;      // p x K x L (feature fastest, then class, then lambda)
  std::vector<double> a0;        // K x L
  std::vector<double> lambda, dev, dev_ratio, kkt, loss, penalty;
  std::vector<int> df, passes, code;
  double null_dev = 0.0;
  double lambda_max = 0.0;
  std::vector<double> centre, scale;  // c_j, s_j
  std::vector<double> pf;             // penalty factors as used (rescaled to sum to p)
  bool interrupted = false;
};

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
    out.null_dev = 2.0 * sumw_ * null_loss;
    f0_ = std::max(null_loss, 1e-300);
    // unpenalised features join the starting fit
    for (index_t j = 0; j < p_; ++j)
      if (!excluded_[j] && pf_[j] == 0.0) ws.push_back(j);
    if (!ws.empty()) solve(1.0, ws, nullptr);
    full_gradient();
    const double a = std::max(pen_.alpha, 1e-3);
    double lmax = 0.0;
    for (index_t j = 0; j < p_; ++j) {
      if (excluded_[j] || pf_[j] == 0.0) continue;
      lmax = std::max(lmax, Penalty::dual_norm(&G_[j * K_], K_) / (pf_[j] * a));
    }
    out.lambda_max = lmax;
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
      // record on the original scale
      for (index_t k = 0; k < K_; ++k) {
        double a0 = a0_[k];
        for (index_t j = 0; j < p_; ++j) {
          const double b = beta_[j * K_ + k] == 0.0 ? 0.0 : beta_[j * K_ + k] / s_[j];
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
      const double dev = 2.0 * sumw_ * loss;
      out.lambda.push_back(lam);
      out.loss.push_back(loss);
      out.penalty.push_back(penalty_all(lam));
      out.dev.push_back(dev);
      out.dev_ratio.push_back(out.null_dev > 0 ? 1.0 - dev / out.null_dev : 0.0);
      out.df.push_back(df);
      out.passes.push_back(st.passes);
      out.kkt.push_back(st.kkt / lam);
      out.code.push_back(st.code);
      if (ctl_.early_stop && !user && l >= 4) {
        const size_t m = out.dev_ratio.size();
        const double d1 = out.dev_ratio[m - 1], d0 = out.dev_ratio[m - 2];
        if (d1 >= 0.999 || (d1 - d0) < 1e-5 * d1) break;
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
  std::vector<double> w_, y_, off_, pf_, c_, s_;
  std::vector<char> excluded_;
  std::vector<double> beta_, a0_, tmp_a0_, eta_;
  // per outer step
  std::vector<double> v_, res_, mx_, dX_, xv_, xxv_, h_, G_, Rk_, scratch_n_, gnorm_;

  void setup() {
    const index_t n = n_, K = K_;
    w_.assign(n, 1.0);
    if (pb_.w)
      for (index_t i = 0; i < n; ++i) w_[i] = pb_.w[i];
    sumw_ = 0.0;
    for (index_t i = 0; i < n; ++i) sumw_ += w_[i];
    for (index_t i = 0; i < n; ++i) w_[i] /= sumw_;
    y_.resize(n * K);
    off_.assign(n * K, 0.0);
    for (index_t i = 0; i < n; ++i)
      for (index_t k = 0; k < K; ++k) {
        y_[i * K + k] = pb_.y[i + k * n];
        if (pb_.offset) off_[i * K + k] = pb_.offset[i + k * n];
      }
    // penalty factors rescaled to sum to p (glmnet)
    pf_.assign(p_, 1.0);
    if (pb_.pf) {
      double s = 0.0;
      for (index_t j = 0; j < p_; ++j) s += pb_.pf[j];
      for (index_t j = 0; j < p_; ++j) pf_[j] = s > 0 ? pb_.pf[j] * p_ / s : pb_.pf[j];
    }
    // weighted column centres and scales, read from x once
    c_.assign(p_, 0.0);
    s_.assign(p_, 1.0);
    excluded_.assign(p_, 0);
    for (index_t j = 0; j < p_; ++j) {
      double m = 0.0;
      for_col(X_, j, [&](index_t i, double x) { m += w_[i] * x; });
      double ss = 0.0, sq = 0.0;
      for_col(X_, j, [&](index_t i, double x) {
        const double d = x - m;
        ss += w_[i] * d * d;
        sq += w_[i] * x * x;
      });
      // rows not stored (sparse zeros) contribute w_i m^2
      double wstored = 0.0;
      for_col(X_, j, [&](index_t i, double) { wstored += w_[i]; });
      ss += (1.0 - wstored) * m * m;
      ss = std::max(ss, 0.0);
      const double var = ss;
      if (pb_.intercept) c_[j] = m;
      if (pb_.standardize) s_[j] = std::sqrt(var);
      // a column constant over the rows with weight cannot enter the model (with an
      // intercept, or when it would be scaled by sd 0); without either, only an all-zero one
      const bool usable = (pb_.intercept || pb_.standardize) ? var > 0.0 : sq > 0.0;
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
    mx_.assign(n * K, 0.0);
    dX_.assign(n * K, 0.0);
    xv_.assign(p_ * K, 0.0);
    xxv_.assign(p_ * K, 0.0);
    h_.assign(p_ * K, 0.0);
    G_.assign(p_ * K, 0.0);
    Rk_.assign(K, 0.0);
  }

  // sum_i w_i loss_i at eta (n x K, row-major)
  double loss_at(const double* eta) const {
    compensated_sum f;
    if (K_ == 1) {
      for (index_t i = 0; i < n_; ++i) {
        if (w_[i] == 0.0) continue;
        const double yi = y_[i], e = eta[i];
        double li = 0.0;
        if (yi != 0.0) li += yi * softplus(-e);
        if (yi != 1.0) li += (1.0 - yi) * softplus(e);
        f.add(w_[i] * li);
      }
    } else {
      for (index_t i = 0; i < n_; ++i) {
        if (w_[i] == 0.0) continue;
        const double* e = eta + i * K_;
        double m = e[0];
        for (index_t k = 1; k < K_; ++k) m = std::max(m, e[k]);
        double s = 0.0, ye = 0.0;
        for (index_t k = 0; k < K_; ++k) {
          s += std::exp(e[k] - m);
          if (y_[i * K_ + k] != 0.0) ye += y_[i * K_ + k] * (e[k] - m);
        }
        f.add(w_[i] * (std::log(s) - ye));
      }
    }
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
    std::fill(Rk_.begin(), Rk_.end(), 0.0);
    if (K_ == 1) {
      for (index_t i = 0; i < n_; ++i) {
        const double e = eta_[i], mu = sigmoid(e), mc = sigmoid(-e), yi = y_[i];
        res_[i] = w_[i] * (yi * mc - (1.0 - yi) * mu);
        v_[i] = w_[i] * std::max(mu * mc, ctl_.weight_floor);
      }
    } else {
      std::vector<double> ex(static_cast<size_t>(K_));
      for (index_t i = 0; i < n_; ++i) {
        const double* e = &eta_[i * K_];
        double m = e[0];
        for (index_t k = 1; k < K_; ++k) m = std::max(m, e[k]);
        double s = 0.0;
        for (index_t k = 0; k < K_; ++k) s += (ex[k] = std::exp(e[k] - m));
        for (index_t k = 0; k < K_; ++k) {
          const double pk = ex[k] / s, qk = (s - ex[k]) / s;
          res_[i * K_ + k] = w_[i] * (y_[i * K_ + k] - pk);
          v_[i * K_ + k] = w_[i] * std::max(pk * qk, ctl_.weight_floor);
        }
      }
    }
    for (index_t i = 0; i < n_; ++i)
      for (index_t k = 0; k < K_; ++k) Rk_[k] += res_[i * K_ + k];
  }

  // loss gradient of feature j (K values) at the current res_
  void gradient_of(index_t j, double* g) const {
    for (index_t k = 0; k < K_; ++k) g[k] = 0.0;
    const double* r = res_.data();
    const index_t K = K_;
    for_col(X_, j, [&](index_t i, double x) {
      for (index_t k = 0; k < K; ++k) g[k] += x * r[i * K + k];
    });
    for (index_t k = 0; k < K_; ++k) g[k] = -(g[k] - c_[j] * Rk_[k]) / s_[j];
  }

  // G_ for every feature (excluded ones: 0), threads over features
  void full_gradient() {
    const int nt = threads_for(ctl_.nthreads, n_ * p_);
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

  double intercept_violation() const {
    if (!pb_.intercept) return 0.0;
    double m = 0.0;
    for (index_t k = 0; k < K_; ++k) m = std::max(m, std::fabs(Rk_[k]));
    return m;
  }

  // Solves at lambda over the working set ws (extended by KKT violators), from the
  // current state. st == nullptr: an auxiliary fit (null model), no certificate.
  void solve(double lam, std::vector<index_t>& ws, lambda_stats* st) {
    const index_t K = K_;
    std::vector<char> in_ws(p_, 0);
    for (index_t j : ws) in_ws[j] = 1;
    working();
    double F = loss_at(eta_.data()) + penalty_ws(ws, beta_.data(), lam);
    std::vector<double> gtmp(K), beta_old, eta_new(n_ * K), Cm(K), Smx(K), V(K);
    const double tol_kkt = ctl_.kkt_tol * lam;
    // auxiliary fits (null model, unpenalised features) start the path: well below any
    // lambda's tolerance
    const double aux_tol = 1e-12;
    int passes = 0;
    int code = converged;
    // violation over the working set and the intercepts at the current state
    auto ws_violation = [&]() {
      double m = intercept_violation();
      for (index_t j : ws) {
        gradient_of(j, gtmp.data());
        m = std::max(m, pen_.violation(&beta_[j * K], gtmp.data(), K, lam * pf_[j]));
      }
      return m;
    };
    double viol = ws_violation();
    for (int outer = 0;; ++outer) {
      if (st == nullptr ? viol <= aux_tol : viol <= tol_kkt) {
        if (st == nullptr) break;
        // certificate over all features
        full_gradient();
        double m = intercept_violation();
        bool added = false;
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
        st->kkt = m;
        if (m <= tol_kkt) break;
        if (!added) {  // cannot happen unless rounding: report it
          code = stalled;
          break;
        }
        viol = m;
        F = loss_at(eta_.data()) + penalty_ws(ws, beta_.data(), lam);
      }
      if (outer >= ctl_.max_outer || passes >= ctl_.maxit) {
        code = max_iterations;
        break;
      }
      if (interrupted(n_ * static_cast<index_t>(ws.size() + 1))) {
        interrupted_ = true;
        return;
      }
      // Softmax with a separable penalty: one block per class, each an exact Newton
      // model for its class (glmnet's scheme); otherwise one block of all coefficients.
      // The group lasso: one block of all coefficients (groups enter and leave there),
      // then one block per class in which each non-zero group's norm is majorised at
      // its current value r (||b|| <= ||b||^2 / (2 r) + r / 2), a ridge across classes:
      // exact Newton for the class, as in the separable case.
      const bool by_class = K > 1 && !Penalty::grouped;
      const bool group_classes = K > 1 && Penalty::grouped;
      const index_t nblk = by_class ? K : (group_classes ? K + 1 : 1);
      int moved_blocks = 0;
      for (index_t blk = 0; blk < nblk; ++blk) {
        const index_t kk = by_class ? blk : (group_classes ? blk - 1 : (K == 1 ? 0 : -1));
        if (group_classes && kk >= 0) {
          gnorm_.assign(static_cast<size_t>(p_), 0.0);
          for (index_t j : ws) {
            double q = 0.0;
            for (index_t k = 0; k < K; ++k) q += beta_[j * K + k] * beta_[j * K + k];
            gnorm_[j] = std::sqrt(q);
          }
        }
        // --- quadratic model at eta_ and coordinate descent on it ---
        for (index_t k = 0; k < K; ++k) {
          V[k] = 0.0;
          Smx[k] = Rk_[k];
          Cm[k] = 0.0;
        }
        for (index_t i = 0; i < n_; ++i)
          for (index_t k = 0; k < K; ++k) V[k] += v_[i * K + k];
        mx_ = res_;
        std::fill(dX_.begin(), dX_.end(), 0.0);
        for (index_t j : ws) {
          double* xv = &xv_[j * K];
          double* xxv = &xxv_[j * K];
          for (index_t k = 0; k < K; ++k) xv[k] = xxv[k] = 0.0;
          const double* v = v_.data();
          const index_t k0 = kk >= 0 ? kk : 0, k1 = kk >= 0 ? kk + 1 : K;
          for_col(X_, j, [&](index_t i, double x) {
            for (index_t k = k0; k < k1; ++k) {
              const double t = x * v[i * K + k];
              xv[k] += t;
              xxv[k] += t * x;
            }
          });
          for (index_t k = k0; k < k1; ++k) {
            const double c = c_[j], s = s_[j];
            double h = (xxv[k] - 2.0 * c * xv[k] + c * c * V[k]) / (s * s);
            h_[j * K + k] = h > 1e-300 ? h : 1e-300;
          }
        }
        beta_old.assign(beta_.begin(), beta_.end());
        const std::vector<double> a0_old = a0_;
        const double g_tol = std::max(0.05 * tol_kkt, 0.1 * viol);
        const double d_tol = ctl_.thresh * f0_;
        passes += cd(ws, lam, Cm, Smx, V, g_tol, d_tol, passes, kk);
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
          for (index_t i = 0; i < n_; ++i)
            for (index_t k = 0; k < K; ++k)
              eta_new[i * K + k] = eta_[i * K + k] + t * (dX_[i * K + k] + Cm[k]);
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
          continue;
        }
        ++moved_blocks;
        for (index_t k = 0; k < K; ++k) a0_[k] = a0_old[k] + t * da0[k];
        eta_.swap(eta_new);
        F = Fn;
        working();
      }
      if (moved_blocks == 0) {
        code = stalled;
        break;
      }
      // softmax: move each feature's K coefficients together to where the penalty is
      // least; the loss (and eta's softmax) is unchanged, the objective does not rise,
      // and the loss-flat direction is resolved at once rather than by slow descent
      if (K > 1)
        for (index_t j : ws) {
          if (pf_[j] == 0.0) continue;
          const double cj = pen_.centre(&beta_[j * K], K);
          if (cj != 0.0)
            for (index_t k = 0; k < K; ++k) beta_[j * K + k] -= cj;
        }
      working();
      viol = ws_violation();
      // Softmax, separable penalty: the class blocks ignore the coupling of the classes
      // and converge linearly; a Newton step with the full Hessian on the non-zero
      // coefficients (signs fixed) converges quadratically once the signs are right.
      if (K > 1 && viol > tol_kkt) {
        if (polish(lam, ws)) {
          working();
          viol = ws_violation();
        }
      }
    }
    (void)F;
    if (st) {
      st->passes = passes;
      st->code = code;
      if (code != converged) {
        full_gradient();
        double m = intercept_violation();
        for (index_t j = 0; j < p_; ++j)
          if (!excluded_[j])
            m = std::max(m, pen_.violation(&beta_[j * K], &G_[j * K], K, lam * pf_[j]));
        st->kkt = m;
      }
    }
  }

  // Coordinate descent on the quadratic model over ws: full passes, then passes over the
  // non-zero coefficients until they settle, then a full pass again (glmnet's scheme).
  // Stops when a full pass moves no coefficient by more than the tolerances.
  int cd(const std::vector<index_t>& ws, double lam, std::vector<double>& Cm,
         std::vector<double>& Smx, const std::vector<double>& V, double g_tol, double d_tol,
         int passes_before, index_t kk) {
    const index_t K = K_;
    std::vector<double> u(K), bnew(K), gm(K), step(K);
    int passes = 0;
    auto pass = [&](const std::vector<index_t>& set, double& dmax, double& gmax) {
      dmax = gmax = 0.0;
      if (pb_.intercept) {
        for (index_t k = 0; k < K; ++k) {
          if (kk >= 0 && k != kk) continue;
          const double d0 = (Smx[k] - Cm[k] * V[k]) / V[k];
          Cm[k] += d0;
          a0_[k] += d0;
          dmax = std::max(dmax, V[k] * d0 * d0);
          gmax = std::max(gmax, V[k] * std::fabs(d0));
        }
      }
      for (index_t j : set) {
        const double c = c_[j], s = s_[j];
        const double* xv = &xv_[j * K];
        const double* h = &h_[j * K];
        double* b = &beta_[j * K];
        const double* mx = mx_.data();
        double* mxw = mx_.data();
        double* dx = dX_.data();
        const double* v = v_.data();
        if (kk >= 0) {  // one class (binary, or a softmax class block): scalar loops
          const index_t k = kk;
          double g = 0.0;
          for_col(X_, j, [&](index_t i, double x) { g += x * mx[i * K + k]; });
          g = (g - Cm[k] * xv[k] - c * (Smx[k] - Cm[k] * V[k])) / s;
          double uk = g + h[k] * b[k], bk = b[k];
          if (Penalty::grouped) {  // the majorised group norm (see solve())
            if (gnorm_[j] == 0.0) continue;
            const double lp = lam * pf_[j];
            bk = uk / (h[k] + lp * (1.0 - pen_.alpha) + lp * pen_.alpha / gnorm_[j]);
          } else {
            pen_.update(&bk, &uk, h + k, 1, lam * pf_[j]);
          }
          const double d = bk - b[k];
          if (d == 0.0) continue;
          dmax = std::max(dmax, h[k] * d * d);
          gmax = std::max(gmax, h[k] * std::fabs(d));
          const double st = d / s;
          Smx[k] -= xv[k] * st;
          Cm[k] -= c * st;
          b[k] = bk;
          for_col(X_, j, [&](index_t i, double x) {
            const double t = x * st;
            mxw[i * K + k] -= v[i * K + k] * t;
            dx[i * K + k] += t;
          });
          continue;
        }
        for (index_t k = 0; k < K; ++k) gm[k] = 0.0;
        for_col(X_, j, [&](index_t i, double x) {
          for (index_t k = 0; k < K; ++k) gm[k] += x * mx[i * K + k];
        });
        for (index_t k = 0; k < K; ++k) {
          gm[k] = (gm[k] - Cm[k] * xv[k] - c * (Smx[k] - Cm[k] * V[k])) / s;
          u[k] = gm[k] + h[k] * b[k];
          bnew[k] = b[k];
        }
        pen_.update(bnew.data(), u.data(), h, K, lam * pf_[j]);
        bool moved = false;
        for (index_t k = 0; k < K; ++k) {
          const double d = bnew[k] - b[k];
          step[k] = d / s;
          if (d == 0.0) continue;
          moved = true;
          dmax = std::max(dmax, h[k] * d * d);
          gmax = std::max(gmax, h[k] * std::fabs(d));
          Smx[k] -= xv[k] * step[k];
          Cm[k] -= c * step[k];
          b[k] = bnew[k];
        }
        if (!moved) continue;
        for_col(X_, j, [&](index_t i, double x) {
          for (index_t k = 0; k < K; ++k) {
            const double t = x * step[k];
            mxw[i * K + k] -= v[i * K + k] * t;
            dx[i * K + k] += t;
          }
        });
      }
      ++passes;
    };
    auto done = [&](double dmax, double gmax) { return dmax <= d_tol && gmax <= g_tol; };
    std::vector<index_t> act;
    const int limit = ctl_.maxit - passes_before;
    while (passes < limit) {
      double dmax, gmax;
      pass(ws, dmax, gmax);
      if (done(dmax, gmax)) break;
      act.clear();
      for (index_t j : ws) {
        bool nz = false;
        for (index_t k = 0; k < K && !nz; ++k) nz = beta_[j * K + k] != 0.0;
        if (nz) act.push_back(j);
      }
      // Once the active set and signs repeat, one exact solve of the model on them
      // replaces the many passes coordinate descent needs when columns are correlated
      const index_t kb = kk;
      const bool exact = !Penalty::grouped && kb >= 0 && !act.empty() &&
                         static_cast<index_t>(act.size()) <= ctl_.exact_max;
      std::vector<signed char> sig, sig_prev;
      std::vector<index_t> actk;
      index_t same = 0;
      while (passes < limit) {
        pass(act, dmax, gmax);
        if (done(dmax, gmax)) break;
        if (!exact) continue;
        sig.clear();
        actk.clear();
        for (index_t j : act) {
          const double b = beta_[j * K + kb];
          sig.push_back(static_cast<signed char>((b > 0) - (b < 0)));
          if (b != 0.0) actk.push_back(j);
        }
        // an exact solve costs about |A| / 2 passes: worth it once descent is slow
        if (sig == sig_prev && !actk.empty()) {
          if (++same >= std::max<index_t>(2, static_cast<index_t>(actk.size()) / 8)) {
            exact_step(actk, kb, lam, Cm, Smx, V);
            sig_prev.clear();
            same = 0;
          }
        } else {
          sig_prev = sig;
          same = 0;
        }
      }
    }
    return passes;
  }

  // Full-Hessian Newton step for softmax on the non-zero coefficients (or groups) and
  // the intercepts, projected on their orthants, backtracked on F. Uses the active
  // columns standardised in an n x m scratch (m active features), so only when that is
  // small; returns whether a step was taken.
  bool polish(double lam, const std::vector<index_t>& ws) {
    const index_t K = K_, n = n_;
    std::vector<index_t> feat;
    std::vector<std::pair<index_t, index_t>> A;  // (feature position in feat, class)
    for (index_t j : ws) {
      bool any = false;
      bool group_in = false;
      if (Penalty::grouped)
        for (index_t k = 0; k < K; ++k) group_in = group_in || beta_[j * K + k] != 0.0;
      for (index_t k = 0; k < K; ++k)
        if (Penalty::grouped ? group_in : beta_[j * K + k] != 0.0) {
          if (!any) feat.push_back(j);
          any = true;
          A.push_back({static_cast<index_t>(feat.size()) - 1, k});
        }
    }
    const index_t m = static_cast<index_t>(feat.size());
    const index_t nA = static_cast<index_t>(A.size()), ni = pb_.intercept ? K : 0;
    const index_t d = nA + ni;
    if (d == 0 || nA > ctl_.exact_max || n * m > (index_t(1) << 22)) return false;
    Eigen::MatrixXd Z = Eigen::MatrixXd::Zero(n, m);
    for (index_t q = 0; q < m; ++q) {
      const index_t j = feat[q];
      for_col(X_, j, [&](index_t i, double x) { Z(i, q) = x; });
      Z.col(q).array() = (Z.col(q).array() - c_[j]) / s_[j];
    }
    // probabilities at eta_
    Eigen::MatrixXd P(n, K);
    for (index_t i = 0; i < n; ++i) {
      double mx = eta_[i * K];
      for (index_t k = 1; k < K; ++k) mx = std::max(mx, eta_[i * K + k]);
      double sum = 0.0;
      for (index_t k = 0; k < K; ++k) sum += (P(i, k) = std::exp(eta_[i * K + k] - mx));
      for (index_t k = 0; k < K; ++k) P(i, k) /= sum;
    }
    const double a = pen_.alpha;
    Eigen::MatrixXd H = Eigen::MatrixXd::Zero(d, d);
    Eigen::VectorXd g = Eigen::VectorXd::Zero(d);
    // column u of the "design": z_ij for (feature, class) entries, 1 for intercepts
    auto zval = [&](index_t i, index_t u) { return u < nA ? Z(i, A[u].first) : 1.0; };
    auto cls = [&](index_t u) { return u < nA ? A[u].second : u - nA; };
    for (index_t i = 0; i < n; ++i) {
      const double wi = w_[i];
      if (wi == 0.0) continue;
      for (index_t u = 0; u < d; ++u) {
        const index_t k = cls(u);
        const double zu = zval(i, u);
        g(u) -= zu * res_[i * K + k];
        for (index_t t = u; t < d; ++t) {
          const index_t l = cls(t);
          const double hkl = (k == l ? P(i, k) : 0.0) - P(i, k) * P(i, l);
          H(u, t) += wi * zu * zval(i, t) * hkl;
        }
      }
    }
    for (index_t u = 0; u < d; ++u)
      for (index_t t = 0; t < u; ++t) H(u, t) = H(t, u);
    for (index_t u = 0; u < nA; ++u) {
      const index_t j = feat[A[u].first], k = A[u].second;
      const double b = beta_[j * K + k], lp = lam * pf_[j];
      H(u, u) += lp * (1.0 - a);
      if (!Penalty::grouped) {
        g(u) += lp * (1.0 - a) * b + lp * a * ((b > 0) - (b < 0));
        continue;
      }
      // group norm: gradient b / ||b||, Hessian (I - b b' / ||b||^2) / ||b|| over the
      // group's K entries (consecutive in A)
      double nb = 0.0;
      for (index_t l = 0; l < K; ++l) nb += beta_[j * K + l] * beta_[j * K + l];
      nb = std::sqrt(nb);
      g(u) += lp * (1.0 - a) * b + lp * a * b / nb;
      const index_t u0 = u - k;
      for (index_t l = 0; l < K; ++l) {
        const double bl = beta_[j * K + l];
        H(u, u0 + l) += lp * a * ((l == k ? 1.0 : 0.0) / nb - b * bl / (nb * nb * nb));
      }
    }
    // the over-parameterised intercepts (and any shift-flat direction) make H singular:
    // a ridge at the level of rounding selects the least-change solution
    const double ridge = 1e-10 * std::max(1e-300, H.diagonal().cwiseAbs().maxCoeff());
    H.diagonal().array() += ridge;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(H);
    if (ldlt.info() != Eigen::Success) return false;
    const Eigen::VectorXd delta = -ldlt.solve(g);
    if (!delta.allFinite()) return false;
    // Orthant-wise step (as OWL-QN): a coefficient that would change sign stops at
    // zero; eta follows the coefficients' actual changes. Backtracked on F.
    std::vector<index_t> wsl(ws);
    const double F0 = loss_at(eta_.data()) + penalty_ws(wsl, beta_.data(), lam);
    const std::vector<double> beta0 = beta_;
    std::vector<double> eta_t(eta_.size());
    Eigen::VectorXd ch(d);
    const double noise = 64 * std::numeric_limits<double>::epsilon() * std::fabs(F0);
    double t = 1.0;
    for (int tries = 0; tries < 30; ++tries, t /= 2.0) {
      beta_ = beta0;
      for (index_t u = 0; u < nA; ++u) {
        const index_t q = feat[A[u].first] * K + A[u].second;
        double bt = beta0[q] + t * delta(u);
        if (!Penalty::grouped && a > 0.0 && bt * beta0[q] < 0.0) bt = 0.0;
        beta_[q] = bt;
        ch(u) = bt - beta0[q];
      }
      for (index_t k = 0; k < ni; ++k) ch(nA + k) = t * delta(nA + k);
      eta_t = eta_;
      for (index_t i = 0; i < n; ++i)
        for (index_t u = 0; u < d; ++u) eta_t[i * K + cls(u)] += zval(i, u) * ch(u);
      const double Ft = loss_at(eta_t.data()) + penalty_ws(wsl, beta_.data(), lam);
      if (std::isfinite(Ft) && Ft <= F0 + noise) {
        for (index_t k = 0; k < ni; ++k) a0_[k] += ch(nA + k);
        eta_.swap(eta_t);
        return true;
      }
    }
    beta_ = beta0;
    return false;
  }

  // Moves coefficient (j, k) of the model by d (standardised scale), keeping the model
  // residual and the eta change in step.
  void move(index_t j, index_t k, double d, std::vector<double>& Cm, std::vector<double>& Smx) {
    if (d == 0.0) return;
    const index_t K = K_;
    const double st = d / s_[j];
    Smx[k] -= xv_[j * K + k] * st;
    Cm[k] -= c_[j] * st;
    beta_[j * K + k] += d;
    double* mxw = mx_.data();
    double* dx = dX_.data();
    const double* v = v_.data();
    for_col(X_, j, [&](index_t i, double x) {
      const double t = x * st;
      mxw[i * K + k] -= v[i * K + k] * t;
      dx[i * K + k] += t;
    });
  }

  // Newton step of the model of class k on the active set A with its signs fixed:
  // (H_AA + ridge) delta = model gradient - penalty subgradient, with the intercept;
  // cut at the first coefficient that would change sign (set to 0 there). The model
  // is quadratic on that segment, so the step cannot raise it.
  void exact_step(const std::vector<index_t>& A, index_t k, double lam, std::vector<double>& Cm,
                  std::vector<double>& Smx, const std::vector<double>& V) {
    const index_t K = K_, m = static_cast<index_t>(A.size());
    const index_t off = pb_.intercept ? 1 : 0, d = m + off;
    Eigen::MatrixXd H(d, d);
    Eigen::VectorXd r(d);
    const double a = pen_.alpha;
    std::vector<double>& tmp = scratch_n_;
    tmp.assign(static_cast<size_t>(n_), 0.0);
    const double* v = v_.data();
    const double* mx = mx_.data();
    for (index_t q = 0; q < m; ++q) {
      const index_t j = A[q];
      double g = 0.0;
      for_col(X_, j, [&](index_t i, double x) {
        tmp[i] = v[i * K + k] * x;
        g += x * mx[i * K + k];
      });
      const double cj = c_[j], sj = s_[j], xvj = xv_[j * K + k];
      for (index_t q2 = q; q2 < m; ++q2) {
        const index_t l = A[q2];
        double sxx = 0.0;
        for_col(X_, l, [&](index_t i, double x) { sxx += tmp[i] * x; });
        const double cl = c_[l], sl = s_[l], xvl = xv_[l * K + k];
        const double h = (sxx - cl * xvj - cj * xvl + cj * cl * V[k]) / (sj * sl);
        H(off + q, off + q2) = H(off + q2, off + q) = h;
      }
      for_col(X_, j, [&](index_t i, double) { tmp[i] = 0.0; });
      const double b = beta_[j * K + k], lp = lam * pf_[j];
      H(off + q, off + q) += lp * (1.0 - a);
      g = (g - Cm[k] * xvj - cj * (Smx[k] - Cm[k] * V[k])) / sj;
      r(off + q) = g - lp * (1.0 - a) * b - lp * a * ((b > 0) - (b < 0));
      if (off) H(0, off + q) = H(off + q, 0) = (xvj - cj * V[k]) / sj;
    }
    if (off) {
      H(0, 0) = V[k];
      r(0) = Smx[k] - Cm[k] * V[k];
    }
    Eigen::LDLT<Eigen::MatrixXd> ldlt(H);
    if (ldlt.info() != Eigen::Success || !ldlt.isPositive()) return;
    const Eigen::VectorXd delta = ldlt.solve(r);
    if (!delta.allFinite()) return;
    double t = 1.0;
    index_t cut = -1;
    for (index_t q = 0; q < m; ++q) {
      const double b = beta_[A[q] * K + k], dq = delta(off + q);
      if (a > 0.0 && b != 0.0 && (b + dq) * b < 0.0 && -b / dq < t) {
        t = -b / dq;
        cut = q;
      }
    }
    if (off) {
      const double d0 = t * delta(0);
      Cm[k] += d0;
      a0_[k] += d0;
    }
    for (index_t q = 0; q < m; ++q) {
      const index_t j = A[q];
      const double dq = q == cut ? -beta_[j * K + k] : t * delta(off + q);
      move(j, k, dq, Cm, Smx);
      if (q == cut) beta_[j * K + k] = 0.0;
    }
  }
};

// Runs the path for one matrix type, choosing the penalty type from alpha and grouped.
template <class Matrix>
inline result fit_path(const Matrix& X, const problem& pb, double alpha, bool grouped,
                       const std::vector<double>& lambdas, index_t nlambda, double ratio,
                       const control& ctl) {
  if (alpha == 0.0) {
    solver<Matrix, ridge> s(X, pb, ridge{}, ctl);
    return s.run(lambdas, nlambda, ratio);
  }
  if (grouped && pb.K > 1) {
    solver<Matrix, group_lasso> s(X, pb, group_lasso(alpha), ctl);
    return s.run(lambdas, nlambda, ratio);
  }
  if (alpha == 1.0) {
    solver<Matrix, lasso> s(X, pb, lasso{}, ctl);
    return s.run(lambdas, nlambda, ratio);
  }
  solver<Matrix, elastic_net> s(X, pb, elastic_net(alpha), ctl);
  return s.run(lambdas, nlambda, ratio);
}

}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_HPP
