# Speed benchmark of xentropy: every exported function on small inputs against
# base R's nearest function, and on large inputs against the floor (the time R
# needs just to read the inputs once, or to read them and write an output of
# the result's size).
#
# Run from the repository root, after installing the package:
#   Rscript bench/run.R
# Prints two tables and writes them, with the machine they came from and the
# goals of issue 11, to bench/results.md. Not part of R CMD check or the tests.
# Everything is measured side by side in one run, so the ratios are
# comparable even on a noisy machine; the absolute times are not.
#
# Rows are declared below for every function the package has or is planned to
# have; a function the installed package does not export is skipped with a
# line saying so, and a call that fails (e.g. a signature that changed) is
# reported and skipped, so the script runs at every stage of development.
#
# XENTROPY_BENCH_SCALE (default 1) shrinks the large data for a quick trial
# of the script (its numbers mean little, and it writes to a temporary file).
# XENTROPY_BENCH_ONLY="small" or "large" runs one of the two parts.
# XENTROPY_BENCH_OUT names another file to write instead of bench/results.md.
# XENTROPY_BENCH_FILTER (a regular expression) keeps only the rows whose call
# matches it, e.g. "Zs" for the short-column rows (the tables then go to a
# temporary file unless XENTROPY_BENCH_OUT is set).

options(width = 250, warn = 1)
suppressPackageStartupMessages({
  library(xentropy)
  library(bench)
  library(matrixStats)
})

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "bench")
})
results_file <- file.path(script_dir, "results.md")

scale <- as.numeric(Sys.getenv("XENTROPY_BENCH_SCALE", "1"))
row_filter <- Sys.getenv("XENTROPY_BENCH_FILTER", "")
if (scale != 1 || nzchar(row_filter)) results_file <- file.path(tempdir(), "results.md")
results_file <- Sys.getenv("XENTROPY_BENCH_OUT", results_file)
only <- Sys.getenv("XENTROPY_BENCH_ONLY", "")
run_small <- only %in% c("", "small")
run_large <- only %in% c("", "large")

# Goals of issue 11.
goal_small <- 1.5  # at most this many times base R's nearest function
goal_large <- 1.3  # at most this many times the floor (2 threads)

# Large runs: each expression in `rounds` interleaved rounds, the smallest
# round median kept; a row during which other processes kept more than
# `busy_limit` cores busy is measured once more.
min_iterations <- 5
min_time <- 0.4
rounds <- 3
busy_limit <- 0.25
# Small runs: many iterations, so that a median of a microsecond is stable.
small_min_time <- 0.25
small_rounds <- 3

has <- function(f) {
  exists(f, envir = as.environment("package:xentropy"), inherits = FALSE)
}

# --- data ---------------------------------------------------------------------
# Small: a length-1 vector, a 10 x 3 matrix, two-class distributions.
set.seed(20261125)
s <- new.env()
with(s, {
  Z <- matrix(rnorm(30), 10, 3)
  P <- exp(Z - rowMaxs(Z)); P <- P / rowSums(P)
  labels <- sample.int(3, 10, replace = TRUE)
  i <- seq_len(10)
  onehot <- diag(3)[labels, ]
  p <- c(0.5, 0.5)
  q <- c(0.25, 0.75)
  counts <- c(1, 2, 3)
  pk <- c(0.2, 0.3, 0.5)
  Q <- P[10:1, ]
  C <- matrix(rpois(30, 3), 10, 3) + 0
})

# Large: 1e7-element vectors and 1e6 x 10 matrices (and Zs, 10 x 1e6: a
# million short columns), made only when a row uses them (delayedAssign), so
# that memory holds what is measured.
n_vec <- round(1e7 * scale)
n_row <- round(1e6 * scale)
n_col <- 10
size_text <- function(n) {
  k <- floor(log10(n))
  if (n == 10^k) paste0("1e", k) else format(n, big.mark = ",")
}
vec_size <- size_text(n_vec)
mat_size <- paste(size_text(n_row), "x", n_col)
short_size <- paste(n_col, "x", size_text(n_row))
L <- new.env()
local({
  set.seed(20261124)
  delayedAssign("x", rnorm(n_vec, sd = 4), assign.env = L)
  delayedAssign("xp", abs(x) + 1e-3, eval.env = L, assign.env = L)
  delayedAssign("xb", x - rexp(n_vec), eval.env = L, assign.env = L)
  delayedAssign("prob", runif(n_vec), assign.env = L)
  delayedAssign("y", as.double(runif(n_vec) < plogis(x)), eval.env = L, assign.env = L)
  delayedAssign("Z", matrix(rnorm(n_row * n_col, sd = 2), n_row, n_col), assign.env = L)
  delayedAssign("Zs", matrix(rnorm(n_row * n_col, sd = 2), n_col, n_row), assign.env = L)
  delayedAssign("P", { e <- exp(Z - rowMaxs(Z)); e / rowSums(e) }, eval.env = L,
                assign.env = L)
  delayedAssign("Q", P[, c(2:n_col, 1L)], eval.env = L, assign.env = L)
  delayedAssign("W", matrix(runif(n_row * n_col), n_row, n_col), assign.env = L)
  delayedAssign("C", matrix(rpois(n_row * n_col, 3), n_row, n_col) + 0,
                assign.env = L)
  delayedAssign("labels", sample.int(n_col, n_row, replace = TRUE), assign.env = L)
  delayedAssign("i", seq_len(n_row), assign.env = L)
})
# what each derived variable is computed from (kept while it may be needed)
depends <- list(xp = "x", xb = "x", y = "x", P = "Z", Q = c("P", "Z"))
# free a large variable once no remaining row needs it
forget <- function(names) {
  for (nm in names) if (exists(nm, envir = L, inherits = FALSE)) rm(list = nm, envir = L)
}

