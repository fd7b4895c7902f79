// Shape inference with MXNet 1.x's rules, including target_shape -> pad/adj, and two
// documented fixes: a zero entry of a partial target keeps that dimension's pad/adj,
// and an adj computed from a target is not held to adj < stride.
#include "core/shape.h"

#include <sstream>

#include "core/error.h"

namespace deconv {

int64_t checked_mul(int64_t a, int64_t b, const char* arg) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw ShapeError(arg, "sizes too large: the size overflows");
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* arg) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw ShapeError(arg, "sizes too large: the size overflows");
  return r;
}

namespace {

std::string shape_string(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << (s.size() == 1 ? ",)" : ")");
  return os.str();
}

// The data has rank + 2 dimensions, each positive.
void check_data_shape(const DeconvParams& p, int rank, const Shape& data_shape) {
  if (static_cast<int>(data_shape.size()) != rank + 2) {
    std::ostringstream os;
    os << "expected a " << rank + 2 << "-dimensional array for a " << rank << "D kernel (layout "
       << layout_name(p.layout) << "), got " << data_shape.size() << " dimensions";
    throw ShapeError("data", os.str());
  }
  for (size_t i = 0; i < data_shape.size(); ++i) {
    if (data_shape[i] < 1) {
      throw ShapeError("data", "every dimension must be positive, got a dimension of size " +
                                   std::to_string(data_shape[i]));
    }
  }
}

// Layout, batch, channels and the parameters passed through; the channels split into
// num_group groups.
void set_channels_and_options(const DeconvParams& p, const Shape& data_shape, Geometry& g) {
  g.layout = p.layout;
  g.channels_last = layout_channels_last(p.layout);
  g.data_shape = data_shape;
  g.batch = data_shape[0];
  g.channels = g.channels_last ? data_shape[g.rank + 1] : data_shape[1];
  g.num_filter = p.num_filter;
  g.num_group = p.num_group;
  g.workspace_mb = p.workspace;
  g.cudnn_tune = p.cudnn_tune;
  g.cudnn_off = p.cudnn_off;
  if (g.channels % g.num_group != 0) {
    throw ShapeError("num_group", "the data's channels (" + std::to_string(g.channels) +
                                      ") must be divisible by num.group (" +
                                      std::to_string(g.num_group) + ")");
  }
}

// Spatial dimension i of p (g.in[k] set): its effective pad and adj (from the target
// shape when one is given for it) and its output size, or a ShapeError.
void infer_spatial_dim(const DeconvParams& p, bool target, int i, int k, Geometry& g) {
  const int rank = g.rank;
  const int64_t in = g.in[k];
  // Full (unpadded, unadjusted) extent: stride*(in-1) + dilate*(kernel-1) + 1.
  const int64_t full = checked_add(
      checked_add(checked_mul(p.stride[i], in - 1, "data"),
                  checked_mul(p.dilate[i], p.kernel[i] - 1, "dilate"), "data"),
      1, "data");
  if (target && p.target_shape[i] != 0) {
    const int64_t t = full - p.target_shape[i];
    if (t < 0) {
      std::ostringstream os;
      os << "too big target shape: dimension " << axis_name(rank, i) << " asks for "
         << p.target_shape[i] << " but at most " << full << " can be reached (stride*(in-1) + "
         << "dilate*(kernel-1) + 1)";
      throw ShapeError("target_shape", os.str());
    }
    g.adj[k] = t % 2;
    g.pad[k] = (t + 1) / 2;
  } else {
    g.pad[k] = p.pad[i];
    g.adj[k] = p.adj[i];
  }
  const int64_t out = checked_add(full - checked_mul(2, g.pad[k], "pad"), g.adj[k], "adj");
  if (out < 1) {
    std::ostringstream os;
    os << "the output size would be " << out << " in dimension " << axis_name(rank, i)
       << " (stride*(in-1) + dilate*(kernel-1) + 1 - 2*pad + adj = " << full << " - "
       << 2 * g.pad[k] << " + " << g.adj[k] << "); expected a positive size: use a smaller pad";
    throw ShapeError("pad", os.str());
  }
  g.out[k] = out;
}

// The spatial tuples, padded to 3 dimensions in (d, h, w) order.
void infer_spatial(const DeconvParams& p, const Shape& data_shape, Geometry& g) {
  const bool target = uses_target_shape(p);
  for (int k = 0; k < 3; ++k) {
    g.in[k] = 1; g.out[k] = 1; g.kernel[k] = 1; g.stride[k] = 1; g.dilate[k] = 1;
    g.pad[k] = 0; g.adj[k] = 0;
  }
  const int off = 3 - g.rank;
  for (int i = 0; i < g.rank; ++i) {
    const int k = off + i;
    g.in[k] = g.channels_last ? data_shape[1 + i] : data_shape[2 + i];
    g.kernel[k] = p.kernel[i]; g.stride[k] = p.stride[i]; g.dilate[k] = p.dilate[i];
    infer_spatial_dim(p, target, i, k, g);
  }
}

// Total sizes must be representable (input, output, weight and temporaries).
void check_total_sizes(const Geometry& g) {
  int64_t in_total = checked_mul(g.batch, g.channels, "data");
  for (int k = 0; k < 3; ++k) in_total = checked_mul(in_total, g.in[k], "data");
  int64_t total = g.batch;
  total = checked_mul(total, g.num_filter, "num_filter");
  for (int k = 0; k < 3; ++k) total = checked_mul(total, g.out[k], "data");
  int64_t wsize = checked_mul(g.channels, g.filters_per_group(), "num_filter");
  for (int k = 0; k < 3; ++k) wsize = checked_mul(wsize, g.kernel[k], "kernel");
  // Temporary columns of one group: (num_filter/group * kernel) x in_size.
  checked_mul(checked_mul(g.filters_per_group(), g.kernel_size(), "kernel"), g.in_size(), "data");
}

// Weight, output and bias shapes in the layout's order.
void set_tensor_shapes(const DeconvParams& p, Geometry& g) {
  const int off = 3 - g.rank;
  g.weight_shape.clear();
  g.out_shape.clear();
  g.weight_shape.push_back(g.channels);
  g.out_shape.push_back(g.batch);
  if (!g.channels_last) {
    g.weight_shape.push_back(g.filters_per_group());
    g.out_shape.push_back(g.num_filter);
  }
  for (int i = 0; i < g.rank; ++i) {
    g.weight_shape.push_back(p.kernel[i]);
    g.out_shape.push_back(g.out[off + i]);
  }
  if (g.channels_last) {
    g.weight_shape.push_back(g.filters_per_group());
    g.out_shape.push_back(g.num_filter);
  }
  g.bias_shape = {g.num_filter};
}

}  // namespace

