// Rcpp glue: threads (how many processors OpenMP can use, 1 without it) and
// the instruction-set path of the vectorised kernels.
//
// The thread count is resolved on every kernel call, so it is cheap: the
// processor count and OMP_THREAD_LIMIT are read once, when this library is
// loaded (and again by refresh_thread_limits_impl(), which
// xentropy_threads() calls), and only the option `xentropy.threads` is read
// per call, from R's option list without evaluating any R code.
#include "entry.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace {

// OMP_THREAD_LIMIT as a positive count, or 0 when unset or not a positive
// number (OpenMP ignores such values too).
int env_thread_limit() {
  const char* s = std::getenv("OMP_THREAD_LIMIT");
  if (s == nullptr) return 0;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s, &end);
  while (end != nullptr && (*end == ' ' || *end == '\t' || *end == '\n')) ++end;
  if (end == s || end == nullptr || *end != '\0' || !(v >= 1)) return 0;
  return v >= static_cast<double>(INT_MAX) ? INT_MAX : static_cast<int>(v);
}

struct thread_limits {
  int procs;  // processors OpenMP may use (1 without OpenMP)
  int cap;    // procs, lowered by OMP_THREAD_LIMIT
};

thread_limits read_limits() {
  thread_limits l;
  l.procs = xentropy::has_openmp() ? xentropy::available_threads() : 1;
  if (l.procs < 1) l.procs = 1;
  const int env = env_thread_limit();
  l.cap = env > 0 && env < l.procs ? env : l.procs;
  return l;
}

// Set when the shared library is loaded.
thread_limits limits = read_limits();

// The count for an option value `v` (NULL when unset): a number >= 1 is
// rounded down and capped; anything else (unset, NA, < 1, not a number)
// gives the default, min(2, cap).
int resolve(SEXP v) {
  double n = -1;
  if (TYPEOF(v) == INTSXP && XLENGTH(v) == 1) {
    if (INTEGER(v)[0] != NA_INTEGER) n = INTEGER(v)[0];
  } else if (TYPEOF(v) == REALSXP && XLENGTH(v) == 1) {
    n = REAL(v)[0];  // NA and NaN fail the test below
  }
  if (!(n >= 1)) return limits.cap < 2 ? limits.cap : 2;
  return n >= limits.cap ? limits.cap : static_cast<int>(n);
}

}  // namespace

// The thread count the kernels are given (see above): for the glue, which
// resolves it per call, and for R as a plain .Call routine.
int glue::thread_count() {
  static SEXP option = Rf_install("xentropy.threads");
  return resolve(Rf_GetOption1(option));
}

extern "C" SEXP xentropy_thread_count() { return Rf_ScalarInteger(glue::thread_count()); }

// For the tests (R/threads.R fast_paths()): turns the entries' answers to
// first calls on or off (`on` TRUE / FALSE; NA leaves them) and returns
// c(on before the call, first calls answered so far).
extern "C" SEXP xentropy_entry_switch(SEXP on) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = entry::enabled() ? 1 : 0;
  REAL(out)[1] = entry::answered();
  if (TYPEOF(on) == LGLSXP && XLENGTH(on) == 1 && LOGICAL(on)[0] != NA_LOGICAL)
    entry::enabled() = LOGICAL(on)[0] != 0;
  UNPROTECT(1);
  return out;
}

// Re-reads OMP_THREAD_LIMIT and the processor count; returns c(processors,
// cap), the cap being what any thread count is lowered to.
// [[Rcpp::export(rng = false)]]
Rcpp::IntegerVector refresh_thread_limits_impl() {
  limits = read_limits();
  return Rcpp::IntegerVector::create(limits.procs, limits.cap);
}

// The instruction-set path of the vectorised kernels: caps it at `limit`
// (0 baseline, 1 AVX2, 2 AVX-512; -1 leaves it) and returns the path in use
// and the best one this CPU supports, as c(current, detected).
// [[Rcpp::export(rng = false)]]
Rcpp::IntegerVector simd_path_impl(int limit) {
  if (limit >= 0) xentropy::vm::set_isa_limit(static_cast<xentropy::vm::isa>(limit));
  return Rcpp::IntegerVector::create(static_cast<int>(xentropy::vm::current_isa()),
                                     static_cast<int>(xentropy::vm::detected_isa()));
}
