# Hostile calls to the eager functions (deconvolution(), deconvolution_backward(),
# deconvolution_shape(), bilinear_kernel(), deconv_threads(), the contexts and the
# internal benchmarks): each must be a classed deconv error naming the argument.
# bad_call() / expect_bad_calls() are in helper-bad-input.R.

x4 <- array(1, c(5, 5, 4, 2))                  # NCHW: W5 H5 C4 N2
w4 <- array(1, c(3, 3, 2, 4))                  # kw3 kh3 F2 C4
base <- list(quote(x4), quote(w4), kernel = c(3, 3), num.filter = 2)

# A deconvolution() call with `arg` set to `value` (replacing the base's value).
with_arg <- function(arg, value, fun = quote(deconvolution), args = base) {
  args[arg] <- list(value)
  as.call(c(fun, args))
}
case <- function(expr, class, arg) list(expr = expr, class = class, arg = arg)

# Values no tuple argument accepts, and the class of the error each gives.
bad_tuples <- list(
  "2", TRUE, NA, c(NA, 1), factor(c(3, 3)), c(Inf, 1), c(-Inf, 1), c(NaN, 1), c(1.5, 1),
  c(1e300, 1), list(1, 1), c(1i, 1i), structure(c(3, 3), class = "foo"),
  as.Date(c("2020-01-01", "2020-01-02")), function(x) x, new.env()
)
tuple_cases <- unlist(lapply(c("kernel", "stride", "dilate", "pad", "adj", "target.shape"),
  function(arg) {
    values <- bad_tuples
    if (arg %in% c("kernel", "stride", "dilate")) values <- c(values, list(c(0, 1), c(-1, 1)))
    else values <- c(values, list(c(-1, 0)))
    if (arg == "kernel") values <- c(values, list(numeric(0), 1:4))
    else values <- c(values, list(c(1, 1, 1)))
    lapply(values, function(v) case(with_arg(arg, v), "deconv_param_error", arg))
  }), recursive = FALSE)

bad_counts <- list(NA, "2", 2.5, -1, 1e300, Inf, -Inf, NaN, c(1, 2), factor(2), TRUE, list(2),
                   2^31 + 0.5, 1i)
count_cases <- unlist(lapply(c("num.filter", "num.group", "workspace"), function(arg) {
  values <- bad_counts
  if (arg != "workspace") values <- c(values, list(0, 2^40))
  lapply(values, function(v) case(with_arg(arg, v), "deconv_param_error", arg))
}), recursive = FALSE)

flag_cases <- unlist(lapply(c("no.bias", "cudnn.off"), function(arg) {
  lapply(list(NA, "yes", 2, c(TRUE, FALSE), factor("TRUE"), list(TRUE), -1),
         function(v) case(with_arg(arg, v), "deconv_param_error", arg))
}), recursive = FALSE)

string_cases <- unlist(lapply(c("cudnn.tune", "layout"), function(arg) {
  lapply(list(1, "bogus", NA_character_, c("off", "fastest"), TRUE, list("off"), ""),
         function(v) case(with_arg(arg, v), "deconv_param_error", arg))
}), recursive = FALSE)

dtype_cases <- lapply(list(32, NULL, TRUE, list(), "float16", NA, c("float32", "float64"),
                           factor("float32"), "FLOAT32"),
                      function(v) case(with_arg("dtype", v), "deconv_param_error", "dtype"))
dtype_cases <- Filter(function(c) "dtype" %in% names(c$expr), dtype_cases)  # NULL drops it

forged_ctx <- function(device, id) structure(list(device = device, device_id = id),
                                             class = "MXContext")
ctx_cases <- lapply(list("tpu", 1, NULL, list(), NA, c("cpu", "gpu"), TRUE,
                         forged_ctx("tpu", 0), forged_ctx("gpu", -1), forged_ctx("cpu", 1.5),
                         forged_ctx("cpu", NA), forged_ctx("cpu", "a"), forged_ctx(NULL, 0),
                         forged_ctx(c("cpu", "gpu"), 0), structure(1, class = "MXContext"),
                         forged_ctx("cpu", 2^40), forged_ctx("cpu", factor(1))),
                    function(v) case(with_arg("ctx", v), "deconv_param_error", "ctx"))
