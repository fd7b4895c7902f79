#!/bin/sh
# Keeps R out of the C++ core: fails when a source under src/core includes an R header
# (R.h, Rinternals.h, R_ext/..., Rcpp...), so that the core builds without R (tests/gtest).
# Prints what it found; exit status 0 when clean. Run from anywhere.
cd "$(dirname "$0")/.." || exit 1
hits=$(find src/core -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \
         -o -name '*.inc' \) -exec grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](R\.h|Rinternals\.h|Rmath\.h|Rdefines\.h|R_ext/|Rcpp)' {} +)
if [ -n "$hits" ]; then
  echo "check_includes: src/core must not include R headers:"
  echo "$hits"
  exit 1
fi
echo "check_includes: src/core includes no R headers"
