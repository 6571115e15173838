# The glm workflow around logistic_regression() and softmax_regression():
# every number compared with glm() / nnet::multinom() on real data sets.
# glm is run with a tight convergence tolerance so that its own rounding is
# below the tolerances stated here.

tight <- glm.control(epsilon = 1e-14, maxit = 100)

pima <- function() {
  skip_if_not_installed("MASS")
  d <- MASS::Pima.tr
  set.seed(7)
  d$off <- stats::rnorm(nrow(d), -3, 0.5)
  d
}

budworm <- function() {
  # Venables & Ripley's budworm dose-response table (MASS, section 7.2)
  data.frame(ldose = rep(0:5, 2),
             numdead = c(1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12, 16),
             sex = factor(rep(c("M", "F"), c(6, 6))), n = 20)
}

iris_onehot <- function() {
  m <- diag(3)[as.integer(iris$Species), ]
  dimnames(m) <- list(as.character(seq_len(150)), levels(iris$Species))
  m
}

test_that("an offset() term is used in fitting, as glm uses it (it used to be dropped)", {
  d <- pima()
  f <- logistic_regression(type ~ glu + bmi + offset(off), data = d)
  g <- glm(type ~ glu + bmi + offset(off), data = d, family = binomial, control = tight)
  expect_equal(coef(f), coef(g), tolerance = 1e-8)
  expect_equal(deviance(f), deviance(g), tolerance = 1e-10)
  expect_equal(f$null.deviance, g$null.deviance, tolerance = 1e-10)
  expect_equal(unname(f$linear.predictors), unname(g$linear.predictors), tolerance = 1e-8)
  # the offset changes the fit: the coefficients without it are far away
  f0 <- logistic_regression(type ~ glu + bmi, data = d)
  expect_gt(abs(coef(f0)[[1]] - coef(f)[[1]]), 1)
})

test_that("the offset argument, several offset() terms, and no intercept follow glm", {
  d <- pima()
  d$off2 <- d$off / 3
  f <- logistic_regression(type ~ glu + bmi + offset(off2), offset = off, data = d)
  g <- glm(type ~ glu + bmi + offset(off2), offset = off, data = d, family = binomial,
           control = tight)
  expect_equal(coef(f), coef(g), tolerance = 1e-8)
  expect_equal(f$null.deviance, g$null.deviance, tolerance = 1e-10)
  expect_equal(predict(f, d[1:7, ], type = "link"), predict(g, d[1:7, ]), tolerance = 1e-8)
  # without an intercept the null deviance is that of the offset alone
  f <- logistic_regression(type ~ 0 + glu + bmi, offset = off, data = d)
  g <- glm(type ~ 0 + glu + bmi, offset = off, data = d, family = binomial, control = tight)
  expect_equal(coef(f), coef(g), tolerance = 1e-8)
  expect_equal(f$null.deviance, g$null.deviance, tolerance = 1e-10)
  expect_equal(f$df.null, g$df.null)
  # the matrix interface takes `offset` too, and predict() needs it again
  X <- model.matrix(~ glu + bmi, d)
  fm <- logistic_regression(x = X, y = d$type, offset = d$off)
  gm <- glm(type ~ glu + bmi, offset = off, data = d, family = binomial, control = tight)
  expect_equal(unname(coef(fm)), unname(coef(gm)), tolerance = 1e-8)
  expect_error(predict(fm, X[1:3, ]), "give the new rows' `offset`", class = "xentropy_error")
  expect_equal(unname(predict(fm, X[1:3, ], offset = d$off[1:3], type = "link")),
               unname(predict(gm, d[1:3, ])), tolerance = 1e-8)
})

test_that("aliased columns get NA coefficients where glm puts them", {
  d <- pima()
  d$glu2 <- 2 * d$glu
  d$s <- d$bmi + d$age
  f <- logistic_regression(type ~ glu + glu2 + bmi + age + s, data = d)
  # glm's rank tolerance is min(1e-7, epsilon / 1000): with epsilon = 1e-14 it
  # would find no aliasing at all
  g <- glm(type ~ glu + glu2 + bmi + age + s, data = d, family = binomial,
           control = glm.control(epsilon = 1e-10))
  expect_identical(is.na(coef(f)), is.na(coef(g)))
  expect_equal(coef(f), coef(g), tolerance = 1e-8)
  expect_equal(f$rank, g$rank)
  expect_equal(df.residual(f), df.residual(g))
  expect_equal(AIC(f), AIC(g), tolerance = 1e-10)
  expect_equal(vcov(f), vcov(g), tolerance = 1e-6)
  expect_equal(dim(coef(summary(f))), c(4L, 4L))
  expect_equal(coef(summary(f))[, 1:2], coef(summary(g))[, 1:2], tolerance = 1e-6)
  expect_true(f$converged)
  expect_true(all(is.finite(coef(summary(f))[, 2])))
  expect_output(print(f), "2 coefficients not defined because of singularities: glu2, s")
})

