#' Logistic and softmax regression by minimising the cross-entropy
#'
#' Fit a classifier \eqn{p(C_k \mid x) = \mathrm{softmax}_k(W^\top x)} (two
#' classes: \eqn{p(C_1 \mid x) = \sigma(b^\top x)}) by minimising the
#' (weighted) cross-entropy error, optionally with an L2 (ridge) penalty,
#' \deqn{E(W) = -\sum_i w_i \sum_k t_{ik} \log p_{ik} + \frac{\lambda}{2}
#'   \sum_{j \notin \mathrm{intercepts}} \sum_k W_{jk}^2,}
#' which with \eqn{\lambda = 0} and one-hot targets is the negative
#' log-likelihood: the fit is the maximum-likelihood estimate, the same as
#' [glm()] with `family = binomial` gives for two classes and
#' `nnet::multinom()` or `VGAM::vglm(family = multinomial(refLevel = 1))`
#' for K classes (Bishop 2006, sections 4.3.2-4.3.4).
#'
#' `logistic_regression()` uses Newton's method, i.e. iteratively reweighted
#' least squares (PRML eq. 4.99-4.100): the Hessian \eqn{X^\top R X +
#' \lambda I} (eq. 4.97) is factorised by Eigen's Cholesky decomposition and
#' the step is halved until the objective decreases. `softmax_regression()`
#' uses Newton's method with the full Hessian (the \eqn{K \times K} blocks
#' \eqn{X^\top \mathrm{diag}(p_k (\delta_{kl} - p_l)) X} of eq. 4.110) while
#' there are at most `control$newton_max_dim` (200) free parameters, and
#' above that a truncated Newton method (conjugate gradients on exact
#' Hessian-vector products, preconditioned by the Hessian's diagonal), which
#' never forms the Hessian. Both stop when half the Newton decrement
#' \eqn{-g^\top d / 2} falls below `tol * (|E| + 0.1)`, after taking that
#' last step; the gradient at the returned coefficients is in `$gradient`.
#' The model matrix is read where it lies (no copy beyond the one
#' [model.matrix()] makes), and results are identical for any number of
#' [xentropy_threads()].
#'
#' **Parametrisation.** With `lambda = 0` the softmax model uses the first
#' class as reference (its coefficients are fixed at 0, as in
#' `nnet::multinom()`): `coef()` is a \eqn{(K - 1) \times p} matrix. With
#' `lambda > 0` all K classes have coefficients (`coef()` is \eqn{K \times
#' p}, symmetric in the classes): the penalty makes the slopes identifiable,
#' and at the optimum they sum to zero over the classes; the intercepts are
#' not penalised, so they are identified by fixing the first class's during
#' the fit and are then reported centred to sum to zero over the classes
#' (which changes no probability). Columns of the model matrix that are all
#' ones (the intercept) are not penalised; every other column is, on the
#' scale it has (standardise predictors first if their scales differ).
#'
#' **Targets.** Logistic: a two-level factor (the second level is the
#' positive class, as in [glm()]), logical, or numbers in \[0, 1\] (0/1, or
#' soft targets). Softmax: a factor (its levels are the classes; unused levels
#' are dropped), a character vector, or an n x K matrix of target
#' probabilities (rows summing to 1, e.g. a teacher's predictions for
#' distillation), whose column names name the classes. `label_smoothing`
#' \eqn{\epsilon} replaces the targets by \eqn{(1 - \epsilon) t_i +
#' \epsilon / K}: the fit, its log-likelihood and deviance are then those of
#' the smoothed targets, which are not the data, so likelihood-ratio, score
#' and F tests (`anova()`, `drop1()`, `add1()`) are refused, as for
#' `lambda > 0`. For the same reason `vcov()` (and the standard errors of
#' `summary()`, `confint()` and `predict(se.fit = TRUE)`) is then the sandwich
#' \eqn{H^{-1} J H^{-1}}, with \eqn{J = \sum_i g_i g_i'} the outer products
#' of the rows' gradients, not the inverse Hessian; residuals are taken
#' against the smoothed targets.
#'
#' **Separation.** When a hyperplane separates the classes and `lambda = 0`,
#' the maximum-likelihood estimate does not exist (coefficients grow without
#' bound). The iteration then stops (the decrement falls below `tol` as the
#' error approaches 0, or after `maxit` iterations), the coefficients
#' reached are returned (finite, possibly large) and, as [glm()] does, a
#' warning says "fitted probabilities numerically 0 or 1 occurred" (and
#' "algorithm did not converge" when `maxit` was reached). With `lambda > 0`
#' the minimum always exists and is finite.
#'
#' **Missing values.** The formula interface handles `NA` through
#' `na.action` (`na.omit` by default, as [glm()]; with [na.exclude()],
#' `fitted()`, `residuals()` and `predict()` give `NA` for the rows left
#' out); the matrix interface rejects `NA`, `NaN` and infinite values in `x`
#' and `y` with an error.
#'
#' **Aliased columns.** Columns of the model matrix that are linear
#' combinations of earlier ones (e.g. `x2 = 2 * x1`, or a factor's dummy
#' columns and their sum) are found as [glm()] finds them (a rank-revealing QR
#' with limited pivoting, LINPACK's `dqrdc2`, with glm's tolerance
#' \eqn{\min(10^{-7}, \mathrm{tol} / 1000)}), applied to the triangular
#' factor of \eqn{W^{1/2} X} formed block by block, without a copy of the
#' model matrix; their coefficients are `NA`, exactly where glm puts them,
#' the fit runs on the other columns, and `vcov()`, `summary()` and the
#' degrees of freedom count only the estimable ones. With `lambda > 0` every
#' column is estimable and none is aliased.
#'
#' **Grouped binomial data.** A response `cbind(successes, failures)`, or
#' proportions with `weights` = the numbers of trials, is fitted as glm fits
#' it; `logLik()` then includes the binomial coefficients \eqn{\log
#' \binom{m_i}{m_i y_i}}, as glm's does, so `AIC()` and `BIC()` compare with
#' glm's. (They are left out where the data are not counts: soft targets or
#' fractional weights.)
#'
#' @param formula A model formula, `response ~ predictors`, as for [glm()].
#' @param data A data frame (or environment) holding the variables, or a
#'   [data_chunks()] source: the model is then fitted over the chunks (one
#'   pass per Newton step, on the current `future` plan), equal to the
#'   in-memory fit; methods that need the rows in memory (`residuals`,
#'   `fitted`, `anova`, `model.frame`, ...) then stop with an error. Terms
#'   that summarise the data (`poly()`, `scale()`, `mean()`, `sum()`, ...,
#'   anywhere in the formula, `weights`, `offset` or `subset`) would be
#'   computed per chunk and are refused; `factor(v)` gets the levels of the
#'   whole data.
#' @param weights Optional non-negative observation weights (with the
#'   formula interface, evaluated in `data` like [glm()]'s).
#' @param subset Optional vector selecting observations.
#' @param na.action What to do with `NA`s (formula interface); default
#'   `getOption("na.action")`, normally [na.omit()].
#' @param lambda Non-negative L2 penalty \eqn{\lambda} (on the sum, not the
#'   mean, of the errors).
#' @param label_smoothing A number \eqn{\epsilon} in \[0, 1\].
#' @param control A list: `tol` (default `1e-8`), `maxit` (100), `trace`
#'   (`FALSE`; `TRUE` prints the objective per iteration), for
#'   `softmax_regression()` `newton_max_dim` (200: free parameters up to which
#'   the full Hessian is formed); and `hessian` (default `FALSE`; `TRUE`
#'   keeps the Hessian at the optimum in the fit, as it is anyway when
#'   `lambda > 0`; otherwise `vcov()` and `summary()` form it when called, in
#'   one pass over the model matrix, rebuilt from the terms and the data as
#'   glm's methods do, or the matrix given to the matrix interface).
#' @param offset Optional known part of the linear predictor, as [glm()]'s:
#'   one number per observation (logistic), or for `softmax_regression()` an
#'   n x K matrix (one column per class, matched by name when named; a vector
#'   is an error, since added to every class it would change nothing). With the formula interface
#'   it is evaluated in `data`, and `offset()` terms in the formula (several
#'   allowed) are added to it. It is used in the fit, the null deviance (the
#'   intercept-only model fitted with the offset, glm's rule), `predict()` on
#'   new data (evaluated there again) and every method.
#' @param x,y The matrix interface, instead of `formula`: a numeric model
#'   matrix `x` used as it is (add a column of ones for an intercept, as for
#'   [glm.fit()]) and the targets `y`. With a formula, `x = TRUE` keeps the
#'   model matrix in the fit (glm's convention; by default it is not kept,
#'   and methods that need it rebuild it from the terms and the data).
#' @param ... Control settings given as arguments (`maxit = 50`), as
#'   [glm()] passes `...` to [glm.control()]; any other name is an error.
#' @param contrasts Optional list of contrasts for factors in the formula,
#'   as [glm()]'s `contrasts` (see [model.matrix()]'s `contrasts.arg`).
#' @param model `TRUE` (the default, as [glm()]) keeps the model frame in the
#'   fit; `FALSE` drops it ([model.frame()] then rebuilds it from the call and
#'   the data).
#' @return An object of class `"logistic_regression"` or
#'   `"softmax_regression"` (both inheriting from `"xentropy_fit"`), a list
#'   with `coefficients`, `fitted.values` (probabilities: a vector, or an
#'   n x K matrix), `linear.predictors`, `loglik`, `deviance`,
#'   `null.deviance`, `gradient` (of the penalised objective, at the returned
#'   coefficients), `hessian` (of the penalised objective, over the free
#'   parameters, when kept: see `control`), `iter`, `converged`, `trace` (the penalised objective
#'   \eqn{E} at the start and after each Newton iteration), `lambda`, `df`,
#'   `nobs`, `rank`, `aliased`, `df.residual`, `df.null`, `prior.weights`,
#'   `offset`, `levels`, `method`, `call`, `terms`, `model` (when kept), `x`
#'   (matrix interface, or `x = TRUE`). Methods: `print`, `summary`, `coef`,
#'   `vcov`, `confint` (Wald), `logLik`, `deviance`, `nobs`, `fitted`,
#'   `predict`, [residuals()][residuals.xentropy_fit], `formula`, `terms`,
#'   `model.frame`, `model.matrix`, `weights`, `df.residual`, `extractAIC`,
#'   [anova()][anova.xentropy_fit], `drop1`, `add1` (so `AIC()`, `BIC()`,
#'   [step()] and [update()] work as for a glm). With `lambda > 0`, `vcov()` is the inverse of the
#'   penalised Hessian and `logLik()`'s `df` the effective number of
#'   parameters \eqn{\mathrm{tr}(H_0 (H_0 + \lambda P)^{-1})}.
#' @references Bishop, C. M. (2006). *Pattern Recognition and Machine
#'   Learning*, sections 4.3.2-4.3.4. Springer.
#' @family fitting
#' @seealso [predict.xentropy_fit()] for predictions.
#' @importFrom stats coef confint deviance fitted formula logLik nobs predict
#'   terms vcov
#' @export
#' @examples
#' # two classes: the same fit as glm()
#' fit <- logistic_regression(am ~ wt + hp, data = mtcars)
#' fit
#' g <- glm(am ~ wt + hp, data = mtcars, family = binomial)
#' cbind(xentropy = coef(fit), glm = coef(g))
#' c(logLik(fit), logLik(g))
#' summary(fit)
#'
#' # K classes, first class as reference (as nnet::multinom)
#' sfit <- softmax_regression(Species ~ Sepal.Length, data = iris)
#' coef(sfit)
#' if (requireNamespace("nnet", quietly = TRUE))
#'   coef(nnet::multinom(Species ~ Sepal.Length, data = iris, trace = FALSE))
#' head(predict(sfit, type = "prob"))
#' table(predicted = predict(sfit, type = "class"), observed = iris$Species)
#'
#' # complete separation: finite coefficients and glm's warning
#' fit_sep <- logistic_regression(Species == "setosa" ~ Petal.Length, data = iris)
#' coef(fit_sep)
#'
#' # a ridge penalty: all K classes, slopes summing to zero
#' coef(softmax_regression(Species ~ ., data = iris, lambda = 1))
#'
#' # glm's workflow: offsets, aliased columns, analysis of deviance
#' mt <- transform(mtcars, wt2 = 2 * wt, lexp = log(disp / 100))
#' fit_o <- logistic_regression(am ~ wt + wt2 + offset(lexp), data = mt)
#' coef(fit_o)   # wt2 is aliased: NA, as in glm
#' anova(fit_o, test = "Chisq")
#'
#' # grouped binomial data: the log-likelihood is glm's
#' dose <- data.frame(ldose = 0:5, dead = c(1, 4, 9, 13, 18, 20), n = 20)
#' fit_g <- logistic_regression(cbind(dead, n - dead) ~ ldose, data = dose)
#' c(logLik(fit_g), logLik(glm(cbind(dead, n - dead) ~ ldose, data = dose,
#'                            family = binomial)))
#'
#' # the matrix interface, for large data
#' X <- cbind(1, as.matrix(iris[, 1, drop = FALSE]))
#' coef(softmax_regression(x = X, y = iris$Species))
logistic_regression <- function(formula, data, weights, subset, na.action, offset,
                                lambda = 0, control = list(), x = NULL, y = NULL, ...,
                                contrasts = NULL, model = TRUE) {
  call <- match.call()
  where <- sys.call()
  matrix_args <- missing(formula)
  ctl <- fit_control(control, softmax = FALSE, where, list(...))
  if (!matrix_args && !missing(data) && inherits(data, "xentropy_chunks")) {
    lambda <- check_number(lambda, "lambda", "a single non-negative finite number",
                           function(l) is.finite(l) && l >= 0, where)
    return(chunked_fit(call, parent.frame(), data, FALSE, lambda, 0, ctl, contrasts, where))
  }
  if (matrix_args && !missing(data) && inherits(data, "xentropy_chunks")) {
    abort("`data = data_chunks(...)` needs the formula interface (`formula`, not `x` and `y`).",
          where, class = "xentropy_error_argument")
  }
  prep <- fit_inputs(call, parent.frame(), matrix_args, x, y,
                     if (!matrix_args || missing(weights)) NULL else weights,
                     if (!matrix_args || missing(subset)) NULL else subset,
                     if (!matrix_args || missing(offset)) NULL else offset,
                     contrasts, model, where)
  lambda <- check_number(lambda, "lambda", "a single non-negative finite number",
                         function(l) is.finite(l) && l >= 0, where)
  tg <- binary_fit_targets(prep$y, where)
  X <- prep$x
  n <- nrow(X)
  w <- check_weights(prep$weights, n, where)
  if (!is.null(tg$trials)) w <- if (is.null(w)) tg$trials else w * tg$trials
  off <- check_offset(prep$offset, n, NULL, where)
  check_enough_rows(X, w, where)
  wt <- if (is.null(w)) rep(1, n) else w
  ones <- ones_columns_impl(X)
  dq <- design_qr(X, w, ctl$tol, lambda)
  al <- dq$aliased
  Xe <- if (any(al)) X[, !al, drop = FALSE] else X
  pen <- as.double(!ones[!al])
  # start from the intercept-only fit (the null model's estimate)
  start <- double(ncol(Xe))
  if (any(ones[!al])) {
    start[which(ones[!al])[1]] <- stats::qlogis(sum(wt * tg$y) / sum(wt)) -
      if (is.null(off)) 0 else sum(wt * off) / sum(wt)
  }
  basis <- fit_basis(dq$R)
  # the effective df needs the Hessian; so do vcov() and summary() when the fit keeps
  # neither its model frame nor x (rebuilt from the caller's workspace, the data might
  # have changed since)
  keep_h <- lambda > 0 || isTRUE(ctl$hessian) || !is.null(basis) ||
    (is.null(prep$model) && !prep$keep_x)
  Xf <- if (is.null(basis)) Xe else Xe %*% basis$T
  res <- if (ncol(Xf) == 0L) empty_fit(tg$y, wt, off, keep_h) else
    fit_binary_impl(Xf, tg$y, w, off, pen, lambda,
                    if (is.null(basis)) start else drop(basis$R %*% start), ctl$tol,
                    ctl$maxit, keep_h)
  Qb <- NULL
  if (is.null(basis) && lambda > 0 && ill_conditioned(res$hessian)) {
    # a ridge fit on a badly conditioned design: again on the basis Z = X R^-1, where the
    # penalty lambda / 2 beta' diag(pen) beta is lambda / 2 gamma' T' diag(pen) T gamma
    basis <- square_basis(weighted_r_impl(Xe, w))
    if (!is.null(basis)) {
      Xf <- Xe %*% basis$T
      Qb <- crossprod(basis$T, pen * basis$T)
      res <- fit_binary_impl(Xf, tg$y, w, off, Qb, lambda, drop(basis$R %*% res$coefficients),
                             ctl$tol, ctl$maxit, TRUE)
    }
  }
  cn <- colnames(X)
  if (is.null(cn)) cn <- sprintf("x%d", seq_len(ncol(X)))
  cne <- cn[!al]
  beta <- stats::setNames(rep(NA_real_, ncol(X)), cn)
  eta <- drop(Xf %*% res$coefficients)
  H_basis <- NULL
  if (!is.null(basis)) {
    H_basis <- res$hessian
    res$coefficients <- drop(basis$T %*% res$coefficients)
    res$gradient <- drop(crossprod(basis$R, res$gradient))
    res$hessian <- crossprod(basis$R, H_basis %*% basis$R)
    dimnames(H_basis) <- list(cne, cne)
  }
  beta[!al] <- res$coefficients
  if (!is.null(basis)) {
    # the linear predictor, fitted values and loss of the coefficients reported (X beta, as
    # glm.fit), not of Z gamma, which Z's rounding puts slightly outside X's columns
    eta <- drop(Xe %*% res$coefficients)
    res$fitted <- sigmoid(if (is.null(off)) eta else eta + off)
    res$loss <- sigmoid_cross_entropy(tg$y, if (is.null(off)) eta else eta + off,
                                      weights = if (is.null(w)) NULL else w, reduction = "sum")
    res$penalty <- if (is.null(Qb)) 0 else
      0.5 * lambda * sum(pen * res$coefficients^2)
  }
  if (!is.null(off)) eta <- eta + off
  names(eta) <- rownames(X)
  mu <- res$fitted
  names(mu) <- rownames(X)
  H <- res$hessian
  if (!is.null(H)) dimnames(H) <- list(cne, cne)
  # the saturated model's loss (0 for 0/1 targets) and the null model's
  soft <- tg$soft && any(tg$y > 0 & tg$y < 1)
  sat <- if (soft) sum(wt * binary_entropy(tg$y)) else 0
  # glm's rule: the formula says whether there is an intercept (a column of ones in a
  # model without one is a covariate); the matrix interface has only the column
  intercept <- if (is.null(prep$terms)) any(ones) else attr(prep$terms, "intercept") == 1L
  null_dev <- binary_null_deviance(tg$y, w, wt, off, intercept, sat, ctl)
  rank <- sum(!al)
  nobs <- sum(wt > 0)
  out <- list(
    coefficients = beta, fitted.values = mu, linear.predictors = eta,
    loglik = -res$loss + binomial_log_coef(tg$y, wt, tg$trials),
    deviance = 2 * (res$loss - sat), null.deviance = null_dev,
    objective = res$loss + res$penalty,
    gradient = stats::setNames(res$gradient, cne), hessian = H,
    basis = if (!is.null(basis)) list(T = basis$T, hessian = H_basis),
    iter = res$iter, converged = res$code == 0L, trace = res$trace,
    lambda = lambda, penalised = stats::setNames(pen == 1, cne),
    df = if (!is.null(Qb)) basis_df(H_basis, lambda * Qb) else
      if (is.null(H)) rank else effective_df(H, pen * lambda), rank = rank,
    aliased = stats::setNames(al, cn),
    nobs = nobs, df.residual = nobs - rank, df.null = nobs - as.integer(intercept),
    prior.weights = wt, y = tg$y, offset = off, weights = w, pen = pen,
    levels = tg$levels, grouped = !is.null(tg$trials), method = "newton",
    control = ctl, call = call, terms = prep$terms, xlevels = prep$xlevels,
    contrasts = prep$contrasts, na.action = prep$na.action, xnames = cn,
    model = prep$model, data = if (matrix_args || missing(data)) NULL else data,
    x = if (prep$keep_x) X
  )
  class(out) <- c("logistic_regression", "xentropy_fit")
  fit_warnings(out, "logistic_regression", mu)
  fit_trace(out, ctl)
  out
}

