# Losses and gradients.

test_that("the identities hold to 1e-12", {
  d <- fixture_logits()
  ce <- cross_entropy_loss(d$y, d$P)
  expect_equal(mean(cross_entropy(d$onehot, d$P)), ce, tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z), cross_entropy_loss(d$y, softmax(d$Z)),
               tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z),
               mean(logsumexp(d$Z) - d$Z[cbind(seq_len(d$n), d$y)]), tolerance = 1e-12)
  expect_equal(-loglik_categorical(d$y, d$P) / d$n, ce, tolerance = 1e-12)
  expect_equal(cross_entropy_loss(d$onehot, d$P), ce, tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$onehot, d$Z), softmax_cross_entropy(d$y, d$Z),
               tolerance = 1e-12)
  expect_equal(cross_entropy_loss(d$y, d$P, reduction = "none"), -log(d$P[cbind(seq_len(d$n), d$y)]),
               tolerance = 1e-12)
  set.seed(15)
  yb <- rbinom(100, 1, 0.3)
  z <- rnorm(100, sd = 3)
  expect_equal(sigmoid_cross_entropy(yb, z), binary_cross_entropy(yb, sigmoid(z)), tolerance = 1e-12)
  expect_equal(sigmoid_cross_entropy(yb, z),
               mean(pmax(z, 0) - z * yb + log1p(exp(-abs(z)))), tolerance = 1e-12)
  expect_equal(binary_cross_entropy(yb, plogis(z), reduction = "sum"),
               -sum(dbinom(yb, 1, plogis(z), log = TRUE)), tolerance = 1e-12)
  expect_equal(binary_cross_entropy(yb, plogis(z)), cross_entropy_loss(yb + 1, cbind(1 - plogis(z), plogis(z))),
               tolerance = 1e-12)
})

test_that("soft targets", {
  d <- fixture_logits()
  set.seed(16)
  Tm <- matrix(runif(d$n * d$K), d$n)
  Tm <- Tm / rowSums(Tm)
  expect_equal(cross_entropy_loss(Tm, d$P), mean(cross_entropy(Tm, d$P)), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(Tm, d$Z), mean(-rowSums(Tm * log_softmax(d$Z))), tolerance = 1e-12)
  ys <- runif(20)
  z <- rnorm(20)
  expect_equal(sigmoid_cross_entropy(ys, z, reduction = "none"),
               -(ys * log_sigmoid(z) + (1 - ys) * log_sigmoid(-z)), tolerance = 1e-12)
})

test_that("from-logits losses are exact and finite for logits of +-1e10", {
  expect_identical(sigmoid_cross_entropy(c(1, 0, 1, 0), c(1e10, -1e10, -1e10, 1e10), reduction = "none"),
                   c(0, 0, 1e10, 1e10))
  expect_identical(softmax_cross_entropy(c(1, 2), rbind(c(1e10, -1e10), c(1e10, -1e10)), reduction = "none"),
                   c(0, 2e10))
  expect_identical(sigmoid_cross_entropy(1, -1e10), 1e10)
  expect_equal(sigmoid_cross_entropy(1, 40), log1p(exp(-40)), tolerance = 1e-15)
  expect_gt(sigmoid_cross_entropy(1, 40), 0)
  expect_identical(binary_cross_entropy(1, sigmoid(40)), 0)  # the probability rounded to 1
  expect_identical(sigmoid_cross_entropy(c(1, 0), c(Inf, -Inf), reduction = "none"), c(0, 0))
  expect_identical(sigmoid_cross_entropy(c(0, 1), c(Inf, -Inf), reduction = "none"), c(Inf, Inf))
  expect_identical(softmax_cross_entropy(1, c(Inf, 0)), 0)
  expect_identical(softmax_cross_entropy(2, c(Inf, 0)), Inf)
  expect_identical(softmax_cross_entropy(1, c(Inf, Inf)), log(2))
  expect_identical(softmax_cross_entropy(1, c(0, -Inf)), 0)
  expect_identical(softmax_cross_entropy(2, c(0, -Inf)), Inf)
  g <- softmax_cross_entropy_grad(c(1, 2), rbind(c(1e10, -1e10), c(1e10, -1e10)), reduction = "sum")
  expect_identical(g, rbind(c(0, 0), c(1, -1)))
  expect_identical(sigmoid_cross_entropy_grad(c(1, 0), c(-1e10, 1e10), reduction = "sum"), c(-1, 1))
})

