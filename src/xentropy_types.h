// Included first in RcppExports.cpp (Rcpp::compileAttributes() picks up
// src/<package>_types.h). RcppEigen is in LinkingTo for the fitting code, so
// its inline plugin makes compileAttributes() add `#include <RcppEigen.h>` to
// RcppExports.cpp, which uses no Eigen type: with gcc >= 6 that include alone
// prints ~180 -Wignored-attributes warnings from Eigen's SSE headers (Eigen's
// own pragma against them is disabled in RcppEigen, as CRAN asks). Defining
// RcppEigen.h's include guard here makes that include a no-op. An exported
// function whose signature uses an Eigen type would need it back: remove this
// file then, and RcppExports.cpp fails to compile until you do.
#ifndef XENTROPY_TYPES_H
#define XENTROPY_TYPES_H
#define RcppEigen__RcppEigen__h
#endif