test_that("grouped binomial responses: cbind() and proportions with weights, as glm", {
  b <- budworm()
  f <- logistic_regression(cbind(numdead, n - numdead) ~ sex + ldose, data = b)
  g <- glm(cbind(numdead, n - numdead) ~ sex + ldose, data = b, family = binomial,
           control = tight)
  expect_equal(coef(f), coef(g), tolerance = 1e-8)
  expect_equal(deviance(f), deviance(g), tolerance = 1e-10)
  expect_equal(f$null.deviance, g$null.deviance, tolerance = 1e-10)
  expect_equal(as.numeric(logLik(f)), as.numeric(logLik(g)), tolerance = 1e-10)
  expect_equal(attr(logLik(f), "df"), attr(logLik(g), "df"))
  expect_equal(AIC(f), AIC(g), tolerance = 1e-10)
  expect_equal(BIC(f), BIC(g), tolerance = 1e-10)
  expect_equal(df.residual(f), df.residual(g))
  expect_equal(unname(weights(f)), unname(weights(g)))
  fp <- logistic_regression(numdead / n ~ sex + ldose, weights = n, data = b)
  gp <- glm(numdead / n ~ sex + ldose, weights = n, data = b, family = binomial,
            control = tight)
  expect_equal(as.numeric(logLik(fp)), as.numeric(logLik(gp)), tolerance = 1e-10)
  expect_equal(as.numeric(logLik(fp)), -18.43373, tolerance = 1e-6)
  expect_equal(coef(fp), coef(f), tolerance = 1e-8)
})

test_that("residuals of every type equal glm's", {
  b <- budworm()
  f <- logistic_regression(cbind(numdead, n - numdead) ~ sex + ldose, data = b)
  g <- glm(cbind(numdead, n - numdead) ~ sex + ldose, data = b, family = binomial,
           control = tight)
  for (type in c("deviance", "pearson", "working", "response")) {
    expect_equal(residuals(f, type), residuals(g, type), tolerance = 1e-8, info = type)
  }
  expect_equal(sum(residuals(f)^2), deviance(f), tolerance = 1e-12)
  d <- pima()
  f <- logistic_regression(type ~ glu + bmi, data = d, weights = rep(1:2, 100))
  g <- glm(type ~ glu + bmi, data = d, weights = rep(1:2, 100), family = binomial,
           control = tight)
  for (type in c("deviance", "pearson", "working", "response")) {
    expect_equal(residuals(f, type), residuals(g, type), tolerance = 1e-8, info = type)
  }
  expect_error(residuals(f, "partial"), "`type` must be one of", class = "xentropy_error")
})

test_that("predict(se.fit = TRUE) gives glm's delta-method standard errors", {
  d <- pima()
  f <- logistic_regression(type ~ glu + bmi + offset(off), data = d)
  g <- glm(type ~ glu + bmi + offset(off), data = d, family = binomial, control = tight)
  nd <- d[c(3, 50, 120), ]
  for (type in c("link", "response")) {
    pf <- predict(f, nd, type = type, se.fit = TRUE)
    pg <- predict(g, nd, type = type, se.fit = TRUE)
    expect_equal(pf$fit, pg$fit, tolerance = 1e-8, info = type)
    expect_equal(pf$se.fit, pg$se.fit, tolerance = 1e-6, info = type)
    expect_equal(pf$residual.scale, 1)
  }
  # "response" is "prob" for two classes; the fitted rows too
  expect_identical(predict(f, nd, type = "response"), predict(f, nd, type = "prob"))
  expect_equal(predict(f, type = "link", se.fit = TRUE)$se.fit, predict(g, se.fit = TRUE)$se.fit,
               tolerance = 1e-6)
  expect_error(predict(f, nd, type = "class", se.fit = TRUE), "no standard errors",
               class = "xentropy_error")
})

test_that("softmax predict(se.fit = TRUE) agrees with finite differences of vcov", {
  f <- softmax_regression(Species ~ Sepal.Length, data = iris)
  nd <- iris[c(1, 60, 120), ]
  p <- predict(f, nd, type = "prob", se.fit = TRUE)
  V <- vcov(f)
  theta <- coef(f)
  prob_at <- function(v) {
    W <- rbind(0, matrix(v, 2, 2, byrow = TRUE))
    X <- cbind(1, nd$Sepal.Length)
    softmax(X %*% t(W))
  }
  v0 <- as.vector(t(theta))
  J <- vapply(seq_along(v0), function(j) {
    h <- 1e-6
    up <- v0
    dn <- v0
    up[j] <- up[j] + h
    dn[j] <- dn[j] - h
    as.vector((prob_at(up) - prob_at(dn)) / (2 * h))
  }, double(9))
  se <- matrix(sqrt(rowSums((J %*% V) * J)), 3, 3)
  expect_equal(unname(p$se.fit), se, tolerance = 1e-6)
  expect_equal(unname(rowSums(p$fit)), rep(1, 3), tolerance = 1e-14)
})

