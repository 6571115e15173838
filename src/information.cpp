// The entries of entropy(), cross_entropy(), kl_divergence() and
// loglik_multinomial() (xentropy/information.hpp; see src/entry.h), and the
// label counts of mle_categorical(). The layout (measure_layout() in
// R/information.R, layout_of() here): nobs, nclass, p's and q's strides
// (per observation, per class) and whether the classes of an observation
// are contiguous.
#include "entry.h"

namespace {

xentropy::view view_of(SEXP x, const Rcpp::NumericVector& layout, int at) {
  if (Rf_isNull(x)) return xentropy::view{nullptr, 0, 0};
  return xentropy::view{REAL(x), static_cast<xentropy::index_t>(layout[at]),
                        static_cast<xentropy::index_t>(layout[at + 1])};
}

xentropy::measure_shape shape_of(const Rcpp::NumericVector& layout) {
  xentropy::measure_shape s;
  s.nobs = static_cast<xentropy::index_t>(layout[0]);
  s.nclass = static_cast<xentropy::index_t>(layout[1]);
  s.contiguous = layout[6] != 0;
  return s;
}

}  // namespace

// The multinomial log-likelihood of each row of counts under prob
// (loglik_multinomial(); full adds the multinomial coefficient).
namespace {
SEXP multinomial_impl(SEXP counts, SEXP prob, Rcpp::NumericVector layout, bool full) {
  const xentropy::measure_shape s = shape_of(layout);
  const xentropy::view pv = view_of(counts, layout, 2), qv = view_of(prob, layout, 4);
  Rcpp::NumericVector out(Rcpp::no_init(s.nobs));
  xentropy::first_invalid bad;
  bool zero_total = false;
  // one pass: the terms, prob rescaled to sum to 1 (as dmultinom) and log N!
  // (thread-safe: no lgamma())
  const int nthreads = glue::thread_count();
  glue::interruptible([&] {
    xentropy::multinomial_loglik(pv, qv, s, full, REAL(out), nthreads, bad, zero_total);
  });
  if (bad.where() < 0 && zero_total)
    Rf_setAttrib(out, Rf_install("xentropy_zero_total"), Rf_ScalarLogical(TRUE));
  return glue::flag_invalid(out, bad);
}

// Labels below this are counted in four interleaved small histograms
// (consecutive equal labels would otherwise wait on each other's store);
// larger ones in a vector that grows.
constexpr int small_labels = 1024;

// The counts of one stretch of labels [begin, end).
struct label_part {
  std::vector<std::uint64_t> small;  // 4 interleaved histograms
  std::vector<double> large;         // counts of labels >= small_labels + 1
  std::uint64_t n_na = 0;
  R_xlen_t bad = -1;                 // first position that is not a label
};

inline void count_large(label_part& p, std::size_t k) {
  if (k > p.large.size()) p.large.resize(k, 0.0);
  p.large[k - 1] += 1;
}

// Integer labels: NA counted, < 1 invalid (the stretch stops there).
void count_labels(const int* v, R_xlen_t begin, R_xlen_t end, label_part& p) {
  p.small.assign(4 * small_labels, 0);
  std::uint64_t* h = p.small.data();
  R_xlen_t i = begin;
  auto one = [&](int x, std::uint64_t* hj, R_xlen_t at) {
    const unsigned u = static_cast<unsigned>(x) - 1u;  // x < 1 wraps around
    if (u < static_cast<unsigned>(small_labels)) {
      ++hj[u];
      return true;
    }
    if (x == NA_INTEGER) {
      ++p.n_na;
      return true;
    }
    if (x < 1) {
      p.bad = at;
      return false;
    }
    count_large(p, static_cast<std::size_t>(x));
    return true;
  };
  for (; i + 4 <= end; i += 4) {
    if (!one(v[i], h, i) || !one(v[i + 1], h + small_labels, i + 1) ||
        !one(v[i + 2], h + 2 * small_labels, i + 2) ||
        !one(v[i + 3], h + 3 * small_labels, i + 3))
      return;
  }
  for (; i < end; ++i)
    if (!one(v[i], h, i)) return;
}

// Double labels: NaN (NA) counted; not a whole number in [1, INT_MAX]
// invalid (the stretch stops there).
void count_labels(const double* v, R_xlen_t begin, R_xlen_t end, label_part& p) {
  p.small.assign(4 * small_labels, 0);
  std::uint64_t* h = p.small.data();
  R_xlen_t i = begin;
  auto one = [&](double x, std::uint64_t* hj, R_xlen_t at) {
    if (x >= 1.0 && x < small_labels + 1.0) {
      // x + 2^52 rounds x to a whole number, whose low bits are x
      const double w = x + 4503599627370496.0;
      if (w - 4503599627370496.0 == x) {
        std::uint64_t b;
        std::memcpy(&b, &w, sizeof b);
        ++hj[(b & 2047u) - 1];
        return true;
      }
      p.bad = at;
      return false;
    }
    if (std::isnan(x)) {
      ++p.n_na;
      return true;
    }
    if (!(x >= 1 && x <= INT_MAX && x == std::trunc(x))) {
      p.bad = at;
      return false;
    }
    count_large(p, static_cast<std::size_t>(x));
    return true;
  };
  for (; i + 4 <= end; i += 4) {
    if (!one(v[i], h, i) || !one(v[i + 1], h + small_labels, i + 1) ||
        !one(v[i + 2], h + 2 * small_labels, i + 2) ||
        !one(v[i + 3], h + 3 * small_labels, i + 3))
      return;
  }
  for (; i < end; ++i)
    if (!one(v[i], h, i)) return;
}

}  // namespace

