// libFuzzer harness for the regularisation-path solver (inst/include/xentropy/path.hpp).
//
//   sh tools/fuzz/run.sh 60        # builds both harnesses and fuzzes each
//
// Each input is a small problem: n <= 12 rows, p <= 6 columns, K = 1 (logistic)
// or 2-3 classes (softmax), a penalty (ridge, lasso, elastic net, group lasso),
// weights (some zero), an offset, penalty factors (some zero), with or without
// an intercept and standardisation, the matrix dense and, built from the same
// numbers, sparse (zeros dropped). The data are finite (R refuses NA in x), drawn
// from bit patterns, an edge table (+-1e10, 1e-300, 0) and ordinary ranges.
//
// The checks, independent of the solver's own bookkeeping:
//   * no crash, no sanitizer report, every reported number finite;
//   * every lambda the solver reports as converged satisfies the KKT
//     conditions, recomputed here in long double from the returned
//     coefficients on the penalised scale: the intercept gradients are 0 and,
//     for each column, the loss gradient g_j is within lambda pf_j alpha of
//     -lambda pf_j (1 - alpha) b_j (zero coefficient) or equals
//     -lambda pf_j (alpha sign(b_j) + (1 - alpha) b_j), up to the solver's own
//     tolerance (kkt_tol min(lambda, g0), g0 the null model's largest penalised
//     gradient) plus rounding;
//   * the dense and the sparse runs agree: the same lambdas, the same objective (within
//     1e-6 relative) where both are certified, and the sparse run's certificate holds
//     too (their coefficients may differ where the optimum is not unique: the two
//     sum in different orders, and softmax centres dense columns only).
// A failure prints the problem and aborts (libFuzzer saves the input).
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include <xentropy/path.hpp>

