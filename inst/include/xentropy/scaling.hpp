// xentropy/scaling.hpp -- recalibrating logits: temperature scaling and
// Platt scaling, fitted by safeguarded Newton on the mean cross-entropy.
//
//   temperature: with beta = 1 / T and p = softmax(beta z),
//                L(beta)   = logsumexp(beta z) - beta z_y,
//                L'(beta)  = E_p[z] - z_y,  L''(beta) = Var_p[z] >= 0,
//                so L is convex in beta and one pass gives all three; the
//                fit is a safeguarded Newton iteration in beta (Guo et al.
//                2017). Binary: L = y softplus(-beta z) + (1 - y)
//                softplus(beta z), L' = (sigmoid(beta z) - y) z, L'' =
//                sigmoid(beta z) sigmoid(-beta z) z^2. Platt (1999): sigmoid(a z
//                + b), 2-D Newton with backtracking on the mean binary
//                cross-entropy (no target smoothing: the maximum-likelihood
//                fit, as glm(y ~ z, binomial)).
//
// Numerical tricks: the log-sum-exp is m + log1p(t + c - 1) with m the row
// maximum, t the sum of exp(beta (z_k - m)) below it and c the count at it
// (normalise.hpp; Blanchard, Higham & Higham 2021); E_p[z] - m and Var_p[z]
// come from sums of e_k (z_k - m) and e_k (z_k - m)^2, all of whose terms
// have e_k <= 1, and the maximum itself has weight >= 1 / K, so the variance
// as E[d^2] - E[d]^2 loses at most a factor K in relative accuracy. Binary
// terms use the forms of softplus and sigmoid in link.hpp, sharing one
// exp(-|u|) and one log1p per observation.
//
// Determinism: every pass runs fixed-size blocks of observations whose
// partial sums are added in block order: results are identical for any
// thread count.
#ifndef XENTROPY_SCALING_HPP
#define XENTROPY_SCALING_HPP

#include <cmath>

#include "binning.hpp"

namespace xentropy {
namespace calibration {

// Weighted sums of one pass: loss, first and second derivatives (for Platt:
// gradient (a, b) and Hessian (aa, ab, bb)), total weight.
// `free` is the weight of the observations whose loss grows again as beta
// grows (the label's logit is not the largest; for binary logits, the sign
// of z disagrees with the target, or the target is strictly between 0 and
// 1): when it is 0 the loss falls all the way as beta -> Inf, to `limit`
// (sum of w log(number of classes tied at the maximum)). For Platt, the
// extremes of z among targets 1 (z1) and 0 (z0), and the weight of soft
// targets, tell whether a threshold separates the classes.
struct scaling_sums {
  double w = 0.0, loss = 0.0;
  double g[2] = {0.0, 0.0};
  double h[3] = {0.0, 0.0, 0.0};
  double free = 0.0, limit = 0.0;
  double z1min = inf(), z1max = -inf(), z0min = inf(), z0max = -inf(), soft = 0.0;
  missing miss = missing::none;  // a row was missing (na_rm false)
  void merge(const scaling_sums& o) {
    w += o.w;
    loss += o.loss;
    free += o.free;
    limit += o.limit;
    z1min = std::min(z1min, o.z1min);
    z1max = std::max(z1max, o.z1max);
    z0min = std::min(z0min, o.z0min);
    z0max = std::max(z0max, o.z0max);
    soft += o.soft;
    for (int j = 0; j < 2; ++j) g[j] += o.g[j];
    for (int j = 0; j < 3; ++j) h[j] += o.h[j];
    miss |= o.miss;
  }
  bool any_missing() const { return miss != missing::none; }
};

namespace detail {

// Observations per part of a scaling pass (one scaling_sums each).
constexpr index_t scaling_block = blocks::elementwise;

// Per row of a block of logits: m = maximum, nc = number of NaNs,
// t = sum of exp(beta (z - m)) below m, c = count at m, s1 = sum e (z - m),
// s2 = sum e (z - m)^2 (terms with e = 0 add 0, also for z = -Inf).
struct temperature_rows_k {
  XENTROPY_VM_INLINE static void run(const double* z, index_t n, index_t K, index_t r0,
                                     index_t nb, double beta, double* m, double* nc,
                                     double* t, double* c, double* s1, double* s2) {
    for (index_t i = 0; i < nb; ++i)
      m[i] = -std::numeric_limits<double>::infinity(), nc[i] = 0.0, t[i] = 0.0,
      c[i] = 0.0, s1[i] = 0.0, s2[i] = 0.0;
    for (index_t k = 0; k < K; ++k) {
      const double* col = z + k * n + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double v = col[i];
        nc[i] += v != v ? 1.0 : 0.0;
        m[i] = v > m[i] ? v : m[i];
      }
    }
    for (index_t k = 0; k < K; ++k) {
      const double* col = z + k * n + r0;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double d = col[i] - m[i];
        const double e = vm::exp(beta * d);
        const bool below = d < 0.0;
        t[i] += below ? e : 0.0;
        c[i] += d == 0.0 ? 1.0 : 0.0;
        const double ed = e > 0.0 && below ? e * d : 0.0;
        s1[i] += ed;
        s2[i] += e > 0.0 && below ? ed * d : 0.0;
      }
    }
  }
};

}  // namespace detail

