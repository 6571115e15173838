# Large inputs (issue 11): the vectorised, threaded kernels of
# loglik_multinomial, mle_categorical, weighted logsumexp, softmax by columns,
# logdiffexp and the focal losses, against exact references and against
# themselves on 1 and 2 threads and on every SIMD path.

# Runs `expr` with 1 and 2 threads and expects identical results; returns the
# 2-thread one.
same_on_threads <- function(expr) {
  expr <- substitute(expr)
  env <- parent.frame()
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  xentropy_threads(1)
  one <- eval(expr, env)
  xentropy_threads(2)
  two <- eval(expr, env)
  expect_identical(one, two)
  two
}

# log P(counts | prob) with 200-bit MPFR (prob rescaled to sum to 1 per row).
exact_multinomial <- function(C, P, full = TRUE) {
  K <- ncol(C)
  Cm <- lapply(seq_len(K), function(k) Rmpfr::mpfr(C[, k], mpfr_bits))
  Pm <- lapply(seq_len(K), function(k) Rmpfr::mpfr(P[, k], mpfr_bits))
  total <- Reduce(`+`, Pm)
  N <- Reduce(`+`, Cm)
  r <- Rmpfr::mpfr(rep(0, nrow(C)), mpfr_bits)
  for (k in seq_len(K)) {
    t <- Cm[[k]] * log(Pm[[k]] / total)
    t[C[, k] == 0] <- 0
    if (full) t <- t - lgamma(Cm[[k]] + 1)
    r <- r + t
  }
  if (full) r <- r + lgamma(N + 1)
  r
}

test_that("loglik_multinomial is within 1 ulp of 200-bit MPFR per row, on every path and thread count", {
  skip_if_not_installed("Rmpfr")
  set.seed(20261125)
  nr <- 400
  K <- 10
  # small counts (the table of log n!), large ones (Stirling's series),
  # counts >= 2^21 and totals >= 2^26 (the scalar path), many zeros
  C <- rbind(matrix(rpois(nr * K, 3), nr, K),
             matrix(rpois(nr * K, 5000), nr, K),
             matrix(round(exp(runif(nr * K, 0, 14))), nr, K),
             matrix(round(exp(runif(nr * K, 10, 17))), nr, K),
             matrix(rbinom(nr * K, 3, 0.2), nr, K)) + 0
  Z <- matrix(rnorm(nrow(C) * K, sd = 3), nrow(C), K)
  P <- exp(Z) / rowSums(exp(Z))
  P[seq_len(nr), ] <- P[seq_len(nr), ] * 3.7  # not normalised
  P[nr + 1, 1] <- 1e-300
  exact <- list(exact_multinomial(C, P, TRUE), exact_multinomial(C, P, FALSE))
  each_simd_path({
    full <- same_on_threads(loglik_multinomial(C, P))
    part <- same_on_threads(loglik_multinomial(C, P, full = FALSE))
    expect_lte(max(ulp_error(full, exact[[1]])), 1)
    expect_lte(max(ulp_error(part, exact[[2]])), 1)
  })
})