test_that("na.exclude pads fitted(), residuals() and predict() with NA, as glm", {
  d <- pima()
  d$bmi[c(3, 10)] <- NA
  f <- logistic_regression(type ~ glu + bmi, data = d, na.action = na.exclude)
  g <- glm(type ~ glu + bmi, data = d, na.action = na.exclude, family = binomial,
           control = tight)
  expect_length(fitted(f), 200L)
  expect_equal(fitted(f), fitted(g), tolerance = 1e-8)
  expect_equal(residuals(f), residuals(g), tolerance = 1e-8)
  expect_equal(predict(f, type = "link"), predict(g), tolerance = 1e-8)
  expect_true(is.na(predict(f)[3]))
  expect_equal(nobs(f), 198)
})

test_that("contrasts, model.matrix(), model.frame(), update() and x = TRUE work as in glm", {
  d <- pima()
  d$parity <- cut(d$npreg, c(-1, 0, 3, 20))
  f <- logistic_regression(type ~ glu + parity, data = d,
                           contrasts = list(parity = "contr.sum"))
  g <- glm(type ~ glu + parity, data = d, contrasts = list(parity = "contr.sum"),
           family = binomial, control = tight)
  expect_equal(coef(f), coef(g), tolerance = 1e-8)
  expect_null(f$x)
  expect_equal(model.matrix(f), model.matrix(g))
  expect_equal(model.frame(f), model.frame(g))
  expect_equal(predict(f, d[1:5, ]), predict(g, d[1:5, ], type = "response"),
               tolerance = 1e-8)
  # without the model frame, it is rebuilt from the call and the data
  f2 <- logistic_regression(type ~ glu + parity, data = d, model = FALSE,
                            contrasts = list(parity = "contr.sum"))
  expect_null(f2$model)
  expect_equal(model.matrix(f2), model.matrix(g))
  expect_equal(vcov(f2), vcov(g), tolerance = 1e-6)
  expect_equal(dim(logistic_regression(type ~ glu, data = d, x = TRUE)$x), c(200L, 2L))
  # glm's update() warns the same way: the contrast of a dropped factor is unused
  expect_warning(u <- update(f, . ~ . - parity), "'parity' is absent")
  expect_equal(coef(u), coef(glm(type ~ glu, data = d, family = binomial, control = tight)),
               tolerance = 1e-8)
  expect_equal(formula(u), type ~ glu)
})

test_that("anova() of one model and of nested models equals anova.glm", {
  d <- pima()
  f <- logistic_regression(type ~ glu + bmi + ped + age, data = d)
  g <- glm(type ~ glu + bmi + ped + age, data = d, family = binomial, control = tight)
  for (test in c("Chisq", "LRT", "Rao")) {
    a <- anova(f, test = test)
    b <- anova(g, test = test)
    expect_equal(as.data.frame(a), as.data.frame(b), tolerance = 1e-7, info = test)
  }
  expect_warning(aF <- anova(f, test = "F"), "inappropriate")
  bF <- suppressWarnings(anova(g, test = "F"))
  expect_equal(as.data.frame(aF), as.data.frame(bF), tolerance = 1e-7)
  f1 <- logistic_regression(type ~ glu, data = d)
  g1 <- glm(type ~ glu, data = d, family = binomial, control = tight)
  for (test in c("Chisq", "Rao")) {
    expect_equal(as.data.frame(anova(f1, f, test = test)),
                 as.data.frame(anova(g1, g, test = test)), tolerance = 1e-7, info = test)
  }
  expect_error(anova(f, lm(glu ~ bmi, d)), "other arguments are not models",
               class = "xentropy_error")
  expect_error(anova(f, logistic_regression(type ~ glu, data = d[-1, ])),
               "same observations", class = "xentropy_error")
})

test_that("drop1(), add1() and step() equal glm's", {
  d <- pima()
  f <- logistic_regression(type ~ glu + bmi + ped + age, data = d)
  g <- glm(type ~ glu + bmi + ped + age, data = d, family = binomial, control = tight)
  # (glm's score test is computed from its working residuals: 1e-6 apart)
  for (test in c("none", "LRT", "Rao")) {
    expect_equal(as.data.frame(drop1(f, test = test)), as.data.frame(drop1(g, test = test)),
                 tolerance = if (test == "Rao") 1e-6 else 1e-8, info = test)
  }
  f1 <- logistic_regression(type ~ glu, data = d)
  g1 <- glm(type ~ glu, data = d, family = binomial, control = tight)
  for (test in c("none", "LRT", "Rao")) {
    expect_equal(as.data.frame(add1(f1, ~ . + bmi + ped + age, test = test)),
                 as.data.frame(add1(g1, ~ . + bmi + ped + age, test = test)),
                 tolerance = if (test == "Rao") 1e-6 else 1e-8, info = test)
  }
  s <- step(logistic_regression(type ~ ., data = MASS::Pima.tr), trace = 0)
  sg <- step(glm(type ~ ., data = MASS::Pima.tr, family = binomial, control = tight),
             trace = 0)
  expect_equal(coef(s), coef(sg), tolerance = 1e-8)
  expect_equal(extractAIC(s), extractAIC(sg), tolerance = 1e-10)
  expect_error(drop1(f, scale = 2), "`scale` must be 0 or 1", class = "xentropy_error")
})

