# The only place R calls the C++ code. Each entry (src/init.cpp) returns its result, or
# a "deconv_core_error" value when the C++ side failed (see src/r_boundary.h); every
# wrapper here passes it through core_result(), which raises it as a classed condition
# from `call`, the user's call. No other file calls .Call (a test checks), but for
# deconvolution()'s fast path (R/deconvolution.R): a wrapper's closure call would be a
# fifth of a tiny call's time; its result passes through core_result() there.

core_result <- function(result, call, on_shape_error = NULL) {
  if (inherits(result, "deconv_core_error")) {
    cond <- errorCondition(result$message, class = c(result$class, "deconv_error"), call = call)
    if (!is.null(on_shape_error) && inherits(cond, "deconv_shape_error")) on_shape_error(cond)
    stop(cond)
  }
  result
}

# The eager forward checks its result inline: a tiny call's time is mostly R's calls,
# and a core error is a classed list while a result is a plain array (never an object).
cpp_deconvolution <- function(data, weight, bias, params, dtype, device, device_id, threads,
                              call = NULL, on_shape_error = NULL) {
  out <- .Call(C_deconvolution, data, weight, bias, params, dtype, device, device_id, threads)
  if (is.object(out)) core_result(out, call, on_shape_error) else out
}

cpp_deconvolution_backward <- function(out_grad, data, weight, bias, params, dtype, device,
                                       device_id, threads, want_data, want_weight,
                                       call = NULL, on_shape_error = NULL) {
  core_result(.Call(C_deconvolution_backward, out_grad, data, weight, bias, params, dtype,
                    device, device_id, threads, want_data, want_weight), call, on_shape_error)
}

cpp_deconvolution_shape <- function(data_dim, params, call = NULL, on_shape_error = NULL) {
  core_result(.Call(C_deconvolution_shape, data_dim, params), call, on_shape_error)
}

cpp_deconvolution_params <- function(params, call = NULL) {
  core_result(.Call(C_deconvolution_params, params), call)
}

# Parameters from MXNet's attribute strings (symbol JSON), normalized as above.
cpp_params_from_attrs <- function(keys, values, call = NULL) {
  core_result(.Call(C_params_from_attrs, keys, values), call)
}

# MXNet's attribute strings of the given parameters (a named character vector).
cpp_mxnet_attrs <- function(params, keys, call = NULL) {
  core_result(.Call(C_mxnet_attrs, params, keys), call)
}

# The parameter table of the core (src/core/param_schema.h), as a list of columns.
cpp_param_schema <- function(call = NULL) core_result(.Call(C_param_schema), call)

cpp_deconv_info <- function(call = NULL) core_result(.Call(C_deconv_info), call)

# The last CPU run's RunStats (benchmark and workspace tests): temp_bytes, chunks, and
# which paths ran (phase: the phase-decomposed forward; phase_data_grad and
# phase_weight_grad: the direct gradients; direct: the depthwise products without GEMM;
# packed, group_parallel: how the GEMM path split it; stored_once: its col2im wrote each
# output once, with no pass filling the output first; winograd, winograd_data_grad: the
# forward, the data gradient ran Winograd F(2, 2) on the stride phases).
cpp_last_run_stats <- function(call = NULL) core_result(.Call(C_last_run_stats), call)
cpp_last_temp_bytes <- function(call = NULL) cpp_last_run_stats(call)$temp_bytes

# The block cache behind large results and temporaries (src/result_memory.h): hits,
# misses, idle_blocks, idle_bytes, idle_limit (bytes).
cpp_result_cache_stats <- function(call = NULL) core_result(.Call(C_result_cache_stats), call)

cpp_thread_limit <- function(call = NULL) core_result(.Call(C_thread_limit), call)

cpp_gemm_benchmark <- function(n, reps, threads, dtype, call = NULL) {
  core_result(.Call(C_gemm_benchmark, n, reps, threads, dtype), call)
}

cpp_gpu_put <- function(x, dtype, device, call = NULL) {
  core_result(.Call(C_gpu_put, x, dtype, device), call)
}

cpp_gpu_get <- function(x, call = NULL) core_result(.Call(C_gpu_get, x), call)

cpp_gpu_accumulate <- function(acc, x, call = NULL) {
  core_result(.Call(C_gpu_accumulate, acc, x), call)
}

cpp_gpu_deconvolution <- function(data, weight, bias, params, call = NULL) {
  core_result(.Call(C_gpu_deconvolution, data, weight, bias, params), call)
}

cpp_gpu_deconvolution_backward <- function(out_grad, data, weight, bias, params, want_data,
                                           want_weight, call = NULL) {
  core_result(.Call(C_gpu_deconvolution_backward, out_grad, data, weight, bias, params,
                    want_data, want_weight), call)
}

cpp_gpu_benchmark <- function(data_dim, params, dtype, device, reps, backward, call = NULL) {
  core_result(.Call(C_gpu_benchmark, data_dim, params, dtype, device, reps, backward), call)
}

cpp_gpu_release <- function(call = NULL) core_result(.Call(C_gpu_release), call)

# Test hook: each kind of failure an entry can meet (tests/testthat/test-boundary.R).
cpp_boundary_probe <- function(kind, call = NULL) {
  core_result(.Call(C_boundary_probe, kind), call)
}
