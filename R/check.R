# Argument checks shared by every family: one place for the messages.
#
# Each check_*() either returns its (possibly coerced) argument or signals an
# error of class "xentropy_error" that names the argument, says what was
# expected and what was given, and points at the user's call.
#
# The checks run on every call, and users call these functions on small
# inputs inside loops and optimisers, so the accepted case costs a few
# primitive calls: the defaults `arg = deparse(substitute(x))` and
# `call = sys.call(-1)` are promises that only the error path forces (passing
# them on to another function keeps them unforced; when forced they are
# evaluated in the frame of the check that declared them, so they still name
# the argument and the user's call).

# Every condition the package signals goes through abort() or warn(), with
# a class of the scheme documented in ?xentropy_conditions
# ("xentropy_error_<kind>", "xentropy_warning_<kind>"; required, so that no
# condition is left unclassified); `...` are fields of the condition (e.g.
# `argument`, `expected`, `value`, `position`) for code that handles it.
abort <- function(message, call, class, ...) {
  stop(errorCondition(message, ..., class = c(class, "xentropy_error"),
                      call = call))
}

warn <- function(message, call, class, ...) {
  warning(warningCondition(message, ..., class = c(class, "xentropy_warning"),
                           call = call))
}

# The value of an entry's answer that needs warnings, list(value, kinds)
# (src/entry.h), after raising them with the user's call, in order.
warned <- function(out, call) {
  for (kind in out[[2L]]) {
    switch(kind,
      recycling = warn("longer object length is not a multiple of shorter object length",
                       call, class = "xentropy_warning_recycling"),
      nan = warn("NaNs produced", call, class = "xentropy_warning_nan")
    )
  }
  out[[1L]]
}

#' Conditions signalled by xentropy
#'
#' Every error the package signals is a condition of class
#' `"xentropy_error"` (and `"error"`, `"condition"`), and every warning one
#' of class `"xentropy_warning"` (and `"warning"`, `"condition"`). The
#' message names the argument, says what was expected and what was given,
#' and the call is the user's call. A subclass, `xentropy_error_<kind>` or
#' `xentropy_warning_<kind>`, says what went wrong, so code can handle one
#' kind with [tryCatch()] or [withCallingHandlers()]; fields of the
#' condition carry the details. `argument` (the argument's name) is set
#' whenever one argument is at fault.
#'
#' Errors:
#' \describe{
#'   \item{`xentropy_error_type`}{An argument is of the wrong type: a
#'     character vector, list, data frame, factor, date, `Matrix` object or
#'     `NULL` where numbers were expected, a vector where a data frame was.
#'     Fields: `argument`; for numeric data also `expected` (e.g.
#'     `"a numeric vector, matrix or array"`), `given` (a description of what
#'     was given, e.g. `"a data frame"`) and `given_class` (its [class()]).}
#'   \item{`xentropy_error_shape`}{Numbers of the wrong shape: a
#'     three-dimensional array where a vector or matrix was expected, a
#'     matrix with other dimensions or columns than the model's. Fields:
#'     `argument`, and for arrays `expected` and `dim`.}
#'   \item{`xentropy_error_length`}{Arguments whose lengths must agree do
#'     not (labels and prediction rows, weights and observations). Field:
#'     `argument`.}
#'   \item{`xentropy_error_value`}{A setting with a value outside its range
#'     or not among its choices: `margin`, `temperature`, `base`, `na.rm`,
#'     `reduction`, `type`, `test`, the number of threads and the like.
#'     Fields: `argument`, and for numbers `expected` and `value` (the value
#'     given, `NULL` when it was not a single value).}
#'   \item{`xentropy_error_invalid_value`}{Data with a value outside its
#'     domain: a probability outside \[0, 1\], a negative weight, a label that
#'     is not a class. Fields: `argument`, `position`.}
#'   \item{`xentropy_error_missing`}{`NA` or `NaN` in data where
#'     `na.rm = FALSE` (or where missing values cannot be left out). Field:
#'     `argument`.}
#'   \item{`xentropy_error_not_distribution`}{Rows that must be probability
#'     distributions do not sum to 1. Fields: `argument`, `position`.}
#'   \item{`xentropy_error_argument`}{Arguments that cannot be used
#'     together or here: unknown arguments or `control` entries, both
#'     `formula` and `x`, an `offset` where the model takes it from the data.}
#'   \item{`xentropy_error_unsupported`}{The object cannot answer the
#'     request: an analysis of deviance of a penalised fit, working residuals
#'     of a softmax regression, the formula of a fit made with the matrix
#'     interface. Nothing is answered approximately instead.}
#'   \item{`xentropy_error_data`}{The data cannot be fitted: no
#'     observations with positive weight, a response with one class.}
#'   \item{`xentropy_error_dependency`}{A suggested package the request
#'     needs is not installed. Field: `package`.}
#'   \item{`xentropy_error_chunk`}{A chunk of a [data_chunks()] source could
#'     not be read or does not fit the model (missing columns, other
#'     classes); the message names the chunk (its index and file or query)
#'     and gives the original message. Fields: `chunk` (the index), `source`
#'     (the file or query).}
#' }
#'
#' Warnings:
#' \describe{
#'   \item{`xentropy_warning_nan`}{"NaNs produced", as base R says it: an
#'     input outside a function's domain (e.g. `logit(2)`).}
#'   \item{`xentropy_warning_recycling`}{Lengths that are not multiples of
#'     each other were recycled, as base R's arithmetic warns.}
#'   \item{`xentropy_warning_convergence`}{A fit stopped at its iteration
#'     limit before its convergence test passed.}
#'   \item{`xentropy_warning_separation`}{The classes are separated: fitted
#'     probabilities numerically 0 or 1, a regularisation path whose
#'     unpenalised columns separate the classes, or a calibration map with
#'     no finite optimum.}
#'   \item{`xentropy_warning_degenerate`}{The data carry no information
#'     for a fit (temperature scaling's best temperature is infinite).}
#'   \item{`xentropy_warning_test`}{A test was requested that glm() also
#'     warns about (an F test for a binomial model).}
#' }
#'
#' Numbers in messages are printed with as many significant digits as it
#' takes to tell them from the nearest valid value (up to 17), so
#' `margin = 1.0000001` is reported as `1.0000001`, not `1`.
#'
#' Numeric data may carry an S3 class (e.g. `I()`, a `table`, a class of your
#' own on a double vector) when [is.numeric()] says it is numeric: it is used
#' as its underlying numbers, and elementwise results keep its attributes,
#' as [exp()] does. Classes that are not numbers although stored as numbers
#' (`Date`, `POSIXct`, `difftime`, factors, `integer64`) are refused; convert
#' them with [as.numeric()] if their underlying numbers are what you mean.
#' S4 objects such as the sparse and dense matrices of the Matrix package
#' are refused with a hint to convert them with [as.matrix()].
#'
#' @name xentropy_conditions
#' @aliases xentropy_error xentropy_error_type xentropy_error_shape
#'   xentropy_error_length xentropy_error_value xentropy_error_invalid_value
#'   xentropy_error_missing xentropy_error_not_distribution
#'   xentropy_error_argument xentropy_error_unsupported xentropy_error_data
#'   xentropy_error_dependency xentropy_error_chunk xentropy_warning xentropy_warning_nan
#'   xentropy_warning_recycling xentropy_warning_convergence
#'   xentropy_warning_separation xentropy_warning_degenerate
#'   xentropy_warning_test
#' @family conditions
#' @examples
#' res <- tryCatch(sigmoid("a"), xentropy_error_type = function(e) e)
#' class(res)
#' res$argument
#' res$given
#' conditionMessage(res)
#'
#' res <- tryCatch(logsumexp(diag(2), margin = 1.0000001),
#'                 xentropy_error_value = function(e) e)
#' print(res$value, digits = 17)
#' conditionMessage(res)
#'
#' # warnings have classes too: silence only the one you expect
#' withCallingHandlers(
#'   logit(c(0.5, 2)),
#'   xentropy_warning_nan = function(w) invokeRestart("muffleWarning")
#' )
NULL