#' @rdname logistic_regression
#' @export
softmax_regression <- function(formula, data, weights, subset, na.action, offset,
                               lambda = 0, label_smoothing = 0, control = list(),
                               x = NULL, y = NULL, ..., contrasts = NULL, model = TRUE) {
  call <- match.call()
  where <- sys.call()
  matrix_args <- missing(formula)
  ctl <- fit_control(control, softmax = TRUE, where, list(...))
  if (!matrix_args && !missing(data) && inherits(data, "xentropy_chunks")) {
    lambda <- check_number(lambda, "lambda", "a single non-negative finite number",
                           function(l) is.finite(l) && l >= 0, where)
    label_smoothing <- check_number(label_smoothing, "label_smoothing",
                                    "a single number in [0, 1]",
                                    function(e) e >= 0 && e <= 1, where)
    return(chunked_fit(call, parent.frame(), data, TRUE, lambda, label_smoothing, ctl,
                       contrasts, where))
  }
  if (matrix_args && !missing(data) && inherits(data, "xentropy_chunks")) {
    abort("`data = data_chunks(...)` needs the formula interface (`formula`, not `x` and `y`).",
          where, class = "xentropy_error_argument")
  }
  prep <- fit_inputs(call, parent.frame(), matrix_args, x, y,
                     if (!matrix_args || missing(weights)) NULL else weights,
                     if (!matrix_args || missing(subset)) NULL else subset,
                     if (!matrix_args || missing(offset)) NULL else offset,
                     contrasts, model, where)
  lambda <- check_number(lambda, "lambda", "a single non-negative finite number",
                         function(l) is.finite(l) && l >= 0, where)
  label_smoothing <- check_number(label_smoothing, "label_smoothing",
                                  "a single number in [0, 1]",
                                  function(e) e >= 0 && e <= 1, where)
  X <- prep$x
  if (ncol(X) == 0L) {
    abort("The model matrix has no columns: a softmax model without coefficients is not fitted.",
          where, class = "xentropy_error_shape", argument = "formula")
  }
  n <- nrow(X)
  tg <- softmax_fit_targets(prep$y, n, where)
  Tm <- tg$targets
  K <- ncol(Tm)
  if (label_smoothing > 0) Tm <- (1 - label_smoothing) * Tm + label_smoothing / K
  w <- check_weights(prep$weights, n, where)
  off <- check_offset(prep$offset, n, tg$levels, where)
  check_enough_rows(X, w, where)
  wt <- if (is.null(w)) rep(1, n) else w
  ones_all <- ones_columns_impl(X)
  dq <- design_qr(X, w, ctl$tol, lambda)
  al <- dq$aliased
  Xe <- if (any(al)) X[, !al, drop = FALSE] else X
  p <- ncol(Xe)
  ones <- ones_all[!al]
  pen <- as.double(!ones)
  free <- matrix(1, p, K)
  if (lambda == 0) free[, 1] <- 0 else free[ones, 1] <- 0
  nfree <- sum(free)
  if (lambda > 0) refuse_ill_conditioned_ridge(weighted_r_impl(Xe, w), where)
  basis <- fit_basis(dq$R)  # (lambda = 0 only: every class but the first is free)
  hessian <- lambda > 0 || isTRUE(ctl$hessian) || !is.null(basis) ||
    (is.null(prep$model) && !prep$keep_x)  # as in logistic_regression()
  # start from the intercept-only fit (the null model's estimate): every row
  # then has the same probabilities, and the first Hessian is one Gram matrix
  start <- matrix(0, p, K)
  if (any(ones)) {
    pbar <- pmax(colSums(wt * Tm) / sum(wt), 1e-10)
    start[which(ones)[1], ] <- log(pbar) - log(pbar[1])
  }
  Xf <- if (is.null(basis)) Xe else Xe %*% basis$T
  res <- fit_softmax_impl(Xf, Tm, w, off, free, pen, lambda,
                          if (is.null(basis)) start else basis$R %*% start, ctl$tol,
                          ctl$maxit, as.integer(ctl$newton_max_dim), hessian)
  cn_all <- colnames(X)
  if (is.null(cn_all)) cn_all <- paste0("x", seq_len(ncol(X)))
  cn <- cn_all[!al]
  lev <- tg$levels
  W <- matrix(res$coefficients, p, K, dimnames = list(cn, lev))
  eta <- Xf %*% W
  H_basis <- NULL
  if (!is.null(basis)) {
    H_basis <- res$hessian
    W[] <- basis$T %*% W
    res$gradient <- crossprod(basis$R, matrix(res$gradient, p, K))
    Rk <- kronecker(diag(K - 1L), basis$R)
    res$hessian <- crossprod(Rk, H_basis %*% Rk)
  }
  # the reported parametrisation: reference class dropped (lambda = 0), or
  # all classes with centred intercepts (lambda > 0); A maps the free
  # parameters to it
  free_idx <- which(free == 1)
  if (lambda == 0) {
    rep_idx <- free_idx
    A <- diag(length(free_idx))
  } else {
    # (the intercept columns are all ones: eta moves by the same amount in every
    # class, so the probabilities do not change; eta is reported as X coef)
    shift <- rowMeans(W[ones, , drop = FALSE])
    W[ones, ] <- W[ones, , drop = FALSE] - shift
    eta <- eta - sum(shift)
    rep_idx <- seq_len(p * K)
    A <- matrix(0, p * K, length(free_idx))
    A[cbind(free_idx, seq_along(free_idx))] <- 1
    for (j in which(ones)) {
      rows <- j + p * (seq_len(K) - 1L)
      cols <- match(rows, free_idx)  # NA for the first class (fixed at 0)
      for (l in which(!is.na(cols))) A[rows, cols[l]] <- (seq_len(K) == l) - 1 / K
    }
  }
  pnames <- paste(rep(lev, each = p), rep(cn, K), sep = ":")
  H <- res$hessian
  if (!is.null(H)) dimnames(H) <- list(pnames[free_idx], pnames[free_idx])
  if (!is.null(H_basis)) dimnames(H_basis) <- dimnames(H)
  coefs <- matrix(NA_real_, K, length(cn_all), dimnames = list(lev, cn_all))
  coefs[, !al] <- t(W)
  if (lambda == 0) coefs <- coefs[-1L, , drop = FALSE]
  if (!is.null(basis)) {  # from X W, as in logistic_regression()
    eta <- Xe %*% W
    res$fitted <- softmax(if (is.null(off)) eta else eta + off)
    res$loss <- softmax_cross_entropy(Tm, if (is.null(off)) eta else eta + off,
                                      weights = if (is.null(w)) NULL else w, reduction = "sum")
  }
  if (!is.null(off)) eta <- eta + off
  dimnames(eta) <- list(rownames(X), lev)
  P <- matrix(res$fitted, n, K, dimnames = list(rownames(X), lev))
  sat <- if (tg$soft || label_smoothing > 0) sum(wt * entropy(Tm)) else 0
  intercept <- if (is.null(prep$terms)) any(ones_all) else attr(prep$terms, "intercept") == 1L
  null_dev <- softmax_null_deviance(Tm, w, wt, off, intercept, sat, ctl)
  grad <- matrix(res$gradient, p, K, dimnames = list(cn, lev))
  nobs <- sum(wt > 0)
  df <- if (is.null(H)) nfree else effective_df(H, pen[(free_idx - 1L) %% p + 1L] * lambda)
  out <- list(
    coefficients = coefs, fitted.values = P, linear.predictors = eta,
    loglik = -res$loss, deviance = 2 * (res$loss - sat), null.deviance = null_dev,
    objective = res$loss + res$penalty,
    gradient = grad, free = matrix(free == 1, p, K, dimnames = list(cn, lev)),
    hessian = H, transform = A, param_names = pnames[rep_idx],
    basis = if (!is.null(basis)) list(T = kronecker(diag(K - 1L), basis$T), hessian = H_basis),
    iter = res$iter, converged = res$code == 0L, trace = res$trace,
    lambda = lambda, label_smoothing = label_smoothing,
    penalised = stats::setNames(pen == 1, cn),
    df = df, rank = nfree, aliased = stats::setNames(al, cn_all),
    nobs = nobs, df.residual = nobs * (K - 1) - nfree,
    df.null = nobs * (K - 1) - if (intercept) K - 1L else 0L,
    prior.weights = wt, targets = Tm, offset = off, weights = w,
    pen = pen, levels = lev,
    method = if (res$method == 0L) "newton" else "newton-cg",
    control = ctl, call = call, terms = prep$terms, xlevels = prep$xlevels,
    contrasts = prep$contrasts, na.action = prep$na.action, xnames = cn_all,
    model = prep$model, data = if (matrix_args || missing(data)) NULL else data,
    x = if (prep$keep_x) X
  )
  class(out) <- c("softmax_regression", "xentropy_fit")
  fit_warnings(out, "softmax_regression", P)
  fit_trace(out, ctl)
  out
}

