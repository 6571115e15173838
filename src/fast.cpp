// Fast paths of the exported R functions (issue 11): one .Call per R call.
//
// Each xentropy_fast_<function>() takes the R function's arguments as the
// user gave them and, in the plain case (unclassed doubles of the right
// shapes, settings at valid values, no invalid value in the data, no warning
// to give), computes the result exactly as the checking path does.
// Otherwise it returns NULL and the R wrapper takes its checking path, which
// coerces, builds the messages, names the argument and the user's call, and
// gives warnings: so the accepted case costs one R closure call and one
// .Call, and the checks here only decide "plain or not", never what to say.
// tests/testthat/test-fast.R checks that both paths give identical results.
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "glue.h"
#include "impl.h"
#include "interrupt.h"

namespace {

using xentropy::index_t;

SEXP sym(const char* name) { return Rf_install(name); }

// An unclassed double vector, matrix or array.
bool plain_double(SEXP x) { return TYPEOF(x) == REALSXP && !OBJECT(x); }

// The number of dimensions (0 for a vector).
int ndim(SEXP x) {
  SEXP d = Rf_getAttrib(x, R_DimSymbol);
  return Rf_isNull(d) ? 0 : static_cast<int>(XLENGTH(d));
}

index_t nrow(SEXP x) { return INTEGER(Rf_getAttrib(x, R_DimSymbol))[0]; }
index_t ncol(SEXP x) { return INTEGER(Rf_getAttrib(x, R_DimSymbol))[1]; }

bool same_dims(SEXP a, SEXP b) {
  return ndim(a) == 2 && ndim(b) == 2 && nrow(a) == nrow(b) && ncol(a) == ncol(b);
}

// A single unclassed double or integer that is not NA, as a double.
bool number(SEXP x, double& v) {
  if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || OBJECT(x) || XLENGTH(x) != 1)
    return false;
  if (TYPEOF(x) == REALSXP) {
    v = REAL(x)[0];
  } else if (TYPEOF(x) == INTSXP && INTEGER(x)[0] != NA_INTEGER) {
    v = INTEGER(x)[0];
  } else {
    return false;
  }
  return !std::isnan(v);
}

// A single unclassed double that is not NA (settings R checks with
// is.double(), such as temperature and label_smoothing).
bool double_setting(SEXP x, double& v) {
  if (TYPEOF(x) != REALSXP || OBJECT(x) || XLENGTH(x) != 1) return false;
  v = REAL(x)[0];
  return !std::isnan(v);
}

