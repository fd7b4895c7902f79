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

}  // namespace

Geometry infer_geometry(const DeconvParams& raw, const Shape& data_shape) {
  const DeconvParams p = normalize_params(raw);
  const int rank = static_cast<int>(p.kernel.size());
  Geometry g;
  g.rank = rank;
  g.layout = p.layout;
  g.channels_last = layout_channels_last(p.layout);
  if (static_cast<int>(data_shape.size()) != rank + 2) {
    std::ostringstream os;
    os << "expected a " << rank + 2 << "-dimensional array for a " << rank << "D kernel (layout "
       << layout_name(p.layout) << "), got " << data_shape.size() << " dimensions";
    throw ShapeError("data", os.str());
  }
  for (size_t i = 0; i < data_shape.size(); ++i) {
    if (data_shape[i] < 1) throw ShapeError("data", "every dimension must be positive, got a dimension of size " + std::to_string(data_shape[i]));
  }
  g.data_shape = data_shape;
  g.batch = data_shape[0];
  g.channels = g.channels_last ? data_shape[rank + 1] : data_shape[1];
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
  const bool target = uses_target_shape(p);
  for (int k = 0; k < 3; ++k) {
    g.in[k] = 1; g.out[k] = 1; g.kernel[k] = 1; g.stride[k] = 1; g.dilate[k] = 1;
    g.pad[k] = 0; g.adj[k] = 0;
  }
  const int off = 3 - rank;
  for (int i = 0; i < rank; ++i) {
    const int k = off + i;
    const int64_t in = g.channels_last ? data_shape[1 + i] : data_shape[2 + i];
    g.in[k] = in; g.kernel[k] = p.kernel[i]; g.stride[k] = p.stride[i]; g.dilate[k] = p.dilate[i];
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
  // Total sizes must be representable (input, output, weight and temporaries).
  int64_t in_total = checked_mul(g.batch, g.channels, "data");
  for (int k = 0; k < 3; ++k) in_total = checked_mul(in_total, g.in[k], "data");
  int64_t total = g.batch;
  total = checked_mul(total, g.num_filter, "num_filter");
  for (int k = 0; k < 3; ++k) total = checked_mul(total, g.out[k], "data");
  int64_t wsize = checked_mul(g.channels, g.filters_per_group(), "num_filter");
  for (int k = 0; k < 3; ++k) wsize = checked_mul(wsize, g.kernel[k], "kernel");
  // Temporary columns of one group: (num_filter/group * kernel) x in_size.
  checked_mul(checked_mul(g.filters_per_group(), g.kernel_size(), "kernel"), g.in_size(), "data");

  g.weight_shape.clear();
  g.out_shape.clear();
  g.weight_shape.push_back(g.channels);
  g.out_shape.push_back(g.batch);
  if (!g.channels_last) {
    g.weight_shape.push_back(g.filters_per_group());
    g.out_shape.push_back(g.num_filter);
  }
  for (int i = 0; i < rank; ++i) {
    g.weight_shape.push_back(p.kernel[i]);
    g.out_shape.push_back(g.out[off + i]);
  }
  if (g.channels_last) {
    g.weight_shape.push_back(g.filters_per_group());
    g.out_shape.push_back(g.num_filter);
  }
  g.bias_shape = {g.num_filter};
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
