// xentropy/calibration.hpp -- evaluating and calibrating probabilistic
// classifiers, in three headers of one job each:
//   binning.hpp  calibration error by binning (reliability, ECE, MCE)
//   metrics.hpp  Brier score, top-k accuracy
//   scaling.hpp  temperature and Platt scaling
#ifndef XENTROPY_CALIBRATION_HPP
#define XENTROPY_CALIBRATION_HPP

#include "binning.hpp"
#include "metrics.hpp"
#include "scaling.hpp"

#endif  // XENTROPY_CALIBRATION_HPP
