# Shape inference over symbol graphs.

decoder <- function() {
  data <- mx.symbol.Variable("data")
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                 num.filter = 8, no.bias = FALSE, name = "up1")
  mx.symbol.Deconvolution(up1, kernel = c(2, 2), stride = c(2, 2), num.filter = 3,
                          target.shape = c(12, 11), name = "up2")
}

test_that("infer.shape on stacked layers gives every argument and the output, R order", {
  s <- mx.symbol.infer.shape(decoder(), data = c(3, 3, 4, 1))
  expect_named(s, c("arg.shapes", "out.shapes", "aux.shapes"))
  expect_identical(s$arg.shapes, list(data = c(3L, 3L, 4L, 1L), up1_weight = c(4L, 4L, 8L, 4L),
                                      up1_bias = 8L, up2_weight = c(2L, 2L, 3L, 8L)))
  expect_identical(s$out.shapes, list(up2_output = c(12L, 11L, 3L, 1L)))
  expect_length(s$aux.shapes, 0)
  # The same as the layer-by-layer rules of deconvolution_shape().
  h <- deconvolution_shape(c(3, 3, 4, 1), kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                           num.filter = 8)$out
  expect_identical(s$out.shapes[[1]],
                   deconvolution_shape(h, kernel = c(2, 2), stride = c(2, 2), num.filter = 3,
                                       target.shape = c(12, 11))$out)
  # MXNet R's method form.
  expect_identical(decoder()$infer.shape(list(data = c(3, 3, 4, 1))), s)
})

test_that("infer.shape handles 1D and 3D, groups and channels-last layouts", {
  data <- mx.symbol.Variable("data")
  s1 <- mx.symbol.Deconvolution(data, kernel = 3, stride = 2, dilate = 2, adj = 1, pad = 1,
                                num.filter = 4, no.bias = FALSE, name = "d1")
  r <- mx.symbol.infer.shape(s1, data = c(7, 3, 2))
  expect_identical(r$out.shapes$d1_output, c(16L, 4L, 2L))
  expect_identical(r$arg.shapes$d1_weight, c(3L, 4L, 3L))
  s3 <- mx.symbol.Deconvolution(data, kernel = c(3, 3, 2), stride = c(2, 1, 2), pad = c(1, 1, 0),
                                adj = c(1, 0, 1), num.filter = 4, num.group = 2, name = "d3")
  r <- mx.symbol.infer.shape(s3, data = c(5, 4, 3, 2, 1))
  expect_identical(r$out.shapes$d3_output, c(10L, 4L, 7L, 4L, 1L))
  expect_identical(r$arg.shapes$d3_weight, c(3L, 3L, 2L, 2L, 2L))
  sl <- mx.symbol.Deconvolution(data, kernel = c(3, 3), stride = c(2, 2), num.filter = 5,
                                layout = "NHWC", name = "nhwc")
  r <- mx.symbol.infer.shape(sl, data = c(2, 5, 4, 1))
  expect_identical(r$out.shapes$nhwc_output, c(5L, 11L, 9L, 1L))
  expect_identical(r$arg.shapes$nhwc_weight, c(5L, 3L, 3L, 2L))
})

test_that("incomplete knowledge gives NULL, or with partial = TRUE what is known", {
  s <- decoder()
  expect_null(mx.symbol.infer.shape(s))
  expect_null(mx.symbol.infer.shape(s, up1_weight = c(4, 4, 8, 4)))
  p <- mx.symbol.infer.shape(s, up1_weight = c(4, 4, 8, 4), partial = TRUE)
  expect_identical(names(p$arg.shapes), arguments(s))
  expect_identical(p$arg.shapes$up1_weight, c(4L, 4L, 8L, 4L))
  expect_null(p$arg.shapes$data)
  expect_null(p$arg.shapes$up2_weight)
  expect_null(p$out.shapes$up2_output)
  # With everything known, partial makes no difference.
  expect_identical(mx.symbol.infer.shape(s, data = c(3, 3, 4, 1), partial = TRUE),
                   mx.symbol.infer.shape(s, data = c(3, 3, 4, 1)))
})

