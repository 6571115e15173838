# Case diagnostics of logistic_regression() against glm's (binomial, dispersion 1).

diagnostics_agree <- function(fit, g, tol = 1e-6) {
  expect_equal(hatvalues(fit), hatvalues(g), tolerance = tol)
  expect_equal(rstandard(fit), rstandard(g), tolerance = tol)
  expect_equal(rstandard(fit, type = "pearson"), rstandard(g, type = "pearson"), tolerance = tol)
  expect_equal(rstudent(fit), rstudent(g), tolerance = tol)
  expect_equal(cooks.distance(fit), cooks.distance(g), tolerance = tol)
  expect_equal(dfbeta(fit), dfbeta(g), tolerance = 1e-5)
  infl <- influence(fit)
  ig <- influence(g)
  expect_named(infl, names(ig))
  expect_equal(infl$sigma, ig$sigma, tolerance = tol)
  expect_equal(infl$dev.res, ig$dev.res, tolerance = tol)
  expect_equal(infl$pear.res, ig$pear.res, tolerance = tol)
}

test_that("hat values, standardised residuals, Cook's distances and dfbeta are glm's", {
  fit <- logistic_regression(am ~ wt + hp, data = mtcars)
  g <- glm(am ~ wt + hp, data = mtcars, family = binomial)
  diagnostics_agree(fit, g)
  # the hat values sum to the rank and lie in [0, 1]
  expect_equal(sum(hatvalues(fit)), 3, tolerance = 1e-10)
  expect_true(all(hatvalues(fit) >= 0 & hatvalues(fit) <= 1))
  # Cook's distance by its definition
  h <- hatvalues(fit)
  r <- residuals(fit, "pearson")
  expect_equal(cooks.distance(fit), r^2 * h / (3 * (1 - h)^2), tolerance = 1e-12)
  # the matrix interface gives the same numbers
  fm <- logistic_regression(x = cbind(1, as.matrix(mtcars[, c("wt", "hp")])), y = mtcars$am)
  expect_equal(unname(hatvalues(fm)), unname(hatvalues(g)), tolerance = 1e-6)
})

test_that("diagnostics follow glm with weights, zero weights, offsets, na.exclude and aliasing", {
  d <- mtcars
  d$hp[3] <- NA
  d$w <- c(0, rep(1:3, length.out = 31))
  d$o <- seq(-0.5, 0.5, length.out = 32)
  fit <- logistic_regression(am ~ wt + hp + offset(o), data = d, weights = w,
                             na.action = na.exclude)
  g <- glm(am ~ wt + hp + offset(o), data = d, weights = w, na.action = na.exclude,
           family = binomial)
  diagnostics_agree(fit, g)
  # as glm's: the zero-weight row is left out, the excluded one is NA (hat value 0)
  expect_false("Mazda RX4" %in% names(hatvalues(fit)))
  expect_true(is.na(rstandard(fit)[["Datsun 710"]]))
  expect_identical(hatvalues(fit)[["Datsun 710"]], 0)
  d$wt2 <- 2 * d$wt
  fa <- logistic_regression(vs ~ wt + wt2 + mpg, data = d)
  ga <- glm(vs ~ wt + wt2 + mpg, data = d, family = binomial)
  diagnostics_agree(fa, ga)
  expect_identical(colnames(dfbeta(fa)), c("(Intercept)", "wt", "mpg"))
  # grouped binomial data
  dd <- data.frame(s = c(3, 5, 8, 9, 4), f = c(7, 5, 2, 1, 4), x = c(1, 2, 3, 4, 2.5))
  diagnostics_agree(logistic_regression(cbind(s, f) ~ x, data = dd),
                    glm(cbind(s, f) ~ x, data = dd, family = binomial))
})

test_that("diagnostics that cannot be honoured are errors", {
  fit <- logistic_regression(am ~ wt + hp, data = mtcars)
  expect_error(hatvalues(logistic_regression(am ~ wt, data = mtcars, lambda = 1)),
               "maximum-likelihood fit", class = "xentropy_error_unsupported")
  expect_error(cooks.distance(softmax_regression(factor(gear) ~ wt, data = mtcars)),
               "K - 1", class = "xentropy_error_unsupported")
  expect_error(rstandard(fit, type = "working"), "`type` must be one of", class = "xentropy_error")
  expect_error(influence(fit, do.coef = NA), "`do.coef`", class = "xentropy_error")
  expect_error(hatvalues(fit, 2), class = "xentropy_error")
  expect_error(cooks.distance(fit, dispersion = -1), "`dispersion`", class = "xentropy_error")
})

