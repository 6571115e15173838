// xentropy/invalid.hpp -- where the first invalid input value is, and whether
// a missing value is NA or NaN.
//
// Kernels never stop on bad input (they cannot call R to signal an error):
// they note the first invalid element they meet, the calling glue turns it
// into an R error naming the argument, the position and the value. "First"
// is in (position, operand) order, so that the report does not depend on the
// order in which threads met the values.
#ifndef XENTROPY_INVALID_HPP
#define XENTROPY_INVALID_HPP

#include <atomic>

#include "common.hpp"

namespace xentropy {

// The operand an invalid value came from: the first (targets, p, counts) or
// the second (predictions, q) argument of a kernel.
enum class operand : int { target = 0, prediction = 1 };

// A position in an operand; position < 0 means "none".
struct invalid_at {
  index_t position = -1;
  operand which = operand::target;

  bool found() const { return position >= 0; }
  bool before(const invalid_at& o) const {
    return !o.found() || (found() && (position < o.position ||
                                      (position == o.position && which < o.which)));
  }
  // Keeps the earlier of the two.
  void merge(const invalid_at& o) {
    if (o.before(*this)) *this = o;
  }
};

// The first invalid element seen by any thread (thread-safe merge).
struct first_invalid {
  // position * 2 + operand, or -1: one atomic word, so that threads can merge
  // without a lock. Only this struct packs and unpacks it.
  std::atomic<long long> key{-1};

  void note(const invalid_at& at) {
    if (!at.found()) return;
    const long long k = static_cast<long long>(at.position) * 2 + static_cast<int>(at.which);
    long long cur = key.load();
    while ((cur < 0 || k < cur) && !key.compare_exchange_weak(cur, k)) {
    }
  }
  void note(index_t at, operand which) { note(invalid_at{at, which}); }
  void note(index_t at, int which) { note(at, static_cast<operand>(which)); }
  invalid_at get() const {
    const long long k = key.load();
    if (k < 0) return invalid_at{};
    return invalid_at{static_cast<index_t>(k / 2), static_cast<operand>(k % 2)};
  }
  index_t where() const { return get().position; }
  int which() const { return static_cast<int>(get().which); }
};

// Missingness of a value or of an observation: NA wins over NaN, as in R's
// arithmetic (NA + NaN is NA).
enum class missing : unsigned char { none = 0, nan = 1, na = 2 };

inline missing missing_of(double v) {
  return v == v ? missing::none : (is_na(v) ? missing::na : missing::nan);
}
inline missing operator|(missing a, missing b) { return a > b ? a : b; }
inline missing& operator|=(missing& a, missing b) { return a = a | b; }
inline double missing_value(missing m) { return m == missing::na ? na_real() : nan_real(); }

}  // namespace xentropy

#endif  // XENTROPY_INVALID_HPP