namespace {

using ld = long double;
namespace xp = xentropy::path;
using xentropy::index_t;

double draw(FuzzedDataProvider& fd) {
  static const double edge[] = {0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 3.0, -7.5, 1e10, -1e10, 1e5};
  switch (fd.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return edge[fd.ConsumeIntegralInRange<int>(0, 10)];
    case 1: {
      const double v = fd.ConsumeFloatingPoint<double>();
      return std::isfinite(v) ? v : 0.0;
    }
    default: return fd.ConsumeFloatingPointInRange<double>(-4.0, 4.0);
  }
}

// the problem being fuzzed, printed by fail() so that a failure can be replayed in R
struct dump_t {
  const std::vector<double>* X = nullptr;
  const xentropy::path::problem* pb = nullptr;
  const xentropy::path::result* rd = nullptr;
  const xentropy::path::result* rs = nullptr;
  bool grouped = false;
} dump;

void print_vec(const char* name, const double* v, size_t m) {
  std::fprintf(stderr, "%s <- c(", name);
  for (size_t i = 0; i < m; ++i) std::fprintf(stderr, "%s%.17g", i ? ", " : "", v[i]);
  std::fprintf(stderr, ")\n");
}

[[noreturn]] void fail(const char* what, index_t n, index_t p, index_t K, double alpha, int l,
                       double value) {
  std::fprintf(stderr, "path fuzz: %s (n %ld, p %ld, K %ld, alpha %.17g, lambda #%d: %.17g)\n",
               what, static_cast<long>(n), static_cast<long>(p), static_cast<long>(K), alpha, l,
               value);
  if (dump.X && dump.pb) {
    const auto& pb = *dump.pb;
    std::fprintf(stderr, "# the problem, column-major (R):\n");
    print_vec("x", dump.X->data(), dump.X->size());
    print_vec("y", pb.y, static_cast<size_t>(pb.n * pb.K));
    if (pb.w) print_vec("w", pb.w, static_cast<size_t>(pb.n));
    if (pb.offset) print_vec("offset", pb.offset, static_cast<size_t>(pb.n * pb.K));
    if (pb.pf) print_vec("pf", pb.pf, static_cast<size_t>(pb.p));
    std::fprintf(stderr, "intercept <- %d; standardize <- %d; grouped <- %d\n", pb.intercept,
                 pb.standardize, dump.grouped);
    for (const auto* r : {dump.rd, dump.rs}) {
      if (!r) continue;
      std::fprintf(stderr, "# %s run\n", r == dump.rd ? "dense" : "sparse");
      print_vec("lambda", r->lambda.data(), r->lambda.size());
      print_vec("beta", r->beta.data(), r->beta.size());
      print_vec("a0", r->a0.data(), r->a0.size());
      print_vec("loss", r->loss.data(), r->loss.size());
      print_vec("penalty", r->penalty.data(), r->penalty.size());
      print_vec("kkt", r->kkt.data(), r->kkt.size());
    }
  }
  std::abort();
}

// The loss gradient at the returned coefficients, in long double:
// g[k * (p + 1) + j] (j = p: the intercept) = (1 / sum w) sum_i w_i (mu_ik - y_ik) x_ij,
// with x_ij standardised when the solver standardised (the penalty is on that scale).
std::vector<ld> gradient(const std::vector<double>& X, const xp::problem& pb,
                         const xp::result& r, int l, const std::vector<ld>& centre,
                         const std::vector<ld>& scale) {
  const index_t n = pb.n, p = pb.p, K = pb.K;
  std::vector<ld> g(static_cast<size_t>((p + 1) * K), 0.0L);
  ld sw = 0;
  for (index_t i = 0; i < n; ++i) sw += pb.w ? pb.w[i] : 1.0;
  std::vector<ld> eta(static_cast<size_t>(K));
  for (index_t i = 0; i < n; ++i) {
    const ld wi = pb.w ? pb.w[i] : 1.0;
    for (index_t k = 0; k < K; ++k) {
      ld e = r.a0[static_cast<size_t>(l * K + k)] + (pb.offset ? pb.offset[k * n + i] : 0.0);
      for (index_t j = 0; j < p; ++j)
        e += static_cast<ld>(r.beta[static_cast<size_t>((l * K + k) * p + j)]) * X[j * n + i];
      eta[k] = e;
    }
    std::vector<ld> mu(static_cast<size_t>(K));
    if (K == 1) {
      mu[0] = 1.0L / (1.0L + std::exp(-eta[0]));
    } else {
      ld m = eta[0];
      for (index_t k = 1; k < K; ++k) m = std::max(m, eta[k]);
      ld s = 0;
      for (index_t k = 0; k < K; ++k) s += std::exp(eta[k] - m);
      for (index_t k = 0; k < K; ++k) mu[k] = std::exp(eta[k] - m) / s;
    }
    for (index_t k = 0; k < K; ++k) {
      const ld res = wi * (mu[k] - pb.y[k * n + i]) / sw;
      for (index_t j = 0; j < p; ++j)
        if (scale[j] > 0) g[k * (p + 1) + j] += res * (X[j * n + i] - centre[j]) / scale[j];
      g[k * (p + 1) + p] += res;
    }
  }
  return g;
}

// What rounding alone may put into the gradient: the solver holds eta in double, so
// row i's eta carries an error of about eps sum_j |x_ij beta_jk| (large where
// coefficients of unpenalised, repeated or separating columns cancel), and a gradient
// sums those (times at most 1, the derivative of the mean) over the rows.
ld rounding_slack(const std::vector<double>& X, const xp::problem& pb, const xp::result& r,
                  int l, const std::vector<ld>& centre, const std::vector<ld>& scale) {
  const index_t n = pb.n, p = pb.p, K = pb.K;
  ld sw = 0;
  for (index_t i = 0; i < n; ++i) sw += pb.w ? pb.w[i] : 1.0;
  std::vector<ld> e(static_cast<size_t>(n), 0.0L);
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k < K; ++k) {
      ld a = std::fabs(static_cast<ld>(r.a0[static_cast<size_t>(l * K + k)])) +
             (pb.offset ? std::fabs(static_cast<ld>(pb.offset[k * n + i])) : 0.0L);
      for (index_t j = 0; j < p; ++j)
        a += std::fabs(static_cast<ld>(r.beta[static_cast<size_t>((l * K + k) * p + j)]) * X[j * n + i]);
      e[i] = std::max(e[i], 16.0L * std::numeric_limits<double>::epsilon() * a);
    }
  ld worst = 0;
  for (index_t j = 0; j < p; ++j) {
    if (!(scale[j] > 0)) continue;
    ld s = 0;
    for (index_t i = 0; i < n; ++i)
      s += (pb.w ? pb.w[i] : 1.0) * std::fabs(X[j * n + i] - centre[j]) / scale[j] * e[i];
    worst = std::max(worst, s / sw);
  }
  ld s = 0;
  for (index_t i = 0; i < n; ++i) s += (pb.w ? pb.w[i] : 1.0) * e[i];
  return std::max(worst, s / sw);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fd(data, size);
  const index_t n = fd.ConsumeIntegralInRange<int>(2, 12);
  const index_t p = fd.ConsumeIntegralInRange<int>(1, 6);
  const index_t K = fd.ConsumeBool() ? 1 : fd.ConsumeIntegralInRange<int>(2, 3);
  const int pen = fd.ConsumeIntegralInRange<int>(0, 3);   // ridge, lasso, enet, group
  const double alpha = pen == 0 ? 0.0 : pen == 1 ? 1.0
                       : fd.ConsumeFloatingPointInRange<double>(0.05, 0.95);
  const bool grouped = pen == 3 && K > 1;

