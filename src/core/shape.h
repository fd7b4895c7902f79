// Shape inference for Deconvolution: the one place that turns parameters and a data
// shape into output, weight and bias shapes and the effective pad/adj.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/params.h"

namespace deconv {

using Shape = Dims;  // full tensor shape in MXNet (row-major) order

// Everything a kernel needs, with spatial tuples padded to 3 dimensions in (d, h, w)
// order (leading unused dimensions have size 1, kernel 1, stride 1, pad 0).
struct Geometry {
  int rank = 0;                 // spatial rank of the problem: 1, 2 or 3
  Layout layout = Layout::None;
  bool channels_last = false;
  int64_t batch = 0, channels = 0, num_filter = 0, num_group = 1;
  // MB bounding the kernels' temporaries (CPU and GPU), as bytes: workspace_bytes().
  int64_t workspace_mb = DeconvParams{}.workspace;
  CudnnTune cudnn_tune = CudnnTune::None;  // GPU only: how cuDNN picks its algorithm
  bool cudnn_off = false;                  // GPU only: use deconv's own CUDA kernels
  std::array<int64_t, 3> in{}, out{}, kernel{}, stride{}, dilate{}, pad{}, adj{};
  Shape data_shape, weight_shape, bias_shape, out_shape;

  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
  int64_t channels_per_group() const { return channels / num_group; }
  int64_t filters_per_group() const { return num_filter / num_group; }
  // Multiply-adds of one pass, taps in the cropped padding included (in double: the
  // product of the extents may not fit in int64).
  double multiply_adds() const {
    return double(batch) * channels * filters_per_group() * kernel_size() * in_size();
  }
};

// A layer's sizes under the names every kernel plan uses (CPU GEMM, phase, GPU colgemm
// plans extend it). Letters in the kernels' formulas: N = batch, C = channels, F =
// filters, G = groups, Cg = channels_per_group, Fg = filters_per_group, K = taps,
// S = in_positions, So = out_positions, FgK = group_rows.
struct LayerSizes {
  int64_t batch = 0, channels = 0, filters = 0, groups = 1;
  int64_t channels_per_group = 0, filters_per_group = 0;
  int64_t taps = 0;           // kernel taps (the product of the kernel's extents)
  int64_t in_positions = 0;   // input positions per channel (product of the data's extents)
  int64_t out_positions = 0;  // output positions per filter
  int64_t group_rows = 0;     // rows of one group's columns: filters_per_group * taps
};

inline LayerSizes layer_sizes(const Geometry& g) {
  LayerSizes s;
  s.batch = g.batch;
  s.channels = g.channels;
  s.filters = g.num_filter;
  s.groups = g.num_group;
  s.channels_per_group = g.channels_per_group();
  s.filters_per_group = g.filters_per_group();
  s.taps = g.kernel_size();
  s.in_positions = g.in_size();
  s.out_positions = g.out_size();
  s.group_rows = s.filters_per_group * s.taps;
  return s;
}

// Shapes a data tensor of `data_shape` leads to. `p` need not be normalized.
// Throws ParamError / ShapeError naming the argument at fault.
Geometry infer_geometry(const DeconvParams& p, const Shape& data_shape);

// Number of elements of a tensor of `shape`.
inline int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Checks a given weight / bias shape against the inferred one (ShapeError if not equal).
void check_weight_shape(const Geometry& g, const Shape& weight_shape);
void check_bias_shape(const Geometry& g, const Shape& bias_shape);

// A bias is given exactly when no_bias is false (ParamError on "bias" otherwise).
void check_bias_given(const DeconvParams& p, bool given);

// Multiplication and addition that throw ShapeError(arg, ...) instead of overflowing.
int64_t checked_mul(int64_t a, int64_t b, const char* arg);
int64_t checked_add(int64_t a, int64_t b, const char* arg);

}  // namespace deconv
