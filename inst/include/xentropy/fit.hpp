// xentropy/fit.hpp -- logistic and softmax regression by minimising the
// (weighted, optionally L2-penalised) cross-entropy error (PRML 4.3.2-4.3.4).
//
// Binary: eta_i = o_i + x_i' b (o an optional offset), mu_i = sigmoid(eta_i), targets y_i in [0, 1],
//   E(b) = sum_i w_i [y_i softplus(-eta_i) + (1 - y_i) softplus(eta_i)]
//          + lambda / 2 sum_j pen_j b_j^2                          (PRML 4.90)
//   grad = X' W (mu - y) + lambda pen b                             (PRML 4.91)
//   H    = X' W R X + lambda diag(pen),  R = diag(mu (1 - mu))       (PRML 4.97)
// and Newton / IRLS steps b <- b - H^{-1} grad (PRML 4.99-4.100), with H
// factorised by Eigen's LLT (LDLT, then a small ridge, when that fails) and
// the step halved until the penalised objective decreases (Armijo).
//
// Softmax: eta_ik = o_ik + x_i' w_k, P = softmax(eta) by rows, targets T with rows
// summing to 1,
//   E(W) = -sum_i w_i sum_k t_ik log p_ik + lambda / 2 sum_jk pen_j W_jk^2
//   grad_k = X' diag(w) (p_k - t_k) + lambda pen w_k                 (PRML 4.109)
//   H_kl   = X' diag(w p_k (delta_kl - p_l)) X                       (PRML 4.110)
// Parameters that are fixed (a reference class, or one intercept) are held at
// zero and left out of the Newton system. Full Newton is used while the number
// of free parameters is at most `newton_max_dim`; above it, a truncated Newton
// method (Newton-CG, preconditioned by the Hessian's diagonal) on exact
// Hessian-vector products, which never forms the Hessian.
//
// Numerical tricks: the loss uses softplus / log-softmax (link.hpp,
// normalise.hpp), never the log of a rounded probability, and 1 - mu is
// sigmoid(-eta), not a difference, so weights and residuals keep their
// relative precision when fitted probabilities approach 0 or 1 (separable
// data). mu - y is (1 - y) mu - y (1 - mu), exact for y in {0, 1}.
//
// Determinism: rows are processed in blocks of `block_rows`, blocks are
// grouped into at most 64 consecutive "slots" whose number depends only on the
// problem size; each slot accumulates its blocks in order on one thread, and
// slots are added in slot order. Results are bit-for-bit identical for any
// thread count. Eigen's own threading is switched off (EIGEN_DONT_PARALLELIZE).
//
// The model matrix is read in place (Eigen::Map over the caller's column-major
// n x p array); only per-slot scratch of block_rows rows is allocated.
// Nothing here calls R.
#ifndef XENTROPY_FIT_HPP
#define XENTROPY_FIT_HPP

#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
// Eigen does the small dense algebra here (Cholesky / LDLT of the p x p
// Hessian); the products over the n rows run through the package's own
// dispatched kernels (crossprod_k, gemv_k below), which use AVX2 / AVX-512
// where the CPU has them, while Eigen would be compiled for baseline SSE2
// under R's default flags. Eigen's SIMD code is therefore switched off: it
// would gain nothing, and with GCC its SSE packet types raise hundreds of
// -Wignored-attributes warnings (define XENTROPY_FIT_EIGEN_VECTORIZE to keep
// it, e.g. when the including program uses vectorised Eigen elsewhere).
#if !defined(EIGEN_DONT_VECTORIZE) && !defined(XENTROPY_FIT_EIGEN_VECTORIZE)
#define EIGEN_DONT_VECTORIZE
#endif

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.hpp"
#include "link.hpp"
#include "normalise.hpp"
#include "penalty.hpp"

