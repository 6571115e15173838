# xentropy_threads() and determinism across thread counts.

test_that("xentropy_threads sets and returns the previous value", {
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  expect_true(old >= 1)
  expect_identical(xentropy_threads(1), old)
  expect_identical(xentropy_threads(), 1L)
  expect_identical(getOption("xentropy.threads"), 1L)
})

test_that("the option xentropy.threads is honoured", {
  old <- options(xentropy.threads = 1)
  on.exit(options(old))
  expect_identical(xentropy_threads(), 1L)
})

test_that("OMP_THREAD_LIMIT caps the thread count", {
  old <- options(xentropy.threads = 8)
  old_limit <- Sys.getenv("OMP_THREAD_LIMIT", NA)
  on.exit({
    options(old)
    if (is.na(old_limit)) Sys.unsetenv("OMP_THREAD_LIMIT")
    else Sys.setenv(OMP_THREAD_LIMIT = old_limit)
  })
  Sys.setenv(OMP_THREAD_LIMIT = "1")
  expect_identical(xentropy_threads(), 1L)
})

test_that("bad thread counts are errors naming the argument", {
  expect_error(xentropy_threads(0), "`n` must be a single positive whole number, not 0",
               class = "xentropy_error")
  expect_error(xentropy_threads(1.5), "`n`", class = "xentropy_error")
  expect_error(xentropy_threads("2"), "`n` .* not a string", class = "xentropy_error")
})

test_that("results are identical for 1 and 2 threads", {
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  set.seed(7)
  x <- rnorm(3e5, sd = 30)
  m <- matrix(x, ncol = 10)
  run <- function() {
    list(sigmoid(x), logit(sigmoid(x)), log_sigmoid(x), softplus(x),
         logsumexp(x), logsumexp(m), logsumexp(m, 2), softmax(m),
         softmax(m, 2), log_softmax(m), log_softmax(x), softmax(t(m), 2))
  }
  xentropy_threads(1)
  one <- run()
  xentropy_threads(2)
  two <- run()
  expect_identical(one, two)
})

# The number of processors the package may use, as it reads it.
machine_threads <- function() asNamespace("xentropy")$refresh_thread_limits_impl()[2]

test_that("huge thread counts are capped at the processors, never NA or fatal", {
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  cap <- machine_threads()
  expect_true(cap >= 1)
  x <- rnorm(1e5)
  ref <- sigmoid(x)
  for (n in c(1e9, 1e5, 6e4, 3e9, .Machine$integer.max, 2^53)) {
    xentropy_threads(n)
    expect_identical(xentropy_threads(), as.integer(cap), info = format(n))
    expect_identical(getOption("xentropy.threads"), as.integer(cap), info = format(n))
    expect_identical(sigmoid(x), ref, info = format(n))
    expect_identical(logsumexp(matrix(x, ncol = 10)), logsumexp(matrix(x, ncol = 10)))
  }
  expect_identical(xentropy_threads(3e9), as.integer(cap))  # returns the old value
})

test_that("an out-of-range option is capped when used, and a bad one means the default", {
  old <- options(xentropy.threads = 1e10)
  on.exit(options(old))
  cap <- machine_threads()
  expect_identical(xentropy_threads(), as.integer(cap))
  x <- rnorm(1e5)
  expect_identical(sigmoid(x), {options(xentropy.threads = 1); sigmoid(x)})
  for (bad in list(NA, NA_real_, NaN, 0, -3, "two", c(1, 2), list(2), -Inf)) {
    options(xentropy.threads = bad)
    expect_identical(xentropy_threads(), min(2L, as.integer(cap)), info = deparse(bad))
  }
  options(xentropy.threads = Inf)
  expect_identical(xentropy_threads(), as.integer(cap))
  options(xentropy.threads = 1.9)
  expect_identical(xentropy_threads(), 1L)
})

test_that("the kernels cap a thread count that reaches them by another route", {
  ns <- asNamespace("xentropy")
  x <- rnorm(1e5)
  m <- matrix(x, ncol = 4)
  out <- ns$kernel_threads_test_impl(m, .Machine$integer.max)
  expect_identical(out$sigmoid, sigmoid(m))
  expect_identical(out$logsumexp, logsumexp(m))
  expect_identical(out$softmax, softmax(m, 2))
})

test_that("bad thread counts are value errors", {
  expect_error(xentropy_threads(Inf), "`n` must be a single positive whole number, not Inf",
               class = "xentropy_error_value")
  expect_error(xentropy_threads(NA), "not NA", class = "xentropy_error_value")
  expect_error(xentropy_threads(-1), "not -1", class = "xentropy_error_value")
  expect_error(xentropy_threads(c(1, 2)), "not a numeric vector", class = "xentropy_error_value")
})

test_that("OMP_THREAD_LIMIT is read when the package loads and by xentropy_threads()", {
  ns <- asNamespace("xentropy")
  old <- options(xentropy.threads = 8)
  old_limit <- Sys.getenv("OMP_THREAD_LIMIT", NA)
  on.exit({
    options(old)
    if (is.na(old_limit)) Sys.unsetenv("OMP_THREAD_LIMIT")
    else Sys.setenv(OMP_THREAD_LIMIT = old_limit)
    xentropy_threads()  # re-reads the limit
  })
  Sys.unsetenv("OMP_THREAD_LIMIT")
  before <- xentropy_threads()
  Sys.setenv(OMP_THREAD_LIMIT = "1")
  # the kernels' count is not re-read from the environment on every call ...
  expect_identical(ns$thread_count(), before)
  # ... but at the next xentropy_threads()
  expect_identical(xentropy_threads(), 1L)
  expect_identical(ns$thread_count(), 1L)
  Sys.setenv(OMP_THREAD_LIMIT = "not a number")
  expect_identical(xentropy_threads(), before)
  Sys.setenv(OMP_THREAD_LIMIT = "0")
  expect_identical(xentropy_threads(), before)
})

test_that("OMP_THREAD_LIMIT set before R starts caps the count from the first call", {
  skip_on_cran()
  lib <- dirname(system.file(package = "xentropy"))
  skip_if_not(file.exists(file.path(lib, "xentropy", "Meta", "package.rds")),
              "xentropy is not installed in a library (e.g. under load_all())")
  rscript <- file.path(R.home("bin"), "Rscript")
  code <- paste0(
    ".libPaths(c(", deparse(lib), ", .libPaths())); ",
    "options(xentropy.threads = 8); ",
    "cat(xentropy:::thread_count(), xentropy::xentropy_threads(), ",
    "xentropy::xentropy_threads(16), xentropy::xentropy_threads())"
  )
  out <- system2(rscript, c("--vanilla", "-e", shQuote(code)), stdout = TRUE,
                 env = "OMP_THREAD_LIMIT=1")
  expect_identical(out, "1 1 1 1")
})
