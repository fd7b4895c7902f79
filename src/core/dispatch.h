// The one device dispatch: every front end calls these, never a kernel directly.
#pragma once

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {

enum class Device { CPU, GPU };

struct Context {
  Device device = Device::CPU;
  int device_id = 0;
};

template <typename T>
void deconvolution_forward(const Context& ctx, const Geometry& g, const T* data, const T* weight,
                           const T* bias, T* out, const RunOptions& opts,
                           RunStats* stats = nullptr);

template <typename T>
void deconvolution_backward(const Context& ctx, const Geometry& g, const T* out_grad,
                            const T* data, const T* weight, T* data_grad, T* weight_grad,
                            T* bias_grad, const RunOptions& opts, RunStats* stats = nullptr);

}  // namespace deconv
