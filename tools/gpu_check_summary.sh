#!/usr/bin/env bash
# Writes the markdown summary of a tools/gpu_check.sh run to stdout, from what the run
# left in OUT (steps.tsv, logs/, info.txt, gpu_errors.*.tsv, bench_*.md, ...). Called by
# gpu_check.sh on exit; can be rerun by hand on a returned OUT folder.
#
#   tools/gpu_check_summary.sh OUT SCALE STARTED_AT ELAPSED_S BUDGET_S
# Plain POSIX awk, sed and grep: the GPU machine may have nothing more.
set -u
out=$1 scale=${2:-?} started=${3:-?} elapsed=${4:-?} budget=${5:-?}
logs=$out/logs
have_gpu=$(cat "$out/have_gpu" 2>/dev/null || echo "?")

fence() { echo '```'; }
# step_field NAME COLUMN: a column of steps.tsv for step NAME.
step_field() { awk -F '\t' -v n="$1" -v c="$2" '$1 == n {v = $c} END {print v}' "$out/steps.tsv" 2>/dev/null; }
step_status() { local s; s=$(step_field "$1" 2); echo "${s:-not reached}"; }
# "ok", "not run (no GPU)", "failed (exit status 1)": status and note of step NAME.
step_line() {
  local n
  n=$(step_field "$1" 4)
  echo "$(step_status "$1")${n:+ ($n)}"
}

# ---- GPU suite counts ------------------------------------------------------------------
runs=$(ls "$logs"/gpu-suite.run*.log 2>/dev/null | sort)
count() { if [[ -n $runs ]]; then cat $runs | grep -cE "$1"; else echo 0; fi; }
passed=$(count '^\[       OK \] ')
failed=$(count '^\[  FAILED  \] .* \([0-9]+ ms\)$')
skipped=$(count '^\[  SKIPPED \] .* \([0-9]+ ms\)$')
crashed=0
[[ -s $out/gpu_crashed.tsv ]] && crashed=$(wc -l < "$out/gpu_crashed.tsv")
# A run cut off by the timeout leaves a test with [ RUN ] and no end.
cut_off=""
if [[ -n $runs ]]; then
  last=$(echo "$runs" | tail -n 1)
  if ! grep -q '^\[==========\] .* ran\.' "$last"; then
    cut_off=$(awk '/^\[ RUN      \] /{t=$4} /^\[ +(OK|FAILED|SKIPPED) +\] /{t=""} END{print t}' "$last")
  fi
fi

gpu_name=$(sed -n '/^== nvidia-smi --query-gpu/,/^==/p' "$out/info.txt" 2>/dev/null | sed -n '3p' |
  awk -F', ' '{print $2 " (compute " $3 ", " $4 ")"}')
[[ $have_gpu == yes ]] || gpu_name="none found"

# ---- the largest relative errors, merged over the suite's runs ----------------------------
errs=$out/gpu_errors.merged.tsv
cat "$out"/gpu_errors.*.tsv 2>/dev/null | awk -F '\t' '
  $1 == "mode" || NF < 6 { next }
  {
    k = $1 "\t" $2 "\t" $3
    v = ($4 ~ /inf|nan/) ? 1e308 : $4 + 0
    if (!(k in best) || v > best[k]) { best[k] = v; shown[k] = $4; where[k] = $7 }
    checks[k] += $6; tol[k] = $5
  }
  END { for (k in best) printf "%s\t%s\t%s\t%s\t%s\n", k, shown[k], tol[k], checks[k], where[k] }
' | sort > "$errs"

# ---- headline ------------------------------------------------------------------------
echo "# GPU check: $(hostname 2>/dev/null)"
echo
echo "- started $started; $elapsed s of the $budget s budget; SCALE $scale"
echo "- GPU: ${gpu_name:-?}; built for $(grep -m1 '^== GPU:' "$out/info.txt" 2>/dev/null | sed 's/^.*architecture: //')"
line="- GPU suite (test_deconv_gpu): $passed passed, $failed failed, $skipped skipped"
((crashed > 0)) && line+=", $crashed died (counted apart from the failed: see below)"
[[ -n $cut_off ]] && line+="; cut off by the time limit during $cut_off"
[[ $(step_status gpu-suite) == "not run" ]] && line="- GPU suite: $(step_line gpu-suite)"
echo "$line"
[[ $have_gpu == yes ]] || echo "- **No GPU on this machine**: the device tests skipped, and the GPU benchmark and memcheck were not run."
if [[ -s $errs ]]; then
  awk -F '\t' '{v = ($4 ~ /inf|nan/) ? 1e308 : $4 + 0; if (!($2 in m) || v > m[$2]) {m[$2] = v; s[$2] = $4; t[$2] = $5}}
    END {printf "- max relative GPU-vs-CPU error:"; for (d in m) printf " %s %s (tolerance %s);", d, s[d], t[d]; print ""}' "$errs"
fi
echo

# ---- steps ----------------------------------------------------------------------------
echo "## Steps"
echo
echo "| step | status | seconds | note |"
echo "|---|---|---:|---|"
awk -F '\t' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}' "$out/steps.tsv" 2>/dev/null
echo

# ---- the GPU suite --------------------------------------------------------------------
echo "## GPU suite"
echo
if [[ -z $runs ]]; then
  echo "Not run: $(step_line gpu-suite)"
