# Normalisers: logsumexp, softmax, log_softmax.

naive_lse <- function(x) log(sum(exp(x)))

# A sum whose error does not grow with length (pairwise), so that tolerances
# hold without R's long-double accumulator in sum() (arm64 macOS, valgrind).
pairwise_sum <- function(x) {
  while (length(x) > 1L) {
    if (length(x) %% 2L) x <- c(x, 0)
    x <- x[c(TRUE, FALSE)] + x[c(FALSE, TRUE)]
  }
  sum(x)
}

test_that("logsumexp matches the textbook formula on moderate inputs", {
  set.seed(1)
  x <- rnorm(50)
  expect_equal(logsumexp(x), naive_lse(x), tolerance = 1e-14)
  m <- matrix(rnorm(60), 12)
  expect_equal(logsumexp(m), apply(m, 1, naive_lse), tolerance = 1e-14)
  expect_equal(logsumexp(m, margin = 2), apply(m, 2, naive_lse), tolerance = 1e-14)
})

test_that("logsumexp is exact where the textbook formula overflows", {
  expect_identical(logsumexp(c(1000, 1000)), 1000 + log(2))
  expect_identical(logsumexp(c(-1000, -1000)), -1000 + log(2))
  expect_identical(logsumexp(c(1e308, 1e308)), 1e308)
  expect_identical(logsumexp(5), 5)
})

test_that("logsumexp keeps tiny contributions (log1p refinement)", {
  skip_if_not_installed("Rmpfr")
  x <- c(0, -40, -45)
  X <- Rmpfr::mpfr(x, mpfr_bits)
  expect_lte(ulp_error(logsumexp(x), log(sum(exp(X)))), 2)
  expect_gt(logsumexp(c(0, -46)), 0)
})

test_that("logsumexp agrees with 200-bit arithmetic on random rows", {
  skip_if_not_installed("Rmpfr")
  set.seed(2)
  m <- matrix(rnorm(200, sd = 20), 20)
  exact <- vapply(seq_len(nrow(m)), function(i) {
    Rmpfr::asNumeric(log(sum(exp(Rmpfr::mpfr(m[i, ], mpfr_bits)))))
  }, numeric(1))
  expect_equal(logsumexp(m), exact, tolerance = 4 * .Machine$double.eps)
})

test_that("logsumexp: all -Inf gives -Inf, +Inf gives Inf, empty gives -Inf", {
  expect_identical(logsumexp(c(-Inf, -Inf)), -Inf)
  expect_identical(logsumexp(c(1, Inf)), Inf)
  expect_identical(logsumexp(c(Inf, -Inf)), Inf)
  expect_identical(logsumexp(numeric(0)), -Inf)
  expect_identical(logsumexp(matrix(numeric(0), 3, 0)), rep(-Inf, 3))
  expect_identical(logsumexp(matrix(numeric(0), 0, 3)), numeric(0))
  m <- rbind(c(-Inf, -Inf), c(Inf, 0), c(0, 0))
  expect_identical(logsumexp(m), c(-Inf, Inf, log(2)))
})

test_that("logsumexp: NA gives NA, NaN gives NaN, na.rm drops both", {
  expect_true(is.na(logsumexp(c(1, NA))) && !is.nan(logsumexp(c(1, NA))))
  expect_true(is.nan(logsumexp(c(1, NaN))))
  expect_true(is.na(logsumexp(c(NaN, NA))) && !is.nan(logsumexp(c(NaN, NA))))
  expect_identical(logsumexp(c(0, 0, NA, NaN), na.rm = TRUE), log(2))
  expect_identical(logsumexp(c(NA, NaN), na.rm = TRUE), -Inf)
  m <- rbind(c(1, NA), c(NaN, 2), c(0, 0))
  out <- logsumexp(m)
  expect_identical(is.na(out), c(TRUE, TRUE, FALSE))
  expect_identical(is.nan(out), c(FALSE, TRUE, FALSE))
  expect_identical(logsumexp(m, na.rm = TRUE), c(1, 2, log(2)))
})

test_that("logsumexp names its result by the margin's dimnames", {
  m <- matrix(1:6, 2, dimnames = list(c("a", "b"), c("x", "y", "z")))
  expect_named(logsumexp(m), c("a", "b"))
  expect_named(logsumexp(m, margin = 2), c("x", "y", "z"))
  expect_null(names(logsumexp(c(a = 1, b = 2))))
})

test_that("softmax rows sum to 1 and match the textbook formula", {
  set.seed(3)
  m <- matrix(rnorm(60, sd = 3), 12)
  p <- softmax(m)
  expect_equal(rowSums(p), rep(1, 12), tolerance = 1e-15)
  expect_equal(p, exp(m) / rowSums(exp(m)), tolerance = 1e-14)
  pc <- softmax(m, margin = 2)
  expect_equal(colSums(pc), rep(1, 5), tolerance = 1e-15)
  expect_equal(pc, t(t(exp(m)) / colSums(exp(m))), tolerance = 1e-14)
  v <- rnorm(7)
  expect_equal(softmax(v), exp(v) / sum(exp(v)), tolerance = 1e-14)
})

