// A fuzz target's verdict on a property it checks: print what broke and abort, which
// libFuzzer records as a crash (with the input saved as an artifact).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace deconv_fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "\n*** fuzz property violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

}  // namespace deconv_fuzz
