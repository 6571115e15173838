# The shared argument checks (R/check.R): messages, condition classes and
# fields, what is accepted, and that the accepted case builds no message.

test_that("errors name the argument and the user's call", {
  expect_snapshot(error = TRUE, {
    sigmoid("a")
    sigmoid(list(1, 2))
    sigmoid(NULL)
    logit(factor("a"))
    softplus(data.frame(a = 1))
    sigmoid(1i)
    sigmoid(as.Date("1970-01-02"))
    sigmoid(as.POSIXct("1970-01-01 00:00:01", tz = "UTC"))
    log_sigmoid(as.difftime(1, units = "secs"))
  })
  f <- function(z) softmax(z)
  expect_snapshot(f(letters), error = TRUE)
})

test_that("every check reports the user's call, not its own", {
  call_of <- function(expr) conditionCall(tryCatch(expr, error = identity))
  expect_identical(call_of(sigmoid("a")), quote(sigmoid("a")))
  expect_identical(call_of(logit(as.Date("2000-01-01"))),
                   quote(logit(as.Date("2000-01-01"))))
  expect_identical(call_of(softmax(array(1, c(1, 1, 1)))),
                   quote(softmax(array(1, c(1, 1, 1)))))
  expect_identical(call_of(logsumexp(1, margin = 3)), quote(logsumexp(1, margin = 3)))
  expect_identical(call_of(log_softmax(1, temperature = 0)),
                   quote(log_softmax(1, temperature = 0)))
  expect_identical(call_of(logsumexp(1, na.rm = NA)), quote(logsumexp(1, na.rm = NA)))
  expect_identical(call_of(entropy(1, base = 1)), quote(entropy(1, base = 1)))
  expect_identical(call_of(entropy("p")), quote(entropy("p")))
  expect_identical(call_of(xentropy_threads(0)), quote(xentropy_threads(0)))
  f <- function(z, m) softmax(z, margin = m)
  expect_identical(call_of(f(letters, 1)), quote(softmax(z, margin = m)))
  expect_identical(call_of(f(1:3, 0)), quote(softmax(z, margin = m)))
  expect_match(conditionMessage(tryCatch(f(letters, 1), error = identity)), "^`x` must")
})

test_that("an S4 object (such as a Matrix) gets a hint to convert it", {
  # a class of our own, so that the tests need not depend on Matrix
  where <- new.env()
  methods::setClass("dense_like", representation(x = "numeric"), where = where)
  m <- methods::new(methods::getClass("dense_like", where = where), x = c(1, 0, 0, 1))
  expect_snapshot(logsumexp(m), error = TRUE)
  e <- tryCatch(sigmoid(m), error = identity)
  expect_s3_class(e, "xentropy_error_type")
  expect_identical(e$given, "a <dense_like> object")
  expect_match(conditionMessage(e), "convert it with as.matrix()", fixed = TRUE)
})

test_that("shape, margin, temperature, base and flag errors", {
  expect_snapshot(error = TRUE, {
    softmax(array(1:8, c(2, 2, 2)))
    logsumexp(diag(2), margin = 1.0000001)
    logsumexp(diag(2), margin = 3)
    logsumexp(diag(2), margin = "rows")
    logsumexp(diag(2), margin = NA)
    logsumexp(diag(2), margin = c(1, 2))
    softmax(1:3, temperature = 0)
    softmax(1:3, temperature = Inf)
    softmax(1:3, temperature = NA_real_)
    softmax(1:3, temperature = "hot")
    log_softmax(1:3, temperature = -1e-300)
    entropy(c(0.5, 0.5), base = 1)
    entropy(c(0.5, 0.5), base = -2)
    logsumexp(1:3, na.rm = NA)
    logsumexp(1:3, na.rm = "yes")
    logsumexp(1:3, na.rm = c(TRUE, FALSE))
    xentropy_threads(0)
    xentropy_threads(1.5)
    xentropy_threads(Inf)
    xentropy_threads("2")
  })
})

test_that("type errors are xentropy_error_type conditions with fields", {
  e <- tryCatch(sigmoid(data.frame(a = 1)), error = identity)
  expect_s3_class(e, c("xentropy_error_type", "xentropy_error", "error", "condition"),
                  exact = TRUE)
  expect_identical(e$argument, "x")
  expect_identical(e$expected, "a numeric vector, matrix or array")
  expect_identical(e$given, "a data frame")
  expect_identical(e$given_class, "data.frame")
  expect_identical(e$call, quote(sigmoid(data.frame(a = 1))))
  e <- tryCatch(entropy(c(0.5, 0.5), as.Date("2000-01-01")), error = identity)
  expect_s3_class(e, "xentropy_error_value")  # `base` is the second argument
  e <- tryCatch(cross_entropy(c(0.5, 0.5), as.Date(c("2000-01-01", "2000-01-02"))),
                error = identity)
  expect_s3_class(e, "xentropy_error_type")
  expect_identical(e$argument, "q")
  expect_identical(e$given_class, "Date")
})