test_that("log_softmax is x - logsumexp(x) and exp(log_softmax) is softmax", {
  set.seed(4)
  m <- matrix(rnorm(40, sd = 5), 8)
  expect_equal(log_softmax(m), m - logsumexp(m), tolerance = 1e-14)
  expect_equal(exp(log_softmax(m)), softmax(m), tolerance = 1e-14)
  expect_equal(log_softmax(m, margin = 2), t(t(m) - logsumexp(m, margin = 2)),
               tolerance = 1e-14)
})

test_that("softmax and log_softmax handle huge, -Inf and +Inf scores as limits", {
  expect_identical(softmax(c(1000, 1000, -Inf)), c(0.5, 0.5, 0))
  expect_identical(log_softmax(c(1000, 1000, -Inf)), c(-log(2), -log(2), -Inf))
  expect_identical(softmax(c(Inf, 1, Inf)), c(0.5, 0, 0.5))
  expect_identical(log_softmax(c(Inf, 1, Inf)), c(-log(2), -Inf, -log(2)))
  expect_identical(softmax(c(Inf, 1)), c(1, 0))
  expect_identical(log_softmax(c(0, -800)), c(0, -800))
  expect_identical(softmax(c(-1e10, 1e10)), c(0, 1))
  expect_true(all(is.nan(softmax(c(-Inf, -Inf)))))
  expect_true(all(is.nan(log_softmax(c(-Inf, -Inf)))))
})

test_that("softmax keeps NA and NaN entries and marks the rest of their row", {
  m <- rbind(c(NA, 1, NaN), c(NaN, 1, 2), c(0, 0, 0))
  p <- softmax(m)
  expect_identical(is.na(p[1, ]), c(TRUE, TRUE, TRUE))
  expect_identical(is.nan(p[1, ]), c(FALSE, FALSE, TRUE))
  expect_true(all(is.nan(p[2, ])))
  expect_equal(p[3, ], rep(1 / 3, 3), tolerance = 1e-15)
  lp <- log_softmax(m)
  expect_identical(is.nan(lp), is.nan(p))
  expect_identical(is.na(lp), is.na(p))
})

test_that("temperature divides the scores", {
  set.seed(5)
  m <- matrix(rnorm(20), 4)
  expect_equal(softmax(m, temperature = 2.5), softmax(m / 2.5), tolerance = 1e-15)
  expect_equal(log_softmax(m, temperature = 0.1), log_softmax(m / 0.1),
               tolerance = 1e-15)
  expect_identical(softmax(m, temperature = 1), softmax(m))
  flat <- softmax(c(3, 1, 0), temperature = 1e6)
  expect_equal(flat, rep(1 / 3, 3), tolerance = 1e-5)
})

test_that("softmax and log_softmax keep shape and attributes", {
  m <- matrix(1:6, 2, dimnames = list(c("a", "b"), c("x", "y", "z")))
  expect_identical(attributes(softmax(m)), attributes(m))
  expect_identical(attributes(log_softmax(m, margin = 2)), attributes(m))
  v <- c(a = 1, b = 2)
  expect_named(softmax(v), c("a", "b"))
  expect_identical(dim(softmax(matrix(numeric(0), 0, 3))), c(0L, 3L))
  expect_identical(softmax(numeric(0)), numeric(0))
  expect_identical(softmax(c(TRUE, FALSE)), softmax(c(1, 0)))
})

test_that("a vector is one distribution whatever the margin", {
  v <- c(1, 2, 3)
  expect_identical(softmax(v, margin = 2), softmax(v))
  expect_identical(logsumexp(v, margin = 2), logsumexp(v))
  expect_identical(softmax(v), softmax(matrix(v), margin = 2)[, 1])
})

test_that("long columns are reduced in blocks and agree with short ones", {
  set.seed(6)
  x <- rnorm(1e5 + 7, sd = 10)
  expect_equal(logsumexp(x), logsumexp(matrix(x, ncol = 1), margin = 2), tolerance = 0)
  expect_equal(logsumexp(x), max(x) + log(pairwise_sum(exp(x - max(x)))), tolerance = 1e-13)
  p <- softmax(x)
  expect_equal(pairwise_sum(p), 1, tolerance = 1e-13)
  expect_equal(softmax(matrix(x, 1))[1, ], p, tolerance = 1e-12)
})

