# The GPU (ctx = "gpu" / mx.gpu()) against the CPU, which the other test files check
# against a reference: seeded random cases for each way the GPU picks its algorithm
# (cuDNN with cudnn.tune NULL, "off", "limited_workspace", "fastest", and cudnn.off = TRUE),
# float64 (rel. error 1e-10) and float32 (1e-4), forward and all gradients; targeted cases;
# executors and mx.symbol.eval on the GPU. Those skip without a CUDA device (helper-gpu.R).
# The tests of deconv_info()'s build fields, of contexts the build or machine cannot serve
# and of parameter errors with a GPU context run everywhere.

# ---- every machine ------------------------------------------------------------------------

test_that("deconv_info() reports the build's and the machine's GPU support consistently", {
  info <- deconv_info()
  fields <- c("cuda", "devices", "threads", "gemm", "device_names", "cuda_version",
              "cuda_runtime", "cuda_driver", "cudnn_version", "cudnn_runtime")
  expect_true(all(fields %in% names(info)),
              label = paste("missing fields:", paste(setdiff(fields, names(info)), collapse = ", ")))
  expect_true(is.logical(info$cuda) && length(info$cuda) == 1 && !is.na(info$cuda))
  expect_type(info$devices, "integer")
  expect_length(info$devices, 1)
  expect_false(is.na(info$devices))
  expect_gte(info$devices, 0L)
  expect_type(info$device_names, "character")
  expect_identical(length(info$device_names), as.integer(info$devices))
  expect_false(anyNA(info$device_names))
  expect_true(all(nzchar(info$device_names)))
  versions <- c("cuda_version", "cuda_runtime", "cuda_driver", "cudnn_version", "cudnn_runtime")
  for (v in versions) {
    expect_type(info[[v]], "character")
    expect_length(info[[v]], 1)
  }
  version_re <- "^[0-9]+\\.[0-9]+"
  if (!info$cuda) {
    expect_identical(info$devices, 0L)
    expect_identical(info$device_names, character(0))
    for (v in versions) expect_identical(info[[v]], NA_character_, label = v)
  } else {
    expect_match(info$cuda_version, version_re)
    for (v in setdiff(versions, "cuda_version")) {
      if (!is.na(info[[v]])) expect_match(info[[v]], version_re, label = v)
    }
    if (info$devices > 0) {
      expect_false(is.na(info$cuda_driver))
      expect_false(is.na(info$cuda_runtime))
    }
  }
})

x4 <- array(as.numeric(1:200) / 50, c(5, 5, 4, 2))       # NCHW: W5 H5 C4 N2
w4 <- array(as.numeric(1:72) / 30, c(3, 3, 2, 4))        # kw3 kh3 F2 C4
dy4 <- array(1, c(7, 7, 2, 2))
dc <- function(...) deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, ...)
dcb <- function(...) deconvolution_backward(dy4, x4, w4, kernel = c(3, 3), num.filter = 2, ...)

one_layer <- function() {
  mx.symbol.Deconvolution(mx.symbol.Variable("data"), kernel = c(3, 3), stride = c(2, 2),
                          num.filter = 2, no.bias = FALSE, name = "up")
}
one_layer_args <- function() {
  list(data = x4, up_weight = w4, up_bias = c(0.5, -0.5))
}

# Binds, fills and runs `sym` forward on ctx; returns the error one of the steps raised.
exec_error <- function(ctx, ...) {
  tryCatch({
    e <- mx.simple.bind(one_layer(), ctx = ctx, data = dim(x4), ...)
    mx.exec.update.arg.arrays(e, one_layer_args(), match.name = TRUE)
    mx.exec.forward(e)
    mx.exec.backward(e)
    NULL
  }, error = identity)
}