namespace xentropy {
namespace fit {

using Mat = Eigen::MatrixXd;
using Vec = Eigen::VectorXd;
using CMap = Eigen::Map<const Mat>;

constexpr index_t block_rows = 512;
constexpr index_t max_slots = 64;

// Convergence: half the Newton decrement -g'd / 2 is at most tol (|E| + 0.1)
// (the relative change of E that glm() tests, predicted before the step);
// that step is still taken, and the iteration stops after it when the largest
// gradient entry is then at most tol, or after one more step otherwise (so
// rounding noise in the gradient of a huge sum cannot keep it going).
struct control {
  double tol = 1e-8;
  int maxit = 100;               // Newton iterations
  int nthreads = 1;
  index_t newton_max_dim = 200;  // softmax: full Newton up to this many free parameters
  bool hessian = true;           // return the Hessian at the optimum (costs one more pass
                                 // when the last step was predicted final)
  int cg_maxit = 250;            // conjugate-gradient steps per truncated Newton step
};

// result::code is a fit_status (common.hpp): converged, max_iterations or stalled.

struct result {
  Vec coef;                    // binary: p; softmax: p x K, column-major
  double loss = 0.0;           // cross-entropy part of the objective
  double penalty = 0.0;        // lambda / 2 sum pen b^2
  Vec grad;                    // gradient of the penalised objective (all parameters)
  Mat hess;                    // penalised Hessian over the free parameters (may be empty)
  Vec fitted;                  // n (binary) or n x K (softmax) fitted probabilities
  std::vector<double> trace;   // penalised objective at the start and after each iteration
  int iter = 0;
  int code = converged;
  int method = 0;              // 0 Newton, 1 Newton-CG
};

// The ridge penalty lambda / 2 sum pen b^2 of the Newton fits, through penalty.hpp's
// ridge: the type the path solver takes (one source for the penalty's formulas). lp holds
// lambda times the penalty weight of each parameter (0: unpenalised or not free), in
// the shape of the parameters (a vector, or p x K for softmax).
template <class T>
struct ridge_terms {
  path::ridge pen;
  T lp;
  double value(const T& b) const {
    double s = 0.0;
    for (index_t q = 0; q < b.size(); ++q) s += pen.value(b.data() + q, 1, lp.data()[q]);
    return s;
  }
  T gradient(const T& b) const {  // of the penalty
    T g(b.rows(), b.cols());
    for (index_t q = 0; q < b.size(); ++q) g.data()[q] = pen.smooth_gradient(b.data()[q], lp.data()[q]);
    return g;
  }
  T curvature() const {  // the diagonal of the penalty's Hessian
    T h(lp.rows(), lp.cols());
    for (index_t q = 0; q < lp.size(); ++q) h.data()[q] = pen.smooth_curvature(lp.data()[q]);
    return h;
  }
};

namespace detail {

// Fixed grouping of row blocks into slots (see the header comment).
struct slots {
  index_t n, nblocks, nslots;
  slots(index_t n_, index_t acc_size) : n(n_) {
    nblocks = n == 0 ? 0 : (n - 1) / block_rows + 1;
    const index_t cap = std::max<index_t>(1, (index_t(1) << 24) / std::max<index_t>(1, acc_size));
    nslots = std::max<index_t>(1, std::min(std::min(nblocks, max_slots), cap));
  }
  index_t first(index_t s) const { return s * nblocks / nslots; }
};

template <class F>
inline void for_slots(const slots& sl, int nt, F f) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
#endif
  for (index_t s = 0; s < sl.nslots; ++s) f(s, sl.first(s), sl.first(s + 1));
  (void)nt;
}

inline bool finite(const Vec& v) { return v.allFinite(); }

// C += A' B for column-major A (nb x p, leading dimension lda) and B (nb x q,
// ldb); C is p x q with leading dimension ldc. With `lower`, only the blocks
// on or below the diagonal (p == q). This is the Gram-matrix kernel of the
// Hessians: Eigen's products are compiled for the baseline instruction set
// only (R's flags carry no -march), while this loop runs through
// vm::dispatch, so it uses AVX2 / AVX-512 and FMA where the CPU has them
// (3-5 times faster than Eigen's SSE2 kernel here). 4 x 2 blocks of C are
// accumulated at once (6 loads per 8 multiply-adds, 8 independent chains) in
// 4 partial sums each, added in a fixed order.
struct crossprod_k {
  XENTROPY_VM_INLINE static void run(const double* A, index_t lda, const double* B,
                                     index_t ldb, index_t nb, index_t p, index_t q,
                                     double* C, index_t ldc, bool lower) {
    constexpr int L = 4;
    for (index_t j = 0; j < p; j += 4) {
      const index_t nj = std::min<index_t>(4, p - j);
      // rows past the end repeat the last one; their sums are not stored
      const double* a0 = A + j * lda;
      const double* a1 = A + std::min(j + 1, p - 1) * lda;
      const double* a2 = A + std::min(j + 2, p - 1) * lda;
      const double* a3 = A + std::min(j + 3, p - 1) * lda;
      const index_t kend = lower ? std::min(j + 4, q) : q;
      for (index_t k = 0; k < kend; k += 2) {
        const index_t nk = std::min<index_t>(2, kend - k);
        const double* b0 = B + k * ldb;
        const double* b1 = nk == 2 ? b0 + ldb : b0;
        double s[8][L];
        for (int c = 0; c < 8; ++c)
          for (int l = 0; l < L; ++l) s[c][l] = 0.0;
        index_t i = 0;
        for (; i + L <= nb; i += L) {
          XENTROPY_VM_SIMD
          for (int l = 0; l < L; ++l) {
            const double y0 = b0[i + l], y1 = b1[i + l];
            const double x0 = a0[i + l], x1 = a1[i + l], x2 = a2[i + l], x3 = a3[i + l];
            s[0][l] += x0 * y0;
            s[1][l] += x0 * y1;
            s[2][l] += x1 * y0;
            s[3][l] += x1 * y1;
            s[4][l] += x2 * y0;
            s[5][l] += x2 * y1;
            s[6][l] += x3 * y0;
            s[7][l] += x3 * y1;
          }
        }
        for (int l = 0; i < nb; ++i, ++l) {
          const double y0 = b0[i], y1 = b1[i];
          s[0][l] += a0[i] * y0;
          s[1][l] += a0[i] * y1;
          s[2][l] += a1[i] * y0;
          s[3][l] += a1[i] * y1;
          s[4][l] += a2[i] * y0;
          s[5][l] += a2[i] * y1;
          s[6][l] += a3[i] * y0;
          s[7][l] += a3[i] * y1;
        }
        for (index_t r = 0; r < nj; ++r)
          for (index_t c = 0; c < nk; ++c) {
            double t = 0.0;
            for (int l = 0; l < L; ++l) t += s[2 * r + c][l];
            C[j + r + (k + c) * ldc] += t;
          }
      }
    }
  }
};

// out = X_b b for the nb rows of X_b (leading dimension ldx), columns swept in
// order (dispatched like crossprod_k; Eigen's GEMV is baseline SSE2 here).
struct gemv_k {
  XENTROPY_VM_INLINE static void run(const double* Xb, index_t ldx, index_t nb, index_t p,
                                     const double* b, double* out) {
    for (index_t i = 0; i < nb; ++i) out[i] = 0.0;
    for (index_t j = 0; j < p; ++j) {
      const double* xj = Xb + j * ldx;
      const double bj = b[j];
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) out[i] += xj[i] * bj;
    }
  }
};

// H += X_b' diag(s) X_b (lower triangle when `lower`), with Xs = s * X_b
// formed in scratch; Xb points at row r0 of X (leading dimension ldx).
inline void weighted_crossprod(const double* Xb, index_t ldx, index_t nb, index_t p,
                               const double* s, Mat& Xs, Mat& H, index_t h_row,
                               index_t h_col, bool lower) {
  Xs.resize(nb, p);
  for (index_t j = 0; j < p; ++j) {
    const double* xj = Xb + j * ldx;
    double* o = Xs.data() + j * nb;
    for (index_t i = 0; i < nb; ++i) o[i] = s[i] * xj[i];
  }
  vm::dispatch<crossprod_k>(static_cast<const double*>(Xs.data()), nb, Xb, ldx, nb, p, p,
                            H.data() + h_row + h_col * H.rows(), static_cast<index_t>(H.rows()),
                            lower);
}

// Solves A d = -g for symmetric positive (semi)definite A: LLT, else LDLT,
// else LLT with a growing ridge. Returns false when nothing finite is found.
inline bool newton_direction(const Mat& A, const Vec& g, Vec& d) {
  Eigen::LLT<Mat> llt(A);
  if (llt.info() == Eigen::Success) {
    d = -llt.solve(g);
    if (finite(d)) return true;
  }
  Eigen::LDLT<Mat> ldlt(A);
  if (ldlt.info() == Eigen::Success && ldlt.isPositive()) {
    d = -ldlt.solve(g);
    if (finite(d) && g.dot(d) < 0) return true;
  }
  const double scale = std::max(1.0, A.diagonal().cwiseAbs().maxCoeff());
  for (double mu = 1e-12; mu < 1e6; mu *= 100) {
    Mat B = A;
    B.diagonal().array() += mu * scale;
    Eigen::LLT<Mat> l2(B);
    if (l2.info() != Eigen::Success) continue;
    d = -l2.solve(g);
    if (finite(d)) return true;
  }
  return false;
}

// Armijo with a margin for the rounding error of F itself. Once the predicted
// decrease -slope / 2 is below tol (|F| + 0.1) (`small`), the decrease left is
// of the order of F's rounding error and cannot be verified: the full Newton
// step is then accepted unless it raises F by more than the decrease
// predicted, and never halved.
inline bool acceptable(double Fn, double F, double slope, double t, bool small) {
  const double noise = 64 * std::numeric_limits<double>::epsilon() * std::fabs(F);
  if (!std::isfinite(Fn)) return false;
  if (small) return Fn <= F + std::max(-slope, noise);
  return Fn <= F + 1e-4 * t * slope + noise;
}

}  // namespace detail

