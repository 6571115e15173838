// xentropy/common.hpp -- what every kernel shares.
//
// * Lengths are std::ptrdiff_t so that R's long vectors (length > 2^31 - 1) work.
// * R's NA_real_ is a NaN whose low 32 bits are 1954 (R's arithmetic.c, R_IsNA);
//   is_na() and na_real() tell NA from other NaNs without including R's headers,
//   so that NA stays NA and NaN stays NaN, as in base R.
// * Parallel loops split work into blocks whose size does not depend on the
//   thread count, and every reduction adds its per-block partial results in
//   block order, so results are bit-for-bit identical for any number of threads.
// * No function here calls R or allocates R objects: this header may be used
//   from any package through `LinkingTo: xentropy`.
// * Interrupts (Ctrl-C): a caller may install a hook (set_interrupt_hook())
//   that says whether the user asked to stop; the R glue installs one that
//   calls R_CheckUserInterrupt() through R_ToplevelExec(). Kernels poll it
//   only from the calling thread outside any parallel region (omp level 0),
//   between waves of blocks, about every million elements of work, and only
//   inside an interrupt_scope. Once it fires, the remaining blocks are
//   skipped and the output is unspecified; the caller learns it from the
//   scope and discards the result (the glue then raises R's interrupt).
#ifndef XENTROPY_COMMON_HPP
#define XENTROPY_COMMON_HPP

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace xentropy {

using index_t = std::ptrdiff_t;

// How an iterative fit ended (fit.hpp's Newton fits, scaling.hpp's
// temperature and Platt fits): one scheme for every fitter, so that callers
// test `== converged` and name the others. The values are part of the R
// interface (temperature_scaling()'s `status`).
enum fit_status : int {
  converged = 0,
  scaling_separated = 1,      // the loss falls all the way as beta -> Inf (T = 0)
  scaling_uninformative = 2,  // the minimum over beta >= 0 is at beta = 0 (T = Inf)
  max_iterations = 3,         // no convergence within maxit
  scaling_missing = 4,        // missing values and na_rm false
  scaling_invalid = 5,        // invalid input
  scaling_empty = 6,          // no observations
  stalled = 7                 // no step decreases the objective
};
constexpr fit_status scaling_max_iterations = max_iterations;

inline bool is_na(double x) {
  if (!std::isnan(x)) return false;
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<std::uint32_t>(bits & 0xFFFFFFFFu) == 1954u;
}

inline double na_real() {
  const std::uint64_t bits = 0x7FF00000000007A2ULL;  // R_ValueOfNA()
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

inline double nan_real() { return std::numeric_limits<double>::quiet_NaN(); }
inline double inf() { return std::numeric_limits<double>::infinity(); }

// Compensated (Neumaier 1974) sum: the error is about one rounding of the
// result plus n eps^2 times the sum of magnitudes, instead of growing with n
// as a sum in sequence does (Higham 2002, "Accuracy and Stability of
// Numerical Algorithms", section 4.3). Adds in the order given, so results
// stay independent of the thread count when parts are added in block order.
struct compensated_sum {
  double sum = 0.0;
  double comp = 0.0;  // the low-order parts lost by `sum`
  void add(double v) {
    const double t = sum + v;
    const double e = std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
    if (std::isfinite(t)) comp += e;  // Inf - Inf would poison comp
    sum = t;
  }
  double value() const { return sum + comp; }
};

// --- Interrupts -----------------------------------------------------------

// Returns true when the user asked to stop. Called on the calling thread only.
using interrupt_hook_fn = bool (*)();

namespace detail {
struct interrupt_state {
  std::atomic<interrupt_hook_fn> hook{nullptr};
  std::atomic<int> scopes{0};         // interrupt_scopes alive (polling on)
  std::atomic<bool> pending{false};   // the hook fired in the current scope
  std::atomic<std::int64_t> work{0};  // elements since the last poll
};
inline interrupt_state& interrupts() {
  static interrupt_state s;
  return s;
}
// Elements of work between two polls: a poll through R costs about a
// microsecond, a million elements about a millisecond.
constexpr std::int64_t interrupt_interval = std::int64_t(1) << 20;

inline bool at_top_level() {
#ifdef _OPENMP
  return omp_get_level() == 0;
#else
  return true;
#endif
}
}  // namespace detail

// Installs (or, with nullptr, removes) the hook; returns the previous one.
inline interrupt_hook_fn set_interrupt_hook(interrupt_hook_fn f) {
  return detail::interrupts().hook.exchange(f);
}

// While one is alive, kernels poll the hook; interrupted() tells whether it
// fired. Construct one around a kernel call on the thread that calls it.
class interrupt_scope {
 public:
  interrupt_scope() {
    detail::interrupts().pending.store(false, std::memory_order_relaxed);
    detail::interrupts().scopes.fetch_add(1);
  }
  ~interrupt_scope() {
    if (detail::interrupts().scopes.fetch_sub(1) == 1)
      detail::interrupts().pending.store(false, std::memory_order_relaxed);
  }
  interrupt_scope(const interrupt_scope&) = delete;
  interrupt_scope& operator=(const interrupt_scope&) = delete;
  bool interrupted() const {
    return detail::interrupts().pending.load(std::memory_order_relaxed);
  }
};

// Whether the kernel should stop: true once the hook fired in this scope.
// `work` (elements done since the last call) counts towards the next poll;
// the hook is only called at omp level 0 inside an interrupt_scope. Cheap
// enough to call once per block anywhere (an atomic load off level 0).
inline bool interrupted(index_t work = 0) {
  detail::interrupt_state& s = detail::interrupts();
  if (s.scopes.load(std::memory_order_relaxed) == 0) return false;
  if (s.pending.load(std::memory_order_relaxed)) return true;
  if (work <= 0 || !detail::at_top_level()) return false;
  const std::int64_t w = s.work.load(std::memory_order_relaxed) + work;
  if (w < detail::interrupt_interval) {
    s.work.store(w, std::memory_order_relaxed);
    return false;
  }
  s.work.store(0, std::memory_order_relaxed);
  const interrupt_hook_fn hook = s.hook.load();
  if (hook && hook()) {
    s.pending.store(true, std::memory_order_relaxed);
    return true;
  }
  return false;
}

// Below this many elements of work a kernel runs on the calling thread: starting
// a parallel region costs microseconds, which would make sigmoid(1) slower than
// plogis(1).
constexpr index_t min_parallel_work = 32768;

// Number of processors OpenMP sees (1 without OpenMP).
inline int available_threads() {
#ifdef _OPENMP
  return omp_get_num_procs();
#else
  return 1;
#endif
}

// Number of threads worth using for `work` elements when `nthreads` are
// allowed: never more than the processors (so a huge count from any caller
// cannot exhaust memory or the stack starting threads).
inline int threads_for(int nthreads, index_t work) {
#ifdef _OPENMP
  if (nthreads <= 1 || work < min_parallel_work) return 1;
  const int procs = available_threads();
  return nthreads < procs ? nthreads : (procs < 1 ? 1 : procs);
#else
  (void)nthreads;
  (void)work;
  return 1;
#endif
}

// Whether the kernels were compiled with OpenMP.
constexpr bool has_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

// Calls f(begin, end) on consecutive chunks of [0, n) of `chunk` elements
// (the last may be shorter), spreading chunks over `nt` threads (decided by
// the caller with threads_for()). Chunks do not depend on the thread count.
// `chunk_work` is the number of elements a chunk reads (default `chunk`):
// chunks run in waves of about interrupt_interval * nt elements, and between
// waves (on the calling thread, outside the parallel region) interrupted()
// is polled; once it says stop, the remaining chunks are skipped.
template <class F>
inline void parallel_chunks(index_t n, index_t chunk, int nt, F f,
                            index_t chunk_work = 0) {
  const index_t nchunks = n == 0 ? 0 : (n - 1) / chunk + 1;
  if (nchunks == 0 || interrupted()) return;
  if (chunk_work <= 0) chunk_work = chunk;
  if (nt <= 1 || nchunks == 1) {
    for (index_t c = 0; c < nchunks; ++c) {
      const index_t begin = c * chunk;
      f(begin, begin + chunk < n ? begin + chunk : n);
      if (c + 1 < nchunks && interrupted(chunk_work)) return;
    }
    return;
  }
  const index_t per_wave = detail::interrupt_interval / chunk_work + 1;
  const index_t wave = per_wave * nt;
  for (index_t w0 = 0; w0 < nchunks; w0 += wave) {
    const index_t w1 = w0 + wave < nchunks ? w0 + wave : nchunks;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (index_t c = w0; c < w1; ++c) {
      const index_t begin = c * chunk;
      f(begin, begin + chunk < n ? begin + chunk : n);
    }
    if (w1 < nchunks && interrupted((w1 - w0) * chunk_work)) return;
  }
}

}  // namespace xentropy

#endif  // XENTROPY_COMMON_HPP
