// R <-> core conversion, written once: tuples and dims arrive in R order (reversed
// MXNet order) and are checked for NA, non-integers and range here.
#pragma once

#include <Rcpp.h>

#include <string>

#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"

namespace deconv {
namespace r {

// R spelling of an MXNet parameter name: num_filter -> num.filter.
std::string r_arg_name(const std::string& arg);

// An integer-valued numeric vector (NULL -> empty), reversed into MXNet order.
Tuple tuple_from_r(SEXP x, const char* arg);

// A single integer / logical / string value, or `fallback` when NULL.
int64_t int_from_r(SEXP x, const char* arg, int64_t fallback);
bool bool_from_r(SEXP x, const char* arg, bool fallback);
std::string string_from_r(SEXP x, const char* arg);

// dtype "float32" (true) or "float64" (false); ParamError on anything else.
bool is_float32(const std::string& dtype);

// DeconvParams from the named list the R functions build (MXNet's underscore names).
DeconvParams params_from_r(const Rcpp::List& params);

// The MXNet-order shape of an R array (its dim reversed); a vector is 1-dimensional.
Shape shape_of(SEXP x);

// An R dim vector (R order) for an MXNet-order shape; errors if a dim exceeds R's int.
Rcpp::IntegerVector r_dim(const Shape& shape, const char* arg);

// "c(3, 3, 2, 4)": a shape written as R would write dim(x).
std::string r_dim_string(const Shape& mxnet_shape);

// Checks R arrays against the geometry, worded in R order.
void check_weight_r(const Geometry& g, SEXP weight);
void check_bias_r(const Geometry& g, SEXP bias);

}  // namespace r
}  // namespace deconv