# --- the rows -------------------------------------------------------------------
# fun: the exported function (the row is skipped when it is absent).
# small / small_idiom: calls in `s`; large / large_idiom: calls in `L`;
# floor: the cheapest R that reads the inputs once (and writes the result's
# size when the result is as large as the input). NULL: not measured. A
# label-indexed read of P (one entry per row) touches most of P's cache
# lines when there are 10 columns, so its floor is sum(P).
row <- function(fun, small = NULL, small_idiom = NULL, large = NULL,
                large_idiom = NULL, floor = NULL, size = NULL, label = NULL,
                vars = character()) {
  list(fun = fun, label = if (is.null(label)) deparse(small %||% large) else label,
       small = small, small_idiom = small_idiom, large = large,
       large_idiom = large_idiom, floor = floor, size = size, vars = vars)
}
`%||%` <- function(a, b) if (is.null(a)) b else a

ops <- list(
  # link functions
  row("sigmoid", quote(sigmoid(0.5)), quote(plogis(0.5)),
      quote(sigmoid(x)), quote(plogis(x)), quote(-x), vec_size),
  row("logit", quote(logit(0.3)), quote(qlogis(0.3)),
      quote(logit(prob)), quote(qlogis(prob)), quote(-prob), vec_size),
  row("log_sigmoid", quote(log_sigmoid(0.5)), quote(plogis(0.5, log.p = TRUE)),
      quote(log_sigmoid(x)), quote(plogis(x, log.p = TRUE)), quote(-x), vec_size),
  # the exact base-R function (log1p(exp(x)) overflows for x > 709)
  row("softplus", quote(softplus(0.5)), quote(-plogis(-0.5, log.p = TRUE)),
      quote(softplus(x)), quote(-plogis(-x, log.p = TRUE)), quote(-x), vec_size),
  row("log1mexp", quote(log1mexp(0.5)), quote(log(-expm1(-0.5))),
      quote(log1mexp(xp)), quote(ifelse(xp <= log(2), log(-expm1(-xp)), log1p(-exp(-xp)))),
      quote(-xp), vec_size),
  row("logdiffexp", quote(logdiffexp(1, 0.5)), quote(1 + log1p(-exp(0.5 - 1))),
      quote(logdiffexp(x, xb)), quote(x + log1p(-exp(xb - x))), quote(x - xb), vec_size),
  # normalisers
  row("logsumexp", quote(logsumexp(Z)), quote(rowLogSumExps(Z)),
      quote(logsumexp(Z)), quote(rowLogSumExps(Z)), quote(sum(Z)), mat_size),
  row("logsumexp", quote(logsumexp(Z, margin = 2)), quote(colLogSumExps(Z)),
      quote(logsumexp(Z, margin = 2)), quote(colLogSumExps(Z)), quote(sum(Z)), mat_size),
  row("logsumexp", quote(logsumexp(Z, weights = P)), quote(rowLogSumExps(Z + log(P))),
      quote(logsumexp(Z, weights = W)), quote(rowLogSumExps(Z + log(W))),
      quote(sum(Z) + sum(W)), mat_size, label = "logsumexp(Z, weights = W)"),
  row("softmax", quote(softmax(Z)), quote({ e <- exp(Z - rowMaxs(Z)); e / rowSums(e) }),
      quote(softmax(Z)), quote({ e <- exp(Z - rowMaxs(Z)); e / rowSums(e) }), quote(Z + 0),
      mat_size),
  row("softmax", quote(softmax(Z, margin = 2)),
      quote({ e <- exp(t(t(Z) - colMaxs(Z))); t(t(e) / colSums(e)) }),
      quote(softmax(Z, margin = 2)),
      quote({ e <- exp(t(t(Z) - colMaxs(Z))); t(t(e) / colSums(e)) }), quote(Z + 0),
      mat_size),
  row("log_softmax", quote(log_softmax(Z)), quote(Z - rowLogSumExps(Z)),
      quote(log_softmax(Z)), quote(Z - rowLogSumExps(Z)), quote(Z + 0), mat_size),
  row("log_softmax", quote(log_softmax(Z, margin = 2)), quote(t(t(Z) - colLogSumExps(Z))),
      quote(log_softmax(Z, margin = 2)), quote(t(t(Z) - colLogSumExps(Z))), quote(Z + 0),
      mat_size),
  # a million short columns (margin = 2 on 10 x 1e6): large input only
  row("logsumexp", NULL, NULL, quote(logsumexp(Zs, margin = 2)), quote(colLogSumExps(Zs)),
      quote(sum(Zs)), short_size),
  row("softmax", NULL, NULL, quote(softmax(Zs, margin = 2)),
      quote({ e <- exp(t(t(Zs) - colMaxs(Zs))); t(t(e) / colSums(e)) }), quote(Zs + 0),
      short_size),
  row("log_softmax", NULL, NULL, quote(log_softmax(Zs, margin = 2)),
      quote(t(t(Zs) - colLogSumExps(Zs))), quote(Zs + 0), short_size),
  # information measures
  row("entropy", quote(entropy(p)), quote(-sum(p * log(p))),
      quote(entropy(P)), quote(-rowSums(P * log(P))), quote(sum(P)), mat_size),
  row("cross_entropy", quote(cross_entropy(p, q)), quote(-sum(p * log(q))),
      quote(cross_entropy(P, Q)), quote(-rowSums(P * log(Q))), quote(sum(P) + sum(Q)),
      mat_size),
  row("kl_divergence", quote(kl_divergence(p, q)), quote(sum(p * log(p / q))),
      quote(kl_divergence(P, Q)), quote(rowSums(P * log(P / Q))), quote(sum(P) + sum(Q)),
      mat_size),
  # the rows of a small matrix
  row("entropy", quote(entropy(P)), quote(-rowSums(P * log(P)))),
  row("cross_entropy", quote(cross_entropy(P, Q)), quote(-rowSums(P * log(Q)))),
  row("kl_divergence", quote(kl_divergence(P, Q)), quote(rowSums(P * log(P / Q)))),
  # likelihoods
  row("loglik_bernoulli", quote(loglik_bernoulli(1, 0.3)), quote(dbinom(1, 1, 0.3, log = TRUE)),
      quote(loglik_bernoulli(y, prob)), quote(sum(dbinom(y, 1, prob, log = TRUE))),
      quote(sum(y) + sum(prob)), vec_size),
  row("loglik_categorical", quote(loglik_categorical(labels, P)),
      quote(sum(log(P[cbind(i, labels)]))),
      quote(loglik_categorical(labels, P)), quote(sum(log(P[cbind(i, labels)]))),
      quote(sum(P)), mat_size),
  row("loglik_multinomial", quote(loglik_multinomial(counts, pk)),
      quote(dmultinom(counts, prob = pk, log = TRUE)),
      quote(loglik_multinomial(C, P)),
      quote(rowSums(C * log(P)) + lgamma(rowSums(C) + 1) - rowSums(lgamma(C + 1))),
      quote(sum(C) + sum(P)), mat_size),
  row("loglik_multinomial", quote(loglik_multinomial(C, P)),
      quote(rowSums(C * log(P)) + lgamma(rowSums(C) + 1) - rowSums(lgamma(C + 1)))),
  row("mle_categorical", quote(mle_categorical(labels)),
      quote(tabulate(labels, 3) / length(labels)),
      quote(mle_categorical(labels)), quote(tabulate(labels, 10) / length(labels)),
      quote(sum(labels)), size_text(n_row)),
  # losses
  row("cross_entropy_loss", quote(cross_entropy_loss(labels, P)),
      quote(-mean(log(P[cbind(i, labels)]))),
      quote(cross_entropy_loss(labels, P)), quote(-mean(log(P[cbind(i, labels)]))),
      quote(sum(P)), mat_size),
  row("softmax_cross_entropy", quote(softmax_cross_entropy(labels, Z)),
      quote(mean(rowLogSumExps(Z) - Z[cbind(i, labels)])),
      quote(softmax_cross_entropy(labels, Z)),
      quote(mean(rowLogSumExps(Z) - Z[cbind(i, labels)])), quote(sum(Z)), mat_size),
  row("binary_cross_entropy", quote(binary_cross_entropy(1, 0.3)),
      quote(-(1 * log(0.3) + (1 - 1) * log1p(-0.3))),
      quote(binary_cross_entropy(y, prob)),
      quote(-mean(y * log(prob) + (1 - y) * log1p(-prob))), quote(sum(y) + sum(prob)),
      vec_size),
  row("sigmoid_cross_entropy", quote(sigmoid_cross_entropy(1, 0.5)),
      quote(max(0.5, 0) - 0.5 * 1 + log1p(exp(-abs(0.5)))),
      quote(sigmoid_cross_entropy(y, x)),
      quote(mean(pmax(x, 0) - x * y + log1p(exp(-abs(x))))), quote(sum(y) + sum(x)),
      vec_size),
  row("softmax_focal_loss", quote(softmax_focal_loss(labels, Z)), NULL,
      quote(softmax_focal_loss(labels, Z)), NULL, quote(sum(Z)), mat_size),
  row("sigmoid_focal_loss", quote(sigmoid_focal_loss(1, 0.5)), NULL,
      quote(sigmoid_focal_loss(y, x)), NULL, quote(sum(y) + sum(x)), vec_size),
  row("brier_score", quote(brier_score(labels, P)), quote(mean(rowSums((P - onehot)^2))),
      quote(brier_score(labels, P)), NULL, quote(sum(P)), mat_size),
  row("calibration_error", quote(calibration_error(labels, P)), NULL,
      quote(calibration_error(labels, P)), NULL, quote(sum(P)), mat_size),
  row("reliability_table", quote(reliability_table(labels, P)), NULL,
      quote(reliability_table(labels, P)), NULL, quote(sum(P)), mat_size),
  row("top_k_accuracy", quote(top_k_accuracy(labels, Z)),
      quote(mean(max.col(Z, "first") == labels)),
      quote(top_k_accuracy(labels, Z)), quote(mean(max.col(Z, "first") == labels)),
      quote(sum(Z)), mat_size),
  # gradients
  row("softmax_cross_entropy_grad", quote(softmax_cross_entropy_grad(labels, Z)),
      quote({ e <- exp(Z - rowMaxs(Z)); G <- e / rowSums(e)
          G[cbind(i, labels)] <- G[cbind(i, labels)] - 1; G / nrow(Z) }),
      quote(softmax_cross_entropy_grad(labels, Z)),
      quote({ e <- exp(Z - rowMaxs(Z)); G <- e / rowSums(e)
          G[cbind(i, labels)] <- G[cbind(i, labels)] - 1; G / nrow(Z) }),
      quote(Z + 0), mat_size),
  row("sigmoid_cross_entropy_grad", quote(sigmoid_cross_entropy_grad(1, 0.5)),
      quote(plogis(0.5) - 1),
      quote(sigmoid_cross_entropy_grad(y, x)), quote((plogis(x) - y) / length(x)),
      quote(x - y), vec_size),
  row("softmax_focal_loss_grad", quote(softmax_focal_loss_grad(labels, Z)), NULL,
      quote(softmax_focal_loss_grad(labels, Z)), NULL, quote(Z + 0), mat_size),
  row("sigmoid_focal_loss_grad", quote(sigmoid_focal_loss_grad(1, 0.5)), NULL,
      quote(sigmoid_focal_loss_grad(y, x)), NULL, quote(x - y), vec_size),
  # calibration by temperature: an optimisation, small input only
  row("temperature_scaling", quote(temperature_scaling(labels, Z)), NULL)
)
not_benchmarked <- c(
  xentropy_threads = "a setting, not a computation",
  logistic_regression = "model fitting: see bench/fit.R",
  softmax_regression = "model fitting: see bench/fit.R"
)

