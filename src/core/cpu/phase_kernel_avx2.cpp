// The AVX2 build of the phase kernel, compiled with -mavx2 -mfma (see src/Makevars.in);
// phase_forward.cpp calls it only on a CPU with AVX2 and FMA.
#include "core/cpu/phase_kernel.h"

#ifndef __AVX2__
#error "phase_kernel_avx2.cpp must be compiled with -mavx2 -mfma (see src/Makevars.in)"
#endif

#define DECONV_PHASE_VARIANT avx2
#define DECONV_PHASE_BYTES 32
#include "core/cpu/phase_kernel.inc"