ctx_cases <- Filter(function(c) "ctx" %in% names(c$expr), ctx_cases)

array_cases <- c(
  lapply(list(array("a", c(5, 5, 4, 2)), factor(1:200), list(1, 2), NULL,
              array(TRUE, c(5, 5, 4, 2)), array(1i, c(5, 5, 4, 2)),
              structure(array(1, c(5, 5, 4, 2)), class = "integer64"),
              data.frame(a = 1:3), 1:200, matrix(1, 5, 5), array(1, c(1, 1, 1, 1, 1, 1)),
              as.Date("2020-01-01")),
         function(v) case(with_arg(1, v), "deconv_param_error", "data")),
  lapply(list(array("a", c(3, 3, 2, 4)), NULL, list(1), factor(1:72), array(TRUE, c(3, 3, 2, 4))),
         function(v) case(with_arg(2, v), "deconv_param_error", "weight")),
  lapply(list(array(1, c(3, 3, 4, 2)), 1:72, array(1, c(3, 3, 2, 4, 1)), array(1, c(2, 3, 2, 4))),
         function(v) case(with_arg(2, v), "deconv_shape_error", "weight")),
  list(case(with_arg("bias", c(1, 2)), "deconv_param_error", "bias"),           # no.bias = TRUE
       case(as.call(c(quote(deconvolution), base, no.bias = FALSE, bias = list(c(1, 2, 3)))),
            "deconv_shape_error", "bias"),
       case(as.call(c(quote(deconvolution), base, no.bias = FALSE, bias = list("a"))),
            "deconv_param_error", "bias"),
       case(as.call(c(quote(deconvolution), base, no.bias = FALSE, bias = list(factor(1:2)))),
            "deconv_param_error", "bias"),
       case(as.call(c(quote(deconvolution), base, no.bias = FALSE)), "deconv_param_error", "bias"))
)