// ---------------------------------------------------------------- binary --

struct binary_problem {
  const double* x;  // n x p, column-major
  index_t n, p;
  const double* y;  // n targets in [0, 1]
  const double* w;  // n non-negative weights, or nullptr
  int nthreads = 1;
  const double* offset = nullptr;  // n offsets added to x_i' beta, or nullptr

  // Cross-entropy at beta; its gradient into g; the Hessian (lower and upper
  // triangles) into *H when H is given; fitted probabilities into mu_out.
  double eval(const Vec& beta, Vec& g, Mat* H, double* mu_out = nullptr) const {
    const detail::slots sl(n, H ? p * p : p);
    std::vector<double> fs(sl.nslots, 0.0);
    std::vector<Vec> gs(sl.nslots);
    std::vector<Mat> Hs(H ? sl.nslots : 0);
    const int nt = threads_for(nthreads, n * std::max<index_t>(p, 1));
    detail::for_slots(sl, nt, [&](index_t s, index_t b0, index_t b1) {
      Vec eta(block_rows), neg(block_rows), sp(block_rows), sn(block_rows), mu(block_rows),
          mc(block_rows), r(block_rows), sq(block_rows);
      Mat Xs;
      Vec gsum = Vec::Zero(p);
      Mat Hsum;
      if (H) Hsum = Mat::Zero(p, p);
      double fsum = 0.0;
      for (index_t b = b0; b < b1; ++b) {
        const index_t r0 = b * block_rows, nb = std::min(block_rows, n - r0);
        vm::dispatch<detail::gemv_k>(x + r0, n, nb, p, beta.data(), eta.data());
        if (offset)
          for (index_t i = 0; i < nb; ++i) eta[i] += offset[r0 + i];
        neg.head(nb) = -eta.head(nb);
        xentropy::softplus(eta.data(), sp.data(), nb, 1);
        xentropy::softplus(neg.data(), sn.data(), nb, 1);
        xentropy::sigmoid(eta.data(), mu.data(), nb, 1);
        xentropy::sigmoid(neg.data(), mc.data(), nb, 1);
        double fb = 0.0;
        for (index_t i = 0; i < nb; ++i) {
          const double wi = w ? w[r0 + i] : 1.0, yi = y[r0 + i];
          if (wi == 0.0) {
            r[i] = 0.0;
            sq[i] = 0.0;
            continue;
          }
          double li = 0.0;
          if (yi != 0.0) li += yi * sn[i];
          if (yi != 1.0) li += (1.0 - yi) * sp[i];
          fb += wi * li;
          r[i] = wi * ((1.0 - yi) * mu[i] - yi * mc[i]);
          sq[i] = wi * mu[i] * mc[i];
        }
        fsum += fb;
        vm::dispatch<detail::crossprod_k>(x + r0, n, static_cast<const double*>(r.data()), nb,
                                          nb, p, index_t(1), gsum.data(), p, false);
        if (H) detail::weighted_crossprod(x + r0, n, nb, p, sq.data(), Xs, Hsum, 0, 0, true);
        if (mu_out) std::copy(mu.data(), mu.data() + nb, mu_out + r0);
      }
      fs[s] = fsum;
      gs[s] = std::move(gsum);
      if (H) Hs[s] = std::move(Hsum);
    });
    double f = 0.0;
    g = Vec::Zero(p);
    if (H) *H = Mat::Zero(p, p);
    for (index_t s = 0; s < sl.nslots; ++s) {
      f += fs[s];
      g += gs[s];
      if (H) *H += Hs[s];
    }
    if (H) H->triangularView<Eigen::StrictlyUpper>() = H->transpose();
    return f;
  }
};