# ---- inputs ---------------------------------------------------------------

# The model matrix, response, weights, offset and what predict() needs, from
# either interface. `call` is the user's matched call (formula interface:
# evaluated with model.frame() in `env`, as glm() does; there `x = TRUE` keeps
# the model matrix in the fit and `model = FALSE` drops the model frame).
fit_inputs <- function(call, env, no_formula, x, y, weights, subset, offset, contrasts,
                       model, where) {
  if (!no_formula) {
    if (!(is.null(x) || isTRUE(x) || isFALSE(x)) || !(is.null(y) || isTRUE(y))) {
      abort(paste("Give either `formula` (and `data`) or `x` and `y`, not both",
                  "(with a formula, `x = TRUE` keeps the model matrix in the fit)."), where, class = "xentropy_error_argument")
    }
    if (!inherits(call$formula, "formula") &&
        !inherits(tryCatch(eval(call$formula, env), error = function(e) NULL), "formula")) {
      abort(sprintf("`formula` must be a model formula such as `y ~ x1 + x2`, not %s.",
                    friendly_type(tryCatch(eval(call$formula, env), error = function(e) NULL))),
            where, class = "xentropy_error_type", argument = "formula")
    }
    model <- check_flag(model, "model", where)
    mf <- call[c(1L, match(c("formula", "data", "subset", "weights", "na.action", "offset"),
                           names(call), 0L))]
    mf$drop.unused.levels <- TRUE
    mf[[1L]] <- quote(stats::model.frame)
    mf <- eval(mf, env)
    mt <- attr(mf, "terms")
    if (attr(mt, "response") == 0L) {
      abort("`formula` must have a response on its left-hand side (`y ~ x`).", where, class = "xentropy_error_argument", argument = "formula")
    }
    yy <- stats::model.response(mf)
    if (!is.null(contrasts) && !is.list(contrasts)) {
      abort(sprintf("`contrasts` must be a named list such as `list(f = \"contr.sum\")`, not %s.",
                    friendly_type(contrasts)), where, argument = "contrasts", class = "xentropy_error_type")
    }
    X <- stats::model.matrix(mt, mf, contrasts.arg = contrasts)
    check_fit_x(X, "the model matrix", where)
    w <- stats::model.weights(mf)
    if (!is.null(w) && !is.numeric(w)) {
      abort(sprintf("`weights` must be a numeric vector, not %s.", friendly_type(w)), where,
            argument = "weights", class = "xentropy_error_type")
    }
    return(list(x = X, y = yy, weights = w, offset = stats::model.offset(mf), terms = mt,
                xlevels = stats::.getXlevels(mt, mf),
                contrasts = attr(X, "contrasts"),
                na.action = attr(mf, "na.action"), model = if (model) mf,
                keep_x = isTRUE(x)))
  }
  if (!is.null(contrasts)) {
    abort("`contrasts` applies to the formula interface; `x` is used as it is.", where,
          argument = "contrasts", class = "xentropy_error_argument")
  }
  if (is.null(x) || is.null(y)) {
    abort("Give `formula` (and `data`), or both `x` (a numeric matrix) and `y`.", where, class = "xentropy_error_argument")
  }
  if (is.data.frame(x) || !is.matrix(x)) {
    abort(sprintf("`x` must be a numeric matrix (a model matrix), not %s.",
                  friendly_type(x)), where, class = "xentropy_error_type", argument = "x")
  }
  x <- check_numeric(x, "x", where)
  ny <- if (is.matrix(y)) nrow(y) else length(y)
  if (ny != nrow(x)) {
    abort(sprintf("`y` has %.0f observations but `x` has %.0f rows.", ny, nrow(x)), where, class = "xentropy_error_length", argument = "y")
  }
  if (!is.null(subset)) {
    idx <- seq_len(nrow(x))[subset]
    if (anyNA(idx)) abort("`subset` selects rows that do not exist.", where, class = "xentropy_error_value", argument = "subset")
    x <- x[idx, , drop = FALSE]
    y <- if (is.matrix(y)) y[idx, , drop = FALSE] else y[idx]
    if (!is.null(weights)) weights <- weights[idx]
    if (!is.null(offset)) {
      offset <- if (is.matrix(offset)) offset[idx, , drop = FALSE] else offset[idx]
    }
  }
  check_fit_x(x, "x", where)
  list(x = x, y = y, weights = weights, offset = offset, terms = NULL, xlevels = NULL,
       contrasts = NULL, na.action = NULL, model = NULL, keep_x = TRUE)
}

