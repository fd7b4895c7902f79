# One test per error condition: each is a classed R error naming the argument.

x4 <- array(1, c(5, 5, 4, 2))                  # NCHW: W5 H5 C4 N2
w4 <- array(1, c(3, 3, 2, 4))                  # kw3 kh3 F2 C4
dc <- function(...) deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2, ...)
param_error <- function(expr, pattern) {
  expect_error(expr, pattern, class = "deconv_param_error")
}
shape_error <- function(expr, pattern) {
  expect_error(expr, pattern, class = "deconv_shape_error")
}

test_that("adj >= stride is an error", {
  param_error(dc(stride = c(2, 2), adj = c(0, 2)),
              "^adj: expected adj smaller than stride .* adj 2 >= stride 2 for dimension h")
  param_error(dc(adj = c(1, 0)), "^adj: .*adj 1 >= stride 1 for dimension w")
})

test_that("channels not divisible by num.group is an error", {
  shape_error(deconvolution(array(1, c(4, 4, 3, 1)), array(1, c(3, 3, 1, 3)), kernel = c(3, 3),
                            num.filter = 2, num.group = 2),
              "^num.group: the data's channels \\(3\\) must be divisible by num.group \\(2\\)")
})

test_that("num.filter not divisible by num.group is an error", {
  param_error(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 3, num.group = 2),
              "^num.filter: expected a multiple of num.group \\(2\\), got 3")
})

test_that("tuples of the wrong length are errors", {
  for (arg in c("stride", "dilate", "pad", "adj", "target.shape")) {
    args <- list(x4, w4, kernel = c(3, 3), num.filter = 2)
    args[[arg]] <- c(1, 1, 1)
    param_error(do.call(deconvolution, args),
                paste0("^", arg, ": expected 1 or 2 values \\(one for all spatial dimensions or one each; ",
                       "kernel has 2 values\\), got 3"))
  }
  param_error(deconvolution(x4, w4, kernel = c(3, 3, 3, 3), num.filter = 2),
              "^kernel: expected 1, 2 or 3 values")
  param_error(deconvolution(x4, w4, kernel = numeric(0), num.filter = 2), "^kernel: expected 1, 2 or 3")
})

test_that("zero or negative kernel, stride, dilate are errors", {
  param_error(deconvolution(x4, w4, kernel = c(3, 0), num.filter = 2),
              "^kernel: expected a positive integer, got 0 for dimension h")
  param_error(dc(stride = c(-1, 1)), "^stride: expected a positive integer, got -1 for dimension w")
  param_error(dc(dilate = c(1, 0)), "^dilate: expected a positive integer, got 0 for dimension h")
})

test_that("negative pad or adj are errors", {
  param_error(dc(pad = c(0, -1)), "^pad: expected a non-negative integer, got -1 for dimension h")
  param_error(dc(stride = c(2, 2), adj = c(-1, 0)), "^adj: expected a non-negative integer, got -1")
  param_error(dc(target.shape = c(-3, 7)), "^target.shape: expected a non-negative integer, got -3")
})

test_that("NA and non-integer values are errors", {
  param_error(dc(stride = c(NA, 1)), "^stride: expected integer values, got NA")
  param_error(dc(pad = c(0.5, 0)), "^pad: expected integer values, got 0.5")
  param_error(deconvolution(x4, w4, kernel = c(3, 3), num.filter = NA), "^num.filter: expected integer values, got NA")
  param_error(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 2.5), "^num.filter: expected integer values, got 2.5")
  param_error(dc(num.group = c(1, 2)), "^num.group: expected a single integer, got 2 values")
  param_error(dc(no.bias = NA), "^no.bias: expected TRUE or FALSE, got NA")
  param_error(dc(stride = "2"), "^stride: expected a numeric vector, got \"2\"")
  param_error(dc(workspace = -1), "^workspace: expected a non-negative number of MB")
})

test_that("sizes that overflow are errors", {
  shape_error(deconvolution_shape(c(2^40, 2^40, 1, 1), kernel = c(3, 3), stride = c(2^31, 2^31),
                                  num.filter = 1),
              "sizes too large: the size overflows")
  shape_error(deconvolution_shape(c(2^20, 2^20, 2^20, 1, 1), kernel = c(3, 3, 3),
                                  num.filter = 2^20),
              "sizes too large")
  shape_error(deconvolution_shape(c(2^32, 2^32, 1, 1), kernel = c(1, 1),
                                  pad = c(2^31 - 1, 2^31 - 1), num.filter = 1),
              "^data: sizes too large")             # input overflows, the output does not
  param_error(dc(stride = c(2^33, 1)), "^stride: expected a positive integer, got 8589934592")
  shape_error(deconvolution_shape(c(2^31 - 1, 1, 1), kernel = 3, stride = 2, num.filter = 1),
              "exceeds R's limit for array dimensions")
})

test_that("a non-positive output size is an error", {
  shape_error(deconvolution(array(1, c(1, 1, 4, 1)), w4, kernel = c(3, 3), pad = c(2, 0),
                            num.filter = 2),
              "^pad: the output size would be -1 in dimension w .* use a smaller pad")
})

test_that("too big target.shape is an error", {
  shape_error(dc(target.shape = c(8, 7)),
              "^target.shape: too big target shape: dimension w asks for 8 but at most 7")
})

