# deconv_info(): what this build supports, as src/deconv_info.cpp reports it.

#' What this build of deconv supports
#'
#' @return A list:
#'   * `cuda`: whether GPU support was compiled in (configure found CUDA and cuDNN);
#'   * `devices`, `device_names`: the number of CUDA devices found and a description of
#'     each (0 and none without a driver or a device);
#'   * `cuda_version`, `cudnn_version`: the CUDA and cuDNN versions compiled against;
#'     `cuda_runtime`, `cudnn_runtime`: the versions of the libraries loaded;
#'     `cuda_driver`: the CUDA version the driver supports (each `NA` where it does not
#'     apply, e.g. all of them in a CPU-only build);
#'   * `threads`: the default number of CPU threads; `thread_limit`: the most
#'     [deconv_threads()] accepts;
#'   * `gemm`: the matrix-product code the CPU kernels use, per precision: the
#'     optimized BLAS R is linked to (such as OpenBLAS); `"deconv AVX-512"`, the
#'     package's own AVX-512 GEMM, on CPUs with AVX-512 where that BLAS does not use it
#'     (or there is none); else Eigen. The environment variable `DECONV_GEMM` (`blas`,
#'     `avx512` or `eigen`), set before the first call, asks for one.
#' @examples
#' deconv_info()
#' @export
deconv_info <- function() {
  cpp_deconv_info(sys.call())
}