# Every exported function is either a row or listed as not benchmarked.
exported <- getNamespaceExports("xentropy")
exported <- exported[vapply(exported, function(f) is.function(get(f, asNamespace("xentropy"))),
                            logical(1))]
without_row <- setdiff(exported, c(vapply(ops, `[[`, "", "fun"), names(not_benchmarked)))

# --- measuring ----------------------------------------------------------------
fmt_time <- function(t) {
  ifelse(is.na(t), "-", ifelse(t < 1e-3, sprintf("%.2f us", 1e6 * t),
                               sprintf("%.1f ms", 1e3 * t)))
}
fmt_ratio <- function(r) ifelse(is.na(r), "-", sprintf("%.2fx", r))
fmt_bytes <- function(b) ifelse(is.na(b), "-", trimws(format(bench::as_bench_bytes(b))))
met <- function(ok) ifelse(is.na(ok), "-", ifelse(ok, "met", "NOT met"))

# One bench::mark() of one expression: median seconds and bytes R allocated
# (bench measures the allocations of one evaluation; every expression is
# evaluated before, so one-time costs such as lazy loading are not counted).
# Garbage collections are not filtered out.
measure_once <- function(expr, env, min_time, min_iterations) {
  m <- bench::mark(exprs = list(expr), env = env, check = FALSE,
                   min_iterations = min_iterations, min_time = min_time,
                   filter_gc = FALSE, memory = TRUE, time_unit = "s")
  list(median = as.numeric(m$median), mem = as.numeric(m$mem_alloc))
}