test_that("0 log 0 = 0, and a true class with probability 0 costs Inf (no clipping)", {
  P <- rbind(c(1, 0), c(0.5, 0.5))
  expect_identical(cross_entropy_loss(c(1, 1), P, reduction = "none"), c(0, log(2)))
  expect_identical(cross_entropy_loss(c(2, 1), P, reduction = "none"), c(Inf, log(2)))
  expect_identical(binary_cross_entropy(c(1, 0), c(1, 0), reduction = "none"), c(0, 0))
  expect_identical(binary_cross_entropy(c(1, 0), c(0, 1), reduction = "none"), c(Inf, Inf))
})

test_that("weights and reductions: sum, weighted mean, none", {
  d <- fixture_logits()
  set.seed(17)
  w <- runif(d$n)
  l <- softmax_cross_entropy(d$y, d$Z, reduction = "none")
  expect_equal(softmax_cross_entropy(d$y, d$Z, reduction = "sum"), sum(l), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z, weights = w), sum(w * l) / sum(w), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z, weights = w, reduction = "sum"), sum(w * l),
               tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z, weights = w, reduction = "none"), w * l,
               tolerance = 1e-12)
  expect_equal(cross_entropy_loss(d$y, d$P, weights = w), sum(w * l) / sum(w), tolerance = 1e-12)
  expect_equal(cross_entropy_loss(d$y, d$P, weights = rep(2, d$n)), cross_entropy_loss(d$y, d$P),
               tolerance = 1e-12)
  yb <- rbinom(30, 1, 0.5)
  z <- rnorm(30)
  wb <- runif(30)
  lb <- sigmoid_cross_entropy(yb, z, reduction = "none")
  expect_equal(sigmoid_cross_entropy(yb, z, weights = wb), sum(wb * lb) / sum(wb), tolerance = 1e-12)
  expect_equal(binary_cross_entropy(yb, sigmoid(z), weights = wb, reduction = "sum"), sum(wb * lb),
               tolerance = 1e-12)
  # a zero weight drops an infinite loss
  expect_identical(binary_cross_entropy(c(1, 1), c(0, 1), weights = c(0, 1)), 0)
  expect_named(softmax_cross_entropy(1:2, matrix(0, 2, 2, dimnames = list(c("a", "b"), NULL)),
                                     reduction = "none"), c("a", "b"))
})

test_that("label_smoothing and pos_weight follow PyTorch's definitions", {
  d <- fixture_logits()
  eps <- 0.2
  Ts <- (1 - eps) * d$onehot + eps / d$K
  expect_equal(softmax_cross_entropy(d$y, d$Z, label_smoothing = eps),
               mean(-rowSums(Ts * log_softmax(d$Z))), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$onehot, d$Z, label_smoothing = eps),
               softmax_cross_entropy(d$y, d$Z, label_smoothing = eps), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy_grad(d$y, d$Z, label_smoothing = eps),
               (softmax(d$Z) - Ts) / d$n, tolerance = 1e-12)
  set.seed(18)
  yb <- rbinom(30, 1, 0.5)
  z <- rnorm(30)
  pw <- 3
  expect_equal(sigmoid_cross_entropy(yb, z, pos_weight = pw),
               mean(-(pw * yb * log_sigmoid(z) + (1 - yb) * log_sigmoid(-z))), tolerance = 1e-12)
  expect_equal(sigmoid_cross_entropy_grad(yb, z, pos_weight = pw),
               ((1 - yb) * sigmoid(z) - pw * yb * sigmoid(-z)) / 30, tolerance = 1e-12)
})