test_that("softmax: offsets, aliasing and anova compare with nnet::multinom", {
  skip_if_not_installed("nnet")
  set.seed(3)
  ir <- iris
  ir$o <- stats::rnorm(150, 0, 0.3)
  # an offset per class (a matrix) enters each class's logit
  f <- softmax_regression(Species ~ Sepal.Width, data = ir, offset = cbind(0, ir$o, -ir$o))
  X <- cbind(1, ir$Sepal.Width)
  nll <- function(v) {
    W <- cbind(0, matrix(v, 2, 2))
    -sum(log_softmax(X %*% W + cbind(0, ir$o, -ir$o))[cbind(1:150, as.integer(ir$Species))])
  }
  opt <- optim(as.vector(t(coef(f))), nll, method = "BFGS",
               control = list(reltol = 1e-15, maxit = 1000))
  expect_lte(f$loglik, -nll(as.vector(t(coef(f)))) + 1e-9)
  expect_gte(f$loglik, -opt$value - 1e-7)
  # a vector offset, added to every class, would change no probability: an error
  expect_error(softmax_regression(Species ~ Sepal.Width, data = ir, offset = o),
               class = "xentropy_error_shape", regexp = "n x K matrix")
  expect_error(softmax_regression(Species ~ Sepal.Width + offset(o), data = ir),
               class = "xentropy_error_shape")
  f0 <- softmax_regression(Species ~ Sepal.Width, data = ir)
  # aliasing: NA for every class's coefficient of the aliased column
  ir$PW2 <- 3 * ir$Sepal.Width
  fa <- softmax_regression(Species ~ Sepal.Width + PW2, data = ir)
  expect_true(all(is.na(coef(fa)[, "PW2"])))
  expect_equal(coef(fa)[, 1:2], coef(f0), tolerance = 1e-10)
  expect_equal(dim(vcov(fa)), c(6L, 6L))
  # nested models: multinom's likelihood-ratio table
  m0 <- nnet::multinom(Species ~ Sepal.Width, data = iris, trace = FALSE, reltol = 1e-14,
                       maxit = 1000)
  m1 <- nnet::multinom(Species ~ Sepal.Width + Petal.Width, data = iris, trace = FALSE,
                       reltol = 1e-14, maxit = 1000)
  s0 <- softmax_regression(Species ~ Sepal.Width, data = iris)
  # Petal.Width nearly separates setosa: probabilities within rounding of 0 or 1
  expect_warning(s1 <- softmax_regression(Species ~ Sepal.Width + Petal.Width, data = iris),
                 "numerically 0 or 1")
  a <- anova(s0, s1, test = "Chisq")
  b <- anova(m0, m1)
  expect_equal(names(a), names(b))
  expect_equal(a[["Resid. df"]], b[["Resid. df"]])
  expect_equal(a[["Resid. Dev"]], b[["Resid. Dev"]], tolerance = 1e-5)
  expect_lte(a[["Resid. Dev"]][2], b[["Resid. Dev"]][2] + 1e-8)
  expect_equal(deviance(s0), deviance(m0), tolerance = 1e-6)
  expect_equal(sum(residuals(s1)^2), deviance(s1), tolerance = 1e-10)
  expect_equal(residuals(s1, "response"), iris_onehot() - fitted(s1), tolerance = 1e-14)
  expect_error(residuals(s1, "working"), "one linear predictor", class = "xentropy_error")
})

test_that("a fit keeps no copy of the model matrix (glm's x = FALSE)", {
  set.seed(1)
  n <- 2e4
  d <- as.data.frame(matrix(stats::rnorm(n * 20), n, 20))
  d$y <- stats::rbinom(n, 1, 0.4)
  f <- logistic_regression(y ~ ., data = d, model = FALSE)
  # the data are referenced, as glm() does, not copied
  expect_identical(f$data, d)
  f$data <- NULL
  # nothing larger than one value per row: no n x p matrix
  expect_lte(max(lengths(f)), n)
  expect_lt(as.numeric(utils::object.size(f)),
            as.numeric(utils::object.size(glm(y ~ ., data = d, family = binomial))) / 3)
  expect_null(f$x)
  expect_equal(vcov(f), vcov(glm(y ~ ., data = d, family = binomial, control = tight)),
               tolerance = 1e-6)
})

test_that("arguments a model cannot honour are errors, not silently ignored", {
  d <- pima()
  expect_snapshot(error = TRUE, {
    logistic_regression(type ~ glu, data = d, offset = rep(1, 3))
    logistic_regression(type ~ glu, data = d, family = binomial)
    logistic_regression(type ~ glu, data = d, contrasts = "contr.sum")
    logistic_regression(x = cbind(1, d$glu), y = d$type, contrasts = list(a = "contr.sum"))
    softmax_regression(Species ~ Sepal.Width, data = iris, offset = matrix(0, 150, 2))
    predict(logistic_regression(type ~ glu, data = d), d, offset = 1)
    residuals(softmax_regression(Species ~ Sepal.Width, data = iris), "working")
    anova(logistic_regression(type ~ glu, data = d, lambda = 1))
    logistic_regression(cbind(numdead, -1) ~ ldose, data = budworm())
  })
})

