# Installs what xentropy needs to build, test, check and render its vignettes.
#
#   Rscript tools/install-deps.R
#
# As root on Debian/Ubuntu: Debian's prebuilt r-cran-* packages, pandoc (for
# the vignettes), qpdf and tidy (for R CMD check --as-cran) and clang-14 with
# its runtime (for the fuzz harness in tools/fuzz/) through apt-get: seconds.
# Anything still missing, or everything for an ordinary user, comes from the
# repositories R is configured with (getOption("repos"); where none is set,
# R's first CRAN mirror) into the user library, created if needed.
#
# Without root, system libraries cannot be installed from here: the script
# says which Debian packages are missing and what will not work without them.
# It exits non-zero only when xentropy itself cannot be installed.

r_packages <- c(
  # build (Imports, LinkingTo)
  "Rcpp", "RcppEigen",
  # tests, vignettes, benchmarks, comparisons (Suggests)
  "testthat", "knitr", "rmarkdown", "ggplot2", "Rmpfr", "nnet", "MASS", "glmnet",
  "VGAM", "bench", "matrixStats",
  # data in chunks (issue 20): Debian has all but biglm, which comes from CRAN
  # (pure R); arrow (parquet / feather chunks) stays optional
  "future", "future.apply", "globals", "progressr", "DBI", "RSQLite", "data.table", "biglm"
)

# What each package is for, to say what is lost without it.
purpose <- c(
  Rcpp = "xentropy cannot be installed at all",
  RcppEigen = "xentropy cannot be installed at all",
  testthat = "the test suite cannot run, so tools/check.sh fails",
  knitr = "the vignettes cannot be built, so R CMD build and tools/check.sh fail",
  rmarkdown = "the vignettes cannot be built, so R CMD build and tools/check.sh fail",
  ggplot2 = "the tour and the vignettes leave out their figures",
  Rmpfr = "the accuracy tests against 200-bit references are skipped",
  nnet = "the comparisons with nnet::multinom() are skipped",
  MASS = "the glm-workflow tests and the vignette's Pima example are skipped",
  glmnet = "the comparisons with glmnet are skipped",
  VGAM = "the comparisons with VGAM are skipped",
  bench = "the benchmarks in bench/ cannot run",
  matrixStats = "the benchmarks in bench/ cannot run",
  future = "chunked fits run sequentially and their multisession tests are skipped",
  future.apply = "chunked fits run sequentially and their multisession tests are skipped",
  globals = "function sources that use global variables cannot run on workers",
  progressr = "chunked passes report no progress and the progress test is skipped",
  DBI = "data_chunks() cannot read databases and the SQLite tests are skipped",
  RSQLite = "the SQLite tests of data_chunks() and bench/chunks.R are skipped",
  data.table = "csv chunks are read by utils::read.csv() (slower)",
  biglm = "bench/chunks.R cannot compare with biglm::bigglm()"
)

# CRAN packages (anywhere in the dependency tree of the ones above) that do
# not build from source without a system library: the header the compiler
# must find and the Debian package that provides it.
system_libraries <- list(
  fs    = list(header = "uv.h",   debian = "libuv1-dev"),  # or cmake: bundled libuv
  gmp   = list(header = "gmp.h",  debian = "libgmp-dev"),
  Rmpfr = list(header = "mpfr.h", debian = "libmpfr-dev")
)

# Programs: command -> Debian packages, and what is lost without them.
system_tools <- list(
  pandoc   = list(debian = "pandoc",
                  purpose = "the vignettes cannot be rendered, so R CMD build and tools/check.sh fail"),
  qpdf     = list(debian = "qpdf",
                  purpose = "R CMD check --as-cran cannot check PDF sizes (a NOTE, so tools/check.sh fails)"),
  tidy     = list(debian = "tidy",
                  purpose = "R CMD check --as-cran cannot validate the HTML manual (a NOTE, so tools/check.sh fails)"),
  pdflatex = list(debian = c("texlive-latex-base", "texlive-latex-recommended",
                             "texlive-fonts-recommended"),
                  purpose = "the PDF manual cannot be built, so tools/check.sh fails")
)
# Optional: only the fuzz harness (sh tools/fuzz/run.sh) needs these.
fuzz_tools <- list(header = "fuzzer/FuzzedDataProvider.h",
                   debian = c("clang-14", "libclang-rt-14-dev"))

