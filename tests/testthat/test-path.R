# Regularisation paths against glmnet and against an objective written here
# (never the code under test as ground truth).

# glmnet's objective, with the penalty on the columns scaled by `s` (their weighted
# standard deviations when standardize = TRUE, else 1).
binary_objective <- function(a0, b, lambda, alpha, x, y, w, off, s) {
  w <- w / sum(w)
  eta <- drop(a0 + as.matrix(x %*% b) + off)
  loss <- sum(w * (y * log1p(exp(-eta)) + (1 - y) * log1p(exp(eta))))
  loss + lambda * sum((1 - alpha) / 2 * (b * s)^2 + alpha * abs(b * s))
}

softmax_objective <- function(a0, B, lambda, alpha, x, Y, w, off, s, grouped) {
  w <- w / sum(w)
  eta <- as.matrix(x %*% B) + matrix(a0, nrow(x), ncol(B), byrow = TRUE) + off
  m <- apply(eta, 1, max)
  lse <- m + log(rowSums(exp(eta - m)))
  loss <- sum(w * (lse - rowSums(Y * eta)))
  Bs <- B * s
  pen <- if (grouped) {
    sum((1 - alpha) / 2 * rowSums(Bs^2) + alpha * sqrt(rowSums(Bs^2)))
  } else {
    sum((1 - alpha) / 2 * Bs^2 + alpha * abs(Bs))
  }
  loss + lambda * pen
}

weighted_sd <- function(x, w) {
  x <- as.matrix(x)
  w <- w / sum(w)
  m <- colSums(x * w)
  sqrt(colSums(w * sweep(x, 2, m)^2))
}

make_binary <- function(n = 300, p = 30, seed = 1) {
  set.seed(seed)
  x <- matrix(rnorm(n * p), n, p)
  x[, 2] <- 3 * x[, 2] + 1
  beta <- c(1, -0.3, 0.5, -0.5, rep(0, p - 4))
  y <- rbinom(n, 1, plogis(drop(x %*% beta)))
  list(x = x, y = y, n = n, p = p)
}

make_softmax <- function(n = 300, p = 20, K = 3, seed = 2) {
  set.seed(seed)
  x <- matrix(rnorm(n * p), n, p)
  B <- matrix(0, p, K)
  B[1:3, ] <- matrix(c(1, -0.5, 0, -0.5, 0.8, 0.3, 0, 0.4, -0.8), 3)
  eta <- x %*% B
  P <- exp(eta) / rowSums(exp(eta))
  y <- factor(apply(P, 1, function(p) sample(K, 1, prob = p)), labels = letters[1:K])
  list(x = x, y = y, n = n, p = p, K = K)
}

# Our objective <= glmnet's (thresh = 1e-14, same lambdas) + 1e-9 relative at every
# lambda glmnet fitted; returns the coefficient differences.
compare_binary <- function(fit, x, y, alpha, w, off, standardize, intercept = TRUE) {
  g <- glmnet::glmnet(x, y, family = "binomial", alpha = alpha, lambda = fit$lambda,
                      weights = w, offset = if (any(off != 0)) off,
                      standardize = standardize, intercept = intercept,
                      thresh = 1e-14, maxit = 1e7)
  L <- length(g$lambda)
  expect_gt(L, 0.5 * length(fit$lambda))
  s <- if (standardize) weighted_sd(x, w) else rep(1, ncol(x))
  if (!intercept && standardize) s <- sqrt(colSums(w / sum(w) * as.matrix(x)^2) - colSums(w / sum(w) * as.matrix(x))^2)
  ours <- theirs <- numeric(L)
  for (l in seq_len(L)) {
    ours[l] <- binary_objective(fit$a0[l], fit$beta[, l], fit$lambda[l], alpha, x, y, w, off, s)
    theirs[l] <- binary_objective(g$a0[l], as.numeric(g$beta[, l]), fit$lambda[l], alpha,
                                  x, y, w, off, s)
  }
  expect_true(all(ours <= theirs + 1e-9 * abs(theirs)),
              info = sprintf("largest excess %g", max((ours - theirs) / abs(theirs))))
  list(coef = max(abs(fit$beta[, 1:L] - as.matrix(g$beta))),
       intercept = max(abs(fit$a0[1:L] - g$a0)), rel = (ours - theirs) / abs(theirs))
}

test_that("logistic_path matches or beats glmnet's objective at every lambda (dense, standardised)", {
  skip_if_not_installed("glmnet")
  d <- make_binary()
  fit <- logistic_path(d$x, d$y, nlambda = 40)
  expect_s3_class(fit, c("logistic_path", "xentropy_path"))
  expect_true(all(fit$kkt <= 1e-6))
  expect_true(all(fit$converged))
  r <- compare_binary(fit, d$x, d$y, 1, rep(1, d$n), rep(0, d$n), TRUE)
  expect_lt(r$coef, 1e-4)
  expect_lt(r$intercept, 1e-4)
  # the default sequence is glmnet's
  g <- glmnet::glmnet(d$x, d$y, family = "binomial", nlambda = 40)
  m <- min(length(g$lambda), length(fit$lambda))
  expect_equal(fit$lambda[1:m], g$lambda[1:m], tolerance = 1e-8)
  expect_equal(fit$df[1], 0L)
})

test_that("logistic_path's KKT certificate holds when recomputed independently", {
  d <- make_binary(seed = 3)
  fit <- logistic_path(d$x, d$y, alpha = 0.7, nlambda = 20)
  w <- rep(1 / d$n, d$n)
  s <- weighted_sd(d$x, w)
  z <- sweep(sweep(d$x, 2, colMeans(d$x)), 2, s, "/")
  for (l in seq_along(fit$lambda)) {
    lam <- fit$lambda[l]
    eta <- fit$a0[l] + drop(d$x %*% fit$beta[, l])
    r <- w * (plogis(eta) - d$y)               # gradient of the loss wrt eta
    g <- drop(crossprod(z, r))                 # wrt the standardised coefficients
    b <- fit$beta[, l] * s
    v <- ifelse(b != 0, abs(g + lam * 0.3 * b + lam * 0.7 * sign(b)),
                pmax(0, abs(g) - lam * 0.7))
    expect_lt(max(v, abs(sum(r))) / lam, 1.01e-6)
  }
})

test_that("logistic_path: unstandardised, weighted, offset and elastic-net problems match glmnet", {
  skip_if_not_installed("glmnet")
  d <- make_binary(n = 250, p = 25, seed = 4)
  set.seed(5)
  w <- runif(d$n, 0.2, 2)
  off <- rnorm(d$n, sd = 0.5)
  fit <- logistic_path(d$x, d$y, standardize = FALSE, nlambda = 25)
  expect_lt(compare_binary(fit, d$x, d$y, 1, rep(1, d$n), rep(0, d$n), FALSE)$coef, 1e-4)
  fit <- logistic_path(d$x, d$y, weights = w, nlambda = 25)
  expect_lt(compare_binary(fit, d$x, d$y, 1, w, rep(0, d$n), TRUE)$coef, 1e-4)
  fit <- logistic_path(d$x, d$y, offset = off, alpha = 0.5, nlambda = 25)
  expect_lt(compare_binary(fit, d$x, d$y, 0.5, rep(1, d$n), off, TRUE)$coef, 1e-4)
  fit <- logistic_path(d$x, d$y, alpha = 0, nlambda = 25)
  expect_lt(compare_binary(fit, d$x, d$y, 0, rep(1, d$n), rep(0, d$n), TRUE)$coef, 1e-4)
  pf <- c(0, 2, rep(1, d$p - 2))
  fit <- logistic_path(d$x, d$y, penalty_factor = pf, nlambda = 20)
  g <- glmnet::glmnet(d$x, d$y, family = "binomial", lambda = fit$lambda, penalty.factor = pf,
                      thresh = 1e-14)
  L <- length(g$lambda)
  expect_equal(unname(fit$beta[, 1:L]), unname(as.matrix(g$beta)), tolerance = 1e-4)
  expect_true(all(fit$beta[1, ] != 0))  # the unpenalised feature is always in
})

