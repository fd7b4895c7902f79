// Shape-independent validation of DeconvParams (the single source of these rules).
#include "core/params.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/param_schema.h"

namespace deconv {

namespace {

// A tuple at full length (`fill` in each dimension when not given), every entry in the
// row's range.
void check_tuple(const ParamSpec& spec, Tuple& t, size_t rank) {
  const std::string& arg = spec.name;
  if (t.empty()) {
    t.assign(rank, spec.fill);
    return;
  }
  if (t.size() != rank) {
    std::ostringstream os;
    os << "expected " << rank << " value" << (rank > 1 ? "s" : "")
       << " (one per spatial dimension, as kernel has), got " << t.size();
    throw ParamError(arg, os.str());
  }
  for (size_t i = 0; i < rank; ++i) {
    if (t[i] < spec.min || t[i] > spec.max) {
      std::ostringstream os;
      os << "expected " << spec.expected << ", got " << t[i] << " for dimension "
         << axis_name(static_cast<int>(rank), static_cast<int>(i));
      if (t[i] > spec.max) os << " (larger than " << spec.max << ")";
      throw ParamError(arg, os.str());
    }
  }
}

void check_integer(const ParamSpec& spec, int64_t v) {
  if (v < spec.min || v > spec.max)
    throw ParamError(spec.name, "expected " + spec.expected + ", got " + std::to_string(v));
}

}  // namespace

std::string axis_name(int rank, int i) {
  static const char* names[] = {"d", "h", "w"};
  int k = 3 - rank + i;
  return (k >= 0 && k < 3) ? names[k] : std::to_string(i);
}

int layout_rank(Layout layout) {
  switch (layout) {
    case Layout::NCW: return 1;
    case Layout::NCHW: case Layout::NHWC: return 2;
    case Layout::NCDHW: case Layout::NDHWC: return 3;
    default: return 0;
  }
}

bool layout_channels_last(Layout layout) {
  return layout == Layout::NHWC || layout == Layout::NDHWC;
}

std::string layout_name(Layout layout) {
  switch (layout) {
    case Layout::NCW: return "NCW";
    case Layout::NCHW: return "NCHW";
    case Layout::NCDHW: return "NCDHW";
    case Layout::NHWC: return "NHWC";
    case Layout::NDHWC: return "NDHWC";
    default: return "None";
  }
}

Layout parse_layout(const std::string& name) {
  DeconvParams p;
  set_enum(*find_param("layout"), p, name);
  return p.layout;
}

std::string cudnn_tune_name(CudnnTune tune) {
  switch (tune) {
    case CudnnTune::Off: return "off";
    case CudnnTune::LimitedWorkspace: return "limited_workspace";
    case CudnnTune::Fastest: return "fastest";
    default: return "None";
  }
}

CudnnTune parse_cudnn_tune(const std::string& name) {
  DeconvParams p;
  set_enum(*find_param("cudnn_tune"), p, name);
  return p.cudnn_tune;
}

int64_t workspace_bytes(int64_t mb) {
  return std::min(std::max<int64_t>(mb, 0), kMaxWorkspaceMb) << 20;
}

bool uses_target_shape(const DeconvParams& p) {
  for (int64_t t : p.target_shape)
    if (t != 0) return true;
  return false;
}

DeconvParams normalize_params(const DeconvParams& in) {
  DeconvParams p = in;
  if (p.kernel.empty() || p.kernel.size() > 3) {
    throw ParamError("kernel", "expected 1, 2 or 3 values (1D, 2D or 3D), got " +
                                   std::to_string(p.kernel.size()));
  }
  const size_t rank = p.kernel.size();
  if (p.layout == Layout::None) {
    p.layout = rank == 1 ? Layout::NCW : rank == 2 ? Layout::NCHW : Layout::NCDHW;
  } else if (static_cast<size_t>(layout_rank(p.layout)) != rank) {
    throw ParamError("layout", "layout " + layout_name(p.layout) + " is for " +
                                   std::to_string(layout_rank(p.layout)) +
                                   "D data but kernel has " + std::to_string(rank) + " value" +
                                   (rank > 1 ? "s" : ""));
  }
  // (An empty target_shape becomes zeros here, cleared below as not used.)
  for (const ParamSpec& spec : param_schema())
    if (spec.kind == ParamKind::Tuple) check_tuple(spec, p.*spec.tuple, rank);
  const bool target = uses_target_shape(p);
  if (!target) p.target_shape.clear();
  // adj < stride applies to the adj the user gives, in the dimensions where it is used.
  for (size_t i = 0; i < rank; ++i) {
    if (target && p.target_shape[i] != 0) continue;
    if (p.adj[i] >= p.stride[i]) {
      std::ostringstream os;
      os << "expected adj smaller than stride in every dimension, got adj " << p.adj[i]
         << " >= stride " << p.stride[i] << " for dimension "
         << axis_name(static_cast<int>(rank), static_cast<int>(i));
      throw ParamError("adj", os.str());
    }
  }
  for (const ParamSpec& spec : param_schema()) {
    if (spec.kind != ParamKind::Integer) continue;
    check_integer(spec, p.*spec.integer);
    // Right after num_group's range, as before the schema (the order errors come in).
    if (spec.integer == &DeconvParams::num_group && p.num_filter % p.num_group != 0) {
      throw ParamError("num_filter", "expected a multiple of num.group (" +
                                         std::to_string(p.num_group) + "), got " +
                                         std::to_string(p.num_filter));
    }
  }
  return p;
}

}  // namespace deconv
