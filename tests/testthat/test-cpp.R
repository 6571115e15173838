# The public C++ API, used as another package would use it: a client of
# <xentropy.h> (tests/testthat/cpp/client.cpp) compiled against the installed
# headers, its results checked against the R functions.

compiler_available <- function() {
  cxx <- tryCatch(
    system2(file.path(R.home("bin"), "R"), c("CMD", "config", "CXX"),
            stdout = TRUE, stderr = FALSE),
    error = function(e) "", warning = function(w) "")
  length(cxx) > 0 && nzchar(cxx[1]) && nzchar(Sys.which(strsplit(cxx[1], " ")[[1]][1]))
}

client <- local({
  env <- NULL
  function() {
    if (is.null(env)) {
      e <- new.env()
      # compiled once per test run, in a temporary directory
      Rcpp::sourceCpp(test_path("cpp", "client.cpp"), env = e)
      env <<- e
    }
    env
  }
})

# The client and the package are compiled separately, possibly with other
# flags (a sanitizer build, a user's ~/.R/Makevars), so a compiler may
# contract or vectorise differently: the same values to 4 eps (2^-1073 for
# subnormal results), the same
# NA/NaN/Inf pattern, shape and attributes.
expect_same_values <- function(object, expected) {
  expect_identical(attributes(object), attributes(expected))
  expect_identical(is.na(object), is.na(expected))
  expect_identical(is.nan(object), is.nan(expected))
  ok <- is.finite(expected)
  expect_identical(object[!ok & !is.na(expected)], expected[!ok & !is.na(expected)])
  # 4 eps relative, or 2 units of the smallest subnormal below the normal range
  excess <- abs(object[ok] - expected[ok]) -
    (4 * .Machine$double.eps * abs(expected[ok]) + 2 * 2^-1074)
  expect_lte(max(0, excess), 0)
}

skip_without_client <- function() {
  skip_if_not(compiler_available(), "no C++ compiler")
  skip_if(!nzchar(system.file("include", "xentropy.h", package = "xentropy")),
          "xentropy's headers are not installed")
}

test_that("a C++ client of <xentropy.h> compiles with LinkingTo-style includes", {
  skip_without_client()
  cl <- client()
  expect_true(all(c("client_link", "client_logsumexp", "client_softmax", "client_information",
                    "client_softmax_cross_entropy") %in% ls(cl)))
})

test_that("the C++ link functions give what the R functions give", {
  skip_without_client()
  cl <- client()
  x <- c(-1e10, -745, -710, -40, -1, -1e-300, 0, 1e-300, 0.5, 1, 18, 40, 710, 1e10,
         -Inf, Inf, NA, NaN, rnorm(50))
  p <- c(0, 1e-300, 0.25, 0.5 - 1e-9, 0.5, 0.75, 1 - 1e-16, 1, NA, NaN, runif(50))
  # (The scalar versions are compiled for the baseline instruction set, the
  # array versions run the best path of the CPU, which may fuse a multiply
  # and an add.)
  for (f in c("sigmoid", "softplus", "log_sigmoid")) {
    expect_same_values(cl$client_link(x, f, 1L), get(f)(x))
    expect_same_values(cl$client_link_scalar(x, f), get(f)(x))
  }
  expect_same_values(cl$client_link(p, "logit", 1L), logit(p))
  expect_same_values(cl$client_link_scalar(p, "logit"), logit(p))
  expect_same_values(cl$client_sigmoid_in_place(x), sigmoid(x))
  # NA and NaN come back with their bits
  expect_identical(cl$client_link(c(NA, NaN), "softplus", 1L), softplus(c(NA, NaN)))
})

test_that("the C++ link functions keep NA and NaN apart, and give the same on 2 threads", {
  skip_without_client()
  cl <- client()
  out <- cl$client_link(c(NA, NaN, 0), "sigmoid", 1L)
  expect_identical(is.na(out) & !is.nan(out), c(TRUE, FALSE, FALSE))
  expect_identical(is.nan(out), c(FALSE, TRUE, FALSE))
  expect_identical(cl$client_link(c(-0.5, 2), "logit", 1L), c(NaN, NaN))
  x <- seq(-50, 50, length.out = 1e5)  # above the parallel threshold
  expect_identical(cl$client_link(x, "softplus", 2L), cl$client_link(x, "softplus", 1L))
  expect_same_values(cl$client_link(x, "softplus", 2L), softplus(x))
})

