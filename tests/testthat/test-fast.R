# Each exported function makes one .Call to its C entry (src/entry.h), which
# answers what it can read (a value, or a flagged result that R only turns
# into the error message) and hands everything else back to R, whose checks
# build the error or normalise the arguments for a second call of the same
# entry. With fast_paths(FALSE) the entries answer no first call, so every
# call takes R's checks: the two routes must agree exactly (same values,
# names and attributes, same warnings, same errors). `fast` says whether
# the entry answered the first call.

fast_paths <- xentropy:::fast_paths

# value (or error message and class) and warnings of evaluating `e`
outcome <- function(e, env) {
  warnings <- character()
  value <- withCallingHandlers(
    tryCatch(eval(e, env), error = function(err) {
      list(error = conditionMessage(err), class = class(err))
    }),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(value = value, warnings = warnings)
}

# `expr` (whose inputs must not change between runs) gives the identical outcome on both paths; `fast` says whether the
# fast path must have answered it (the plain case) or declined it.
expect_same_paths <- function(expr, fast = TRUE) {
  e <- substitute(expr)
  env <- parent.frame()
  before <- fast_paths()[2]
  on_fast <- outcome(e, env)
  answered <- fast_paths()[2] - before
  fast_paths(FALSE)
  on.exit(fast_paths(TRUE))
  on_slow <- outcome(e, env)
  expect_identical(on_fast, on_slow, label = deparse(e))
  if (fast) {
    expect_true(answered >= 1, label = paste("fast path taken for", deparse(e)))
  } else {
    expect_equal(answered, 0, label = paste("fast path declined for", deparse(e)))
  }
}

set.seed(11)
Z <- matrix(rnorm(30), 10, 3, dimnames = list(letters[1:10], c("a", "b", "c")))
P <- softmax(Z)
lab <- rep(1:3, length.out = 10)
labd <- as.double(lab)
Tm <- P[10:1, ]
w <- runif(10)
y01 <- rep(c(0, 1), 5)
x <- c(u = -3, v = 0.5, w = 40)
M <- matrix(runif(6), 2)
A <- array(runif(8), c(2, 2, 2))

test_that("link functions and normalisers agree on both paths", {
  for (f in list(sigmoid, log_sigmoid, softplus)) {
    expect_same_paths(f(x))
    expect_same_paths(f(c(0.2, NA, NaN, 1, 0, -Inf, Inf, 1e10, -1e10)))
  }
  expect_same_paths(logit(c(a = 0.3, b = 1e-300, c = 1)))
  expect_same_paths(logit(c(0.2, NA, NaN, 1, 0)))
  expect_same_paths(log1mexp(c(a = 0.3, b = 1e-300, c = 1e10)))
  expect_same_paths(log1mexp(c(0.2, NA, NaN, 0, Inf)))
  for (f in list(sigmoid, logit, log_sigmoid, softplus, log1mexp)) {
    expect_same_paths(f(M))
    expect_same_paths(f(A))
    expect_same_paths(f(numeric(0)))
    # integer and logical data are coerced by the entry itself
    expect_same_paths(f(1:3))
    expect_same_paths(f(TRUE))
    expect_same_paths(f(I(0.3)), fast = FALSE)
    expect_same_paths(f("a"), fast = FALSE)
  }
  # a warning for NaNs produced: the entry answers and R raises the warning
  expect_same_paths(logit(c(0.5, 2)))
  expect_same_paths(log1mexp(c(1, -1)))
  expect_same_paths(logdiffexp(c(a = 3, b = 2), 1))
  expect_same_paths(logdiffexp(3, c(1, 2, NA, NaN, 3, -Inf)))
  expect_same_paths(logdiffexp(1, 2))
  expect_same_paths(logdiffexp(1:3, 1))
  expect_same_paths(logdiffexp(c(1, 2, 3), c(0, 1)))
  expect_same_paths(logdiffexp(I(3), 1), fast = FALSE)

  for (m in list(1, 2, 1L, 2L)) {
    expect_same_paths(logsumexp(Z, margin = m))
    expect_same_paths(softmax(Z, margin = m, temperature = 0.5))
    expect_same_paths(log_softmax(Z, margin = m))
    expect_same_paths(logsumexp(Z, margin = m, weights = if (m == 1) w[1:3] else w))
    expect_same_paths(logsumexp(Z, margin = m, weights = abs(Z)))
  }
  expect_same_paths(logsumexp(x))
  expect_same_paths(logsumexp(x, weights = c(1, 0, 2)))
  expect_same_paths(logsumexp(c(1, NA, 3), na.rm = TRUE))
  expect_same_paths(logsumexp(unname(Z)))
  expect_same_paths(logsumexp(Z, weights = c(1, -1, 1)), fast = FALSE)
  expect_same_paths(logsumexp(Z, weights = c(1, Inf, 1)), fast = FALSE)
  expect_same_paths(logsumexp(Z, weights = 1:3))
  expect_same_paths(logsumexp(Z, weights = w[1:4]), fast = FALSE)
  expect_same_paths(logsumexp(Z, margin = 3), fast = FALSE)
  expect_same_paths(logsumexp(Z, na.rm = NA), fast = FALSE)
  expect_same_paths(softmax(x, temperature = 0), fast = FALSE)
  expect_same_paths(softmax(x, temperature = 2L))
  expect_same_paths(softmax(x, temperature = I(2)), fast = FALSE)
  expect_same_paths(softmax(data.frame(a = 1)), fast = FALSE)
})

test_that("information measures and likelihoods agree on both paths", {
  p <- c(0.2, 0.3, 0.5)
  q <- c(0.25, 0.25, 0.5)
  expect_same_paths(entropy(p))
  expect_same_paths(entropy(p, base = 2))
  expect_same_paths(entropy(c(0.5, NA, 0.5), na.rm = TRUE))
  expect_same_paths(cross_entropy(p, q))
  expect_same_paths(kl_divergence(p, q, base = 10))
  expect_same_paths(kl_divergence(c(a = 0.5, b = 0.5), c(0.5, 0.5)))
  expect_same_paths(entropy(c(0.5, 1.5)))
  expect_same_paths(cross_entropy(p, c(0.5, 0.5)), fast = FALSE)
  Q <- softmax(Z[10:1, ])
  for (m in 1:2) {
    expect_same_paths(entropy(P, margin = m))
    expect_same_paths(cross_entropy(P, Q, margin = m, base = 2))
    expect_same_paths(kl_divergence(unname(P), Q, margin = m))
    expect_same_paths(kl_divergence(P, unname(Q), margin = m))
  }
  expect_same_paths(cross_entropy(P, c(0.2, 0.3, 0.5)))
  expect_same_paths(cross_entropy(c(0.2, 0.3, 0.5), Q))
  expect_same_paths(kl_divergence(P[, 1:2] / rowSums(P[, 1:2]), c(0.5, 0.5)))
  expect_same_paths(cross_entropy(t(P), c(0.2, 0.3, 0.5), margin = 2))
  expect_same_paths(cross_entropy(t(P), rep(0.1, 10), margin = 2), fast = FALSE)
  expect_same_paths(cross_entropy(P, c(0.5, 0.5)), fast = FALSE)
  expect_same_paths(cross_entropy(P, Q[1:5, ]), fast = FALSE)
  expect_same_paths(entropy(array(0.5, c(2, 1, 1))), fast = FALSE)
  # an invalid value: the entry answers with the flagged result, R reports it
  expect_same_paths(entropy(P * 2))
  expect_same_paths(entropy(p, base = 1), fast = FALSE)
  expect_same_paths(entropy(p, base = 2L))
  expect_same_paths(entropy(I(p)), fast = FALSE)

  expect_same_paths(loglik_bernoulli(y01, rep(0.3, 10)))
  expect_same_paths(loglik_bernoulli(c(TRUE, FALSE), 0.3))
  expect_same_paths(loglik_bernoulli(c(1L, NA), c(0.2, 0.4), na.rm = TRUE))
  expect_same_paths(loglik_bernoulli(c(1, 2), 0.3))
  expect_same_paths(loglik_bernoulli(factor(c("a", "b")), 0.3))
  expect_same_paths(loglik_categorical(lab, P))
  expect_same_paths(loglik_categorical(labd, P))
  expect_same_paths(loglik_categorical(Tm, P))
  expect_same_paths(loglik_categorical(lab, c(0.2, 0.3, 0.5)))
  expect_same_paths(loglik_categorical(seq_len(3), c(0.2, 0.3, 0.5)))
  expect_same_paths(loglik_categorical(c(lab[-1], 4L), P))
  expect_same_paths(loglik_categorical(factor(lab), P), fast = FALSE)
  expect_same_paths(loglik_multinomial(c(3, 5, 2), p))
  expect_same_paths(loglik_multinomial(c(3, 5, 2), p, full = FALSE))
  expect_same_paths(loglik_multinomial(c(3, 5, 2), c(2, 3, 5)))
  C <- matrix(c(3, 0, 1, 2, 5, 1, 0, 0, 2, 4, 1, 1), 4,
              dimnames = list(paste0("r", 1:4), c("a", "b", "c")))
  expect_same_paths(loglik_multinomial(C, P[1:4, ]))
  expect_same_paths(loglik_multinomial(C, c(0.2, 0.3, 0.5), full = FALSE))
  expect_same_paths(loglik_multinomial(c(1, 2, 3), unname(P[1:4, ])))
  expect_same_paths(loglik_multinomial(C, P), fast = FALSE)
  expect_same_paths(loglik_multinomial(c(3L, 5L, 2L), p))
  expect_same_paths(loglik_multinomial(c(3, 5, 2.5), p))
  expect_same_paths(loglik_multinomial(c(3, 5, 2), c(0, 0, 0)))
  expect_same_paths(mle_categorical(lab))
  expect_same_paths(mle_categorical(labd, K = 5))
  expect_same_paths(mle_categorical(c(2L, 2L)))
  expect_same_paths(mle_categorical(c(1L, NA)))
  expect_same_paths(mle_categorical(c(1L, NA), na.rm = TRUE))
  expect_same_paths(mle_categorical(c(1, 2.5)))
  expect_same_paths(mle_categorical(lab, K = 2))
  expect_same_paths(mle_categorical(factor(lab)))
  expect_same_paths(mle_categorical(integer(0)))
})

test_that("losses agree on both paths", {
  reds <- list(c("mean", "sum", "none"), "mean", "sum", "none")
  for (r in reds) {
    expect_same_paths(cross_entropy_loss(lab, P, reduction = r))
    expect_same_paths(cross_entropy_loss(Tm, P, weights = w, reduction = r,
                                         class_weights = c(1, 2, 0.5)))
    expect_same_paths(softmax_cross_entropy(labd, Z, reduction = r, label_smoothing = 0.1))
    expect_same_paths(softmax_cross_entropy_grad(lab, Z, weights = w, reduction = r))
    expect_same_paths(softmax_focal_loss(lab, Z, reduction = r, gamma = 1, alpha = 0.25))
    expect_same_paths(softmax_focal_loss_grad(lab, Z, reduction = r))
    expect_same_paths(binary_cross_entropy(y01, P[, 1], weights = w, reduction = r))
    expect_same_paths(binary_cross_entropy(setNames(y01, letters[1:10]), 0.3, reduction = r))
    expect_same_paths(sigmoid_cross_entropy(y01 == 1, Z[, 1], reduction = r, pos_weight = 2))
    expect_same_paths(sigmoid_cross_entropy_grad(as.integer(y01), Z[, 1], reduction = r))
    expect_same_paths(sigmoid_focal_loss(y01, Z[, 1], reduction = r, alpha = 0.25))
    expect_same_paths(sigmoid_focal_loss_grad(y01, Z[, 1], reduction = r, gamma = 0))
    expect_same_paths(brier_score(lab, P, reduction = r))
    expect_same_paths(brier_score(y01, P[, 1], weights = w, reduction = r))
  }
  # the checking path: coercions, matching, invalid values, bad settings
  expect_same_paths(cross_entropy_loss(factor(lab), P), fast = FALSE)
  expect_same_paths(cross_entropy_loss(factor(letters[lab], levels = c("c", "b", "a")), P),
                    fast = FALSE)
  expect_same_paths(cross_entropy_loss(factor(letters[lab]), P[, 1:2]), fast = FALSE)
  expect_same_paths(sigmoid_cross_entropy(factor(lab), Z[, 1]), fast = FALSE)
  expect_same_paths(cross_entropy_loss(lab, P, class_weights = c(a = 1, b = 2, c = 3)),
                    fast = FALSE)
  expect_same_paths(cross_entropy_loss(lab, P, weights = 1:10))
  expect_same_paths(brier_score(y01, P[, 1], weights = rep(TRUE, 10)))
  expect_same_paths(cross_entropy_loss(lab, P, weights = c(1:9, NA)), fast = FALSE)
  expect_same_paths(cross_entropy_loss(lab, P, weights = -w), fast = FALSE)
  expect_same_paths(cross_entropy_loss(lab, P, reduction = "median"), fast = FALSE)
  expect_same_paths(cross_entropy_loss(lab, P, reduction = NULL), fast = FALSE)
  expect_same_paths(binary_cross_entropy(y01, P[, 1], reduction = NULL), fast = FALSE)
  expect_same_paths(brier_score(lab, P, reduction = NULL), fast = FALSE)
  expect_same_paths(calibration_error(lab, P, type = NULL), fast = FALSE)
  expect_same_paths(cross_entropy_loss(lab, P, na.rm = NA), fast = FALSE)
  expect_same_paths(cross_entropy_loss(c(lab[-1], 0L), P))
  expect_same_paths(cross_entropy_loss(lab, P[, 1]), fast = FALSE)
  expect_same_paths(softmax_cross_entropy(lab, Z, label_smoothing = 2), fast = FALSE)
  expect_same_paths(softmax_focal_loss(lab, Z, gamma = -1), fast = FALSE)
  expect_same_paths(binary_cross_entropy(y01, P[1:3, 1]), fast = FALSE)
  expect_same_paths(binary_cross_entropy(y01 + 1, P[, 1]))
  expect_same_paths(sigmoid_cross_entropy(y01, Z[, 1], pos_weight = 0), fast = FALSE)
  expect_same_paths(sigmoid_focal_loss(y01, Z[, 1], alpha = 2), fast = FALSE)
  expect_same_paths(brier_score(lab, P * 2))
})

test_that("factor labels take the fast path and agree with the checking path", {
  fl <- factor(letters[lab], levels = c("a", "b", "c"))
  fl_na <- fl
  fl_na[4] <- NA
  fl_named <- stats::setNames(fl, LETTERS[1:10])
  f2 <- factor(c("no", "yes")[y01 + 1])
  f2_na <- f2
  f2_na[3] <- NA
  Pu <- unname(P)
  Zu <- unname(Z)
  for (r in list(c("mean", "sum", "none"), "sum", "none")) {
    expect_same_paths(cross_entropy_loss(fl, P, reduction = r))
    expect_same_paths(cross_entropy_loss(fl, Pu, weights = w, reduction = r))
    expect_same_paths(cross_entropy_loss(fl_na, P, reduction = r))
    expect_same_paths(cross_entropy_loss(fl_na, P, reduction = r, na.rm = TRUE))
    expect_same_paths(softmax_cross_entropy(fl_named, Z, reduction = r, label_smoothing = 0.1))
    expect_same_paths(softmax_cross_entropy(fl, Zu, class_weights = c(1, 2, 3), reduction = r))
    expect_same_paths(softmax_cross_entropy_grad(fl, Z, weights = w, reduction = r))
    expect_same_paths(softmax_focal_loss(fl, Z, reduction = r))
    expect_same_paths(binary_cross_entropy(f2, P[, 1], weights = w, reduction = r))
    expect_same_paths(binary_cross_entropy(f2_na, P[, 1], reduction = r))
    expect_same_paths(sigmoid_cross_entropy(f2, Z[, 1], reduction = r, pos_weight = 2))
    expect_same_paths(sigmoid_cross_entropy_grad(f2, Z[, 1], reduction = r))
    expect_same_paths(sigmoid_focal_loss(f2, Z[, 1], reduction = r))
    expect_same_paths(brier_score(fl, P, reduction = r))
    expect_same_paths(brier_score(f2, P[, 1], reduction = r))
  }
  expect_same_paths(calibration_error(fl, P, bins = 4))
  expect_same_paths(calibration_error(f2, P[, 2], bins = 4))
  expect_same_paths(top_k_accuracy(fl, Z, k = 2))
  expect_same_paths(top_k_accuracy(fl_na, Z, na.rm = TRUE))
  # a factor's codes are the labels: the same value as integer labels
  expect_identical(softmax_cross_entropy(fl, Z), softmax_cross_entropy(lab, Z))
  expect_identical(sigmoid_cross_entropy(f2, Z[, 1]), sigmoid_cross_entropy(y01, Z[, 1]))
})

test_that("calibration_error agrees on both paths", {
  for (type in c("top-label", "classwise")) for (binning in c("equal-width", "equal-mass")) {
    for (norm in c("l1", "l2", "max")) {
      expect_same_paths(calibration_error(lab, P, bins = 4, type = type,
                                          binning = binning, norm = norm, weights = w))
    }
  }
  expect_same_paths(calibration_error(lab, P))
  expect_same_paths(calibration_error(Tm, P, bins = 3L))
  expect_same_paths(calibration_error(y01, P[, 1]))
  expect_same_paths(calibration_error(c(lab[-1], NA), P))
  expect_same_paths(calibration_error(lab, P, bins = 0), fast = FALSE)
  expect_same_paths(calibration_error(lab, P, norm = "l3"), fast = FALSE)
  expect_same_paths(calibration_error(lab, P * 2))
  expect_same_paths(calibration_error(factor(lab), P), fast = FALSE)
})

test_that("top_k_accuracy agrees on both paths", {
  for (k in list(1, 2, 3L)) {
    expect_same_paths(top_k_accuracy(lab, Z, k = k))
    expect_same_paths(top_k_accuracy(labd, Z, k = k, weights = w))
  }
  expect_same_paths(top_k_accuracy(c(lab[-1], NA), Z, na.rm = TRUE))
  expect_same_paths(top_k_accuracy(c(lab[-1], NA), Z))
  expect_same_paths(top_k_accuracy(lab, Z, k = 4), fast = FALSE)
  expect_same_paths(top_k_accuracy(lab, Z, k = 1.5), fast = FALSE)
  expect_same_paths(top_k_accuracy(c(lab[-1], 7L), Z))
  expect_same_paths(top_k_accuracy(factor(lab), Z), fast = FALSE)
  expect_same_paths(top_k_accuracy(Tm, Z), fast = FALSE)
})

test_that("settings of any type take the checking path", {
  # NULL, functions, environments and lists where a setting was expected:
  # the fast path must decline them without touching their length
  odd <- list(NULL, sum, globalenv(), list(1), quote(x))
  for (v in odd) {
    expect_same_paths(logsumexp(Z, margin = v), fast = FALSE)
    expect_same_paths(softmax(Z, temperature = v), fast = FALSE)
    expect_same_paths(entropy(P, base = v), fast = FALSE)
    expect_same_paths(entropy(P, na.rm = v), fast = FALSE)
    expect_same_paths(mle_categorical(lab, K = v))  # answered, or the label counts go back to R
    expect_same_paths(loglik_multinomial(c(1, 2), c(0.5, 0.5), full = v), fast = FALSE)
    expect_same_paths(softmax_focal_loss(lab, Z, gamma = v), fast = FALSE)
    expect_same_paths(sigmoid_focal_loss(y01, Z[, 1], alpha = v), fast = is.null(v))
    expect_same_paths(softmax_cross_entropy(lab, Z, label_smoothing = v), fast = FALSE)
    expect_same_paths(sigmoid_cross_entropy(y01, Z[, 1], pos_weight = v), fast = FALSE)
    expect_same_paths(cross_entropy_loss(lab, P, weights = v), fast = is.null(v))
    expect_same_paths(cross_entropy_loss(lab, P, class_weights = v), fast = is.null(v))
    expect_same_paths(calibration_error(lab, P, bins = v), fast = FALSE)
    expect_same_paths(top_k_accuracy(lab, Z, k = v), fast = FALSE)
    expect_same_paths(sigmoid(v), fast = FALSE)
    expect_same_paths(binary_cross_entropy(v, 0.5), fast = FALSE)
    expect_same_paths(cross_entropy_loss(v, P), fast = FALSE)
  }
})

test_that("the fast paths allocate only their result on small inputs", {
  skip_if_not_installed("bench")
  p <- c(0.5, 0.5)
  # bench counts R's allocations; small vectors are allocated in pages that
  # it does not see, so any allocation it reports is of the input's size
  expect_equal(as.numeric(bench::bench_memory(entropy(p))$mem_alloc), 0)
  expect_equal(as.numeric(bench::bench_memory(calibration_error(lab, P))$mem_alloc), 0)
  expect_equal(as.numeric(bench::bench_memory(softmax_cross_entropy(lab, Z))$mem_alloc), 0)
})
