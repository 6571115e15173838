# Regression diagnostics of a fitted logistic regression, as glm's: hat values,
# standardised and studentised residuals, Cook's distances, the leave-one-out
# changes of the coefficients. They are computed by stats' own lm.influence() from
# the QR of the weighted model matrix sqrt(W) X (W the working weights), as for a
# binomial glm (dispersion 1), so the numbers are glm's to rounding.

#' Regression diagnostics of a fitted logistic regression
#'
#' The case diagnostics R gives for a binomial [glm()], computed as glm's are
#' (by [stats::lm.influence()] from the QR decomposition of \eqn{W^{1/2} X}, with
#' \eqn{W} the working weights \eqn{w_i \mu_i (1 - \mu_i)} at the fit):
#' - `hatvalues()`: the diagonal \eqn{h_i} of the hat matrix
#'   \eqn{W^{1/2} X (X' W X)^{-1} X' W^{1/2}}; they sum to the rank.
#' - `rstandard()`: deviance (or Pearson) residuals divided by
#'   \eqn{\sqrt{1 - h_i}}.
#' - `rstudent()`: the approximate leave-one-out deletion residuals
#'   \eqn{\mathrm{sign}(d_i) \sqrt{d_i^2 + h_i r_i^2 / (1 - h_i)}} (\eqn{d_i}
#'   deviance, \eqn{r_i} Pearson residuals), as [rstudent.glm()] gives for
#'   the binomial family.
#' - `cooks.distance()`: \eqn{(r_i / (1 - h_i))^2 h_i / (\phi p)} with
#'   \eqn{p} the rank and \eqn{\phi} the dispersion (1).
#' - `dfbeta()`: the one-step approximations to the change of each coefficient
#'   when an observation is left out.
#' - `influence()`: all of these as [influence.glm()]'s list (`hat`,
#'   `coefficients`, `sigma`, `dev.res`, `pear.res`).
#'
#' As glm's, the diagnostics leave out the rows of zero prior weight (the
#' result is named by row), and rows dropped by `na.action = na.exclude` come
#' back as `NA` (hat value 0). The diagnostics are
#' those of a maximum-likelihood fit: a penalised fit (`lambda > 0`), one with
#' smoothed labels, a softmax regression (K - 1 linear predictors, no single
#' hat matrix) and a fit over chunks (its rows are not in memory) are errors.
#'
#' @param model A fit from [logistic_regression()].
#' @param infl The result of `influence(model, do.coef = FALSE)`, to reuse.
#' @param do.coef Whether `influence()` also computes the coefficient changes.
#' @param type The residuals `rstandard()` standardises: `"deviance"` or
#'   `"pearson"`.
#' @param res,hat Pearson residuals and hat values for `cooks.distance()`.
#' @param dispersion The dispersion for `cooks.distance()`: 1 for the binomial.
#' @param ... Unused; anything given is an error.
#' @return A vector with one value per observation; `dfbeta()` a matrix with
#'   one column per estimable coefficient; `influence()` a list.
#' @family fitting
#' @name influence.xentropy_fit
#' @examples
#' fit <- logistic_regression(am ~ wt + hp, data = mtcars)
#' g <- glm(am ~ wt + hp, data = mtcars, family = binomial)
#' all.equal(hatvalues(fit), hatvalues(g), tolerance = 1e-7)
#' sum(hatvalues(fit))          # the rank, 3
#' # the most influential cars
#' head(sort(cooks.distance(fit), decreasing = TRUE), 3)
#' all.equal(rstudent(fit), rstudent(g), tolerance = 1e-7)
NULL

#' @rdname influence.xentropy_fit
#' @importFrom stats influence hatvalues rstandard rstudent cooks.distance dfbeta
#' @export
influence.xentropy_fit <- function(model, do.coef = TRUE, ...) {
  where <- sys.call()
  no_dots(list(...), where)
  do.coef <- check_flag(do.coef, "do.coef", where)
  m <- influence_model(model, where)
  res <- stats::lm.influence(m, do.coef = do.coef)
  T <- model$basis$T
  if (do.coef && !is.null(T)) {
    # changes of the basis coefficients gamma (beta = T gamma), mapped back
    dn <- dimnames(res$coefficients)
    res$coefficients <- res$coefficients %*% t(T)
    dimnames(res$coefficients) <- dn
  }
  # as influence.glm(): the Pearson residuals of the rows of non-zero weight (the fit's
  # rows picked by position, not by dropping NaN)
  pr <- stats::residuals(model, type = "pearson")
  if (inherits(model$na.action, "exclude")) pr <- pr[-as.integer(model$na.action)]
  pr <- stats::naresid(model$na.action, pr[model$prior.weights != 0])
  names(res)[names(res) == "wt.res"] <- "dev.res"
  c(res, list(pear.res = pr))
}

