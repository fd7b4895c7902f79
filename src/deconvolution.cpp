// .Call entries behind the eager deconvolution() and deconvolution_backward() on R
// arrays: convert and check (call_checks.h), allocate the results, call the core
// dispatch (float32 through its float32-on-double entries). Each runs behind the one
// boundary (r_boundary.h).
#include <Rinternals.h>

#include <cstring>
#include <thread>
#include <vector>

#include "call_checks.h"
#include "core/param_schema.h"
#include "convert.h"
#include "core/dispatch.h"
#include "core/huge_pages.h"
#include "last_run_stats.h"
#include "r_boundary.h"
#include "r_interrupt.h"

using namespace deconv;

namespace {

// An R double vector's memory (null for R's NULL).
const double* input_ptr(SEXP x) { return Rf_isNull(x) ? nullptr : REAL(x); }

// The same for a fresh result vector, with huge pages advised before its first touch.
double* output_ptr(SEXP v) {
  if (Rf_isNull(v)) return nullptr;
  prefer_huge_pages(REAL(v), static_cast<size_t>(Rf_xlength(v)) * sizeof(double));
  return REAL(v);
}

// Checks the arrays and parameters of an eager call; returns the geometry.
Geometry host_call_geometry(SEXP data, SEXP weight, SEXP bias, const DeconvParams& p) {
  const r::ArrayDims x = r::host_array_dims(data, "data");
  const r::ArrayDims w = r::host_array_dims(weight, "weight");
  if (Rf_isNull(bias)) return r::call_geometry(p, x, w, nullptr);
  const r::ArrayDims b = r::host_array_dims(bias, "bias");
  return r::call_geometry(p, x, w, &b);
}

void forward_r_arrays(bool f32, const Geometry& g, SEXP data, SEXP weight, SEXP bias, SEXP out,
                      const Context& ctx, const RunOptions& opts) {
  RunStats* stats = &r::last_cpu_run_stats();
  const double *x = input_ptr(data), *w = input_ptr(weight), *b = input_ptr(bias);
  if (f32) deconvolution_forward_float32(ctx, g, x, w, b, output_ptr(out), opts, stats);
  else deconvolution_forward<double>(ctx, g, x, w, b, output_ptr(out), opts, stats);
}

// The output of an eager forward on R arrays, after the array checks (both entries).
SEXP eager_forward(const DeconvParams& p, bool f32, SEXP data, SEXP weight, SEXP bias,
                   const Context& ctx, const RunOptions& opts) {
  const Geometry g = host_call_geometry(data, weight, bias, p);
  SEXP out = r::new_array(g.out_shape, "data");
  forward_r_arrays(f32, g, data, weight, bias, out, ctx, opts);
  return out;
}

void backward_r_arrays(bool f32, const Geometry& g, SEXP out_grad, SEXP data, SEXP weight,
                       SEXP dx, SEXP dw, SEXP db, const Context& ctx, const RunOptions& opts) {
  RunStats* stats = &r::last_cpu_run_stats();
  const double *dy = input_ptr(out_grad), *x = input_ptr(data), *w = input_ptr(weight);
  if (f32) {
    deconvolution_backward_float32(ctx, g, dy, x, w, output_ptr(dx), output_ptr(dw),
                                   output_ptr(db), opts, stats);
  } else {
    deconvolution_backward<double>(ctx, g, dy, x, w, output_ptr(dx), output_ptr(dw),
                                   output_ptr(db), opts, stats);
  }
}

}  // namespace

extern "C" SEXP C_deconvolution(SEXP data, SEXP weight, SEXP bias, SEXP params, SEXP dtype,
                                SEXP device, SEXP device_id, SEXP threads) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const bool f32 = r::is_float32(dtype);
    const Context ctx = r::context_from_r(device, device_id);
    const RunOptions opts = r::run_options(r::threads_from_r(threads, "deconv.threads"));
    return eager_forward(p, f32, data, weight, bias, ctx, opts);
  });
}

namespace {

// Whether x is what deconvolution()'s common case passes: a double vector of no class;
// NULL too when `null_ok`.
bool plain_doubles(SEXP x, bool null_ok) {
  if (Rf_isNull(x)) return null_ok;
  return TYPEOF(x) == REALSXP && !OBJECT(x);
}

// getOption("deconv.threads") when the fast path may take it: NULL (0) or a whole number
// up to the cores, where the checked path would neither refuse nor warn; -1 otherwise
// (the checked path then refuses it, or warns of more threads than cores).
int fast_threads(SEXP x) {
  if (Rf_isNull(x)) return 0;
  double v;
  if (!r::thread_value(x, &v) || !r::valid_thread_count(v)) return -1;
  static const double cores = std::thread::hardware_concurrency();
  return v <= 1 || v <= cores ? static_cast<int>(v) : -1;
}

// Whether the schema lists the parameters in the order C_deconvolution_fast takes them.
bool fast_order_holds() {
  static const bool holds = [] {
    const char* order[] = {"kernel",     "stride",    "dilate",    "pad",     "adj",
                           "target_shape", "num_filter", "num_group", "workspace", "no_bias",
                           "cudnn_tune", "cudnn_off", "layout"};
    const std::vector<ParamSpec>& schema = param_schema();
    if (schema.size() != sizeof(order) / sizeof(order[0])) return false;
    for (size_t k = 0; k < schema.size(); ++k)
      if (schema[k].name != order[k]) return false;
    return true;
  }();
  return holds;
}

}  // namespace

// deconvolution()'s fast path: the arguments as given (the 13 parameters in the
// schema's order), for plain double arrays on the CPU with no `...`, and the
// deconv.threads option. Returns NULL when the call is not that common case or any
// argument or shape is wrong: the R function then takes its checked path, which words
// every error (the layout hints included). Other failures (memory, interrupts) are
// errors as usual.
extern "C" SEXP C_deconvolution_fast(SEXP data, SEXP weight, SEXP bias, SEXP kernel,
                                     SEXP stride, SEXP dilate, SEXP pad, SEXP adj,
                                     SEXP target_shape, SEXP num_filter, SEXP num_group,
                                     SEXP workspace, SEXP no_bias, SEXP cudnn_tune,
                                     SEXP cudnn_off, SEXP layout, SEXP dtype, SEXP ctx) {
  return r::entry([&]() -> SEXP {
    static SEXP option = Rf_install("deconv.threads");
    const int nt = fast_threads(Rf_GetOption1(option));
    if (!plain_doubles(data, false) || !plain_doubles(weight, false) ||
        !plain_doubles(bias, true) || nt < 0 || TYPEOF(ctx) != STRSXP ||
        Rf_xlength(ctx) != 1 || std::strcmp(CHAR(STRING_ELT(ctx, 0)), "cpu") != 0) {
      return R_NilValue;
    }
    if (!fast_order_holds()) return R_NilValue;
    try {
      const SEXP values[] = {kernel,    stride,    dilate,  pad,        adj,
                             target_shape, num_filter, num_group, workspace, no_bias,
                             cudnn_tune, cudnn_off, layout};
      const DeconvParams p = r::params_from_values(values);
      return eager_forward(p, r::is_float32(dtype), data, weight, bias, Context{},
                           r::run_options(nt));
    } catch (const ParamError&) {
      return R_NilValue;
    } catch (const ShapeError&) {
      return R_NilValue;
    } catch (const UnsupportedError&) {
      return R_NilValue;
    }
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
    backward_r_arrays(f32, g, out_grad, data, weight, dx, dw, db, ctx, opts);
    return r::named_list({{"data", dx}, {"weight", dw}, {"bias", db}});
  });
}