test_that("value and shape errors are conditions with fields", {
  e <- tryCatch(logsumexp(diag(2), margin = 1.0000001), error = identity)
  expect_s3_class(e, c("xentropy_error_value", "xentropy_error", "error", "condition"),
                  exact = TRUE)
  expect_identical(e$argument, "margin")
  expect_identical(e$value, 1.0000001)
  expect_identical(e$expected, "1 (rows) or 2 (columns)")
  expect_identical(e$call, quote(logsumexp(diag(2), margin = 1.0000001)))
  e <- tryCatch(softmax(1:3, temperature = c(1, 2)), error = identity)
  expect_s3_class(e, "xentropy_error_value")
  expect_null(e$value)
  e <- tryCatch(xentropy_threads(-1), error = identity)
  expect_s3_class(e, "xentropy_error_value")
  expect_identical(e$argument, "n")
  e <- tryCatch(softmax(array(1, c(1, 2, 3))), error = identity)
  expect_s3_class(e, c("xentropy_error_shape", "xentropy_error", "error", "condition"),
                  exact = TRUE)
  expect_identical(e$dim, c(1L, 2L, 3L))
  # one handler catches every error of the package
  expect_identical(tryCatch(softmax(1:3, margin = 0), xentropy_error = function(e) "caught"),
                   "caught")
})

test_that("the accepted case forces neither the argument name nor the call", {
  boom <- function() stop("forced")
  ns <- asNamespace("xentropy")
  expect_identical(ns$check_numeric(0.5, arg = boom(), call = boom()), 0.5)
  expect_identical(ns$check_numeric(1:2, arg = boom(), call = boom()), c(1, 2))
  expect_identical(ns$check_numeric(TRUE, arg = boom(), call = boom()), 1)
  expect_identical(ns$check_numeric_matrix(diag(2), arg = boom(), call = boom()), diag(2))
  expect_identical(ns$check_numeric_matrix(I(1:2), arg = boom(), call = boom()),
                   I(c(1, 2)))
  expect_identical(ns$check_margin(2, arg = boom(), call = boom()), 2L)
  expect_identical(ns$check_margin(1L, call = boom()), 1L)
  expect_identical(ns$check_flag(FALSE, arg = boom(), call = boom()), FALSE)
  expect_identical(ns$check_temperature(0.5, call = boom()), 0.5)
  expect_identical(ns$check_temperature(2L, call = boom()), 2)
  expect_identical(ns$check_base(2, call = boom()), 2)
  expect_identical(ns$check_number(3L, "k", "a number", function(v) v > 0, call = boom()), 3)
  # and the error path does force them, in the caller's frame
  expect_error(ns$check_numeric("a", arg = boom()), "forced")
})

test_that("classed numbers that are numbers are accepted and keep their class", {
  x <- I(c(a = -1, b = 2))
  expect_identical(sigmoid(x), I(sigmoid(c(a = -1, b = 2))))
  tab <- table(c(1, 1, 2))
  expect_identical(unclass(entropy(tab / sum(tab))), entropy(c(2, 1) / 3))
  own <- structure(c(0.25, 0.75), class = "my_probs")
  expect_identical(unclass(log_sigmoid(own)), log_sigmoid(c(0.25, 0.75)))
  expect_s3_class(softplus(own), "my_probs")
  counts <- structure(1:3, class = "my_counts")  # integer storage, coerced
  expect_identical(unclass(sigmoid(counts)), sigmoid(c(1, 2, 3)))
  expect_identical(logsumexp(structure(c(0, 0), class = "my_scores")), log(2))
})

test_that("classed storage that is not numbers is refused", {
  expect_error(sigmoid(as.Date("1970-01-02")), class = "xentropy_error_type")
  expect_error(logsumexp(Sys.time()), class = "xentropy_error_type")
  expect_error(softmax(as.difftime(c(1, 2), units = "mins")), class = "xentropy_error_type")
  expect_error(sigmoid(factor(1:2)), class = "xentropy_error_type")
  expect_error(sigmoid(structure(1, class = "integer64")), "integer64",
               class = "xentropy_error_type")
})

test_that("format_value prints the shortest digits that read back exactly", {
  format_value <- asNamespace("xentropy")$format_value
  expect_identical(format_value(1.0000001), "1.0000001")
  expect_identical(format_value(3 + 1e-15), "3.000000000000001")
  expect_identical(format_value(3 + 2^-51), "3.0000000000000004")
  expect_identical(format_value(0.1), "0.1")
  expect_identical(format_value(1 / 3), "0.3333333333333333")
  expect_identical(format_value(3L), "3")
  expect_identical(format_value(c(NA, NaN, Inf, -Inf)), c("NA", "NaN", "Inf", "-Inf"))
  expect_identical(format_value(NA_real_), "NA")
  expect_identical(format_value(TRUE), "TRUE")
  expect_identical(format_value(factor("b")), "b")
  set.seed(11)
  x <- c(runif(200) * 10^sample(-320:300, 200, TRUE), -runif(50), 5e-324,
         .Machine$double.xmax, 1 + 2^-52, 1 - 2^-53)
  s <- format_value(x)
  expect_identical(as.numeric(s), x)
  mantissa <- sub("^0+", "", gsub("[-.]", "", sub("e.*", "", s)))
  expect_true(all(nchar(mantissa) <= 17 | !grepl("[.e]", s)))
})
