# Building symbols: variables, Deconvolution nodes, names, arguments, errors, print.

auto_number <- function(sym) {
  as.integer(sub("^deconvolution([0-9]+)_output$", "\\1", outputs(sym)))
}

test_that("a variable is a symbol with itself as argument and output", {
  x <- mx.symbol.Variable("data")
  expect_true(is.mx.symbol(x))
  expect_false(is.mx.symbol(list()))
  expect_identical(arguments(x), "data")
  expect_identical(outputs(x), "data")
  expect_identical(x$arguments, "data")
  expect_error(mx.symbol.Variable(""), class = "deconv_param_error", regexp = "^name: ")
  expect_error(mx.symbol.Variable(c("a", "b")), class = "deconv_param_error")
  expect_error(mx.symbol.Variable(), class = "deconv_param_error", regexp = "^name: required")
})

test_that("unnamed nodes get MXNet's automatic names, counted per session", {
  data <- mx.symbol.Variable("data")
  a <- mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 2)
  b <- mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 2, no.bias = FALSE)
  expect_match(outputs(a), "^deconvolution[0-9]+_output$")
  n <- auto_number(a)
  expect_identical(auto_number(b), n + 1L)
  expect_identical(arguments(a), c("data", sprintf("deconvolution%d_weight", n)))
  expect_identical(arguments(b), c("data", sprintf("deconvolution%d_weight", n + 1L),
                                   sprintf("deconvolution%d_bias", n + 1L)))
  # A named node does not use the counter.
  mx.symbol.Deconvolution(data, kernel = 3, num.filter = 1, name = "named")
  c3 <- mx.symbol.Deconvolution(data, kernel = 3, num.filter = 1)
  expect_identical(auto_number(c3), n + 2L)
})

test_that("named nodes name their weight, bias and output; bias only without no.bias", {
  data <- mx.symbol.Variable("data")
  s <- mx.symbol.Deconvolution(data, kernel = c(4, 4), num.filter = 3, name = "dec")
  expect_identical(arguments(s), c("data", "dec_weight"))
  expect_identical(outputs(s), "dec_output")
  s <- mx.symbol.Deconvolution(data, kernel = c(4, 4), num_filter = 3, no_bias = FALSE,
                               name = "dec")
  expect_identical(arguments(s), c("data", "dec_weight", "dec_bias"))
  # A missing data input becomes a variable too, as in MXNet.
  s <- mx.symbol.Deconvolution(kernel = 2, num.filter = 1, name = "lone")
  expect_identical(arguments(s), c("lone_data", "lone_weight"))
})

test_that("arguments come in MXNet's order over stacked layers (data, weight, bias, depth first)", {
  data <- mx.symbol.Variable("data")
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                 num.filter = 8, no.bias = FALSE, name = "up1")
  up2 <- mx.symbol.Deconvolution(up1, kernel = c(2, 2), stride = c(2, 2), num.filter = 3,
                                 name = "up2")
  up3 <- mx.symbol.Deconvolution(up2, kernel = c(3, 3), num.filter = 1, no.bias = FALSE,
                                 name = "up3")
  expect_identical(arguments(up3), c("data", "up1_weight", "up1_bias", "up2_weight",
                                     "up3_weight", "up3_bias"))
  expect_identical(outputs(up3), "up3_output")
  expect_identical(up3$outputs, "up3_output")
})

test_that("weight and bias may be given as symbols, and shared", {
  data <- mx.symbol.Variable("data")
  w <- mx.symbol.Variable("shared_w")
  b <- mx.symbol.Variable("shared_b")
  l1 <- mx.symbol.Deconvolution(data = data, weight = w, bias = b, kernel = c(3, 3),
                                num.filter = 2, no.bias = FALSE, name = "l1")
  expect_identical(arguments(l1), c("data", "shared_w", "shared_b"))
  l2 <- mx.symbol.Deconvolution(l1, weight = w, kernel = c(3, 3), num.filter = 2, name = "l2")
  # shared_w appears once: it is one node.
  expect_identical(arguments(l2), c("data", "shared_w", "shared_b"))
})

test_that("tuples are stored in MXNet's order, only the parameters given, as MXNet's strings", {
  data <- mx.symbol.Variable("data")
  s <- mx.symbol.Deconvolution(data, kernel = c(3, 5), stride = c(2, 1), pad = c(1, 2),
                               num.filter = 4, no.bias = FALSE, name = "dec")
  node <- s$heads[[1]]
  expect_identical(node$attrs, list(kernel = "(5, 3)", no_bias = "False", num_filter = "4",
                                    pad = "(2, 1)", stride = "(1, 2)"))
  # The automatic weight and bias variables carry a copy of the attributes, as in MXNet.
  expect_identical(node$inputs[[2]]$attrs, node$attrs)
  expect_identical(node$inputs[[3]]$attrs, node$attrs)
  s1 <- mx.symbol.Deconvolution(data, kernel = 3, num_filter = 2, dilate = 2, adj = 0,
                                no.bias = TRUE, layout = "NCW", cudnn.tune = "fastest",
                                target.shape = 7, workspace = 1024, name = "d1")
  expect_identical(s1$heads[[1]]$attrs,
                   list(adj = "(0,)", cudnn_tune = "fastest", dilate = "(2,)", kernel = "(3,)",
                        layout = "NCW", no_bias = "True", num_filter = "2",
                        target_shape = "(7,)", workspace = "1024"))
  # Parameters are kept in R order, normalized, for the core.
  p <- s$heads[[1]]$params
  expect_identical(p$kernel, c(3L, 5L))
  expect_identical(p$stride, c(2L, 1L))
  expect_identical(p$dilate, c(1L, 1L))
})

