// .Call entries behind the eager deconvolution() and deconvolution_backward() on R
// arrays: convert and check (call_checks.h), allocate the results, call the core
// dispatch. Each runs behind the one boundary (r_boundary.h).
#include <Rinternals.h>

#include <memory>
#include <string>
#include <vector>
#include <type_traits>

#include "call_checks.h"
#include "convert.h"
#include "core/dispatch.h"
#include "core/huge_pages.h"
#include "core/mxnet_attrs.h"
#include "last_run_stats.h"
#include "precision.h"
#include "r_boundary.h"
#include "r_interrupt.h"

using namespace deconv;

namespace {

// An input as T: R's doubles themselves, or a float copy.
template <typename T>
struct Input {
  std::unique_ptr<float[]> store;
  const T* ptr = nullptr;
  Input(SEXP x, const RunOptions& opts) {
    if (Rf_isNull(x)) return;
    if constexpr (std::is_same<T, double>::value) {
      ptr = REAL(x);
    } else {
      store = r::narrow(REAL(x), Rf_xlength(x), opts);
      ptr = store.get();
    }
  }
};

// Where a T result goes: the R vector's memory (floats are widened afterwards).
template <typename T>
T* output_ptr(SEXP v) {
  if (Rf_isNull(v)) return nullptr;
  prefer_huge_pages(REAL(v), static_cast<size_t>(Rf_xlength(v)) * sizeof(double));
  return reinterpret_cast<T*>(REAL(v));
}

template <typename T>
void finish_output(SEXP v, const RunOptions& opts) {
  if constexpr (!std::is_same<T, double>::value)
    if (!Rf_isNull(v)) r::widen_in_place(REAL(v), Rf_xlength(v), opts);
}

// Checks the arrays and parameters of an eager call; returns the geometry.
Geometry host_call_geometry(SEXP data, SEXP weight, SEXP bias, const DeconvParams& p) {
  const r::ArrayDims x = r::host_array_dims(data, "data");
  const r::ArrayDims w = r::host_array_dims(weight, "weight");
  if (Rf_isNull(bias)) return r::call_geometry(p, x, w, nullptr);
  const r::ArrayDims b = r::host_array_dims(bias, "bias");
  return r::call_geometry(p, x, w, &b);
}

template <typename T>
void forward_r_arrays(const Geometry& g, SEXP data, SEXP weight, SEXP bias, SEXP out,
                      const Context& ctx, const RunOptions& opts) {
  Input<T> x(data, opts), w(weight, opts), b(bias, opts);
  deconvolution_forward<T>(ctx, g, x.ptr, w.ptr, b.ptr, output_ptr<T>(out), opts,
                           &r::last_cpu_run_stats());
  finish_output<T>(out, opts);
}

template <typename T>
void backward_r_arrays(const Geometry& g, SEXP out_grad, SEXP data, SEXP weight, SEXP dx,
                       SEXP dw, SEXP db, const Context& ctx, const RunOptions& opts) {
  Input<T> dy(out_grad, opts), x(data, opts), w(weight, opts);
  deconvolution_backward<T>(ctx, g, dy.ptr, x.ptr, w.ptr, output_ptr<T>(dx), output_ptr<T>(dw),
                            output_ptr<T>(db), opts, &r::last_cpu_run_stats());
  for (SEXP v : {dx, dw, db}) finish_output<T>(v, opts);
}

}  // namespace

extern "C" SEXP C_deconvolution(SEXP data, SEXP weight, SEXP bias, SEXP params, SEXP dtype,
                                SEXP device, SEXP device_id, SEXP threads) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const bool f32 = r::is_float32(dtype);
    const Context ctx = r::context_from_r(device, device_id);
    const RunOptions opts = r::run_options(r::threads_from_r(threads, "deconv.threads"));
    const Geometry g = host_call_geometry(data, weight, bias, p);
    SEXP out = r::new_array(g.out_shape, "data");
    if (f32) forward_r_arrays<float>(g, data, weight, bias, out, ctx, opts);
    else forward_r_arrays<double>(g, data, weight, bias, out, ctx, opts);
    return out;
  });
}