test_that("loglik_multinomial: rows with NA, NaN, q = 0 < n or a shared vector, in large matrices", {
  set.seed(5)
  nr <- 5000
  C <- matrix(rpois(nr * 4, 4), nr, 4) + 0
  P <- matrix(runif(nr * 4), nr, 4)
  ref <- vapply(seq_len(nr), function(i) dmultinom(C[i, ], prob = P[i, ], log = TRUE), 0)
  C[7, 2] <- NA
  C[9, 1] <- NaN
  P[11, 3] <- NA
  C[13, 4] <- 5
  P[13, 4] <- 0
  C[15, ] <- 0
  ref[15] <- 0
  each_simd_path({
    got <- same_on_threads(loglik_multinomial(C, P))
    expect_true(is.na(got[7]) && !is.nan(got[7]))
    expect_true(is.nan(got[9]))
    expect_true(is.na(got[11]) && !is.nan(got[11]))
    expect_identical(got[13], -Inf)
    ok <- setdiff(seq_len(nr), c(7, 9, 11, 13))
    expect_equal(got[ok], ref[ok], tolerance = 1e-13)
  })
  p <- c(0.1, 0.2, 0.3, 0.4)
  rows <- 16:5000
  shared <- same_on_threads(loglik_multinomial(C[rows, ], p))
  expect_equal(shared, vapply(rows, function(i) dmultinom(C[i, ], prob = p, log = TRUE), 0),
               tolerance = 1e-13)
  one <- same_on_threads(loglik_multinomial(C[1, ], P[rows, ]))
  expect_equal(one, vapply(rows, function(i) dmultinom(C[1, ], prob = P[i, ], log = TRUE), 0),
               tolerance = 1e-13)
  # the first invalid value is reported, whatever the thread count
  C[4000, 3] <- 1.5
  C[4500, 1] <- -1
  for (t in 1:2) {
    old <- xentropy_threads(t)
    e <- tryCatch(loglik_multinomial(C, P), error = identity)
    xentropy_threads(old)
    expect_match(conditionMessage(e), "found -1 at [4500, 1]", fixed = TRUE)
  }
  P[2, ] <- 0
  expect_error(loglik_multinomial(C[1:3, ], P[1:3, ]), "`prob` must not be all 0")
})

test_that("mle_categorical on long label vectors: tabulate's counts, NA, large labels, first invalid", {
  set.seed(6)
  n <- 300000
  y <- sample.int(12, n, replace = TRUE)
  y[c(5, 200000)] <- 3000L  # beyond the small histograms
  ref <- tabulate(y) / n
  got <- same_on_threads(mle_categorical(y))
  expect_identical(unname(got), ref)
  expect_length(got, 3000)
  expect_identical(same_on_threads(mle_categorical(as.double(y))), got)
  y[c(10, 250000)] <- NA
  expect_true(all(is.na(same_on_threads(mle_categorical(y)))))
  ok <- same_on_threads(mle_categorical(y, na.rm = TRUE))
  expect_identical(unname(ok), tabulate(y) / (n - 2))
  expect_identical(same_on_threads(mle_categorical(as.double(y), na.rm = TRUE)), ok)
  yd <- as.double(y)
  yd[c(260000, 280000)] <- c(2.5, -1)
  yi <- y
  yi[c(270000, 290000)] <- c(0L, -3L)
  for (t in 1:2) {
    old <- xentropy_threads(t)
    expect_error(mle_categorical(yd), "found 2.5 at position 260000")
    expect_error(mle_categorical(yi), "found 0 at position 270000")
    xentropy_threads(old)
  }
  expect_identical(unname(same_on_threads(mle_categorical(c(2, 2, 1)))), c(1, 2) / 3)
})

test_that("weighted logsumexp: within 1 ulp of the scale on every path, both layouts and margins, same on 1 and 2 threads", {
  skip_if_not_installed("Rmpfr")
  set.seed(7)
  nr <- 6000
  K <- 7
  Z <- matrix(rnorm(nr * K, sd = 5), nr, K)
  W <- matrix(runif(nr * K), nr, K)
  W[sample(length(W), 2000)] <- 0
  wc <- runif(K)
  exact_rows <- function(Z, W) {
    r <- Rmpfr::mpfr(rep(0, nrow(Z)), mpfr_bits)
    for (k in seq_len(ncol(Z))) {
      r <- r + Rmpfr::mpfr(W[, k], mpfr_bits) * exp(Rmpfr::mpfr(Z[, k], mpfr_bits))
    }
    log(r)
  }
  # error in ulp of max(|value|, max |x|): m + log(...) cancels where the
  # value is near 0, for any method that takes the maximum out
  scaled_err <- function(got, exact) {
    mx <- pmax(abs(Rmpfr::asNumeric(exact)), apply(abs(Z), 1, max))
    Rmpfr::asNumeric(abs(Rmpfr::mpfr(got, mpfr_bits) - exact)) / 2^(floor(log2(mx)) - 52)
  }
  ex <- exact_rows(Z, W)
  exc <- exact_rows(Z, matrix(wc, nr, K, byrow = TRUE))
  Zt <- t(Z)
  Wt <- t(W)
  each_simd_path({
    expect_lte(max(scaled_err(same_on_threads(logsumexp(Z, weights = W)), ex)), 1)
    expect_lte(max(scaled_err(same_on_threads(logsumexp(Z, weights = wc)), exc)), 1)
    expect_lte(max(scaled_err(same_on_threads(logsumexp(Zt, margin = 2, weights = Wt)), ex)), 1)
    expect_lte(max(scaled_err(same_on_threads(logsumexp(Zt, margin = 2, weights = wc)), exc)), 1)
  })
})

