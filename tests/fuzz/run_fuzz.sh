#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz for a fixed number of runs (with a time cap)
# and prints one line per target, then fails if any target found something:
#   fuzz_params   1000000 runs    95 s  0 finding(s)
# Usage: tests/fuzz/run_fuzz.sh BUILD_DIR   (the -DDECONV_FUZZ=ON build, e.g. build/fuzz)
# Each target starts from its committed corpus (tests/fuzz/corpus/<target>, read only)
# plus what earlier runs added in BUILD_DIR/work/<target>; a finding (crash, sanitizer
# report, violated property, leak, timeout) is saved as BUILD_DIR/findings/<target>-*,
# with the log in BUILD_DIR/logs/<target>.log. Replay one with `<binary> <file>`.
# Environment: FUZZ_PARAMS_RUNS, FUZZ_ATTRS_RUNS, FUZZ_KERNEL_RUNS (counts), FUZZ_MAX_TIME
# (seconds per target, a safety cap), FUZZ_SEED (libFuzzer -seed; 0 = random).
set -u
build=${1:?usage: run_fuzz.sh BUILD_DIR}
src=$(cd "$(dirname "$0")" && pwd)
seed=${FUZZ_SEED:-1}
cap=${FUZZ_MAX_TIME:-300}
# UBSan reports are fatal (-fno-sanitize-recover); ASan's too. Leaks count as findings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# fuzz_kernel asks for one or two threads per call; idle OpenMP threads must not spin
# (on a small shared machine spinning threads starve the working one).
export OMP_WAIT_POLICY=passive

# target  runs                          max input bytes (beyond that nothing is read)
targets=(
  "fuzz_params ${FUZZ_PARAMS_RUNS:-1000000}  256"
  "fuzz_attrs  ${FUZZ_ATTRS_RUNS:-1000000}  512"
  "fuzz_kernel ${FUZZ_KERNEL_RUNS:-100000}   64"
)
mkdir -p "$build/logs" "$build/findings"
summary=() total=0
for entry in "${targets[@]}"; do
  read -r name runs max_len <<< "$entry"
  bin=$build/fuzz/$name log=$build/logs/$name.log work=$build/work/$name
  mkdir -p "$work"
  rm -f "$build/findings/$name"-*
  echo "== $name: $runs runs (cap ${cap} s, seed $seed; log $log)"
  start=$SECONDS
  "$bin" -runs="$runs" -max_total_time="$cap" -seed="$seed" -max_len="$max_len" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$name-" "$work" "$src/corpus/$name" > "$log" 2>&1
  rc=$?
  secs=$((SECONDS - start))
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  found=$(find "$build/findings" -name "$name-*" | wc -l)
  if [[ $rc != 0 && $found == 0 ]]; then found=1; fi  # e.g. the binary did not start
  if [[ $found != 0 ]]; then
    grep -E 'ERROR: |runtime error:|property violated|SUMMARY' "$log" | head -n 5
    find "$build/findings" -name "$name-*"
  fi
  line=$(printf '%-12s %8s runs %5d s  %d finding(s)' "$name" "${done_runs:-?}" "$secs" "$found")
  if [[ -n ${done_runs:-} && $done_runs -lt $runs && $found == 0 ]]; then
    line+="  (stopped by the ${cap} s cap)"
  fi
  echo "$line"
  summary+=("$line")
  total=$((total + found))
done
echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
echo "$total finding(s)"
[[ $total == 0 ]]
