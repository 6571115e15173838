# Brier score, calibration error, reliability tables, top-k accuracy,
# temperature and Platt scaling (R/calibration.R, calibration.hpp).

# The toy set worked out by hand below: 6 observations, 3 classes.
toy <- function() {
  P <- rbind(
    c(0.90, 0.05, 0.05),  # y = 1: confidence 0.90, predicts 1, right
    c(0.20, 0.70, 0.10),  # y = 1: confidence 0.70, predicts 2, wrong
    c(0.35, 0.55, 0.10),  # y = 2: confidence 0.55, predicts 2, right
    c(0.10, 0.15, 0.75),  # y = 3: confidence 0.75, predicts 3, right
    c(0.45, 0.35, 0.20),  # y = 2: confidence 0.45, predicts 1, wrong
    c(0.32, 0.33, 0.35)   # y = 3: confidence 0.35, predicts 3, right
  )
  list(P = P, y = c(1, 1, 2, 3, 2, 3))
}

# A plain R reference: bins and errors exactly as documented.
reference_ece <- function(y, P, B, type = "top-label", binning = "equal-width",
                          norm = "l1", w = rep(1, nrow(P))) {
  K <- ncol(P)
  T <- diag(K)[y, , drop = FALSE]
  if (type == "top-label") {
    a <- max.col(P, ties.method = "first")
    conf <- list(P[cbind(seq_along(y), a)])
    out <- list(T[cbind(seq_along(y), a)])
  } else {
    conf <- lapply(seq_len(K), function(k) P[, k])
    out <- lapply(seq_len(K), function(k) T[, k])
  }
  cells <- NULL
  for (j in seq_along(conf)) {
    c <- conf[[j]]
    b <- if (binning == "equal-width") {
      pmin(pmax(ceiling(c * B), 1), B)
    } else {
      s <- sort(c)
      edges <- s[floor(seq_len(B - 1) * length(c) / B) + 1]
      1 + vapply(c, function(v) sum(edges <= v), numeric(1))
    }
    for (bb in unique(b)) {
      i <- b == bb
      cells <- rbind(cells, c(W = sum(w[i]), gap = abs(sum(w[i] * out[[j]][i]) / sum(w[i]) -
                                                        sum(w[i] * c[i]) / sum(w[i]))))
    }
  }
  share <- cells[, "W"] / (sum(w) * length(conf))
  switch(norm,
         l1 = sum(share * cells[, "gap"]),
         l2 = sqrt(sum(share * cells[, "gap"]^2)),
         max = max(cells[cells[, "W"] > 0, "gap"]))
}

test_that("calibration_error gives the hand-computed top-label values on the toy set", {
  d <- toy()
  # Equal width, B = 5, bins ((b-1)/5, b/5]:
  #   bin 2 (0.2, 0.4]: {0.35 right}            conf 0.35,  freq 1,   gap 0.65
  #   bin 3 (0.4, 0.6]: {0.55 right, 0.45 wrong} conf 0.50,  freq 0.5, gap 0
  #   bin 4 (0.6, 0.8]: {0.70 wrong, 0.75 right} conf 0.725, freq 0.5, gap 0.225
  #   bin 5 (0.8, 1.0]: {0.90 right}            conf 0.90,  freq 1,   gap 0.10
  # ECE = (1 * 0.65 + 2 * 0 + 2 * 0.225 + 1 * 0.1) / 6 = 1.2 / 6 = 0.2
  # L2  = sqrt((0.65^2 + 2 * 0.225^2 + 0.1^2) / 6) = sqrt(0.53375 / 6)
  # MCE = 0.65
  expect_equal(calibration_error(d$y, d$P, bins = 5), 0.2, tolerance = 1e-14)
  expect_equal(calibration_error(d$y, d$P, bins = 5, norm = "l2"), sqrt(0.53375 / 6),
               tolerance = 1e-14)
  expect_equal(calibration_error(d$y, d$P, bins = 5, norm = "max"), 0.65, tolerance = 1e-14)
  # Equal mass, B = 3: sorted confidences 0.35 0.45 0.55 0.70 0.75 0.90, edges
  # at 0-based ranks floor(6 b / 3) = 2, 4: 0.55 and 0.75, so bins
  #   [0, 0.55): {0.35 right, 0.45 wrong}  conf 0.400, freq 0.5, gap 0.100
  #   [0.55, 0.75): {0.55 right, 0.70 wrong} conf 0.625, freq 0.5, gap 0.125
  #   [0.75, 1]: {0.75 right, 0.90 right}  conf 0.825, freq 1,   gap 0.175
  # ECE = (2/6) (0.1 + 0.125 + 0.175) = 0.4 / 3
  expect_equal(calibration_error(d$y, d$P, bins = 3, binning = "equal-mass"), 0.4 / 3,
               tolerance = 1e-14)
  expect_equal(calibration_error(d$y, d$P, bins = 3, binning = "equal-mass", norm = "max"),
               0.175, tolerance = 1e-14)
  # one bin: |mean confidence - accuracy| = |3.7 / 6 - 4 / 6| = 0.05
  expect_equal(calibration_error(d$y, d$P, bins = 1), 0.05, tolerance = 1e-14)
})