test_that("printed output of the glm workflow", {
  b <- budworm()
  f <- logistic_regression(cbind(numdead, n - numdead) ~ sex + ldose, data = b)
  b$ld2 <- 2 * b$ldose
  expect_snapshot({
    print(logistic_regression(cbind(numdead, n - numdead) ~ sex + ldose + ld2, data = b),
          digits = 5)
    print(anova(f, test = "Chisq"), digits = 5)
    print(drop1(f, test = "LRT"), digits = 5)
  })
})

test_that("summary() and vcov() take glm's dispersion; summary has glm's components", {
  fit <- logistic_regression(am ~ wt, data = mtcars)
  g <- glm(am ~ wt, binomial, mtcars, control = glm.control(epsilon = 1e-12))
  for (disp in c(1, 4)) {
    expect_equal(vcov(fit, dispersion = disp), vcov(g, dispersion = disp), tolerance = 1e-6)
    s <- summary(fit, dispersion = disp)
    sg <- summary(g, dispersion = disp)
    expect_equal(unname(s$coefficients), unname(coef(sg)), tolerance = 1e-6)
    expect_equal(s$dispersion, disp)
    expect_equal(s$cov.unscaled, sg$cov.unscaled, tolerance = 1e-6)
    expect_equal(s$cov.scaled, sg$cov.scaled, tolerance = 1e-6)
  }
  expect_equal(unname(s$deviance.resid), unname(sg$deviance.resid), tolerance = 1e-6)
  expect_output(print(s), "Dispersion parameter taken to be 4")
  expect_error(summary(fit, dispersion = -1), class = "xentropy_error_value",
               regexp = "`dispersion`")
  expect_error(vcov(fit, dispersion = c(1, 2)), "`dispersion`")
})

test_that("anova(test = \"Cp\") is glm's (Mallows' Cp needs the number of rows)", {
  fit <- logistic_regression(am ~ wt + hp, data = mtcars)
  g <- glm(am ~ wt + hp, binomial, mtcars, control = glm.control(epsilon = 1e-12))
  expect_equal(anova(fit, test = "Cp")$Cp, anova(g, test = "Cp")$Cp, tolerance = 1e-6)
  small <- logistic_regression(am ~ wt, data = mtcars)
  gs <- glm(am ~ wt, binomial, mtcars, control = glm.control(epsilon = 1e-12))
  expect_equal(anova(small, fit, test = "Cp")$Cp, anova(gs, g, test = "Cp")$Cp, tolerance = 1e-6)
})

test_that("the null deviance follows the formula's intercept, as glm's", {
  mt <- transform(mtcars, one = 1)
  fit <- logistic_regression(am ~ 0 + one + wt, data = mt)
  g <- glm(am ~ 0 + one + wt, binomial, mt, control = glm.control(epsilon = 1e-12))
  expect_equal(fit$null.deviance, g$null.deviance, tolerance = 1e-10)
  expect_equal(fit$df.null, g$df.null)
  expect_equal(anova(fit)[1, "Resid. Dev"], fit$null.deviance, tolerance = 1e-10)
  # with the intercept in the formula nothing changes
  fit1 <- logistic_regression(am ~ wt, data = mt)
  expect_equal(fit1$null.deviance, glm(am ~ wt, binomial, mt)$null.deviance, tolerance = 1e-10)
})

test_that("predict() gives NA for a new row whose offset is NA, as glm's", {
  mt <- mtcars
  mt$lo <- log(mt$disp / 100)
  fit <- logistic_regression(am ~ wt + offset(lo), data = mt)
  g <- glm(am ~ wt + offset(lo), binomial, mt, control = glm.control(epsilon = 1e-12))
  nd <- data.frame(wt = c(2, 3, NA), lo = c(0, NA, 0))
  for (type in c("link", "response")) {
    expect_equal(unname(predict(fit, nd, type = type)), unname(predict(g, nd, type = type)),
                 tolerance = 1e-6)
  }
  expect_true(is.na(predict(fit, nd, type = "class")[2]))
})