// TRUE or FALSE.
bool flag(SEXP x, bool& v) {
  if (TYPEOF(x) != LGLSXP || XLENGTH(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL) return false;
  v = LOGICAL(x)[0] != 0;
  return true;
}

// margin = 1 or 2 (0: anything else).
int margin_of(SEXP m) {
  double v;
  if (!number(m, v)) return 0;
  return v == 1 ? 1 : v == 2 ? 2 : 0;
}

// The cached CHARSXP of an ASCII string: R keeps one CHARSXP per string, so
// strings are compared by pointer (kept for the session).
SEXP cached(const char* s) {
  SEXP c = Rf_mkChar(s);
  R_PreserveObject(c);
  return c;
}

// A choice among `choices` (n CHARSXPs): the default (the whole vector, no
// attributes) gives 0, one of them its index; -1 otherwise.
int option_of(SEXP x, const SEXP* choices, int n) {
  if (TYPEOF(x) != STRSXP || ATTRIB(x) != R_NilValue) return -1;
  if (XLENGTH(x) == n) {
    for (int i = 0; i < n; ++i) {
      if (STRING_ELT(x, i) != choices[i]) return -1;
    }
    return 0;
  }
  if (XLENGTH(x) != 1) return -1;
  for (int i = 0; i < n; ++i) {
    if (STRING_ELT(x, 0) == choices[i]) return i;
  }
  return -1;
}

// `reduction`: the default c("mean", "sum", "none") (meaning "mean") or one
// of the three.
bool reduction_of(SEXP r, std::string& out) {
  static const char* const names[] = {"mean", "sum", "none"};
  static const SEXP choices[] = {cached(names[0]), cached(names[1]), cached(names[2])};
  const int i = option_of(r, choices, 3);
  if (i < 0) return false;
  out = names[i];
  return true;
}

// "sum" as R would pass it: the reduction of the log-likelihoods, which
// have no `reduction` argument.
SEXP sum_reduction() {
  static SEXP r = [] {
    SEXP v = Rf_mkString("sum");
    R_PreserveObject(v);
    return v;
  }();
  return r;
}

// The thread count for inputs of `len` elements: the kernels run inputs
// below xentropy::min_parallel_work elements on one thread (threads_for()
// never counts more work than elements), so the option is only read for
// larger ones (reading it costs about as much as a small kernel).
int threads(index_t len) {
  return len < xentropy::min_parallel_work ? 1 : glue::thread_count();
}

// Whether a glue function flagged a value for R to report.
bool flagged(SEXP out) {
  static SEXP invalid = sym("xentropy_invalid");
  return Rf_getAttrib(out, invalid) != R_NilValue;
}

// Minus a log-likelihood's loss (a fresh length-1 result), or NULL when the
// kernel flagged an invalid value.
SEXP negated(SEXP out) {
  if (flagged(out)) return R_NilValue;
  REAL(out)[0] = -REAL(out)[0];
  return out;
}

// Counts of x[i] in [0, n) that are NaN (NA included), or (Weights) that
// are not weights: negative or infinite (NaN allowed, as a missing weight),
// or (Weights and !Missing) not non-negative finite numbers. Lane by lane.
template <bool Weights, bool Missing>
struct count_k {
  XENTROPY_VM_INLINE static void run(const double* x, index_t n, double* count) {
    double c = 0.0;
    XENTROPY_VM_SIMD_REDUCTION(+ : c)
    for (index_t i = 0; i < n; ++i) {
      const double v = x[i];
      const bool hit = !Weights ? v != v
                       : Missing ? (v < 0.0 || v == HUGE_VAL || v == -HUGE_VAL)
                                 : !(v >= 0.0 && v < HUGE_VAL);
      c += hit ? 1.0 : 0.0;
    }
    *count = c;
  }
};

// Whether count_k finds any x[i] in [0, n), read on threads for long
// vectors.
template <bool Weights, bool Missing>
bool any_of(const double* x, index_t n) {
  const index_t chunk = index_t(1) << 16;
  const index_t nchunks = n == 0 ? 0 : (n - 1) / chunk + 1;
  double counts1 = 0.0;
  std::vector<double> many(nchunks > 1 ? static_cast<std::size_t>(nchunks) : 0, 0.0);
  double* counts = nchunks > 1 ? many.data() : &counts1;
  xentropy::parallel_chunks(n, chunk, xentropy::threads_for(threads(n), n),
                            [&](index_t b, index_t e) {
                              xentropy::vm::dispatch<count_k<Weights, Missing>>(
                                  x + b, e - b, &counts[b / chunk]);
                            });
  for (index_t c = 0; c < nchunks; ++c) {
    if (counts[c] != 0.0) return true;
  }
  return false;
}

bool any_nan(SEXP out) { return any_of<false, false>(REAL(out), XLENGTH(out)); }

// NULL, or n unclassed doubles that are non-negative and finite.
bool weights_ok(SEXP w, index_t n) {
  if (Rf_isNull(w)) return true;
  if (!plain_double(w) || XLENGTH(w) != n) return false;
  return !any_of<true, false>(REAL(w), n);
}

// Whether `out` has a NaN where the inputs a and b (recycled; b may be NULL)
// have none: R warns "NaNs produced" then.
bool new_nan(SEXP out, SEXP a, SEXP b = R_NilValue) {
  if (!any_nan(out)) return false;
  const double *o = REAL(out), *va = REAL(a), *vb = Rf_isNull(b) ? nullptr : REAL(b);
  const index_t n = XLENGTH(out), na = XLENGTH(a), nb = vb ? XLENGTH(b) : 1;
  for (index_t i = 0; i < n; ++i) {
    if (std::isnan(o[i]) && !std::isnan(va[i % na]) && !(vb && std::isnan(vb[i % nb])))
      return true;
  }
  return false;
}

SEXP rownames_of(SEXP x) {
  SEXP dn = Rf_getAttrib(x, R_DimNamesSymbol);
  return Rf_isNull(dn) ? R_NilValue : VECTOR_ELT(dn, 0);
}

// out with names `nm` (out is a fresh result; NULL names leave it as is).
SEXP named(SEXP out, SEXP nm) {
  if (!Rf_isNull(nm)) {
    PROTECT(out);
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(1);
  }
  return out;
}

// For the tests (xentropy_fast_switch()): whether the fast paths are on, and
// how many calls they have answered.
bool enabled = true;
double answered = 0;

// Runs f() (when the fast paths are on), turning C++ exceptions (an
// interrupt, a failed allocation) into R's interrupt or error after the
// handler has finished, as the Rcpp-generated entry points do (no R jump
// leaves a catch block).
template <class F>
SEXP guarded(F f) {
  if (!enabled) return R_NilValue;
  static char message[512];
  bool interrupted = false;
  try {
    SEXP out = f();
    if (out != R_NilValue) ++answered;
    return out;
  } catch (Rcpp::internal::InterruptedException&) {
    interrupted = true;
  } catch (std::exception& e) {
    std::snprintf(message, sizeof message, "%s", e.what());
  }
  if (interrupted) Rf_onintr();
  Rf_error("%s", message);
  return R_NilValue;
}

// ---- link functions and normalisers ---------------------------------------

using elementwise_fn = SEXP (*)(SEXP, int);

SEXP link(elementwise_fn f, SEXP x, bool warns) {
  if (!plain_double(x)) return R_NilValue;
  SEXP out = PROTECT(f(x, threads(XLENGTH(x))));
  const bool slow = warns && new_nan(out, x);
  UNPROTECT(1);
  return slow ? R_NilValue : out;
}

// ---- categorical and binary losses ----------------------------------------

// The settings every loss shares, as the glue takes them, and the offset of
// binary targets (1 for a two-level factor's codes 1/2, read in place).
struct loss_call {
  std::string reduction;
  bool na_rm = false;
  int offset = 0;
};

// A factor whose codes are read in place as classes 1..K of pred's columns:
// as many levels as columns, equal to the column names in order when pred
// has them (other orders are matched in R).
bool factor_classes(SEXP y, SEXP pred) {
  if (!Rf_isFactor(y) || ndim(y) != 0) return false;
  SEXP lev = Rf_getAttrib(y, R_LevelsSymbol);
  const index_t K = ncol(pred);
  if (TYPEOF(lev) != STRSXP || XLENGTH(lev) != K) return false;
  SEXP dn = Rf_getAttrib(pred, R_DimNamesSymbol);
  SEXP cols = Rf_isNull(dn) ? R_NilValue : VECTOR_ELT(dn, 1);
  if (Rf_isNull(cols)) return true;
  for (index_t k = 0; k < K; ++k) {
    SEXP a = STRING_ELT(lev, k), b = STRING_ELT(cols, k);
    if (a != b && (Rf_getCharCE(a) != Rf_getCharCE(b) || std::strcmp(CHAR(a), CHAR(b)) != 0))
      return false;
  }
  return true;
}

// A two-level factor as binary targets (the second level positive, as glm).
bool binary_factor(SEXP y) {
  if (!Rf_isFactor(y)) return false;
  SEXP lev = Rf_getAttrib(y, R_LevelsSymbol);
  return TYPEOF(lev) == STRSXP && XLENGTH(lev) == 2;
}

// The plain case of a categorical loss: n x K predictions (an unclassed
// double matrix), labels (integer or double, one per row) or a target
// matrix of the predictions' shape, weights, a reduction and na.rm.

bool categorical_plain(SEXP y, SEXP pred, SEXP weights, SEXP reduction, SEXP na_rm,
                       loss_call& a) {
  if (!plain_double(pred) || ndim(pred) != 2) return false;
  if (OBJECT(y) && !factor_classes(y, pred)) return false;
  const index_t n = nrow(pred);
  const int dy = ndim(y);
  if (dy == 0) {
    if ((TYPEOF(y) != INTSXP && TYPEOF(y) != REALSXP) || XLENGTH(y) != n) return false;
  } else if (TYPEOF(y) != REALSXP || !same_dims(y, pred)) {
    return false;
  }
  return weights_ok(weights, n) && reduction_of(reduction, a.reduction) &&
         flag(na_rm, a.na_rm);
}

// NULL, or one non-negative finite double per column of pred, unnamed or
// with pred unnamed (named weights are matched to column names in R).
bool class_weights_ok(SEXP cw, SEXP pred) {
  if (Rf_isNull(cw)) return true;
  if (!plain_double(cw) || ndim(cw) != 0 || XLENGTH(cw) != ncol(pred)) return false;
  if (!Rf_isNull(Rf_getAttrib(cw, R_NamesSymbol))) {
    SEXP dn = Rf_getAttrib(pred, R_DimNamesSymbol);
    if (!Rf_isNull(dn) && !Rf_isNull(VECTOR_ELT(dn, 1))) return false;
  }
  return !any_of<true, false>(REAL(cw), XLENGTH(cw));
}

// A loss value (or per-observation losses, named by the rows of pred), or
// NULL when the kernel flagged an invalid value.
SEXP categorical_result(SEXP out, SEXP pred, const loss_call& a, bool name) {
  if (flagged(out)) return R_NilValue;
  return name && a.reduction == "none" ? named(out, rownames_of(pred)) : out;
}

// The plain case of a binary loss: 0/1, logical or probability targets
// (unclassed), predictions as unclassed doubles (one per target, or one for
// all when `shared`), weights, reduction, na.rm.
bool binary_plain(SEXP y, SEXP pred, SEXP weights, SEXP reduction, SEXP na_rm,
                  bool shared, loss_call& a) {
  if (binary_factor(y)) {
    a.offset = 1;
  } else if ((TYPEOF(y) != REALSXP && TYPEOF(y) != INTSXP && TYPEOF(y) != LGLSXP) ||
             OBJECT(y)) {
    return false;
  }
  if (!plain_double(pred)) return false;
  const index_t n = XLENGTH(y);
  if (XLENGTH(pred) != n && !(shared && XLENGTH(pred) == 1)) return false;
  return weights_ok(weights, n) && reduction_of(reduction, a.reduction) &&
         flag(na_rm, a.na_rm);
}

// Per-observation losses are named by y, else by the predictions when there
// is one per observation.
SEXP binary_result(SEXP out, SEXP y, SEXP pred, const loss_call& a, bool name) {
  if (flagged(out)) return R_NilValue;
  if (!name || a.reduction != "none") return out;
  SEXP nm = Rf_getAttrib(y, R_NamesSymbol);
  if (Rf_isNull(nm) && XLENGTH(pred) == XLENGTH(y)) nm = Rf_getAttrib(pred, R_NamesSymbol);
  return named(out, nm);
}

bool pos_weight_ok(SEXP pw, double& v) { return double_setting(pw, v) && v > 0 && v < HUGE_VAL; }

bool gamma_ok(SEXP g, double& v) { return number(g, v) && v >= 0 && v < HUGE_VAL; }

// alpha: NULL (`none`) or a number in [0, 1].
bool alpha_ok(SEXP a, double none, double& v) {
  if (Rf_isNull(a)) {
    v = none;
    return true;
  }
  return number(a, v) && v >= 0 && v <= 1;
}

// ---- calibration ----------------------------------------------------------

// Predictions and targets as calibration_inputs() takes them in the plain
// case: a vector of P(class 2) with 0/1, logical or probability targets of
// its length, or an n x K matrix with labels or a target matrix. Sets
// `binary` and the number of observations.
bool calibration_plain(SEXP y, SEXP prob, bool& binary, index_t& n, int& offset) {
  if (!plain_double(prob)) return false;
  offset = 0;
  const int d = ndim(prob);
  if (d == 0) {
    binary = true;
    n = XLENGTH(prob);
    if (binary_factor(y)) {
      offset = 1;
      return XLENGTH(y) == n;
    }
    return !OBJECT(y) &&
           (TYPEOF(y) == REALSXP || TYPEOF(y) == INTSXP || TYPEOF(y) == LGLSXP) &&
           XLENGTH(y) == n;
  }
  if (d != 2) return false;
  if (OBJECT(y) && !factor_classes(y, prob)) return false;
  binary = false;
  n = nrow(prob);
  if (ndim(y) == 0) return (TYPEOF(y) == INTSXP || TYPEOF(y) == REALSXP) && XLENGTH(y) == n;
  return TYPEOF(y) == REALSXP && same_dims(y, prob);
}

// ---- information measures -------------------------------------------------

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
  const int dp = ndim(p), dq = Rf_isNull(q) ? 0 : ndim(q);
  if ((dp != 0 && dp != 2) || (dq != 0 && dq != 2)) return false;
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

SEXP information(measure m, SEXP p, SEXP q, SEXP base, SEXP margin, SEXP na_rm) {
  const bool two = m != measure::entropy;
  if (!plain_double(p) || (two && !plain_double(q))) return R_NilValue;
  double b;
  bool rm;
  const int mg = margin_of(margin);
  layout l;
  if (!double_setting(base, b) || !(b > 0) || b == HUGE_VAL || b == 1 || mg == 0 ||
      !flag(na_rm, rm) || !layout_of(p, two ? q : R_NilValue, mg, l)) {
    return R_NilValue;
  }
  xentropy::measure_shape s;
  s.nobs = l.nobs;
  s.nclass = l.nclass;
  s.contiguous = l.contiguous;
  xentropy::measure_options opt;
  opt.log_base = std::log(b);
  opt.na_rm = rm;
  const index_t lp = XLENGTH(p), lq = two ? XLENGTH(q) : 0;
  opt.nthreads = threads(lp > lq ? lp : lq);
  const xentropy::view pv{REAL(p), l.p_obs, l.p_class};
  const xentropy::view qv{two ? REAL(q) : nullptr, l.q_obs, l.q_class};
  SEXP out = PROTECT(Rf_allocVector(REALSXP, l.nobs));
  xentropy::first_invalid bad;
  glue::interruptible([&] {
    switch (m) {
      case measure::entropy: xentropy::entropy(pv, s, REAL(out), opt, bad); break;
      case measure::cross_entropy: xentropy::cross_entropy(pv, qv, s, REAL(out), opt, bad); break;
      case measure::kl_divergence: xentropy::kl_divergence(pv, qv, s, REAL(out), opt, bad); break;
    }
  });
  UNPROTECT(1);
  return bad.where() >= 0 ? R_NilValue : named(out, layout_names(l, mg));
}

}  // namespace

