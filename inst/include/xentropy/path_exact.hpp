// xentropy/path_exact.hpp -- the exact steps of the path solver (path.hpp): once the
// active set and signs of coordinate descent settle, the second-order model is solved
// on them directly (binary: a dense LDLT, or a sparse one for sparse x; softmax: the
// full softmax Hessian on the non-zero coefficients). Included by path.hpp only.
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


// Binary: Newton step of the model on the active set A with its signs fixed:
// (H_AA + ridge) delta = model gradient - penalty subgradient, with the intercept;
// cut at the first coefficient that would change sign (set to 0 there). The model
// is quadratic on that segment, so the step cannot raise it.
template <class Matrix, class Penalty>
void solver<Matrix, Penalty>::exact_step(const std::vector<index_t>& A, double lam, std::vector<double>& Cm,
                std::vector<double>& Smx, const std::vector<double>& V) {
  const index_t m = static_cast<index_t>(A.size());
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
    for_col(X_, j, [&](index_t i, double x) { tmp[i] = v[i] * x; });
    const double g0 = col_dot(X_, j, mx);
    const double cj = c_[j], sj = s_[j], xvj = xv_[j];
    for (index_t q2 = q; q2 < m; ++q2) {
      const index_t l = A[q2];
      const double sxx = col_dot(X_, l, tmp.data());
      const double cl = c_[l], sl = s_[l], xvl = xv_[l];
      const double h = (sxx - cl * xvj - cj * xvl + cj * cl * V[0]) / (sj * sl);
      H(off + q, off + q2) = H(off + q2, off + q) = h;
    }
    for_col(X_, j, [&](index_t i, double) { tmp[i] = 0.0; });
    const double b = beta_[j], lp = lam * pf_[j];
    H(off + q, off + q) += lp * (1.0 - a);
    const double g = (g0 - Cm[0] * xvj - cj * (Smx[0] - Cm[0] * V[0])) / sj;
    r(off + q) = g - lp * (1.0 - a) * b - lp * a * ((b > 0) - (b < 0));
    if (off) H(0, off + q) = H(off + q, 0) = (xvj - cj * V[0]) / sj;
  }
  if (off) {
    H(0, 0) = V[0];
    r(0) = Smx[0] - Cm[0] * V[0];
  }
  // repeated columns make H singular: a ridge at the level of rounding (as below)
  H.diagonal().array() += 1e-10 * std::max(1e-300, H.diagonal().cwiseAbs().maxCoeff());
  Eigen::LDLT<Eigen::MatrixXd> ldlt(H);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive()) return;
  const Eigen::VectorXd delta = ldlt.solve(r);
  if (!delta.allFinite()) return;
  double t = 1.0;
  index_t cut = -1;
  for (index_t q = 0; q < m; ++q) {
    const double b = beta_[A[q]], dq = delta(off + q);
    if (a > 0.0 && b != 0.0 && (b + dq) * b < 0.0 && -b / dq < t) {
      t = -b / dq;
      cut = q;
    }
  }
  if (off) {
    const double d0 = t * delta(0);
    Cm[0] += d0;
    a0_[0] += d0;
  }
  for (index_t q = 0; q < m; ++q) {
    const index_t j = A[q];
    const double dq = q == cut ? -beta_[j] : t * delta(off + q);
    move(j, dq, Cm, Smx);
    if (q == cut) beta_[j] = 0.0;
  }
}


