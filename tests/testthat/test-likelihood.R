# Likelihoods: loglik_bernoulli, loglik_categorical, loglik_multinomial, mle_categorical.

test_that("loglik_bernoulli equals sum(dbinom(log = TRUE))", {
  set.seed(13)
  y <- rbinom(50, 1, 0.4)
  p <- runif(50)
  expect_equal(loglik_bernoulli(y, p), sum(dbinom(y, 1, p, log = TRUE)), tolerance = 1e-12)
  expect_equal(loglik_bernoulli(y, 0.3), sum(dbinom(y, 1, 0.3, log = TRUE)), tolerance = 1e-12)
  expect_equal(loglik_bernoulli(y == 1, p), loglik_bernoulli(y, p), tolerance = 0)
  expect_equal(loglik_bernoulli(factor(y, levels = 0:1), p), loglik_bernoulli(y, p),
               tolerance = 0)
  expect_identical(loglik_bernoulli(c(1, 0), c(1, 0)), 0)
  expect_identical(loglik_bernoulli(c(1, 0), c(0, 0)), -Inf)
  expect_equal(loglik_bernoulli(c(1, 0), c(1e-300, 1 - 1e-16)),
               sum(dbinom(c(1, 0), 1, c(1e-300, 1 - 1e-16), log = TRUE)), tolerance = 1e-12)
})

test_that("loglik_multinomial equals dmultinom(log = TRUE), with and without the coefficient", {
  counts <- c(3, 0, 5, 2, 7, 3)
  prob <- c(0.1, 0.05, 0.3, 0.15, 0.25, 0.15)
  expect_equal(loglik_multinomial(counts, prob), dmultinom(counts, prob = prob, log = TRUE),
               tolerance = 1e-12)
  expect_equal(loglik_multinomial(counts, prob * 7), dmultinom(counts, prob = prob * 7, log = TRUE),
               tolerance = 1e-12)
  expect_equal(loglik_multinomial(counts, prob, full = FALSE), sum(counts * log(prob)),
               tolerance = 1e-12)
  expect_identical(loglik_multinomial(c(0, 4), c(0, 1)), 0)
  expect_identical(loglik_multinomial(c(1, 3), c(0, 1)), -Inf)
  M <- rbind(counts, rev(counts))
  expect_equal(unname(loglik_multinomial(M, prob)),
               c(dmultinom(counts, prob = prob, log = TRUE),
                 dmultinom(rev(counts), prob = prob, log = TRUE)), tolerance = 1e-12)
})

test_that("the 20-throw die: the MLE is the relative frequencies, and it maximises the likelihood", {
  throws <- c(3, 1, 6, 6, 2, 5, 4, 6, 1, 3, 6, 2, 5, 6, 4, 1, 6, 3, 2, 6)
  p_hat <- mle_categorical(throws)
  expect_equal(p_hat, c(prop.table(table(throws))), tolerance = 0, ignore_attr = TRUE)
  expect_named(p_hat, as.character(1:6))
  expect_identical(unname(p_hat), tabulate(throws, 6) / 20)
  best <- loglik_categorical(throws, p_hat)
  set.seed(14)
  for (i in 1:50) {
    q <- p_hat * exp(rnorm(6, sd = 0.1))
    expect_lt(loglik_categorical(throws, q / sum(q)), best)
  }
  # the full multinomial log-likelihood differs only by the coefficient
  counts <- tabulate(throws, 6)
  expect_equal(loglik_multinomial(counts, p_hat, full = FALSE), best, tolerance = 1e-12)
})

test_that("mle_categorical: factor levels, unobserved classes, K, NA", {
  f <- factor(c("a", "a", "b"), levels = c("a", "b", "c"))
  expect_identical(mle_categorical(f), c(a = 2 / 3, b = 1 / 3, c = 0))
  expect_identical(mle_categorical(c(1L, 1L, 2L), K = 4), c(`1` = 2 / 3, `2` = 1 / 3, `3` = 0, `4` = 0))
  expect_true(all(is.na(mle_categorical(c(1, NA, 2)))))
  expect_identical(mle_categorical(c(1, NA, 2), na.rm = TRUE), c(`1` = 0.5, `2` = 0.5))
  expect_error(mle_categorical(c("a", "b")), "`y` must be a factor or integer labels, not a character vector. Use factor",
               class = "xentropy_error")
  expect_error(mle_categorical(c(1, 2.5)), "`y` must contain class labels .* found 2.5 at position 2",
               class = "xentropy_error")
  expect_error(mle_categorical(c(1, 3), K = 2), "`K`", class = "xentropy_error")
})

