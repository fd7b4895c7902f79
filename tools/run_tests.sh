#!/usr/bin/env bash
# Runs deconv's tests and prints one summary line last:
#   N passed, N failed, N skipped
# R: tests/testthat against the installed package, counted per test_that() block
#    (tools/run_tests.R). C++: tests/gtest built with CMake and run by ctest, counted
#    per ctest test (a failed CMake configure or build counts as one failed test).
# Exit status: 0 when nothing failed. Run from anywhere; expects the package installed.
set -u
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}
mkdir -p "$build"

# ---- R ----------------------------------------------------------------------
echo "== R tests (tests/testthat)"
counts=$build/r-test-counts
rm -f "$counts"
Rscript tools/run_tests.R tests/testthat "$counts"
if [[ -s $counts ]]; then
  read -r r_pass r_fail r_skip < "$counts"
else
  echo "R tests: the runner wrote no counts (counted as 1 failure)"
  r_pass=0 r_fail=1 r_skip=0
fi

# ---- C++ --------------------------------------------------------------------
c_pass=0 c_fail=0 c_skip=0
echo "== C++ tests (tests/gtest)"
if [[ ! -f tests/gtest/CMakeLists.txt ]]; then
  echo "C++ tests: skipped, tests/gtest has no CMakeLists.txt"
elif ! cmake -S tests/gtest -B "$build/gtest" -DCMAKE_BUILD_TYPE=Release ||
     ! cmake --build "$build/gtest" -j"$jobs"; then
  echo "C++ tests: the CMake configure or build failed (counted as 1 failure)"
  c_fail=1
else
  log=$build/ctest.log
  ctest --test-dir "$build/gtest" --output-on-failure 2>&1 | tee "$log"
  ctest_rc=${PIPESTATUS[0]}
  # "75% tests passed, 1 tests failed out of 4": the total counts skipped tests (as
  # passed) but not disabled ones; both are listed under "did not run".
  summary=$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -n $summary ]]; then
    read -r c_fail _ _ _ _ total <<< "$summary"
    skipped=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$log")
    disabled=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Disabled\)$' "$log")
    c_pass=$((total - c_fail - skipped))
    c_skip=$((skipped + disabled))
  elif grep -q 'No tests were found' "$log"; then
    echo "C++ tests: ctest found no tests"
  fi
  if [[ $ctest_rc != 0 && $c_fail == 0 ]]; then
    echo "C++ tests: ctest exited with status $ctest_rc (counted as 1 failure)"
    c_fail=1
  fi
  echo "C++ tests (ctest tests): $c_pass passed, $c_fail failed, $c_skip skipped"
fi

passed=$((r_pass + c_pass)) failed=$((r_fail + c_fail)) skipped=$((r_skip + c_skip))
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