test_that("a shared variable learns its shape from any node that uses it", {
  a <- mx.symbol.Variable("a")
  w <- mx.symbol.Variable("w")
  # w is the data of l1 (before l2 in the order) and the weight of l2.
  l1 <- mx.symbol.Deconvolution(w, weight = mx.symbol.Variable("v"), kernel = 1, num.filter = 1,
                                name = "l1")
  l2 <- mx.symbol.Deconvolution(a, weight = w, kernel = 2, num.filter = 1, name = "l2")
  top <- mx.symbol.Deconvolution(l1, weight = l2, kernel = 4, num.filter = 1, name = "top")
  expect_identical(arguments(top), c("w", "v", "a"))
  r <- mx.symbol.infer.shape(top, a = c(3, 2, 1))
  expect_identical(r$arg.shapes, list(w = c(2L, 1L, 2L), v = c(1L, 1L, 1L), a = c(3L, 2L, 1L)))
  expect_identical(r$out.shapes$top_output, c(5L, 1L, 2L))
  # An operator's output used as a weight is checked against what the node needs.
  bad <- mx.symbol.Deconvolution(l1, weight = l2, kernel = 3, num.filter = 1, name = "bad")
  expect_error(mx.symbol.infer.shape(bad, a = c(3, 2, 1)), class = "deconv_shape_error",
               regexp = "^l2_output: .*node 'bad'")
})

test_that("contradictions are shape errors naming the argument and the node", {
  s <- decoder()
  expect_error(mx.symbol.infer.shape(s, data = c(3, 3, 4, 1), up1_weight = c(4, 4, 8, 3)),
               class = "deconv_shape_error",
               regexp = "^up1_weight: dim c\\(4, 4, 8, 3\\), but Deconvolution node 'up1' needs dim c\\(4, 4, 8, 4\\) for its weight")
  expect_error(mx.symbol.infer.shape(s, data = c(3, 3, 4, 1), up1_bias = 7),
               class = "deconv_shape_error", regexp = "^up1_bias: .*node 'up1'.*bias")
  expect_error(mx.symbol.infer.shape(s, data = c(3, 3, 4, 1), up2_weight = c(2, 2, 3, 4)),
               class = "deconv_shape_error", regexp = "^up2_weight: .*node 'up2'")
  expect_error(mx.symbol.infer.shape(s, data = c(3, 3, 1)),
               class = "deconv_shape_error", regexp = "^data: .*node 'up1'")
  data <- mx.symbol.Variable("data")
  g <- mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 4, num.group = 2, name = "g")
  expect_error(mx.symbol.infer.shape(g, data = c(4, 4, 3, 1)),
               class = "deconv_shape_error", regexp = "node 'g'")
  t <- mx.symbol.Deconvolution(data, kernel = c(3, 3), stride = c(2, 2), num.filter = 1,
                               target.shape = c(20, 20), name = "t")
  expect_error(mx.symbol.infer.shape(t, data = c(4, 4, 1, 1)),
               class = "deconv_shape_error", regexp = "^target.shape: .*node 't'")
})

test_that("shape arguments must be named arguments of the symbol, given as dims", {
  s <- decoder()
  expect_error(mx.symbol.infer.shape(s, c(3, 3, 4, 1)), class = "deconv_param_error",
               regexp = "must be named")
  expect_error(mx.symbol.infer.shape(s, dat = c(3, 3, 4, 1)), class = "deconv_param_error",
               regexp = "^dat: not an argument of the symbol; its arguments are data, up1_weight")
  expect_error(mx.symbol.infer.shape(s, data = c(3, 3.5, 4, 1)), class = "deconv_param_error",
               regexp = "^data: expected dims")
  expect_error(mx.symbol.infer.shape(list(), data = 1), class = "deconv_param_error",
               regexp = "^symbol: ")
})