// Loss, L'(beta) and L''(beta) of softmax(beta z) against the targets, summed
// with weights over the n x K logits (one pass). Non-finite logits other than
// NA / NaN are reported as invalid predictions.
inline scaling_sums temperature_pass(const targets& y, const double* z, index_t n,
                                     index_t K, double beta, const double* weights,
                                     bool na_rm, int nthreads, report& rep) {
  using detail::obs_block;
  const index_t block = detail::scaling_block;
  const index_t nparts = n == 0 ? 0 : (n - 1) / block + 1;
  std::vector<scaling_sums> part(static_cast<std::size_t>(nparts));
  const int nt = nparts > 1 ? threads_for(nthreads, n * K) : 1;
  parallel_chunks(n, block, nt, [&](index_t p0, index_t p1) {
    scaling_sums& S = part[static_cast<std::size_t>(p0 / block)];
    double m[obs_block], nc[obs_block], t[obs_block], c[obs_block], s1[obs_block],
        s2[obs_block];
    invalid_at first;
    for (index_t o0 = p0; o0 < p1; o0 += obs_block) {
      const index_t nb = std::min(obs_block, p1 - o0);
      vm::dispatch<detail::temperature_rows_k>(z, n, K, o0, nb, beta, m, nc, t, c, s1, s2);
      for (index_t i = 0; i < nb; ++i) {
        const index_t o = o0 + i;
        row_state st;
        if (nc[i] > 0.0 || !std::isfinite(m[i]) || !std::isfinite(s1[i]) ||
            !std::isfinite(s2[i])) {
          for (index_t k = 0; k < K; ++k) {
            const double v = z[o + k * n];
            if (std::isnan(v)) st.miss |= missing_of(v);
            else if (!std::isfinite(v)) {
              first.merge(invalid_at{o + k * n, operand::prediction});
              st.bad = true;
            }
          }
        }
        // target terms: sum_k t_k, sum_k t_k (z_k - m), target mass off the
        // maximum
        double tsum = 1.0, tz = 0.0, off = 0.0;
        if (y.is_matrix()) {
          tsum = 0.0;
          for (index_t k = 0; k < K; ++k) {
            const double tv = y.matrix(o, k);
            if (std::isnan(tv)) {
              st.miss |= missing_of(tv);
            } else if (!(tv >= 0.0 && tv <= 1.0)) {
              first.merge(invalid_at{y.matrix.at(o, k), operand::target});
              st.bad = true;
            } else if (tv > 0.0) {
              const double d = z[o + k * n] - m[i];
              tsum += tv;
              tz += tv * d;
              off += d < 0.0 ? tv : 0.0;
            }
          }
        } else {
          const index_t lab = y.labels.get(o, K, st.miss);
          if (lab == class_labels::out_of_range) {
            first.merge(invalid_at{o, operand::target});
            st.bad = true;
          } else if (st.ok()) {
            tz = z[o + lab * n] - m[i];
            off = tz < 0.0 ? 1.0 : 0.0;
          }
        }
        if (!st.ok()) {
          S.miss |= st.noted();
          continue;
        }
        const double w = weights ? weights[o] : 1.0;
        if (w == 0.0) continue;
        const double s0 = t[i] + c[i];
        const double mu = s1[i] / s0;              // E_p[z] - m
        double var = s2[i] / s0 - mu * mu;         // Var_p[z]
        if (var < 0.0) var = 0.0;
        const double lse = std::log1p(t[i] + (c[i] - 1.0));  // logsumexp(beta z) - beta m
        S.w += w;
        S.loss += w * (tsum * lse - beta * tz);
        S.g[0] += w * (tsum * mu - tz);
        S.h[0] += w * tsum * var;
        if (off > 0.0) S.free += w;
        else S.limit += w * tsum * std::log(c[i]);
      }
    }
    rep.values.note(first);
  });
  scaling_sums total;
  for (const scaling_sums& s : part) total.merge(s);
  if (na_rm) total.miss = missing::none;
  return total;
}