test_that("ctx = 'gpu' without a CUDA device is a deconv_unsupported_error naming ctx", {
  info <- deconv_info()
  skip_if(isTRUE(info$devices > 0), "this machine has a CUDA device")
  why <- if (isTRUE(info$cuda)) "(?i)no CUDA device" else "no GPU support"
  for (ctx in list("gpu", mx.gpu(), mx.gpu(1))) {
    expect_error(dc(ctx = ctx), paste0("^ctx: .*", why), class = "deconv_unsupported_error",
                 perl = TRUE)
    expect_error(dcb(ctx = ctx), paste0("^ctx: .*", why), class = "deconv_unsupported_error",
                 perl = TRUE)
    expect_error(dc(ctx = ctx, dtype = "float32", cudnn.off = TRUE), "^ctx: ",
                 class = "deconv_unsupported_error")
    err <- exec_error(ctx)
    expect_s3_class(err, "deconv_unsupported_error")
    expect_s3_class(err, "deconv_error")
    expect_match(conditionMessage(err), paste0("^ctx: .*", why), perl = TRUE)
    err <- tryCatch(mx.symbol.eval(one_layer(), one_layer_args(), ctx = ctx), error = identity)
    expect_s3_class(err, "deconv_unsupported_error")
    expect_match(conditionMessage(err), "^ctx: ")
  }
  e <- tryCatch(dc(ctx = "gpu"), error = identity)
  expect_s3_class(e, "deconv_error")
  expect_identical(conditionCall(e)[[1]], quote(deconvolution))
})

test_that("a device number beyond the machine's devices is a deconv_unsupported_error", {
  n <- deconv_info()$devices
  for (id in c(n, n + 3L)) {
    expect_error(dc(ctx = mx.gpu(id)), "^ctx: ", class = "deconv_unsupported_error")
    expect_error(dcb(ctx = mx.gpu(id)), "^ctx: ", class = "deconv_unsupported_error")
    err <- exec_error(mx.gpu(id))
    expect_s3_class(err, "deconv_unsupported_error")
    expect_match(conditionMessage(err), "^ctx: ")
  }
})

test_that("parameter and shape errors come first, whatever the context", {
  for (ctx in list("gpu", mx.gpu(0), mx.gpu(99))) {
    expect_error(dc(ctx = ctx, cudnn.tune = "bogus"), "^cudnn.tune: ",
                 class = "deconv_param_error")
    expect_error(dcb(ctx = ctx, cudnn.tune = "bogus"), "^cudnn.tune: ",
                 class = "deconv_param_error")
    expect_error(dc(ctx = ctx, cudnn_tune = "bogus"), "^cudnn.tune: ",
                 class = "deconv_param_error")
    expect_error(dc(ctx = ctx, cudnn.off = NA), "^cudnn.off: ", class = "deconv_param_error")
    expect_error(dc(ctx = ctx, workspace = -1), "^workspace: ", class = "deconv_param_error")
    expect_error(dc(ctx = ctx, dtype = "float16"), "^dtype: ", class = "deconv_param_error")
    expect_error(dc(ctx = ctx, stride = c(0, 1)), "^stride: ", class = "deconv_param_error")
    expect_error(dcb(ctx = ctx, adj = c(1, 0)), "^adj: ", class = "deconv_param_error")
    expect_error(deconvolution(x4, array(1, c(3, 3, 4, 2)), kernel = c(3, 3), num.filter = 2,
                               ctx = ctx),
                 "^weight: ", class = "deconv_shape_error")
    expect_error(deconvolution_backward(array(1, c(6, 6, 2, 2)), x4, w4, kernel = c(3, 3),
                                        num.filter = 2, ctx = ctx),
                 "^out.grad: ", class = "deconv_shape_error")
    expect_error(mx.simple.bind(one_layer(), ctx = ctx, data = dim(x4), dtype = "float16"),
                 "^dtype: ", class = "deconv_param_error")
  }
  expect_error(mx.gpu(-1), "^dev.id: ", class = "deconv_param_error")
  forged <- structure(list(device = "gpu", device_id = -1), class = "MXContext")
  expect_error(dc(ctx = forged), "^ctx: ", class = "deconv_param_error")
})

# ---- seeded random cases on the GPU, per mode -----------------------------------------------

# Per mode: 12 cases per (rank, layout) configuration (NCW, NCHW, NCDHW, NHWC, NDHWC) =
# 60 cases, each forward and backward in float64 and float32; 300 cases over the five modes.
gpu_cases_per_config <- 12

