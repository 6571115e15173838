// xentropy/flags.hpp -- run-time flags to compile-time kernel variants.
//
// A vectorised kernel is specialised on a few booleans (weights or not,
// integer or double targets, ...) so that its inner loop has no branch on
// them. dispatch_flags<K>(flags(a, b), args...) calls
// vm::dispatch<K<a, b>>(args...) for the run-time values of a and b: one line
// instead of a hand-written if/else ladder over every combination. K is a
// template of bools only (an alias template binds other parameters).
#ifndef XENTROPY_FLAGS_HPP
#define XENTROPY_FLAGS_HPP

#include <cstddef>

#include "vmath.hpp"

namespace xentropy {

template <std::size_t N>
struct flag_set {
  bool v[N];
};

template <class... B>
inline flag_set<sizeof...(B)> flags(B... b) {
  return flag_set<sizeof...(B)>{{static_cast<bool>(b)...}};
}

namespace detail {
template <template <bool...> class K, std::size_t I, std::size_t N, bool... B>
struct flag_switch {
  template <class... A>
  static void call(const bool* f, A... a) {
    if (f[I]) flag_switch<K, I + 1, N, B..., true>::call(f, a...);
    else flag_switch<K, I + 1, N, B..., false>::call(f, a...);
  }
};
template <template <bool...> class K, std::size_t N, bool... B>
struct flag_switch<K, N, N, B...> {
  template <class... A>
  static void call(const bool*, A... a) {
    vm::dispatch<K<B...>>(a...);
  }
};
}  // namespace detail

// vm::dispatch<K<f.v[0], f.v[1], ...>>(a...).
template <template <bool...> class K, std::size_t N, class... A>
inline void dispatch_flags(flag_set<N> f, A... a) {
  detail::flag_switch<K, 0, N>::call(f.v, a...);
}

}  // namespace xentropy

#endif  // XENTROPY_FLAGS_HPP