cases <- c(tuple_cases, count_cases, flag_cases, string_cases, dtype_cases, ctx_cases,
           array_cases, list(
  # Missing and doubled arguments, underscore spellings.
  bad_call(deconvolution(weight = w4, kernel = c(3, 3), num.filter = 2), "deconv_param_error", "data"),
  bad_call(deconvolution(x4, kernel = c(3, 3), num.filter = 2), "deconv_param_error", "weight"),
  bad_call(deconvolution(x4, w4, num.filter = 2), "deconv_param_error", "kernel"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3)), "deconv_param_error", "num.filter"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num_filter = 2, num_filter = 3),
           "deconv_param_error", "num.filter"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, num_filter = 2),
           "deconv_param_error", "num.filter"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, numfilter = 2),
           "deconv_param_error", "numfilter"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, target_shape = c(9, 9),
                         target_shape = c(9, 9)), "deconv_param_error", "target.shape"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, no_bias = "no"),
           "deconv_param_error", "no.bias"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num_filter = factor(2)),
           "deconv_param_error", "num.filter"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, stride = c(2^31 + 1, 1)),
           "deconv_param_error", "stride"),
  bad_call(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, stride = c(2^30, 1)),
           "deconv_shape_error", "data"),
  bad_call(deconvolution(array(0, c(5, 5, 4, 0)), w4, kernel = c(3, 3), num.filter = 2),
           "deconv_shape_error", "data"),
  # Backward.
  bad_call(deconvolution_backward(array(1, c(2, 2)), x4, w4, kernel = c(3, 3), num.filter = 2),
           "deconv_shape_error", "out.grad"),
  bad_call(deconvolution_backward(array("a", c(7, 7, 2, 2)), x4, w4, kernel = c(3, 3), num.filter = 2),
           "deconv_param_error", "out.grad"),
  bad_call(deconvolution_backward(data = x4, weight = w4, kernel = c(3, 3), num.filter = 2),
           "deconv_param_error", "out.grad"),
  bad_call(deconvolution_backward(factor(1:196), x4, w4, kernel = c(3, 3), num.filter = 2),
           "deconv_param_error", "out.grad"),
  bad_call(deconvolution_backward(array(1, c(7, 7, 2, 2)), x4, w4, kernel = c(3, 3), num.filter = 2,
                                  dtype = 64), "deconv_param_error", "dtype"),
  bad_call(deconvolution_backward(array(1, c(7, 7, 2, 2)), x4, w4, kernel = c(3, 3), num.filter = 2,
                                  ctx = "tpu"), "deconv_param_error", "ctx"),
  # Shapes only.
  bad_call(deconvolution_shape("a", kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(c(4, 4), kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(c(4, NA, 1), kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(c(4, -1, 1), kernel = 3, num.filter = 1), "deconv_shape_error", "data"),
  bad_call(deconvolution_shape(c(4.5, 1, 1), kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(factor(c(4, 1, 1)), kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(c(Inf, 1, 1), kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(list(4, 1, 1), kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(kernel = 3, num.filter = 1), "deconv_param_error", "data"),
  bad_call(deconvolution_shape(c(2^31, 1, 1), kernel = 3, num.filter = 1), "deconv_shape_error", "data"),
  # Threads: the calls that crashed or broke the session.
  bad_call(deconv_threads(1e5), "deconv_param_error", "n"),
  bad_call(deconv_threads(2^31), "deconv_param_error", "n"),
  bad_call(deconv_threads(1e300), "deconv_param_error", "n"),
  bad_call(deconv_threads(Inf), "deconv_param_error", "n"),
  bad_call(deconv_threads(-1), "deconv_param_error", "n"),
  bad_call(deconv_threads(1.5), "deconv_param_error", "n"),
  bad_call(deconv_threads("a"), "deconv_param_error", "n"),
  bad_call(deconv_threads(NA), "deconv_param_error", "n"),
  bad_call(deconv_threads(c(1, 2)), "deconv_param_error", "n"),
  bad_call(deconv_threads(TRUE), "deconv_param_error", "n"),
  bad_call(deconv_threads(factor(2)), "deconv_param_error", "n"),
  bad_call(deconv_threads(list(1)), "deconv_param_error", "n"),
  bad_call(withr::with_options(list(deconv.threads = 1e5), deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2)),
           "deconv_param_error", "deconv.threads"),
  bad_call(withr::with_options(list(deconv.threads = "a"), deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2)),
           "deconv_param_error", "deconv.threads"),
  bad_call(withr::with_options(list(deconv.threads = -3), deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2)),
           "deconv_param_error", "deconv.threads"),
  bad_call(withr::with_options(list(deconv.threads = NA), deconv_threads()), "deconv_param_error", "deconv.threads"),
  bad_call(withr::with_options(list(deconv.threads = Inf), deconvolution_backward(array(1, c(7, 7, 2, 2)), x4, w4,
                                                                                  kernel = c(3, 3), num.filter = 2)),
           "deconv_param_error", "deconv.threads"),
  bad_call(withr::with_options(list(deconv.threads = c(1, 2)), deconv_threads()), "deconv_param_error", "deconv.threads"),
  # Contexts.
  bad_call(mx.gpu("a"), "deconv_param_error", "dev.id"),
  bad_call(mx.gpu(-1), "deconv_param_error", "dev.id"),
  bad_call(mx.cpu(1.5), "deconv_param_error", "dev.id"),
  bad_call(mx.cpu(NA), "deconv_param_error", "dev.id"),
  bad_call(mx.gpu(2^31), "deconv_param_error", "dev.id"),
  bad_call(mx.gpu(c(0, 1)), "deconv_param_error", "dev.id"),
  # Bilinear weights.
  bad_call(bilinear_kernel(Inf), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel(2^31), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel(0), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel("4"), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel(c(1, 2, 3, 4)), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel(NA), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel(factor(4)), "deconv_param_error", "kernel"),
  bad_call(bilinear_kernel(c(2^16, 2^16)), "deconv_shape_error", "kernel"),
  bad_call(bilinear_kernel(4, channels = 2^31), "deconv_param_error", "channels"),
  bad_call(bilinear_kernel(4, channels = 0), "deconv_param_error", "channels"),
  bad_call(bilinear_kernel(4, channels = 1.5), "deconv_param_error", "channels"),
  bad_call(bilinear_kernel(4, channels = 2, num.filter = 2^31), "deconv_param_error", "num.filter"),
  bad_call(bilinear_kernel(4, channels = 3, num.group = 2), "deconv_param_error", "num.group"),
  bad_call(bilinear_kernel(4, channels = 2, num.group = NA), "deconv_param_error", "num.group"),
  bad_call(bilinear_kernel(4, diagonal = "yes"), "deconv_param_error", "diagonal"),
  bad_call(bilinear_kernel(4, diagonal = NA), "deconv_param_error", "diagonal"),
  bad_call(bilinear_kernel(4, diagonal = 2), "deconv_param_error", "diagonal"),
  bad_call(bilinear_kernel(4, diagonal = c(TRUE, FALSE)), "deconv_param_error", "diagonal"),
  bad_call(bilinear_kernel(4, channels = 2, num.filter = 3), "deconv_param_error", "diagonal"),
  bad_call(bilinear_kernel(4, layout = "NHWC"), "deconv_param_error", "layout"),
  bad_call(bilinear_kernel(c(4, 4), layout = "NCW"), "deconv_param_error", "layout"),
  bad_call(bilinear_kernel(c(4, 4), layout = "xyz"), "deconv_param_error", "layout"),
  bad_call(bilinear_kernel(c(4, 4), layout = 1), "deconv_param_error", "layout"),
  bad_call(bilinear_kernel(c(4, 4, 4), layout = c("NCDHW", "NDHWC")), "deconv_param_error", "layout"),
  # Internal benchmarks.
  bad_call(deconv:::gemm_benchmark(0), "deconv_param_error", "n"),
  bad_call(deconv:::gemm_benchmark(2.5), "deconv_param_error", "n"),
  bad_call(deconv:::gemm_benchmark("a"), "deconv_param_error", "n"),
  bad_call(deconv:::gemm_benchmark(8, reps = 0), "deconv_param_error", "reps"),
  bad_call(deconv:::gemm_benchmark(8, threads = 1e5), "deconv_param_error", "threads"),
  bad_call(deconv:::gemm_benchmark(8, dtype = "x"), "deconv_param_error", "dtype"),
  bad_call(deconv:::gpu_benchmark(c(4, 4, 1, 1), kernel = c(2, 2), num.filter = 1, ctx = "cpu"),
           "deconv_param_error", "ctx"),
  bad_call(deconv:::gpu_benchmark(c(4, 4, 1, 1), kernel = c(2, 2), num.filter = 1, ctx = "tpu"),
           "deconv_param_error", "ctx")
))

test_that("hostile eager calls are classed errors naming the argument", {
  n <- expect_bad_calls(cases)
  expect_gte(n, 200)
})

test_that("valid edge cases still work", {
  y <- deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2)
  expect_identical(deconvolution(x4, w4, kernel = c(3L, 3L), num.filter = 2L), y)
  expect_identical(deconvolution(array(1L, dim(x4)), array(1L, dim(w4)), kernel = c(3, 3),
                                 num.filter = 2), y)
  expect_identical(deconvolution(as.table(x4), w4, kernel = c(3, 3), num.filter = 2), y)
  expect_identical(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, ctx = mx.cpu()), y)
  expect_identical(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2,
                                 no.bias = 1, cudnn.off = 0), y)
  expect_identical(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, layout = NULL,
                                 cudnn.tune = "off"), y)
  # NaN and Inf propagate as numbers do.
  xn <- x4
  xn[1] <- NaN
  xn[2] <- Inf
  expect_true(any(is.nan(deconvolution(xn, w4, kernel = c(3, 3), num.filter = 2))))
  expect_identical(withr::with_options(list(deconv.threads = 1L), deconv_threads()), 1L)
  expect_identical(withr::with_options(list(deconv.threads = NULL), deconv_threads()),
                   deconv_info()$threads)
  expect_identical(deconv_info()$thread_limit, 1024L)
  old <- deconv_threads()
  expect_identical(deconv_threads(1L), 1L)
  expect_identical(deconv_threads(old), old)
  expect_identical(mx.gpu(2)$device_id, 2L)
  expect_output(print(structure(list(device = "tpu", device_id = "x"), class = "MXContext")),
                "tpu\\(x\\)")
})

test_that("a bad deconv.threads option never sticks: the session keeps working", {
  old <- getOption("deconv.threads")
  expect_error(deconv_threads(2^31), class = "deconv_param_error")
  expect_identical(getOption("deconv.threads"), old)
  expect_identical(dim(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2)), c(7L, 7L, 2L, 2L))
})
