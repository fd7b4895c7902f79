// Field-by-field equality of DeconvParams and a one-line description, for the tests
// and fuzz targets that check round trips (DeconvParams itself has no operator==).
#pragma once

#include <sstream>
#include <string>

#include "core/params.h"

namespace deconv_test {

inline bool same_params(const deconv::DeconvParams& a, const deconv::DeconvParams& b) {
  return a.kernel == b.kernel && a.stride == b.stride && a.dilate == b.dilate &&
         a.pad == b.pad && a.adj == b.adj && a.target_shape == b.target_shape &&
         a.num_filter == b.num_filter && a.num_group == b.num_group &&
         a.workspace == b.workspace && a.no_bias == b.no_bias &&
         a.cudnn_tune == b.cudnn_tune && a.cudnn_off == b.cudnn_off && a.layout == b.layout;
}

inline std::string describe_params(const deconv::DeconvParams& p) {
  auto t = [](const deconv::Tuple& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + ")";
  };
  std::ostringstream os;
  os << "kernel=" << t(p.kernel) << " stride=" << t(p.stride) << " dilate=" << t(p.dilate)
     << " pad=" << t(p.pad) << " adj=" << t(p.adj) << " target_shape=" << t(p.target_shape)
     << " num_filter=" << p.num_filter << " num_group=" << p.num_group
     << " workspace=" << p.workspace << " no_bias=" << p.no_bias
     << " cudnn_tune=" << deconv::cudnn_tune_name(p.cudnn_tune) << " cudnn_off=" << p.cudnn_off
     << " layout=" << deconv::layout_name(p.layout);
  return os.str();
}

}  // namespace deconv_test
