// Shape-independent validation of DeconvParams (the single source of these rules).
#include "core/params.h"

#include <sstream>

#include "core/error.h"

namespace deconv {

namespace {

constexpr int64_t kMaxTupleValue = int64_t(1) << 31;  // beyond this no real layer exists

void check_tuple(const char* arg, Tuple& t, size_t rank, int64_t fill, int64_t min_value,
                 const char* expected) {
  if (t.empty()) {
    t.assign(rank, fill);
    return;
  }
  if (t.size() != rank) {
    std::ostringstream os;
    os << "expected " << rank << " value" << (rank > 1 ? "s" : "")
       << " (one per spatial dimension, as kernel has), got " << t.size();
    throw ParamError(arg, os.str());
  }
  for (size_t i = 0; i < rank; ++i) {
    if (t[i] < min_value || t[i] > kMaxTupleValue) {
      std::ostringstream os;
      os << "expected " << expected << ", got " << t[i] << " for dimension "
         << axis_name(static_cast<int>(rank), static_cast<int>(i));
      if (t[i] > kMaxTupleValue) os << " (larger than " << kMaxTupleValue << ")";
      throw ParamError(arg, os.str());
    }
  }
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
  for (Layout l : {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC, Layout::NDHWC})
    if (name == layout_name(l)) return l;
  if (name.empty() || name == "None") return Layout::None;
  throw ParamError("layout", "expected one of NCW, NCHW, NCDHW, NHWC, NDHWC (or NULL), got '" +
                                 name + "'");
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
  for (CudnnTune t : {CudnnTune::Off, CudnnTune::LimitedWorkspace, CudnnTune::Fastest})
    if (name == cudnn_tune_name(t)) return t;
  if (name.empty() || name == "None") return CudnnTune::None;
  throw ParamError("cudnn_tune",
                   "expected one of 'off', 'limited_workspace', 'fastest' (or NULL), got '" +
                       name + "'");
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
  check_tuple("kernel", p.kernel, rank, 1, 1, "a positive integer");
  check_tuple("stride", p.stride, rank, 1, 1, "a positive integer");
  check_tuple("dilate", p.dilate, rank, 1, 1, "a positive integer");
  check_tuple("pad", p.pad, rank, 0, 0, "a non-negative integer");
  check_tuple("adj", p.adj, rank, 0, 0, "a non-negative integer");
  if (!p.target_shape.empty())
    check_tuple("target_shape", p.target_shape, rank, 0, 0, "a non-negative integer");
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
  if (p.num_filter < 1 || p.num_filter > kMaxTupleValue)
    throw ParamError("num_filter", "expected a positive integer, got " +
                                       std::to_string(p.num_filter));
  if (p.num_group < 1 || p.num_group > kMaxTupleValue)
    throw ParamError("num_group", "expected a positive integer, got " +
                                      std::to_string(p.num_group));
  if (p.num_filter % p.num_group != 0) {
    throw ParamError("num_filter", "expected a multiple of num.group (" +
                                       std::to_string(p.num_group) + "), got " +
                                       std::to_string(p.num_filter));
  }
  if (p.workspace < 0 || p.workspace > (int64_t(1) << 40))
    throw ParamError("workspace", "expected a non-negative number of MB, got " +
                                      std::to_string(p.workspace));
  return p;
}

}  // namespace deconv
