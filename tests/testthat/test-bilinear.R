# bilinear_kernel(): MXNet's mx.init.Bilinear pattern, channels and groups.

test_that("the 2D pattern is MXNet's bilinear filter", {
  w <- bilinear_kernel(c(4, 4))
  expect_identical(dim(w), c(4L, 4L, 1L, 1L))
  # f = 2, c = 0.75: taps 0.25 0.75 0.75 0.25 (mx.init.Bilinear for a 4x4 kernel)
  taps <- c(0.25, 0.75, 0.75, 0.25)
  expect_equal(w[, , 1, 1], outer(taps, taps))
  # odd and tiny kernels follow MXNet's formula too (f = ceil(k/2), c = (2f-1-f%%2)/(2f))
  expect_equal(as.vector(bilinear_kernel(3)), c(0.25, 0.75, 0.75))
  expect_equal(as.vector(bilinear_kernel(2)), c(1, 0))
  # non-square: each dimension uses its own factor
  w <- bilinear_kernel(c(4, 5))
  expect_equal(w[, , 1, 1], outer(taps, c(1, 2, 3, 2, 1) / 3))
  expect_identical(dim(bilinear_kernel(c(2, 2, 2), channels = 2)), c(2L, 2L, 2L, 2L, 2L))
  expect_identical(dim(bilinear_kernel(c(2, 2, 2), channels = 2, num.group = 2)),
                   c(2L, 2L, 2L, 1L, 2L))
})

test_that("diagonal weights upsample each channel on its own; FALSE fills every pair", {
  w <- bilinear_kernel(c(4, 4), channels = 3)
  expect_identical(dim(w), c(4L, 4L, 3L, 3L))
  expect_equal(w[, , 2, 2], bilinear_kernel(c(4, 4))[, , 1, 1])
  expect_equal(sum(abs(w[, , 1, 2])), 0)
  w <- bilinear_kernel(c(4, 4), channels = 2, num.filter = 3, diagonal = FALSE)
  expect_identical(dim(w), c(4L, 4L, 3L, 2L))
  expect_equal(w[, , 3, 1], bilinear_kernel(c(4, 4))[, , 1, 1])
  expect_error(bilinear_kernel(c(4, 4), channels = 2, num.filter = 3), "^diagonal: ",
               class = "deconv_param_error")
})

test_that("grouped and channels-last weights fit deconvolution()", {
  set.seed(41)
  x <- array(runif(5 * 5 * 4), c(5, 5, 4, 1))
  w <- bilinear_kernel(c(4, 4), channels = 4, num.filter = 4, num.group = 4)
  expect_identical(dim(w), c(4L, 4L, 1L, 4L))
  y <- deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1), num.filter = 4,
                     num.group = 4)
  yd <- deconvolution(x, bilinear_kernel(c(4, 4), channels = 4), kernel = c(4, 4),
                      stride = c(2, 2), pad = c(1, 1), num.filter = 4)
  expect_equal(y, yd, tolerance = 1e-14)
  wl <- bilinear_kernel(c(4, 4), channels = 4, layout = "NHWC")
  expect_identical(dim(wl), c(4L, 4L, 4L, 4L))
  yl <- deconvolution(aperm(x, c(3, 1, 2, 4)), wl, kernel = c(4, 4), stride = c(2, 2),
                      pad = c(1, 1), num.filter = 4, layout = "NHWC")
  expect_equal(aperm(yl, c(2, 3, 1, 4)), y, tolerance = 1e-14)
  # upsampling a linear ramp stays linear away from the border
  x <- array(rep(1:8, 8), c(8, 8, 1, 1))
  y <- deconvolution(x, bilinear_kernel(c(4, 4)), kernel = c(4, 4), stride = c(2, 2),
                     pad = c(1, 1), num.filter = 1)
  expect_equal(diff(y[3:14, 8, 1, 1]), rep(0.5, 11))
})

test_that("bad arguments are errors", {
  expect_error(bilinear_kernel(0), "^kernel: ", class = "deconv_param_error")
  expect_error(bilinear_kernel(4, channels = 3, num.group = 2), "^num.group: ",
               class = "deconv_param_error")
})
