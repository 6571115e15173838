// xentropy/path_problem.hpp -- what the path solver (path.hpp) takes and gives: the
// problem (data read in place), the solver's controls and the path it returns.
#ifndef XENTROPY_PATH_PROBLEM_HPP
#define XENTROPY_PATH_PROBLEM_HPP

#include <vector>

#include "common.hpp"

namespace xentropy {
namespace path {

struct control {
  double thresh = 1e-7;    // coordinate descent: max_j h_j delta_j^2 <= thresh * null loss
  double kkt_tol = 1e-6;   // accept a lambda when max KKT violation <= kkt_tol * min(lambda, g0)
  int maxit = 100000;      // coordinate-descent passes per lambda
  int max_outer = 200;     // proximal Newton steps per lambda
  double weight_floor = 1e-10;  // IRLS weight floor, relative to w_i (near-separable data)
  bool early_stop = false; // glmnet's rule: stop when dev_ratio >= 0.999 or stalls
  index_t exact_max = 500;  // exact model solves on active sets up to this size
  int nthreads = 1;        // the full-KKT gradient, over features
};

// Inputs (all read in place).
struct problem {
  index_t n = 0, p = 0, K = 1;  // K = 1: binary (logistic)
  const double* y = nullptr;    // n x K column-major targets (binary: n values in [0, 1])
  const double* w = nullptr;    // n non-negative weights or nullptr (all 1)
  const double* offset = nullptr;  // n x K column-major or nullptr
  const double* pf = nullptr;   // p penalty factors (>= 0) or nullptr (all 1)
  bool intercept = true;
  bool standardize = true;
};

struct result {
  // per lambda l: coefficients on the original scale
  std::vector<double> beta;      // p x K x L (feature fastest, then class, then lambda)
  std::vector<double> a0;        // K x L
  std::vector<double> lambda, dev, dev_ratio, kkt, loss, penalty;
  std::vector<int> df, passes, code;
  double null_dev = 0.0;
  double lambda_max = 0.0;
  std::vector<double> centre, scale;  // c_j, s_j
  std::vector<double> pf;             // penalty factors as used (rescaled to sum to p)
  bool separated = false;  // the fit without penalised columns: probabilities 0 or 1
  bool interrupted = false;
};

}  // namespace path
}  // namespace xentropy

#endif  // XENTROPY_PATH_PROBLEM_HPP
