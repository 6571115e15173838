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

# --- class weights --------------------------------------------------------

test_that("class_weights follow PyTorch: labels divide the mean by the observed classes' weights", {
  d <- fixture_logits()
  cw <- c(1, 2, 0.5, 3)
  set.seed(30)
  w <- runif(d$n)
  l <- softmax_cross_entropy(d$y, d$Z, reduction = "none")
  expect_equal(softmax_cross_entropy(d$y, d$Z, class_weights = cw),
               sum(cw[d$y] * l) / sum(cw[d$y]), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z, class_weights = cw, weights = w),
               sum(w * cw[d$y] * l) / sum(w * cw[d$y]), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z, class_weights = cw, reduction = "sum"),
               sum(cw[d$y] * l), tolerance = 1e-12)
  expect_equal(softmax_cross_entropy(d$y, d$Z, class_weights = cw, reduction = "none"),
               cw[d$y] * l, tolerance = 1e-12)
  expect_equal(cross_entropy_loss(d$y, d$P, class_weights = cw),
               sum(cw[d$y] * -log(d$P[cbind(seq_len(d$n), d$y)])) / sum(cw[d$y]),
               tolerance = 1e-12)
  # soft targets: each class term weighted, the mean over observations
  set.seed(31)
  Tm <- matrix(runif(d$n * d$K), d$n)
  Tm <- Tm / rowSums(Tm)
  expect_equal(softmax_cross_entropy(Tm, d$Z, class_weights = cw),
               mean(-rowSums(Tm * log_softmax(d$Z) * rep(cw, each = d$n))), tolerance = 1e-12)
  # with label smoothing: smoothed targets weighted, mean over sum of c_y
  eps <- 0.1
  Ts <- (1 - eps) * d$onehot + eps / d$K
  expect_equal(softmax_cross_entropy(d$y, d$Z, class_weights = cw, label_smoothing = eps),
               sum(-rowSums(Ts * log_softmax(d$Z) * rep(cw, each = d$n))) / sum(cw[d$y]),
               tolerance = 1e-12)
  # equal weights change nothing; named weights are matched to the columns
  expect_equal(softmax_cross_entropy(d$y, d$Z, class_weights = rep(3, d$K)),
               softmax_cross_entropy(d$y, d$Z), tolerance = 1e-14)
  Z <- d$Z
  colnames(Z) <- c("a", "b", "c", "d")
  expect_identical(softmax_cross_entropy(d$y, Z, class_weights = c(d = 3, c = 0.5, b = 2, a = 1)),
                   softmax_cross_entropy(d$y, Z, class_weights = cw))
})

test_that("the class-weighted gradient agrees with central differences", {
  d <- fixture_logits(n = 8, K = 3)
  cw <- c(0.5, 2, 1)
  w <- seq(0.5, 2, length.out = 8)
  set.seed(32)
  Tm <- matrix(runif(24), 8)
  Tm <- Tm / rowSums(Tm)
  for (red in c("mean", "sum")) {
    for (y in list(d$y, Tm)) {
      f <- function(Z) softmax_cross_entropy(y, Z, weights = w, reduction = red,
                                             label_smoothing = 0.1, class_weights = cw)
      expect_equal(softmax_cross_entropy_grad(y, d$Z, weights = w, reduction = red,
                                              label_smoothing = 0.1, class_weights = cw),
                   numeric_grad(f, d$Z), tolerance = 1e-7)
    }
  }
})

# --- focal losses ---------------------------------------------------------

exact_sigmoid_focal <- function(y, z, gamma, alpha = NULL) {
  # hard targets: alpha_t sigmoid(-z_t)^gamma softplus(-z_t), z_t = z (y = 1) or -z
  zt <- ifelse(y == 1, z, -z)
  sp <- exact_softplus(-zt)
  at <- if (is.null(alpha)) 1 else ifelse(y == 1, alpha, 1 - alpha)
  at * exp(-gamma * exact_softplus(zt)) * sp
}

