#' Transposed convolution ("deconvolution"), computed now
#'
#' Computes MXNet's `Deconvolution` operator on R arrays and returns the result.
#' Arrays follow MXNet R's convention: `dim(x)` is the layout reversed, so NCHW data
#' is an array with `dim = c(W, H, C, N)` and the weight of an NCHW layer has
#' `dim = c(kw, kh, num.filter / num.group, C)`; tuple arguments are in the same R
#' order (`kernel = c(kw, kh)`, `target.shape = c(W, H)`; for 3D `c(w, h, d)`).
#'
#' Per spatial dimension the output size is
#' `stride * (in - 1) + dilate * (kernel - 1) + 1 - 2 * pad + adj`.
#' A `target.shape` with any non-zero entry overrides `pad` and `adj` as MXNet does,
#' with two deliberate differences: a zero entry of a partial target keeps that
#' dimension's `pad` and `adj` (MXNet makes the dimension empty), and an `adj`
#' computed from a target may equal the stride (MXNet refuses it; the `adj < stride`
#' rule applies to the `adj` you give). Unlike MXNet's CPU operator, all five layouts
#' and 3D dilation work here.
#'
#' A tuple argument of one value stands for every spatial dimension, as in torch and
#' keras: with 4-dimensional (2D) data `kernel = 4, stride = 2` means
#' `kernel = c(4, 4), stride = c(2, 2)`. The data's rank sets the dimensionality when
#' `kernel` has one value; otherwise `kernel`'s length does, and the other tuples have one
#' value or one per dimension. (In [mx.symbol.Deconvolution()], where no data is known,
#' `kernel`'s length always sets it, as in MXNet.)
#'
#' Data in another program's order (torch's `c(N, C, H, W)`, keras's `c(N, H, W, C)`,
#' [png::readPNG()]'s `H x W x C`) that does not fit the weight gives an error naming
#' the [from_layout()] call that converts it.
#'
#' The underscore spellings MXNet scripts use (`num_filter`, `target_shape`, `no_bias`,
#' `num_group`, `cudnn_tune`, `cudnn_off`) are accepted through `...`.
#'
#' @param data Input array: 3, 4 or 5 dimensions (1D, 2D or 3D data), numeric.
#' @param weight Weight array, `dim` the reverse of MXNet's `(C, num.filter/num.group,
#'   kernel...)` (for NHWC/NDHWC: `(C, kernel..., num.filter/num.group)`).
#' @param bias Bias vector of length `num.filter`; required when `no.bias = FALSE`.
#' @param kernel Kernel size, in R order: `c(kw)`, `c(kw, kh)` or `c(kw, kh, kd)`; one
#'   value for a square (cubic) kernel of the data's dimensionality (`kernel = 4` with
#'   4-dimensional data is `c(4, 4)`).
#' @param stride Stride of the corresponding convolution, R order (default 1); one value
#'   stands for every spatial dimension, as for the other tuples below.
#' @param dilate Dilation, R order (default 1), or one value for all dimensions.
#' @param pad Zero padding of the corresponding convolution, R order (default 0), or one
#'   value for all dimensions.
#' @param adj Extra output size at the end of each dimension, R order (default 0), or one
#'   value for all; must be smaller than `stride`.
#' @param target.shape Output spatial size, R order (`c(W, H)`), or one value for all
#'   dimensions; overrides `pad` and `adj` when any entry is non-zero.
#' @param num.filter Number of output channels.
#' @param num.group Number of groups (channels and filters are split into this many).
#' @param workspace Temporary memory bound in MB for the CPU kernel.
#' @param no.bias Whether there is no bias (MXNet's default, `TRUE`).
#' @param cudnn.tune cuDNN algorithm choice on the GPU: `NULL`, `"off"`,
#'   `"limited_workspace"` or `"fastest"`. Checked, and ignored on the CPU.
#' @param cudnn.off Do not use cuDNN on the GPU. Ignored on the CPU.
#' @param layout `NULL` (NCW, NCHW or NCDHW from `length(kernel)`), `"NCW"`, `"NCHW"`,
#'   `"NCDHW"`, `"NHWC"` or `"NDHWC"`.
#' @param name Name of the operation (kept for MXNet compatibility; unused here).
#' @param dtype `"float64"` (computes in double) or `"float32"` (computes in single
#'   precision, as MXNet does, and returns doubles).
#' @param ctx Device: `"cpu"`, `"gpu"`, [mx.cpu()] or [mx.gpu()].
#' @param ... Underscore spellings of the arguments above (`num_filter = 8`, ...).
#' @return The output array, `dim` in R order (for NCHW `c(W_out, H_out, num.filter, N)`).
#' @seealso [deconvolution_shape()], [bilinear_kernel()], [deconvolution_backward()].
#' @examples
#' # Upsample a 4x4 single-channel image 2x with a bilinear kernel.
#' x <- array(as.numeric(1:16), dim = c(4, 4, 1, 1))
#' w <- bilinear_kernel(c(4, 4))
#' y <- deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                    num.filter = 1)
#' dim(y)
#' # MXNet scripts' spellings work too.
#' y2 <- deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), target_shape = c(8, 8),
#'                     num_filter = 1)
#' all.equal(y, y2)
#' @export
deconvolution <- function(data, weight, bias = NULL, kernel, stride = NULL, dilate = NULL,
                          pad = NULL, adj = NULL, target.shape = NULL, num.filter,
                          num.group = 1, workspace = 512, no.bias = TRUE, cudnn.tune = NULL,
                          cudnn.off = FALSE, layout = NULL, name = NULL, dtype = "float64",
                          ctx = "cpu", ...) {
  # The common case (plain double arrays on the CPU, dotted names) in one .Call, the
  # parameters in the core's schema order (src/deconvolution.cpp); NULL when the C++ side
  # finds anything else, which the checked path below then words. Called here, not
  # through R/core.R: a wrapper's closure call costs a fifth of a tiny call.
  if (!...length() && !missing(data) && !missing(weight) && !missing(kernel) &&
      !missing(num.filter)) {
    out <- .Call(C_deconvolution_fast, data, weight, bias, kernel, stride, dilate, pad, adj,
                 target.shape, num.filter, num.group, workspace, no.bias, cudnn.tune,
                 cudnn.off, layout, dtype, ctx)
    if (is.object(out)) core_result(out, sys.call())
    if (!is.null(out)) return(out)
  }
  call <- sys.call()
  params <- collect_params(environment(), list(...), call)
  inputs <- eager_inputs(data, weight, bias, params, call)
  ctx <- parse_ctx(ctx, call)
  # Positional arguments: matching names costs a tiny call microseconds.
  cpp_deconvolution(inputs$data, inputs$weight, inputs$bias, params, dtype, ctx$device,
                    ctx$id, threads_option(call), call,
                    layout_hint(dim(inputs$data), dim(inputs$weight) %||% NA, params, call))
}

