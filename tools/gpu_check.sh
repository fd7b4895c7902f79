#!/usr/bin/env bash
# The GPU check: one run on a bare GPU machine (nvcc, CMake, the CUDA libraries; no R, no
# network), writing OUT/summary.md. See docs/gpu-check.md.
#
#   tools/gpu_check.sh OUT [SCALE]
#
# Steps, each timed and under `timeout`, the whole within DECONV_GPU_BUDGET seconds
# (default 480): info (nvidia-smi, compute capability, compilers, cuDNN), configure and
# build tests/gtest with CUDA for the GPU found (sm_XY from nvidia-smi, else sm_90) with
# the GoogleTest and Eigen copies tools/gpu_check_prepare.sh put in build/gpu-carry, the
# GPU suite (test_deconv_gpu: every cudnn_tune mode and cudnn_off; SCALE multiplies its
# random cases, default 1), the benchmark of the core (bench_core: GPU paths, then the CPU
# kernel at DECONV_BENCH_THREADS, default 1,4,8,16), compute-sanitizer's memcheck on a
# few GPU tests, the CPU suites (ctest), and test-gpu.R when R and a CUDA build of the
# package are there. A step that fails or has no time left is recorded and the rest goes
# on; summary.md is written however the run ends. Without a GPU the GPU steps say so
# (the suite still runs its device-free tests). Exit status 0 unless the script itself
# could not start (bad arguments).
#
# Environment: DECONV_GPU_CARRY (default build/gpu-carry), DECONV_GPU_BUILD (default
# build/gpu-check), DECONV_GPU_BUDGET, DECONV_BENCH_THREADS, DECONV_GPU_ARCH (skip the
# detection, e.g. 90), JOBS (default nproc).
set -u
if [[ $# -lt 1 || $# -gt 2 || $1 == -h || $1 == --help ]]; then
  echo "usage: tools/gpu_check.sh OUT [SCALE]" >&2
  exit 2
fi
out_arg=$1 scale=${2:-1}
if ! [[ $scale =~ ^[0-9]*\.?[0-9]+$ ]]; then
  echo "gpu_check.sh: SCALE must be a positive number, not '$scale'" >&2
  exit 2
fi
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
mkdir -p "$out_arg" || exit 2
out=$(cd "$out_arg" && pwd)
logs=$out/logs
mkdir -p "$logs"
carry=${DECONV_GPU_CARRY:-$root/build/gpu-carry}
bdir=${DECONV_GPU_BUILD:-$root/build/gpu-check}
budget=${DECONV_GPU_BUDGET:-480}
bench_threads=${DECONV_BENCH_THREADS:-1,4,8,16}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 4)}
reserve=10  # seconds kept back for the summary
start=$SECONDS
started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

# ---- steps --------------------------------------------------------------------------
# steps.tsv: name, status, seconds, note. run_step NAME CAP CMD...: runs CMD with its
# output in logs/NAME.log, under a timeout of CAP seconds or what is left of the budget.
steps=$out/steps.tsv
: > "$steps"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$steps"; }
left() { echo $((budget - (SECONDS - start) - reserve)); }
run_step() {
  local name=$1 cap=$2 lim t0 rc status
  shift 2
  lim=$(left)
  ((cap < lim)) && lim=$cap
  if ((lim < 5)); then
    record "$name" "skipped" 0 "no time left in the ${budget} s budget"
    return 125
  fi
  t0=$SECONDS
  timeout -k 5 "$lim" "$@" > "$logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124 | 137) status="timed out after $lim s" ;;
    *) status="failed (exit status $rc)" ;;
  esac
  record "$name" "$status" $((SECONDS - t0)) "${step_note:-}"
  step_note=""
  return $rc
}
step_note=""
# A step that cannot run at all.
not_run() { record "$1" "not run" 0 "$2"; }

# ---- summary (written however the run ends) ----------------------------------------
summary_written=no
write_summary() {
  [[ $summary_written == yes ]] && return
  summary_written=yes
  tools/gpu_check_summary.sh "$out" "$scale" "$started_at" $((SECONDS - start)) "$budget" \
    > "$out/summary.md" 2> "$logs/summary.log" ||
    { echo "# GPU check: the summary script failed"; cat "$logs/summary.log"; } >> "$out/summary.md"
}
trap write_summary EXIT
trap 'exit 130' INT TERM

