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
#ifndef XENTROPY_COMMON_HPP
#define XENTROPY_COMMON_HPP

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
template <class F>
inline void parallel_chunks(index_t n, index_t chunk, int nt, F f) {
  const index_t nchunks = n == 0 ? 0 : (n - 1) / chunk + 1;
  // One thread: no parallel region at all (entering one, even with a false
  // if clause, costs about 0.4 us, more than sigmoid(0.5) itself).
  if (nt <= 1) {
    for (index_t c = 0; c < nchunks; ++c) {
      const index_t begin = c * chunk;
      f(begin, begin + chunk < n ? begin + chunk : n);
    }
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
  for (index_t c = 0; c < nchunks; ++c) {
    const index_t begin = c * chunk;
    const index_t end = begin + chunk < n ? begin + chunk : n;
    f(begin, end);
  }
}

}  // namespace xentropy

#endif  // XENTROPY_COMMON_HPP
