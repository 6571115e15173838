// Rcpp attributes include this "types header" first in the generated
// src/RcppExports.cpp (documented in the Rcpp-attributes vignette, section
// "Types in generated code"); see src/fit.cpp for why it exists.
//
// Rcpp attributes add `#include <RcppEigen.h>` to RcppExports.cpp for every
// package with RcppEigen in LinkingTo (through RcppEigen's inline plugin),
// whether or not an exported function uses Eigen. None does here: the only
// translation unit that compiles Eigen is src/fit.cpp. Defining RcppEigen.h's
// include guard makes that include empty, so Eigen is not compiled a second
// time and its -Wignored-attributes warnings do not appear. An exported
// function with Eigen types in its signature would fail to compile here,
// loudly, rather than silently.
#ifndef XENTROPY_TYPES_H
#define XENTROPY_TYPES_H
#ifndef RcppEigen__RcppEigen__h
#define RcppEigen__RcppEigen__h
#endif
#endif