test_that("calibration_error gives the hand-computed classwise value on the toy set", {
  d <- toy()
  # B = 2, bins [0, 0.5] and (0.5, 1]; per class: (count x gap) summed over bins
  # class 1: p .9 .2 .35 .1 .45 .32, t 1 1 0 0 0 0
  #   low {.2 .35 .1 .45 .32}: conf 1.42/5 = .284, freq .2, 5 x .084 = .42
  #   high {.9}: 1 x .1 = .1                                   -> .52
  # class 2: p .05 .7 .55 .15 .35 .33, t 0 0 1 0 1 0
  #   low {.05 .15 .35 .33}: conf .22, freq .25, 4 x .03 = .12
  #   high {.7 .55}: conf .625, freq .5, 2 x .125 = .25        -> .37
  # class 3: p .05 .1 .1 .75 .2 .35, t 0 0 0 1 0 1
  #   low {.05 .1 .1 .2 .35}: conf .16, freq .2, 5 x .04 = .2
  #   high {.75}: 1 x .25 = .25                                -> .45
  # classwise ECE = (.52 + .37 + .45) / (3 x 6) = 1.34 / 18; MCE = .25
  expect_equal(calibration_error(d$y, d$P, bins = 2, type = "classwise"), 1.34 / 18,
               tolerance = 1e-14)
  expect_equal(calibration_error(d$y, d$P, bins = 2, type = "classwise", norm = "max"),
               0.25, tolerance = 1e-14)
})

test_that("binary predictions are binned by max(p, 1 - p) (top-label) or p (classwise)", {
  p <- c(0.1, 0.3, 0.85, 0.9)
  y <- c(0, 1, 1, 1)
  # top-label: confidences .9 .7 .85 .9 for classes 0 0 1 1, right: 1 0 1 1
  #   bin 4 {.7 wrong}: gap .7; bin 5 {.9 .85 .9 right}: conf .88333, gap .11667
  #   ECE = (.7 + 3 x .116667) / 4 = (.7 + .35) / 4 = .2625
  expect_equal(calibration_error(y, p, bins = 5), 0.2625, tolerance = 1e-14)
  # classwise (positive class): bin 1 {.1, y 0}: .1; bin 2 {.3, y 1}: .7;
  #   bin 5 {.85 .9, y 1 1}: conf .875, 2 x .125; ECE = (.1 + .7 + .25) / 4
  expect_equal(calibration_error(y, p, bins = 5, type = "classwise"), 1.05 / 4,
               tolerance = 1e-14)
  # the same through logical and two-level factor targets
  expect_identical(calibration_error(y == 1, p, bins = 5),
                   calibration_error(y, p, bins = 5))
  f <- factor(c("no", "yes", "yes", "yes"))
  expect_identical(calibration_error(f, p, bins = 5), calibration_error(y, p, bins = 5))
})

test_that("calibration_error agrees with a plain R reference on random data", {
  set.seed(5)
  n <- 500
  K <- 4
  Z <- matrix(rnorm(n * K, sd = 1.5), n, K)
  P <- softmax(Z)
  y <- sample.int(K, n, replace = TRUE)
  w <- runif(n)
  for (type in c("top-label", "classwise")) {
    for (binning in c("equal-width", "equal-mass")) {
      for (norm in c("l1", "l2", "max")) {
        for (B in c(1, 7, 15, 80)) {   # 80: more than 64 equal-mass edges (binary search)
          expect_equal(calibration_error(y, P, bins = B, type = type, binning = binning, norm = norm),
                       reference_ece(y, P, B, type, binning, norm), tolerance = 1e-12,
                       label = paste(type, binning, norm, B))
        }
        expect_equal(calibration_error(y, P, bins = 10, type = type, binning = binning,
                                       norm = norm, weights = w),
                     reference_ece(y, P, 10, type, binning, norm, w), tolerance = 1e-12,
                     label = paste("weighted", type, binning, norm))
      }
    }
  }
  # targets as a factor with named columns, and as a one-hot matrix
  colnames(P) <- c("a", "b", "c", "d")
  f <- factor(c("a", "b", "c", "d")[y], levels = c("d", "c", "b", "a"))
  expect_equal(calibration_error(f, P), reference_ece(y, P, 15), tolerance = 1e-12)
  expect_equal(calibration_error(diag(K)[y, ], P, type = "classwise"),
               reference_ece(y, P, 15, "classwise"), tolerance = 1e-12)
  expect_equal(calibration_error(diag(K)[y, ], P, type = "classwise", weights = w,
                                 binning = "equal-mass", bins = 9),
               reference_ece(y, P, 9, "classwise", "equal-mass", "l1", w), tolerance = 1e-12)
  # without weights, each cell's weight is its count
  tab <- reliability_table(y, P, type = "classwise", bins = 6)
  expect_identical(tab$weight, tab$count)
  expect_identical(sum(tab$count), as.numeric(n * K))
})

