# MXNet symbol JSON: writing, reading, round trips and the files MXNet 1.9.1 wrote.

sym_fixture <- function(...) test_path("fixtures", "symbols", ...)
fixture_tensor <- function(t) array(as.numeric(unlist(t$values)), dim = unlist(t$dim))
parse_json <- function(x) jsonlite::fromJSON(x, simplifyVector = FALSE)
# MXNet writes its files without a final newline.
read_text <- function(path) paste(readLines(path, warn = FALSE), collapse = "\n")

test_that("as.json writes MXNet's layout: nodes, arg_nodes, node_row_ptr, heads, version", {
  data <- mx.symbol.Variable("data")
  s <- mx.symbol.Deconvolution(data, kernel = c(5, 3), stride = c(1, 2), pad = c(2, 1),
                               num.filter = 4, no.bias = FALSE, name = "dec")
  j <- parse_json(as.json(s))
  expect_identical(names(j), c("nodes", "arg_nodes", "node_row_ptr", "heads", "attrs"))
  expect_identical(vapply(j$nodes, function(n) n$op, ""),
                   c("null", "null", "null", "Deconvolution"))
  expect_identical(vapply(j$nodes, function(n) n$name, ""),
                   c("data", "dec_weight", "dec_bias", "dec"))
  expect_null(j$nodes[[1]]$attrs)
  attrs <- list(kernel = "(3, 5)", no_bias = "False", num_filter = "4", pad = "(1, 2)",
                stride = "(2, 1)")
  expect_identical(j$nodes[[4]]$attrs, attrs)
  expect_identical(j$nodes[[2]]$attrs, attrs)
  expect_identical(j$nodes[[4]]$inputs, list(list(0L, 0L, 0L), list(1L, 0L, 0L), list(2L, 0L, 0L)))
  expect_identical(j$nodes[[1]]$inputs, list())
  expect_identical(unlist(j$arg_nodes), 0:2)
  expect_identical(unlist(j$node_row_ptr), 0:4)
  expect_identical(j$heads, list(list(3L, 0L, 0L)))
  expect_identical(j$attrs, list(mxnet_version = list("int", 10901L)))
  expect_identical(s$as.json(), as.json(s))
  # The example in MXNet's own output (kernel=(3,5) given in MXNet order is c(5, 3) in R).
  mx_text <- '{"nodes": [{"op": "null", "name": "data", "inputs": []},
    {"op": "null", "name": "dec_weight", "attrs": {"kernel": "(3, 5)", "no_bias": "False",
     "num_filter": "4", "pad": "(1, 2)", "stride": "(2, 1)"}, "inputs": []},
    {"op": "null", "name": "dec_bias", "attrs": {"kernel": "(3, 5)", "no_bias": "False",
     "num_filter": "4", "pad": "(1, 2)", "stride": "(2, 1)"}, "inputs": []},
    {"op": "Deconvolution", "name": "dec", "attrs": {"kernel": "(3, 5)", "no_bias": "False",
     "num_filter": "4", "pad": "(1, 2)", "stride": "(2, 1)"},
     "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]}],
    "arg_nodes": [0, 1, 2], "node_row_ptr": [0, 1, 2, 3, 4], "heads": [[3, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10901]}}'
  expect_identical(j, parse_json(mx_text))
})

test_that("a single-node graph keeps arrays as arrays", {
  j <- parse_json(as.json(mx.symbol.Variable("x")))
  expect_identical(j$arg_nodes, list(0L))
  expect_identical(j$node_row_ptr, list(0L, 1L))
  expect_identical(j$heads, list(list(0L, 0L, 0L)))
})