# ---- info: the machine, the GPU, the toolchain --------------------------------------
info=$out/info.txt
have_gpu=no arch=""
gather_info() {
  echo "== date: $started_at; host $(hostname 2>/dev/null); $(nproc) CPUs"
  echo "== uname: $(uname -a)"
  [[ -r /etc/os-release ]] && echo "== os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "== glibc: $(ldd --version 2>/dev/null | head -n 1)"
  echo "== CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
  grep -m1 -o 'avx512f' /proc/cpuinfo >/dev/null 2>&1 && echo "== CPU has AVX-512F"
  echo "== memory: $(grep MemTotal /proc/meminfo 2>/dev/null)"
  echo "== nvidia-smi"
  if command -v nvidia-smi >/dev/null; then
    timeout 30 nvidia-smi 2>&1
    echo "== nvidia-smi --query-gpu"
    timeout 30 nvidia-smi --query-gpu=index,name,compute_cap,memory.total,driver_version,clocks.max.sm,power.limit \
      --format=csv 2>&1
  else
    echo "nvidia-smi not found"
  fi
  echo "== c++: $(c++ --version 2>&1 | head -n 1)"
  echo "== cmake: $(cmake --version 2>&1 | head -n 1)"
  echo "== make: $(make --version 2>&1 | head -n 1)"
  command -v ninja >/dev/null && echo "== ninja: $(ninja --version)"
  echo "== R: $(command -v Rscript || echo 'not found')"
  echo "== python3: $(command -v python3 || echo 'not found')"
  echo "== compute-sanitizer: $(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || echo 'not found')"
  echo "== environment: OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset} OMP_PROC_BIND=${OMP_PROC_BIND:-unset} CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"
}
t0=$SECONDS
gather_info > "$info" 2>&1
if command -v nvidia-smi >/dev/null; then
  cc=$(timeout 30 nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
  [[ $cc =~ ^[0-9]+$ ]] && have_gpu=yes arch=$cc
fi
arch_note="sm_$arch from nvidia-smi"
if [[ -n ${DECONV_GPU_ARCH:-} ]]; then
  arch=$DECONV_GPU_ARCH arch_note="sm_$arch from DECONV_GPU_ARCH"
elif [[ -z $arch ]]; then
  arch=90 arch_note="sm_90 (no GPU found to detect)"
fi
echo "$have_gpu" > "$out/have_gpu"

# CUDA and cuDNN as ./configure finds them, then wider searches for cuDNN (a library
# without the unversioned link, pip's nvidia-cudnn wheels, headers only in the carry).
# shellcheck source=tools/find_cuda.sh
. tools/find_cuda.sh
cuda_ok=no cudnn_inc="" cudnn_lib="" cudnn_note=""
find_why=""
if deconv_find_cuda; then cuda_ok=yes; else find_why=$DECONV_CUDA_WHY; fi
if [[ $cuda_ok == yes ]]; then
  cudnn_inc=$DECONV_CUDNN_INCDIR cudnn_lib=$DECONV_CUDNN_LIBDIR/libcudnn.so
elif [[ -n $DECONV_NVCC ]]; then
  # nvcc and CUDA are fine; only cuDNN was not where configure looks.
  search="$DECONV_CUDA_ROOT /usr/lib /usr/lib64 /usr/local /opt"
  # shellcheck disable=SC2086
  cudnn_lib=$(timeout 30 find $search -name 'libcudnn.so*' \( -type f -o -type l \) 2>/dev/null |
    grep -E 'libcudnn\.so(\.[0-9]+)?$' | sort | head -n 1)
  # shellcheck disable=SC2086
  cudnn_inc=$(timeout 30 find $search -name cudnn_version.h 2>/dev/null | head -n 1)
  cudnn_inc=${cudnn_inc%/cudnn_version.h}
  if [[ -z $cudnn_inc && -f $carry/cudnn/include/cudnn_version.h ]]; then
    cudnn_inc=$carry/cudnn/include
    cudnn_note="cuDNN headers from the carry ($(cat "$carry/cudnn/VERSION" 2>/dev/null))"
  fi
  if [[ -n $cudnn_lib && -n $cudnn_inc ]]; then
    cuda_ok=yes
    cudnn_note="${cudnn_note:+$cudnn_note; }found by search: $cudnn_lib, $cudnn_inc"
  fi
fi
{
  echo "== CUDA: ${DECONV_NVCC:-no nvcc} (${DECONV_CUDA_VERSION:-?}; root ${DECONV_CUDA_ROOT:-?})"
  [[ -n $DECONV_NVCC ]] && "$DECONV_NVCC" --version 2>&1 | tail -n 2
  echo "== find_cuda.sh: ${find_why:-found}"
  echo "== cuDNN: header ${cudnn_inc:-none}, library ${cudnn_lib:-none} ${cudnn_note}"
  [[ -n $cudnn_inc ]] && grep -E '^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ' "$cudnn_inc/cudnn_version.h"
  echo "== GPU: $have_gpu; architecture: $arch_note"
  if [[ -n $DECONV_NVCC ]] && ! "$DECONV_NVCC" --list-gpu-arch 2>/dev/null | grep -qx "compute_$arch"; then
    echo "== nvcc does not list compute_$arch; building for sm_90 + PTX instead"
  fi
  echo "== carry: $carry"
  cat "$carry/MANIFEST.txt" 2>/dev/null || echo "(no MANIFEST.txt: the system's GoogleTest and Eigen are used)"
} >> "$info" 2>&1
if [[ -n $DECONV_NVCC ]] && ! "$DECONV_NVCC" --list-gpu-arch 2>/dev/null | grep -qx "compute_$arch"; then
  arch_note="$arch_note; nvcc lacks it, so sm_90 + PTX"
  arch=90
fi
record info ok $((SECONDS - t0)) "GPU: $have_gpu; $arch_note"

# Runtime library path: cuDNN's folder (its sub-libraries are loaded by name) and CUDA's.
export LD_LIBRARY_PATH="${cudnn_lib:+$(dirname "$cudnn_lib"):}${DECONV_CUDA_LIBDIRS:+${DECONV_CUDA_LIBDIRS// /:}:}${LD_LIBRARY_PATH:-}"

# ---- configure and build ------------------------------------------------------------
built_gpu=no
if [[ $cuda_ok != yes ]]; then
  not_run configure "no usable CUDA + cuDNN: ${find_why}"
  not_run build "nothing configured"
else
  cfg=(-S tests/gtest -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DDECONV_WITH_CUDA=ON
       "-DCMAKE_CUDA_COMPILER=$DECONV_NVCC" "-DCMAKE_CUDA_ARCHITECTURES=$arch"
       "-DDECONV_CUDNN_INCLUDE_DIR=$cudnn_inc" "-DDECONV_CUDNN_LIBRARY=$cudnn_lib")
  [[ -f $carry/eigen3/Eigen/Core ]] && cfg+=("-DDECONV_EIGEN_DIR=$carry/eigen3")
  [[ -f $carry/googletest/CMakeLists.txt ]] && cfg+=("-DDECONV_GTEST_SOURCE_DIR=$carry/googletest")
  echo "cmake ${cfg[*]}" > "$logs/configure.cmd"
  if run_step configure 120 cmake "${cfg[@]}"; then
    # The GPU suite and the benchmark first; the CPU suites later, if there is time.
    if run_step build 240 cmake --build "$bdir" -j "$jobs" --target test_deconv_gpu bench_core; then
      built_gpu=yes
    fi
  else
    not_run build "configure failed"
  fi
fi

# ---- the GPU suite ------------------------------------------------------------------
# Runs test_deconv_gpu; when it dies (a crash, a device fault), runs it again without the
# test that died and the ones already done, up to 3 runs. Each run's error report goes
# to its own file (gpu_errors.N.tsv); the summary merges them.
gpu_suite() {
  local bin=$bdir/test_deconv_gpu attempt filter rc done_tests crashed=() log
  : > "$logs/gpu-suite.all.log"
  for attempt in 1 2 3; do
    filter="*"
    done_tests=$(sed -n -E 's/^\[ +(OK|FAILED|SKIPPED) +\] ([^ ]+) \([0-9]+ ms\)$/\2/p' \
      "$logs/gpu-suite.all.log" | tr '\n' ':')
    for t in "${crashed[@]}"; do done_tests+="$t:"; done
    [[ -n $done_tests ]] && filter="-${done_tests%:}"
    log=$logs/gpu-suite.run$attempt.log
    # Line-buffered, so that a run that dies leaves the name of the test it died in.
    # shellcheck disable=SC2154,SC2086  # $stdbuf comes from env, empty or "stdbuf -oL"
    DECONV_GPU_SCALE=$scale DECONV_GPU_ERRORS=$out/gpu_errors.$attempt.tsv \
      $stdbuf "$bin" --gtest_color=no "--gtest_filter=$filter" > "$log" 2>&1
    rc=$?
    cat "$log" >> "$logs/gpu-suite.all.log"
    # 0: all passed; 1: some failed (gtest's own status). Anything else: it died.
    if [[ $rc == 0 || $rc == 1 ]] && grep -q '^\[==========\] .* ran\.' "$log"; then
      return "$rc"
    fi
    local dead
    dead=$(awk '/^\[ RUN      \] /{t=$4} /^\[ +(OK|FAILED|SKIPPED) +\] /{t=""} END{print t}' "$log")
    echo "== run $attempt ended with status $rc during ${dead:-no test}" >> "$logs/gpu-suite.all.log"
    [[ -n $dead ]] || return 3
    crashed+=("$dead")
    echo "$dead	$rc" >> "$out/gpu_crashed.tsv"
    ((rc == 124 || rc == 137)) && return "$rc"   # timed out: no time for another run
  done
  return 3
}
if [[ $built_gpu == yes ]]; then
  : > "$out/gpu_crashed.tsv"
  if [[ $have_gpu == yes ]]; then
    step_note="SCALE $scale"
  else
    step_note="no GPU: the device tests skip, only the device-free ones run"
  fi
  # timeout runs a program, so the function goes to a child bash with its variables.
  run_step gpu-suite 260 env bdir="$bdir" logs="$logs" out="$out" scale="$scale" \
    stdbuf="$(command -v stdbuf >/dev/null && echo 'stdbuf -oL')" \
    bash -c "$(declare -f gpu_suite); gpu_suite"
else
  not_run gpu-suite "not built"
fi

# ---- the benchmark: GPU paths, then the CPU kernel's threads ------------------------
if [[ $built_gpu == yes && $have_gpu == yes ]]; then
  run_step bench-gpu 90 "$bdir/bench_core" --layers=inst/bench/layers.csv --cpu-threads= \
    --gpu-reps=20 "--md=$out/bench_gpu.md" "--csv=$out/bench_gpu.csv"
elif [[ $built_gpu == yes ]]; then
  not_run bench-gpu "no GPU"
else
  not_run bench-gpu "not built"
fi
if [[ $built_gpu == yes ]]; then
  step_note="threads $bench_threads on $(nproc) CPUs"
  # The 14 layers the step was sized for (layers.csv has grown to 24 since).
  run_step bench-cpu 150 "$bdir/bench_core" --layers=inst/bench/layers.csv --no-gpu \
    --select=dcgan1,dcgan2,dcgan3,fcn1,fcn2,unet,unet3d,audio,depthwise,tiny,scaling \
    "--cpu-threads=$bench_threads" --cpu-reps=3 --cpu-budget=1.5 \
    "--md=$out/bench_cpu.md" "--csv=$out/bench_cpu.csv"
else
  not_run bench-cpu "not built"
fi

# ---- compute-sanitizer's memcheck on a few GPU tests --------------------------------
sanitizer=$(command -v compute-sanitizer || true)
[[ -z $sanitizer && -n ${DECONV_CUDA_ROOT:-} && -x $DECONV_CUDA_ROOT/bin/compute-sanitizer ]] &&
  sanitizer=$DECONV_CUDA_ROOT/bin/compute-sanitizer
if [[ $built_gpu != yes ]]; then
  not_run memcheck "not built"
elif [[ $have_gpu != yes ]]; then
  not_run memcheck "no GPU"
elif [[ -z $sanitizer ]]; then
  not_run memcheck "compute-sanitizer not found"
elif (($(left) < 90)); then
  not_run memcheck "skipped: less than 90 s left"
else
  step_note="DeconvGpu.{AdjPositive,TargetShapeStrideOneOddPad,Dilation3D}, device arrays"
  run_step memcheck 90 env DECONV_GPU_SCALE=0.1 "$sanitizer" --tool memcheck --error-exitcode 99 \
    "$bdir/test_deconv_gpu" --gtest_color=no \
    '--gtest_filter=DeconvGpu.AdjPositive:DeconvGpu.TargetShapeStrideOneOddPad:DeconvGpu.Dilation3D:DeconvGpuDeviceArrays.*'
fi

# ---- the CPU suites (on this machine's cores) -----------------------------------------
if [[ $built_gpu != yes ]]; then
  not_run cpu-suites "not built"
elif (($(left) < 60)); then
  not_run cpu-suites "skipped: less than 60 s left"
else
  # Built now, run by ctest without the GPU suite and the per-GEMM-backend copies.
  run_step cpu-suites $(($(left))) bash -c "cmake --build '$bdir' -j '$jobs' > '$logs/cpu-suites-build.log' 2>&1 || { echo 'build failed: see cpu-suites-build.log'; tail -n 30 '$logs/cpu-suites-build.log'; exit 1; }
    ctest --test-dir '$bdir' -j '$jobs' --output-on-failure --timeout 120 -E '^((eigen|blas|avx512)_gemm\\.|Modes/GpuRandomCase|GpuRandomCaseCoverage|DeconvGpu)'"
fi

# ---- test-gpu.R (only where R and a CUDA build of the package are) ----------------------
if ! command -v Rscript >/dev/null; then
  not_run r-test-gpu "no R on this machine (R and the package's R dependencies are not carried: see docs/gpu-check.md)"
elif ! Rscript -e 'quit(status = !isTRUE(deconv::deconv_info()$cuda))' >/dev/null 2>&1; then
  not_run r-test-gpu "R is here but no CUDA build of deconv is installed"
else
  run_step r-test-gpu 120 Rscript -e \
    'testthat::test_file("tests/testthat/test-gpu.R", package = "deconv", load_package = "installed", stop_on_failure = TRUE)'
fi

exit 0