namespace {

// Counts of the class labels y (doubles or integers, NA skipped) for
// mle_categorical(), in one pass without copying y: a vector of
// max(label) counts, with attribute "n_na" (the number of NAs) and, when a
// value is not a label 1, 2, ..., "xentropy_invalid" (its 1-based position;
// the counts are then incomplete). Long vectors are counted in stretches on
// threads; counts are whole numbers, so the merged result does not depend
// on the thread count.
SEXP label_counts_impl(SEXP y) {
  const R_xlen_t n = XLENGTH(y);
  // short vectors: one pass into counts as long as the largest label (the
  // histograms below cost more to clear and merge than to fill)
  if (n < 4 * small_labels) {
    std::vector<double> counts;
    double n_na = 0;
    R_xlen_t bad = -1;
    const bool dbl = TYPEOF(y) == REALSXP;
    for (R_xlen_t i = 0; i < n; ++i) {
      double x;
      if (dbl) {
        x = REAL(y)[i];
        if (std::isnan(x)) { ++n_na; continue; }
        if (!(x >= 1 && x <= INT_MAX && x == std::trunc(x))) { bad = i; break; }
      } else {
        const int v = INTEGER(y)[i];
        if (v == NA_INTEGER) { ++n_na; continue; }
        if (v < 1) { bad = i; break; }
        x = v;
      }
      const auto k = static_cast<std::size_t>(x);
      if (k > counts.size()) counts.resize(k, 0.0);
      counts[k - 1] += 1;
    }
    Rcpp::NumericVector out(counts.begin(), counts.end());
    out.attr("n_na") = n_na;
    if (bad >= 0) out.attr("xentropy_invalid") = static_cast<double>(bad + 1);
    return out;
  }
  const int nt = xentropy::threads_for(glue::thread_count(), n / 4);
  const R_xlen_t stretch = nt <= 1 ? (n > 0 ? n : 1)
                                   : std::max<R_xlen_t>(65536, (n - 1) / nt + 1);
  const R_xlen_t nparts = n == 0 ? 0 : (n - 1) / stretch + 1;
  std::vector<label_part> parts(static_cast<std::size_t>(nparts));
  const bool dbl = TYPEOF(y) == REALSXP;
  const double* vd = dbl ? REAL(y) : nullptr;
  const int* vi = dbl ? nullptr : INTEGER(y);
  glue::interruptible([&] {
    xentropy::parallel_chunks(n, stretch, nparts > 1 ? nt : 1, [&](xentropy::index_t b,
                                                                  xentropy::index_t e) {
      label_part& p = parts[static_cast<std::size_t>(b / stretch)];
      if (dbl) count_labels(vd, b, e, p);
      else count_labels(vi, b, e, p);
    });
  });
  // merge: counts, NAs before the first invalid stretch, first invalid
  R_xlen_t bad = -1;
  double n_na = 0;
  std::vector<double> counts(small_labels, 0.0);
  std::size_t K = 0;
  for (const label_part& p : parts) {
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < small_labels; ++k) {
        const std::uint64_t c = p.small[static_cast<std::size_t>(j * small_labels + k)];
        if (c) {
          counts[static_cast<std::size_t>(k)] += static_cast<double>(c);
          if (static_cast<std::size_t>(k) + 1 > K) K = static_cast<std::size_t>(k) + 1;
        }
      }
    if (p.large.size() > counts.size()) counts.resize(p.large.size(), 0.0);
    for (std::size_t k = small_labels; k < p.large.size(); ++k) {
      if (p.large[k] != 0) {
        counts[k] += p.large[k];
        if (k + 1 > K) K = k + 1;
      }
    }
    n_na += static_cast<double>(p.n_na);
    if (p.bad >= 0) {
      bad = p.bad;
      break;
    }
  }
  Rcpp::NumericVector out(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(K));
  out.attr("n_na") = n_na;
  if (bad >= 0) out.attr("xentropy_invalid") = static_cast<double>(bad + 1);
  return out;
}

}  // namespace

