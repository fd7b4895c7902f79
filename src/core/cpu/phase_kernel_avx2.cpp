// The AVX2 builds of the phase kernel and the tap dots (tap_dots.h), compiled with
// -mavx2 -mfma (see src/Makevars.in); chosen only on a CPU that has AVX2.
#include "core/cpu/phase_kernel.h"
#include "core/cpu/tap_dots.h"

#ifndef __AVX2__
#error "phase_kernel_avx2.cpp must be compiled with -mavx2 -mfma (see src/Makevars.in)"
#endif

#define DECONV_PHASE_VARIANT avx2
#define DECONV_PHASE_BYTES 32
#include "core/cpu/phase_kernel.inc"
#include "core/cpu/tap_dots.inc"
