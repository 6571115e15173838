# Speed of every loss and gradient, as a ratio to reading the input once
# (`sum(Z)` or `sum(z)`), so that two builds can be compared across runs:
#
#   R_LIBS=/tmp/lib-before Rscript bench/loss.R > before.txt
#   R_LIBS=/tmp/lib-after  Rscript bench/loss.R > after.txt
#
# Each expression is timed in three interleaved rounds with bench::mark() and
# the smallest round median is kept (see bench/README.md on noise). Functions
# the installed package does not have are skipped.
suppressPackageStartupMessages(library(xentropy))
scale <- as.numeric(Sys.getenv("XENTROPY_BENCH_SCALE", "1"))
threads <- as.integer(Sys.getenv("XENTROPY_BENCH_THREADS", "1"))
xentropy_threads(threads)
set.seed(1)
n <- round(1e6 * scale)
K <- 10
Z <- matrix(rnorm(n * K, sd = 2), n, K)
labels <- sample.int(K, n, replace = TRUE)
P <- softmax(Z)
w <- runif(n)
nb <- round(1e7 * scale)
z <- rnorm(nb, sd = 3)
yb <- rbinom(nb, 1, 0.3)
yl <- yb == 1
p <- sigmoid(z)
wb <- runif(nb)
cw <- seq(0.5, 2, length.out = K)

rows <- list(
  floor_matrix = quote(sum(Z)),
  floor_vector = quote(sum(z)),
  cross_entropy_loss = quote(cross_entropy_loss(labels, P)),
  softmax_cross_entropy = quote(softmax_cross_entropy(labels, Z)),
  softmax_cross_entropy_w = quote(softmax_cross_entropy(labels, Z, weights = w)),
  softmax_cross_entropy_none = quote(softmax_cross_entropy(labels, Z, reduction = "none")),
  softmax_cross_entropy_smooth = quote(softmax_cross_entropy(labels, Z, label_smoothing = 0.1)),
  softmax_cross_entropy_grad = quote(softmax_cross_entropy_grad(labels, Z)),
  softmax_cross_entropy_cw = quote(softmax_cross_entropy(labels, Z, class_weights = cw)),
  softmax_focal_loss = quote(softmax_focal_loss(labels, Z)),
  softmax_focal_loss_grad = quote(softmax_focal_loss_grad(labels, Z)),
  binary_cross_entropy = quote(binary_cross_entropy(yb, p)),
  binary_cross_entropy_shared = quote(binary_cross_entropy(yb, 0.3)),
  sigmoid_cross_entropy = quote(sigmoid_cross_entropy(yb, z)),
  sigmoid_cross_entropy_lgl = quote(sigmoid_cross_entropy(yl, z)),
  sigmoid_cross_entropy_w = quote(sigmoid_cross_entropy(yb, z, weights = wb)),
  sigmoid_cross_entropy_none = quote(sigmoid_cross_entropy(yb, z, reduction = "none")),
  sigmoid_cross_entropy_grad = quote(sigmoid_cross_entropy_grad(yb, z)),
  sigmoid_focal_loss = quote(sigmoid_focal_loss(yb, z)),
  sigmoid_focal_loss_grad = quote(sigmoid_focal_loss_grad(yb, z))
)

available <- function(e) {
  f <- as.character(e[[1]])
  f == "sum" || (exists(f, envir = asNamespace("xentropy")) &&
                   (!"class_weights" %in% names(e) ||
                      "class_weights" %in% names(formals(get(f, asNamespace("xentropy"))))))
}
rows <- rows[vapply(rows, available, logical(1))]
best <- setNames(rep(Inf, length(rows)), names(rows))
for (round in 1:3) {
  for (nm in names(rows)) {
    m <- bench::mark(eval(rows[[nm]]), min_iterations = 5, max_iterations = 50,
                     check = FALSE, filter_gc = FALSE, time_unit = "s")
    best[nm] <- min(best[nm], as.numeric(m$median))
  }
}
floor <- ifelse(grepl("^(cross|softmax)", names(best)), best["floor_matrix"],
                best["floor_vector"])
out <- data.frame(expr = names(best), median_ms = round(best * 1e3, 2),
                  ratio_to_floor = round(best / floor, 3), row.names = NULL)
cat(sprintf("# xentropy %s, %d thread(s), n = %.0f x %d and %.0f, load %s\n",
            as.character(packageVersion("xentropy")), threads, n, K, nb,
            paste(readLines("/proc/loadavg", warn = FALSE), collapse = " ")))
print(out, row.names = FALSE)