namespace {

using namespace entry;

// How the kernels walk p and q (measure_layout() in R/information.R): the
// number of distributions and of classes, each operand's strides per
// distribution and per class, whether a distribution's classes are adjacent;
// and the matrix whose dimnames name the result (NULL for two vectors).
// False when the shapes do not fit (the checking path says why).
struct layout {
  index_t nobs = 0, nclass = 0;
  index_t p_obs = 0, p_class = 0, q_obs = 0, q_class = 0;
  bool contiguous = true;
  SEXP lead = R_NilValue;
};

bool layout_of(SEXP p, SEXP q, int margin, layout& l) {
  // a 1-d array is a vector
  const int dp = ndim(p), dq = Rf_isNull(q) ? 0 : ndim(q);
  if (dp > 2 || dq > 2) return false;
  const bool pm = dp == 2, qm = dq == 2;
  if (!pm && !qm) {
    l.nobs = 1;
    l.nclass = XLENGTH(p);
    l.p_class = 1;
    if (!Rf_isNull(q)) {
      if (XLENGTH(q) != l.nclass) return false;
      l.q_class = 1;
    }
    return true;
  }
  if (pm && qm && !same_dims(p, q)) return false;
  l.lead = pm ? p : q;
  const index_t nr = nrow(l.lead), nc = ncol(l.lead);
  const bool by_row = margin == 1;
  l.nobs = by_row ? nr : nc;
  l.nclass = by_row ? nc : nr;
  l.contiguous = !by_row;
  const index_t obs = by_row ? 1 : nr, cls = by_row ? nr : 1;
  if (pm) {
    l.p_obs = obs;
    l.p_class = cls;
  } else if (XLENGTH(p) == l.nclass) {
    l.p_class = 1;
  } else {
    return false;
  }
  if (qm) {
    l.q_obs = obs;
    l.q_class = cls;
  } else if (!Rf_isNull(q)) {
    if (XLENGTH(q) != l.nclass) return false;
    l.q_class = 1;
  }
  return true;
}

// The names of per-distribution results: dimnames(lead)[[margin]].
SEXP layout_names(const layout& l, int margin) {
  if (Rf_isNull(l.lead)) return R_NilValue;
  SEXP dn = Rf_getAttrib(l.lead, R_DimNamesSymbol);
  return Rf_isNull(dn) ? R_NilValue : VECTOR_ELT(dn, margin - 1);
}

// entropy(p) (q NULL), cross_entropy(p, q), kl_divergence(p, q): vectors
// (one distribution) or matrices (one per row, or per column with margin 2).
enum class measure { entropy, cross_entropy, kl_divergence };

SEXP information(measure m, SEXP p, SEXP q, SEXP base, SEXP margin, SEXP na_rm, SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    const bool two = m != measure::entropy;
    double b;
    bool rm;
    const int mg = margin_of(margin);
    if (!number(base, b) || !(b > 0) || b == HUGE_VAL || b == 1 || mg == 0 ||
        !flag(na_rm, rm)) {
      return R_NilValue;
    }
    SEXP pd = PROTECT(numeric_data(p, second));
    SEXP qd = PROTECT(two ? numeric_data(q, second) : R_NilValue);
    layout l;
    if (Rf_isNull(pd) || (two && Rf_isNull(qd)) || !layout_of(pd, qd, mg, l)) {
      UNPROTECT(2);
      return R_NilValue;
    }
    xentropy::measure_shape s;
    s.nobs = l.nobs;
    s.nclass = l.nclass;
    s.contiguous = l.contiguous;
    xentropy::measure_options opt;
    opt.log_base = std::log(b);
    opt.na_rm = rm;
    const index_t lp = XLENGTH(pd), lq = two ? XLENGTH(qd) : 0;
    opt.nthreads = threads(lp > lq ? lp : lq);
    const xentropy::view pv{REAL(pd), l.p_obs, l.p_class};
    const xentropy::view qv{two ? REAL(qd) : nullptr, l.q_obs, l.q_class};
    SEXP out = PROTECT(Rf_allocVector(REALSXP, l.nobs));
    xentropy::first_invalid bad;
    glue::interruptible([&] {
      switch (m) {
        case measure::entropy: xentropy::entropy(pv, s, REAL(out), opt, bad); break;
        case measure::cross_entropy: xentropy::cross_entropy(pv, qv, s, REAL(out), opt, bad); break;
        case measure::kl_divergence: xentropy::kl_divergence(pv, qv, s, REAL(out), opt, bad); break;
      }
    });
    out = bad.where() >= 0 ? to_report(glue::flag_invalid(out, bad))
                           : named(out, layout_names(l, mg));
    UNPROTECT(3);
    return out;
  });
}

}  // namespace