// Newton / IRLS with step halving. `pen` (p entries, 0 or 1) marks the
// penalised coefficients; beta is the starting point.
// `pen_matrix` (p x p, column-major), when given, replaces `pen`: the penalty is then
// lambda / 2 b' pen_matrix b, the ridge of another basis (the R code fits badly
// conditioned designs on Z = X T, where the ridge on beta = T gamma is
// lambda / 2 gamma' T' diag(pen) T gamma).
inline result fit_binary(const binary_problem& pb, const double* pen, double lambda, Vec beta,
                         const control& ctl, const double* pen_matrix = nullptr) {
  const index_t p = pb.p;
  const bool full = pen_matrix != nullptr;
  const ridge_terms<Vec> rt{path::ridge(), full ? Vec::Zero(p) : Vec(Eigen::Map<const Vec>(pen, p) * lambda)};
  const Vec P = rt.curvature();
  const Mat Q = full ? Mat(Eigen::Map<const Mat>(pen_matrix, p, p) * lambda) : Mat();
  result res;
  auto penalty = [&](const Vec& b) { return full ? 0.5 * b.dot(Q * b) : rt.value(b); };
  auto pgrad = [&](const Vec& b) -> Vec { return full ? Vec(Q * b) : rt.gradient(b); };
  auto padd = [&](Mat& A) {
    if (full) A += Q;
    else A.diagonal() += P;
  };
  Vec g, gn;
  Mat H, Hn;
  Vec mu(pb.n), mun(pb.n);  // fitted probabilities at beta and at the trial point
  double f = pb.eval(beta, g, &H, mu.data());
  double F = f + penalty(beta);
  res.trace.push_back(F);
  res.code = max_iterations;
  bool was_small = false, have_h = true;
  int it = 0;
  for (; it < ctl.maxit; ++it) {
    const Vec G = g + pgrad(beta);
    Mat A = H;
    padd(A);
    Vec d;
    if (!detail::newton_direction(A, G, d)) {
      res.code = stalled;
      break;
    }
    const double slope = G.dot(d);  // -(Newton decrement)
    if (!(slope <= 0)) {
      res.code = stalled;
      break;
    }
    const bool small = -slope / 2 <= ctl.tol * (std::fabs(F) + 0.1);
    double t = 1.0;
    bool ok = false;
    Vec bn;
    double fn = 0, Fn = 0;
    for (int k = 0; k < (small ? 1 : 60); ++k, t /= 2) {
      bn = beta + t * d;
      // a step predicted final skips the Hessian (formed later only if needed)
      fn = pb.eval(bn, gn, small ? nullptr : &Hn, mun.data());
      Fn = fn + penalty(bn);
      if (detail::acceptable(Fn, F, slope, t, small)) {
        ok = true;
        break;
      }
    }
    if (!ok) {
      res.code = small ? converged : stalled;
      break;
    }
    beta.swap(bn);
    g.swap(gn);
    mu.swap(mun);
    f = fn;
    F = Fn;
    res.trace.push_back(F);
    if (small && (was_small || (g + pgrad(beta)).cwiseAbs().maxCoeff() <= ctl.tol)) {
      res.code = converged;
      have_h = false;
      ++it;
      break;
    }
    if (small) {
      pb.eval(beta, g, &H);
    } else {
      H.swap(Hn);
    }
    was_small = small;
  }
  res.iter = it;
  if (ctl.hessian && !have_h) pb.eval(beta, g, &H);
  res.fitted.swap(mu);
  res.loss = f;
  res.penalty = penalty(beta);
  res.grad = g + pgrad(beta);
  if (ctl.hessian || have_h) {
    res.hess = H;
    padd(res.hess);
  }
  res.coef = beta;
  return res;
}

