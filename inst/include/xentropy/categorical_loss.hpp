// xentropy/categorical_loss.hpp -- the categorical losses (cross-entropy from
// probabilities, softmax cross-entropy and softmax focal loss from logits):
// their policies, the softmax row statistics and the categorical driver. The
// formulas and numerical tricks are listed in loss.hpp.
#ifndef XENTROPY_CATEGORICAL_LOSS_HPP
#define XENTROPY_CATEGORICAL_LOSS_HPP

#include "loss_base.hpp"

namespace xentropy {

// ---------------------------------------------------------------------------
// Categorical policies. A row of logits is summarised by its softmax
// statistics (softmax_row); per class k, with t the (weighted) target:
//   term(t, r, z)   the loss term of class k (t > 0),
//   coef(t, r, z)   a_k such that d l / d z_j = p_j sum_k a_k - a_j
//                   (a_k = t_k for the cross-entropy),
//   row_sum         whether sum_k a_k must be formed (else it is the sum of
//                   the targets, taken as 1: labels, without class weights).
// From probabilities (cross_entropy_loss) term(t, p) is -t log p.

// Softmax statistics of one row: m, S = t + c, S - 1 and L = log1p(S - 1).
struct softmax_row {
  double m, S, Sm1, L;
  bool pos_inf;  // the row has c entries +Inf: softmax is 1/c on them, 0 elsewhere
  // -log softmax(z)
  XENTROPY_VM_INLINE double nll(double z) const {
    const double v = (m - z) + L;
    return pos_inf ? (z == inf() ? std::log(S) : inf()) : v;
  }
  XENTROPY_VM_INLINE double prob(double z) const {
    const double v = vm::exp(z - m) / S;
    return pos_inf ? (z == inf() ? 1.0 / S : 0.0) : v;
  }
  // 1 - softmax(z), without cancellation (see loss.hpp): for the row's
  // largest entry the sum of the others over the sum, else p <= 1/2
  XENTROPY_VM_INLINE double one_minus_prob(double z) const {
    return z == m ? Sm1 / S : 1.0 - vm::exp(z - m) / S;
  }
};

struct softmax_ce_policy {
  static constexpr bool logits = true;
  static constexpr bool row_sum = false;
  XENTROPY_VM_INLINE double term(double t, const softmax_row& r, double z) const {
    return t * r.nll(z);
  }
  XENTROPY_VM_INLINE double coef(double t, const softmax_row&, double) const { return t; }
};

// -alpha t (1 - p)^gamma log p. Its gradient coefficient is
// a = alpha t (1 - p)^gamma (1 + gamma p (-log p) / (1 - p)).
// Square = true (gamma = 2, the default): (1 - p)^2 as one product, which is also
// more accurate than exp(2 log(1 - p)) (whose rounding grows with |log(1 - p)|);
// otherwise exp(gamma log(1 - p)).
template <bool Square>
struct softmax_focal_policy_t {
  double gamma = 2.0;
  double alpha = 1.0;
  static constexpr bool logits = true;
  static constexpr bool row_sum = true;
  // q^gamma: log q and its product by gamma as double-doubles (vm::pow_dd, out of line)
  XENTROPY_VM_INLINE double power(double q) const {
    if (Square) return q * q;
    const double f = vm::pow_dd(q, gamma);
    return gamma == 0.0 ? 1.0 : f;
  }
  XENTROPY_VM_INLINE double factor(const softmax_row& r, double z) const {
    return power(r.one_minus_prob(z));
  }
  XENTROPY_VM_INLINE double term(double t, const softmax_row& r, double z) const {
    return alpha * t * factor(r, z) * r.nll(z);
  }
  // (one exponential for p and 1 - p: q is formed as one_minus_prob() forms it)
  XENTROPY_VM_INLINE double coef(double t, const softmax_row& r, double z) const {
    const double p = r.prob(z), nll = r.nll(z);
    const double q = r.one_minus_prob(z);
    const double f = power(q);
    const double extra = gamma == 0.0 || p == 0.0 || q == 0.0 ? 0.0 : gamma * p * nll / q;
    return alpha * t * f * (1.0 + extra);
  }
};
using softmax_focal_policy = softmax_focal_policy_t<false>;

struct ce_prob_policy {
  static constexpr bool logits = false;
  static constexpr bool row_sum = false;
  XENTROPY_VM_INLINE double term(double t, double p) const {
    return p == 0.0 ? inf() : -t * std::log(p);
  }
};

namespace detail {

// Labels of the observations of a block, with missingness and invalid labels.
inline void block_labels(const categorical_targets& y, index_t o0, index_t nb,
                         index_t K, index_t* lab, missing* miss, invalid_at& bad) {
  for (index_t i = 0; i < nb; ++i) {
    miss[i] = missing::none;
    if (y.is_matrix()) {
      lab[i] = class_labels::absent;
      continue;
    }
    lab[i] = y.labels.get(o0 + i, K, miss[i]);
    if (lab[i] == class_labels::out_of_range)
      bad.merge(invalid_at{y.origin + o0 + i, operand::target});
  }
}

// Target t_ik of observation o = o0 + i for class k: the label's one-hot
// entry, or the target matrix entry, checked. A missing entry marks the row
// and an entry outside [0, 1] is noted; both return -1, which callers skip.
inline double target_at(const categorical_targets& y, const index_t* lab, index_t i,
                        index_t o, index_t k, missing* miss, invalid_at& bad) {
  if (!y.is_matrix()) return lab[i] < 0 ? -1.0 : (lab[i] == k ? 1.0 : 0.0);
  const double t = y.matrix(o, k);
  if (std::isnan(t)) {
    miss[i] |= missing_of(t);
    return -1.0;
  }
  if (!is_unit(t)) {
    bad.merge(invalid_at{y.matrix.at(o, k), operand::target});
    return -1.0;
  }
  return t;
}

// The weighted, smoothed target c_k ((1 - eps) t + eps / K).
inline double weighted_target(double t, index_t k, index_t K, const categorical_options& c) {
  const double s = c.label_smoothing == 0.0
                       ? t
                       : (1.0 - c.label_smoothing) * t + c.label_smoothing / static_cast<double>(K);
  return c.class_weights ? c.class_weights[k] * s : s;
}

// Softmax statistics of the rows of a block (logits) and their missingness.
struct softmax_block {
  softmax_row rows[blocks::categorical];
  kind kinds[blocks::categorical];

