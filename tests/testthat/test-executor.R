# Executors: binding, updating arrays, forward, backward (vs deconvolution_backward and
# finite differences), grad.req, contexts, one-call evaluation and a training check.

two_layer <- function() {
  data <- mx.symbol.Variable("data")
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 3), stride = c(2, 2), pad = c(1, 1),
                                 num.filter = 3, no.bias = FALSE, name = "up1")
  mx.symbol.Deconvolution(up1, kernel = c(2, 3), stride = c(2, 1), dilate = c(1, 2),
                          num.filter = 2, num.group = 1, no.bias = FALSE,
                          target.shape = c(11, 9), name = "up2")
}

random_args <- function(sym, data_dim, seed = 1) {
  set.seed(seed)
  shapes <- mx.symbol.infer.shape(sym, data = data_dim)$arg.shapes
  lapply(shapes, function(s) array(rnorm(prod(s)), dim = s))
}

all_write <- function(sym) {
  a <- arguments(sym)
  stats::setNames(rep("write", length(a)), a)
}

rel_err <- function(a, b) max(abs(a - b)) / max(1, max(abs(b)))

test_that("mx.simple.bind allocates zero argument and gradient arrays from inferred shapes", {
  s <- two_layer()
  exec <- mx.simple.bind(s, ctx = mx.cpu(), grad.req = "write", data = c(3, 4, 2, 2))
  expect_s3_class(exec, "MXExecutor")
  expect_true(is.environment(exec))
  expect_identical(names(exec$arg.arrays), arguments(s))
  shapes <- mx.symbol.infer.shape(s, data = c(3, 4, 2, 2))$arg.shapes
  expect_identical(lapply(exec$arg.arrays, dim), shapes)
  expect_true(all(vapply(exec$arg.arrays, function(a) all(a == 0), TRUE)))
  # MXNet R's rule for a single string: data (and label) get no gradient.
  expect_identical(unname(exec$grad.req), c("null", "write", "write", "write", "write"))
  expect_null(exec$grad.arrays$data)
  expect_identical(dim(exec$grad.arrays$up1_weight), shapes$up1_weight)
  expect_null(exec$outputs)
  expect_length(exec$aux.arrays, 0)
  expect_output(print(exec), "MXExecutor on cpu\\(0\\)")
  # fixed.param; the default "write" spares data, as MXNet R's rule does.
  e2 <- mx.simple.bind(s, ctx = "cpu", grad.req = "add", fixed.param = "up1_bias",
                       data = c(3, 4, 2, 2))
  expect_identical(e2$grad.req[["up1_bias"]], "null")
  expect_identical(e2$grad.req[["up2_weight"]], "add")
  e3 <- mx.simple.bind(s, "cpu", data = c(3, 4, 2, 2))
  expect_identical(e3$grad.req[["data"]], "null")
  expect_true(all(e3$grad.req[names(e3$grad.req) != "data"] == "write"))
})

test_that("bind needs enough shape information and valid requests and contexts", {
  s <- two_layer()
  expect_error(mx.simple.bind(s, "cpu"), class = "deconv_shape_error",
               regexp = "^data: need more shape information")
  expect_error(mx.simple.bind(s, "cpu", grad.req = "sometimes", data = c(3, 4, 2, 2)),
               class = "deconv_param_error", regexp = "^grad.req: ")
  expect_error(mx.simple.bind(s, "cpu", grad.req = c(up9_weight = "write"), data = c(3, 4, 2, 2)),
               class = "deconv_param_error", regexp = "^up9_weight: not an argument")
  expect_error(mx.simple.bind(s, "cpu", grad.req = c("write", "add"), data = c(3, 4, 2, 2)),
               class = "deconv_param_error", regexp = "^grad.req: .*named")
  expect_error(mx.simple.bind(s, "tpu", data = c(3, 4, 2, 2)), class = "deconv_param_error",
               regexp = "^ctx: ")
  expect_error(mx.simple.bind(s, "cpu", data = c(3, 4, 2, 2), dtype = "float16"),
               class = "deconv_param_error", regexp = "^dtype: ")
  expect_error(mx.simple.bind(s, "cpu", data = c(3, 4, 2, 2), up1_bias = 4),
               class = "deconv_shape_error", regexp = "^up1_bias: .*node 'up1'")
})