test_that("save and load round-trip a graph exactly", {
  data <- mx.symbol.Variable("data")
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                 num.filter = 8, no.bias = FALSE, name = "up1")
  up2 <- mx.symbol.Deconvolution(up1, kernel = c(3, 2), stride = c(2, 2), num_filter = 3,
                                 num_group = 1, target_shape = c(12, 11), layout = "NCHW",
                                 cudnn_off = TRUE, name = "up2")
  f <- withr::local_tempfile(fileext = ".json")
  expect_identical(mx.symbol.save(up2, f), f)
  back <- mx.symbol.load(f)
  expect_identical(as.json(back), as.json(up2))
  expect_identical(arguments(back), arguments(up2))
  expect_identical(outputs(back), outputs(up2))
  expect_identical(mx.symbol.infer.shape(back, data = c(3, 3, 4, 1)),
                   mx.symbol.infer.shape(up2, data = c(3, 3, 4, 1)))
  expect_identical(back$heads[[1]]$params, up2$heads[[1]]$params)
  expect_identical(as.json(mx.symbol.load.json(as.json(up2))), as.json(up2))
  # Lines work as well as one string.
  expect_identical(as.json(mx.symbol.load.json(readLines(f))), as.json(up2))
  up2$save(f)
  expect_identical(as.json(mx.symbol.load(f)), as.json(up2))
})

expected_files <- list.files(test_path("fixtures", "symbols"), pattern = "_expected\\.json$")

test_that("the symbol files MXNet 1.9.1 wrote load with MXNet's arguments, outputs and shapes", {
  expect_length(expected_files, 4)
  for (ef in expected_files) {
    e <- jsonlite::fromJSON(sym_fixture(ef), simplifyVector = FALSE)
    s <- mx.symbol.load(sym_fixture(e$symbol_file))
    expect_identical(arguments(s), unlist(e$arguments), label = ef)
    expect_identical(outputs(s), unlist(e$outputs), label = ef)
    r <- mx.symbol.infer.shape(s, data = unlist(e$data_shape))
    expect_identical(r$arg.shapes, lapply(e$arg_shapes, function(v) as.integer(unlist(v))),
                     label = ef)
    expect_identical(r$out.shapes[[1]], as.integer(unlist(e$out_shape)), label = ef)
    # Written back, the file is what MXNet wrote (same nodes, attribute strings and order).
    expect_identical(parse_json(as.json(s)), parse_json(read_text(sym_fixture(e$symbol_file))), label = ef)
  }
})

test_that("MXNet's attribute strings are read in MXNet's order", {
  s <- mx.symbol.load(sym_fixture("deconv_3d.json"))
  p <- s$heads[[1]]$params
  expect_identical(p$kernel, c(3L, 3L, 2L))   # "(2, 3, 3)"
  expect_identical(p$stride, c(2L, 1L, 2L))   # "(2, 1, 2)"
  expect_identical(p$pad, c(1L, 1L, 0L))
  expect_identical(p$adj, c(1L, 0L, 1L))
  expect_identical(p$num_group, 2)
  s <- mx.symbol.load(sym_fixture("decoder_2layer.json"))
  expect_identical(s$heads[[1]]$params$target_shape, c(12L, 11L))
  expect_false(s$heads[[1]]$inputs[[1]]$params$no_bias)
})

test_that("the two-layer decoder MXNet wrote evaluates to MXNet's output (1e-10)", {
  e <- jsonlite::fromJSON(sym_fixture("decoder_2layer_expected.json"), simplifyVector = FALSE)
  s <- mx.symbol.load(sym_fixture("decoder_2layer.json"))
  args <- lapply(e$inputs, fixture_tensor)
  expect_identical(sort(names(args)), sort(arguments(s)))
  y <- mx.symbol.eval(s, args)
  ref <- fixture_tensor(e$output)
  expect_identical(dim(y), dim(ref))
  expect_lte(max(abs(y - ref)) / max(1, max(abs(ref))), 1e-10)
  # The same through an executor bound by hand.
  exec <- mx.simple.bind(s, ctx = "cpu", data = dim(args$data))
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  mx.exec.forward(exec, is.train = FALSE)
  expect_identical(exec$outputs$up2_output, y)
})

