// xentropy/path_kernels.hpp -- the column kernels of the path solver (path.hpp):
// the inner loops of coordinate descent over a column of x, read in place as a dense
// column-major Eigen::Map or a compressed sparse column Eigen::Map (a dgCMatrix's
// slots), against contiguous per-row arrays. Nothing here calls R.
#ifndef XENTROPY_PATH_KERNELS_HPP
#define XENTROPY_PATH_KERNELS_HPP

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common.hpp"
#include "link.hpp"
#include "vmath.hpp"

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
// The inner loops of coordinate descent, on contiguous per-row arrays. Dense ones run
// through vm::dispatch (AVX-512, AVX2 or the baseline, chosen at run time: the columns
// and per-row arrays of a working set sit in cache, where wider vectors pay) and keep
// `lanes` partial sums in a fixed order, so a result does not depend on the run or the
// thread count (paths differ only in the rounding of fused multiply-adds).
namespace kernels {
constexpr index_t lanes = 8;
XENTROPY_VM_INLINE double lane_total(const double* s) {
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}
// out[0] = sum_i x_i r_i
struct dot_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* r, index_t n, double* out) {
    double s[lanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (index_t k = 0; k < lanes; ++k) s[k] += x[i + k] * r[i + k];
    }
    double t = 0.0;
    for (; i < n; ++i) t += x[i] * r[i];
    out[0] = lane_total(s) + t;
  }
};
// out = (sum_i x_i v_i, sum_i x_i^2 v_i)
struct wsums_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* v, index_t n, double* out) {
    double a[lanes] = {0, 0, 0, 0, 0, 0, 0, 0}, b[lanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (index_t k = 0; k < lanes; ++k) {
        const double t = x[i + k] * v[i + k];
        a[k] += t;
        b[k] += t * x[i + k];
      }
    }
    double ta = 0.0, tb = 0.0;
    for (; i < n; ++i) {
      const double t = x[i] * v[i];
      ta += t;
      tb += t * x[i];
    }
    out[0] = lane_total(a) + ta;
    out[1] = lane_total(b) + tb;
  }
};
// mx_i -= v_i x_i st
struct move_k {
  XENTROPY_VM_INLINE static void run(const double* XENTROPY_RESTRICT x, double st,
                                     const double* XENTROPY_RESTRICT v,
                                     double* XENTROPY_RESTRICT mx, index_t n) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) mx[i] -= v[i] * (x[i] * st);
  }
};
// y_i += x_i a
struct axpy_k {
  XENTROPY_VM_INLINE static void run(const double* XENTROPY_RESTRICT x, double a,
                                     double* XENTROPY_RESTRICT y, index_t n) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) y[i] += x[i] * a;
  }
};
// out = (sum_i x_i A_i, sum_i A_i), A_i = r_i - wp_i (d_i - t_i)
struct model_grad_k {
  XENTROPY_VM_INLINE static void run(const double* x, const double* r, const double* wp,
                                     const double* d, const double* t, index_t n,
                                     double* out) {
    double s[lanes] = {0, 0, 0, 0, 0, 0, 0, 0}, a[lanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      XENTROPY_VM_SIMD
      for (index_t k = 0; k < lanes; ++k) {
        const double A = r[i + k] - wp[i + k] * (d[i + k] - t[i + k]);
        s[k] += x[i + k] * A;
        a[k] += A;
      }
    }
    double ts = 0.0, ta = 0.0;
    for (; i < n; ++i) {
      const double A = r[i] - wp[i] * (d[i] - t[i]);
      ts += x[i] * A;
      ta += A;
    }
    out[0] = lane_total(s) + ts;
    out[1] = lane_total(a) + ta;
  }
};
// d_i += (x_i - c) st, t_i += p_i (x_i - c) st
struct model_move_k {
  XENTROPY_VM_INLINE static void run(const double* XENTROPY_RESTRICT x, double c, double st,
                                     const double* XENTROPY_RESTRICT p,
                                     double* XENTROPY_RESTRICT d, double* XENTROPY_RESTRICT t,
                                     index_t n) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) {
      const double z = (x[i] - c) * st;
      d[i] += z;
      t[i] += p[i] * z;
    }
  }
};

