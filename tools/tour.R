# A short tour of xentropy: prints a few results and writes figures.
#
#   Rscript tools/tour.R [output folder, default tour-figures]
library(xentropy)

out_dir <- commandArgs(trailingOnly = TRUE)[1]
if (is.na(out_dir)) out_dir <- "tour-figures"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

show <- function(label, value) {
  # named vectors, matrices and tables print over several lines: start them on
  # a line of their own
  if (!is.null(names(value)) || !is.null(dim(value)) || !is.atomic(value)) {
    cat(label, "\n")
  } else {
    cat(sprintf("%-46s", label))
  }
  print(value)
}

cat("== Link functions: exact where the textbook formulas fail\n")
show("plogis(-710) vs sigmoid(-710):", c(plogis(-710), sigmoid(-710)))
show("log(plogis(-800)) vs log_sigmoid(-800):", c(log(plogis(-800)), log_sigmoid(-800)))
show("log(1 + exp(800)) vs softplus(800):", c(log(1 + exp(800)), softplus(800)))
p <- 0.5 + 3e-10
show("qlogis vs logit at 1/2 + 3e-10 (17 digits):",
     format(c(qlogis(p), logit(p)), digits = 17))

cat("\n== Normalisers: no overflow, NA and Inf as limits\n")
show("log(sum(exp(c(1000, 1000)))) vs logsumexp:",
     c(log(sum(exp(c(1000, 1000)))), logsumexp(c(1000, 1000))))
scores <- rbind(obs1 = c(a = 2, b = 1, c = 0), obs2 = c(1000, 1000, -Inf))
cat("softmax() of a score matrix, one row per observation:\n")
print(softmax(scores))
show("log_softmax(c(0, -800)):", log_softmax(c(0, -800)))
show("threads in use:", xentropy_threads())

cat("\n== Information: entropy as code length (bits)\n")
show("four equally likely outcomes:", entropy(rep(1/4, 4), base = 2))
show("C and D merged, p = (1/4, 1/4, 1/2):", entropy(c(1/4, 1/4, 1/2), base = 2))
p <- c(1/4, 1/4, 1/2)
q <- c(1/2, 1/4, 1/4)
show("coding p with a code for q, H(p, q):", cross_entropy(p, q, base = 2))
show("the excess, KL(p || q):", kl_divergence(p, q, base = 2))

cat("\n== Likelihood -> cross-entropy: a die thrown 20 times\n")
throws <- c(3, 1, 6, 6, 2, 5, 4, 6, 1, 3, 6, 2, 5, 6, 4, 1, 6, 3, 2, 6)
p_hat <- mle_categorical(factor(throws, levels = 1:6))
show("MLE of the face probabilities, n_k / N:", p_hat)
show("log-likelihood at the MLE vs a fair die:",
     c(loglik_categorical(throws, p_hat), loglik_categorical(throws, rep(1/6, 6))))
show("per-throw cross-entropy at the MLE:", -loglik_categorical(throws, p_hat) / 20)

cat("\n== Fitting a softmax regression to iris with optim()\n")
X <- cbind(1, scale(as.matrix(iris[, 1:4])))
y <- iris$Species
K <- nlevels(y)
loss <- function(w) softmax_cross_entropy(y, X %*% matrix(w, ncol = K))
grad <- function(w) crossprod(X, softmax_cross_entropy_grad(y, X %*% matrix(w, ncol = K)))
fit <- optim(numeric(ncol(X) * K), loss, grad, method = "BFGS",
             control = list(maxit = 500))
show("mean cross-entropy at the fit:", fit$value)
show("training accuracy:", mean(max.col(X %*% matrix(fit$par, ncol = K)) == as.integer(y)))
show("from logits stays exact at z = -1e10:", sigmoid_cross_entropy(1, -1e10))