# `offset`: NULL, n finite numbers (binary), or for K classes an n x K matrix
# (columns matched to the classes by name when named) or n numbers added to
# every class's logit. Returns NULL, a double vector or a double n x K matrix.
check_offset <- function(offset, n, levels, where) {
  if (is.null(offset)) return(NULL)
  if (!(is.numeric(offset) || is.logical(offset)) || is.object(offset) ||
      (!is.null(dim(offset)) && length(dim(offset)) != 2L)) {
    abort(sprintf("`offset` must be a numeric vector%s, not %s.",
                  if (is.null(levels)) "" else " or an n x K matrix", friendly_type(offset)),
          where, argument = "offset", class = "xentropy_error_type")
  }
  storage.mode(offset) <- "double"
  if (is.null(levels)) {
    if (is.matrix(offset) && ncol(offset) != 1L) {
      abort(sprintf("`offset` for logistic_regression() must be one number per observation, not a matrix with %.0f columns.",
                    ncol(offset)), where, argument = "offset", class = "xentropy_error_shape")
    }
    offset <- as.vector(offset)
    if (length(offset) != n) {
      abort(sprintf("`offset` has length %.0f but there are %.0f observations.",
                    length(offset), n), where, argument = "offset", class = "xentropy_error_length")
    }
  } else {
    K <- length(levels)
    if (is.matrix(offset) && ncol(offset) > 1L) {
      if (nrow(offset) != n || ncol(offset) != K) {
        abort(sprintf("`offset` must be an n x K matrix (%.0f x %.0f) or a vector of length %.0f, not a %.0f x %.0f matrix.",
                      n, K, n, nrow(offset), ncol(offset)), where, argument = "offset", class = "xentropy_error_shape")
      }
      # named columns are matched to the classes; cbind()'s partial names
      # ("", "o2", "") are positional
      if (!is.null(colnames(offset)) && all(nzchar(colnames(offset)))) {
        if (!setequal(colnames(offset), levels)) {
          abort(sprintf("The column names of `offset` (%s) must be the classes (%s).",
                        paste0("\"", colnames(offset), "\"", collapse = ", "),
                        paste0("\"", levels, "\"", collapse = ", ")), where,
                argument = "offset", class = "xentropy_error_value")
        }
        offset <- offset[, levels, drop = FALSE]
      }
    } else {
      # added to every class, a vector would change no probability: a silent no-op
      abort(paste0("`offset` for softmax_regression() must be an n x K matrix (one column per ",
                   "class): a vector added to every class changes no probability. For VGAM's ",
                   "convention (the offset on every class but the first, the reference) give ",
                   "`cbind(0, o, ..., o)`."),
            where, argument = "offset", class = "xentropy_error_shape")
    }
    dimnames(offset) <- list(NULL, levels)
  }
  bad <- first_nonfinite_impl(offset)
  if (bad > 0) {
    abort(sprintf("`offset` must be finite; found %s at position %.0f.",
                  format(offset[[bad]]), bad), where, argument = "offset", class = "xentropy_error_invalid_value")
  }
  if (all(offset == 0)) return(NULL)
  offset
}

# Columns of X that are linear combinations of earlier ones (glm's aliased
# coefficients): R's rank-revealing QR with limited pivoting (LINPACK dqrdc2,
# the one glm.fit uses, with its tolerance min(1e-7, tol / 1000)) applied to
# the p x p triangular factor of diag(sqrt(w)) X, which has the column norms
# and linear dependencies of X (formed block by block in C++, no copy of X).
# With a ridge penalty every penalised column is estimable; the unpenalised ones (the
# columns of ones) are aliased after the first, as glm's.
aliased_columns <- function(X, w, tol, lambda) design_qr(X, w, tol, lambda)$aliased

# The same, with the triangular factor of the estimable columns (in their order; R of
# the QR decomposition of diag(sqrt(w)) X[, !aliased], up to the signs of its rows).
design_qr <- function(X, w, tol, lambda) {
  p <- ncol(X)
  if (p == 0L) return(list(aliased = logical(p), R = NULL))
  if (lambda > 0) {
    ones <- ones_columns_impl(X)
    return(list(aliased = ones & cumsum(ones) > 1L, R = NULL))
  }
  R <- weighted_r_impl(X, w)
  q <- qr(R, tol = min(1e-7, tol / 1000), LAPACK = FALSE)
  out <- logical(p)
  if (q$rank < p) out[q$pivot[seq.int(q$rank + 1L, p)]] <- TRUE
  # dqrdc2 moves only the aliased columns (to the end): the leading block of its R is
  # the factor of the estimable columns in their order
  list(aliased = out, R = qr.R(q)[seq_len(q$rank), seq_len(q$rank), drop = FALSE])
}

# Whether Newton's equations on a penalised Hessian H (in the coefficients' basis) are
# too badly conditioned to be trusted: the condition number of H with unit diagonal
# above 1e8 (rcond's estimate).
ill_conditioned <- function(H) {
  if (is.null(H) || NCOL(H) < 2L) return(FALSE)
  d <- sqrt(diag(H))
  if (!all(is.finite(d) & d > 0)) return(TRUE)
  rc <- rcond(H / outer(d, d))
  !is.finite(rc) || rc < 1e-8
}

# T = R^-1 for a triangular factor R with R'R = X'WX (from a square factor of it: a QR
# without pivoting, LINPACK's with tol = 0), else NULL where R is singular.
square_basis <- function(R) {
  if (is.null(R) || NCOL(R) < 2L) return(NULL)
  if (any(R[lower.tri(R)] != 0)) R <- qr.R(qr(R, LAPACK = FALSE, tol = 0))
  if (any(diag(R) == 0)) return(NULL)
  T <- backsolve(R, diag(ncol(R)))
  if (!all(is.finite(T))) return(NULL)
  list(T = T, R = R)
}

# The effective degrees of freedom tr(H0 (H0 + Q)^-1) = p - tr(Q H^-1) of a ridge fit
# from its penalised Hessian H and penalty matrix Q in any one basis.
basis_df <- function(H, Q) ncol(H) - sum(diag(solve(H, Q)))

# Badly conditioned designs (e.g. raw polynomials of a calendar year): Newton's
# equations X'WX d = -g square the condition number of X, and past about 1e8 their
# solution is noise, so the fit would stop short of the optimum. When the condition
# number of X with its columns scaled to unit norm exceeds 1e4, the fit runs on
# Z = X T with T = R^-1 (Z'WZ = I at the prior weights), as glm's QR of sqrt(W) X
# works on Q; coefficients, gradient, Hessian and covariance are mapped back
# (beta = T gamma, g_beta = R' g_gamma, H_beta = R' H_gamma R, V_beta = T V_gamma T').
fit_basis <- function(R) {
  p <- NCOL(R)
  if (is.null(R) || p < 2L) return(NULL)
  d <- sqrt(colSums(R^2))
  if (!all(is.finite(d) & d > 0)) return(NULL)
  k <- 1 / rcond(R / rep(d, each = p), triangular = TRUE)  # 1-norm estimate (LAPACK dtrcon)
  if (is.finite(k) && k <= 1e4) return(NULL)
  list(T = backsolve(R, diag(p)), R = R)
}

# A softmax ridge fit has no such basis (its penalty and its fixed first-class intercept
# do not carry over to Z): where the design's scaled condition number exceeds 1e6
# (Newton's equations 1e12), it is refused rather than fitted short of the optimum.
refuse_ill_conditioned_ridge <- function(R, where) {
  p <- NCOL(R)
  if (is.null(R) || p < 2L) return(invisible())
  d <- sqrt(colSums(R^2))
  if (!all(is.finite(d) & d > 0)) return(invisible())
  k <- 1 / rcond(qr.R(qr(R / rep(d, each = p))), triangular = TRUE)
  if (!is.finite(k) || k > 1e6) {
    abort(sprintf(paste0("The model matrix is too badly conditioned for a softmax ridge fit ",
                         "(condition number %.2g with unit columns). Centre and scale the ",
                         "predictors (e.g. poly() rather than raw powers), or use lambda = 0, ",
                         "which fits such designs on a better basis."), k),
          where, class = "xentropy_error_data", argument = "x")
  }
  invisible()
}

