#!/bin/sh
# Finds CUDA and cuDNN for deconv's GPU build: the one detection. POSIX sh, sourced by
# ./configure and tools/run_tests.sh, and run by tests/gtest/CMakeLists.txt, so all three
# decide the same way. It is part of the package sources (.Rbuildignore keeps it), since
# configure needs it in a source tarball.
#
#   . tools/find_cuda.sh; deconv_find_cuda
#   sh tools/find_cuda.sh --print      (CMake: prints NAME=value lines, see the end)
#
# CUDA: $CUDA_HOME/bin/nvcc when CUDA_HOME is set (then only there), else nvcc on PATH,
# else /usr/local/cuda/bin/nvcc. The CUDA root (the folder above bin/) must have
# include/cuda_runtime_api.h, libcudart.so and libcublas.so, and CUDA must be >= 12.
# cuDNN >= 8: $CUDNN_HOME when set (then only there), else the CUDA tree, else the
# system folders (/usr/include, /usr/lib/x86_64-linux-gnu), where NVIDIA's and Debian's
# packages put it. It needs cudnn_version.h and libcudnn.so.
#
# Sets DECONV_CUDA_FOUND (yes/no) and, when no, DECONV_CUDA_WHY (one phrase). When yes:
# DECONV_NVCC, DECONV_CUDA_ROOT, DECONV_CUDA_VERSION ("13.0"), DECONV_CUDA_INCDIR,
# DECONV_CUDA_LIBDIRS (the folders of libcudart/libcublas, each once), DECONV_CUDNN_INCDIR,
# DECONV_CUDNN_LIBDIR, DECONV_CUDNN_VERSION ("9.19.0").
#
# deconv_cuda_mode VALUE sets DECONV_CUDA_MODE to 0, 1 or auto from DECONV_CUDA's
# spellings (0/no/false/off, 1/yes/true/on, auto or empty), or returns 1 for others.
#
# deconv_cuda_archs sets DECONV_CUDA_ARCH_LIST ("80 90"; from DECONV_CUDA_ARCHS, numbers
# separated by spaces or commas), DECONV_GENCODE (nvcc -gencode flags: code for each,
# PTX for the last) and DECONV_CUDA_ARCH_DESC ("sm_80 sm_90 + PTX"), or returns 1 with
# DECONV_CUDA_WHY set when DECONV_CUDA_ARCHS is malformed.

# First folder among the arguments holding file $1 (a library: $1 is its file name).
deconv_first_dir_with() {
  _f=$1; shift
  for _d in "$@"; do
    if [ -f "$_d/$_f" ]; then echo "$_d"; return 0; fi
  done
  return 1
}

# Library folders to look in under a CUDA-like root $1.
deconv_lib_candidates() {
  _m=$(uname -m 2>/dev/null || echo x86_64)
  echo "$1/lib64 $1/lib $1/targets/$_m-linux/lib $1/lib/$_m-linux-gnu"
}

# Checks a CUDA root ($1); sets DECONV_CUDA_INCDIR and DECONV_CUDA_LIBDIRS or returns 1
# with DECONV_CUDA_WHY.
deconv_check_cuda_root() {
  _root=$1
  if [ -f "$_root/include/cuda_runtime_api.h" ]; then
    DECONV_CUDA_INCDIR=$_root/include
  else
    DECONV_CUDA_WHY="$_root/include/cuda_runtime_api.h not found"
    return 1
  fi
  # shellcheck disable=SC2046
  _cudart=$(deconv_first_dir_with libcudart.so $(deconv_lib_candidates "$_root")) || {
    DECONV_CUDA_WHY="libcudart.so not found under $_root (lib64, lib)"; return 1; }
  # shellcheck disable=SC2046
  _cublas=$(deconv_first_dir_with libcublas.so $(deconv_lib_candidates "$_root")) || {
    DECONV_CUDA_WHY="libcublas.so not found under $_root (lib64, lib)"; return 1; }
  DECONV_CUDA_LIBDIRS=$_cudart
  [ "$_cublas" = "$_cudart" ] || DECONV_CUDA_LIBDIRS="$_cudart $_cublas"
  return 0
}

