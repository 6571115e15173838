# Link functions: sigmoid, logit, log_sigmoid, softplus.

test_that("sigmoid, log_sigmoid and softplus are within 2 ulp over the whole double range, on every SIMD path", {
  skip_if_not_installed("Rmpfr")
  x <- link_test_points()
  exact <- list(exact_sigmoid(x), exact_log_sigmoid(x), exact_softplus(x))
  paths <- each_simd_path({
    expect_lte(max(ulp_error(sigmoid(x), exact[[1]])), 2)
    expect_lte(max(ulp_error(log_sigmoid(x), exact[[2]])), 2)
    expect_lte(max(ulp_error(softplus(x), exact[[3]])), 2)
  })
  expect_true("baseline" %in% paths)
})

test_that("the SIMD paths agree with each other to 2 ulp and keep NA and NaN", {
  set.seed(3)
  x <- c(rnorm(5000, sd = 30), NA, NaN, Inf, -Inf, 0)
  ref <- list(sigmoid(x), log_sigmoid(x), softplus(x))
  each_simd_path({
    expect_equal(sigmoid(x), ref[[1]], tolerance = 4 * .Machine$double.eps)
    expect_equal(log_sigmoid(x), ref[[2]], tolerance = 4 * .Machine$double.eps)
    expect_equal(softplus(x), ref[[3]], tolerance = 4 * .Machine$double.eps)
    expect_identical(is.nan(sigmoid(x)), is.nan(x))
    expect_identical(is.na(softplus(x)), is.na(x))
  })
})

test_that("logit is within 2 ulp over (0, 1), subnormal and near-1/2 inputs included", {
  skip_if_not_installed("Rmpfr")
  p <- prob_test_points()
  expect_lte(max(ulp_error(logit(p), exact_logit(p))), 2)
})

test_that("sigmoid keeps subnormal results where plogis underflows to 0", {
  skip_if_not_installed("Rmpfr")
  expect_identical(plogis(-710), 0)
  expect_gt(sigmoid(-710), 4.4e-309)
  expect_lte(ulp_error(sigmoid(-710), exact_sigmoid(-710)), 2)
  expect_lte(ulp_error(sigmoid(-745), exact_sigmoid(-745)), 2)
})

test_that("logit keeps the digits qlogis loses within 1e-9 of 1/2", {
  skip_if_not_installed("Rmpfr")
  set.seed(42)
  p <- 0.5 + runif(500, -1e-9, 1e-9)
  exact <- exact_logit(p)
  expect_gt(median(ulp_error(qlogis(p), exact)), 1e5)
  expect_lte(max(ulp_error(logit(p), exact)), 2)
})

test_that("the link functions agree with plogis and qlogis where those are exact", {
  x <- seq(-30, 30, by = 0.25)
  expect_equal(sigmoid(x), plogis(x), tolerance = 1e-15)
  expect_equal(log_sigmoid(x), plogis(x, log.p = TRUE), tolerance = 1e-15)
  expect_equal(softplus(x), -plogis(-x, log.p = TRUE), tolerance = 1e-15)
  p <- c(1e-300, 1e-10, 0.01, 0.2, 0.3, 0.7, 0.9, 1 - 1e-10)
  expect_equal(logit(p), qlogis(p), tolerance = 1e-12)
})

test_that("logit inverts sigmoid and sigmoid(-a) equals 1 - sigmoid(a)", {
  a <- seq(-20, 20, by = 0.1)
  expect_equal(logit(sigmoid(a)), a, tolerance = 1e-9)
  expect_equal(sigmoid(-a), 1 - sigmoid(a), tolerance = 1e-15)
  expect_equal(log_sigmoid(a), -softplus(-a), tolerance = 0)
})