test_that("a weight of the wrong shape is an error that shows the expected dim", {
  shape_error(deconvolution(x4, array(1, c(3, 3, 4, 2)), kernel = c(3, 3), num.filter = 2),
              "^weight: expected an array with dim = c\\(3, 3, 2, 4\\) .* got dim = c\\(3, 3, 4, 2\\)")
  shape_error(deconvolution(x4, rep(1, 72), kernel = c(3, 3), num.filter = 2),
              "^weight: .*got a vector without dim of length 72")
})

test_that("bias of the wrong length, given with no.bias = TRUE or missing is an error", {
  shape_error(dc(bias = 1:3, no.bias = FALSE), "^bias: expected 2 values .* got 3 values")
  param_error(dc(bias = 1:2), "^bias: a bias was given but no.bias is TRUE; set no.bias = FALSE")
  param_error(dc(no.bias = FALSE), "^bias: no.bias is FALSE but no bias was given")
})

test_that("data of the wrong rank, without dim or not numeric is an error", {
  param_error(deconvolution(array(1, c(2, 2)), w4, kernel = c(3, 3), num.filter = 2),
              "^data: expected an array of 3, 4, 5 dimensions .* got 2")
  param_error(deconvolution(1:10, w4, kernel = c(3, 3), num.filter = 2),
              "^data: expected an array with dim .* got a vector without dim")
  param_error(deconvolution(array("a", c(2, 2, 2, 2)), w4, kernel = c(3, 3), num.filter = 2),
              "^data: expected a numeric array, got a character of length 16")
  param_error(deconvolution(x4, array(TRUE, dim(w4)), kernel = c(3, 3), num.filter = 2),
              "^weight: expected a numeric array")
  shape_error(deconvolution(array(1, c(5, 4, 2)), w4, kernel = c(3, 3), num.filter = 2),
              "^data: expected a 4-dimensional array for a 2D kernel \\(layout NCHW\\), got 3")
})

test_that("unknown layout, cudnn.tune or dtype is an error", {
  param_error(dc(layout = "NWHC"), "^layout: expected one of NCW, NCHW, NCDHW, NHWC, NDHWC")
  param_error(dc(layout = "NCW"), "^layout: layout NCW is for 1D data but kernel has 2 values")
  param_error(dc(cudnn.tune = "fast"), "^cudnn.tune: expected one of 'off', 'limited_workspace', 'fastest'")
  param_error(dc(dtype = "float16"), "^dtype: expected \"float64\" or \"float32\"")
})

test_that("ctx = 'gpu' without GPU support says so", {
  skip_if(deconv_info()$cuda, "this build has GPU support")
  expect_error(dc(ctx = "gpu"), "^ctx: this build of deconv has no GPU support",
               class = "deconv_unsupported_error")
  expect_error(dc(ctx = mx.gpu(1)), "no GPU support", class = "deconv_unsupported_error")
  param_error(dc(ctx = "tpu"), "^ctx: expected \"cpu\", \"gpu\", mx.cpu\\(\\) or mx.gpu\\(i\\)")
})

test_that("argument spelling errors are clear", {
  param_error(dc(num_filter = 2), "^num.filter: given twice, as num.filter and as num_filter")
  param_error(dc(kernal = 3), "^kernal: unknown argument")
  param_error(deconvolution(x4, w4, num.filter = 2), "^kernel: required")
  param_error(deconvolution(x4, w4, kernel = c(3, 3)), "^num.filter: required")
  param_error(deconvolution(x4, kernel = c(3, 3), num.filter = 2), "^weight: required")
})

test_that("errors are reported from the user's call", {
  e <- tryCatch(dc(stride = c(0, 1)), error = identity)
  expect_identical(conditionCall(e)[[1]], quote(deconvolution))
  expect_s3_class(e, "deconv_error")
})

test_that("messages use R's dotted spellings, never MXNet's underscore ones", {
  # (Except where a message quotes the underscore spelling the caller used.)
  underscore <- "num_group|num_filter|no_bias|target_shape|cudnn_tune|cudnn_off|out_grad"
  calls <- list(
    quote(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 3, num.group = 2)),
    quote(deconvolution(array(1, c(4, 4, 3, 1)), array(1, c(3, 3, 1, 3)), kernel = c(3, 3),
                        num.filter = 2, num.group = 2)),
    quote(dc(bias = 1:2)),
    quote(dc(no.bias = FALSE)),
    quote(dc(bias = 1:3, no.bias = FALSE)),
    quote(dc(target.shape = c(100, 100))),
    quote(dc(target_shape = c(1, 1, 1))),
    quote(dc(cudnn_tune = "bogus")),
    quote(dc(cudnn.off = NA)),
    quote(deconvolution(x4, w4, kernel = c(3, 3), num.filter = 0)),
    quote(deconvolution(x4, w4, kernel = c(3, 3), num_filter = 2, num_group = 0)),
    quote(deconvolution_backward(array(1, c(2, 2, 2, 2)), x4, w4, kernel = 3, num.filter = 2)),
    quote(deconvolution_shape(c(5, 5, 4, 2), kernel = 3, num.filter = 2, target.shape = 1:3)),
    quote(mx.symbol.Deconvolution(mx.symbol.Variable("d"), kernel = 3, num.filter = 3,
                                  num.group = 2)),
    quote(mx.symbol.Deconvolution(mx.symbol.Variable("d"), kernel = 3, num.filter = 2,
                                  bias = mx.symbol.Variable("b")))
  )
  for (cl in calls) {
    e <- tryCatch({ eval(cl); NULL }, error = identity)
    expect_s3_class(e, "deconv_error")
    expect_no_match(conditionMessage(e), underscore, label = deparse(cl)[1])
  }
})