# "#define CUDNN_MAJOR 9" -> 9, from header $2.
deconv_header_define() {
  sed -n "s/^#define[[:space:]][[:space:]]*$1[[:space:]][[:space:]]*\([0-9][0-9]*\).*/\1/p" "$2" |
    head -n 1
}

deconv_find_cuda() {
  DECONV_CUDA_FOUND=no DECONV_CUDA_WHY=""
  DECONV_NVCC="" DECONV_CUDA_ROOT="" DECONV_CUDA_VERSION="" DECONV_CUDA_INCDIR=""
  DECONV_CUDA_LIBDIRS="" DECONV_CUDNN_INCDIR="" DECONV_CUDNN_LIBDIR="" DECONV_CUDNN_VERSION=""

  # ---- nvcc and the CUDA root ----
  # Candidates in order; the first nvcc that runs and sits in a complete CUDA tree wins.
  if [ -n "${CUDA_HOME:-}" ]; then
    _cands=$CUDA_HOME/bin/nvcc
    _none="CUDA_HOME=$CUDA_HOME has no bin/nvcc"
  else
    _cands="$(command -v nvcc 2>/dev/null || true) /usr/local/cuda/bin/nvcc"
    _none="no nvcc found in CUDA_HOME, PATH or /usr/local/cuda"
  fi
  _first_why=""
  for _nvcc in $_cands; do
    [ -x "$_nvcc" ] || continue
    _ver=$("$_nvcc" --version 2>/dev/null |
      sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1)
    [ -n "$_ver" ] || continue
    # The tree above bin/; for a link (/usr/bin/nvcc -> /opt/cuda/bin/nvcc), its target's.
    for _n in "$_nvcc" "$(readlink -f "$_nvcc" 2>/dev/null || true)"; do
      [ -n "$_n" ] || continue
      _root=$(cd "$(dirname "$_n")/.." && pwd)
      if deconv_check_cuda_root "$_root"; then
        DECONV_NVCC=$_n DECONV_CUDA_ROOT=$_root DECONV_CUDA_VERSION=$_ver
        break 2
      fi
      [ -n "$_first_why" ] || _first_why=$DECONV_CUDA_WHY
    done
  done
  if [ -z "$DECONV_NVCC" ]; then
    DECONV_CUDA_WHY=${_first_why:-$_none}
    return 1
  fi
  if [ "${DECONV_CUDA_VERSION%%.*}" -lt 12 ]; then
    DECONV_CUDA_WHY="CUDA $DECONV_CUDA_VERSION in $DECONV_CUDA_ROOT is older than 12"
    return 1
  fi

  # ---- cuDNN ----
  _m=$(uname -m 2>/dev/null || echo x86_64)
  if [ -n "${CUDNN_HOME:-}" ]; then
    _incs="$CUDNN_HOME/include"
    _libs="$CUDNN_HOME/lib64 $CUDNN_HOME/lib"
    _where="CUDNN_HOME=$CUDNN_HOME"
  else
    _incs="$DECONV_CUDA_INCDIR /usr/include /usr/include/$_m-linux-gnu"
    _libs="$(deconv_lib_candidates "$DECONV_CUDA_ROOT") /usr/lib/$_m-linux-gnu /usr/lib64 /usr/lib"
    _where="$DECONV_CUDA_ROOT or the system folders; set CUDNN_HOME"
  fi
  # shellcheck disable=SC2086
  DECONV_CUDNN_INCDIR=$(deconv_first_dir_with cudnn_version.h $_incs) || {
    DECONV_CUDA_WHY="cuDNN not found: no cudnn_version.h in $_where"; return 1; }
  # shellcheck disable=SC2086
  DECONV_CUDNN_LIBDIR=$(deconv_first_dir_with libcudnn.so $_libs) || {
    DECONV_CUDA_WHY="cuDNN not found: no libcudnn.so in $_where"; return 1; }
  _h=$DECONV_CUDNN_INCDIR/cudnn_version.h
  _major=$(deconv_header_define CUDNN_MAJOR "$_h")
  _minor=$(deconv_header_define CUDNN_MINOR "$_h")
  _patch=$(deconv_header_define CUDNN_PATCHLEVEL "$_h")
  if [ -z "$_major" ]; then
    DECONV_CUDA_WHY="cuDNN: could not read CUDNN_MAJOR from $_h"; return 1
  fi
  DECONV_CUDNN_VERSION=$_major.${_minor:-0}.${_patch:-0}
  if [ "$_major" -lt 8 ]; then
    DECONV_CUDA_WHY="cuDNN $DECONV_CUDNN_VERSION in $DECONV_CUDNN_INCDIR is older than 8"
    return 1
  fi
  DECONV_CUDA_FOUND=yes
  return 0
}