// --------------------------------------------------------------- softmax --

struct softmax_problem {
  const double* x;  // n x p, column-major
  index_t n, p, K;
  const double* t;  // n x K targets, rows summing to 1
  const double* w;  // n weights or nullptr
  int nthreads = 1;
  const double* offset = nullptr;  // n x K offsets added to the logits, or nullptr

  // Loss at W (p x K); gradient (p x K) into G; Hessian over the classes in
  // `active` (|active| p x |active| p, class-major blocks) into *H when given;
  // probabilities (n x K) into P_out when given.
  double eval(const Mat& W, Mat& G, Mat* H, const std::vector<index_t>& active,
              double* P_out = nullptr) const {
    const index_t Ka = static_cast<index_t>(active.size()), m = Ka * p;
    const detail::slots sl(n, H ? m * m : p * K);
    std::vector<double> fs(sl.nslots, 0.0);
    std::vector<Mat> gs(sl.nslots), Hs(H ? sl.nslots : 0);
    const int nt = threads_for(nthreads, n * std::max<index_t>(p, 1) * K);
    detail::for_slots(sl, nt, [&](index_t s, index_t b0, index_t b1) {
      Mat R(block_rows, K);
      Vec sw(block_rows), comp(block_rows);
      Mat Xs;
      Mat gsum = Mat::Zero(p, K), Hsum;
      if (H) Hsum = Mat::Zero(m, m);
      double fsum = 0.0;
      for (index_t b = b0; b < b1; ++b) {
        const index_t r0 = b * block_rows, nb = std::min(block_rows, n - r0);
        Mat Ec(nb, K), LSb(nb, K), PP(nb, K);  // logits, log-softmax, softmax
        for (index_t k = 0; k < K; ++k)
          vm::dispatch<detail::gemv_k>(x + r0, n, nb, p, W.col(k).data(), Ec.col(k).data());
        if (offset)
          for (index_t k = 0; k < K; ++k)
            for (index_t i = 0; i < nb; ++i) Ec(i, k) += offset[k * n + r0 + i];
        xentropy::softmax(Ec.data(), nb, K, 1, LSb.data(), true, 1);
        xentropy::softmax(Ec.data(), nb, K, 1, PP.data(), false, 1);
        double fb = 0.0;
        for (index_t i = 0; i < nb; ++i) sw[i] = w ? w[r0 + i] : 1.0;
        for (index_t k = 0; k < K; ++k) {
          const double* tk = t + k * n + r0;
          for (index_t i = 0; i < nb; ++i) {
            const double wi = sw[i];
            if (wi == 0.0) {
              R(i, k) = 0.0;
              continue;
            }
            if (tk[i] != 0.0) fb -= wi * tk[i] * LSb(i, k);
            R(i, k) = wi * (PP(i, k) - tk[i]);
          }
        }
        fsum += fb;
        vm::dispatch<detail::crossprod_k>(x + r0, n, static_cast<const double*>(R.data()),
                                          block_rows, nb, p, K, gsum.data(), p, false);
        if (H) {
          for (index_t a = 0; a < Ka; ++a) {
            const index_t c = active[a];
            for (index_t bb = 0; bb <= a; ++bb) {
              const index_t d = active[bb];
              if (c == d) {
                // 1 - p_c as the sum of the other probabilities (no cancellation)
                comp.head(nb).setZero();
                for (index_t k = 0; k < K; ++k)
                  if (k != c) comp.head(nb) += PP.col(k);
                for (index_t i = 0; i < nb; ++i) comp[i] *= sw[i] * PP(i, c);
              } else {
                for (index_t i = 0; i < nb; ++i) comp[i] = -sw[i] * PP(i, c) * PP(i, d);
              }
              detail::weighted_crossprod(x + r0, n, nb, p, comp.data(), Xs, Hsum, a * p,
                                         bb * p, a == bb);
            }
          }
        }
        if (P_out)
          for (index_t k = 0; k < K; ++k)
            std::copy(PP.col(k).data(), PP.col(k).data() + nb, P_out + k * n + r0);
      }
      fs[s] = fsum;
      gs[s] = std::move(gsum);
      if (H) Hs[s] = std::move(Hsum);
    });
    double f = 0.0;
    G = Mat::Zero(p, K);
    if (H) *H = Mat::Zero(m, m);
    for (index_t s = 0; s < sl.nslots; ++s) {
      f += fs[s];
      G += gs[s];
      if (H) *H += Hs[s];
    }
    if (H) H->triangularView<Eigen::StrictlyUpper>() = H->transpose();
    return f;
  }

