#!/usr/bin/env bash
# Checks the layering of src/ by its #include lines (what CI and `make test` run):
#   - nothing under src/core includes an R header (R.h, Rinternals.h, Rdefines.h, Rmath.h,
#     Rversion.h, R_ext/...) or a binding header (every quoted include there names
#     "core/..."): the core builds and is tested without R;
#   - no binding file (src/*.cpp, src/*.h) includes "core/cpu/..." or "core/cuda/...": the
#     binding reaches the backends only through core/dispatch.h, core/device_array.h and
#     core/backend_info.h.
# Prints each offending line as file:line: text and exits 1 when there is one.
# Run from anywhere: tools/check_includes.sh [SRC_DIR] (default: the package's src/).
set -u
src=${1:-"$(dirname "$0")/../src"}
cd "$src" || exit 2
status=0

# report WHY FOUND: FOUND is grep's file:line: text lines; prints them under WHY.
report() {
  if [[ -n $2 ]]; then
    echo "check_includes: $1:"
    echo "$2" | sed 's/^/  src\//'
    status=1
  fi
}

include='^[[:space:]]*#[[:space:]]*include[[:space:]]*'
# The same after grep -n's "file:line:" prefix.
listed_include=':[[:space:]]*#[[:space:]]*include[[:space:]]*'
core_files=$(find core -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \
                                  -o -name '*.inc' \) | LC_ALL=C sort)
binding_files=$(find . -maxdepth 1 -type f \( -name '*.h' -o -name '*.cpp' \) | sed 's|^\./||' |
                LC_ALL=C sort)

# Word splitting of the file lists is intended (no file name has a space).
# shellcheck disable=SC2086
if [[ -n $core_files ]]; then
  report "R headers under src/core (the core must build without R)" \
    "$(grep -nE "${include}[<\"](R\.h|Rinternals\.h|Rdefines\.h|Rmath\.h|Rversion\.h|R_ext/)" $core_files)"
  report "quoted includes under src/core that are not core/... (a binding header?)" \
    "$(grep -nE "${include}\"" $core_files | grep -vE "${listed_include}\"core/")"
fi
# shellcheck disable=SC2086
if [[ -n $binding_files ]]; then
  report "binding files including core/cpu/ or core/cuda/ (use core/dispatch.h, core/device_array.h or core/backend_info.h)" \
    "$(grep -nE "${include}[<\"]core/(cpu|cuda)/" $binding_files)"
fi

if [[ $status == 0 ]]; then
  echo "check_includes: ok ($(echo "$core_files" | wc -w) core files, $(echo "$binding_files" | wc -w) binding files)"
fi
exit $status
