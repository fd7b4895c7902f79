// Arrays that stay on a GPU between calls: executors bound with a GPU ctx keep their node
// values there, and the binding holds them as DeviceArray without any CUDA header.
// Implemented by cuda/runtime/runtime_device_array.cpp; in a build without CUDA by
// cuda/cuda_stubs.cpp, where each function raises the core's "no GPU support" error.
#pragma once

#include <cstdint>
#include <memory>

namespace deconv {

struct DeviceArray {
  int device = 0;
  bool f32 = false;      // float elements; otherwise double
  int64_t size = 0;      // number of elements
  std::shared_ptr<void> mem;  // device memory; the deleter frees it on `device`
  template <typename T>
  T* data() const { return static_cast<T*>(mem.get()); }
};

DeviceArray device_alloc(int device, int64_t size, bool f32);  // contents undefined
// `size` host doubles, stored as floats when f32.
DeviceArray device_upload(int device, const double* host, int64_t size, bool f32);
void device_download(const DeviceArray& a, double* host);      // a.size doubles
// acc += x; ShapeError("grad") unless both have the same size, precision and device.
void device_accumulate(const DeviceArray& acc, const DeviceArray& x);

}  // namespace deconv
