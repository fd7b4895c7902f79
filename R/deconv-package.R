#' deconv: transposed convolution with MXNet's semantics
#'
#' `deconvolution()` computes MXNet's `Deconvolution` operator now, on R arrays that
#' follow MXNet R's convention: `dim(x)` is the layout reversed, so NCHW data is an
#' array with `dim = c(W, H, C, N)` and R's column-major memory is row-major NCHW.
#' Tuple arguments are in R order too: `kernel = c(kw, kh)`.
#'
#' Options: `deconv.threads` (number of CPU threads; 0 or unset uses OpenMP's default,
#' see [deconv_threads()]).
#'
#' @keywords internal
#' @useDynLib deconv, .registration = TRUE
"_PACKAGE"

# GPU handles and cuDNN's algorithm cache live in the shared library; free them before
# it goes (a no-op in a CPU-only build).
.onUnload <- function(libpath) {
  try(cpp_gpu_release(), silent = TRUE)
  library.dynam.unload("deconv", libpath)
}
