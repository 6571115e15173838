# Fitting over data_chunks(): a first pass for the factor levels, a second
# for the aliased columns and the null model's sums, then Newton's method
# with one pass per step (loss, gradient and Hessian of each chunk from the
# C++ kernels, added in chunk order on the main process).

# The model frame of one chunk, built as the in-memory fit builds it.
chunk_frame <- function(spec, d, xlev = NULL, drop = is.null(xlev)) {
  need <- spec$vars
  miss <- setdiff(need, c(names(d), spec$env_vars))
  if (length(miss)) {
    abort(sprintf("the chunk lacks the column%s %s used by the model", if (length(miss) > 1) "s" else "",
                 paste0("\"", miss, "\"", collapse = ", ")), NULL, class = "xentropy_error_chunk")
  }
  # `subset` must select rows by a condition on each row: row numbers (or a
  # vector of the whole data's length) would select rows of each chunk
  sub <- NULL
  if (!is.null(spec$subset)) {
    sub <- eval(spec$subset, d, environment(spec$formula))
    if (!is.logical(sub) || length(sub) != nrow(d)) {
      abort("`subset` must be a logical condition on the columns (one TRUE or FALSE per row); with data_chunks(), row numbers would select rows of each chunk, not of the data",
            NULL, class = "xentropy_error_chunk", argument = "subset")
    }
  }
  args <- list(formula = spec$formula, data = d, na.action = spec$na.action,
               drop.unused.levels = drop)
  if (!is.null(xlev)) args$xlev <- xlev
  cl <- as.call(c(list(quote(stats::model.frame)), args,
                  list(weights = spec$weights, offset = spec$offset, subset = sub)))
  cl <- cl[!vapply(as.list(cl), is.null, logical(1))]
  eval(cl, environment(spec$formula))
}

# The workers get a small environment instead of the formula's (which future
# would otherwise serialise, with everything in it, on every pass): the
# variables the expressions take from `fenv` rather than from the data's
# columns (`data_names`), and the caller's own functions they call.
worker_env <- function(exprs, fenv, data_names) {
  exprs <- Filter(Negate(is.null), exprs)
  vars <- unique(unlist(lapply(exprs, all.vars)))
  env_vars <- setdiff(vars, data_names)
  env_vars <- env_vars[vapply(env_vars, exists, logical(1), envir = fenv)]
  wenv <- new.env(parent = asNamespace("stats"))
  for (v in env_vars) assign(v, get(v, envir = fenv), envir = wenv)
  fns <- setdiff(unique(unlist(lapply(exprs, all.names))), vars)
  for (f in fns) {
    if (!exists(f, envir = fenv, mode = "function")) next
    fun <- get(f, envir = fenv, mode = "function")
    fe <- environment(fun)
    if (!is.null(fe) && !isNamespace(fe) && !identical(fe, baseenv())) {
      assign(f, portable_function(fun), envir = wenv)
    }
  }
  list(env = wenv, vars = env_vars)
}

# Terms computed from the data (poly()'s orthogonal basis, ns(), bs(), scale(),
# means, quantiles, cut() into k intervals, ranks) would be computed again on each
# chunk, each chunk with its own basis or centre: refused. model.frame() records the
# ones with a makepredictcall() method in the terms' "predvars"; the others are
# found by name.
check_chunk_terms <- function(formula, mt, where, extra = list()) {
  pv <- attr(mt, "predvars")
  vars <- attr(mt, "variables")
  bad <- character()
  if (!is.null(pv) && !is.null(vars)) {
    for (i in seq_along(vars)[-1L]) {
      if (!identical(pv[[i]], vars[[i]])) bad <- c(bad, deparse1(vars[[i]]))
    }
  }
  summaries <- c("mean", "median", "quantile", "sd", "var", "min", "max", "range", "IQR",
                 "mad", "rank", "order", "sort", "rev", "cumsum", "cumprod", "cummax", "cummin",
                 "diff", "ecdf", "scale", "poly", "ns", "bs", "splineDesign", "sum", "prod",
                 "length", "nrow", "NROW", "ave", "weighted.mean", "prop.table", "proportions",
                 "table", "tabulate", "cumall", "seq_along", "rowsum", "unique", "duplicated",
                 "head", "tail", "lag", "lead", "ecdf", "fivenum")
  # factor() and its kin make levels from the values at hand: as a whole variable of
  # the formula their levels are merged over the chunks (merge_levels()); inside
  # another expression (as.integer(factor(g))) they would be each chunk's own
  factors <- c("factor", "as.factor", "ordered", "as.ordered", "relevel", "interaction",
               "droplevels", "reorder")
  operators <- c("~", "+", "-", "*", ":", "/", "^", "%in%", "(", "offset")
  walk <- function(e, parent = "~") {
    if (!is.call(e)) return()
    f <- e[[1L]]
    fn <- if (is.symbol(f)) as.character(f) else if (is.call(f) && identical(f[[1L]], as.name("::"))) as.character(f[[3L]]) else ""
    raw_poly <- fn == "poly" && isTRUE(tryCatch(eval(e$raw, baseenv()), error = function(err) FALSE))
    cut_k <- fn == "cut" && length(e) >= 3L && {
      b <- if (!is.null(e$breaks)) e$breaks else e[[3L]]
      is.numeric(b) && length(b) == 1L
    }
    nested_factor <- fn %in% factors && !parent %in% operators
    if ((fn %in% summaries && !raw_poly) || cut_k || nested_factor) bad <<- c(bad, deparse1(e))
    for (a in as.list(e)[-1L]) walk(a, fn)
  }
  walk(formula[[3L]])
  if (length(formula) == 3L) walk(formula[[2L]])
  # weights, offset and subset are evaluated per chunk as well
  for (e in extra) walk(e, "")
  bad <- unique(bad)
  if (length(bad)) {
    abort(sprintf(paste0("%s %s computed from the data, which over chunks would be computed ",
                         "again on each chunk (each with its own basis, centre or breaks). Add such ",
                         "columns to the data once beforehand (or use `poly(x, k, raw = TRUE)`, `cut()` ",
                         "with explicit breaks), or fit in memory."),
                  paste0("`", bad, "`", collapse = ", "), if (length(bad) > 1L) "are" else "is"),
          where, class = "xentropy_error_unsupported", argument = "formula")
  }
}

