// Winograd minimal filtering on the stride phases of layers whose kernel is twice the
// stride (k4 s2, k16 s8, ... without dilation) in every spatial dimension it spans; a
// dimension of kernel 1 and stride 1 may sit beside them. There every output phase is a
// 2-tap correlation of the input per dimension, and F(2, 2) computes two outputs of one
// from three inputs with 3 multiplications instead of 4: in 2D 9 instead of 16, in 3D 27
// instead of 64. The products are GEMMs over the input channels, one per transformed
// element, on the backend gemm.h chose; the input and output transforms are additions
// only (interpolation points 0, 1 and infinity), so the rounding stays that of a direct
// sum of a few more terms (winograd_forward.cpp gives the bound).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cpu {

// Whether g's shape suits these transforms (any layout, groups, float or double).
bool winograd_forward_supported(const Geometry& g);

// Whether it runs within g's workspace: one phase class's transformed filters and one
// tile's transformed input and products fit.
// `tile`: the outputs per tile asked for (RunOptions::winograd_tile), 0 for the plan's.
bool winograd_forward_fits(const Geometry& g, size_t elem, int tile = 0);

// Whether the automatic choice takes it (measured: winograd_forward.cpp): a suited
// 2D or 3D layer of many channels and filters (winograd_automatic_suits) with at least
// kWinogradMinOutputs outputs per phase (tiles x outputs per tile) in each GEMM.
bool winograd_automatic_suits(const Geometry& g);
constexpr int64_t kWinogradMinOutputs = 1024;
bool winograd_forward_preferred(const Geometry& g, size_t elem);

// T is the arithmetic's type, IO the arrays' (T, or double for float arithmetic on R's
// doubles: converted in the input transform and as each output is stored).
template <typename T, typename IO = T>
void winograd_forward(const Geometry& g, const IO* data, const IO* weight, const IO* bias,
                      IO* out, const RunOptions& opts, RunStats* stats);

// The data gradient the same way (winograd_backward.cpp): dX is a strided correlation
// of dY with the weights, per stride phase a 2-tap one. The same shapes are suited.
bool winograd_data_grad_fits(const Geometry& g, size_t elem, int tile = 0);
bool winograd_data_grad_preferred(const Geometry& g, size_t elem);

// data_grad = the gradient of the forward's data given out_grad (overwritten); polls
// `poll` (the caller's finish() throws). temp_bytes goes to stats, the rest untouched.
template <typename T, typename IO = T>
void winograd_data_grad(const Geometry& g, const IO* out_grad, const IO* weight, IO* data_grad,
                        const RunOptions& opts, InterruptPoll& poll, RunStats* stats);

}  // namespace cpu
}  // namespace deconv
