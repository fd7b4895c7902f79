# Arrays kept on the GPU between passes (executors bound with a GPU ctx), and the GPU
# benchmark entry. A GPU array is list(ptr, dim) of class "deconv_gpu_array"
# (src/gpu_arrays.cpp); its device memory is freed when R collects it.

gpu_put <- function(x, dtype, device, call = NULL) {
  if (!is.double(x)) storage.mode(x) <- "double"
  cpp_gpu_put(x, dtype, device, call = call)
}

gpu_get <- function(a, call = NULL) {
  cpp_gpu_get(a, call = call)
}

#' @export
print.deconv_gpu_array <- function(x, ...) {
  cat(sprintf("<GPU array, dim %s>\n", dims_string(x$dim)))
  invisible(x)
}

# The operations an executor runs, for one device: `put` an R array where the values
# live, `get` one back as an R array, `forward`/`backward` a node, `add` two gradients.
# On the CPU the values are R arrays; on the GPU they stay in device memory.
executor_ops <- function(ctx, dtype, call) {
  if (ctx$device == "cpu") {
    return(list(
      put = function(x) x,
      get = function(x) x,
      forward = function(x, w, b, params)
        cpp_deconvolution(x, w, b, params, dtype, "cpu", 0L, threads_option(call), call = call),
      backward = function(dy, x, w, b, params, want_data, want_weight)
        cpp_deconvolution_backward(dy, x, w, b, params, dtype, "cpu", 0L, threads_option(call),
                                   want_data, want_weight, call = call),
      add = function(a, b) a + b))
  }
  list(
    put = function(x) gpu_put(x, dtype, ctx$id, call),
    get = function(x) gpu_get(x, call),
    forward = function(x, w, b, params) cpp_gpu_deconvolution(x, w, b, params, call = call),
    backward = function(dy, x, w, b, params, want_data, want_weight)
      cpp_gpu_deconvolution_backward(dy, x, w, b, params, want_data, want_weight, call = call),
    add = function(a, b) cpp_gpu_accumulate(a, b, call = call))
}

# Median milliseconds of `reps` GPU passes (forward, or backward with every gradient) on
# random device-resident arrays, timed with CUDA events after a warm-up: the kernel time
# inst/bench/bench_gpu.R reports. `data.dim` is the data's R dim; the rest as in
# deconvolution().
gpu_benchmark <- function(data.dim, kernel, stride = NULL, dilate = NULL, pad = NULL,
                          adj = NULL, target.shape = NULL, num.filter, num.group = 1,
                          workspace = 512, no.bias = TRUE, cudnn.tune = NULL, cudnn.off = FALSE,
                          layout = NULL, dtype = "float32", ctx = mx.gpu(0), reps = 20L,
                          backward = FALSE, ...) {
  call <- sys.call()
  params <- collect_params(environment(), list(...), call)
  ctx <- parse_ctx(ctx, call)
  if (ctx$device != "gpu") deconv_abort("ctx", "expected a GPU context, e.g. mx.gpu(0)", call = call)
  cpp_gpu_benchmark(as.numeric(data.dim), params, dtype, ctx$id, reps, backward, call = call)
}