test_that("equal-mass top-label bins report bad and missing rows as equal-width bins do", {
  set.seed(22)
  P <- softmax(matrix(rnorm(3000), 1000, 3))
  y <- sample.int(3, 1000, replace = TRUE)
  w <- runif(1000)
  Pbad <- P
  Pbad[5, 2] <- 1.5
  for (binning in c("equal-width", "equal-mass")) {
    expect_error(calibration_error(y, Pbad, binning = binning),
                 class = "xentropy_error_invalid_value")
    Pna <- P
    Pna[9, 1] <- NA
    expect_identical(calibration_error(y, Pna, binning = binning), NA_real_)
    expect_equal(calibration_error(y, Pna, binning = binning, weights = w, na.rm = TRUE),
                 calibration_error(y[-9], P[-9, ], binning = binning, weights = w[-9]),
                 tolerance = 1e-14)
    yna <- y
    yna[4] <- NaN
    expect_identical(calibration_error(as.numeric(yna), P, binning = binning), NaN)
  }
})

test_that("equal-mass bins hold N / B observations when there are no ties", {
  set.seed(6)
  p <- runif(1000)
  tab <- reliability_table(runif(1000) < p, p, bins = 8, type = "classwise",
                           binning = "equal-mass")
  expect_equal(tab$count, rep(125, 8))
  expect_equal(tab$upper[-8], sort(p)[125 * (1:7) + 1])
  # large n (the bucketed selection), values spread over many binades
  q <- c(runif(30000)^6, rep(0.5, 5000), 1, 0)
  tab <- reliability_table(runif(length(q)) < q, q, bins = 15, type = "classwise",
                           binning = "equal-mass")
  s <- sort(q)
  expect_identical(tab$upper[-15], s[floor(seq_len(14) * length(q) / 15) + 1])
  expect_identical(tab$lower[-1], tab$upper[-15])
  P <- softmax(matrix(rnorm(60000, sd = 4), 20000, 3))
  y <- sample.int(3, 20000, replace = TRUE)
  expect_equal(calibration_error(y, P, bins = 12, binning = "equal-mass"),
               reference_ece(y, P, 12, binning = "equal-mass"), tolerance = 1e-12)
  expect_equal(calibration_error(y, P, bins = 12, type = "classwise", binning = "equal-mass"),
               reference_ece(y, P, 12, "classwise", "equal-mass"), tolerance = 1e-12)
  # ties share a bin: three distinct confidences
  q <- rep(c(0.2, 0.5, 0.8), c(5, 3, 2))
  tab <- reliability_table(q > 0.4, q, bins = 5, type = "classwise", binning = "equal-mass")
  expect_equal(sum(tab$count), 10)
  expect_setequal(tab$count[tab$count > 0], c(5, 3, 2))
})

test_that("ECE of perfectly calibrated data shrinks towards 0 as n grows", {
  set.seed(7)
  ece <- vapply(c(1e3, 1e4, 1e5, 1e6), function(n) {
    P <- softmax(matrix(rnorm(n * 3, sd = 2), n, 3))
    u <- runif(n)
    y <- 1 + (u > P[, 1]) + (u > P[, 1] + P[, 2])  # y drawn from each row of P
    calibration_error(y, P)
  }, numeric(1))
  expect_true(all(diff(ece) < 0))
  expect_lt(ece[4], 0.003)   # of order sqrt(B / n) = 0.004
  # and a miscalibrated model does not: the ECE stays near the gap
  n <- 1e5
  p <- runif(n, 0.5, 1)
  y <- runif(n) < p - 0.1
  expect_equal(calibration_error(y, p, type = "classwise"), 0.1, tolerance = 0.05)
})

test_that("brier_score matches its definition, with 0 and 2 for one-hot predictions", {
  d <- toy()
  onehot <- diag(3)[d$y, ]
  expect_equal(brier_score(d$y, d$P, reduction = "none"), rowSums((d$P - onehot)^2),
               tolerance = 1e-15)
  expect_equal(brier_score(d$y, d$P), mean(rowSums((d$P - onehot)^2)), tolerance = 1e-15)
  # certain and right: 0; certain and wrong: 1 + 1 = 2
  expect_identical(brier_score(c(1, 2), rbind(c(1, 0, 0), c(1, 0, 0)), reduction = "none"),
                   c(0, 2))
  w <- c(1, 2, 0, 1, 1, 3)
  expect_equal(brier_score(d$y, d$P, weights = w),
               sum(w * rowSums((d$P - onehot)^2)) / sum(w), tolerance = 1e-15)
  expect_equal(brier_score(d$y, d$P, weights = w, reduction = "sum"),
               sum(w * rowSums((d$P - onehot)^2)), tolerance = 1e-15)
  # soft targets
  Tm <- softmax(matrix(c(1, 2, 0, 0, 1, 3), 2, 3))
  Pm <- softmax(matrix(c(0, 1, 1, 0, 2, 2), 2, 3))
  expect_equal(brier_score(Tm, Pm, reduction = "none"), rowSums((Pm - Tm)^2), tolerance = 1e-15)
  # binary: (p - y)^2, with probabilities as targets too
  expect_equal(brier_score(c(1, 0, 1), c(0.9, 0.2, 0.6), reduction = "none"),
               c(0.01, 0.04, 0.16), tolerance = 1e-15)
  expect_equal(brier_score(c(TRUE, FALSE), c(0.3, 0.3)), (0.49 + 0.09) / 2, tolerance = 1e-15)
  expect_equal(brier_score(c(0.5, 0.2), c(0.3, 0.3)), (0.04 + 0.01) / 2, tolerance = 1e-15)
  expect_equal(brier_score(factor(c("a", "b", "b")), c(0.1, 0.8, 0.5)),
               mean(c(0.01, 0.04, 0.25)), tolerance = 1e-15)
  # names are kept with "none"
  p <- c(a = 0.2, b = 0.1)
  expect_named(brier_score(c(1, 0), p, reduction = "none"), c("a", "b"))
})

