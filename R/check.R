# Argument checks shared by every family: one place for the messages.
#
# Each check_*() either returns its (possibly coerced) argument or signals an
# error of class "xentropy_error" that names the argument, says what was
# expected and what was given, and points at the user's call.

# `class` adds subclasses before "xentropy_error"; `...` are fields of the
# condition (e.g. `argument`, `position`, `value`) for code that handles it.
abort <- function(message, call, class = NULL, ...) {
  stop(errorCondition(message, ..., class = c(class, "xentropy_error"),
                      call = call))
}

# "a character vector", "a data frame", "NULL", ... for error messages.
friendly_type <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.data.frame(x)) return("a data frame")
  if (is.factor(x)) return("a factor")
  if (is.function(x)) return("a function")
  if (is.environment(x)) return("an environment")
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

# Numeric data: double, integer or logical vectors, matrices or arrays.
# Returns double storage with every attribute kept (no copy when already double).
check_numeric <- function(x, arg = deparse(substitute(x)), call = sys.call(-1)) {
  force(arg)
  if (is.factor(x) || is.data.frame(x) ||
      !(is.double(x) || is.integer(x) || is.logical(x))) {
    abort(sprintf(
      "`%s` must be a numeric vector, matrix or array, not %s.",
      arg, friendly_type(x)
    ), call)
  }
  if (!is.double(x)) storage.mode(x) <- "double"
  x
}

# As check_numeric(), and at most two dimensions (a vector or a matrix).
check_numeric_matrix <- function(x, arg = deparse(substitute(x)),
                                 call = sys.call(-1)) {
  force(arg)
  x <- check_numeric(x, arg, call)
  d <- dim(x)
  if (length(d) > 2L) {
    abort(sprintf(
      "`%s` must be a numeric vector or matrix, not a %.0f-dimensional array.",
      arg, length(d)
    ), call)
  }
  x
}

# `margin`: 1 (rows) or 2 (columns).
check_margin <- function(margin, arg = "margin", call = sys.call(-1)) {
  if (!is.numeric(margin) || length(margin) != 1L || is.na(margin) ||
      !(margin %in% c(1, 2))) {
    given <- if (is.numeric(margin) && length(margin) == 1L) {
      format(margin)
    } else {
      friendly_type(margin)
    }
    abort(sprintf("`%s` must be 1 (rows) or 2 (columns), not %s.", arg, given),
          call)
  }
  as.integer(margin)
}

# A single number satisfying `ok`, described by `what` ("a positive number").
check_number <- function(x, arg, what, ok, call = sys.call(-1)) {
  if (!is.numeric(x) || is.object(x) || length(x) != 1L || is.na(x) ||
      !ok(x)) {
    given <- if (is.numeric(x) && length(x) == 1L) {
      format(x)
    } else {
      friendly_type(x)
    }
    abort(sprintf("`%s` must be %s, not %s.", arg, what, given), call)
  }
  as.double(x)
}

check_temperature <- function(temperature, call = sys.call(-1)) {
  check_number(temperature, "temperature", "a single positive finite number",
               function(t) is.finite(t) && t > 0, call)
}

# `base` of logarithms: a positive number other than 1.
check_base <- function(base, call = sys.call(-1)) {
  check_number(base, "base", "a single positive finite number other than 1",
               function(b) is.finite(b) && b > 0 && b != 1, call)
}

# TRUE or FALSE.
check_flag <- function(x, arg = deparse(substitute(x)), call = sys.call(-1)) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort(sprintf("`%s` must be TRUE or FALSE, not %s.", arg,
                  if (is.logical(x) && length(x) == 1L) "NA" else
                    friendly_type(x)), call)
  }
  x
}
