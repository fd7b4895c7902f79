// Element-wise kernels shared by the GPU paths (declared in cuda_elementwise.h). 64-bit
// indices, grid-stride loops, default stream; every launch is checked.
#include "core/cuda/cuda_elementwise.h"

#include "core/cuda/runtime/runtime_launch.cuh"
#include "core/cuda/runtime/runtime_status.h"

namespace deconv {
namespace cuda {

namespace {

// ---- transposes: (batch, rows, cols) -> (batch, cols, rows) through 32 x 32 tiles -----
constexpr int kTile = 32;
constexpr int kTileRows = 8;  // threads per tile: kTile x kTileRows

template <typename T>
__global__ void transpose_kernel(const T* __restrict__ src, T* __restrict__ dst, int64_t rows,
                                 int64_t cols, int64_t tiles_r, int64_t tiles_c, int64_t total) {
  __shared__ T tile[kTile][kTile + 1];  // +1: no bank conflicts on the transposed read
  const int64_t per_matrix = tiles_r * tiles_c;
  // The loop bound depends on the block only, so every thread meets the barriers.
  for (int64_t t = blockIdx.x; t < total; t += gridDim.x) {
    const int64_t b = t / per_matrix;
    const int64_t rem = t - b * per_matrix;
    const int64_t r0 = (rem / tiles_c) * kTile;
    const int64_t c0 = (rem % tiles_c) * kTile;
    const T* s = src + b * rows * cols;
    T* d = dst + b * rows * cols;
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {
      const int64_t r = r0 + j, c = c0 + threadIdx.x;
      if (r < rows && c < cols) tile[j][threadIdx.x] = s[r * cols + c];
    }
    __syncthreads();
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {
      const int64_t c = c0 + j, r = r0 + threadIdx.x;
      if (r < rows && c < cols) d[c * rows + r] = tile[threadIdx.x][j];
    }
    __syncthreads();
  }
}

template <typename T>
void transpose(const T* src, T* dst, int64_t batch, int64_t rows, int64_t cols) {
  if (batch <= 0 || rows <= 0 || cols <= 0) return;
  const int64_t tiles_r = (rows + kTile - 1) / kTile;
  const int64_t tiles_c = (cols + kTile - 1) / kTile;
  const int64_t total = batch * tiles_r * tiles_c;
  const unsigned int blocks = static_cast<unsigned int>(std::min<int64_t>(total, kMaxBlocks));
  transpose_kernel<T><<<blocks, dim3(kTile, kTileRows)>>>(src, dst, rows, cols, tiles_r, tiles_c,
                                                          total);
  check_launch("transpose_kernel");
}

// ---- bias ----------------------------------------------------------------------------
template <typename T>
__global__ void add_bias_kernel(T* __restrict__ y, const T* __restrict__ b, int64_t total,
                                int64_t c, int64_t inner) {
  for (int64_t i = grid_index(); i < total; i += grid_stride()) y[i] += b[(i / inner) % c];
}

// One block per channel (grid-stride over channels); each thread sums a fixed subset of
// the channel's n*inner values in double, then a fixed-shape tree adds the partial sums:
// the same inputs always give the same bits.
constexpr int kReduceThreads = 256;

template <typename T>
__global__ void bias_grad_kernel(const T* __restrict__ dy, T* __restrict__ db, int64_t n,
                                 int64_t c, int64_t inner) {
  __shared__ double partial[kReduceThreads];
  const int64_t count = n * inner;
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double acc = 0;
    for (int64_t j = threadIdx.x; j < count; j += kReduceThreads) {
      const int64_t i = j / inner;
      acc += static_cast<double>(dy[(i * c + ch) * inner + (j - i * inner)]);
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int width = kReduceThreads / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) db[ch] = static_cast<T>(partial[0]);
    __syncthreads();  // partial[0] is read before the next channel overwrites it
  }
}

// ---- windows, sums, random fills -----------------------------------------------------
template <typename T>
__global__ void copy_window_kernel(const T* __restrict__ src, T* __restrict__ dst, int64_t total,
                                   int64_t s0, int64_t s1, int64_t s2, int64_t d0, int64_t d1,
                                   int64_t d2, int64_t o0, int64_t o1, int64_t o2) {
  const int64_t dst_plane = d0 * d1 * d2, src_plane = s0 * s1 * s2;
  for (int64_t i = grid_index(); i < total; i += grid_stride()) {
    const int64_t x = i % d2;
    int64_t q = i / d2;
    const int64_t y = q % d1;
    q /= d1;
    const int64_t z = q % d0;
    const int64_t plane = q / d0;
    const int64_t sz = z + o0, sy = y + o1, sx = x + o2;
    T v = T(0);
    if (sz >= 0 && sz < s0 && sy >= 0 && sy < s1 && sx >= 0 && sx < s2)
      v = src[plane * src_plane + (sz * s1 + sy) * s2 + sx];
    dst[plane * dst_plane + (z * d1 + y) * d2 + x] = v;
  }
}

template <typename T>
__global__ void accumulate_kernel(T* __restrict__ acc, const T* __restrict__ x, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride()) acc[i] += x[i];
}

// SplitMix64's finalizer over (seed, index): a counter-based generator, so any element's
// value depends only on the seed and its index.
__device__ inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [-1, 1): the top 24 (float) or 53 (double) bits as u in [0, 1), then 2u - 1,
// which is exact in T.
__device__ inline float to_uniform(uint64_t h, float*) {
  return static_cast<float>(h >> 40) * (1.0f / 8388608.0f) - 1.0f;  // k * 2^-23 - 1
}
__device__ inline double to_uniform(uint64_t h, double*) {
  return static_cast<double>(h >> 11) * (1.0 / 4503599627370496.0) - 1.0;  // k * 2^-52 - 1
}

template <typename T>
__global__ void fill_uniform_kernel(T* __restrict__ x, int64_t n, uint64_t seed) {
  const uint64_t key = mix64(seed + 0x9e3779b97f4a7c15ULL);
  for (int64_t i = grid_index(); i < n; i += grid_stride()) {
    const uint64_t h = mix64(key + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL);
    x[i] = to_uniform(h, static_cast<T*>(nullptr));
  }
}

}  // namespace