// --- per-row kernels of the loss (class-major n x K arrays) ---
// Binary: res_i = w_i (y_i sigmoid(-e_i) - (1 - y_i) sigmoid(e_i)) and the IRLS weight
// v_i = w_i max(p_i (1 - p_i), floor).
struct binary_working_k {
  XENTROPY_VM_INLINE static void run(const double* eta, const double* y, const double* w,
                                     double floor, index_t n, double* res, double* v) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) {
      const double e = eta[i], mu = sigmoid(e), mc = sigmoid(-e), yi = y[i];
      res[i] = w[i] * (yi * mc - (1.0 - yi) * mu);
      const double pq = mu * mc;
      v[i] = w[i] * (pq < floor ? floor : pq);
    }
  }
};
// Binary: l_i = w_i (y_i softplus(-e_i) + (1 - y_i) softplus(e_i)) (a term with a zero
// factor is left out, so that an infinite softplus does not make it NaN), 0 where w_i = 0.
struct binary_loss_k {
  XENTROPY_VM_INLINE static void run(const double* eta, const double* y, const double* w,
                                     index_t n, double* l) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < n; ++i) {
      const double e = eta[i], yi = y[i];
      const double a = yi != 0.0 ? yi * softplus(-e) : 0.0;
      const double b = yi != 1.0 ? (1.0 - yi) * softplus(e) : 0.0;
      l[i] = w[i] == 0.0 ? 0.0 : w[i] * (a + b);
    }
  }
};
// Softmax rows are taken a block at a time (their maxima and sums stay in L1).
constexpr index_t row_block = 256;
// m_i = max_k e_ik and S_i = sum_k exp(e_ik - m_i) over rows [0, nb) of a block whose
// class k starts at e + k n; exp(e_ik - m_i) into E (same layout) when E is not null.
XENTROPY_VM_INLINE void softmax_rows(const double* e, index_t n, index_t K, index_t nb,
                                     double* m, double* S, double* E) {
  XENTROPY_VM_SIMD
  for (index_t i = 0; i < nb; ++i) {
    m[i] = e[i];
    S[i] = 0.0;
  }
  for (index_t k = 1; k < K; ++k) {
    const double* ek = e + k * n;
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < nb; ++i) m[i] = m[i] < ek[i] ? ek[i] : m[i];
  }
  for (index_t k = 0; k < K; ++k) {
    const double* ek = e + k * n;
    if (E) {
      double* Ek = E + k * n;
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const double x = vm::exp(ek[i] - m[i]);
        S[i] += x;
        Ek[i] = x;
      }
    } else {
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) S[i] += vm::exp(ek[i] - m[i]);
    }
  }
}
// Softmax: l_i = w_i (log sum_k exp(e_ik) - sum_k y_ik e_ik), 0 where w_i = 0.
struct softmax_loss_k {
  XENTROPY_VM_INLINE static void run(const double* eta, const double* y, const double* w,
                                     index_t n, index_t K, double* l) {
    double m[row_block], S[row_block], ye[row_block];
    for (index_t i0 = 0; i0 < n; i0 += row_block) {
      const index_t nb = n - i0 < row_block ? n - i0 : row_block;
      softmax_rows(eta + i0, n, K, nb, m, S, nullptr);
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i) ye[i] = 0.0;
      for (index_t k = 0; k < K; ++k) {
        const double* ek = eta + k * n + i0;
        const double* yk = y + k * n + i0;
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < nb; ++i) ye[i] += yk[i] != 0.0 ? yk[i] * (ek[i] - m[i]) : 0.0;
      }
      XENTROPY_VM_SIMD
      for (index_t i = 0; i < nb; ++i)
        l[i0 + i] = w[i0 + i] == 0.0 ? 0.0 : w[i0 + i] * (vm::log(S[i]) - ye[i]);
    }
  }
};
// Softmax: P = softmax(eta) by rows, wp = w P, res = w (y - P), v = w max(P (1 - P), floor).
struct softmax_working_k {
  XENTROPY_VM_INLINE static void run(const double* eta, const double* y, const double* w,
                                     double floor, index_t n, index_t K, double* P, double* wp,
                                     double* res, double* v) {
    double m[row_block], S[row_block];
    for (index_t i0 = 0; i0 < n; i0 += row_block) {
      const index_t nb = n - i0 < row_block ? n - i0 : row_block;
      softmax_rows(eta + i0, n, K, nb, m, S, P + i0);
      for (index_t k = 0; k < K; ++k) {
        const index_t o = k * n + i0;
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < nb; ++i) {
          const double ek = P[o + i], pk = ek / S[i], qk = (S[i] - ek) / S[i];
          const double wi = w[i0 + i], pq = pk * qk;
          P[o + i] = pk;
          wp[o + i] = wi * pk;
          res[o + i] = wi * (y[o + i] - pk);
          v[o + i] = wi * (pq < floor ? floor : pq);
        }
      }
    }
  }
};
}  // namespace kernels

