// xentropy/blocks.hpp -- the block sizes every kernel sweeps its data in, in
// one place, with the relations between them checked at compile time.
//
// Blocks are fixed (never derived from the thread count), so results do not
// depend on the number of threads. They are sized for the L1/L2 cache: a
// block of rows of a column-major matrix is swept column by column, so the
// input is read from memory once.
#ifndef XENTROPY_BLOCKS_HPP
#define XENTROPY_BLOCKS_HPP

#include "common.hpp"

namespace xentropy {
namespace blocks {

// Rows (observations) of a column-major matrix swept together, by the
// normalisers (row_stats()) and by the margin sums (sum_over_margin()).
constexpr index_t rows = 256;
// Observations of a categorical loss per block; each block keeps per-row
// statistics of this many rows on the stack and fills them with row_stats().
constexpr index_t categorical = 256;
// Observations of a binary loss per block (per-observation losses of one
// block live in a stack buffer of this size).
constexpr index_t binary = 2048;
// Elements per chunk of a long column (margin = 2) and classes per chunk of
// one observation whose classes are contiguous.
constexpr index_t column = 4096;
constexpr index_t classes = 4096;
// Elements per chunk of an elementwise map (link functions, rescaling).
constexpr index_t elementwise = 8192;

static_assert(categorical <= rows,
              "row_stats() fills a categorical block with buffers of `rows` rows");
static_assert(categorical <= binary,
              "the loss reducer keeps one block of losses in a buffer of `binary`");
static_assert(binary % categorical == 0 && elementwise % binary == 0,
              "blocks nest, so a chunked read of the targets can cut at any of them");
static_assert(rows > 0 && column > 0 && classes > 0 && elementwise > 0,
              "blocks are not empty");

}  // namespace blocks
}  // namespace xentropy

#endif  // XENTROPY_BLOCKS_HPP
