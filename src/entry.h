// Reading the arguments of the C entries (one per exported R function).
//
// Each entry xentropy_<function>() takes the R function's arguments as the
// user gave them, and a last argument `checked`: FALSE on the R wrapper's
// first call, TRUE when the wrapper calls again with the arguments its
// checks (R/check.R) have normalised. The entry answers what it can (doubles,
// integer and logical data coerced here, factors, every setting), turning
// settings into the kernels' enums once and reading the thread count
// itself; for anything else it returns NULL, and the wrapper runs its checks,
// which build the error with the user's call, or normalise the input (a
// classed number, factor levels in another order) and call the same entry
// again. A result that needs a warning comes back as list(value, kinds),
// and the wrapper raises the warnings (warned() in R/check.R): the kernel
// runs once.
#ifndef XENTROPY_ENTRY_H
#define XENTROPY_ENTRY_H

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "glue.h"
#include "interrupt.h"

namespace entry {

using xentropy::index_t;

inline SEXP sym(const char* name) { return Rf_install(name); }

// An unclassed double vector, matrix or array.
inline bool plain_double(SEXP x) { return TYPEOF(x) == REALSXP && !OBJECT(x); }

// Numeric data as the kernels read it: doubles as they are (classed ones
// only once R's checks have passed them), unclassed integer and logical
// data coerced to double with their attributes (as check_numeric() does).
// NULL for anything else. The result may be fresh: protect it.
inline SEXP numeric_data(SEXP x, bool checked) {
  if (TYPEOF(x) == REALSXP) return !OBJECT(x) || checked ? x : R_NilValue;
  if ((TYPEOF(x) == INTSXP || TYPEOF(x) == LGLSXP) && !OBJECT(x))
    return Rf_coerceVector(x, REALSXP);
  return R_NilValue;
}

// The number of dimensions (0 for a vector).
inline int ndim(SEXP x) {
  SEXP d = Rf_getAttrib(x, R_DimSymbol);
  return Rf_isNull(d) ? 0 : static_cast<int>(XLENGTH(d));
}

inline index_t nrow(SEXP x) { return INTEGER(Rf_getAttrib(x, R_DimSymbol))[0]; }
inline index_t ncol(SEXP x) { return INTEGER(Rf_getAttrib(x, R_DimSymbol))[1]; }

inline bool same_dims(SEXP a, SEXP b) {
  return ndim(a) == 2 && ndim(b) == 2 && nrow(a) == nrow(b) && ncol(a) == ncol(b);
}

// A single unclassed double or integer that is not NA, as a double.
inline bool number(SEXP x, double& v) {
  if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || OBJECT(x) || XLENGTH(x) != 1)
    return false;
  if (TYPEOF(x) == REALSXP) {
    v = REAL(x)[0];
  } else if (INTEGER(x)[0] != NA_INTEGER) {
    v = INTEGER(x)[0];
  } else {
    return false;
  }
  return !std::isnan(v);
}