if (requireNamespace("ggplot2", quietly = TRUE)) {
  library(ggplot2)
  a <- seq(-10, 10, length.out = 401)
  curves <- rbind(
    data.frame(a = a, value = sigmoid(a), curve = "sigmoid(a)"),
    data.frame(a = a, value = log_sigmoid(a), curve = "log_sigmoid(a)"),
    data.frame(a = a, value = softplus(a), curve = "softplus(a)")
  )
  fig1 <- ggplot(curves, aes(a, value, colour = curve)) +
    geom_line(linewidth = 0.8) +
    coord_cartesian(ylim = c(-4, 4)) +
    labs(title = "The logistic sigmoid and its logs",
         subtitle = "log_sigmoid(a) = -softplus(-a); sigmoid(a) = exp(log_sigmoid(a))",
         x = "activation a", y = "value", colour = NULL) +
    theme_minimal()
  ggsave(file.path(out_dir, "link-functions.png"), fig1, width = 6.5, height = 4, dpi = 100)

  z <- c(cat = 2, dog = 1, bird = 0.1)
  temps <- c(0.25, 0.5, 1, 2, 4)
  probs <- do.call(rbind, lapply(temps, function(t) {
    data.frame(temperature = factor(t), class = factor(names(z), names(z)),
               probability = softmax(z, temperature = t))
  }))
  fig2 <- ggplot(probs, aes(class, probability, fill = temperature)) +
    geom_col(position = "dodge") +
    labs(title = "softmax(z, temperature = T)",
         subtitle = "Low temperatures sharpen the distribution, high ones flatten it",
         x = "class", y = "probability", fill = "T") +
    theme_minimal()
  ggsave(file.path(out_dir, "softmax-temperature.png"), fig2, width = 6.5, height = 4, dpi = 100)

  qs <- seq(0.02, 0.98, length.out = 197)
  p <- c(0.3, 0.7)
  codes <- data.frame(
    q = rep(qs, 2),
    bits = c(cross_entropy(p, cbind(qs, 1 - qs), base = 2),
             rep(entropy(p, base = 2), length(qs))),
    quantity = rep(c("H(p, q): code built for q", "H(p): code built for p"), each = length(qs))
  )
  fig3 <- ggplot(codes, aes(q, bits, linetype = quantity)) +
    geom_line(linewidth = 0.8) +
    geom_vline(xintercept = p[1], colour = "grey50") +
    labs(title = "Cross-entropy is the cost of coding with the wrong distribution",
         subtitle = "p = (0.3, 0.7); the gap is KL(p || q), zero only at q = p",
         x = "q[1]", y = "average code length (bits)", linetype = NULL) +
    theme_minimal() + theme(legend.position = "bottom")
  ggsave(file.path(out_dir, "cross-entropy-bits.png"), fig3, width = 6.5, height = 4, dpi = 100)
  cat("\nFigures written to", normalizePath(out_dir), ":\n")
  cat(paste0("  ", list.files(out_dir, pattern = "[.]png$"), collapse = "\n"), "\n")
} else {
  cat("\nggplot2 is not installed: no figures written.\n")
}

cat("\n== Calibration: are the probabilities any good?\n")
# An unregularised softmax regression with 30 features on 200 observations
# (only 3 features matter) is over-confident on new data; a temperature
# fitted on held-out data repairs its probabilities without changing a single
# predicted class.
set.seed(13)
n_features <- 30
beta_true <- matrix(rnorm(3 * 3, sd = 1.5), 3, 3)
simulate_classes <- function(n) {
  X <- cbind(1, matrix(rnorm(n * n_features), n, n_features))
  P <- softmax(X[, 2:4] %*% beta_true)
  cum <- P %*% upper.tri(diag(3), diag = TRUE)
  list(X = X, y = 1 + rowSums(runif(n) > cum[, -3]))
}
train <- simulate_classes(200)
held_out <- simulate_classes(2000)
test <- simulate_classes(10000)
fit <- softmax_regression(x = train$X, y = factor(train$y))  # no penalty
logits_of <- function(X) predict(fit, X, type = "link")
scaling <- temperature_scaling(held_out$y, logits_of(held_out$X))
P_before <- softmax(logits_of(test$X))
P_after <- predict(scaling, logits_of(test$X))
show("fitted temperature T:", scaling$temperature)
show("test accuracy before / after:",
     c(top_k_accuracy(test$y, P_before), top_k_accuracy(test$y, P_after)))
show("test cross-entropy before / after:",
     c(cross_entropy_loss(test$y, P_before), cross_entropy_loss(test$y, P_after)))
show("test Brier score before / after:",
     c(brier_score(test$y, P_before), brier_score(test$y, P_after)))
show("test ECE (15 bins) before / after:",
     c(calibration_error(test$y, P_before), calibration_error(test$y, P_after)))