# glm's null deviance: the intercept-only model's (fitted with the offset),
# or, without an intercept, the deviance at the offset alone.
binary_null_deviance <- function(y, w, wt, off, intercept, sat, ctl) {
  if (!intercept) {
    eta <- if (is.null(off)) double(length(y)) else off
    return(2 * (sigmoid_cross_entropy(y, eta, weights = wt, reduction = "sum") - sat))
  }
  s1 <- sum(wt * y)
  ybar <- s1 / sum(wt)
  if (is.null(off)) {
    s0 <- sum(wt) - s1
    return(2 * (-(s1 * log(ybar) + s0 * log1p(-ybar)) - sat))
  }
  one <- matrix(1, length(y), 1L)
  r <- fit_binary_impl(one, y, w, off, 0, 0, stats::qlogis(ybar) - sum(wt * off) / sum(wt),
                       ctl$tol, ctl$maxit, FALSE)
  2 * (r$loss - sat)
}

softmax_null_deviance <- function(Tm, w, wt, off, intercept, sat, ctl) {
  n <- nrow(Tm)
  K <- ncol(Tm)
  if (!intercept) {
    eta <- if (is.null(off)) matrix(0, n, K) else off
    return(2 * (softmax_cross_entropy(Tm, eta, weights = wt, reduction = "sum") - sat))
  }
  pbar <- colSums(wt * Tm) / sum(wt)
  if (is.null(off)) {
    return(2 * (-sum(wt * (Tm %*% ifelse(pbar > 0, log(pbar), 0))) - sat))
  }
  one <- matrix(1, n, 1L)
  free <- matrix(c(0, rep(1, K - 1L)), 1L, K)
  start <- matrix(log(pmax(pbar, 1e-10)) - log(pmax(pbar[1], 1e-10)), 1L, K)
  r <- fit_softmax_impl(one, Tm, w, off, free, 0, 0, start, ctl$tol, ctl$maxit,
                        as.integer(ctl$newton_max_dim), FALSE)
  2 * (r$loss - sat)
}

# The log binomial coefficients that glm's binomial log-likelihood includes
# (sum_i w_i / m_i log choose(m_i, m_i y_i), m_i the trials: the row totals of
# a cbind() response, else the weights), when the data are counts: m_i and
# m_i y_i whole numbers. Soft targets and fractional weights have none.
binomial_log_coef <- function(y, wt, trials) {
  m <- if (is.null(trials)) wt else trials
  k <- m * y
  eps <- 1e-7 * pmax(1, m)
  if (any(abs(m - round(m)) > eps) || any(abs(k - round(k)) > eps)) return(0)
  r <- ifelse(m > 0, wt / m, 0)
  sum(r * lchoose(round(m), round(k)))
}

# The "fit" of a model without coefficients (y ~ 0: the offset alone), as
# fit_binary_impl() reports one.
empty_fit <- function(y, wt, off, keep_h) {
  eta <- if (is.null(off)) double(length(y)) else off
  loss <- sigmoid_cross_entropy(y, eta, weights = wt, reduction = "sum")
  list(coefficients = double(0), loss = loss, penalty = 0, gradient = double(0),
       hessian = if (keep_h) matrix(0, 0L, 0L), fitted = sigmoid(eta), trace = loss,
       iter = 0L, code = 0L, method = 0L)
}

# Finite predictors, at least one column (one pass in C++, no copy); a formula's model
# matrix may have none (y ~ 0, the empty model step() tries: the offset alone).
check_fit_x <- function(x, arg, where) {
  if (ncol(x) == 0L && arg == "x") abort(sprintf("`%s` has no columns: nothing to fit.", arg), where, class = "xentropy_error_shape", argument = arg)
  bad <- first_nonfinite_impl(x)
  if (bad > 0) {
    i <- (bad - 1) %% nrow(x) + 1
    j <- (bad - 1) %/% nrow(x) + 1
    abort(sprintf(
      "Predictors must be finite; %s has %s at row %.0f, column %s.",
      if (arg == "x") "`x`" else arg, format(x[[bad]]), i,
      if (is.null(colnames(x))) format(j) else paste0("\"", colnames(x)[j], "\"")
    ), where, argument = arg, class = "xentropy_error_invalid_value")
  }
}

check_enough_rows <- function(x, w, where) {
  n <- if (is.null(w)) nrow(x) else sum(w > 0)
  if (n < 1) abort("There are no observations (with positive weight) to fit.", where, class = "xentropy_error_data")
}

# Binary targets as doubles in [0, 1], with the class names.
binary_fit_targets <- function(y, where) {
  lev <- c("0", "1")
  if (is.factor(y)) {
    y <- droplevels(y)
    if (nlevels(y) > 2L) {
      abort(sprintf(
        "The response `y` must have two classes for logistic_regression(), not %.0f (%s); use softmax_regression().",
        nlevels(y), paste0("\"", utils::head(levels(y), 5), "\"", collapse = ", ")), where,
        argument = "y", class = "xentropy_error_data")
    }
    lev <- levels(y)
    if (length(lev) < 2L) one_class(lev, where)
    y <- as.double(unclass(y) == 2L)
    return(list(y = y, levels = lev, soft = FALSE))
  }
  if (is.logical(y)) {
    lev <- c("FALSE", "TRUE")
    storage.mode(y) <- "double"
  }
  if (is.matrix(y) && ncol(y) == 2L && (is.double(y) || is.integer(y)) && !is.object(y)) {
    # grouped binomial data, as glm: cbind(successes, failures); the
    # proportions are fitted with the row totals (the trials) as weights
    if (anyNA(y) || any(y < 0) || any(!is.finite(y))) {
      bad <- which(is.na(y) | y < 0 | !is.finite(y))[1]
      abort(sprintf("The counts in the response `cbind(successes, failures)` must be non-negative and finite; found %s in row %.0f.",
                    format(y[bad]), (bad - 1) %% nrow(y) + 1), where, argument = "y", class = "xentropy_error_invalid_value")
    }
    m <- as.double(y[, 1] + y[, 2])
    p <- ifelse(m == 0, 0, y[, 1] / m)
    if (max(p) == 0 || min(p[m > 0]) == 1) one_class(if (max(p) == 0) lev[1] else lev[2], where)
    return(list(y = p, levels = lev, soft = TRUE, trials = m))
  }
  if (!(is.double(y) || is.integer(y)) || is.matrix(y) || is.object(y)) {
    abort(sprintf(
      "The response `y` must be 0/1, logical, numbers in [0, 1], a two-level factor or cbind(successes, failures), not %s.",
      friendly_type(y)), where, argument = "y", class = "xentropy_error_type")
  }
  y <- as.double(y)
  if (anyNA(y) || (length(y) && (min(y) < 0 || max(y) > 1))) {
    bad <- which(is.na(y) | y < 0 | y > 1)[1]
    abort(sprintf("The response `y` must be in [0, 1]; found %s at position %.0f.",
                  format(y[bad]), bad), where, argument = "y", class = "xentropy_error_invalid_value")
  }
  if (max(y) == 0 || min(y) == 1) one_class(if (max(y) == 0) lev[1] else lev[2], where)
  list(y = y, levels = lev, soft = TRUE)
}

one_class <- function(lev, where) {
  abort(sprintf(
    "The response `y` has only one class (%s): there is nothing to classify.",
    paste0("\"", lev, "\"", collapse = ", ")), where, argument = "y", class = "xentropy_error_data")
}

# Softmax targets: an n x K matrix of probabilities, with the class names.
softmax_fit_targets <- function(y, n, where) {
  if (is.character(y) && is.null(dim(y))) y <- factor(y)
  if (is.factor(y)) {
    y <- droplevels(y)
    if (anyNA(y)) {
      abort(sprintf("The response `y` has NA at position %.0f.", which(is.na(y))[1]),
            where, argument = "y", class = "xentropy_error_missing")
    }
    lev <- levels(y)
    if (length(lev) < 2L) one_class(lev, where)
    Tm <- matrix(0, length(y), length(lev), dimnames = list(NULL, lev))
    Tm[cbind(seq_along(y), unclass(y))] <- 1
    return(list(targets = Tm, levels = lev, soft = FALSE))
  }
  if (is.matrix(y) && (is.double(y) || is.integer(y)) && !is.object(y)) {
    storage.mode(y) <- "double"
    if (ncol(y) < 2L) {
      abort("A target matrix `y` needs one column per class (at least two).", where,
            argument = "y", class = "xentropy_error_shape")
    }
    if (anyNA(y) || any(y < 0 | y > 1)) {
      bad <- which(is.na(y) | y < 0 | y > 1)[1]
      counts <- !anyNA(y) && all(y >= 0 & y == round(y))
      abort(paste0(sprintf("The target matrix `y` must hold probabilities in [0, 1]; found %s at [%.0f, %.0f].",
                           format(y[bad]), (bad - 1) %% nrow(y) + 1, (bad - 1) %/% nrow(y) + 1),
                   if (counts) paste(" For a matrix of counts (as nnet::multinom() takes), give the",
                                     "proportions y / rowSums(y) with `weights = rowSums(y)`: the",
                                     "same fit (leave out rows of total 0: they carry no",
                                     "observation).")),
            where, argument = "y", class = "xentropy_error_invalid_value")
    }
    s <- rowSums(y)
    if (any(abs(s - 1) > 1e-8 * ncol(y))) {
      bad <- which(abs(s - 1) > 1e-8 * ncol(y))[1]
      abort(sprintf("The rows of the target matrix `y` must sum to 1; row %.0f sums to %s.",
                    bad, format(s[bad], digits = 15)), where, argument = "y", class = "xentropy_error_not_distribution")
    }
    lev <- colnames(y)
    if (is.null(lev)) lev <- as.character(seq_len(ncol(y)))
    if (sum(colSums(y) > 0) < 2L) one_class(lev[colSums(y) > 0], where)
    dimnames(y) <- list(NULL, lev)
    return(list(targets = y, levels = lev, soft = TRUE))
  }
  abort(sprintf(
    "The response `y` must be a factor (its levels are the classes), a character vector or an n x K matrix of target probabilities, not %s.",
    friendly_type(y)), where, argument = "y", class = "xentropy_error_type")
}