deconv_cuda_mode() {
  case $1 in
    0|no|false|off|FALSE|OFF) DECONV_CUDA_MODE=0 ;;
    1|yes|true|on|TRUE|ON) DECONV_CUDA_MODE=1 ;;
    auto|"") DECONV_CUDA_MODE=auto ;;
    *) return 1 ;;
  esac
  return 0
}

deconv_cuda_archs() {
  _list=$(echo "${DECONV_CUDA_ARCHS:-80 90}" | tr ',;' '  ')
  DECONV_CUDA_ARCH_LIST="" DECONV_GENCODE="" DECONV_CUDA_ARCH_DESC="" _last=""
  for _a in $_list; do
    case $_a in
      *[!0-9]*)
        DECONV_CUDA_WHY="DECONV_CUDA_ARCHS='$DECONV_CUDA_ARCHS': expected numbers such as \"80 90\""
        return 1 ;;
    esac
    DECONV_CUDA_ARCH_LIST="${DECONV_CUDA_ARCH_LIST:+$DECONV_CUDA_ARCH_LIST }$_a"
    DECONV_GENCODE="${DECONV_GENCODE:+$DECONV_GENCODE }-gencode arch=compute_$_a,code=sm_$_a"
    DECONV_CUDA_ARCH_DESC="${DECONV_CUDA_ARCH_DESC:+$DECONV_CUDA_ARCH_DESC }sm_$_a"
    _last=$_a
  done
  if [ -z "$_last" ]; then
    DECONV_CUDA_WHY="DECONV_CUDA_ARCHS is empty"; return 1
  fi
  DECONV_GENCODE="$DECONV_GENCODE -gencode arch=compute_$_last,code=compute_$_last"
  DECONV_CUDA_ARCH_DESC="$DECONV_CUDA_ARCH_DESC + PTX"
  return 0
}

# Run as a command with --print (CMake reads this): the search's results as NAME=value
# lines, DECONV_CUDA_FOUND first; when found, the architectures of DECONV_CUDA_ARCHS too
# (DECONV_CUDA_ARCH_LIST, or DECONV_CUDA_FOUND=no with DECONV_CUDA_WHY when malformed).
# Sourced, $0 is the caller and nothing runs.
case $0 in
  *find_cuda.sh)
    if [ "${1:-}" = --print ]; then
      if deconv_find_cuda && ! deconv_cuda_archs; then DECONV_CUDA_FOUND=no; fi
      for _v in DECONV_CUDA_FOUND DECONV_CUDA_WHY DECONV_NVCC DECONV_CUDA_ROOT \
                DECONV_CUDA_VERSION DECONV_CUDA_INCDIR DECONV_CUDA_LIBDIRS \
                DECONV_CUDNN_INCDIR DECONV_CUDNN_LIBDIR DECONV_CUDNN_VERSION \
                DECONV_CUDA_ARCH_LIST; do
        eval "echo \"$_v=\${$_v:-}\""
      done
    fi ;;
esac
