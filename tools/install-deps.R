# Installs what xentropy needs to build, test, check and render its vignettes.
#
#   Rscript tools/install-deps.R
#
# As root on Debian/Ubuntu: Debian's prebuilt r-cran-* packages, pandoc (for
# the vignettes), qpdf and tidy (for R CMD check --as-cran) through apt-get:
# seconds. Anything still missing, or everything for an ordinary user, comes
# from CRAN into the user library (created if needed).

r_packages <- c(
  # build (Imports, LinkingTo)
  "Rcpp", "RcppEigen",
  # tests, vignettes, benchmarks (Suggests)
  "testthat", "knitr", "rmarkdown", "ggplot2", "Rmpfr", "nnet", "bench",
  "matrixStats"
)
# command -> Debian packages providing it
system_tools <- c(pandoc = "pandoc", qpdf = "qpdf", tidy = "tidy",
                  pdflatex = "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended")

missing_packages <- function() {
  r_packages[!vapply(r_packages, requireNamespace, logical(1), quietly = TRUE)]
}
has_tool <- function(tool) nzchar(Sys.which(tool))

is_root <- identical(unname(Sys.info()[["effective_user"]]), "root")
has_apt <- has_tool("apt-get")

if (is_root && has_apt) {
  wanted <- c(paste0("r-cran-", tolower(missing_packages())),
              unlist(strsplit(system_tools[!vapply(names(system_tools), has_tool, logical(1))], " ")))
  if (length(wanted)) {
    message("apt-get install ", paste(wanted, collapse = " "))
    Sys.setenv(DEBIAN_FRONTEND = "noninteractive")
    system("apt-get update -qq")
    # install what Debian has, one call; packages it lacks fall through to CRAN
    available <- wanted[vapply(wanted, function(p) {
      length(system2("apt-cache", c("show", "--no-all-versions", p),
                     stdout = TRUE, stderr = FALSE)) > 0
    }, logical(1))]
    if (length(available)) {
      status <- system2("apt-get", c("install", "-y", "-qq",
                                     "--no-install-recommends", available))
      if (status != 0) warning("apt-get install failed; falling back to CRAN")
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
    message("Created the user library ", lib)
  }
  .libPaths(c(lib, .libPaths()))
}

still_missing <- missing_packages()
if (length(still_missing)) {
  repos <- getOption("repos")
  if (is.null(repos) || identical(unname(repos["CRAN"]), "@CRAN@")) {
    repos <- c(CRAN = "https://cloud.r-project.org")
  }
  message("install.packages() from CRAN into ", lib, ": ",
          paste(still_missing, collapse = ", "))
  install.packages(still_missing, lib = lib, repos = repos,
                   Ncpus = max(1L, parallel::detectCores()))
}

absent <- missing_packages()
tools_absent <- names(system_tools)[!vapply(names(system_tools), has_tool, logical(1))]
if (length(absent)) {
  message("Could not install: ", paste(absent, collapse = ", "),
          ". Tests that need them are skipped.")
}
if ("pandoc" %in% tools_absent) {
  message("pandoc is missing: the vignettes (and R CMD build) need it. ",
          "Install it with your system's package manager.")
}
if (length(setdiff(tools_absent, "pandoc"))) {
  message("Missing for R CMD check --as-cran: ",
          paste(setdiff(tools_absent, "pandoc"), collapse = ", "))
}
if (!length(absent) && !length(tools_absent)) {
  message("All dependencies of xentropy are installed.")
}
if ("Rcpp" %in% absent || "RcppEigen" %in% absent) quit(status = 1)
