# Large inputs against their memory floor, side by side in one run: each
# kernel is timed next to a base-R operation that reads the same inputs once
# (sum) or reads them and writes an output of the result's size (-x), and
# the ratio of the medians is reported. Timings interleave the two, so load
# from other processes affects both alike. Run from the repository root:
#   R_LIBS=<library with xentropy> Rscript bench/floor.R [threads] [reps]
library(xentropy)
args <- commandArgs(TRUE)
threads <- if (length(args) >= 1) as.integer(args[1]) else 1L
reps <- if (length(args) >= 2) as.integer(args[2]) else 15L
xentropy_threads(threads)
set.seed(1)
q <- runif(1e7)
P <- matrix(rexp(1e7), 1e6)
P <- P / rowSums(P)
Q <- P[c(2:1e6, 1), ]
Z <- matrix(rnorm(1e7), 10)  # 10 x 1e6: margin = 2 sums over 10 rows
Zr <- matrix(rnorm(1e7), 1e6)
cases <- list(
  "logit(q), 1e7" = list(function() logit(q), function() -q),
  "sigmoid(q), 1e7" = list(function() sigmoid(q), function() -q),
  "log1mexp(q), 1e7" = list(function() log1mexp(q), function() -q),
  "logdiffexp(q, -q), 1e7" = list(function() logdiffexp(q, -q), function() q - q),
  "entropy(P), 1e6 x 10" = list(function() entropy(P), function() sum(P)),
  "cross_entropy(P, Q), 1e6 x 10" = list(function() cross_entropy(P, Q), function() sum(P) + sum(Q)),
  "kl_divergence(P, Q), 1e6 x 10" = list(function() kl_divergence(P, Q), function() sum(P) + sum(Q)),
  "logsumexp(Zr), 1e6 x 10" = list(function() logsumexp(Zr), function() sum(Zr)),
  "logsumexp(Z, 2), 10 x 1e6" = list(function() logsumexp(Z, 2), function() sum(Z)),
  "softmax(Zr), 1e6 x 10" = list(function() softmax(Zr), function() -Zr),
  "softmax(Z, 2), 10 x 1e6" = list(function() softmax(Z, 2), function() -Z),
  "log_softmax(Z, 2), 10 x 1e6" = list(function() log_softmax(Z, 2), function() -Z)
)
only <- Sys.getenv("XENTROPY_FLOOR_ONLY")
if (nzchar(only)) cases <- cases[grepl(only, names(cases), fixed = TRUE)]
time1 <- function(f) { gc(FALSE); system.time(f())[["elapsed"]] }
res <- t(vapply(cases, function(cs) {
  ours <- floor <- numeric(reps)
  for (r in seq_len(reps)) {
    ours[r] <- time1(cs[[1]])
    floor[r] <- time1(cs[[2]])
  }
  c(ours_ms = 1000 * median(ours), floor_ms = 1000 * median(floor),
    ratio = median(ours) / median(floor))
}, numeric(3)))
cat(sprintf("threads = %d, median of %d (measured under whatever load there is)\n", threads, reps))
print(round(res, 2))
