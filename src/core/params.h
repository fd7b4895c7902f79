// The Deconvolution parameters, field by field as MXNet 1.x's DeconvolutionParam,
// plus the shape-independent validation that fills defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/small_vector.h"

namespace deconv {

// Up to 6 values inline: every tuple and shape of a valid call (a 3D kernel, an NCDHW
// shape) without a heap allocation.
using Dims = SmallVector<int64_t, 6>;
using Tuple = Dims;  // spatial tuple in MXNet order: (w), (h, w), (d, h, w)

enum class Layout { None, NCW, NCHW, NCDHW, NHWC, NDHWC };
enum class CudnnTune { None, Off, LimitedWorkspace, Fastest };

// The largest workspace accepted, in MB (2^40: any real budget is far below).
constexpr int64_t kMaxWorkspaceMb = int64_t(1) << 40;

struct DeconvParams {
  Tuple kernel;                 // required, 1 to 3 entries
  Tuple stride;                 // empty: 1 per dimension
  Tuple dilate;                 // empty: 1 per dimension
  Tuple pad;                    // empty: 0 per dimension
  Tuple adj;                    // empty: 0 per dimension
  Tuple target_shape;           // empty or all zero: not used
  int64_t num_filter = 0;       // required, >= 1
  int64_t num_group = 1;
  int64_t workspace = 512;      // MB of temporary memory
  bool no_bias = true;
  CudnnTune cudnn_tune = CudnnTune::None;
  bool cudnn_off = false;
  Layout layout = Layout::None;  // None: NCW / NCHW / NCDHW from the kernel's length
};

// The field list lives once more in core/param_schema.cpp (one row per field, the
// defaults read from here); a new field needs its row there.

// Checks everything that does not depend on input shapes and returns a copy with
// defaults filled in (stride/dilate/pad/adj at full length, layout resolved).
// Throws ParamError naming the argument.
DeconvParams normalize_params(const DeconvParams& p);

// True when target_shape has a non-zero entry (and so overrides pad and adj).
bool uses_target_shape(const DeconvParams& p);

// The byte budget of temporaries for a workspace of `mb` MB, clamped to [0,
// kMaxWorkspaceMb]: the one conversion every plan (CPU, cudnn.off, cuDNN) uses.
int64_t workspace_bytes(int64_t mb);

// Spatial rank of a layout (1, 2 or 3) and whether channels come last.
int layout_rank(Layout layout);
bool layout_channels_last(Layout layout);

// Names as MXNet spells them ("NCHW", "limited_workspace", ...); parse throws ParamError.
std::string layout_name(Layout layout);
Layout parse_layout(const std::string& name);
std::string cudnn_tune_name(CudnnTune tune);
CudnnTune parse_cudnn_tune(const std::string& name);

// Letter of spatial axis i (MXNet order) for messages: "d", "h" or "w".
std::string axis_name(int rank, int i);

}  // namespace deconv