test_that("NA and NaN give NA and NaN unless na.rm = TRUE", {
  d <- toy()
  P <- d$P
  P[2, 3] <- NA
  expect_identical(brier_score(d$y, P), NA_real_)
  expect_identical(calibration_error(d$y, P), NA_real_)
  expect_equal(brier_score(d$y, P, na.rm = TRUE), brier_score(d$y[-2], d$P[-2, ]))
  expect_equal(calibration_error(d$y, P, bins = 5, na.rm = TRUE),
               calibration_error(d$y[-2], d$P[-2, ], bins = 5))
  P[4, 1] <- NaN
  Q <- d$P
  Q[4, 1] <- NaN
  expect_true(is.nan(brier_score(d$y, Q)))
  expect_true(is.nan(calibration_error(d$y, Q)))
  expect_identical(brier_score(d$y, P), NA_real_)   # NA wins over NaN
  y <- d$y
  y[5] <- NA
  expect_identical(calibration_error(y, d$P), NA_real_)
  expect_equal(calibration_error(y, d$P, bins = 3, binning = "equal-mass", na.rm = TRUE),
               calibration_error(d$y[-5], d$P[-5, ], bins = 3, binning = "equal-mass"))
  expect_identical(top_k_accuracy(y, d$P), NA_real_)
  expect_equal(top_k_accuracy(y, d$P, na.rm = TRUE), top_k_accuracy(d$y[-5], d$P[-5, ]))
  expect_identical(brier_score(c(1, NA), c(0.5, 0.5), reduction = "none"), c(0.25, NA))
  expect_snapshot(reliability_table(y, d$P), error = TRUE)
  tab <- reliability_table(y, d$P, bins = 5, na.rm = TRUE)
  expect_equal(sum(tab$count), 5)
})

test_that("reliability_table reports bins, frequencies and Wilson intervals", {
  d <- toy()
  tab <- reliability_table(d$y, d$P, bins = 5)
  expect_s3_class(tab, c("xentropy_reliability", "data.frame"))
  expect_named(tab, c("bin", "lower", "upper", "count", "weight", "confidence", "frequency",
                      "ci_lower", "ci_upper"))
  expect_equal(tab$count, c(0, 1, 2, 2, 1))
  expect_equal(tab$lower, (0:4) / 5)
  expect_equal(tab$confidence, c(NA, 0.35, 0.5, 0.725, 0.9), tolerance = 1e-15)
  expect_equal(tab$frequency, c(NA, 1, 0.5, 0.5, 1))
  expect_equal(attr(tab, "ece"), 0.2, tolerance = 1e-14)
  expect_equal(attr(tab, "mce"), 0.65, tolerance = 1e-14)
  # Wilson intervals are prop.test()'s without continuity correction
  for (b in 2:5) {
    ci <- suppressWarnings(prop.test(tab$frequency[b] * tab$count[b], tab$count[b],
                                     correct = FALSE)$conf.int)
    expect_equal(c(tab$ci_lower[b], tab$ci_upper[b]), as.numeric(ci), tolerance = 1e-12)
  }
  tab90 <- reliability_table(d$y, d$P, bins = 5, level = 0.9)
  expect_true(all(tab90$ci_upper[2:5] - tab90$ci_lower[2:5] <
                    tab$ci_upper[2:5] - tab$ci_lower[2:5]))
  # classwise: one block of bins per class, named by the columns
  P <- d$P
  colnames(P) <- c("x", "y", "z")
  cw <- reliability_table(d$y, P, bins = 2, type = "classwise")
  expect_equal(levels(cw$class), c("x", "y", "z"))
  expect_equal(cw$count, c(5, 1, 4, 2, 5, 1))
  expect_snapshot(print(reliability_table(d$y, d$P, bins = 4)))
})

test_that("the reliability diagram is a ggplot with the bins, intervals and shares", {
  skip_if_not_installed("ggplot2")
  d <- toy()
  p <- ggplot2::autoplot(reliability_table(d$y, d$P, bins = 5))
  expect_s3_class(p, "ggplot")
  built <- ggplot2::ggplot_build(p)
  expect_length(built$data, 5)   # diagonal, bars, error bars, line, points
  expect_equal(sort(built$data[[5]]$x), c(0.35, 0.5, 0.725, 0.9), tolerance = 1e-15)
  P <- d$P
  colnames(P) <- c("x", "y", "z")
  p2 <- ggplot2::autoplot(reliability_table(d$y, P, bins = 2, type = "classwise"))
  expect_s3_class(p2, "ggplot")
  expect_silent(ggplot2::ggplot_build(p2))
  f <- tempfile(fileext = ".pdf")
  grDevices::pdf(f)
  on.exit({grDevices::dev.off(); unlink(f)})
  expect_invisible(plot(reliability_table(d$y, d$P, bins = 5)))
})

