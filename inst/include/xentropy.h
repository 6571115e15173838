// xentropy.h -- the package's C++ kernels, for other packages.
//
// Add `LinkingTo: xentropy` to your DESCRIPTION and `#include <xentropy.h>`.
// The kernels are header-only, use no R API and never allocate R objects:
// they take raw pointers and lengths (std::ptrdiff_t, so long vectors work)
// and a thread count (OpenMP when compiled with it, serial otherwise).
#ifndef XENTROPY_H
#define XENTROPY_H

#include "xentropy/common.hpp"
#include "xentropy/blocks.hpp"
#include "xentropy/invalid.hpp"
#include "xentropy/flags.hpp"
#include "xentropy/vmath.hpp"
#include "xentropy/link.hpp"
#include "xentropy/normalise.hpp"
#include "xentropy/weighted.hpp"
#include "xentropy/reduce.hpp"
#include "xentropy/information.hpp"
#include "xentropy/loss.hpp"
#include "xentropy/calibration.hpp"

#endif  // XENTROPY_H