  std::vector<double> X(static_cast<size_t>(n * p));
  for (double& v : X) v = fd.ConsumeBool() ? 0.0 : draw(fd);   // sparse-ish
  for (double& v : X)
    if (std::fabs(v) > 1e6) v = std::copysign(1e6, v);        // keep the products finite
  std::vector<double> y(static_cast<size_t>(n * K), 0.0);
  for (index_t i = 0; i < n; ++i) {
    if (K == 1) {
      y[i] = fd.ConsumeIntegralInRange<int>(0, 2) * 0.5;       // 0, 1/2, 1
    } else {
      y[fd.ConsumeIntegralInRange<index_t>(0, K - 1) * n + i] = 1.0;
    }
  }
  std::vector<double> w(static_cast<size_t>(n)), off(static_cast<size_t>(n * K)),
      pf(static_cast<size_t>(p));
  const bool use_w = fd.ConsumeBool(), use_off = fd.ConsumeBool(), use_pf = fd.ConsumeBool();
  for (double& v : w) v = fd.ConsumeIntegralInRange<int>(0, 3);
  if (use_w) w[0] = 1.0;                                      // some positive weight
  for (double& v : off) v = fd.ConsumeFloatingPointInRange<double>(-2.0, 2.0);
  for (double& v : pf) v = fd.ConsumeIntegralInRange<int>(0, 2);
  if (use_pf) pf[0] = 1.0;                                    // some penalised column

  // the R interface refuses a class seen on no row of positive weight (no finite fit:
  // its intercept would be infinite), so the solver is not asked for one
  for (index_t k = 0; k < (K == 1 ? 2 : K); ++k) {
    bool seen = false;
    for (index_t i = 0; i < n && !seen; ++i) {
      if (use_w && w[i] <= 0) continue;
      seen = K == 1 ? (k == 0 ? y[i] < 1.0 : y[i] > 0.0) : y[k * n + i] > 0.0;
    }
    if (!seen) return 0;
  }

  xp::problem pb;
  pb.n = n;
  pb.p = p;
  pb.K = K;
  pb.y = y.data();
  pb.w = use_w ? w.data() : nullptr;
  pb.offset = use_off ? off.data() : nullptr;
  pb.pf = use_pf ? pf.data() : nullptr;
  pb.intercept = fd.ConsumeBool() || K > 1 ? true : false;
  pb.standardize = fd.ConsumeBool();
  xp::control ctl;
  ctl.thresh = 1e-12;
  ctl.kkt_tol = 1e-6;
  ctl.maxit = 20000;
  const index_t nlambda = fd.ConsumeIntegralInRange<int>(1, 8);
  const double ratio = fd.ConsumeBool() ? 0.01 : 0.1;

  dump = dump_t{};
  dump.X = &X;
  dump.pb = &pb;
  dump.grouped = grouped;
  xp::DenseMap Xd(X.data(), n, p);
  const xp::result rd = xp::fit_path(Xd, pb, alpha, grouped, {}, nlambda, ratio, ctl);
  dump.rd = &rd;

  std::vector<Eigen::Triplet<double>> trip;
  for (index_t j = 0; j < p; ++j)
    for (index_t i = 0; i < n; ++i)
      if (X[j * n + i] != 0.0) trip.emplace_back(static_cast<int>(i), static_cast<int>(j), X[j * n + i]);
  Eigen::SparseMatrix<double, Eigen::ColMajor, int> S(static_cast<int>(n), static_cast<int>(p));
  S.setFromTriplets(trip.begin(), trip.end());
  S.makeCompressed();
  xp::SparseMap Xs(S.rows(), S.cols(), S.nonZeros(), S.outerIndexPtr(), S.innerIndexPtr(),
                   S.valuePtr());
  const xp::result rs = xp::fit_path(Xs, pb, alpha, grouped, {}, nlambda, ratio, ctl);
  dump.rs = &rs;