test_that("ctx takes strings and mx.cpu()/mx.gpu() objects", {
  s <- two_layer()
  expect_identical(mx.simple.bind(s, "cpu", data = c(3, 4, 2, 2))$ctx, mx.cpu())
  expect_identical(mx.simple.bind(s, mx.cpu(), data = c(3, 4, 2, 2))$ctx, mx.cpu())
  eg <- mx.simple.bind(s, mx.gpu(1), data = c(3, 4, 2, 2))
  expect_identical(eg$ctx, mx.gpu(1))
  expect_identical(mx.simple.bind(s, "gpu", data = c(3, 4, 2, 2))$ctx, mx.gpu(0))
  if (!deconv_info()$cuda) {
    mx.exec.update.arg.arrays(eg, random_args(s, c(3, 4, 2, 2)), match.name = TRUE)
    expect_error(mx.exec.forward(eg), class = "deconv_unsupported_error")
  }
})

test_that("update.arg.arrays: positional or by name, skip.null, shape checks; it mutates", {
  s <- two_layer()
  args <- random_args(s, c(3, 4, 2, 2))
  exec <- mx.simple.bind(s, "cpu", data = c(3, 4, 2, 2))
  same <- exec
  mx.exec.update.arg.arrays(exec, unname(args))
  expect_identical(same$arg.arrays, args)
  mx.exec.update.arg.arrays(exec, list(up1_bias = c(1, 2, 3)), match.name = TRUE)
  expect_identical(as.vector(exec$arg.arrays$up1_bias), c(1, 2, 3))
  expect_identical(dim(exec$arg.arrays$up1_bias), 3L)
  mx.exec.update.arg.arrays(exec, list(NULL, NULL, NULL, NULL, array(0, dim(args$up2_bias))),
                            skip.null = TRUE)
  expect_identical(exec$arg.arrays$up2_weight, args$up2_weight)
  expect_true(all(exec$arg.arrays$up2_bias == 0))
  expect_error(mx.exec.update.arg.arrays(exec, list(NULL, NULL, NULL, NULL, NULL)),
               class = "deconv_param_error", regexp = "^data: NULL given")
  expect_error(mx.exec.update.arg.arrays(exec, list(args$data)), class = "deconv_param_error",
               regexp = "^arg.arrays: expected 5 arrays")
  expect_error(mx.exec.update.arg.arrays(exec, list(up1_weight = array(0, c(4, 3, 3, 3))),
                                         match.name = TRUE),
               class = "deconv_shape_error",
               regexp = "^up1_weight: expected an array with dim = c\\(4, 3, 3, 2\\)")
  expect_error(mx.exec.update.arg.arrays(exec, list(nope = 1), match.name = TRUE),
               class = "deconv_param_error", regexp = "^nope: not an argument")
  expect_error(mx.exec.update.arg.arrays(exec, list(up1_bias = "a"), match.name = TRUE),
               class = "deconv_param_error", regexp = "^up1_bias: expected a numeric array")
  expect_error(mx.exec.update.arg.arrays(list(), list()), class = "deconv_param_error",
               regexp = "^exec: ")
})