test_that("bad arguments are errors naming the argument", {
  m <- matrix(1:4, 2)
  expect_error(logsumexp("a"), "`x` must be a numeric vector, matrix or array, not a string",
               class = "xentropy_error")
  expect_error(softmax(list(1)), "`x` must be .* not a list", class = "xentropy_error")
  expect_error(log_softmax(NULL), "`x` must be .* not NULL", class = "xentropy_error")
  expect_error(softmax(array(1:8, c(2, 2, 2))),
               "`x` must be a numeric vector or matrix, not a 3-dimensional array",
               class = "xentropy_error")
  expect_error(softmax(m, margin = 3), "`margin` must be 1 \\(rows\\) or 2 \\(columns\\), not 3",
               class = "xentropy_error")
  expect_error(logsumexp(m, margin = "rows"), "`margin` must be .* not a string",
               class = "xentropy_error")
  expect_error(softmax(m, margin = c(1, 2)), "`margin`", class = "xentropy_error")
  expect_error(softmax(m, temperature = 0), "`temperature` must be a single positive finite number, not 0",
               class = "xentropy_error")
  expect_error(log_softmax(m, temperature = -1), "`temperature`", class = "xentropy_error")
  expect_error(softmax(m, temperature = Inf), "`temperature`", class = "xentropy_error")
  expect_error(softmax(m, temperature = NA), "`temperature`", class = "xentropy_error")
  expect_error(logsumexp(m, na.rm = NA), "`na.rm` must be TRUE or FALSE, not NA",
               class = "xentropy_error")
  expect_error(logsumexp(m, na.rm = "yes"), "`na.rm` must be TRUE or FALSE, not a string",
               class = "xentropy_error")
})

test_that("every SIMD path gives the same normalisers to 1e-15, special rows included", {
  set.seed(21)
  m <- matrix(rnorm(3000, sd = 20), 300)
  m[5, 2] <- NA
  m[6, 3] <- NaN
  m[7, ] <- -Inf
  m[8, 1:2] <- Inf
  v <- rnorm(20000, sd = 5)
  run <- function() {
    list(logsumexp(m), logsumexp(m, 2), softmax(m), log_softmax(m), softmax(m, 2),
         logsumexp(v), softmax(v), log_softmax(m, temperature = 3), logsumexp(m, na.rm = TRUE))
  }
  ref <- run()
  each_simd_path({
    got <- run()
    for (i in seq_along(ref)) {
      expect_equal(got[[i]], ref[[i]], tolerance = 1e-15)
      expect_identical(is.na(got[[i]]), is.na(ref[[i]]))
      expect_identical(is.nan(got[[i]]), is.nan(ref[[i]]))
    }
  })
})

test_that("temperature subtracts the maximum before scaling, on every SIMD path", {
  skip_if_not_installed("Rmpfr")
  exact_softmax <- function(x, T) {
    X <- Rmpfr::mpfr(x, mpfr_bits)
    E <- exp((X - max(X)) / T)
    E / sum(E)
  }
  exact_lse <- function(x, T) {
    X <- Rmpfr::mpfr(x, mpfr_bits)
    max(X) / T + log(sum(exp((X - max(X)) / T)))
  }
  x <- c(1e10, 1e10 + 1)
  each_simd_path({
    expect_identical(softmax(c(1e10, 2e10), temperature = 1e-300), c(0, 1))
    expect_identical(softmax(c(-1e10, -2e10), temperature = 1e-300), c(1, 0))
    expect_identical(softmax(c(1e308, 1.5e308), temperature = 0.5), c(0, 1))
    expect_identical(log_softmax(c(1e10, 2e10), temperature = 1e-300), c(-Inf, 0))
    # x - m overflows: the halves are subtracted instead
    expect_equal(softmax(c(-1e308, 1e308), temperature = 1e308),
                 Rmpfr::asNumeric(exact_softmax(c(-1e308, 1e308), 1e308)),
                 tolerance = 1e-15)
    expect_equal(log_softmax(c(-1e308, 1e308), temperature = 1e308), c(-2, 0) - log1p(exp(-2)),
                 tolerance = 1e-15)
    expect_lte(max(ulp_error(softmax(x, temperature = 3), exact_softmax(x, 3))), 2)
    expect_lte(max(ulp_error(softmax(rbind(x, x), temperature = 3)[1, ],
                             exact_softmax(x, 3))), 2)
    expect_lte(max(ulp_error(softmax(cbind(x, x), margin = 2, temperature = 3)[, 2],
                             exact_softmax(x, 3))), 2)
    lx <- log_softmax(x, temperature = 3)
    expect_lte(max(ulp_error(lx, log(exact_softmax(x, 3)))), 2)
    # scores within T of each other: the rounding of (x - m) / T costs at most
    # |x - m| / T / 2 ulp, so 2 ulp holds where that is below 1
    set.seed(30)
    z <- c(1e10 + runif(40, -0.5, 0), 1e10)
    expect_lte(max(ulp_error(softmax(z, temperature = 0.7), exact_softmax(z, 0.7))), 2)
  })
})

