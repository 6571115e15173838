# logistic_regression() and softmax_regression(): agreement with glm(),
# nnet::multinom() and VGAM::vglm(), optimality conditions checked directly
# in R, separation, thread invariance and bad inputs.

rel_err <- function(a, b) abs(a - b) / abs(b)

binary_data <- function(n = 400, seed = 1) {
  set.seed(seed)
  d <- data.frame(x1 = rnorm(n), x2 = runif(n, -2, 2),
                  g = factor(sample(c("a", "b", "c"), n, TRUE)))
  eta <- 0.3 + 1.2 * d$x1 - 0.8 * d$x2 + c(a = 0, b = 0.5, c = -0.7)[as.character(d$g)]
  d$y <- rbinom(n, 1, plogis(eta))
  d$w <- sample(1:3, n, TRUE)
  d
}

multi_data <- function(n = 600, K = 4, seed = 2) {
  set.seed(seed)
  d <- data.frame(x1 = rnorm(n), x2 = rnorm(n), x3 = runif(n))
  B <- matrix(rnorm(4 * K), 4)
  B[, 1] <- 0
  E <- cbind(1, as.matrix(d)) %*% B
  P <- exp(E) / rowSums(exp(E))
  d$y <- factor(apply(P, 1, function(p) sample(K, 1, prob = p)), labels = letters[1:K])
  d$w <- runif(n, 0.5, 2)
  d
}

