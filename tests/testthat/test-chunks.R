# data_chunks(), fits over chunks and model_metrics(): every chunked result
# is checked against the same computation on the whole data in memory (the
# issue's tolerances: 1e-8 on coefficients, 1e-6 on vcov), for each kind of
# source, under a sequential and a multisession future plan.

# 3000 rows in 6 chunks of 500. Numbers are multiples of 2^-12 (or 2^-3),
# exact in binary and printed exactly by write.csv(), so that a csv round
# trip gives back the same doubles. Level "e" of `f` occurs only in
# chunk 5, class "w" of `k` is absent from chunk 1 (the chunk the terms are
# taken from), and x1 has NA in chunks 2 and 4.
chunk_fixture <- function(n = 3000, seed = 20) {
  set.seed(seed)
  d <- data.frame(x1 = round(rnorm(n) * 4096) / 4096, x2 = round(runif(n, -2, 2) * 4096) / 4096,
                  f = sample(c("a", "b", "c", "d"), n, TRUE), stringsAsFactors = FALSE)
  d$f[2001:2500][sample(500, 60)] <- "e"
  eff <- c(a = 0, b = 0.6, c = -0.4, d = 0.2, e = 1)[d$f]
  d$y <- rbinom(n, 1, plogis(0.2 + 0.9 * d$x1 - 0.7 * d$x2 + eff))
  cls <- c("u", "v", "w")
  E <- cbind(0, 0.5 + 0.8 * d$x1, -0.3 - 0.6 * d$x2 + eff)
  P <- exp(E) / rowSums(exp(E))
  d$k <- cls[apply(P, 1, function(p) sample(3, 1, prob = p))]
  d$k[1:500] <- sample(c("u", "v"), 500, TRUE)
  d$wt <- round(runif(n, 0.5, 2) * 8) / 8
  d$x1[c(600, 777, 1700, 1999)] <- NA
  d$f <- factor(d$f)
  d$k <- factor(d$k)
  d
}

chunk_parts <- function(d, size = 500) {
  unname(split(d, ceiling(seq_len(nrow(d)) / size)))
}

write_csv_chunks <- function(parts, dir = tempfile("chunks-")) {
  dir.create(dir)
  files <- file.path(dir, sprintf("part-%d.csv", seq_along(parts)))
  for (i in seq_along(parts)) utils::write.csv(parts[[i]], files[i], row.names = FALSE)
  files
}

max_diff <- function(a, b) max(abs(a - b), na.rm = TRUE)

# The chunked fit equals the in-memory one: coefficients, vcov, the
# likelihood and deviances, the degrees of freedom.
expect_same_fit <- function(cf, m) {
  expect_s3_class(cf, "xentropy_chunked_fit")
  expect_identical(dimnames(as.matrix(coef(cf))), dimnames(as.matrix(coef(m))))
  expect_identical(is.na(coef(cf)), is.na(coef(m)))
  expect_lt(max_diff(coef(cf), coef(m)), 1e-8)
  expect_identical(dimnames(vcov(cf)), dimnames(vcov(m)))
  expect_lt(max_diff(vcov(cf), vcov(m)), 1e-6)
  expect_equal(as.numeric(logLik(cf)), as.numeric(logLik(m)), tolerance = 1e-10)
  expect_identical(typeof(attr(logLik(cf), "df")), typeof(attr(logLik(m), "df")))
  expect_equal(attr(logLik(cf), "df"), attr(logLik(m), "df"), tolerance = 1e-10)
  expect_equal(deviance(cf), deviance(m), tolerance = 1e-10)
  expect_equal(cf$null.deviance, m$null.deviance, tolerance = 1e-10)
  expect_identical(nobs(cf), nobs(m))
  expect_identical(cf$df.residual, m$df.residual)
  expect_identical(cf$iter, m$iter)
  expect_true(cf$converged)
}

fixture <- chunk_fixture()
parts <- chunk_parts(fixture)
files <- write_csv_chunks(parts)
mem_logit <- logistic_regression(y ~ x1 + x2 + f, data = fixture)
mem_soft <- softmax_regression(k ~ x1 + x2 + f, data = fixture)

sqlite_db <- function() {
  path <- tempfile(fileext = ".sqlite")
  con <- DBI::dbConnect(RSQLite::SQLite(), path)
  db <- fixture
  db$f <- as.character(db$f)
  db$k <- as.character(db$k)
  DBI::dbWriteTable(con, "fixture", db)
  list(con = con, path = path)
}

function_source <- function(parts) {
  force(parts)
  function(i) if (i <= length(parts)) parts[[i]] else NULL
}