fit_control <- function(control, softmax, where, dots = list()) {
  if (!is.list(control)) {
    abort(sprintf("`control` must be a list such as `list(tol = 1e-8, maxit = 100)`, not %s.",
                  friendly_type(control)), where, class = "xentropy_error_type", argument = "control")
  }
  # further arguments are control settings, as glm()'s `...` are glm.control()'s
  if (length(dots)) {
    if (is.null(names(dots)) || any(!nzchar(names(dots)))) {
      abort("Arguments after `y` must be named control settings such as `maxit = 50`.", where, class = "xentropy_error_argument")
    }
    known <- c("tol", "maxit", "trace", "hessian", if (softmax) "newton_max_dim")
    odd <- setdiff(names(dots), known)
    if (length(odd)) {
      abort(sprintf("%s %s not %s of %s(); further arguments are control settings (%s).",
                    paste0("`", odd, "`", collapse = ", "),
                    if (length(odd) > 1) "are" else "is",
                    if (length(odd) > 1) "arguments" else "an argument",
                    if (softmax) "softmax_regression" else "logistic_regression",
                    paste0("`", known, "`", collapse = ", ")), where, class = "xentropy_error_argument")
    }
    control[names(dots)] <- dots
  }
  known <- c("tol", "maxit", "trace", "hessian", if (softmax) "newton_max_dim")
  unknown <- setdiff(names(control), known)
  if (length(unknown) || (length(control) && is.null(names(control)))) {
    abort(sprintf("`control` has unknown element%s %s; known: %s.",
                  if (length(unknown) > 1) "s" else "",
                  paste0("`", unknown, "`", collapse = ", "),
                  paste0("`", known, "`", collapse = ", ")), where, class = "xentropy_error_argument", argument = "control")
  }
  ctl <- list(tol = 1e-8, maxit = 100L, trace = FALSE, newton_max_dim = 200L,
              hessian = NULL)
  ctl[names(control)] <- control
  ctl$tol <- check_number(ctl$tol, "control$tol", "a single positive number",
                          function(v) is.finite(v) && v > 0, where)
  ctl$maxit <- as.integer(check_number(ctl$maxit, "control$maxit",
                                       "a single positive whole number",
                                       function(v) is.finite(v) && v >= 1 && v == round(v),
                                       where))
  ctl$trace <- check_flag(as.logical(ctl$trace), "control$trace", where)
  ctl$newton_max_dim <- check_number(ctl$newton_max_dim, "control$newton_max_dim",
                                     "a single non-negative whole number",
                                     function(v) is.finite(v) && v >= 0 && v == round(v),
                                     where)
  if (!is.null(ctl$hessian)) ctl$hessian <- check_flag(ctl$hessian, "control$hessian", where)
  ctl
}

binary_entropy <- function(y) {
  ifelse(y == 0 | y == 1, 0, -(y * log(y) + (1 - y) * log1p(-y)))
}

# tr(H0 (H0 + Lambda)^{-1}) with H = H0 + Lambda: the effective number of
# parameters of a ridge fit (the number of parameters when lambda = 0).
effective_df <- function(H, lam) {
  if (all(lam == 0)) return(nrow(H))
  Hinv <- tryCatch(solve(H), error = function(e) NULL)
  if (is.null(Hinv)) return(nrow(H))
  nrow(H) - sum(lam * diag(Hinv))
}

fit_warnings <- function(fit, who, prob) {
  if (!fit$converged) {
    warn(sprintf("%s: algorithm did not converge", who), NULL,
         class = "xentropy_warning_convergence")
  }
  eps <- 10 * .Machine$double.eps
  p <- prob
  if (min(fit$prior.weights) == 0) {
    pos <- fit$prior.weights > 0
    p <- if (is.matrix(prob)) prob[pos, , drop = FALSE] else prob[pos]
  }
  if (max(p) > 1 - eps || (!is.matrix(p) && min(p) < eps)) {
    warn(sprintf("%s: fitted probabilities numerically 0 or 1 occurred", who), NULL,
         class = "xentropy_warning_separation")
  }
  # a class no row of positive weight has: its probabilities' optimum is 0, at
  # intercepts of -Inf, and the fit stops wherever the gradient falls below tol
  if (is.matrix(prob) && !is.null(fit$targets)) {
    Tm <- fit$targets[fit$prior.weights > 0, , drop = FALSE]
    none <- colSums(Tm) == 0
    if (any(none)) {
      warn(sprintf(paste("%s: no observation of positive weight in class%s %s: its fitted",
                         "probabilities tend to 0 and its intercept to -Inf (not estimable)"),
                   who, if (sum(none) > 1) "es" else "",
                   paste0("\"", colnames(fit$targets)[none], "\"", collapse = ", ")),
           NULL, class = "xentropy_warning_separation")
    }
  }
}

fit_trace <- function(fit, ctl) {
  if (!isTRUE(ctl$trace)) return(invisible())
  tr <- fit$trace
  for (i in seq_along(tr)) {
    cat(sprintf("iter %3d  objective %.12g\n", i - 1L, tr[i]))
  }
}

# ---- methods --------------------------------------------------------------

#' Predictions of a fitted logistic or softmax regression
#'
#' Probabilities \eqn{p(C_k \mid x)}, the most probable class, or the linear
#' predictors (logits) \eqn{o + w_k^\top x} for new data or the data fitted,
#' with standard errors by the delta method if asked, as [predict.glm()].
#'
#' Offsets are part of the linear predictor: those of the formula's
#' `offset()` terms and of the `offset` argument are evaluated in `newdata`
#' (as [predict.glm()] does); a matrix fit's offset must be given again as
#' `offset`. Aliased coefficients (`NA`) count as 0.
#'
#' @param object A fit from [logistic_regression()] or
#'   [softmax_regression()].
#' @param newdata A data frame with the predictors (formula fits) or a
#'   numeric matrix with the columns of `x` (matrix fits). Omitted: the
#'   fitted data (rows dropped by `na.action = na.exclude` come back as
#'   `NA`).
#' @param type `"prob"` (probabilities: a vector for two classes, an n x K
#'   matrix for K), `"response"` (the same, [glm()]'s name), `"class"` (a
#'   factor; probability above 1/2, or the largest, ties to the first class)
#'   or `"link"` (logits: a vector, or an n x K matrix whose reference column
#'   is 0 when `lambda = 0`).
#' @param se.fit `TRUE` for standard errors: a list with `fit`, `se.fit` (of
#'   the logits for `"link"`, of the probabilities for `"prob"`/`"response"`,
#'   from [vcov()] by the delta method) and `residual.scale` (1), as
#'   [predict.glm()].
#' @param offset For a matrix fit with new data, the offset of the new rows
#'   (a vector, or an n x K matrix for softmax); formula fits take it from
#'   `newdata`.
#' @param ... Unused; anything given is an error.
#' @return See `type` and `se.fit`.
#' @family fitting
#' @export
#' @examples
#' fit <- softmax_regression(Species ~ Petal.Length + Petal.Width, data = iris,
#'                           lambda = 0.1)
#' new <- data.frame(Petal.Length = c(1.5, 4.5, 6), Petal.Width = c(0.2, 1.5, 2.2))
#' predict(fit, new)
#' predict(fit, new, type = "class")
#' predict(fit, new, type = "link")
#'
#' # standard errors, as predict.glm(se.fit = TRUE)
#' bfit <- logistic_regression(am ~ wt, data = mtcars)
#' predict(bfit, data.frame(wt = c(2, 3, 4)), type = "response", se.fit = TRUE)
predict.xentropy_fit <- function(object, newdata, type = c("prob", "class", "link", "response"),
                                 se.fit = FALSE, offset = NULL, ...) {
  where <- sys.call()
  types <- c("prob", "class", "link", "response")
  if (is.character(type) && length(type) == 1L && !is.na(type) && nzchar(type) &&
      !is.na(pmatch(type, types))) {
    type <- types[pmatch(type, types)]  # an abbreviation, as predict.glm() takes it
  }
  if (!is.character(type) || !(length(type) == 1L || identical(type, types) ||
                               identical(type, types[1:3])) ||
      !type[1] %in% types) {
    abort(sprintf("`type` must be one of \"prob\", \"class\", \"link\" or \"response\", not %s.",
                  if (is.character(type) && length(type) == 1L) paste0("\"", type, "\"")
                  else friendly_type(type)), where, argument = "type", class = "xentropy_error_value")
  }
  no_dots(list(...), where)
  type <- type[1]
  if (type == "response") type <- "prob"
  se.fit <- check_flag(se.fit, "se.fit", where)
  if (se.fit && type == "class") {
    abort("`se.fit = TRUE` needs `type = \"link\"`, \"prob\" or \"response\": classes have no standard errors.",
          where, argument = "se.fit", class = "xentropy_error_argument")
  }
  softmax <- inherits(object, "softmax_regression")
  fitted_rows <- missing(newdata) || is.null(newdata)
  if (fitted_rows) {
    if (!is.null(offset)) {
      abort("`offset` applies to new data; the fitted rows use the fit's own offset.", where,
            argument = "offset", class = "xentropy_error_argument")
    }
    eta <- object$linear.predictors
    prob <- object$fitted.values
    X <- if (se.fit) model_matrix_est(object) else NULL
  } else {
    nd <- newdata_design(object, newdata, offset, where)
    X <- nd$x
    W <- full_coef(object)[!object$aliased, , drop = FALSE]
    if (softmax) {
      eta <- X %*% W
      if (!is.null(nd$offset)) eta <- eta + nd$offset
      dimnames(eta) <- list(rownames(X), object$levels)
      prob <- softmax(eta)
    } else {
      eta <- drop(X %*% W)
      if (!is.null(nd$offset)) eta <- eta + nd$offset
      names(eta) <- rownames(X)
      prob <- sigmoid(eta)
    }
  }
  out <- switch(type,
    link = eta,
    prob = prob,
    class = {
      cls <- if (softmax) {
        k <- max.col(prob, ties.method = "first")
        k[!stats::complete.cases(prob)] <- NA
        k
      } else {
        ifelse(prob > 0.5, 2L, 1L)
      }
      out <- factor(object$levels[cls], levels = object$levels)
      names(out) <- if (softmax) rownames(prob) else names(prob)
      out
    }
  )
  se <- if (se.fit) prediction_se(object, X, prob, type)
  if (fitted_rows) {
    out <- pad_rows(object$na.action, out)
    if (se.fit) se <- pad_rows(object$na.action, se)
  }
  if (se.fit) return(list(fit = out, se.fit = se, residual.scale = 1))
  out
}

# Rows dropped by na.exclude back as NA (stats::napredict on vectors and
# matrices).
pad_rows <- function(na.action, v) {
  if (is.null(na.action)) return(v)
  if (is.factor(v)) {
    lev <- levels(v)
    r <- stats::napredict(na.action, stats::setNames(as.integer(v), names(v)))
    out <- factor(lev[r], levels = lev)
    names(out) <- names(r)
    return(out)
  }
  stats::napredict(na.action, v)
}

