// The GPU entry points of cuda_entry_points.h: device choice, host <-> device copies, the
// channels-last <-> channels-first transposes, the bias, and the choice between the
// cuDNN path and the cudnn_off path (deconv's own kernels).
#include <algorithm>
#include <vector>

#include "core/cuda/colgemm/colgemm_deconv.h"
#include "core/cuda/cuda_elementwise.h"
#include "core/cuda/cuda_entry_points.h"
#include "core/cuda/cudnn/cudnn_deconv.h"
#include "core/cuda/runtime/runtime_context.h"
#include "core/cuda/runtime/runtime_device_buffer.h"
#include "core/cuda/runtime/runtime_device_info.h"
#include "core/cuda/runtime/runtime_status.h"
#include "core/error.h"

namespace deconv {
namespace cuda {

namespace {

// The same problem with channels first (the layout both GPU paths compute in).
Geometry channels_first(const Geometry& g) {
  if (!g.channels_last) return g;
  Geometry c = g;
  c.channels_last = false;
  c.layout = g.rank == 3 ? Layout::NCDHW : g.rank == 2 ? Layout::NCHW : Layout::NCW;
  auto move_channels = [](const Shape& s) {  // (N, spatial..., C) -> (N, C, spatial...)
    Shape t{s.front(), s.back()};
    t.insert(t.end(), s.begin() + 1, s.end() - 1);
    return t;
  };
  c.data_shape = move_channels(g.data_shape);
  c.out_shape = move_channels(g.out_shape);
  c.weight_shape = move_channels(g.weight_shape);  // (C, k..., F/G) -> (C, F/G, k...)
  return c;
}

// A channels-first copy of a channels-last tensor (n, inner, c), or the pointer itself.
template <typename T>
const T* first_view(const Geometry& g, const T* src, int64_t n, int64_t inner, int64_t c,
                    DeviceBuffer& store) {
  if (!g.channels_last || !src) return src;
  store = device_buffer<T>(n * inner * c);
  transpose_last_to_first(src, store.as<T>(), n, inner, c);
  return store.as<T>();
}

// Where a channels-first result goes before it is transposed into `dst` (or dst itself).
template <typename T>
T* first_target(const Geometry& g, T* dst, int64_t elements, DeviceBuffer& store) {
  if (!g.channels_last || !dst) return dst;
  store = device_buffer<T>(elements);
  return store.as<T>();
}

template <typename T>
DeviceBuffer upload(const T* host, int64_t n) {
  DeviceBuffer b = device_buffer<T>(n);
  if (host && n) check(cudaMemcpy(b.get(), host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  return b;
}

template <typename T>
void download(const DeviceBuffer& b, T* host, int64_t n) {
  if (host && n) check(cudaMemcpy(host, b.get(), n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
}

class Event {
 public:
  Event() { check(cudaEventCreate(&e_), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  operator cudaEvent_t() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

template <typename T>
double benchmark_as(int device, const Geometry& g, bool with_bias, bool backward_pass, int reps) {
  DeviceGuard guard(device);
  const int64_t nx = element_count(g.data_shape), nw = element_count(g.weight_shape);
  const int64_t ny = element_count(g.out_shape);
  DeviceBuffer x = device_buffer<T>(nx), w = device_buffer<T>(nw), y = device_buffer<T>(ny);
  DeviceBuffer b = with_bias ? device_buffer<T>(g.num_filter) : DeviceBuffer();
  DeviceBuffer dx, dw, db;
  fill_uniform(x.as<T>(), nx, 1);
  fill_uniform(w.as<T>(), nw, 2);
  fill_uniform(y.as<T>(), ny, 3);  // the output gradient, for backward
  if (with_bias) fill_uniform(b.as<T>(), g.num_filter, 4);
  if (backward_pass) {
    dx = device_buffer<T>(nx);
    dw = device_buffer<T>(nw);
    if (with_bias) db = device_buffer<T>(g.num_filter);
  }
  const RunOptions opts;
  auto pass = [&] {
    if (backward_pass) {
      backward_on_device<T>(device, g, y.as<T>(), x.as<T>(), w.as<T>(), dx.as<T>(), dw.as<T>(),
                            with_bias ? db.as<T>() : nullptr, opts);
    } else {
      forward_on_device<T>(device, g, x.as<T>(), w.as<T>(), with_bias ? b.as<T>() : nullptr,
                           y.as<T>(), opts);
    }
  };
  for (int i = 0; i < 2; ++i) pass();  // algorithm choice, handles, caches
  Event start, stop;
  std::vector<double> ms;
  for (int i = 0; i < std::max(reps, 1); ++i) {
    check(cudaEventRecord(start), "cudaEventRecord");
    pass();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float t = 0;
    check(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

// ---- passes on device memory ------------------------------------------------------------

template <typename T>
void forward_on_device(int device, const Geometry& g, const T* data, const T* weight,
                       const T* bias, T* out, const RunOptions& opts) {
  DeviceGuard guard(device);
  GpuContext& ctx = gpu_context(device);
  const Geometry cf = channels_first(g);
  const int64_t K = g.kernel_size(), Fg = g.filters_per_group();
  DeviceBuffer xs, ws, ys;
  const T* x = first_view(g, data, g.batch, g.in_size(), g.channels, xs);
  const T* w = first_view(g, weight, g.channels, K, Fg, ws);
  T* y = first_target(g, out, g.batch * g.num_filter * g.out_size(), ys);
  if (g.cudnn_off) {
    colgemm_forward(ctx, cf, x, w, y, opts);
  } else {
    cudnn_forward(ctx, cf, x, w, y, opts);
  }
  if (bias) add_bias(y, bias, g.batch, g.num_filter, g.out_size());
  if (g.channels_last) transpose_first_to_last(y, out, g.batch, g.num_filter, g.out_size());
}

template <typename T>
void backward_on_device(int device, const Geometry& g, const T* out_grad, const T* data,
                        const T* weight, T* data_grad, T* weight_grad, T* bias_grad,
                        const RunOptions& opts) {
  DeviceGuard guard(device);
  GpuContext& ctx = gpu_context(device);
  const Geometry cf = channels_first(g);
  const int64_t K = g.kernel_size(), Fg = g.filters_per_group();
  DeviceBuffer dys, xs, ws, dxs, dws;
  const T* dy = first_view(g, out_grad, g.batch, g.out_size(), g.num_filter, dys);
  if (bias_grad) deconv::cuda::bias_grad(dy, bias_grad, g.batch, g.num_filter, g.out_size());
  const T* x = first_view(g, data, g.batch, g.in_size(), g.channels, xs);
  const T* w = first_view(g, weight, g.channels, K, Fg, ws);
  T* dx = first_target(g, data_grad, g.batch * g.channels * g.in_size(), dxs);
  T* dw = first_target(g, weight_grad, g.channels * Fg * K, dws);
  if (g.cudnn_off) {
    colgemm_backward(ctx, cf, dy, x, w, dx, dw, opts);
  } else {
    cudnn_backward(ctx, cf, dy, x, w, dx, dw, opts);
  }
  if (g.channels_last && data_grad)
    transpose_first_to_last(dx, data_grad, g.batch, g.channels, g.in_size());
  if (g.channels_last && weight_grad) transpose_first_to_last(dw, weight_grad, g.channels, Fg, K);
}

// ---- passes on host memory: copy in, compute, copy out ----------------------------------

template <typename T>
void forward(int device, const Geometry& g, const T* data, const T* weight, const T* bias, T* out,
             const RunOptions& opts) {
  DeviceGuard guard(device);
  throw_if_interrupted(opts);
  const int64_t ny = element_count(g.out_shape);
  DeviceBuffer x = upload(data, element_count(g.data_shape));
  DeviceBuffer w = upload(weight, element_count(g.weight_shape));
  DeviceBuffer b = bias ? upload(bias, g.num_filter) : DeviceBuffer();
  DeviceBuffer y = device_buffer<T>(ny);
  forward_on_device(device, g, x.as<T>(), w.as<T>(), b.as<T>(), y.as<T>(), opts);
  download(y, out, ny);
  throw_if_interrupted(opts);
}

template <typename T>
void backward(int device, const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts) {
  DeviceGuard guard(device);
  throw_if_interrupted(opts);
  const int64_t nx = element_count(g.data_shape), nw = element_count(g.weight_shape);
  DeviceBuffer dy = upload(out_grad, element_count(g.out_shape));
  DeviceBuffer x = upload(data, nx), w = upload(weight, nw);
  DeviceBuffer dx = data_grad ? device_buffer<T>(nx) : DeviceBuffer();
  DeviceBuffer dw = weight_grad ? device_buffer<T>(nw) : DeviceBuffer();
  DeviceBuffer db = bias_grad ? device_buffer<T>(g.num_filter) : DeviceBuffer();
  backward_on_device(device, g, dy.as<T>(), x.as<T>(), w.as<T>(), dx.as<T>(), dw.as<T>(),
                     db.as<T>(), opts);
  download(dx, data_grad, nx);
  download(dw, weight_grad, nw);
  download(db, bias_grad, g.num_filter);
  throw_if_interrupted(opts);
}

double benchmark_ms(int device, const Geometry& g, bool f32, bool with_bias, bool backward_pass,
                    int reps) {
  require_device(device);
  return f32 ? benchmark_as<float>(device, g, with_bias, backward_pass, reps)
             : benchmark_as<double>(device, g, with_bias, backward_pass, reps);
}

void release_resources() {
  clear_algorithm_cache();
  release_gpu_contexts();
}

DECONV_CUDA_INSTANTIATE_ENTRY_POINTS(float)
DECONV_CUDA_INSTANTIATE_ENTRY_POINTS(double)

}  // namespace cuda
}  // namespace deconv
