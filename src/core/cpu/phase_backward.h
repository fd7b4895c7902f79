// The data and weight gradients of channels-first layers computed directly, without an
// im2col of dY and without GEMM: dY is split by width phase and zero-padded (a few
// samples at a time); dX, a strided convolution of dY with the weights, is accumulated
// once per element in registers by the phase kernel (phase_kernel.h), and dW as sums of
// dot products of data rows with the split dY rows (tap_dots.h). Other temporaries: the
// weights reordered once per call (dX) and the chunk's data rows zero-padded (dW).
#pragma once

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cpu {

// Whether phase_gradients can run g within its workspace (channels-first layouts, and
// one (sample, group)'s split dY, its padded data when weight_grad, and the reordered
// weights fit). When forced it also runs beyond (channels-first), taking one unit's.
bool phase_backward_fits(const Geometry& g, size_t elem, bool weight_grad);

// Whether the automatic choice computes g's gradients this way (phase_backward.cpp);
// weight_grad: the weight gradient is wanted (it then runs direct too).
bool phase_backward_preferred(const Geometry& g, size_t elem, bool weight_grad);

// data_grad, weight_grad and bias_grad = the gradients of the forward pass with respect
// to its data, weights and bias, given out_grad; each may be null (not wanted), not both
// of the first two (the bias sums come from the pass that splits dY). T is the
// arithmetic's type, IO the arrays' (T, or double for float arithmetic on R's doubles:
// converted as dY is split, as data rows are padded and as each dX is stored; dW is
// then float memory the caller widens). Polls `poll` between tasks; the caller calls
// poll.finish().
template <typename T, typename IO = T>
void phase_gradients(const Geometry& g, const IO* out_grad, const IO* data, const IO* weight,
                     IO* data_grad, T* weight_grad, IO* bias_grad, const RunOptions& opts,
                     InterruptPoll& poll, RunStats* stats);

}  // namespace cpu
}  // namespace deconv
