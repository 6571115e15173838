#' A data set read chunk by chunk
#'
#' Describes data too large for memory as a sequence of chunks (data frames),
#' read lazily: nothing is read until a fit or a score needs it. Give the
#' result as `data` to [logistic_regression()] or [softmax_regression()], or
#' as `newdata` to [model_metrics()]. Passes over the chunks are mapped with
#' `future.apply::future_lapply()` over the current `future` plan when
#' future.apply is installed (sequentially otherwise), and partial sums are
#' added in chunk order, so results do not depend on the plan.
#'
#' Sources:
#' * a character vector of file paths: `.csv` (read by `data.table::fread()`
#'   when data.table is installed, else [utils::read.csv()]), `.rds`, and
#'   `.parquet` / `.feather` / `.arrow` (through arrow, which must be
#'   installed). Each file is one chunk (`chunk_rows` is not used).
#' * a DBI connection with `table = "name"` or `query = "SELECT ..."`: chunks
#'   of `chunk_rows` rows read with `LIMIT` / `OFFSET` appended to the query.
#'   So that no row is skipped or read twice, the rows must come in one fixed
#'   order: an SQLite `table` is read in `rowid` order, and a `query` must end
#'   with an `ORDER BY` on a unique key (and have no `LIMIT` of its own);
#'   other databases need `query =`. A connection cannot
#'   be sent to other processes: by default every chunk is read on the main
#'   process and its rows are shipped to the worker; give
#'   `connect = function() DBI::dbConnect(...)` to let each worker open its
#'   own connection and read its own chunk.
#' * a list of data frames, one per chunk.
#' * a `function(i)` returning chunk `i` as a data frame, and `NULL` after
#'   the last (the convention of `biglm::bigglm()`'s data functions, by
#'   index). It is called on the workers, so it must read its data itself;
#'   the variables it uses (file names, say) are sent with it, as `future`
#'   sends an expression's globals.
#'
#' The variables of the model come from the chunks; a variable the first
#' chunk lacks may be a constant of the formula's environment, but a chunk
#' without a column that the first chunk has is an error (never filled from
#' the workspace). Factor levels are those of all the chunks, sorted as
#' [factor()] sorts them, unless the first pass finds them as factor levels.
#'
#' A fit reads the chunks twice from their source (a pass for the factor
#' levels, a pass for the aliased columns); that second pass also writes
#' each chunk's model matrix, targets and weights to a binary file in a
#' directory of the session's temporary directory, and every Newton step
#' reads those instead of parsing and building the chunk again. Workers on
#' the same machine (a multisession plan) share the directory; workers
#' elsewhere do not see it and read the source at every step. The files
#' take about 8 bytes per model-matrix entry on disk, and go at the end of
#' the fit. `options(xentropy.chunk_cache = FALSE)` turns this off (every
#' step then reads the source; the result is the same).
#'
#' Over chunks, [softmax_regression()] always forms the full Hessian
#' (\eqn{pK \times pK}, summed over the chunks), whatever
#' `control$newton_max_dim`; above that many free parameters the in-memory
#' fit switches to Newton-CG, and the two then agree to the convergence
#' tolerance rather than to rounding error.
#'
#' A chunk that fails to read, or lacks a column the model uses, stops the
#' job with an error naming the chunk (its index, and its file or query) and
#' the original message.
#'
#' @param source File paths, a DBI connection, a list of data frames or a
#'   function, as above.
#' @param chunk_rows Rows per chunk for a DBI source.
#' @param ... For a DBI source: `table` or `query`, and optionally
#'   `connect`. For csv files: further arguments to the reader.
#' @return An object of class `"xentropy_chunks"`.
#' @family fitting
#' @export
#' @examples
#' parts <- split(mtcars, rep(1:4, length.out = nrow(mtcars)))
#' ch <- data_chunks(unname(parts))
#' ch
#' fit <- logistic_regression(am ~ wt, data = ch)
#' coef(fit)
#'
#' # csv files
#' files <- file.path(tempdir(), paste0("mtcars-", 1:4, ".csv"))
#' for (i in 1:4) utils::write.csv(parts[[i]], files[i], row.names = FALSE)
#' data_chunks(files)
data_chunks <- function(source, chunk_rows = 1e5, ...) {
  where <- sys.call()
  dots <- list(...)
  if (!is.numeric(chunk_rows) || length(chunk_rows) != 1L || !is.finite(chunk_rows) ||
      chunk_rows < 1) {
    abort("`chunk_rows` must be a single positive number.", where, argument = "chunk_rows", class = "xentropy_error_value")
  }
  chunk_rows <- as.integer(chunk_rows)
  if (is.character(source)) {
    if (!length(source)) abort("`source` has no file paths.", where, class = "xentropy_error_value", argument = "source")
    ext <- tolower(tools::file_ext(source))
    bad <- !ext %in% c("csv", "rds", "parquet", "feather", "arrow")
    if (any(bad)) {
      abort(sprintf("Cannot read \"%s\": data_chunks() reads .csv, .rds, .parquet and .feather files.",
                    source[bad][1]), where, class = "xentropy_error_value", argument = "source")
    }
    if (any(ext %in% c("parquet", "feather", "arrow")) &&
        !requireNamespace("arrow", quietly = TRUE)) {
      abort("Reading parquet or feather files needs the arrow package; install it.", where, class = "xentropy_error_dependency", package = "arrow")
    }
    out <- list(kind = "files", files = source, n = length(source), args = dots)
  } else if (inherits(source, "DBIConnection")) {
    if (!requireNamespace("DBI", quietly = TRUE)) abort("A DBI source needs the DBI package.", where, class = "xentropy_error_dependency", package = "DBI")
    tab <- dots$table
    qry <- dots$query
    if (is.null(tab) == is.null(qry)) {
      abort("A DBI connection needs `table =` or `query =` (one of them).", where, class = "xentropy_error_argument")
    }
    # Chunks are LIMIT / OFFSET windows of one ordered result: without an
    # ORDER BY a database may return rows in another order for each window,
    # so chunks could skip or repeat rows. SQLite tables are read in rowid
    # order; anything else must say its order.
    if (is.null(qry)) {
      if (!inherits(source, "SQLiteConnection")) {
        abort(paste0("`table =` reads an SQLite table in rowid order; for other databases give ",
                     "`query = \"SELECT ... ORDER BY <unique key>\"` so that the chunks of rows do not ",
                     "depend on the order the database happens to return them in."),
              where, class = "xentropy_error_unsupported", argument = "table")
      }
      qry <- paste("SELECT * FROM", DBI::dbQuoteIdentifier(source, tab), "ORDER BY rowid")
    } else {
      if (!is.character(qry) || length(qry) != 1L || is.na(qry)) {
        abort(sprintf("`query` must be a single SQL string, not %s.", friendly_type(qry)),
              where, class = "xentropy_error_type", argument = "query")
      }
      if (!grepl("\\border\\s+by\\b", qry, ignore.case = TRUE)) {
        abort(paste0("`query` must end with an ORDER BY on a unique key: its rows are read in ",
                     "chunks with LIMIT / OFFSET, and without an order a database may return ",
                     "them differently for each chunk (skipping or repeating rows)."),
              where, class = "xentropy_error_unsupported", argument = "query")
      }
      if (grepl("\\blimit\\b|\\boffset\\b", qry, ignore.case = TRUE)) {
        abort("`query` must not have its own LIMIT or OFFSET: data_chunks() adds them for each chunk.",
              where, class = "xentropy_error_unsupported", argument = "query")
      }
    }
    out <- list(kind = "dbi", con = source, query = qry, chunk_rows = chunk_rows,
                connect = dots$connect, n = NA_integer_, nrow = NA_real_)
    if (!is.null(out$connect) && !is.function(out$connect)) {
      abort("`connect` must be a function returning a DBI connection.", where, class = "xentropy_error_type", argument = "connect")
    }
  } else if (is.list(source) && !is.data.frame(source)) {
    ok <- vapply(source, is.data.frame, logical(1))
    if (!length(source) || !all(ok)) {
      abort("A list `source` must hold data frames (one per chunk).", where, class = "xentropy_error_type", argument = "source")
    }
    out <- list(kind = "list", chunks = source, n = length(source))
  } else if (is.function(source)) {
    out <- list(kind = "function", fun = source, n = NA_integer_)
  } else {
    abort(sprintf("`source` must be file paths, a DBI connection, a list of data frames or a function, not %s.",
                  friendly_type(source)), where, class = "xentropy_error_type", argument = "source")
  }
  out$counted <- new.env(parent = emptyenv())
  class(out) <- "xentropy_chunks"
  out
}

