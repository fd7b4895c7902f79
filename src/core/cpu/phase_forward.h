// Phase-decomposed forward for channels-first layouts: each output element is computed
// once, in registers, from only the kernel taps congruent to its stride phase, with the
// bias added there. No column buffer and no col2im; temporaries are a zero-padded copy of
// the input (a few samples at a time) and the weights reordered once per call.
#pragma once

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cpu {

// Whether phase_forward can run g within its workspace (channels-first layouts, and one
// (sample, group)'s padded input and the reordered weights fit). When forced, it also
// runs beyond (channels-first), taking one unit's temporaries, as GEMM's minimal chunk.
bool phase_forward_fits(const Geometry& g, size_t elem);

// Whether the automatic choice takes the phase path for g (see phase_forward.cpp).
bool phase_forward_preferred(const Geometry& g, size_t elem);

// T is the arithmetic's type, IO the arrays' (T, or double for float arithmetic on R's
// doubles: converted as the input is padded and as each output is stored).
template <typename T, typename IO = T>
void phase_forward(const Geometry& g, const IO* data, const IO* weight, const IO* bias,
                   IO* out, const RunOptions& opts, RunStats* stats);

}  // namespace cpu
}  // namespace deconv
