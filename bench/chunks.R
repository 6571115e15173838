# Fits over data in chunks (issue 20): logistic_regression(data =
# data_chunks(...)) on csv files and on an SQLite table, on 1 and 2 workers,
# against biglm::bigglm() on the same files, the in-memory fit, and the time
# to read the files once; the peak memory (VmHWM) of the main process of each.
#
# Run from the repository root, after installing the package:
#   Rscript bench/chunks.R                        # the issue's size: n = 1e7,
#                                                 # p = 20, 50 files (long, and
#                                                 # about 4 GB of csv)
#   Rscript bench/chunks.R --n=1e6 --files=10     # a reduced size
# Options: --n, --p, --files, --workers=1,2, --dir (where the data go;
# default a temporary directory), --out (a markdown file for the results,
# default: print only), --no-memory-fit (skip the in-memory fit, for data
# that do not fit), --no-sqlite.
#
# Each case runs in a fresh R process (so that its peak memory is its own),
# with data.table and xentropy on one thread each (R_DATATABLE_NUM_THREADS=1):
# workers are the only parallelism. Every fit's coefficients are compared
# with the in-memory fit's (max abs difference), bigglm's with the same.
# Times are side by side in this one run; on a busy machine compare ratios.

args <- commandArgs(trailingOnly = TRUE)
opt <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[1]) else default
}
flag <- function(name) paste0("--", name) %in% args

# ---- a child process: one case --------------------------------------------
case <- opt("case", NULL)
if (!is.null(case)) {
  suppressPackageStartupMessages(library(xentropy))
  xentropy_threads(1)
  dir <- opt("dir", NULL)
  p <- as.integer(opt("p", "20"))
  workers <- as.integer(opt("workers", "1"))
  files <- sort(list.files(dir, pattern = "^part-.*\\.csv$", full.names = TRUE))
  fml <- stats::as.formula(paste("y ~", paste0("x", seq_len(p), collapse = " + ")))
  if (workers > 1) {
    future::plan(future::multisession, workers = workers)
  } else {
    future::plan(future::sequential)
  }
  read_one <- function(f) data.table::fread(f, data.table = FALSE, showProgress = FALSE)
  coefs <- NULL
  iter <- NA
  t <- system.time(switch(case,
    read = for (f in files) invisible(read_one(f)),
    memory = {
      d <- do.call(rbind, lapply(files, read_one))
      fit <- logistic_regression(fml, data = d, model = FALSE)
      coefs <- coef(fit)
      iter <- fit$iter
    },
    chunks_csv = {
      fit <- logistic_regression(fml, data = data_chunks(files))
      coefs <- coef(fit)
      iter <- fit$iter
    },
    chunks_sqlite = {
      path <- file.path(dir, "data.sqlite")
      con <- DBI::dbConnect(RSQLite::SQLite(), path)
      rows <- as.numeric(opt("chunk_rows", "1e5"))
      src <- if (workers > 1) {
        data_chunks(con, rows, table = "d",
                    connect = function() DBI::dbConnect(RSQLite::SQLite(), path))
      } else {
        data_chunks(con, rows, table = "d")
      }
      fit <- logistic_regression(fml, data = src)
      coefs <- coef(fit)
      iter <- fit$iter
      DBI::dbDisconnect(con)
    },
    bigglm = {
      # biglm's data-function convention: reset, then chunks until NULL
      i <- 0L
      feed <- function(reset = FALSE) {
        if (reset) {
          i <<- 0L
          return(NULL)
        }
        i <<- i + 1L
        if (i > length(files)) NULL else read_one(files[i])
      }
      fit <- biglm::bigglm(fml, data = feed, family = stats::binomial(), maxit = 50,
                           tolerance = 1e-10)
      coefs <- coef(fit)
      iter <- fit$iterations
    }))
  hwm <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  hwm <- as.numeric(gsub("[^0-9]", "", hwm)) / 1024
  if (!is.null(coefs)) saveRDS(coefs, file.path(dir, sprintf("coef-%s-%d.rds", case, workers)))
  cat(sprintf("RESULT\t%s\t%d\t%.3f\t%.1f\t%s\n", case, workers, t[["elapsed"]], hwm,
              format(iter)))
  quit(save = "no")
}

# ---- the driver -----------------------------------------------------------
n <- as.numeric(opt("n", "1e7"))
p <- as.integer(opt("p", "20"))
n_files <- as.integer(opt("files", "50"))
workers <- as.integer(strsplit(opt("workers", "1,2"), ",")[[1]])
dir <- opt("dir", file.path(tempdir(), "xentropy-bench-chunks"))
out <- opt("out", NULL)
for (pkg in c("xentropy", "data.table", "future", "future.apply", "biglm")) {
  if (!requireNamespace(pkg, quietly = TRUE)) stop("bench/chunks.R needs ", pkg, call. = FALSE)
}
use_sqlite <- !flag("no-sqlite") && requireNamespace("RSQLite", quietly = TRUE)
dir.create(dir, showWarnings = FALSE, recursive = TRUE)
Sys.setenv(R_DATATABLE_NUM_THREADS = "1", OMP_NUM_THREADS = "1")

