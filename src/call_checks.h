// The input checks of a deconvolution call, written once for both kinds of arrays the
// binding takes: R arrays (deconvolution.cpp) and GPU arrays (gpu_arrays.cpp). Each
// entry describes its arrays as ArrayDims and gets the same checks, in the same order,
// with the same words (R order dims, R argument names).
#pragma once

#include <Rinternals.h>

#include "core/params.h"
#include "core/shape.h"

namespace deconv {
namespace r {

// An array's shape (MXNet order) and whether it carries dims: an R vector without a
// dim attribute is reported as such when the weight must be an array.
struct ArrayDims {
  Shape shape;
  bool has_dim = true;
};

// The dims of an R argument, after checking that it is a double array.
ArrayDims host_array_dims(SEXP x, const char* arg);

// The geometry of the call, with the weight and (when given: bias non-null) the bias
// checked against it and against p.no_bias.
Geometry call_geometry(const DeconvParams& p, const ArrayDims& data, const ArrayDims& weight,
                       const ArrayDims* bias);

// Throws ShapeError("out_grad") unless the output gradient has the output's dims.
void check_out_grad_dims(const Geometry& g, const Shape& got);

}  // namespace r
}  // namespace deconv