// Binary version on logits z (length n): with platt = false, the loss of
// sigmoid(a z) and its derivatives in a (the temperature pass, a = beta);
// with platt = true, of sigmoid(a z + b) with gradient and Hessian in (a, b).
// Platt's covariate may be taken about a centre c: sigmoid(a (z - c) + b), with the
// derivatives in a along z - c (logits shifted by 1e8 keep their spread).
inline scaling_sums binary_scaling_pass(const binary_targets& y, const double* z,
                                        index_t n, double a, double b, bool platt,
                                        const double* weights, bool na_rm,
                                        int nthreads, report& rep, double c = 0.0) {
  const index_t block = detail::scaling_block;
  const index_t nparts = n == 0 ? 0 : (n - 1) / block + 1;
  std::vector<scaling_sums> part(static_cast<std::size_t>(nparts));
  const int nt = nparts > 1 ? threads_for(nthreads, n) : 1;
  parallel_chunks(n, block, nt, [&](index_t p0, index_t p1) {
    scaling_sums& S = part[static_cast<std::size_t>(p0 / block)];
    invalid_at first;
    for (index_t o = p0; o < p1; ++o) {
      bool valid;
      const double t = y.get(o, valid);
      const double v = z[o];
      row_state st;
      if (!valid) {
        first.merge(invalid_at{o, operand::target});
        st.bad = true;
      } else {
        st.miss |= missing_of(t);
      }
      if (std::isnan(v)) {
        st.miss |= missing_of(v);
      } else if (!std::isfinite(v)) {
        first.merge(invalid_at{o, operand::prediction});
        st.bad = true;
      }
      if (!st.ok()) {
        S.miss |= st.noted();
        continue;
      }
      const double w = weights ? weights[o] : 1.0;
      if (w == 0.0) continue;
      const double vc = platt ? v - c : v;
      const double u = a * vc + (platt ? b : 0.0);
      // one exp and one log1p per observation: with e = exp(-|u|) <= 1,
      // sigmoid(|u|) = 1 / (1 + e), sigmoid(-|u|) = e / (1 + e) and
      // softplus(+-u) = max(+-u, 0) + log1p(e) (link.hpp's forms)
      const double e = vm::exp(-std::fabs(u)), a1 = vm::log1p(e);
      const double big = 1.0 / (1.0 + e), small = e / (1.0 + e);
      const double sp = u >= 0.0 ? big : small, sn = u >= 0.0 ? small : big;
      const double spu = (u > 0.0 ? u : 0.0) + a1, spm = (u < 0.0 ? -u : 0.0) + a1;
      const double l = (t > 0.0 ? t * spm : 0.0) + (t < 1.0 ? (1.0 - t) * spu : 0.0);
      // sigmoid(u) - t, formed without cancellation for t in {0, 1}
      const double r = t == 1.0 ? -sn : (t == 0.0 ? sp : sp - t);
      const double q = sp * sn;
      const bool soft = t > 0.0 && t < 1.0;
      if (soft || (t == 1.0 && v < 0.0) || (t == 0.0 && v > 0.0)) S.free += w;
      else if (v == 0.0) S.limit += w * std::log(2.0);
      if (soft) S.soft += w;
      if (t == 1.0) S.z1min = std::min(S.z1min, v), S.z1max = std::max(S.z1max, v);
      if (t == 0.0) S.z0min = std::min(S.z0min, v), S.z0max = std::max(S.z0max, v);
      S.w += w;
      S.loss += w * l;
      S.g[0] += w * r * vc;
      S.h[0] += w * q * vc * vc;
      if (platt) {
        S.g[1] += w * r;
        S.h[1] += w * q * vc;
        S.h[2] += w * q;
      }
    }
    rep.values.note(first);
  });
  scaling_sums total;
  for (const scaling_sums& s : part) total.merge(s);
  if (na_rm) total.miss = missing::none;
  return total;
}

