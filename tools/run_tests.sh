#!/usr/bin/env bash
# Runs deconv's tests on every build this machine can make and prints one summary line
# last:
#   N passed, N failed, N skipped
# Includes: tools/check_includes.sh (the core's include rules), one test.
# R: tests/testthat against an installed package, counted per test_that() block
#    (tools/run_tests.R). C++: tests/gtest built with CMake and run by ctest, counted per
#    ctest test (from ctest's JUnit report). A build that fails (CMake configure or build,
#    R CMD INSTALL) counts as one failed test, and the script goes on. Every build is
#    incremental: the CMake folders and the CPU-only package copy are kept.
# Builds: when CUDA and cuDNN are found (tools/find_cuda.sh, as ./configure finds them;
# DECONV_CUDA=0 turns this off), both the GPU build and a CPU-only build are tested:
#   R    the installed package (`make install` builds it with CUDA), and a CPU-only build
#        (DECONV_CUDA=0) installed into $BUILD_DIR/lib-cpu;
#   C++  $BUILD_DIR/gtest (CPU-only) and $BUILD_DIR/gtest-cuda (-DDECONV_WITH_CUDA=ON).
# Without CUDA, only the CPU-only build (the installed package and $BUILD_DIR/gtest).
# Exit status: 0 when nothing failed. Run from anywhere; expects the package installed.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}
mkdir -p "$build"
build_abs=$(cd "$build" && pwd)

passed=0 failed=0 skipped=0
parts=() failed_builds=()
# add LABEL PASSED FAILED SKIPPED: one part's counts, summed into the totals.
add() {
  parts+=("$(printf '%-34s %d passed, %d failed, %d skipped' "$1:" "$2" "$3" "$4")")
  passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
}

# ---- Is there CUDA? (the same rules as ./configure) ---------------------------------
# shellcheck source=tools/find_cuda.sh
. tools/find_cuda.sh
# shellcheck source=tools/core_sources.sh
. tools/core_sources.sh
if deconv_cuda_mode "${DECONV_CUDA:-}" && [[ $DECONV_CUDA_MODE == 0 ]]; then
  have_cuda=no cuda_why="DECONV_CUDA=$DECONV_CUDA"
elif deconv_find_cuda; then have_cuda=yes
else have_cuda=no cuda_why=$DECONV_CUDA_WHY
fi
if [[ $have_cuda == yes && -z $(deconv_core_sources cuda) ]]; then
  have_cuda=no cuda_why="src/core/cuda has no CUDA sources, only the stubs"
fi
if [[ $have_cuda == yes ]]; then
  cuda_desc="CUDA $DECONV_CUDA_VERSION + cuDNN $DECONV_CUDNN_VERSION"
  echo "== CUDA found: $cuda_desc ($DECONV_CUDA_ROOT); testing the CUDA and the CPU-only builds"
else
  echo "== CUDA not used ($cuda_why); testing the CPU-only build"
fi

# ---- Include rules ------------------------------------------------------------------
# tools/check_includes.sh: the layering the build relies on (no R headers in src/core);
# one test.
echo "== Include rules (tools/check_includes.sh)"
if tools/check_includes.sh; then add "include rules" 1 0 0; else add "include rules" 0 1 0; fi

# ---- R ----------------------------------------------------------------------------
# R_LIBS with library $1 first ("" leaves it as it is).
r_libs() { if [[ -n $1 ]]; then echo "$1${R_LIBS:+:$R_LIBS}"; else echo "${R_LIBS:-}"; fi; }

# Which build of deconv R loads with library $1 first: prints "cuda devices path", e.g.
# "TRUE 0 /usr/local/lib/R/site-library/deconv".
r_build_info() {
  R_LIBS=$(r_libs "$1") Rscript -e \
    'i <- deconv::deconv_info(); cat(i$cuda, i$devices, find.package("deconv"), "\n")' \
    2>/dev/null
}