test_that("sigmoid_focal_loss is exact to 1e-13 against 200-bit Rmpfr, extreme logits included", {
  skip_if_not_installed("Rmpfr")
  z <- c(-1e10, -1e5, -745, -40, -3, -0.5, 0, 1e-8, 0.5, 3, 40, 745, 1e5, 1e10)
  for (y in c(0, 1)) {
    for (g in c(0.5, 2, 5)) {
      yy <- rep(y, length(z))
      exact <- Rmpfr::asNumeric(exact_sigmoid_focal(yy, z, g, alpha = 0.25))
      each_simd_path({
        got <- sigmoid_focal_loss(yy, z, gamma = g, alpha = 0.25, reduction = "none")
        expect_true(all(is.finite(got)))
        expect_equal(got, exact, tolerance = 1e-13)
      })
    }
  }
  expect_identical(sigmoid_focal_loss(1, -1e10, gamma = 2), 1e10)
  expect_identical(sigmoid_focal_loss(0, 1e10, gamma = 2), 1e10)
  expect_identical(sigmoid_focal_loss(c(1, 0), c(1e10, -1e10), reduction = "none"), c(0, 0))
})

test_that("sigmoid_focal_loss matches torchvision's definition on soft targets", {
  set.seed(33)
  y <- c(runif(20), 0, 1)
  z <- rnorm(22, sd = 3)
  p <- plogis(z)
  ce <- -(y * log(p) + (1 - y) * log(1 - p))
  pt <- p * y + (1 - p) * (1 - y)
  at <- 0.25 * y + 0.75 * (1 - y)
  expect_equal(sigmoid_focal_loss(y, z, gamma = 2, alpha = 0.25, reduction = "none"),
               at * ce * (1 - pt)^2, tolerance = 1e-12)
  expect_equal(sigmoid_focal_loss(y, z, gamma = 1.5), mean(ce * (1 - pt)^1.5), tolerance = 1e-12)
})

test_that("focal losses with gamma = 0 and no alpha are the cross-entropies, exactly", {
  d <- fixture_logits()
  set.seed(34)
  yb <- rbinom(100, 1, 0.3)
  ys <- runif(100)
  z <- c(rnorm(98, sd = 5), 1e10, -1e10)
  w <- runif(100)
  each_simd_path({
    for (y in list(yb, ys)) {
      expect_identical(sigmoid_focal_loss(y, z, gamma = 0, reduction = "none"),
                       sigmoid_cross_entropy(y, z, reduction = "none"))
      expect_identical(sigmoid_focal_loss(y, z, gamma = 0, weights = w),
                       sigmoid_cross_entropy(y, z, weights = w))
      expect_identical(sigmoid_focal_loss_grad(y, z, gamma = 0),
                       sigmoid_cross_entropy_grad(y, z))
    }
    expect_identical(softmax_focal_loss(d$y, d$Z, gamma = 0, reduction = "none"),
                     softmax_cross_entropy(d$y, d$Z, reduction = "none"))
    expect_identical(softmax_focal_loss(d$onehot, d$Z, gamma = 0),
                     softmax_cross_entropy(d$onehot, d$Z))
    expect_identical(softmax_focal_loss_grad(d$y, d$Z, gamma = 0),
                     softmax_cross_entropy_grad(d$y, d$Z))
  })
  # alpha = 1/2 halves the sigmoid loss; a softmax alpha scales every term
  expect_equal(sigmoid_focal_loss(yb, z, gamma = 0, alpha = 0.5), sigmoid_cross_entropy(yb, z) / 2,
               tolerance = 1e-15)
  expect_equal(softmax_focal_loss(d$y, d$Z, alpha = 0.3), 0.3 * softmax_focal_loss(d$y, d$Z),
               tolerance = 1e-15)
})