# Pass 1 per chunk: the levels of factors and character variables, and of
# the response.
chunk_levels <- function(d, i, spec) {
  # a chunk without rows (a header-only file, an empty query) has no levels
  empty <- list(levels = list(), all = list(), factor = logical(), nrow = 0L)
  if (NROW(d) == 0L) return(empty)
  mf <- chunk_frame(spec, d, drop = FALSE)  # factors keep their levels attribute
  # no row left after na.action (a column all empty, read as logical): nothing to say
  # about levels or types
  if (nrow(mf) == 0L) return(empty)
  lv <- lapply(mf, function(v) {
    if (is.factor(v)) levels(droplevels(v)) else if (is.character(v)) sort(unique(v)) else
      if (is.logical(v) && is.null(dim(v))) c("FALSE", "TRUE")[c(any(!v), any(v))] else NULL
  })
  keep <- !vapply(lv, is.null, logical(1))
  # factors the formula makes (factor(v), relevel(...)): their levels come from this
  # chunk's values alone. factor(v) of a column v: v's sorted values, merged in
  # v's type (factor() sorts 9 before 10); any other: only its levels attribute
  made <- list()
  for (nm in names(mf)[keep]) {
    if (!is.factor(mf[[nm]])) next
    e <- tryCatch(str2lang(nm), error = function(err) NULL)
    if (!is.call(e)) next
    fn <- deparse1(e[[1L]])
    plain <- fn %in% c("factor", "as.factor") && length(e) == 2L && is.symbol(e[[2L]]) &&
      as.character(e[[2L]]) %in% names(d)
    made[[nm]] <- if (plain) {
      v <- d[[as.character(e[[2L]])]]
      # (of a factor column: its levels, in the order rbind() would merge them)
      if (is.factor(v)) list(union = levels(v)) else list(values = sort(unique(v[!is.na(v)])))
    } else {
      list(attr = levels(mf[[nm]]))
    }
  }
  list(levels = lv[keep], all = lapply(mf[keep], function(v) if (is.factor(v)) levels(v)),
       factor = vapply(mf, is.factor, logical(1)),
       logical = vapply(mf, function(v) is.logical(v) && is.null(dim(v)), logical(1)),
       made = made, nrow = nrow(mf))
}

# The levels of all the chunks, in the order the whole data would have: a
# factor's levels in the order of its levels attribute (the union of the
# chunks' attributes, in chunk order, as rbind() would make it), without the
# levels no row uses (model.frame()'s drop.unused.levels); characters and
# logicals sorted, as factor() sorts them.
merge_levels <- function(parts) {
  used <- list()
  order <- list()
  is_factor <- list()
  logicals <- character()
  for (p in parts) {
    for (v in names(p$levels)) {
      used[[v]] <- union(used[[v]], p$levels[[v]])
      order[[v]] <- union(order[[v]], p$all[[v]])
      is_factor[[v]] <- isTRUE(is_factor[[v]]) || isTRUE(p$factor[[v]])
      if (isTRUE(p$logical[[v]])) logicals <- union(logicals, v)
    }
  }
  # factors made by the formula: factor(v) in the order of v's values over all chunks;
  # others only where every chunk's levels attribute is the same (else the order the
  # whole data would give is unknown: "ambiguous", refused by the caller)
  made_values <- list()
  made_union <- list()
  made_attr <- list()
  for (p in parts) {
    if (!p$nrow) next
    for (v in names(p$made)) {
      m <- p$made[[v]]
      if (!is.null(m$values)) {
        made_values[[v]] <- sort(unique(c(made_values[[v]], m$values)))
      } else if (!is.null(m$union)) {
        made_union[[v]] <- union(made_union[[v]], m$union)
      } else {
        made_attr[[v]] <- c(made_attr[[v]], list(m$attr))
      }
    }
  }
  ambiguous <- character()
  for (v in names(made_values)) order[[v]] <- as.character(made_values[[v]])
  for (v in names(made_union)) order[[v]] <- made_union[[v]]
  for (v in names(made_attr)) {
    a <- made_attr[[v]]
    if (all(vapply(a, identical, logical(1), a[[1L]]))) order[[v]] <- a[[1L]]
    else ambiguous <- c(ambiguous, v)
  }
  for (v in names(used)) {
    used[[v]] <- if (is_factor[[v]]) {
      c(order[[v]][order[[v]] %in% used[[v]]], sort(setdiff(used[[v]], order[[v]])))
    } else {
      sort(used[[v]])
    }
  }
  # logical variables: model.matrix() gives them their TRUE column whatever a chunk
  # holds, and model.frame() warns when given levels for them
  attr(used, "logical") <- logicals
  attr(used, "ambiguous") <- ambiguous
  used
}