else
  echo "$passed passed, $failed failed, $skipped skipped in $(echo "$runs" | wc -l) run(s) of the binary."
  if [[ -s $out/gpu_crashed.tsv ]]; then
    echo
    echo "Died during (test, exit status; the next run went on without it):"
    echo
    awk -F '\t' '{printf "- %s (status %s)\n", $1, $2}' "$out/gpu_crashed.tsv"
  fi
  [[ -n $cut_off ]] && { echo; echo "The time limit stopped the run during $cut_off."; }
  # The first failures (and the test a run died in) with their whole output, 80 lines each.
  shown=0
  for r in $runs; do
    awk -v max=5 -v already="$shown" '
      function flush(title) {
        if (already + n_shown < max) {
          print "\n#### " title "\n\n```"
          printf "%s", buf
          if (lines > 80) printf "... (%d more lines)\n", lines - 80
          print "```"
          n_shown++
        }
      }
      /^\[ RUN      \] / { buf = ""; lines = 0; inrun = 1; name = $4 }
      inrun { lines++; if (lines <= 80) buf = buf $0 "\n" }
      /^\[  FAILED  \] .* \([0-9]+ ms\)$/ { if (inrun) flush("FAILED: " name); inrun = 0 }
      /^\[ +(OK|SKIPPED) +\] / { inrun = 0 }
      END { if (inrun) flush("DIED or CUT OFF: " name); print "SHOWN " n_shown + 0 > "/dev/stderr" }
    ' "$r" 2> "$out/.shown"
    shown=$((shown + $(sed -n 's/^SHOWN //p' "$out/.shown")))
  done
  rm -f "$out/.shown"
  ((shown == 0)) && { echo; echo "No failures."; }
fi
echo

# ---- errors ---------------------------------------------------------------------------
echo "## Max relative GPU-vs-CPU error per mode and dtype"
echo
if [[ ! -s $errs ]]; then
  echo "No comparisons recorded (the device tests did not run)."
else
  echo "max |GPU - CPU| / max |CPU| over every comparison of the suite (random and targeted"
  echo "cases; the CPU in double is the reference for both types). Tolerance: float 1e-4,"
  echo "double 1e-10. Cells: error (comparisons)."
  echo
  echo "| mode | dtype | out | data_grad | weight_grad | bias_grad |"
  echo "|---|---|---:|---:|---:|---:|"
  awk -F '\t' '
    { key = $1 "\t" $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      cell[key, $3] = $4 " (" $6 ")" }
    END { for (i = 1; i <= n; i++) { split(order[i], p, "\t"); printf "| %s | %s", p[1], p[2]
            split("out data_grad weight_grad bias_grad", r, " ")
            for (j = 1; j <= 4; j++) printf " | %s", ((order[i], r[j]) in cell) ? cell[order[i], r[j]] : "-"
            print " |" } }' "$errs"
  echo
  echo "The worst case of each mode and dtype (largest error over the four results):"
  echo
  awk -F '\t' '{k = $1 " " $2; v = ($4 ~ /inf|nan/) ? 1e308 : $4 + 0
                if (!(k in m) || v > m[k]) {m[k] = v; w[k] = $3 " " $4 ": " $7}}
               END {for (k in m) printf "- %s: %s\n", k, w[k]}' "$errs" | sort
fi
echo

# ---- benchmark ------------------------------------------------------------------------
echo "## Benchmark (bench_core, layers of inst/bench/layers.csv)"
echo
for part in gpu cpu; do
  if [[ -s $out/bench_$part.md ]]; then
    cat "$out/bench_$part.md"
  else
    echo "### ${part^^}: $(step_line "bench-$part")"
    echo
  fi
done
grep -h 'bench_core: ' "$logs"/bench-*.log 2>/dev/null | head -n 20 | sed 's/^/    /'
echo

# ---- memcheck, CPU suites, R ------------------------------------------------------------
echo "## compute-sanitizer memcheck"
echo
if [[ -s $logs/memcheck.log ]]; then
  echo "$(step_status memcheck): $(grep -m1 'ERROR SUMMARY' "$logs/memcheck.log" || echo 'no ERROR SUMMARY line')"
  grep -m1 -A12 '^========= Invalid\|^========= Program hit' "$logs/memcheck.log" | sed 's/^/    /'
else
  step_line memcheck
fi
echo
echo "## CPU suites (ctest, without the GPU suite and the per-backend copies)"
echo
if [[ -s $logs/cpu-suites.log ]]; then
  echo "$(step_status cpu-suites): $(grep -m1 'tests passed' "$logs/cpu-suites.log" || echo 'no ctest summary line')"
  sed -n '/The following tests FAILED/,$p' "$logs/cpu-suites.log" | head -n 20 | sed 's/^/    /'
else
  step_line cpu-suites
fi
echo
echo "## test-gpu.R"
echo
step_line r-test-gpu
echo

# ---- build info, the tails of failed steps, nvidia-smi ------------------------------------
echo "## Build"
echo
fence
[[ -s $logs/configure.cmd ]] && cat "$logs/configure.cmd"
grep -hE 'compiler identification|^-- (CUDA|cuDNN|Eigen3|Found OpenMP|Found BLAS|Could NOT)' \
  "$logs/configure.log" 2>/dev/null
grep -E '^== (c\+\+|cmake|CUDA|cuDNN|GPU|CPU|os|glibc|find_cuda)' "$out/info.txt" 2>/dev/null
fence
echo
failed_steps=$(awk -F '\t' '$2 ~ /^(failed|timed out)/ {print $1}' "$out/steps.tsv" 2>/dev/null)
for s in $failed_steps; do
  echo "### Log tail: $s ($(step_status "$s"))"
  echo
  fence
  tail -n 40 "$logs/$s.log" 2>/dev/null
  fence
  echo
done
echo "## Machine (info.txt)"
echo
fence
cat "$out/info.txt" 2>/dev/null
fence
echo
echo "Logs: $(cd "$out" && ls logs 2>/dev/null | tr '\n' ' ')"
