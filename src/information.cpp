// Rcpp glue for xentropy/information.hpp: one function per R function.
// Shapes are checked in R (measure_layout() in R/information.R), which passes
// the layout: nobs, nclass, p's and q's strides (per observation, per class)
// and whether the classes of an observation are contiguous.
#include "glue.h"
#include "interrupt.h"

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

// Runs measure(p, q, shape, out, options, bad) with Ctrl-C polling and
// returns one value per distribution, invalid input flagged for R.
template <class Measure>
SEXP run_measure(Measure measure, SEXP p, SEXP q, const Rcpp::NumericVector& layout,
                 double log_base, bool na_rm, int nthreads) {
  const xentropy::measure_shape s = shape_of(layout);
  xentropy::measure_options opt;
  opt.log_base = log_base;
  opt.na_rm = na_rm;
  opt.nthreads = nthreads;
  const xentropy::view pv = view_of(p, layout, 2), qv = view_of(q, layout, 4);
  Rcpp::NumericVector out(Rcpp::no_init(s.nobs));
  xentropy::first_invalid bad;
  glue::interruptible([&] { measure(pv, qv, s, REAL(out), opt, bad); });
  return glue::flag_invalid(out, bad);
}

}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP entropy_impl(SEXP p, SEXP q, Rcpp::NumericVector layout, double log_base,
                  bool na_rm, int nthreads) {
  return run_measure(
      [](xentropy::view pv, xentropy::view, const xentropy::measure_shape& s, double* out,
         const xentropy::measure_options& opt, xentropy::first_invalid& bad) {
        xentropy::entropy(pv, s, out, opt, bad);
      },
      p, q, layout, log_base, na_rm, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP cross_entropy_impl(SEXP p, SEXP q, Rcpp::NumericVector layout, double log_base,
                        bool na_rm, int nthreads) {
  return run_measure(
      [](xentropy::view pv, xentropy::view qv, const xentropy::measure_shape& s,
         double* out, const xentropy::measure_options& opt, xentropy::first_invalid& bad) {
        xentropy::cross_entropy(pv, qv, s, out, opt, bad);
      },
      p, q, layout, log_base, na_rm, nthreads);
}

// [[Rcpp::export(rng = false)]]
SEXP kl_divergence_impl(SEXP p, SEXP q, Rcpp::NumericVector layout, double log_base,
                        bool na_rm, int nthreads) {
  return run_measure(
      [](xentropy::view pv, xentropy::view qv, const xentropy::measure_shape& s,
         double* out, const xentropy::measure_options& opt, xentropy::first_invalid& bad) {
        xentropy::kl_divergence(pv, qv, s, out, opt, bad);
      },
      p, q, layout, log_base, na_rm, nthreads);
}

// The multinomial log-likelihood of each row of counts under prob
// (loglik_multinomial(); full adds the multinomial coefficient).
// [[Rcpp::export(rng = false)]]
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

namespace {

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

// Counts of the class labels y (doubles or integers, NA skipped) for
// mle_categorical(), in one pass without copying y: a vector of
// max(label) counts, with attribute "n_na" (the number of NAs) and, when a
// value is not a label 1, 2, ..., "xentropy_invalid" (its 1-based position;
// the counts are then incomplete). Long vectors are counted in stretches on
// threads; counts are whole numbers, so the merged result does not depend
// on the thread count.
// [[Rcpp::export(rng = false)]]
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