template <typename T>
void transpose_last_to_first(const T* src, T* dst, int64_t n, int64_t inner, int64_t c) {
  transpose(src, dst, n, inner, c);  // each sample: (inner x c) -> (c x inner)
}

template <typename T>
void transpose_first_to_last(const T* src, T* dst, int64_t n, int64_t c, int64_t inner) {
  transpose(src, dst, n, c, inner);  // each sample: (c x inner) -> (inner x c)
}

template <typename T>
void add_bias(T* y, const T* b, int64_t n, int64_t c, int64_t inner) {
  const int64_t total = n * c * inner;
  if (total <= 0) return;
  add_bias_kernel<T><<<blocks_for(total), kThreads>>>(y, b, total, c, inner);
  check_launch("add_bias_kernel");
}

template <typename T>
void bias_grad(const T* dy, T* db, int64_t n, int64_t c, int64_t inner) {
  if (c <= 0) return;
  if (n <= 0 || inner <= 0) {
    check(cudaMemset(db, 0, static_cast<size_t>(c) * sizeof(T)), "cudaMemset");
    return;
  }
  const unsigned int blocks = static_cast<unsigned int>(std::min<int64_t>(c, kMaxBlocks));
  bias_grad_kernel<T><<<blocks, kReduceThreads>>>(dy, db, n, c, inner);
  check_launch("bias_grad_kernel");
}

template <typename T>
void copy_window(const T* src, const Box& src_box, T* dst, const Box& dst_box, const Box& offset,
                 int64_t planes) {
  const int64_t total = planes * dst_box[0] * dst_box[1] * dst_box[2];
  if (total <= 0) return;
  copy_window_kernel<T><<<blocks_for(total), kThreads>>>(
      src, dst, total, src_box[0], src_box[1], src_box[2], dst_box[0], dst_box[1], dst_box[2],
      offset[0], offset[1], offset[2]);
  check_launch("copy_window_kernel");
}

template <typename T>
void accumulate(T* acc, const T* x, int64_t n) {
  if (n <= 0) return;
  accumulate_kernel<T><<<blocks_for(n), kThreads>>>(acc, x, n);
  check_launch("accumulate_kernel");
}

template <typename T>
void fill_uniform(T* x, int64_t n, uint64_t seed) {
  if (n <= 0) return;
  fill_uniform_kernel<T><<<blocks_for(n), kThreads>>>(x, n, seed);
  check_launch("fill_uniform_kernel");
}

#define DECONV_INSTANTIATE(T)                                                                 \
  template void transpose_last_to_first<T>(const T*, T*, int64_t, int64_t, int64_t);          \
  template void transpose_first_to_last<T>(const T*, T*, int64_t, int64_t, int64_t);          \
  template void add_bias<T>(T*, const T*, int64_t, int64_t, int64_t);                         \
  template void bias_grad<T>(const T*, T*, int64_t, int64_t, int64_t);                        \
  template void copy_window<T>(const T*, const Box&, T*, const Box&, const Box&, int64_t);    \
  template void accumulate<T>(T*, const T*, int64_t);                                         \
  template void fill_uniform<T>(T*, int64_t, uint64_t);
DECONV_INSTANTIATE(float)
DECONV_INSTANTIATE(double)
#undef DECONV_INSTANTIATE

}  // namespace cuda
}  // namespace deconv