test_that("GPU matches CPU on random cases: cuDNN, cudnn.tune = NULL", {
  skip_if_no_gpu()
  expect_identical(gpu_random_cases("tune_default", gpu_cases_per_config, seed = 301), 60L)
})

test_that("GPU matches CPU on random cases: cuDNN, cudnn.tune = 'off'", {
  skip_if_no_gpu()
  expect_identical(gpu_random_cases("tune_off", gpu_cases_per_config, seed = 302), 60L)
})

test_that("GPU matches CPU on random cases: cuDNN, cudnn.tune = 'limited_workspace'", {
  skip_if_no_gpu()
  expect_identical(gpu_random_cases("tune_limited_workspace", gpu_cases_per_config, seed = 303),
                   60L)
})

test_that("GPU matches CPU on random cases: cuDNN, cudnn.tune = 'fastest'", {
  skip_if_no_gpu()
  expect_identical(gpu_random_cases("tune_fastest", gpu_cases_per_config, seed = 304), 60L)
})

test_that("GPU matches CPU on random cases: deconv's own kernels (cudnn.off = TRUE)", {
  skip_if_no_gpu()
  expect_identical(gpu_random_cases("cudnn_off", gpu_cases_per_config, seed = 305), 60L)
})

# ---- targeted cases on the GPU, every mode ---------------------------------------------------

# Arrays for a layer: R dims from sizes in R order (spatial `sp`, channels C, batch N).
layer_case <- function(sp, C, N, F, kernel, G = 1, layout = NULL, bias = TRUE, ...) {
  last <- !is.null(layout) && layout %in% c("NHWC", "NDHWC")
  dd <- if (last) c(C, sp, N) else c(sp, C, N)
  wd <- if (last) c(F / G, kernel, C) else c(kernel, F / G, C)
  a <- list(data = array(rnorm(prod(dd)), dd), weight = array(rnorm(prod(wd)), wd),
            kernel = kernel, num.filter = F, num.group = G, ...)
  if (!is.null(layout)) a$layout <- layout
  if (bias) {
    a$bias <- rnorm(F)
    a$no.bias <- FALSE
  }
  a
}

test_that("target.shape with stride 1 and an odd total pad (asymmetric) matches the CPU", {
  skip_if_no_gpu()
  set.seed(311)
  # kernel 4, stride 1: full = in + 3, target = full - 1 -> pad 1 at the start, 0 at the end.
  check_gpu_case(layer_case(6, 3, 2, 2, kernel = 4, target.shape = 8), label = "1D")
  for (layout in list(NULL, "NHWC")) {
    check_gpu_case(layer_case(c(6, 5), 3, 2, 4, kernel = c(4, 4), layout = layout,
                              target.shape = c(8, 7)), label = "2D")
    # Partial target: W from the target (odd), H keeps pad and adj.
    check_gpu_case(layer_case(c(5, 4), 4, 2, 6, kernel = c(4, 3), G = 2, layout = layout,
                              stride = c(1, 2), pad = c(0, 1), adj = c(0, 1),
                              target.shape = c(7, 0), bias = FALSE), label = "2D partial")
  }
  for (layout in list(NULL, "NDHWC")) {
    check_gpu_case(layer_case(c(5, 4, 3), 2, 1, 3, kernel = c(4, 2, 4), layout = layout,
                              target.shape = c(7, 4, 5)), label = "3D")
  }
})

test_that("adj > 0 matches the CPU", {
  skip_if_no_gpu()
  set.seed(312)
  for (layout in list(NULL, "NHWC")) {
    check_gpu_case(layer_case(c(4, 5), 3, 2, 2, kernel = c(2, 3), layout = layout,
                              stride = c(2, 3), pad = c(0, 1), adj = c(1, 2)))
  }
  check_gpu_case(layer_case(7, 2, 3, 2, kernel = 4, stride = 3, dilate = 2, pad = 2, adj = 2,
                            bias = FALSE))
  check_gpu_case(layer_case(c(4, 3, 3), 4, 1, 4, kernel = c(2, 3, 2), G = 2, layout = "NDHWC",
                            stride = c(2, 3, 2), pad = c(0, 1, 0), adj = c(1, 2, 1)))
})