// ---- entry points (registered from R's .Call uses by compileAttributes) ----

extern "C" {

// For the tests: turns the fast paths on or off (`on` TRUE / FALSE; NA
// leaves them) and returns c(on before the call, calls answered so far).
SEXP xentropy_fast_switch(SEXP on) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = enabled ? 1 : 0;
  REAL(out)[1] = answered;
  if (TYPEOF(on) == LGLSXP && XLENGTH(on) == 1 && LOGICAL(on)[0] != NA_LOGICAL)
    enabled = LOGICAL(on)[0] != 0;
  UNPROTECT(1);
  return out;
}

SEXP xentropy_fast_sigmoid(SEXP x) {
  return guarded([&] { return link(sigmoid_impl, x, false); });
}

SEXP xentropy_fast_logit(SEXP p) {
  return guarded([&] { return link(logit_impl, p, true); });
}

SEXP xentropy_fast_log_sigmoid(SEXP x) {
  return guarded([&] { return link(log_sigmoid_impl, x, false); });
}

SEXP xentropy_fast_softplus(SEXP x) {
  return guarded([&] { return link(softplus_impl, x, false); });
}

SEXP xentropy_fast_log1mexp(SEXP x) {
  return guarded([&] { return link(log1mexp_impl, x, true); });
}