test_that("long rows and columns are summed without error growing with length", {
  skip_if_not_installed("Rmpfr")
  # 3e6 - 1 terms exp(-1) and one exp(0): a sum in sequence is off by ~1e-11
  n <- 3e6
  x <- numeric(n)
  x[n] <- 1
  exact <- log(exp(Rmpfr::mpfr(1, mpfr_bits)) + (n - 1))
  z <- rbind(x, x)  # two rows: the row-block path
  each_simd_path({
    expect_lte(ulp_error(logsumexp(x), exact), 2)
    expect_lte(ulp_error(logsumexp(matrix(x, 1)), exact), 2)
    expect_lte(max(ulp_error(logsumexp(z), exact)), 2)
    p <- softmax(z)[1, c(1, n)]
    expect_lte(max(ulp_error(p, exp(c(0, 1) - exact))), 2)
  })
})

test_that("kernels poll for interrupts between blocks and stop when asked", {
  # a hook that asks to stop at its k-th call stands in for Ctrl-C
  poll <- xentropy:::interrupt_test_impl
  x <- rnorm(5e6)
  m <- matrix(x, 2)
  for (threads in 1:2) {
    n <- poll(x, 1L, 1e6L, threads)
    expect_gte(n, 3)  # about one poll per million elements read
    expect_identical(tryCatch(poll(x, 1L, 2L, threads), interrupt = function(e) "interrupted"),
                     "interrupted")
    expect_gte(poll(m, 1L, 1e6L, threads), 3)
    expect_identical(tryCatch(poll(m, 1L, 2L, threads), interrupt = function(e) "interrupted"),
                     "interrupted")
    expect_gte(poll(matrix(x, 1000), 2L, 1e6L, threads), 1)
    expect_gte(poll(matrix(x, 5000), 1L, 1e6L, threads), 1)
  }
  # small inputs: no poll at all
  expect_identical(poll(rnorm(100), 1L, 1L, 1L), 0L)
  # and after an interrupt, results are whole again
  expect_equal(logsumexp(x), max(x) + log1p(pairwise_sum(exp(x[-which.max(x)] - max(x)))),
                   tolerance = 1e-12)
})

test_that("Ctrl-C (SIGINT) stops a long softmax inside the kernel", {
  skip_on_cran()
  skip_on_os("windows")
  rscript <- file.path(R.home("bin"), "Rscript")
  script <- tempfile(fileext = ".R")
  writeLines(c(
    sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
    "library(xentropy)",
    "x <- matrix(rnorm(2e7), 2)",
    "full <- system.time(softmax(x))[['elapsed']]",
    "system(sprintf('(sleep 0.05; kill -INT %d) > /dev/null 2>&1 &', Sys.getpid()))",
    "t0 <- proc.time()[['elapsed']]",
    "r <- tryCatch({ softmax(x); 'finished' }, interrupt = function(e) 'interrupted')",
    "cat(r, full, proc.time()[['elapsed']] - t0, '\\n')"
  ), script)
  out <- system2(rscript, c("--vanilla", script), stdout = TRUE, stderr = TRUE)
  res <- strsplit(trimws(tail(out, 1)), " ")[[1]]
  skip_if(as.numeric(res[2]) < 0.3, "softmax too fast here to interrupt it")
  expect_identical(res[1], "interrupted")
  expect_lt(as.numeric(res[3]), as.numeric(res[2]))
})

# --- weighted logsumexp, log1mexp, logdiffexp ------------------------------

exact_log1mexp <- function(x) {
  X <- Rmpfr::mpfr(x, mpfr_bits)
  E <- exp(-X)
  r <- log(-expm1(-X))
  # 1 - exp(-x) needs more than 200 bits above x = 40: use the series
  big <- x > 40
  r[big] <- -(E[big] + E[big]^2 / 2 + E[big]^3 / 3)
  r
}