extern "C" {

SEXP xentropy_entropy(SEXP p, SEXP base, SEXP margin, SEXP na_rm, SEXP checked) {
  return information(measure::entropy, p, R_NilValue, base, margin, na_rm, checked);
}

SEXP xentropy_cross_entropy(SEXP p, SEXP q, SEXP base, SEXP margin, SEXP na_rm,
                            SEXP checked) {
  return information(measure::cross_entropy, p, q, base, margin, na_rm, checked);
}

SEXP xentropy_kl_divergence(SEXP p, SEXP q, SEXP base, SEXP margin, SEXP na_rm,
                            SEXP checked) {
  return information(measure::kl_divergence, p, q, base, margin, na_rm, checked);
}

// The multinomial log-likelihood of each row of counts (or of the one
// vector) under prob; full adds the multinomial coefficient. An invalid
// value or a prob that sums to 0 comes back as list(flagged result).
SEXP xentropy_loglik_multinomial(SEXP counts, SEXP prob, SEXP full, SEXP checked) {
  return guarded(checked, [&](bool second) -> SEXP {
    bool f;
    if (!flag(full, f)) return R_NilValue;
    SEXP cd = PROTECT(numeric_data(counts, second));
    SEXP pd = PROTECT(numeric_data(prob, second));
    layout l;
    if (Rf_isNull(cd) || Rf_isNull(pd) || !layout_of(cd, pd, 1, l)) {
      UNPROTECT(2);
      return R_NilValue;
    }
    Rcpp::NumericVector lay = Rcpp::NumericVector::create(
        static_cast<double>(l.nobs), static_cast<double>(l.nclass),
        static_cast<double>(l.p_obs), static_cast<double>(l.p_class),
        static_cast<double>(l.q_obs), static_cast<double>(l.q_class), l.contiguous ? 1 : 0);
    SEXP out = PROTECT(multinomial_impl(cd, pd, lay, f));
    static SEXP zero_total = sym("xentropy_zero_total");
    out = flagged(out) || Rf_getAttrib(out, zero_total) != R_NilValue
              ? to_report(out)
              : named(out, layout_names(l, 1));
    UNPROTECT(3);
    return out;
  });
}

// The share of each class among the labels y: a factor's levels, or labels
// 1..K (K the largest label, or `K`). Labels R must report (not a class
// label, an empty y, a K below the largest label) come back as
// list(counts), the counts with their attributes, for R's messages.
SEXP xentropy_mle_categorical(SEXP y, SEXP K, SEXP na_rm, SEXP checked) {
  return guarded(checked, [&](bool) -> SEXP {
    bool rm;
    if (!flag(na_rm, rm)) return R_NilValue;
    const index_t n = XLENGTH(y);
    SEXP counts, names;
    index_t nk, n_na = 0;
    if (Rf_isFactor(y)) {
      names = Rf_getAttrib(y, R_LevelsSymbol);
      if (TYPEOF(names) != STRSXP) return R_NilValue;
      nk = XLENGTH(names);
      counts = PROTECT(Rf_allocVector(REALSXP, nk));
      double* c = REAL(counts);
      std::fill(c, c + nk, 0.0);
      const int* codes = INTEGER(y);
      for (index_t i = 0; i < n; ++i) {
        const int v = codes[i];
        if (v == NA_INTEGER) {
          ++n_na;
        } else if (v >= 1 && v <= nk) {
          c[v - 1] += 1;
        } else {
          UNPROTECT(1);
          return R_NilValue;
        }
      }
      PROTECT(names);
    } else {
      if ((TYPEOF(y) != INTSXP && TYPEOF(y) != REALSXP) || OBJECT(y) || ndim(y) != 0)
        return R_NilValue;
      counts = PROTECT(label_counts_impl(y));
      const index_t largest = XLENGTH(counts);
      double k = 0;
      const bool k_ok = Rf_isNull(K) || (number(K, k) && k >= 0 && k == std::floor(k) &&
                                         k < 1e9 && k >= static_cast<double>(largest));
      nk = Rf_isNull(K) ? largest : static_cast<index_t>(k);
      if (flagged(counts) || n == 0 || !k_ok || nk == 0) {
        SEXP out = to_report(counts);
        UNPROTECT(1);
        return out;
      }
      static SEXP n_na_sym = sym("n_na");
      n_na = static_cast<index_t>(Rf_asReal(Rf_getAttrib(counts, n_na_sym)));
      names = PROTECT(Rf_allocVector(STRSXP, nk));
      char buf[32];
      for (index_t j = 0; j < nk; ++j) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(j + 1));
        SET_STRING_ELT(names, j, Rf_mkChar(buf));
      }
    }
    const index_t largest = XLENGTH(counts);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, nk));
    const double* c = REAL(counts);
    double* o = REAL(out);
    const double total = static_cast<double>(n - n_na);
    for (index_t j = 0; j < nk; ++j) {
      o[j] = n_na > 0 && !rm ? NA_REAL : (j < largest ? c[j] : 0.0) / total;
    }
    Rf_setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(3);
    return out;
  });
}

}  // extern "C"
