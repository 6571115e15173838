# Speed and memory of logistic_regression() and softmax_regression() against
# glm.fit(), glmnet, nnet::multinom() and VGAM::vglm(), with the
# log-likelihood each reaches.
#
# Run from the repository root, after installing the package:
#   Rscript bench/fit.R            # the sizes of issue 12 (about 3-5 minutes
#                                  # on 2 quiet cores; multinom and vglm take
#                                  # most of it)
#   Rscript bench/fit.R --quick    # the same cases 10 times smaller
# XENTROPY_BENCH_SCALE=0.01 shrinks the data further;
# XENTROPY_BENCH_CASES=binary,softmax runs only those cases (of binary,
# softmax, large, wide); XENTROPY_BENCH_LARGE_PEERS=1 adds glmnet and full
# Newton to the n = 1e6, p = 100, K = 10 case (minutes). Full-size results go to
# bench/fit-results.md (a scaled run prints only). Everything in one table is
# measured side by side in this one run, so the ratios are comparable even on
# a busy machine; absolute times are not.
#
# mem_alloc is what bench::mark() sees: memory allocated by R. The C++
# kernels' own scratch (Eigen matrices, per-slot Hessians: a few MB) is not in
# it; the model matrix is never copied.

options(width = 200)
suppressPackageStartupMessages({
  library(xentropy)
  library(bench)
})

args <- commandArgs(trailingOnly = TRUE)
scale <- as.numeric(Sys.getenv("XENTROPY_BENCH_SCALE", if ("--quick" %in% args) "0.1" else "1"))
full_size <- scale == 1
have <- function(pkg) requireNamespace(pkg, quietly = TRUE)

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "bench")
})
results_file <- file.path(script_dir, "fit-results.md")
cases <- strsplit(Sys.getenv("XENTROPY_BENCH_CASES", "binary,softmax,large,wide"), ",")[[1]]
large_peers <- Sys.getenv("XENTROPY_BENCH_LARGE_PEERS", "0") == "1"

sim_binary <- function(n, p, seed) {
  set.seed(seed)
  X <- cbind(1, matrix(rnorm(n * (p - 1)), n))
  colnames(X) <- c("(Intercept)", paste0("x", seq_len(p - 1)))
  # slopes scaled so that the logits have the same spread for every p (the
  # p = 20 design); wider designs would otherwise be nearly separable
  b <- c(0.2, rnorm(p - 1) * 0.3 * sqrt(19 / (p - 1)))
  y <- rbinom(n, 1, plogis(drop(X %*% b)))
  list(X = X, y = y)
}

sim_softmax <- function(n, p, K, seed) {
  set.seed(seed)
  X <- cbind(1, matrix(rnorm(n * (p - 1)), n))
  colnames(X) <- c("(Intercept)", paste0("x", seq_len(p - 1)))
  B <- matrix(rnorm(p * K) * 0.3 * sqrt(19 / (p - 1)), p)
  E <- X %*% B
  E <- E - apply(E, 1, max)
  P <- exp(E) / rowSums(exp(E))
  # inverse-CDF sampling of one class per row, vectorised
  u <- runif(n)
  y <- rowSums(u > t(apply(P, 1, cumsum))) + 1L
  list(X = X, y = factor(y, levels = seq_len(K), labels = paste0("c", seq_len(K))))
}

loglik_binary <- function(y, p) sum(dbinom(y, 1, p, log = TRUE))
loglik_softmax <- function(y, P) sum(log(P[cbind(seq_along(y), as.integer(y))]))

# One row per method: median time, memory, log-likelihood reached.
run_case <- function(label, calls, iterations) {
  rows <- list()
  for (nm in names(calls)) {
    it <- iterations[[nm]]
    if (is.null(it)) it <- 3
    ll <- NA_real_
    m <- bench::mark(ll <- tryCatch(calls[[nm]](), error = function(e) {
      message("  ", nm, " failed: ", conditionMessage(e))
      NA_real_
    }), iterations = it, check = FALSE, filter_gc = FALSE, memory = TRUE)
    rows[[nm]] <- data.frame(case = label, method = nm,
                             median_s = as.numeric(m$median),
                             mem_alloc_MB = as.numeric(m$mem_alloc) / 2^20,
                             loglik = ll, iterations = it)
    cat(sprintf("  %-28s %9.3f s %10.1f MB  logLik %.10g\n", nm, as.numeric(m$median),
                as.numeric(m$mem_alloc) / 2^20, ll))
  }
  out <- do.call(rbind, rows)
  ours <- out$median_s[out$method == "xentropy (2 threads)"]
  out$speedup_2t <- out$median_s / ours
  out$loglik_gap <- max(out$loglik, na.rm = TRUE) - out$loglik
  rownames(out) <- NULL
  out
}