test_that("depthwise groups match the CPU", {
  skip_if_no_gpu()
  set.seed(313)
  for (layout in list(NULL, "NHWC")) {
    check_gpu_case(layer_case(c(10, 12), 32, 4, 32, kernel = c(3, 3), G = 32, layout = layout,
                              stride = c(2, 2), pad = c(1, 1), adj = c(1, 1)))
    check_gpu_case(layer_case(c(7, 9), 16, 2, 32, kernel = c(3, 5), G = 16, layout = layout,
                              stride = c(3, 1), dilate = c(1, 2), pad = c(0, 4), bias = FALSE))
  }
})

test_that("dilation in 3D matches the CPU", {
  skip_if_no_gpu()
  set.seed(314)
  for (layout in list(NULL, "NDHWC")) {
    check_gpu_case(layer_case(c(3, 5, 4), 6, 2, 4, kernel = c(3, 2, 3), G = 2, layout = layout,
                              stride = c(2, 1, 2), dilate = c(1, 3, 2), pad = c(2, 0, 1),
                              adj = c(0, 0, 1)))
  }
})

test_that("workspace = 0 works in every mode", {
  skip_if_no_gpu()
  set.seed(315)
  check_gpu_case(layer_case(c(6, 5), 6, 2, 4, kernel = c(3, 3), G = 2, stride = c(2, 2),
                            pad = c(1, 1), workspace = 0))
  check_gpu_case(layer_case(c(4, 4, 3), 3, 1, 2, kernel = c(2, 3, 2), layout = "NDHWC",
                            stride = c(2, 1, 2), workspace = 0))
})

test_that("a tiny workspace with cudnn.off = TRUE works in chunks and matches the CPU", {
  skip_if_no_gpu()
  set.seed(316)
  # Fg * prod(kernel) = 32 * 16 values per input position, 64 * 64 positions per sample:
  # 16 MiB (double) of columns per sample, so 1 MB takes many chunks.
  for (layout in list(NULL, "NHWC")) {
    a <- layer_case(c(64, 64), 16, 4, 32, kernel = c(4, 4), layout = layout, stride = c(2, 2),
                    pad = c(1, 1), workspace = 1)
    check_gpu_case(a, gpu_modes["cudnn_off"], label = "workspace 1")
    # cuDNN held to the same 1 MB.
    check_gpu_case(a, gpu_modes["tune_limited_workspace"], label = "workspace 1")
  }
  a <- layer_case(c(16, 16, 16), 8, 2, 16, kernel = c(3, 3, 3), G = 2, layout = "NDHWC",
                  stride = c(2, 1, 2), pad = c(1, 1, 1), workspace = 1)
  check_gpu_case(a, gpu_modes["cudnn_off"], label = "workspace 1, 3D")
  # The chunked result equals the one-chunk result up to rounding.
  a32 <- a
  a32[c("data", "weight", "bias")] <- lapply(a[c("data", "weight", "bias")], as_float32_values)
  small <- do.call(deconvolution, c(a32, ctx = "gpu", cudnn.off = TRUE))
  a32$workspace <- 512
  big <- do.call(deconvolution, c(a32, ctx = "gpu", cudnn.off = TRUE))
  expect_lt(rel_err(small, big), 1e-12)
})

test_that("a DCGAN-sized layer matches the CPU", {
  skip_if_no_gpu()
  set.seed(317)
  a <- layer_case(c(8, 8), 256, 16, 128, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1))
  check_gpu_case(a, gpu_modes[c("tune_default", "tune_fastest", "cudnn_off")])
})

test_that("float32 on the GPU computes in single precision, float64 in double", {
  skip_if_no_gpu()
  set.seed(318)
  x <- array(rnorm(16 * 16 * 8), c(16, 16, 8, 1))
  w <- array(rnorm(9 * 8 * 4), c(3, 3, 4, 8))
  y <- deconvolution(x, w, kernel = c(3, 3), num.filter = 4)
  for (mode in gpu_modes) {
    y64 <- do.call(deconvolution, c(list(x, w, kernel = c(3, 3), num.filter = 4, ctx = "gpu"),
                                    mode))
    y32 <- do.call(deconvolution, c(list(x, w, kernel = c(3, 3), num.filter = 4, ctx = "gpu",
                                         dtype = "float32"), mode))
    expect_lt(rel_err(y64, y), 1e-12)
    expect_gt(rel_err(y32, y), 1e-10)
    expect_lt(rel_err(y32, y), 1e-5)
  }
})

