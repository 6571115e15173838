#' Number of threads used by xentropy
#'
#' `xentropy_threads()` returns the number of threads the package's kernels
#' use; `xentropy_threads(n)` sets it and returns the previous value
#' invisibly.
#'
#' The value is kept in the option `xentropy.threads`, so
#' `options(xentropy.threads = 1)` has the same effect as
#' `xentropy_threads(1)`. When the option is unset (or not a number of at
#' least 1), the default is the smaller of 2 and the number of processors, a
#' polite choice on a shared machine (and CRAN's policy).
#'
#' The count is capped at what the machine offers: the number of processors
#' OpenMP may use (`omp_get_num_procs()`, which respects the process's CPU
#' affinity), lowered further by the environment variable `OMP_THREAD_LIMIT`
#' when it is set. `xentropy_threads(n)` stores the capped value, so
#' `xentropy_threads(1e9)` on a 2-core machine sets 2; a larger value set
#' directly with `options()` is capped when it is used. Without OpenMP the
#' count is 1. The kernels cap the count they are given at the number of
#' processors again, so no route can start more threads than that.
#'
#' The processor count and `OMP_THREAD_LIMIT` are read when the package is
#' loaded and again at every call of `xentropy_threads()`: after changing
#' `OMP_THREAD_LIMIT` with [Sys.setenv()], call `xentropy_threads()` for the
#' change to take effect. The option is read at every call of every
#' function, so changing it takes effect at once.
#'
#' Several processes running xentropy at once should each use one thread:
#' threads that share cores with other busy processes wait for each other at
#' every step of the path solver's coordinate descent (two 2-thread
#' [softmax_path()] fits side by side on 2 cores took 15 times as long as two
#' 1-thread fits). [cv_path()] and the fits and scores over [data_chunks()]
#' set one thread in their workers when the current `future` plan runs more
#' than one.
#'
#' Inputs below about 32,000 elements are always processed on one thread,
#' where starting threads would cost more than it saves. Results do not
#' depend on the number of threads: every reduction is split into blocks of a
#' fixed size whose partial results are added in a fixed order.
#'
#' @param n `NULL` to query, or a positive whole number of threads to use
#'   (capped as described in Details).
#' @return The number of threads in use (`xentropy_threads()`), or the
#'   previous number, invisibly (`xentropy_threads(n)`).
#' @export
#' @examples
#' xentropy_threads()
#' old <- xentropy_threads(1)
#' x <- rnorm(1e5)
#' identical(logsumexp(x), {xentropy_threads(2); logsumexp(x)})
#' xentropy_threads(1e9)   # capped at the processors available
#' xentropy_threads()
#' xentropy_threads(old)
xentropy_threads <- function(n = NULL) {
  limits <- refresh_thread_limits_impl()
  current <- thread_count()
  if (is.null(n)) {
    return(current)
  }
  n <- check_number(n, "n", "a single positive whole number",
                    function(v) is.finite(v) && v >= 1 && v == round(v))
  options(xentropy.threads = as.integer(min(n, limits[2])))
  invisible(current)
}

# The thread count the kernels are given: the option (or the default),
# capped by the processors and OMP_THREAD_LIMIT as read at load time or at
# the last xentropy_threads() call (src/threads.cpp). Only xentropy_threads()
# calls it: the C entries read the same setting themselves (glue::thread_count()).
thread_count <- function() .Call(xentropy_thread_count)

# Instruction-set paths of the vectorised kernels (vmath.hpp): the one in use
# and the best this CPU supports; `limit` ("baseline", "avx2", "avx512") caps
# the path for the whole session (the tests run every path this way).
simd_paths <- c("baseline", "avx2", "avx512")

simd_path <- function(limit = NULL) {
  code <- if (is.null(limit)) -1L else match(match.arg(limit, simd_paths), simd_paths) - 1L
  res <- simd_path_impl(code)
  list(current = simd_paths[res[1] + 1L], detected = simd_paths[res[2] + 1L])
}

# For the tests: turns on or off the C entries' answers to the wrappers'
# first calls (src/entry.h; off, every call goes through R's checks and the
# entry's second call) (NA: leaves them) and returns
# c(on before the call, first calls answered so far).
fast_paths <- function(on = NA) .Call(xentropy_entry_switch, on)

# The thread count for work mapped over the current future plan: 1 when the plan
# runs several workers at once (each worker's threads would otherwise compete for
# the same cores, and the path solver's per-coordinate barriers then wait out the
# scheduler: two 2-thread softmax paths side by side on 2 cores took 32 s each,
# against 2.1 s each with one thread), NULL (the session's setting) otherwise.
worker_threads <- function() {
  if (requireNamespace("future", quietly = TRUE) && future::nbrOfWorkers() > 1) 1L else NULL
}