#' @export
print.xentropy_chunks <- function(x, ...) {
  n <- chunk_count(x, count = FALSE)
  cnt <- if (is.na(n)) "chunks (count known after the first pass)" else
    sprintf("%.0f chunk%s", n, if (n == 1) "" else "s")
  what <- switch(x$kind,
    files = sprintf("files (%s%s)", paste(utils::head(basename(x$files), 3), collapse = ", "),
                    if (length(x$files) > 3) ", ..." else ""),
    dbi = sprintf("a DBI query (%s), %.0f rows a chunk%s", x$query, x$chunk_rows,
                  if (is.null(x$connect)) ", read on the main process" else
                    ", each worker connecting"),
    list = "a list of data frames",
    "a function(i) returning chunk i (NULL after the last)")
  cat(sprintf("<data_chunks> %s from %s\n", cnt, what))
  invisible(x)
}

# The number of chunks: known, or found by counting (DBI: COUNT(*); function:
# called until NULL, on the main process) when `count` is TRUE.
chunk_count <- function(src, count = TRUE) {
  if (!is.na(src$n)) return(src$n)
  if (!is.null(src$counted$n)) return(src$counted$n)
  if (!count) return(NA_integer_)
  if (src$kind == "dbi") {
    nr <- tryCatch(DBI::dbGetQuery(src$con, paste0("SELECT COUNT(*) AS n FROM (", src$query,
                                                    ") AS xentropy_q"))$n,
                   error = function(e) {
                     abort(sprintf("Counting the rows of the query (%s) failed: %s", src$query,
                                   conditionMessage(e)), NULL, class = "xentropy_error_chunk", source = src$query)
                   })
    n <- as.integer(ceiling(as.numeric(nr) / src$chunk_rows))
  } else {
    i <- 0L
    repeat {
      d <- read_chunk(src, i + 1L)
      if (is.null(d)) break
      i <- i + 1L
    }
    n <- i
  }
  if (n < 1L) abort("The data source has no rows.", NULL, class = "xentropy_error_data")
  src$counted$n <- n
  n
}

