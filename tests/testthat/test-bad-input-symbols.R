# Hostile and mistaken input to the symbol and executor functions: every case is a
# classed deconv error naming the argument (helper-bad-input.R), never a base R error,
# a crash or a hang; and the valid edge cases next to them work.

sym_fixture <- function(...) test_path("fixtures", "symbols", ...)
read_text <- function(path) paste(readLines(path, warn = FALSE), collapse = "\n")

data <- mx.symbol.Variable("data")
up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                               num.filter = 2, no.bias = FALSE, name = "up1")
dec <- mx.symbol.Deconvolution(up1, kernel = c(2, 2), num.filter = 1, name = "dec")
dshape <- c(3, 3, 1, 1)
new_exec <- function() mx.simple.bind(dec, "cpu", grad.req = "write", data = dshape)
exec <- new_exec()
ran <- new_exec()
mx.exec.forward(ran)
single <- read_text(sym_fixture("deconv_single.json"))
oned <- read_text(sym_fixture("deconv_1d.json"))
# The fixture with one substitution (fixed strings).
edit <- function(text, from, to) {
  stopifnot(grepl(from, text, fixed = TRUE))
  sub(from, to, text, fixed = TRUE, useBytes = TRUE)
}
node1 <- function(...) {
  paste0('{"nodes": [{"op": "null", "name": "x", "inputs": []}', ..., '], "heads": [[0, 0, 0]]}')
}
with_heads <- function(heads) paste0('{"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": ', heads, '}')
deconv_json <- function(attrs, inputs = "[[0, 0, 0], [1, 0, 0]]") {
  paste0('{"nodes": [{"op": "null", "name": "d", "inputs": []}, {"op": "null", "name": "w", "inputs": []},',
         '{"op": "Deconvolution", "name": "dc", "attrs": {', attrs, '}, "inputs": ', inputs, '}],',
         ' "heads": [[2, 0, 0]]}')
}
kattr <- function(kernel) sprintf('"kernel": "%s", "num_filter": "1"', kernel)

# Forged symbols: a real one with a field altered.
forge <- function(f) {
  s <- dec
  h <- unclass(s)$heads
  h[[1]] <- f(h[[1]])
  structure(list(heads = h), class = "MXSymbol")
}
set_field <- function(name, value) function(n) { n[name] <- list(value); n }
drop_field <- function(name) function(n) { n[[name]] <- NULL; n }

# Forged executors: a real one with a field replaced or removed.
forge_exec <- function(name, value, base = new_exec()) {
  if (missing(value)) rm(list = name, envir = base) else assign(name, value, envir = base)
  base
}

tmp <- withr::local_tempdir()
fifo <- file.path(tmp, "fifo.json")
has_fifo <- .Platform$OS.type == "unix" && identical(suppressWarnings(system2("mkfifo", fifo)), 0L) &&
  file.exists(fifo)
big <- file.path(tmp, "big.json")
has_big <- identical(suppressWarnings(system2("truncate", c("-s", "100M", big))), 0L)
latin1 <- file.path(tmp, "latin1.json")
writeBin(c(charToRaw(sub('"data"', '"d', single, fixed = TRUE)), as.raw(0xe9), charToRaw('"')), latin1)
writeBin(charToRaw(sub('"data"', '"d\\xe9"', single, fixed = TRUE)), latin1)
nul_file <- file.path(tmp, "nul.json")
writeBin(c(charToRaw("{"), as.raw(0), charToRaw("}")), nul_file)
empty_file <- file.path(tmp, "empty.json")
file.create(empty_file)
not_json <- file.path(tmp, "text.json")
writeLines("hello", not_json)
good_file <- file.path(tmp, "good.json")
mx.symbol.save(dec, good_file)
con <- file(good_file)
withr::defer(close(con))

