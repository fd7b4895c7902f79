#' deconv: transposed convolution with MXNet's semantics
#'
#' `deconvolution()` computes MXNet's `Deconvolution` operator now, on R arrays that
#' follow MXNet R's convention: `dim(x)` is the layout reversed, so NCHW data is an
#' array with `dim = c(W, H, C, N)` and R's column-major memory is row-major NCHW.
#' Tuple arguments are in R order too: `kernel = c(kw, kh)`. [from_layout()] and
#' [to_layout()] convert from and to the order torch, keras and [png::readPNG()] use.
#'
#' * Eager calls: [deconvolution()], [deconvolution_backward()],
#'   [deconvolution_shape()].
#' * Upsampling: [upsample()], [upsample_file()], [bilinear_kernel()].
#' * Symbols and the executor, as in MXNet R: [mx.symbol.Deconvolution()],
#'   [mx.simple.bind()], [mx.symbol.save()], ...
#' * The build and the machine: [deconv_info()], [deconv_threads()].
#'
#' Start with `vignette("deconv")`; `vignette("symbols")` covers the symbol API,
#' MXNet's JSON files and the GPU.
#'
#' Options: `deconv.threads` (number of CPU threads; 0 or unset uses OpenMP's default,
#' see [deconv_threads()]); `deconv.max.json.bytes` (the largest symbol file
#' [mx.symbol.load()] reads); `deconv.cache.mb` (MiB of freed results of 128 KiB to
#' 4 MiB kept mapped for the next call of about their size, so that it does not pay the
#' page faults of fresh memory; unset or 0: none); `deconv.algorithm` (`"auto"`, the
#' default, `"direct"` or `"winograd"`: whether the CPU forward and data gradient of
#' layers whose kernel is twice the stride, such as k4 s2, may use Winograd's F(2, 2) on
#' the stride phases, 9 multiplications for 16 in 2D; `"auto"` takes it on large layers
#' where it was measured faster, `"winograd"` wherever the shape allows it).
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