  // ex: see row_stats()
  void compute(const double* z, index_t n, index_t K, index_t o0, index_t o1,
               missing* miss, double* ex = nullptr) {
    lse_stats st[blocks::categorical];
    row_stats(z, n, K, o0, o1, scale(1.0), st, ex);
    // L = log1p(t + c - 1) of the block's rows in one vectorised loop, as
    // logsumexp() and log_softmax() form it
    const index_t nb = o1 - o0;
    double t[blocks::categorical], c[blocks::categorical], L[blocks::categorical];
    for (index_t i = 0; i < nb; ++i) {
      kinds[i] = classify(st[i], false);
      const bool reg = kinds[i] == kind::regular;
      t[i] = reg ? st[i].t : 0.0;
      c[i] = reg ? st[i].c : 1.0;
    }
    vm::dispatch<log1p_k>(static_cast<const double*>(t), static_cast<const double*>(c), nb,
                          static_cast<double*>(L));
    for (index_t i = 0; i < nb; ++i) {
      const double Sm1 = st[i].t + (st[i].c - 1.0);
      rows[i] = softmax_row{st[i].m, st[i].t + st[i].c, Sm1,
                            kinds[i] == kind::regular ? L[i] : 0.0,
                            kinds[i] == kind::pos_inf};
      if (kinds[i] == kind::na) miss[i] |= missing::na;
      else if (kinds[i] == kind::nan || kinds[i] == kind::all_neg_inf) miss[i] |= missing::nan;
    }
  }
  bool regular(index_t i) const { return kinds[i] == kind::regular; }
};

// l[i] = term of the true class of regular rows (use[i] = 1), else 0.
template <class P>
struct label_terms_k {
  XENTROPY_VM_INLINE static void run(P pol, const double* z, const double* tw,
                                     const double* m, const double* S, const double* Sm1,
                                     const double* L, const double* use, index_t nb,
                                     double* l) {
    XENTROPY_VM_SIMD
    for (index_t i = 0; i < nb; ++i) {
      const double v = pol.term(tw[i], softmax_row{m[i], S[i], Sm1[i], L[i], false}, z[i]);
      l[i] = use[i] != 0.0 ? v : 0.0;
    }
  }
};

// Per-observation losses of a block of a categorical loss from logits.
// Returns whether it wrote denominator factors d (labels and class weights).
template <class P>
inline bool categorical_block(const P& pol, const categorical_targets& y,
                              const double* logits, index_t n, index_t K,
                              const categorical_options& opts, index_t o0, index_t o1,
                              double* l, double* d, invalid_at& bad) {
  const categorical_options copt = opts;  // a local copy: no reload after each store to l
  const view Z{logits, 1, n};
  const index_t nb = o1 - o0;
  index_t lab[blocks::categorical];
  missing miss[blocks::categorical];
  block_labels(y, o0, nb, K, lab, miss, bad);
  softmax_block sb;
  sb.compute(logits, n, K, o0, o1, miss);
  for (index_t i = 0; i < nb; ++i) l[i] = 0.0;
  if (!y.is_matrix() && copt.label_smoothing == 0.0) {
    // one entry per row: the true class; regular rows in one vectorised
    // loop (the focal factor's exp and log), rows with +Inf after it
    double zt[blocks::categorical], tw[blocks::categorical], rm[blocks::categorical],
        rS[blocks::categorical], rSm1[blocks::categorical], rL[blocks::categorical],
        use[blocks::categorical];
    bool special = false;
    for (index_t i = 0; i < nb; ++i) {
      const bool ok = miss[i] == missing::none && lab[i] >= 0;
      const bool fast = ok && sb.regular(i);
      special = special || (ok && !fast);
      use[i] = fast ? 1.0 : 0.0;
      zt[i] = fast ? Z(o0 + i, lab[i]) : 0.0;
      tw[i] = fast ? weighted_target(1.0, lab[i], K, copt) : 0.0;
      rm[i] = fast ? sb.rows[i].m : 0.0;
      rS[i] = fast ? sb.rows[i].S : 1.0;
      rSm1[i] = fast ? sb.rows[i].Sm1 : 0.0;
      rL[i] = fast ? sb.rows[i].L : 0.0;
    }
    vm::dispatch<label_terms_k<P>>(pol, static_cast<const double*>(zt),
                                   static_cast<const double*>(tw),
                                   static_cast<const double*>(rm),
                                   static_cast<const double*>(rS),
                                   static_cast<const double*>(rSm1),
                                   static_cast<const double*>(rL),
                                   static_cast<const double*>(use), nb, l);
    if (special) {
      for (index_t i = 0; i < nb; ++i) {
        if (miss[i] != missing::none || lab[i] < 0 || sb.regular(i)) continue;
        l[i] = pol.term(weighted_target(1.0, lab[i], K, copt), sb.rows[i], Z(o0 + i, lab[i]));
      }
    }
  } else {
    for (index_t k = 0; k < K; ++k) {
      for (index_t i = 0; i < nb; ++i) {
        const index_t o = o0 + i;
        if (miss[i] != missing::none) continue;
        const double t = target_at(y, lab, i, o, k, miss, bad);
        if (t < 0.0) continue;
        const double tw = weighted_target(t, k, K, copt);
        if (tw > 0.0) l[i] += pol.term(tw, sb.rows[i], Z(o, k));
      }
    }
  }
  for (index_t i = 0; i < nb; ++i)
    if (miss[i] != missing::none) l[i] = missing_value(miss[i]);
  if (y.is_matrix() || !copt.class_weights) return false;
  for (index_t i = 0; i < nb; ++i) d[i] = lab[i] >= 0 ? copt.class_weights[lab[i]] : 1.0;
  return true;
}

// out[0] = the number of entries of p[0, n) that are not in [0, 1] (NaN included).
struct outside_unit_k {
  XENTROPY_VM_INLINE static void run(const double* p, index_t n, double* out) {
    double c = 0.0;
    XENTROPY_VM_SIMD_REDUCTION(+ : c)
    for (index_t i = 0; i < n; ++i) c += ((p[i] >= 0.0) & (p[i] <= 1.0)) ? 0.0 : 1.0;
    out[0] = c;
  }
};

// Whether every entry of the block's rows of P is a probability: one vectorised
// sweep per class (a shared distribution, P.so = 0: its K entries).
inline bool block_all_unit(view P, index_t K, index_t o0, index_t nb) {
  if (P.so == 0) {
    for (index_t k = 0; k < K; ++k)
      if (!is_unit(P(0, k))) return false;
    return true;
  }
  if (P.so != 1) return false;
  double c = 0.0;
  for (index_t k = 0; k < K; ++k) {
    double ck;
    vm::dispatch<outside_unit_k>(P.data + P.at(o0, k), nb, &ck);
    c += ck;
  }
  return c == 0.0;
}

// The same from probabilities: every entry is read and checked.
inline bool categorical_block(const ce_prob_policy& pol, const categorical_targets& y,
                              view P, index_t K, const categorical_options& opts,
                              index_t o0, index_t o1, double* l, double* d,
                              invalid_at& bad) {
  const categorical_options copt = opts;
  const index_t nb = o1 - o0;
  index_t lab[blocks::categorical];
  missing miss[blocks::categorical];
  block_labels(y, o0, nb, K, lab, miss, bad);
  for (index_t i = 0; i < nb; ++i) l[i] = 0.0;
  // labels, every entry a probability (the common case): each row's term from its
  // label's entry; otherwise entry by entry below, which finds what is missing or wrong
  const bool labels_valid = !y.is_matrix() && block_all_unit(P, K, o0, nb);
  for (index_t i = 0; labels_valid && i < nb; ++i) {
    if (miss[i] != missing::none || lab[i] < 0) continue;
    const double tw = copt.class_weights ? copt.class_weights[lab[i]] : 1.0;
    if (tw > 0.0) l[i] = pol.term(tw, P(o0 + i, lab[i]));
  }
  for (index_t k = 0; k < K && !labels_valid; ++k) {
    for (index_t i = 0; i < nb; ++i) {
      const index_t o = o0 + i;
      const double p = P(o, k);
      if (std::isnan(p)) {
        miss[i] |= missing_of(p);
        continue;
      }
      if (!is_unit(p)) {
        bad.merge(invalid_at{P.at(o, k), operand::prediction});
        continue;
      }
      const double t = target_at(y, lab, i, o, k, miss, bad);
      if (t <= 0.0) continue;  // no label smoothing here: t = 0 adds nothing
      const double tw = copt.class_weights ? copt.class_weights[k] * t : t;
      if (tw > 0.0) l[i] += pol.term(tw, p);
    }
  }
  for (index_t i = 0; i < nb; ++i)
    if (miss[i] != missing::none) l[i] = missing_value(miss[i]);
  if (y.is_matrix() || !copt.class_weights) return false;
  for (index_t i = 0; i < nb; ++i) d[i] = lab[i] >= 0 ? copt.class_weights[lab[i]] : 1.0;
  return true;
}

// The gradient of the regular rows of a block, class by class with the rows
// in the inner (vectorised) loop: out = (p A - a) * scale, a_k = coef(t'_k),
// A = sum_k a_k (pass 1, when the policy needs it; else 1). Targets are
// labels (0-based, as doubles) or a target matrix T; t' the weighted,
// smoothed target.
template <class P>
struct softmax_grad_kernels {
  template <bool Matrix, bool CW, bool Sum>
  struct k {
    XENTROPY_VM_INLINE static double target(const double* tc, const double* lab,
                                            index_t i, double kd, double keep,
                                            double spread, double c) {
      const double t = Matrix ? tc[i] : (lab[i] == kd ? 1.0 : 0.0);
      return (CW ? c : 1.0) * (keep * t + spread);
    }
    XENTROPY_VM_INLINE static void run(P pol, const double* z, index_t n, index_t K,
                                       index_t o0, index_t nb, const double* m,
                                       const double* S, const double* Sm1,
                                       const double* L, const double* lab, const double* T,
                                       const double* cw, double eps, const double* scale,
                                       double* A, double* out) {
      const double keep = 1.0 - eps, spread = eps / static_cast<double>(K);
      if (Sum && !Matrix && eps == 0.0) {
        // labels: a_k = 0 but for the true class, so A is that class's
        // coefficient (adding the zeros changes nothing), formed once per row
        double zt[blocks::categorical], tw[blocks::categorical];
        for (index_t i = 0; i < nb; ++i) {
          const bool has = lab[i] >= 0.0;
          const index_t kl = has ? static_cast<index_t>(lab[i]) : 0;
          zt[i] = has ? z[kl * n + o0 + i] : 0.0;
          tw[i] = has ? (CW ? cw[kl] : 1.0) : 0.0;
        }
        // (p = exp(z - m) / S, divided rather than multiplied by 1 / S: a
        // product could be contracted with the subtraction into an FMA in one
        // loop and not in another, and gamma = 0 would no longer give the
        // cross-entropy's gradient to the bit)
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < nb; ++i) {
          const double a = pol.coef(tw[i], softmax_row{m[i], S[i], Sm1[i], L[i], false}, zt[i]);
          A[i] = lab[i] >= 0.0 ? a : 0.0;
        }
        for (index_t k = 0; k < K; ++k) {
          double* oc = out + k * n + o0;  // exp(z - m), stored by the caller
          const double kd = static_cast<double>(k);
          XENTROPY_VM_SIMD
          for (index_t i = 0; i < nb; ++i) {
            const double p = oc[i] / S[i];
            const double a = lab[i] == kd ? A[i] : 0.0;
            oc[i] = (p * A[i] - a) * scale[i];
          }
        }
        return;
      }
      if (Sum) {
        for (index_t i = 0; i < nb; ++i) A[i] = 0.0;
        for (index_t k = 0; k < K; ++k) {
          const double* zc = z + k * n + o0;
          const double* tc = Matrix ? T + k * n + o0 : nullptr;
          const double kd = static_cast<double>(k), c = CW ? cw[k] : 1.0;
          double* oc = out + k * n + o0;  // a_k kept for pass 2
          XENTROPY_VM_SIMD
          for (index_t i = 0; i < nb; ++i) {
            const double a = pol.coef(target(tc, lab, i, kd, keep, spread, c),
                                      softmax_row{m[i], S[i], Sm1[i], L[i], false}, zc[i]);
            oc[i] = a;
            A[i] += a;
          }
        }
      }
      for (index_t k = 0; k < K; ++k) {
        const double* zc = z + k * n + o0;
        const double* tc = Matrix ? T + k * n + o0 : nullptr;
        double* oc = out + k * n + o0;
        const double kd = static_cast<double>(k), c = CW ? cw[k] : 1.0;
        XENTROPY_VM_SIMD
        for (index_t i = 0; i < nb; ++i) {
          // without Sum, out holds exp(z - m), stored by the caller
          const double p = (Sum ? vm::exp(zc[i] - m[i]) : oc[i]) / S[i];
          const double a = Sum ? oc[i]
                               : pol.coef(target(tc, lab, i, kd, keep, spread, c),
                                          softmax_row{m[i], S[i], Sm1[i], L[i], false}, zc[i]);
          oc[i] = ((Sum ? p * A[i] : p) - a) * scale[i];
        }
      }
    }
  };
};

}  // namespace detail