  // X' diag(w) X (lower and upper triangles), summed over the fixed slots.
  Mat gram() const {
    const detail::slots sl(n, p * p);
    std::vector<Mat> hs(sl.nslots);
    const int nt = threads_for(nthreads, n * std::max<index_t>(p, 1));
    detail::for_slots(sl, nt, [&](index_t s, index_t b0, index_t b1) {
      Mat Xs, hsum = Mat::Zero(p, p);
      for (index_t b = b0; b < b1; ++b) {
        const index_t r0 = b * block_rows, nb = std::min(block_rows, n - r0);
        if (w) {
          detail::weighted_crossprod(x + r0, n, nb, p, w + r0, Xs, hsum, 0, 0, true);
        } else {
          vm::dispatch<detail::crossprod_k>(x + r0, n, x + r0, n, nb, p, p, hsum.data(), p,
                                            true);
        }
      }
      hs[s] = std::move(hsum);
    });
    Mat Gm = Mat::Zero(p, p);
    for (index_t s = 0; s < sl.nslots; ++s) Gm += hs[s];
    Gm.triangularView<Eigen::StrictlyUpper>() = Gm.transpose();
    return Gm;
  }

  // The Hessian over the classes in `active` when every row has the same
  // probabilities (those of row 0 of P): (diag(pbar) - pbar pbar') (x) X'WX.
  Mat constant_hessian(const double* P, const std::vector<index_t>& active) const {
    const index_t Ka = static_cast<index_t>(active.size());
    const Mat Gm = gram();
    Mat H(Ka * p, Ka * p);
    for (index_t a = 0; a < Ka; ++a)
      for (index_t b = 0; b < Ka; ++b) {
        const double pa = P[active[a] * n], pb_ = P[active[b] * n];
        const double c = a == b ? pa * (1.0 - pa) : -pa * pb_;
        H.block(a * p, b * p, p, p) = c * Gm;
      }
    return H;
  }

  // H V for a direction V (p x K), given the probabilities P (n x K) at the
  // current point: (H V)_k = X' diag(w) [p_k * (X v_k - sum_l p_l X v_l)].
  Mat hess_vec(const Mat& V, const double* P) const {
    const detail::slots sl(n, p * K);
    std::vector<Mat> hs(sl.nslots);
    const int nt = threads_for(nthreads, n * std::max<index_t>(p, 1) * K);
    detail::for_slots(sl, nt, [&](index_t s, index_t b0, index_t b1) {
      Mat A(block_rows, K);
      Vec msum(block_rows);
      Mat hsum = Mat::Zero(p, K);
      for (index_t b = b0; b < b1; ++b) {
        const index_t r0 = b * block_rows, nb = std::min(block_rows, n - r0);
        for (index_t k = 0; k < K; ++k)
          vm::dispatch<detail::gemv_k>(x + r0, n, nb, p, V.col(k).data(),
                                       A.data() + k * block_rows);
        msum.head(nb).setZero();
        for (index_t k = 0; k < K; ++k) {
          const double* pk = P + k * n + r0;
          for (index_t i = 0; i < nb; ++i) msum[i] += pk[i] * A(i, k);
        }
        for (index_t k = 0; k < K; ++k) {
          const double* pk = P + k * n + r0;
          for (index_t i = 0; i < nb; ++i) {
            const double wi = w ? w[r0 + i] : 1.0;
            A(i, k) = wi * pk[i] * (A(i, k) - msum[i]);
          }
        }
        vm::dispatch<detail::crossprod_k>(x + r0, n, static_cast<const double*>(A.data()),
                                          block_rows, nb, p, K, hsum.data(), p, false);
      }
      hs[s] = std::move(hsum);
    });
    Mat HV = Mat::Zero(p, K);
    for (index_t s = 0; s < sl.nslots; ++s) HV += hs[s];
    return HV;
  }

  // Diagonal of the Hessian (p x K): sum_i w_i p_ik (1 - p_ik) x_ij^2.
  Mat hess_diag(const double* P) const {
    const detail::slots sl(n, p * K);
    std::vector<Mat> hs(sl.nslots);
    const int nt = threads_for(nthreads, n * std::max<index_t>(p, 1) * K);
    const CMap X(x, n, p);
    detail::for_slots(sl, nt, [&](index_t s, index_t b0, index_t b1) {
      Mat S(block_rows, K), X2;
      Mat hsum = Mat::Zero(p, K);
      for (index_t b = b0; b < b1; ++b) {
        const index_t r0 = b * block_rows, nb = std::min(block_rows, n - r0);
        X2 = X.middleRows(r0, nb).array().square();
        for (index_t k = 0; k < K; ++k) {
          const double* pk = P + k * n + r0;
          for (index_t i = 0; i < nb; ++i) {
            const double wi = w ? w[r0 + i] : 1.0;
            S(i, k) = wi * pk[i] * (1.0 - pk[i]);
          }
        }
        vm::dispatch<detail::crossprod_k>(static_cast<const double*>(X2.data()), nb,
                                          static_cast<const double*>(S.data()), block_rows,
                                          nb, p, K, hsum.data(), p, false);
      }
      hs[s] = std::move(hsum);
    });
    Mat D = Mat::Zero(p, K);
    for (index_t s = 0; s < sl.nslots; ++s) D += hs[s];
    return D;
  }
};