# Interleaved rounds (A B C, A B C, ...), keeping each expression's smallest
# round median: a burst of load from another process spoils one round, not
# the comparison. `tasks`: named list of list(expr, threads); NA threads: R.
measure <- function(tasks, env, rounds, min_time, min_iterations, gc_first = TRUE) {
  out <- lapply(tasks, function(t) list(median = Inf, mem = NA_real_))
  for (r in seq_len(rounds)) {
    for (nm in names(tasks)) {
      t <- tasks[[nm]]
      if (!is.na(t$threads)) xentropy_threads(t$threads)
      if (gc_first) invisible(gc(verbose = FALSE))
      m <- measure_once(t$expr, env, min_time, min_iterations)
      out[[nm]]$median <- min(out[[nm]]$median, m$median)
      out[[nm]]$mem <- max(out[[nm]]$mem, m$mem, na.rm = TRUE)
    }
  }
  out
}

cpu_busy <- function() {
  tryCatch({
    v <- as.numeric(strsplit(readLines("/proc/stat", n = 1L), " +")[[1]][-1])
    (sum(v[1:8]) - v[4] - v[5]) / 100  # all but idle and iowait, in seconds
  }, error = function(e) NA_real_)
}
own_cpu <- function() sum(proc.time()[c("user.self", "sys.self")])