test_that("forward computes the stacked layers as deconvolution() does", {
  s <- two_layer()
  args <- random_args(s, c(3, 4, 2, 2))
  exec <- mx.simple.bind(s, "cpu", data = c(3, 4, 2, 2))
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  expect_invisible(mx.exec.forward(exec, is.train = FALSE))
  h <- deconvolution(args$data, args$up1_weight, args$up1_bias, kernel = c(4, 3),
                     stride = c(2, 2), pad = c(1, 1), num.filter = 3, no.bias = FALSE)
  y <- deconvolution(h, args$up2_weight, args$up2_bias, kernel = c(2, 3), stride = c(2, 1),
                     dilate = c(1, 2), num.filter = 2, no.bias = FALSE, target.shape = c(11, 9))
  expect_named(exec$outputs, "up2_output")
  expect_identical(exec$outputs$up2_output, y)
  expect_identical(exec$ref.outputs$up2_output, y)
  expect_identical(exec$ref.arg.arrays, exec$arg.arrays)
  expect_identical(mx.symbol.eval(s, args), y)
  expect_identical(mx.symbol.eval(s, args, simplify = FALSE), list(up2_output = y))
  # float32 computes in single precision.
  y32 <- mx.symbol.eval(s, args, dtype = "float32")
  expect_lt(rel_err(y32, y), 1e-5)
  expect_gt(max(abs(y32 - y)), 0)
})

test_that("mx.symbol.eval needs exactly the symbol's arguments", {
  s <- two_layer()
  args <- random_args(s, c(3, 4, 2, 2))
  expect_error(mx.symbol.eval(s, args[-2]), class = "deconv_param_error",
               regexp = "^up1_weight: no array given")
  expect_error(mx.symbol.eval(s, c(args, list(extra = 1))), class = "deconv_param_error",
               regexp = "^extra: not an argument")
  expect_error(mx.symbol.eval(s, unname(args)), class = "deconv_param_error", regexp = "^args: ")
  bad <- args
  bad$up1_weight <- array(0, c(4, 3, 3, 3))
  expect_error(mx.symbol.eval(s, bad), class = "deconv_shape_error",
               regexp = "^up1_weight: .*node 'up1'")
})

test_that("backward of one layer matches deconvolution_backward()", {
  data <- mx.symbol.Variable("data")
  s <- mx.symbol.Deconvolution(data, kernel = c(3, 2), stride = c(2, 3), pad = c(1, 0),
                               adj = c(1, 2), num.filter = 4, num.group = 2, no.bias = FALSE,
                               name = "one")
  args <- random_args(s, c(4, 3, 2, 2), seed = 7)
  exec <- mx.simple.bind(s, "cpu", grad.req = all_write(s), data = c(4, 3, 2, 2))
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  mx.exec.forward(exec)
  og <- array(rnorm(length(exec$outputs[[1]])), dim(exec$outputs[[1]]))
  expect_invisible(mx.exec.backward(exec, og))
  ref <- deconvolution_backward(og, args$data, args$one_weight, args$one_bias,
                                kernel = c(3, 2), stride = c(2, 3), pad = c(1, 0), adj = c(1, 2),
                                num.filter = 4, num.group = 2, no.bias = FALSE)
  expect_identical(exec$grad.arrays$data, ref$data)
  expect_identical(exec$grad.arrays$one_weight, ref$weight)
  expect_equal(as.vector(exec$grad.arrays$one_bias), ref$bias, tolerance = 0)
  # A list of out.grads works as well as the array.
  e2 <- mx.simple.bind(s, "cpu", grad.req = all_write(s), data = c(4, 3, 2, 2))
  mx.exec.update.arg.arrays(e2, args, match.name = TRUE)
  mx.exec.forward(e2)
  mx.exec.backward(e2, list(og))
  expect_identical(e2$grad.arrays, exec$grad.arrays)
})

test_that("backward through stacked layers matches finite differences (float64, 1e-6)", {
  s <- two_layer()
  data_dim <- c(3, 4, 2, 2)
  args <- random_args(s, data_dim, seed = 11)
  exec <- mx.simple.bind(s, "cpu", grad.req = all_write(s), data = data_dim)
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  mx.exec.forward(exec)
  set.seed(12)
  og <- array(rnorm(length(exec$outputs[[1]])), dim(exec$outputs[[1]]))
  mx.exec.backward(exec, og)
  loss <- function(a) sum(mx.symbol.eval(s, a) * og)
  h <- 1e-3
  for (nm in names(args)) {
    idx <- seq_along(args[[nm]])
    if (length(idx) > 12) idx <- sort(sample(idx, 12))
    fd <- vapply(idx, function(i) {
      up <- args
      dn <- args
      up[[nm]][i] <- up[[nm]][i] + h
      dn[[nm]][i] <- dn[[nm]][i] - h
      (loss(up) - loss(dn)) / (2 * h)
    }, 0)
    g <- exec$grad.arrays[[nm]][idx]
    expect_lte(max(abs(g - fd)) / max(abs(fd)), 1e-6, label = nm)
  }
})