test_that("symbols and their inspection functions refuse what is not a symbol", {
  n <- expect_bad_calls(list(
    bad_call(arguments(1), "deconv_param_error", "x"),
    bad_call(arguments(NULL), "deconv_param_error", "x"),
    bad_call(arguments(list(heads = list())), "deconv_param_error", "x"),
    bad_call(arguments(exec), "deconv_param_error", "x"),
    bad_call(outputs("a"), "deconv_param_error", "x"),
    bad_call(outputs(array(1, c(2, 2))), "deconv_param_error", "x"),
    bad_call(print.MXSymbol(1), "deconv_param_error", "x"),
    bad_call(as.json(structure(list(), class = "MXSymbol")), "deconv_param_error", "x"),
    bad_call(mx.symbol.infer.shape(1, data = dshape), "deconv_param_error", "symbol"),
    bad_call(mx.symbol.infer.shape(exec, data = dshape), "deconv_param_error", "symbol"),
    bad_call(mx.simple.bind("data", "cpu", data = dshape), "deconv_param_error", "symbol"),
    bad_call(mx.symbol.eval(array(1, dshape), list()), "deconv_param_error", "symbol"),
    bad_call(mx.symbol.save(list(), tempfile()), "deconv_param_error", "symbol"),
    bad_call(mx.symbol.Variable(NA_character_), "deconv_param_error", "name"),
    bad_call(mx.symbol.Variable(1), "deconv_param_error", "name"),
    bad_call(mx.symbol.Variable(factor("a")), "deconv_param_error", "name"),
    bad_call(mx.symbol.Variable(character(0)), "deconv_param_error", "name"),
    bad_call(mx.symbol.Deconvolution(array(1, dshape), kernel = c(2, 2), num.filter = 1), "deconv_param_error", "data"),
    bad_call(mx.symbol.Deconvolution(list(1), kernel = c(2, 2), num.filter = 1), "deconv_param_error", "data"),
    bad_call(mx.symbol.Deconvolution(exec, kernel = c(2, 2), num.filter = 1), "deconv_param_error", "data"),
    bad_call(mx.symbol.Deconvolution(data, weight = 1, kernel = c(2, 2), num.filter = 1), "deconv_param_error", "weight"),
    bad_call(mx.symbol.Deconvolution(data, bias = "b", kernel = c(2, 2), num.filter = 1, no.bias = FALSE), "deconv_param_error", "bias"),
    bad_call(mx.symbol.Deconvolution(structure(list(heads = list(dec$heads[[1]], dec$heads[[1]])), class = "MXSymbol"),
                                     kernel = c(2, 2), num.filter = 1), "deconv_param_error", "data"),
    bad_call(mx.symbol.Deconvolution(forge(set_field("op", "Activation")), kernel = c(2, 2), num.filter = 1), "deconv_param_error", "data"),
    bad_call(mx.symbol.Deconvolution(data, kernel = c(2, 2), num.filter = 1, name = NA), "deconv_param_error", "name"),
    bad_call(mx.symbol.Deconvolution(data, kernel = c(2, 2), num.filter = 1, name = c("a", "b")), "deconv_param_error", "name")
  ))
  expect_gte(n, 26)
})

test_that("forged or altered symbols are errors naming the argument", {
  forged <- list(
    structure(list(heads = 1), class = "MXSymbol"),
    structure(list(heads = list(1)), class = "MXSymbol"),
    structure(list(heads = list(list())), class = "MXSymbol"),
    structure(list(heads = list(NULL)), class = "MXSymbol"),
    structure(list(), class = "MXSymbol"),
    structure(new.env(), class = "MXSymbol"),
    structure(1:3, class = "MXSymbol"),
    forge(set_field("op", "Activation")),
    forge(set_field("op", NA_character_)),
    forge(set_field("op", c("null", "null"))),
    forge(drop_field("op")),
    forge(set_field("name", 1)),
    forge(set_field("name", "")),
    forge(drop_field("name")),
    forge(set_field("id", "7")),
    forge(set_field("id", NaN)),
    forge(set_field("id", c(1, 2))),
    forge(drop_field("id")),
    forge(set_field("inputs", "data")),
    forge(set_field("inputs", list(1, 2))),
    forge(set_field("inputs", list(data$heads[[1]]))),
    forge(drop_field("inputs")),
    forge(set_field("params", "kernel")),
    forge(set_field("params", list(no_bias = NA))),
    forge(set_field("params", list(no_bias = TRUE, kernel = list(1)))),
    forge(drop_field("params")),
    forge(set_field("attrs", list(kernel = 3))),
    forge(set_field("attrs", list("(3, 3)"))),
    forge(set_field("attrs", "kernel")),
    forge(function(n) { n$inputs[[1]] <- structure(n$inputs[[1]], class = "foo"); n }),
    forge(function(n) { n$inputs[[1]]$op <- "Convolution"; n }),
    forge(function(n) { n$inputs[[2]]$id <- n$inputs[[1]]$id; n }),
    forge(function(n) { n$params$no_bias <- FALSE; n })
  )
  cases <- c(
    lapply(forged, function(f) bad_call(arguments(x), "deconv_param_error", "x")),
    lapply(forged[1:12], function(f) bad_call(as.json(x), "deconv_param_error", "x")),
    lapply(forged[8:20], function(f) bad_call(mx.symbol.infer.shape(x, data = dshape), "deconv_param_error", "symbol")),
    lapply(forged[20:33], function(f) bad_call(mx.symbol.eval(x, list(data = array(1, dshape))), "deconv_param_error", "symbol")),
    lapply(forged[c(1, 8, 15, 21, 30)], function(f) bad_call(mx.simple.bind(x, data = dshape), "deconv_param_error", "symbol")),
    lapply(forged[c(2, 9, 16, 22, 31)], function(f) bad_call(mx.symbol.save(x, tempfile()), "deconv_param_error", "symbol")),
    lapply(forged[c(3, 10, 17, 23, 32)], function(f) bad_call(print(x), "deconv_param_error", "x"))
  )
  xs <- c(forged, forged[1:12], forged[8:20], forged[20:33], forged[c(1, 8, 15, 21, 30)],
          forged[c(2, 9, 16, 22, 31)], forged[c(3, 10, 17, 23, 32)])
  n <- 0
  for (k in seq_along(cases)) {
    x <- xs[[k]]
    n <- n + expect_bad_calls(cases[k])
  }
  expect_gte(n, 80)
  # Forged params that are well-formed lists: the core checks the values, naming them.
  bad_kernel <- forge(function(n) { n$params$kernel <- "a"; n })
  expect_error(mx.symbol.infer.shape(bad_kernel, data = dshape), class = "deconv_param_error",
               regexp = "^kernel: .*node 'dec'")
})