# One line of code for a table, braces joined with "; ".
expr_text <- function(e) {
  if (is.null(e)) return("-")
  l <- trimws(deparse(e, width.cutoff = 500L))
  if (length(l) > 2L && l[1] == "{") {
    return(paste0("{ ", paste(l[-c(1L, length(l))], collapse = "; "), " }"))
  }
  paste(l, collapse = " ")
}

# Evaluates `expr` in `env`; on an error returns a string starting "error: ".
try_eval <- function(expr, env) {
  tryCatch(eval(expr, env), error = function(e) {
    structure(paste("error:", conditionMessage(e)), class = "bench_failure")
  })
}
failed <- function(v) inherits(v, "bench_failure")

same_values <- function(a, b) {
  if (is.null(b)) return(NA)
  isTRUE(all.equal(unclass(a), unclass(b), check.attributes = FALSE,
                   tolerance = 1e-10))
}

old_threads <- xentropy_threads()
skipped <- character()
notes <- character()
t_start <- Sys.time()
busy_start <- cpu_busy()
own_start <- own_cpu()
load_start <- tryCatch(readLines("/proc/loadavg")[1], error = function(e) NA)
present <- vapply(ops, function(o) has(o$fun), logical(1))
for (o in ops[!present]) {
  line <- sprintf("%s: %s() is not in the installed xentropy.", o$label, o$fun)
  if (!line %in% skipped) skipped <- c(skipped, line)
}
if (length(skipped)) cat(paste0("skipped ", skipped, "\n"), sep = "")

# --- small inputs ---------------------------------------------------------------
# The R call floor of a small call: the same call to a byte-compiled closure
# with the function's own formals that forces the arguments it is given (not
# the defaults) and makes one .Call to a routine that does nothing. It is
# what any R function with that signature costs before doing any work: where
# it is already above the goal, no R-level function can meet it.
call_floor <- function(fun, call) {
  f <- getExportedValue("xentropy", fun)
  fm <- formals(f)
  given <- names(as.list(match.call(f, call))[-1])
  forced <- names(fm)[names(fm) %in% given]
  g <- f
  body(g) <- as.call(c(as.name("{"), lapply(forced, as.name), list(quote(.Call(noop, NA)))))
  environment(g) <- list2env(list(noop = getFromNamespace("xentropy_entry_switch", "xentropy")),
                             parent = baseenv())
  call[[1]] <- compiler::cmpfun(g)
  call
}

small_rows <- list()
if (run_small) {
  cat("\nSmall inputs (length 1, 10 x 3, two classes); default threads\n")
  for (o in ops[present]) {
    if (is.null(o$small) || (nzchar(row_filter) && !grepl(row_filter, expr_text(o$small)))) next
    label <- expr_text(o$small)
    v <- try_eval(o$small, s)
    if (failed(v)) {
      notes <- c(notes, sprintf("small `%s`: %s", label, v))
      cat("  ", label, ": ", v, "\n", sep = "")
      next
    }
    vi <- if (!is.null(o$small_idiom)) try_eval(o$small_idiom, s)
    if (failed(vi)) vi <- NULL
    # warm up: one-time costs (lazy loading, byte-compiling) are not measured
    for (k in 1:20) { eval(o$small, s); if (!is.null(vi)) eval(o$small_idiom, s) }
    tasks <- list(ours = list(expr = o$small, threads = NA),
                  floor = list(expr = call_floor(o$fun, o$small), threads = NA))
    if (!is.null(vi)) tasks$idiom <- list(expr = o$small_idiom, threads = NA)
    m <- measure(tasks, s, small_rounds, small_min_time, 1000, gc_first = FALSE)
    small_rows[[length(small_rows) + 1L]] <- data.frame(
      fun = o$fun, call = label,
      idiom = if (is.null(vi)) "-" else expr_text(o$small_idiom),
      ours = m$ours$median, base = if (is.null(vi)) NA else m$idiom$median,
      floor = m$floor$median,
      mem = m$ours$mem, result = as.numeric(object.size(v)),
      same = same_values(v, vi), stringsAsFactors = FALSE)
    cat(sprintf("  %-45s %10s  base R %10s\n", label, fmt_time(m$ours$median),
                if (is.null(vi)) "-" else fmt_time(m$idiom$median)))
  }
}
small <- do.call(rbind, small_rows)
if (!is.null(small)) {
  small$ratio <- small$ours / small$base
  # bench records R's allocations of more than 128 bytes (smaller vectors come
  # from pages it does not count), so "only its result" reads: no more bytes
  # than the result's own size.
  small$alloc_ok <- small$mem <= small$result
  small_table <- data.frame(
    call = paste0("`", small$call, "`"),
    xentropy = fmt_time(small$ours),
    `base R nearest` = ifelse(small$idiom == "-", "-",
                              paste0("`", small$idiom, "` ", fmt_time(small$base))),
    ratio = ifelse(is.na(small$ratio), "-", paste(fmt_ratio(small$ratio),
                                                  met(small$ratio <= goal_small))),
    `R call floor` = fmt_time(small$floor),
    `floor / base R` = ifelse(is.na(small$base), "-", fmt_ratio(small$floor / small$base)),
    `xentropy / floor` = fmt_ratio(small$ours / small$floor),
    allocated = fmt_bytes(small$mem),
    result = fmt_bytes(small$result),
    `only the result` = met(small$alloc_ok),
    `same values` = ifelse(is.na(small$same), "-", small$same),
    check.names = FALSE, stringsAsFactors = FALSE)
}