test_that("the csv round trip of the fixture gives back the same data", {
  back <- do.call(rbind, lapply(files, utils::read.csv, stringsAsFactors = TRUE))
  expect_identical(back$x1, fixture$x1)
  expect_identical(back$x2, fixture$x2)
  expect_identical(back$wt, fixture$wt)
  expect_identical(as.character(back$f), as.character(fixture$f))
})

test_that("chunked logistic and softmax fits equal the in-memory fits for every source (sequential plan)", {
  skip_if_not_installed("future")
  oplan <- future::plan(future::sequential)
  on.exit(future::plan(oplan), add = TRUE)
  srcs <- list(csv = data_chunks(files), list = data_chunks(parts),
               fun = data_chunks(function_source(parts)))
  if (requireNamespace("RSQLite", quietly = TRUE) && requireNamespace("DBI", quietly = TRUE)) {
    db <- sqlite_db()
    on.exit(DBI::dbDisconnect(db$con), add = TRUE)
    srcs$sqlite <- data_chunks(db$con, chunk_rows = 500, table = "fixture")
  }
  for (nm in names(srcs)) {
    expect_same_fit(logistic_regression(y ~ x1 + x2 + f, data = srcs[[nm]]), mem_logit)
    expect_same_fit(softmax_regression(k ~ x1 + x2 + f, data = srcs[[nm]]), mem_soft)
  }
  expect_true("sqlite" %in% names(srcs) || !requireNamespace("RSQLite", quietly = TRUE))
})

test_that("chunked fits equal the in-memory fits on a multisession plan with 2 workers", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  expect_equal(future::nbrOfWorkers(), 2)
  # each worker runs one thread (two workers of two threads on two cores wait out the
  # scheduler at every barrier of the solvers); the session keeps its own setting
  before <- getOption("xentropy.threads")
  got <- xentropy:::chunk_map(data_chunks(parts), function(d, i) getOption("xentropy.threads"))
  expect_identical(unlist(got), rep(1L, length(parts)))
  expect_identical(getOption("xentropy.threads"), before)
  expect_same_fit(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(files)), mem_logit)
  expect_same_fit(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(parts)), mem_logit)
  expect_same_fit(softmax_regression(k ~ x1 + x2 + f,
                                     data = data_chunks(function_source(parts))), mem_soft)
  # a function source and a formula's function defined in the global
  # environment, using global variables (the environment future does not
  # send): they run on the workers
  assign("xentropy_test_files", files, envir = globalenv())
  on.exit(rm("xentropy_test_files", envir = globalenv()), add = TRUE)
  glob <- eval(quote(function(i) {
    if (i <= length(xentropy_test_files)) utils::read.csv(xentropy_test_files[i]) else NULL
  }), globalenv())
  expect_same_fit(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(glob)), mem_logit)
  skip_if_not_installed("RSQLite")
  db <- sqlite_db()
  on.exit(DBI::dbDisconnect(db$con), add = TRUE)
  path <- db$path
  # read on the main process and shipped, and read by each worker itself
  expect_same_fit(logistic_regression(y ~ x1 + x2 + f,
                                      data = data_chunks(db$con, 500, table = "fixture")),
                  mem_logit)
  own <- data_chunks(db$con, 500, query = "SELECT * FROM fixture ORDER BY rowid",
                     connect = function() DBI::dbConnect(RSQLite::SQLite(), path))
  expect_same_fit(softmax_regression(k ~ x1 + x2 + f, data = own), mem_soft)
})

test_that("a failing chunk on a multisession worker is named in the error", {
  skip_on_cran()
  skip_if_not_installed("future.apply")
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  bad <- files
  bad[5] <- file.path(dirname(files[1]), "missing-5.csv")
  expect_error(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(bad)),
               "chunk 5 \\(file \"[^\"]*missing-5\\.csv\"\\)")
})

test_that("chunked fits with weights, an offset, a ridge penalty and label smoothing equal the in-memory fits", {
  ch <- data_chunks(parts)
  for (lam in c(0.5, 20)) {
    expect_same_fit(logistic_regression(y ~ x1 + x2 + f, data = ch, lambda = lam),
                    logistic_regression(y ~ x1 + x2 + f, data = fixture, lambda = lam))
    expect_same_fit(softmax_regression(k ~ x1 + x2 + f, data = ch, lambda = lam),
                    softmax_regression(k ~ x1 + x2 + f, data = fixture, lambda = lam))
  }
  expect_same_fit(logistic_regression(y ~ x1 + f + offset(x2 / 2), data = ch, weights = wt),
                  logistic_regression(y ~ x1 + f + offset(x2 / 2), data = fixture,
                                      weights = wt))
  expect_same_fit(softmax_regression(k ~ x1 + x2, data = ch, weights = wt,
                                     label_smoothing = 0.1),
                  softmax_regression(k ~ x1 + x2, data = fixture, weights = wt,
                                     label_smoothing = 0.1))
})