test_that("gradients agree with central finite differences of their losses", {
  d <- fixture_logits(n = 8, K = 3)
  w <- seq(0.5, 2, length.out = 8)
  for (red in c("mean", "sum")) {
    f <- function(Z) softmax_cross_entropy(d$y, Z, weights = w, reduction = red, label_smoothing = 0.1)
    expect_equal(softmax_cross_entropy_grad(d$y, d$Z, weights = w, reduction = red, label_smoothing = 0.1),
                 numeric_grad(f, d$Z), tolerance = 1e-7)
    z <- d$Z[, 1]
    yb <- as.numeric(d$y == 1)
    g <- function(z) sigmoid_cross_entropy(yb, z, weights = w, reduction = red, pos_weight = 2)
    expect_equal(sigmoid_cross_entropy_grad(yb, z, weights = w, reduction = red, pos_weight = 2),
                 numeric_grad(g, z), tolerance = 1e-7)
  }
  # "none": each row is the gradient of its own loss
  gn <- softmax_cross_entropy_grad(d$y, d$Z, reduction = "none")
  expect_equal(gn, softmax(d$Z) - d$onehot, tolerance = 1e-12)
  expect_equal(sigmoid_cross_entropy_grad(c(1, 0), c(0.3, -2), reduction = "none"),
               sigmoid(c(0.3, -2)) - c(1, 0), tolerance = 1e-15)
})

test_that("targets as users hold them: factors matched by name, labels, logical, two-level factors", {
  d <- fixture_logits(n = 6, K = 3)
  P <- d$P
  colnames(P) <- c("a", "b", "c")
  f <- factor(c("a", "b", "c", "a", "b", "c"))
  expect_equal(cross_entropy_loss(f, P), cross_entropy_loss(c(1, 2, 3, 1, 2, 3), P), tolerance = 0)
  shuffled <- factor(c("a", "b", "c", "a", "b", "c"), levels = c("c", "a", "b"))
  expect_equal(cross_entropy_loss(shuffled, P), cross_entropy_loss(f, P), tolerance = 0)
  expect_equal(cross_entropy_loss(factor(c("a", "a", "a", "a", "a", "a"), levels = "a"), P),
               mean(-log(P[, "a"])), tolerance = 1e-15)
  expect_equal(cross_entropy_loss(1:6 %% 3 + 1L, P), cross_entropy_loss(as.double(1:6 %% 3 + 1), P),
               tolerance = 0)
  expect_equal(cross_entropy_loss(factor(c(1, 2, 3, 1, 2, 3)), d$P), cross_entropy_loss(f, P), tolerance = 0)
  yb <- c(TRUE, FALSE, TRUE)
  p <- c(0.9, 0.2, 0.6)
  expect_identical(binary_cross_entropy(yb, p), binary_cross_entropy(as.numeric(yb), p))
  expect_identical(binary_cross_entropy(as.integer(yb), p), binary_cross_entropy(as.numeric(yb), p))
  yf <- factor(c("yes", "no", "yes"), levels = c("no", "yes"))
  expect_identical(binary_cross_entropy(yf, p), binary_cross_entropy(as.numeric(yb), p))
  expect_equal(sigmoid_cross_entropy(yf, qlogis(p)), binary_cross_entropy(yf, p), tolerance = 1e-12)
  # a vector of predictions is one observation
  expect_equal(softmax_cross_entropy(2, c(1, 2, 3)), logsumexp(c(1, 2, 3)) - 2, tolerance = 1e-15)
})