test_that("logistic_path on a dgCMatrix equals the dense fit to 1e-8 and never densifies", {
  skip_if_not_installed("Matrix")
  skip_if_not_installed("glmnet")
  set.seed(6)
  n <- 400; p <- 60
  xs <- Matrix::rsparsematrix(n, p, density = 0.1)
  y <- rbinom(n, 1, plogis(as.numeric(xs %*% c(2, -2, 1.5, rep(0, p - 3)))))
  xd <- as.matrix(xs)
  w <- runif(n, 0.5, 1.5)
  for (std in c(TRUE, FALSE)) {
    fs <- logistic_path(xs, y, weights = w, standardize = std, nlambda = 30)
    fd <- logistic_path(xd, y, weights = w, standardize = std, lambda = fs$lambda)
    expect_equal(fs$beta, fd$beta, tolerance = 1e-8)
    expect_equal(fs$a0, fd$a0, tolerance = 1e-8)
    expect_true(all(fs$kkt <= 1e-6))
    compare_binary(fs, xs, y, 1, w, rep(0, n), std)
  }
  # predictions on sparse new data
  expect_equal(predict(fs, xs[1:5, ], s = 0.01), predict(fd, xd[1:5, ], s = 0.01),
               tolerance = 1e-8)
})

test_that("logistic_path without an intercept matches glmnet", {
  skip_if_not_installed("glmnet")
  d <- make_binary(n = 200, p = 15, seed = 7)
  fit <- logistic_path(d$x, d$y, intercept = FALSE, standardize = FALSE, nlambda = 20)
  expect_true(all(fit$a0 == 0))
  r <- compare_binary(fit, d$x, d$y, 1, rep(1, d$n), rep(0, d$n), FALSE, intercept = FALSE)
  expect_lt(r$coef, 1e-4)
})

compare_softmax <- function(fit, x, y, alpha, w, off, standardize, grouped) {
  g <- glmnet::glmnet(x, y, family = "multinomial", alpha = alpha, lambda = fit$lambda,
                      weights = w, offset = if (any(off != 0)) off,
                      standardize = standardize, thresh = 1e-14, maxit = 1e7,
                      type.multinomial = if (grouped) "grouped" else "ungrouped")
  L <- length(g$lambda)
  expect_gt(L, 0.5 * length(fit$lambda))
  Y <- model.matrix(~ y - 1)
  s <- if (standardize) weighted_sd(x, w) else rep(1, ncol(x))
  K <- nlevels(y)
  ours <- theirs <- numeric(L)
  dp <- 0
  for (l in seq_len(L)) {
    B <- sapply(fit$beta, function(b) b[, l])
    Bg <- sapply(g$beta, function(b) as.numeric(b[, l]))
    ours[l] <- softmax_objective(fit$a0[, l], B, fit$lambda[l], alpha, x, Y, w, off, s, grouped)
    theirs[l] <- softmax_objective(g$a0[, l], Bg, fit$lambda[l], alpha, x, Y, w, off, s, grouped)
  }
  expect_true(all(ours <= theirs + 1e-9 * abs(theirs)),
              info = sprintf("largest excess %g", max((ours - theirs) / abs(theirs))))
  pg <- predict(g, x, type = "response", newoffset = if (any(off != 0)) off)
  po <- predict(fit, x, type = "prob", newoffset = if (any(off != 0)) off)
  max(abs(po[, , 1:L] - pg))
}

test_that("softmax_path (ungrouped and grouped) matches or beats glmnet's objective", {
  skip_if_not_installed("glmnet")
  d <- make_softmax()
  for (grouped in c(FALSE, TRUE)) {
    fit <- softmax_path(d$x, d$y, grouped = grouped, nlambda = 25)
    expect_s3_class(fit, c("softmax_path", "xentropy_path"))
    expect_true(all(fit$kkt <= 1e-6))
    expect_lt(compare_softmax(fit, d$x, d$y, 1, rep(1, d$n), matrix(0, d$n, d$K), TRUE,
                              grouped), 1e-5)
    # glmnet's default sequence
    g <- glmnet::glmnet(d$x, d$y, family = "multinomial", nlambda = 25,
                        type.multinomial = if (grouped) "grouped" else "ungrouped")
    expect_equal(fit$lambda[1], g$lambda[1], tolerance = 1e-8)
  }
})

test_that("softmax_path: weights, offsets, elastic net, unstandardised and sparse x", {
  skip_if_not_installed("glmnet")
  skip_if_not_installed("Matrix")
  d <- make_softmax(n = 250, p = 15, seed = 8)
  set.seed(9)
  w <- runif(d$n, 0.3, 2)
  off <- matrix(rnorm(d$n * d$K, sd = 0.3), d$n, d$K)
  fit <- softmax_path(d$x, d$y, weights = w, offset = off, alpha = 0.6, nlambda = 15)
  expect_lt(compare_softmax(fit, d$x, d$y, 0.6, w, off, TRUE, FALSE), 1e-5)
  fit <- softmax_path(d$x, d$y, standardize = FALSE, grouped = TRUE, alpha = 0.8, nlambda = 15)
  expect_lt(compare_softmax(fit, d$x, d$y, 0.8, rep(1, d$n), matrix(0, d$n, d$K), FALSE, TRUE),
            1e-5)
  xs <- d$x
  xs[abs(xs) < 1] <- 0
  xs <- Matrix::Matrix(xs, sparse = TRUE)
  # sparse columns are not centred in the softmax solver (the intercept absorbs the
  # centring, so an update touches only a column's non-zeros), dense ones are: the same
  # problem by different arithmetic, so the two agree to within the certificate; at
  # kkt_tol = 1e-9 that is far below 1e-8
  ctl <- list(kkt_tol = 1e-9)
  for (grouped in c(FALSE, TRUE)) {
    fs <- softmax_path(xs, d$y, weights = w, grouped = grouped, nlambda = 15, control = ctl)
    fd <- softmax_path(as.matrix(xs), d$y, weights = w, grouped = grouped, lambda = fs$lambda,
                       control = ctl)
    expect_equal(fs$beta, fd$beta, tolerance = 1e-8)
    expect_equal(fs$a0, fd$a0, tolerance = 1e-8)
  }
})

test_that("coef() interpolates linearly in lambda and predict() gives links, probabilities, classes", {
  d <- make_binary(n = 200, p = 10, seed = 10)
  fit <- logistic_path(d$x, factor(d$y, labels = c("no", "yes")), nlambda = 20)
  cf <- coef(fit)
  expect_equal(dim(cf), c(11L, length(fit$lambda)))
  expect_equal(rownames(cf)[1], "(Intercept)")
  expect_equal(colnames(cf)[1:2], c("s0", "s1"))
  s <- mean(fit$lambda[5:6])
  expect_equal(drop(coef(fit, s = s)), (cf[, 5] + cf[, 6]) / 2, ignore_attr = TRUE)
  expect_equal(drop(coef(fit, s = fit$lambda[7])), cf[, 7], ignore_attr = TRUE)
  link <- predict(fit, d$x[1:4, ], s = s)
  expect_equal(drop(link), drop(cbind(1, d$x[1:4, ]) %*% coef(fit, s = s)), ignore_attr = TRUE)
  expect_equal(predict(fit, d$x[1:4, ], s = s, type = "prob"), plogis(link))
  expect_equal(drop(predict(fit, d$x[1:4, ], s = s, type = "class")),
               ifelse(drop(link) > 0, "yes", "no"), ignore_attr = TRUE)
  sp <- softmax_path(Species ~ ., data = iris, nlambda = 10)
  expect_named(coef(sp), levels(iris$Species))
  pr <- predict(sp, iris[c(1, 51, 101), ], type = "prob")
  expect_equal(dim(pr), c(3L, 3L, length(sp$lambda)))
  expect_equal(unname(apply(pr, c(1, 3), sum)), matrix(1, 3, length(sp$lambda)))
  expect_equal(unname(predict(sp, iris[c(1, 51, 101), ], type = "class")[, 10]),
               c("setosa", "versicolor", "virginica"))
})