// Minimises the softmax objective over the entries of W (p x K) marked free
// (free(j, k) = 1); the others stay at their starting values (zero). `pen`
// (p entries, 0 or 1) marks penalised rows of W (predictors), the same for
// every class.
inline result fit_softmax(const softmax_problem& pb, const Mat& free, const double* pen,
                          double lambda, Mat W, const control& ctl) {
  const index_t p = pb.p, K = pb.K, n = pb.n;
  const Vec Pv = Eigen::Map<const Vec>(pen, p) * lambda;
  // lambda times the penalty weight per free entry
  const ridge_terms<Mat> rt{path::ridge(), Pv.replicate(1, K).cwiseProduct(free)};
  const Mat Pm = rt.curvature();
  std::vector<index_t> active;
  for (index_t k = 0; k < K; ++k)
    if (free.col(k).sum() > 0) active.push_back(k);
  // free entries, in the order of the class-major Hessian blocks
  std::vector<index_t> fidx;  // positions in the (|active| p) block system
  std::vector<index_t> widx;  // positions in W (column-major)
  for (index_t a = 0; a < static_cast<index_t>(active.size()); ++a)
    for (index_t j = 0; j < p; ++j)
      if (free(j, active[a]) != 0) {
        fidx.push_back(a * p + j);
        widx.push_back(active[a] * p + j);
      }
  const index_t m = static_cast<index_t>(fidx.size());
  const bool newton = m <= ctl.newton_max_dim;
  result res;
  res.method = newton ? 0 : 1;
  auto penalty = [&](const Mat& B) { return rt.value(B); };
  auto gather = [&](const Mat& M) {
    Vec v(m);
    for (index_t i = 0; i < m; ++i) v[i] = M.data()[widx[i]];
    return v;
  };
  auto scatter = [&](const Vec& v) {
    Mat M = Mat::Zero(p, K);
    for (index_t i = 0; i < m; ++i) M.data()[widx[i]] = v[i];
    return M;
  };
  auto reduce_hess = [&](const Mat& Hf) {
    Mat A(m, m);
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < m; ++j) A(i, j) = Hf(fidx[i], fidx[j]);
    return A;
  };
  // probabilities at W and at the trial point (Newton-CG needs them for its
  // Hessian-vector products; both return them as the fitted values)
  Vec Pcur(n * K), Ptry(n * K);
  Mat G, Gn, Hf, Hfn;
  // Where only intercepts are non-zero (e.g. at the start), every row has the
  // same probabilities pbar and H = (diag(pbar) - pbar pbar') (x) X'WX: one
  // Gram matrix instead of one per pair of classes.
  bool constant = pb.offset == nullptr;  // offsets make the rows differ
  for (index_t j = 0; j < p && constant; ++j)
    if (pen[j] != 0)
      for (index_t k = 0; k < K; ++k) constant = constant && W(j, k) == 0.0;
  double f = pb.eval(W, G, newton && !constant ? &Hf : nullptr, active, Pcur.data());
  if (newton && constant) Hf = pb.constant_hessian(Pcur.data(), active);
  double F = f + penalty(W);
  res.trace.push_back(F);
  res.code = max_iterations;
  double g0norm = -1;
  bool was_small = false, have_h = newton;
  int it = 0;
  for (; it < ctl.maxit; ++it) {
    const Vec Gv = gather(G + rt.gradient(W));
    Vec d;
    if (newton) {
      Mat A = reduce_hess(Hf);
      A.diagonal() += gather(Pm);
      if (!detail::newton_direction(A, Gv, d)) {
        res.code = stalled;
        break;
      }
    } else {
      // Preconditioned conjugate gradients on (H + Lambda) d = -g, stopped by
      // the forcing term min(0.5, |g| / |g0|) |g| (quadratic convergence).
      const double gnorm = Gv.norm();
      if (g0norm < 0) g0norm = gnorm;
      const double eta = std::min(0.5, gnorm / std::max(g0norm, 1e-300));
      Vec Minv = gather(pb.hess_diag(Pcur.data())) + gather(Pm);
      for (index_t i = 0; i < m; ++i) Minv[i] = Minv[i] > 0 ? 1.0 / Minv[i] : 1.0;
      d = Vec::Zero(m);
      Vec r = -Gv, z = Minv.cwiseProduct(r), q = z;
      double rz = r.dot(z);
      const Vec Pg = gather(Pm);
      for (int c = 0; c < ctl.cg_maxit; ++c) {
        const Vec Hq = gather(pb.hess_vec(scatter(q), Pcur.data())) + Pg.cwiseProduct(q);
        const double qHq = q.dot(Hq);
        if (!(qHq > 0)) break;
        const double alpha = rz / qHq;
        d += alpha * q;
        r -= alpha * Hq;
        if (r.norm() <= eta * gnorm) break;
        z = Minv.cwiseProduct(r);
        const double rz_new = r.dot(z);
        q = z + (rz_new / rz) * q;
        rz = rz_new;
      }
      if (!detail::finite(d) || d.squaredNorm() == 0) d = -Minv.cwiseProduct(Gv);
    }
    const double slope = Gv.dot(d);
    if (!(slope <= 0) || !detail::finite(d)) {
      res.code = stalled;
      break;
    }
    const bool small = -slope / 2 <= ctl.tol * (std::fabs(F) + 0.1);
    const Mat D = scatter(d);
    double t = 1.0, fn = 0, Fn = 0;
    bool ok = false;
    Mat Wn;
    for (int k = 0; k < (small ? 1 : 60); ++k, t /= 2) {
      Wn = W + t * D;
      fn = pb.eval(Wn, Gn, newton && !small ? &Hfn : nullptr, active, Ptry.data());
      Fn = fn + penalty(Wn);
      if (detail::acceptable(Fn, F, slope, t, small)) {
        ok = true;
        break;
      }
    }
    if (!ok) {
      res.code = small ? converged : stalled;
      break;
    }
    W.swap(Wn);
    G.swap(Gn);
    Pcur.swap(Ptry);
    f = fn;
    F = Fn;
    res.trace.push_back(F);
    if (small &&
        (was_small || gather(G + rt.gradient(W)).cwiseAbs().maxCoeff() <= ctl.tol)) {
      res.code = converged;
      have_h = false;
      ++it;
      break;
    }
    if (newton) {
      if (small) {
        pb.eval(W, G, &Hf, active);
      } else {
        Hf.swap(Hfn);
      }
    }
    was_small = small;
  }
  res.iter = it;
  const bool want_h = have_h || ctl.hessian;
  if (ctl.hessian && !have_h) pb.eval(W, G, &Hf, active);
  res.fitted.swap(Pcur);
  res.loss = f;
  res.penalty = penalty(W);
  const Mat Gp = G + rt.gradient(W);
  res.grad = Eigen::Map<const Vec>(Gp.data(), p * K);
  if (want_h) {
    res.hess = reduce_hess(Hf);
    res.hess.diagonal() += gather(Pm);
  }
  res.coef = Eigen::Map<const Vec>(W.data(), p * K);
  return res;
}

