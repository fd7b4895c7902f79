// The AVX-512 builds of the phase kernel and the tap dots (tap_dots.h), compiled with
// -mavx512f -mfma like gemm_avx512.cpp; chosen only on a CPU that has AVX-512.
#include "core/cpu/phase_kernel.h"
#include "core/cpu/tap_dots.h"

#ifndef __AVX512F__
#error "phase_kernel_avx512.cpp must be compiled with -mavx512f -mfma (see src/Makevars.in)"
#endif

#define DECONV_PHASE_VARIANT avx512
#define DECONV_PHASE_BYTES 64
#include "core/cpu/phase_kernel.inc"
#include "core/cpu/tap_dots.inc"