extern "C" SEXP C_deconvolution_backward(SEXP out_grad, SEXP data, SEXP weight, SEXP bias,
                                         SEXP params, SEXP dtype, SEXP device, SEXP device_id,
                                         SEXP threads, SEXP want_data, SEXP want_weight) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const bool f32 = r::is_float32(dtype);
    const Context ctx = r::context_from_r(device, device_id);
    const RunOptions opts = r::run_options(r::threads_from_r(threads, "deconv.threads"));
    const bool wd = r::bool_from_r(want_data, "want_data", true);
    const bool ww = r::bool_from_r(want_weight, "want_weight", true);
    const Geometry g = host_call_geometry(data, weight, bias, p);
    r::check_out_grad_dims(g, r::host_array_dims(out_grad, "out_grad").shape);
    SEXP dx = wd ? r::new_array(g.data_shape, "data") : R_NilValue;
    SEXP dw = ww ? r::new_array(g.weight_shape, "weight") : R_NilValue;
    SEXP db = p.no_bias ? R_NilValue : r::new_array(g.bias_shape, "bias", true);
    if (f32) backward_r_arrays<float>(g, out_grad, data, weight, dx, dw, db, ctx, opts);
    else backward_r_arrays<double>(g, out_grad, data, weight, dx, dw, db, ctx, opts);
    return r::named_list({{"data", dx}, {"weight", dw}, {"bias", db}});
  });
}

namespace {

// The normalized parameters as the R list symbols keep (tuples in R order).
SEXP params_value(const DeconvParams& p) {
  auto tuple = [](const Tuple& t, const char* arg) {
    for (int64_t v : t)  // the core allows 2^31; R's integers stop one short
      if (v > INT32_MAX) throw ParamError(arg, "expected values up to 2^31 - 1, got " + std::to_string(v));
    return r::r_dim(t, arg);
  };
    return r::named_list(
        {{"kernel", tuple(p.kernel, "kernel")}, {"stride", tuple(p.stride, "stride")},
         {"dilate", tuple(p.dilate, "dilate")}, {"pad", tuple(p.pad, "pad")},
         {"adj", tuple(p.adj, "adj")}, {"target_shape", tuple(p.target_shape, "target_shape")},
         {"num_filter", r::scalar_real(static_cast<double>(p.num_filter))},
         {"num_group", r::scalar_real(static_cast<double>(p.num_group))},
         {"workspace", r::scalar_real(static_cast<double>(p.workspace))},
         {"no_bias", r::scalar_lgl(p.no_bias)},
         {"cudnn_tune", r::scalar_string(cudnn_tune_name(p.cudnn_tune))},
         {"cudnn_off", r::scalar_lgl(p.cudnn_off)},
         {"layout", r::scalar_string(layout_name(p.layout))}});
}

// A character vector's elements (NA, NUL-free by R's construction, refused as NA).
std::vector<std::string> strings_from_r(SEXP x, const char* arg) {
  if (TYPEOF(x) != STRSXP) throw ParamError(arg, "expected a character vector");
  std::vector<std::string> out;
  for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) {
    if (STRING_ELT(x, i) == NA_STRING) throw ParamError(arg, "expected strings, got NA");
    out.emplace_back(CHAR(STRING_ELT(x, i)));
  }
  return out;
}

}  // namespace

// Shape-independent validation (the errors a symbol raises when it is made) and the
// normalized parameters, tuples in R order with defaults filled in.
extern "C" SEXP C_deconvolution_params(SEXP params) {
  return r::entry([&]() -> SEXP { return params_value(normalize_params(r::symbol_params(r::params_from_r(params)))); });
}

// The same from MXNet's attribute strings (a symbol's JSON): keys and values.
extern "C" SEXP C_params_from_attrs(SEXP keys, SEXP values) {
  return r::entry([&]() -> SEXP {
    const std::vector<std::string> k = strings_from_r(keys, "json"), v = strings_from_r(values, "json");
    if (k.size() != v.size()) throw ParamError("json", "expected one value per attribute");
    AttrList attrs;
    for (size_t i = 0; i < k.size(); ++i) attrs.emplace_back(k[i], v[i]);
    return params_value(normalize_params(params_from_mxnet_attrs(attrs)));
  });
}

// MXNet's attribute strings of the parameters `keys` (MXNet names), a named character
// vector in that order: what a symbol writes to JSON.
extern "C" SEXP C_mxnet_attrs(SEXP params, SEXP keys) {
  return r::entry([&]() -> SEXP {
    const AttrList attrs = mxnet_attrs_from_params(r::params_from_r(params), strings_from_r(keys, "keys"));
    const R_xlen_t n = static_cast<R_xlen_t>(attrs.size());
    SEXP out = r::new_vector(STRSXP, n, "attrs");
    SEXP names = r::new_vector(STRSXP, n, "attrs");
    for (R_xlen_t i = 0; i < n; ++i) {
      const char* key = attrs[i].first.c_str();
      const char* value = attrs[i].second.c_str();
      r::call_r([&] {
        SET_STRING_ELT(out, i, Rf_mkCharCE(value, CE_UTF8));
        SET_STRING_ELT(names, i, Rf_mkCharCE(key, CE_UTF8));
        return R_NilValue;
      });
    }
    r::set_attr(out, R_NamesSymbol, names);
    return out;
  });
}