test_that("print, plot and autoplot of a path", {
  d <- make_binary(n = 150, p = 8, seed = 11)
  fit <- logistic_path(d$x, d$y, nlambda = 8)
  out <- capture.output(print(fit))
  expect_true(any(grepl("%Dev", out)))
  expect_true(any(grepl("KKT", out)))
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit))
  skip_if_not_installed("ggplot2")
  expect_s3_class(ggplot2::autoplot(fit), "ggplot")
})

test_that("a lambda that cannot reach the KKT tolerance is reported with a classed warning", {
  d <- make_binary(n = 200, p = 20, seed = 12)
  expect_warning(fit <- logistic_path(d$x, d$y, nlambda = 10,
                                      control = list(maxit = 1, kkt_tol = 1e-12)),
                 class = "xentropy_warning_convergence")
  expect_false(all(fit$converged))
})

test_that("bad inputs get errors naming the argument", {
  d <- make_binary(n = 50, p = 5, seed = 13)
  x <- d$x
  y <- d$y
  expect_error(logistic_path(x, y, alpha = 1.5), "`alpha`", class = "xentropy_error_value")
  expect_error(logistic_path(x, y, alpha = -0.1), "`alpha`", class = "xentropy_error_value")
  expect_error(logistic_path(x, y, lambda = c(0.01, 0.1)), "`lambda` must be strictly decreasing",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, y, penalty_factor = c(1, 1, -1, 1, 1)), "`penalty_factor`",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, y, penalty_factor = c(1, 1)), "`penalty_factor`",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, y, weights = rep(1, 3)), "`weights`", class = "xentropy_error")
  expect_error(logistic_path(x, y, offset = rep(0, 3)), "`offset`", class = "xentropy_error_value")
  x2 <- x
  x2[3, 2] <- NA
  expect_error(logistic_path(x2, y), "`x` must be finite", class = "xentropy_error_value")
  expect_error(logistic_path(x, y, control = list(tol = 1)), "unknown element `tol`",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, y, control = list(kkt_tol = -1)), "control\\$kkt_tol",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, factor(sample(letters[1:3], 50, TRUE))), "two-level",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, y[-1]), "`y`", class = "xentropy_error_value")
  expect_error(logistic_path(as.data.frame(x), y), "`x` must be a numeric matrix",
               class = "xentropy_error_type")
  skip_if_not_installed("Matrix")
  expect_error(logistic_path(as(Matrix::Matrix(x, sparse = TRUE), "TsparseMatrix"), y),
               "dgTMatrix", class = "xentropy_error_type")
  expect_error(logistic_path(Matrix::Matrix(x), y), "Matrix::dgCMatrix",
               class = "xentropy_error_type")
  expect_error(softmax_path(x, y), "factor", class = "xentropy_error_type")
  expect_error(logistic_path(x, rep(1, 50)), "both classes", class = "xentropy_error_value")
  expect_error(logistic_path(x, factor(rep("a", 50), levels = c("a", "b"))), "both classes",
               class = "xentropy_error_value")
  # a class seen only on rows of weight zero (its intercept would be infinite)
  w0 <- ifelse(y == 1, 0, 1)
  expect_error(logistic_path(x, y, weights = w0), "\"1\" only on rows", class = "xentropy_error_value")
  yc <- factor(rep(c("a", "b", "c"), length.out = 50))
  expect_error(softmax_path(x, yc, weights = as.numeric(yc != "c")), "\"c\" only on rows",
               class = "xentropy_error_value")
  expect_error(logistic_path(x, y, family = "binomial"), "Unknown argument `family`",
               class = "xentropy_error")
  expect_error(logistic_path(x, y, lambda = c(0.1, -1)), "`lambda`", class = "xentropy_error_value")
  expect_error(softmax_path(x, factor(sample(c("a", "b", "c"), 50, TRUE), levels = c("a", "b", "c", "d"))),
               "no observations of \"d\"", class = "xentropy_error_value")
})

test_that("cv_path's cross-entropy curve is cv.glmnet's deviance / 2 with the same folds", {
  skip_if_not_installed("glmnet")
  d <- make_binary(n = 300, p = 20, seed = 14)
  set.seed(15)
  foldid <- sample(rep(1:5, length.out = d$n))
  w <- runif(d$n, 0.5, 1.5)
  fit <- logistic_path(d$x, d$y, weights = w, nlambda = 20)
  cv <- cv_path(fit, foldid = foldid)
  g <- glmnet::cv.glmnet(d$x, d$y, family = "binomial", weights = w, lambda = fit$lambda,
                         foldid = foldid, type.measure = "deviance", thresh = 1e-14)
  L <- length(g$lambda)
  expect_equal(cv$cvm[1:L], g$cvm / 2, tolerance = 1e-5)
  expect_equal(cv$cvsd[1:L], g$cvsd / 2, tolerance = 1e-4)
  expect_equal(cv$lambda_min, g$lambda.min)
  expect_equal(cv$lambda_1se, g$lambda.1se)
  expect_equal(coef(cv, s = "lambda_min"), coef(fit, s = cv$lambda_min))
  expect_equal(predict(cv, d$x[1:3, ], s = "lambda_1se", type = "prob"),
               predict(fit, d$x[1:3, ], s = cv$lambda_1se, type = "prob"))
  out <- capture.output(print(cv))
  expect_true(any(grepl("1se", out)))
  # misclassification agrees with cv.glmnet's class error
  cvc <- cv_path(fit, foldid = foldid, measure = "misclassification")
  gc <- glmnet::cv.glmnet(d$x, d$y, family = "binomial", weights = w, lambda = fit$lambda,
                          foldid = foldid, type.measure = "class", thresh = 1e-14)
  expect_equal(cvc$cvm[1:L], gc$cvm, tolerance = 1e-8)
})

test_that("cv_path for softmax paths, and its plots", {
  skip_if_not_installed("glmnet")
  d <- make_softmax(n = 240, p = 10, seed = 16)
  set.seed(17)
  foldid <- sample(rep(1:4, length.out = d$n))
  fit <- softmax_path(d$x, d$y, grouped = TRUE, nlambda = 15)
  cv <- cv_path(fit, foldid = foldid)
  g <- glmnet::cv.glmnet(d$x, d$y, family = "multinomial", type.multinomial = "grouped",
                         lambda = fit$lambda, foldid = foldid, thresh = 1e-14)
  L <- length(g$lambda)
  expect_equal(cv$cvm[1:L], g$cvm / 2, tolerance = 1e-5)
  for (m in c("brier", "calibration_error")) {
    cvm <- cv_path(fit, foldid = foldid, measure = m)
    expect_true(all(is.finite(cvm$cvm)) && all(cvm$cvm >= 0))
  }
  expect_named(coef(cv), levels(d$y))
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(cv))
  skip_if_not_installed("ggplot2")
  expect_s3_class(ggplot2::autoplot(cv), "ggplot")
  expect_error(cv_path(fit, foldid = 1:2), "`foldid`", class = "xentropy_error_value")
})

test_that("intercept = FALSE with standardize = TRUE scales as glmnet (variance, no centring)", {
  skip_if_not_installed("glmnet")
  set.seed(18)
  x <- matrix(rnorm(200 * 12, mean = 1), 200, 12)
  y <- rbinom(200, 1, plogis(x[, 1] - x[, 2]))
  fit <- logistic_path(x, y, intercept = FALSE, nlambda = 15)
  g <- glmnet::glmnet(x, y, family = "binomial", intercept = FALSE, lambda = fit$lambda,
                      thresh = 1e-14)
  expect_equal(unname(fit$beta), unname(as.matrix(g$beta)), tolerance = 1e-5)
  expect_true(all(fit$a0 == 0))
})