test_that("the Newton passes read the cached chunk designs, which go at the end of the fit", {
  # calls are counted in a file: the source runs where the plan puts it
  log <- tempfile()
  file.create(log)
  src <- function(i) {
    cat(i, "\n", file = log, append = TRUE)
    if (i <= length(parts)) parts[[i]] else NULL
  }
  reads <- function() length(readLines(log))
  before <- list.files(tempdir(), pattern = "^xentropy-chunks-")
  cf <- logistic_regression(y ~ x1 + x2 + f, data = data_chunks(src))
  # counting (7 calls), the levels pass, the first chunk's terms, the pass
  # that caches: nothing after
  expect_identical(reads(), 7L + 6L + 1L + 6L)
  expect_identical(list.files(tempdir(), pattern = "^xentropy-chunks-"), before)
  old <- options(xentropy.chunk_cache = FALSE)
  on.exit(options(old), add = TRUE)
  file.create(log)
  cf_nc <- logistic_regression(y ~ x1 + x2 + f, data = data_chunks(src))
  expect_gt(reads(), 7 + 6 + 1 + 6 + 6 * cf$iter)
  expect_identical(coef(cf_nc), coef(cf))
  expect_identical(vcov(cf_nc), vcov(cf))
  expect_same_fit(cf, mem_logit)
})

test_that("subset selects rows by a condition as in memory; row numbers are an error", {
  ch <- data_chunks(parts)
  expect_same_fit(logistic_regression(y ~ x1 + f, data = ch, subset = x2 > 0),
                  logistic_regression(y ~ x1 + f, data = fixture, subset = x2 > 0))
  expect_error(logistic_regression(y ~ x1 + f, data = ch, subset = 1:1000),
               "chunk 1 .*`subset` must be a logical condition")
})

test_that("aliased columns of a chunked fit are those of the in-memory fit", {
  d <- transform(fixture, x3 = 2 * x2 - 1)
  ch <- data_chunks(chunk_parts(d))
  cf <- logistic_regression(y ~ x1 + x2 + x3 + f, data = ch)
  m <- logistic_regression(y ~ x1 + x2 + x3 + f, data = d)
  expect_true(is.na(coef(cf)[["x3"]]))
  expect_same_fit(cf, m)
})

test_that("factor levels seen in only some chunks get their columns in every chunk", {
  cf <- logistic_regression(y ~ x1 + x2 + f, data = data_chunks(files))
  expect_true("fe" %in% names(coef(cf)))
  expect_identical(cf$xlevels$f, c("a", "b", "c", "d", "e"))
  sf <- softmax_regression(k ~ x1 + f, data = data_chunks(files))
  expect_identical(sf$levels, c("u", "v", "w"))
  expect_identical(rownames(coef(sf)), c("v", "w"))
  # a factor whose levels are not in alphabetical order, the first of them
  # (the reference) absent from the first chunk, one level used by no row
  d <- fixture
  d$g <- factor(ifelse(d$x2 > 1, "zeta", ifelse(d$x2 > 0, "mu", "alpha")),
                levels = c("zeta", "mu", "alpha", "unused"))
  d$g[1:500][d$g[1:500] == "zeta"] <- "mu"
  ch <- data_chunks(chunk_parts(d))
  expect_same_fit(logistic_regression(y ~ x1 + g, data = ch),
                  logistic_regression(y ~ x1 + g, data = d))
  expect_same_fit(softmax_regression(k ~ g, data = ch), softmax_regression(k ~ g, data = d))
  expect_identical(names(coef(logistic_regression(y ~ g, data = ch))),
                   c("(Intercept)", "gmu", "galpha"))
})

test_that("NA rows follow na.action as in memory", {
  ch <- data_chunks(parts)
  cf <- logistic_regression(y ~ x1 + x2 + f, data = ch)
  expect_identical(nobs(cf), nrow(fixture) - 4L)
  expect_same_fit(logistic_regression(y ~ x1 + x2 + f, data = ch, na.action = na.exclude),
                  logistic_regression(y ~ x1 + x2 + f, data = fixture, na.action = na.exclude))
  expect_error(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(files),
                                   na.action = na.fail),
               "chunk 2 \\(file .*part-2\\.csv.*missing values")
  expect_error(logistic_regression(y ~ x1 + x2 + f, data = fixture, na.action = na.fail),
               "missing values")
})

