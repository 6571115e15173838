// xentropy/reduce.hpp -- deterministic, parallel sums over a margin.
//
// Information measures, likelihoods and losses all sum a term over the classes
// of each observation, and losses then sum over observations. These engines do
// both in one pass over the data, without allocating anything of the data's
// size:
// * sum_over_margin(): one sum per row (margin 1, the classes are the columns
//   of a column-major matrix) or per column (margin 2). Rows are swept in
//   blocks so the data is read from memory once; long columns are summed in
//   fixed chunks added in chunk order.
// * sum_blocks(): a total over observations, from per-block partial results
//   added in block order.
// Block sizes never depend on the thread count, so neither do the results.
//
// Terms receive the values and an accumulator; they add to acc.sum, or mark a
// missing value (NA, NaN) or an invalid one (acc.bad = linear index of the
// first offending element), so that the R side can report it.
#ifndef XENTROPY_REDUCE_HPP
#define XENTROPY_REDUCE_HPP

#include <algorithm>
#include <vector>

#include "common.hpp"

namespace xentropy {

// Accumulated sum with missing-value flags and the first invalid element.
struct accumulator {
  double sum = 0.0;
  double weight = 0.0;  // total weight of what was summed, where needed
  bool na = false;
  bool nan = false;
  index_t bad = -1;

  void missing(double v) {
    if (is_na(v)) na = true; else nan = true;
  }
  void invalid(index_t at) {
    if (bad < 0 || at < bad) bad = at;
  }
  // Combines a later part into this one (sums in order, flags, first bad).
  void merge(const accumulator& o) {
    sum += o.sum;
    weight += o.weight;
    na = na || o.na;
    nan = nan || o.nan;
    if (o.bad >= 0) invalid(o.bad);
  }
  // The value of the sum as R sees it: NA if an NA was seen, NaN if a NaN.
  double value(bool na_rm = false) const {
    if (!na_rm && na) return na_real();
    if (!na_rm && nan) return nan_real();
    return sum;
  }
};

// Strided view of a (possibly broadcast) operand: element (obs, k) is at
// data[obs * so + k * sk]. A matrix with one observation per row has
// so = 1, sk = nrow; per column, so = nrow, sk = 1; a vector shared by every
// observation has so = 0.
struct view {
  const double* data;
  index_t so, sk;
  double operator()(index_t obs, index_t k) const { return data[obs * so + k * sk]; }
  index_t at(index_t obs, index_t k) const { return obs * so + k * sk; }
};

namespace detail {
constexpr index_t obs_block = 256;    // observations swept together
constexpr index_t class_chunk = 4096; // classes per chunk of one observation
}  // namespace detail

// For each of nobs observations with nclass classes, acc = sum over k of
// term(obs, k, acc); then finish(obs, acc). `contiguous` says the classes of
// one observation are adjacent in memory (margin 2, or a vector): then each
// observation is summed in fixed chunks; otherwise observations are swept in
// blocks, class by class. finish() runs on worker threads: it may only write
// to its own observation's slot.
template <class Term, class Finish>
inline void sum_over_margin(index_t nobs, index_t nclass, bool contiguous,
                            int nthreads, Term term, Finish finish) {
  const int nt = threads_for(nthreads, nobs * nclass);
  if (!contiguous) {
    parallel_chunks(nobs, detail::obs_block, nt, [&](index_t o0, index_t o1) {
      accumulator acc[detail::obs_block];
      const index_t nb = o1 - o0;
      for (index_t k = 0; k < nclass; ++k)
        for (index_t i = 0; i < nb; ++i) term(o0 + i, k, acc[i]);
      for (index_t i = 0; i < nb; ++i) finish(o0 + i, acc[i]);
    });
    return;
  }
  auto one = [&](index_t obs, int threads) {
    const index_t nchunks = nclass == 0 ? 0 : (nclass - 1) / detail::class_chunk + 1;
    accumulator total;
    if (nchunks <= 1) {
      for (index_t k = 0; k < nclass; ++k) term(obs, k, total);
    } else {
      std::vector<accumulator> part(static_cast<std::size_t>(nchunks));
      parallel_chunks(nclass, detail::class_chunk, threads_for(threads, nclass),
                      [&](index_t k0, index_t k1) {
        accumulator& a = part[static_cast<std::size_t>(k0 / detail::class_chunk)];
        for (index_t k = k0; k < k1; ++k) term(obs, k, a);
      });
      for (const accumulator& a : part) total.merge(a);
    }
    finish(obs, total);
  };
  if (nclass <= detail::class_chunk && nt <= 1) {
    // no parallel region for one thread (see parallel_chunks)
    for (index_t o = 0; o < nobs; ++o) one(o, 1);
  } else if (nclass <= detail::class_chunk) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (index_t o = 0; o < nobs; ++o) one(o, 1);
  } else {
    for (index_t o = 0; o < nobs; ++o) one(o, nthreads);
  }
}

// Total over n items in fixed blocks of `block` items: block_fn(b0, b1, acc)
// fills one accumulator per block; blocks are combined in order. `work` is
// the number of elements read (for the decision to use threads).
template <class BlockFn>
inline accumulator sum_blocks(index_t n, index_t block, index_t work,
                              int nthreads, BlockFn block_fn) {
  const index_t nblocks = n == 0 ? 0 : (n - 1) / block + 1;
  accumulator total;
  if (nblocks == 1) {
    block_fn(0, n, total);
    return total;
  }
  std::vector<accumulator> part(static_cast<std::size_t>(nblocks));
  parallel_chunks(n, block, threads_for(nthreads, work),
                  [&](index_t b0, index_t b1) {
    block_fn(b0, b1, part[static_cast<std::size_t>(b0 / block)]);
  });
  for (const accumulator& a : part) total.merge(a);
  return total;
}

}  // namespace xentropy

#endif  // XENTROPY_REDUCE_HPP