Geometry infer_geometry(const DeconvParams& raw, const Shape& data_shape) {
  const DeconvParams p = normalize_params(raw);
  Geometry g;
  g.rank = static_cast<int>(p.kernel.size());
  check_data_shape(p, g.rank, data_shape);
  set_channels_and_options(p, data_shape, g);
  infer_spatial(p, data_shape, g);
  check_total_sizes(g);
  set_tensor_shapes(p, g);
  return g;
}

void check_weight_shape(const Geometry& g, const Shape& w) {
  if (w != g.weight_shape) {
    throw ShapeError("weight", "expected shape " + shape_string(g.weight_shape) +
                                   " (channels, num.filter/num.group, kernel) for layout " +
                                   layout_name(g.layout) + ", got " + shape_string(w));
  }
}

void check_bias_given(const DeconvParams& p, bool given) {
  if (p.no_bias && given)
    throw ParamError("bias", "a bias was given but no.bias is TRUE; set no.bias = FALSE to use it");
  if (!p.no_bias && !given) throw ParamError("bias", "no.bias is FALSE but no bias was given");
}

void check_bias_shape(const Geometry& g, const Shape& b) {
  if (b != g.bias_shape) {
    throw ShapeError("bias", "expected " + std::to_string(g.num_filter) +
                                 " values (one per filter, num.filter), got shape " + shape_string(b));
  }
}

}  // namespace deconv