// sum_i x_ij r_i
// Whether a row of positive weight has a fitted probability within 10 eps of 0 or 1
// (softmax: of 1), glm's test; eta is n x K, class-major.
inline bool extreme_fit(const double* eta, const double* w, index_t n, index_t K) {
  const double e = 10.0 * std::numeric_limits<double>::epsilon();
  for (index_t i = 0; i < n; ++i) {
    if (!(w[i] > 0.0)) continue;
    if (K == 1) {
      const double mu = 1.0 / (1.0 + std::exp(-eta[i]));
      if (mu < e || mu > 1.0 - e) return true;
      continue;
    }
    double m = -inf(), s = 0.0;
    for (index_t k = 0; k < K; ++k) m = std::max(m, eta[k * n + i]);
    for (index_t k = 0; k < K; ++k) s += std::exp(eta[k * n + i] - m);
    if (1.0 / s > 1.0 - e) return true;
  }
  return false;
}

// The saturated model's loss, sum_i w_i sum_k -t_ik log t_ik (binary: the two classes
// y_i and 1 - y_i); 0 for 0/1 targets. y is n x K, class-major.
inline double saturated_loss(const double* y, const double* w, index_t n, index_t K) {
  auto xlogx = [](double t, double logt) { return t > 0.0 && t < 1.0 ? t * logt : 0.0; };
  compensated_sum s;
  for (index_t i = 0; i < n; ++i) {
    if (!(w[i] > 0.0)) continue;
    double h = 0.0;
    if (K == 1) {
      h = xlogx(y[i], std::log(y[i])) + xlogx(1.0 - y[i], std::log1p(-y[i]));
    } else {
      for (index_t k = 0; k < K; ++k) h += xlogx(y[k * n + i], std::log(y[k * n + i]));
    }
    if (h != 0.0) s.add(-w[i] * h);
  }
  return s.value();
}