test_that("weighted logsumexp of short columns keeps NA, NaN, Inf and zero weights as the rows do", {
  set.seed(8)
  nr <- 3000
  K <- 5
  Z <- matrix(rnorm(nr * K), nr, K)
  W <- matrix(runif(nr * K), nr, K)
  Z[1, 2] <- NA
  Z[2, 3] <- NaN
  W[3, 1] <- NA
  Z[4, ] <- -Inf
  Z[5, 2] <- Inf
  W[6, ] <- 0
  Z[7, 1] <- NA
  W[7, 1] <- 0          # NA with weight 0 is left out
  Z[8, ] <- 1000
  Z[9, ] <- c(-1000, -Inf, -1001, -Inf, -999)
  for (na_rm in c(FALSE, TRUE)) {
    by_row <- logsumexp(Z, weights = W, na.rm = na_rm)
    by_col <- same_on_threads(logsumexp(t(Z), margin = 2, weights = t(W), na.rm = na_rm))
    expect_identical(is.na(by_col), is.na(by_row))
    expect_identical(is.nan(by_col), is.nan(by_row))
    expect_equal(by_col, by_row, tolerance = 4 * .Machine$double.eps)
  }
  expect_identical(logsumexp(t(Z), margin = 2, weights = t(W))[4:6], c(-Inf, Inf, -Inf))
  expect_true(is.na(logsumexp(t(Z), margin = 2, weights = t(W))[1]))
  expect_false(is.na(logsumexp(t(Z), margin = 2, weights = t(W))[7]))
})

test_that("sigmoid_focal_loss_grad (gamma = 2 by squares, other gamma by exp) is exact to 1e-13 against MPFR", {
  skip_if_not_installed("Rmpfr")
  set.seed(9)
  z <- c(rnorm(400, sd = 6), -40, 40, 0, 700, -700)
  y <- c(rbinom(200, 1, 0.4), runif(200), 1, 0, 0.5, 0.3, 0.7)
  exact_grad <- function(y, z, g) {
    Z <- Rmpfr::mpfr(z, mpfr_bits)
    p <- 1 / (1 + exp(-Z))
    q <- y * (1 - p) + (1 - y) * p
    # CE = y softplus(-z) + (1 - y) softplus(z), written without cancellation
    sp <- function(u) pmax(u, 0) + log1p(exp(-abs(u)))
    ce <- y * sp(-Z) + (1 - y) * sp(Z)
    Rmpfr::asNumeric(g * q^(g - 1) * (1 - 2 * y) * p * (1 - p) * ce + q^g * (p - y))
  }
  for (g in c(2, 1.5)) {
    exact <- exact_grad(y, z, g)
    each_simd_path({
      got <- same_on_threads(sigmoid_focal_loss_grad(y, z, gamma = g, reduction = "sum"))
      expect_equal(got, exact, tolerance = 1e-13)
    })
  }
  n <- 50000
  zz <- rnorm(n, sd = 4)
  yy <- rbinom(n, 1, 0.5)
  expect_equal(same_on_threads(sigmoid_focal_loss_grad(yy, zz, gamma = 2)),
               sigmoid_focal_loss_grad(yy, zz, gamma = 2 * (1 + 1e-15)), tolerance = 1e-12)
})
