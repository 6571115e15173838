# Shared fixtures: a small classification problem with known answers.

fixture_logits <- function(n = 40, K = 4, seed = 11) {
  set.seed(seed)
  Z <- matrix(rnorm(n * K, sd = 2), n, K)
  y <- sample.int(K, n, replace = TRUE)
  list(Z = Z, y = y, P = exp(Z) / rowSums(exp(Z)), onehot = diag(K)[y, , drop = FALSE],
       n = n, K = K)
}

# Central finite differences of a scalar function f at x (any shape).
numeric_grad <- function(f, x, h = 1e-6) {
  g <- x
  for (i in seq_along(x)) {
    up <- x
    dn <- x
    up[i] <- x[i] + h
    dn[i] <- x[i] - h
    g[i] <- (f(up) - f(dn)) / (2 * h)
  }
  g
}
