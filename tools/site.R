# Builds the package's website with pkgdown into docs/ and checks it.
#
#   Rscript tools/site.R            # build into docs/, then check
#   Rscript tools/site.R --check    # only check an existing docs/
#
# The site reads offline: no script, style sheet or font comes from a CDN
# (pkgdown/templates/head.html replaces the template's CDN links; MathJax is
# copied in from Debian's libjs-mathjax and fonts-mathjax). The checks: no
# page loads anything from another host, every internal link and anchor
# resolves, every image exists, and, where Chromium is installed, every page
# loads in headless Chromium with its formulas typeset by MathJax.
# Needs pkgdown (Debian: r-cran-pkgdown) and libjs-mathjax + fonts-mathjax.

args <- commandArgs(trailingOnly = TRUE)
repo <- normalizePath(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE)[1])), ".."))
site <- file.path(repo, "docs")
mathjax <- "/usr/share/javascript/mathjax"

say <- function(...) message(paste0(...))
stop_with <- function(...) { message(paste0(...)); quit(status = 1) }

if (!"--check" %in% args) {
  if (!requireNamespace("pkgdown", quietly = TRUE)) {
    stop_with("pkgdown is not installed: apt-get install r-cran-pkgdown ",
              "(or install.packages(\"pkgdown\")).")
  }
  if (!file.exists(file.path(mathjax, "MathJax.js")) ||
      !dir.exists(file.path(mathjax, "fonts", "HTML-CSS"))) {
    stop_with("MathJax is missing: apt-get install libjs-mathjax fonts-mathjax.")
  }
  # The C++ vignette builds its example package for the website.
  Sys.setenv(XENTROPY_BUILD_EXAMPLE = "true")
  # pkgdown would ask CRAN and Bioconductor whether the package is there
  options(pkgdown.internet = FALSE)
  # ... and, for a package it cannot find, downlit asks CRAN: the example
  # package goes to a library every process of the build can see.
  example_lib <- tempfile("xeuser-lib")
  dir.create(example_lib)
  .libPaths(c(example_lib, .libPaths()))
  Sys.setenv(XENTROPY_EXAMPLE_LIB = example_lib,
             R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
  unlink(site, recursive = TRUE)
  pkgdown::build_site(repo, preview = FALSE, new_process = TRUE,
                      override = list(destination = site))
  # MathJax, without its unpacked sources and tests (about 20 MB).
  files <- list.files(mathjax, recursive = TRUE, all.files = FALSE)
  files <- files[!grepl("^(unpacked|test)/", files)]
  for (d in unique(dirname(files))) dir.create(file.path(site, "mathjax", d), recursive = TRUE, showWarnings = FALSE)
  ok <- file.copy(file.path(mathjax, files), file.path(site, "mathjax", files), overwrite = TRUE)
  if (!all(ok)) stop_with("could not copy MathJax into ", site)
  # The README (the home page) links to the vignettes' sources, for readers
  # of the repository; on the site they are the articles.
  home <- file.path(site, "index.html")
  html <- readLines(home, warn = FALSE, encoding = "UTF-8")
  html <- gsub('href="vignettes/([^"/]+)[.]Rmd"', 'href="articles/\\1.html"', html)
  writeLines(html, home, useBytes = TRUE)
  say("Built ", site)
}

# ---- checks -------------------------------------------------------------------
if (!dir.exists(site)) stop_with("no site in ", site, ": run Rscript tools/site.R")
pages <- list.files(site, pattern = "[.]html$", recursive = TRUE)
pages <- pages[!grepl("^mathjax/", pages)]
problems <- character()
problem <- function(page, what) problems <<- c(problems, paste0(page, ": ", what))

attr_values <- function(html, tag_pattern, attr) {
  tags <- regmatches(html, gregexpr(tag_pattern, html, perl = TRUE))[[1]]
  v <- regmatches(tags, regexpr(paste0("\\b", attr, "=\"[^\"]*\""), tags))
  sub(paste0("^", attr, "=\"([^\"]*)\"$"), "\\1", v)
}
ids_of <- local({
  cache <- list()
  function(file) {
    if (is.null(cache[[file]])) {
      html <- paste(readLines(file, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
      cache[[file]] <<- sub('^(id|name)="(.*)"$', "\\2",
                            regmatches(html, gregexpr('\\b(id|name)="[^"]*"', html))[[1]])
    }
    cache[[file]]
  }
})

for (page in pages) {
  file <- file.path(site, page)
  html <- paste(readLines(file, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
  # 1. nothing loaded from another host
  loaded <- c(attr_values(html, "<script\\b[^>]*>", "src"),
              attr_values(html, "<link\\b[^>]*>", "href"),
              attr_values(html, "<img\\b[^>]*>", "src"),
              attr_values(html, "<iframe\\b[^>]*>", "src"))
  for (u in loaded[grepl("^(https?:)?//", loaded)]) problem(page, paste("loads", u))
  # 2. internal links, anchors and images resolve
  targets <- c(attr_values(html, "<a\\b[^>]*>", "href"), loaded)
  targets <- targets[nzchar(targets) & !grepl("^([a-z]+:|//)", targets)]
  for (t in unique(targets)) {
    path <- sub("[?#].*$", "", t)
    frag <- if (grepl("#", t)) sub("^[^#]*#", "", t) else ""
    target <- if (nzchar(path)) file.path(dirname(file), utils::URLdecode(path)) else file
    if (dir.exists(target)) target <- file.path(target, "index.html")
    if (!file.exists(target)) { problem(page, paste("broken link", t)); next }
    if (nzchar(frag) && grepl("[.]html$", target) &&
        !utils::URLdecode(frag) %in% ids_of(target)) problem(page, paste("missing anchor", t))
  }
}
for (css in list.files(site, pattern = "[.]css$", recursive = TRUE)) {
  if (grepl("^mathjax/", css)) next
  text <- paste(readLines(file.path(site, css), warn = FALSE), collapse = "\n")
  if (grepl("(@import|url\\()\\s*[\"']?(https?:)?//", text)) problem(css, "loads from another host")
}
say(length(pages), " pages checked for external loads, links, anchors and images")

# 3. every page in headless Chromium: loads, and MathJax typesets its formulas
chromium <- Sys.which(c("chromium", "chromium-browser", "google-chrome"))
chromium <- chromium[nzchar(chromium)][1]
if (!is.na(chromium)) {
  profile <- tempfile("chromium-profile")
  flags <- c("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-quic", paste0("--user-data-dir=", profile),
             "--virtual-time-budget=10000", "--dump-dom")
  for (page in pages) {
    file <- file.path(site, page)
    html <- paste(readLines(file, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
    has_math <- grepl('class="math (inline|display)"|\\\\\\(|\\\\\\[', html)
    dom <- suppressWarnings(system2(chromium, c(flags, shQuote(paste0("file://", file))),
                                    stdout = TRUE, stderr = FALSE))
    dom <- paste(dom, collapse = "\n")
    if (!grepl("</html>", dom, fixed = TRUE)) { problem(page, "did not load in Chromium"); next }
    if (has_math && !grepl("MathJax_CHTML|MathJax_SVG|class=\"MathJax\\b|mjx-chtml", dom))
      problem(page, "formulas not typeset by MathJax")
    if (grepl("Math Processing Error|File failed to load", dom)) problem(page, "MathJax error")
  }
  unlink(profile, recursive = TRUE)
  say(length(pages), " pages loaded in headless Chromium")
} else {
  say("Chromium not found (Debian: chromium): pages not loaded in a browser")
}

if (length(problems)) {
  say(length(problems), " problem(s):")
  say(paste0("  ", problems, collapse = "\n"))
  quit(status = 1)
}
say("Site OK: ", site)