test_that("weighted logsumexp is log sum b exp(x), within 2 ulp, on every SIMD path", {
  skip_if_not_installed("Rmpfr")
  set.seed(40)
  m <- matrix(rnorm(600, sd = 30), 30)
  w <- matrix(rexp(600), 30)
  w[sample(600, 60)] <- 0
  b <- rexp(20)
  exact_rows <- function(m, w) {
    vapply(seq_len(nrow(m)), function(i) {
      X <- Rmpfr::mpfr(m[i, ], mpfr_bits)
      Rmpfr::asNumeric(log(sum(Rmpfr::mpfr(w[i, ], mpfr_bits) * exp(X))))
    }, numeric(1))
  }
  ref_rows <- exact_rows(m, w)
  ref_cols <- exact_rows(t(m), t(w))
  ref_shared <- exact_rows(m, matrix(b, nrow(m), 20, byrow = TRUE))
  ulps <- function(got, ref) abs(got - ref) / (2^(floor(log2(abs(ref))) - 52))
  each_simd_path({
    expect_lte(max(ulps(logsumexp(m, weights = w), ref_rows)), 2)
    expect_lte(max(ulps(logsumexp(m, margin = 2, weights = w), ref_cols)), 2)
    expect_lte(max(ulps(logsumexp(m, weights = b), ref_shared)), 2)
    expect_lte(max(ulps(logsumexp(m[1, ], weights = w[1, ]), ref_rows[1])), 2)
    expect_lte(max(ulps(logsumexp(m[1, , drop = FALSE], weights = w[1, ]), ref_rows[1])), 2)
    # unit weights agree with the unweighted form
    expect_equal(logsumexp(m, weights = rep(1, 20)), logsumexp(m), tolerance = 1e-15)
    expect_equal(logsumexp(m, 2, weights = rep(1, 30)), logsumexp(m, 2), tolerance = 1e-15)
  })
  # long rows and columns with weights (chunks and compensation)
  x <- rnorm(1e5)
  wx <- rexp(1e5)
  X <- Rmpfr::mpfr(x, mpfr_bits)
  skip_on_cran()
  ref <- Rmpfr::asNumeric(log(sum(Rmpfr::mpfr(wx, mpfr_bits) * exp(X))))
  expect_lte(ulps(logsumexp(x, weights = wx), ref), 2)
  expect_lte(ulps(logsumexp(rbind(x, x), weights = wx)[2], ref), 2)
})

test_that("weighted logsumexp: zero weights drop entries, extremes and missing values", {
  expect_identical(logsumexp(c(1000, 999), weights = c(2, 3)),
                   1000 + log(2 + 3 * exp(-1)))
  expect_identical(logsumexp(c(5, Inf, NA), weights = c(1, 0, 0)), 5)
  expect_identical(logsumexp(c(5, 7), weights = c(0, 0)), -Inf)
  expect_identical(logsumexp(c(1, Inf), weights = c(1, 2)), Inf)
  expect_identical(logsumexp(c(-Inf, -Inf), weights = c(1, 2)), -Inf)
  expect_identical(logsumexp(c(0, 0), weights = c(0.25, 0.25)), log(0.5))
  # a tiny weight on the maximum: the others dominate
  expect_equal(logsumexp(c(0, -1), weights = c(1e-300, 1)), -1, tolerance = 1e-15)
  expect_true(is.na(logsumexp(c(1, NA), weights = c(1, 1))))
  expect_false(is.nan(logsumexp(c(1, NA), weights = c(1, 1))))
  expect_true(is.nan(logsumexp(c(1, NaN), weights = c(1, 1))))
  expect_true(is.na(logsumexp(c(1, 2), weights = c(1, NA))))
  expect_true(is.nan(logsumexp(c(1, 2), weights = c(1, NaN))))
  expect_identical(logsumexp(c(1, 2), weights = c(1, NA), na.rm = TRUE), 1)
  m <- rbind(a = c(1, NA), b = c(NaN, 2), c = c(0, 0))
  out <- logsumexp(m, weights = c(1, 1))
  expect_identical(is.na(out), c(a = TRUE, b = TRUE, c = FALSE))
  expect_identical(is.nan(out), c(a = FALSE, b = TRUE, c = FALSE))
  expect_identical(logsumexp(m, weights = c(1, 1), na.rm = TRUE), c(a = 1, b = 2, c = log(2)))
  expect_identical(logsumexp(matrix(numeric(0), 2, 0), weights = numeric(0)), rep(-Inf, 2))
})

test_that("weighted logsumexp: bad weights are errors naming `weights`", {
  m <- matrix(1:6, 2)
  expect_error(logsumexp(m, weights = c(1, 2)),
               "`weights` must have one weight per column of `x` \\(3\\) or the shape of `x` \\(2 x 3\\), not length 2",
               class = "xentropy_error")
  expect_error(logsumexp(m, margin = 2, weights = matrix(1, 3, 2)),
               "one weight per row of `x` \\(2\\) .* not a 3 x 2 matrix", class = "xentropy_error")
  expect_error(logsumexp(1:3, weights = 1:2), "`weights` must have the length of `x` \\(3\\), not length 2",
               class = "xentropy_error")
  expect_error(logsumexp(1:3, weights = c(1, -0.5, 1)),
               "`weights` must be non-negative finite numbers; found -0.5 at position 2",
               class = "xentropy_error")
  expect_error(logsumexp(1:3, weights = c(1, Inf, 1)), "found Inf at position 2",
               class = "xentropy_error")
  expect_error(logsumexp(1:3, weights = "a"), "`weights` must be a numeric", class = "xentropy_error")
})