ours <- function(f, threads) {
  function() {
    old <- xentropy_threads(threads)
    on.exit(xentropy_threads(old))
    f()$loglik
  }
}

results <- list()
size <- function(n) format(n, big.mark = ",", scientific = FALSE)

# ---- binary, n = 1e6, p = 20 ----------------------------------------------
if ("binary" %in% cases) {
n <- round(1e6 * scale)
d <- sim_binary(n, 20, 1)
label <- sprintf("binary n=%s p=20", size(n))
cat(label, "\n")
fit_b <- function() logistic_regression(x = d$X, y = d$y)
calls <- list(
  `xentropy (1 thread)` = ours(fit_b, 1),
  `xentropy (2 threads)` = ours(fit_b, 2),
  `glm.fit` = function() -glm.fit(d$X, d$y, family = binomial())$deviance / 2
)
if (have("glmnet")) {
  calls$`glmnet (lambda = 0)` = function() {
    g <- glmnet::glmnet(d$X[, -1], d$y, family = "binomial", lambda = 0)
    loglik_binary(d$y, drop(predict(g, d$X[, -1], type = "response")))
  }
}
results$binary <- run_case(label, calls, list(`glm.fit` = 2))
rm(d); invisible(gc())
}

# ---- softmax, n = 2e5, p = 20, K = 5 ---------------------------------------
if ("softmax" %in% cases) {
n <- round(2e5 * scale)
d <- sim_softmax(n, 20, 5, 2)
label <- sprintf("softmax n=%s p=20 K=5", size(n))
cat(label, "\n")
fit_s <- function() softmax_regression(x = d$X, y = d$y)
calls <- list(
  `xentropy (1 thread)` = ours(fit_s, 1),
  `xentropy (2 threads)` = ours(fit_s, 2)
)
if (have("glmnet")) {
  calls$`glmnet (lambda = 0)` = function() {
    g <- glmnet::glmnet(d$X[, -1], d$y, family = "multinomial", lambda = 0)
    loglik_softmax(d$y, predict(g, d$X[, -1], type = "response")[, , 1])
  }
}
if (have("nnet")) {
  calls$`nnet::multinom` = function() {
    as.numeric(logLik(nnet::multinom(d$y ~ d$X[, -1], trace = FALSE, maxit = 1000)))
  }
}
if (have("VGAM")) {
  calls$`VGAM::vglm` = function() {
    xx <- d$X[, -1]
    as.numeric(VGAM::logLik(VGAM::vglm(d$y ~ xx, family = VGAM::multinomial(refLevel = 1))))
  }
}
results$softmax <- run_case(label, calls, list(`nnet::multinom` = 1, `VGAM::vglm` = 1))
rm(d); invisible(gc())
}

# ---- softmax, n = 1e6, p = 100, K = 10 (truncated Newton) -------------------
if ("large" %in% cases) {
n <- round(1e6 * scale)
d <- sim_softmax(n, 100, 10, 3)
label <- sprintf("softmax n=%s p=100 K=10", size(n))
cat(label, "\n")
calls <- list(
  `xentropy (1 thread)` = ours(function()
    softmax_regression(x = d$X, y = d$y, control = list(hessian = FALSE)), 1),
  `xentropy (2 threads)` = ours(function()
    softmax_regression(x = d$X, y = d$y, control = list(hessian = FALSE)), 2)
)
if (large_peers) {
  calls$`xentropy, full Newton (2 threads)` = ours(function()
    softmax_regression(x = d$X, y = d$y, control = list(newton_max_dim = 1000)), 2)
}
if (large_peers && have("glmnet")) {
  calls$`glmnet (lambda = 0)` = function() {
    g <- glmnet::glmnet(d$X[, -1], d$y, family = "multinomial", lambda = 0)
    loglik_softmax(d$y, predict(g, d$X[, -1], type = "response")[, , 1])
  }
}
results$large <- run_case(label, calls, list(`xentropy (1 thread)` = 1,
                                             `xentropy (2 threads)` = 1,
                                             `xentropy, full Newton (2 threads)` = 1,
                                             `glmnet (lambda = 0)` = 1))
rm(d); invisible(gc())
}