has_tool <- function(tool) nzchar(Sys.which(tool))
missing_packages <- function() {
  r_packages[!vapply(r_packages, requireNamespace, logical(1), quietly = TRUE)]
}
missing_tools <- function() {
  names(system_tools)[!vapply(names(system_tools), has_tool, logical(1))]
}
has_fuzzer <- function() {
  has_tool("clang++-14") &&
    system2("clang++-14", c("-fsanitize=fuzzer", "-x", "c++", "-o", "/dev/null", "-"),
            input = "extern \"C\" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }",
            stdout = FALSE, stderr = FALSE) == 0
}
# Does R's C compiler find this header?
has_header <- function(header) {
  r <- file.path(R.home("bin"), "R")
  cc <- suppressWarnings(system2(r, c("CMD", "config", "CC"), stdout = TRUE, stderr = FALSE))
  cppflags <- suppressWarnings(system2(r, c("CMD", "config", "CPPFLAGS"), stdout = TRUE, stderr = FALSE))
  if (!length(cc) || !nzchar(cc[1])) return(FALSE)
  src <- tempfile(fileext = ".c")
  on.exit(unlink(src))
  writeLines(sprintf("#include <%s>", header), src)
  status <- suppressWarnings(system(paste(cc[1], cppflags[1], "-E", shQuote(src)),
                                    ignore.stdout = TRUE, ignore.stderr = TRUE))
  status == 0
}
# Packages among `pkgs` (and the CRAN packages they need) that need a system
# library whose header is missing: a named list, library -> Debian packages.
missing_libraries <- function(pkgs, db) {
  tree <- unique(c(pkgs, unlist(tools::package_dependencies(
    pkgs, db = db, recursive = TRUE, which = c("Depends", "Imports", "LinkingTo")))))
  installed <- vapply(names(system_libraries), function(p)
    nzchar(system.file(package = p)), logical(1))
  need <- intersect(names(system_libraries), tree)
  need <- need[!installed[need]]
  out <- list()
  for (p in need) {
    lib <- system_libraries[[p]]
    # fs can build its bundled copy of libuv instead, with cmake
    if (p == "fs" && !has_header(lib$header) && has_tool("cmake")) {
      if (!identical(Sys.getenv("USE_BUNDLED_LIBUV"), "1")) {
        say("libuv (libuv1-dev) is missing: fs builds its bundled copy (USE_BUNDLED_LIBUV=1).")
        Sys.setenv(USE_BUNDLED_LIBUV = "1")
      }
      next
    }
    debs <- lib$debian
    if (p == "Rmpfr") debs <- c(if (!installed[["gmp"]] && !has_header("gmp.h")) "libgmp-dev", debs)
    if (!has_header(lib$header)) out[[p]] <- unique(debs)
  }
  out
}
say <- function(...) message(paste0(...))
wrap <- function(x) paste(strwrap(x, width = 76, exdent = 2), collapse = "\n")

is_root <- identical(unname(Sys.info()[["effective_user"]]), "root")
has_apt <- has_tool("apt-get") && has_tool("apt-cache")

if (is_root && has_apt) {
  pkgs <- missing_packages()
  wanted <- c(if (length(pkgs)) paste0("r-cran-", tolower(pkgs)),
              unlist(lapply(system_tools[missing_tools()], `[[`, "debian")),
              if (!has_fuzzer()) fuzz_tools$debian)
  if (length(wanted)) {
    Sys.setenv(DEBIAN_FRONTEND = "noninteractive")
    say("apt-get update")
    system2("apt-get", c("update", "-qq"))
    # install what Debian has, in one call; what it lacks falls through to CRAN
    in_debian <- vapply(wanted, function(p) {
      out <- suppressWarnings(system2("apt-cache", c("show", "--no-all-versions", p),
                                      stdout = TRUE, stderr = FALSE))
      length(out) > 0
    }, logical(1))
    if (any(in_debian)) {
      say("apt-get install ", paste(wanted[in_debian], collapse = " "))
      status <- system2("apt-get", c("install", "-y", "-qq", "--no-install-recommends",
                                     wanted[in_debian]))
      if (status != 0) say("apt-get install failed; trying CRAN for the R packages")
    }
  }
}

