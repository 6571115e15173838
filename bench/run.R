# Speed benchmark of xentropy against the R idiom and the memory-bandwidth floor.
#
# Run from the repository root, after installing the package:
#   Rscript bench/run.R
# Prints one table and writes it, with the machine it came from and the
# project's goals, to bench/results.md. Not part of R CMD check or the tests.
# Everything is measured side by side in this one run, so the ratios are
# comparable even on a noisy machine; the absolute times are not.

options(width = 250)
suppressPackageStartupMessages({
  library(xentropy)
  library(bench)
  library(matrixStats)
})

# Where to write: next to this script (bench/), whatever the working directory.
script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "bench")
})
results_file <- file.path(script_dir, "results.md")

# Short enough for the whole script to take a few minutes on 2 cores; the
# slowest idioms (~0.5 s a call) still get `min_iterations` calls.
min_iterations <- 5
min_time <- 0.4
rounds <- 3
busy_limit <- 0.25  # cores used by others above which a row is measured again

# XENTROPY_BENCH_SCALE (default 1) shrinks the data for a quick trial run.
scale <- as.numeric(Sys.getenv("XENTROPY_BENCH_SCALE", "1"))
n_vec <- round(1e7 * scale)
n_row <- round(1e6 * scale)
n_col <- 10
size_text <- function(n) {
  k <- floor(log10(n))
  if (n == 10^k) paste0("1e", k) else format(n, big.mark = ",")
}
vec_size <- size_text(n_vec)
mat_size <- paste(size_text(n_row), "x", n_col)
# a trial run does not overwrite the committed results
if (scale != 1) results_file <- file.path(tempdir(), "results.md")

set.seed(20261124)
x <- rnorm(n_vec, sd = 4)                      # logits / scores
y <- as.double(runif(n_vec) < plogis(x))       # 0/1 targets, as double
Z <- matrix(rnorm(n_row * n_col, sd = 2), n_row, n_col)
labels <- sample.int(n_col, n_row, replace = TRUE)
z <- x

# A function is benchmarked only once the installed package exports it.
has <- function(f) {
  exists(f, envir = as.environment("package:xentropy"), inherits = FALSE)
}

# The operations. `ours` and `idiom` are expressions in the variables above;
# `floor` is the cheapest thing R can do that touches the same memory:
# reading the input once (sum) for reductions, allocating and writing an
# output of the same size for elementwise (-x) and matrix (Z + 0) results.
# `goal_idiom` is the speed-up over the idiom the project aims for and
# `goal_floor` the largest ratio to the floor (NA: no goal for that row).
ops <- list(
  list(op = "sigmoid", fun = "sigmoid", kind = "elementwise", size = vec_size,
       ours = quote(sigmoid(x)), idiom = quote(plogis(x)),
       idiom_text = "plogis(x)", floor = "-x",
       goal_idiom = 1.4, goal_floor = 1.15),
  list(op = "log_sigmoid", fun = "log_sigmoid", kind = "elementwise", size = vec_size,
       ours = quote(log_sigmoid(x)), idiom = quote(plogis(x, log.p = TRUE)),
       idiom_text = "plogis(x, log.p = TRUE)", floor = "-x",
       goal_idiom = 1.4, goal_floor = 1.15),
  list(op = "softplus", fun = "softplus", kind = "elementwise", size = vec_size,
       ours = quote(softplus(x)), idiom = quote(log1p(exp(x))),
       idiom_text = "log1p(exp(x))",
       note = "common, but overflows to Inf for x > 709", floor = "-x",
       goal_idiom = 1.4, goal_floor = 1.15),
  # the exact base-R way to the same values, for the "faster than plogis" goal
  list(op = "softplus (exact idiom)", fun = "softplus", kind = "elementwise",
       size = vec_size, ours = quote(softplus(x)),
       idiom = quote(-plogis(-x, log.p = TRUE)),
       idiom_text = "-plogis(-x, log.p = TRUE)", floor = "-x",
       goal_idiom = 1.4, goal_floor = 1.15),
  list(op = "sigmoid_cross_entropy", fun = "sigmoid_cross_entropy",
       kind = "reduction", size = vec_size,
       ours = quote(sigmoid_cross_entropy(y, z)),
       idiom = quote(mean(pmax(z, 0) - z * y + log1p(exp(-abs(z))))),
       idiom_text = "mean(pmax(z, 0) - z * y + log1p(exp(-abs(z))))",
       floor = "sum(z)", goal_idiom = 20, goal_floor = 2),
  list(op = "logsumexp", fun = "logsumexp", kind = "reduction",
       size = mat_size,
       ours = quote(logsumexp(Z)), idiom = quote(rowLogSumExps(Z)),
       idiom_text = "matrixStats::rowLogSumExps(Z)", floor = "sum(Z)",
       goal_idiom = 3, goal_floor = 2),
  list(op = "softmax", fun = "softmax", kind = "matrix", size = mat_size,
       ours = quote(softmax(Z)),
       idiom = quote({ e <- exp(Z - rowMaxs(Z)); e / rowSums(e) }),
       idiom_text = "e <- exp(Z - rowMaxs(Z)); e / rowSums(e)",
       floor = "Z + 0", goal_idiom = 2.5, goal_floor = 1.3),
  list(op = "log_softmax", fun = "log_softmax", kind = "matrix",
       size = mat_size,
       ours = quote(log_softmax(Z)), idiom = quote(Z - rowLogSumExps(Z)),
       idiom_text = "Z - rowLogSumExps(Z)", floor = "Z + 0",
       goal_idiom = 2.5, goal_floor = 1.3),
  list(op = "softmax_cross_entropy", fun = "softmax_cross_entropy",
       kind = "reduction", size = mat_size,
       ours = quote(softmax_cross_entropy(labels, Z)),
       idiom = quote(mean(rowLogSumExps(Z) - Z[cbind(seq_len(nrow(Z)), labels)])),
       idiom_text = "mean(rowLogSumExps(Z) - Z[cbind(seq_len(n), y)])",
       floor = "sum(Z)", goal_idiom = 3, goal_floor = 2)
)

