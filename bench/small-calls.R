# Small-call timings of the exported functions against base R idioms (issue 11),
# one bench::mark per call (20000 iterations): median time in microseconds and
# bytes allocated. Run: R_LIBS=<lib with xentropy> Rscript bench/small-calls.R
# (ONLY=<regex> restricts the rows). bench/run.R has the full table.
suppressMessages({library(xentropy); library(bench); library(matrixStats)})
set.seed(1); Z <- matrix(rnorm(30),10,3); P <- exp(Z)/rowSums(exp(Z)); y <- sample(3,10,TRUE)
p <- c(.5,.5); q <- c(.3,.7); yl <- factor(y); y1 <- 1; pr <- .3; cnt <- c(3,1,6)
tm <- function(e) { m <- bench::mark(exprs = list(e), iterations = 20000, check = FALSE, filter_gc=FALSE, env = globalenv()); c(as.numeric(m$median)*1e6, as.numeric(m$mem_alloc)) }
ex <- list(
 entropy = quote(entropy(p)), entropy_idiom = quote(-sum(p*log(p))),
 cross_entropy = quote(cross_entropy(p,q)), kl = quote(kl_divergence(p,q)), kl_idiom=quote(sum(p*log(p/q))),
 entropyP = quote(entropy(P)), entropyP_idiom = quote(-rowSums(P*log(P))),
 lse = quote(logsumexp(Z)), lse_idiom = quote(rowLogSumExps(Z)),
 softmax = quote(softmax(Z)), softmax_idiom = quote(exp(Z - rowLogSumExps(Z))),
 log_softmax = quote(log_softmax(Z)), 
 sce = quote(softmax_cross_entropy(y,Z)), sce_idiom = quote(mean(rowLogSumExps(Z) - Z[cbind(1:10, y)])),
 cel = quote(cross_entropy_loss(y,P)), cel_idiom = quote(-mean(log(P[cbind(1:10,y)]))),
 bce = quote(binary_cross_entropy(1,.3)), bce_idiom = quote(-mean(1*log(.3)+0*log1p(-.3))),
 sigce = quote(sigmoid_cross_entropy(1,.3)),
 sce_grad = quote(softmax_cross_entropy_grad(y,Z)),
 lb = quote(loglik_bernoulli(1,.3)), lb_idiom = quote(sum(dbinom(1,1,.3,log=TRUE))),
 lc = quote(loglik_categorical(y,P)), lm = quote(loglik_multinomial(cnt, c(.2,.3,.5))), lm_idiom = quote(dmultinom(cnt, prob=c(.2,.3,.5), log=TRUE)),
 mle = quote(mle_categorical(y)), mle_idiom = quote(tabulate(y, 3)/10),
 lde = quote(logdiffexp(1, 0.5)), lde_idiom = quote(1 + log1p(-exp(-0.5)))
)
only <- Sys.getenv("ONLY"); if (nzchar(only)) ex <- ex[grepl(only, names(ex))]
res <- t(sapply(ex, tm)); colnames(res) <- c("us","bytes"); print(round(res,2))
