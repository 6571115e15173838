# Accuracy of xentropy's link functions, log1mexp() and logdiffexp() against
# base R's counterparts.
#
# Run from the repository root, after installing the package:
#   Rscript bench/accuracy.R
# For sigmoid, log_sigmoid, softplus and logit, and for the base-R
# expressions an R user writes for them, the worst error in units in the
# last place (ulp) of the exact value, computed with Rmpfr at 200 bits, over
# the whole double range and over named regions where formulas break down.
# Writes bench/accuracy.md. Not part of R CMD check or the tests.

options(width = 250)
suppressPackageStartupMessages({
  library(xentropy)
  library(Rmpfr)
})

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "bench")
})
repo_dir <- dirname(script_dir)
out_file <- file.path(script_dir, "accuracy.md")

# ulp_error(), exact_*() and the point generators, shared with the tests so
# that the benchmark and the tests measure the same thing the same way.
source(file.path(repo_dir, "tests", "testthat", "helper-accuracy.R"))

# The helper's ulp_error() converts the absolute error to a double before
# dividing by the ulp; for subnormal results that error is itself below the
# smallest double, so it is rounded to a whole number of ulp (0.4 ulp reads 0).
# Here the division happens in MPFR, so fractions of an ulp survive.
ulp_error <- function(got, exact) {
  ref <- Rmpfr::asNumeric(exact)
  ulp <- ifelse(abs(ref) < 2^-1022, 2^-1074, 2^(floor(log2(abs(ref))) - 52))
  err <- Rmpfr::asNumeric(abs(Rmpfr::mpfr(got, mpfr_bits) - exact) /
                            Rmpfr::mpfr(ulp, mpfr_bits))
  err[got == ref & is.infinite(ref)] <- 0  # identical infinities are exact
  err
}

t_start <- Sys.time()
set.seed(20261125)
n <- 4000  # random points per region

# Magnitudes spread evenly over the binades between 2^lo and 2^hi.
binades <- function(m, lo, hi) (1 + runif(m)) * 2^sample(lo:(hi - 1), m, TRUE)

subnormal_grid <- c(seq(-745, -708, length.out = 1001), runif(n, -745, -708))
x_regions <- list(
  "whole double range" = link_test_points(n),
  "moderate, |x| <= 40" = c(seq(-40, 40, length.out = 2001), runif(n, -40, 40)),
  "subnormal results, x in [-745, -708]" = subnormal_grid,
  "near 0, |x| < 1e-3" = {
    v <- c(binades(n, -1074, -10), runif(n, 0, 1e-3))
    c(0, v, -v)
  },
  "large |x|, 40 < |x| < 1.8e308" = {
    v <- c(10^runif(n, log10(40), 308.25), 40 + 2^(0:9))
    c(v, -v, .Machine$double.xmax, -.Machine$double.xmax)
  }
)

p_regions <- list(
  "whole (0, 1)" = prob_test_points(n),
  "moderate, p in [0.01, 0.99]" = runif(n, 0.01, 0.99),
  "p within 1e-9 of 1/2" = {
    d <- c(binades(n / 2, -60, -30), runif(n / 2, 0, 1e-9))
    0.5 + c(d, -d)
  },
  "tiny p < 2^-1000 (incl. subnormal)" = c(binades(n, -1074, -1000),
                                           4.9406564584124654e-324),
  "p near 1, 1 - p < 1e-6" = 1 - c(binades(n, -53, -20), 2^-53)
)

# log(1 - exp(-x)) in MPFR; above x = 40, 1 - exp(-x) needs more than 200
# bits, so the series -(e + e^2 / 2 + e^3 / 3), e = exp(-x), is used there.
exact_log1mexp <- function(x) {
  X <- Rmpfr::mpfr(x, mpfr_bits)
  E <- exp(-X)
  r <- log(-expm1(-X))
  big <- x > 40
  r[big] <- -(E[big] + E[big]^2 / 2 + E[big]^3 / 3)
  r
}
# logdiffexp(x, 0) = log(exp(x) - 1) = x + log1mexp(x)
exact_logexpm1 <- function(x) Rmpfr::mpfr(x, mpfr_bits) + exact_log1mexp(x)

pos_regions <- list(
  "whole (0, 1.8e308)" = local({ v <- abs(link_test_points(n)); v[v > 0] }),
  "near 0, x < 1e-3" = c(binades(n, -1074, -10), runif(n, 0, 1e-3)),
  "around log 2, x in [0.5, 1]" = c(runif(n, 0.5, 1), log(2) * (1 + c(-1, 0, 1) * 2^-52)),
  "moderate, x in [1, 40]" = runif(n, 1, 40),
  "large, x > 40" = c(10^runif(n, log10(40), 308.25), .Machine$double.xmax)
)