# r_tests LABEL LIB_PREFIX TAG: runs the R tests against the build R loads with that path.
r_tests() {
  local label=$1 lib=$2 counts=$build/r-test-counts-$3 p f s
  rm -f "$counts"
  R_LIBS=$(r_libs "$lib") Rscript tools/run_tests.R tests/testthat "$counts"
  if [[ -s $counts ]]; then
    read -r p f s < "$counts"
  else
    echo "R tests ($label): the runner wrote no counts (counted as 1 failure)"
    p=0 f=1 s=0
  fi
  add "R tests, $label" "$p" "$f" "$s"
}

# mirror_package DIR: the package's files copied into DIR with their times, and files
# gone from here removed there (configure lists src/core by what it finds); DIR's build
# outputs (objects, .d files, src/Makevars) are left alone, so make there sees only the
# sources that changed. build folders, .git and check output are not copied.
mirror_package() {
  local dest=$1 f
  mkdir -p "$dest"
  local -a skip=(--exclude=./.git --exclude="./$build" --exclude=./build --exclude='./*.Rcheck'
                 --exclude='./*.tar.gz' --exclude='*.o' --exclude='*.so' --exclude='*.d'
                 --exclude=./src/Makevars)
  (cd "$dest" && find . -type f ! -name '*.o' ! -name '*.so' ! -name '*.d' \
     ! -path ./src/Makevars -print) |
    while IFS= read -r f; do [[ -e $f ]] || rm -f "$dest/$f"; done
  tar -cf - "${skip[@]}" . | tar -xf - -C "$dest"
}

installed=$(r_build_info "")
read -r inst_cuda inst_devices inst_path <<< "${installed:-NA NA NA}"
tested_cuda=no tested_cpu=no gpu_devices=""
case $inst_cuda in
  TRUE)
    gpu_devices=$inst_devices
    echo "== R tests, CUDA build (installed: $inst_path; $inst_devices CUDA device(s))"
    r_tests "CUDA build" "" cuda
    tested_cuda=yes
    # The same sources built without CUDA, into a private library, from a copy of the
    # package in $build/src-cpu: its objects stay there, so both builds rebuild only
    # what changed (in one folder each install would switch all objects over).
    lib_cpu=$build_abs/lib-cpu log=$build/install-cpu.log src_cpu=$build_abs/src-cpu
    echo "== R tests, CPU-only build (DECONV_CUDA=0 R CMD INSTALL of a copy in $build/src-cpu into $build/lib-cpu; log: $log)"
    mkdir -p "$lib_cpu"
    if mirror_package "$src_cpu" &&
       (cd "$src_cpu" && DECONV_CUDA=0 MAKEFLAGS=-j$jobs R CMD INSTALL -l "$lib_cpu" .) \
         > "$log" 2>&1; then
      grep -E '^deconv: GPU support' "$log" || true
      read -r cpu_cuda _ cpu_path <<< "$(r_build_info "$lib_cpu")"
      if [[ $cpu_cuda == FALSE && $cpu_path == "$lib_cpu/deconv" ]]; then
        r_tests "CPU-only build" "$lib_cpu" cpu
        tested_cpu=yes
      else
        echo "R tests (CPU-only build): R loads the wrong build ($cpu_cuda, $cpu_path)" \
             "(counted as 1 failure)"
        add "R tests, CPU-only build" 0 1 0
      fi
    else
      tail -n 30 "$log"
      echo "R tests (CPU-only build): R CMD INSTALL failed (counted as 1 failure; log: $log)"
      add "R tests, CPU-only build" 0 1 0
    fi
    ;;
  FALSE)
    echo "== R tests, CPU-only build (installed: $inst_path)"
    r_tests "CPU-only build" "" cpu
    tested_cpu=yes
    if [[ $have_cuda == yes ]]; then
      echo "R tests: the installed deconv was built without CUDA although CUDA was found" \
           "(installed with DECONV_CUDA=0?); its CUDA build is not tested"
    fi
    ;;
  *)
    # Not installed or not loadable: the runner says why and counts it.
    echo "== R tests (deconv did not load; is it installed?)"
    r_tests "installed build" "" installed
    ;;
esac

