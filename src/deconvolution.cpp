// .Call entries behind the eager deconvolution() and deconvolution_backward() on R
// arrays: convert and check (call_checks.h), allocate the results, call the core
// dispatch. Each runs behind the one boundary (r_boundary.h).
#include <Rinternals.h>

#include <memory>
#include <type_traits>

#include "call_checks.h"
#include "convert.h"
#include "core/dispatch.h"
#include "core/huge_pages.h"
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
