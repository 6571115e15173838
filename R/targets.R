# Turning targets as users hold them (factors, labels, one-hot or soft target
# matrices, 0/1, logical) and predictions into what the kernels take, with
# the shape checks that go with them. Nothing here copies the predictions.

# Predictions for a categorical loss: an n x K numeric matrix (a vector is
# one observation).
as_prediction_matrix <- function(x, arg, call) {
  if (!is.double(x) || is.object(x) || length(dim(x)) > 2L) {
    x <- check_numeric_matrix(x, arg, call)
  }
  if (!is.matrix(x)) x <- matrix(x, nrow = 1L, dimnames = list(NULL, names(x)))
  if (ncol(x) == 0L) {
    abort(sprintf("`%s` has no columns: a distribution over classes needs at least one class.",
                  arg), call, class = "xentropy_error_shape", argument = arg)
  }
  x
}

# Categorical targets for n x K predictions `pred`: integer codes (factor or
# integer labels), double labels, or an n x K double target matrix. Returns
# what categorical_loss_impl() takes; labels outside 1..K are found by the
# kernel (see report_invalid()).
as_categorical_targets <- function(y, pred, arg = "y", pred_arg, call,
                                   check_length = TRUE) {
  n <- nrow(pred)
  K <- ncol(pred)
  if (is.factor(y)) {
    y <- factor_codes(y, pred, arg, pred_arg, call)
  } else if (is.matrix(y) || is.data.frame(y)) {
    if (is.data.frame(y)) {
      abort(sprintf("`%s` must be a factor, integer labels or a numeric matrix, not a data frame.", arg), call, class = "xentropy_error_type", argument = arg)
    }
    y <- check_numeric(y, arg, call)
    if (!identical(dim(y), dim(pred))) {
      abort(sprintf(
        "`%s` is a %.0f x %.0f matrix but `%s` is %.0f x %.0f: a target matrix must have the shape of the predictions.",
        arg, nrow(y), ncol(y), pred_arg, n, K
      ), call, class = "xentropy_error_shape", argument = arg)
    }
    return(y)
  } else if (is.numeric(y) || is.logical(y)) {
    if (is.logical(y)) {
      abort(sprintf(
        "`%s` must be a factor, integer labels 1..K or a target matrix, not a logical vector.",
        arg
      ), call, class = "xentropy_error_type", argument = arg)
    }
    if (!is.null(dim(y))) y <- as.vector(y)
  } else {
    abort(sprintf(
      "`%s` must be a factor, integer labels 1..K or a numeric target matrix, not %s.",
      arg, friendly_type(y)
    ), call, class = "xentropy_error_type", argument = arg)
  }
  if (check_length && length(y) != n) {
    abort(sprintf("`%s` has %.0f labels but `%s` has %.0f rows.", arg, length(y), pred_arg, n), call, class = "xentropy_error_length", argument = arg)
  }
  y
}

# Integer codes of a factor as classes of `pred`: levels are matched to the
# column names when pred has them, else taken in order (K levels expected).
factor_codes <- function(y, pred, arg, pred_arg, call) {
  lev <- levels(y)
  cols <- colnames(pred)
  if (!is.null(cols)) {
    missing_cols <- setdiff(lev, cols)
    if (length(missing_cols)) {
      abort(sprintf(
        "Level%s %s of `%s` ha%s no column in `%s` (columns: %s).",
        if (length(missing_cols) > 1) "s" else "",
        paste0("\"", missing_cols, "\"", collapse = ", "), arg,
        if (length(missing_cols) > 1) "ve" else "s", pred_arg,
        paste0("\"", cols, "\"", collapse = ", ")
      ), call, class = "xentropy_error_value", argument = arg)
    }
    if (identical(lev, cols)) return(y)  # the kernels read the codes in place
    return(match(lev, cols)[unclass_factor(y)])
  }
  if (length(lev) != ncol(pred)) {
    abort(sprintf(
      "`%s` has %.0f levels but `%s` has %.0f columns; give `%s` column names to match levels by name.",
      arg, length(lev), pred_arg, ncol(pred), pred_arg
    ), call, class = "xentropy_error_length", argument = arg)
  }
  y
}

# The integer codes of a factor, without copying them.
unclass_factor <- function(y) {
  attributes(y) <- NULL
  y
}

# Binary targets: 0/1 or probabilities (double), integer or logical 0/1, or
# a two-level factor (second level positive, as glm()). Returns
# list(y, offset) for binary_loss_impl().
as_binary_targets <- function(y, arg = "y", call) {
  # plain 0/1, logical or probabilities first: the small-call case
  if ((is.double(y) || is.integer(y) || is.logical(y)) && !is.object(y)) {
    return(list(y = y, offset = 0L))
  }
  if (is.factor(y)) {
    if (nlevels(y) != 2L) {
      abort(sprintf("`%s` must be a factor with two levels (the second is the positive class), not %.0f.",
                    arg, nlevels(y)), call, class = "xentropy_error_type", argument = arg)
    }
    return(list(y = y, offset = 1L))  # codes 1/2, read in place
  }
  if (is.logical(y) || is.integer(y) || is.double(y)) {
    if (is.object(y) || is.data.frame(y)) {
      abort(sprintf("`%s` must be 0/1, logical, probabilities in [0, 1] or a two-level factor, not %s.",
                    arg, friendly_type(y)), call, class = "xentropy_error_type", argument = arg)
    }
    return(list(y = y, offset = 0L))
  }
  abort(sprintf("`%s` must be 0/1, logical, probabilities in [0, 1] or a two-level factor, not %s.",
                arg, friendly_type(y)), call, class = "xentropy_error_type", argument = arg)
}

