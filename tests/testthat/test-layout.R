# from_layout() / to_layout(): exact round trips for every layout, the axes land where
# the package's convention puts them, and wrong input gets a classed error.

test_that("every data layout round-trips exactly and lands in R order", {
  for (l in c("NCW", "NWC", "NCHW", "NHWC", "NCDHW", "NDHWC")) {
    n <- nchar(l)
    a <- array(as.numeric(seq_len(prod(2:(n + 1)))), dim = 2:(n + 1))
    axes <- strsplit(l, "")[[1]]
    first <- from_layout(a, l)
    space <- rev(setdiff(axes, c("N", "C")))
    expect_identical(dim(first), dim(a)[match(c(space, "C", "N"), axes)], info = l)
    expect_identical(to_layout(first, l), a, info = l)
    if (n > 3) {
      last <- from_layout(a, l, as = if (n == 4) "NHWC" else "NDHWC")
      expect_identical(dim(last), dim(a)[match(c("C", space, "N"), axes)], info = l)
      expect_identical(to_layout(last, l, from = if (n == 4) "NHWC" else "NDHWC"), a, info = l)
    }
  }
})

test_that("values move with their indices and dimnames are kept", {
  x <- array(rnorm(2 * 3 * 4 * 5), dim = c(2, 3, 4, 5),
             dimnames = list(NULL, c("r", "g", "b"), NULL, paste0("w", 1:5)))
  d <- from_layout(x, "NCHW")
  expect_identical(d[5, 4, 3, 2], x[2, 3, 4, 5])
  expect_identical(d[2, 1, 3, 1], x[1, 3, 1, 2])
  expect_identical(dimnames(d)[[3]], c("r", "g", "b"))
  expect_identical(dimnames(d)[[1]], paste0("w", 1:5))
  expect_identical(to_layout(d, "NCHW"), x)
})

test_that("images and grey images become a batch of one and come back", {
  img <- array(runif(4 * 6 * 3), c(4, 6, 3))
  d <- from_layout(img, "HWC")
  expect_identical(dim(d), c(6L, 4L, 3L, 1L))
  expect_identical(d[6, 1, 2, 1], img[1, 6, 2])
  expect_identical(to_layout(d, "HWC"), img)
  g <- matrix(runif(24), 4, 6)
  expect_identical(dim(from_layout(g, "HW")), c(6L, 4L, 1L, 1L))
  expect_identical(to_layout(from_layout(g, "HW"), "HW"), g)
  expect_identical(to_layout(from_layout(img, "HWC", as = "NHWC"), "HWC", from = "NHWC"), img)
})

test_that("torch and keras weights give the same layer", {
  set.seed(1)
  x <- array(rnorm(2 * 3 * 4 * 5), dim = c(2, 3, 4, 5))       # torch NCHW
  w <- array(rnorm(3 * 2 * 4 * 4), c(3, 2, 4, 4))             # torch (C, F, kh, kw)
  y <- deconvolution(from_layout(x, "NCHW"), from_layout(w, "torch_weight"),
                     kernel = c(4, 4), stride = c(2, 2), num.filter = 2)
  xk <- aperm(x, c(1, 3, 4, 2))                               # keras NHWC
  wk <- aperm(w, c(3, 4, 2, 1))                               # keras (kh, kw, F, C)
  yk <- deconvolution(from_layout(xk, "NHWC", as = "NHWC"),
                      from_layout(wk, "keras_weight", as = "NHWC"), kernel = c(4, 4),
                      stride = c(2, 2), num.filter = 2, layout = "NHWC")
  expect_equal(to_layout(y, "NCHW"), aperm(to_layout(yk, "NHWC", from = "NHWC"),
                                           c(1, 4, 2, 3)), tolerance = 1e-12)
  # Weights of every rank round-trip, in both package layouts.
  for (l in c("torch_weight", "keras_weight")) {
    for (r in 1:3) {
      a <- array(rnorm(prod(2:(r + 3))), dim = 2:(r + 3))
      expect_identical(to_layout(from_layout(a, l), l), a)
      expect_identical(to_layout(from_layout(a, l, as = c("NCW", "NHWC", "NDHWC")[r]), l,
                                 from = c("NCW", "NHWC", "NDHWC")[r]), a)
    }
  }
  expect_identical(dim(from_layout(wk, "keras_weight")), c(4L, 4L, 2L, 3L))
})

test_that("wrong layouts, ranks and values are classed errors naming the argument", {
  img <- array(0, c(4, 6, 3))
  expect_error(from_layout(img, "NCHW"), class = "deconv_shape_error",
               regexp = "^x: expected 4 dimensions for layout \"NCHW\"")
  expect_error(from_layout(img, "nchw"), class = "deconv_param_error", regexp = "^layout:")
  expect_error(from_layout(img, c("HWC", "HW")), class = "deconv_param_error")
  expect_error(from_layout(img, "HWC", as = "NCDHW"), class = "deconv_param_error",
               regexp = "^as: expected NULL or \"NCHW\" or \"NHWC\"")
  expect_error(from_layout(1:3, "HW"), class = "deconv_param_error", regexp = "^x:")
  expect_error(from_layout(data.frame(a = 1), "HW"), class = "deconv_param_error")
  expect_error(from_layout(array(0, 2:3), "torch_weight"), class = "deconv_shape_error")
  expect_error(to_layout(array(0, c(5, 4, 3, 2)), "HWC"), class = "deconv_shape_error",
               regexp = "one image")
  expect_error(to_layout(array(0, c(5, 4, 3, 2)), "NCDHW"), class = "deconv_shape_error")
  expect_error(to_layout("a", "NCHW"), class = "deconv_param_error")
  expect_error(to_layout(array(0, c(5, 4, 3, 2)), "NCHW", from = "NDHWC"),
               class = "deconv_param_error", regexp = "^from:")
})
