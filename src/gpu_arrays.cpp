// .Call entries for arrays that stay on the GPU (executors bound with a GPU ctx) and for
// the GPU benchmark. A device array reaches R as list(ptr = <external pointer>, dim =
// <R dims>) of class "deconv_gpu_array"; the pointer carries a tag of ours and its
// finalizer frees the device memory. Arrays coming back from R are validated, not
// trusted: class, pointer tag, and dims that match the device allocation; the calls then
// get the checks of R arrays (call_checks.h) and go through the core dispatch. In a
// CPU-only build every entry raises the core's "no GPU support" error.
#include <Rinternals.h>

#include <cstring>
#include <memory>

#include "call_checks.h"
#include "convert.h"
#include "core/backend_info.h"
#include "core/device_array.h"
#include "core/dispatch.h"
#include "r_boundary.h"
#include "r_interrupt.h"

using namespace deconv;

namespace {

SEXP array_tag() {
  static SEXP tag = Rf_install("deconv_gpu_array");
  return tag;
}

void finalize(SEXP p) {
  delete static_cast<DeviceArray*>(R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}

SEXP wrap_array(DeviceArray a, const Shape& shape) {
  SEXP dim = r::r_dim(shape, "data");
  auto holder = std::make_unique<DeviceArray>(std::move(a));
  DeviceArray* raw = holder.get();
  SEXP ptr = r::keep(r::call_r([&] { return R_MakeExternalPtr(raw, array_tag(), R_NilValue); }));
  r::call_r([&] {
    R_RegisterCFinalizerEx(ptr, finalize, TRUE);
    return R_NilValue;
  });
  holder.release();  // the finalizer owns it now
  SEXP out = r::named_list({{"ptr", ptr}, {"dim", dim}});
  r::set_attr(out, R_ClassSymbol, r::scalar_string("deconv_gpu_array"));
  return out;
}

SEXP list_element(SEXP x, const char* name) {
  SEXP names = Rf_getAttrib(x, R_NamesSymbol);
  if (TYPEOF(names) != STRSXP) return R_NilValue;
  for (R_xlen_t i = 0; i < Rf_xlength(x); ++i)
    if (STRING_ELT(names, i) != NA_STRING && !strcmp(CHAR(STRING_ELT(names, i)), name))
      return VECTOR_ELT(x, i);
  return R_NilValue;
}

// A validated GPU array and its shape (MXNet order).
struct GpuArray {
  const DeviceArray* array;
  Shape shape;
  // As the shared checks see it: a GPU array made from an R vector has a dim of length 1,
  // reported as a vector without dim, as an R vector would be.
  r::ArrayDims dims() const { return {shape, shape.size() > 1}; }
};

GpuArray unwrap(SEXP x, const char* arg) {
  if (TYPEOF(x) != VECSXP || !Rf_inherits(x, "deconv_gpu_array"))
    throw ParamError(arg, "expected a GPU array (from an executor bound with a GPU ctx)");
  SEXP ptr = list_element(x, "ptr");
  if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != array_tag())
    throw ParamError(arg, "not a GPU array made by deconv (its pointer is missing or foreign)");
  auto* a = static_cast<DeviceArray*>(R_ExternalPtrAddr(ptr));
  if (!a) throw ParamError(arg, "this GPU array was freed (saved and reloaded sessions cannot keep device memory)");
  const Shape shape = r::tuple_from_r(list_element(x, "dim"), arg);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ParamError(arg, "its dim has a negative entry");
    n = checked_mul(n, d, arg);
  }
  if (shape.empty() || n != a->size)
    throw ParamError(arg, "its dim (" + r::r_dim_string(shape) + ") does not match its " +
                              std::to_string(a->size) + " values on the device");
  return {a, shape};
}

// The arrays of one pass must share the data's device and precision.
const DeviceArray& same_kind(const GpuArray& a, const GpuArray& data, const char* arg) {
  if (a.array->device != data.array->device || a.array->f32 != data.array->f32)
    throw ParamError(arg, "expected a GPU array on the data's device, of the data's precision");
  return *a.array;
}

DeviceArray new_array(const DeviceArray& like, const Shape& shape) {
  return device_alloc(like.device, element_count(shape), like.f32);
}

}  // namespace

extern "C" SEXP C_gpu_put(SEXP x, SEXP dtype, SEXP device) {
  return r::entry([&]() -> SEXP {
    const bool f32 = r::is_float32(dtype);
    const int id = r::device_id_from_r(device);
    r::check_double_array(x, "x");
    const Shape shape = r::shape_of(x);
    r::check_r_dims(shape, "x");
    require_gpu(id);
    return wrap_array(device_upload(id, REAL(x), Rf_xlength(x), f32), shape);
  });
}

extern "C" SEXP C_gpu_get(SEXP x) {
  return r::entry([&]() -> SEXP {
    const GpuArray a = unwrap(x, "x");
    SEXP out = r::new_array(a.shape, "x", a.shape.size() <= 1);
    device_download(*a.array, REAL(out));
    return out;
  });
}

// acc += x on the device; returns acc.
extern "C" SEXP C_gpu_accumulate(SEXP acc, SEXP x) {
  return r::entry([&]() -> SEXP {
    const GpuArray a = unwrap(acc, "acc"), b = unwrap(x, "x");
    if (a.shape != b.shape) throw ShapeError("x", "expected the dims of acc, " + r::r_dim_string(a.shape));
    device_accumulate(*a.array, same_kind(b, a, "x"));
    return acc;
  });
}

