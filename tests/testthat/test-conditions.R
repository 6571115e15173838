# The condition scheme (?xentropy_conditions): every error and warning the
# package raises has a class "xentropy_error_<kind>" / "xentropy_warning_<kind>".

documented <- c(
  "xentropy_error_type", "xentropy_error_shape", "xentropy_error_length",
  "xentropy_error_value", "xentropy_error_invalid_value", "xentropy_error_missing",
  "xentropy_error_not_distribution", "xentropy_error_argument",
  "xentropy_error_unsupported", "xentropy_error_data", "xentropy_error_dependency",
  "xentropy_error_chunk",
  "xentropy_warning_nan", "xentropy_warning_recycling", "xentropy_warning_convergence",
  "xentropy_warning_separation", "xentropy_warning_degenerate", "xentropy_warning_test"
)

# Every call of abort()/warn()/stop()/warning() in the package's functions,
# with the class argument of abort() and warn() (NA where it is not a string).
condition_calls <- function() {
  ns <- asNamespace("xentropy")
  found <- list()
  walk <- function(e, where) {
    if (is.call(e)) {
      f <- e[[1L]]
      if (is.symbol(f)) {
        fn <- as.character(f)
        if (fn %in% c("abort", "warn", "stop", "warning")) {
          cl <- if (fn %in% c("abort", "warn")) {
            m <- match.call(function(message, call, class, ...) NULL, e)
            if (is.character(m$class)) m$class else NA_character_
          } else NA_character_
          found[[length(found) + 1L]] <<- data.frame(fun = where, call = fn, class = cl)
        }
      }
      for (a in as.list(e)[-1L]) if (!missing(a)) walk(a, where)
    } else if (is.function(e)) {
      walk(body(e), where)
    }
  }
  for (nm in ls(ns, all.names = TRUE)) {
    obj <- get(nm, envir = ns)
    if (is.function(obj) && !is.primitive(obj)) walk(body(obj), nm)
  }
  do.call(rbind, found)
}

test_that("every condition goes through abort() or warn() with a documented class", {
  calls <- condition_calls()
  expect_gt(nrow(calls), 100)
  # stop() and warning() appear only inside abort() and warn() themselves
  direct <- calls[calls$call %in% c("stop", "warning"), ]
  expect_setequal(direct$fun, c("abort", "warn"))
  classed <- calls[calls$call %in% c("abort", "warn"), ]
  expect_false(anyNA(classed$class))
  expect_true(all(startsWith(classed$class[classed$call == "abort"], "xentropy_error_")))
  expect_true(all(startsWith(classed$class[classed$call == "warn"], "xentropy_warning_")))
  expect_true(all(classed$class %in% documented))
  # and the help topic documents each class it lists
  rd <- tools::Rd_db("xentropy")[["xentropy_conditions.Rd"]]
  aliases <- unlist(lapply(rd, function(x) if (identical(attr(x, "Rd_tag"), "\\alias")) x))
  expect_true(all(documented %in% aliases))
})

test_that("each kind of error carries its class and argument", {
  cases <- list(
    list(quote(sigmoid("a")), "xentropy_error_type", "x"),
    list(quote(softmax(array(1, c(2, 2, 2)))), "xentropy_error_shape", "x"),
    list(quote(softmax_cross_entropy(1:3, diag(2))), "xentropy_error_length", NULL),
    list(quote(logsumexp(diag(2), margin = 3)), "xentropy_error_value", "margin"),
    list(quote(binary_cross_entropy(c(0, 1), c(0.5, 2))), "xentropy_error_invalid_value", "prob"),
    list(quote(temperature_scaling(c(1, NA), diag(2))), "xentropy_error_missing", "y"),
    list(quote(calibration_error(1:2, matrix(0.4, 2, 2))), "xentropy_error_not_distribution", "prob"),
    list(quote(logistic_regression(x = diag(3), y = c(0, 1, 1), unknown_setting = 1)),
         "xentropy_error_argument", NULL),
    list(quote(logistic_regression(factor(c("a", "a", "a")) ~ 1)), "xentropy_error_data", "y"),
    list(quote(formula(logistic_regression(x = cbind(1, c(0.1, 0.5, 0.9, 0.3)), y = c(0, 1, 0, 1)))),
         "xentropy_error_unsupported", NULL)
  )
  for (cs in cases) {
    e <- tryCatch(eval(cs[[1]]), error = function(e) e)
    expect_s3_class(e, cs[[2]])
    expect_s3_class(e, "xentropy_error")
    if (!is.null(cs[[3]])) expect_identical(e$argument, cs[[3]], info = deparse(cs[[1]]))
  }
})

test_that("warnings carry their classes", {
  expect_warning(logit(2), class = "xentropy_warning_nan")
  expect_warning(logdiffexp(1:3, 1:2 - 5), class = "xentropy_warning_recycling")
  x <- c(-2, -1, 1, 2)
  expect_warning(logistic_regression(x = cbind(1, x), y = c(0, 0, 1, 1)),
                 class = "xentropy_warning_separation")
  expect_warning(logistic_regression(x = cbind(1, x), y = c(0, 1, 0, 1), maxit = 1),
                 class = "xentropy_warning_convergence")
  w <- tryCatch(logit(2), warning = function(w) w)
  expect_s3_class(w, "xentropy_warning")
  expect_identical(conditionMessage(w), "NaNs produced")
})

test_that("messages of each kind (snapshot)", {
  expect_snapshot(error = TRUE, {
    temperature_scaling(c(1, NA), diag(2))
    calibration_error(1:2, matrix(0.4, 2, 2))
    logistic_regression(factor(c("a", "a", "a")) ~ 1)
    formula(logistic_regression(x = cbind(1, c(0.1, 0.5, 0.9, 0.3)), y = c(0, 1, 0, 1)))
  })
})