# The fit with what lm.influence() reads besides the fit's own methods (weights(),
# residuals(type = "deviance"), deviance(), df.residual(), coef()): the QR of
# sqrt(W) X over the rows of non-zero prior weight (glm's `qr`), in the fit's
# estimable columns.
influence_model <- function(model, where) {
  if (inherits(model, "xentropy_chunked_fit")) {
    abort(paste("Case diagnostics need the fit's rows in memory; this model was fitted",
                "over chunks. Refit the rows of interest with logistic_regression()."),
          where, argument = "model", class = "xentropy_error_unsupported")
  }
  if (inherits(model, "softmax_regression")) {
    abort(paste("Case diagnostics (hat values, Cook's distances) are defined here for one",
                "linear predictor; a softmax regression has K - 1."),
          where, argument = "model", class = "xentropy_error_unsupported")
  }
  if (!ml_fit(model)) {
    abort(sprintf(paste("Case diagnostics are those of a maximum-likelihood fit",
                        "(`lambda = 0`, `label_smoothing = 0`); this fit %s."),
                  not_ml_why(model)), where, argument = "model",
          class = "xentropy_error_unsupported")
  }
  keep <- model$prior.weights != 0
  mu <- model$fitted.values[keep]
  X <- model_matrix_est(model)[keep, , drop = FALSE]
  # a badly conditioned design: the basis the fit ran on (the same column space, so
  # the same hat values; the coefficients' changes are mapped back above)
  if (!is.null(model$basis)) X <- X %*% model$basis$T
  model$qr <- qr(X * sqrt(model$prior.weights[keep] * mu * (1 - mu)),
                 tol = min(1e-7, model$control$tol / 1000))  # glm.fit's tolerance
  model
}

#' @rdname influence.xentropy_fit
#' @export
hatvalues.xentropy_fit <- function(model, ...) {
  no_dots(list(...), sys.call())
  influence(model, do.coef = FALSE)$hat
}

#' @rdname influence.xentropy_fit
#' @export
rstandard.xentropy_fit <- function(model, infl = influence(model, do.coef = FALSE),
                                   type = c("deviance", "pearson"), ...) {
  where <- sys.call()
  type <- match_choice(type, c("deviance", "pearson"), "type", where)
  no_dots(list(...), where)
  r <- if (type == "pearson") infl$pear.res else infl$dev.res
  r <- r / sqrt(1 - infl$hat)
  r[is.infinite(r)] <- NaN
  r
}

#' @rdname influence.xentropy_fit
#' @export
rstudent.xentropy_fit <- function(model, infl = influence(model, do.coef = FALSE), ...) {
  no_dots(list(...), sys.call())
  d <- infl$dev.res
  r <- sign(d) * sqrt(d^2 + infl$hat * infl$pear.res^2 / (1 - infl$hat))
  r[is.infinite(r)] <- NaN
  r
}

#' @rdname influence.xentropy_fit
#' @export
cooks.distance.xentropy_fit <- function(model, infl = influence(model, do.coef = FALSE),
                                        res = infl$pear.res, dispersion = 1,
                                        hat = infl$hat, ...) {
  where <- sys.call()
  no_dots(list(...), where)
  dispersion <- check_dispersion(dispersion, where)
  d <- (res / (1 - hat))^2 * hat / (dispersion * model$rank)
  d[is.infinite(d)] <- NaN
  d
}

#' @rdname influence.xentropy_fit
#' @export
dfbeta.xentropy_fit <- function(model, infl = influence(model, do.coef = TRUE), ...) {
  no_dots(list(...), sys.call())
  b <- infl$coefficients
  dimnames(b) <- list(names(infl$hat), variable.names(model))
  b
}
