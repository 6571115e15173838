# Speed of the calibration metrics and of the temperature fit.
#
# Run from the repository root, after installing the package:
#   Rscript bench/calibration.R
# Times each metric on a 1e6 x 10 probability matrix (and the fits on the
# logits behind it) with 1 and 2 threads, next to the time to read the input
# once (sum(P)) and to an R idiom computing the same number; writes the table
# to bench/calibration-results.md. XENTROPY_BENCH_SCALE=0.01 shrinks the data
# for a quick trial (then the table goes to a temporary file).

options(width = 200)
suppressPackageStartupMessages({
  library(xentropy)
  library(bench)
})

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "bench")
})
scale <- as.numeric(Sys.getenv("XENTROPY_BENCH_SCALE", "1"))
results_file <- if (scale == 1) file.path(script_dir, "calibration-results.md") else
  tempfile("calibration-results-", fileext = ".md")

n <- round(1e6 * scale)
K <- 10
set.seed(1)
Z <- matrix(rnorm(n * K, sd = 2), n, K)
P <- softmax(Z)
u <- runif(n)
cum <- P %*% upper.tri(diag(K), diag = TRUE)
y <- as.integer(1 + rowSums(u > cum[, -K]))  # drawn from P: calibrated
Zhot <- 2.5 * Z                             # over-confident logits
z <- Z[, 1] - Z[, 2]
yb <- runif(n) < sigmoid(z / 2)
rm(cum, u)

time_of <- function(expr, env = parent.frame()) {
  expr <- substitute(expr)
  m <- bench::mark(eval(expr, env), min_iterations = 5, min_time = 0.5,
                   check = FALSE, memory = TRUE, filter_gc = FALSE)
  c(median = as.numeric(m$median), mem = as.numeric(m$mem_alloc))
}

# R idioms for the same numbers (what a user writes without the package)
idiom_brier <- function(y, P) mean(rowSums((P - diag(ncol(P))[y, ])^2))
idiom_ece <- function(y, P, B = 15) {
  a <- max.col(P, ties.method = "first")
  conf <- P[cbind(seq_along(y), a)]
  b <- pmin(pmax(ceiling(conf * B), 1), B)
  hit <- a == y
  cnt <- tabulate(b, B)
  gap <- abs(rowsum(hit + 0, b)[, 1] - rowsum(conf, b)[, 1])
  sum(gap) / length(y)
}
idiom_top2 <- function(y, P) {
  mean(rowSums(P > P[cbind(seq_along(y), y)]) < 2)
}

cases <- list(
  list("read once: sum(P)", quote(sum(P)), NULL),
  list("brier_score(y, P)", quote(brier_score(y, P)), quote(idiom_brier(y, P))),
  list("calibration_error(y, P)", quote(calibration_error(y, P)), quote(idiom_ece(y, P))),
  list("calibration_error(classwise)", quote(calibration_error(y, P, type = "classwise")), NULL),
  list("calibration_error(equal-mass)", quote(calibration_error(y, P, binning = "equal-mass")), NULL),
  list("calibration_error(classwise, equal-mass)",
       quote(calibration_error(y, P, type = "classwise", binning = "equal-mass")), NULL),
  list("reliability_table(y, P)", quote(reliability_table(y, P)), NULL),
  list("top_k_accuracy(y, P, k = 2)", quote(top_k_accuracy(y, P, k = 2)), quote(idiom_top2(y, P))),
  list("softmax_cross_entropy(y, Z) (one loss pass)", quote(softmax_cross_entropy(y, Zhot)), NULL),
  list("temperature_scaling(y, 2.5 Z)", quote(temperature_scaling(y, Zhot)), NULL),
  list("  idiom: optimize() over T of the loss",
       NULL, quote(optimize(function(T) softmax_cross_entropy(y, Zhot / T), c(0.05, 20)))),
  list("  idiom: the ECE before and after from softmax matrices",
       NULL, quote(for (T in c(1, 2.5)) calibration_error(y, softmax(Zhot / T)))),
  list("temperature_scaling(yb, z) (binary)", quote(temperature_scaling(yb, z)), NULL),
  list("temperature_scaling(yb, z, \"platt\")", quote(temperature_scaling(yb, z, method = "platt")), NULL)
)