test_that("mx.gpu(i) for every device of the machine", {
  skip_if_no_gpu()
  set.seed(319)
  a <- layer_case(c(5, 4), 3, 2, 2, kernel = c(3, 3), stride = c(2, 2), pad = c(1, 1))
  for (id in seq_len(deconv_info()$devices) - 1L) {
    check_gpu_case(a, gpu_modes[c("tune_default", "cudnn_off")], ctx = mx.gpu(id),
                   label = paste("device", id))
  }
})

# ---- executors and mx.symbol.eval on the GPU -------------------------------------------------

gpu_two_layer <- function() {
  data <- mx.symbol.Variable("data")
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 3), stride = c(2, 2), pad = c(1, 1),
                                 num.filter = 6, no.bias = FALSE, name = "up1")
  mx.symbol.Deconvolution(up1, kernel = c(2, 3), stride = c(2, 1), dilate = c(1, 2),
                          num.filter = 4, num.group = 2, no.bias = FALSE,
                          target.shape = c(23, 12), name = "up2")
}
gpu_args <- function(sym, data_dim, seed) {
  set.seed(seed)
  shapes <- mx.symbol.infer.shape(sym, data = data_dim)$arg.shapes
  lapply(shapes, function(s) array(rnorm(prod(s)), dim = s))
}
gpu_all_write <- function(sym) {
  a <- arguments(sym)
  stats::setNames(rep("write", length(a)), a)
}

test_that("a GPU executor's forward and backward match the CPU executor's", {
  skip_if_no_gpu()
  s <- gpu_two_layer()
  data_dim <- c(6, 5, 3, 2)
  args <- gpu_args(s, data_dim, 321)
  cpu <- mx.simple.bind(s, ctx = mx.cpu(), grad.req = gpu_all_write(s), data = data_dim)
  mx.exec.update.arg.arrays(cpu, args, match.name = TRUE)
  mx.exec.forward(cpu)
  set.seed(322)
  og <- array(rnorm(length(cpu$outputs[[1]])), dim(cpu$outputs[[1]]))
  mx.exec.backward(cpu, og)
  for (dtype in c("float64", "float32")) {
    tol <- gpu_tolerance[[dtype]]
    gpu <- mx.simple.bind(s, ctx = mx.gpu(), grad.req = gpu_all_write(s), data = data_dim,
                          dtype = dtype)
    expect_identical(gpu$ctx, mx.gpu(0))
    expect_output(print(gpu), "MXExecutor on gpu\\(0\\)")
    mx.exec.update.arg.arrays(gpu, args, match.name = TRUE)
    mx.exec.forward(gpu, is.train = TRUE)
    out <- gpu$outputs$up2_output
    expect_true(is.array(out) && is.double(out))
    expect_identical(dim(out), dim(cpu$outputs$up2_output))
    expect_lt(rel_err(out, cpu$outputs$up2_output), tol, label = paste("output", dtype))
    mx.exec.backward(gpu, og)
    for (nm in names(args)) {
      expect_true(is.double(gpu$grad.arrays[[nm]]))
      expect_identical(dim(gpu$grad.arrays[[nm]]), dim(cpu$grad.arrays[[nm]]))
      expect_lt(rel_err(gpu$grad.arrays[[nm]], cpu$grad.arrays[[nm]]), tol,
                label = paste(nm, "gradient", dtype))
    }
    # New argument values reach the device: forward and backward again.
    args2 <- gpu_args(s, data_dim, 323)
    mx.exec.update.arg.arrays(gpu, args2[c("data", "up2_weight")], match.name = TRUE)
    mx.exec.forward(gpu)
    a2 <- modifyList(args, args2[c("data", "up2_weight")])
    cpu2 <- mx.simple.bind(s, ctx = mx.cpu(), grad.req = gpu_all_write(s), data = data_dim)
    mx.exec.update.arg.arrays(cpu2, a2, match.name = TRUE)
    mx.exec.forward(cpu2)
    expect_lt(rel_err(gpu$outputs[[1]], cpu2$outputs[[1]]), tol, label = paste("updated", dtype))
    mx.exec.backward(gpu)                      # NULL out.grads: ones
    mx.exec.backward(cpu2)
    for (nm in names(args)) {
      expect_lt(rel_err(gpu$grad.arrays[[nm]], cpu2$grad.arrays[[nm]]), tol,
                label = paste(nm, "gradient after update", dtype))
    }
  }
})

