# Data in another program's order that does not fit: the error blames the data, says
# which order it looks like and names the from_layout() call; the call it names works.
# Where no conversion of the data fits, the plain precise error stays.

set.seed(13)
torch2d <- array(rnorm(1 * 3 * 6 * 8), c(1, 3, 6, 8))       # N1 C3 H6 W8, as torch holds it
keras2d <- aperm(torch2d, c(1, 3, 4, 2))                      # N1 H6 W8 C3
png_rgb <- array(runif(6 * 8 * 3), c(6, 8, 3))                # H6 W8 C3, as png::readPNG()
png_grey <- matrix(runif(6 * 8), 6, 8)                        # H6 W8
w_first <- array(rnorm(4 * 4 * 2 * 3), c(4, 4, 2, 3))         # kw kh F2 C3 (NCHW)
w_last <- array(rnorm(2 * 4 * 4 * 3), c(2, 4, 4, 3))          # F2 kw kh C3 (NHWC)

# The condition `expr` raises (or NULL).
error_of <- function(expr) tryCatch({ expr; NULL }, error = identity)

# Expects a deconv_shape_error starting "data:" that contains `text` (fixed) and names
# `convert`; returns the message.
expect_hint <- function(expr, text, convert) {
  e <- error_of(expr)
  expect_s3_class(e, "deconv_shape_error")
  msg <- conditionMessage(e)
  expect_match(msg, "^data: ")
  expect_match(msg, text, fixed = TRUE)
  expect_match(msg, paste0("convert it with ", convert), fixed = TRUE)
  invisible(msg)
}

test_that("torch-order NCHW data name from_layout(data, \"NCHW\") in every eager entry", {
  msg <- expect_hint(deconvolution(torch2d, w_first, kernel = c(4, 4), num.filter = 2),
                     "", 'from_layout(data, "NCHW")')
  expect_identical(msg, paste0(
    "data: dim = c(1, 3, 6, 8) has 6 channels where the weight expects 3; it looks like ",
    "torch/numpy order (N, C, H, W): convert it with from_layout(data, \"NCHW\")"))
  expect_hint(mx.nd.Deconvolution(torch2d, w_first, kernel = 4, stride = 2, num.filter = 2),
              "has 6 channels where the weight expects 3", 'from_layout(data, "NCHW")')
  expect_hint(deconvolution_backward(array(0, c(11, 9, 2, 1)), torch2d, w_first, kernel = 4,
                                     num.filter = 2),
              "torch/numpy order (N, C, H, W)", 'from_layout(data, "NCHW")')
  # No weight in a shape call: a num.group that only the converted channels divide.
  expect_hint(deconvolution_shape(array(0, c(1, 4, 6, 6)), kernel = 3, num.filter = 4,
                                  num.group = 4),
              "must be divisible by num.group (4)", 'from_layout(data, "NCHW")')
})

test_that("the conversion a hint names makes the call work", {
  for (case in list(list(torch2d, w_first, NULL), list(keras2d, w_first, NULL),
                    list(png_rgb, w_first, NULL), list(keras2d, w_last, "NHWC"),
                    list(torch2d, w_last, "NHWC"), list(png_rgb, w_last, "NHWC"))) {
    data <- case[[1]]
    run <- function(d) deconvolution(d, case[[2]], kernel = 4, stride = 2, pad = 1,
                                     num.filter = 2, layout = case[[3]])
    msg <- conditionMessage(error_of(run(data)))
    convert <- regmatches(msg, regexpr("from_layout\\(data, [^)]*\\)", msg))
    expect_length(convert, 1)
    fixed <- eval(str2lang(convert))
    y <- run(fixed)
    expect_identical(dim(y)[if (is.null(case[[3]])) 1:2 else 2:3], c(16L, 12L), label = msg)
  }
})

test_that("keras-order NHWC data name from_layout(data, \"NHWC\")", {
  expect_hint(deconvolution(keras2d, w_first, kernel = 4, num.filter = 2),
              "dim = c(1, 6, 8, 3) has 8 channels where the weight expects 3; it looks like keras order (N, H, W, C)",
              'from_layout(data, "NHWC")')
})

test_that("with layout = \"NHWC\" the hint converts to the channels-last convention", {
  expect_hint(deconvolution(keras2d, w_last, kernel = 4, num.filter = 2, layout = "NHWC"),
              "has 1 channel where the weight expects 3; it looks like keras order",
              'from_layout(data, "NHWC", as = "NHWC")')
  expect_hint(deconvolution(torch2d, w_last, kernel = 4, num.filter = 2, layout = "NHWC"),
              "torch/numpy order (N, C, H, W)", 'from_layout(data, "NCHW", as = "NHWC")')
  expect_hint(deconvolution(png_rgb, w_last, kernel = c(4, 4), num.filter = 2, layout = "NHWC"),
              "png::readPNG() order (H, W, C)", 'from_layout(data, "HWC", as = "NHWC")')
})