SEXP xentropy_fast_logdiffexp(SEXP a, SEXP b) {
  return guarded([&]() -> SEXP {
    if (!plain_double(a) || !plain_double(b)) return R_NilValue;
    const index_t la = XLENGTH(a), lb = XLENGTH(b);
    if (la > 0 && lb > 0 && (la > lb ? la % lb : lb % la) != 0) return R_NilValue;
    SEXP out = PROTECT(logdiffexp_impl(a, b, threads(la > lb ? la : lb)));
    // a NaN where neither a nor b is NaN (a < b): the checking path warns
    const bool slow = new_nan(out, a, b);
    UNPROTECT(1);
    return slow ? R_NilValue : out;
  });
}

SEXP xentropy_fast_logsumexp(SEXP x, SEXP margin, SEXP weights, SEXP na_rm) {
  return guarded([&]() -> SEXP {
    const int d = ndim(x);
    const int m = margin_of(margin);
    bool rm;
    if (!plain_double(x) || d > 2 || m == 0 || !flag(na_rm, rm)) return R_NilValue;
    SEXP dn = Rf_getAttrib(x, R_DimNamesSymbol);
    if (d != 2 && !Rf_isNull(dn)) return R_NilValue;
    SEXP out;
    if (Rf_isNull(weights)) {
      out = logsumexp_impl(x, m, rm, threads(XLENGTH(x)));
    } else {
      if (!plain_double(weights)) return R_NilValue;
      bool per_class;
      if (d == 2) {
        const index_t n_class = m == 1 ? ncol(x) : nrow(x);
        if (same_dims(weights, x)) {
          per_class = false;
        } else if (ndim(weights) == 0 && XLENGTH(weights) == n_class) {
          per_class = true;
        } else {
          return R_NilValue;
        }
      } else {
        if (XLENGTH(weights) != XLENGTH(x)) return R_NilValue;
        per_class = true;
      }
      if (any_of<true, true>(REAL(weights), XLENGTH(weights))) return R_NilValue;
      out = logsumexp_weighted_impl(x, weights, per_class, m, rm, threads(XLENGTH(x)));
    }
    return Rf_isNull(dn) ? out : named(out, VECTOR_ELT(dn, m - 1));
  });
}