test_that("methods of a chunked fit equal the in-memory fit's", {
  ch <- data_chunks(parts)
  for (pair in list(list(logistic_regression(y ~ x1 + x2 + f, data = ch), mem_logit),
                    list(softmax_regression(k ~ x1 + x2 + f, data = ch), mem_soft))) {
    cf <- pair[[1]]
    m <- pair[[2]]
    sc <- summary(cf)
    sm <- summary(m)
    expect_lt(max_diff(coef(sc), coef(sm)), 1e-6)
    expect_identical(dimnames(coef(sc)), dimnames(coef(sm)))
    expect_equal(AIC(cf), AIC(m), tolerance = 1e-10)
    expect_equal(BIC(cf), BIC(m), tolerance = 1e-10)
    expect_lt(max_diff(confint(cf), confint(m)), 1e-6)
    new <- fixture[c(5, 2200, 2300, 2999), ]
    for (type in c("prob", "link", "class")) {
      a <- predict(cf, newdata = new, type = type)
      b <- predict(m, newdata = new, type = type)
      if (type == "class") expect_identical(a, b) else expect_lt(max_diff(a, b), 1e-8)
    }
    se_c <- predict(cf, newdata = new, type = "link", se.fit = TRUE)$se.fit
    se_m <- predict(m, newdata = new, type = "link", se.fit = TRUE)$se.fit
    expect_lt(max_diff(se_c, se_m), 1e-6)
    expect_output(print(cf), "x1")
  }
})

test_that("methods that need the rows in memory stop with an error on a chunked fit", {
  cf <- logistic_regression(y ~ x1 + x2 + f, data = data_chunks(parts))
  expect_error(residuals(cf), "residuals\\(\\) needs the data in memory")
  expect_error(fitted(cf), "fitted\\(\\) needs the data in memory")
  expect_error(predict(cf), "without `newdata`")
  expect_error(anova(cf), "anova\\(\\) needs the data in memory")
  expect_error(model.matrix(cf), "model.matrix\\(\\) needs the data in memory")
})

test_that("control = list(trace = TRUE) prints the objective per Newton step as in memory", {
  ch <- data_chunks(parts)
  out_c <- capture.output(cf <- logistic_regression(y ~ x1 + x2 + f, data = ch,
                                                    control = list(trace = TRUE)))
  out_m <- capture.output(m <- logistic_regression(y ~ x1 + x2 + f, data = fixture,
                                                   control = list(trace = TRUE)))
  expect_length(out_c, m$iter + 1L)
  expect_match(out_c, "^iter +[0-9]+  objective [0-9.]+$")
  expect_equal(as.numeric(sub(".*objective ", "", out_c)),
               as.numeric(sub(".*objective ", "", out_m)), tolerance = 1e-10)
})

test_that("passes over the chunks report progress through progressr", {
  skip_if_not_installed("progressr")
  old <- options(progressr.enable = TRUE)
  on.exit(options(old), add = TRUE)
  steps <- 0
  withCallingHandlers(
    model_metrics(mem_logit, data_chunks(parts)),
    progression = function(c) if (identical(c$type, "update")) steps <<- steps + c$amount
  )
  expect_equal(steps, length(parts))
})

test_that("model_metrics() over chunks equals model_metrics() in memory and the package's scores", {
  ch_f <- data_chunks(files)
  cf <- logistic_regression(y ~ x1 + x2 + f, data = ch_f)
  mc <- model_metrics(cf, ch_f)
  mm <- model_metrics(mem_logit, fixture)
  expect_identical(mc$measure, c("cross_entropy", "brier", "calibration_error", "accuracy"))
  expect_lt(max_diff(mc$value, mm$value), 1e-12)
  expect_identical(attr(mc, "nobs"), nrow(fixture) - 4)
  ok <- stats::complete.cases(fixture[, c("x1", "x2", "f", "y")])
  p <- predict(mem_logit, newdata = fixture[ok, ], type = "prob")
  y <- fixture$y[ok]
  direct <- c(binary_cross_entropy(y, p), brier_score(y, p), calibration_error(y, p),
              top_k_accuracy(y + 1L, cbind(1 - p, p)))
  expect_lt(max_diff(mm$value, direct), 1e-12)

  sc <- softmax_regression(k ~ x1 + x2 + f, data = ch_f)
  ms <- model_metrics(sc, ch_f, measures = c("accuracy", "cross_entropy"))
  expect_identical(ms$measure, c("accuracy", "cross_entropy"))
  P <- predict(mem_soft, newdata = fixture[ok, ], type = "prob")
  k <- fixture$k[ok]
  expect_lt(max_diff(ms$value, c(top_k_accuracy(k, P), cross_entropy_loss(k, P))), 1e-12)
  ms_all <- model_metrics(sc, ch_f)
  expect_lt(max_diff(ms_all$value[2:3], c(brier_score(k, P), calibration_error(k, P))),
            1e-12)
})

