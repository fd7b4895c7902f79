#' Output and parameter shapes of a transposed convolution
#'
#' Applies the same shape rules and errors as [deconvolution()] without computing
#' anything: the output dims for data of the given dims, the weight and bias dims the
#' layer needs, and the effective `pad` and `adj` (after `target.shape`).
#'
#' @inheritParams deconvolution
#' @param data The data's dims in R order (e.g. `c(W, H, C, N)` for NCHW), or an array
#'   whose `dim` is used.
#' @return A list of integer vectors in R order: `out`, `weight`, `bias`, `pad`, `adj`.
#' @examples
#' deconvolution_shape(c(16, 16, 21, 1), kernel = c(4, 4), stride = c(2, 2),
#'                     pad = c(1, 1), num.filter = 21)$out
#' # target.shape picks pad and adj:
#' deconvolution_shape(c(7, 5, 3, 2), kernel = c(3, 3), stride = c(2, 2),
#'                     target.shape = c(14, 10), num.filter = 8)[c("pad", "adj")]
#' @export
deconvolution_shape <- function(data, kernel, stride = NULL, dilate = NULL, pad = NULL,
                                adj = NULL, target.shape = NULL, num.filter, num.group = 1,
                                workspace = 512, no.bias = TRUE, cudnn.tune = NULL,
                                cudnn.off = FALSE, layout = NULL, ...) {
  call <- sys.call()
  params <- collect_params(environment(), list(...), call)
  if (missing(data)) deconv_abort("data", "required: the data's dims or an array", call = call)
  dims <- if (!is.null(dim(data))) dim(data) else data
  # A matrix may be a grey image as png::readPNG() returns it.
  if (length(dim(data)) == 2) layout_hint_abort(dims, NULL, params, call)
  if (!is.numeric(dims) || is.object(dims) || !length(dims) %in% 3:5) {
    deconv_abort("data", "expected the data's dims (3, 4 or 5 integers in R order) or an array",
                 call = call)
  }
  cpp_deconvolution_shape(dims, params, call = call,
                          on_shape_error = layout_hint(dims, NULL, params, call))
}
