#' Number of CPU threads
#'
#' Gets or sets the number of threads the CPU kernels use (option `deconv.threads`;
#' 0 means OpenMP's default, which honours `OMP_NUM_THREADS`).
#'
#' @param n `NULL` to only query, or the number of threads to use from now on.
#' @return The number of threads in effect (invisibly when setting).
#' @examples
#' old <- deconv_threads()
#' deconv_threads(1)
#' deconv_threads(old)
#' @export
deconv_threads <- function(n = NULL) {
  if (is.null(n)) {
    n <- threads_option()
    return(if (n > 0) n else cpp_deconv_info()$threads)
  }
  if (!is.numeric(n) || length(n) != 1 || is.na(n) || n < 0 || n != round(n))
    deconv_abort("n", "expected a non-negative whole number of threads")
  options(deconv.threads = as.integer(n))
  invisible(deconv_threads())
}

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
#'   * `threads`: the default number of CPU threads;
#'   * `gemm`: the matrix-product code the CPU kernels use, per precision: the
#'     optimized BLAS R is linked to (such as OpenBLAS); `"deconv AVX-512"`, the
#'     package's own AVX-512 GEMM, on CPUs with AVX-512 where that BLAS does not use it
#'     (or there is none); else Eigen. The environment variable `DECONV_GEMM` (`blas`,
#'     `avx512` or `eigen`), set before the first call, asks for one.
#' @examples
#' deconv_info()
#' @export
deconv_info <- function() {
  cpp_deconv_info()
}