test_that("grad.req 'add' accumulates over backward calls on the GPU", {
  skip_if_no_gpu()
  s <- gpu_two_layer()
  data_dim <- c(6, 5, 3, 2)
  args <- gpu_args(s, data_dim, 324)
  full <- mx.simple.bind(s, ctx = mx.cpu(), grad.req = gpu_all_write(s), data = data_dim)
  mx.exec.update.arg.arrays(full, args, match.name = TRUE)
  mx.exec.forward(full)
  set.seed(325)
  og <- array(rnorm(length(full$outputs[[1]])), dim(full$outputs[[1]]))
  mx.exec.backward(full, og)
  reqs <- list(data = "add", up1_weight = "add", up1_bias = "write", up2_weight = "null",
               up2_bias = "add")
  for (dtype in c("float64", "float32")) {
    tol <- gpu_tolerance[[dtype]]
    exec <- mx.simple.bind(s, ctx = mx.gpu(), grad.req = reqs, data = data_dim, dtype = dtype)
    expect_null(exec$grad.arrays$up2_weight)
    mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
    mx.exec.forward(exec)
    mx.exec.backward(exec, og)
    mx.exec.backward(exec, og)
    for (nm in c("data", "up1_weight", "up2_bias")) {
      expect_lt(rel_err(exec$grad.arrays[[nm]], 2 * full$grad.arrays[[nm]]), tol,
                label = paste(nm, "after two backward calls", dtype))
    }
    expect_lt(rel_err(exec$grad.arrays$up1_bias, full$grad.arrays$up1_bias), tol)
    expect_null(exec$grad.arrays$up2_weight)
    # "add" starts from what the gradient array holds.
    mx.exec.update.grad.arrays(exec, list(up1_weight = array(0, dim(args$up1_weight))),
                               match.name = TRUE)
    mx.exec.backward(exec, og)
    expect_lt(rel_err(exec$grad.arrays$up1_weight, full$grad.arrays$up1_weight), tol)
    expect_lt(rel_err(exec$grad.arrays$data, 3 * full$grad.arrays$data), tol)
  }
})

test_that("mx.symbol.eval on the GPU matches the CPU", {
  skip_if_no_gpu()
  s <- gpu_two_layer()
  args <- gpu_args(s, c(6, 5, 3, 2), 326)
  y <- mx.symbol.eval(s, args)
  expect_lt(rel_err(mx.symbol.eval(s, args, ctx = mx.gpu()), y), 1e-10)
  expect_lt(rel_err(mx.symbol.eval(s, args, ctx = "gpu", dtype = "float32"), y), 1e-4)
  both <- mx.symbol.eval(s, args, ctx = mx.gpu(0), simplify = FALSE)
  expect_named(both, "up2_output")
  expect_identical(dim(both$up2_output), dim(y))
})

# ---- the benchmark helper ---------------------------------------------------------------------

test_that("deconv:::gpu_benchmark returns positive milliseconds", {
  skip_if_no_gpu()
  for (mode in gpu_modes[c("tune_default", "cudnn_off")]) for (backward in c(FALSE, TRUE)) {
    ms <- do.call(deconv:::gpu_benchmark,
                  c(list(c(8, 8, 16, 2), kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                         num.filter = 8, no.bias = FALSE, reps = 3L, backward = backward),
                    mode))
    expect_true(is.numeric(ms) && length(ms) == 1 && is.finite(ms) && ms > 0)
  }
})