test_that("badly conditioned designs reach the optimum (raw polynomials of a calendar year)", {
  # X'WX squares the condition number of X (here about 1e11 with unit columns):
  # Newton's equations on it gave a fit 1.6 deviance units short of the optimum,
  # reported as converged, with an infinite standard error for x
  set.seed(7)
  n <- 500
  dd <- data.frame(year = sample(1990:2020, n, TRUE), x = rnorm(n),
                   k = factor(sample(c("A", "B", "C"), n, TRUE)))
  dd$y <- rbinom(n, 1, plogis(-1 + 0.5 * sin((dd$year - 1990) / 5) + dd$x))
  f_raw <- y ~ x + poly(year, 4, raw = TRUE)
  f_orth <- y ~ x + poly(year, 4)  # the same column space, an orthogonal basis
  fx <- logistic_regression(f_raw, data = dd)
  fo <- glm(f_orth, family = binomial, data = dd, control = glm.control(epsilon = 1e-12))
  expect_true(fx$converged)
  expect_equal(deviance(fx), deviance(fo), tolerance = 1e-8)
  expect_equal(fitted(fx), fitted(fo), tolerance = 1e-6)
  expect_equal(coef(summary(fx))["x", 1:2], coef(summary(fo))["x", 1:2], tolerance = 1e-5)
  expect_equal(anova(fx, test = "Chisq")[3, "Deviance"], anova(fo, test = "Chisq")[3, "Deviance"],
               tolerance = 1e-6)
  # over chunks, as in memory
  ch <- data_chunks(unname(split(dd, rep(1:4, length.out = n))))
  fc <- logistic_regression(y ~ x + year + I(year^2) + I(year^3) + I(year^4), data = ch)
  expect_equal(deviance(fc), deviance(fo), tolerance = 1e-7)
  expect_equal(sqrt(vcov(fc)["x", "x"]), coef(summary(fo))["x", 2], tolerance = 1e-5)
  # softmax: the raw basis gave 1226.7 where the optimum is 1039.5 (x's coefficients 2e-14)
  sx <- softmax_regression(k ~ x + poly(year, 4, raw = TRUE), data = dd)
  so <- softmax_regression(k ~ x + poly(year, 4), data = dd)
  expect_equal(deviance(sx), deviance(so), tolerance = 1e-8)
  expect_equal(fitted(sx), fitted(so), tolerance = 1e-6)
  expect_equal(coef(sx)[, "x"], coef(so)[, "x"], tolerance = 1e-6)
  expect_equal(sqrt(diag(vcov(sx)))[c("B:x", "C:x")], sqrt(diag(vcov(so)))[c("B:x", "C:x")],
               tolerance = 1e-6)
  sc <- softmax_regression(k ~ x + year + I(year^2) + I(year^3) + I(year^4), data = ch)
  expect_equal(deviance(sc), deviance(so), tolerance = 1e-7)
  # standard errors of predictions (x' V x cancelled to 0 in the coefficients' basis)
  nd <- data.frame(year = c(1991, 2005, 2019), x = c(-1, 0, 1))
  expect_equal(unname(predict(fx, nd, type = "link", se.fit = TRUE)$se.fit),
               unname(predict(fo, nd, type = "link", se.fit = TRUE)$se.fit), tolerance = 1e-5)
  expect_equal(predict(sx, nd, type = "prob", se.fit = TRUE)$se.fit,
               predict(so, nd, type = "prob", se.fit = TRUE)$se.fit, tolerance = 1e-5)
  # the linear predictor is X beta, as glm's: predict() on the rows fitted gives fitted()
  expect_equal(predict(fx, dd, type = "link"), fx$linear.predictors, tolerance = 1e-12)
  expect_equal(fx$deviance, 2 * sigmoid_cross_entropy(dd$y, fx$linear.predictors, reduction = "sum"),
               tolerance = 1e-13)
})

test_that("Rao tests score at the smaller model's linear predictor when a column is aliased", {
  set.seed(1)
  n <- 200
  d <- data.frame(x1 = rnorm(n), x2 = runif(n), f = factor(sample(c("a", "b", "c"), n, TRUE)))
  d$x3 <- d$x1 + d$x2
  d$y <- rbinom(n, 1, plogis(-0.3 + 0.8 * d$x1 - d$x2))
  small <- logistic_regression(y ~ x3 + f, data = d)
  big <- logistic_regression(y ~ x1 + x2 + x3 + f, data = d)
  gs <- glm(y ~ x3 + f, binomial, d)
  gb <- glm(y ~ x1 + x2 + x3 + f, binomial, d)
  # x3 is aliased in the bigger model; the score was taken without its coefficient (29.65)
  expect_equal(anova(small, big, test = "Rao")[2, "Rao"], anova(gs, gb, test = "Rao")[2, "Rao"],
               tolerance = 1e-6)
  # terms that remove nothing (0 df) get no test, as in glm
  full <- logistic_regression(y ~ x1 + x2 + x3, data = d)
  for (test in c("Rao", "Chisq", "F")) {
    a <- suppressWarnings(drop1(full, test = test))
    expect_true(all(is.na(a[a$Df %in% 0, ncol(a)])))
  }
  expect_equal(drop1(full, test = "Rao")[["Rao score"]][-1], c(0, 0, 0), tolerance = 1e-10)
})

test_that("softmax se.fit does not depend on the class labels (labels with ':')", {
  a <- softmax_regression(Species ~ Sepal.Length, data = iris)
  ir <- iris
  ir$Species <- factor(ir$Species, labels = c("set:1", "ver:2", "vir:3"))
  b <- softmax_regression(Species ~ Sepal.Length, data = ir)
  nd <- data.frame(Sepal.Length = c(5, 6, 7))
  for (type in c("link", "prob")) {
    expect_equal(unname(predict(b, nd, type = type, se.fit = TRUE)$se.fit),
                 unname(predict(a, nd, type = type, se.fit = TRUE)$se.fit), tolerance = 1e-12)
  }
  expect_true(all(predict(b, nd, type = "link", se.fit = TRUE)$se.fit[, -1] > 0.4))
})

