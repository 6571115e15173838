// The entries of the link functions (xentropy/link.hpp) and of log1mexp()
// and logdiffexp(): elementwise over a double vector, matrix or array (integer
// and logical data coerced here, classed numbers once R has checked them);
// the result keeps the input's attributes, like exp(). See src/entry.h.
#include "entry.h"

namespace {
using kernel = void (*)(const double*, double*, xentropy::index_t, int);

// The result is a plain protected R vector (Rcpp's bookkeeping would cost
// as much as the kernel on a number); an interrupt unwinds through the
// entry's guard, and R's jump resets the protect stack.
SEXP elementwise(kernel f, SEXP x, int nthreads) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
  SHALLOW_DUPLICATE_ATTRIB(out, x);
  glue::interruptible([&] { f(REAL(x), REAL(out), XLENGTH(x), nthreads); });
  UNPROTECT(1);
  return out;
}

// f(x) as the entry of an R function; `warns`: a NaN from a value that is
// not NaN (outside the domain) needs R's "NaNs produced".
SEXP elementwise_entry(kernel f, SEXP x, SEXP checked, bool warns) {
  return entry::guarded(checked, [&](bool second) -> SEXP {
    SEXP v = PROTECT(entry::numeric_data(x, second));
    if (Rf_isNull(v)) {
      UNPROTECT(1);
      return R_NilValue;
    }
    SEXP out = PROTECT(elementwise(f, v, entry::threads(XLENGTH(v))));
    if (warns && entry::new_nan(out, v)) out = entry::with_warnings(out, {"nan"});
    UNPROTECT(2);
    return out;
  });
}

void log1mexp_kernel(const double* x, double* out, xentropy::index_t n, int nthreads) {
  xentropy::log1mexp(x, out, n, nthreads);
}
}  // namespace

extern "C" {

SEXP xentropy_sigmoid(SEXP x, SEXP checked) {
  return elementwise_entry(static_cast<kernel>(xentropy::sigmoid), x, checked, false);
}

SEXP xentropy_logit(SEXP p, SEXP checked) {
  return elementwise_entry(static_cast<kernel>(xentropy::logit), p, checked, true);
}

SEXP xentropy_log_sigmoid(SEXP x, SEXP checked) {
  return elementwise_entry(static_cast<kernel>(xentropy::log_sigmoid), x, checked, false);
}

SEXP xentropy_softplus(SEXP x, SEXP checked) {
  return elementwise_entry(static_cast<kernel>(xentropy::softplus), x, checked, false);
}

SEXP xentropy_log1mexp(SEXP x, SEXP checked) {
  return elementwise_entry(log1mexp_kernel, x, checked, true);
}

// Recycled like base R arithmetic (with its warning when the longer length
// is not a multiple of the shorter); the result takes the attributes of the
// longer operand (of `a` when the lengths are equal and it has any).
SEXP xentropy_logdiffexp(SEXP a, SEXP b, SEXP checked) {
  return entry::guarded(checked, [&](bool second) -> SEXP {
    SEXP va = PROTECT(entry::numeric_data(a, second));
    SEXP vb = PROTECT(entry::numeric_data(b, second));
    if (Rf_isNull(va) || Rf_isNull(vb)) {
      UNPROTECT(2);
      return R_NilValue;
    }
    const R_xlen_t na = XLENGTH(va), nb = XLENGTH(vb);
    const R_xlen_t n = na == 0 || nb == 0 ? 0 : (na > nb ? na : nb);
    SEXP like = na > nb ? va : nb > na ? vb
                : (ATTRIB(va) != R_NilValue || ATTRIB(vb) == R_NilValue ? va : vb);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    if (XLENGTH(like) == n) SHALLOW_DUPLICATE_ATTRIB(out, like);
    const int nthreads = entry::threads(n);
    glue::interruptible([&] {
      xentropy::logdiffexp(REAL(va), na, REAL(vb), nb, REAL(out), n, nthreads);
    });
    const bool recycled = na > 0 && nb > 0 && (na > nb ? na % nb : nb % na) != 0;
    // a NaN where neither a nor b is NaN (a < b)
    const bool nan = entry::new_nan(out, va, vb);
    if (recycled && nan) out = entry::with_warnings(out, {"recycling", "nan"});
    else if (recycled) out = entry::with_warnings(out, {"recycling"});
    else if (nan) out = entry::with_warnings(out, {"nan"});
    UNPROTECT(3);
    return out;
  });
}

}  // extern "C"