test_that("parameter errors are raised when the symbol is made, naming the node", {
  data <- mx.symbol.Variable("data")
  expect_error(mx.symbol.Deconvolution(data, kernel = c(3, 3), stride = c(2, 2, 2),
                                       num.filter = 2, name = "bad"),
               class = "deconv_param_error", regexp = "^stride: .*node 'bad'")
  expect_error(mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 0, name = "bad"),
               class = "deconv_param_error", regexp = "^num.filter: .*node 'bad'")
  expect_error(mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 3, num.group = 2,
                                       name = "bad"),
               class = "deconv_param_error", regexp = "^num.filter: .*multiple of num.group")
  expect_error(mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 3, layout = "NWC",
                                       name = "bad"),
               class = "deconv_param_error", regexp = "^layout: ")
  expect_error(mx.symbol.Deconvolution(data, kernel = c(3, 3, 3, 3), num.filter = 3),
               class = "deconv_param_error", regexp = "^kernel: ")
  expect_error(mx.symbol.Deconvolution(data, kernel = c(3, 3), stride = c(2, 2), adj = c(2, 0),
                                       num.filter = 2, name = "bad"),
               class = "deconv_param_error", regexp = "^adj: .*node 'bad'")
  expect_error(mx.symbol.Deconvolution(data, num.filter = 3, name = "bad"),
               class = "deconv_param_error", regexp = "^kernel: required.*node 'bad'")
  expect_error(mx.symbol.Deconvolution(data, kernel = 3, name = "bad"),
               class = "deconv_param_error", regexp = "^num.filter: required")
  expect_error(mx.symbol.Deconvolution(data, kernel = 3, num.filter = 1, foo = 1, name = "bad"),
               class = "deconv_param_error", regexp = "^foo: unknown argument")
  expect_error(mx.symbol.Deconvolution(data, kernel = 3, num.filter = 1, num_filter = 1),
               class = "deconv_param_error", regexp = "^num.filter: given twice")
  expect_error(mx.symbol.Deconvolution(data, kernel = 3, num.filter = 1, bias = data, name = "bad"),
               class = "deconv_param_error", regexp = "^bias: .*no.bias is TRUE.*node 'bad'")
  expect_error(mx.symbol.Deconvolution(array(1, c(2, 2, 1, 1)), kernel = c(3, 3), num.filter = 3),
               class = "deconv_param_error", regexp = "^data: expected a symbol")
  expect_error(mx.symbol.Deconvolution(data, weight = array(1, c(3, 3, 1, 1)), kernel = c(3, 3),
                                       num.filter = 1),
               class = "deconv_param_error", regexp = "^weight: expected a symbol")
  expect_error(mx.symbol.Deconvolution(data, kernel = 3, num.filter = 1, name = 3),
               class = "deconv_param_error", regexp = "^name: ")
})

test_that("shape errors wait until shapes are known", {
  data <- mx.symbol.Variable("data")
  # A 2D kernel on 3-dimensional data is fine to build ...
  s <- mx.symbol.Deconvolution(data, kernel = c(3, 3), num.filter = 2, name = "late")
  # ... and an error once the data's shape is known.
  expect_error(mx.symbol.infer.shape(s, data = c(5, 3, 1)),
               class = "deconv_shape_error", regexp = "^data: .*node 'late'")
})

test_that("mx.nd.Deconvolution is deconvolution() under MXNet R's name", {
  set.seed(1)
  x <- array(rnorm(3 * 4 * 2), c(3, 4, 2, 1))
  w <- array(rnorm(3 * 2 * 3 * 2), c(3, 2, 3, 2))
  expect_identical(mx.nd.Deconvolution(x, w, kernel = c(3, 2), stride = c(2, 1), num_filter = 3),
                   deconvolution(x, w, kernel = c(3, 2), stride = c(2, 1), num.filter = 3))
  expect_error(mx.nd.Deconvolution(x, w, kernel = c(3, 2), num.filter = 4),
               class = "deconv_shape_error", regexp = "^weight: ")
})

test_that("arguments() and outputs() refuse non-symbols", {
  expect_error(arguments(1), class = "deconv_param_error", regexp = "^x: expected a symbol")
  expect_error(outputs("a"), class = "deconv_param_error")
})

test_that("print shows the graph readably, parameters in R order", {
  data <- mx.symbol.Variable("data")
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 2), stride = c(2, 2), pad = c(1, 0),
                                 num.filter = 8, no.bias = FALSE, name = "up1")
  up2 <- mx.symbol.Deconvolution(up1, kernel = c(2, 2), stride = c(2, 2), num.filter = 3,
                                 target.shape = c(12, 11), name = "up2")
  out <- capture.output(print(up2))
  expect_match(out[1], "MXSymbol with 6 nodes; outputs: up2_output", fixed = TRUE)
  expect_match(out[2], "arguments: data, up1_weight, up1_bias, up2_weight", fixed = TRUE)
  expect_true(any(grepl("up1 +Deconvolution\\(data, up1_weight, up1_bias\\)", out)))
  expect_true(any(grepl("kernel = c(4, 2), stride = c(2, 2), pad = c(1, 0), num.filter = 8, no.bias = FALSE",
                        out, fixed = TRUE)))
  expect_true(any(grepl("target.shape = c(12, 11)", out, fixed = TRUE)))
  expect_true(any(grepl("up2_weight +Variable", out)))
  capture.output(vis <- withVisible(print(up2)))
  expect_false(vis$visible)
  expect_identical(vis$value, up2)
})