# `weights`: NULL, or n non-negative finite numbers.
check_weights <- function(weights, n, call) {
  if (is.null(weights)) return(NULL)
  if (!(is.numeric(weights) || is.logical(weights)) || is.object(weights)) {
    abort(sprintf("`weights` must be a numeric vector, not %s.", friendly_type(weights)), call, class = "xentropy_error_type", argument = "weights")
  }
  if (length(weights) != n) {
    abort(sprintf("`weights` has length %.0f but there are %.0f observations.",
                  length(weights), n), call, class = "xentropy_error_length", argument = "weights")
  }
  if (!is.double(weights)) storage.mode(weights) <- "double"
  # anyNA(), min() and max() allocate nothing; which() runs only on an error
  if (anyNA(weights) || (n > 0 && (min(weights) < 0 || max(weights) == Inf))) {
    bad <- which(is.na(weights) | weights < 0 | weights == Inf)
    abort(sprintf("`weights` must be non-negative and finite; found %s at position %.0f.",
                  format(weights[bad[1]]), bad[1]), call, class = "xentropy_error_invalid_value", argument = "weights")
  }
  weights
}

reductions <- c("mean", "sum", "none")

# `reduction` as one of the strings the glue takes ("mean" by default).
check_reduction <- function(reduction, call) {
  if (identical(reduction, reductions)) return("mean")
  if (!is.character(reduction) || length(reduction) != 1L || is.na(reduction) ||
      !reduction %in% reductions) {
    given <- if (is.character(reduction) && length(reduction) == 1L) {
      paste0("\"", reduction, "\"")
    } else {
      friendly_type(reduction)
    }
    abort(sprintf("`reduction` must be one of \"mean\", \"sum\" or \"none\", not %s.", given),
          call, class = "xentropy_error_value", argument = "reduction")
  }
  reduction
}

# `class_weights`: NULL, or one non-negative finite weight per column of the
# predictions `pred` (named weights are matched to its column names).
check_class_weights <- function(class_weights, pred, pred_arg, call) {
  if (is.null(class_weights)) return(NULL)
  K <- ncol(pred)
  if (!(is.numeric(class_weights) || is.logical(class_weights)) || is.object(class_weights) ||
      !is.null(dim(class_weights))) {
    abort(sprintf("`class_weights` must be a numeric vector, not %s.",
                  friendly_type(class_weights)),
          call, class = "xentropy_error_type", argument = "class_weights")
  }
  if (length(class_weights) != K) {
    abort(sprintf("`class_weights` has length %.0f but `%s` has %.0f classes (columns).",
                  length(class_weights), pred_arg, K),
          call, class = "xentropy_error_length", argument = "class_weights")
  }
  cols <- colnames(pred)
  if (!is.null(names(class_weights)) && !is.null(cols)) {
    if (!setequal(names(class_weights), cols)) {
      abort(sprintf("The names of `class_weights` (%s) must be the column names of `%s` (%s).",
                    paste0("\"", names(class_weights), "\"", collapse = ", "), pred_arg,
                    paste0("\"", cols, "\"", collapse = ", ")),
            call, class = "xentropy_error_value", argument = "class_weights")
    }
    class_weights <- class_weights[cols]
  }
  class_weights <- as.double(class_weights)
  bad <- which(is.na(class_weights) | class_weights < 0 | class_weights == Inf)
  if (length(bad)) {
    abort(sprintf("`class_weights` must be non-negative and finite; found %s at position %.0f.",
                  format(class_weights[bad[1]]), bad[1]),
          call, class = "xentropy_error_invalid_value", argument = "class_weights",
          position = bad[1], value = class_weights[bad[1]])
  }
  class_weights
}

# Signals the kernels' report of the first invalid value as an error of class
# "xentropy_error_invalid_value" with fields `argument`, `position` (1-based;
# for a matrix also `row` and `column`) and `value`: `out` carries attribute
# "xentropy_invalid" = c(position (0-based), operand (0/1)) when a value was
# invalid; `args` are the two argument names, `values` the two arguments and
# `what` what each must hold.
report_invalid <- function(out, args, values, what, call) {
  # called for its error only, so the result keeps a single reference and
  # can be named in place
  bad <- attr(out, "xentropy_invalid", exact = TRUE)
  if (is.null(bad)) return(invisible())
  which <- bad[2] + 1L
  x <- values[[which]]
  pos <- bad[1] + 1
  row <- col <- NULL
  where <- if (is.matrix(x)) {
    row <- (pos - 1) %% nrow(x) + 1
    col <- (pos - 1) %/% nrow(x) + 1
    sprintf("[%.0f, %.0f]", row, col)
  } else {
    sprintf("position %.0f", pos)
  }
  found <- x[[pos]]
  if (is.factor(x)) found <- as.character(found)
  abort(sprintf("`%s` must contain %s; found %s at %s.", args[which], what[which],
                format_value(found), where), call,
        class = "xentropy_error_invalid_value", argument = args[which], position = pos,
        row = row, column = col, value = found)
}