// Binary, sparse x: the same Newton step with a sparse LDLT. In the uncentred
// coordinates (a, beta_A) the model's Hessian is X_A' diag(v) X_A (as sparse as x's rows)
// bordered by the intercept's row; the step in beta is the centred one's, and the
// centred intercept moves by delta_a + sum_j c_j delta_j / s_j.
template <class Matrix, class Penalty>
void solver<Matrix, Penalty>::exact_step_sparse(const std::vector<index_t>& A, double lam, std::vector<double>& Cm,
                       std::vector<double>& Smx, const std::vector<double>& V) {
  using SpMat = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
  const index_t m = static_cast<index_t>(A.size());
  const index_t off = pb_.intercept ? 1 : 0, d = m + off;
  const double a = pen_.alpha;
  std::vector<Eigen::Triplet<double>> tr;
  for (index_t q = 0; q < m; ++q) {
    const double sj = s_[A[q]];
    for_col(X_, A[q], [&](index_t i, double x) {
      tr.emplace_back(static_cast<int>(i), static_cast<int>(q), x / sj);
    });
  }
  SpMat XA(static_cast<int>(n_), static_cast<int>(m));
  XA.setFromTriplets(tr.begin(), tr.end());
  const Eigen::Map<const Eigen::VectorXd> v(v_.data(), n_);
  const SpMat G = SpMat(XA.transpose() * v.asDiagonal()) * XA;
  tr.clear();
  Eigen::VectorXd r(d);
  for (index_t q = 0; q < m; ++q) {
    const index_t j = A[q];
    const double b = beta_[j], lp = lam * pf_[j], sj = s_[j];
    tr.emplace_back(static_cast<int>(off + q), static_cast<int>(off + q), lp * (1.0 - a));
    const double g = (col_dot(X_, j, mx_.data()) - Cm[0] * xv_[j]) / sj;
    r(off + q) = g - lp * (1.0 - a) * b - lp * a * ((b > 0) - (b < 0));
    if (off) {
      tr.emplace_back(0, static_cast<int>(off + q), xv_[j] / sj);
      tr.emplace_back(static_cast<int>(off + q), 0, xv_[j] / sj);
    }
  }
  for (int k = 0; k < G.outerSize(); ++k)
    for (SpMat::InnerIterator it(G, k); it; ++it)
      tr.emplace_back(static_cast<int>(off + it.row()), static_cast<int>(off + it.col()), it.value());
  if (off) {
    tr.emplace_back(0, 0, V[0]);
    r(0) = Smx[0] - Cm[0] * V[0];
  }
  SpMat H(static_cast<int>(d), static_cast<int>(d));
  H.setFromTriplets(tr.begin(), tr.end());
  // columns repeated (or alike on the rows that carry weight) make H singular: a ridge
  // at the level of rounding selects the least-change step there
  double hmax = 0.0;
  for (int k = 0; k < H.outerSize(); ++k)
    for (SpMat::InnerIterator it(H, k); it; ++it)
      if (it.row() == it.col()) hmax = std::max(hmax, std::fabs(it.value()));
  Eigen::SimplicialLDLT<SpMat> ldlt;
  ldlt.setShift(1e-10 * std::max(hmax, 1e-300));
  ldlt.compute(H);
  {  // its cost, for the next decision (about the flops of the factorisation)
    const double nl = static_cast<double>(ldlt.matrixL().nestedExpression().nonZeros());
    sparse_exact_cost_ = static_cast<double>(H.nonZeros()) + nl * nl / std::max<double>(1.0, d);
  }
  if (ldlt.info() != Eigen::Success || !(ldlt.vectorD().array() > 0.0).all()) return;
  const Eigen::VectorXd delta = ldlt.solve(r);
  if (ldlt.info() != Eigen::Success || !delta.allFinite()) return;
  double t = 1.0;
  index_t cut = -1;
  for (index_t q = 0; q < m; ++q) {
    const double b = beta_[A[q]], dq = delta(off + q);
    if (a > 0.0 && b != 0.0 && (b + dq) * b < 0.0 && -b / dq < t) {
      t = -b / dq;
      cut = q;
    }
  }
  double d0 = off ? t * delta(0) : 0.0;
  for (index_t q = 0; q < m; ++q) {
    const index_t j = A[q];
    const double dq = q == cut ? -beta_[j] : t * delta(off + q);
    d0 += c_[j] * dq / s_[j];
    move(j, dq, Cm, Smx);
    if (q == cut) beta_[j] = 0.0;
  }
  if (off) {
    Cm[0] += d0;
    a0_[0] += d0;
  }
}


}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_EXACT_HPP