test_that("c() and merge_reliability() of partial reliability tables equal the table of the whole", {
  set.seed(7)
  n <- 3000
  P <- matrix(rexp(n * 3), n, 3)
  P <- P / rowSums(P)
  y <- sample(3, n, TRUE)
  w <- runif(n, 0.2, 3)
  idx <- split(seq_len(n), rep(1:5, length.out = n))
  for (type in c("top-label", "classwise")) {
    whole <- reliability_table(y, P, bins = 10, type = type, weights = w)
    tabs <- lapply(idx, function(i) reliability_table(y[i], P[i, ], bins = 10, type = type,
                                                      weights = w[i]))
    merged <- do.call(c, unname(tabs))
    expect_s3_class(merged, "xentropy_reliability")
    expect_identical(merged$count, whole$count)
    for (col in c("weight", "confidence", "frequency", "ci_lower", "ci_upper")) {
      expect_equal(merged[[col]], whole[[col]], tolerance = 1e-12)
    }
    expect_equal(attr(merged, "ece"), attr(whole, "ece"), tolerance = 1e-12)
    expect_equal(attr(merged, "mce"), attr(whole, "mce"), tolerance = 1e-12)
    expect_equal(attr(merge_reliability(unname(tabs)), "ece"), attr(whole, "ece"),
                 tolerance = 1e-12)
  }
  a <- reliability_table(y[1:100], P[1:100, ], bins = 10)
  b <- reliability_table(y[101:200], P[101:200, ], bins = 12)
  expect_error(c(a, b), "same type, classes and bins")
  e <- reliability_table(y, P, bins = 10, binning = "equal-mass")
  expect_error(c(e, e), "equal-width")
  stripped <- a
  attr(stripped, "sums") <- NULL
  expect_error(c(stripped, a), "lost its per-bin sums")
})

test_that("a failing chunk stops the fit with an error naming the chunk and its file", {
  bad <- files
  bad[3] <- file.path(dirname(files[1]), "no-such-part.csv")
  expect_error(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(bad)),
               "chunk 3 \\(file \"[^\"]*no-such-part\\.csv\"\\)")
  wrong <- files
  wrong[4] <- file.path(dirname(files[1]), "wrong-columns.csv")
  utils::write.csv(parts[[4]][, c("x1", "f", "y")], wrong[4], row.names = FALSE)
  expect_error(logistic_regression(y ~ x1 + x2 + f, data = data_chunks(wrong)),
               "chunk 4 \\(file \"[^\"]*wrong-columns\\.csv\"\\).*lacks the column \"x2\"")
  expect_error(model_metrics(mem_logit, data_chunks(wrong)),
               "chunk 4 \\(file \"[^\"]*wrong-columns\\.csv\"\\)")
  boom <- data_chunks(function(i) if (i == 2) stop("disk on fire") else if (i <= 3) parts[[i]])
  expect_error(softmax_regression(k ~ x1, data = boom), "chunk 2 \\(function source\\).*disk on fire")
})

test_that("data_chunks() checks its source", {
  expect_error(data_chunks(42), "`source` must be file paths")
  expect_error(data_chunks("a.txt"), "reads .csv, .rds")
  expect_error(data_chunks(list(1, 2)), "must hold data frames")
  expect_error(data_chunks(parts, chunk_rows = 0), "`chunk_rows` must be")
  expect_error(logistic_regression(x = cbind(1, fixture$x2), y = fixture$y,
                                   data = data_chunks(parts)),
               "needs the formula interface")
})

test_that("print() of a data_chunks object says what it is", {
  dir <- tempfile("print-")
  dir.create(dir)
  f <- file.path(dir, sprintf("part-%d.csv", 1:4))
  for (i in 1:4) utils::write.csv(parts[[i]], f[i], row.names = FALSE)
  expect_snapshot({
    data_chunks(f)
    data_chunks(parts)
    data_chunks(function(i) NULL)
  })
  skip_if_not_installed("RSQLite")
  con <- DBI::dbConnect(RSQLite::SQLite(), ":memory:")
  on.exit(DBI::dbDisconnect(con))
  DBI::dbWriteTable(con, "fixture", fixture[1:10, ])
  expect_snapshot(data_chunks(con, chunk_rows = 4, table = "fixture"))
})

