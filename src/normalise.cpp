// The entries of logsumexp(), softmax() and log_softmax()
// (xentropy/normalise.hpp; see src/entry.h). `x` is a vector or matrix;
// margin is 1 or 2; a vector is one column.
#include "entry.h"

namespace {
// The kernels ask R about Ctrl-C through this hook (installed when the
// package's shared library is loaded).
const bool hook_installed =
    (xentropy::set_interrupt_hook(&glue::r_interrupt_requested), true);
}  // namespace

namespace {

SEXP logsumexp_impl(SEXP x, int margin, bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  Rcpp::NumericVector out(Rcpp::no_init(margin == 1 ? s.nrow : s.ncol));
  glue::interruptible([&] {
    xentropy::logsumexp(REAL(x), s.nrow, s.ncol, margin, REAL(out), na_rm,
                        nthreads);
  });
  return out;
}

SEXP softmax_impl(SEXP x, int margin, double temperature, bool log_output,
                  int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  Rcpp::NumericVector out = glue::alloc_like(x);
  glue::interruptible([&] {
    xentropy::softmax(REAL(x), s.nrow, s.ncol, margin, REAL(out), log_output,
                      nthreads, temperature);
  });
  return out;
}

}  // namespace

namespace {
int polls_left = 0;
int polls_made = 0;
bool stop_after_polls() {
  ++polls_made;
  return --polls_left <= 0;
}
}  // namespace

// For the tests: logsumexp(x) (or of each row, margin 1) with a hook that
// asks to stop at its `polls`-th call instead of asking R, then R's hook
// back. Returns the number of polls made (if the kernel finished) or
// raises R's interrupt (if the hook fired).
// [[Rcpp::export(rng = false)]]
int interrupt_test_impl(SEXP x, int margin, int polls, int nthreads) {
  polls_left = polls;
  polls_made = 0;
  struct restore {
    xentropy::interrupt_hook_fn old;
    ~restore() { xentropy::set_interrupt_hook(old); }
  } r{xentropy::set_interrupt_hook(&stop_after_polls)};
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  std::vector<double> out(static_cast<std::size_t>(margin == 1 ? s.nrow : s.ncol));
  glue::interruptible([&] {
    xentropy::logsumexp(REAL(x), s.nrow, s.ncol, margin, out.data(), false,
                        nthreads);
  });
  return polls_made;
}

// Weighted log-sum-exp: `weights` has the shape of x (per_class = false) or
// one weight per class, i.e. per column for margin 1 and per row for margin 2
// (per_class = true); checked in R.
namespace {

SEXP logsumexp_weighted_impl(SEXP x, SEXP weights, bool per_class, int margin,
                             bool na_rm, int nthreads) {
  const glue::shape s = glue::shape_of(x);
  if (!s.matrix) margin = 2;
  xentropy::index_t wsj, wsi;
  if (!per_class) {
    wsj = s.nrow;
    wsi = 1;
  } else if (margin == 1) {
    wsj = 1;
    wsi = 0;
  } else {
    wsj = 0;
    wsi = 1;
  }
  Rcpp::NumericVector out(Rcpp::no_init(margin == 1 ? s.nrow : s.ncol));
  // Weights so large that their sum overflows, or spread so wide that a large weight's
  // term underflows (exp(x - max x) is 0) while it outweighs the rest: log(w) goes into
  // x (a copy, only here) and the sum is an unweighted one. A zero weight leaves its
  // entry out (-Inf), a missing one makes it missing.
  const double* w = REAL(weights);
  const R_xlen_t nw = XLENGTH(weights);
  double wmax = 0.0, wmin = R_PosInf;
  for (R_xlen_t i = 0; i < nw; ++i)
    if (w[i] > 0.0) {
      wmax = std::max(wmax, w[i]);
      wmin = std::min(wmin, w[i]);
    }
  const double terms = static_cast<double>(margin == 1 ? s.ncol : s.nrow) + 1.0;
  if (wmax > 0.0 && (wmax > std::numeric_limits<double>::max() / terms / 4.0 ||
                     wmax / wmin > 0x1p900)) {
    const xentropy::index_t n = s.nrow, K = s.ncol;
    std::vector<double> xl(static_cast<std::size_t>(n * K));
    const double* px = REAL(x);
    for (xentropy::index_t j = 0; j < K; ++j)
      for (xentropy::index_t i = 0; i < n; ++i) {
        const double b = w[j * wsj + i * wsi], v = px[j * n + i];
        xl[static_cast<std::size_t>(j * n + i)] =
            std::isnan(b) ? b : b == 0.0 ? R_NegInf : v + std::log(b);
      }
    glue::interruptible([&] {
      xentropy::logsumexp(xl.data(), n, K, margin, REAL(out), na_rm, nthreads);
    });
    return out;
  }
  glue::interruptible([&] {
    xentropy::logsumexp_weighted(REAL(x), REAL(weights), wsj, wsi, s.nrow, s.ncol,
                                 margin, REAL(out), na_rm, nthreads);
  });
  return out;
}

}  // namespace