test_that("forged or altered executors are errors naming exec", {
  n <- expect_bad_calls(list(
    bad_call(mx.exec.forward(structure(new.env(), class = "MXExecutor")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(structure(list(), class = "MXExecutor")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(dec), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(NULL), "deconv_param_error", "exec"),
    bad_call(mx.exec.backward(1), "deconv_param_error", "exec"),
    bad_call(mx.exec.update.arg.arrays(list(), list()), "deconv_param_error", "exec"),
    bad_call(mx.exec.update.grad.arrays("exec", list()), "deconv_param_error", "exec"),
    bad_call(print.MXExecutor(structure(new.env(), class = "MXExecutor")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("symbol")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("symbol", 1)), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("symbol", forge(set_field("op", "x")))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("symbol", up1)), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("ctx")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("ctx", "tpu")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("ctx", structure(list(device = "cpu", device_id = -1), class = "MXContext"))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("dtype", "float16")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("dtype")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("grad.req", "write")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("grad.req")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("arg.arrays")), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("arg.arrays", 1)), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("arg.arrays", list(data = array(1, dshape)))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("arg.arrays", within(exec$arg.arrays, data <- "a"))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("arg.arrays", within(exec$arg.arrays, data <- factor(1)))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("arg.arrays", within(exec$arg.arrays, data <- 1:9))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("grad.arrays", list())), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("grad.arrays", within(exec$grad.arrays, up1_weight <- array(0, c(2, 2))))), "deconv_param_error", "exec"),
    bad_call(mx.exec.forward(forge_exec("grad.arrays", within(exec$grad.arrays, data <- array(0, dshape)))), "deconv_param_error", "exec"),
    bad_call(mx.exec.backward(exec), "deconv_param_error", "exec"),
    bad_call(mx.exec.backward(forge_exec(".values", 1, base = { e <- new_exec(); mx.exec.forward(e); e })), "deconv_param_error", "exec"),
    bad_call(mx.exec.backward(forge_exec(".values", new.env(), base = { e <- new_exec(); mx.exec.forward(e); e })), "deconv_param_error", "exec"),
    bad_call(mx.exec.backward(forge_exec("outputs", list(1), base = { e <- new_exec(); mx.exec.forward(e); e })), "deconv_param_error", "exec"),
    bad_call(mx.exec.backward(forge_exec("symbol", mx.symbol.load.json(as.json(dec)),
                                         base = { e <- new_exec(); mx.exec.forward(e); e })), "deconv_param_error", "exec"),
    bad_call(mx.exec.update.arg.arrays(forge_exec("arg.arrays", NULL), list()), "deconv_param_error", "exec"),
    bad_call(mx.exec.update.grad.arrays(forge_exec("grad.req", c(a = "write")), list()), "deconv_param_error", "exec")
  ))
  expect_gte(n, 35)
})