// Total of a categorical loss from logits (n x K, column-major).
template <class P>
inline accumulator categorical_loss_total(const P& pol, const categorical_targets& y,
                                          const double* logits, index_t n, index_t K,
                                          const categorical_options& copt,
                                          const loss_options& opt, double* out,
                                          first_invalid& bad) {
  return detail::reduce_losses(
      n, blocks::categorical, n * K, opt, out, bad,
      [&](index_t o0, index_t o1, double* l, double* d, invalid_at& first) {
        return detail::categorical_block(pol, y, logits, n, K, copt, o0, o1, l, d, first);
      });
}

// From probabilities, viewed by P (a matrix, or one distribution shared by
// all observations: P.so = 0).
inline accumulator categorical_loss_total(const ce_prob_policy& pol,
                                          const categorical_targets& y, view P, index_t n,
                                          index_t K, const categorical_options& copt,
                                          const loss_options& opt, double* out,
                                          first_invalid& bad) {
  return detail::reduce_losses(
      n, blocks::categorical, n * K, opt, out, bad,
      [&](index_t o0, index_t o1, double* l, double* d, invalid_at& first) {
        return detail::categorical_block(pol, y, P, K, copt, o0, o1, l, d, first);
      });
}

// d loss / d logits of a categorical loss, written to out (n x K): p_j A - a_j
// per row (softmax(z_i) - t'_i for the cross-entropy) times w_i, divided by
// the total weight for "mean". Missing observations give NA (NaN) rows, or 0
// rows with na_rm. out may not alias logits (it holds exp(z - m) on the way).
template <class P>
inline void categorical_loss_grad(const P& pol, const categorical_targets& y,
                                  const double* logits, index_t n, index_t K,
                                  const categorical_options& copt,
                                  const loss_options& opt, double* out,
                                  first_invalid& bad) {
  const view Z{logits, 1, n};
  const bool labels_cw = !y.is_matrix() && copt.class_weights;
  const bool later = opt.red == reduction::mean && (opt.na_rm || labels_cw);
  const double denom = detail::mean_denominator(n, opt, later);
  // (a target matrix's rows need not sum to 1: a zero row, counts, a mask)
  const bool row_sum = P::row_sum || copt.class_weights || y.is_matrix();
  const bool reuse = !row_sum || (!y.is_matrix() && copt.label_smoothing == 0.0);
  const accumulator kept = sum_blocks(
      n, blocks::categorical, n * K, opt.nthreads,
      [&](index_t o0, index_t o1, accumulator& acc) {
        const index_t nb = o1 - o0;
        index_t lab[blocks::categorical];
        missing miss[blocks::categorical];
        invalid_at first;
        detail::block_labels(y, o0, nb, K, lab, miss, first);
        // the exponentials go to out where the kernel reads them back (it computes
        // them again where out holds the coefficients a_k)
        detail::softmax_block sb;
        sb.compute(logits, n, K, o0, o1, miss, reuse ? out : nullptr);
        if (y.is_matrix()) {
          // a missing target anywhere in the row makes the row missing
          for (index_t k = 0; k < K; ++k)
            for (index_t i = 0; i < nb; ++i)
              detail::target_at(y, lab, i, o0 + i, k, miss, first);
        }
        bad.note(first);
        double scale[blocks::categorical], labd[blocks::categorical], A[blocks::categorical];
        double m[blocks::categorical], S[blocks::categorical], Sm1[blocks::categorical],
            L[blocks::categorical];
        bool special = false;
        for (index_t i = 0; i < nb; ++i) {
          const double w = opt.weights ? opt.weights[o0 + i] : 1.0;
          scale[i] = w / denom;
          const bool ok = miss[i] == missing::none;
          if (ok) acc.weight += labels_cw && lab[i] >= 0 ? w * copt.class_weights[lab[i]] : w;
          // harmless values for rows that are missing or infinite; those
          // rows are rewritten below
          const bool regular = sb.regular(i) && ok;
          special = special || !regular;
          m[i] = regular ? sb.rows[i].m : 0.0;
          S[i] = regular ? sb.rows[i].S : 1.0;
          Sm1[i] = regular ? sb.rows[i].Sm1 : 0.0;
          L[i] = regular ? sb.rows[i].L : 0.0;
          labd[i] = y.is_matrix() ? -1.0 : static_cast<double>(lab[i]);
        }
        dispatch_flags<detail::softmax_grad_kernels<P>::template k>(
            flags(y.is_matrix(), copt.class_weights, row_sum), pol, logits, n, K, o0, nb,
            static_cast<const double*>(m), static_cast<const double*>(S),
            static_cast<const double*>(Sm1), static_cast<const double*>(L),
            static_cast<const double*>(labd),
            y.is_matrix() ? y.matrix.data : nullptr, copt.class_weights,
            copt.label_smoothing, static_cast<const double*>(scale), A, out);
        if (!special) return;
        for (index_t i = 0; i < nb; ++i) {
          if (sb.regular(i) && miss[i] == missing::none) continue;
          const index_t o = o0 + i;
          if (miss[i] != missing::none) {
            const double g = opt.na_rm ? 0.0 : missing_value(miss[i]);
            for (index_t k = 0; k < K; ++k) out[Z.at(o, k)] = g;
            continue;
          }
          auto tw = [&](index_t k) {
            return detail::weighted_target(
                y.is_matrix() ? y.matrix(o, k) : (lab[i] == k ? 1.0 : 0.0), k, K, copt);
          };
          const softmax_row& r = sb.rows[i];
          double Ai = 1.0;
          if (row_sum) {
            Ai = 0.0;
            for (index_t k = 0; k < K; ++k) Ai += pol.coef(tw(k), r, Z(o, k));
          }
          for (index_t k = 0; k < K; ++k)
            out[Z.at(o, k)] = (r.prob(Z(o, k)) * Ai - pol.coef(tw(k), r, Z(o, k))) * scale[i];
        }
      });
  if (later) detail::rescale(out, n * K, kept.weight, opt.nthreads);
}