#' Gradients of a transposed convolution
#'
#' The gradients of [deconvolution()] with respect to its data, weight and bias, given
#' the gradient of a loss with respect to its output. Same arguments and conventions
#' as [deconvolution()].
#'
#' @inheritParams deconvolution
#' @param out.grad Gradient with respect to the output: an array shaped as
#'   `deconvolution()`'s result.
#' @return `list(data = , weight = , bias = )`, arrays shaped as the inputs;
#'   `bias` is `NULL` when `no.bias = TRUE`.
#' @examples
#' x <- array(rnorm(2 * 3 * 2), dim = c(2, 3, 2))       # NCW: W = 2, C = 3, N = 2
#' w <- array(rnorm(3 * 4 * 3), dim = c(3, 4, 3))       # kw = 3, num.filter = 4, C = 3
#' y <- deconvolution(x, w, kernel = 3, num.filter = 4)
#' g <- deconvolution_backward(array(1, dim(y)), x, w, kernel = 3, num.filter = 4)
#' str(g)
#' @export
deconvolution_backward <- function(out.grad, data, weight, bias = NULL, kernel, stride = NULL,
                                   dilate = NULL, pad = NULL, adj = NULL, target.shape = NULL,
                                   num.filter, num.group = 1, workspace = 512, no.bias = TRUE,
                                   cudnn.tune = NULL, cudnn.off = FALSE, layout = NULL,
                                   name = NULL, dtype = "float64", ctx = "cpu", ...) {
  call <- sys.call()
  params <- collect_params(environment(), list(...), call)
  inputs <- eager_inputs(data, weight, bias, params, call)
  if (missing(out.grad)) deconv_abort("out.grad", "required: the output's gradient", call = call)
  out.grad <- as_numeric_array(out.grad, "out.grad", call)
  ctx <- parse_ctx(ctx, call)
  cpp_deconvolution_backward(out.grad, inputs$data, inputs$weight, inputs$bias, params, dtype,
                             ctx$device, ctx$id, threads_option(call), TRUE, TRUE, call = call,
                             on_shape_error = layout_hint(dim(inputs$data),
                                                          dim(inputs$weight) %||% NA, params,
                                                          call))
}

eager_inputs <- function(data, weight, bias, params, call) {
  # The common case in primitives only: plain double arrays, no bias.
  if (!missing(data) && !missing(weight) && is.null(bias) && is.double(data) &&
      is.double(weight) && !is.object(data) && !is.object(weight) &&
      length(dim(data)) >= 3L && length(dim(data)) <= 5L) {
    return(list(data = data, weight = weight, bias = NULL))
  }
  if (missing(data)) deconv_abort("data", "required: the input array", call = call)
  if (missing(weight)) deconv_abort("weight", "required: the kernel weights", call = call)
  # A matrix may be a grey image as png::readPNG() returns it.
  if (length(dim(data)) == 2 && is.numeric(data) && is.numeric(weight)) {
    layout_hint_abort(dim(data), dim(weight) %||% NA, params, call)
  }
  list(data = as_numeric_array(data, "data", call, ranks = 3:5),
       weight = as_numeric_array(weight, "weight", call),
       bias = if (!is.null(bias)) as_numeric_array(bias, "bias", call))
}