test_that("flags and arguments of the symbol and executor functions are checked", {
  a <- exec$arg.arrays
  n <- expect_bad_calls(list(
    bad_call(mx.symbol.infer.shape(dec, data = dshape, partial = "yes"), "deconv_param_error", "partial"),
    bad_call(mx.symbol.infer.shape(dec, data = dshape, partial = NA), "deconv_param_error", "partial"),
    bad_call(mx.symbol.infer.shape(dec, data = dshape, partial = c(TRUE, FALSE)), "deconv_param_error", "partial"),
    bad_call(mx.symbol.infer.shape(dec, data = dshape, partial = 1), "deconv_param_error", "partial"),
    bad_call(mx.symbol.eval(dec, a, simplify = "no"), "deconv_param_error", "simplify"),
    bad_call(mx.symbol.eval(dec, a, simplify = NULL), "deconv_param_error", "simplify"),
    bad_call(mx.exec.update.arg.arrays(exec, a, match.name = "yes"), "deconv_param_error", "match.name"),
    bad_call(mx.exec.update.arg.arrays(exec, a, match.name = NA), "deconv_param_error", "match.name"),
    bad_call(mx.exec.update.arg.arrays(exec, a, skip.null = 1), "deconv_param_error", "skip.null"),
    bad_call(mx.exec.update.grad.arrays(exec, list(), skip.null = "TRUE"), "deconv_param_error", "skip.null"),
    bad_call(mx.exec.forward(exec, is.train = "yes"), "deconv_param_error", "is.train"),
    bad_call(mx.exec.forward(exec, is.train = NA), "deconv_param_error", "is.train"),
    bad_call(mx.exec.forward(exec, is.train = c(TRUE, TRUE)), "deconv_param_error", "is.train"),
    bad_call(mx.simple.bind(dec, fixed.param = 1, data = dshape), "deconv_param_error", "fixed.param"),
    bad_call(mx.simple.bind(dec, fixed.param = NA_character_, data = dshape), "deconv_param_error", "fixed.param"),
    bad_call(mx.simple.bind(dec, fixed.param = "nope", data = dshape), "deconv_param_error", "fixed.param"),
    bad_call(mx.simple.bind(dec, fixed.param = factor("up1_bias"), data = dshape), "deconv_param_error", "fixed.param"),
    bad_call(mx.simple.bind(dec, fixed.param = list("up1_bias"), data = dshape), "deconv_param_error", "fixed.param"),
    bad_call(mx.simple.bind(dec, grad.req = NA, data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = NA_character_, data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = character(0), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = TRUE, data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = factor("write"), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = list(), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = list(data = 1), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = list(data = c("write", "add")), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = c(data = "write", data = "add"), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = c(data = "write", "add"), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = c(data = "Write"), data = dshape), "deconv_param_error", "grad.req"),
    bad_call(mx.simple.bind(dec, grad.req = c(nope = "write"), data = dshape), "deconv_param_error", "nope"),
    bad_call(mx.simple.bind(dec, dtype = 32, data = dshape), "deconv_param_error", "dtype"),
    bad_call(mx.simple.bind(dec, dtype = NULL, data = dshape), "deconv_param_error", "dtype"),
    bad_call(mx.simple.bind(dec, dtype = TRUE, data = dshape), "deconv_param_error", "dtype"),
    bad_call(mx.simple.bind(dec, dtype = list(), data = dshape), "deconv_param_error", "dtype"),
    bad_call(mx.simple.bind(dec, dtype = c("float32", "float64"), data = dshape), "deconv_param_error", "dtype"),
    bad_call(mx.simple.bind(dec, dtype = NA_character_, data = dshape), "deconv_param_error", "dtype"),
    bad_call(mx.symbol.eval(dec, a, dtype = "double"), "deconv_param_error", "dtype"),
    bad_call(mx.simple.bind(dec, ctx = 1, data = dshape), "deconv_param_error", "ctx"),
    bad_call(mx.simple.bind(dec, ctx = NULL, data = dshape), "deconv_param_error", "ctx"),
    bad_call(mx.simple.bind(dec, ctx = list(device = "cpu"), data = dshape), "deconv_param_error", "ctx"),
    bad_call(mx.simple.bind(dec, ctx = c("cpu", "gpu"), data = dshape), "deconv_param_error", "ctx"),
    bad_call(mx.simple.bind(dec, ctx = NA, data = dshape), "deconv_param_error", "ctx"),
    bad_call(mx.simple.bind(dec, ctx = dec, data = dshape), "deconv_param_error", "ctx"),
    bad_call(mx.symbol.eval(dec, a, ctx = "CPU"), "deconv_param_error", "ctx"),
    bad_call(mx.exec.backward(ran, "a"), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, factor(1:3)), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, TRUE), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, dec), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, list(NULL)), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, list()), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, array(1, c(7, 7))), "deconv_shape_error", "out.grads"),
    bad_call(mx.exec.backward(ran, 1:3), "deconv_shape_error", "out.grads"),
    bad_call(mx.exec.backward(ran, list(nope = array(1, c(7, 7, 1, 1)))), "deconv_param_error", "out.grads"),
    bad_call(mx.exec.backward(ran, list(array(1, c(7, 7, 1, 1)), array(1, c(7, 7, 1, 1)))), "deconv_param_error", "out.grads")
  ))
  expect_gte(n, 54)
})