# --- large inputs ---------------------------------------------------------------
large_rows <- list()
if (run_large) {
  cat(sprintf("\nLarge inputs (%s vectors, %s matrices); 1 and 2 threads\n",
              vec_size, mat_size))
  floor_cache <- list()
  large_ops <- Filter(function(o) {
    !is.null(o$large) && (!nzchar(row_filter) || grepl(row_filter, expr_text(o$large)))
  }, ops[present])
  # variables each remaining row needs, to free the others as we go
  needs <- lapply(large_ops, function(o) {
    intersect(c(all.vars(o$large), all.vars(o$large_idiom), all.vars(o$floor)), ls(L))
  })
  for (k in seq_along(large_ops)) {
    o <- large_ops[[k]]
    label <- expr_text(o$large)
    xentropy_threads(1); v1 <- try_eval(o$large, L)
    if (failed(v1)) {
      notes <- c(notes, sprintf("large `%s`: %s", label, v1))
      cat("  ", label, ": ", v1, "\n", sep = "")
      next
    }
    xentropy_threads(2); v2 <- eval(o$large, L)
    vi <- if (!is.null(o$large_idiom)) try_eval(o$large_idiom, L)
    if (failed(vi)) vi <- NULL
    same <- same_values(v1, vi)
    ident <- identical(v1, v2)
    result_bytes <- as.numeric(object.size(v1))
    rm(v1, v2, vi)
    fkey <- expr_text(o$floor)
    tasks <- list(ours_1t = list(expr = o$large, threads = 1),
                  ours_2t = list(expr = o$large, threads = 2))
    if (!is.null(o$large_idiom)) tasks$idiom <- list(expr = o$large_idiom, threads = NA)
    if (is.null(floor_cache[[fkey]])) tasks$floor <- list(expr = o$floor, threads = NA)
    cat("  measuring", label, "...\n")
    m <- NULL
    others <- Inf
    for (attempt in 1:2) {
      busy0 <- cpu_busy(); own0 <- own_cpu(); wall0 <- Sys.time()
      ma <- measure(tasks, L, rounds, min_time, min_iterations)
      oa <- (cpu_busy() - busy0 - (own_cpu() - own0)) /
        as.numeric(difftime(Sys.time(), wall0, units = "secs"))
      m <- if (is.null(m)) ma else Map(function(a, b) {
        list(median = min(a$median, b$median), mem = max(a$mem, b$mem))
      }, m, ma)
      others <- min(others, oa)
      if (is.na(oa) || oa < busy_limit) break
      cat("  other processes used", sprintf("%.2f", oa), "cores; measuring again\n")
    }
    if (is.null(floor_cache[[fkey]])) floor_cache[[fkey]] <- m$floor
    large_rows[[length(large_rows) + 1L]] <- data.frame(
      fun = o$fun, call = label, size = o$size,
      idiom = if (is.null(o$large_idiom)) "-" else expr_text(o$large_idiom),
      floor_text = fkey,
      ours_1t = m$ours_1t$median, ours_2t = m$ours_2t$median,
      base = if (is.null(o$large_idiom)) NA else m$idiom$median,
      floor = floor_cache[[fkey]]$median,
      mem = max(m$ours_1t$mem, m$ours_2t$mem), result = result_bytes,
      same = same, ident = ident, others = max(others, 0),
      stringsAsFactors = FALSE)
    still_needed <- unique(unlist(needs[-seq_len(k)]))
    still_needed <- unique(c(still_needed, unlist(depends[still_needed])))
    forget(setdiff(ls(L), c(still_needed, "i")))
    invisible(gc(verbose = FALSE))
  }
}
xentropy_threads(old_threads)
large <- do.call(rbind, large_rows)
if (!is.null(large)) {
  large$floor_ratio <- large$ours_2t / large$floor
  large$floor_ratio_1t <- large$ours_1t / large$floor
  large$speedup <- large$base / large$ours_2t
  large$threads <- large$ours_1t / large$ours_2t
  large$alloc_ok <- large$mem <= large$result + 64 * 1024
  large_table <- data.frame(
    call = paste0("`", large$call, "`"), size = large$size,
    `1 thread` = fmt_time(large$ours_1t), `2 threads` = fmt_time(large$ours_2t),
    floor = paste0("`", large$floor_text, "` ", fmt_time(large$floor)),
    `vs floor (2t)` = paste(fmt_ratio(large$floor_ratio), met(large$floor_ratio <= goal_large)),
    `vs floor (1t)` = fmt_ratio(large$floor_ratio_1t),
    `R idiom` = ifelse(large$idiom == "-", "-", fmt_time(large$base)),
    `speed-up vs idiom (2t)` = fmt_ratio(large$speedup),
    `1 to 2 threads` = fmt_ratio(large$threads),
    allocated = fmt_bytes(large$mem), `only the result` = met(large$alloc_ok),
    `same values` = ifelse(is.na(large$same), "-", large$same),
    `same on 1 and 2 threads` = large$ident,
    others_cpu = sprintf("%.2f", large$others),
    check.names = FALSE, stringsAsFactors = FALSE)
}