test_that("extreme logits stay finite and exact", {
  expect_identical(log_sigmoid(-1e10), -1e10)
  expect_identical(softplus(1e10), 1e10)
  expect_identical(log_sigmoid(1e10), 0)
  expect_identical(softplus(-1e10), 0)
  expect_identical(sigmoid(c(-1e10, 1e10)), c(0, 1))
  expect_identical(sigmoid(c(-Inf, Inf)), c(0, 1))
  expect_identical(log_sigmoid(c(-Inf, Inf)), c(-Inf, 0))
  expect_identical(softplus(c(-Inf, Inf)), c(0, Inf))
  expect_identical(log_sigmoid(-800), -800)
  expect_identical(softplus(.Machine$double.xmax), .Machine$double.xmax)
})

test_that("logit maps 0 and 1 to -Inf and Inf and warns outside [0, 1]", {
  expect_identical(logit(c(0, 1, 0.5)), c(-Inf, Inf, 0))
  expect_warning(out <- logit(c(-0.1, 0.5, 1.5)), "NaNs produced")
  expect_identical(is.nan(out), c(TRUE, FALSE, TRUE))
  expect_warning(logit(c(0.1, NA, NaN, 0.9)), NA)
})

test_that("NA stays NA and NaN stays NaN", {
  x <- c(NA, NaN, 1)
  for (f in list(sigmoid, log_sigmoid, softplus, logit)) {
    out <- f(x)
    expect_identical(is.na(out), c(TRUE, TRUE, FALSE))
    expect_identical(is.nan(out), c(FALSE, TRUE, FALSE))
  }
})

test_that("shapes and attributes are kept as exp() keeps them", {
  m <- matrix(c(-1, 0, 1, 2), 2, dimnames = list(c("a", "b"), c("u", "v")))
  arr <- array(seq(-1, 1, length.out = 24), c(2, 3, 4))
  named <- c(first = -1, second = 2)
  for (f in list(sigmoid, log_sigmoid, softplus)) {
    expect_identical(attributes(f(m)), attributes(exp(m)))
    expect_identical(attributes(f(arr)), attributes(exp(arr)))
    expect_identical(names(f(named)), names(named))
  }
  expect_identical(attributes(logit(sigmoid(m))), attributes(m))
})

test_that("integer and logical inputs are coerced, empty input gives empty output", {
  expect_identical(sigmoid(0L), 0.5)
  expect_identical(sigmoid(c(TRUE, FALSE)), plogis(c(1, 0)))
  expect_identical(logit(TRUE), Inf)
  expect_identical(sigmoid(numeric(0)), numeric(0))
  expect_identical(softplus(integer(0)), numeric(0))
  expect_identical(dim(log_sigmoid(matrix(numeric(0), 0, 3))), c(0L, 3L))
})

test_that("the input is not modified", {
  x <- c(-1, 0, 1)
  y <- x
  sigmoid(x)
  softplus(x)
  expect_identical(x, y)
})

test_that("non-numeric input is an error naming the argument", {
  expect_error(sigmoid("a"), "`x` must be a numeric vector, matrix or array, not a string",
               class = "xentropy_error")
  expect_error(softplus(list(1, 2)), "`x` must be .* not a list", class = "xentropy_error")
  expect_error(log_sigmoid(NULL), "`x` must be .* not NULL", class = "xentropy_error")
  expect_error(logit(factor("a")), "`p` must be .* not a factor", class = "xentropy_error")
  expect_error(sigmoid(data.frame(a = 1)), "not a data frame", class = "xentropy_error")
  expect_error(sigmoid(1i), "not a complex", class = "xentropy_error")
})

test_that("logit is within 2 ulp on every SIMD path (vectorised), special values kept", {
  skip_if_not_installed("Rmpfr")
  p <- prob_test_points()
  exact <- exact_logit(p)
  each_simd_path({
    expect_lte(max(ulp_error(logit(p), exact)), 2)
    expect_identical(logit(c(0, 1, 0.5)), c(-Inf, Inf, 0))
    out <- suppressWarnings(logit(c(NA, NaN, -0.5, 1.5, 0.25, 0.75)))
    expect_identical(is.na(out), c(TRUE, TRUE, TRUE, TRUE, FALSE, FALSE))
    expect_identical(is.nan(out), c(FALSE, TRUE, TRUE, TRUE, FALSE, FALSE))
  })
})