test_that("the C++ normalisers give what logsumexp(), softmax() and log_softmax() give", {
  skip_without_client()
  cl <- client()
  set.seed(1)
  x <- matrix(rnorm(60, sd = 30), 6)
  x[2, 3] <- NA
  x[4, 1] <- NaN
  x[5, ] <- -Inf
  x[6, 2] <- Inf
  for (margin in 1:2) {
    expect_same_values(cl$client_logsumexp(x, margin, FALSE, 1L, 1), logsumexp(x, margin))
    expect_same_values(cl$client_logsumexp(x, margin, TRUE, 1L, 1),
                       logsumexp(x, margin, na.rm = TRUE))
    for (temperature in c(1, 0.5, 4)) {
      expect_same_values(cl$client_softmax(x, margin, FALSE, 1L, temperature),
                         softmax(x, margin, temperature = temperature))
      expect_same_values(cl$client_softmax(x, margin, TRUE, 1L, temperature),
                         log_softmax(x, margin, temperature = temperature))
    }
  }
  big <- matrix(rnorm(2e5), 200)
  expect_identical(cl$client_softmax(big, 1L, FALSE, 2L, 1), cl$client_softmax(big, 1L, FALSE, 1L, 1))
  expect_same_values(cl$client_softmax(big, 1L, FALSE, 2L, 1), softmax(big, 1))
  expect_same_values(cl$client_logsumexp(big, 2L, FALSE, 2L, 1), logsumexp(big, 2))
})

test_that("the C++ client's values are right, not only equal to R's", {
  skip_without_client()
  cl <- client()
  expect_equal(cl$client_logsumexp(matrix(c(1000, 1000), 1), 1L, FALSE, 1L, 1),
               1000 + log(2), tolerance = 1e-15)
  expect_equal(cl$client_softmax(matrix(c(0, log(3)), 1), 1L, FALSE, 1L, 1),
               matrix(c(0.25, 0.75), 1), tolerance = 1e-15)
  expect_equal(cl$client_link(-710, "sigmoid", 1L), exp(-710) / (1 + exp(-710)),
               tolerance = 1e-15)
})

test_that("common.hpp tells R's NA from NaN", {
  skip_without_client()
  cl <- client()
  m <- cl$client_missing()
  expect_true(is.na(m[1]) && !is.nan(m[1]))
  expect_true(is.nan(m[2]))
  expect_identical(m[3], Inf)
  expect_identical(cl$client_is_na(c(NA, NaN, 1, Inf, NA_real_)), c(TRUE, FALSE, FALSE, FALSE, TRUE))
})

# The kernels' report of the first invalid value, as the client returns it:
# c(position (1-based), operand 0 target / 1 prediction), c(0, NA) for none.
no_invalid <- c(0, NA)
strip_invalid <- function(x) {
  attr(x, "invalid") <- NULL
  x
}

