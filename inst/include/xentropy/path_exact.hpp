// xentropy/path_exact.hpp -- the exact steps of the path solver (path.hpp): once the
// active set and signs of coordinate descent settle, the second-order model is solved
// on them directly: by conjugate gradients (binary, and softmax with separable
// penalties; dense or sparse x), or for the group lasso by an LDLT of the full softmax
// Hessian on the non-zero groups. Included by path.hpp only.
#ifndef XENTROPY_PATH_EXACT_HPP
#define XENTROPY_PATH_EXACT_HPP

namespace xentropy {
namespace path {

// Softmax: Newton step of the model on its non-zero coefficients (separable penalties:
// signs fixed, the step cut at the first sign change; the group lasso: the non-zero
// groups, with the group norm's Hessian) and the intercepts, taken only if the model
// plus the penalty decreases. The active columns are standardised into an n x (m + 1)
// scratch (m active features, and a column of ones for the intercepts); settle()
// calls it only when that is cheap.
template <class Matrix, class Penalty>
void solver<Matrix, Penalty>::exact_step_softmax(const std::vector<index_t>& act, double lam) {
  const index_t K = K_, n = n_;
  std::vector<index_t> feat;
  std::vector<std::pair<index_t, index_t>> A;  // (column of Z, class)
  for (index_t j : act) {
    bool group_in = false;
    for (index_t k = 0; k < K; ++k) group_in = group_in || beta_[j * K + k] != 0.0;
    if (!group_in) continue;
    feat.push_back(j);
    for (index_t k = 0; k < K; ++k)
      if (Penalty::grouped || beta_[j * K + k] != 0.0)
        A.push_back({static_cast<index_t>(feat.size()) - 1, k});
  }
  const index_t m = static_cast<index_t>(feat.size()), nA = static_cast<index_t>(A.size());
  if (pb_.intercept)
    for (index_t k = 0; k < K; ++k) A.push_back({m, k});
  const index_t d = static_cast<index_t>(A.size());
  if (nA == 0) return;
  Eigen::MatrixXd Z = Eigen::MatrixXd::Zero(n, m + 1);
  for (index_t q = 0; q < m; ++q) {
    const index_t j = feat[q];
    for_col(X_, j, [&](index_t i, double x) { Z(i, q) = x; });
    Z.col(q).array() = (Z.col(q).array() - c_[j]) / s_[j];
  }
  Z.col(m).setOnes();
  // blocks Z' diag(w p_k (delta_kl - p_l)) Z of the softmax Hessian
  std::vector<Eigen::MatrixXd> B(static_cast<size_t>(K * K));
  Eigen::VectorXd wt(n);
  for (index_t k = 0; k < K; ++k)
    for (index_t l = k; l < K; ++l) {
      for (index_t i = 0; i < n; ++i)
        wt(i) = wp_[k * n + i] * ((k == l ? 1.0 : 0.0) - P_[l * n + i]);
      B[k * K + l] = Z.transpose() * (Z.array().colwise() * wt.array()).matrix();
    }
  Eigen::MatrixXd H(d, d);
  for (index_t u = 0; u < d; ++u)
    for (index_t v = u; v < d; ++v) {
      const index_t k = std::min(A[u].second, A[v].second), l = std::max(A[u].second, A[v].second);
      H(u, v) = H(v, u) = B[k * K + l](A[u].first, A[v].first);
    }
  // the model's minus gradient at the current point
  Eigen::VectorXd g(d);
  for (index_t u = 0; u < d; ++u) {
    const index_t q = A[u].first, k = A[u].second;
    const double* r = &res_[k * n];
    const double* wp = &wp_[k * n];
    const double* dx = &dX_[k * n];
    if (q < m) {
      g(u) = col_model_grad(X_, feat[q], c_[feat[q]], r, wp, dx, t_.data()) / s_[feat[q]];
    } else {
      double s = 0.0;
      for (index_t i = 0; i < n; ++i) s += r[i] - wp[i] * (dx[i] - t_[i]);
      g(u) = s;
    }
  }
  const Eigen::MatrixXd Hm = H;  // the loss model alone
  const double a = pen_.alpha;
  Eigen::VectorXd rhs = g;
  for (index_t u = 0; u < nA; ++u) {
    const index_t j = feat[A[u].first], k = A[u].second;
    const double b = beta_[j * K + k], lp = lam * pf_[j];
    H(u, u) += lp * (1.0 - a);
    rhs(u) -= lp * (1.0 - a) * b;
    if (!Penalty::grouped) {
      rhs(u) -= lp * a * ((b > 0) - (b < 0));
      continue;
    }
    const double nb = group_lasso::norm2(&beta_[j * K], K);
    rhs(u) -= lp * a * b / nb;
    const index_t u0 = u - k;  // the group's K entries are consecutive
    for (index_t l = 0; l < K; ++l)
      H(u, u0 + l) += lp * a * ((l == k ? 1.0 : 0.0) / nb - b * beta_[j * K + l] / (nb * nb * nb));
  }
  // the over-parameterised classes make H singular: a ridge at the level of rounding
  // selects the least-change solution
  H.diagonal().array() += 1e-10 * std::max(1e-300, H.diagonal().cwiseAbs().maxCoeff());
  Eigen::LDLT<Eigen::MatrixXd> ldlt(H);
  if (ldlt.info() != Eigen::Success) return;
  Eigen::VectorXd delta = ldlt.solve(rhs);
  if (!delta.allFinite()) return;
  // separable: stop at the first sign change (a coefficient reaching zero stays there)
  double t = 1.0;
  index_t cut = -1;
  if (!Penalty::grouped && a > 0.0)
    for (index_t u = 0; u < nA; ++u) {
      const double b = beta_[feat[A[u].first] * K + A[u].second], du = delta(u);
      if ((b + du) * b < 0.0 && -b / du < t) {
        t = -b / du;
        cut = u;
      }
    }
  delta *= t;
  if (cut >= 0) delta(cut) = -beta_[feat[A[cut].first] * K + A[cut].second];
  // the change of the model plus the penalty; the step is taken only if it decreases
  double pen0 = 0.0, pen1 = 0.0;
  std::vector<double> bj(K);
  for (index_t q = 0; q < m; ++q) {
    const index_t j = feat[q];
    pen0 += pen_.value(&beta_[j * K], K, lam * pf_[j]);
  }
  std::vector<double> nb(beta_.begin(), beta_.end());
  for (index_t u = 0; u < nA; ++u) nb[feat[A[u].first] * K + A[u].second] += delta(u);
  if (cut >= 0) nb[feat[A[cut].first] * K + A[cut].second] = 0.0;
  for (index_t q = 0; q < m; ++q) {
    const index_t j = feat[q];
    pen1 += pen_.value(&nb[j * K], K, lam * pf_[j]);
  }
  const double change = -g.dot(delta) + 0.5 * delta.dot(Hm * delta) + pen1 - pen0;
  if (!(change < 0.0)) return;
  for (index_t u = 0; u < d; ++u) {
    const index_t q = A[u].first, k = A[u].second;
    const double du = delta(u);
    if (du == 0.0) continue;
    if (q < m) {
      const index_t j = feat[q];
      col_model_move(X_, j, c_[j], du / s_[j], &P_[k * n], &dX_[k * n], t_.data());
      beta_[j * K + k] = u == cut ? 0.0 : beta_[j * K + k] + du;
    } else {
      a0_[k] += du;
      double* dx = &dX_[k * n];
      const double* p = &P_[k * n];
      for (index_t i = 0; i < n; ++i) {
        dx[i] += du;
        t_[i] += p[i] * du;
      }
    }
  }
}


// Binary: Newton step of the model on the active set A with its signs fixed,
// (H_AA + ridge) delta = model gradient - penalty subgradient, with the intercept, by
// conjugate gradients (Jacobi-preconditioned) in the uncentred coordinates (a, beta_A):
// there the Hessian is [1 X_A]' diag(v) [1 X_A] (columns scaled by 1 / s_j), and the
// centred intercept moves by delta_a + sum_j c_j delta_j / s_j. The intercept is
// eliminated exactly (its row is V0 delta_a + sum_j H_0j delta_j = r_0): CG runs on the
// Schur complement H_AA - H_A0 H_0A / V0, i.e. on the columns centred by their
// v-weighted means, which the intercept's direction leaves orthogonal (in raw
// coordinates that direction is nearly a combination of the columns wherever the active
// columns cover the rows, as sparse binary features do, which worsens the conditioning
// CG sees). The product costs the same (one more sum over the rows). The step is cut at the first coefficient that would
// change sign (set to 0 there), and the intercept then moves to its minimiser given the
// coefficients' moves; CG's iterate x satisfies x' H x = r' x, so the model decreases
// all along the segment to it. A product with the Hessian costs two reads of the active
// columns (about a descent pass), and the iterations needed grow with the square root
// of the condition number where descent's passes grow with the condition number itself;
// no d x d matrix is formed, so active sets of any size qualify. Stops when the largest
// residual is below tol (or after maxit iterations); returns the iterations made.
template <class Matrix, class Penalty>
index_t solver<Matrix, Penalty>::exact_step_cg(const std::vector<index_t>& A, double lam,
                                               std::vector<double>& Cm, std::vector<double>& Smx,
                                               const std::vector<double>& V, double tol,
                                               index_t maxit) {
  const index_t m = static_cast<index_t>(A.size());
  const bool icpt = pb_.intercept;
  const double a = pen_.alpha;
  const double* v = v_.data();
  const double V0 = V[0];
  // r: the reduced right-hand side; h0: H_0k = sum_i v_i x_ik / s_k
  std::vector<double> r(m), z(m), pd(m), hp(m), x(m, 0.0), dg(m), h0(m, 0.0);
  std::vector<double>& q = scratch_n_;
  const double r0 = icpt ? Smx[0] - Cm[0] * V0 : 0.0;
  for (index_t k = 0; k < m; ++k) {
    const index_t j = A[k];
    const double b = beta_[j], lp = lam * pf_[j], sj = s_[j];
    const double g = (col_dot(X_, j, mx_.data()) - Cm[0] * xv_[j]) / sj;
    double xv, xxv;
    col_wsums(X_, j, v, xv, xxv);
    if (icpt) h0[k] = xv / sj;
    r[k] = g - lp * (1.0 - a) * b - lp * a * ((b > 0) - (b < 0)) - (icpt ? h0[k] * r0 / V0 : 0.0);
    const double dk = xxv / (sj * sj) - (icpt ? h0[k] * h0[k] / V0 : 0.0);
    dg[k] = dk > 0.0 ? 1.0 / (dk + lp * (1.0 - a)) : (lp * (1.0 - a) > 0.0 ? 1.0 / (lp * (1.0 - a)) : 0.0);
  }
  std::vector<double> su(m), part;
  const int nt = cd_threads(ctl_.nthreads, n_);
  auto hess = [&](const std::vector<double>& u, std::vector<double>& out) {
    for (index_t k = 0; k < m; ++k) su[k] = u[k] / s_[A[k]];
    double s0;
    hess_product(X_, A, su.data(), v, nt, part, q, out.data(), s0);
    const double c0 = icpt ? s0 / V0 : 0.0;
    for (index_t k = 0; k < m; ++k) {
      const index_t j = A[k];
      out[k] = out[k] / s_[j] - h0[k] * c0 + lam * pf_[j] * (1.0 - a) * u[k];
    }
  };
  auto rmax = [&]() {
    double e = 0.0;
    for (index_t k = 0; k < m; ++k) e = std::max(e, std::fabs(r[k]));
    return e;
  };
  double rz = 0.0;
  for (index_t k = 0; k < m; ++k) {
    z[k] = dg[k] * r[k];
    pd[k] = z[k];
    rz += r[k] * z[k];
  }
  index_t it = 0;
  while (it < maxit && rmax() > tol && rz > 0.0) {
    ++it;
    hess(pd, hp);
    double php = 0.0;
    for (index_t k = 0; k < m; ++k) php += pd[k] * hp[k];
    if (!(php > 0.0)) break;
    const double al = rz / php;
    double rz1 = 0.0;
    for (index_t k = 0; k < m; ++k) {
      x[k] += al * pd[k];
      r[k] -= al * hp[k];
      z[k] = dg[k] * r[k];
      rz1 += r[k] * z[k];
    }
    const double be = rz1 / rz;
    rz = rz1;
    for (index_t k = 0; k < m; ++k) pd[k] = z[k] + be * pd[k];
  }
  if (it == 0) return 0;
  for (index_t k = 0; k < m; ++k)
    if (!std::isfinite(x[k])) return it;
  double t = 1.0;
  index_t cut = -1;
  for (index_t k = 0; k < m; ++k) {
    const double b = beta_[A[k]], dq = x[k];
    if (a > 0.0 && b != 0.0 && (b + dq) * b < 0.0 && -b / dq < t) {
      t = -b / dq;
      cut = k;
    }
  }
  // the coefficients' moves, then the (uncentred) intercept to its minimiser given them:
  // delta_a = (r_0 - sum_k H_0k delta_k) / V0
  double d0 = 0.0, hd = 0.0;
  for (index_t k = 0; k < m; ++k) {
    const index_t j = A[k];
    const double dq = k == cut ? -beta_[j] : t * x[k];
    d0 += c_[j] * dq / s_[j];
    hd += h0[k] * dq;
    move(j, dq, Cm, Smx);
    if (k == cut) beta_[j] = 0.0;
  }
  if (icpt) {
    d0 += (r0 - hd) / V0;
    Cm[0] += d0;
    a0_[0] += d0;
  }
  return it;
}


// Softmax, separable penalties: the same Newton step as exact_step_softmax (the non-zero
// coefficients with their signs fixed, and the intercepts) by conjugate gradients, for
// active sets where forming the d x d Hessian costs too much. A product with the
// Hessian, q_ik = w_i p_ik (u_ik - sum_l p_il u_il) for u = Z delta, then Z' q, costs two
// reads of the active columns per class (about two descent passes); the diagonal h_
// (exact for the separable model) preconditions. The over-parameterised classes give
// the Hessian a null space that the right-hand side is orthogonal to, which CG
// respects. Returns the iterations made.
template <class Matrix, class Penalty>
index_t solver<Matrix, Penalty>::exact_step_softmax_cg(const std::vector<index_t>& act,
                                                       double lam, const std::vector<double>& V,
                                                       double tol, index_t maxit) {
  const index_t K = K_, n = n_;
  const double a = pen_.alpha;
  std::vector<std::pair<index_t, index_t>> A;  // (feature, class); then (p_, k) intercepts
  for (index_t j : act)
    for (index_t k = 0; k < K; ++k)
      if (beta_[j * K + k] != 0.0) A.push_back({j, k});
  const index_t nA = static_cast<index_t>(A.size());
  if (nA == 0) return 0;
  if (pb_.intercept)
    for (index_t k = 0; k < K; ++k) A.push_back({p_, k});
  const index_t d = static_cast<index_t>(A.size());
  std::vector<double> r(d), z(d), pd(d), hp(d), x(d, 0.0), dg(d), u, vs;
  for (index_t q = 0; q < d; ++q) {
    const index_t j = A[q].first, k = A[q].second;
    const double* rk = &res_[k * n];
    const double* wp = &wp_[k * n];
    const double* dx = &dX_[k * n];
    if (j < p_) {
      const double b = beta_[j * K + k], lp = lam * pf_[j];
      r[q] = col_model_grad(X_, j, c_[j], rk, wp, dx, t_.data()) / s_[j] - lp * (1.0 - a) * b -
             lp * a * ((b > 0) - (b < 0));
      dg[q] = h_[j * K + k] + lp * (1.0 - a);
    } else {
      double sm = 0.0;
      for (index_t i = 0; i < n; ++i) sm += rk[i] - wp[i] * (dx[i] - t_[i]);
      r[q] = sm;
      dg[q] = V[k];
    }
    dg[q] = dg[q] > 0.0 ? 1.0 / dg[q] : 0.0;
  }
  // the product by the Hessian (path_kernels.hpp: by row blocks and threads for dense x)
  std::vector<index_t> hcols, hcls;
  for (index_t q = 0; q < nA; ++q) {
    hcols.push_back(A[q].first);
    hcls.push_back(A[q].second);
  }
  std::vector<double> su(nA), shift(K), hout(nA), qs(K), hpart;
  const int nt = cd_threads(ctl_.nthreads, n);
  auto hess = [&](const std::vector<double>& del, std::vector<double>& out) {
    std::fill(shift.begin(), shift.end(), 0.0);  // the centring and the intercepts: per class
    for (index_t q = 0; q < d; ++q) {
      const index_t j = A[q].first, k = A[q].second;
      if (j < p_) {
        su[q] = del[q] / s_[j];
        if (del[q] != 0.0) shift[k] -= c_[j] * su[q];
      } else {
        shift[k] += del[q];
      }
    }
    softmax_hess_product(X_, K, hcols, hcls, su.data(), shift.data(), P_.data(), wp_.data(), nt,
                         hpart, u, vs, hout.data(), qs.data());
    for (index_t q = 0; q < d; ++q) {
      const index_t j = A[q].first, k = A[q].second;
      if (j < p_)
        out[q] = (hout[q] - c_[j] * qs[k]) / s_[j] + lam * pf_[j] * (1.0 - a) * del[q];
      else
        out[q] = qs[k];
    }
  };
  auto rmax = [&]() {
    double e = 0.0;
    for (index_t q = 0; q < d; ++q) e = std::max(e, std::fabs(r[q]));
    return e;
  };
  double rz = 0.0;
  for (index_t q = 0; q < d; ++q) {
    z[q] = dg[q] * r[q];
    pd[q] = z[q];
    rz += r[q] * z[q];
  }
  index_t it = 0;
  while (it < maxit && rmax() > tol && rz > 0.0) {
    ++it;
    hess(pd, hp);
    double php = 0.0;
    for (index_t q = 0; q < d; ++q) php += pd[q] * hp[q];
    if (!(php > 0.0)) break;
    const double al = rz / php;
    double rz1 = 0.0;
    for (index_t q = 0; q < d; ++q) {
      x[q] += al * pd[q];
      r[q] -= al * hp[q];
      z[q] = dg[q] * r[q];
      rz1 += r[q] * z[q];
    }
    const double be = rz1 / rz;
    rz = rz1;
    for (index_t q = 0; q < d; ++q) pd[q] = z[q] + be * pd[q];
  }
  if (it == 0) return 0;
  for (index_t q = 0; q < d; ++q)
    if (!std::isfinite(x[q])) return it;
  double t = 1.0;
  index_t cut = -1;
  if (a > 0.0)
    for (index_t q = 0; q < nA; ++q) {
      const double b = beta_[A[q].first * K + A[q].second], dq = x[q];
      if ((b + dq) * b < 0.0 && -b / dq < t) {
        t = -b / dq;
        cut = q;
      }
    }
  for (index_t q = 0; q < d; ++q) {
    const index_t j = A[q].first, k = A[q].second;
    const double dq = q == cut ? -beta_[j * K + k] : t * x[q];
    if (dq == 0.0) continue;
    if (j < p_) {
      col_model_move(X_, j, c_[j], dq / s_[j], &P_[k * n], &dX_[k * n], t_.data());
      beta_[j * K + k] = q == cut ? 0.0 : beta_[j * K + k] + dq;
    } else {
      a0_[k] += dq;
      double* dx = &dX_[k * n];
      const double* pk = &P_[k * n];
      for (index_t i = 0; i < n; ++i) {
        dx[i] += dq;
        t_[i] += pk[i] * dq;
      }
    }
  }
  return it;
}

}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_EXACT_HPP