test_that("gradients of the data through two layers match a manual chain of backward calls", {
  s <- two_layer()
  args <- random_args(s, c(3, 4, 2, 2), seed = 5)
  exec <- mx.simple.bind(s, "cpu", grad.req = all_write(s), data = c(3, 4, 2, 2))
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  mx.exec.forward(exec)
  og <- array(1, dim(exec$outputs[[1]]))
  mx.exec.backward(exec)                     # NULL out.grads: ones
  p1 <- list(kernel = c(4, 3), stride = c(2, 2), pad = c(1, 1), num.filter = 3, no.bias = FALSE)
  p2 <- list(kernel = c(2, 3), stride = c(2, 1), dilate = c(1, 2), num.filter = 2,
             no.bias = FALSE, target.shape = c(11, 9))
  h <- do.call(deconvolution, c(list(args$data, args$up1_weight, args$up1_bias), p1))
  g2 <- do.call(deconvolution_backward, c(list(og, h, args$up2_weight, args$up2_bias), p2))
  g1 <- do.call(deconvolution_backward, c(list(g2$data, args$data, args$up1_weight,
                                               args$up1_bias), p1))
  expect_identical(exec$grad.arrays$data, g1$data)
  expect_identical(exec$grad.arrays$up1_weight, g1$weight)
  expect_identical(exec$grad.arrays$up2_weight, g2$weight)
  expect_equal(as.vector(exec$grad.arrays$up2_bias), g2$bias, tolerance = 0)
})

test_that("grad.req write, add and null are honoured per argument", {
  s <- two_layer()
  args <- random_args(s, c(3, 4, 2, 2), seed = 3)
  full <- mx.simple.bind(s, "cpu", grad.req = all_write(s), data = c(3, 4, 2, 2))
  mx.exec.update.arg.arrays(full, args, match.name = TRUE)
  mx.exec.forward(full)
  mx.exec.backward(full)
  reqs <- list(data = "null", up1_weight = "add", up1_bias = "write", up2_weight = "null",
               up2_bias = "add")
  exec <- mx.simple.bind(s, "cpu", grad.req = reqs, data = c(3, 4, 2, 2))
  expect_null(exec$grad.arrays$data)
  expect_null(exec$grad.arrays$up2_weight)
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  mx.exec.forward(exec)
  mx.exec.backward(exec)
  mx.exec.backward(exec)
  expect_equal(exec$grad.arrays$up1_weight, 2 * full$grad.arrays$up1_weight, tolerance = 1e-14)
  expect_equal(exec$grad.arrays$up2_bias, 2 * full$grad.arrays$up2_bias, tolerance = 1e-14)
  expect_identical(exec$grad.arrays$up1_bias, full$grad.arrays$up1_bias)
  expect_null(exec$grad.arrays$data)
  # "add" starts from what the gradient array holds.
  mx.exec.update.grad.arrays(exec, list(up1_weight = array(0, dim(args$up1_weight))),
                             match.name = TRUE)
  mx.exec.backward(exec)
  expect_identical(exec$grad.arrays$up1_weight, full$grad.arrays$up1_weight)
  expect_error(mx.exec.update.grad.arrays(exec, list(data = args$data), match.name = TRUE),
               class = "deconv_param_error", regexp = "^data: not an argument with a gradient")
  # A partial named vector: the others get "null".
  e2 <- mx.simple.bind(s, "cpu", grad.req = c(up2_bias = "write"), data = c(3, 4, 2, 2))
  expect_identical(sum(e2$grad.req != "null"), 1L)
})