test_that("NA and NaN: NA loss unless na.rm, which drops observations and their weights", {
  d <- fixture_logits(n = 5, K = 3)
  y <- c(1, NA, 2, 3, 1)
  expect_true(is.na(softmax_cross_entropy(y, d$Z)))
  expect_false(is.nan(softmax_cross_entropy(y, d$Z)))
  keep <- !is.na(y)
  expect_equal(softmax_cross_entropy(y, d$Z, na.rm = TRUE),
               softmax_cross_entropy(y[keep], d$Z[keep, ]), tolerance = 1e-12)
  w <- 1:5
  expect_equal(softmax_cross_entropy(y, d$Z, weights = w, na.rm = TRUE),
               softmax_cross_entropy(y[keep], d$Z[keep, ], weights = w[keep]), tolerance = 1e-12)
  Z <- d$Z
  Z[3, 2] <- NaN
  l <- softmax_cross_entropy(c(1, 2, 2, 3, 1), Z, reduction = "none")
  expect_identical(is.nan(l), c(FALSE, FALSE, TRUE, FALSE, FALSE))
  expect_true(is.nan(softmax_cross_entropy(c(1, 2, 2, 3, 1), Z)))
  Z[4, 1] <- NA
  expect_true(is.na(softmax_cross_entropy(c(1, 2, 2, 3, 1), Z)) &&
                !is.nan(softmax_cross_entropy(c(1, 2, 2, 3, 1), Z)))
  g <- softmax_cross_entropy_grad(y, d$Z)
  expect_true(all(is.na(g[2, ])))
  expect_false(anyNA(g[-2, ]))
  g0 <- softmax_cross_entropy_grad(y, d$Z, na.rm = TRUE)
  expect_identical(g0[2, ], c(0, 0, 0))
  expect_equal(g0[keep, ], softmax_cross_entropy_grad(y[keep], d$Z[keep, ]), tolerance = 1e-12)
  gb <- sigmoid_cross_entropy_grad(c(1, NA, 0), c(0.5, 1, -1), na.rm = TRUE)
  expect_equal(gb, c(sigmoid(0.5) - 1, 0, sigmoid(-1)) / 2, tolerance = 1e-15)
  expect_true(is.na(binary_cross_entropy(c(1, NA), c(0.5, 0.5))))
  expect_equal(binary_cross_entropy(c(1, NA), c(0.5, 0.5), na.rm = TRUE), log(2), tolerance = 1e-15)
  expect_true(is.nan(sigmoid_cross_entropy(c(1, 0), c(NaN, 1))))
})

test_that("empty input: mean is NaN, sum is 0, none is empty", {
  Z <- matrix(numeric(0), 0, 3)
  expect_true(is.nan(softmax_cross_entropy(integer(0), Z)))
  expect_identical(softmax_cross_entropy(integer(0), Z, reduction = "sum"), 0)
  expect_identical(softmax_cross_entropy(integer(0), Z, reduction = "none"), numeric(0))
  expect_identical(sigmoid_cross_entropy(numeric(0), numeric(0), reduction = "sum"), 0)
})

test_that("losses do not depend on the thread count", {
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  set.seed(19)
  n <- 50000
  Z <- matrix(rnorm(n * 5), n)
  y <- sample.int(5, n, replace = TRUE)
  yb <- rbinom(n * 5, 1, 0.5)
  z <- as.vector(Z)
  w <- runif(n)
  run <- function() {
    list(softmax_cross_entropy(y, Z), softmax_cross_entropy(y, Z, weights = w, label_smoothing = 0.1),
         cross_entropy_loss(y, softmax(Z)), softmax_cross_entropy_grad(y, Z),
         sigmoid_cross_entropy(yb, z), binary_cross_entropy(yb, sigmoid(z)),
         sigmoid_cross_entropy_grad(yb, z))
  }
  xentropy_threads(1)
  one <- run()
  xentropy_threads(2)
  two <- run()
  expect_identical(one, two)
})