inline double col_dot(const DenseMap& X, index_t j, const double* r) {
  const index_t n = X.rows();
  double s;
  vm::dispatch<kernels::dot_k>(X.data() + j * n, r, n, &s);
  return s;
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
  double o[2];
  vm::dispatch<kernels::wsums_k>(X.data() + j * n, v, n, static_cast<double*>(o));
  xv = o[0];
  xxv = o[1];
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
inline void col_move(const DenseMap& X, index_t j, double st, const double* v, double* mx) {
  const index_t n = X.rows();
  vm::dispatch<kernels::move_k>(X.data() + j * n, st, v, mx, n);
}
inline void col_move(const SparseMap& X, index_t j, double st, const double* v, double* mx) {
  for_col(X, j, [&](index_t i, double x) { mx[i] -= v[i] * (x * st); });
}

// y_i += x_ij a
inline void col_axpy(const DenseMap& X, index_t j, double a, double* y) {
  const index_t n = X.rows();
  vm::dispatch<kernels::axpy_k>(X.data() + j * n, a, y, n);
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
  double o[2];
  vm::dispatch<kernels::model_grad_k>(X.data() + j * n, r, wp, d, t, n, static_cast<double*>(o));
  return o[0] - c * o[1];
}
inline double col_model_grad(const SparseMap& X, index_t j, double, const double* r,
                             const double* wp, const double* d, const double* t) {
  double s = 0.0;
  for_col(X, j, [&](index_t i, double x) { s += x * (r[i] - wp[i] * (d[i] - t[i])); });
  return s;
}
// d_i += (x_ij - c) st, t_i += p_i (x_ij - c) st
inline void col_model_move(const DenseMap& X, index_t j, double c, double st, const double* p,
                           double* d, double* t) {
  const index_t n = X.rows();
  vm::dispatch<kernels::model_move_k>(X.data() + j * n, c, st, p, d, t, n);
}
inline void col_model_move(const SparseMap& X, index_t j, double, double st, const double* p,
                           double* d, double* t) {
  for_col(X, j, [&](index_t i, double x) {
    const double z = x * st;
    d[i] += z;
    t[i] += p[i] * z;
  });
}

// ------------------------------------------------ row-blocked passes --
// A coordinate-descent pass over dense columns with the rows in fixed blocks of
// cd_block: each coordinate's sums are formed block by block and added in block order,
// so the result is the same for any number of threads; with nt > 1 each coordinate's
// blocks are shared among the threads (the scalar update between them runs once, on one
// thread; a coordinate costs two or three barriers, so threads pay only on long columns).
// No R here: the threads call only these kernels and the caller's scalar update.
constexpr index_t cd_block = 1024;

// Threads for a blocked pass over n rows: none below 8 blocks.
inline int cd_threads(int nthreads, index_t n) {
  return n < 8 * cd_block ? 1 : threads_for(nthreads, n * 8);
}

// For coordinates q = 0..ncoord-1 in order: sums(q, i0, i1, out) writes the two sums of
// rows [i0, i1); step(q, s0, s1) takes the totals, updates the coefficient and returns
// the move of the per-row arrays (0: none); move(q, delta, i0, i1) applies it to rows
// [i0, i1).
template <class Sums, class Step, class Move>
inline void blocked_pass(index_t ncoord, index_t n, int nt, Sums sums, Step step, Move move) {
  const index_t nb = n == 0 ? 0 : (n - 1) / cd_block + 1;
  std::vector<double> part(2 * static_cast<size_t>(nb) + 2, 0.0);
  auto block = [&](index_t b, index_t& i0, index_t& i1) {
    i0 = b * cd_block;
    i1 = std::min(n, i0 + cd_block);
  };
  auto total = [&](index_t q) {
    double s0 = 0.0, s1 = 0.0;
    for (index_t b = 0; b < nb; ++b) {
      s0 += part[2 * b];
      s1 += part[2 * b + 1];
    }
    return step(q, s0, s1);
  };
#ifdef _OPENMP
  if (nt > 1 && nb > 1) {
    double delta = 0.0;
#pragma omp parallel num_threads(nt)
    {
      for (index_t q = 0; q < ncoord; ++q) {
#pragma omp for schedule(static)
        for (index_t b = 0; b < nb; ++b) {
          index_t i0, i1;
          block(b, i0, i1);
          sums(q, i0, i1, &part[2 * b]);
        }
#pragma omp single
        delta = total(q);
        // (every thread reads delta after the single's barrier, and before the next
        // coordinate's first barrier, so the next write cannot overtake the read)
        if (delta != 0.0) {
#pragma omp for schedule(static)
          for (index_t b = 0; b < nb; ++b) {
            index_t i0, i1;
            block(b, i0, i1);
            move(q, delta, i0, i1);
          }
        }
      }
    }
    return;
  }
#else
  (void)nt;
#endif
  for (index_t q = 0; q < ncoord; ++q) {
    for (index_t b = 0; b < nb; ++b) {
      index_t i0, i1;
      block(b, i0, i1);
      sums(q, i0, i1, &part[2 * b]);
    }
    const double delta = total(q);
    if (delta != 0.0) move(q, delta, 0, n);
  }
}

// The kernels on rows [i0, i1) of dense column j (for blocked_pass).
inline void col_dot_rows(const DenseMap& X, index_t j, const double* r, index_t i0,
                         index_t i1, double* out) {
  vm::dispatch<kernels::dot_k>(X.data() + j * X.rows() + i0, r + i0, i1 - i0, out);
  out[1] = 0.0;
}
inline void col_move_rows(const DenseMap& X, index_t j, double st, const double* v, double* mx,
                          index_t i0, index_t i1) {
  vm::dispatch<kernels::move_k>(X.data() + j * X.rows() + i0, st, v + i0, mx + i0, i1 - i0);
}
inline void col_model_grad_rows(const DenseMap& X, index_t j, const double* r, const double* wp,
                                const double* d, const double* t, index_t i0, index_t i1,
                                double* out) {
  vm::dispatch<kernels::model_grad_k>(X.data() + j * X.rows() + i0, r + i0, wp + i0, d + i0,
                                      t + i0, i1 - i0, out);
}
inline void col_model_move_rows(const DenseMap& X, index_t j, double c, double st,
                                const double* p, double* d, double* t, index_t i0, index_t i1) {
  vm::dispatch<kernels::model_move_k>(X.data() + j * X.rows() + i0, c, st, p + i0, d + i0,
                                      t + i0, i1 - i0);
}

// Sparse columns: the entries of column j with rows in [i0, i1) (for completeness: the
// solver takes blocked passes over dense columns only).
template <class F>
inline void for_col_rows(const SparseMap& X, index_t j, index_t i0, index_t i1, F f) {
  const int* o = X.outerIndexPtr();
  const int* ri = X.innerIndexPtr();
  const double* xv = X.valuePtr();
  const int* b = std::lower_bound(ri + o[j], ri + o[j + 1], static_cast<int>(i0));
  const int* e = std::lower_bound(b, ri + o[j + 1], static_cast<int>(i1));
  for (const int* q = b; q < e; ++q) f(static_cast<index_t>(*q), xv[q - ri]);
}
inline void col_dot_rows(const SparseMap& X, index_t j, const double* r, index_t i0,
                         index_t i1, double* out) {
  double s = 0.0;
  for_col_rows(X, j, i0, i1, [&](index_t i, double x) { s += x * r[i]; });
  out[0] = s;
  out[1] = 0.0;
}
inline void col_move_rows(const SparseMap& X, index_t j, double st, const double* v, double* mx,
                          index_t i0, index_t i1) {
  for_col_rows(X, j, i0, i1, [&](index_t i, double x) { mx[i] -= v[i] * (x * st); });
}
inline void col_model_grad_rows(const SparseMap& X, index_t j, const double* r, const double* wp,
                                const double* d, const double* t, index_t i0, index_t i1,
                                double* out) {
  double s = 0.0;
  for_col_rows(X, j, i0, i1,
               [&](index_t i, double x) { s += x * (r[i] - wp[i] * (d[i] - t[i])); });
  out[0] = s;
  out[1] = 0.0;
}
inline void col_model_move_rows(const SparseMap& X, index_t j, double, double st,
                                const double* p, double* d, double* t, index_t i0, index_t i1) {
  for_col_rows(X, j, i0, i1, [&](index_t i, double x) {
    const double z = x * st;
    d[i] += z;
    t[i] += p[i] * z;
  });
}

// The binary model's Hessian product on columns A: with q = diag(v) X_A su,
// out[k] = x_{A_k}' q and s0 = sum_i q_i. Dense: by row blocks (q a block at a time, in
// L1), blocks shared among threads, the block sums added in block order (the result
// does not depend on the thread count); part is scratch. Sparse: q over all rows in qs.
inline void hess_product(const DenseMap& X, const std::vector<index_t>& A, const double* su,
                         const double* v, int nt, std::vector<double>& part, std::vector<double>&,
                         double* out, double& s0) {
  const index_t n = X.rows(), m = static_cast<index_t>(A.size());
  const index_t nb = n == 0 ? 0 : (n - 1) / cd_block + 1;
  part.assign(static_cast<size_t>((m + 1) * nb), 0.0);
  const double* x = X.data();
  auto body = [&](index_t b) {
    double q[cd_block];
    const index_t i0 = b * cd_block, len = std::min(cd_block, n - i0);
    for (index_t i = 0; i < len; ++i) q[i] = 0.0;
    for (index_t k = 0; k < m; ++k)
      if (su[k] != 0.0) vm::dispatch<kernels::axpy_k>(x + A[k] * n + i0, su[k], q, len);
    double s = 0.0;
    for (index_t i = 0; i < len; ++i) {
      q[i] *= v[i0 + i];
      s += q[i];
    }
    part[m * nb + b] = s;
    for (index_t k = 0; k < m; ++k)
      vm::dispatch<kernels::dot_k>(x + A[k] * n + i0, static_cast<const double*>(q), len,
                                   &part[k * nb + b]);
  };
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && nb > 1)
#endif
  for (index_t b = 0; b < nb; ++b) body(b);
  (void)nt;
  for (index_t k = 0; k <= m; ++k) {
    double t = 0.0;
    for (index_t b = 0; b < nb; ++b) t += part[k * nb + b];
    if (k < m) out[k] = t;
    else s0 = t;
  }
}
inline void hess_product(const SparseMap& X, const std::vector<index_t>& A, const double* su,
                         const double* v, int, std::vector<double>&, std::vector<double>& qs,
                         double* out, double& s0) {
  const index_t n = X.rows(), m = static_cast<index_t>(A.size());
  qs.assign(static_cast<size_t>(n), 0.0);
  for (index_t k = 0; k < m; ++k)
    if (su[k] != 0.0) col_axpy(X, A[k], su[k], qs.data());
  double s = 0.0;
  for (index_t i = 0; i < n; ++i) {
    qs[i] *= v[i];
    s += qs[i];
  }
  s0 = s;
  for (index_t k = 0; k < m; ++k) out[k] = col_dot(X, A[k], qs.data());
}