// The named categorical losses.
inline double cross_entropy_loss(const categorical_targets& y, const double* prob,
                                 index_t n, index_t K, const categorical_options& copt,
                                 const loss_options& opt, double* out,
                                 first_invalid& bad) {
  return detail::reduced_value(
      categorical_loss_total(ce_prob_policy{}, y, view{prob, 1, n}, n, K, copt, opt, out, bad),
      opt);
}

inline double softmax_cross_entropy(const categorical_targets& y, const double* logits,
                                    index_t n, index_t K, const categorical_options& copt,
                                    const loss_options& opt, double* out,
                                    first_invalid& bad) {
  return detail::reduced_value(
      categorical_loss_total(softmax_ce_policy{}, y, logits, n, K, copt, opt, out, bad),
      opt);
}

inline void softmax_cross_entropy_grad(const categorical_targets& y, const double* logits,
                                       index_t n, index_t K,
                                       const categorical_options& copt,
                                       const loss_options& opt, double* out,
                                       first_invalid& bad) {
  categorical_loss_grad(softmax_ce_policy{}, y, logits, n, K, copt, opt, out, bad);
}

inline double softmax_focal_loss(const categorical_targets& y, const double* logits,
                                 index_t n, index_t K, double gamma, double alpha,
                                 const loss_options& opt, double* out,
                                 first_invalid& bad) {
  if (gamma == 2.0)
    return detail::reduced_value(
        categorical_loss_total(softmax_focal_policy_t<true>{gamma, alpha}, y, logits, n, K,
                               categorical_options{}, opt, out, bad),
        opt);
  return detail::reduced_value(
      categorical_loss_total(softmax_focal_policy{gamma, alpha}, y, logits, n, K,
                             categorical_options{}, opt, out, bad),
      opt);
}

inline void softmax_focal_loss_grad(const categorical_targets& y, const double* logits,
                                    index_t n, index_t K, double gamma, double alpha,
                                    const loss_options& opt, double* out,
                                    first_invalid& bad) {
  if (gamma == 2.0)
    categorical_loss_grad(softmax_focal_policy_t<true>{gamma, alpha}, y, logits, n, K,
                          categorical_options{}, opt, out, bad);
  else
    categorical_loss_grad(softmax_focal_policy{gamma, alpha}, y, logits, n, K,
                          categorical_options{}, opt, out, bad);
}

}  // namespace xentropy

#endif  // XENTROPY_CATEGORICAL_LOSS_HPP
