#' Number of threads used by xentropy
#'
#' `xentropy_threads()` returns the number of threads the package's kernels
#' use; `xentropy_threads(n)` sets it and returns the previous value
#' invisibly.
#'
#' The value is kept in the option `xentropy.threads`, so
#' `options(xentropy.threads = 1)` has the same effect as
#' `xentropy_threads(1)`. When the option is unset, the default is the
#' smaller of 2 and the number of processors, a polite choice on a shared
#' machine (and CRAN's policy). Either way the count is capped by the
#' environment variable `OMP_THREAD_LIMIT` when it is set, and is 1 when the
#' package was built without OpenMP.
#'
#' Inputs below about 32,000 elements are always processed on one thread,
#' where starting threads would cost more than it saves. Results do not
#' depend on the number of threads: every reduction is split into blocks of a
#' fixed size whose partial results are added in a fixed order.
#'
#' @param n `NULL` to query, or a positive whole number of threads to use.
#' @return The number of threads in use (`xentropy_threads()`), or the
#'   previous number, invisibly (`xentropy_threads(n)`).
#' @export
#' @examples
#' xentropy_threads()
#' old <- xentropy_threads(1)
#' x <- rnorm(1e5)
#' identical(logsumexp(x), {xentropy_threads(2); logsumexp(x)})
#' xentropy_threads(old)
xentropy_threads <- function(n = NULL) {
  current <- thread_count()
  if (is.null(n)) {
    return(current)
  }
  n <- check_number(n, "n", "a single positive whole number",
                    function(v) is.finite(v) && v >= 1 && v == round(v))
  options(xentropy.threads = as.integer(n))
  invisible(current)
}

# The thread count the kernels are given: the option (or the default),
# capped by OMP_THREAD_LIMIT and by what OpenMP offers.
thread_count <- function() {
  procs <- available_threads_impl()
  n <- getOption("xentropy.threads")
  n <- if (is.numeric(n) && length(n) == 1L && !is.na(n) && n >= 1) {
    as.integer(n)
  } else {
    min(2L, procs)
  }
  limit <- suppressWarnings(as.integer(Sys.getenv("OMP_THREAD_LIMIT", "")))
  if (!is.na(limit) && limit >= 1L) n <- min(n, limit)
  if (!openmp_impl()) n <- 1L
  n
}

# Instruction-set paths of the vectorised kernels (vmath.hpp): the one in use
# and the best this CPU supports; `limit` ("baseline", "avx2", "avx512") caps
# the path for the whole session (the tests run every path this way).
simd_paths <- c("baseline", "avx2", "avx512")

simd_path <- function(limit = NULL) {
  code <- if (is.null(limit)) -1L else match(match.arg(limit, simd_paths), simd_paths) - 1L
  res <- simd_path_impl(code)
  list(current = simd_paths[res[1] + 1L], detected = simd_paths[res[2] + 1L])
}