// TRUE or FALSE.
inline bool flag(SEXP x, bool& v) {
  if (TYPEOF(x) != LGLSXP || XLENGTH(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL) return false;
  v = LOGICAL(x)[0] != 0;
  return true;
}

// margin = 1 or 2 (0: anything else).
inline int margin_of(SEXP m) {
  double v;
  if (!number(m, v)) return 0;
  return v == 1 ? 1 : v == 2 ? 2 : 0;
}

// The cached CHARSXP of an ASCII string: R keeps one CHARSXP per string, so
// strings are compared by pointer (kept for the session).
inline SEXP cached(const char* s) {
  SEXP c = Rf_mkChar(s);
  R_PreserveObject(c);
  return c;
}

// A choice among `choices` (n CHARSXPs): the default (the whole vector, no
// attributes) gives 0, one of them its index; -1 otherwise.
inline int option_of(SEXP x, const SEXP* choices, int n) {
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
// of the three, as the kernels' enum.
inline bool reduction_of(SEXP r, xentropy::reduction& out) {
  static const SEXP choices[] = {cached("mean"), cached("sum"), cached("none")};
  static const xentropy::reduction values[] = {
      xentropy::reduction::mean, xentropy::reduction::sum, xentropy::reduction::none};
  const int i = option_of(r, choices, 3);
  if (i < 0) return false;
  out = values[i];
  return true;
}

// The thread count for inputs of `len` elements: the kernels run inputs
// below xentropy::min_parallel_work elements on one thread (threads_for()
// never counts more work than elements), so the option is only read for
// larger ones (reading it costs about as much as a small kernel).
inline int threads(index_t len) {
  return len < xentropy::min_parallel_work ? 1 : glue::thread_count();
}

// Whether a glue function flagged a value for R to report.
inline bool flagged(SEXP out) {
  static SEXP invalid = sym("xentropy_invalid");
  return Rf_getAttrib(out, invalid) != R_NilValue;
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

inline bool any_nan(SEXP out) { return any_of<false, false>(REAL(out), XLENGTH(out)); }

// NULL, or n unclassed doubles that are non-negative and finite.
inline bool weights_ok(SEXP w, index_t n) {
  if (Rf_isNull(w)) return true;
  if (!plain_double(w) || XLENGTH(w) != n) return false;
  return !any_of<true, false>(REAL(w), n);
}

// Observation weights as the kernels read them, in `out`: NULL, or n
// non-negative finite numbers (unclassed doubles, or integer and logical
// data coerced as check_weights() does; protected, counted in nprot).
inline bool read_weights(SEXP weights, index_t n, SEXP& out, int& nprot) {
  out = R_NilValue;
  if (Rf_isNull(weights)) return true;
  if ((TYPEOF(weights) == INTSXP || TYPEOF(weights) == LGLSXP) && !OBJECT(weights)) {
    if (XLENGTH(weights) != n) return false;
    weights = PROTECT(Rf_coerceVector(weights, REALSXP));
    ++nprot;
  }
  if (!weights_ok(weights, n)) return false;
  out = weights;
  return true;
}

// Whether `out` has a NaN where the inputs a and b (recycled; b may be NULL)
// have none: R warns "NaNs produced" then.
inline bool new_nan(SEXP out, SEXP a, SEXP b = R_NilValue) {
  if (!any_nan(out)) return false;
  const double *o = REAL(out), *va = REAL(a), *vb = Rf_isNull(b) ? nullptr : REAL(b);
  const index_t n = XLENGTH(out), na = XLENGTH(a), nb = vb ? XLENGTH(b) : 1;
  for (index_t i = 0; i < n; ++i) {
    if (std::isnan(o[i]) && !std::isnan(va[i % na]) && !(vb && std::isnan(vb[i % nb])))
      return true;
  }
  return false;
}

// A result and the kinds of warning it needs (a character vector: "nan",
// "recycling"), as list(value, kinds), for the R wrapper to raise.
inline SEXP with_warnings(SEXP value, std::initializer_list<const char*> kinds) {
  PROTECT(value);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, value);
  SEXP k = PROTECT(Rf_allocVector(STRSXP, static_cast<R_xlen_t>(kinds.size())));
  R_xlen_t i = 0;
  for (const char* s : kinds) SET_STRING_ELT(k, i++, Rf_mkChar(s));
  SET_VECTOR_ELT(out, 1, k);
  UNPROTECT(3);
  return out;
}

// A result with a value R must report (its attributes "xentropy_invalid",
// "xentropy_bad_sum", ... say which), as list(out): R builds the error from
// it and the kernel does not run again.
inline SEXP to_report(SEXP out) {
  PROTECT(out);
  SEXP l = PROTECT(Rf_allocVector(VECSXP, 1));
  SET_VECTOR_ELT(l, 0, out);
  UNPROTECT(2);
  return l;
}

inline SEXP rownames_of(SEXP x) {
  SEXP dn = Rf_getAttrib(x, R_DimNamesSymbol);
  return Rf_isNull(dn) ? R_NilValue : VECTOR_ELT(dn, 0);
}

// out with names `nm` (out is a fresh result; NULL names leave it as is).
inline SEXP named(SEXP out, SEXP nm) {
  if (!Rf_isNull(nm)) {
    PROTECT(out);
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(1);
  }
  return out;
}

// For the tests (xentropy_entry_switch()): whether the entries answer first
// calls, and how many first calls they have answered.
inline bool& enabled() {
  static bool on = true;
  return on;
}
inline double& answered() {
  static double n = 0;
  return n;
}

// Runs f() (on a first call only when the entries are on: off, every first
// call goes through R's checks), turning C++ exceptions (an interrupt, a
// failed allocation) into R's interrupt or error after the handler has
// finished, as the Rcpp-generated entry points do (no R jump leaves a catch
// block).
template <class F>
SEXP guarded(SEXP checked, F f) {
  const bool second = LOGICAL(checked)[0] != 0;
  if (!second && !enabled()) return R_NilValue;
  static char message[512];
  bool interrupted = false;
  try {
    SEXP out = f(second);
    if (out != R_NilValue && !second) ++answered();
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

// A factor whose codes are read in place as classes 1..K of pred's columns:
// as many levels as columns, equal to the column names in order when pred
// has them (other orders are matched in R).
inline bool factor_classes(SEXP y, SEXP pred) {
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
inline bool binary_factor(SEXP y) {
  if (!Rf_isFactor(y)) return false;
  SEXP lev = Rf_getAttrib(y, R_LevelsSymbol);
  return TYPEOF(lev) == STRSXP && XLENGTH(lev) == 2;
}

}  // namespace entry

#endif  // XENTROPY_ENTRY_H