namespace {

// The checks of call_checks.h, as for R arrays.
Geometry device_call_geometry(const GpuArray& data, const GpuArray& weight, const GpuArray* bias,
                              const DeconvParams& p) {
  if (!bias) return r::call_geometry(p, data.dims(), weight.dims(), nullptr);
  const r::ArrayDims b = bias->dims();
  return r::call_geometry(p, data.dims(), weight.dims(), &b);
}

template <typename T>
SEXP forward_gpu_arrays(const Geometry& g, const DeviceArray& x, const DeviceArray& w,
                        const DeviceArray* b, const RunOptions& opts) {
  DeviceArray y = new_array(x, g.out_shape);
  deconvolution_forward_on_device<T>(x.device, g, x.data<T>(), w.data<T>(),
                                     b ? b->data<T>() : nullptr, y.data<T>(), opts);
  return wrap_array(std::move(y), g.out_shape);
}

template <typename T>
SEXP backward_gpu_arrays(const Geometry& g, const DeviceArray& dy, const DeviceArray& x,
                         const DeviceArray& w, bool want_data, bool want_weight,
                         bool want_bias, const RunOptions& opts) {
  DeviceArray dx, dw, db;
  if (want_data) dx = new_array(x, g.data_shape);
  if (want_weight) dw = new_array(x, g.weight_shape);
  if (want_bias) db = new_array(x, g.bias_shape);
  deconvolution_backward_on_device<T>(x.device, g, dy.data<T>(), x.data<T>(), w.data<T>(),
                                      dx.data<T>(), dw.data<T>(), db.data<T>(), opts);
  SEXP rdx = want_data ? wrap_array(std::move(dx), g.data_shape) : R_NilValue;
  SEXP rdw = want_weight ? wrap_array(std::move(dw), g.weight_shape) : R_NilValue;
  SEXP rdb = want_bias ? wrap_array(std::move(db), g.bias_shape) : R_NilValue;
  return r::named_list({{"data", rdx}, {"weight", rdw}, {"bias", rdb}});
}

}  // namespace

// Forward on GPU arrays (all on one device, of the array's precision); a new GPU array.
extern "C" SEXP C_gpu_deconvolution(SEXP data, SEXP weight, SEXP bias, SEXP params) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const GpuArray x = unwrap(data, "data"), w = unwrap(weight, "weight");
    std::unique_ptr<GpuArray> b;
    if (!Rf_isNull(bias)) b = std::make_unique<GpuArray>(unwrap(bias, "bias"));
    const Geometry g = device_call_geometry(x, w, b.get(), p);
    const DeviceArray& wa = same_kind(w, x, "weight");
    const DeviceArray* ba = b ? &same_kind(*b, x, "bias") : nullptr;
    const RunOptions opts = r::run_options(1);
    if (x.array->f32) return forward_gpu_arrays<float>(g, *x.array, wa, ba, opts);
    return forward_gpu_arrays<double>(g, *x.array, wa, ba, opts);
  });
}

extern "C" SEXP C_gpu_deconvolution_backward(SEXP out_grad, SEXP data, SEXP weight, SEXP bias,
                                             SEXP params, SEXP want_data, SEXP want_weight) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const bool wd = r::bool_from_r(want_data, "want_data", true);
    const bool ww = r::bool_from_r(want_weight, "want_weight", true);
    const GpuArray x = unwrap(data, "data"), w = unwrap(weight, "weight");
    const GpuArray dy = unwrap(out_grad, "out_grad");
    std::unique_ptr<GpuArray> b;
    if (!Rf_isNull(bias)) b = std::make_unique<GpuArray>(unwrap(bias, "bias"));
    const Geometry g = device_call_geometry(x, w, b.get(), p);
    r::check_out_grad_dims(g, dy.shape);
    const DeviceArray& wa = same_kind(w, x, "weight");
    const DeviceArray& dya = same_kind(dy, x, "out_grad");
    const RunOptions opts = r::run_options(1);
    if (x.array->f32)
      return backward_gpu_arrays<float>(g, dya, *x.array, wa, wd, ww, !p.no_bias, opts);
    return backward_gpu_arrays<double>(g, dya, *x.array, wa, wd, ww, !p.no_bias, opts);
  });
}

// Median milliseconds of `reps` passes on random device arrays (see gpu_benchmark_ms).
extern "C" SEXP C_gpu_benchmark(SEXP data_dim, SEXP params, SEXP dtype, SEXP device, SEXP reps,
                                SEXP backward) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = infer_geometry(p, r::tuple_from_r(data_dim, "data"));
    const bool f32 = r::is_float32(dtype);
    const int id = r::device_id_from_r(device);
    const int64_t n = r::int_from_r(reps, "reps", 20);
    if (n < 1 || n > 100000) throw ParamError("reps", "expected a whole number in [1, 100000]");
    const bool bwd = r::bool_from_r(backward, "backward", false);
    return r::scalar_real(gpu_benchmark_ms(id, g, f32, !p.no_bias, bwd, static_cast<int>(n)));
  });
}

// Frees the GPU handles and algorithm cache (called when the package unloads).
extern "C" SEXP C_gpu_release() {
  return r::entry([&]() -> SEXP {
    release_gpu_resources();
    return R_NilValue;
  });
}