# Standard errors of the logits or probabilities at the rows of X (the
# estimable columns), by the delta method from vcov().
prediction_se <- function(object, X, prob, type) {
  B <- object$basis
  if (is.null(B)) {
    V <- stats::vcov(object, complete = FALSE)
  } else {
    # a fit on the basis Z = X T (fit_basis()): x' V x = z' V_gamma z with z = T' x; in
    # the coefficients' own basis the product cancels to noise
    V <- fit_cov(object, B$hessian, B$T)
    X <- X %*% B$T[seq_len(ncol(X)), seq_len(ncol(X)), drop = FALSE]
  }
  if (!inherits(object, "softmax_regression")) {
    v <- rowSums((X %*% V) * X)
    se <- sqrt(pmax(v, 0))
    names(se) <- rownames(X)
    if (type == "prob") se <- se * prob * (1 - prob)
    return(se)
  }
  # softmax: the reported parameters of class k are the block of columns of V
  # named "k:..."; eta_k = x' b_k (0 for a reference class)
  lev <- object$levels
  K <- length(lev)
  n <- nrow(X)
  # by position, not by name (a class label may contain ":"): the reported classes
  # (all but the reference with lambda = 0) in order, ncol(X) parameters each
  shown <- if (object$lambda == 0) seq_len(K)[-1L] else seq_len(K)
  blocks <- rep(list(integer()), K)
  for (b in seq_along(shown)) blocks[[shown[b]]] <- (b - 1L) * ncol(X) + seq_len(ncol(X))
  stopifnot(ncol(V) == length(shown) * ncol(X))
  Q <- array(0, c(n, K, K))  # Q[i, l, m] = x_i' V_lm x_i
  for (l in seq_len(K)) for (m in seq_len(K)) {
    if (!length(blocks[[l]]) || !length(blocks[[m]]) || m < l) next
    q <- rowSums((X %*% V[blocks[[l]], blocks[[m]], drop = FALSE]) * X)
    Q[, l, m] <- q
    Q[, m, l] <- q
  }
  if (type == "link") {
    se <- sqrt(pmax(vapply(seq_len(K), function(k) Q[, k, k], double(n)), 0))
    se <- matrix(se, n, K, dimnames = list(rownames(X), lev))
    return(se)
  }
  # d p_k / d eta_l = p_k (delta_kl - p_l)
  P <- matrix(prob, n, K)
  se <- matrix(0, n, K, dimnames = list(rownames(X), lev))
  for (k in seq_len(K)) {
    C <- P[, k] * (outer(rep(1, n), seq_len(K) == k) - P)  # n x K
    v <- 0
    for (l in seq_len(K)) for (m in seq_len(K)) v <- v + C[, l] * C[, m] * Q[, l, m]
    se[, k] <- sqrt(pmax(v, 0))
  }
  se
}

no_dots <- function(dots, where) {
  if (length(dots)) {
    nm <- names(dots)
    if (is.null(nm)) nm <- character(length(dots))  # all unnamed (named "" otherwise)
    abort(sprintf("Unknown argument%s %s.", if (length(dots) > 1) "s" else "",
                  paste0("`", ifelse(!nzchar(nm), "...", nm), "`",
                         collapse = ", ")), where, class = "xentropy_error_argument")
  }
}

# p x K (softmax, every class) or p (binary) coefficients as the kernels use
# them, aliased ones (NA) as 0.
full_coef <- function(object) {
  if (inherits(object, "softmax_regression")) {
    W <- t(object$coefficients)
    if (object$lambda == 0) W <- cbind(0, W)
    colnames(W) <- object$levels
    W[is.na(W)] <- 0
    return(W)
  }
  b <- object$coefficients
  b[is.na(b)] <- 0
  as.matrix(b)
}

# The model matrix of new data (estimable columns) and its offset.
newdata_design <- function(object, newdata, offset, where) {
  if (!is.null(object$terms)) {
    if (!is.data.frame(newdata) && !is.list(newdata) && !is.environment(newdata)) {
      abort(sprintf("`newdata` must be a data frame, not %s.", friendly_type(newdata)), where, class = "xentropy_error_type", argument = "newdata")
    }
    if (!is.null(offset)) {
      abort("`offset` is taken from `newdata` for a formula fit (its offset() terms and the fit's `offset` argument).",
            where, argument = "offset", class = "xentropy_error_argument")
    }
    tt <- stats::delete.response(object$terms)
    need <- all.vars(tt)
    off_call <- object$call$offset
    if (!is.null(off_call)) need <- union(need, all.vars(off_call))
    have <- if (is.environment(newdata)) ls(newdata) else names(newdata)
    env <- environment(object$terms)
    miss <- setdiff(need, have)
    miss <- miss[!vapply(miss, exists, logical(1), envir = env)]
    if (length(miss)) {
      abort(sprintf("`newdata` lacks the column%s %s used by the model.",
                    if (length(miss) > 1) "s" else "",
                    paste0("\"", miss, "\"", collapse = ", ")), where,
            argument = "newdata", class = "xentropy_error_shape")
    }
    mf <- stats::model.frame(tt, newdata, na.action = stats::na.pass,
                             xlev = object$xlevels)
    X <- stats::model.matrix(tt, mf, contrasts.arg = object$contrasts)
    off <- stats::model.offset(mf)
    if (!is.null(off_call)) {
      o2 <- eval(off_call, newdata, env)
      off <- if (is.null(off)) o2 else off + o2
    }
    if (!is.null(off)) {
      # an NA offset gives an NA prediction for its row, as an NA predictor does (glm)
      na_off <- if (is.matrix(off)) !stats::complete.cases(off) else is.na(off)
      if (is.matrix(off)) off[na_off, ] <- 0 else off[na_off] <- 0
      off <- newdata_offset(object, off, nrow(X), where)
      if (is.matrix(off)) off[na_off, ] <- NA else off[na_off] <- NA
    }
    return(list(x = X[, !object$aliased, drop = FALSE], offset = off))
  }
  if (is.data.frame(newdata)) newdata <- as.matrix(newdata)
  if (!is.matrix(newdata)) {
    abort(sprintf("`newdata` must be a numeric matrix with the columns of `x`, not %s.",
                  friendly_type(newdata)), where, class = "xentropy_error_type", argument = "newdata")
  }
  newdata <- check_numeric(newdata, "newdata", where)
  cn <- object$xnames
  if (!is.null(colnames(newdata)) && all(cn %in% colnames(newdata))) {
    newdata <- newdata[, cn, drop = FALSE]
  } else if (!is.null(colnames(newdata)) && !all(grepl("^x[0-9]+$", cn))) {
    miss <- setdiff(cn, colnames(newdata))
    abort(sprintf("`newdata` lacks the column%s %s used by the model.",
                  if (length(miss) > 1) "s" else "",
                  paste0("\"", miss, "\"", collapse = ", ")), where, argument = "newdata", class = "xentropy_error_shape")
  }
  if (ncol(newdata) != length(cn)) {
    abort(sprintf("`newdata` has %.0f columns but the model has %.0f.", ncol(newdata),
                  length(cn)), where, argument = "newdata", class = "xentropy_error_shape")
  }
  if (is.null(offset) && !is.null(object$offset)) {
    abort("This fit has an offset: give the new rows' `offset` to predict() (a matrix fit cannot find it in `newdata`).",
          where, argument = "offset", class = "xentropy_error_argument")
  }
  off <- if (!is.null(offset)) newdata_offset(object, offset, nrow(newdata), where)
  list(x = newdata[, !object$aliased, drop = FALSE], offset = off)
}

newdata_offset <- function(object, off, n, where) {
  softmax <- inherits(object, "softmax_regression")
  off <- check_offset_values(off, n, if (softmax) object$levels, where)
  off
}

# check_offset() without dropping an all-zero offset.
check_offset_values <- function(off, n, levels, where) {
  o <- check_offset(off, n, levels, where)
  if (is.null(o)) {
    o <- if (is.null(levels)) double(n) else matrix(0, n, length(levels),
                                                      dimnames = list(NULL, levels))
  }
  o
}

#' @export
coef.xentropy_fit <- function(object, complete = TRUE, ...) {
  cf <- object$coefficients
  if (check_flag(complete, "complete", sys.call())) return(cf)
  # as glm's: without the aliased coefficients (NA)
  if (is.matrix(cf)) cf[, colSums(is.na(cf)) < nrow(cf), drop = FALSE] else cf[!is.na(cf)]
}

#' @export
vcov.xentropy_fit <- function(object, complete = TRUE, dispersion = 1, ...) {
  dispersion <- check_dispersion(dispersion, sys.call())
  H <- fit_hessian(object)
  B <- object$basis  # a badly conditioned design, fitted on a better basis (fit_basis())
  V <- fit_cov(object, if (is.null(B)) H else B$hessian, B$T)
  if (!is.null(B)) V <- B$T %*% V %*% t(B$T)
  if (inherits(object, "softmax_regression")) {
    A <- object$transform
    V <- A %*% V %*% t(A)
    dimnames(V) <- list(object$param_names, object$param_names)
  } else {
    dimnames(V) <- dimnames(H)
  }
  V <- V * dispersion
  if (isTRUE(complete) && any(object$aliased)) {
    nm <- names(coef_vector(object))
    Vc <- matrix(NA_real_, length(nm), length(nm), dimnames = list(nm, nm))
    Vc[rownames(V), colnames(V)] <- V
    V <- Vc
  }
  V
}

# The covariance of the free parameters in the coordinates of the Hessian H given (the
# fit's basis, gamma with beta = T gamma, when T is given): H^-1, or for label smoothing,
# which fits targets other than the data so that H^-1 is not the estimator's
# covariance, the sandwich H^-1 J H^-1 (J the sum of the rows' score outer products,
# formed in the same coordinates: in the raw ones of a badly conditioned design, V J V
# would cancel to noise).
fit_cov <- function(object, H, T = NULL) {
  V <- tryCatch(chol2inv(chol(H)), error = function(e) {
    tryCatch(solve(H), error = function(e) matrix(Inf, nrow(H), ncol(H)))
  })
  if (isTRUE(object$label_smoothing > 0)) V <- V %*% score_crossprod(object, T) %*% V
  V
}

# sum_i g_i g_i' of the rows' gradients of the fitted (free) parameters, in the
# order of the fit's Hessian: softmax, g_i = w_i (p_i - t_i) (x) x_i over the free
# (feature, class) entries, class-major; in the basis T' g_i when T is given. Over
# chunks, summed in the fit's last pass (in its basis, if it has one).
score_crossprod <- function(object, T = NULL) {
  if (inherits(object, "xentropy_chunked_fit")) return(object$meat)
  X <- model_matrix_est(object)
  R <- object$prior.weights * (object$fitted.values - object$targets)
  G <- do.call(cbind, lapply(seq_len(ncol(R)), function(k) X * R[, k]))
  G <- G[, which(object$free), drop = FALSE]
  crossprod(if (is.null(T)) G else G %*% T)
}