test_that("softmax_focal_loss is exact to 1e-13 against 200-bit Rmpfr, extreme logits included", {
  skip_if_not_installed("Rmpfr")
  Z <- rbind(c(1e10, -1e10, 0), c(-1e10, 1e10, 0), c(40, 0, -40), c(1, 2, 3),
             c(0, 0, 0), c(745, -745, 0), c(-3, 30, 30))
  y <- c(1, 1, 2, 3, 2, 2, 2)
  M <- Rmpfr::mpfr(Z, mpfr_bits)
  i <- cbind(seq_len(nrow(Z)), y)
  m <- Rmpfr::mpfr(apply(Z, 1, max), mpfr_bits)
  lse <- m + log(exp(M[, 1] - m) + exp(M[, 2] - m) + exp(M[, 3] - m))
  zt <- Rmpfr::mpfr(Z[i], mpfr_bits)
  nll <- lse - zt
  for (g in c(0.5, 2)) {
    exact <- Rmpfr::asNumeric((1 - exp(-nll))^g * nll)
    each_simd_path({
      got <- softmax_focal_loss(y, Z, gamma = g, reduction = "none")
      expect_true(all(is.finite(got)))
      expect_equal(got, exact, tolerance = 1e-13)
    })
  }
  expect_identical(softmax_focal_loss(2, c(1e10, -1e10, 0)), 2e10)
})

test_that("focal gradients agree with central differences", {
  d <- fixture_logits(n = 8, K = 3)
  w <- seq(0.5, 2, length.out = 8)
  set.seed(35)
  Tm <- matrix(runif(24), 8)
  Tm <- Tm / rowSums(Tm)
  yb <- as.numeric(d$y == 1)
  ys <- runif(8)
  z <- d$Z[, 1]
  for (red in c("mean", "sum")) {
    for (g in c(0.5, 2)) {
      for (y in list(d$y, Tm)) {
        f <- function(Z) softmax_focal_loss(y, Z, weights = w, reduction = red, gamma = g, alpha = 0.7)
        expect_equal(softmax_focal_loss_grad(y, d$Z, weights = w, reduction = red, gamma = g, alpha = 0.7),
                     numeric_grad(f, d$Z), tolerance = 1e-7)
      }
      for (y in list(yb, ys)) {
        h <- function(z) sigmoid_focal_loss(y, z, weights = w, reduction = red, gamma = g, alpha = 0.25)
        expect_equal(sigmoid_focal_loss_grad(y, z, weights = w, reduction = red, gamma = g, alpha = 0.25),
                     numeric_grad(h, z), tolerance = 1e-7)
      }
    }
  }
  # finite at extreme logits, with the limits' values
  expect_identical(sigmoid_focal_loss_grad(c(1, 0, 1, 0), c(-1e10, 1e10, 1e10, -1e10), reduction = "none"),
                   c(-1, 1, 0, 0))
  expect_identical(softmax_focal_loss_grad(c(1, 2), rbind(c(1e10, -1e10), c(1e10, -1e10)), reduction = "none"),
                   rbind(c(0, 0), c(1, -1)))
})

test_that("focal losses: NA, NaN, weights and threads as the other losses", {
  expect_true(is.na(sigmoid_focal_loss(c(1, NA), c(0, 1))))
  expect_true(is.nan(sigmoid_focal_loss(c(1, 0), c(NaN, 1))))
  expect_equal(sigmoid_focal_loss(c(1, NA), c(0, 1), na.rm = TRUE), 0.25 * log(2), tolerance = 1e-15)
  Z <- rbind(c(1, 2), c(NA, 0))
  expect_true(is.na(softmax_focal_loss(c(1, 2), Z)))
  expect_equal(softmax_focal_loss(c(1, 2), Z, na.rm = TRUE), softmax_focal_loss(1, Z[1, ]),
               tolerance = 1e-15)
  old <- xentropy_threads()
  on.exit(xentropy_threads(old))
  set.seed(36)
  n <- 50000
  Z <- matrix(rnorm(n * 4), n)
  y <- sample.int(4, n, replace = TRUE)
  z <- rnorm(n)
  yb <- rbinom(n, 1, 0.3)
  run <- function() list(softmax_focal_loss(y, Z), softmax_focal_loss_grad(y, Z),
                         sigmoid_focal_loss(yb, z), sigmoid_focal_loss_grad(yb, z),
                         softmax_cross_entropy(y, Z, class_weights = 1:4),
                         softmax_cross_entropy_grad(y, Z, class_weights = 1:4))
  xentropy_threads(1)
  one <- run()
  xentropy_threads(2)
  expect_identical(run(), one)
})

# --- errors, names, NaN labels, zero weights, compact input ---------------