test_that("top_k_accuracy breaks ties towards the lower class index", {
  S <- rbind(c(0.5, 0.3, 0.2), c(0.1, 0.3, 0.6), c(0.4, 0.4, 0.2))
  y <- c(2, 2, 2)
  # row 1: 2nd; row 2: 2nd; row 3: tied with class 1, which comes first: 2nd
  expect_identical(top_k_accuracy(y, S, k = 1), 0)
  expect_identical(top_k_accuracy(y, S, k = 2), 1)
  expect_identical(top_k_accuracy(c(1, 3, 1), S, k = 1), 1)
  expect_identical(top_k_accuracy(y, S, k = 3), 1)
  expect_identical(top_k_accuracy(y, log(S), k = 2), 1)
  # agreement with max.col(ties = "first") and a reference for k = 2, 3
  set.seed(8)
  n <- 3000
  K <- 6
  S <- matrix(sample(1:5, n * K, replace = TRUE), n, K)  # many ties
  y <- sample.int(K, n, replace = TRUE)
  expect_equal(top_k_accuracy(y, S), mean(max.col(S, ties.method = "first") == y))
  ref <- function(k) {
    mean(vapply(seq_len(n), function(i) {
      s <- S[i, ]
      sum(s > s[y[i]]) + sum(s[seq_len(y[i] - 1)] == s[y[i]]) < k
    }, logical(1)))
  }
  for (k in 2:K) expect_equal(top_k_accuracy(y, S, k = k), ref(k))
  w <- runif(n)
  expect_equal(top_k_accuracy(y, S, weights = w),
               sum(w * (max.col(S, ties.method = "first") == y)) / sum(w))
  # infinite scores compare as numbers
  expect_identical(top_k_accuracy(c(1, 2), rbind(c(Inf, 0), c(-Inf, 0))), 1)
})

test_that("temperature_scaling finds T = 1 for calibrated logits", {
  set.seed(9)
  n <- 1e5
  K <- 5
  Z <- matrix(rnorm(n * K, sd = 1.5), n, K)
  P <- softmax(Z)
  u <- runif(n)
  cum <- P %*% upper.tri(diag(K), diag = TRUE)   # row-wise cumulative sums
  y <- 1 + rowSums(u > cum[, -K, drop = FALSE])    # y drawn from each row of P
  fit <- temperature_scaling(y, Z)
  # the standard error of T here is about 0.005: 0.02 is four of them
  expect_equal(fit$temperature, 1, tolerance = 0.02)
  expect_lt(fit$ece[["after"]], 0.01)
  # logits scaled by 2.5 give T = 2.5 times the fit above
  fit2 <- temperature_scaling(y, 2.5 * Z)
  expect_equal(fit2$temperature, 2.5 * fit$temperature, tolerance = 1e-10)
  expect_equal(fit2$loss[["after"]], fit$loss[["after"]], tolerance = 1e-12)
  expect_lte(fit2$passes, 10)
})

test_that("the fitted temperature zeroes the derivative and agrees with optimize()", {
  set.seed(10)
  n <- 2000
  K <- 4
  Z <- matrix(rnorm(n * K, sd = 3), n, K)
  y <- sample.int(K, n, replace = TRUE, prob = c(4, 3, 2, 1))
  Z[cbind(seq_len(n), y)] <- Z[cbind(seq_len(n), y)] + 2
  fit <- temperature_scaling(y, Z)
  beta <- 1 / fit$temperature
  s <- scaling_pass_impl(y, 0L, Z, FALSE, FALSE, beta, 0, NULL, FALSE, 1L)
  expect_lt(abs(s[3] / s[1]), 1e-10)           # mean dL/dbeta at the fit
  expect_gt(s[5], 0)                           # convex: Var_p[z] > 0
  expect_equal(s[2] / s[1], softmax_cross_entropy(y, Z * beta), tolerance = 1e-13)
  # the derivative of the pass agrees with finite differences of the loss
  h <- 1e-5
  fd <- (softmax_cross_entropy(y, Z * (beta + h)) - softmax_cross_entropy(y, Z * (beta - h))) /
    (2 * h)
  s1 <- scaling_pass_impl(y, 0L, Z, FALSE, FALSE, beta + 0.3, 0, NULL, FALSE, 1L)
  fd1 <- (softmax_cross_entropy(y, Z * (beta + 0.3 + h)) -
            softmax_cross_entropy(y, Z * (beta + 0.3 - h))) / (2 * h)
  expect_equal(s1[3] / s1[1], fd1, tolerance = 1e-7)
  opt <- optimize(function(T) softmax_cross_entropy(y, Z / T), c(0.1, 20), tol = 1e-10)
  expect_equal(fit$temperature, opt$minimum, tolerance = 1e-6)
  expect_equal(fit$loss[["after"]], opt$objective, tolerance = 1e-12)
  expect_equal(fit$loss[["before"]], softmax_cross_entropy(y, Z), tolerance = 1e-13)
  expect_lte(fit$passes, 10)
  # weighted, and with soft targets
  w <- runif(n)
  fw <- temperature_scaling(y, Z, weights = w)
  ow <- optimize(function(T) softmax_cross_entropy(y, Z / T, weights = w), c(0.1, 20), tol = 1e-10)
  expect_equal(fw$temperature, ow$minimum, tolerance = 1e-6)
  soft <- 0.8 * diag(K)[y, ] + 0.05
  fs <- temperature_scaling(soft, Z)
  os <- optimize(function(T) softmax_cross_entropy(soft, Z / T), c(0.1, 20), tol = 1e-10)
  expect_equal(fs$temperature, os$minimum, tolerance = 1e-6)
  # predict() applies it
  expect_equal(predict(fit, Z), softmax(Z, temperature = fit$temperature))
  expect_equal(predict(fit, Z[1:3, ], type = "link"), Z[1:3, ] / fit$temperature,
               tolerance = 1e-15)
})