# summary.glm()'s `dispersion` (1 for the binomial and multinomial families): the
# covariance is scaled by it, e.g. for a quasi-binomial estimate of overdispersion.
check_dispersion <- function(dispersion, where) {
  if (!is.numeric(dispersion) || length(dispersion) != 1L || !is.finite(dispersion) ||
      dispersion <= 0) {
    abort(sprintf("`dispersion` must be a single positive number, not %s.",
                  given_value(dispersion)), where, class = "xentropy_error_value",
          argument = "dispersion")
  }
  as.double(dispersion)
}

# The penalised Hessian at the optimum over the estimable parameters: kept in
# the fit, or formed now in one pass over the model matrix (rebuilt from the
# terms and the data unless the fit kept it, as glm's methods do).
fit_hessian <- function(object) {
  if (!is.null(object$hessian)) return(object$hessian)
  X <- model_matrix_est(object)
  if (inherits(object, "softmax_regression")) {
    W <- full_coef(object)[!object$aliased, , drop = FALSE]
    H <- softmax_hessian_impl(X, object$targets, object$weights, object$offset,
                              1 * object$free, object$pen, object$lambda,
                              W)
    nm <- object$param_names[if (object$lambda == 0) seq_len(nrow(H)) else
      which(object$free)]
    dimnames(H) <- list(nm, nm)
  } else {
    beta <- object$coefficients[!object$aliased]
    H <- binary_hessian_impl(X, object$y, object$weights, object$offset, object$pen,
                             object$lambda, beta)
    nm <- names(beta)
    dimnames(H) <- list(nm, nm)
  }
  H
}

# The model matrix's estimable columns, as the fit used them.
model_matrix_est <- function(object) {
  X <- stats::model.matrix(object)
  if (any(object$aliased)) X <- X[, !object$aliased, drop = FALSE]
  X
}

# Coefficients as one named vector (NA where aliased), in the order of
# vcov(complete = TRUE).
coef_vector <- function(object) {
  if (inherits(object, "softmax_regression")) {
    cf <- object$coefficients
    return(stats::setNames(as.vector(t(cf)),
                           paste(rep(rownames(cf), each = ncol(cf)),
                                 rep(colnames(cf), nrow(cf)), sep = ":")))
  }
  object$coefficients
}

#' @export
confint.xentropy_fit <- function(object, parm, level = 0.95, ...) {
  cf <- coef_vector(object)
  se <- sqrt(diag(stats::vcov(object, complete = TRUE)))
  names(se) <- names(cf)
  pnames <- names(cf)
  if (missing(parm)) parm <- pnames else if (is.numeric(parm)) parm <- pnames[parm]
  a <- (1 - level) / 2
  pct <- paste(format(100 * c(a, 1 - a), trim = TRUE, scientific = FALSE, digits = 3), "%")
  z <- stats::qnorm(1 - a)
  ci <- cbind(cf[parm] - z * se[parm], cf[parm] + z * se[parm])
  dimnames(ci) <- list(parm, pct)
  ci
}

#' @export
logLik.xentropy_fit <- function(object, ...) {
  structure(object$loglik, df = object$df, nobs = object$nobs, class = "logLik")
}

#' @export
deviance.xentropy_fit <- function(object, ...) object$deviance

#' @export
nobs.xentropy_fit <- function(object, ...) object$nobs

#' @export
fitted.xentropy_fit <- function(object, ...) pad_rows(object$na.action, object$fitted.values)

#' @export
formula.xentropy_fit <- function(x, ...) {
  if (is.null(x$terms)) {
    abort("This model was fitted with the matrix interface (`x`, `y`): it has no formula.",
          sys.call(), class = "xentropy_error_unsupported")
  }
  stats::formula(x$terms)
}

#' @export
terms.xentropy_fit <- function(x, ...) {
  if (is.null(x$terms)) {
    abort("This model was fitted with the matrix interface (`x`, `y`): it has no terms.",
          sys.call(), class = "xentropy_error_unsupported")
  }
  x$terms
}

#' @export
print.xentropy_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  fit_title(inherits(x, "softmax_regression"), x$lambda, x$label_smoothing, digits)
  cat("Call:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n\n", sep = "")
  cat("Coefficients:\n")
  print.default(format(x$coefficients, digits = digits), print.gap = 2L, quote = FALSE)
  alias_note(x)
  cat("\nClasses:", paste(x$levels, collapse = ", "),
      if (inherits(x, "softmax_regression") && x$lambda == 0)
        sprintf("(reference: %s)", x$levels[1]), "\n")
  cat(sprintf("Observations: %.0f   Log-likelihood: %s (df = %s)   AIC: %s\n",
              x$nobs, format(x$loglik, digits = digits + 3L), format(x$df, digits = digits),
              format(-2 * x$loglik + 2 * x$df, digits = digits + 3L)))
  cat(sprintf("Residual deviance: %s   Null deviance: %s\n",
              format(x$deviance, digits = digits + 3L),
              format(x$null.deviance, digits = digits + 3L)))
  cat(sprintf("%s iterations (%s)%s\n", x$iter, x$method,
              if (x$converged) "" else ", NOT converged"))
  invisible(x)
}

#' @export
summary.xentropy_fit <- function(object, dispersion = 1, correlation = FALSE,
                                 symbolic.cor = FALSE, ...) {
  dispersion <- check_dispersion(dispersion, sys.call())
  cf <- coef_vector(object)
  V <- tryCatch(stats::vcov(object, complete = TRUE, dispersion = dispersion),
                error = function(e) NULL)
  se <- if (is.null(V)) rep(NA_real_, length(cf)) else sqrt(pmax(diag(V), 0))
  z <- cf / se
  table <- cbind(Estimate = cf, `Std. Error` = se, `z value` = z,
                 `Pr(>|z|)` = 2 * stats::pnorm(-abs(z)))
  rownames(table) <- names(cf)
  est <- !is.na(cf)
  out <- list(call = object$call, coefficients = table[est, , drop = FALSE],
              aliased = object$aliased, df.residual = object$df.residual,
              df.null = object$df.null, loglik = object$loglik,
              df = object$df, nobs = object$nobs, deviance = object$deviance,
              null.deviance = object$null.deviance,
              aic = -2 * object$loglik + 2 * object$df, iter = object$iter,
              converged = object$converged, lambda = object$lambda,
              label_smoothing = object$label_smoothing,
              levels = object$levels, softmax = inherits(object, "softmax_regression"),
              method = object$method, dispersion = dispersion,
              # glm's components: the unscaled and scaled covariances of the
              # estimable coefficients, the deviance residuals
              cov.unscaled = if (!is.null(V)) V[est, est, drop = FALSE] / dispersion,
              cov.scaled = if (!is.null(V)) V[est, est, drop = FALSE],
              deviance.resid = tryCatch(stats::residuals(object, type = "deviance"),
                                        error = function(e) NULL))
  if (out$softmax) {
    out$standard.errors <- matrix(se, nrow(object$coefficients), byrow = TRUE,
                                  dimnames = dimnames(object$coefficients))
  }
  if (isTRUE(correlation) && !is.null(V)) {  # as summary.glm()
    out$correlation <- stats::cov2cor(V[est, est, drop = FALSE])
    out$symbolic.cor <- isTRUE(symbolic.cor)
  }
  class(out) <- "summary.xentropy_fit"
  out
}

#' @export
print.summary.xentropy_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  fit_title(x$softmax, x$lambda, x$label_smoothing, digits)
  cat("Call:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n\n", sep = "")
  cat("Coefficients", if (x$softmax) " (class:term)", ":\n", sep = "")
  stats::printCoefmat(x$coefficients, digits = digits, na.print = "NA")
  alias_note(x)
  if (isTRUE(x$label_smoothing > 0)) {
    cat("(Sandwich standard errors: label smoothing does not maximise the likelihood.)\n")
  } else if (x$lambda > 0) {
    cat("(Standard errors from the inverse of the penalised Hessian.)\n")
  }
  if (!is.null(x$dispersion) && x$dispersion != 1) {
    cat(sprintf("(Dispersion parameter taken to be %s.)\n", format(x$dispersion, digits = digits)))
  }
  cat(sprintf("\nClasses: %s%s\n", paste(x$levels, collapse = ", "),
              if (x$softmax && x$lambda == 0) sprintf(" (reference: %s)", x$levels[1]) else ""))
  cat(sprintf("    Null deviance: %s on %s degrees of freedom\nResidual deviance: %s on %s degrees of freedom (%.0f observations)\n",
              format(x$null.deviance, digits = digits + 3L), format(x$df.null),
              format(x$deviance, digits = digits + 3L), format(x$df.residual), x$nobs))
  cat(sprintf("Log-likelihood: %s (df = %s)   AIC: %s\n",
              format(x$loglik, digits = digits + 3L), format(x$df, digits = digits),
              format(x$aic, digits = digits + 3L)))
  cat(sprintf("\nNumber of Newton iterations: %s (%s)%s\n", x$iter, x$method,
              if (x$converged) "" else ", NOT converged"))
  correl <- x$correlation
  if (!is.null(correl) && NCOL(correl) > 1L) {  # as print.summary.glm()
    p <- NCOL(correl)
    cat("\nCorrelation of Coefficients:\n")
    if (isTRUE(x$symbolic.cor)) {
      print(stats::symnum(correl, abbr.colnames = NULL))
    } else {
      correl <- format(round(correl, 2L), nsmall = 2L, digits = digits)
      correl[!lower.tri(correl)] <- ""
      print(correl[-1L, -p, drop = FALSE], quote = FALSE)
    }
  }
  invisible(x)
}


# The first line of print() and summary(): the model and what it minimised.
fit_title <- function(softmax, lambda, label_smoothing, digits) {
  what <- c(if (lambda > 0) sprintf("L2 penalty lambda = %s", format(lambda, digits = digits)),
            if (isTRUE(label_smoothing > 0))
              sprintf("label smoothing %s", format(label_smoothing, digits = digits)))
  cat(if (softmax) "Softmax" else "Logistic",
      "regression fitted by minimising the cross-entropy",
      if (length(what)) paste0("(", paste(what, collapse = ", "), ")"), "\n\n")
}

# glm's note on coefficients not estimable from the data (print, summary).
alias_note <- function(x) {
  al <- x$aliased
  if (!any(al)) return(invisible())
  cat(sprintf("(%.0f coefficient%s not defined because of singularities: %s)\n", sum(al),
              if (sum(al) > 1) "s" else "", paste(names(al)[al], collapse = ", ")))
  invisible()
}