// Outcome of a scaling fit: a fit_status (common.hpp), one of
//   converged;
//   scaling_separated: the loss decreases all the way as beta -> Inf (the
//     logits separate the classes: T = 0, par is Inf; Platt: a threshold on
//     z separates them, par is NaN);
//   scaling_uninformative: the minimum over beta >= 0 is at beta = 0 (T =
//     Inf: the logits carry no information, or point the wrong way);
//   scaling_max_iterations: no convergence within maxit;
//   scaling_missing: missing values (na_rm false); scaling_invalid: invalid
//   input; scaling_empty: no observations.
struct scaling_fit {
  double par[2] = {1.0, 0.0};  // beta (= 1 / T), or Platt's (a, b)
  double loss = 0.0;           // mean loss at par
  double grad[2] = {0.0, 0.0}; // mean gradient at par
  double loss0 = 0.0;          // mean loss at beta = 1 (a = 1, b = 0)
  int passes = 0;
  int iterations = 0;
  int status = converged;  // a fit_status (common.hpp)
  bool na = false;
};

// Fits beta = 1 / T by safeguarded Newton on the convex L(beta): Newton steps
// from beta = 1 kept inside the bracket [lo, hi] known from the sign of L'
// (bisection, or doubling while no upper end is known, when a step leaves
// it); stops when |L'| <= tol (mean over observations) or the step is below
// 4 ulp of beta. `pass(beta)` returns the scaling_sums of one pass.
template <class Pass>
inline scaling_fit fit_temperature(Pass pass, double tol = 1e-12, int maxit = 100) {
  scaling_fit fit;
  double beta = 1.0, lo = 0.0, hi = inf();
  scaling_sums s = pass(beta);
  ++fit.passes;
  if (s.any_missing()) {
    fit.status = scaling_missing;
    fit.na = s.miss == missing::na;
    return fit;
  }
  if (!(s.w > 0.0)) {
    fit.status = scaling_empty;
    return fit;
  }
  fit.loss0 = s.loss / s.w;
  for (;;) {
    const double g = s.g[0] / s.w, h = s.h[0] / s.w;
    fit.par[0] = beta;
    fit.loss = s.loss / s.w;
    fit.grad[0] = g;
    if (std::fabs(g) <= tol && fit.iterations > 0) break;
    if (fit.iterations == 0 && s.free == 0.0 && g < 0.0) {
      // every observation's loss falls as beta grows: the infimum is at
      // beta = Inf (T = 0)
      fit.status = scaling_separated;
      fit.par[0] = inf();
      fit.loss = s.limit / s.w;
      fit.grad[0] = 0.0;
      return fit;
    }
    if (std::fabs(g) <= tol) break;
    if (g < 0.0) lo = beta; else hi = beta;
    if (fit.iterations >= maxit) {
      fit.status = scaling_max_iterations;
      break;
    }
    double next = h > 0.0 ? beta - g / h : nan_real();
    if (!(next > lo && next < hi)) next = hi == inf() ? 2.0 * beta : 0.5 * (lo + hi);
    if (hi == inf() && beta > 1e15) {
      fit.status = scaling_separated;  // T -> 0
      break;
    }
    if (lo == 0.0 && hi < 1e-15) {
      fit.status = scaling_uninformative;  // T -> Inf
      break;
    }
    if (std::fabs(next - beta) <= 4.0 * std::numeric_limits<double>::epsilon() * beta) break;
    if (g > 0.0 && lo == 0.0 && fit.iterations == 0) {
      // the minimum lies in (0, beta) only if L'(0) < 0
      const scaling_sums s0 = pass(0.0);
      ++fit.passes;
      if (s0.g[0] / s0.w >= 0.0) {
        fit.status = scaling_uninformative;
        fit.par[0] = 0.0;
        fit.loss = s0.loss / s0.w;
        fit.grad[0] = s0.g[0] / s0.w;
        return fit;
      }
    }
    beta = next;
    s = pass(beta);
    ++fit.passes;
    ++fit.iterations;
  }
  return fit;
}