test_that("model.frame()/model.matrix() take data, na.action and subset as glm's do", {
  fit <- logistic_regression(am ~ wt + factor(cyl), data = mtcars)
  g <- glm(am ~ wt + factor(cyl), binomial, mtcars)
  nd <- mtcars[c("Valiant", "Fiat 128"), ]
  # (the fit's factor levels, as predict() uses them: glm drops the unused level 8)
  expect_equal(model.matrix(fit, data = nd)[, 1:3], model.matrix(g, data = nd), ignore_attr = TRUE)
  expect_equal(colnames(model.matrix(fit, data = nd)), names(coef(fit)))
  expect_equal(nrow(model.frame(fit, data = nd)), 2L)
  expect_equal(model.frame(fit, subset = mtcars$cyl == 4), model.frame(g, subset = mtcars$cyl == 4),
               ignore_attr = TRUE)
})

test_that("with model = FALSE the covariance does not follow later changes of the data", {
  set.seed(4)
  xg <- rnorm(60)
  yg <- rbinom(60, 1, plogis(xg))
  fit <- logistic_regression(yg ~ xg, model = FALSE)
  v <- vcov(fit)
  xg <- xg * 3
  expect_equal(vcov(fit), v, tolerance = 1e-14)
  expect_equal(unname(sqrt(diag(v))), unname(sqrt(diag(vcov(glm(yg ~ I(xg / 3), binomial))))),
               tolerance = 1e-5)
})

test_that("summary(correlation = TRUE), variable.names() and case.names() are glm's", {
  d <- mtcars
  d$w <- c(0, rep(1, 31))
  f <- logistic_regression(am ~ wt + hp, d, weights = w)
  g <- glm(am ~ wt + hp, binomial, d, weights = w, control = glm.control(epsilon = 1e-12))
  s <- summary(f, correlation = TRUE)
  expect_equal(s$correlation, summary(g, correlation = TRUE)$correlation, tolerance = 1e-6)
  expect_equal(diag(s$correlation), c(`(Intercept)` = 1, wt = 1, hp = 1))
  expect_output(print(s), "Correlation of Coefficients")
  expect_output(print(summary(f, correlation = TRUE, symbolic.cor = TRUE)), "legend")
  expect_null(summary(f)$correlation)
  expect_identical(variable.names(f), variable.names(g))
  expect_identical(case.names(f), case.names(g))
  expect_identical(case.names(f, full = TRUE), case.names(g, full = TRUE))
  d$wt2 <- 2 * d$wt
  fa <- logistic_regression(am ~ wt + wt2 + hp, d)
  expect_identical(variable.names(fa), c("(Intercept)", "wt", "hp"))
  expect_identical(variable.names(fa, full = TRUE), c("(Intercept)", "wt", "wt2", "hp"))
})

test_that("ridge fits on badly conditioned designs reach the optimum; softmax ridge refuses them", {
  skip_if_not_installed("Rmpfr")
  set.seed(7)
  n <- 500
  dd <- data.frame(year = sample(1990:2020, n, TRUE), x = rnorm(n),
                   k = factor(sample(c("A", "B", "C"), n, TRUE)))
  dd$y <- rbinom(n, 1, plogis(-1 + 0.5 * sin((dd$year - 1990) / 5) + dd$x))
  lam <- 1e-12
  f <- logistic_regression(y ~ x + poly(year, 4, raw = TRUE), data = dd, lambda = lam)
  X <- model.matrix(f)
  pen <- c(0, rep(1, ncol(X) - 1))
  exact_objective <- function(b) {  # in 200-bit arithmetic: X b cancels heavily
    eta <- as.vector(Rmpfr::mpfr(X, 200) %*% Rmpfr::mpfr(b, 200))
    Rmpfr::asNumeric(sum(log1p(exp(-abs(eta))) + pmax(eta, 0) - dd$y * eta) +
                       lam / 2 * sum(pen * Rmpfr::mpfr(b, 200)^2))
  }
  expect_true(f$converged)
  expect_equal(f$objective, exact_objective(coef(f)), tolerance = 1e-9)
  # Newton's equations on X'WX + lambda P (the fit before): 0.07 to 0.49 above, reported converged
  naive <- fit_binary_impl(X, as.double(dd$y), NULL, NULL, pen, lam, c(stats::qlogis(mean(dd$y)), rep(0, 5)),
                           1e-8, 100L, TRUE)
  expect_lt(f$objective, exact_objective(naive$coefficients) - 0.01)
  expect_lt(f$objective, exact_objective(coef(logistic_regression(y ~ x + poly(year, 4, raw = TRUE),
                                                                   data = dd))))
  # over chunks, as in memory
  ch <- data_chunks(unname(split(dd, rep(1:4, length.out = n))))
  fc <- logistic_regression(y ~ x + year + I(year^2) + I(year^3) + I(year^4), data = ch, lambda = lam)
  expect_equal(fc$objective, f$objective, tolerance = 1e-8)
  expect_error(softmax_regression(k ~ x + poly(year, 4, raw = TRUE), data = dd, lambda = 1),
               class = "xentropy_error_data", regexp = "badly conditioned")
  expect_error(softmax_regression(k ~ x + year + I(year^2) + I(year^3) + I(year^4), data = ch,
                                  lambda = 1), class = "xentropy_error_data")
  # well-conditioned ridge fits do not change
  g <- logistic_regression(y ~ x + I(year - 2005), data = dd, lambda = 1)
  expect_null(g$basis)
})