# "a character vector", "a data frame", "NULL", "a <Date> object", ... for
# error messages.
friendly_type <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.data.frame(x)) return("a data frame")
  if (is.factor(x)) return("a factor")
  if (is.function(x)) return("a function")
  if (is.environment(x)) return("an environment")
  if (is.object(x)) {
    return(sprintf("a <%s> object", class(x)[1L]))
  }
  kind <- if (is.list(x)) "list" else switch(typeof(x),
    character = "character", complex = "complex", double = "numeric",
    integer = "integer", logical = "logical", raw = "raw",
    typeof(x)
  )
  if (is.array(x)) {
    shape <- if (length(dim(x)) == 2L) "matrix" else "array"
    article <- if (kind %in% c("integer")) "an" else "a"
    return(paste(article, kind, shape))
  }
  if (kind == "list") return("a list")
  if (length(x) == 1L) {
    return(switch(kind,
      character = "a string", logical = "a logical value",
      numeric = "a number", integer = "an integer", paste("a", kind, "value")
    ))
  }
  article <- if (kind %in% c("integer")) "an" else "a"
  paste(article, kind, "vector")
}

# A number as text with the fewest significant digits (up to 17) that read
# back as the same double, so a message never shows 1.0000001 as "1" or
# 3 + 1e-15 as "3". Vectorised; NA, NaN and +-Inf print as R prints them.
# For messages only (loss and target checks use it too).
format_value <- function(x) {
  if (is.factor(x)) return(as.character(x))
  vapply(unclass(x), function(v) {
    if (!is.double(v) || !is.finite(v)) return(format(v))
    for (d in c(7L, 15L, 16L, 17L)) {
      s <- format(v, digits = d)
      if (as.numeric(s) == v) break
    }
    s
  }, "", USE.NAMES = FALSE)
}