test_that("terms computed from the data are refused over chunks; raw ones agree", {
  set.seed(1)
  n <- 600
  d <- data.frame(x = rnorm(n), z = runif(n))
  d$y <- rbinom(n, 1, plogis(-0.3 + d$x - d$z))
  ch <- data_chunks(unname(split(d, rep(1:4, each = 150))))
  for (f in list(y ~ poly(x, 2) + z, y ~ scale(x) + z, y ~ cut(x, 3), y ~ I(x - mean(x)),
                 y ~ z + I(x > stats::median(x)))) {
    expect_error(logistic_regression(f, data = ch), class = "xentropy_error_unsupported",
                 regexp = "computed from the data")
  }
  f <- y ~ poly(x, 2, raw = TRUE) + z + cut(x, c(-Inf, 0, Inf))
  expect_same_fit(logistic_regression(f, data = ch), logistic_regression(f, data = d))
  # a model without an intercept is refused before any pass over the chunks
  calls <- 0
  counted <- data_chunks(function(i) {
    calls <<- calls + 1
    if (i <= 2L) d[(150 * (i - 1) + 1):(150 * i), ] else NULL
  })
  expect_error(logistic_regression(y ~ 0 + x, data = counted), class = "xentropy_error_unsupported",
               regexp = "needs an intercept")
  expect_lte(calls, 1)
})

test_that("softmax offsets over chunks are matched to the classes by name, as in memory", {
  set.seed(1)
  n <- 300
  d <- data.frame(x = rnorm(n), a = rnorm(n), b = rnorm(n),
                  y = factor(sample(c("p", "q", "r"), n, TRUE)))
  ch <- data_chunks(unname(split(d, rep(1:3, each = 100))))
  m <- softmax_regression(y ~ x, data = d, offset = cbind(r = b, p = a, q = 0))
  expect_same_fit(softmax_regression(y ~ x, data = ch, offset = cbind(r = b, p = a, q = 0)), m)
  expect_error(softmax_regression(y ~ x, data = ch, offset = a), "n x K matrix")
})

test_that("chunks without rows count for nothing; a one-class response is an error", {
  set.seed(1)
  d <- data.frame(x = rnorm(400), g = sample(c("a", "b"), 400, TRUE))
  d$y <- rbinom(400, 1, plogis(d$x))
  parts <- unname(split(d, rep(1:4, each = 100)))
  m <- logistic_regression(y ~ x + g, data = d)
  expect_same_fit(logistic_regression(y ~ x + g, data = data_chunks(c(parts, list(d[0, ])))), m)
  dn <- d
  dn$x[101:200] <- NA
  expect_same_fit(logistic_regression(y ~ x + g, data = data_chunks(unname(split(dn, rep(1:4, each = 100))))),
                  logistic_regression(y ~ x + g, data = dn))
  f <- file.path(tempdir(), c("xentropy-a.csv", "xentropy-h.csv"))
  on.exit(unlink(f))
  utils::write.csv(d, f[1], row.names = FALSE)
  utils::write.csv(d[0, ], f[2], row.names = FALSE)
  expect_same_fit(logistic_regression(y ~ x + g, data = data_chunks(f)), m)
  d$y0 <- 0
  expect_error(logistic_regression(y0 ~ x, data = data_chunks(unname(split(d, rep(1:4, each = 100))))),
               class = "xentropy_error_data", regexp = "only one class")
  # a response expression longer than one deparsed line
  d$outcome_of_the_treatment <- d$y
  f2 <- factor(outcome_of_the_treatment, levels = 0:1, labels = c("no", "yes")) ~ x
  expect_same_fit(logistic_regression(f2, data = data_chunks(parts2 <- unname(split(d, rep(1:4, each = 100))))),
                  logistic_regression(f2, data = d))
})

test_that("model_metrics() on a multisession plan finds the formula's constants and functions", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  set.seed(1)
  d <- data.frame(x = rnorm(200))
  d$y <- rbinom(200, 1, plogis(d$x))
  parts <- unname(split(d, rep(1:2, each = 100)))
  # a constant and a function in the global environment, which future does not send
  assign("xentropy_test_k", 2, envir = globalenv())
  assign("xentropy_test_sq", eval(quote(function(z) z^2), globalenv()), envir = globalenv())
  on.exit(rm("xentropy_test_k", "xentropy_test_sq", envir = globalenv()), add = TRUE)
  f <- eval(quote(y ~ I(xentropy_test_k * x) + xentropy_test_sq(x)), globalenv())
  fit <- logistic_regression(f, data = data_chunks(parts))
  m0 <- model_metrics(fit, d)
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  expect_equal(model_metrics(fit, d), m0, tolerance = 1e-12)
  expect_equal(model_metrics(fit, data_chunks(parts))$value, m0$value, tolerance = 1e-12)
})