test_that("arrays given to executors and eval are numeric arrays of the argument's dims", {
  a <- exec$arg.arrays
  n <- expect_bad_calls(list(
    bad_call(mx.exec.update.arg.arrays(exec, list(data = "a"), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = factor(1:9)), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = array(TRUE, dshape)), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = array("1", dshape)), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = dec), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = list(1)), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = array(1 + 0i, dshape)), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = array(1, c(3, 3, 1))), match.name = TRUE), "deconv_shape_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = 1:9), match.name = TRUE), "deconv_shape_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(up1_bias = 1:3), match.name = TRUE), "deconv_shape_error", "up1_bias"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = NULL), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, list(data = a$data, data = a$data), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.arg.arrays(exec, unname(a), match.name = TRUE), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.arg.arrays(exec, stats::setNames(a, c("data", "", "a", "b")), match.name = TRUE), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.arg.arrays(exec, a[1:2]), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.arg.arrays(exec, dec), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.arg.arrays(exec, array(1, dshape)), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.arg.arrays(exec, data.frame(x = 1)), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.arg.arrays(exec, NULL), "deconv_param_error", "arg.arrays"),
    bad_call(mx.exec.update.grad.arrays(exec, list(data = a$data), match.name = TRUE), "deconv_param_error", "data"),
    bad_call(mx.exec.update.grad.arrays(exec, list(up1_weight = "w"), match.name = TRUE), "deconv_param_error", "up1_weight"),
    bad_call(mx.exec.update.grad.arrays(exec, a), "deconv_param_error", "grad.arrays"),
    bad_call(mx.symbol.eval(dec, a[-1]), "deconv_param_error", "data"),
    bad_call(mx.symbol.eval(dec, c(a, list(data = a$data))), "deconv_param_error", "data"),
    bad_call(mx.symbol.eval(dec, c(a, list(extra = 1))), "deconv_param_error", "extra"),
    bad_call(mx.symbol.eval(dec, unname(a)), "deconv_param_error", "args"),
    bad_call(mx.symbol.eval(dec, "a"), "deconv_param_error", "args"),
    bad_call(mx.symbol.eval(dec, dec), "deconv_param_error", "args"),
    bad_call(mx.symbol.eval(dec, NULL), "deconv_param_error", "args"),
    bad_call(mx.symbol.eval(dec, within(a, data <- "x")), "deconv_param_error", "data"),
    bad_call(mx.symbol.eval(dec, within(a, data <- factor(1:9))), "deconv_param_error", "data"),
    bad_call(mx.symbol.eval(dec, within(a, up1_weight <- dec)), "deconv_param_error", "up1_weight"),
    bad_call(mx.symbol.eval(dec, within(a, up1_weight <- array(1, c(4, 4, 2, 2)))), "deconv_shape_error", "up1_weight"),
    bad_call(mx.symbol.eval(dec, within(a, data <- array(NA, dshape))), "deconv_param_error", "data")
  ))
  expect_gte(n, 34)
})