# The model matrix, targets, weights and offset of one chunk, on the global
# levels.
chunk_design <- function(d, spec) {
  # no rows, or none left after na.action: its columns' types (e.g. all-NA logicals,
  # for which model.frame() says the levels given are not a factor's) do not matter
  mf <- NULL
  if (NROW(d) > 0L) {
    mf <- withCallingHandlers(chunk_frame(spec, d, spec$xlev_all), warning = function(w) {
      if (grepl("is not a factor", conditionMessage(w), fixed = TRUE)) invokeRestart("muffleWarning")
    })
  }
  if (NROW(d) == 0L || nrow(mf) == 0L) {
    K <- length(spec$classes)
    return(list(x = matrix(0, 0L, length(spec$xnames), dimnames = list(NULL, spec$xnames)),
                y = if (spec$softmax) matrix(0, 0L, K, dimnames = list(NULL, spec$classes)) else double(),
                w = NULL, off = NULL, trials = NULL))
  }
  X <- stats::model.matrix(spec$terms, mf, contrasts.arg = spec$contrasts)
  if (!identical(colnames(X), spec$xnames)) {
    abort("its model matrix has columns different from the other chunks'", NULL, class = "xentropy_error_chunk")
  }
  y <- stats::model.response(mf)
  w <- stats::model.weights(mf)
  if (!is.null(w) && (!is.numeric(w) || anyNA(w) || any(w < 0 | w == Inf))) {
    bad <- if (is.numeric(w)) which(is.na(w) | w < 0 | w == Inf)[1] else 1L
    abort(sprintf("`weights` must be non-negative and finite; found %s in row %.0f of the chunk",
                  format(w[bad]), bad), NULL, class = "xentropy_error_chunk", argument = "weights")
  }
  off <- stats::model.offset(mf)
  n <- nrow(X)
  trials <- NULL
  if (spec$softmax) {
    if (is.character(y) || is.factor(y) || is.logical(y)) {
      y <- factor(as.character(y), levels = spec$classes)
      if (anyNA(y)) abort("the response has NA or a class not seen in the first pass", NULL, class = "xentropy_error_chunk")
      Tm <- matrix(0, n, length(spec$classes), dimnames = list(NULL, spec$classes))
      Tm[cbind(seq_len(n), unclass(y))] <- 1
    } else {
      Tm <- softmax_fit_targets(y, n, NULL)$targets
      if (!identical(colnames(Tm), spec$classes)) abort("its target matrix has other classes", NULL, class = "xentropy_error_chunk")
    }
    if (spec$label_smoothing > 0) {
      Tm <- (1 - spec$label_smoothing) * Tm + spec$label_smoothing / ncol(Tm)
    }
    y <- Tm
  } else {
    if (is.factor(y) || is.character(y)) {
      y <- as.double(as.character(y) == spec$classes[2])
    } else if (is.logical(y)) {
      storage.mode(y) <- "double"
    } else if (is.matrix(y) && ncol(y) == 2L) {
      if (anyNA(y) || any(y < 0 | y == Inf)) {
        abort("the counts in the response `cbind(successes, failures)` must be non-negative and finite",
              NULL, class = "xentropy_error_chunk")
      }
      trials <- as.double(y[, 1] + y[, 2])
      y <- ifelse(trials == 0, 0, y[, 1] / trials)
    } else {
      y <- as.double(y)
      if (anyNA(y) || any(y < 0 | y > 1)) abort("the response must be in [0, 1]", NULL, class = "xentropy_error_chunk")
    }
    if (!is.null(trials)) w <- if (is.null(w)) trials else w * trials
  }
  if (!is.null(w)) w <- as.double(w)
  if (!is.null(off)) {
    if (spec$softmax) {
      # as in memory (check_offset()): an n x K matrix, its columns matched to the
      # classes by name when named
      if (is.null(dim(off)) || ncol(off) != length(spec$classes)) {
        abort(sprintf("a softmax offset must be an n x K matrix with one column per class (%.0f); a vector added to every class changes no probability",
                      length(spec$classes)), NULL, class = "xentropy_error_chunk", argument = "offset")
      }
      cn <- colnames(off)
      if (!is.null(cn) && all(nzchar(cn))) {
        if (!setequal(cn, spec$classes)) {
          abort(sprintf("the column names of the offset (%s) must be the classes (%s)",
                        paste0("\"", cn, "\"", collapse = ", "),
                        paste0("\"", spec$classes, "\"", collapse = ", ")),
                NULL, class = "xentropy_error_chunk", argument = "offset")
        }
        off <- off[, spec$classes, drop = FALSE]
      }
      off <- matrix(as.double(off), n, length(spec$classes))
    } else {
      off <- as.double(off)
    }
  }
  list(x = X, y = y, w = w, off = off, trials = trials)
}

