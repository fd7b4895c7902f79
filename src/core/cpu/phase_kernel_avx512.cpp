// The AVX-512 build of the phase kernel, compiled with -mavx512f -mfma like
// gemm_avx512.cpp; phase_forward.cpp calls it only on a CPU with AVX-512.
#include "core/cpu/phase_kernel.h"

#ifndef __AVX512F__
#error "phase_kernel_avx512.cpp must be compiled with -mavx512f -mfma (see src/Makevars.in)"
#endif

#define DECONV_PHASE_VARIANT avx512
#define DECONV_PHASE_BYTES 64
#include "core/cpu/phase_kernel.inc"