test_that("negative weights or counts over chunks are refused by name, as in memory", {
  set.seed(2)
  d <- data.frame(x = rnorm(100), w = runif(100), s = rpois(100, 3), f = rpois(100, 3))
  d$y <- rbinom(100, 1, plogis(d$x))
  d$w[57] <- -1
  parts <- unname(split(d, rep(1:4, each = 25)))
  expect_error(logistic_regression(y ~ x, data = d, weights = w),
               class = "xentropy_error_invalid_value", regexp = "`weights`")
  expect_error(logistic_regression(y ~ x, data = data_chunks(parts), weights = w),
               class = "xentropy_error_chunk", regexp = "`weights` must be non-negative.*row 7 of the chunk")
  d$w[57] <- 1
  d$s[3] <- -2
  parts <- unname(split(d, rep(1:4, each = 25)))
  expect_error(logistic_regression(cbind(s, f) ~ x, data = d), regexp = "non-negative")
  expect_error(logistic_regression(cbind(s, f) ~ x, data = data_chunks(parts)),
               class = "xentropy_error_chunk", regexp = "non-negative")
})

test_that("model_metrics() scores a grouped response per trial, as one row per trial", {
  # cbind(successes, failures) rows were scored as one observation each with a
  # proportion target (cross-entropy 0.391 where the per-trial value is 0.464)
  d <- data.frame(x = c(-1, 0, 1, 2), s = c(1, 3, 8, 1), f = c(9, 3, 2, 0))
  long <- data.frame(x = rep(d$x, d$s + d$f),
                     y = unlist(Map(function(s, f) c(rep(1, s), rep(0, f)), d$s, d$f)))
  fit_g <- logistic_regression(cbind(s, f) ~ x, data = d)
  fit_l <- logistic_regression(y ~ x, data = long)
  mg <- model_metrics(fit_g, d)
  ml <- model_metrics(fit_l, long)
  expect_equal(mg$value, ml$value, tolerance = 1e-10)
  expect_equal(attr(mg, "nobs"), 27)
  p <- predict(fit_g, d, type = "prob")
  m <- d$s + d$f
  expect_equal(mg$value[1], -sum(dbinom(d$s, m, p, log = TRUE) - lchoose(m, d$s)) / 27,
               tolerance = 1e-12)
  # a softmax matrix of class proportions: each row spread over its classes
  set.seed(2)
  dd <- data.frame(x = rnorm(30))
  dd$Y <- t(sapply(dd$x, function(x) rmultinom(1, 4, exp(c(0, x, -x)) / sum(exp(c(0, x, -x))))))
  colnames(dd$Y) <- c("a", "b", "c")
  dd$Y <- dd$Y / 4
  fs <- softmax_regression(Y ~ x, data = dd)
  rows <- rep(seq_len(30), each = 4)
  ll <- data.frame(x = dd$x[rows], y = factor(unlist(lapply(seq_len(30), function(i)
    rep(c("a", "b", "c"), 4 * dd$Y[i, ]))), levels = c("a", "b", "c")))
  fl <- softmax_regression(y ~ x, data = ll)
  expect_equal(coef(fs), coef(fl), tolerance = 1e-6)
  ms <- model_metrics(fs, dd)
  expect_equal(ms$value, model_metrics(fl, ll)$value, tolerance = 1e-6)
  expect_equal(attr(ms, "nobs"), 30)
})

test_that("model_metrics() refuses responses that are not among the model's classes", {
  # they were dropped (softmax) or scored as the negative class (binary), silently
  set.seed(4)
  d <- data.frame(x = rnorm(60), g = factor(sample(c("lo", "mid", "hi"), 60, TRUE)))
  fit <- softmax_regression(g ~ x, data = d)
  nd <- d[1:4, ]
  nd$g <- factor(c("lo", "mid", "hi", "huge"))
  expect_error(model_metrics(fit, nd), "huge", class = "xentropy_error_data")
  d$b <- factor(ifelse(d$x + rnorm(60) > 0, "yes", "no"))
  fb <- logistic_regression(b ~ x, data = d)
  nb <- d[1:3, ]
  nb$b <- c("yes", "no", "maybe")
  expect_error(model_metrics(fb, nb), "maybe", class = "xentropy_error_data")
})