test_that("the C++ entropy and cross-entropy give what entropy() and cross_entropy() give", {
  skip_without_client()
  cl <- client()
  set.seed(2)
  p <- matrix(runif(40), 8)
  p <- p / rowSums(p)
  p[2, 3] <- 0                       # 0 log 0 = 0
  q <- matrix(runif(40), 8)
  q <- q / rowSums(q)
  q[3, 1] <- 0                       # p > 0 with q = 0: Inf
  p[5, 2] <- NA
  q[6, 4] <- NaN
  for (margin in 1:2) for (base in c(exp(1), 2)) for (na_rm in c(FALSE, TRUE)) {
    h <- cl$client_information(p, NULL, margin, base, na_rm, 1L)
    expect_identical(attr(h, "invalid"), no_invalid)
    expect_same_values(strip_invalid(h),
                       unname(entropy(p, base = base, margin = margin, na.rm = na_rm)))
    ce <- cl$client_information(p, q, margin, base, na_rm, 1L)
    expect_identical(attr(ce, "invalid"), no_invalid)
    expect_same_values(strip_invalid(ce),
                       unname(cross_entropy(p, q, base = base, margin = margin, na.rm = na_rm)))
  }
  # exact values: the uniform distribution over 4 classes has 2 bits
  expect_equal(strip_invalid(cl$client_information(matrix(0.25, 1, 4), NULL, 1L, 2, FALSE, 1L)),
               2, tolerance = 1e-15)
  # the same on 2 threads, above the parallel threshold
  big <- matrix(runif(2e5), 2000)
  big <- big / rowSums(big)
  expect_identical(cl$client_information(big, big[, 100:1], 1L, exp(1), FALSE, 2L),
                   cl$client_information(big, big[, 100:1], 1L, exp(1), FALSE, 1L))
})

test_that("the C++ information measures report the first invalid probability", {
  skip_without_client()
  cl <- client()
  p <- matrix(0.25, 3, 4)
  q <- p
  p[2, 3] <- 1.5                     # linear position 8 in p
  q[1, 2] <- -0.1                    # linear position 4 in q
  expect_identical(attr(cl$client_information(p, NULL, 1L, exp(1), FALSE, 1L), "invalid"),
                   c(8, 0))
  expect_identical(attr(cl$client_information(p, q, 1L, exp(1), FALSE, 1L), "invalid"),
                   c(4, 1))
  # the R function turns the same report into an error naming the argument
  expect_error(entropy(p), class = "xentropy_error")
})

test_that("the C++ softmax_cross_entropy gives what softmax_cross_entropy() gives", {
  skip_without_client()
  cl <- client()
  set.seed(3)
  z <- matrix(rnorm(50, sd = 5), 10)
  z[1, ] <- c(1e10, -1e10, 0, 5, -Inf)  # exact for huge logits
  y <- sample.int(5, 10, replace = TRUE)
  y[1] <- 1L
  for (reduction in c("mean", "sum", "none")) for (eps in c(0, 0.1)) {
    out <- cl$client_softmax_cross_entropy(y, z, reduction, FALSE, eps, 1L)
    expect_identical(attr(out, "invalid"), no_invalid)
    expect_same_values(strip_invalid(out),
                       softmax_cross_entropy(y, z, reduction = reduction, label_smoothing = eps))
  }
  expect_equal(strip_invalid(cl$client_softmax_cross_entropy(1L, matrix(c(0, log(3)), 1), "sum",
                                                             FALSE, 0, 1L)),
               log(4), tolerance = 1e-15)
  # NA labels: the mean is NA, or is taken over the rest with na_rm
  y2 <- y
  y2[4] <- NA
  expect_identical(strip_invalid(cl$client_softmax_cross_entropy(y2, z, "mean", FALSE, 0, 1L)),
                   NA_real_)
  expect_same_values(strip_invalid(cl$client_softmax_cross_entropy(y2, z, "mean", TRUE, 0, 1L)),
                     softmax_cross_entropy(y2, z, na.rm = TRUE))
  # a label out of 1..K is reported (position 7, the targets), not thrown
  y3 <- y
  y3[7] <- 6L
  expect_identical(attr(cl$client_softmax_cross_entropy(y3, z, "mean", FALSE, 0, 1L), "invalid"),
                   c(7, 0))
  # the same on 2 threads
  zb <- matrix(rnorm(2e5), 2e4)
  yb <- sample.int(10, 2e4, replace = TRUE)
  expect_identical(cl$client_softmax_cross_entropy(yb, zb, "mean", FALSE, 0, 2L),
                   cl$client_softmax_cross_entropy(yb, zb, "mean", FALSE, 0, 1L))
  expect_same_values(strip_invalid(cl$client_softmax_cross_entropy(yb, zb, "mean", FALSE, 0, 2L)),
                     softmax_cross_entropy(yb, zb))
})