elapsed <- as.numeric(difftime(Sys.time(), t_start, units = "secs"))
others_cores <- (cpu_busy() - busy_start - (own_cpu() - own_start)) / elapsed
others_text <- if (is.na(others_cores)) "unknown" else sprintf(
  "%.2f of %d cores on average", max(others_cores, 0), parallel::detectCores())

# --- one row per exported function --------------------------------------------
# Its small calls against base R and its large calls against the floor (the
# k-th small row beside the k-th large row).
pad <- function(v, n) c(v, rep("", n - length(v)))
summary_table <- NULL
funs <- unique(c(small$fun, large$fun))
if (length(funs)) {
  summary_table <- do.call(rbind, lapply(funs, function(f) {
    sm <- if (is.null(small)) NULL else small[small$fun == f, ]
    lg <- if (is.null(large)) NULL else large[large$fun == f, ]
    ns <- NROW(sm)
    nl <- NROW(lg)
    n <- max(ns, nl)
    data.frame(
      `function` = pad(paste0("`", f, "()`"), n),
      `small call` = pad(if (ns) paste0("`", sm$call, "`"), n),
      xentropy = pad(if (ns) fmt_time(sm$ours), n),
      `base R` = pad(if (ns) ifelse(is.na(sm$base), "-", fmt_time(sm$base)), n),
      `vs base R` = pad(if (ns) fmt_ratio(sm$ratio), n),
      `R call floor` = pad(if (ns) fmt_time(sm$floor), n),
      `large call` = pad(if (nl) paste0("`", lg$call, "` (", lg$size, ")"), n),
      `2 threads` = pad(if (nl) fmt_time(lg$ours_2t), n),
      floor = pad(if (nl) paste0("`", lg$floor_text, "` ", fmt_time(lg$floor)), n),
      `vs floor` = pad(if (nl) fmt_ratio(lg$floor_ratio), n),
      check.names = FALSE, stringsAsFactors = FALSE)
  }))
}

# --- summary ----------------------------------------------------------------------
goal_lines <- c(
  if (!is.null(small)) {
    bad <- small[!is.na(small$ratio) & small$ratio > goal_small, ]
    sprintf("Small inputs within %.1fx of base R's nearest function: %s", goal_small,
            if (nrow(bad) == 0) "met for every row with a base R counterpart" else
              paste0("NOT met for ", paste(sprintf("`%s` (%s)", bad$call, fmt_ratio(bad$ratio)),
                                           collapse = ", ")))
  },
  if (!is.null(small)) {
    bad <- small[!is.na(small$ratio) & small$ratio > goal_small, ]
    unreachable <- bad[bad$floor / bad$base > goal_small, ]
    if (nrow(bad)) sprintf(
      "Of those, the R call floor alone (a closure with the same formals and one empty .Call) is above %.1fx base R for %s; xentropy takes %s times its floor there",
      goal_small,
      if (nrow(unreachable)) paste(sprintf("`%s` (%s)", unreachable$call,
                                           fmt_ratio(unreachable$floor / unreachable$base)),
                                   collapse = ", ") else "none",
      if (nrow(unreachable)) paste(fmt_ratio(range(unreachable$ours / unreachable$floor)),
                                   collapse = " to ") else "-")
  },
  if (!is.null(small)) {
    bad <- small[!small$alloc_ok, ]
    sprintf("Small inputs allocate only their result: %s",
            if (nrow(bad) == 0) "met" else
              paste0("NOT met for ", paste(sprintf("`%s` (%s for a %s result)", bad$call,
                                                   fmt_bytes(bad$mem), fmt_bytes(bad$result)),
                                           collapse = ", ")))
  },
  if (!is.null(large)) {
    bad <- large[large$floor_ratio > goal_large, ]
    sprintf("Large inputs within %.1fx of the floor (2 threads): %s", goal_large,
            if (nrow(bad) == 0) "met for every row" else
              paste0("NOT met for ", paste(sprintf("`%s` (%s)", bad$call, fmt_ratio(bad$floor_ratio)),
                                           collapse = ", ")))
  },
  if (!is.null(large)) {
    bad <- large[!large$ident, ]
    sprintf("Identical results on 1 and 2 threads: %s",
            if (nrow(bad) == 0) "every row" else
              paste0("NOT for ", paste0("`", bad$call, "`", collapse = ", ")))
  }
)

