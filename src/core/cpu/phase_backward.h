// The data gradient of channels-first layers computed directly: dX is a strided
// convolution of dY with the weights, each dX element accumulated once in registers by
// the phase kernel (phase_kernel.h). No im2col of dY and no GEMM; temporaries are dY
// split by width phase and zero-padded (a few samples at a time) and the weights
// reordered once per call.
#pragma once

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cpu {

// Whether phase_data_gradient can run g within its workspace (channels-first layouts,
// and one (sample, group)'s split dY and the reordered weights fit). When forced it
// also runs beyond (channels-first), taking one unit's temporaries.
bool phase_backward_fits(const Geometry& g, size_t elem);

// Whether the automatic choice computes g's data gradient this way (phase_backward.cpp);
// weight_grad: the weight gradient is wanted in the same call.
bool phase_backward_preferred(const Geometry& g, size_t elem, bool weight_grad);

// data_grad = the gradient of the forward pass with respect to its data, given
// out_grad. T is the arithmetic's type, IO the arrays' (T, or double for float
// arithmetic on R's doubles: converted as dY is split and as each dX is stored). Polls
// `poll` between blocks of rows; the caller calls poll.finish().
template <typename T, typename IO = T>
void phase_data_gradient(const Geometry& g, const IO* out_grad, const IO* weight,
                         IO* data_grad, const RunOptions& opts, InterruptPoll& poll,
                         RunStats* stats);

}  // namespace cpu
}  // namespace deconv