test_that("grouped softmax's KKT certificate holds when recomputed, also near separation", {
  # iris: setosa is separable, where glmnet's grouped path stops with an error
  x <- as.matrix(iris[, 1:4])
  fit <- softmax_path(x, iris$Species, grouped = TRUE, nlambda = 40)
  expect_true(all(fit$converged))
  Y <- model.matrix(~ iris$Species - 1)
  n <- nrow(x)
  s <- weighted_sd(x, rep(1, n))
  z <- sweep(sweep(x, 2, colMeans(x)), 2, s, "/")
  for (l in seq_along(fit$lambda)) {
    lam <- fit$lambda[l]
    B <- sapply(fit$beta, function(b) b[, l])
    eta <- x %*% B + matrix(fit$a0[, l], n, 3, byrow = TRUE)
    P <- exp(eta - apply(eta, 1, max))
    P <- P / rowSums(P)
    G <- crossprod(z, (P - Y) / n)              # 4 x 3: gradient wrt standardised coefs
    Bs <- B * s
    v <- vapply(1:4, function(j) {
      nb <- sqrt(sum(Bs[j, ]^2))
      if (nb > 0) sqrt(sum((G[j, ] + lam * Bs[j, ] / nb)^2)) else max(0, sqrt(sum(G[j, ]^2)) - lam)
    }, 0)
    expect_lt(max(v, abs(colSums(P - Y) / n)) / lam, 1.01e-6)
    # the grouped optimum has each feature's coefficients summing to zero
    expect_lt(max(abs(rowSums(B))), 1e-8)
  }
})

test_that("the formula interface equals the matrix interface", {
  d <- make_softmax(n = 150, p = 4, seed = 19)
  df <- data.frame(d$x, y = d$y)
  f1 <- softmax_path(y ~ ., data = df, nlambda = 10)
  f2 <- softmax_path(d$x, d$y, lambda = f1$lambda)
  expect_equal(unname(f1$a0), unname(f2$a0))
  expect_equal(lapply(f1$beta, unname), lapply(f2$beta, unname))
  expect_equal(unname(predict(f1, df[1:5, ], type = "prob")),
               unname(predict(f2, d$x[1:5, ], type = "prob")))
  expect_error(logistic_path(y ~ X1, data = d$x), "`data`", class = "xentropy_error")
})

test_that("zero weights drop rows exactly, and NA in a sparse x is refused", {
  d <- make_binary(n = 200, p = 10, seed = 20)
  w <- rep(1, d$n)
  w[1:50] <- 0
  f1 <- logistic_path(d$x, d$y, weights = w, nlambda = 15)
  f2 <- logistic_path(d$x[-(1:50), ], d$y[-(1:50)], lambda = f1$lambda)
  expect_equal(f1$beta, f2$beta, tolerance = 1e-8)
  expect_equal(f1$a0, f2$a0, tolerance = 1e-8)
  skip_if_not_installed("Matrix")
  xs <- Matrix::Matrix(d$x, sparse = TRUE)
  xs@x[7] <- NaN
  expect_error(logistic_path(xs, d$y), "`x` must be finite", class = "xentropy_error_value")
})

test_that("paths are identical for any number of threads", {
  d <- make_binary(n = 300, p = 40, seed = 21)
  old <- xentropy_threads(1)
  on.exit(xentropy_threads(old))
  f1 <- logistic_path(d$x, d$y, nlambda = 15)
  xentropy_threads(2)
  f2 <- logistic_path(d$x, d$y, nlambda = 15)
  expect_identical(f1$beta, f2$beta)
  expect_identical(f1$kkt, f2$kkt)
  # long columns (n >= 8192): each coordinate's row blocks are shared among the
  # threads, and the exact step's Hessian products too; block sums are added in
  # block order, so the paths are still identical
  set.seed(22)
  n <- 9000
  x <- matrix(rnorm(n * 6), n, 6)
  yb <- factor(runif(n) < plogis(x[, 1] - x[, 2]))
  ys <- factor(max.col(cbind(x[, 1], x[, 2], -x[, 1]) + matrix(rnorm(3 * n), n)))
  xentropy_threads(1)
  b1 <- logistic_path(x, yb, nlambda = 8)
  s1 <- softmax_path(x, ys, nlambda = 8)
  xentropy_threads(2)
  b2 <- logistic_path(x, yb, nlambda = 8)
  s2 <- softmax_path(x, ys, nlambda = 8)
  expect_identical(b1$beta, b2$beta)
  expect_identical(b1$a0, b2$a0)
  expect_identical(s1$beta, s2$beta)
  expect_identical(s1$kkt, s2$kkt)
  expect_true(all(b2$kkt <= 1e-6) && all(s2$kkt <= 1e-6))
})

test_that("ill-conditioned softmax paths (forensic glass) are certified at every lambda", {
  skip_if_not_installed("MASS")
  x <- as.matrix(MASS::fgl[, 1:9])  # oxide percentages: nearly collinear columns
  for (grouped in c(FALSE, TRUE)) {
    fit <- softmax_path(x, MASS::fgl$type, nlambda = 30, grouped = grouped)
    expect_true(all(fit$converged))
    expect_true(all(fit$kkt <= 1e-6))
  }
})

test_that("a constant column stays out when the normalised weights do not sum to 1 exactly", {
  # with these weights, sum(w / sum(w)) is 1 - 1.1e-16 in double: the variance of the
  # constant column, inferred from the unstored weight 1 - sum, was 1.1e-16 * 25 and
  # the column entered the model (the binary ridge path gave it -0.25)
  x <- cbind(c(0.3, -1.2, 0.8, 2.1, -0.4, 1.5, -0.9), 5)
  w <- c(2, 3, 1, 3, 3, 1, 1)
  y <- c(1, 0, 1, 1, 0, 0, 1)
  for (alpha in c(0, 0.5, 1)) {
    f <- logistic_path(x, y, weights = w, alpha = alpha, nlambda = 5)
    expect_equal(unname(f$beta[2, ]), rep(0, length(f$lambda)), tolerance = 0)
    s <- softmax_path(x, factor(y), weights = w, alpha = alpha, nlambda = 5)
    for (k in 1:2) expect_equal(unname(s$beta[[k]][2, ]), rep(0, length(s$lambda)), tolerance = 0)
  }
  # no weights at all: seven times 1/7 is not 1 in double either (a column of ones
  # beside the intercept got -19 on the ridge path)
  x1 <- cbind(x[, 1], 1)
  for (alpha in c(0, 0.5)) {
    f <- logistic_path(x1, y, alpha = alpha, nlambda = 5)
    expect_equal(unname(f$beta[2, ]), rep(0, length(f$lambda)), tolerance = 0)
  }
  skip_if_not_installed("Matrix")
  xs <- methods::as(Matrix::Matrix(x, sparse = TRUE), "generalMatrix")
  s <- softmax_path(xs, factor(y), weights = w, alpha = 0, nlambda = 5)
  for (k in 1:2) expect_equal(unname(s$beta[[k]][2, ]), rep(0, length(s$lambda)), tolerance = 0)
  # and the remaining column's fit is the one without the constant column
  f <- logistic_path(x, y, weights = w, alpha = 0, nlambda = 5)
  f1 <- logistic_path(x[, 1, drop = FALSE], y, weights = w, alpha = 0, lambda = f$lambda)
  expect_equal(unname(f$beta[1, ]), unname(f1$beta[1, ]), tolerance = 1e-8)
})

test_that("a ridge path's certificate is relative to the gradient, not to lambda = 1000 ||g(0)||", {
  # unstandardised x of size 1e6, two rows: at the top of a ridge path lambda is 4.8e8
  # and a KKT violation of 1e-6 lambda allowed an objective 1e-4 above the optimum
  y <- factor(c("a", "b"))
  off <- cbind(c(-1.2364654550328726, 1.9999916553533694), c(1.4666666665579982, -2))
  lam <- 483077972.33169305
  x <- cbind(c(-1e6, 0), 0)
  obj <- function(th) {
    softmax_objective(c(-th[1], th[1]), cbind(c(-th[2], 0), c(th[2], 0)), lam, 0, x,
                      diag(2), c(1, 1), off, c(1, 1), FALSE)
  }
  # the optimum, found independently (two free parameters: the problem is symmetric)
  o <- stats::optim(c(4.4, 8.2e-6), obj, method = "BFGS",
                    control = list(reltol = 1e-16, parscale = c(1, 1e-6), maxit = 1000))
  skip_if_not_installed("Matrix")
  xs <- Matrix::sparseMatrix(i = 1, j = 1, x = -1e6, dims = c(2, 2))
  for (xx in list(x, xs)) {
    s <- softmax_path(xx, y, offset = off, alpha = 0, standardize = FALSE, lambda = lam)
    expect_true(s$converged)
    B <- cbind(s$beta[[1]][, 1], s$beta[[2]][, 1])
    f <- softmax_objective(s$a0[, 1], B, lam, 0, x, diag(2), c(1, 1), off, c(1, 1), FALSE)
    expect_lte(f, o$value * (1 + 1e-9))
    expect_equal(f, o$value, tolerance = 1e-9)
  }
})

