#!/bin/sh
# The one list of deconv's core sources (src/core). POSIX sh, sourced by ./configure (the
# R package's src/Makevars) and run by tests/gtest/CMakeLists.txt (the C++ tests), so a
# file added under src/core is built by both with no edit anywhere. Part of the package
# sources (.Rbuildignore keeps it): configure needs it in a source tarball.
#
#   . tools/core_sources.sh; deconv_core_sources cpu      (from the package root)
#   sh tools/core_sources.sh cpu                          (the same, run as a command)
#
# Paths are relative to src/ ("core/shape.cpp"), sorted, one line each:
#   cpu     core/*.cpp and core/cpu/*.cpp, less the per-ISA kernels below
#   avx512  core/cpu/*_avx512.cpp: compiled with -mavx512f -mfma, where the compiler
#           takes them (the code checks the CPU before calling them)
#   avx2    core/cpu/*_avx2.cpp: likewise with -mavx2 -mfma
#   cuda    every .cpp and .cu under core/cuda, in any subfolder, less cuda_stubs.cpp
#   stubs   core/cuda/cuda_stubs.cpp, what a build without CUDA compiles instead

deconv_core_sources() {
  case $1 in
    cpu) (cd src && ls core/*.cpp core/cpu/*.cpp 2>/dev/null) |
           grep -Ev '_(avx512|avx2)\.cpp$' ;;
    avx512|avx2) (cd src && ls core/cpu/*_"$1".cpp 2>/dev/null) ;;
    cuda) (cd src && find core/cuda -type f \( -name '*.cpp' -o -name '*.cu' \)) |
            grep -v '/cuda_stubs\.cpp$' | LC_ALL=C sort ;;
    stubs) echo core/cuda/cuda_stubs.cpp ;;
    *) echo "deconv_core_sources: unknown group '$1' (cpu, avx512, avx2, cuda, stubs)" >&2
       return 1 ;;
  esac
  return 0
}

# "core/a.cpp core/b.cu" -> "core/a.o core/b.o", on one line (for Makevars' OBJECTS).
deconv_objects_of() {
  deconv_core_sources "$1" | sed 's/\.[^.]*$/.o/' | tr '\n' ' ' | sed 's/ $//'
}

# Run as a command (CMake): the group named by the argument. Sourced, $0 is the caller.
case $0 in
  *core_sources.sh) deconv_core_sources "$1" ;;
esac
