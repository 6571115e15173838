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