test_that("log1mexp is within 2 ulp over the whole double range, on every SIMD path", {
  skip_if_not_installed("Rmpfr")
  x <- abs(link_test_points())
  x <- unique(c(x, log(2) * (1 + c(-1, 0, 1) * 2^-52), 40, 745.2, 800))
  x <- x[x > 0]
  exact <- exact_log1mexp(x)
  each_simd_path({
    got <- log1mexp(x)
    err <- ulp_error(got, exact)
    err[got == 0 & Rmpfr::asNumeric(exact) == 0] <- 0
    expect_lte(max(err), 2)
  })
  # the direct forms fail where log1mexp does not
  expect_identical(log(1 - exp(-1e-20)), -Inf)
  expect_equal(log1mexp(1e-20), log(1e-20), tolerance = 1e-15)
  expect_equal(log1mexp(50), -exp(-50), tolerance = 1e-15)
})

test_that("log1mexp: 0, Inf, negative, NA/NaN and attributes", {
  expect_identical(log1mexp(0), -Inf)
  expect_identical(log1mexp(Inf), 0)
  expect_warning(out <- log1mexp(c(-1, 1)), "NaNs produced")
  expect_true(is.nan(out[1]))
  expect_silent(out <- log1mexp(c(NA, NaN, 1)))
  expect_true(is.na(out[1]) && !is.nan(out[1]))
  expect_true(is.nan(out[2]))
  m <- matrix(c(a = 1, b = 2, c = 3, d = 4), 2, dimnames = list(c("r1", "r2"), c("c1", "c2")))
  expect_identical(attributes(log1mexp(m)), attributes(m))
  expect_identical(log1mexp(c(x = 1L)), c(x = log1mexp(1)))
  expect_identical(log1mexp(numeric(0)), numeric(0))
  expect_error(log1mexp("a"), "`x` must be a numeric", class = "xentropy_error")
})

test_that("logdiffexp is within 2 ulp against 200-bit arithmetic, on every SIMD path", {
  skip_if_not_installed("Rmpfr")
  set.seed(41)
  a <- c(rnorm(500, sd = 50), runif(300, -800, 800), 1e10 + 1, 1e308, -1e308, 700, -745)
  b <- a - c(rexp(300, 0.1), rexp(300, 10), 10^runif(200, -15, 2), 1, 1e308, 1, 1e-10, 2^-40)
  A <- Rmpfr::mpfr(a, mpfr_bits)
  B <- Rmpfr::mpfr(b, mpfr_bits)
  D <- A - B
  L <- log(-expm1(-D))
  big <- Rmpfr::asNumeric(D) > 40
  L[big] <- -(exp(-D[big]) + exp(-2 * D[big]) / 2)
  exact <- A + L
  each_simd_path({
    expect_lte(max(ulp_error(logdiffexp(a, b), exact)), 2)
    # where the result cancels against a: log(3 - 2) from rounded logs
    x <- log(3)
    y <- log(2)
    ex <- log(exp(Rmpfr::mpfr(x, mpfr_bits)) - exp(Rmpfr::mpfr(y, mpfr_bits)))
    # (the result is about 1e-16: an error below |a| 2^-60 is 1% of it;
    # log(exp(x) - exp(y)) is off by 100%)
    expect_lt(abs(logdiffexp(x, y) - Rmpfr::asNumeric(ex)), abs(x) * 2^-60)
  })
  expect_identical(logdiffexp(1000, 999), 1000 + log1mexp(1))
  # a - b subnormal: log(exp(x) - 1) is about log(x)
  x <- c(1e-316, 5e-324, 2^-1022)
  each_simd_path(expect_lte(max(ulp_error(logdiffexp(x, 0),
                                          Rmpfr::mpfr(x, mpfr_bits) + exact_log1mexp(x))), 2))
})

test_that("logdiffexp: equal arguments, infinities, recycling, NA/NaN and attributes", {
  expect_identical(logdiffexp(3, 3), -Inf)
  expect_identical(logdiffexp(-Inf, -Inf), -Inf)
  expect_identical(logdiffexp(2, -Inf), 2)
  expect_identical(logdiffexp(Inf, 2), Inf)
  expect_warning(out <- logdiffexp(c(Inf, 1), c(Inf, 2)), "NaNs produced")
  expect_true(all(is.nan(out)))
  expect_identical(logdiffexp(c(a = 1, b = 2), 0), c(a = logdiffexp(1, 0), b = logdiffexp(2, 0)))
  expect_identical(logdiffexp(5, c(1, 2, 3)), c(logdiffexp(5, 1), logdiffexp(5, 2), logdiffexp(5, 3)))
  expect_warning(logdiffexp(c(5, 6, 7), c(1, 2)), "longer object length is not a multiple")
  expect_identical(suppressWarnings(logdiffexp(c(5, 6, 7), c(1, 2))),
                   c(logdiffexp(5, 1), logdiffexp(6, 2), logdiffexp(7, 1)))
  out <- logdiffexp(c(NA, NaN, 1, NA), c(0, 0, NA, NaN))
  expect_identical(is.na(out), rep(TRUE, 4))
  expect_identical(is.nan(out), c(FALSE, TRUE, FALSE, FALSE))
  m <- matrix(5:8, 2, dimnames = list(c("r1", "r2"), NULL))
  expect_identical(attributes(logdiffexp(m, 1)), attributes(m))
  expect_identical(logdiffexp(numeric(0), 1), numeric(0))
  expect_error(logdiffexp("a", 1), "`a` must be a numeric", class = "xentropy_error")
  expect_error(logdiffexp(1, list(1)), "`b` must be a numeric", class = "xentropy_error")
  # long input: several chunks and threads give the same
  set.seed(42)
  a <- rnorm(1e5, sd = 10)
  b <- a - rexp(1e5)
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  xentropy_threads(1)
  one <- logdiffexp(a, b)
  xentropy_threads(2)
  expect_identical(logdiffexp(a, b), one)
})