# ---- C++ --------------------------------------------------------------------------
# junit_counts FILE: "passed failed skipped" from ctest's JUnit report, whose
# <testsuite> element (its attributes one a line) counts all tests, the failed, the
# skipped and, apart, the disabled ones; disabled tests count as skipped here.
junit_counts() {
  local head n t=-1 f=-1 s=0 d=0
  [[ -f $1 ]] || return 1
  head=$(tr '\n\t' '  ' < "$1" | grep -o '<testsuite [^>]*>') || return 1
  for n in tests failures skipped disabled; do
    [[ $head =~ [[:space:]]$n=\"([0-9]+)\" ]] || continue
    case $n in
      tests) t=${BASH_REMATCH[1]} ;; failures) f=${BASH_REMATCH[1]} ;;
      skipped) s=${BASH_REMATCH[1]} ;; disabled) d=${BASH_REMATCH[1]} ;;
    esac
  done
  ((t >= 0 && f >= 0)) || return 1
  echo "$((t - f - s - d)) $f $((s + d))"
}

# cxx_tests LABEL DIR CMAKE_ARGS...: configures, builds (incrementally: DIR is kept) and
# runs tests/gtest in DIR; the counts come from ctest's JUnit report, DIR.junit.xml.
cxx_tests() {
  local label=$1 dir=$2 log=$2.ctest.log junit p=0 f=0 s=0 rc counts
  junit=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir").junit.xml
  shift 2
  echo "== C++ tests, $label ($dir)"
  if ! cmake -S tests/gtest -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" ||
     ! cmake --build "$dir" -j"$jobs"; then
    echo "C++ tests ($label): the CMake configure or build failed (counted as 1 failure)"
    add "C++ tests, $label" 0 1 0
    failed_builds+=("$label")
    return
  fi
  rm -f "$junit"
  ctest --test-dir "$dir" --output-on-failure --output-junit "$junit" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if counts=$(junit_counts "$junit"); then
    read -r p f s <<< "$counts"
    [[ $((p + f + s)) == 0 ]] && echo "C++ tests ($label): ctest found no tests"
  else
    echo "C++ tests ($label): ctest wrote no JUnit report ($junit)"
  fi
  if [[ $rc != 0 && $f == 0 ]]; then
    echo "C++ tests ($label): ctest exited with status $rc (counted as 1 failure)"
    f=1
  fi
  add "C++ tests, $label" "$p" "$f" "$s"
}

if [[ ! -f tests/gtest/CMakeLists.txt ]]; then
  echo "C++ tests: skipped, tests/gtest has no CMakeLists.txt"
else
  cxx_tests "CPU-only build" "$build/gtest" -DDECONV_WITH_CUDA=OFF
  tested_cpu=yes
  if [[ $have_cuda == yes ]]; then
    # CMake finds CUDA, cuDNN and the architectures itself, with tools/find_cuda.sh.
    cxx_tests "CUDA build" "$build/gtest-cuda" -DDECONV_WITH_CUDA=ON
    tested_cuda=yes
  fi
fi

# ---- Summary ----------------------------------------------------------------------
echo "== Summary"
printf '  %s\n' "${parts[@]}"
builds=()
if [[ $tested_cuda == yes ]]; then
  # Devices as the CUDA build of the package counts them, else as nvidia-smi lists them.
  if [[ -z $gpu_devices ]]; then
    if command -v nvidia-smi >/dev/null; then
      gpu_devices=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
    else
      gpu_devices=none
    fi
  fi
  case $gpu_devices in
    0) gpu="GPU tests skipped: no device" ;;
    none) gpu="GPU tests skipped: no NVIDIA driver" ;;
    *) gpu="GPU tests ran on $gpu_devices device(s)" ;;
  esac
  desc="CUDA"
  [[ -n $DECONV_CUDA_VERSION ]] && desc="CUDA $DECONV_CUDA_VERSION + cuDNN $DECONV_CUDNN_VERSION"
  [[ " ${failed_builds[*]} " == *" CUDA build "* ]] && gpu="its C++ build FAILED; $gpu"
  builds+=("$desc ($gpu)")
fi
[[ $tested_cpu == yes ]] && builds+=("CPU-only")
line=""
for b in "${builds[@]}"; do line+="${line:+, }$b"; done
if [[ $have_cuda == no ]]; then
  line+=" (CUDA build skipped: $cuda_why)"
fi
echo "builds tested: ${line# }"
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