test_that("diagnostics on a badly conditioned design are those of its column space", {
  set.seed(3)
  n <- 200
  d <- data.frame(year = sample(1990:2010, n, TRUE))
  d$y <- rbinom(n, 1, plogis(-0.5 + 0.1 * (d$year - 2000)))
  f <- logistic_regression(y ~ poly(year, 4, raw = TRUE), data = d)
  expect_false(is.null(f$basis))  # the fit ran on a better basis
  go <- glm(y ~ poly(year, 4), data = d, family = binomial,
            control = glm.control(epsilon = 1e-14))
  expect_equal(sum(hatvalues(f)), 5, tolerance = 1e-8)
  expect_equal(hatvalues(f), hatvalues(go), tolerance = 1e-5)
  expect_equal(cooks.distance(f), cooks.distance(go), tolerance = 1e-5)
  expect_equal(dim(dfbeta(f)), c(n, 5L))
  # dfbeta maps back to the raw coefficients: the change of the linear predictor
  # X dfbeta_i' is the same as with the orthogonal columns
  Xr <- model.matrix(f)
  Xo <- model.matrix(go)
  expect_equal(Xr %*% t(dfbeta(f)[1:5, ]), Xo %*% t(dfbeta(go)[1:5, ]), tolerance = 1e-4,
               ignore_attr = TRUE)
})

test_that("rows fitted at exactly their 0/1 response keep their place (separation)", {
  d <- data.frame(x = c(10, 9, 8, 1, 2, 3, 4, 5, 6, 7), z = c(3, 5, 6, 3, 1, 4, 1, 5, 9, 2),
                  y = c(1, 1, 1, 0, 0, 0, 0, 0, 1, 1))
  rownames(d) <- paste0("r", 1:10)
  f <- suppressWarnings(logistic_regression(y ~ x + z, data = d))
  expect_true(any(fitted(f) %in% c(0, 1)))
  # the residuals' limits, not 0/0
  expect_false(anyNA(residuals(f, "pearson")))
  expect_false(anyNA(residuals(f, "working")))
  e <- fitted(f) %in% c(0, 1)
  expect_identical(unname(residuals(f, "pearson")[e]), rep(0, sum(e)))
  expect_identical(unname(residuals(f, "working")[e]), 2 * fitted(f)[e] - 1, ignore_attr = TRUE)
  inf <- influence(f)
  expect_identical(names(inf$pear.res), rownames(d))
  expect_identical(names(cooks.distance(f)), rownames(d))
  expect_equal(unname(inf$pear.res), unname(residuals(f, "pearson")), tolerance = 1e-15)
})

test_that("a zero-weight row fitted at exactly 0 or 1 has residual 0 and shifts nothing", {
  d <- data.frame(x = c(60, 10, 9, 8, 1, 2, 3, 4, 5, 6, 7), z = c(1, 3, 5, 6, 3, 1, 4, 1, 5, 9, 2),
                  y = c(0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1), w = c(0, rep(1, 10)))
  rownames(d) <- paste0("r", 1:11)
  f <- suppressWarnings(logistic_regression(y ~ x + z, data = d, weights = w))
  expect_identical(unname(fitted(f)[1]), 1)
  # glm gives 0 for a row of zero weight
  expect_identical(unname(residuals(f, "pearson")[1]), 0)
  expect_identical(unname(residuals(f, "deviance")[1]), 0)
  inf <- influence(f, do.coef = FALSE)
  expect_identical(names(inf$pear.res), rownames(d)[-1])
  expect_identical(inf$pear.res, residuals(f, "pearson")[-1])
  # softmax: a class with target and fitted probability exactly 0 (an offset of -800)
  set.seed(1)
  n <- 60
  ds <- data.frame(x = rnorm(n))
  ds$y <- factor(sample(c("a", "b", "c"), n, TRUE))
  ds$y[1] <- "a"
  O <- matrix(0, n, 3, dimnames = list(NULL, c("a", "b", "c")))
  O[1, "b"] <- -800
  s <- softmax_regression(y ~ x, data = ds, offset = O)
  expect_identical(unname(fitted(s)[1, "b"]), 0)
  expect_identical(unname(residuals(s, "pearson")[1, "b"]), 0)
  expect_false(anyNA(residuals(s, "pearson")))
})