test_that("binary temperature scaling and Platt scaling agree with optimize() and glm()", {
  set.seed(11)
  n <- 3000
  z <- rnorm(n, sd = 3)
  y <- runif(n) < sigmoid(0.4 * z + 0.3)
  fit <- temperature_scaling(y, z)
  s <- scaling_pass_impl(y, 0L, z, TRUE, FALSE, 1 / fit$temperature, 0, NULL, FALSE, 1L)
  expect_lt(abs(s[3] / s[1]), 1e-10)
  opt <- optimize(function(T) sigmoid_cross_entropy(y, z / T), c(0.1, 20), tol = 1e-10)
  expect_equal(fit$temperature, opt$minimum, tolerance = 1e-6)
  expect_equal(predict(fit, z), sigmoid(z / fit$temperature), tolerance = 1e-15)
  pl <- temperature_scaling(y, z, method = "platt")
  g <- glm(y ~ z, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 50))
  expect_equal(unname(coef(pl)), unname(rev(coef(g))), tolerance = 1e-8)
  expect_equal(pl$loss[["after"]], as.numeric(-logLik(g)) / n, tolerance = 1e-12)
  expect_lt(max(abs(pl$gradient)), 1e-10)
  expect_equal(predict(pl, z), unname(fitted(g)), tolerance = 1e-8)
  expect_lte(pl$passes, 12)
  expect_identical(coef(fit), c(temperature = fit$temperature))
  # weights agree with glm's prior weights
  w <- rep(1:3, length.out = n)
  pw <- temperature_scaling(y, z, weights = w, method = "platt")
  gw <- suppressWarnings(glm(y ~ z, family = binomial, weights = w,
                             control = glm.control(epsilon = 1e-14, maxit = 50)))
  expect_equal(unname(coef(pw)), unname(rev(coef(gw))), tolerance = 1e-8)
  expect_snapshot(print(pl))
})

test_that("degenerate logits give a warning and the boundary temperature", {
  # labels always have the largest logit: the loss falls all the way as T -> 0
  Z <- rbind(c(2, 0), c(0, 1), c(3, -1), c(1, 1))
  expect_warning(fit <- temperature_scaling(c(1, 2, 1, 1), Z), "separate")
  expect_identical(fit$temperature, 0)
  expect_equal(fit$loss[["after"]], log(2) / 4)      # the tie in row 4 keeps log 2
  expect_equal(predict(fit, Z), rbind(c(1, 0), c(0, 1), c(1, 0), c(0.5, 0.5)))
  # logits pointing the wrong way: T = Inf
  expect_warning(fit <- temperature_scaling(c(2, 1, 2), Z[1:3, ]), "T = Inf")
  expect_identical(fit$temperature, Inf)
  expect_equal(predict(fit, Z), matrix(0.5, 4, 2))
  # binary
  expect_warning(fit <- temperature_scaling(c(1, 0, 1), c(2, -1, 0)), "separate")
  expect_identical(fit$temperature, 0)
  expect_equal(predict(fit, c(2, -1, 0)), c(1, 0, 0.5))
  expect_warning(fit <- temperature_scaling(c(1, 0, 1), c(2, -1, 4), method = "platt"),
                 "threshold")
  expect_true(all(is.nan(coef(fit))))
})