if (requireNamespace("ggplot2", quietly = TRUE)) {
  # two reliability_table()s in one figure; autoplot() of one table also
  # draws the distribution of confidences below the diagram
  both <- rbind(
    cbind(reliability_table(test$y, P_before, bins = 10), model = "before: unregularised fit"),
    cbind(reliability_table(test$y, P_after, bins = 10),
          model = sprintf("after: logits / T, T = %.2f", scaling$temperature))
  )
  both$model <- factor(both$model, unique(both$model))
  filled <- both[both$count > 0, ]
  fig4 <- ggplot(filled, aes(confidence, frequency, colour = model)) +
    geom_abline(slope = 1, intercept = 0, linetype = "dashed", colour = "grey50") +
    geom_errorbar(aes(ymin = ci_lower, ymax = ci_upper), width = 0.015) +
    geom_line() + geom_point() +
    coord_equal(xlim = c(0, 1), ylim = c(0, 1)) +
    labs(title = "Reliability diagram on test data",
         subtitle = sprintf("ECE %.3f before, %.3f after temperature scaling on held-out data",
                            calibration_error(test$y, P_before), calibration_error(test$y, P_after)),
         x = "confidence (mean top-label probability in the bin)",
         y = "observed frequency of a correct prediction", colour = NULL) +
    theme_minimal() + theme(legend.position = "bottom")
  ggsave(file.path(out_dir, "reliability-diagram.png"), fig4, width = 6, height = 6.5, dpi = 100)
  cat("written:", file.path(out_dir, "reliability-diagram.png"), "\n")
}

cat("\n== Fitting: logistic and softmax regression by Newton's method\n")
fit <- logistic_regression(am ~ wt + hp, data = mtcars)
print(summary(fit))
show("logLik: logistic_regression vs glm:",
     c(as.numeric(logLik(fit)),
       as.numeric(logLik(glm(am ~ wt + hp, data = mtcars, family = binomial)))))
show("E(w) per Newton iteration minus its minimum:", signif(fit$trace - min(fit$trace), 3))
sfit <- softmax_regression(Species ~ Sepal.Length, data = iris)
cat("softmax_regression(Species ~ Sepal.Length, data = iris), first class as reference:\n")
print(coef(sfit))
show("predicted species at 5, 6 and 7 cm:",
     as.character(predict(sfit, data.frame(Sepal.Length = c(5, 6, 7)), type = "class")))

if (requireNamespace("MASS", quietly = TRUE)) {
  cat("\n== glm's workflow: diabetes in Pima women (MASS::Pima.tr)\n")
  pima <- MASS::Pima.tr
  lr <- logistic_regression(type ~ glu + bmi + ped + age, data = pima)
  gl <- glm(type ~ glu + bmi + ped + age, data = pima, family = binomial)
  show("coefficients, xentropy vs glm:", rbind(xentropy = coef(lr), glm = coef(gl)))
  show("analysis of deviance (LR tests):", anova(lr, test = "Chisq"))
  sel <- step(logistic_regression(type ~ ., data = pima), trace = 0)
  show("step() by AIC keeps:", attr(terms(sel), "term.labels"))
}

if (requireNamespace("MASS", quietly = TRUE) && exists("logistic_path", mode = "function")) {
  cat("\n== Sparsity: a lasso path on breast-biopsy scores (MASS::biopsy)\n")
  bio <- na.omit(MASS::biopsy)
  xb <- as.matrix(bio[, paste0("V", 1:9)])
  colnames(xb) <- c("thickness", "size_unif", "shape_unif", "adhesion", "epith_size",
                    "bare_nuclei", "chromatin", "nucleoli", "mitoses")
  lasso <- logistic_path(xb, bio$class, nlambda = 30)
  show("features in the model as lambda falls (df):", lasso$df)
  show("largest certified KKT violation / lambda (lasso):", signif(max(lasso$kkt), 3))
  at <- which(lasso$df > 0)[1]
  show(sprintf("the first features to enter (lambda = %.4f):", lasso$lambda[at]),
       rownames(coef(lasso))[-1][coef(lasso)[-1, at] != 0])
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    ggsave(file.path(out_dir, "lasso-path.png"), autoplot(lasso), width = 7, height = 4.5,
           dpi = 100)
    cat("written:", file.path(out_dir, "lasso-path.png"), "\n")
  }
}