floors <- list("-x" = quote(-x), "sum(z)" = quote(sum(z)),
               "sum(Z)" = quote(sum(Z)), "Z + 0" = quote(Z + 0))

# One bench::mark() of one expression: median seconds and bytes allocated.
# Garbage collections are not filtered out: an idiom that allocates several
# temporaries pays for collecting them, and so would we.
measure_once <- function(expr) {
  invisible(gc(verbose = FALSE))
  m <- bench::mark(exprs = list(expr), env = globalenv(), check = FALSE,
                   min_iterations = min_iterations, min_time = min_time,
                   filter_gc = FALSE, memory = TRUE, time_unit = "s")
  list(median = as.numeric(m$median), mem = as.numeric(m$mem_alloc))
}

# Measures several expressions in `rounds` interleaved rounds (A B C, A B C)
# and keeps, for each, the smallest of its per-round medians: a burst of load
# from another process then spoils one round, not the comparison.
# `tasks` is a named list of list(expr, threads); threads NA: R's own code.
measure <- function(tasks) {
  out <- lapply(tasks, function(t) list(median = Inf, mem = NA_real_))
  for (r in seq_len(rounds)) {
    for (nm in names(tasks)) {
      t <- tasks[[nm]]
      if (!is.na(t$threads)) xentropy_threads(t$threads)
      m <- measure_once(t$expr)
      out[[nm]]$median <- min(out[[nm]]$median, m$median)
      out[[nm]]$mem <- max(out[[nm]]$mem, m$mem, na.rm = TRUE)
    }
  }
  out
}

fmt_time <- function(s) ifelse(is.na(s), "-", sprintf("%.1f ms", 1000 * s))
fmt_ratio <- function(r) ifelse(is.na(r), "-", sprintf("%.2fx", r))
fmt_bytes <- function(b) {
  ifelse(is.na(b), "-", trimws(format(bench::as_bench_bytes(b))))
}

old_threads <- xentropy_threads()
cat(sprintf("xentropy %s; threads available: %s; R's own functions are single-threaded.\n",
            packageVersion("xentropy"), old_threads))
xentropy_threads(2)
if (xentropy_threads() < 2) {
  cat("Note: xentropy gives only", xentropy_threads(),
      "thread(s) (built without OpenMP, or OMP_THREAD_LIMIT); the 2-thread column",
      "repeats the 1-thread run.\n")
}

floor_cache <- list()
ours_cache <- list()
rows <- list()
checks <- character()
skipped <- character()
# CPU seconds all processes spent busy (Linux /proc/stat, in USER_HZ = 1/100 s
# ticks), to tell how much of the machine others took during the run.
cpu_busy <- function() {
  tryCatch({
    v <- as.numeric(strsplit(readLines("/proc/stat", n = 1L), " +")[[1]][-1])
    (sum(v[1:8]) - v[4] - v[5]) / 100  # all but idle and iowait
  }, error = function(e) NA_real_)
}
own_cpu <- function() sum(proc.time()[c("user.self", "sys.self")])
t_start <- Sys.time()
busy_start <- cpu_busy()
own_start <- own_cpu()
load_start <- tryCatch(readLines("/proc/loadavg")[1], error = function(e) NA)