test_that("shapes given to infer.shape and bind are named whole numbers in range", {
  n <- expect_bad_calls(list(
    bad_call(mx.symbol.infer.shape(dec, data = factor(dshape)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = c(3, NA, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = c(3, Inf, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = c(3, -3, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = c(3, 3.5, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = c(3, 1e10, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = c(3, 2^31, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = NaN), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = numeric(0)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = "3,3,1,1"), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = list(3, 3, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = TRUE), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = dec), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = NULL), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, data = dshape, data = dshape), "deconv_param_error", "data"),
    bad_call(mx.symbol.infer.shape(dec, dshape), "deconv_param_error", "..."),
    bad_call(mx.symbol.infer.shape(dec, nope = dshape), "deconv_param_error", "nope"),
    bad_call(mx.simple.bind(dec, "cpu", data = c(3, -1, 1, 1)), "deconv_param_error", "data"),
    bad_call(mx.simple.bind(dec, "cpu", data = c(3, 3, 1, 1), data = dshape), "deconv_param_error", "data"),
    bad_call(mx.simple.bind(dec, "cpu", data = factor(3)), "deconv_param_error", "data"),
    bad_call(mx.simple.bind(dec, "cpu", data = 2^40), "deconv_param_error", "data"),
    bad_call(mx.simple.bind(dec, "cpu"), "deconv_shape_error", "data"),
    bad_call(dec$infer.shape(1), "deconv_param_error", "shapes"),
    bad_call(dec$infer.shape(list(dshape)), "deconv_param_error", "..."),
    bad_call(mx.simple.bind(mx.symbol.Deconvolution(data, weight = mx.symbol.Variable("data"), kernel = c(1, 1),
                                                    num.filter = 1), data = dshape), "deconv_param_error", "symbol")
  ))
  expect_gte(n, 25)
})

test_that("load.json parses text only: paths and URLs are refused without being read", {
  n <- expect_bad_calls(list(
    bad_call(mx.symbol.load.json(good_file), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("http://127.0.0.1:9/symbol.json"), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("https://example.invalid/x.json"), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("file:///etc/passwd"), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("/dev/zero"), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("[1, 2]"), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('"{}"'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(""), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("   "), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(NA_character_), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(character(0)), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(1), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(NULL), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(factor(single)), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(list(single)), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(charToRaw(single)), "deconv_param_error", "json.str"),
    bad_call(mx.symbol.load.json(con), "deconv_param_error", "json.str")
  ))
  expect_gte(n, 17)
})

test_that("malformed and hostile JSON is a param error naming json (or the parameter)", {
  n <- expect_bad_calls(list(
    # Encoding, NUL, comments, nesting, '%'.
    bad_call(mx.symbol.load.json(edit(single, '"data"', '"d\xff"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"data"', '"d\xc3\x28"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"(4, 4)"', '"(4, 4)\\u0000junk"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"data"', '"da\\u0000ta"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"data"', '"da\\ud800ta"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"data"', '"da\\udc00ta"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"nodes"', '/* c */ "nodes"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"nodes"', '// c\n"nodes"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(paste0('{"a": ', strrep("[", 100), strrep("]", 100), "}")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(paste0('{"a": ', strrep("[", 1e6))), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(paste0('{"a": ', strrep('{"a": ', 1e5))), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [1, %n %s %n]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "%n%n", "name": "\\%n"}]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(node1(', {"op": "null", "name": "%n%s%n%n", "inputs": [], }')), "deconv_param_error", "json"),
    # Syntax.
    bad_call(mx.symbol.load.json("{not json"), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(substr(single, 1, 200)), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(paste0(single, "}")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(paste0(single, " junk")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json("{}"), "deconv_param_error", "json"),
    # Layout.
    bad_call(mx.symbol.load.json('{"nodes": 1, "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": {"a": 1}, "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [1], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [[]], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": ["x"], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": "x", "inputs": []}]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(sub('"heads"', '"heads": [[0, 0, 0]], "heads"', single, fixed = TRUE)), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": 1, "name": "x", "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": null, "name": "x", "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": ["null"], "name": "x", "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": 7, "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": "", "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": true, "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "op": "x", "name": "x", "inputs": []}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": "x"}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": "x", "inputs": 0}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json('{"nodes": [{"op": "null", "name": "x", "inputs": [[0, 0, 0]]}], "heads": [[0, 0, 0]]}'), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(node1(', {"op": "null", "name": "y", "inputs": [[0, 0, 0]]}')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[0]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[0, 0, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[1, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[-1, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[0.5, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[1e400, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads(paste0("[[", strrep("9", 300), ", 0, 0]]"))), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads('[["0", 0, 0]]')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[0, 1, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[0, 0, -1]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[true, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads("[[[0], 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(with_heads('{"a": [0, 0, 0]}')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"arg_nodes": [', '"arg_nodes": ["x", ')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"arg_nodes": [', '"arg_nodes": [99, ')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"arg_nodes": [', '"arg_nodes": 1, "x": [')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"node_row_ptr": [', '"node_row_ptr": [-1, ')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"node_row_ptr": [', '"node_row_ptr": [0.5, ')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"node_row_ptr": [', '"node_row_ptr": "0", "y": [')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"attrs": {"mxnet_version"', '"attrs": 1, "z": {"mxnet_version"')), "deconv_param_error", "json"),
    # Node attributes.
    bad_call(mx.symbol.load.json(edit(single, '"num_filter": "3"', '"num_filter": 3')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"num_filter": "3"', '"num_filter": null')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"num_filter": "3"', '"num_filter": ["3"]')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"num_filter": "3"', '"num_filter": "3", "num_filter": "4"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(edit(single, '"num_filter": "3"', '"num_filter": "3", "": "4"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), '[[0, 0, 0], [1, 0, 0]], "param": {"kernel": "(3, 3)"}')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), '[[0, 0, 0], [1, 0, 0]], "attr": "x"')), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(sub('"attrs": {', '"attrs": [', deconv_json('"kernel"'), fixed = TRUE)), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), "[[0, 0, 0]]")), "deconv_param_error", "inputs"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), "[[0, 0, 0], [1, 0, 0], [1, 0, 0]]")), "deconv_param_error", "inputs"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), "[[0, 0, 0], [2, 0, 0]]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), "[[0, 0, 0], [1, 0]]], \"x\": [[0")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), "[0, 1]")), "deconv_param_error", "json"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)"), "[[0, 0, 0], [1, 0, 0.5]]")), "deconv_param_error", "json"),
    # Attribute strings, read strictly.
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3)junk"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3))"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("((3, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3]"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3,,3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(,3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3, 3,,)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3.5, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3e0, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(0x3, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(Inf, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(NA, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr(paste0("(", strrep("9", 300), ", 3)")))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(2147483648, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(-3, 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("3, 3"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("()"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr("(3 3)"))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json(kattr(""))), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "1.5"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "0x10"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "1e3"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "Inf"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "3 junk"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json(paste0('"kernel": "(3, 3)", "num_filter": "', strrep("9", 300), '"'))), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "0"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": ""')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "1", "no_bias": "yes"')), "deconv_param_error", "no.bias"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "1", "layout": "%n%s"')), "deconv_param_error", "layout"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)", "num_filter": "1", "bogus": "1"')), "deconv_param_error", "bogus"),
    bad_call(mx.symbol.load.json(deconv_json('"num_filter": "1"')), "deconv_param_error", "kernel"),
    bad_call(mx.symbol.load.json(deconv_json('"kernel": "(3, 3)"')), "deconv_param_error", "num.filter"),
    bad_call(mx.symbol.load.json(edit(single, '"op": "Deconvolution"', '"op": "Convolution"')), "deconv_unsupported_error", "Convolution"),
    bad_call(mx.symbol.load(sym_fixture("deconv_relu.json")), "deconv_unsupported_error", "Activation")
  ))
  expect_gte(n, 100)
})

test_that("load refuses what is not a regular file of bounded size, promptly", {
  cases <- list(
    bad_call(mx.symbol.load(""), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(NA_character_), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(NULL), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(1), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(c(good_file, good_file)), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(factor(good_file)), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(con), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(tmp), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(file.path(tmp, "missing.json")), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load("/dev/zero"), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load("/dev/null"), "deconv_param_error", "file.name"),
    bad_call(mx.symbol.load(latin1), "deconv_param_error", "json"),
    bad_call(mx.symbol.load(nul_file), "deconv_param_error", "json"),
    bad_call(mx.symbol.load(empty_file), "deconv_param_error", "json"),
    bad_call(mx.symbol.load(not_json), "deconv_param_error", "json")
  )
  if (.Platform$OS.type == "unix") expect_true(has_fifo)
  if (has_fifo) cases <- c(cases, list(bad_call(mx.symbol.load(fifo), "deconv_param_error", "file.name")))
  if (has_big) cases <- c(cases, list(bad_call(mx.symbol.load(big), "deconv_param_error", "file.name")))
  t <- system.time(n <- expect_bad_calls(cases))[["elapsed"]]
  expect_lt(t, 10)
  expect_gte(n, 15)
  # The size cap is an option.
  withr::with_options(list(deconv.max.json.bytes = 100), {
    expect_error(mx.symbol.load(good_file), class = "deconv_param_error", regexp = "^file.name: .*more than")
    expect_error(mx.symbol.load.json(as.json(dec)), class = "deconv_param_error", regexp = "^json.str: ")
  })
})

test_that("save refuses every bad filename and reports write failures as errors", {
  cases <- list(
    bad_call(mx.symbol.save(dec, ""), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, NA_character_), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, NULL), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, 1), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, c("a.json", "b.json")), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, character(0)), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, con), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, tmp), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, file.path(tmp, "no", "such", "dir.json")), "deconv_param_error", "filename"),
    bad_call(mx.symbol.save(dec, "/dev/zero"), "deconv_param_error", "filename"),
    bad_call(dec$save(""), "deconv_param_error", "filename")
  )
  if (has_fifo) cases <- c(cases, list(bad_call(mx.symbol.save(dec, fifo), "deconv_param_error", "filename")))
  ro <- file.path(tmp, "ro")
  dir.create(ro)
  Sys.chmod(ro, "0555")
  if (file.access(ro, 2) != 0) {
    cases <- c(cases, list(bad_call(mx.symbol.save(dec, file.path(ro, "x.json")), "deconv_param_error", "filename")))
  }
  if (file.exists("/dev/full")) {
    cases <- c(cases, list(bad_call(mx.symbol.save(dec, "/dev/full"), "deconv_param_error", "filename")))
  }
  n <- expect_bad_calls(cases)
  expect_gte(n, 11)
  expect_no_warning(expect_error(mx.symbol.save(dec, ""), class = "deconv_param_error"))
})

test_that("valid edge cases work: integers, lists, 1-d vectors, named out.grads", {
  e <- new_exec()
  # Integers are converted; a vector works for a 1-d array.
  mx.exec.update.arg.arrays(e, list(data = array(1:9, dshape), up1_bias = 1:2), match.name = TRUE)
  expect_identical(e$arg.arrays$data, array(as.double(1:9), dshape))
  expect_identical(e$arg.arrays$up1_bias, array(c(1, 2), 2L))
  mx.exec.update.arg.arrays(e, list(up1_weight = array(1L, c(4, 4, 2, 1)), dec_weight = array(1L, c(2, 2, 1, 2))),
                            match.name = TRUE)
  mx.exec.forward(e, is.train = FALSE)
  y <- e$outputs$dec_output
  expect_identical(y, mx.symbol.eval(dec, lapply(e$arg.arrays, function(a) { storage.mode(a) <- "integer"; a })))
  mx.exec.backward(e, array(1L, dim(y)))
  g1 <- e$grad.arrays
  mx.exec.backward(e, list(dec_output = array(1, dim(y))))
  expect_identical(e$grad.arrays, g1)
  # An executor whose arrays were replaced by integer arrays of the right dims still runs.
  e$arg.arrays$data <- array(1:9, dshape)
  mx.exec.forward(e)
  expect_identical(e$outputs$dec_output, y)
  # grad.req as a list, fixed.param with a named vector, and an empty fixed.param.
  b <- mx.simple.bind(dec, grad.req = list(up1_weight = "add", up1_bias = "write"),
                      fixed.param = "up1_bias", data = dshape)
  expect_identical(unname(b$grad.req), c("null", "add", "null", "null"))
  b <- mx.simple.bind(dec, fixed.param = character(0), data = dshape)
  expect_identical(unname(b$grad.req), c("null", "write", "write", "write"))
  # infer.shape with integer dims and zeros; partial with FALSE/TRUE.
  expect_identical(mx.symbol.infer.shape(dec, data = as.integer(dshape)),
                   mx.symbol.infer.shape(dec, data = dshape))
  expect_null(mx.symbol.infer.shape(dec, partial = FALSE))
  # Tuples in all of MXNet's spellings.
  ok <- c("(3, 3)", "[3, 3]", "(3,3)", " ( 3 , 3 ) ", "(3L, 3L)", "(3, 3,)", "(+3, 3)")
  for (k in ok) {
    s <- mx.symbol.load.json(deconv_json(kattr(k)))
    expect_identical(s$heads[[1]]$params$kernel, c(3L, 3L), label = k)
  }
  s <- mx.symbol.load.json(deconv_json(kattr("3")))
  expect_identical(s$heads[[1]]$params$kernel, 3L)
  # '%' and escapes inside strings are kept exactly.
  s <- mx.symbol.load.json(node1(', {"op": "null", "name": "50%\\u0025 \\"q\\" \\\\ \\n", "inputs": []}'))
  expect_identical(s$heads[[1]]$name, "x")
  s <- mx.symbol.load.json('{"nodes": [{"op": "null", "name": "a%n\\"b\\\\\\n\\u00e9", "inputs": []}], "heads": [[0, 0, 0]]}')
  expect_identical(arguments(s), "a%n\"b\\\n\u00e9")
  expect_identical(arguments(mx.symbol.load.json(as.json(s))), arguments(s))
  # A UTF-8 file, legacy "param"/"attr" keys, 2-element entries, extra unknown keys.
  s <- mx.symbol.load.json(sub('"attrs":', '"param":', deconv_json(kattr("(3, 3)"), "[[0, 0], [1, 0]]"), fixed = TRUE))
  expect_identical(s$heads[[1]]$params$kernel, c(3L, 3L))
  # Duplicate names: variables may share one (as in MXNet) but such a symbol cannot be bound.
  s <- mx.symbol.load.json(deconv_json(kattr("(1, 1)")) |> sub(pattern = '"name": "w"', replacement = '"name": "d"', fixed = TRUE))
  expect_identical(arguments(s), c("d", "d"))
  expect_error(mx.symbol.infer.shape(s, d = c(1, 1, 1, 1)), class = "deconv_param_error",
               regexp = "^symbol: two different variables are named \"d\"")
  expect_error(mx.simple.bind(s, d = c(1, 1, 1, 1)), class = "deconv_param_error", regexp = "^symbol: ")
  # The file round trip with save/load.
  f <- file.path(tmp, "rt.json")
  expect_identical(mx.symbol.save(dec, f), f)
  expect_identical(as.json(mx.symbol.load(f)), as.json(dec))
})
