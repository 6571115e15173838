// xentropy/path_kernels.hpp -- the column kernels of the path solver (path.hpp):
// the inner loops of coordinate descent over a column of x, read in place as a dense
// column-major Eigen::Map or a compressed sparse column Eigen::Map (a dgCMatrix's
// slots), against contiguous per-row arrays. Nothing here calls R.
#ifndef XENTROPY_PATH_KERNELS_HPP
#define XENTROPY_PATH_KERNELS_HPP

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include "common.hpp"

// restrict-qualified pointers (no aliasing) let the compiler vectorise the updates
#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define XENTROPY_RESTRICT __restrict
#else
#define XENTROPY_RESTRICT
#endif

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
inline index_t col_nnz(const DenseMap& X, index_t) { return X.rows(); }
inline index_t col_nnz(const SparseMap& X, index_t j) {
  return X.outerIndexPtr()[j + 1] - X.outerIndexPtr()[j];
}
inline bool is_sparse(const DenseMap&) { return false; }
inline bool is_sparse(const SparseMap&) { return true; }

// ------------------------------------------------------ column kernels --
// The inner loops of coordinate descent, on contiguous per-row arrays. Dense ones keep
// four partial sums (a single running sum is bound by the latency of one addition per
// element); the order of the additions is fixed, so results do not depend on the run.

// sum_i x_ij r_i
inline double col_dot(const DenseMap& X, index_t j, const double* r) {
  const index_t n = X.rows();
  const double* x = X.data() + j * n;
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  index_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * r[i];
    s1 += x[i + 1] * r[i + 1];
    s2 += x[i + 2] * r[i + 2];
    s3 += x[i + 3] * r[i + 3];
  }
  for (; i < n; ++i) s0 += x[i] * r[i];
  return (s0 + s1) + (s2 + s3);
}
inline double col_dot(const SparseMap& X, index_t j, const double* r) {
  const int* o = X.outerIndexPtr();
  const int* ri = X.innerIndexPtr();
  const double* xv = X.valuePtr();
  double s0 = 0.0, s1 = 0.0;
  index_t q = o[j];
  const index_t e = o[j + 1];
  for (; q + 2 <= e; q += 2) {
    s0 += xv[q] * r[ri[q]];
    s1 += xv[q + 1] * r[ri[q + 1]];
  }
  if (q < e) s0 += xv[q] * r[ri[q]];
  return s0 + s1;
}

// sum_i x_ij v_i and sum_i x_ij^2 v_i
inline void col_wsums(const DenseMap& X, index_t j, const double* v, double& xv, double& xxv) {
  const index_t n = X.rows();
  const double* x = X.data() + j * n;
  double a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0;
  index_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const double t0 = x[i] * v[i], t1 = x[i + 1] * v[i + 1];
    a0 += t0;
    a1 += t1;
    b0 += t0 * x[i];
    b1 += t1 * x[i + 1];
  }
  if (i < n) {
    const double t0 = x[i] * v[i];
    a0 += t0;
    b0 += t0 * x[i];
  }
  xv = a0 + a1;
  xxv = b0 + b1;
}
inline void col_wsums(const SparseMap& X, index_t j, const double* v, double& xv, double& xxv) {
  double a = 0.0, b = 0.0;
  for_col(X, j, [&](index_t i, double x) {
    const double t = x * v[i];
    a += t;
    b += t * x;
  });
  xv = a;
  xxv = b;
}

// binary model: mx_i -= v_i x_ij st
inline void col_move(const DenseMap& X, index_t j, double st, const double* XENTROPY_RESTRICT v,
                     double* XENTROPY_RESTRICT mx) {
  const index_t n = X.rows();
  const double* XENTROPY_RESTRICT x = X.data() + j * n;
  index_t i = 0;
  for (; i + 4 <= n; i += 4) {
    mx[i] -= v[i] * (x[i] * st);
    mx[i + 1] -= v[i + 1] * (x[i + 1] * st);
    mx[i + 2] -= v[i + 2] * (x[i + 2] * st);
    mx[i + 3] -= v[i + 3] * (x[i + 3] * st);
  }
  for (; i < n; ++i) mx[i] -= v[i] * (x[i] * st);
}
inline void col_move(const SparseMap& X, index_t j, double st, const double* v, double* mx) {
  for_col(X, j, [&](index_t i, double x) { mx[i] -= v[i] * (x * st); });
}

// y_i += x_ij a
inline void col_axpy(const DenseMap& X, index_t j, double a, double* XENTROPY_RESTRICT y) {
  const index_t n = X.rows();
  const double* XENTROPY_RESTRICT x = X.data() + j * n;
  for (index_t i = 0; i < n; ++i) y[i] += x[i] * a;
}
inline void col_axpy(const SparseMap& X, index_t j, double a, double* y) {
  for_col(X, j, [&](index_t i, double x) { y[i] += x * a; });
}

// Softmax model, class k: sum_i (x_ij - c) A_i with A_i = r_i - wp_i (d_i - t_i), the
// model's minus gradient along an unscaled column (sparse: c = 0 and rows not stored
// contribute nothing).
inline double col_model_grad(const DenseMap& X, index_t j, double c, const double* r,
                             const double* wp, const double* d, const double* t) {
  const index_t n = X.rows();
  const double* x = X.data() + j * n;
  double s0 = 0.0, s1 = 0.0, a0 = 0.0, a1 = 0.0;
  index_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const double A0 = r[i] - wp[i] * (d[i] - t[i]);
    const double A1 = r[i + 1] - wp[i + 1] * (d[i + 1] - t[i + 1]);
    s0 += x[i] * A0;
    s1 += x[i + 1] * A1;
    a0 += A0;
    a1 += A1;
  }
  if (i < n) {
    const double A0 = r[i] - wp[i] * (d[i] - t[i]);
    s0 += x[i] * A0;
    a0 += A0;
  }
  return (s0 + s1) - c * (a0 + a1);
}
inline double col_model_grad(const SparseMap& X, index_t j, double, const double* r,
                             const double* wp, const double* d, const double* t) {
  double s = 0.0;
  for_col(X, j, [&](index_t i, double x) { s += x * (r[i] - wp[i] * (d[i] - t[i])); });
  return s;
}
// d_i += (x_ij - c) st, t_i += p_i (x_ij - c) st
inline void col_model_move(const DenseMap& X, index_t j, double c, double st,
                           const double* XENTROPY_RESTRICT p, double* XENTROPY_RESTRICT d,
                           double* XENTROPY_RESTRICT t) {
  const index_t n = X.rows();
  const double* XENTROPY_RESTRICT x = X.data() + j * n;
  index_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const double z0 = (x[i] - c) * st, z1 = (x[i + 1] - c) * st;
    d[i] += z0;
    d[i + 1] += z1;
    t[i] += p[i] * z0;
    t[i + 1] += p[i + 1] * z1;
  }
  if (i < n) {
    const double z = (x[i] - c) * st;
    d[i] += z;
    t[i] += p[i] * z;
  }
}
inline void col_model_move(const SparseMap& X, index_t j, double, double st, const double* p,
                           double* d, double* t) {
  for_col(X, j, [&](index_t i, double x) {
    const double z = x * st;
    d[i] += z;
    t[i] += p[i] * z;
  });
}

}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_KERNELS_HPP
