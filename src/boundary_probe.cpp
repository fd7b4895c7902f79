// A test hook for the boundary (tests/testthat/test-boundary.R): raises each kind of
// failure the entries can meet, with a C++ object alive that must be destroyed first.
#include <Rinternals.h>

#include <cstring>
#include <new>
#include <stdexcept>

#include "convert.h"
#include "r_boundary.h"

using namespace deconv;

namespace {

int destroyed = 0;  // Sentinels destroyed so far

struct Sentinel {
  ~Sentinel() { ++destroyed; }
};

}  // namespace

extern "C" SEXP C_boundary_probe(SEXP kind) {
  return r::entry([&]() -> SEXP {
    const std::string k = r::string_from_r(kind, "kind");
    if (k == "destroyed") return r::scalar_int(destroyed);
    Sentinel alive;
    if (k == "ok") return r::scalar_int(1);
    if (k == "param") throw ParamError("num_filter", "probe");
    if (k == "shape") throw ShapeError("data", "probe");
    if (k == "unsupported") throw UnsupportedError("ctx", "probe");
    if (k == "device") throw DeviceError("ctx", "probe");
    if (k == "resource") throw ResourceError("memory", "probe");
    if (k == "bad_alloc") throw std::bad_alloc();
    if (k == "std") throw std::runtime_error("probe");
    if (k == "unknown") throw 42;
    if (k == "interrupt") throw Interrupted();
    if (k == "r_error") {
      r::call_r([] {
        Rf_error("probe R error");
        return R_NilValue;
      });
    }
    if (k == "r_error_kept") {  // PROTECTs made inside call_r, popped by R's jump
      r::call_r([] {
        for (int i = 0; i < 10; ++i) r::keep(Rf_allocVector(REALSXP, 1));
        Rf_error("probe R error");
        return R_NilValue;
      });
    }
    if (k == "huge") return r::new_vector(REALSXP, R_xlen_t(1) << 50, "probe");
    if (k == "many") {  // PROTECTs kept across many allocations, then balanced
      for (int i = 0; i < 1000; ++i) r::scalar_real(i);
      throw ShapeError("data", "probe after 1000 allocations");
    }
    throw ParamError("kind", "unknown probe '" + k + "'");
  });
}
