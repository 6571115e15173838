# Regularisation paths: logistic_path() and softmax_path() against glmnet on
# the same lambda sequence (issue 18), with the objective each reaches at
# every lambda and the memory R allocates.
#
# Run from the repository root, after installing the package:
#   Rscript bench/path.R            # the issue's sizes (several minutes)
#   Rscript bench/path.R --quick    # 10 times smaller
# XENTROPY_BENCH_SCALE=0.01 shrinks the data further; XENTROPY_BENCH_CASES
# picks cases (of dense, sparse, softmax, ridge). Full-size results go to
# bench/path-results.md (a scaled run prints only). Everything in a table is
# measured side by side in one run, so ratios compare even on a busy machine.
#
# Objectives are computed here, in R, from the coefficients each package
# returns (glmnet's objective: (1/N) sum of the log-losses + lambda times the
# elastic-net penalty on the standardised coefficients), not taken from
# either package. "gap" is glmnet's objective minus ours, relative to ours,
# at the lambda where it is largest (> 0: ours is lower).

options(width = 200)
suppressPackageStartupMessages({
  library(xentropy)
  library(bench)
})
args <- commandArgs(trailingOnly = TRUE)
scale <- as.numeric(Sys.getenv("XENTROPY_BENCH_SCALE", if ("--quick" %in% args) "0.1" else "1"))
full_size <- scale == 1
cases <- strsplit(Sys.getenv("XENTROPY_BENCH_CASES", "dense,sparse,softmax,ridge"), ",")[[1]]
script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "bench")
})
if (!requireNamespace("glmnet", quietly = TRUE) || !requireNamespace("Matrix", quietly = TRUE))
  stop("bench/path.R needs glmnet and Matrix")

sz <- function(n) max(50L, as.integer(round(n * scale)))
col_sd <- function(X) {
  m <- Matrix::colMeans(X)
  sqrt(pmax(Matrix::colMeans(X * X) - m^2, 0))
}
log_loss <- function(eta, y01) mean(ifelse(eta > 0, (1 - y01) * eta, -y01 * eta) + log1p(exp(-abs(eta))))

binary_objective <- function(B, X, y01, lambda, alpha, sx) {
  vapply(seq_along(lambda), function(l) {
    b <- B[-1, l]
    eta <- B[1, l] + as.numeric(X %*% b)
    bs <- b * sx
    log_loss(eta, y01) + lambda[l] * sum((1 - alpha) / 2 * bs^2 + alpha * abs(bs))
  }, numeric(1))
}

softmax_objective <- function(Bs, X, yi, lambda, alpha, sx) {
  vapply(seq_along(lambda), function(l) {
    B <- sapply(Bs, function(M) M[, l])          # (p + 1) x K
    eta <- cbind(1, X) %*% B
    m <- apply(eta, 1, max)
    lse <- m + log(rowSums(exp(eta - m)))
    W <- B[-1, , drop = FALSE] * sx
    mean(lse - eta[cbind(seq_along(yi), yi)]) +
      lambda[l] * sum((1 - alpha) / 2 * W^2 + alpha * abs(W))
  }, numeric(1))
}

# The largest KKT violation over the lambdas, relative to lambda, recomputed here
# from the returned coefficients (the same function for both packages): on the
# standardised scale, the gradient of the mean log-loss along a centred,
# standardised column against the elastic-net subdifferential.
kkt_violation <- function(grad_std, bs, lambda, alpha) {
  v <- ifelse(bs != 0, abs(grad_std + lambda * (alpha * sign(bs) + (1 - alpha) * bs)),
              pmax(abs(grad_std) - lambda * alpha, 0))
  max(v) / lambda
}
centred_grad <- function(X, r, sx) {
  n <- length(r)
  (as.numeric(Matrix::crossprod(X, r)) - Matrix::colMeans(X) * sum(r)) / n / sx
}
binary_kkt <- function(B, X, y01, lambda, alpha, sx) {
  keep <- sx > 0
  max(vapply(seq_along(lambda), function(l) {
    b <- B[-1, l]
    pr <- plogis(B[1, l] + as.numeric(X %*% b))
    g <- centred_grad(X, pr - y01, sx)
    kkt_violation(g[keep], (b * sx)[keep], lambda[l], alpha)
  }, numeric(1)))
}
softmax_kkt <- function(Bs, X, yi, lambda, alpha, sx) {
  Y <- outer(yi, seq_along(Bs), "==") * 1
  max(vapply(seq_along(lambda), function(l) {
    B <- sapply(Bs, function(M) M[, l])
    eta <- cbind(1, X) %*% B
    P <- exp(eta - apply(eta, 1, max)); P <- P / rowSums(P)
    max(vapply(seq_along(Bs), function(k)
      kkt_violation(centred_grad(X, P[, k] - Y[, k], sx), B[-1, k] * sx, lambda[l], alpha),
      numeric(1)))
  }, numeric(1)))
}
# glmnet asked for a tight fit (thresh 1e-11; its default is 1e-7), to compare
# times at comparable accuracy
tight <- 1e-11

