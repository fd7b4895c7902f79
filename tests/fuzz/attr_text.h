// Fuzz input as MXNet attributes: one "key=value" per line (the first '=' splits; a
// line without one is a key with an empty value; empty lines are skipped). Text seeds
// stay readable, and NUL or any other byte can still appear anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/mxnet_attrs.h"

namespace deconv_fuzz {

inline deconv::AttrList attrs_from_text(const uint8_t* data, size_t size) {
  deconv::AttrList attrs;
  const std::string text(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) attrs.emplace_back(line, "");
    else attrs.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return attrs;
}

}  // namespace deconv_fuzz
