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
#' @importFrom Rcpp sourceCpp
"_PACKAGE"