time_it <- function(expr_fun) {
  gc()
  m <- bench::mark(expr_fun(), iterations = 1, check = FALSE, filter_gc = FALSE)
  c(seconds = as.numeric(m$median), mem_MB = as.numeric(m$mem_alloc) / 2^20)
}

rows <- list()
add_row <- function(case, size, ours, theirs, gap, x_MB, extra = "", kkt = c(NA, NA, NA),
                    tight_s = NA) {
  rows[[length(rows) + 1L]] <<- data.frame(
    case = case, size = size,
    xentropy_s = signif(ours[["seconds"]], 3), glmnet_s = signif(theirs[["seconds"]], 3),
    ratio = signif(theirs[["seconds"]] / ours[["seconds"]], 3),
    gap = signif(gap, 3), xentropy_kkt = signif(kkt[1], 2), glmnet_kkt = signif(kkt[2], 2),
    glmnet_tight_s = signif(tight_s, 3), glmnet_tight_kkt = signif(kkt[3], 2),
    xentropy_MB = signif(ours[["mem_MB"]], 3),
    glmnet_MB = signif(theirs[["mem_MB"]], 3), x_MB = signif(x_MB, 3), note = extra)
  print(rows[[length(rows)]], row.names = FALSE)   # as it comes: a long case can be stopped
  flush.console()
}

set.seed(20261206)

if ("dense" %in% cases) {
  n <- sz(2e4); p <- sz(1e3)
  X <- matrix(rnorm(n * p), n, p)
  b <- c(rnorm(20), numeric(p - 20))
  y <- factor(runif(n) < plogis(drop(X[, 1:20] %*% b[1:20])))
  lam <- logistic_path(X, y, nlambda = 100)$lambda
  tx <- time_it(function() ours <<- logistic_path(X, y, lambda = lam))
  tg <- time_it(function() theirs <<- glmnet::glmnet(X, y, family = "binomial", lambda = lam))
  y01 <- as.numeric(y == levels(y)[2]); sx <- col_sd(X)
  ox <- binary_objective(coef(ours), X, y01, lam, 1, sx)
  og <- binary_objective(as.matrix(coef(theirs)), X, y01, lam, 1, sx)
  tt <- time_it(function() tight_fit <<- glmnet::glmnet(X, y, family = "binomial", lambda = lam,
                                                        thresh = tight))
  kkt <- c(binary_kkt(coef(ours), X, y01, lam, 1, sx),
           binary_kkt(as.matrix(coef(theirs)), X, y01, lam, 1, sx),
           binary_kkt(as.matrix(coef(tight_fit)), X, y01, lam, 1, sx))
  add_row("dense lasso path", sprintf("%d x %d", n, p), tx, tg, max((og - ox) / abs(ox)),
          as.numeric(object.size(X)) / 2^20, kkt = kkt, tight_s = tt[["seconds"]])
}

if ("sparse" %in% cases) {
  n <- sz(5e4); p <- sz(2e4)
  X <- Matrix::rsparsematrix(n, p, density = 0.001, rand.x = function(k) rep(1, k))
  X <- methods::as(X, "CsparseMatrix")
  b <- c(rep(2, 50), numeric(p - 50))
  y <- factor(runif(n) < plogis(-1 + as.numeric(X %*% b)))
  lam <- logistic_path(X, y, nlambda = 100)$lambda
  tx <- time_it(function() ours <<- logistic_path(X, y, lambda = lam))
  tg <- time_it(function() theirs <<- glmnet::glmnet(X, y, family = "binomial", lambda = lam))
  y01 <- as.numeric(y == levels(y)[2]); sx <- col_sd(X)
  ox <- binary_objective(coef(ours), X, y01, lam, 1, sx)
  og <- binary_objective(as.matrix(coef(theirs)), X, y01, lam, 1, sx)
  tt <- time_it(function() tight_fit <<- glmnet::glmnet(X, y, family = "binomial", lambda = lam,
                                                        thresh = tight))
  kkt <- c(binary_kkt(coef(ours), X, y01, lam, 1, sx),
           binary_kkt(as.matrix(coef(theirs)), X, y01, lam, 1, sx),
           binary_kkt(as.matrix(coef(tight_fit)), X, y01, lam, 1, sx))
  add_row("sparse binary-feature lasso path", sprintf("%d x %d, 0.1%%", n, p), tx, tg,
          max((og - ox) / abs(ox)), as.numeric(object.size(X)) / 2^20, kkt = kkt,
          tight_s = tt[["seconds"]])
}