# Pass 2 per chunk: the R factor of W^(1/2) X and the sums the null model and
# the saturated loss need.
chunk_stats <- function(d, i, spec) {
  ds <- chunk_design(d, spec)
  if (!is.null(spec$cache)) cache_design(ds, spec$cache, i)
  wt <- if (is.null(ds$w)) rep(1, nrow(ds$x)) else ds$w
  R <- if (nrow(ds$x)) weighted_r_impl(ds$x, ds$w) else NULL
  if (spec$softmax) {
    ty <- colSums(wt * ds$y)
    sat <- sum(wt * entropy(ds$y))
    soft <- any(ds$y > 0 & ds$y < 1)
    lcoef <- 0
  } else {
    ty <- sum(wt * ds$y)
    soft <- any(ds$y > 0 & ds$y < 1)
    sat <- sum(wt * binary_entropy(ds$y))
    lcoef <- binomial_log_coef(ds$y, wt, ds$trials)
  }
  list(R = R, sw = sum(wt), ty = ty, sat = sat, soft = soft, lcoef = lcoef,
       nobs = sum(wt > 0), swo = if (!is.null(ds$off) && !spec$softmax) sum(wt * ds$off) else 0,
       # no rows: every column is vacuously all ones (the neutral element of the `&` below)
       ones = if (nrow(ds$x)) ones_columns_impl(ds$x) else rep(TRUE, ncol(ds$x)),
       n = nrow(ds$x), has_off = !is.null(ds$off))
}

# One Newton pass per chunk: loss, gradient and (when asked) Hessian at
# `par`, and the extreme fitted probabilities of the rows with positive
# weight (for the separation warning).
chunk_eval <- function(d, i, spec, par, keep, hessian = TRUE, null = FALSE) {
  ds <- if (inherits(d, "xentropy_design")) d else chunk_design(d, spec)
  X <- if (null) matrix(1, nrow(ds$x), 1L) else ds$x[, keep, drop = FALSE]
  if (!null && !is.null(spec$basis)) X <- X %*% spec$basis  # fit_basis()
  r <- if (spec$softmax) {
    softmax_eval_impl(X, ds$y, ds$w, ds$off, par, hessian, 1L)
  } else {
    binary_eval_impl(X, ds$y, ds$w, ds$off, par, hessian, 1L)
  }
  eta <- X %*% par
  if (!is.null(ds$off)) eta <- eta + ds$off
  if (hessian && !null && spec$softmax && spec$label_smoothing > 0) {
    # the sandwich's middle (vcov() of a label-smoothed fit): sum_i g_i g_i' of the
    # rows' scores w_i (p_i - t_i) (x) x_i, in the fit's coordinates (its basis, if any)
    R <- (if (is.null(ds$w)) 1 else ds$w) * (softmax(eta) - ds$y)
    r$meat <- crossprod(do.call(cbind, lapply(seq_len(ncol(R)), function(k) X * R[, k])))
  }
  pos <- if (is.null(ds$w)) rep(TRUE, nrow(X)) else ds$w > 0
  eta <- eta[pos, , drop = FALSE]
  if (!nrow(eta)) {
    r$pmin <- Inf
    r$pmax <- -Inf
  } else if (spec$softmax) {
    P <- softmax(eta)
    r$pmin <- min(P)
    r$pmax <- max(P)
  } else {
    r$pmin <- sigmoid(min(eta))
    r$pmax <- sigmoid(max(eta))
  }
  r
}

sum_passes <- function(parts) {
  f <- 0
  g <- 0
  H <- 0
  M <- 0
  for (p in parts) {
    f <- f + p$loss
    g <- g + p$gradient
    if (!is.null(p$hessian)) H <- H + p$hessian
    if (!is.null(p$meat)) M <- M + p$meat
  }
  list(loss = f, gradient = g, hessian = H, meat = M,
       pmin = min(vapply(parts, `[[`, 0, "pmin")), pmax = max(vapply(parts, `[[`, 0, "pmax")))
}

