// Field-by-field equality of DeconvParams and a one-line description, for the tests
// and fuzz targets that check round trips (DeconvParams itself has no operator==).
// Both go through every row of the parameter table (core/param_schema.h), so a new
// parameter is compared without an edit here.
#pragma once

#include <string>
#include <vector>

#include "core/mxnet_attrs.h"
#include "core/param_schema.h"

namespace deconv_test {

// MXNet's attribute strings of every parameter: equal strings, equal fields.
inline deconv::AttrList all_attrs(const deconv::DeconvParams& p) {
  std::vector<std::string> keys;
  for (const deconv::ParamSpec& s : deconv::param_schema()) keys.push_back(s.name);
  return deconv::mxnet_attrs_from_params(p, keys);
}

inline bool same_params(const deconv::DeconvParams& a, const deconv::DeconvParams& b) {
  return all_attrs(a) == all_attrs(b);
}

inline std::string describe_params(const deconv::DeconvParams& p) {
  std::string out;
  for (const auto& kv : all_attrs(p)) out += (out.empty() ? "" : " ") + kv.first + "=" + kv.second;
  return out;
}

}  // namespace deconv_test