test_that("bad input to the losses is an error naming the argument", {
  d <- fixture_logits(n = 4, K = 3)
  expect_error(softmax_cross_entropy(c(1, 2, 4, 1), d$Z),
               "`y` must contain class labels in 1..3 \\(the columns of `logits`\\); found 4 at position 3",
               class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 0, 2, 1), d$Z), "found 0 at position 2", class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 1.5, 2, 1), d$Z), "found 1.5 at position 2", class = "xentropy_error")
  expect_error(cross_entropy_loss(c(1, 2, 3), d$P), "`y` has 3 labels but `prob` has 4 rows",
               class = "xentropy_error")
  expect_error(cross_entropy_loss(diag(3), d$P), "`y` is a 3 x 3 matrix but `prob` is 4 x 3",
               class = "xentropy_error")
  expect_error(cross_entropy_loss(c(1, 2, 3, 1), d$Z), "`prob` must contain probabilities in \\[0, 1\\]",
               class = "xentropy_error")
  expect_error(cross_entropy_loss(diag(3)[c(1, 2, 3, 1), ] * 2, d$P),
               "`y` must contain target probabilities in \\[0, 1\\]; found 2 at \\[1, 1\\]",
               class = "xentropy_error")
  P <- d$P
  colnames(P) <- c("a", "b", "c")
  expect_error(cross_entropy_loss(factor(c("a", "b", "d", "a")), P),
               "Level \"d\" of `y` has no column in `prob`", class = "xentropy_error")
  expect_error(cross_entropy_loss(factor(c("a", "b", "a", "a")), d$P),
               "`y` has 2 levels but `prob` has 3 columns", class = "xentropy_error")
  expect_error(cross_entropy_loss(c("a", "b", "c", "a"), P), "`y` must be a factor, integer labels",
               class = "xentropy_error")
  expect_error(cross_entropy_loss(c(TRUE, FALSE, TRUE, TRUE), P), "not a logical vector",
               class = "xentropy_error")
  expect_error(softmax_cross_entropy(1:4, "a"), "`logits` must be a numeric", class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 2, 3, 1), d$Z, weights = c(1, 1, -1, 1)),
               "`weights` must be non-negative and finite; found -1 at position 3", class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 2, 3, 1), d$Z, weights = 1:3), "`weights` has length 3 but there are 4 observations",
               class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 2, 3, 1), d$Z, weights = c(1, NA, 1, 1)),
               "`weights` must be non-negative and finite; found NA at position 2", class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 2, 3, 1), d$Z, reduction = "avg"),
               "`reduction` must be one of \"mean\", \"sum\" or \"none\", not \"avg\"", class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 2, 3, 1), d$Z, label_smoothing = 1.5),
               "`label_smoothing` must be a single number in \\[0, 1\\], not 1.5", class = "xentropy_error")
  expect_error(softmax_cross_entropy(c(1, 2, 3, 1), d$Z, na.rm = 1), "`na.rm` must be TRUE or FALSE",
               class = "xentropy_error")
  expect_error(binary_cross_entropy(c(0, 1, 2), c(0.5, 0.5, 0.5)),
               "`y` must contain 0/1 or probabilities in \\[0, 1\\]; found 2 at position 3", class = "xentropy_error")
  expect_error(binary_cross_entropy(c(0, 1), c(0.5, -0.5)), "`prob` must contain probabilities in \\[0, 1\\]; found -0.5",
               class = "xentropy_error")
  expect_error(sigmoid_cross_entropy(c(0, 1), c(0.5, 0.5, 1)), "`y` has 2 values but `logits` has 3",
               class = "xentropy_error")
  expect_error(sigmoid_cross_entropy(factor(c("a", "b", "c")), 1:3),
               "`y` must be a factor with two levels", class = "xentropy_error")
  expect_error(sigmoid_cross_entropy(c(0, 1), c(1, 2), pos_weight = 0), "`pos_weight` must be a single positive",
               class = "xentropy_error")
  expect_error(sigmoid_cross_entropy(c(0L, 2L), c(1, 2)), "`y` must contain 0/1", class = "xentropy_error")
})

test_that("every SIMD path gives the same losses and gradients to 1e-14", {
  set.seed(22)
  n <- 5000
  Z <- matrix(rnorm(n * 4, sd = 3), n)
  y <- sample.int(4, n, replace = TRUE)
  z <- c(rnorm(n, sd = 10), 1e10, -1e10)
  yb <- c(rbinom(n, 1, 0.4), 1, 1)
  ys <- c(runif(n), 0, 1)
  w <- runif(n + 2)
  run <- function() {
    list(softmax_cross_entropy(y, Z), softmax_cross_entropy_grad(y, Z),
         sigmoid_cross_entropy(yb, z, reduction = "none"), sigmoid_cross_entropy(ys, z, weights = w),
         sigmoid_cross_entropy(yb == 1, z, pos_weight = 2), sigmoid_cross_entropy_grad(yb, z),
         binary_cross_entropy(yb, sigmoid(z)), binary_cross_entropy(ys, 0.3))
  }
  ref <- run()
  each_simd_path({
    got <- run()
    for (i in seq_along(ref)) expect_equal(got[[i]], ref[[i]], tolerance = 1e-14)
  })
  expect_identical(ref[[3]][n + 1:2], c(0, 1e10))
})