for (o in ops) {
  if (!has(o$fun)) {
    line <- sprintf("skipped %s: %s() is not in the installed xentropy yet.",
                    o$op, o$fun)
    cat(line, "\n", sep = "")
    skipped <- c(skipped, line)
    next
  }
  cat("measuring", o$op, "...\n")
  key <- deparse(o$ours)

  # values first: same as the idiom, and identical on 1 and 2 threads
  xentropy_threads(1); v1 <- eval(o$ours)
  xentropy_threads(2); v2 <- eval(o$ours)
  vi <- eval(o$idiom)
  same <- isTRUE(all.equal(v1, vi, check.attributes = FALSE))
  ident <- identical(v1, v2)
  result_bytes <- as.numeric(object.size(v1))
  checks <- c(checks, sprintf(
    "%-24s all.equal(ours, idiom): %-5s  identical(1 thread, 2 threads): %s%s",
    o$op, same, ident,
    if (same) "" else paste0("  [", paste(all.equal(v1, vi,
      check.attributes = FALSE), collapse = "; "), "]")))
  rm(v1, v2, vi)

  tasks <- list(idiom = list(expr = o$idiom, threads = NA))
  if (is.null(ours_cache[[key]])) {
    tasks$ours_1t <- list(expr = o$ours, threads = 1)
    tasks$ours_2t <- list(expr = o$ours, threads = 2)
  }
  if (is.null(floor_cache[[o$floor]])) {
    tasks$floor <- list(expr = floors[[o$floor]], threads = NA)
  }
  # A row measured while other processes kept a core busy is measured once
  # more, and each expression keeps its best median over both attempts.
  m <- NULL
  others <- Inf
  for (attempt in 1:2) {
    busy0 <- cpu_busy(); own0 <- own_cpu(); wall0 <- Sys.time()
    ma <- measure(tasks)
    oa <- (cpu_busy() - busy0 - (own_cpu() - own0)) /
      as.numeric(difftime(Sys.time(), wall0, units = "secs"))
    m <- if (is.null(m)) ma else Map(function(a, b) {
      list(median = min(a$median, b$median), mem = max(a$mem, b$mem))
    }, m, ma)
    others <- min(others, oa)
    if (is.na(oa) || oa < busy_limit) break
    cat("  other processes used", sprintf("%.2f", oa), "cores; measuring again\n")
  }
  if (is.null(ours_cache[[key]])) {
    ours_cache[[key]] <- list(r1 = m$ours_1t, r2 = m$ours_2t)
  }
  if (is.null(floor_cache[[o$floor]])) floor_cache[[o$floor]] <- m$floor
  r1 <- ours_cache[[key]]$r1
  r2 <- ours_cache[[key]]$r2
  ri <- m$idiom
  rf <- floor_cache[[o$floor]]

  rows[[length(rows) + 1L]] <- data.frame(
    operation = o$op, size = o$size, kind = o$kind, idiom_text = o$idiom_text,
    note = if (is.null(o$note)) "" else paste0(" (", o$note, ")"),
    floor_text = o$floor,
    ours_1t = r1$median, ours_2t = r2$median, idiom = ri$median,
    floor = rf$median,
    mem_ours = r2$mem, mem_ours_1t = r1$mem, mem_idiom = ri$mem,
    result_bytes = result_bytes, same = same, ident = ident,
    others = max(others, 0),
    goal_idiom = o$goal_idiom, goal_floor = o$goal_floor,
    stringsAsFactors = FALSE)
}
xentropy_threads(old_threads)
elapsed <- as.numeric(difftime(Sys.time(), t_start, units = "secs"))
others_cores <- (cpu_busy() - busy_start - (own_cpu() - own_start)) / elapsed
others_text <- if (is.na(others_cores)) "unknown" else sprintf(
  "%.2f of %d cores on average", max(others_cores, 0), parallel::detectCores())

res <- do.call(rbind, rows)
if (is.null(res)) stop("nothing to measure: is xentropy installed?")
res$speedup_vs_idiom <- res$idiom / res$ours_2t
res$ratio_to_floor <- res$ours_2t / res$floor
res$speedup_threads <- res$ours_1t / res$ours_2t
# "allocates only its result": R allocations per call within 64 KiB of the
# result's own size (the slack covers argument checks and attributes).
res$alloc_only_result <- pmax(res$mem_ours, res$mem_ours_1t) <=
  res$result_bytes + 64 * 1024