test_that("loglik_categorical: matrix or shared probabilities, -loglik / n is the loss", {
  d <- fixture_logits()
  expect_equal(loglik_categorical(d$y, d$P), sum(log(d$P[cbind(seq_len(d$n), d$y)])),
               tolerance = 1e-12)
  expect_equal(-loglik_categorical(d$y, d$P) / d$n, cross_entropy_loss(d$y, d$P),
               tolerance = 1e-12)
  prob <- c(0.1, 0.2, 0.3, 0.4)
  expect_equal(loglik_categorical(d$y, prob), sum(log(prob[d$y])), tolerance = 1e-12)
  expect_equal(loglik_categorical(factor(d$y, levels = 1:4), prob), sum(log(prob[d$y])),
               tolerance = 1e-12)
  named <- c(a = 0.1, b = 0.2, c = 0.3, d = 0.4)
  expect_equal(loglik_categorical(factor(c("d", "a"), levels = c("d", "a")), named), log(0.4) + log(0.1),
               tolerance = 1e-15)
  expect_true(is.na(loglik_categorical(c(1, NA), prob)))
  expect_equal(loglik_categorical(c(1, NA), prob, na.rm = TRUE), log(0.1), tolerance = 1e-15)
  expect_error(loglik_categorical(c(1, 5), prob), "`y` must contain class labels in 1..4",
               class = "xentropy_error")
  expect_error(loglik_categorical(c(1, 2), c(0.5, 1.5)), "`prob` must contain probabilities",
               class = "xentropy_error")
})

test_that("bad likelihood input is an error naming the argument", {
  expect_error(loglik_bernoulli(c(0, 2), c(0.5, 0.5)), "`y` must contain 0/1 or probabilities in \\[0, 1\\]; found 2 at position 2",
               class = "xentropy_error")
  expect_error(loglik_bernoulli(c(0, 1), c(0.5, 1.5)), "`prob` must contain probabilities",
               class = "xentropy_error")
  expect_error(loglik_bernoulli(c(0, 1), c(0.5, 0.5, 0.5)), "`y` has 2 values but `prob` has 3",
               class = "xentropy_error")
  expect_error(loglik_bernoulli("a", 0.5), "`y` must be 0/1, logical", class = "xentropy_error")
  expect_error(loglik_multinomial(c(1, -1), c(0.5, 0.5)),
               "`counts` must contain non-negative whole numbers; found -1 at position 2",
               class = "xentropy_error")
  expect_error(loglik_multinomial(c(1, 1.5), c(0.5, 0.5)), "`counts` must contain non-negative whole numbers",
               class = "xentropy_error")
  expect_error(loglik_multinomial(c(1, 1), c(0.5, -0.5)), "`prob` must contain non-negative",
               class = "xentropy_error")
  expect_error(loglik_multinomial(c(1, 1), c(0, 0)), "`prob` must not be all 0", class = "xentropy_error")
  expect_error(loglik_multinomial(c(1, 1), c(0.3, 0.3, 0.4)), "`prob` has 3 elements",
               class = "xentropy_error")
  expect_error(loglik_multinomial(c(1, 1), c(0.5, 0.5), full = "yes"), "`full` must be TRUE or FALSE",
               class = "xentropy_error")
})

test_that("loglik_*: NaN observations give NaN, NA gives NA, and labels are read in place", {
  prob <- c(0.1, 0.2, 0.3, 0.4)
  expect_true(is.nan(loglik_categorical(c(1, NaN), prob)))
  expect_true(is.na(loglik_categorical(c(1, NaN, NA), prob)) &&
                !is.nan(loglik_categorical(c(1, NaN, NA), prob)))
  expect_true(is.nan(loglik_bernoulli(c(1, NaN), 0.5)))
  expect_equal(loglik_categorical(c(2, NaN), prob, na.rm = TRUE), log(0.2), tolerance = 1e-15)
  # a compact sequence of valid labels equals its expanded copy
  expect_identical(loglik_categorical(1:4, prob), loglik_categorical(c(1, 2, 3, 4), prob))
  expect_identical(loglik_bernoulli(0:1, c(0.3, 0.6)), loglik_bernoulli(c(0L, 1L), c(0.3, 0.6)))
  expect_equal(loglik_bernoulli(0:1, c(0.3, 0.6)), log(0.7) + log(0.6), tolerance = 1e-15)
  e <- tryCatch(loglik_categorical(seq_len(1e6), prob), error = identity)
  expect_s3_class(e, "xentropy_error_invalid_value")
  expect_identical(list(e$argument, e$position, e$value), list("y", 5, 5L))
})

test_that("loglik_multinomial() rescales probabilities whose total overflows", {
  expect_equal(loglik_multinomial(c(1, 2), c(1e308, 1e308)),
               dmultinom(c(1, 2), prob = c(0.5, 0.5), log = TRUE), tolerance = 1e-15)
  expect_equal(loglik_multinomial(c(1, 2), c(1e308, 1e308), full = FALSE), 3 * log(0.5),
               tolerance = 1e-15)
  q <- c(1e308, 1e308, 5e307)
  expect_equal(loglik_multinomial(c(3, 1, 4), q),
               dmultinom(c(3, 1, 4), prob = q / 1e300 / sum(q / 1e300), log = TRUE), tolerance = 1e-14)
  expect_equal(loglik_multinomial(rbind(c(3, 1, 4), c(1, 1, 1)), rbind(q, q)),
               c(loglik_multinomial(c(3, 1, 4), q / 1e10), loglik_multinomial(c(1, 1, 1), q / 1e10)),
               tolerance = 1e-14)
})