test_that("short columns (margin = 2, few rows) agree with the row path, on every SIMD path", {
  set.seed(43)
  m <- matrix(rnorm(10 * 3000, sd = 5), 10)
  m[2, 5] <- NA
  m[3, 6] <- NaN
  m[, 7] <- -Inf
  m[1:2, 8] <- Inf
  m[4, 9] <- -Inf
  tm <- t(m)
  each_simd_path({
    for (T in c(1, 0.3)) {
      expect_equal(softmax(m, 2, temperature = T), t(softmax(tm, temperature = T)), tolerance = 1e-15)
      expect_equal(log_softmax(m, 2, temperature = T), t(log_softmax(tm, temperature = T)),
                   tolerance = 1e-15)
      expect_identical(is.nan(softmax(m, 2, temperature = T)), t(is.nan(softmax(tm, temperature = T))))
    }
    expect_equal(logsumexp(m, 2), logsumexp(tm), tolerance = 1e-15)
    expect_identical(is.nan(logsumexp(m, 2)), is.nan(logsumexp(tm)))
    expect_equal(logsumexp(m, 2, na.rm = TRUE), logsumexp(tm, na.rm = TRUE), tolerance = 1e-15)
    expect_equal(logsumexp(m[1:3, ], 2), logsumexp(t(m[1:3, ])), tolerance = 1e-15)
    # one row: every column is a single entry
    expect_identical(softmax(matrix(c(3, -2, Inf, -Inf), 1), 2), matrix(c(1, 1, 1, NaN), 1))
    expect_identical(logsumexp(matrix(c(3, -2, Inf, -Inf), 1), 2), c(3, -2, Inf, -Inf))
  })
})

test_that("short columns with terms below exp's normal range agree with the row path", {
  # the short-column kernels take exp of a group of columns through a faster
  # exp when every shifted score is above -708, the full one otherwise
  set.seed(44)
  m <- matrix(rnorm(7 * 203), 7)
  m[3, 5] <- -720   # exp(-720) is subnormal
  m[, 17] <- c(0, -744, -745.5, -800, -1, -2, -3)
  m[1, 40] <- 1e308
  m[2, 40] <- -1e308
  # special values in the columns after the last full group of 8 as well
  m[2, 202] <- NaN
  m[5, 203] <- NA
  m[, 201] <- -Inf
  m[3:4, 200] <- Inf
  m[, 55] <- NaN
  tm <- t(m)
  each_simd_path({
    expect_identical(is.na(softmax(m, 2)), t(is.na(softmax(tm))))
    expect_identical(is.nan(logsumexp(m, 2)), is.nan(logsumexp(tm)))
    expect_equal(logsumexp(m, 2, na.rm = TRUE), logsumexp(tm, na.rm = TRUE), tolerance = 1e-15)
    expect_equal(softmax(m, 2, temperature = 0.5), t(softmax(tm, temperature = 0.5)),
                 tolerance = 1e-15)
    expect_equal(softmax(m, 2), t(softmax(tm)), tolerance = 1e-15)
    expect_identical(softmax(m, 2)[, 17] == 0, softmax(tm)[17, ] == 0)
    expect_equal(softmax(m, 2)[2, 17], exp(-744), tolerance = 1e-15)
    expect_equal(log_softmax(m, 2), t(log_softmax(tm)), tolerance = 1e-15)
    expect_equal(logsumexp(m, 2), logsumexp(tm), tolerance = 1e-15)
    expect_equal(logsumexp(m[c(1, 3), ], 2), logsumexp(tm[, c(1, 3)]), tolerance = 1e-15)
  })
  # log(1 + exp(-720)) is subnormal, kept to the last bit
  expect_identical(logsumexp(matrix(c(0, -720, -720, 0), 2), 2), rep(exp(-720), 2))
})

test_that("weighted logsumexp over short columns: a +Inf entry of positive weight gives +Inf", {
  M <- matrix(c(1, Inf, 2, 3), 2)
  expect_identical(logsumexp(M, margin = 2, weights = c(1, 1)), c(Inf, log(exp(2) + exp(3))))
  expect_equal(logsumexp(M, margin = 2, weights = c(1, 1)), logsumexp(t(M), margin = 1, weights = c(1, 1)),
               tolerance = 1e-15)
  M2 <- matrix(c(0.5, Inf, 2, 1, 3, 4), 3)
  expect_identical(logsumexp(M2, margin = 2, weights = matrix(1, 3, 2))[1], Inf)
  # a zero weight removes it
  expect_equal(logsumexp(M, margin = 2, weights = c(1, 0)), c(1, 2), tolerance = 1e-15)
})