test_that("bad focal and class-weight arguments are errors naming the argument", {
  d <- fixture_logits(n = 4, K = 3)
  expect_snapshot(error = TRUE, sigmoid_focal_loss(c(0, 1), c(1, 2), gamma = -1))
  expect_snapshot(error = TRUE, softmax_focal_loss(d$y, d$Z, gamma = Inf))
  expect_snapshot(error = TRUE, sigmoid_focal_loss(c(0, 1), c(1, 2), alpha = 1.5))
  expect_snapshot(error = TRUE, softmax_focal_loss_grad(d$y, d$Z, alpha = c(0.1, 0.2)))
  expect_snapshot(error = TRUE, softmax_cross_entropy(d$y, d$Z, class_weights = c(1, 2)))
  expect_snapshot(error = TRUE, cross_entropy_loss(d$y, d$P, class_weights = c(1, -2, 1)))
  expect_snapshot(error = TRUE, softmax_cross_entropy_grad(d$y, d$Z, class_weights = "a"))
  expect_error(softmax_cross_entropy(d$y, d$Z, class_weights = c(1, NA, 1)),
               class = "xentropy_error_invalid_value")
})

test_that("invalid values are conditions with the argument, position and value", {
  d <- fixture_logits(n = 4, K = 3)
  e <- tryCatch(softmax_cross_entropy(c(1, 2, 4, 1), d$Z), error = identity)
  expect_s3_class(e, c("xentropy_error_invalid_value", "xentropy_error"))
  expect_identical(e$argument, "y")
  expect_identical(e$position, 3)
  expect_identical(e$value, 4)
  e <- tryCatch(binary_cross_entropy(c(0, 1), c(0.5, -0.5)), error = identity)
  expect_identical(list(e$argument, e$position, e$value), list("prob", 2, -0.5))
  e <- tryCatch(cross_entropy_loss(diag(3)[c(1, 2, 3, 1), ] * 2, d$P), error = identity)
  expect_identical(list(e$argument, e$row, e$column, e$value), list("y", 1, 1, 2))
  expect_snapshot(error = TRUE, softmax_cross_entropy(c(1, 2, 4, 1), d$Z))
  expect_snapshot(error = TRUE, binary_cross_entropy(c(0, 1, 2), c(0.5, 0.5, 0.5)))
  expect_snapshot(error = TRUE, softmax_cross_entropy(c(1, 3 + 1e-15), matrix(1:6, 2)))
  expect_snapshot(error = TRUE, sigmoid_cross_entropy(c(0, 1), c(0.5, 0.5, 1)))
  expect_snapshot(error = TRUE, softmax_cross_entropy(1:2, diag(2), reduction = "avg"))
})

test_that("per-observation binary losses are named by y, else by one-per-observation predictions", {
  expect_null(names(binary_cross_entropy(c(0, 1, 1), c(p = 0.5), reduction = "none")))
  expect_named(binary_cross_entropy(c(a = 0, b = 1, c = 1), c(p = 0.5), reduction = "none"),
               c("a", "b", "c"))
  expect_named(sigmoid_cross_entropy(c(0, 1), c(u = 1, v = 2), reduction = "none"), c("u", "v"))
  expect_named(sigmoid_focal_loss(c(x = 0, y = 1), c(u = 1, v = 2), reduction = "none"), c("x", "y"))
})

test_that("a NaN label gives NaN and an NA label NA, as everywhere in the package", {
  Z <- matrix(0, 3, 2)
  l <- softmax_cross_entropy(c(1, NaN, NA), Z, reduction = "none")
  expect_identical(is.nan(l), c(FALSE, TRUE, FALSE))
  expect_identical(is.na(l), c(FALSE, TRUE, TRUE))
  expect_true(is.nan(cross_entropy_loss(c(1, NaN), matrix(0.5, 2, 2))))
  expect_true(is.na(cross_entropy_loss(c(1, NaN, NA), matrix(0.5, 3, 2))) &&
                !is.nan(cross_entropy_loss(c(1, NaN, NA), matrix(0.5, 3, 2))))
  expect_true(is.nan(binary_cross_entropy(c(1, NaN), 0.5)))
  expect_true(is.nan(sigmoid_cross_entropy(c(1, NaN), c(0, 0))))
  g <- softmax_cross_entropy_grad(c(1, NaN), Z[1:2, ])
  expect_identical(is.nan(g[2, ]), c(TRUE, TRUE))
})