SEXP xentropy_fast_softmax(SEXP x, SEXP margin, SEXP temperature, SEXP log_output) {
  return guarded([&]() -> SEXP {
    const int m = margin_of(margin);
    double t;
    if (!plain_double(x) || ndim(x) > 2 || m == 0 || !double_setting(temperature, t) ||
        !(t > 0) || t == HUGE_VAL) {
      return R_NilValue;
    }
    return softmax_impl(x, m, t, LOGICAL(log_output)[0] != 0, threads(XLENGTH(x)));
  });
}

SEXP xentropy_fast_entropy(SEXP p, SEXP base, SEXP margin, SEXP na_rm) {
  return guarded([&] { return information(measure::entropy, p, R_NilValue, base, margin, na_rm); });
}

SEXP xentropy_fast_cross_entropy(SEXP p, SEXP q, SEXP base, SEXP margin, SEXP na_rm) {
  return guarded([&] { return information(measure::cross_entropy, p, q, base, margin, na_rm); });
}

SEXP xentropy_fast_kl_divergence(SEXP p, SEXP q, SEXP base, SEXP margin, SEXP na_rm) {
  return guarded([&] { return information(measure::kl_divergence, p, q, base, margin, na_rm); });
}

SEXP xentropy_fast_loglik_bernoulli(SEXP y, SEXP prob, SEXP na_rm) {
  return guarded([&]() -> SEXP {
    loss_call a;
    if (!binary_plain(y, prob, R_NilValue, sum_reduction(), na_rm, true, a))
      return R_NilValue;
    return negated(binary_cross_entropy_impl(y, a.offset, prob, R_NilValue, "sum", a.na_rm,
                                             threads(XLENGTH(y))));
  });
}