test_that("the ECE before and after a fit is that of the probabilities it predicts", {
  # computed from the logits without forming softmax(logits / T); the same
  # numbers as calibration_error() on the probability matrices
  ece_of <- function(y, z, fit, bins = 15, weights = NULL, na.rm = FALSE) {
    before <- if (is.matrix(z)) softmax(z) else sigmoid(z)
    c(before = calibration_error(y, before, bins = bins, weights = weights, na.rm = na.rm),
      after = calibration_error(y, predict(fit, z), bins = bins, weights = weights,
                                na.rm = na.rm))
  }
  set.seed(21)
  n <- 3000
  Z <- matrix(rnorm(n * 4, sd = 3), n, 4)
  y <- max.col(Z + matrix(rnorm(n * 4, sd = 2), n, 4))
  w <- runif(n)
  fit <- temperature_scaling(y, Z)
  expect_true(fit$temperature > 1.2)                 # overconfident logits
  expect_equal(fit$ece, ece_of(y, Z, fit), tolerance = 1e-12)
  expect_equal(fit$ece[["after"]],
               calibration_error(y, softmax(Z / fit$temperature)), tolerance = 1e-12)
  fit <- temperature_scaling(y, Z, weights = w, bins = 7)
  expect_equal(fit$ece, ece_of(y, Z, fit, bins = 7, weights = w), tolerance = 1e-12)
  Zna <- Z
  Zna[3, 2] <- NA
  Zna[8, 1] <- NaN
  fit <- temperature_scaling(y, Zna, na.rm = TRUE)
  expect_equal(fit$ece, ece_of(y, Zna, fit, na.rm = TRUE), tolerance = 1e-12)
  Ty <- softmax(matrix(rnorm(n * 4), n, 4))          # soft targets
  fit <- temperature_scaling(Ty, Z)
  expect_equal(fit$ece, ece_of(Ty, Z, fit), tolerance = 1e-12)
  # binary logits: temperature and Platt
  z <- rnorm(n, sd = 4)
  yb <- rbinom(n, 1, plogis(z / 3))
  fit <- temperature_scaling(yb, z)
  expect_equal(fit$ece, ece_of(yb, z, fit), tolerance = 1e-12)
  fit <- temperature_scaling(yb, z, method = "platt", bins = 10)
  expect_equal(fit$ece, ece_of(yb, z, fit, bins = 10), tolerance = 1e-12)
  # boundary temperatures: T = 0 (ties share the top) and T = Inf (uniform)
  Z0 <- rbind(c(2, 0), c(0, 1), c(3, -1), c(1, 1))
  fit <- suppressWarnings(temperature_scaling(c(1, 2, 1, 1), Z0))
  expect_identical(fit$temperature, 0)
  # bins of 1/15: rows 1-3 confidence 1, outcome 1; row 4 confidence 1/2, outcome 1
  expect_equal(fit$ece[["after"]], 0.25 * 0.5, tolerance = 1e-15)
  expect_equal(fit$ece, ece_of(c(1, 2, 1, 1), Z0, fit), tolerance = 1e-12)
  fit <- suppressWarnings(temperature_scaling(c(2, 1, 2), Z0[1:3, ]))
  expect_identical(fit$temperature, Inf)
  # every row: confidence 1/2 for class 1, which is right once in three
  expect_equal(fit$ece[["after"]], 1 / 2 - 1 / 3, tolerance = 1e-15)
  expect_equal(fit$ece, ece_of(c(2, 1, 2), Z0[1:3, ], fit), tolerance = 1e-12)
  fit <- suppressWarnings(temperature_scaling(c(1, 0, 1), c(2, -1, 0)))
  expect_equal(fit$ece, ece_of(c(1, 0, 1), c(2, -1, 0), fit), tolerance = 1e-12)
})

test_that("results do not depend on the thread count", {
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  set.seed(12)
  n <- 1e5
  Z <- matrix(rnorm(n * 5, sd = 2), n, 5)
  P <- softmax(Z)
  y <- sample.int(5, n, replace = TRUE)
  w <- runif(n)
  run <- function() {
    list(
      brier_score(y, P, weights = w),
      brier_score(y, P, reduction = "none"),
      calibration_error(y, P, weights = w),
      calibration_error(y, P, type = "classwise", binning = "equal-mass"),
      reliability_table(y, P, bins = 20, weights = w),
      top_k_accuracy(y, Z, k = 2, weights = w),
      unclass(temperature_scaling(y, Z, weights = w))[c("temperature", "loss", "ece", "passes")],
      unclass(temperature_scaling(y > 2, Z[, 1], method = "platt"))[c("coefficients", "loss")]
    )
  }
  xentropy_threads(1)
  one <- run()
  xentropy_threads(2)
  expect_identical(run(), one)
  xentropy_threads(3)
  expect_identical(run(), one)
})

test_that("every SIMD path gives the same temperature", {
  set.seed(13)
  Z <- matrix(rnorm(4000), 1000, 4)
  y <- sample.int(4, 1000, replace = TRUE)
  ref <- temperature_scaling(y, 2 * Z)$temperature
  each_simd_path(expect_equal(temperature_scaling(y, 2 * Z)$temperature, ref,
                              tolerance = 1e-13))
})

test_that("NA logits are an error unless na.rm = TRUE", {
  set.seed(14)
  Z <- matrix(rnorm(300), 100, 3)
  y <- sample.int(3, 100, replace = TRUE)
  Zna <- Z
  Zna[7, 2] <- NA
  expect_snapshot(temperature_scaling(y, Zna), error = TRUE)
  expect_error(temperature_scaling(y, Zna), class = "xentropy_error_missing")
  expect_equal(temperature_scaling(y, Zna, na.rm = TRUE)$temperature,
               temperature_scaling(y[-7], Z[-7, ])$temperature)
  yna <- y
  yna[3] <- NA
  expect_snapshot(temperature_scaling(yna, Z), error = TRUE)
  z <- Z[, 1]
  z[5] <- NaN
  expect_snapshot(temperature_scaling(y > 1, z, method = "platt"), error = TRUE)
})

