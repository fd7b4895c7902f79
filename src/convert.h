// R <-> core conversion, written once. Every value from R is checked here where it
// enters C++: type, class (factors and other classed objects are refused, their codes
// are not numbers), NA, Inf, fractions, size and length. Tuples and dims arrive in R
// order (reversed MXNet order). Errors are deconv::ParamError / ShapeError naming the
// argument (MXNet spelling; the boundary words it as R does).
#pragma once

#include <Rinternals.h>

#include <string>

#include "core/dispatch.h"
#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"

namespace deconv {
namespace r {

// R spelling of an MXNet parameter name: num_filter -> num.filter.
std::string r_arg_name(const std::string& arg);

// A number for a message: integers in full up to 2^53, else 6 significant digits.
std::string number_text(double v);
// "288 GB", "3.5 MB".
std::string bytes_text(double bytes);
// What x is, for messages: "NULL", "TRUE", "32", "\"abc\"", "a list of length 2", ...
std::string describe(SEXP x);

// An integer-valued numeric vector (NULL -> empty), reversed into MXNet order.
Tuple tuple_from_r(SEXP x, const char* arg);

// A single integer / logical / string value, or `fallback` when NULL.
int64_t int_from_r(SEXP x, const char* arg, int64_t fallback);
bool bool_from_r(SEXP x, const char* arg, bool fallback);
std::string string_from_r(SEXP x, const char* arg);  // NULL -> ""

// dtype "float32" (true) or "float64" (false); ParamError on anything else.
bool is_float32(SEXP dtype);

// A thread count in [0, thread_limit()] (0: OpenMP's default).
int threads_from_r(SEXP x, const char* arg);
// Its parts, for callers that do not throw: x's value if x is one plain number (NA as
// NaN), and whether a value is such a count.
bool thread_value(SEXP x, double* v);
bool valid_thread_count(double v);

// A device number (0 to INT_MAX), and a device ("cpu" or "gpu") with its number.
int device_id_from_r(SEXP device_id);
Context context_from_r(SEXP device, SEXP device_id);

// DeconvParams from the named list the R functions build (MXNet's underscore names).
DeconvParams params_from_r(SEXP params);

// The same from one value per parameter, in the schema's order (param_schema.h).
DeconvParams params_from_values(const SEXP* values);

// A double array given as `arg` (the R layer converts integers); refuses anything else.
void check_double_array(SEXP x, const char* arg);

// The MXNet-order shape of an R array (its dim reversed); a vector is 1-dimensional.
Shape shape_of(SEXP x);

// Throws ShapeError(arg) unless every dim fits R's int (checked before allocating).
void check_r_dims(const Shape& shape, const char* arg);

// An R dim vector (R order) for an MXNet-order shape, kept until the entry returns.
SEXP r_dim(const Shape& shape, const char* arg);

// A new double array of `shape` (dims set unless as_vector), allocated after the checks.
SEXP new_array(const Shape& shape, const char* arg, bool as_vector = false);

// "c(3, 3, 2, 4)": a shape written as R would write dim(x).
std::string r_dim_string(const Shape& mxnet_shape);

// Checks weight and bias dims against the geometry, worded in R order.
void check_weight_dims(const Geometry& g, const Shape& got, bool has_dim);
void check_bias_dims(const Geometry& g, const Shape& got);

// One value for every spatial dimension, as torch and keras allow: each one-value tuple
// of p becomes `rank` copies (rank 1 to 3); other lengths than 1 and rank are refused,
// naming the argument and saying why (`why`: "kernel has 2 values", "the data is 2D").
void broadcast_tuples(DeconvParams& p, size_t rank, const std::string& why);

// A symbol's parameters: kernel's length sets the rank, as in MXNet.
DeconvParams symbol_params(DeconvParams p);

// The geometry of an eager call on data of `data` (MXNet order). There a one-value
// kernel takes the rank of an explicit layout, else the data's (kernel = 4 with 2D
// data means (4, 4)); a longer kernel sets it, as in symbols.
Geometry eager_geometry(DeconvParams p, const Shape& data);

// The geometry of an eager call, with the weight and bias checked against it.
Geometry checked_geometry(const DeconvParams& p, const Shape& data, const Shape& weight,
                          bool weight_has_dim, bool has_bias, const Shape& bias);

}  // namespace r
}  // namespace deconv
