# Information measures: entropy, cross_entropy, kl_divergence.

# A sum whose error does not grow with length (pairwise), so that tolerances
# hold without R's long-double accumulator in sum() (arm64 macOS, valgrind).
pairwise_sum <- function(x) {
  while (length(x) > 1L) {
    if (length(x) %% 2L) x <- c(x, 0)
    x <- x[c(TRUE, FALSE)] + x[c(FALSE, TRUE)]
  }
  sum(x)
}

test_that("the weather code: 2 bits for four equal outcomes, 1.5 bits after merging", {
  expect_identical(entropy(rep(1 / 4, 4), base = 2), 2)
  expect_equal(entropy(c(1 / 4, 1 / 4, 1 / 2), base = 2), 1.5, tolerance = 1e-15)
  expect_equal(entropy(rep(1 / 8, 8), base = 2), 3, tolerance = 1e-15)
})

test_that("entropy, cross_entropy and kl_divergence match their definitions", {
  p <- c(0.1, 0.2, 0.3, 0.4)
  q <- c(0.25, 0.25, 0.4, 0.1)
  expect_equal(entropy(p), -sum(p * log(p)), tolerance = 1e-15)
  expect_equal(cross_entropy(p, q), -sum(p * log(q)), tolerance = 1e-15)
  expect_equal(kl_divergence(p, q), sum(p * log(p / q)), tolerance = 1e-15)
  expect_equal(entropy(p, base = 10), -sum(p * log10(p)), tolerance = 1e-15)
  expect_equal(cross_entropy(p, q, base = 2), -sum(p * log2(q)), tolerance = 1e-15)
})

test_that("KL = H(p, q) - H(p) >= 0, with equality iff p == q", {
  set.seed(8)
  P <- matrix(rexp(200), 20)
  P <- P / rowSums(P)
  Q <- matrix(rexp(200), 20)
  Q <- Q / rowSums(Q)
  kl <- kl_divergence(P, Q)
  expect_equal(kl, cross_entropy(P, Q) - entropy(P), tolerance = 1e-12)
  expect_true(all(kl > 0))
  expect_identical(kl_divergence(P, P), rep(0, 20))
  expect_equal(cross_entropy(P, P), entropy(P), tolerance = 1e-15)
})

test_that("entropy is largest for the uniform distribution", {
  expect_equal(entropy(rep(1 / 6, 6)), log(6), tolerance = 1e-15)
  set.seed(9)
  p <- rexp(6)
  expect_lt(entropy(p / sum(p)), log(6))
})

test_that("0 log 0 = 0 and p > 0 where q = 0 gives Inf", {
  expect_identical(entropy(c(1, 0)), 0)
  expect_identical(entropy(c(0, 0, 1)), 0)
  expect_identical(cross_entropy(c(0, 1), c(0, 1)), 0)
  expect_identical(cross_entropy(c(0.5, 0.5), c(1, 0)), Inf)
  expect_identical(kl_divergence(c(0.5, 0.5), c(1, 0)), Inf)
  expect_identical(kl_divergence(c(0, 1), c(0.5, 0.5)), log(2))
  expect_identical(kl_divergence(c(1, 0), c(1e-320, 1)), -log(1e-320))
})

test_that("rows, columns and a shared distribution", {
  set.seed(10)
  P <- matrix(runif(12), 3, dimnames = list(c("a", "b", "c"), paste0("k", 1:4)))
  q <- c(0.1, 0.2, 0.3, 0.4)
  expect_equal(entropy(P), apply(P, 1, function(r) -sum(r * log(r))), tolerance = 1e-15)
  expect_named(entropy(P), c("a", "b", "c"))
  expect_equal(entropy(P, margin = 2), apply(P, 2, function(r) -sum(r * log(r))),
               tolerance = 1e-15)
  expect_named(entropy(P, margin = 2), paste0("k", 1:4))
  expect_equal(cross_entropy(P, q), apply(P, 1, function(r) -sum(r * log(q))),
               tolerance = 1e-15)
  expect_equal(cross_entropy(q, P), apply(P, 1, function(r) -sum(q * log(r))),
               tolerance = 1e-15)
  qc <- c(0.2, 0.3, 0.5)
  expect_equal(kl_divergence(P, qc, margin = 2), apply(P, 2, function(r) sum(r * log(r / qc))),
               tolerance = 1e-15)
})

test_that("long distributions are summed in blocks, independent of threads", {
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  set.seed(12)
  p <- rexp(2e5)
  p <- p / sum(p)
  q <- rev(p)
  xentropy_threads(1)
  one <- list(entropy(p), cross_entropy(p, q), kl_divergence(p, q),
              entropy(matrix(p, ncol = 20)), entropy(matrix(p, ncol = 20), margin = 2))
  xentropy_threads(2)
  two <- list(entropy(p), cross_entropy(p, q), kl_divergence(p, q),
              entropy(matrix(p, ncol = 20)), entropy(matrix(p, ncol = 20), margin = 2))
  expect_identical(one, two)
  expect_equal(one[[1]], -pairwise_sum(p * log(p)), tolerance = 1e-12)
})