# ---- wide: n = 1e4, p = 1000 ---------------------------------------------
if ("wide" %in% cases) {
n <- round(1e4 * max(scale, 0.1))
d <- sim_binary(n, 1000, 4)
label <- sprintf("wide binary n=%s p=1000", size(n))
cat(label, "\n")
fit_w <- function() logistic_regression(x = d$X, y = d$y)
calls <- list(
  `xentropy (1 thread)` = ours(fit_w, 1),
  `xentropy (2 threads)` = ours(fit_w, 2),
  `glm.fit` = function() -glm.fit(d$X, d$y, family = binomial())$deviance / 2
)
if (have("glmnet")) {
  calls$`glmnet (lambda = 0)` = function() {
    g <- glmnet::glmnet(d$X[, -1], d$y, family = "binomial", lambda = 0)
    loglik_binary(d$y, drop(predict(g, d$X[, -1], type = "response")))
  }
}
results$wide <- run_case(label, calls, list(`glm.fit` = 1, `glmnet (lambda = 0)` = 1))
d <- sim_softmax(n, 1000, 3, 5)
label <- sprintf("wide softmax n=%s p=1000 K=3", size(n))
cat(label, "\n")
calls <- list(
  `xentropy (1 thread)` = ours(function()
    softmax_regression(x = d$X, y = d$y, control = list(hessian = FALSE)), 1),
  `xentropy (2 threads)` = ours(function()
    softmax_regression(x = d$X, y = d$y, control = list(hessian = FALSE)), 2)
)
if (have("glmnet")) {
  calls$`glmnet (lambda = 0)` = function() {
    g <- glmnet::glmnet(d$X[, -1], d$y, family = "multinomial", lambda = 0)
    loglik_softmax(d$y, predict(g, d$X[, -1], type = "response")[, , 1])
  }
}
results$wide_softmax <- run_case(label, calls, list(`glmnet (lambda = 0)` = 1))
}

# ---- report ---------------------------------------------------------------
tab <- do.call(rbind, results)
rownames(tab) <- NULL
fmt <- function(x, d) formatC(x, format = "f", digits = d)
md_rows <- sprintf("| %s | %s | %s | %s | %s | %s | %s |", tab$case, tab$method,
                   fmt(tab$median_s, 3), fmt(tab$speedup_2t, 1),
                   fmt(tab$mem_alloc_MB, 1), formatC(tab$loglik, format = "f", digits = 4),
                   formatC(tab$loglik_gap, format = "g", digits = 3))
load <- tryCatch(readLines("/proc/loadavg")[1], error = function(e) NA)
md <- c(
  "# Fitting benchmark (bench/fit.R)",
  "",
  sprintf("Run %s on %s, R %s, xentropy %s, %s processor(s), load average at the end: %s.",
          format(Sys.time(), "%Y-%m-%d %H:%M %Z"), Sys.info()[["nodename"]],
          getRversion(), packageVersion("xentropy"), parallel::detectCores(), load),
  "",
  "`time / ours` is the method's median time over xentropy's on 2 threads (above 1: slower",
  "than xentropy). `logLik gap` is how far below the best log-likelihood of the case the",
  "method stopped (0 for the best). `R mem` is memory allocated by R (bench::mark's",
  "mem_alloc); the C++ kernels' scratch is not in it, and no method's model matrix copy",
  "is either, except where the method makes one in R.",
  "",
  "| case | method | median (s) | time / ours | R mem (MB) | logLik | logLik gap |",
  "|---|---|---:|---:|---:|---:|---:|",
  md_rows
)
cat("\n", md, sep = "\n")
if (full_size) {
  if (!identical(sort(cases), sort(c("binary", "softmax", "large", "wide")))) {
    results_file <- sub("\\.md$", paste0("-", paste(cases, collapse = "-"), ".md"), results_file)
  }
  writeLines(md, results_file)
  cat("\nwritten to", results_file, "\n")
}