test_that("unpenalised columns that separate the classes give glm's separation warning", {
  # the classes of the warnings a call raises (it also warns that the iteration limit was
  # reached: the coefficients grow until the gradient is below the tolerance)
  warnings_of <- function(expr) {
    got <- list()
    withCallingHandlers(expr, warning = function(w) {
      got[[length(got) + 1L]] <<- w
      invokeRestart("muffleWarning")
    })
    got
  }
  has <- function(ws, cls) any(vapply(ws, inherits, logical(1), cls))
  set.seed(11)
  n <- 60
  x1 <- rnorm(n)
  x <- cbind(x1, matrix(rnorm(n * 3), n))
  pf <- c(0, 1, 1, 1)
  y <- as.integer(x1 > 0)
  # glm itself warns on the unpenalised part alone
  g <- warnings_of(stats::glm(y ~ x1, family = stats::binomial()))
  expect_true(any(grepl("numerically 0 or 1", vapply(g, conditionMessage, ""))))
  w <- warnings_of(logistic_path(x, y, penalty_factor = pf, nlambda = 5))
  expect_true(has(w, "xentropy_warning_separation"))
  sep <- w[vapply(w, inherits, logical(1), "xentropy_warning_separation")][[1]]
  expect_match(conditionMessage(sep), "the intercept and the unpenalised columns")
  cls <- cut(x1, c(-Inf, -0.5, 0.5, Inf))
  expect_true(has(warnings_of(softmax_path(x, cls, penalty_factor = pf, nlambda = 5)),
                  "xentropy_warning_separation"))
  skip_if_not_installed("Matrix")
  xs <- methods::as(Matrix::Matrix(x, sparse = TRUE), "generalMatrix")
  expect_true(has(warnings_of(logistic_path(xs, y, penalty_factor = pf, nlambda = 5)),
                  "xentropy_warning_separation"))
})

test_that("no separation warning where the minimum exists", {
  set.seed(12)
  n <- 200
  x1 <- rnorm(n)
  x <- cbind(x1, matrix(rnorm(n * 3), n))
  y <- rbinom(n, 1, stats::plogis(2 * x1))
  # overlapping classes with an unpenalised column
  expect_no_warning(logistic_path(x, y, penalty_factor = c(0, 1, 1, 1), nlambda = 10))
  # classes separated by penalised columns only: the penalty bounds them
  expect_no_warning(logistic_path(x, as.integer(x1 > 0), nlambda = 10))
  # no free parameter: an extreme offset alone is not separation
  expect_no_warning(logistic_path(x, y, offset = rep(50, n), intercept = FALSE, nlambda = 5))
})

test_that("deviances are glm's for proportions: from the saturated model, as glmnet's", {
  set.seed(3)
  n <- 100
  x <- matrix(rnorm(n * 4), n)
  pr <- c(0, 1, runif(n - 2))
  w <- rep(c(1, 2, 0.5, 3), length.out = n)
  fit <- logistic_path(x, pr, weights = w, nlambda = 5)
  # the null model is the weighted mean; the saturated model fits each row exactly
  xlogx <- function(a, b) ifelse(a > 0, a * log(a / b), 0)
  ybar <- sum(w * pr) / sum(w)
  null_dev <- 2 * sum(w * (xlogx(pr, ybar) + xlogx(1 - pr, 1 - ybar)))
  expect_equal(fit$null_deviance, null_dev, tolerance = 1e-12)
  for (l in seq_along(fit$lambda)) {
    mu <- plogis(fit$a0[l] + drop(x %*% fit$beta[, l]))
    expect_equal(fit$deviance[l], 2 * sum(w * (xlogx(pr, mu) + xlogx(1 - pr, 1 - mu))),
                 tolerance = 1e-12)
  }
  expect_equal(fit$dev_ratio, 1 - fit$deviance / fit$null_deviance, tolerance = 1e-14)
  expect_equal(unname(deviance(fit)), fit$deviance, tolerance = 0)
  expect_named(deviance(fit), paste0("s", seq_along(fit$lambda) - 1L))
  expect_equal(nobs(fit), n)
  # and glm's deviance for the unpenalised fit (a lambda far below lambda_max)
  g <- suppressWarnings(stats::glm(pr ~ x, family = stats::binomial(), weights = w))
  f0 <- logistic_path(x, pr, weights = w, lambda = 1e-7, standardize = FALSE)
  expect_equal(f0$null_deviance, g$null.deviance, tolerance = 1e-10)
  expect_equal(f0$deviance, g$deviance, tolerance = 1e-6)
  skip_if_not_installed("glmnet")
  gn <- glmnet::glmnet(x, cbind(1 - pr, pr), family = "binomial", weights = w,
                       lambda = fit$lambda, thresh = 1e-14)
  expect_equal(fit$null_deviance, gn$nulldev, tolerance = 1e-10)
  expect_equal(fit$dev_ratio, gn$dev.ratio, tolerance = 1e-6)
})

test_that("a constant column is found exactly, whatever the rounding of its mean", {
  # the mean of 150 ones weighted 1/150 is off by about 20 eps, which the variance
  # threshold did not cover: the column entered with a coefficient of -1.3e7
  skip_if_not_installed("Matrix")
  for (n in c(150, 173, 211)) {
    set.seed(n)
    x <- cbind(rnorm(n), rnorm(n), 1)
    y <- rbinom(n, 1, plogis(x[, 1]))
    xs <- methods::as(Matrix::Matrix(x, sparse = TRUE), "generalMatrix")
    for (alpha in c(0, 1)) {
      ref <- logistic_path(x[, 1:2], y, alpha = alpha, nlambda = 8)
      for (xx in list(x, xs)) {
        f <- logistic_path(xx, y, alpha = alpha, lambda = ref$lambda)
        expect_true(all(f$converged))
        expect_equal(unname(f$beta[3, ]), rep(0, length(ref$lambda)), tolerance = 0)
        expect_equal(unname(f$beta[1:2, ]), unname(ref$beta), tolerance = 1e-8)
        expect_equal(f$a0, ref$a0, tolerance = 1e-8)
      }
    }
    k <- cut(x[, 1] + rnorm(n), 3)
    ref <- softmax_path(x[, 1:2], k, alpha = 0, nlambda = 5)
    f <- softmax_path(x, k, alpha = 0, lambda = ref$lambda)
    for (cl in levels(k)) {
      expect_equal(unname(f$beta[[cl]][3, ]), rep(0, length(ref$lambda)), tolerance = 0)
      expect_equal(unname(f$beta[[cl]][1:2, ]), unname(ref$beta[[cl]]), tolerance = 1e-8)
    }
  }
})

test_that("the default sequence stops where glmnet's does (deviance ratio gain < 1e-5)", {
  skip_if_not_installed("glmnet")
  set.seed(1)
  n <- 150
  x <- matrix(rnorm(n * 6), n, 6)
  y <- rbinom(n, 1, plogis(x[, 1]))
  g <- glmnet::glmnet(x, y, family = "binomial", thresh = 1e-14)
  f <- logistic_path(x, y)
  expect_equal(length(f$lambda), length(g$lambda))
  expect_equal(f$lambda, g$lambda, tolerance = 1e-8)
  k <- cut(x[, 1] + x[, 2] + rnorm(n), 3)
  g <- glmnet::glmnet(x, k, family = "multinomial", thresh = 1e-14)
  f <- softmax_path(x, k)
  expect_equal(length(f$lambda), length(g$lambda))
})