SEXP xentropy_fast_loglik_categorical(SEXP y, SEXP prob, SEXP na_rm) {
  return guarded([&]() -> SEXP {
    bool rm;
    if (!flag(na_rm, rm) || !plain_double(prob)) return R_NilValue;
    SEXP out;
    if (ndim(prob) == 0) {
      // one distribution for every observation: labels read in place
      if ((TYPEOF(y) != INTSXP && TYPEOF(y) != REALSXP) || OBJECT(y) || ndim(y) != 0)
        return R_NilValue;
      out = loglik_categorical_impl(y, prob, rm, threads(XLENGTH(y)));
      return flagged(out) ? R_NilValue : out;
    }
    loss_call a;
    if (!categorical_plain(y, prob, R_NilValue, sum_reduction(), na_rm, a))
      return R_NilValue;
    return negated(cross_entropy_loss_impl(y, prob, R_NilValue, R_NilValue, "sum", rm,
                                           threads(XLENGTH(prob))));
  });
}

SEXP xentropy_fast_loglik_multinomial(SEXP counts, SEXP prob, SEXP full) {
  return guarded([&]() -> SEXP {
    bool f;
    layout l;
    if (!plain_double(counts) || !plain_double(prob) || !flag(full, f) ||
        !layout_of(counts, prob, 1, l)) {
      return R_NilValue;
    }
    Rcpp::NumericVector lay = Rcpp::NumericVector::create(
        static_cast<double>(l.nobs), static_cast<double>(l.nclass),
        static_cast<double>(l.p_obs), static_cast<double>(l.p_class),
        static_cast<double>(l.q_obs), static_cast<double>(l.q_class), l.contiguous ? 1 : 0);
    SEXP out = multinomial_impl(counts, prob, lay, f);
    static SEXP zero_total = sym("xentropy_zero_total");
    if (flagged(out) || Rf_getAttrib(out, zero_total) != R_NilValue) return R_NilValue;
    return named(out, layout_names(l, 1));
  });
}

SEXP xentropy_fast_mle_categorical(SEXP y, SEXP K, SEXP na_rm) {
  return guarded([&]() -> SEXP {
    if ((TYPEOF(y) != INTSXP && TYPEOF(y) != REALSXP) || OBJECT(y) || ndim(y) != 0 ||
        XLENGTH(y) == 0) {
      return R_NilValue;
    }
    bool rm;
    if (!flag(na_rm, rm)) return R_NilValue;
    double k = 0;
    if (!Rf_isNull(K) && !(number(K, k) && k >= 0 && k == std::floor(k) && k < 1e9))
      return R_NilValue;
    SEXP counts = PROTECT(label_counts_impl(y));
    static SEXP n_na = sym("n_na");
    if (flagged(counts) || Rf_asReal(Rf_getAttrib(counts, n_na)) != 0) {
      UNPROTECT(1);
      return R_NilValue;
    }
    const index_t largest = XLENGTH(counts);
    const index_t nk = Rf_isNull(K) ? largest : static_cast<index_t>(k);
    if (nk < largest) {
      UNPROTECT(1);
      return R_NilValue;
    }
    const double n = static_cast<double>(XLENGTH(y));
    SEXP out = PROTECT(Rf_allocVector(REALSXP, nk));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, nk));
    const double* c = REAL(counts);
    double* o = REAL(out);
    char buf[32];
    for (index_t j = 0; j < nk; ++j) {
      o[j] = (j < largest ? c[j] : 0.0) / n;
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(j + 1));
      SET_STRING_ELT(names, j, Rf_mkChar(buf));
    }
    Rf_setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(3);
    return out;
  });
}

