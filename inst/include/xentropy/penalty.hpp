// xentropy/penalty.hpp -- the penalties of the fits: ridge, lasso, elastic net
// and the group lasso over a feature's K softmax coefficients. Each is a small
// type the path solver (path.hpp) takes as a template argument; the Newton fits
// (fit.hpp: logistic_regression(lambda =), softmax_regression(lambda =) and their
// chunked forms) take the ridge through the same type:
//   value(b, K, lp)          the penalty of a feature's K coefficients,
//                            lp = lambda times the feature's penalty factor;
//   update(b, u, h, K, lp)   the proximal coordinate step;
//   violation(b, G, K, lp)   the distance of minus the loss gradient G from
//                            the subdifferential (the KKT certificate);
//   dual_norm(G, K)          for lambda_max and the strong rule;
//   centre(b, K)             (softmax) the shift of the K coefficients that
//                            minimises the penalty; the loss does not change;
//   grouped                  whether the K coefficients move as one block;
//   smooth_gradient(b, lp),  (separable penalties) the derivatives of the smooth
//   smooth_curvature(lp)     part lp (1 - alpha) / 2 b^2, all of the ridge: the
//                            Newton fits add them to the loss's gradient and
//                            Hessian, and take the value from value().
// A new penalty is a new type here and one line in path::fit_path().
// Nothing here calls R or needs Eigen.
#ifndef XENTROPY_PENALTY_HPP
#define XENTROPY_PENALTY_HPP

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.hpp"