# Classes whose values are numbers in storage but not numbers to compute
# with; is.numeric() says FALSE for most of them, integer64 is listed because
# its doubles hold the bits of 64-bit integers.
not_numbers <- c("integer64")

numeric_expected <- "a numeric vector, matrix or array"

# Numeric data: double, integer or logical vectors, matrices or arrays.
# Returns double storage with every attribute kept (no copy when already double).
check_numeric <- function(x, arg = deparse(substitute(x)), call = sys.call(-1)) {
  if (is.double(x) && !is.object(x)) return(x)
  if ((is.integer(x) || is.logical(x)) && !is.object(x)) {
    # as `storage.mode(x) <- "double"`, without its R-level closures
    a <- attributes(x)
    x <- as.double(x)
    if (!is.null(a)) attributes(x) <- a
    return(x)
  }
  check_numeric_object(x, arg, call)
}

# check_numeric() for everything but plain double, integer and logical data:
# classed numbers that say they are numeric pass (their attributes kept, as
# exp() keeps them); anything else is an error saying what to do.
check_numeric_object <- function(x, arg, call) {
  numeric_storage <- is.double(x) || is.integer(x) || is.logical(x)
  if (numeric_storage && !is.data.frame(x) && !inherits(x, not_numbers) &&
      (is.numeric(x) || is.logical(x))) {
    if (!is.double(x)) storage.mode(x) <- "double"
    return(x)
  }
  given <- friendly_type(x)
  hint <- if (is.data.frame(x) || isS4(x)) {
    "; convert it with as.matrix()"
  } else if (numeric_storage && !is.factor(x)) {
    "; convert it with as.numeric() if its underlying numbers are meant"
  } else {
    ""
  }
  abort(sprintf("`%s` must be %s, not %s%s.", arg, numeric_expected, given,
                hint),
        call, class = "xentropy_error_type", argument = arg,
        expected = numeric_expected, given = given, given_class = class(x))
}

# As check_numeric(), and at most two dimensions (a vector or a matrix).
check_numeric_matrix <- function(x, arg = deparse(substitute(x)),
                                 call = sys.call(-1)) {
  if (is.double(x) && !is.object(x) && length(dim(x)) <= 2L) return(x)
  # `x` itself stays the promise, so that `arg` can still deparse it
  y <- check_numeric(x, arg, call)
  d <- dim(y)
  if (length(d) > 2L) {
    abort(sprintf(
      "`%s` must be a numeric vector or matrix, not a %.0f-dimensional array.",
      arg, length(d)
    ), call, class = "xentropy_error_shape", argument = arg,
    expected = "a numeric vector or matrix", dim = d)
  }
  y
}

# What was given, for a message about a single setting: the number itself
# when it is one, else its type.
given_value <- function(x) {
  if ((is.numeric(x) || is.logical(x)) && length(x) == 1L && !is.object(x)) {
    format_value(x)
  } else {
    friendly_type(x)
  }
}

# A single-setting error of class xentropy_error_value.
abort_value <- function(arg, expected, x, call) {
  abort(sprintf("`%s` must be %s, not %s.", arg, expected, given_value(x)),
        call, class = "xentropy_error_value", argument = arg,
        expected = expected, value = if (length(x) == 1L) x)
}

# `margin`: 1 (rows) or 2 (columns).
check_margin <- function(margin, arg = "margin", call = sys.call(-1)) {
  if (is.numeric(margin) && length(margin) == 1L && !is.na(margin) &&
      (margin == 1 || margin == 2)) {
    return(as.integer(margin))
  }
  abort_value(arg, "1 (rows) or 2 (columns)", margin, call)
}

# A single number satisfying `ok`, described by `what` ("a positive number").
check_number <- function(x, arg, what, ok, call = sys.call(-1)) {
  if (!is.numeric(x) || is.object(x) || length(x) != 1L || is.na(x) ||
      !ok(x)) {
    abort_value(arg, what, x, call)
  }
  as.double(x)
}

check_temperature <- function(temperature, call = sys.call(-1)) {
  if (is.double(temperature) && length(temperature) == 1L &&
      !is.object(temperature) && !is.na(temperature) &&
      temperature > 0 && temperature < Inf) {
    return(temperature)
  }
  check_number(temperature, "temperature", "a single positive finite number",
               function(t) is.finite(t) && t > 0, call)
}

# `base` of logarithms: a positive number other than 1.
check_base <- function(base, call = sys.call(-1)) {
  if (is.double(base) && length(base) == 1L && !is.object(base) &&
      !is.na(base) && base > 0 && base < Inf && base != 1) {
    return(base)
  }
  check_number(base, "base", "a single positive finite number other than 1",
               function(b) is.finite(b) && b > 0 && b != 1, call)
}

# TRUE or FALSE.
check_flag <- function(x, arg = deparse(substitute(x)), call = sys.call(-1)) {
  if (is.logical(x) && length(x) == 1L && !is.na(x)) return(x)
  abort_value(arg, "TRUE or FALSE", x, call)
}