test_that("cv_path: a fold of weight 0 counts for nothing; proportions score the expected error", {
  skip_if_not_installed("glmnet")
  set.seed(1)
  n <- 60
  x <- matrix(rnorm(n * 3), n, 3)
  y <- rbinom(n, 1, plogis(x[, 1]))
  fid <- rep(1:4, length.out = n)
  w <- ifelse(fid == 4, 0, 1)
  fit <- logistic_path(x, y, weights = w, nlambda = 10)
  cv <- cv_path(fit, foldid = fid)
  expect_true(all(is.finite(cv$cvm)) && all(is.finite(cv$cvsd)))
  g <- glmnet::cv.glmnet(x, y, weights = w, foldid = fid, lambda = fit$lambda,
                         family = "binomial", thresh = 1e-14)
  expect_equal(cv$cvm, g$cvm / 2, tolerance = 1e-6)
  expect_equal(cv$cvsd, g$cvsd / 2, tolerance = 1e-5)
  expect_equal(cv$lambda_min, g$lambda.min)
  expect_equal(cv$lambda_1se, g$lambda.1se)
  # proportions: misclassification is cv.glmnet's "class", y1 (p > 1/2) + y2 (p <= 1/2)
  set.seed(6)
  n <- 200
  x <- matrix(rnorm(n * 8), n, 8)
  pr <- plogis(x[, 1] + rnorm(n))
  fid <- sample(rep(1:5, length.out = n))
  fit <- logistic_path(x, pr, nlambda = 30)
  cv <- cv_path(fit, foldid = fid, measure = "misclassification")
  g <- glmnet::cv.glmnet(x, cbind(1 - pr, pr), family = "binomial", lambda = fit$lambda,
                         foldid = fid, type.measure = "class", thresh = 1e-14)
  expect_equal(cv$cvm, g$cvm, tolerance = 1e-8)
  # coef() and predict() at given s name their columns as glmnet does
  expect_identical(colnames(coef(fit, s = c(0.1, 0.01))), c("s1", "s2"))
  expect_identical(colnames(coef(fit))[1:2], c("s0", "s1"))
})

test_that("predict(newoffset =) must have one offset per new row (and class)", {
  set.seed(1)
  x <- matrix(rnorm(200), 40, 5)
  y <- rbinom(40, 1, 0.5)
  f <- logistic_path(x, y, nlambda = 5)
  expect_error(predict(f, x[1:2, ], s = 0.01, newoffset = c(5, 5, 5)),
               class = "xentropy_error_value", regexp = "`newoffset` must be a vector of 2")
  expect_error(predict(f, x[1:2, ], s = 0.01, newoffset = c(5, NA)), "`newoffset`")
  # given, it is added (glmnet would ignore it on a path fitted without an offset)
  expect_equal(predict(f, x[1:2, ], s = 0.01, newoffset = c(5, 5)),
               predict(f, x[1:2, ], s = 0.01) + 5, tolerance = 1e-15)
  k <- factor(rep(c("a", "b", "c"), length.out = 40))
  fs <- softmax_path(x, k, nlambda = 5)
  expect_error(predict(fs, x[1:2, ], s = 0.01, newoffset = c(1, 2)),
               class = "xentropy_error_value", regexp = "a 2 x 3 matrix")
  expect_equal(dim(predict(fs, x[1:2, ], s = 0.01, newoffset = matrix(0, 2, 3))), c(2L, 3L, 1L))
})

test_that("softmax lasso with an even K reports glmnet's coefficients (median interval midpoint)", {
  set.seed(3)
  n <- 300
  x <- matrix(rnorm(n * 6), n, 6)
  y <- factor(apply(exp(x %*% matrix(rnorm(24), 6, 4)), 1,
                    function(p) sample(letters[1:4], 1, prob = p)))
  fx <- softmax_path(x, y, nlambda = 30)
  # each feature's 4 coefficients have their two middle values symmetric about 0
  for (l in seq_along(fx$lambda)) {
    B <- sapply(fx$beta, function(M) M[, l])
    mid <- apply(B, 1, function(b) mean(sort(b)[2:3]))
    expect_equal(unname(mid), rep(0, nrow(B)), tolerance = 1e-12)
  }
  skip_if_not_installed("glmnet")
  fg <- glmnet::glmnet(x, y, family = "multinomial", lambda = fx$lambda, thresh = 1e-14)
  for (k in levels(y)) {
    expect_equal(unname(coef(fx)[[k]]), unname(as.matrix(coef(fg)[[k]])), tolerance = 1e-5)
  }
})

test_that("the formula interface builds its model frame as glm does", {
  set.seed(1)
  n <- 200
  d <- data.frame(x1 = rnorm(n), x2 = rnorm(n), o = rnorm(n),
                  g = factor(sample(c("a", "b", "c"), n, TRUE)),
                  k = factor(sample(c("p", "q", "r"), n, TRUE)))
  d$y <- rbinom(n, 1, plogis(d$x1 + d$o + (d$g == "b")))
  X <- as.matrix(d[c("x1", "x2")])
  # offset() terms are used, and taken from the new data by predict()
  f <- logistic_path(y ~ x1 + x2 + offset(o), data = d, lambda = c(0.05, 0.01))
  m <- logistic_path(X, d$y, offset = d$o, lambda = c(0.05, 0.01))
  expect_equal(coef(f), coef(m), tolerance = 1e-10)
  expect_equal(unname(predict(f, d[1:3, ], s = 0.01)),
               unname(predict(m, X[1:3, ], s = 0.01, newoffset = d$o[1:3])), tolerance = 1e-12)
  expect_identical(f$call[[1L]], as.name("logistic_path"))
  # weights are evaluated in `data`, as glm's
  d$wt <- ifelse(d$g == "a", 5, 1)
  wt <- rep(1, n)
  fw <- logistic_path(y ~ x1, data = d, weights = wt, lambda = 0.01)
  expect_equal(coef(fw), coef(logistic_path(as.matrix(d[, "x1", drop = FALSE]), d$y, weights = d$wt,
                                            lambda = 0.01)), tolerance = 1e-10)
  # na.omit by default, and subset
  dn <- d
  dn$x1[3] <- NA
  expect_equal(logistic_path(y ~ x1 + x2, data = dn, nlambda = 5)$nobs, n - 1L)
  fs <- logistic_path(y ~ x1 + x2, data = d, subset = x1 > 0, lambda = 0.01)
  expect_equal(coef(fs), coef(logistic_path(X[d$x1 > 0, ], d$y[d$x1 > 0], lambda = 0.01)),
               tolerance = 1e-10)
  # a formula without an intercept fits none
  f0 <- logistic_path(y ~ 0 + x1 + g, data = d, lambda = 0.01)
  expect_equal(unname(coef(f0)[1, 1]), 0)
  expect_identical(rownames(coef(f0))[-1], c("x1", "ga", "gb", "gc"))
  expect_error(logistic_path(y ~ 0 + x1, data = d, intercept = TRUE), class = "xentropy_error_argument")
  # predict() on a data frame uses the fit's contrasts
  d2 <- d
  contrasts(d2$g) <- contr.sum(3)
  fc <- logistic_path(y ~ x1 + g, data = d2, lambda = c(0.05, 0.001))
  Xc <- model.matrix(y ~ x1 + g, d2)[, -1]
  expect_equal(suppressWarnings(predict(fc, d2[1:4, ], s = 0.001)), predict(fc, Xc[1:4, ], s = 0.001),
               tolerance = 1e-12)
  # softmax: a class prediction is NA for a row with an NA predictor
  sp <- softmax_path(k ~ x1 + g, data = d, lambda = c(0.05, 0.01))
  nd <- d[1:3, ]
  nd$x1[2] <- NA
  cl <- predict(sp, nd, s = 0.01, type = "class")
  expect_true(is.na(cl[2, 1]) && !anyNA(cl[-2, 1]))
})