test_that("all-zero weights: the mean is NaN (0 / 0, as weighted.mean), the sum 0", {
  d <- fixture_logits(n = 4, K = 3)
  expect_identical(is.nan(weighted.mean(1:4, rep(0, 4))), TRUE)
  expect_true(is.nan(softmax_cross_entropy(d$y, d$Z, weights = rep(0, 4))))
  expect_identical(softmax_cross_entropy(d$y, d$Z, weights = rep(0, 4), reduction = "sum"), 0)
  expect_true(is.nan(binary_cross_entropy(c(0, 1), c(0.2, 0.3), weights = c(0, 0))))
  expect_true(is.nan(softmax_cross_entropy(d$y, d$Z, class_weights = c(0, 0, 0))))
  expect_true(all(is.nan(softmax_cross_entropy_grad(d$y, d$Z, weights = rep(0, 4)))))
})

test_that("compact sequences and integer targets are read without expanding or copying them", {
  skip_if_not_installed("bench")
  x <- seq_len(2e6)  # ALTREP compact: expanding it would allocate 8 MB
  mem <- bench::bench_memory(e <- tryCatch(binary_cross_entropy(x, 0.5), error = identity))$mem_alloc
  expect_s3_class(e, "xentropy_error_invalid_value")
  expect_identical(e$position, 2)  # 1 is a valid target, 2 is not
  expect_lt(as.numeric(mem), 1e6)
  mem <- bench::bench_memory(e <- tryCatch(loglik_categorical(x, c(0.5, 0.5)), error = identity))$mem_alloc
  expect_identical(e$position, 3)
  expect_lt(as.numeric(mem), 1e6)
  # valid compact targets give the same result as the expanded vector
  x01 <- 0:1
  expect_identical(binary_cross_entropy(x01, c(0.2, 0.7)), binary_cross_entropy(c(0L, 1L), c(0.2, 0.7)))
  x12 <- 1:2
  expect_identical(loglik_categorical(x12, c(0.3, 0.7)), log(0.3) + log(0.7))
  yi <- rep(c(0L, 1L), 5e5)
  p <- rep(0.3, 1e6)
  mem <- bench::bench_memory(binary_cross_entropy(yi, p))$mem_alloc
  expect_lt(as.numeric(mem), 1e5)
  yl <- rep(1:3, 5e5)
  mem <- bench::bench_memory(loglik_categorical(yl, c(0.2, 0.3, 0.5)))$mem_alloc
  expect_lt(as.numeric(mem), 1e5)
  expect_equal(loglik_categorical(yl, c(0.2, 0.3, 0.5)), 5e5 * log(0.2 * 0.3 * 0.5), tolerance = 1e-12)
})

test_that("focal losses with a non-integer gamma keep their digits where (1 - p)^gamma is tiny", {
  # exp(gamma log(1 - p)) of the rounded product is off by |gamma log(1 - p)| 2^-53
  # relative: 436 ulp (sigmoid) and 659 ulp (softmax) on these points before
  skip_if_not_installed("Rmpfr")
  set.seed(3)
  u <- function(k) runif(k) + runif(k) * 2^-32  # 53-bit mantissas
  z <- c(-148.6201, -700 * u(60), 700 * u(60), -745, -40, -3, 0.5, 3)
  each_simd_path({
    for (y in c(0, 1)) for (g in c(0.5, 2, 3.7, 7.25)) {
      yy <- rep(y, length(z))
      got <- sigmoid_focal_loss(yy, z, gamma = g, reduction = "none")
      ex <- exact_sigmoid_focal(yy, z, g)
      err <- ulp_error(got, ex)
      err[got == 0 & Rmpfr::asNumeric(ex) == 0] <- 0
      expect_lte(max(err), 2.5)
    }
  })
  Z <- cbind(20 + runif(40), -700 * u(40), -300 * u(40))
  M <- Rmpfr::mpfr(Z, mpfr_bits)
  for (g in c(0.5, 3.7)) for (lab in 1:3) {
    got <- softmax_focal_loss(rep(lab, 40), Z, gamma = g, reduction = "none")
    err <- vapply(1:40, function(i) {
      zi <- M[(0:2) * 40 + i]
      nll <- if (lab == 1) log1p(sum(exp(zi[-1] - zi[1]))) else
        log(sum(exp(zi - zi[1]))) + zi[1] - zi[lab]
      ulp_error(got[i], (-expm1(-nll))^g * nll)
    }, 0)
    # (1 - p) itself carries about an ulp, which the power multiplies by gamma
    expect_lte(max(err), 1.5 + 1.5 * g)
  }
})