test_that("softmax, its cross-entropy and gradient stay within 2 ulp far below the row's maximum", {
  # exp of the rounded shift z - m alone is off by |z - m| 2^-53 relative: 475 ulp on
  # these rows, 810 with temperature 0.7, 337 for the cross-entropy of the largest class
  skip_if_not_installed("Rmpfr")
  set.seed(11)
  ru <- function(k, a, b) a + (b - a) * (runif(k) + runif(k) * 2^-32)  # 53-bit mantissas
  n <- 60
  K <- 4
  Z <- matrix(ru(n * K, -740, 30), n, K)
  Z[, 1] <- ru(n, 20, 30)
  M <- Rmpfr::mpfr(Z, mpfr_bits)
  exact <- function(i, T) {
    zi <- M[(0:(K - 1)) * n + i] / T
    e <- exp(zi - max(zi))
    e / sum(e)
  }
  for (T in c(1, 3, 0.7)) {
    S <- softmax(Z, temperature = T)
    St <- softmax(t(Z), margin = 2, temperature = T)
    for (i in seq_len(n)) {
      ex <- exact(i, T)
      expect_lte(max(ulp_error(S[i, ], ex)), 2)
      expect_lte(max(ulp_error(St[, i], ex)), 2)
    }
  }
  ce <- softmax_cross_entropy(rep(1L, n), Z, reduction = "none")
  g <- softmax_cross_entropy_grad(rep(1L, n), Z, reduction = "sum")
  for (i in seq_len(n)) {
    zi <- M[(0:(K - 1)) * n + i]
    expect_lte(ulp_error(ce[i], log1p(sum(exp(zi[-1] - zi[1])))), 2)
    expect_lte(max(ulp_error(g[i, -1], exact(i, 1)[-1])), 2)
  }
  zl <- c(25, ru(3000, -740, 20))
  ml <- Rmpfr::mpfr(zl, mpfr_bits)
  el <- exp(ml - max(ml))
  expect_lte(max(ulp_error(softmax(zl), el / sum(el))), 2)
  expect_lte(max(ulp_error(softmax(matrix(zl, 1))[1, ], el / sum(el))), 2)
})

test_that("logsumexp() of a 1-d array (a table) is that of its values", {
  # it stopped: the dimnames were put on the single result
  a <- array(c(1, 2, 3), 3, dimnames = list(c("a", "b", "c")))
  expect_equal(logsumexp(a), log(sum(exp(1:3))), tolerance = 1e-15)
  expect_equal(logsumexp(a, margin = 2), log(sum(exp(1:3))), tolerance = 1e-15)
  expect_equal(logsumexp(log(table(c(1, 1, 2, 3)))), log(4), tolerance = 1e-15)
})

test_that("weighted logsumexp() neither overflows in huge weights nor loses a huge weight's underflowed term", {
  # Inf where the answer is 711.9; -690.8 (the small-weight term alone) where it is -109.2
  expect_equal(logsumexp(c(1, 2), weights = c(1.5e308, 1.5e308)),
               log(1.5e308) + log(exp(1) + exp(2)), tolerance = 1e-15)
  expect_equal(logsumexp(c(5, 5), weights = c(1e308, 1e308)), log(1e308) + log(2) + 5,
               tolerance = 1e-15)
  expect_equal(logsumexp(c(0, -800), weights = c(1e-300, 1e300)),
               log(1e-300) + log1p(exp(log(1e300) - log(1e-300) - 800)), tolerance = 1e-13)
  X <- matrix(c(1, 2, 3, 4), 2)
  expect_equal(logsumexp(X, weights = c(1e308, 1e308)), log(1e308) + log(exp(c(1, 2)) + exp(c(3, 4))),
               tolerance = 1e-15)
  expect_equal(logsumexp(X, margin = 2, weights = matrix(1e308, 2, 2)),
               log(1e308) + log(exp(c(1, 3)) + exp(c(2, 4))), tolerance = 1e-15)
  # zero weights leave entries out, missing ones stay missing
  expect_equal(logsumexp(c(1, Inf), weights = c(1e308, 0)), log(1e308) + 1, tolerance = 1e-15)
  expect_identical(logsumexp(c(1, 2, NA), weights = c(1e308, 1e308, 1)), NA_real_)
  expect_equal(logsumexp(c(1, 2, NA), weights = c(1e308, 1e308, 1), na.rm = TRUE),
               log(1e308) + log(exp(1) + exp(2)), tolerance = 1e-15)
})
