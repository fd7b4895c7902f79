// Launch shapes shared by deconv's CUDA kernels: 1-D grid-stride loops over 64-bit
// element counts.
#pragma once

#include <algorithm>
#include <cstdint>

namespace deconv {
namespace cuda {

constexpr int kThreads = 256;
// Enough blocks to fill any current GPU many times over; grid-stride loops do the rest.
constexpr int64_t kMaxBlocks = int64_t(1) << 16;

inline unsigned int blocks_for(int64_t n, int threads = kThreads) {
  return static_cast<unsigned int>(std::min<int64_t>((n + threads - 1) / threads, kMaxBlocks));
}

// Index of this thread in a 1-D grid and the grid's total number of threads, in 64 bits.
__device__ inline int64_t grid_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace cuda
}  // namespace deconv