extern "C" {

// Weights (NULL, or non-negative, possibly missing) are one per class (per
// column for margin 1, per row for margin 2) or of x's shape. Results are
// named by dimnames(x)[[margin]] for a matrix (R names those of a 1-d array).
SEXP xentropy_logsumexp(SEXP x, SEXP margin, SEXP weights, SEXP na_rm, SEXP checked) {
  return entry::guarded(checked, [&](bool second) -> SEXP {
    using namespace entry;
    const int m = margin_of(margin);
    bool rm;
    if (m == 0 || !flag(na_rm, rm)) return R_NilValue;
    SEXP v = PROTECT(numeric_data(x, second));
    const int d = Rf_isNull(v) ? 3 : ndim(v);
    SEXP dn = d > 2 ? R_NilValue : Rf_getAttrib(v, R_DimNamesSymbol);
    if (d > 2 || (d != 2 && !Rf_isNull(dn) && !second)) {
      UNPROTECT(1);
      return R_NilValue;
    }
    SEXP out;
    if (Rf_isNull(weights)) {
      out = logsumexp_impl(v, m, rm, threads(XLENGTH(v)));
    } else {
      SEXP w = PROTECT(numeric_data(weights, second));
      bool per_class = true;
      bool ok = !Rf_isNull(w);
      if (ok && d == 2) {
        const index_t n_class = m == 1 ? ncol(v) : nrow(v);
        if (same_dims(w, v)) {
          per_class = false;
        } else {
          ok = ndim(w) != 2 && XLENGTH(w) == n_class;
        }
      } else if (ok) {
        ok = XLENGTH(w) == XLENGTH(v);
      }
      if (!ok || any_of<true, true>(REAL(w), XLENGTH(w))) {
        UNPROTECT(2);
        return R_NilValue;
      }
      out = logsumexp_weighted_impl(v, w, per_class, m, rm, threads(XLENGTH(v)));
      UNPROTECT(1);
    }
    UNPROTECT(1);
    return d == 2 && !Rf_isNull(dn) ? named(out, VECTOR_ELT(dn, m - 1)) : out;
  });
}

}  // extern "C"

namespace {

// softmax() (log_output false) and log_softmax() (true).
SEXP softmax_entry(SEXP x, SEXP margin, SEXP temperature, bool log_output, SEXP checked) {
  return entry::guarded(checked, [&](bool second) -> SEXP {
    using namespace entry;
    const int m = margin_of(margin);
    double t;
    if (m == 0 || !number(temperature, t) || !(t > 0) || t == HUGE_VAL) return R_NilValue;
    SEXP v = PROTECT(numeric_data(x, second));
    if (Rf_isNull(v) || ndim(v) > 2) {
      UNPROTECT(1);
      return R_NilValue;
    }
    SEXP out = softmax_impl(v, m, t, log_output, threads(XLENGTH(v)));
    UNPROTECT(1);
    return out;
  });
}

}  // namespace

extern "C" {

SEXP xentropy_softmax(SEXP x, SEXP margin, SEXP temperature, SEXP checked) {
  return softmax_entry(x, margin, temperature, false, checked);
}

SEXP xentropy_log_softmax(SEXP x, SEXP margin, SEXP temperature, SEXP checked) {
  return softmax_entry(x, margin, temperature, true, checked);
}

}  // extern "C"

// For the tests: sigmoid(x), logsumexp(x) by rows and softmax(x) by columns
// of a matrix x with a thread count that reaches the kernels as given (not
// capped by the glue), which the kernels must cap themselves.
// [[Rcpp::export(rng = false)]]
Rcpp::List kernel_threads_test_impl(SEXP x, int nthreads) {
  Rcpp::NumericVector sig = glue::alloc_like(x);
  glue::interruptible([&] { xentropy::sigmoid(REAL(x), REAL(sig), XLENGTH(x), nthreads); });
  return Rcpp::List::create(Rcpp::Named("sigmoid") = sig,
                            Rcpp::Named("logsumexp") = logsumexp_impl(x, 1, false, nthreads),
                            Rcpp::Named("softmax") = softmax_impl(x, 2, 1.0, false, nthreads));
}