  if (rd.lambda.size() != rs.lambda.size()) fail("dense and sparse paths differ in length", n, p, K, alpha, -1, 0);
  if (rd.pf.size() != static_cast<size_t>(p)) fail("penalty factors not reported", n, p, K, alpha, -1, 0);
  std::vector<ld> scale(static_cast<size_t>(p), 1.0L);
  for (index_t j = 0; j < p; ++j)
    if (pb.standardize) scale[j] = rd.scale[j];
  const int L = static_cast<int>(rd.lambda.size());
  // the certificate of a converged lambda of run r, recomputed
  auto certify = [&](const xp::result& r, int l) {
    const double lam = r.lambda[l];
    // the certificate's scale: min(lambda, g0), g0 = lambda_max max(alpha, 1e-3), the
    // null model's largest penalised gradient (lambda itself for the lasso)
    const double g0 = r.lambda_max * std::max(alpha, 1e-3);
    const double S = g0 > 0 ? std::min(lam, g0) : lam;
    // the certificate is on the run's own centred columns (with an intercept; sparse
    // softmax runs do not centre): on other ones a feature's gradient also carries c_j
    // times the intercept's, certified only to kkt_tol min(lambda, 1)
    std::vector<ld> centre(static_cast<size_t>(p), 0.0L);
    for (index_t j = 0; j < p; ++j) centre[j] = pb.intercept ? r.centre[j] : 0.0;
    if (!(r.kkt[l] <= ctl.kkt_tol)) fail("converged with a KKT violation above kkt_tol", n, p, K, alpha, l, r.kkt[l]);
    const std::vector<ld> g = gradient(X, pb, r, l, centre, scale);
    // the intercepts: a mean residual, held to kkt_tol min(S, 1)
    ld worst_int = 0;
    for (index_t k = 0; k < K; ++k) {
      if (pb.intercept) worst_int = std::max(worst_int, std::fabs(g[k * (p + 1) + p]));
    }
    const ld slack = rounding_slack(X, pb, r, l, centre, scale);
    if (worst_int > ctl.kkt_tol * std::min(S, 1.0) * 1.01L + 1e-12L + slack)
      fail("KKT conditions fail for an intercept at a converged lambda", n, p, K, alpha, l,
           static_cast<double>(worst_int));
    ld worst = 0;
    for (index_t j = 0; j < p; ++j) {
      const ld pj = r.pf[j];
      // a column constant over the rows of positive weight never enters the model (as in
      // glmnet) when there is an intercept; without one, a non-zero one is a covariate
      bool constant = true;
      double first = 0.0;
      bool have = false;
      for (index_t i = 0; i < n; ++i) {
        if (pb.w && pb.w[i] <= 0) continue;
        if (!have) first = X[j * n + i], have = true;
        else if (X[j * n + i] != first) constant = false;
      }
      if (!pb.intercept && first != 0.0) constant = false;
      if (!(scale[j] > 0) || constant) {
        for (index_t k = 0; k < K; ++k)
          if (r.beta[static_cast<size_t>((l * K + k) * p + j)] != 0.0)
            fail("a constant column has a non-zero coefficient", n, p, K, alpha, l, lam);
        continue;
      }
      if (grouped) {
        ld gn = 0, bn = 0;
        std::vector<ld> bs(static_cast<size_t>(K));
        for (index_t k = 0; k < K; ++k) {
          bs[k] = static_cast<ld>(r.beta[static_cast<size_t>((l * K + k) * p + j)]) * scale[j];
          bn += bs[k] * bs[k];
        }
        bn = std::sqrt(bn);
        for (index_t k = 0; k < K; ++k) {
          const ld e = g[k * (p + 1) + j] + lam * pj * (1 - alpha) * bs[k] +
                       (bn > 0 ? lam * pj * alpha * bs[k] / bn : 0.0L);
          gn += e * e;
        }
        gn = std::sqrt(gn);
        worst = std::max(worst, bn > 0 ? gn : std::max<ld>(0, gn - lam * pj * alpha));
      } else {
        for (index_t k = 0; k < K; ++k) {
          const ld b = static_cast<ld>(r.beta[static_cast<size_t>((l * K + k) * p + j)]) * scale[j];
          const ld e = g[k * (p + 1) + j] + lam * pj * (1 - alpha) * b;
          const ld v = b != 0 ? std::fabs(e + lam * pj * alpha * (b > 0 ? 1 : -1))
                              : std::max<ld>(0, std::fabs(e) - lam * pj * alpha);
          worst = std::max(worst, v);
        }
      }
    }
    // the solver's tolerance plus rounding of a sum of n terms of size |x| <= 1e6
    const ld allowance = ctl.kkt_tol * S * 1.01L + 1e-12L + slack;
    if (worst > allowance) fail("KKT conditions fail at a converged lambda", n, p, K, alpha, l,
                                static_cast<double>(worst / S));
  };
  bool any_unpenalised = false;
  for (index_t j = 0; j < p; ++j) any_unpenalised = any_unpenalised || rd.pf[j] == 0.0;
  double lambda_rounding = 0.0;
  {
    double sw = 0.0;
    for (index_t i = 0; i < n; ++i) sw += pb.w ? pb.w[i] : 1.0;
    for (index_t j = 0; j < p; ++j) {
      const double sj = pb.standardize ? rd.scale[j] : 1.0;
      if (!(sj > 0)) continue;
      double a = 0.0;
      for (index_t i = 0; i < n; ++i)
        a += (pb.w ? pb.w[i] : 1.0) * (std::fabs(X[j * n + i]) + std::fabs(rd.centre[j]));
      lambda_rounding = std::max(lambda_rounding, a / (sw * sj));
    }
    // (and by residuals known only to the starting fits' tolerance, 1e-12: intercepts or
    // unpenalised columns that separate the data leave residuals near 0 that dense and
    // sparse reach differently; the solver takes a gradient below 1e-10 of this scale
    // as zero)
    lambda_rounding *= (64.0 * n * std::numeric_limits<double>::epsilon() + 2e-10) /
                       std::max(alpha, 1e-3);
  }
  for (int l = 0; l < L; ++l) {
    const double lam = rd.lambda[l];
    if (!(lam > 0) || !std::isfinite(lam)) fail("lambda not positive and finite", n, p, K, alpha, l, lam);
    // the path starts from lambda_max, a largest gradient: dense and sparse sum it in
    // another order (sparse: uncentred, the centring as a scalar), so they may differ
    // by the rounding of sums of |x_ij - c_j| |r_i| (|r_i| <= w_i / sum w)
    // (not compared when unpenalised columns join the starting fit: where they separate
    // the data that fit has no finite optimum, and lambda_max depends on where each run
    // stops it; every lambda is still certified below)
    if (!any_unpenalised && std::fabs(rd.lambda[l] - rs.lambda[l]) > 1e-12 * lam + lambda_rounding)
      fail("dense and sparse lambdas differ", n, p, K, alpha, l, rd.lambda[l] - rs.lambda[l]);
    for (size_t q = l * K * p; q < static_cast<size_t>((l + 1) * K * p); ++q) {
      if (!std::isfinite(rd.beta[q]) || !std::isfinite(rs.beta[q]))
        fail("coefficient not finite", n, p, K, alpha, l, rd.beta[q]);
    }
    // reported, not certified: no claim to check
    if (rd.code[l] == xentropy::converged) certify(rd, l);
    if (rs.code[l] == xentropy::converged) certify(rs, l);
    // Dense and sparse runs solve the same problem by different arithmetic (sums in
    // another order; softmax centres dense columns only), so where the optimum is not
    // unique (repeated columns) their coefficients may differ: both are certified above,
    // and their objectives agree (two certified points of a convex function).
    // (Not where unpenalised columns take part: where they separate the classes, as in
    // the starting fit above, the objective has no minimum, only an infimum approached
    // as their coefficients grow, and two runs stop, each certified, at points where
    // the gradient is below tolerance but the objectives differ.)
    if (!any_unpenalised && rd.code[l] == xentropy::converged &&
        rs.code[l] == xentropy::converged &&
        std::fabs(rd.lambda[l] - rs.lambda[l]) <= 1e-12 * rd.lambda[l]) {
      const double fd = rd.loss[l] + rd.penalty[l], fs = rs.loss[l] + rs.penalty[l];
      if (std::fabs(fd - fs) > 1e-6 * (1.0 + std::fabs(fd)))
        fail("dense and sparse objectives differ", n, p, K, alpha, l, fd - fs);
    }
  }
  return 0;
}