# Newton's method over the chunks on the free parameters (`free`: logical,
# same shape as `start`): the iteration of fit_binary() / fit_softmax() in
# xentropy/fit.hpp step for step (the same direction solver, Armijo rule with
# its rounding margin, and stopping rule: a step predicted final, by half the
# Newton decrement below tol (|E| + 0.1), is taken, then the iteration stops
# if the gradient is at most tol or the previous step was final too), so the
# chunked fit stops where the in-memory fit stops. Each evaluation is one
# pass over the chunks, and forms the Hessian too: the in-memory fit skips it
# at a step predicted final and forms it at the same point later when needed,
# which here would cost a second pass for the same numbers. Returns the penalised gradient and Hessian over the
# free parameters at the result.
chunk_newton <- function(src, spec, start, free, pen, lambda, ctl, keep, null = FALSE) {
  fi <- which(free)
  # a square matrix `pen` (binary): the penalty lambda / 2 par' pen par of another basis
  Qm <- if (is.matrix(pen) && length(start) > 1L && all(dim(pen) == length(start))) lambda * pen
  P <- if (is.null(Qm)) lambda * pen * free else 0  # penalty weight per entry (fixed: none)
  pgrad <- function(par) if (is.null(Qm)) P * par else drop(Qm %*% par)
  padd <- function(A) {
    if (is.null(Qm)) diag(A) <- diag(A) + P[fi] else A <- A + Qm[fi, fi, drop = FALSE]
    A
  }
  penalty <- function(par) if (is.null(Qm)) 0.5 * sum(P * par^2) else 0.5 * sum(par * pgrad(par))
  evaluate <- function(par, hessian) {
    s <- sum_passes(chunk_map(src, chunk_eval, spec = spec, par = par, keep = keep,
                              .cache = spec$cache,
                              hessian = hessian, null = null))
    s$F <- s$loss + penalty(par)
    s
  }
  grad_free <- function(s, par) (as.vector(s$gradient) + pgrad(par))[fi]
  hess_free <- function(s) padd(as.matrix(s$hessian)[fi, fi, drop = FALSE])
  show <- isTRUE(ctl$trace) && !null
  par <- start
  cur <- evaluate(par, TRUE)
  H <- cur$hessian
  trace <- cur$F
  if (show) cat(sprintf("iter %3d  objective %.12g\n", 0L, cur$F))
  code <- "max_iterations"
  was_small <- FALSE
  noise_eps <- 64 * .Machine$double.eps
  it <- 0L
  while (it < ctl$maxit) {
    G <- grad_free(cur, par)
    A <- padd(as.matrix(H)[fi, fi, drop = FALSE])
    d <- newton_direction_impl(A, G)
    if (is.null(d)) {
      code <- "stalled"
      break
    }
    slope <- sum(G * d)
    if (!isTRUE(slope <= 0)) {
      code <- "stalled"
      break
    }
    small <- -slope / 2 <= ctl$tol * (abs(cur$F) + 0.1)
    t <- 1
    ok <- FALSE
    for (k in seq_len(if (small) 1L else 60L)) {
      np <- par
      np[fi] <- par[fi] + t * d
      new <- evaluate(np, TRUE)
      noise <- noise_eps * abs(cur$F)
      if (is.finite(new$F) && if (small) new$F <= cur$F + max(-slope, noise) else
          new$F <= cur$F + 1e-4 * t * slope + noise) {
        ok <- TRUE
        break
      }
      t <- t / 2
    }
    if (!ok) {
      code <- if (small) "converged" else "stalled"
      break
    }
    par <- np
    cur <- new
    H <- new$hessian
    trace <- c(trace, cur$F)
    if (show) cat(sprintf("iter %3d  objective %.12g\n", it + 1L, cur$F))
    if (small && (was_small || max(abs(grad_free(cur, par))) <= ctl$tol)) {
      code <- "converged"
      it <- it + 1L
      break
    }
    was_small <- small
    it <- it + 1L
  }
  cur$hessian <- H
  list(par = par, loss = cur$loss, penalty = penalty(par), gradient = grad_free(cur, par),
       hessian = hess_free(cur), meat = if (is.matrix(cur$meat)) cur$meat[fi, fi, drop = FALSE],
       iter = it, converged = code == "converged", trace = trace,
       pmin = cur$pmin, pmax = cur$pmax)
}