test_that("backward checks its inputs", {
  s <- two_layer()
  exec <- mx.simple.bind(s, "cpu", grad.req = "write", data = c(3, 4, 2, 2))
  expect_error(mx.exec.backward(exec), class = "deconv_param_error",
               regexp = "^exec: no forward pass")
  mx.exec.forward(exec)
  expect_error(mx.exec.backward(exec, array(0, c(2, 2))), class = "deconv_shape_error",
               regexp = "^out.grads: expected dim = c\\(11, 9, 2, 2\\)")
  expect_error(mx.exec.backward(exec, list(1, 2)), class = "deconv_param_error",
               regexp = "^out.grads: expected 1 arrays")
})

test_that("a few gradient-descent steps on a tiny upsampling problem lower the loss", {
  set.seed(21)
  x <- array(rnorm(6 * 5 * 1 * 4), c(6, 5, 1, 4))
  target <- deconvolution(x, bilinear_kernel(c(4, 4)), kernel = c(4, 4), stride = c(2, 2),
                          pad = c(1, 1), num.filter = 1)
  data <- mx.symbol.Variable("data")
  up <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                num.filter = 1, no.bias = FALSE, name = "up")
  exec <- mx.simple.bind(up, mx.cpu(), grad.req = "write", data = dim(x))
  mx.exec.update.arg.arrays(exec, list(data = x, up_weight = array(rnorm(16, sd = 0.1), c(4, 4, 1, 1))),
                            match.name = TRUE)
  losses <- numeric(0)
  lr <- 0.5 / sum(x^2)        # below 2 / (largest curvature) for this problem
  for (step in 1:8) {
    mx.exec.forward(exec, is.train = TRUE)
    resid <- exec$outputs$up_output - target
    losses[step] <- 0.5 * sum(resid^2)
    mx.exec.backward(exec, resid)
    mx.exec.update.arg.arrays(exec, list(
      up_weight = exec$arg.arrays$up_weight - lr * exec$grad.arrays$up_weight,
      up_bias = exec$arg.arrays$up_bias - lr * exec$grad.arrays$up_bias), match.name = TRUE)
  }
  expect_true(all(diff(losses) < 0))
  expect_lt(losses[8], 0.01 * losses[1])
})

test_that("a layer with frozen weights computes its data gradient directly, and agrees", {
  # With no weight gradient wanted the CPU skips im2col and runs the direct data gradient
  # (small filter counts, 1D/2D); so does the full backward of this small layer, weight
  # gradient included; both match the im2col + GEMM path (DECONV_CPU_PATH=gemm).
  data <- mx.symbol.Variable("data")
  s <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                               num.filter = 5, name = "up")
  args <- random_args(s, c(20, 7, 3, 2), seed = 4)
  for (dtype in c("float64", "float32")) {
    tol <- if (dtype == "float64") 1e-12 else 1e-5
    exec <- mx.simple.bind(s, "cpu", grad.req = c(data = "write", up_weight = "null"),
                           data = c(20, 7, 3, 2), dtype = dtype)
    mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
    mx.exec.forward(exec)
    dy <- array(rnorm(length(exec$outputs[[1]])), dim(exec$outputs[[1]]))
    mx.exec.backward(exec, dy)
    stats <- deconv:::cpp_last_run_stats()
    expect_true(stats$phase_data_grad)
    expect_false(stats$phase_weight_grad)
    backward <- function() {
      deconvolution_backward(dy, args$data, args$up_weight, kernel = c(4, 4),
                             stride = c(2, 2), pad = c(1, 1), num.filter = 5, dtype = dtype)
    }
    direct <- backward()
    expect_true(deconv:::cpp_last_run_stats()$phase_weight_grad)
    gemm <- withr::with_envvar(c(DECONV_CPU_PATH = "gemm"), backward())
    expect_false(deconv:::cpp_last_run_stats()$phase_data_grad)
    expect_false(deconv:::cpp_last_run_stats()$phase_weight_grad)
    expect_equal(exec$grad.arrays$data, gemm$data, tolerance = tol)
    expect_equal(direct$data, gemm$data, tolerance = tol)
    expect_equal(direct$weight, gemm$weight, tolerance = tol)
  }
})