test_that("cv_path() scores held-out folds of one class (rare events, leave-one-out) as cv.glmnet", {
  skip_if_not_installed("glmnet")
  set.seed(1)
  n <- 100
  x <- matrix(rnorm(n * 3), n, 3)
  y <- c(rep(1, 6), rep(0, n - 6))
  foldid <- rep(1:10, length.out = n)  # folds 7 to 10 hold no event
  fx <- logistic_path(x, y, nlambda = 10)
  cv <- cv_path(fx, foldid = foldid)
  cg <- suppressWarnings(glmnet::cv.glmnet(x, y, family = "binomial", foldid = foldid, lambda = fx$lambda,
                          thresh = 1e-14))
  expect_equal(cv$cvm, cg$cvm / 2, tolerance = 1e-6)
  expect_true(all(is.finite(cv_path(fx, foldid = seq_len(n))$cvm)))
})

test_that("without an intercept a constant column is fitted, standardised or not", {
  set.seed(1)
  n <- 200
  x <- cbind(one = 1, x1 = rnorm(n), x2 = rnorm(n))
  y <- rbinom(n, 1, plogis(-1.5 + x[, 2]))
  for (std in c(TRUE, FALSE)) {
    fx <- logistic_path(x, y, intercept = FALSE, standardize = std, penalty_factor = c(0, 1, 1),
                        lambda = c(0.05, 0.01))
    # the column of ones is an unpenalised intercept: the fitted mean is the observed one
    # (it stayed at 0 with standardize = TRUE: fitted mean 0.504 against 0.25)
    expect_equal(mean(predict(fx, x, s = 0.01, type = "prob")), mean(y), tolerance = 1e-5)
    expect_true(all(fx$converged))
  }
})

test_that("predict() on a matrix asks for `newoffset` when the formula had offset() terms", {
  set.seed(17)
  n <- 100
  d <- data.frame(x1 = rnorm(n), x2 = rnorm(n), o1 = rnorm(n, sd = 0.5))
  d$y <- rbinom(n, 1, plogis(d$x1 + d$o1))
  f <- logistic_path(y ~ x1 + x2 + offset(o1), data = d, nlambda = 8)
  X <- as.matrix(d[, c("x1", "x2")])
  # a matrix cannot carry the offset() terms: it was silently 0
  expect_error(predict(f, X[1:3, ], s = 0.02), "`newoffset`", class = "xentropy_error_value")
  expect_equal(unname(predict(f, X[1:3, ], s = 0.02, newoffset = d$o1[1:3])),
               unname(predict(f, d[1:3, ], s = 0.02)), tolerance = 1e-14)
  cv <- cv_path(f, foldid = rep(1:4, length.out = n))
  expect_error(predict(cv, X[1:3, ], s = "lambda_min"), "`newoffset`", class = "xentropy_error_value")
  expect_equal(unname(predict(cv, X[1:3, ], s = "lambda_min", newoffset = d$o1[1:3])),
               unname(predict(cv, d[1:3, ], s = "lambda_min")), tolerance = 1e-14)
})

test_that("predict() matches named columns of newx to the fit's by name", {
  set.seed(3)
  X <- matrix(rnorm(100 * 3), 100, 3, dimnames = list(NULL, c("age", "bmi", "dose")))
  y <- rbinom(100, 1, plogis(2 * X[, "age"] - X[, "dose"]))
  f <- logistic_path(X, y, nlambda = 10)
  right <- predict(f, X[1:4, ], s = 0.01)
  # permuted named columns were used by position
  expect_equal(predict(f, X[1:4, c("dose", "bmi", "age")], s = 0.01), right, tolerance = 1e-15)
  expect_equal(predict(f, unname(X[1:4, ]), s = 0.01), right, ignore_attr = TRUE,
               tolerance = 1e-15)
  new2 <- X[1:4, ]
  colnames(new2) <- c("a", "bmi", "c")
  expect_error(predict(f, new2, s = 0.01), "`newx`.*missing \"age\", \"dose\"",
               class = "xentropy_error_value")
  skip_if_not_installed("Matrix")
  S <- Matrix::Matrix(X[1:4, c("dose", "bmi", "age")], sparse = TRUE)
  expect_equal(predict(f, S, s = 0.01), right, tolerance = 1e-15)
  colnames(S) <- c("a", "b", "c")
  expect_error(predict(f, S, s = 0.01), "`newx`", class = "xentropy_error_value")
})

test_that("coef() and predict() of paths and cv paths refuse arguments they would ignore", {
  set.seed(6)
  X <- matrix(rnorm(200 * 4), 200, 4, dimnames = list(NULL, c("a", "b", "c", "d")))
  y <- rbinom(200, 1, plogis(X[, 1] - X[, 2]))
  f <- logistic_path(X, y, nlambda = 5)
  s <- sqrt(f$lambda[2] * f$lambda[3])
  expect_error(coef(f, s = s, exact = TRUE), "`exact`.*interpolate",
               class = "xentropy_error_argument")
  expect_error(predict(f, X[1:2, ], s = s, exact = TRUE), "`exact`",
               class = "xentropy_error_argument")
  expect_error(predict(f, X[1:2, ], s = 0.01, newofset = c(5, 5)), "Unknown argument `newofset`",
               class = "xentropy_error_argument")
  expect_error(coef(f, s, 1), "Unknown argument `...`", class = "xentropy_error_argument")
  cv <- cv_path(f, foldid = rep(1:4, length.out = 200))
  expect_error(coef(cv, s = "lambda_min", exact = TRUE), "`exact`",
               class = "xentropy_error_argument")
  expect_error(predict(cv, X[1:2, ], newofset = c(5, 5)), "Unknown argument `newofset`",
               class = "xentropy_error_argument")
  # what the cv methods do take is passed on
  expect_equal(predict(cv, X[1:2, ], s = "lambda_min", type = "prob", newoffset = c(1, 1)),
               predict(f, X[1:2, ], s = cv$lambda_min, type = "prob", newoffset = c(1, 1)))
  expect_equal(coef(cv), coef(f, s = cv$lambda_1se))
})

test_that("a named penalty_factor is matched to the columns of x by name", {
  set.seed(6)
  X <- matrix(rnorm(200 * 4), 200, 4, dimnames = list(NULL, c("a", "b", "c", "d")))
  y <- rbinom(200, 1, plogis(X[, 1] - X[, 2]))
  g <- logistic_path(X, y, penalty_factor = c(d = 0, c = 1, b = 1, a = 1), nlambda = 5)
  h <- logistic_path(X, y, penalty_factor = c(1, 1, 1, 0), nlambda = 5)
  # it was used by position: "a" left unpenalised instead of "d"
  expect_equal(coef(g), coef(h), tolerance = 1e-14)
  expect_equal(coef(cv_path(g, foldid = rep(1:4, 50))), coef(cv_path(h, foldid = rep(1:4, 50))),
               tolerance = 1e-14)
  expect_error(logistic_path(X, y, penalty_factor = c(a = 1, b = 1, c = 1, e = 0)),
               "`penalty_factor`.*none for \"d\"", class = "xentropy_error_value")
  expect_error(logistic_path(X, y, penalty_factor = c(a = 1, b = 1, c = 1, c = 0)),
               "`penalty_factor`", class = "xentropy_error_value")
  d <- data.frame(X, y = y)
  expect_equal(coef(logistic_path(y ~ ., data = d, penalty_factor = c(d = 0, c = 1, b = 1, a = 1),
                                  nlambda = 5)), coef(h), tolerance = 1e-14)
})