# The chunked fit behind logistic_regression() / softmax_regression() with
# `data = data_chunks(...)`.
chunked_fit <- function(call, env, src, softmax, lambda, label_smoothing, ctl, contrasts,
                        where) {
  if (!inherits(call$formula, "formula") && !inherits(eval(call$formula, env), "formula")) {
    abort("With `data = data_chunks(...)`, give a model formula.", where, class = "xentropy_error_argument", argument = "formula")
  }
  formula <- stats::as.formula(eval(call$formula, env))
  na_action <- if (is.null(call$na.action)) getOption("na.action", "na.omit") else
    eval(call$na.action, env)
  if (is.character(na_action)) na_action <- get(na_action, mode = "function")
  if (!is.null(call$x) || !is.null(call$y)) {
    abort("With `data = data_chunks(...)`, use the formula interface (not `x`, `y`).", where, class = "xentropy_error_argument")
  }
  tt <- stats::terms(formula)
  if (attr(tt, "response") == 0L) abort("`formula` must have a response on its left-hand side (`y ~ x`).", where, class = "xentropy_error_argument")
  # the null deviance over chunks is the intercept-only model's: said before any pass
  if (attr(tt, "intercept") != 1L) {
    abort("A chunked fit needs an intercept (the null deviance): remove `- 1` / `0 +` from the formula, or fit in memory.",
          where, class = "xentropy_error_unsupported", argument = "formula")
  }
  vars <- unique(c(all.vars(formula), all.vars(call$weights), all.vars(call$offset),
                   all.vars(call$subset)))
  fenv <- environment(formula)
  d1 <- read_chunk(src, 1L)
  if (is.null(d1)) abort("The data source has no chunks.", NULL, class = "xentropy_error_data")
  # Variables come from the chunks; only those the first chunk lacks may come
  # from the formula's environment (as constants), so that a chunk missing a
  # column is an error, not silently filled from the caller's workspace.
  we <- worker_env(list(formula, call$weights, call$offset, call$subset), fenv, names(d1))
  env_vars <- we$vars
  wenv <- we$env
  formula_w <- formula
  environment(formula_w) <- wenv
  spec <- list(formula = formula_w, na.action = na_action, weights = call$weights,
               offset = call$offset, subset = call$subset, vars = vars,
               env_vars = env_vars, softmax = softmax, contrasts = contrasts,
               label_smoothing = label_smoothing)
  check_chunk_terms(formula, NULL, where, list(call$weights, call$offset, call$subset))
  # pass 1: levels
  lv <- merge_levels(chunk_map(src, chunk_levels, spec = spec))
  if (length(attr(lv, "ambiguous"))) {
    abort(sprintf(paste0("%s %s levels from each chunk's values, and the chunks give different ",
                         "ones, so their order over the whole data is not known. Make %s a factor ",
                         "column of the data (with its levels) beforehand, or fit in memory."),
                  paste0("`", attr(lv, "ambiguous"), "`", collapse = ", "),
                  if (length(attr(lv, "ambiguous")) > 1L) "make their" else "makes its",
                  if (length(attr(lv, "ambiguous")) > 1L) "them" else "it"),
          where, class = "xentropy_error_unsupported", argument = "formula")
  }
  # the response's name as model.frame() writes it (one line, however long)
  resp <- paste(deparse(formula[[2L]], width.cutoff = 500L,
                        backtick = !is.symbol(formula[[2L]]) && is.language(formula[[2L]])),
                collapse = " ")
  spec$xlev_all <- lv[setdiff(names(lv), c(resp, attr(lv, "logical")))]
  # one chunk gives the terms, columns, contrasts
  mf1 <- chunk_frame(spec, d1, spec$xlev_all)
  mt <- attr(mf1, "terms")
  check_chunk_terms(formula, mt, where, list(call$weights, call$offset, call$subset))
  spec$terms <- mt
  attr(mt, ".Environment") <- fenv  # the fit's terms: the caller's, as in memory
  X1 <- stats::model.matrix(mt, mf1, contrasts.arg = contrasts)
  spec$xnames <- colnames(X1)
  y1 <- stats::model.response(mf1)
  if (is.factor(y1) || is.character(y1) || (softmax && is.logical(y1))) {
    spec$classes <- lv[[resp]]
  } else if (softmax) {
    spec$classes <- softmax_fit_targets(y1, NROW(y1), where)$levels
  } else {
    spec$classes <- if (is.logical(y1)) c("FALSE", "TRUE") else c("0", "1")
  }
  if (!softmax && length(spec$classes) != 2L) {
    abort(sprintf("The response must have two classes for logistic_regression(), not %.0f.",
                  length(spec$classes)), where, class = "xentropy_error_data", argument = "formula")
  }
  if (softmax && length(spec$classes) < 2L) one_class(spec$classes, where)
  xlevels <- lv[intersect(names(lv), names(stats::.getXlevels(mt, mf1)))]
  xlevels <- lv[names(lv) %in% names(stats::.getXlevels(mt, mf1)) | names(lv) %in% all.vars(stats::delete.response(mt))]
  xlevels <- xlevels[names(xlevels) != resp]
  xlevels <- xlevels[vapply(names(xlevels), function(v) is.factor(mf1[[v]]) || is.character(mf1[[v]]), logical(1))]
  if (!length(xlevels)) xlevels <- NULL
  # pass 2: R factor and sums
  # pass 2 also writes each chunk's model matrix, targets, weights and
  # offset to a binary file in a directory of this session's temporary
  # directory, which the Newton passes read instead of parsing and building
  # the chunk again. Workers on this machine (multisession) share it; workers
  # elsewhere (a cluster) do not see it and read the source every pass. The
  # directory goes at the end of the fit.
  if (isTRUE(getOption("xentropy.chunk_cache", TRUE))) {
    spec$cache <- tempfile("xentropy-chunks-")
    if (dir.create(spec$cache)) {
      on.exit(unlink(spec$cache, recursive = TRUE), add = TRUE)
    } else {
      spec$cache <- NULL
    }
  }
  st <- chunk_map(src, chunk_stats, spec = spec)
  p_all <- length(spec$xnames)
  Racc <- NULL
  for (s in st) {
    if (is.null(s$R)) next
    Racc <- if (is.null(Racc)) s$R else {
      q <- qr(rbind(Racc, s$R), LAPACK = FALSE, tol = 0)
      qr.R(q)[, order(q$pivot), drop = FALSE]
    }
  }
  al <- logical(p_all)
  basis <- NULL
  if (lambda == 0 && p_all > 0) {
    q <- qr(Racc, tol = min(1e-7, ctl$tol / 1000), LAPACK = FALSE)
    if (q$rank < p_all) al[q$pivot[seq.int(q$rank + 1L, p_all)]] <- TRUE
    # a badly conditioned design is fitted on a better basis, as in memory
    basis <- fit_basis(qr.R(q)[seq_len(q$rank), seq_len(q$rank), drop = FALSE])
    spec$basis <- basis$T
  }
  ones_all <- Reduce(`&`, lapply(st, `[[`, "ones"))
  # with a ridge penalty: the unpenalised columns of ones after the first, as in memory
  if (lambda > 0) al <- ones_all & cumsum(ones_all) > 1L
  keep <- !al
  ones <- ones_all[keep]
  # the triangular factor of the kept columns (square)
  Rkeep <- if (all(keep) || is.null(Racc)) Racc else
    qr.R(qr(Racc[, keep, drop = FALSE], LAPACK = FALSE, tol = 0))
  pen <- as.double(!ones)
  sw <- sum(vapply(st, `[[`, 0, "sw"))
  ty <- Reduce(`+`, lapply(st, `[[`, "ty"))
  # as in memory: a response with one class on the rows of positive weight is an error
  if (!softmax && sw > 0 && (ty <= 0 || ty >= sw)) one_class(spec$classes[1L + (ty > 0)], where)
  sat_sum <- sum(vapply(st, `[[`, 0, "sat"))
  soft <- any(vapply(st, `[[`, FALSE, "soft"))
  nobs <- sum(vapply(st, function(s) as.double(s$nobs), 0))
  # an integer as in memory, unless the rows outnumber R's integers
  if (nobs <= .Machine$integer.max) nobs <- as.integer(nobs)
  has_off <- any(vapply(st, `[[`, FALSE, "has_off"))
  intercept <- attr(mt, "intercept") == 1L  # the formula decides, as in memory
  p <- sum(keep)
  cn_all <- spec$xnames
  cn <- cn_all[keep]
  if (!softmax) {
    start <- double(p)
    if (any(ones)) start[which(ones)[1]] <- stats::qlogis(ty / sw) -
        sum(vapply(st, `[[`, 0, "swo")) / sw
    res <- chunk_newton(src, spec, if (is.null(basis)) start else drop(basis$R %*% start),
                        rep(TRUE, p), pen, lambda, ctl, keep)
    Qb <- NULL
    if (is.null(basis) && lambda > 0 && ill_conditioned(res$hessian)) {
      # a ridge fit on a badly conditioned design: again on a better basis, as in memory
      basis <- square_basis(Rkeep)
      if (!is.null(basis)) {
        spec$basis <- basis$T
        Qb <- crossprod(basis$T, pen * basis$T)
        res <- chunk_newton(src, spec, drop(basis$R %*% res$par), rep(TRUE, p), Qb, lambda,
                            ctl, keep)
      }
    }
    H_basis <- NULL
    if (!is.null(basis)) {
      H_basis <- res$hessian
      dimnames(H_basis) <- list(cn, cn)
      res$par <- drop(basis$T %*% res$par)
      res$gradient <- drop(crossprod(basis$R, res$gradient))
      res$hessian <- crossprod(basis$R, H_basis %*% basis$R)
    }
    sat <- if (soft) sat_sum else 0
    null_dev <- if (!intercept) {
      abort("A chunked fit needs an intercept (the null deviance).", where, class = "xentropy_error_unsupported")
    } else if (!has_off) {
      ybar <- ty / sw
      2 * (-(ty * log(ybar) + (sw - ty) * log1p(-ybar)) - sat)
    } else {
      nr <- chunk_newton(src, spec, stats::qlogis(ty / sw) - sum(vapply(st, `[[`, 0, "swo")) / sw,
                         TRUE, 0, 0, ctl, keep, null = TRUE)
      2 * (nr$loss - sat)
    }
    H <- res$hessian
    dimnames(H) <- list(cn, cn)
    beta <- stats::setNames(rep(NA_real_, p_all), cn_all)
    beta[keep] <- res$par
    rank <- p
    out <- list(
      coefficients = beta, fitted.values = NULL, linear.predictors = NULL,
      loglik = -res$loss + sum(vapply(st, `[[`, 0, "lcoef")),
      deviance = 2 * (res$loss - sat), null.deviance = null_dev,
      objective = res$loss + res$penalty,
      gradient = stats::setNames(res$gradient, cn), hessian = H,
      basis = if (!is.null(basis)) list(T = basis$T, hessian = H_basis),
      iter = res$iter, converged = res$converged, trace = res$trace,
      lambda = lambda, penalised = stats::setNames(pen == 1, cn),
      df = if (!is.null(Qb)) basis_df(H_basis, lambda * Qb) else
        if (lambda > 0) effective_df(H, pen * lambda) else rank, rank = rank,
      aliased = stats::setNames(al, cn_all),
      nobs = nobs, df.residual = nobs - rank, df.null = nobs - as.integer(intercept),
      prior.weights = NULL, y = NULL, offset = NULL, weights = NULL, pen = pen,
      levels = spec$classes, grouped = FALSE, method = "newton", control = ctl,
      call = call, terms = mt, xlevels = xlevels, contrasts = attr(X1, "contrasts"),
      na.action = NULL, xnames = cn_all, model = NULL, data = NULL, x = NULL,
      chunks = src)
    class(out) <- c("xentropy_chunked_fit", "logistic_regression", "xentropy_fit")
    chunked_warnings(out, "logistic_regression", res)
    return(out)
  }
  lev <- spec$classes
  K <- length(lev)
  free <- matrix(TRUE, p, K)
  if (lambda == 0) free[, 1] <- FALSE else free[ones, 1] <- FALSE
  start <- matrix(0, p, K)
  if (any(ones)) {
    pbar <- pmax(ty / sw, 1e-10)
    start[which(ones)[1], ] <- log(pbar) - log(pbar[1])
  }
  if (lambda > 0) refuse_ill_conditioned_ridge(Rkeep, where)
  penm <- matrix(pen, p, K)
  res <- chunk_newton(src, spec, if (is.null(basis)) start else basis$R %*% start, free, penm,
                      lambda, ctl, keep)
  H_basis <- NULL
  if (!is.null(basis)) {  # (lambda = 0: the free entries are classes 2..K)
    H_basis <- res$hessian
    Rk <- kronecker(diag(K - 1L), basis$R)
    res$par <- basis$T %*% res$par
    res$gradient <- drop(crossprod(Rk, res$gradient))
    res$hessian <- crossprod(Rk, H_basis %*% Rk)
  }
  sat <- if (soft || label_smoothing > 0) sat_sum else 0
  null_dev <- if (!intercept) {
    abort("A chunked fit needs an intercept (the null deviance).", where, class = "xentropy_error_unsupported")
  } else if (!has_off) {
    pbar <- ty / sw
    2 * (-sum(ty * ifelse(pbar > 0, log(pbar), 0)) - sat)
  } else {
    pbar <- pmax(ty / sw, 1e-10)
    nr <- chunk_newton(src, spec, matrix(log(pbar) - log(pbar[1]), 1L, K),
                       matrix(c(FALSE, rep(TRUE, K - 1L)), 1L, K), matrix(0, 1L, K), 0, ctl,
                       keep, null = TRUE)
    2 * (nr$loss - sat)
  }
  W <- matrix(res$par, p, K, dimnames = list(cn, lev))
  free_idx <- which(free)
  if (lambda == 0) {
    rep_idx <- free_idx
    A <- diag(length(free_idx))
  } else {
    W[ones, ] <- W[ones, , drop = FALSE] - rowMeans(W[ones, , drop = FALSE])
    rep_idx <- seq_len(p * K)
    A <- matrix(0, p * K, length(free_idx))
    A[cbind(free_idx, seq_along(free_idx))] <- 1
    for (j in which(ones)) {
      rows <- j + p * (seq_len(K) - 1L)
      cols <- match(rows, free_idx)
      for (l in which(!is.na(cols))) A[rows, cols[l]] <- (seq_len(K) == l) - 1 / K
    }
  }
  pnames <- paste(rep(lev, each = p), rep(cn, K), sep = ":")
  H <- res$hessian
  dimnames(H) <- list(pnames[free_idx], pnames[free_idx])
  if (!is.null(H_basis)) dimnames(H_basis) <- dimnames(H)
  coefs <- matrix(NA_real_, K, p_all, dimnames = list(lev, cn_all))
  coefs[, keep] <- t(W)
  if (lambda == 0) coefs <- coefs[-1L, , drop = FALSE]
  grad <- matrix(0, p, K, dimnames = list(cn, lev))
  grad[free_idx] <- res$gradient
  nfree <- as.double(length(free_idx))  # as in memory (sum of a 0/1 matrix)
  df <- if (lambda > 0) effective_df(H, pen[(free_idx - 1L) %% p + 1L] * lambda) else nfree
  out <- list(
    coefficients = coefs, fitted.values = NULL, linear.predictors = NULL,
    loglik = -res$loss, deviance = 2 * (res$loss - sat), null.deviance = null_dev,
    objective = res$loss + res$penalty,
    gradient = grad, free = matrix(free, p, K, dimnames = list(cn, lev)),
    hessian = H, transform = A, param_names = pnames[rep_idx],
    basis = if (!is.null(basis)) list(T = kronecker(diag(K - 1L), basis$T), hessian = H_basis),
    iter = res$iter, converged = res$converged, trace = res$trace,
    lambda = lambda, label_smoothing = label_smoothing,
    penalised = stats::setNames(pen == 1, cn),
    df = df, rank = nfree, aliased = stats::setNames(al, cn_all),
    nobs = nobs, df.residual = nobs * (K - 1) - nfree,
    df.null = nobs * (K - 1) - if (intercept) K - 1L else 0L,
    prior.weights = NULL, targets = NULL, offset = NULL, weights = NULL,
    pen = pen, levels = lev, method = "newton", control = ctl, call = call, terms = mt,
    xlevels = xlevels, contrasts = attr(X1, "contrasts"), na.action = NULL,
    xnames = cn_all, model = NULL, data = NULL, x = NULL, chunks = src, meat = res$meat)
  class(out) <- c("xentropy_chunked_fit", "softmax_regression", "xentropy_fit")
  chunked_warnings(out, "softmax_regression", res)
  out
}

