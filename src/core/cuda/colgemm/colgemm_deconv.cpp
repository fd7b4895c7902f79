// The cudnn_off GPU path: colgemm_plan.h's chunked algorithm run with cuBLAS strided-batched
// GEMMs (default stream, host pointer mode, alpha = 1) and the column kernels of
// colgemm_kernels.cu. The column buffer is allocated once per call (RAII: freed on errors
// and interrupts too).
#include "core/cuda/colgemm/colgemm_deconv.h"

#include "core/cuda/colgemm/colgemm_kernels.h"
#include "core/cuda/colgemm/colgemm_plan.h"
#include "core/cuda/runtime/runtime_device_buffer.h"
#include "core/cuda/runtime/runtime_status.h"

namespace deconv {
namespace cuda {

namespace {

cublasStatus_t gemm_strided_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                    int m, int n, int k, const float* alpha, const float* A,
                                    int lda, long long sa, const float* B, int ldb, long long sb,
                                    const float* beta, float* C, int ldc, long long sc,
                                    int batch) {
  return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C,
                                   ldc, sc, batch);
}

cublasStatus_t gemm_strided_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                    int m, int n, int k, const double* alpha, const double* A,
                                    int lda, long long sa, const double* B, int ldb, long long sb,
                                    const double* beta, double* C, int ldc, long long sc,
                                    int batch) {
  return cublasDgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C,
                                   ldc, sc, batch);
}

cublasOperation_t cublas_op(GemmOp op) { return op == GemmOp::N ? CUBLAS_OP_N : CUBLAS_OP_T; }

// Two events marking the ends of the last two chunks queued (created on first use).
class ChunkPacer {
 public:
  ChunkPacer() = default;
  ChunkPacer(const ChunkPacer&) = delete;
  ChunkPacer& operator=(const ChunkPacer&) = delete;
  ~ChunkPacer() {
    for (cudaEvent_t e : events_)
      if (e) cudaEventDestroy(e);
  }
  // Marks the end of the work queued so far and waits for the mark before it.
  void chunk_queued() {
    cudaEvent_t& mark = events_[next_];
    if (!mark) check(cudaEventCreateWithFlags(&mark, cudaEventDisableTiming), "cudaEventCreate");
    check(cudaEventRecord(mark, 0), "cudaEventRecord");
    next_ ^= 1;
    if (events_[next_]) check(cudaEventSynchronize(events_[next_]), "cudaEventSynchronize");
  }

 private:
  cudaEvent_t events_[2] = {nullptr, nullptr};
  int next_ = 0;
};

// The operations colgemm_plan.h's algorithm needs, on the GPU.
template <typename T>
struct CudaOps {
  cublasHandle_t handle;
  ChunkPacer pacer;

  void gemm(GemmOp ta, GemmOp tb, int64_t m, int64_t n, int64_t k, const T* A, int64_t lda,
            int64_t sa, const T* B, int64_t ldb, int64_t sb, T beta, T* C, int64_t ldc,
            int64_t sc, int64_t batch) {
    if (m <= 0 || n <= 0 || batch <= 0) return;
    const T alpha(1);
    check(gemm_strided_batched(handle, cublas_op(ta), cublas_op(tb), static_cast<int>(m),
                               static_cast<int>(n), static_cast<int>(k), &alpha, A,
                               static_cast<int>(lda), static_cast<long long>(sa), B,
                               static_cast<int>(ldb), static_cast<long long>(sb), &beta, C,
                               static_cast<int>(ldc), static_cast<long long>(sc),
                               static_cast<int>(batch)),
          sizeof(T) == 4 ? "cublasSgemmStridedBatched" : "cublasDgemmStridedBatched");
  }
  void col2im(const T* col, T* y, const ColGeom& g, int64_t samples, int64_t ch, int64_t stride) {
    cuda::col2im(col, y, g, samples, ch, stride);
  }
  void im2col(const T* dy, T* col, const ColGeom& g, int64_t samples, int64_t ch, int64_t stride) {
    cuda::im2col(dy, col, g, samples, ch, stride);
  }
  void chunk_queued() { pacer.chunk_queued(); }
};

// alpha and beta live on the host. (The handle's stream is left alone: gpu_context keeps
// it on the default stream, and cublasSetStream would reset any workspace set on it.)
void prepare_handle(GpuContext& ctx) {
  check(cublasSetPointerMode(ctx.cublas, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
}

}  // namespace

template <typename T>
void colgemm_forward(GpuContext& ctx, const Geometry& g, const T* data, const T* weight, T* out,
                     const RunOptions& opts) {
  const ColgemmPlan p = plan_colgemm(g, workspace_elems<T>(g));
  if (p.batch <= 0) return;
  check_colgemm_sizes(p);
  prepare_handle(ctx);
  DeviceBuffer col = device_buffer<T>(p.column_elems);
  CudaOps<T> ops{ctx.cublas, {}};
  run_colgemm_forward(p, data, weight, out, col.as<T>(), opts, ops);
}

template <typename T>
void colgemm_backward(GpuContext& ctx, const Geometry& g, const T* out_grad, const T* data,
                      const T* weight, T* data_grad, T* weight_grad, const RunOptions& opts) {
  if (!data_grad && !weight_grad) return;
  const ColgemmPlan p = plan_colgemm(g, workspace_elems<T>(g));
  if (p.batch <= 0) {  // no samples: the weight gradient is zero
    if (weight_grad)
      check(cudaMemset(weight_grad, 0,
                       static_cast<size_t>(p.channels * p.group_rows) * sizeof(T)),
            "cudaMemset");
    return;
  }
  check_colgemm_sizes(p);
  prepare_handle(ctx);
  DeviceBuffer col = device_buffer<T>(p.column_elems);
  CudaOps<T> ops{ctx.cublas, {}};
  run_colgemm_backward(p, out_grad, data, weight, data_grad, weight_grad, col.as<T>(), opts, ops);
}

#define DECONV_INSTANTIATE(T)                                                                   \
  template void colgemm_forward<T>(GpuContext&, const Geometry&, const T*, const T*, T*,       \
                                   const RunOptions&);                                          \
  template void colgemm_backward<T>(GpuContext&, const Geometry&, const T*, const T*, const T*, \
                                    T*, T*, const RunOptions&);
DECONV_INSTANTIATE(float)
DECONV_INSTANTIATE(double)
#undef DECONV_INSTANTIATE

}  // namespace cuda
}  // namespace deconv