test_that("the empty model (y ~ 0, the offset alone) is fitted, as glm does, so drop1() and step() reach it", {
  d <- mtcars
  g0 <- glm(am ~ 0, data = d, family = binomial)
  f0 <- logistic_regression(am ~ 0, data = d)
  expect_equal(deviance(f0), deviance(g0), tolerance = 1e-12)
  expect_equal(deviance(f0), 2 * 32 * log(2), tolerance = 1e-12)
  expect_equal(AIC(f0), AIC(g0), tolerance = 1e-12)
  expect_length(coef(f0), 0L)
  expect_equal(dim(vcov(f0)), c(0L, 0L))
  expect_equal(unname(predict(f0, d, type = "response")), rep(0.5, 32))
  fo <- logistic_regression(am ~ 0 + offset(wt - 3), data = d)
  go <- glm(am ~ 0 + offset(wt - 3), data = d, family = binomial)
  expect_equal(deviance(fo), deviance(go), tolerance = 1e-12)
  expect_equal(unname(residuals(fo)), unname(residuals(go)), tolerance = 1e-10)
  a <- drop1(logistic_regression(am ~ qsec - 1, data = d), test = "Chisq")
  b <- drop1(glm(am ~ qsec - 1, data = d, family = binomial), test = "Chisq")
  expect_equal(a$Deviance, b$Deviance, tolerance = 1e-9)
  expect_equal(a$AIC, b$AIC, tolerance = 1e-9)
  expect_equal(a$`Pr(>Chi)`, b$`Pr(>Chi)`, tolerance = 1e-7)
  expect_error(softmax_regression(factor(gear) ~ 0, data = d), class = "xentropy_error_shape")
})

test_that("fits with label smoothing refuse likelihood tests, as penalised fits do", {
  f <- softmax_regression(Species ~ Sepal.Length + Sepal.Width, data = iris, label_smoothing = 0.1)
  f0 <- softmax_regression(Species ~ Sepal.Length, data = iris, label_smoothing = 0.1)
  expect_error(anova(f, test = "Chisq"), "smoothed labels", class = "xentropy_error_unsupported")
  expect_error(anova(f0, f, test = "Chisq"), class = "xentropy_error_unsupported")
  expect_error(drop1(f, test = "Chisq"), "smoothed labels", class = "xentropy_error_unsupported")
  expect_s3_class(anova(softmax_regression(Species ~ Sepal.Length, data = iris), test = "Chisq"),
                  "anova")
})

test_that("methods take abbreviated choices as glm's do, and class predictions keep row names with na.action", {
  d <- mtcars
  d$wt[3] <- NA
  f <- logistic_regression(am ~ wt, data = d, na.action = na.exclude)
  expect_equal(predict(f, type = "resp"), predict(f, type = "response"))
  expect_equal(residuals(f, "pear"), residuals(f, "pearson"))
  expect_equal(weights(f, "work"), weights(f, "working"))
  expect_equal(drop1(f, test = "Chi"), drop1(f, test = "Chisq"))
  expect_error(predict(f, type = "x"), class = "xentropy_error_value")
  cl <- predict(f, type = "class")
  expect_named(cl, rownames(d))
  expect_true(is.na(cl[3]))
})

test_that("coef(complete = FALSE) leaves out the aliased coefficients, as glm's", {
  set.seed(8)
  d <- data.frame(wt = rnorm(80), qsec = rnorm(80))
  d$wt2 <- 2 * d$wt
  d$am <- rbinom(80, 1, plogis(d$wt - d$qsec))
  d$gear <- factor(sample(3:5, 80, TRUE))
  f <- logistic_regression(am ~ wt + wt2 + qsec, data = d)
  g <- glm(am ~ wt + wt2 + qsec, data = d, family = binomial)
  expect_equal(names(coef(f, complete = FALSE)), names(coef(g, complete = FALSE)))
  expect_equal(coef(f, complete = FALSE), coef(g, complete = FALSE), tolerance = 1e-6)
  expect_length(coef(f), 4L)
  s <- softmax_regression(factor(gear) ~ wt + wt2, data = d)
  expect_equal(colnames(coef(s, complete = FALSE)), c("(Intercept)", "wt"))
  expect_equal(ncol(coef(s)), 3L)
})