if ("softmax" %in% cases) {
  n <- sz(1e5); p <- 100; K <- 10
  X <- matrix(rnorm(n * p), n, p)
  B <- matrix(0, p, K); B[1:10, ] <- rnorm(10 * K)
  eta <- X %*% B
  P <- exp(eta - apply(eta, 1, max)); P <- P / rowSums(P)
  y <- factor(apply(P, 1, function(pr) sample.int(K, 1, prob = pr)), levels = 1:K)
  lam <- softmax_path(X, y, nlambda = 50)$lambda
  tx <- time_it(function() ours <<- softmax_path(X, y, lambda = lam))
  tg <- time_it(function() theirs <<- glmnet::glmnet(X, y, family = "multinomial", lambda = lam))
  sx <- col_sd(X)
  ox <- softmax_objective(coef(ours), X, as.integer(y), lam, 1, sx)
  og <- softmax_objective(lapply(coef(theirs), as.matrix), X, as.integer(y), lam, 1, sx)
  tt <- time_it(function() tight_fit <<- glmnet::glmnet(X, y, family = "multinomial",
                                                        lambda = lam, thresh = tight))
  kkt <- c(softmax_kkt(coef(ours), X, as.integer(y), lam, 1, sx),
           softmax_kkt(lapply(coef(theirs), as.matrix), X, as.integer(y), lam, 1, sx),
           softmax_kkt(lapply(coef(tight_fit), as.matrix), X, as.integer(y), lam, 1, sx))
  add_row("softmax lasso path, K = 10", sprintf("%d x %d", n, p), tx, tg,
          max((og - ox) / abs(ox)), as.numeric(object.size(X)) / 2^20, kkt = kkt,
          tight_s = tt[["seconds"]])
}

if ("ridge" %in% cases) {
  n <- sz(1e4); p <- sz(2000)
  X <- matrix(rnorm(n * p), n, p)
  y <- factor(runif(n) < plogis(drop(X[, 1:50] %*% rnorm(50, sd = 0.3))))
  lam <- logistic_path(X, y, alpha = 0, nlambda = 100)$lambda
  tx <- time_it(function() ours <<- logistic_path(X, y, alpha = 0, lambda = lam))
  tg <- time_it(function() theirs <<- glmnet::glmnet(X, y, family = "binomial", alpha = 0,
                                                   lambda = lam))
  y01 <- as.numeric(y == levels(y)[2]); sx <- col_sd(X)
  ox <- binary_objective(coef(ours), X, y01, lam, 0, sx)
  og <- binary_objective(as.matrix(coef(theirs)), X, y01, lam, 0, sx)
  tt <- time_it(function() tight_fit <<- glmnet::glmnet(X, y, family = "binomial", alpha = 0,
                                                        lambda = lam, thresh = tight))
  kkt <- c(binary_kkt(coef(ours), X, y01, lam, 0, sx),
           binary_kkt(as.matrix(coef(theirs)), X, y01, lam, 0, sx),
           binary_kkt(as.matrix(coef(tight_fit)), X, y01, lam, 0, sx))
  # the old dense Newton fit, at the last lambda only (unstandardised columns
  # are what it penalises, so it solves a different problem: time only)
  tn <- time_it(function() logistic_regression(x = X, y = y, lambda = n * lam[length(lam)]))
  add_row("ridge path", sprintf("%d x %d", n, p), tx, tg, max((og - ox) / abs(ox)),
          as.numeric(object.size(X)) / 2^20,
          sprintf("one Newton fit (logistic_regression, lambda = N x last): %.2f s", tn[["seconds"]]),
          kkt = kkt, tight_s = tt[["seconds"]])
}

res <- do.call(rbind, rows)
print(res, row.names = FALSE)

if (full_size) {
  out <- file.path(script_dir, "path-results.md")
  con <- file(out, "w")
  writeLines(c(
    "# Regularisation paths against glmnet (bench/path.R)", "",
    sprintf("Run %s on %s, R %s, glmnet %s, xentropy %s, %d threads.",
            format(Sys.time(), "%Y-%m-%d %H:%M"), Sys.info()[["nodename"]],
            getRversion(), packageVersion("glmnet"), packageVersion("xentropy"),
            xentropy::xentropy_threads()),
    "", "ratio = glmnet time / xentropy time (> 1: ours faster); gap = max over lambda of",
    "(glmnet objective - ours) / ours (> 0: ours lower); kkt = the largest KKT violation over",
    "the lambdas relative to lambda, recomputed in R from each package's coefficients;",
    sprintf("glmnet tight = glmnet with thresh = %g (default 1e-7); MB = memory R allocated (bench::mark).", tight),
    "", paste("| case | size | xentropy s | glmnet s | ratio | gap | xentropy kkt | glmnet kkt |",
              "glmnet tight s | glmnet tight kkt | xentropy MB | glmnet MB | x MB | note |"),
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    apply(res, 1, function(r) paste0("| ", paste(r, collapse = " | "), " |"))), con)
  close(con)
  cat("written to", out, "\n")
}