// Platt scaling: (a, b) minimising the mean binary cross-entropy of
// sigmoid(a z + b), by Newton steps on the 2 x 2 system, halved while the
// loss rises (by more than 1e-13 relative: its rounding error). Starts at
// (a, b) = (1, 0) or, where its loss is lower, at the intercept-only fit
// (0, logit(mean y)): from (1, 0) on logits shifted by 50 or scaled by 3000
// the sigmoid is saturated, its Hessian about 0, and no halving of the
// Newton step lowers the loss. Stops when the gradient of the loss in the
// standardised logit (z - mean z) / sd z, whose size does not depend on the
// logits' scale, is <= tol in each component; a fit that can move no further
// before that is reported not converged. The fit runs on z about its mean
// (pass(a, b, c) evaluates sigmoid(a (z - c) + b)).
template <class Pass>
inline scaling_fit fit_platt(Pass pass, double tol = 1e-12, int maxit = 100) {
  scaling_fit fit;
  double a = 1.0, b = 0.0;
  scaling_sums s = pass(a, b, 0.0);
  ++fit.passes;
  if (s.any_missing()) {
    fit.status = scaling_missing;
    fit.na = s.miss == missing::na;
    return fit;
  }
  if (!(s.w > 0.0)) {
    fit.status = scaling_empty;
    return fit;
  }
  fit.loss0 = s.loss / s.w;
  if (s.soft == 0.0 && s.z1min <= s.z1max && s.z0min <= s.z0max &&
      (s.z0max < s.z1min || s.z1max < s.z0min)) {
    // a threshold on z separates the classes: no finite fit
    fit.status = scaling_separated;
    fit.par[0] = fit.par[1] = nan_real();
    fit.loss = 0.0;
    return fit;
  }
  // at (0, 0) every p is 1/2: the gradient and Hessian give mean y and the (weighted)
  // mean zm of z. The fit then runs on z - zm: sigmoid(a (z - zm) + bc), bc = b + a zm
  // (on logits shifted by 1e8, a z + b would lose 8 digits to the cancellation).
  const scaling_sums s00 = pass(0.0, 0.0, 0.0);
  ++fit.passes;
  const double ybar = 0.5 - s00.g[1] / s00.w;
  const double zm = s00.h[1] / s00.h[2];
  const double c = std::isfinite(zm) ? zm : 0.0;
  double bc = b + a * c;
  s = pass(a, bc, c);
  ++fit.passes;
  // the spread of z about zm, from a pass where every p is the same
  double zv = 0.0;
  if (ybar > 0.0 && ybar < 1.0) {
    const double b0 = std::log(ybar / (1.0 - ybar));
    const scaling_sums s0 = pass(0.0, b0, c);
    ++fit.passes;
    zv = s0.h[0] / s0.h[2];
    if (s0.loss < s.loss) {
      a = 0.0;
      bc = b0;
      s = s0;
    }
  } else {
    const scaling_sums sv = pass(0.0, 0.0, c);
    ++fit.passes;
    zv = sv.h[0] / sv.h[2];
  }
  const double zsd = zv > 0.0 && std::isfinite(zv) ? std::sqrt(zv) : 1.0;
  // the gradient in the standardised logit (a' = a sd): scale-free
  auto standard_grad = [&](const scaling_sums& q) {
    return std::max(std::fabs(q.g[0] / q.w / zsd), std::fabs(q.g[1] / q.w));
  };
  // (a, b) and the gradient in them, from the centred fit
  auto record = [&](const scaling_sums& q) {
    fit.par[0] = a;
    fit.par[1] = bc - a * c;
    fit.loss = q.loss / q.w;
    fit.grad[0] = q.g[0] / q.w + c * (q.g[1] / q.w);
    fit.grad[1] = q.g[1] / q.w;
  };
  for (;;) {
    const double ga = s.g[0] / s.w, gb = s.g[1] / s.w;
    const double haa = s.h[0] / s.w, hab = s.h[1] / s.w, hbb = s.h[2] / s.w;
    record(s);
    if (standard_grad(s) <= tol) break;
    if (fit.iterations >= maxit) {
      fit.status = scaling_max_iterations;
      break;
    }
    const double det = haa * hbb - hab * hab;
    double da, db;
    if (det > 0.0 && haa > 0.0) {
      da = -(hbb * ga - hab * gb) / det;
      db = -(haa * gb - hab * ga) / det;
    } else {  // flat or singular: a gradient step
      da = -ga;
      db = -gb;
    }
    double step = 1.0;
    scaling_sums next;
    bool moved = false;
    for (int halvings = 0; halvings < 60; ++halvings) {
      next = pass(a + step * da, bc + step * db, c);
      ++fit.passes;
      // a step is taken when the loss does not rise beyond its rounding
      // error: near the minimum, differences are below it
      if (next.loss <= s.loss + 1e-13 * std::fabs(s.loss)) {
        moved = true;
        break;
      }
      step *= 0.5;
    }
    ++fit.iterations;
    if (!moved) {  // no decrease representable: at the minimum to rounding, or stuck
      if (!(standard_grad(s) <= 1e-6)) fit.status = scaling_max_iterations;
      break;
    }
    const double na_ = a + step * da, nb_ = bc + step * db;
    const bool tiny = std::fabs(na_ - a) <= 4.0 * std::numeric_limits<double>::epsilon() * std::fabs(a) &&
                      std::fabs(nb_ - bc) <= 4.0 * std::numeric_limits<double>::epsilon() * (std::fabs(bc) + 1e-300);
    a = na_;
    bc = nb_;
    s = next;
    if (std::fabs(a) > 1e15) {
      fit.status = scaling_separated;  // separable: the slope grows without bound
      record(s);
      break;
    }
    if (tiny) {
      record(s);
      if (!(standard_grad(s) <= 1e-6)) fit.status = scaling_max_iterations;
      break;
    }
  }
  return fit;
}

}  // namespace calibration
}  // namespace xentropy

#endif  // XENTROPY_SCALING_HPP