// The penalised Hessian at beta (binary) or W (softmax, over the free entries
// in the order fit_softmax() uses): what vcov() needs when the fit skipped it.
inline Mat binary_hessian(const binary_problem& pb, const double* pen, double lambda,
                          const Vec& beta) {
  Vec g;
  Mat H;
  pb.eval(beta, g, &H);
  H.diagonal() += ridge_terms<Vec>{path::ridge(), Eigen::Map<const Vec>(pen, pb.p) * lambda}.curvature();
  return H;
}

inline Mat softmax_hessian(const softmax_problem& pb, const Mat& free, const double* pen,
                           double lambda, const Mat& W) {
  const index_t p = pb.p, K = pb.K;
  std::vector<index_t> active, fidx;
  std::vector<double> pv;
  for (index_t k = 0; k < K; ++k)
    if (free.col(k).sum() > 0) active.push_back(k);
  for (index_t a = 0; a < static_cast<index_t>(active.size()); ++a)
    for (index_t j = 0; j < p; ++j)
      if (free(j, active[a]) != 0) {
        fidx.push_back(a * p + j);
        pv.push_back(path::ridge().smooth_curvature(pen[j] * lambda));
      }
  Mat G, Hf;
  pb.eval(W, G, &Hf, active);
  const index_t m = static_cast<index_t>(fidx.size());
  Mat A(m, m);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < m; ++j) A(i, j) = Hf(fidx[i], fidx[j]);
  for (index_t i = 0; i < m; ++i) A(i, i) += pv[i];
  return A;
}

// The upper-triangular R of a QR decomposition of diag(sqrt(w)) X (p x p,
// R'R = X'WX) computed block by block: R is updated with each block of rows by
// a Householder QR of [R; block] (a tall-skinny QR), so the memory is p x p
// plus one block and the accuracy that of a QR of X itself, not of the Gram
// matrix (whose condition number is squared). The column norms of R equal
// those of diag(sqrt(w)) X and its columns' linear dependencies are X's, so a
// rank-revealing QR of R (R's dqrdc2, as glm.fit uses) decides which columns
// of X are aliased exactly as it would on X.
inline Mat weighted_r_factor(const double* x, index_t n, index_t p, const double* w) {
  const index_t nb_max = std::max<index_t>(block_rows, 4 * p);
  Mat S(p + nb_max, p), R = Mat::Zero(p, p);
  for (index_t r0 = 0; r0 < n; r0 += nb_max) {
    const index_t nb = std::min(nb_max, n - r0);
    S.topRows(p) = R;
    for (index_t j = 0; j < p; ++j)
      for (index_t i = 0; i < nb; ++i) {
        const double wi = w ? w[r0 + i] : 1.0;
        S(p + i, j) = (wi == 1.0 ? 1.0 : std::sqrt(wi)) * x[j * n + r0 + i];
      }
    Eigen::HouseholderQR<Mat> qr(S.topRows(p + nb));
    R = qr.matrixQR().topRows(std::min(p, p + nb)).template triangularView<Eigen::Upper>();
  }
  return R;
}

}  // namespace fit
}  // namespace xentropy

#endif  // XENTROPY_FIT_HPP