# A library this user can write to, for the packages below and for
# `R CMD INSTALL .` afterwards (R puts R_LIBS_USER first once it exists).
lib <- .libPaths()[1]
if (file.access(lib, 2) != 0) {
  lib <- Sys.getenv("R_LIBS_USER")
  if (!dir.exists(lib)) {
    dir.create(lib, recursive = TRUE, showWarnings = FALSE)
    say("Created the user library ", lib)
  }
  .libPaths(c(lib, .libPaths()))
}

still_missing <- missing_packages()
lacking <- list()
unreachable <- FALSE
if (length(still_missing)) {
  repos <- getOption("repos")
  if (!length(repos) || any(repos == "@CRAN@")) {
    # No repository configured: R's own first mirror (the cloud one).
    chooseCRANmirror(ind = 1)
    repos <- getOption("repos")
  }
  db <- suppressWarnings(available.packages(repos = repos))
  if (!nrow(db)) {
    # no index: the repository could not be reached (no network, a proxy);
    # say so, rather than blame system libraries for what fails next
    unreachable <- TRUE
    say(wrap(paste0("The package repository ", paste(unique(repos), collapse = ", "),
                    " could not be reached (no network?): ",
                    paste(still_missing, collapse = ", "), " cannot be installed from it.")))
  }
  lacking <- if (unreachable) list() else missing_libraries(still_missing, db)
  if (length(lacking) && is_root && has_apt) {
    debs <- unique(unlist(lacking))
    say("apt-get install ", paste(debs, collapse = " "), " (to build from source)")
    system2("apt-get", c("install", "-y", "-qq", "--no-install-recommends", debs))
    lacking <- missing_libraries(still_missing, db)
  }
  # withCallingHandlers: R's "installation of package had non-zero exit
  # status" warnings are summed up below, in words that say what follows.
  if (!unreachable) {
    say("install.packages() from ", paste(unique(repos), collapse = ", "), " into ", lib,
        ": ", paste(still_missing, collapse = ", "))
    withCallingHandlers(
      install.packages(still_missing, lib = lib, repos = repos,
                       Ncpus = max(1L, parallel::detectCores())),
      warning = function(w) {
        if (grepl("non-zero exit status|(is|are) not available", conditionMessage(w)))
          invokeRestart("muffleWarning")
      })
  }
}

absent <- missing_packages()
tools_absent <- missing_tools()
if (length(lacking) || length(absent) || length(tools_absent)) {
  say("")
  say("xentropy's set-up is incomplete.")
  if (length(lacking)) {
    failed <- names(lacking)[!vapply(names(lacking), function(p)
      nzchar(system.file(package = p)), logical(1))]
    debs <- unique(unlist(lacking[failed]))
    if (length(debs)) {
      say(wrap(paste0("Missing system libraries (Debian/Ubuntu names): ",
                      paste(debs, collapse = " "), ". Without them ",
                      paste(failed, collapse = " and "), " cannot be built from source",
                      if ("fs" %in% failed) " (fs could build its own libuv with cmake, which is missing too)",
                      ". ",
                      "Ask an administrator to run: apt-get install ",
                      paste(debs, collapse = " "),
                      if (length(absent)) paste0(
                        " (or apt-get install ",
                        paste0("r-cran-", tolower(absent), collapse = " "),
                        " for the R packages themselves)"),
                      ", then run this script again.")))
    }
  }
  if (length(absent)) {
    say("Not installed, and what follows:")
    for (p in absent) say(wrap(paste0("  ", p, ": ", purpose[[p]], ".")))
  }
  if (length(tools_absent)) {
    say("Missing programs (Debian/Ubuntu packages in brackets), and what follows:")
    for (t in tools_absent) {
      say(wrap(paste0("  ", t, " [", paste(system_tools[[t]]$debian, collapse = " "),
                      "]: ", system_tools[[t]]$purpose, ".")))
    }
  }
} else {
  say("All dependencies of xentropy are installed.")
}
if (!requireNamespace("pkgdown", quietly = TRUE) || !file.exists("/usr/share/javascript/mathjax/MathJax.js")) {
  say(wrap(paste0("Optional: the website (Rscript tools/site.R) needs pkgdown and MathJax ",
                  "(Debian: r-cran-pkgdown libjs-mathjax fonts-mathjax; chromium to check it).")))
}
if (!has_fuzzer()) {
  say(wrap(paste0("Optional: the fuzz harness (tools/fuzz/run.sh) needs ",
                  paste(fuzz_tools$debian, collapse = " "), ".")))
}
if (any(c("Rcpp", "RcppEigen") %in% absent)) quit(status = 1)
