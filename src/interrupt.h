// Ctrl-C for the kernels: the hook that asks R whether the user pressed it,
// and a wrapper that runs a kernel with polling on and raises R's interrupt
// afterwards. The kernels poll only from the main thread, outside parallel
// regions (xentropy/common.hpp); R is only called here, never from a worker.
#ifndef XENTROPY_INTERRUPT_H
#define XENTROPY_INTERRUPT_H

#include <Rcpp.h>
#include <xentropy/common.hpp>

namespace glue {

inline void check_interrupt_fn(void*) { R_CheckUserInterrupt(); }

// TRUE when an interrupt is pending. R_ToplevelExec catches the jump that
// R_CheckUserInterrupt makes, so no C++ frame is skipped (Rcpp's
// checkUserInterrupt() does the same).
inline bool r_interrupt_requested() {
  return R_ToplevelExec(check_interrupt_fn, nullptr) == FALSE;
}

// Runs f() (a kernel call) with interrupt polling on. If the user asked to
// stop, the kernel has skipped its remaining blocks: the result is
// discarded by raising R's interrupt through Rcpp (END_RCPP calls
// Rf_onintr()).
template <class F>
inline void interruptible(F f) {
  xentropy::interrupt_scope scope;
  f();
  if (scope.interrupted()) throw Rcpp::internal::InterruptedException();
}

}  // namespace glue

#endif  // XENTROPY_INTERRUPT_H