rows <- ceiling(n / n_files)
message(sprintf("writing n = %.0f rows, p = %d, to %d csv files%s in %s", n, p, n_files,
                if (use_sqlite) " and an SQLite table" else "", dir))
set.seed(20)
beta <- c(-0.5, stats::rnorm(p, sd = 0.3))
if (use_sqlite) {
  con <- DBI::dbConnect(RSQLite::SQLite(), file.path(dir, "data.sqlite"))
  if (DBI::dbExistsTable(con, "d")) DBI::dbRemoveTable(con, "d")
}
t_write <- system.time(for (k in seq_len(n_files)) {
  m <- min(rows, n - (k - 1) * rows)
  X <- matrix(stats::rnorm(m * p), m, p, dimnames = list(NULL, paste0("x", seq_len(p))))
  d <- as.data.frame(X)
  d$y <- stats::rbinom(m, 1, stats::plogis(beta[1] + X %*% beta[-1]))
  data.table::fwrite(d, file.path(dir, sprintf("part-%03d.csv", k)))
  if (use_sqlite) DBI::dbWriteTable(con, "d", d, append = TRUE)
})
if (use_sqlite) DBI::dbDisconnect(con)
csv_mb <- sum(file.size(list.files(dir, pattern = "\\.csv$", full.names = TRUE))) / 2^20

run_case <- function(case, w = 1L) {
  message(sprintf("%s, %d worker%s", case, w, if (w > 1) "s" else ""))
  res <- system2(file.path(R.home("bin"), "Rscript"),
                 c("bench/chunks.R", paste0("--case=", case), paste0("--dir=", dir),
                   paste0("--p=", p), paste0("--workers=", w),
                   paste0("--chunk_rows=", rows)), stdout = TRUE)
  line <- grep("^RESULT", res, value = TRUE)
  if (!length(line)) stop("case ", case, " failed:\n", paste(res, collapse = "\n"), call. = FALSE)
  f <- strsplit(line, "\t")[[1]]
  data.frame(case = f[2], workers = as.integer(f[3]), seconds = as.numeric(f[4]),
             peak_mb = as.numeric(f[5]), iterations = f[6])
}

results <- run_case("read")
if (!flag("no-memory-fit")) results <- rbind(results, run_case("memory"))
for (w in workers) {
  results <- rbind(results, run_case("chunks_csv", w))
  if (use_sqlite) results <- rbind(results, run_case("chunks_sqlite", w))
}
results <- rbind(results, run_case("bigglm"))

ref_file <- file.path(dir, if (flag("no-memory-fit")) "coef-chunks_csv-1.rds" else "coef-memory-1.rds")
ref <- readRDS(ref_file)
results$max_coef_diff <- vapply(seq_len(nrow(results)), function(i) {
  f <- file.path(dir, sprintf("coef-%s-%d.rds", results$case[i], results$workers[i]))
  if (results$case[i] == "read" || !file.exists(f)) return(NA_real_)
  max(abs(readRDS(f) - ref))
}, 0)
t_read <- results$seconds[results$case == "read"]
t_big <- results$seconds[results$case == "bigglm"]
results$x_read_once <- round(results$seconds / t_read, 2)
results$bigglm_over_this <- round(t_big / results$seconds, 2)

fmt <- function(df) {
  df$max_coef_diff <- ifelse(is.na(df$max_coef_diff), "", format(df$max_coef_diff, digits = 2))
  cols <- names(df)
  c(paste0("| ", paste(cols, collapse = " | "), " |"),
    paste0("|", paste(rep("---", length(cols)), collapse = "|"), "|"),
    apply(df, 1, function(r) paste0("| ", paste(trimws(r), collapse = " | "), " |")))
}
header <- c(
  "# Fits over data in chunks: bench/chunks.R",
  "",
  sprintf("n = %.0f rows, p = %d predictors (plus an intercept), %d csv files of %.0f rows (%.0f MB of csv)%s; logistic regression, tol 1e-8. Written in %.1f s.",
          n, p, n_files, rows, csv_mb,
          if (use_sqlite) sprintf(", and one SQLite table read in chunks of %.0f rows", rows) else "",
          t_write[["elapsed"]]),
  sprintf("Machine: %s, %d cores, R %s, %s. Each case in a fresh process; data.table and xentropy on one thread; `workers` = processes of a `future` multisession plan (sqlite with 2 workers: each worker connects and reads its own chunks; with 1: the main process reads).",
          Sys.info()[["machine"]], parallel::detectCores(), getRversion(), format(Sys.time(), "%Y-%m-%d")),
  "",
  "`seconds`: elapsed; `peak_mb`: the main process's peak resident memory (VmHWM), workers not included; `x_read_once`: time / the time to read every file once (fread); `bigglm_over_this`: bigglm's time / this time; `max_coef_diff`: against the in-memory fit.",
  "")
txt <- c(header, fmt(results))
cat(txt, sep = "\n")
if (!is.null(out)) writeLines(txt, out)
