# deconvolution_shape(): MXNet's output-size rules, target.shape, and the two MXNet
# bugs we fix (checked against the formula, since MXNet itself gets them wrong).

formula_out <- function(in_sp, kernel, stride = 1, dilate = 1, pad = 0, adj = 0) {
  stride * (in_sp - 1) + dilate * (kernel - 1) + 1 - 2 * pad + adj
}

test_that("output size follows stride*(in-1) + dilate*(kernel-1) + 1 - 2*pad + adj", {
  set.seed(31)
  for (i in 1:100) {
    rank <- sample(1:3, 1)
    k <- sample(1:5, rank, TRUE); s <- sample(1:4, rank, TRUE); d <- sample(1:3, rank, TRUE)
    n <- sample(1:9, rank, TRUE)
    full <- formula_out(n, k, s, d)
    p <- pmin(sample(0:3, rank, TRUE), (full - 1) %/% 2)
    a <- vapply(s, function(x) sample(0:(x - 1), 1), 0)
    sh <- deconvolution_shape(c(n, 3, 2), kernel = k, stride = s, dilate = d, pad = p, adj = a,
                              num.filter = 4)
    expect_identical(sh$out, as.integer(c(formula_out(n, k, s, d, p, a), 4, 2)))
    expect_identical(sh$weight, as.integer(c(k, 4, 3)))
    expect_identical(sh$pad, as.integer(p))
    expect_identical(sh$adj, as.integer(a))
  }
})

test_that("target.shape overrides pad and adj as MXNet computes them", {
  # t = full - target; adj = t %% 2; pad = (t + 1) %/% 2
  sh <- deconvolution_shape(c(7, 5, 3, 2), kernel = c(3, 3), stride = c(2, 2),
                            pad = c(5, 5), adj = c(1, 1), target.shape = c(14, 10), num.filter = 8)
  expect_identical(sh$out, c(14L, 10L, 8L, 2L))
  expect_identical(sh$pad, c(1L, 1L))                 # t = 1 and 1
  expect_identical(sh$adj, c(1L, 1L))
  sh <- deconvolution_shape(c(4, 4, 1, 1), kernel = c(4, 4), stride = c(2, 2),
                            target.shape = c(8, 7), num.filter = 1)
  expect_identical(sh$out, c(8L, 7L, 1L, 1L))
  expect_identical(sh$pad, c(1L, 2L))                 # t = 2 and 3
  expect_identical(sh$adj, c(0L, 1L))
})

test_that("fix 1: a zero entry of a partial target keeps that dimension's pad and adj", {
  # MXNet 1.9.1 makes such a dimension empty; we keep the given pad/adj there.
  sh <- deconvolution_shape(c(6, 5, 2, 1), kernel = c(4, 3), stride = c(2, 3), pad = c(1, 1),
                            adj = c(1, 2), target.shape = c(0, 14), num.filter = 3)
  expect_identical(sh$out[1], as.integer(formula_out(6, 4, 2, 1, 1, 1)))   # 13
  expect_identical(sh$out[2], 14L)
  expect_identical(sh$pad, c(1L, 1L))                 # h: t = 15 - 14 = 1
  expect_identical(sh$adj, c(1L, 1L))
  # and the numbers agree with the direct-loop reference
  set.seed(32)
  x <- array(rnorm(6 * 5 * 2), c(6, 5, 2, 1)); w <- array(rnorm(4 * 3 * 3 * 2), c(4, 3, 3, 2))
  args <- list(data = x, weight = w, kernel = c(4, 3), stride = c(2, 3), pad = c(1, 1),
               adj = c(1, 2), target.shape = c(0, 14), num.filter = 3)
  got <- do.call(deconvolution, args)
  expect_identical(dim(got), c(13L, 14L, 3L, 1L))
  expect_lt(rel_err(got, do.call(ref_deconvolution, args)), 1e-10)
})

test_that("fix 2: stride 1 with an odd t is computed, not refused", {
  # full = 1*(5-1) + 3 = 7, target 6: t = 1, adj = 1 = stride (MXNet refuses this).
  sh <- deconvolution_shape(c(5, 2, 1), kernel = 3, target.shape = 6, num.filter = 2)
  expect_identical(sh$out, c(6L, 2L, 1L))
  expect_identical(sh$pad, 1L)
  expect_identical(sh$adj, 1L)
  set.seed(33)
  args <- list(data = array(rnorm(10), c(5, 2, 1)), weight = array(rnorm(12), c(3, 2, 2)),
               kernel = 3, target.shape = 6, num.filter = 2)
  expect_lt(rel_err(do.call(deconvolution, args), do.call(ref_deconvolution, args)), 1e-10)
  # but an adj the user gives must stay below the stride
  expect_error(deconvolution_shape(c(5, 2, 1), kernel = 3, adj = 1, num.filter = 2),
               "^adj: ", class = "deconv_param_error")
})

test_that("an all-zero target.shape means no target", {
  a <- deconvolution_shape(c(5, 5, 1, 1), kernel = c(3, 3), pad = c(1, 1), num.filter = 1)
  b <- deconvolution_shape(c(5, 5, 1, 1), kernel = c(3, 3), pad = c(1, 1), num.filter = 1,
                           target.shape = c(0, 0))
  expect_identical(a, b)
})

test_that("layouts: default from kernel length, channels-last weight and output dims", {
  expect_identical(deconvolution_shape(c(8, 3, 2), kernel = 4, num.filter = 5)$out, c(11L, 5L, 2L))
  sh <- deconvolution_shape(c(3, 8, 6, 2), kernel = c(2, 3), stride = c(2, 2), num.filter = 4,
                            num.group = 1, layout = "NHWC")
  expect_identical(sh$out, c(4L, 16L, 13L, 2L))
  expect_identical(sh$weight, c(4L, 2L, 3L, 3L))      # (F/G, kw, kh, C)
  sh <- deconvolution_shape(c(6, 4, 4, 3, 1), kernel = c(2, 2, 2), stride = c(2, 2, 2),
                            num.filter = 6, num.group = 3, layout = "NDHWC")
  expect_identical(sh$out, c(6L, 8L, 8L, 6L, 1L))
  expect_identical(sh$weight, c(2L, 2L, 2L, 2L, 6L))
  sh <- deconvolution_shape(array(0, c(4, 4, 4, 2, 1)), kernel = c(3, 3, 3), dilate = c(2, 2, 2),
                            num.filter = 2)                # 3D dilation (MXNet's CPU refuses)
  expect_identical(sh$out, c(8L, 8L, 8L, 2L, 1L))
})

test_that("the data dims argument is checked", {
  expect_error(deconvolution_shape(c(4, 4), kernel = 3, num.filter = 1), "^data: ",
               class = "deconv_param_error")
  expect_error(deconvolution_shape(c(0, 4, 1), kernel = 3, num.filter = 1),
               "^data: every dimension must be positive", class = "deconv_shape_error")
})