old <- xentropy_threads()
rows <- list()
for (cs in cases) {
  t1 <- t2 <- c(median = NA, mem = NA)
  if (!is.null(cs[[2]])) {
    xentropy_threads(1)
    t1 <- time_of(eval(cs[[2]]))
    xentropy_threads(2)
    t2 <- time_of(eval(cs[[2]]))
  }
  ti <- if (is.null(cs[[3]])) c(median = NA, mem = NA) else time_of(eval(cs[[3]]))
  rows[[length(rows) + 1]] <- data.frame(
    what = cs[[1]], ms_1t = 1e3 * t1[["median"]], ms_2t = 1e3 * t2[["median"]],
    mb_alloc = t1[["mem"]] / 2^20, idiom_ms = 1e3 * ti[["median"]]
  )
  cat(sprintf("%-48s %8.1f ms %8.1f ms %8.1f ms\n", cs[[1]], 1e3 * t1[["median"]],
              1e3 * t2[["median"]], 1e3 * ti[["median"]]))
}
xentropy_threads(old)
tab <- do.call(rbind, rows)
floor_ms <- tab$ms_1t[1]
tab$x_read_1t <- tab$ms_1t / floor_ms
fits <- list(
  multiclass = temperature_scaling(y, Zhot),
  binary = temperature_scaling(yb, z),
  platt = temperature_scaling(yb, z, method = "platt")
)
loss_ms <- tab$ms_1t[tab$what == "softmax_cross_entropy(y, Z) (one loss pass)"]

fmt <- function(x, d = 1) ifelse(is.na(x), "", formatC(x, format = "f", digits = d))
lines <- c(
  "# Calibration benchmarks",
  "",
  sprintf("`Rscript bench/calibration.R` on %s, R %s, %s; %s x %d matrices (%s).",
          format(Sys.Date()), getRversion(), R.version$platform, format(n, big.mark = ","), K,
          "rows are observations"),
  sprintf("CPU: %s; %d cores seen. Medians of `bench::mark()` (>= 5 runs, >= 0.5 s).",
          tryCatch(trimws(sub(".*: ", "", grep("model name", readLines("/proc/cpuinfo"), value = TRUE)[1])),
                   error = function(e) "unknown"), parallel::detectCores()),
  sprintf("Load average when run (1, 5, 15 min): %s. On a shared machine the absolute times and the 2-thread column mean little; the ratios to `sum(P)` in the same run are the comparable numbers.",
          tryCatch(paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = ", "),
                   error = function(e) "unknown")),
  "",
  "| what | 1 thread (ms) | 2 threads (ms) | x read once (1 thread) | allocated (MB) | R idiom (ms) |",
  "|---|---:|---:|---:|---:|---:|",
  sprintf("| %s | %s | %s | %s | %s | %s |", tab$what, fmt(tab$ms_1t), fmt(tab$ms_2t),
          fmt(tab$x_read_1t, 2), fmt(tab$mb_alloc, 2), fmt(tab$idiom_ms)),
  "",
  "Temperature fits (passes over the logits, each about one loss evaluation):",
  "",
  "| fit | passes | Newton steps | T or (a, b) | temperature_scaling() time / one loss pass |",
  "|---|---:|---:|---|---:|",
  sprintf("| %s | %d | %d | %s | %s |", names(fits),
          vapply(fits, `[[`, 0L, "passes"), vapply(fits, `[[`, 0L, "iterations"),
          vapply(fits, function(f) if (f$method == "platt")
            sprintf("a = %.4f, b = %.4f", f$coefficients[["a"]], f$coefficients[["b"]]) else
              sprintf("T = %.4f", f$temperature), ""),
          c(fmt(tab$ms_1t[tab$what == "temperature_scaling(y, 2.5 Z)"] / loss_ms), "", "")),
  "",
  "`temperature_scaling()` is the Newton fit plus the top-label ECE before and",
  "after, each one pass over the logits, in one call of its C entry; the two",
  "idiom rows are `optimize()` over T of `softmax_cross_entropy(y, Z / T)` (the",
  "fit) and the ECE of the two softmax matrices (forming and binning them).",
  "R idioms: `mean(rowSums((P - diag(K)[y, ])^2))`; top-label ECE with",
  "`max.col()`, `ceiling()` and `rowsum()`; `mean(rowSums(P > P[cbind(i, y)]) < 2)`."
)
writeLines(lines, results_file)
cat("\nwritten to", results_file, "\n")