# glm's warnings, as fit_warnings() gives them in memory: from the extreme
# fitted probabilities (rows with positive weight) of the last pass.
chunked_warnings <- function(fit, who, res) {
  if (!fit$converged) {
    warn(sprintf("%s: algorithm did not converge", who), NULL,
         class = "xentropy_warning_convergence")
  }
  eps <- 10 * .Machine$double.eps
  if (res$pmax > 1 - eps || (who == "logistic_regression" && res$pmin < eps)) {
    warn(sprintf("%s: fitted probabilities numerically 0 or 1 occurred", who), NULL,
         class = "xentropy_warning_separation")
  }
}

chunked_unavailable <- function(what) {
  abort(sprintf("%s needs the data in memory; this model was fitted over data_chunks(), so it is not available (coef, vcov, summary, predict(newdata), logLik, AIC and model_metrics() are).",
                what), sys.call(-1), class = "xentropy_error_unsupported")
}

#' @export
residuals.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("residuals()")
#' @export
fitted.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("fitted()")
#' @export
model.frame.xentropy_chunked_fit <- function(formula, ...) chunked_unavailable("model.frame()")
#' @export
model.matrix.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("model.matrix()")
#' @export
weights.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("weights()")
#' @export
anova.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("anova()")
#' @export
drop1.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("drop1()")
#' @export
add1.xentropy_chunked_fit <- function(object, ...) chunked_unavailable("add1()")
#' @export
predict.xentropy_chunked_fit <- function(object, newdata, ...) {
  if (missing(newdata) || is.null(newdata)) {
    chunked_unavailable("predict() without `newdata`")
  }
  NextMethod()
}

# The chunk design cache (see chunked_fit()): written to a temporary name and
# renamed, so a reader sees a whole file or none; any failure to write (a
# full disk) leaves no file, and the passes read the source instead.
cache_file <- function(key, i) file.path(key, sprintf("chunk-%.0f.rds", i))

cache_design <- function(ds, key, i) {
  if (!dir.exists(key)) return(invisible(FALSE))  # another machine
  f <- cache_file(key, i)
  tmp <- paste0(f, ".part")
  ok <- tryCatch({
    saveRDS(structure(ds, class = "xentropy_design"), tmp, compress = FALSE)
    file.rename(tmp, f)
  }, error = function(e) FALSE, warning = function(w) FALSE)
  if (!isTRUE(ok)) unlink(c(tmp, f))
  invisible(ok)
}

cached_design <- function(key, i) {
  f <- cache_file(key, i)
  if (!file.exists(f)) return(NULL)
  tryCatch(readRDS(f), error = function(e) NULL, warning = function(w) NULL)
}