# What is compared: ours, and base R's counterparts (one row each).
specs <- list(
  list(fun = "sigmoid", ours = sigmoid, exact = exact_sigmoid, points = x_regions,
       base = list("plogis(x)" = function(x) plogis(x))),
  # log_sigmoid(x) = -softplus(-x): its results are subnormal for x > 708
  list(fun = "log_sigmoid", ours = log_sigmoid, exact = exact_log_sigmoid,
       points = local({
         r <- x_regions
         i <- match("subnormal results, x in [-745, -708]", names(r))
         r[[i]] <- -r[[i]]
         names(r)[i] <- "subnormal results, x in [708, 745]"
         r
       }),
       base = list("plogis(x, log.p = TRUE)" = function(x) plogis(x, log.p = TRUE))),
  list(fun = "softplus", ours = softplus, exact = exact_softplus,
       points = x_regions,
       base = list("-plogis(-x, log.p = TRUE)" = function(x) -plogis(-x, log.p = TRUE),
                   "log1p(exp(x))" = function(x) log1p(exp(x)))),
  list(fun = "logit", ours = logit, exact = exact_logit, points = p_regions,
       base = list("qlogis(p)" = function(p) qlogis(p))),
  list(fun = "log1mexp", ours = log1mexp, exact = exact_log1mexp, points = pos_regions,
       base = list("log(-expm1(-x))" = function(x) log(-expm1(-x)),
                   "log1p(-exp(-x))" = function(x) log1p(-exp(-x)),
                   "log(1 - exp(-x))" = function(x) log(1 - exp(-x)))),
  list(fun = "logdiffexp(x, 0)", ours = function(x) logdiffexp(x, 0),
       exact = exact_logexpm1, points = pos_regions,
       base = list("log(expm1(x))" = function(x) log(expm1(x)),
                   "log(exp(x) - 1)" = function(x) log(exp(x) - 1)))
)

fmt_ulp <- function(u) {
  ifelse(is.nan(u), "NaN", ifelse(is.infinite(u), "Inf",
    ifelse(u < 1000, sprintf("%.2f", u), format(signif(u, 3), scientific = TRUE))))
}
# Where the worst error occurs, to 6 significant digits; a probability close
# to 1/2 or 1 as its distance from there, which 6 digits would hide.
fmt_at <- function(v, prob = FALSE) {
  if (prob && abs(v - 0.5) < 1e-4 && v != 0.5) {
    return(sprintf("0.5 %s %.3g", if (v > 0.5) "+" else "-", abs(v - 0.5)))
  }
  if (prob && v > 0.9999 && v < 1) return(sprintf("1 - %.3g", 1 - v))
  format(signif(v, 6))
}

rows <- list()
for (s in specs) {
  for (region in names(s$points)) {
    pts <- unique(s$points[[region]])
    exact <- s$exact(pts)
    err_ours <- ulp_error(s$ours(pts), exact)
    # where the worst error is (none when every point is exact)
    worst_at <- function(err) {
      if (isTRUE(max(err) == 0)) return("-")
      fmt_at(pts[which.max(replace(err, is.na(err), Inf))], s$fun == "logit")
    }
    for (b in names(s$base)) {
      got_base <- suppressWarnings(s$base[[b]](pts))
      err_base <- ulp_error(got_base, exact)
      rows[[length(rows) + 1L]] <- data.frame(
        "function" = s$fun, region = region, "n points" = length(pts),
        "max ulp ours" = fmt_ulp(max(err_ours)),
        "at x (ours)" = worst_at(err_ours),
        "base R" = b,
        "max ulp base R" = fmt_ulp(max(err_base)),
        "at x (base R)" = worst_at(err_base),
        check.names = FALSE, stringsAsFactors = FALSE)
    }
  }
  cat("done:", s$fun, "\n")
}
tab <- do.call(rbind, rows)
elapsed <- as.numeric(difftime(Sys.time(), t_start, units = "secs"))

cat("\n")
print(tab, row.names = FALSE, right = FALSE)
cat(sprintf("\nMeasured in %.0f s.\n", elapsed))

md_table <- function(df) {
  esc <- function(v) gsub("|", "\\|", as.character(v), fixed = TRUE)
  c(paste0("| ", paste(esc(names(df)), collapse = " | "), " |"),
    paste0("|", paste(rep("---", ncol(df)), collapse = "|"), "|"),
    apply(df, 1, function(r) paste0("| ", paste(esc(r), collapse = " | "), " |")))
}
cpu <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^[^:]*:", "", l[1])) else Sys.info()[["machine"]]
}, error = function(e) Sys.info()[["machine"]])
md_tab <- tab
md_tab[["base R"]] <- paste0("`", md_tab[["base R"]], "`")

md <- c(
  "# xentropy accuracy against base R",
  "",
  "Generated by `Rscript bench/accuracy.R` (see `bench/README.md`); do not edit by hand.",
  "",
  "Worst error in units in the last place (ulp) of the exact value, computed",
  paste0("with Rmpfr at ", mpfr_bits, " bits (`tests/testthat/helper-accuracy.R`),"),
  "over the same points for ours and for base R. For subnormal results one ulp",
  "is 2^-1074, so a result flushed to 0 shows as a huge number of ulp; `Inf`",
  "means an infinite result where the exact value is finite. `at x` is the",
  "point (x, or p for logit) where the worst error occurs.",
  "",
  paste0("- ", R.version.string, "; xentropy ", packageVersion("xentropy"),
         "; Rmpfr ", packageVersion("Rmpfr"), " (MPFR ", Rmpfr::mpfrVersion(), ")"),
  paste0("- CPU: ", cpu, " (the kernels pick their SIMD path per CPU)"),
  paste0("- date: ", format(Sys.time(), "%Y-%m-%d %H:%M %Z"),
         "; run time ", round(elapsed), " s"),
  "",
  md_table(md_tab)
)
writeLines(md, out_file)
cat("Wrote", out_file, "\n")