# What a chunk is read from, for the condition's `source` field.
chunk_source <- function(src, i) {
  switch(src$kind,
         files = src$files[i],
         dbi = src$query,
         list = "a list of data frames",
         "a function source")
}

chunk_label <- function(src, i) {
  switch(src$kind,
         files = sprintf("chunk %.0f (file \"%s\")", i, src$files[i]),
         dbi = sprintf("chunk %.0f (query \"%s\", rows %.0f-%.0f)", i, src$query,
                       (i - 1) * src$chunk_rows + 1, i * src$chunk_rows),
         list = sprintf("chunk %.0f (list element %.0f)", i, i),
         sprintf("chunk %.0f (function source)", i))
}

# Chunk i as a data frame (NULL past the end of a function source).
read_chunk <- function(src, i, con = NULL) {
  d <- tryCatch(switch(src$kind,
    files = read_file_chunk(src$files[i], src$args),
    dbi = DBI::dbGetQuery(if (is.null(con)) src$con else con,
                          sprintf("%s LIMIT %.0f OFFSET %.0f", src$query, src$chunk_rows,
                                  (i - 1) * src$chunk_rows)),
    list = src$chunks[[i]],
    src$fun(i)), error = function(e) {
      abort(sprintf("Reading %s failed: %s", chunk_label(src, i), conditionMessage(e)),
            NULL, class = "xentropy_error_chunk", chunk = i, source = chunk_source(src, i))
    })
  if (!is.null(d) && !is.data.frame(d)) {
    abort(sprintf("Reading %s gave %s, not a data frame.", chunk_label(src, i),
                  friendly_type(d)), NULL, class = "xentropy_error_chunk", chunk = i, source = chunk_source(src, i))
  }
  d
}

read_file_chunk <- function(f, args) {
  ext <- tolower(tools::file_ext(f))
  if (ext == "rds") return(as.data.frame(readRDS(f)))
  if (ext == "parquet") return(as.data.frame(arrow::read_parquet(f)))
  if (ext %in% c("feather", "arrow")) return(as.data.frame(arrow::read_feather(f)))
  if (requireNamespace("data.table", quietly = TRUE)) {
    # integers beyond 2^31 as doubles, not bit64's integer64 (whose bits model.matrix()
    # would take for doubles of 1e-314), unless the caller says otherwise
    if (is.null(args$integer64)) args$integer64 <- "double"
    return(as.data.frame(do.call(data.table::fread,
                                 c(list(f, data.table = FALSE, showProgress = FALSE), args))))
  }
  do.call(utils::read.csv, c(list(f, stringsAsFactors = FALSE), args))
}

