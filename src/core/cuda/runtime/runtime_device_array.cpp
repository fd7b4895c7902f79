// The device arrays of core/device_array.h: allocation on a device, copies from and to
// R's doubles (narrowed to floats on the way in for float32), and accumulation.
#include <algorithm>
#include <memory>
#include <vector>

#include "core/cuda/cuda_elementwise.h"
#include "core/cuda/runtime/runtime_device_buffer.h"
#include "core/cuda/runtime/runtime_status.h"
#include "core/device_array.h"
#include "core/error.h"

namespace deconv {

using cuda::check;
using cuda::DeviceGuard;

namespace {

// Frees device memory on the device it came from.
std::shared_ptr<void> owned_on(int device, void* p) {
  return std::shared_ptr<void>(p, [device](void* q) {
    if (!q) return;
    int previous = 0;
    const bool restore = cudaGetDevice(&previous) == cudaSuccess;
    cudaSetDevice(device);
    cudaFree(q);
    if (restore) cudaSetDevice(previous);
  });
}

}  // namespace

DeviceArray device_alloc(int device, int64_t size, bool f32) {
  DeviceGuard guard(device);
  DeviceArray a;
  a.device = device;
  a.f32 = f32;
  a.size = size;
  void* p = nullptr;
  const size_t bytes = static_cast<size_t>(size) * (f32 ? sizeof(float) : sizeof(double));
  if (bytes) check(cudaMalloc(&p, bytes), "cudaMalloc");
  a.mem = owned_on(device, p);
  return a;
}

DeviceArray device_upload(int device, const double* host, int64_t size, bool f32) {
  DeviceArray a = device_alloc(device, size, f32);
  if (!size) return a;
  DeviceGuard guard(device);
  if (f32) {
    std::vector<float> narrow(host, host + size);
    check(cudaMemcpy(a.mem.get(), narrow.data(), size * sizeof(float), cudaMemcpyHostToDevice),
          "cudaMemcpy");
  } else {
    check(cudaMemcpy(a.mem.get(), host, size * sizeof(double), cudaMemcpyHostToDevice),
          "cudaMemcpy");
  }
  return a;
}

void device_download(const DeviceArray& a, double* host) {
  if (!a.size) return;
  DeviceGuard guard(a.device);
  if (a.f32) {
    std::vector<float> narrow(static_cast<size_t>(a.size));
    check(cudaMemcpy(narrow.data(), a.mem.get(), a.size * sizeof(float), cudaMemcpyDeviceToHost),
          "cudaMemcpy");
    std::copy(narrow.begin(), narrow.end(), host);
  } else {
    check(cudaMemcpy(host, a.mem.get(), a.size * sizeof(double), cudaMemcpyDeviceToHost),
          "cudaMemcpy");
  }
}

void device_accumulate(const DeviceArray& acc, const DeviceArray& x) {
  if (acc.size != x.size || acc.f32 != x.f32 || acc.device != x.device) {
    throw ShapeError("grad", "cannot add device arrays of different sizes, types or devices");
  }
  DeviceGuard guard(acc.device);
  if (acc.f32) {
    cuda::accumulate(acc.data<float>(), x.data<float>(), acc.size);
  } else {
    cuda::accumulate(acc.data<double>(), x.data<double>(), acc.size);
  }
}

}  // namespace deconv
