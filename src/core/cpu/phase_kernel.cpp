// The portable build of the phase kernel: the compiler's baseline vectors (SSE2 on
// x86-64), 16 bytes.
#include "core/cpu/phase_kernel.h"

#define DECONV_PHASE_VARIANT portable
#define DECONV_PHASE_BYTES 16
#include "core/cpu/phase_kernel.inc"