# Map FUN(chunk, i, ...) over all chunks on the current future plan, results
# in chunk order. DBI sources without `connect` are read on the main process,
# a batch of chunks (one per worker) at a time, and shipped. The work is done
# by chunk_job(), a function of the namespace given everything it needs as
# arguments, so that future ships those and nothing else (a closure would
# carry its enclosing frames, and the globals search would walk them).
chunk_map <- function(src, FUN, ..., .cache = NULL) {
  n <- chunk_count(src)
  args <- list(...)
  use_future <- requireNamespace("future.apply", quietly = TRUE)
  p <- if (requireNamespace("progressr", quietly = TRUE)) progressr::progressor(steps = n) else
    NULL
  threads <- worker_threads()
  map <- if (use_future) {
    function(X, ...) future.apply::future_lapply(X, chunk_job, ..., threads = threads,
                                                 future.seed = NULL,
                                                 future.globals = FALSE,
                                                 future.packages = "xentropy")
  } else {
    function(X, ...) lapply(X, chunk_job, ...)
  }
  if (use_future) {
    if (src$kind == "function") src$fun <- portable_function(src$fun)
    if (src$kind == "dbi" && !is.null(src$connect)) src$connect <- portable_function(src$connect)
  }
  if (src$kind == "dbi" && is.null(src$connect)) {
    nw <- if (requireNamespace("future", quietly = TRUE)) max(1L, future::nbrOfWorkers()) else 1L
    out <- vector("list", n)
    for (b in split(seq_len(n), ceiling(seq_len(n) / nw))) {
      # (not read when its design is cached: the cache is on this machine)
      data <- lapply(b, function(i) {
        if (!is.null(.cache) && file.exists(cache_file(.cache, i))) NULL else read_chunk(src, i)
      })
      src_b <- list(kind = "shipped", label = vapply(b, function(i) chunk_label(src, i), ""))
      out[b] <- map(seq_along(b), src = src_b, job = FUN, args = args, progress = p,
                    data = data, index = b, cache = .cache)
    }
    return(out)
  }
  if (src$kind == "dbi") src$con <- NULL  # not sent to the workers
  map(seq_len(n), src = src, job = FUN, args = args, progress = p, cache = .cache)
}

# One chunk's job, on a worker: read chunk i (or take the shipped data),
# apply `job`, and name the chunk in any error. (Not `FUN`: an argument of
# that name would be taken by future_lapply() itself.)
chunk_job <- function(j, src, job, args, progress, data = NULL, index = NULL, cache = NULL,
                      threads = NULL) {
  if (!is.null(threads)) {
    old <- options(xentropy.threads = threads)
    on.exit(options(old), add = TRUE)
  }
  i <- if (is.null(index)) j else index[j]
  label <- if (src$kind == "shipped") src$label[j] else chunk_label(src, i)
  from <- if (src$kind == "shipped") src$label[j] else chunk_source(src, i)
  d <- if (!is.null(cache)) cached_design(cache, i)
  if (!is.null(d)) {
    # the chunk's design, cached by the pass that built it
  } else if (!is.null(data)) {
    d <- data[[j]]
    if (is.null(d)) abort(sprintf("The cached design of %s could not be read.", label), NULL, class = "xentropy_error_chunk",
                          chunk = i, source = from)
  } else if (src$kind == "dbi" && !is.null(src$connect)) {
    con <- src$connect()
    on.exit(DBI::dbDisconnect(con), add = TRUE)
    d <- read_chunk(src, i, con)
  } else {
    d <- read_chunk(src, i)
  }
  if (is.null(d)) abort(sprintf("%s is missing (the source ended early).", label), NULL, class = "xentropy_error_chunk",
                        chunk = i, source = from)
  r <- tryCatch(do.call(job, c(list(d, i), args)), error = function(e) {
    abort(sprintf("In %s: %s", label, conditionMessage(e)), NULL, class = "xentropy_error_chunk", chunk = i,
          source = from, parent = e)
  })
  if (!is.null(progress)) progress()
  r
}

# A user's function (a function source, `connect`, a function the formula
# calls) made to run on another process: the variables it uses, found where
# it was defined (the global environment included, which is not sent to
# workers), are copied into a small environment of its own, as future does
# for the expressions it evaluates. Functions of namespaces are left alone.
portable_function <- function(f) {
  e <- environment(f)
  if (is.null(e) || isNamespace(e) || identical(e, baseenv()) ||
      !requireNamespace("globals", quietly = TRUE)) {
    return(f)
  }
  gl <- globals::cleanup(globals::globalsOf(f, envir = e, mustExist = FALSE))
  ne <- new.env(parent = globalenv())
  for (nm in names(gl)) assign(nm, gl[[nm]], envir = ne)
  environment(f) <- ne
  f
}