// The softmax Hessian's product for conjugate gradients: with u_k = sum over the
// entries e of class k of su_e x_{cols_e} + shift_k (the centring and the intercepts),
// v = sum_k p_k u_k and q_k = wp_k (u_k - v), writes out[e] = x_{cols_e}' q_{cls_e} and
// qs[k] = sum_i q_ik. Dense: by row blocks (u and q a block at a time, in cache), blocks
// shared among threads, the block sums added in block order (the result does not depend
// on the thread count); part and u are scratch. Sparse: over all rows in u (n x K).
constexpr index_t softmax_hess_block = 256;

inline void softmax_hess_product(const DenseMap& X, index_t K, const std::vector<index_t>& cols,
                                 const std::vector<index_t>& cls, const double* su,
                                 const double* shift, const double* P, const double* wp, int nt,
                                 std::vector<double>& part, std::vector<double>& u,
                                 std::vector<double>& vs, double* out, double* qs) {
  const index_t n = X.rows(), m = static_cast<index_t>(cols.size());
  const index_t B = softmax_hess_block;
  const index_t nb = n == 0 ? 0 : (n - 1) / B + 1;
  const int T = nt > 1 && nb > 1 ? nt : 1;
  part.assign(static_cast<size_t>((m + K) * nb), 0.0);
  u.assign(static_cast<size_t>(T * K * B), 0.0);
  vs.assign(static_cast<size_t>(T * B), 0.0);
  const double* x = X.data();
  auto body = [&](index_t b, int tid) {
    double* ub = &u[static_cast<size_t>(tid * K * B)];
    double* v = &vs[static_cast<size_t>(tid * B)];
    const index_t i0 = b * B, len = std::min(B, n - i0);
    for (index_t q = 0; q < K * B; ++q) ub[q] = 0.0;
    for (index_t e = 0; e < m; ++e)
      if (su[e] != 0.0)
        vm::dispatch<kernels::axpy_k>(x + cols[e] * n + i0, su[e], ub + cls[e] * B, len);
    for (index_t i = 0; i < len; ++i) v[i] = 0.0;
    for (index_t k = 0; k < K; ++k) {
      double* uk = ub + k * B;
      const double* pk = P + k * n + i0;
      for (index_t i = 0; i < len; ++i) {
        uk[i] += shift[k];
        v[i] += pk[i] * uk[i];
      }
    }
    for (index_t k = 0; k < K; ++k) {
      double* uk = ub + k * B;
      const double* wk = wp + k * n + i0;
      double sm = 0.0;
      for (index_t i = 0; i < len; ++i) {
        uk[i] = wk[i] * (uk[i] - v[i]);
        sm += uk[i];
      }
      part[(m + k) * nb + b] = sm;
    }
    for (index_t e = 0; e < m; ++e)
      vm::dispatch<kernels::dot_k>(x + cols[e] * n + i0, static_cast<const double*>(ub + cls[e] * B),
                                   len, &part[e * nb + b]);
  };
#ifdef _OPENMP
#pragma omp parallel num_threads(T) if (T > 1)
  {
    const int tid = omp_get_thread_num();
#pragma omp for schedule(static)
    for (index_t b = 0; b < nb; ++b) body(b, tid);
  }
#else
  for (index_t b = 0; b < nb; ++b) body(b, 0);
#endif
  for (index_t e = 0; e < m + K; ++e) {
    double t = 0.0;
    for (index_t b = 0; b < nb; ++b) t += part[e * nb + b];
    if (e < m) out[e] = t;
    else qs[e - m] = t;
  }
}
inline void softmax_hess_product(const SparseMap& X, index_t K, const std::vector<index_t>& cols,
                                 const std::vector<index_t>& cls, const double* su,
                                 const double* shift, const double* P, const double* wp, int,
                                 std::vector<double>&, std::vector<double>& u,
                                 std::vector<double>& vs, double* out, double* qs) {
  const index_t n = X.rows(), m = static_cast<index_t>(cols.size());
  u.assign(static_cast<size_t>(n * K), 0.0);
  vs.assign(static_cast<size_t>(n), 0.0);
  for (index_t e = 0; e < m; ++e)
    if (su[e] != 0.0) col_axpy(X, cols[e], su[e], &u[cls[e] * n]);
  for (index_t k = 0; k < K; ++k) {
    double* uk = &u[k * n];
    const double* pk = P + k * n;
    for (index_t i = 0; i < n; ++i) {
      uk[i] += shift[k];
      vs[i] += pk[i] * uk[i];
    }
  }
  for (index_t k = 0; k < K; ++k) {
    double* uk = &u[k * n];
    const double* wk = wp + k * n;
    double sm = 0.0;
    for (index_t i = 0; i < n; ++i) {
      uk[i] = wk[i] * (uk[i] - vs[i]);
      sm += uk[i];
    }
    qs[k] = sm;
  }
  for (index_t e = 0; e < m; ++e) out[e] = col_dot(X, cols[e], &u[cls[e] * n]);
}

}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_KERNELS_HPP