test_that("bad arguments are errors that name the argument", {
  d <- toy()
  expect_snapshot(error = TRUE, {
    calibration_error(d$y, d$P, bins = 0)
    calibration_error(d$y, d$P, bins = 2.5)
    calibration_error(d$y, d$P, type = "top")
    calibration_error(d$y, d$P, binning = "quantile")
    calibration_error(d$y, d$P, norm = "l3")
    calibration_error(d$y, d$P * 1.2)
    calibration_error(d$y, d$P - 0.1)
    calibration_error(d$y, d$P * 0.9)
    calibration_error(c(1, 2, 3, 4, 5, 3), d$P)
    calibration_error(d$y[-1], d$P)
    calibration_error("a", d$P)
    calibration_error(c(1, 0, 1), c(0.5, 1.5, 0.2))
    calibration_error(c(1, 0, 2), c(0.5, 0.5, 0.2))
    brier_score(d$y, d$P, reduction = "avg")
    brier_score(d$y, d$P, weights = rep(-1, 6))
    brier_score(d$y, d$P / 2)
    reliability_table(d$y, d$P, level = 1)
    top_k_accuracy(d$y, d$P, k = 0)
    top_k_accuracy(d$y, d$P, k = 4)
    top_k_accuracy(diag(3)[d$y, ], d$P)
    temperature_scaling(d$y, log(d$P), method = "platt")
    temperature_scaling(d$y, rbind(log(d$P)[-1, ], c(0, Inf, 0)))
    temperature_scaling(c(1, 0), c(0, -Inf))
    temperature_scaling(d$y, log(d$P), weights = rep(0, 6))
    predict(temperature_scaling(d$y, log(d$P)), matrix(0, 2, 4))
  })
  expect_error(calibration_error(d$y, d$P * 0.9), class = "xentropy_error_not_distribution")
  # a tolerance of 1e-6 on row sums: rounding to 7 digits passes
  expect_silent(calibration_error(d$y, round(softmax(matrix(rnorm(18), 6, 3)), 7)))
})

test_that("Platt scaling reaches glm's fit on shifted and scaled logits", {
  # from (a, b) = (1, 0) the sigmoid is saturated on these logits: no halving of the
  # Newton step lowered the loss, and the start values came back as "converged"
  set.seed(26)
  n <- 200
  z <- rnorm(n)
  y <- rbinom(n, 1, plogis(z))
  for (zz in list(z, z + 50, z + 300, z - 700, z * 3000, z * 1e4, z / 1e6)) {
    fit <- temperature_scaling(y, zz, method = "platt")
    g <- glm(y ~ zz, family = binomial, control = glm.control(epsilon = 1e-14))
    expect_equal(fit$status, 0L)
    expect_equal(unname(fit$coefficients), unname(coef(g)[2:1]), tolerance = 1e-7)
    expect_equal(fit$loss[["after"]], -mean(dbinom(y, 1, fitted(g), log = TRUE)), tolerance = 1e-12)
  }
})

test_that("temperature_scaling(na.rm = TRUE) counts the rows it fitted on", {
  set.seed(5)
  Z <- matrix(rnorm(300), 100)
  y <- sample(1:3, 100, TRUE)
  y[1:40] <- NA
  Z[41, 2] <- NaN
  # (random logits: T = Inf, with its warning)
  expect_equal(suppressWarnings(temperature_scaling(y, Z, na.rm = TRUE))$n, 59L)
  z <- Z[, 1]
  expect_equal(temperature_scaling(y > 1, z, method = "platt", na.rm = TRUE)$n, 60L)
  expect_equal(suppressWarnings(temperature_scaling(y[41:100], Z[42:100, ][c(1, 1:59), ]))$n, 60L)
})

test_that("merge_reliability() refuses tables of different levels", {
  set.seed(6)
  p <- runif(200)
  y <- rbinom(200, 1, p)
  a <- reliability_table(y[1:100], p[1:100], bins = 5, level = 0.8)
  b <- reliability_table(y[101:200], p[101:200], bins = 5, level = 0.99)
  expect_error(merge_reliability(a, b), class = "xentropy_error_argument")
  expect_error(merge_reliability(a, b), "level")
  expect_equal(attr(merge_reliability(a, a), "level"), 0.8)
})

test_that("Platt scaling keeps its digits on logits shifted by 1e8 or more", {
  # the spread of z cancelled in E z^2 - (E z)^2 and a z + b lost 8 digits: the fit
  # stopped far from glm's and said converged
  set.seed(27)
  n <- 300
  z <- rnorm(n)
  y <- rbinom(n, 1, plogis(1.3 * z))
  g <- glm(y ~ z, family = binomial, control = glm.control(epsilon = 1e-14))
  for (shift in c(1e8, 1e9, -1e10)) {
    fit <- temperature_scaling(y, z + shift, method = "platt")
    expect_equal(fit$status, 0L)
    expect_equal(fit$coefficients[["a"]], coef(g)[["z"]], tolerance = 1e-6)
    expect_equal(fit$loss[["after"]], -mean(dbinom(y, 1, fitted(g), log = TRUE)), tolerance = 1e-7)
  }
})
