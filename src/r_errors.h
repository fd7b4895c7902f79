// Turns core errors into R conditions: the same exception type (Rcpp makes its name the
// condition class), the message reworded with R's argument names; interrupts become
// R interrupts. Everything C++ is destroyed before R sees the condition.
#pragma once

#include <Rcpp.h>

#include "convert.h"
#include "core/error.h"

namespace deconv {
namespace r {

template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ParamError& e) {
    throw ParamError(r_arg_name(e.arg()), e.detail());
  } catch (const ShapeError& e) {
    throw ShapeError(r_arg_name(e.arg()), e.detail());
  } catch (const UnsupportedError& e) {
    throw UnsupportedError(r_arg_name(e.arg()), e.detail());
  } catch (const Interrupted&) {
    throw Rcpp::internal::InterruptedException();
  }
}

}  // namespace r
}  // namespace deconv
