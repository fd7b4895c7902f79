// Turns core errors into values R raises as conditions: a caught deconv::Error becomes
// a small list of class "deconv_core_error" (message worded with R's argument names and
// the condition class to use), returned instead of thrown, so R signals it from the
// user's call with no tryCatch on the hot path (see R/conditions.R). Interrupts become
// R interrupts. Everything C++ is destroyed before R sees anything.
#pragma once

#include <Rcpp.h>

#include "convert.h"
#include "core/error.h"

namespace deconv {
namespace r {

inline SEXP error_value(const Error& e, const char* r_class) {
  Rcpp::List v = Rcpp::List::create(Rcpp::Named("message") = r_arg_name(e.arg()) + ": " + e.detail(),
                                    Rcpp::Named("class") = r_class);
  v.attr("class") = "deconv_core_error";
  return v;
}

template <class F>
SEXP guarded(F&& f) {
  try {
    return f();
  } catch (const ParamError& e) {
    return error_value(e, "deconv_param_error");
  } catch (const ShapeError& e) {
    return error_value(e, "deconv_shape_error");
  } catch (const UnsupportedError& e) {
    return error_value(e, "deconv_unsupported_error");
  } catch (const DeviceError& e) {
    return error_value(e, "deconv_device_error");
  } catch (const Interrupted&) {
    throw Rcpp::internal::InterruptedException();
  }
}

}  // namespace r
}  // namespace deconv