test_that("softmax gradients are those of the loss for target rows that do not sum to 1", {
  # they were softmax(z) - t, the gradient only where the targets sum to 1
  Z <- rbind(c(0.5, -1, 2), c(1, 0, -1), c(-3, 2, 0.25))
  Tm <- rbind(c(0.5, 0.7, 0), c(0, 0, 0), c(0.6, 0, 0.9))
  ex <- rowSums(Tm) * softmax(Z) - Tm
  expect_equal(softmax_cross_entropy_grad(Tm, Z, reduction = "sum"), ex, tolerance = 1e-14)
  expect_equal(softmax_cross_entropy_grad(Tm, Z, reduction = "sum"),
               softmax_cross_entropy_grad(Tm, Z, reduction = "sum", class_weights = c(1, 1, 1)),
               tolerance = 1e-15)
  expect_equal(softmax_focal_loss_grad(Tm, Z, reduction = "sum", gamma = 0),
               softmax_cross_entropy_grad(Tm, Z, reduction = "sum"), tolerance = 1e-15)
  expect_equal(softmax_cross_entropy_grad(Tm, Z, reduction = "none")[2, ], c(0, 0, 0))
  ls <- (1 - 0.2) * Tm + 0.2 / 3
  expect_equal(softmax_cross_entropy_grad(Tm, Z, reduction = "sum", label_smoothing = 0.2),
               rowSums(ls) * softmax(Z) - ls, tolerance = 1e-14)
  # central differences of the loss
  f <- function(z) softmax_cross_entropy(Tm, matrix(z, 3), reduction = "sum")
  h <- 1e-6
  nd <- vapply(seq_along(Z), function(i) {
    e <- replace(numeric(9), i, h)
    (f(c(Z) + e) - f(c(Z) - e)) / (2 * h)
  }, 0)
  expect_equal(c(softmax_cross_entropy_grad(Tm, Z, reduction = "sum")), nd, tolerance = 1e-8)
})

test_that("softmax gradients of a vector of logits keep the vector's shape and names", {
  z <- c(a = 1, b = 2, c = 3)
  g <- softmax_cross_entropy_grad(2, z)
  expect_null(dim(g))
  expect_named(g, c("a", "b", "c"))
  expect_equal(unname(g), softmax(unname(z)) - c(0, 1, 0), tolerance = 1e-15)
  gf <- softmax_focal_loss_grad(2, z, gamma = 0)
  expect_null(dim(gf))
  expect_equal(gf, g, tolerance = 1e-15)
})

test_that("categorical losses over no classes (K = 0) are errors, not NaN", {
  z <- matrix(0, 3, 0)
  for (f in list(softmax_cross_entropy, softmax_cross_entropy_grad, softmax_focal_loss,
                 softmax_focal_loss_grad)) {
    expect_error(f(z, z), "`logits` has no columns", class = "xentropy_error_shape")
  }
  expect_error(cross_entropy_loss(z, z), "`prob` has no columns", class = "xentropy_error_shape")
  expect_error(loglik_categorical(z, z), "`prob` has no columns", class = "xentropy_error_shape")
  expect_error(top_k_accuracy(integer(3), z), "`scores` has no columns",
               class = "xentropy_error_shape")
  # zero rows of K classes are fine
  expect_equal(softmax_cross_entropy(integer(0), matrix(0, 0, 3), reduction = "sum"), 0)
})