test_that("NA gives NA, NaN gives NaN, na.rm drops them", {
  expect_true(is.na(entropy(c(0.5, NA))) && !is.nan(entropy(c(0.5, NA))))
  expect_true(is.nan(entropy(c(0.5, NaN))))
  expect_true(is.na(cross_entropy(c(0.5, 0.5), c(NA, 0.5))))
  expect_identical(entropy(c(0.5, NA, 0.5), na.rm = TRUE), log(2))
  out <- entropy(rbind(c(0.5, 0.5), c(NA, 1), c(NaN, 1)))
  expect_identical(is.na(out), c(FALSE, TRUE, TRUE))
  expect_identical(is.nan(out), c(FALSE, FALSE, TRUE))
})

test_that("empty and integer or logical input", {
  expect_identical(entropy(numeric(0)), 0)
  expect_identical(entropy(matrix(numeric(0), 0, 3)), numeric(0))
  expect_identical(entropy(c(TRUE, FALSE)), 0)
  expect_identical(cross_entropy(c(1L, 0L), c(1, 0)), 0)
})

test_that("bad input is an error naming the argument", {
  expect_error(entropy(c(0.5, 1.5)), "`p` must contain probabilities in \\[0, 1\\]; found 1.5 at position 2",
               class = "xentropy_error")
  expect_error(entropy(c(-0.1, 1.1)), "found -0.1 at position 1", class = "xentropy_error")
  expect_error(cross_entropy(c(0.5, 0.5), matrix(c(0.5, 2), 1)),
               "`q` must contain probabilities .* found 2 at \\[1, 2\\]", class = "xentropy_error")
  expect_error(entropy("a"), "`p` must be a numeric vector", class = "xentropy_error")
  expect_error(cross_entropy(c(0.5, 0.5), list(1)), "`q` must be a numeric vector", class = "xentropy_error")
  expect_error(cross_entropy(c(0.5, 0.5), NULL), "`q` .* not NULL", class = "xentropy_error")
  expect_error(cross_entropy(c(0.5, 0.5), c(0.2, 0.3, 0.5)),
               "`q` has 3 elements but there are 2 elements in `p`", class = "xentropy_error")
  expect_error(kl_divergence(matrix(0.5, 2, 2), matrix(0.5, 3, 2)),
               "`p` is 2 x 2 but `q` is 3 x 2", class = "xentropy_error")
  expect_error(kl_divergence(matrix(0.5, 2, 2), rep(1 / 3, 3)),
               "`q` has 3 elements but there are 2 columns of `p`", class = "xentropy_error")
  expect_error(entropy(c(0.5, 0.5), base = 1), "`base` must be a single positive finite number other than 1, not 1",
               class = "xentropy_error")
  expect_error(entropy(c(0.5, 0.5), base = -2), "`base`", class = "xentropy_error")
  expect_error(entropy(c(0.5, 0.5), margin = 0), "`margin`", class = "xentropy_error")
  expect_error(entropy(c(0.5, 0.5), na.rm = NA), "`na.rm`", class = "xentropy_error")
})

test_that("long distributions are summed without error growing with length", {
  skip_if_not_installed("Rmpfr")
  K <- 2e6
  p <- rep(1 / K, K)
  P1 <- Rmpfr::mpfr(p[1], mpfr_bits)
  exact_h <- -K * P1 * log(P1)
  q <- rep(0.5 / K, K)
  exact_ce <- -K * P1 * log(Rmpfr::mpfr(q[1], mpfr_bits))
  rows <- rbind(p, p)
  expect_lte(ulp_error(entropy(p), exact_h), 2)
  expect_lte(max(ulp_error(entropy(rows), exact_h)), 2)
  expect_lte(ulp_error(entropy(matrix(p, 1)), exact_h), 2)
  expect_lte(ulp_error(cross_entropy(p, q), exact_ce), 2)
  expect_lte(max(ulp_error(cross_entropy(rows, q), exact_ce)), 2)
})

# Pairs (p, q) where the textbook forms lose digits: p close to q, p tiny,
# q near 1, subnormal p or q.
information_audit_points <- function() {
  q0 <- c(0.3, 0.5, 0.7, 1e-5, 1 - 2^-20, 1 - 2^-53, 1e-300, 2^-1022, 5e-320)
  delta <- c(-0.4, -1e-3, -1e-8, -1e-13, -2^-52, 0, 2^-52, 1e-13, 1e-8, 1e-3, 0.9)
  close <- expand.grid(q = q0, d = delta)
  close$p <- pmin(close$q * (1 + close$d), 1)
  tiny <- c(5e-324, 1e-310, 2^-1022, 1e-300, 1e-100, 1e-17)
  big <- c(1, 1 - 2^-53, 1 - 1e-10, 0.999, 0.5)
  far <- expand.grid(p = c(tiny, big), q = c(tiny, big))
  pts <- rbind(close[c("p", "q")], far)
  pts[pts$p > 0, ]
}