test_that("png::readPNG() arrays name from_layout(data, \"HWC\") or \"HW\"", {
  expect_hint(deconvolution(png_rgb, w_first, kernel = c(4, 4), num.filter = 2),
              "dim = c(6, 8, 3) has 3 dimensions where the weight (dim = c(4, 4, 2, 3)) is for 4-dimensional data; it looks like png::readPNG() order (H, W, C)",
              'from_layout(data, "HWC")')
  expect_hint(deconvolution(png_rgb, w_first, kernel = 4, num.filter = 2),
              "png::readPNG() order (H, W, C)", 'from_layout(data, "HWC")')
  expect_hint(deconvolution_shape(png_rgb, kernel = c(4, 4), num.filter = 2),
              "has 3 dimensions where kernel = c(4, 4) is for 4-dimensional data",
              'from_layout(data, "HWC")')
  w_grey <- array(1, c(4, 4, 1, 1))
  expect_hint(deconvolution(png_grey, w_grey, kernel = 4, num.filter = 1),
              "dim = c(6, 8) has 2 dimensions where the weight (dim = c(4, 4, 1, 1)) is for 4-dimensional data; it looks like png::readPNG() order (H, W) of a grey image",
              'from_layout(data, "HW")')
  expect_hint(deconvolution_shape(png_grey, kernel = c(4, 4), num.filter = 1),
              "dim = c(6, 8) has 2 dimensions", 'from_layout(data, "HW")')
  expect_identical(dim(deconvolution(from_layout(png_grey, "HW"), w_grey, kernel = 4,
                                     num.filter = 1)), c(11L, 9L, 1L, 1L))
})

test_that("1D and 3D data from torch and keras get hints too", {
  # (A torch NCW array c(N, C, W) has its channels where NCW data has them: read as
  # c(W, C, N) it fits, with W and N swapped, and no error can say so.)
  x1 <- array(rnorm(2 * 3 * 10), c(2, 3, 10))                  # torch NCW: N2 C3 W10
  w1 <- array(rnorm(3 * 2 * 3), c(3, 2, 3))
  expect_hint(deconvolution(aperm(x1, c(1, 3, 2)), w1, kernel = 3, num.filter = 2),
              "keras order (N, W, C)", 'from_layout(data, "NWC")')
  x3 <- array(rnorm(1 * 3 * 4 * 5 * 6), c(1, 3, 4, 5, 6))      # torch NCDHW
  w3 <- array(rnorm(2^3 * 2 * 3), c(2, 2, 2, 2, 3))
  expect_hint(deconvolution(x3, w3, kernel = 2, num.filter = 2),
              "torch/numpy order (N, C, D, H, W)", 'from_layout(data, "NCDHW")')
  expect_hint(deconvolution(aperm(x3, c(1, 3, 4, 5, 2)), w3, kernel = 2, num.filter = 2),
              "keras order (N, D, H, W, C)", 'from_layout(data, "NDHWC")')
})

test_that("no hint where no conversion of the data fits: the precise plain errors stay", {
  x <- array(1, c(8, 6, 5, 1))                                  # C = 5: no layout gives 3
  expect_error(deconvolution(x, w_first, kernel = 4, num.filter = 2),
               "^weight: expected an array with dim = c\\(4, 4, 2, 5\\)",
               class = "deconv_shape_error")
  ok <- from_layout(torch2d, "NCHW")
  expect_error(deconvolution(ok, w_first, bias = 1:3, kernel = 4, num.filter = 2, no.bias = FALSE),
               "^bias: expected 2 values", class = "deconv_shape_error")
  expect_error(deconvolution_backward(array(0, c(2, 2, 2, 1)), ok, w_first, kernel = 4,
                                      num.filter = 2),
               "^out.grad: expected an array with dim", class = "deconv_shape_error")
  # Data that fit as given are not blamed, though a conversion would fit as well.
  cube <- array(1, c(3, 3, 3, 3))
  expect_error(deconvolution(cube, w_first, bias = 1:3, kernel = 4, num.filter = 2,
                             no.bias = FALSE),
               "^bias: expected 2 values", class = "deconv_shape_error")
  expect_error(deconvolution_backward(array(0, c(2, 2, 2, 3)), cube, w_first, kernel = 4,
                                      num.filter = 2),
               "^out.grad: expected an array with dim", class = "deconv_shape_error")
  expect_error(deconvolution(ok, w_first, kernel = 4, num.filter = 2, target.shape = 100),
               "^target.shape: too big target shape", class = "deconv_shape_error")
  expect_error(deconvolution(ok, array(1, c(4, 4, 2)), kernel = 4, num.filter = 2),
               "^weight: ", class = "deconv_shape_error")
  expect_error(deconvolution(matrix(1, 6, 8), w_first, kernel = 4, num.filter = 2),
               "^data: expected an array of 3, 4, 5 dimensions", class = "deconv_param_error")
  expect_error(deconvolution_shape(matrix(1, 6, 8), kernel = c(4, 4, 4), num.filter = 1),
               "^data: expected the data's dims", class = "deconv_param_error")
  # A 2D kernel with 3-dimensional data that is no image either (3 dims, C = 2 fits no
  # weight of C = 3).
  expect_error(deconvolution(array(1, c(6, 8, 2)), w_first, kernel = c(4, 4), num.filter = 2),
               "^data: expected a 4-dimensional array for a 2D kernel",
               class = "deconv_shape_error")
})
