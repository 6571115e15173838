# Ground truth for accuracy tests: 200-bit arithmetic from Rmpfr, never the
# code under test. Exact references are written with identities that stay
# finite in MPFR over the whole double range.

mpfr_bits <- 200

# Error of `got` (doubles) in units in the last place of the exact values
# `exact` (an mpfr vector). The ulp of a value v is the spacing of doubles at
# v: 2^(floor(log2|v|) - 52) for normal numbers, 2^-1074 for subnormal ones.
ulp_error <- function(got, exact) {
  ref <- Rmpfr::asNumeric(exact)
  ulp <- ifelse(abs(ref) < 2^-1022, 2^-1074,
                2^(floor(log2(abs(ref))) - 52))
  # divide in MPFR: an error below the smallest subnormal would round to 0 or
  # to a whole ulp if it were turned into a double first
  err <- Rmpfr::asNumeric(abs(Rmpfr::mpfr(got, mpfr_bits) - exact) /
                            Rmpfr::mpfr(ulp, mpfr_bits))
  # identical infinities (or zeros) are exact
  err[got == ref & is.infinite(ref)] <- 0
  err
}

exact_softplus <- function(x) {
  X <- Rmpfr::mpfr(x, mpfr_bits)
  pmax(X, 0) + log1p(exp(-abs(X)))
}
exact_log_sigmoid <- function(x) -exact_softplus(-x)
exact_sigmoid <- function(x) exp(exact_log_sigmoid(x))
exact_logit <- function(p) {
  P <- Rmpfr::mpfr(p, mpfr_bits)
  log(P) - log1p(-P)
}

# Points spread over the whole double range: every binade from the smallest
# subnormal to the largest finite double, both signs, plus dense grids where
# the kernels switch formulas or the results become subnormal.
link_test_points <- function(n = 3000) {
  set.seed(20261124)
  k <- sample(-1074:1023, n, replace = TRUE)
  wide <- (1 + runif(n)) * 2^k
  wide <- wide[is.finite(wide)]
  dense <- c(seq(-750, 50, length.out = 1601), -3.462, seq(-4, -3, by = 1 / 1024),
             -37 + c(-1, 1) * 1e-9, 18 + c(-1, 1) * 1e-9,
             33.3 + c(-1, 1) * 1e-9, -708.4, -745.1, -745.2)
  unique(c(0, wide, -wide, dense, -dense,
           .Machine$double.xmax, -.Machine$double.xmax,
           .Machine$double.xmin, 4.9406564584124654e-324))
}

# Probabilities over (0, 1): subnormal to 1 - 2^-53, dense near 1/4, 1/2, 3/4.
prob_test_points <- function(n = 3000) {
  set.seed(20261124)
  k <- sample(-1074:-1, n, replace = TRUE)
  small <- (1 + runif(n)) * 2^k
  small <- small[small < 1]
  near <- function(a, w) a + c(-1, 1) * rep(w, each = 2)
  unique(c(small, 1 - small[small > 2^-53], 0.5 + c(-1, 1) * 1e-12,
           near(0.5, 10^-(1:15)), near(0.25, 10^-(1:15)),
           near(0.75, 10^-(1:15)), seq(0.01, 0.99, by = 0.01),
           4.9406564584124654e-324, 1 - 2^-53))
}

# Runs `code` once on each instruction-set path this CPU supports (baseline,
# AVX2, AVX-512), restoring the best path afterwards.
each_simd_path <- function(code) {
  code <- substitute(code)
  env <- parent.frame()
  detected <- simd_path()$detected
  paths <- simd_paths[seq_len(match(detected, simd_paths))]
  on.exit(simd_path("avx512"))
  for (path in paths) {
    simd_path(path)
    eval(code, env)
  }
  invisible(paths)
}