test_that("factor() in a chunked formula has the levels of the whole data", {
  # they were the union of the chunks' in chunk order: a response whose first chunk
  # held only "yes" was fitted as P(no), every coefficient's sign reversed
  set.seed(11)
  n <- 300
  d <- data.frame(x = rnorm(n), g = sample(c("a", "b", "c"), n, TRUE), k = sample(c(9, 10, 11), n, TRUE))
  d$yc <- ifelse(runif(n) < plogis(0.5 + d$x), "yes", "no")
  d <- d[order(d$yc != "yes", d$g != "b"), ]  # chunk 1: "yes" only, and no "a"
  parts <- unname(split(d, rep(1:3, each = 100)))
  expect_true(all(parts[[1]]$yc == "yes"))
  f_c <- logistic_regression(factor(yc) ~ x + factor(g) + factor(k), data = data_chunks(parts))
  f_m <- logistic_regression(factor(yc) ~ x + factor(g) + factor(k), data = d)
  expect_equal(coef(f_c), coef(f_m), tolerance = 1e-9)
  expect_equal(names(coef(f_c)), c("(Intercept)", "x", "factor(g)b", "factor(g)c", "factor(k)10", "factor(k)11"))
  s_c <- softmax_regression(factor(g) ~ x, data = data_chunks(parts))
  s_m <- softmax_regression(factor(g) ~ x, data = d)
  expect_equal(coef(s_c), coef(s_m), tolerance = 1e-9)
  # a factor the formula makes otherwise, with other levels per chunk: refused
  expect_error(logistic_regression(factor(yc) ~ relevel(factor(g), "c"), data = data_chunks(parts)),
               class = "xentropy_error_unsupported")
  # factor() inside another expression gives each chunk's own codes: refused
  expect_error(logistic_regression(factor(yc) ~ as.integer(factor(g)), data = data_chunks(parts)),
               class = "xentropy_error_unsupported")
})

test_that("chunked fits refuse summaries of the data in any part of the call", {
  # sum(), length(), and summaries in the response, weights, offset or subset were
  # computed per chunk, silently
  set.seed(12)
  d <- data.frame(x = rnorm(120), w = runif(120), cnt = rpois(120, 5) + 1)
  d$y <- rbinom(120, 1, plogis(d$x))
  ch <- data_chunks(unname(split(d, rep(1:3, each = 40))))
  for (cl in list(quote(logistic_regression(y ~ I(x / sum(x)), data = ch)),
                  quote(logistic_regression(y ~ x + offset(log(cnt / sum(cnt))), data = ch)),
                  quote(logistic_regression(y ~ I(x / length(x)), data = ch)),
                  quote(logistic_regression(I(x > mean(x)) ~ w, data = ch)),
                  quote(logistic_regression(y ~ x, weights = w / mean(w), data = ch)),
                  quote(logistic_regression(y ~ x, subset = x > median(x), data = ch)),
                  quote(logistic_regression(y ~ x, offset = log(cnt / sum(cnt)), data = ch)))) {
    expect_error(eval(cl), class = "xentropy_error_unsupported")
  }
  expect_s3_class(logistic_regression(y ~ x, weights = w, offset = log(cnt), data = ch),
                  "logistic_regression")
})

test_that("CSV chunks read integers beyond 2^31 as numbers", {
  # with bit64 installed, fread() gave integer64, whose bits were taken as doubles
  skip_if_not_installed("data.table")
  skip_if_not_installed("bit64")
  set.seed(13)
  d <- data.frame(x = c(round(runif(60, 0, 1e9)), round(runif(60, 3e9, 5e9))))
  d$y <- rbinom(120, 1, 0.5)
  dir <- tempfile()
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  files <- file.path(dir, c("a.csv", "b.csv"))
  utils::write.csv(d[1:60, ], files[1], row.names = FALSE)
  utils::write.csv(d[61:120, ], files[2], row.names = FALSE)
  f_c <- logistic_regression(y ~ x, data = data_chunks(files))
  f_m <- logistic_regression(y ~ x, data = d)
  expect_equal(coef(f_c), coef(f_m), tolerance = 1e-9)
})

test_that("a chunk whose rows na.action drops (a column read as all-NA logical) does not stop a fit", {
  set.seed(14)
  d <- data.frame(x = rnorm(90), g = sample(c("a", "b"), 90, TRUE))
  d$y <- rbinom(90, 1, plogis(d$x))
  parts <- unname(split(d, rep(1:3, each = 30)))
  parts[[3]]$x <- NA   # logical NA: what a reader gives an empty column
  parts[[3]]$g <- NA
  d3 <- do.call(rbind, parts)
  f_c <- logistic_regression(y ~ x + g, data = data_chunks(parts))
  f_m <- logistic_regression(y ~ x + g, data = d3)
  expect_equal(coef(f_c), coef(f_m), tolerance = 1e-9)
  expect_equal(nobs(f_c), 60L)
})
