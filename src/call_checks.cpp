// The shared input checks of call_checks.h.
#include "call_checks.h"

#include "convert.h"
#include "core/error.h"

namespace deconv {
namespace r {

ArrayDims host_array_dims(SEXP x, const char* arg) {
  check_double_array(x, arg);
  return {shape_of(x), !Rf_isNull(Rf_getAttrib(x, R_DimSymbol))};
}

Geometry call_geometry(const DeconvParams& p, const ArrayDims& data, const ArrayDims& weight,
                       const ArrayDims* bias) {
  return checked_geometry(p, data.shape, weight.shape, weight.has_dim, bias != nullptr,
                          bias ? bias->shape : Shape{});
}

void check_out_grad_dims(const Geometry& g, const Shape& got) {
  if (got == g.out_shape) return;
  throw ShapeError("out_grad", "expected an array with dim = " + r_dim_string(g.out_shape) +
                                   " (the output's), got dim = " + r_dim_string(got));
}

}  // namespace r
}  // namespace deconv