SEXP xentropy_fast_cross_entropy_loss(SEXP y, SEXP prob, SEXP weights, SEXP reduction,
                                      SEXP na_rm, SEXP class_weights) {
  return guarded([&]() -> SEXP {
    loss_call a;
    if (!categorical_plain(y, prob, weights, reduction, na_rm, a) ||
        !class_weights_ok(class_weights, prob)) {
      return R_NilValue;
    }
    SEXP out = cross_entropy_loss_impl(y, prob, weights, class_weights, a.reduction,
                                       a.na_rm, threads(XLENGTH(prob)));
    return categorical_result(out, prob, a, true);
  });
}

SEXP xentropy_fast_softmax_cross_entropy(SEXP y, SEXP logits, SEXP weights,
                                         SEXP reduction, SEXP na_rm,
                                         SEXP label_smoothing, SEXP class_weights,
                                         SEXP gradient) {
  return guarded([&]() -> SEXP {
    loss_call a;
    double eps;
    if (!categorical_plain(y, logits, weights, reduction, na_rm, a) ||
        !class_weights_ok(class_weights, logits) ||
        !double_setting(label_smoothing, eps) || !(eps >= 0 && eps <= 1)) {
      return R_NilValue;
    }
    const bool grad = LOGICAL(gradient)[0] != 0;
    SEXP out = grad ? softmax_cross_entropy_grad_impl(y, logits, weights, class_weights,
                                                      a.reduction, a.na_rm, eps,
                                                      threads(XLENGTH(logits)))
                    : softmax_cross_entropy_impl(y, logits, weights, class_weights,
                                                 a.reduction, a.na_rm, eps,
                                                 threads(XLENGTH(logits)));
    return categorical_result(out, logits, a, !grad);
  });
}

SEXP xentropy_fast_softmax_focal_loss(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                      SEXP na_rm, SEXP gamma, SEXP alpha, SEXP gradient) {
  return guarded([&]() -> SEXP {
    loss_call a;
    double g, al;
    if (!categorical_plain(y, logits, weights, reduction, na_rm, a) || !gamma_ok(gamma, g) ||
        !alpha_ok(alpha, 1, al)) {
      return R_NilValue;
    }
    const bool grad = LOGICAL(gradient)[0] != 0;
    SEXP out = grad ? softmax_focal_loss_grad_impl(y, logits, weights, a.reduction, a.na_rm,
                                                   g, al, threads(XLENGTH(logits)))
                    : softmax_focal_loss_impl(y, logits, weights, a.reduction, a.na_rm, g,
                                              al, threads(XLENGTH(logits)));
    return categorical_result(out, logits, a, !grad);
  });
}

SEXP xentropy_fast_binary_cross_entropy(SEXP y, SEXP prob, SEXP weights, SEXP reduction,
                                        SEXP na_rm) {
  return guarded([&]() -> SEXP {
    loss_call a;
    if (!binary_plain(y, prob, weights, reduction, na_rm, true, a)) return R_NilValue;
    SEXP out = binary_cross_entropy_impl(y, a.offset, prob, weights, a.reduction, a.na_rm,
                                         threads(XLENGTH(y)));
    return binary_result(out, y, prob, a, true);
  });
}

SEXP xentropy_fast_sigmoid_cross_entropy(SEXP y, SEXP logits, SEXP weights,
                                         SEXP reduction, SEXP na_rm, SEXP pos_weight,
                                         SEXP gradient) {
  return guarded([&]() -> SEXP {
    loss_call a;
    double pw;
    if (!binary_plain(y, logits, weights, reduction, na_rm, false, a) ||
        !pos_weight_ok(pos_weight, pw)) {
      return R_NilValue;
    }
    const bool grad = LOGICAL(gradient)[0] != 0;
    SEXP out = grad ? sigmoid_cross_entropy_grad_impl(y, a.offset, logits, weights, a.reduction,
                                                      a.na_rm, pw, threads(XLENGTH(y)))
                    : sigmoid_cross_entropy_impl(y, a.offset, logits, weights, a.reduction,
                                                 a.na_rm, pw, threads(XLENGTH(y)));
    return binary_result(out, y, logits, a, !grad);
  });
}