namespace xentropy {
namespace path {

// The midpoint of the median interval of b[0, K): for the lasso with an even K, a
// softmax feature's coefficients may shift together anywhere in that interval at no
// cost; glmnet reports the midpoint (its elc()), and so do the paths.
inline double median_midpoint(const double* b, index_t K) {
  std::vector<double> v(b, b + K);
  std::sort(v.begin(), v.end());
  return K % 2 == 1 ? v[K / 2] : 0.5 * (v[K / 2 - 1] + v[K / 2]);
}

inline double soft(double u, double t) {
  return u > t ? u - t : (u < -t ? u + t : 0.0);
}

// ------------------------------------------------------------- penalties --
// `lp` is lambda * pf_j; b, u, h, g have K entries (one per class).
// update(): b <- argmin_b sum_k (h_k / 2 b_k^2 - u_k b_k) + lp P(b), u_k = g_k + h_k b_k.
// violation(): for G the loss gradient, the distance of -G from lp dP(b).

// Shared by the penalties that are separable over coordinates.
template <class Self>
struct separable {
  double value(const double* b, index_t K, double lp) const {
    const double a = static_cast<const Self&>(*this).alpha;
    double s = 0.0;
    for (index_t k = 0; k < K; ++k) s += (1.0 - a) / 2.0 * b[k] * b[k] + a * std::fabs(b[k]);
    return lp * s;
  }
  double violation(const double* b, const double* G, index_t K, double lp) const {
    const double a = static_cast<const Self&>(*this).alpha;
    double v = 0.0;
    for (index_t k = 0; k < K; ++k) {
      const double r = G[k] + lp * (1.0 - a) * b[k];
      const double e = b[k] != 0.0 ? std::fabs(r + (b[k] > 0 ? 1.0 : -1.0) * lp * a)
                                   : std::max(0.0, std::fabs(r) - lp * a);
      v = std::max(v, e);
    }
    return v;
  }
  static double dual_norm(const double* G, index_t K) {
    double m = 0.0;
    for (index_t k = 0; k < K; ++k) m = std::max(m, std::fabs(G[k]));
    return m;
  }
  double smooth_gradient(double b, double lp) const {
    return lp * (1.0 - static_cast<const Self&>(*this).alpha) * b;
  }
  double smooth_curvature(double lp) const {
    return lp * (1.0 - static_cast<const Self&>(*this).alpha);
  }
  // The shift c minimising sum_k (1 - a)/2 (b_k - c)^2 + a |b_k - c| (glmnet's elc()):
  // the softmax loss does not change when a feature's K coefficients move together, so
  // the optimum has it; 0 when 0 is optimal already, but for the lasso with an even K
  // (below).
  double centre(const double* b, index_t K) const {
    const double a = static_cast<const Self&>(*this).alpha;
    // f'(c) = (1 - a) sum (c - b_k) + a (#{b_k < c} - #{b_k > c}), non-decreasing
    auto slope = [&](double c, bool right) {
      double s = 0.0;
      for (index_t k = 0; k < K; ++k) {
        s += (1.0 - a) * (c - b[k]);
        if (b[k] < c || (right && b[k] == c)) s += a;
        else if (b[k] > c || (!right && b[k] == c)) s -= a;
      }
      return s;
    };
    // the lasso with an even K: the penalty is flat on the median interval; the
    // coefficients are reported at its midpoint (glmnet's), so the solver keeps them
    // there and the certificate is computed where they are reported (elsewhere in the
    // interval, the K/2 coefficients' violations add up at the one that moves off 0)
    if (a >= 1.0 && K % 2 == 0) return median_midpoint(b, K);
    if (slope(0.0, false) <= 0.0 && slope(0.0, true) >= 0.0) return 0.0;
    std::vector<double> v(b, b + K);
    std::sort(v.begin(), v.end());
    // the minimiser is a kink b_k or inside a segment between kinks
    for (index_t k = 0; k < K; ++k) {
      if (slope(v[k], false) <= 0.0 && slope(v[k], true) >= 0.0) return v[k];
    }
    if (a >= 1.0) return v[K / 2];
    // inside a segment: f' linear there, zero at c = (sum b + a (#above - #below)/(1-a)) / K
    for (index_t m = 0; m <= K; ++m) {  // m coefficients below c
      double sb = 0.0;
      for (index_t k = 0; k < K; ++k) sb += v[k];
      const double c = (sb + a / (1.0 - a) * (static_cast<double>(K - m) - m)) / K;
      const double lo = m == 0 ? -inf() : v[m - 1], hi = m == K ? inf() : v[m];
      if (c >= lo && c <= hi) return c;
    }
    return 0.0;
  }
};

struct ridge : separable<ridge> {
  static constexpr bool grouped = false;
  double alpha = 0.0;
  void update(double* b, const double* u, const double* h, index_t K, double lp) const {
    for (index_t k = 0; k < K; ++k) b[k] = u[k] / (h[k] + lp);
  }
};

struct lasso : separable<lasso> {
  static constexpr bool grouped = false;
  double alpha = 1.0;
  void update(double* b, const double* u, const double* h, index_t K, double lp) const {
    for (index_t k = 0; k < K; ++k) b[k] = soft(u[k], lp) / h[k];
  }
};

struct elastic_net : separable<elastic_net> {
  static constexpr bool grouped = false;
  double alpha;
  explicit elastic_net(double a) : alpha(a) {}
  void update(double* b, const double* u, const double* h, index_t K, double lp) const {
    for (index_t k = 0; k < K; ++k) b[k] = soft(u[k], lp * alpha) / (h[k] + lp * (1.0 - alpha));
  }
};

// A feature's K coefficients as one group; its block of the model is minimised exactly
// (a one-dimensional root for the norm of the solution).
struct group_lasso {
  static constexpr bool grouped = true;
  double alpha;
  explicit group_lasso(double a) : alpha(a) {}
  static double norm2(const double* b, index_t K) {
    double s = 0.0;
    for (index_t k = 0; k < K; ++k) s += b[k] * b[k];
    return std::sqrt(s);
  }
  double value(const double* b, index_t K, double lp) const {
    const double nb = norm2(b, K);
    return lp * ((1.0 - alpha) / 2.0 * nb * nb + alpha * nb);
  }
  // Exact block minimiser with the model's own curvatures h_k: b = 0 when ||u|| <= l1,
  // else b_k = u_k r / ((h_k + l2) r + l1) where r = ||b|| solves
  // g(r) = sum_k (u_k / ((h_k + l2) r + l1))^2 = 1; g is convex and decreasing, so
  // Newton's method from r = 0 rises monotonically to the root.
  void update(double* b, const double* u, const double* h, index_t K, double lp) const {
    const double l1 = lp * alpha, l2 = lp * (1.0 - alpha);
    const double un = norm2(u, K);
    if (un <= l1) {
      for (index_t k = 0; k < K; ++k) b[k] = 0.0;
      return;
    }
    double r = 0.0;
    if (l1 > 0.0) {
      for (int it = 0; it < 100; ++it) {
        double g = -1.0, dg = 0.0;
        for (index_t k = 0; k < K; ++k) {
          const double hk = h[k] + l2, den = hk * r + l1, q = u[k] / den;
          g += q * q;
          dg -= 2.0 * q * q * hk / den;
        }
        if (!(dg < 0.0)) break;
        const double rn = r - g / dg;
        if (!(rn > r)) break;
        const bool small = rn - r <= 1e-15 * rn;
        r = rn;
        if (small) break;
      }
    }
    for (index_t k = 0; k < K; ++k) {
      const double hk = h[k] + l2;
      b[k] = l1 > 0.0 ? u[k] * r / (hk * r + l1) : u[k] / hk;
    }
  }
  double violation(const double* b, const double* G, index_t K, double lp) const {
    const double nb = norm2(b, K);
    double s = 0.0;
    if (nb > 0.0) {
      for (index_t k = 0; k < K; ++k) {
        const double r = G[k] + lp * (1.0 - alpha) * b[k] + lp * alpha * b[k] / nb;
        s += r * r;
      }
      return std::sqrt(s);
    }
    return std::max(0.0, norm2(G, K) - lp * alpha);
  }
  static double dual_norm(const double* G, index_t K) { return norm2(G, K); }
  // the shift minimising the penalty of b - c: the mean (P depends on ||b - c||)
  double centre(const double* b, index_t K) const {
    double m = 0.0;
    for (index_t k = 0; k < K; ++k) m += b[k];
    return m / K;
  }
};


}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PENALTY_HPP
