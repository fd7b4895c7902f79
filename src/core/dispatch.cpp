// Routes a call to the CPU kernels or the CUDA entry points.
#include "core/dispatch.h"

#include "core/cpu/deconv_cpu.h"
#include "core/cuda/cuda_entry_points.h"
#include "core/cuda/runtime/runtime_device_info.h"
#include "core/precision.h"

namespace deconv {

template <typename T>
void deconvolution_forward(const Context& ctx, const Geometry& g, const T* data, const T* weight,
                           const T* bias, T* out, const RunOptions& opts, RunStats* stats) {
  if (ctx.device == Device::GPU) {
    cuda::require_device(ctx.device_id);
    cuda::forward(ctx.device_id, g, data, weight, bias, out, opts);
  } else {
    cpu::forward(g, data, weight, bias, out, opts, stats);
  }
}

template <typename T>
void deconvolution_backward(const Context& ctx, const Geometry& g, const T* out_grad,
                            const T* data, const T* weight, T* data_grad, T* weight_grad,
                            T* bias_grad, const RunOptions& opts, RunStats* stats) {
  if (ctx.device == Device::GPU) {
    cuda::require_device(ctx.device_id);
    cuda::backward(ctx.device_id, g, out_grad, data, weight, data_grad, weight_grad, bias_grad,
                   opts);
  } else {
    cpu::backward(g, out_grad, data, weight, data_grad, weight_grad, bias_grad, opts, stats);
  }
}

void deconvolution_forward_float32(const Context& ctx, const Geometry& g, const double* data,
                                   const double* weight, const double* bias, double* out,
                                   const RunOptions& opts, RunStats* stats) {
  if (ctx.device == Device::CPU) {
    cpu::forward_float_on_double(g, data, weight, bias, out, opts, stats);
    return;
  }
  const auto x = narrowed(data, g.data_shape, opts), w = narrowed(weight, g.weight_shape, opts),
             b = narrowed(bias, g.bias_shape, opts);
  deconvolution_forward<float>(ctx, g, x.get(), w.get(), b.get(), as_floats(out), opts, stats);
  widen_result(out, g.out_shape, opts);
}

void deconvolution_backward_float32(const Context& ctx, const Geometry& g,
                                    const double* out_grad, const double* data,
                                    const double* weight, double* data_grad,
                                    double* weight_grad, double* bias_grad,
                                    const RunOptions& opts, RunStats* stats) {
  if (ctx.device == Device::CPU) {
    cpu::backward_float_on_double(g, out_grad, data, weight, data_grad, weight_grad, bias_grad,
                                  opts, stats);
    return;
  }
  on_float_copies(g, out_grad, data, weight, data_grad, weight_grad, bias_grad, opts,
                  [&](const float* dy, const float* x, const float* w, float* dx, float* dw,
                      float* db) {
                    deconvolution_backward<float>(ctx, g, dy, x, w, dx, dw, db, opts, stats);
                  });
}

// Device arrays were made on a device this build and machine could use, so no
// require_device here: the arrays' existence is the check.
template <typename T>
void deconvolution_forward_on_device(int device, const Geometry& g, const T* data,
                                     const T* weight, const T* bias, T* out,
                                     const RunOptions& opts) {
  cuda::forward_on_device(device, g, data, weight, bias, out, opts);
}

template <typename T>
void deconvolution_backward_on_device(int device, const Geometry& g, const T* out_grad,
                                      const T* data, const T* weight, T* data_grad,
                                      T* weight_grad, T* bias_grad, const RunOptions& opts) {
  cuda::backward_on_device(device, g, out_grad, data, weight, data_grad, weight_grad, bias_grad,
                           opts);
}

void require_gpu(int device) { cuda::require_device(device); }

void release_gpu_resources() { cuda::release_resources(); }

#define DECONV_INSTANTIATE(T)                                                                   \
  template void deconvolution_forward<T>(const Context&, const Geometry&, const T*, const T*,  \
                                         const T*, T*, const RunOptions&, RunStats*);           \
  template void deconvolution_backward<T>(const Context&, const Geometry&, const T*, const T*, \
                                          const T*, T*, T*, T*, const RunOptions&, RunStats*);  \
  template void deconvolution_forward_on_device<T>(int, const Geometry&, const T*, const T*,   \
                                                   const T*, T*, const RunOptions&);            \
  template void deconvolution_backward_on_device<T>(int, const Geometry&, const T*, const T*,  \
                                                    const T*, T*, T*, T*, const RunOptions&);
DECONV_INSTANTIATE(float)
DECONV_INSTANTIATE(double)
#undef DECONV_INSTANTIATE

}  // namespace deconv