test_that("each term of entropy, cross_entropy and kl_divergence is within 2 ulp", {
  skip_if_not_installed("Rmpfr")
  pts <- information_audit_points()
  # one class per row: every value is a single term
  P <- matrix(pts$p)
  Q <- matrix(pts$q)
  Pm <- Rmpfr::mpfr(pts$p, mpfr_bits)
  Qm <- Rmpfr::mpfr(pts$q, mpfr_bits)
  each_simd_path({
    expect_lte(max(ulp_error(entropy(P), -Pm * log(Pm))), 2)
    expect_lte(max(ulp_error(cross_entropy(P, Q), -Pm * log(Qm))), 2)
    kl <- kl_divergence(P, Q)
    expect_lte(max(ulp_error(kl, Pm * log(Pm / Qm))), 2)
    expect_identical(kl[pts$p == pts$q], rep(0, sum(pts$p == pts$q)))
    # the issue's case: p within 1e-13 relative of q
    expect_lte(ulp_error(kl_divergence(0.3 + 3e-14, 0.3),
                         Rmpfr::mpfr(0.3 + 3e-14, mpfr_bits) *
                           log(Rmpfr::mpfr(0.3 + 3e-14, mpfr_bits) / Rmpfr::mpfr(0.3, mpfr_bits))), 2)
  })
})

test_that("kl_divergence of close distributions keeps its digits", {
  skip_if_not_installed("Rmpfr")
  set.seed(31)
  q <- rexp(50)
  q <- q / sum(q)
  p <- q * (1 + 1e-6 * rnorm(50))
  Pm <- Rmpfr::mpfr(p, mpfr_bits)
  Qm <- Rmpfr::mpfr(q, mpfr_bits)
  exact <- sum(Pm * log(Pm / Qm))
  # the sum of terms of size 1e-8 that cancel to 1e-12: each term exact to
  # 2 ulp and a compensated sum leave about 1e-16 * 1e-8 / 1e-12 relative
  each_simd_path(expect_lt(abs(Rmpfr::asNumeric((kl_divergence(p, q) - exact) / exact)), 1e-11))
})

test_that("the vectorised row path agrees with the column path, special values included", {
  set.seed(32)
  P <- matrix(rexp(3000), 300)
  P <- P / rowSums(P)
  Q <- matrix(rexp(3000), 300)
  Q <- Q / rowSums(Q)
  P[1, 1] <- NA
  P[2, 2] <- NaN
  Q[3, 3] <- 0
  P[4, ] <- c(1, rep(0, 9))
  Q[5, 1] <- 1e-310         # p / q overflows or is huge
  P[6, 1] <- 5e-324         # p / q subnormal
  Q[7, ] <- P[7, ]          # p == q: exactly 0
  P[8, 2] <- P[8, 2] * (1 + 1e-13)
  each_simd_path({
    for (f in list(entropy, function(p, ...) cross_entropy(p, Q, ...),
                   function(p, ...) kl_divergence(p, Q, ...))) {
      rows <- f(P)
      cols <- if (identical(f, entropy)) entropy(t(P), margin = 2) else NULL
      expect_identical(is.na(rows), c(TRUE, TRUE, rep(FALSE, 298)))
      expect_identical(is.nan(rows), c(FALSE, TRUE, rep(FALSE, 298)))
      if (!is.null(cols)) expect_equal(rows, cols, tolerance = 1e-15)
    }
    expect_equal(cross_entropy(P, Q), cross_entropy(t(P), t(Q), margin = 2), tolerance = 1e-15)
    expect_equal(kl_divergence(P, Q), kl_divergence(t(P), t(Q), margin = 2), tolerance = 1e-15)
    expect_identical(kl_divergence(P, Q)[7], 0)
    expect_identical(cross_entropy(P, Q)[3], Inf)
    expect_identical(kl_divergence(P, Q)[3], Inf)
    expect_equal(kl_divergence(P, rep(0.1, 10)), kl_divergence(t(P), rep(0.1, 10), margin = 2),
                 tolerance = 1e-15)
  })
  expect_error(kl_divergence(rbind(P[10:12, ], c(2, rep(0, 9))), Q[1:4, ]),
               "`p` must contain probabilities in \\[0, 1\\]; found 2 at \\[4, 1\\]",
               class = "xentropy_error")
})