test_that("cv_path() of a sparse path loads Matrix where the folds run", {
  skip_on_cran()
  skip_if_not_installed("Matrix")
  set.seed(20)
  S <- Matrix::rsparsematrix(100, 6, 0.4)
  f <- logistic_path(S, rbinom(100, 1, 0.5), nlambda = 8)
  fid <- rep(1:4, length.out = 100)
  ref <- cv_path(f, foldid = fid)$cvm
  # a session where Matrix is not loaded (the path read from a file; a future worker):
  # `x[train, ]` was base R's `[` ("object of type 'S4' is not subsettable")
  inp <- tempfile(fileext = ".rds")
  res <- tempfile(fileext = ".rds")
  on.exit(unlink(c(inp, res)), add = TRUE)
  saveRDS(list(f = f, fid = fid), inp)
  code <- sprintf(paste0(
    "a <- readRDS('%s'); library(xentropy); stopifnot(!'Matrix' %%in%% loadedNamespaces()); ",
    "if (requireNamespace('future', quietly = TRUE)) future::plan(future::sequential); ",
    "saveRDS(cv_path(a$f, foldid = a$fid)$cvm, '%s')"), inp, res)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  status <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)),
                    env = paste0("R_LIBS=", libs), stdout = FALSE, stderr = FALSE)
  expect_equal(status, 0L)
  expect_equal(readRDS(res), ref, tolerance = 1e-14)
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  expect_equal(cv_path(f, foldid = fid)$cvm, ref, tolerance = 1e-14)
})

test_that("a softmax offset per row (a vector, an offset() term) is refused as having no effect", {
  set.seed(2)
  n <- 150
  d <- data.frame(x1 = rnorm(n), o = rnorm(n))
  d$y <- factor(sample(c("u", "v", "w"), n, TRUE))
  x <- as.matrix(d["x1"])
  for (e in list(quote(softmax_path(y ~ x1 + offset(o), data = d, nlambda = 5)),
                 quote(softmax_path(x, d$y, offset = d$o, nlambda = 5)))) {
    err <- expect_error(eval(e), class = "xentropy_error_value")
    expect_match(conditionMessage(err), "`offset` must be an n x K matrix \\(150 x 3\\)")
    expect_match(conditionMessage(err), "no effect")
    expect_identical(err$argument, "offset")
  }
  # an n x K offset is taken, by the formula method too
  M <- matrix(rnorm(n * 3), n, 3)
  fm <- softmax_path(x, d$y, offset = M, lambda = c(0.05, 0.01))
  ff <- softmax_path(y ~ x1, data = d, offset = M, lambda = c(0.05, 0.01))
  expect_equal(coef(ff), coef(fm), tolerance = 1e-12)
  expect_equal(predict(ff, d[1:3, ], s = 0.01, newoffset = M[1:3, ]),
               predict(fm, x[1:3, , drop = FALSE], s = 0.01, newoffset = M[1:3, ]),
               ignore_attr = TRUE, tolerance = 1e-12)
})

test_that("conditions from the formula methods carry the user's call, not the data", {
  set.seed(1)
  d <- data.frame(x = rnorm(200), y = factor(sample(c("a", "b", "c"), 200, TRUE)))
  e <- expect_error(logistic_path(y ~ x, data = d), "two-level", class = "xentropy_error_value")
  expect_lt(sum(nchar(deparse(conditionCall(e)))), 100)
  expect_match(paste(deparse(conditionCall(e)), collapse = ""), "y ~ x, data = d")
  e <- expect_error(softmax_path(y ~ x, data = d, alpha = 2), "`alpha`",
                    class = "xentropy_error_value")
  expect_lt(sum(nchar(deparse(conditionCall(e)))), 100)
  d2 <- data.frame(x = 1:10, z = rnorm(10), y = rep(0:1, each = 5))
  w <- expect_warning(logistic_path(y ~ x + z, data = d2, penalty_factor = c(0, 1)),
                      class = "xentropy_warning_separation")
  expect_lt(sum(nchar(deparse(conditionCall(w)))), 100)
  # the default method's arguments are matched as it matches them: by position (an
  # unnamed alpha was dropped, or an error about an argument `NA`) and partial name
  d3 <- data.frame(x1 = rnorm(200), x2 = rnorm(200), y = rbinom(200, 1, 0.5))
  X <- as.matrix(d3[1:2])
  expect_identical(logistic_path(y ~ x1 + x2, d3, 0.5)$alpha, 0.5)
  expect_equal(coef(logistic_path(y ~ x1 + x2, d3, 0.5, nlam = 5)),
               coef(logistic_path(X, d3$y, alpha = 0.5, nlambda = 5)), tolerance = 1e-12)
  expect_error(logistic_path(y ~ x1, d3, grouped = TRUE), "Unknown argument `grouped`",
               class = "xentropy_error_argument")
})

test_that("a class removed by `subset` is dropped from a factor response, as glm does", {
  f <- logistic_path(Species ~ ., data = iris, subset = Species != "setosa", lambda = c(0.05, 0.01))
  keep <- iris$Species != "setosa"
  X <- as.matrix(iris[keep, 1:4])
  y <- droplevels(iris$Species[keep])
  expect_identical(f$classes, c("versicolor", "virginica"))
  expect_equal(coef(f), coef(logistic_path(X, y, lambda = c(0.05, 0.01))), tolerance = 1e-12)
  s <- softmax_path(Species ~ ., data = iris, subset = Species != "setosa", lambda = c(0.05, 0.01))
  expect_identical(s$classes, c("versicolor", "virginica"))
  expect_equal(coef(s), coef(softmax_path(X, y, lambda = c(0.05, 0.01))), tolerance = 1e-12)
  # penalty_factor = Inf (glmnet's exclusion) is refused, saying what to do instead
  expect_error(logistic_path(X, y, penalty_factor = c(1, 1, Inf, 1)),
               "`penalty_factor`.*\"Petal.Length\".*drop it from `x`", class = "xentropy_error_value")
})

test_that("softmax lasso with an even K: the stored certificate holds for the reported coefficients", {
  # the KKT violation recomputed here from coef() (on the standardised scale) is at
  # most kkt_tol; it reached 1.37e-6 when the certificate was taken before the
  # coefficients were moved to the median interval's midpoint
  kkt_softmax <- function(fit, X, y) {
    K <- nlevels(y)
    Y <- outer(as.integer(y), seq_len(K), "==") * 1
    sx <- sqrt(colMeans(X^2) - colMeans(X)^2)
    Xc <- sweep(X, 2, colMeans(X)) / rep(sx, each = nrow(X))
    B <- coef(fit)
    vapply(seq_along(fit$lambda), function(l) {
      W <- sapply(B, function(M) M[, l])
      eta <- cbind(1, X) %*% W
      P <- exp(eta - apply(eta, 1, max))
      P <- P / rowSums(P)
      G <- crossprod(Xc, P - Y) / nrow(X)
      bs <- W[-1, , drop = FALSE] * sx
      lam <- fit$lambda[l]
      max(ifelse(bs != 0, abs(G + lam * sign(bs)), pmax(abs(G) - lam, 0))) / lam
    }, 0)
  }
  set.seed(4)
  n <- 2000
  p <- 30
  K <- 6
  X <- matrix(rnorm(n * p), n, p)
  Bt <- matrix(0, p, K)
  Bt[1:6, ] <- rnorm(6 * K)
  eta <- X %*% Bt
  P <- exp(eta - apply(eta, 1, max))
  y <- factor(apply(P / rowSums(P), 1, function(pr) sample.int(K, 1, prob = pr)), levels = 1:K)
  f <- softmax_path(X, y, nlambda = 40)
  expect_true(all(f$converged))
  expect_lte(max(kkt_softmax(f, X, y)), 1e-6 * (1 + 1e-6))
  # an unpenalised feature's coefficients are reported at mean zero, as glmnet's
  pf <- c(0, rep(1, p - 1))
  f0 <- softmax_path(X[, 1:8], y, penalty_factor = pf[1:8], nlambda = 10)
  b1 <- sapply(coef(f0), function(M) M[2, ])
  expect_equal(unname(rowMeans(b1)), rep(0, nrow(b1)), tolerance = 1e-12)
  skip_if_not_installed("glmnet")
  g0 <- glmnet::glmnet(X[, 1:8], y, family = "multinomial", penalty.factor = pf[1:8],
                       lambda = f0$lambda, thresh = 1e-14)
  for (k in levels(y)) {
    expect_equal(unname(coef(f0)[[k]]), unname(as.matrix(coef(g0)[[k]])), tolerance = 1e-5)
  }
})