test_that("other spellings MXNet accepts are read: lists, 0/1 and lower-case booleans, None", {
  text <- read_text(sym_fixture("deconv_1d.json"))
  text2 <- gsub('"(1,)"', '"[1]"', text, fixed = TRUE)
  text2 <- gsub('"no_bias": "False"', '"no_bias": "0"', text2, fixed = TRUE)
  s <- mx.symbol.load.json(text2)
  ref <- mx.symbol.load.json(text)
  expect_identical(s$heads[[1]]$params, ref$heads[[1]]$params)
  text3 <- gsub('"no_bias": "False"', '"no_bias": "false", "layout": "None", "cudnn_tune": "None"',
                text, fixed = TRUE)
  expect_identical(mx.symbol.load.json(text3)$heads[[1]]$params, ref$heads[[1]]$params)
  # Symbol attributes (__name__) are kept but are not parameters.
  text4 <- sub('"attrs": {\n        "adj"', '"attrs": {\n        "__lr_mult__": "2", "adj"', text,
               fixed = TRUE)
  s4 <- mx.symbol.load.json(text4)
  expect_identical(s4$heads[[1]]$inputs[[2]]$attrs[["__lr_mult__"]], "2")
})

test_that("a variable's __shape__ attribute is used by shape inference", {
  text <- sub('"name": "data",', '"name": "data", "attrs": {"__shape__": "(2, 3, 7)"},',
              read_text(sym_fixture("deconv_1d.json")), fixed = TRUE)
  s <- mx.symbol.load.json(text)
  expect_identical(mx.symbol.infer.shape(s)$out.shapes$dec1d_output, c(16L, 4L, 2L))
})

test_that("an operator we do not implement is a clear error naming it", {
  expect_error(mx.symbol.load(sym_fixture("deconv_relu.json")),
               class = "deconv_unsupported_error",
               regexp = "^Activation: operator not implemented \\(node 'relu'\\)")
})

test_that("malformed files and bad parameters are errors naming what is wrong", {
  expect_error(mx.symbol.load.json("{not json"), class = "deconv_param_error", regexp = "^json: not valid JSON")
  expect_error(mx.symbol.load.json('{"a": 1}'), class = "deconv_param_error", regexp = "^json: not an MXNet symbol file")
  expect_error(mx.symbol.load.json('{"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": [[3, 0, 0]]}'),
               class = "deconv_param_error", regexp = "^json: .*not an earlier node")
  expect_error(mx.symbol.load(tempfile()), class = "deconv_param_error", regexp = "^file.name: ")
  text <- read_text(sym_fixture("deconv_single.json"))
  expect_error(mx.symbol.load.json(sub('"kernel": "(4, 4)",\n        "num_filter": "3",\n        "pad"',
                                       '"kernel": "(4, 4)",\n        "num_filter": "3", "pad"', text,
                                       fixed = TRUE) |> gsub(pattern = '"stride": "(2, 2)"',
                                                             replacement = '"stride": "(2,)"', fixed = TRUE)),
               class = "deconv_param_error", regexp = "^stride: .*node 'deconvolution0'")
  expect_error(mx.symbol.load.json(gsub('"num_filter": "3"', '"num_filter": "three"', text, fixed = TRUE)),
               class = "deconv_param_error", regexp = "^num.filter: expected an integer.*node 'deconvolution0'")
  expect_error(mx.symbol.load.json(gsub('"num_filter": "3"', '"num_filter": "3", "bogus": "1"', text, fixed = TRUE)),
               class = "deconv_param_error", regexp = "^bogus: not a parameter of Deconvolution")
  # A bias input on a node whose no_bias is True: wrong number of inputs.
  text1 <- read_text(sym_fixture("deconv_1d.json"))
  expect_error(mx.symbol.load.json(gsub('"no_bias": "False"', '"no_bias": "True"', text1, fixed = TRUE)),
               class = "deconv_param_error", regexp = "^inputs: expected 2 inputs.*node 'dec1d'")
})