cat("\n")
if (!is.null(small)) { print(small_table, row.names = FALSE, right = FALSE); cat("\n") }
if (!is.null(large)) { print(large_table, row.names = FALSE, right = FALSE); cat("\n") }
cat(paste0(goal_lines, "\n"), sep = "")
if (length(notes)) cat("\nFailed calls:\n", paste0("  ", notes, "\n"), sep = "")
if (length(without_row)) {
  cat("\nExported functions without a row in bench/run.R:",
      paste(without_row, collapse = ", "), "\n")
}
cat(sprintf("\nMeasured in %.0f s; other processes used %s meanwhile.\n",
            elapsed, others_text))

# --- results.md -----------------------------------------------------------------
cpu <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^[^:]*:", "", l[1])) else NA_character_
}, error = function(e) NA_character_)
if (is.na(cpu)) cpu <- paste(Sys.info()[["machine"]], "(no /proc/cpuinfo)")
rcmd <- file.path(R.home("bin"), "R")
cxx <- tryCatch(trimws(system2(rcmd, c("CMD", "config", "CXX"), stdout = TRUE,
                               stderr = FALSE))[1], error = function(e) NA)
cxxflags <- tryCatch(trimws(system2(rcmd, c("CMD", "config", "CXXFLAGS"),
                                    stdout = TRUE, stderr = FALSE))[1],
                     error = function(e) NA)
head_commit <- tryCatch(system2("git", c("-C", dirname(script_dir), "log", "-1",
                                         shQuote("--format=%h %s")),
                                stdout = TRUE, stderr = FALSE)[1],
                        error = function(e) NA)
load_end <- tryCatch(readLines("/proc/loadavg")[1], error = function(e) NA)
md_table <- function(df) {
  esc <- function(v) gsub("|", "\\|", as.character(v), fixed = TRUE)
  c(paste0("| ", paste(esc(names(df)), collapse = " | "), " |"),
    paste0("|", paste(rep("---", ncol(df)), collapse = "|"), "|"),
    apply(df, 1, function(r) paste0("| ", paste(esc(r), collapse = " | "), " |")))
}
md <- c(
  "# xentropy benchmark results",
  "",
  "Generated by `Rscript bench/run.R` (see `bench/README.md`); do not edit by hand.",
  "Medians of `bench::mark()`, the smallest of several interleaved rounds.",
  "",
  "## Machine",
  "",
  paste0("- CPU: ", cpu, ", ", parallel::detectCores(), " cores"),
  paste0("- ", R.version.string, "; xentropy ", packageVersion("xentropy"),
         if (!is.na(head_commit)) paste0(" (repository HEAD: ", head_commit, ")")),
  paste0("- compiler: ", cxx, ", CXXFLAGS ", cxxflags),
  paste0("- other processes used ", others_text, " during the run (from /proc/stat)"),
  paste0("- date: ", format(Sys.time(), "%Y-%m-%d %H:%M %Z"), "; load average at the start: ",
         load_start, ", at the end: ", load_end, "; run time ", round(elapsed), " s"),
  if (scale != 1) paste0("- XENTROPY_BENCH_SCALE = ", scale, ": a trial run on smaller data"),
  "",
  "## Goals (issue 11)",
  "",
  paste0("- ", goal_lines),
  "",
  if (!is.null(summary_table)) c(
    "## One row per exported function",
    "",
    paste0("Small calls against base R's nearest function (goal: at most ", goal_small,
           "x) with the R call floor (see below); large calls on 2 threads against ",
           "the floor (goal: at most ", goal_large, "x). Details in the two tables below."),
    "",
    md_table(summary_table), ""),
  if (!is.null(small)) c(
    "## Small inputs",
    "",
    paste0("A length-1 vector, a 10 x 3 matrix or two-class distributions, against ",
           "base R's (or matrixStats') nearest function; goal: at most ", goal_small,
           "x its time, allocating only the result (bench counts R allocations over ",
           "128 bytes). Default thread count (small inputs always run on one thread). ",
           "`R call floor`: the same call to a compiled closure with the function's formals ",
           "that forces the arguments given and makes one empty `.Call`, i.e. the cost of ",
           "being an R function with that signature before any work."),
    "",
    md_table(small_table), ""),
  if (!is.null(large)) c(
    "## Large inputs",
    "",
    paste0("1e7-element vectors and 1e6 x 10 matrices (rows are observations). The ",
           "floor reads the inputs once (`sum()`), or reads them and writes an output ",
           "of the result's size (`-x`, `Z + 0`); it is single-threaded R, so the ",
           "1-thread ratio is like for like. Goal: at most ", goal_large,
           "x the floor on 2 threads. `others_cpu`: cores other processes kept busy ",
           "while the row was measured (near 0: a clean row)."),
    "",
    md_table(large_table), ""),
  if (length(skipped)) c("## Not measured", "", paste0("- ", skipped),
                         paste0("- ", names(not_benchmarked), ": ", not_benchmarked), "")
  else c("## Not measured", "", paste0("- ", names(not_benchmarked), ": ", not_benchmarked), ""),
  if (length(notes)) c("## Failed calls", "", paste0("- ", notes), ""),
  if (length(without_row)) c("## Exported functions without a row", "",
                             paste0("- ", without_row), "")
)
writeLines(md, results_file)
cat("Wrote", results_file, "\n")