met <- function(ok) ifelse(is.na(ok), "-", ifelse(ok, "met", "NOT met"))
res$goal_idiom_met <- met(res$speedup_vs_idiom >= res$goal_idiom)
res$goal_floor_met <- met(res$ratio_to_floor <= res$goal_floor)

table_out <- data.frame(
  operation = res$operation,
  size = res$size,
  ours_1t = fmt_time(res$ours_1t),
  ours_2t = fmt_time(res$ours_2t),
  idiom = fmt_time(res$idiom),
  floor = paste0(fmt_time(res$floor), " (", res$floor_text, ")"),
  `speedup_vs_idiom (2t)` = paste0(fmt_ratio(res$speedup_vs_idiom), " ",
    ifelse(res$goal_idiom_met == "met", "met", "NOT met"), " (>= ",
    res$goal_idiom, "x)"),
  `ratio_to_floor (2t)` = paste0(fmt_ratio(res$ratio_to_floor), " ",
    ifelse(res$goal_floor_met == "met", "met", "NOT met"), " (<= ",
    res$goal_floor, "x)"),
  `ratio_to_floor (1t)` = fmt_ratio(res$ours_1t / res$floor),
  speedup_1_to_2_threads = fmt_ratio(res$speedup_threads),
  mem_ours = fmt_bytes(res$mem_ours),
  mem_idiom = fmt_bytes(res$mem_idiom),
  others_cpu = ifelse(is.na(res$others), "-", sprintf("%.2f", res$others)),
  check.names = FALSE, stringsAsFactors = FALSE)

# --- the goals of the issue, marked met / not met ---------------------------
goal_row <- function(ops_in_goal) res[res$operation %in% ops_in_goal, ]
describe <- function(r, what) {
  if (nrow(r) == 0L) return("not measured yet")
  vals <- if (what == "idiom") {
    paste0(r$operation, " ", fmt_ratio(r$speedup_vs_idiom), " ", r$goal_idiom_met)
  } else {
    paste0(r$operation, " ", fmt_ratio(r$ratio_to_floor), " ", r$goal_floor_met)
  }
  paste(vals, collapse = "; ")
}
g1 <- goal_row(c("sigmoid_cross_entropy", "softmax_cross_entropy", "logsumexp"))
g2 <- goal_row(c("softmax", "log_softmax"))
g3 <- goal_row(c("sigmoid", "log_sigmoid", "softplus", "softplus (exact idiom)"))
goals <- data.frame(
  operation = c("sigmoid_cross_entropy, softmax_cross_entropy, logsumexp",
                "softmax, log_softmax",
                "sigmoid, log_sigmoid, softplus"),
  `against the R idiom` = c(">= 20x, >= 3x, >= 3x faster", ">= 2.5x faster",
                            ">= 1.4x faster than plogis"),
  `against the floor` = c("<= 2x sum(x)", "<= 1.3x Z + 0", "<= 1.15x -x"),
  `measured vs idiom (2 threads)` = c(describe(g1, "idiom"), describe(g2, "idiom"),
                                      describe(g3, "idiom")),
  `measured vs floor (2 threads)` = c(describe(g1, "floor"), describe(g2, "floor"),
                                      describe(g3, "floor")),
  check.names = FALSE, stringsAsFactors = FALSE)

red <- res[res$kind == "reduction", ]
alloc_bad <- res[!res$alloc_only_result, ]
alloc_text <- if (all(res$alloc_only_result)) {
  "met: every measured call allocates at most its result plus 64 KiB."
} else {
  paste0("NOT met: ", paste(sprintf("%s allocates %s (1 thread %s) for a %s result",
    alloc_bad$operation, fmt_bytes(alloc_bad$mem_ours),
    fmt_bytes(alloc_bad$mem_ours_1t), fmt_bytes(alloc_bad$result_bytes)),
    collapse = "; "), ".")
}
thread_text <- if (nrow(red) == 0L) "not measured" else paste0(
  met(all(red$speedup_threads >= 1.7)), ": ",
  paste(sprintf("%s %s", red$operation, fmt_ratio(red$speedup_threads)),
        collapse = "; "), " (goal >= 1.7x).")