SEXP xentropy_fast_sigmoid_focal_loss(SEXP y, SEXP logits, SEXP weights, SEXP reduction,
                                      SEXP na_rm, SEXP gamma, SEXP alpha, SEXP gradient) {
  return guarded([&]() -> SEXP {
    loss_call a;
    double g, al;
    if (!binary_plain(y, logits, weights, reduction, na_rm, false, a) ||
        !gamma_ok(gamma, g) || !alpha_ok(alpha, -1, al)) {
      return R_NilValue;
    }
    const bool grad = LOGICAL(gradient)[0] != 0;
    SEXP out = grad ? sigmoid_focal_loss_grad_impl(y, a.offset, logits, weights, a.reduction,
                                                   a.na_rm, g, al, threads(XLENGTH(y)))
                    : sigmoid_focal_loss_impl(y, a.offset, logits, weights, a.reduction, a.na_rm,
                                              g, al, threads(XLENGTH(y)));
    return binary_result(out, y, logits, a, !grad);
  });
}

SEXP xentropy_fast_brier_score(SEXP y, SEXP prob, SEXP weights, SEXP reduction,
                               SEXP na_rm) {
  return guarded([&]() -> SEXP {
    bool binary, rm;
    index_t n;
    int offset;
    std::string red;
    if (!calibration_plain(y, prob, binary, n, offset) || !weights_ok(weights, n) ||
        !reduction_of(reduction, red) || !flag(na_rm, rm)) {
      return R_NilValue;
    }
    SEXP out = brier_score_impl(y, offset, prob, binary, weights, red, rm, threads(XLENGTH(prob)));
    static SEXP bad_sum = sym("xentropy_bad_sum");
    if (flagged(out) || Rf_getAttrib(out, bad_sum) != R_NilValue) return R_NilValue;
    if (red != "none") return out;
    return named(out, binary ? Rf_getAttrib(prob, R_NamesSymbol) : rownames_of(prob));
  });
}

SEXP xentropy_fast_calibration_error(SEXP y, SEXP prob, SEXP bins, SEXP type,
                                     SEXP binning, SEXP norm, SEXP weights, SEXP na_rm) {
  return guarded([&]() -> SEXP {
    static const SEXP types[] = {cached("top-label"), cached("classwise")};
    static const SEXP binnings[] = {cached("equal-width"), cached("equal-mass")};
    static const SEXP norms[] = {cached("l1"), cached("l2"), cached("max")};
    const int ty = option_of(type, types, 2), bi = option_of(binning, binnings, 2),
              no = option_of(norm, norms, 3);
    bool binary, rm;
    index_t n;
    int offset;
    double b;
    if (ty < 0 || bi < 0 || no < 0 || !number(bins, b) || !(b >= 1 && b <= INT_MAX) ||
        b != std::floor(b) || !calibration_plain(y, prob, binary, n, offset) ||
        !weights_ok(weights, n) || !flag(na_rm, rm)) {
      return R_NilValue;
    }
    bool bad = false;
    const double value = calibration_error_value(y, offset, prob, binary, static_cast<int>(b),
                                                 ty == 1, bi == 1, no, weights, rm,
                                                 threads(XLENGTH(prob)), bad);
    return bad ? R_NilValue : Rf_ScalarReal(value);
  });
}

SEXP xentropy_fast_top_k_accuracy(SEXP y, SEXP scores, SEXP k, SEXP weights, SEXP na_rm) {
  return guarded([&]() -> SEXP {
    double kk;
    bool rm;
    if (!plain_double(scores) || ndim(scores) != 2 || (OBJECT(y) && !factor_classes(y, scores)) ||
        ndim(y) != 0 ||
        (TYPEOF(y) != INTSXP && TYPEOF(y) != REALSXP) || XLENGTH(y) != nrow(scores) ||
        !number(k, kk) || !(kk >= 1 && kk <= ncol(scores) && kk == std::floor(kk)) ||
        !weights_ok(weights, nrow(scores)) || !flag(na_rm, rm)) {
      return R_NilValue;
    }
    SEXP out = top_k_accuracy_impl(y, scores, kk, weights, rm, threads(XLENGTH(scores)));
    return flagged(out) ? R_NilValue : out;
  });
}

}  // extern "C"
