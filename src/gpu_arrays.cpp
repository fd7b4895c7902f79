// Rcpp entry points for arrays that stay on the GPU (executors bound with a GPU ctx)
// and for the GPU benchmark. A device array reaches R as
// list(ptr = <external pointer>, dim = <R dims>) of class "deconv_gpu_array"; the
// pointer's finalizer frees the device memory. In a CPU-only build every entry point
// raises the core's "no GPU support" error.
#include <Rcpp.h>

#include <memory>

#include "convert.h"
#include "core/cuda/deconv_cuda.h"
#include "r_errors.h"
#include "r_interrupt.h"

using namespace deconv;

namespace {

void finalize(SEXP p) {
  delete static_cast<cuda::DeviceArray*>(R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}

SEXP wrap_array(cuda::DeviceArray a, const Shape& shape) {
  SEXP ptr = PROTECT(R_MakeExternalPtr(new cuda::DeviceArray(std::move(a)), R_NilValue, R_NilValue));
  R_RegisterCFinalizerEx(ptr, finalize, TRUE);
  Rcpp::List out = Rcpp::List::create(Rcpp::Named("ptr") = ptr,
                                      Rcpp::Named("dim") = r::r_dim(shape, "data"));
  out.attr("class") = "deconv_gpu_array";
  UNPROTECT(1);
  return out;
}

const cuda::DeviceArray& unwrap(SEXP x, const char* arg) {
  if (!Rf_inherits(x, "deconv_gpu_array")) throw ParamError(arg, "expected a GPU array");
  SEXP ptr = Rcpp::List(x)["ptr"];
  auto* a = static_cast<cuda::DeviceArray*>(R_ExternalPtrAddr(ptr));
  if (!a) throw ParamError(arg, "this GPU array was freed (saved and reloaded sessions cannot keep device memory)");
  return *a;
}

Shape shape_of_array(SEXP x, const char* arg) {
  return r::tuple_from_r(Rcpp::List(x)["dim"], arg);
}

cuda::DeviceArray new_array(const cuda::DeviceArray& like, const Shape& shape) {
  return cuda::device_alloc(like.device, element_count(shape), like.f32);
}

}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP cpp_gpu_put(SEXP x, std::string dtype, int device) {
  return r::guarded([&]() -> SEXP {
    const bool f32 = r::is_float32(dtype);
    cuda::require_device(device);
    return wrap_array(cuda::device_upload(device, REAL(x), Rf_xlength(x), f32), r::shape_of(x));
  });
}

// [[Rcpp::export(rng = false)]]
SEXP cpp_gpu_get(SEXP x) {
  return r::guarded([&]() -> SEXP {
    const cuda::DeviceArray& a = unwrap(x, "x");
    Rcpp::NumericVector out(Rcpp::no_init(static_cast<R_xlen_t>(a.size)));
    cuda::device_download(a, out.begin());
    SEXP dim = Rcpp::List(x)["dim"];
    if (Rf_xlength(dim) > 1) out.attr("dim") = dim;
    return out;
  });
}

// acc += x on the device; returns acc.
// [[Rcpp::export(rng = false)]]
SEXP cpp_gpu_accumulate(SEXP acc, SEXP x) {
  return r::guarded([&]() -> SEXP {
    cuda::device_accumulate(unwrap(acc, "acc"), unwrap(x, "x"));
    return acc;
  });
}

namespace {

Geometry device_geometry(SEXP data, SEXP weight, SEXP bias, const DeconvParams& p) {
  Geometry g = infer_geometry(p, shape_of_array(data, "data"));
  check_weight_shape(g, shape_of_array(weight, "weight"));
  check_bias_given(p, !Rf_isNull(bias));
  if (!p.no_bias) check_bias_shape(g, shape_of_array(bias, "bias"));
  return g;
}

template <typename T>
SEXP forward_as(const Geometry& g, const cuda::DeviceArray& x, const cuda::DeviceArray& w,
                const cuda::DeviceArray* b, const RunOptions& opts) {
  cuda::DeviceArray y = new_array(x, g.out_shape);
  cuda::forward_on_device<T>(x.device, g, x.data<T>(), w.data<T>(), b ? b->data<T>() : nullptr,
                             y.data<T>(), opts);
  return wrap_array(std::move(y), g.out_shape);
}

template <typename T>
SEXP backward_as(const Geometry& g, const cuda::DeviceArray& dy, const cuda::DeviceArray& x,
                 const cuda::DeviceArray& w, bool want_data, bool want_weight, bool want_bias,
                 const RunOptions& opts) {
  cuda::DeviceArray dx, dw, db;
  if (want_data) dx = new_array(x, g.data_shape);
  if (want_weight) dw = new_array(x, g.weight_shape);
  if (want_bias) db = new_array(x, g.bias_shape);
  cuda::backward_on_device<T>(x.device, g, dy.data<T>(), x.data<T>(), w.data<T>(),
                              dx.data<T>(), dw.data<T>(), db.data<T>(), opts);
  return Rcpp::List::create(
      Rcpp::Named("data") = want_data ? wrap_array(std::move(dx), g.data_shape) : R_NilValue,
      Rcpp::Named("weight") = want_weight ? wrap_array(std::move(dw), g.weight_shape) : R_NilValue,
      Rcpp::Named("bias") = want_bias ? wrap_array(std::move(db), g.bias_shape) : R_NilValue);
}

}  // namespace

// Forward on GPU arrays (all on one device, of the array's precision); a new GPU array.
// [[Rcpp::export(rng = false)]]
SEXP cpp_gpu_deconvolution(SEXP data, SEXP weight, SEXP bias, Rcpp::List params) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = device_geometry(data, weight, bias, p);
    const cuda::DeviceArray& x = unwrap(data, "data");
    const cuda::DeviceArray* b = p.no_bias ? nullptr : &unwrap(bias, "bias");
    const RunOptions opts = r::run_options(1);
    if (x.f32) return forward_as<float>(g, x, unwrap(weight, "weight"), b, opts);
    return forward_as<double>(g, x, unwrap(weight, "weight"), b, opts);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP cpp_gpu_deconvolution_backward(SEXP out_grad, SEXP data, SEXP weight, SEXP bias,
                                    Rcpp::List params, bool want_data, bool want_weight) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = device_geometry(data, weight, bias, p);
    if (shape_of_array(out_grad, "out_grad") != g.out_shape) {
      throw ShapeError("out_grad", "expected dim = " + r::r_dim_string(g.out_shape) +
                                       " (the output's)");
    }
    const cuda::DeviceArray& dy = unwrap(out_grad, "out_grad");
    const cuda::DeviceArray& x = unwrap(data, "data");
    const cuda::DeviceArray& w = unwrap(weight, "weight");
    const RunOptions opts = r::run_options(1);
    if (x.f32) return backward_as<float>(g, dy, x, w, want_data, want_weight, !p.no_bias, opts);
    return backward_as<double>(g, dy, x, w, want_data, want_weight, !p.no_bias, opts);
  });
}

// Median milliseconds of `reps` passes on random device arrays (see cuda::benchmark_ms).
// [[Rcpp::export(rng = false)]]
SEXP cpp_gpu_benchmark(SEXP data_dim, Rcpp::List params, std::string dtype, int device, int reps,
                       bool backward) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = infer_geometry(p, r::tuple_from_r(data_dim, "data"));
    const bool f32 = r::is_float32(dtype);
    return Rcpp::wrap(cuda::benchmark_ms(device, g, f32, !p.no_bias, backward, reps));
  });
}

// Frees the GPU handles and algorithm cache (called when the package unloads).
// [[Rcpp::export(rng = false)]]
void cpp_gpu_release() { cuda::release_resources(); }