# --- print ------------------------------------------------------------------
cat("\n")
print(table_out, row.names = FALSE, right = FALSE)
cat("\nEvery function allocates only its result:", alloc_text, "\n")
cat("Speed-up from 1 to 2 threads on the reductions:", thread_text, "\n")
cat("\nValues:\n", paste0("  ", checks, "\n"), sep = "")
if (length(skipped)) cat("\n", paste0(skipped, "\n"), sep = "")
cat(sprintf("\nMeasured in %.0f s; other processes used %s meanwhile.\n",
            elapsed, others_text))

# --- the machine ------------------------------------------------------------
cpu <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^[^:]*:", "", l[1])) else NA_character_
}, error = function(e) NA_character_)
if (is.na(cpu)) cpu <- paste(Sys.info()[["machine"]], "(no /proc/cpuinfo)")
rcmd <- file.path(R.home("bin"), "R")
cxx <- tryCatch(trimws(system2(rcmd, c("CMD", "config", "CXX"), stdout = TRUE,
                               stderr = FALSE))[1], error = function(e) NA)
cxx_version <- tryCatch(system2(strsplit(cxx, " ")[[1]][1], "--version",
                                stdout = TRUE, stderr = FALSE)[1],
                        error = function(e) NA)
cxxflags <- tryCatch(trimws(system2(rcmd, c("CMD", "config", "CXXFLAGS"),
                                    stdout = TRUE, stderr = FALSE))[1],
                     error = function(e) NA)
head_commit <- tryCatch(system2("git", c("-C", dirname(script_dir), "log", "-1",
                                         shQuote("--format=%h %s")),
                                stdout = TRUE, stderr = FALSE)[1],
                        error = function(e) NA)
load_avg <- tryCatch(readLines("/proc/loadavg")[1], error = function(e) NA)

md_table <- function(df) {
  esc <- function(v) gsub("|", "\\|", as.character(v), fixed = TRUE)
  c(paste0("| ", paste(esc(names(df)), collapse = " | "), " |"),
    paste0("|", paste(rep("---", ncol(df)), collapse = "|"), "|"),
    apply(df, 1, function(r) paste0("| ", paste(esc(r), collapse = " | "), " |")))
}

idioms <- unique(res[, c("operation", "idiom_text", "note")])
md <- c(
  "# xentropy benchmark results",
  "",
  "Generated by `Rscript bench/run.R` (see `bench/README.md`); do not edit by hand.",
  "Medians of `bench::mark()` (the smallest of three interleaved rounds); ratios",
  "use the 2-thread run. R's own functions (idiom and floor) are",
  "single-threaded and measured once each, not per thread count.",
  "",
  "## Machine",
  "",
  paste0("- CPU: ", cpu, ", ", parallel::detectCores(), " cores"),
  paste0("- ", R.version.string),
  paste0("- xentropy ", packageVersion("xentropy"),
         if (!is.na(head_commit)) paste0(" (repository HEAD: ", head_commit, ")")),
  paste0("- compiler: ", cxx, " (", cxx_version, "), CXXFLAGS ", cxxflags),
  paste0("- bench ", packageVersion("bench"), ", matrixStats ",
         packageVersion("matrixStats")),
  paste0("- other processes used ", others_text, " during the run",
         " (from /proc/stat; per row in the column `others_cpu`); much above 0",
         " makes the 2-thread column pessimistic"),
  paste0("- date: ", format(Sys.time(), "%Y-%m-%d %H:%M %Z"),
         "; load average (/proc/loadavg) at the start: ", load_start,
         ", at the end: ", load_avg),
  paste0("- run time: ", round(elapsed), " s; each expression measured in ",
         rounds, " interleaved rounds of at least ", min_iterations,
         " iterations and ", min_time, " s; the smallest round median is kept"),
  "",
  "## Timings",
  "",
  md_table(table_out),
  "",
  "Idioms (what an R user writes today):",
  "",
  paste0("- ", idioms$operation, ": `", idioms$idiom_text, "`", idioms$note),
  "",
  paste0("Every function allocates only its result: ", alloc_text),
  "",
  paste0("Speed-up from 1 to 2 threads on the reductions: ", thread_text),
  "",
  "## Goals",
  "",
  md_table(goals),
  "",
  "and: every function allocates only its result; the speed-up from 1 to 2",
  "threads on the reductions is at least 1.7x (see above).",
  "",
  "## Values",
  "",
  "```",
  checks,
  "```",
  if (length(skipped)) c("", "## Not measured", "", paste0("- ", skipped))
)
writeLines(md, results_file)
cat("Wrote", results_file, "\n")