tight_glm <- function(...) {
  glm(..., family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
}

test_that("logistic_regression equals glm: logLik, coefficients, vcov, deviance, AIC", {
  d <- binary_data()
  fit <- logistic_regression(y ~ x1 + x2 + g, data = d)
  ref <- tight_glm(y ~ x1 + x2 + g, data = d)
  expect_lt(rel_err(as.numeric(logLik(fit)), as.numeric(logLik(ref))), 1e-8)
  expect_equal(coef(fit), coef(ref), tolerance = 1e-6)
  expect_equal(vcov(fit), vcov(ref), tolerance = 1e-6)
  expect_equal(deviance(fit), deviance(ref), tolerance = 1e-8)
  expect_equal(fit$null.deviance, ref$null.deviance, tolerance = 1e-10)
  expect_equal(AIC(fit), AIC(ref), tolerance = 1e-8)
  expect_equal(BIC(fit), BIC(ref), tolerance = 1e-8)
  expect_equal(attr(logLik(fit), "df"), 5)
  expect_equal(nobs(fit), 400)
  expect_equal(confint(fit), confint.default(ref), tolerance = 1e-6)
  expect_equal(summary(fit)$coefficients, summary(ref)$coefficients, tolerance = 1e-6)
  expect_true(fit$converged)
  expect_equal(formula(fit), y ~ x1 + x2 + g)
  expect_s3_class(terms(fit), "terms")
})

test_that("the gradient at the returned optimum is below tol, evaluated directly in R", {
  d <- binary_data()
  fit <- logistic_regression(y ~ x1 + x2 + g, data = d)
  X <- model.matrix(~ x1 + x2 + g, d)
  mu <- plogis(drop(X %*% coef(fit)))
  g <- drop(crossprod(X, mu - d$y))
  expect_lt(max(abs(g)), 1e-8)
  expect_equal(fit$gradient, g, tolerance = 1e-6, ignore_attr = TRUE)
  expect_lt(max(abs(fit$gradient)), 1e-8)
  # the objective decreases at every Newton iteration
  expect_true(all(diff(fit$trace) <= 0))
})

test_that("weights act as replicated rows and match glm's prior weights", {
  d <- binary_data()
  fit <- logistic_regression(y ~ x1 + x2, data = d, weights = w)
  ref <- glm(y ~ x1 + x2, data = d, weights = w, family = binomial,
             control = glm.control(epsilon = 1e-14))
  expect_equal(coef(fit), coef(ref), tolerance = 1e-6)
  expect_lt(rel_err(as.numeric(logLik(fit)), as.numeric(logLik(ref))), 1e-8)
  expect_equal(vcov(fit), vcov(ref), tolerance = 1e-6)
  rep_d <- d[rep(seq_len(nrow(d)), d$w), ]
  fit_rep <- logistic_regression(y ~ x1 + x2, data = rep_d)
  expect_equal(coef(fit), coef(fit_rep), tolerance = 1e-8)
  expect_equal(as.numeric(logLik(fit)), as.numeric(logLik(fit_rep)), tolerance = 1e-10)
  # zero weights drop observations (and do not count in nobs)
  w0 <- ifelse(seq_len(nrow(d)) <= 100, 0, 1)
  fit0 <- logistic_regression(y ~ x1 + x2, data = d, weights = w0)
  fit_sub <- logistic_regression(y ~ x1 + x2, data = d[-(1:100), ])
  expect_equal(coef(fit0), coef(fit_sub), tolerance = 1e-8)
  expect_equal(nobs(fit0), 300)
})

test_that("subset and na.action work as in glm", {
  d <- binary_data()
  d$x1[c(3, 10, 50)] <- NA
  fit <- logistic_regression(y ~ x1 + x2, data = d, subset = x2 > -1)
  ref <- glm(y ~ x1 + x2, data = d, subset = x2 > -1, family = binomial,
             control = glm.control(epsilon = 1e-14))
  expect_equal(coef(fit), coef(ref), tolerance = 1e-6)
  expect_equal(nobs(fit), nobs(ref))
  expect_equal(length(fitted(fit)), nobs(ref))
  expect_error(logistic_regression(y ~ x1 + x2, data = d, na.action = na.fail),
               "missing values")
  fit_ex <- logistic_regression(y ~ x1 + x2, data = d, na.action = na.exclude)
  expect_equal(coef(fit_ex), coef(tight_glm(y ~ x1 + x2, data = d)), tolerance = 1e-6)
  # the matrix interface takes subset and weights too
  dd <- na.omit(d)
  X <- cbind(1, x1 = dd$x1, x2 = dd$x2)
  fit_m <- logistic_regression(x = X, y = dd$y, subset = dd$x2 > -1, weights = dd$w)
  ref_m <- glm(y ~ x1 + x2, data = dd, subset = x2 > -1, weights = w, family = binomial,
               control = glm.control(epsilon = 1e-14))
  expect_equal(unname(coef(fit_m)), unname(coef(ref_m)), tolerance = 1e-6)
})

test_that("responses: two-level factor (second positive), logical, 0/1 and soft targets", {
  d <- binary_data()
  ref <- coef(logistic_regression(y ~ x1, data = d))
  d$f <- factor(ifelse(d$y == 1, "yes", "no"))
  fit_f <- logistic_regression(f ~ x1, data = d)
  expect_equal(coef(fit_f), ref, tolerance = 1e-12)
  expect_equal(fit_f$levels, c("no", "yes"))
  expect_equal(coef(logistic_regression(y == 1 ~ x1, data = d)), ref, tolerance = 1e-12)
  # soft targets: glm with a non-integer response (which warns) has the same optimum
  set.seed(5)
  d$p <- runif(nrow(d))
  fit_s <- logistic_regression(p ~ x1 + x2, data = d)
  ref_s <- suppressWarnings(tight_glm(p ~ x1 + x2, data = d))
  expect_equal(coef(fit_s), coef(ref_s), tolerance = 1e-6)
  expect_equal(deviance(fit_s), deviance(ref_s), tolerance = 1e-8)
})

test_that("predict gives probabilities, classes and logits, for new data too", {
  d <- binary_data()
  fit <- logistic_regression(y ~ x1 + x2 + g, data = d)
  ref <- tight_glm(y ~ x1 + x2 + g, data = d)
  expect_equal(predict(fit), fitted(ref), tolerance = 1e-6)
  expect_equal(predict(fit, type = "link"), predict(ref), tolerance = 1e-6)
  new <- data.frame(x1 = c(-1, 0, 2), x2 = c(1, 0, -1), g = c("c", "a", "b"))
  expect_equal(predict(fit, new), predict(ref, new, type = "response"), tolerance = 1e-6)
  expect_equal(predict(fit, new, type = "link"), predict(ref, new), tolerance = 1e-6)
  cls <- predict(fit, new, type = "class")
  expect_s3_class(cls, "factor")
  expect_equal(as.character(cls),
               ifelse(predict(ref, new, type = "response") > 0.5, "1", "0"),
               ignore_attr = TRUE)
  # a missing predictor gives NA, not an error
  new$x1[2] <- NA
  expect_true(is.na(predict(fit, new)[2]))
})

test_that("lambda > 0: the penalised stationarity conditions hold to 1e-8", {
  d <- binary_data()
  lambda <- 3
  fit <- logistic_regression(y ~ x1 + x2 + g, data = d, weights = w, lambda = lambda)
  X <- model.matrix(~ x1 + x2 + g, d)
  b <- coef(fit)
  mu <- plogis(drop(X %*% b))
  pen <- c(0, rep(1, ncol(X) - 1))
  g <- drop(crossprod(X, d$w * (mu - d$y))) + lambda * pen * b
  expect_lt(max(abs(g)), 1e-8)
  # the intercept is not penalised, the slopes shrink
  unpen <- coef(logistic_regression(y ~ x1 + x2 + g, data = d, weights = w))
  expect_lt(sum(b[-1]^2), sum(unpen[-1]^2))
  expect_lt(attr(logLik(fit), "df"), 5)
  expect_gt(attr(logLik(fit), "df"), 0)
})

test_that("lambda > 0 agrees with glmnet's ridge at the same scaled penalty", {
  skip_if_not_installed("glmnet")
  d <- binary_data()
  X <- as.matrix(d[, c("x1", "x2")])
  n <- nrow(X)
  lam <- 0.05
  ref <- glmnet::glmnet(X, d$y, family = "binomial", alpha = 0, lambda = lam,
                        standardize = FALSE, thresh = 1e-14)
  fit <- logistic_regression(x = cbind(`(Intercept)` = 1, X), y = d$y, lambda = n * lam)
  expect_equal(unname(coef(fit)), unname(as.vector(coef(ref))), tolerance = 1e-5)
})

test_that("separable data: glm's warning, finite coefficients, no endless loop", {
  x <- c(-3, -2, -1, -0.5, 0.5, 1, 2, 3)
  y <- c(0, 0, 0, 0, 1, 1, 1, 1)
  expect_warning(fit <- logistic_regression(y ~ x), "fitted probabilities numerically 0 or 1")
  expect_true(all(is.finite(coef(fit))))
  expect_false(anyNA(fitted(fit)))
  expect_lte(fit$iter, 100)
  expect_warning(fit2 <- logistic_regression(y ~ x, control = list(maxit = 3)),
                 "algorithm did not converge")
  expect_false(fit2$converged)
  expect_equal(fit2$iter, 3)
  expect_true(all(is.finite(coef(fit2))))
  # with a penalty the optimum exists and is finite, without warning
  expect_no_warning(fit3 <- logistic_regression(y ~ x, lambda = 0.1))
  expect_true(fit3$converged)
  # softmax: setosa is separable from the other species
  expect_warning(sfit <- softmax_regression(Species ~ Petal.Length + Petal.Width, data = iris),
                 "numerically 0 or 1")
  expect_true(all(is.finite(coef(sfit))))
  expect_true(all(is.finite(fitted(sfit))))
})

test_that("results are identical for any number of threads", {
  set.seed(3)
  n <- 60000
  X <- cbind(1, matrix(rnorm(n * 4), n))
  y <- rbinom(n, 1, plogis(X %*% c(0.2, 1, -1, 0.5, 0)))
  yk <- factor(sample(1:3, n, TRUE))
  old <- xentropy_threads(1)
  on.exit(xentropy_threads(old))
  a <- logistic_regression(x = X, y = y)
  sa <- softmax_regression(x = X, y = yk)
  sg <- softmax_regression(x = X, y = yk, control = list(newton_max_dim = 0))
  xentropy_threads(2)
  b <- logistic_regression(x = X, y = y)
  sb <- softmax_regression(x = X, y = yk)
  sh <- softmax_regression(x = X, y = yk, control = list(newton_max_dim = 0))
  for (nm in c("coefficients", "fitted.values", "loglik", "hessian", "gradient", "trace")) {
    expect_identical(a[[nm]], b[[nm]])
    expect_identical(sa[[nm]], sb[[nm]])
    expect_identical(sg[[nm]], sh[[nm]])
  }
})

test_that("softmax_regression equals nnet::multinom (first class as reference)", {
  skip_if_not_installed("nnet")
  d <- multi_data()
  fit <- softmax_regression(y ~ x1 + x2 + x3, data = d)
  ref <- nnet::multinom(y ~ x1 + x2 + x3, data = d, trace = FALSE, reltol = 1e-15,
                        maxit = 10000)
  expect_lt(rel_err(as.numeric(logLik(fit)), as.numeric(logLik(ref))), 1e-8)
  expect_equal(coef(fit), coef(ref), tolerance = 1e-6)
  expect_equal(attr(logLik(fit), "df"), attr(logLik(ref), "df"))
  expect_equal(deviance(fit), deviance(ref), tolerance = 1e-8)
  expect_equal(unname(fitted(fit)), unname(fitted(ref)), tolerance = 1e-6)
  new <- d[1:7, ]
  expect_equal(predict(fit, new), predict(ref, new, type = "probs"), tolerance = 1e-6)
  expect_equal(predict(fit, new, type = "class"), predict(ref, new, type = "class"),
               ignore_attr = "names")
  # weights
  fitw <- softmax_regression(y ~ x1 + x2 + x3, data = d, weights = w)
  refw <- nnet::multinom(y ~ x1 + x2 + x3, data = d, weights = w, trace = FALSE,
                         reltol = 1e-15, maxit = 10000)
  expect_lt(rel_err(as.numeric(logLik(fitw)), as.numeric(logLik(refw))), 1e-8)
  expect_equal(coef(fitw), coef(refw), tolerance = 1e-6)
})

test_that("softmax_regression equals VGAM::vglm: logLik, coefficients, vcov", {
  skip_if_not_installed("VGAM")
  d <- multi_data()
  fit <- softmax_regression(y ~ x1 + x2 + x3, data = d)
  ref <- VGAM::vglm(y ~ x1 + x2 + x3, data = d,
                    family = VGAM::multinomial(refLevel = 1),
                    control = VGAM::vglm.control(epsilon = 1e-14, maxit = 100))
  expect_lt(rel_err(as.numeric(logLik(fit)), as.numeric(VGAM::logLik(ref))), 1e-8)
  # VGAM orders coefficients term by term, the classes within each term
  K1 <- nlevels(d$y) - 1
  cf_ref <- matrix(VGAM::coef(ref), nrow = K1)
  expect_equal(unname(coef(fit)), cf_ref, tolerance = 1e-6)
  ord <- as.vector(t(matrix(seq_along(VGAM::coef(ref)), nrow = K1)))
  V_ref <- VGAM::vcov(ref)[ord, ord]
  expect_equal(unname(vcov(fit)), unname(V_ref), tolerance = 1e-6)
  # the gradient over the free parameters, evaluated in R, is below tol
  X <- model.matrix(~ x1 + x2 + x3, d)
  Tm <- diag(4)[as.integer(d$y), ]
  P <- predict(fit, type = "prob")
  G <- crossprod(X, P - Tm)
  expect_lt(max(abs(G[, -1])), 1e-8)
})

test_that("truncated Newton (Newton-CG) reaches the same optimum as full Newton", {
  d <- multi_data(n = 2000)
  a <- softmax_regression(y ~ x1 + x2 + x3, data = d)
  b <- softmax_regression(y ~ x1 + x2 + x3, data = d, control = list(newton_max_dim = 0))
  expect_equal(a$method, "newton")
  expect_equal(b$method, "newton-cg")
  expect_lt(rel_err(b$loglik, a$loglik), 1e-10)
  expect_equal(coef(b), coef(a), tolerance = 1e-6)
  expect_equal(vcov(b), vcov(a), tolerance = 1e-6)
  # the Hessian is formed when vcov() needs it, unless the fit kept it
  expect_null(b$hessian)
  kept <- softmax_regression(y ~ x1 + x2 + x3, data = d, control = list(hessian = TRUE))
  expect_false(is.null(kept$hessian))
  expect_equal(vcov(kept), vcov(a), tolerance = 1e-12)
  lb <- logistic_regression(x = model.matrix(~ x1 + x2, d), y = as.integer(d$y) > 2,
                            control = list(hessian = TRUE))
  expect_equal(solve(lb$hessian), vcov(lb), tolerance = 1e-10, ignore_attr = TRUE)
})

test_that("softmax with lambda > 0: all K classes, penalised stationarity to 1e-8", {
  d <- multi_data()
  lambda <- 2
  fit <- softmax_regression(y ~ x1 + x2 + x3, data = d, weights = w, lambda = lambda)
  W <- t(coef(fit))
  expect_equal(dim(W), c(4, 4))
  # intercepts centred, slopes summing to zero over the classes
  expect_lt(max(abs(rowSums(W))), 1e-10)
  X <- model.matrix(~ x1 + x2 + x3, d)
  Tm <- diag(4)[as.integer(d$y), ]
  E <- X %*% W
  P <- exp(E - apply(E, 1, max))
  P <- P / rowSums(P)
  pen <- c(0, 1, 1, 1)
  G <- crossprod(X, d$w * (P - Tm)) + lambda * pen * W
  expect_lt(max(abs(G)), 1e-8)
  expect_equal(unname(predict(fit)), unname(P), tolerance = 1e-10)
  # vcov is K p x K p, named class:term
  expect_equal(dim(vcov(fit)), c(16, 16))
  expect_equal(rownames(vcov(fit))[1:2], c("a:(Intercept)", "a:x1"))
  expect_true(all(is.finite(confint(fit))))
})

test_that("soft targets and label smoothing", {
  d <- multi_data()
  Tm <- diag(4)[as.integer(d$y), ]
  colnames(Tm) <- levels(d$y)
  X <- model.matrix(~ x1 + x2 + x3, d)
  a <- softmax_regression(y ~ x1 + x2 + x3, data = d)
  b <- softmax_regression(x = X, y = Tm)
  expect_equal(unname(coef(b)), unname(coef(a)), tolerance = 1e-10)
  expect_equal(b$levels, levels(d$y))
  eps <- 0.1
  s1 <- softmax_regression(y ~ x1 + x2 + x3, data = d, label_smoothing = eps)
  s2 <- softmax_regression(x = X, y = (1 - eps) * Tm + eps / 4)
  expect_equal(unname(coef(s1)), unname(coef(s2)), tolerance = 1e-10)
  # soft targets: the deviance is measured from the saturated model
  expect_equal(deviance(s2), 2 * (-s2$loglik - sum(entropy((1 - eps) * Tm + eps / 4))),
               tolerance = 1e-10)
})

test_that("the matrix interface equals the formula interface", {
  d <- binary_data()
  X <- model.matrix(~ x1 + x2, d)
  a <- logistic_regression(y ~ x1 + x2, data = d)
  b <- logistic_regression(x = X, y = d$y)
  expect_equal(coef(b), coef(a))
  expect_equal(predict(b, X[1:5, ]), predict(a, d[1:5, ]), ignore_attr = TRUE)
  expect_error(formula(b), "matrix interface")
  expect_error(predict(b, X[1:5, c("x1", "x2")]), "lacks the column")
})

test_that("bad inputs get clear errors naming the argument", {
  d <- binary_data()
  dd <- data.frame(y = rep(1, 10), x = rnorm(10))
  expect_error(logistic_regression(y ~ x, data = dd), "only one class", class = "xentropy_error")
  expect_error(softmax_regression(Species ~ Sepal.Length, data = iris[1:50, ]),
               "only one class", class = "xentropy_error")
  expect_error(logistic_regression(Species ~ Sepal.Length, data = iris),
               "must have two classes", class = "xentropy_error")
  d$ch <- ifelse(d$y == 1, "yes", "no")
  expect_error(logistic_regression(ch ~ x1, data = d), "response `y` must be 0/1",
               class = "xentropy_error")
  expect_error(logistic_regression(I(y * 2) ~ x1, data = d), "must be in \\[0, 1\\]",
               class = "xentropy_error")
  expect_error(softmax_regression(x1 ~ x2, data = d), "response `y` must be a factor",
               class = "xentropy_error")
  expect_error(softmax_regression(x = cbind(1, 1:4), y = cbind(c(.5, .5, 1, 0), c(.6, .5, 0, 1))),
               "sum to 1", class = "xentropy_error")
  d$x3 <- d$x1
  d$x3[7] <- Inf
  expect_error(logistic_regression(y ~ x3, data = d), "finite.*row 7.*\"x3\"",
               class = "xentropy_error")
  expect_error(logistic_regression(x = cbind(1, c(1, NaN, 3)), y = c(0, 1, 1)),
               "`x` has NaN at row 2", class = "xentropy_error")
  expect_error(logistic_regression(x = data.frame(a = 1:3), y = c(0, 1, 1)),
               "`x` must be a numeric matrix", class = "xentropy_error")
  expect_error(logistic_regression(x = cbind(1, 1:3), y = c(0, 1)),
               "`y` has 2 observations", class = "xentropy_error")
  d$neg <- d$w
  d$neg[4] <- -1
  expect_error(logistic_regression(y ~ x1, data = d, weights = neg),
               "`weights` must be non-negative", class = "xentropy_error")
  expect_error(logistic_regression(y ~ x1, data = d, lambda = -1), "`lambda` must be",
               class = "xentropy_error")
  expect_error(softmax_regression(Species ~ ., data = iris, lambda = NA), "`lambda` must be",
               class = "xentropy_error")
  expect_error(softmax_regression(Species ~ ., data = iris, label_smoothing = 2),
               "`label_smoothing` must be", class = "xentropy_error")
  expect_error(logistic_regression(y ~ x1, data = d, control = list(tolerance = 1)),
               "`control` has unknown element `tolerance`", class = "xentropy_error")
  expect_error(logistic_regression(y ~ x1, data = d, control = list(maxit = 0)),
               "`control\\$maxit` must be", class = "xentropy_error")
  expect_error(logistic_regression(y ~ x1, data = d, x = matrix(1)), "not both",
               class = "xentropy_error")
  expect_error(logistic_regression(), "Give `formula`", class = "xentropy_error")
  fit <- logistic_regression(y ~ x1 + g, data = d)
  expect_error(predict(fit, data.frame(x1 = 1)), "`newdata` lacks the column \"g\"",
               class = "xentropy_error")
  expect_error(predict(fit, type = "probability"), "`type` must be one of",
               class = "xentropy_error")
})

test_that("print and summary show the coefficient table", {
  fit <- logistic_regression(am ~ wt + hp, data = mtcars)
  out <- capture.output(print(fit))
  expect_true(any(grepl("Log-likelihood", out)))
  s <- summary(fit)
  expect_equal(colnames(coef(s)), c("Estimate", "Std. Error", "z value", "Pr(>|z|)"))
  expect_true(any(grepl("Pr\\(>\\|z\\|\\)", capture.output(print(s)))))
  sfit <- softmax_regression(Species ~ Sepal.Length, data = iris)
  ss <- summary(sfit)
  expect_equal(rownames(coef(ss))[1], "versicolor:(Intercept)")
  expect_equal(dim(ss$standard.errors), c(2, 2))
  expect_true(any(grepl("reference: setosa", capture.output(print(ss)))))
})

test_that("a label-smoothed fit reports sandwich standard errors, computed here by hand", {
  set.seed(9)
  n <- 300
  x <- rnorm(n)
  eta <- cbind(0, 1 + 1.5 * x, -0.5 - x)
  P <- exp(eta) / rowSums(exp(eta))
  y <- factor(apply(P, 1, function(p) sample(1:3, 1, prob = p)))
  w <- rep(c(1, 2), length.out = n)
  eps <- 0.3
  f <- softmax_regression(y ~ x, weights = w, label_smoothing = eps)
  X <- cbind(1, x)
  Tm <- (1 - eps) * (outer(as.integer(y), 1:3, "==") * 1) + eps / 3
  Pf <- fitted(f)
  # free parameters: classes 2 and 3, class-major (as vcov's names)
  H <- matrix(0, 4, 4)
  S <- matrix(0, n, 4)
  for (i in seq_len(n)) {
    p <- Pf[i, 2:3]
    H <- H + w[i] * kronecker(diag(p) - tcrossprod(p), tcrossprod(X[i, ]))
    S[i, ] <- w[i] * kronecker(Pf[i, 2:3] - Tm[i, 2:3], X[i, ])
  }
  Hi <- solve(H)
  expect_equal(unname(vcov(f)), Hi %*% crossprod(S) %*% Hi, tolerance = 1e-7)
  expect_equal(unname(summary(f)$coefficients[, "Std. Error"]),
               sqrt(diag(Hi %*% crossprod(S) %*% Hi)), tolerance = 1e-7)
  expect_true(any(grepl("label smoothing 0.3", capture.output(print(f)))))
  expect_true(any(grepl("Sandwich standard errors", capture.output(print(summary(f))))))
  # it is not the inverse Hessian of the ML fit
  expect_gt(max(abs(unname(vcov(f)) - Hi)), 1e-3)
})

test_that("the linear predictors of a softmax ridge fit are X coef (centred intercepts)", {
  fit <- softmax_regression(Species ~ Sepal.Length + Sepal.Width, data = iris, lambda = 1)
  X <- model.matrix(~ Sepal.Length + Sepal.Width, iris)
  ref <- X %*% t(coef(fit))
  expect_equal(unname(predict(fit, type = "link")), unname(ref), tolerance = 1e-12)
  expect_equal(unname(fit$linear.predictors), unname(ref), tolerance = 1e-12)
  expect_equal(predict(fit, type = "link"), predict(fit, newdata = iris, type = "link"),
               tolerance = 1e-12)
  expect_equal(unname(softmax(ref)), unname(fitted(fit)), tolerance = 1e-12)
})

test_that("ridge fits alias a second column of ones (unpenalised), as glm aliases it", {
  d <- transform(mtcars, one = 1)
  f <- logistic_regression(am ~ one + wt, data = d, lambda = 1)
  f0 <- logistic_regression(am ~ wt, data = d, lambda = 1)
  expect_identical(unname(f$aliased), c(FALSE, TRUE, FALSE))
  expect_equal(unname(coef(f)[c(1, 3)]), unname(coef(f0)), tolerance = 1e-10)
  expect_equal(logLik(f), logLik(f0), tolerance = 1e-10)
  s <- softmax_regression(factor(gear) ~ one + wt, data = d, lambda = 1)
  s0 <- softmax_regression(factor(gear) ~ wt, data = d, lambda = 1)
  expect_equal(unname(coef(s)[, c(1, 3)]), unname(coef(s0)), tolerance = 1e-8)
  ch <- data_chunks(split(d, rep(1:2, 16)))
  fc <- logistic_regression(am ~ one + wt, data = ch, lambda = 1)
  expect_equal(coef(fc), coef(f), tolerance = 1e-8)
})

test_that("a count matrix response is refused with the way to fit it, which matches nnet", {
  skip_if_not_installed("nnet")
  d <- data.frame(x = c(-1, 0, 1, 2, 0.5), a = c(5, 3, 2, 1, 2), b = c(2, 3, 3, 2, 4),
                  c = c(1, 2, 4, 6, 2))
  Y <- as.matrix(d[, c("a", "b", "c")])
  expect_error(softmax_regression(x = cbind(1, d$x), y = Y), "weights = rowSums\\(y\\)",
               class = "xentropy_error_invalid_value")
  f <- softmax_regression(x = cbind(1, d$x), y = Y / rowSums(Y), weights = rowSums(Y))
  m <- nnet::multinom(Y ~ x, data = d, trace = FALSE, reltol = 1e-14)
  expect_equal(unname(coef(f)), unname(coef(m)), tolerance = 1e-5)
})

test_that("label-smoothed sandwich standard errors on a badly conditioned design", {
  set.seed(5)
  n <- 600
  d <- data.frame(year = sample(1990:2010, n, TRUE))
  t0 <- (d$year - 2000) / 10
  eta <- cbind(0, 0.5 + t0, -0.3 - t0)
  P <- exp(eta) / rowSums(exp(eta))
  d$y <- factor(apply(P, 1, function(p) sample(1:3, 1, prob = p)))
  nd <- data.frame(year = c(1991, 2000, 2009))
  fr <- softmax_regression(y ~ poly(year, 3, raw = TRUE), data = d, label_smoothing = 0.2)
  fo <- softmax_regression(y ~ poly(year, 3), data = d, label_smoothing = 0.2)
  expect_false(is.null(fr$basis))
  # the same column space: the same predictions and standard errors
  a <- predict(fr, newdata = nd, se.fit = TRUE, type = "prob")
  b <- predict(fo, newdata = nd, se.fit = TRUE, type = "prob")
  expect_equal(a$fit, b$fit, tolerance = 1e-6)
  expect_equal(a$se.fit, b$se.fit, tolerance = 1e-4)
  # over chunks, the same covariance as in memory
  fc <- softmax_regression(y ~ poly(year, 3, raw = TRUE), label_smoothing = 0.2,
                           data = data_chunks(split(d, rep(1:3, length.out = n))))
  expect_equal(sqrt(diag(vcov(fc))), sqrt(diag(vcov(fr))), tolerance = 1e-5)
})

test_that("a second column of ones in a ridge fit over chunks is aliased, as in memory", {
  set.seed(2)
  n <- 120
  d <- data.frame(x = rnorm(n), z = rnorm(n), one = 1, year = sample(1990:2010, n, TRUE))
  d$y <- factor(sample(1:3, n, TRUE))
  d$b <- rbinom(n, 1, plogis(d$x))
  ch <- data_chunks(split(d, rep(1:2, length.out = n)))
  expect_equal(coef(softmax_regression(y ~ one + x + z, data = ch, lambda = 3)),
               coef(softmax_regression(y ~ one + x + z, data = d, lambda = 3)), tolerance = 1e-7)
  l2 <- logistic_regression(b ~ one + poly(year, 3, raw = TRUE) + x, data = d, lambda = 0.01)
  lc2 <- logistic_regression(b ~ one + poly(year, 3, raw = TRUE) + x, data = ch, lambda = 0.01)
  expect_equal(coef(lc2), coef(l2), tolerance = 1e-6)
})

test_that("a class with no observation of positive weight is warned about", {
  set.seed(1)
  d <- iris
  d$Species2 <- d$Species
  d$Species2[sample(150, 40)] <- sample(levels(d$Species), 40, TRUE)
  d$w2 <- ifelse(d$Species2 == "virginica", 0, 1)
  expect_warning(f <- softmax_regression(Species2 ~ Sepal.Length, data = d, weights = w2),
                 "no observation of positive weight in class \"virginica\"",
                 class = "xentropy_warning_separation")
  # the other classes' fit is the fit without that class
  f2 <- softmax_regression(Species2 ~ Sepal.Length, data = droplevels(d[d$w2 > 0, ]))
  expect_equal(coef(f)["versicolor", ], coef(f2)["versicolor", ], tolerance = 1e-6)
  expect_no_warning(softmax_regression(Species2 ~ Sepal.Length, data = d))
})
