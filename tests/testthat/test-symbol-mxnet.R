# MXNet itself loads the symbol files we write, infers the same shapes and computes the
# same forward output and gradients (tools/check_mxnet_loads.py). Runs only when
# DECONV_MXNET_PYTHON names a python with mxnet, e.g.
#   DECONV_MXNET_PYTHON=/opt/mxref/bin/python

check_script <- function() {
  # tests/testthat -> the package sources' tools/ (not installed with the package).
  candidates <- c(test_path("..", "..", "tools", "check_mxnet_loads.py"),
                  Sys.getenv("DECONV_CHECK_SCRIPT"))
  candidates <- candidates[nzchar(candidates) & file.exists(candidates)]
  if (length(candidates)) normalizePath(candidates[1]) else ""
}

tensor_json <- function(x) list(dim = I(as.integer(dim(x) %||% length(x))), values = I(as.numeric(x)))

# Writes sym, its inputs, our forward output and gradients as a case for the script.
write_case <- function(dir, name, sym, data_dim, seed) {
  set.seed(seed)
  shapes <- mx.symbol.infer.shape(sym, data = data_dim)
  args <- lapply(shapes$arg.shapes, function(s) array(rnorm(prod(s)), dim = s))
  reqs <- stats::setNames(rep("write", length(args)), names(args))
  exec <- mx.simple.bind(sym, ctx = "cpu", grad.req = reqs, data = data_dim)
  mx.exec.update.arg.arrays(exec, args, match.name = TRUE)
  mx.exec.forward(exec, is.train = TRUE)
  out <- exec$outputs[[1]]
  og <- array(rnorm(length(out)), dim = dim(out))
  mx.exec.backward(exec, og)
  mx.symbol.save(sym, file.path(dir, paste0(name, ".json")))
  # I(): vectors of length one stay JSON arrays.
  case <- list(symbol_file = paste0(name, ".json"), arguments = I(arguments(sym)),
               outputs = I(outputs(sym)),
               arg_shapes = lapply(shapes$arg.shapes, function(s) I(as.integer(s))),
               out_shape = I(as.integer(shapes$out.shapes[[1]])),
               inputs = lapply(args, tensor_json), output = tensor_json(out),
               out_grad = tensor_json(og), grads = lapply(exec$grad.arrays, tensor_json))
  path <- file.path(dir, paste0(name, "_case.json"))
  writeLines(jsonlite::toJSON(case, auto_unbox = TRUE, digits = NA, pretty = FALSE), path)
  path
}

test_that("MXNet loads the symbols we write and agrees on shapes, outputs and gradients", {
  py <- Sys.getenv("DECONV_MXNET_PYTHON")
  skip_if(!nzchar(py), "DECONV_MXNET_PYTHON is not set (a python with mxnet 1.x)")
  script <- check_script()
  skip_if(!nzchar(script), "tools/check_mxnet_loads.py not found (set DECONV_CHECK_SCRIPT)")
  dir <- withr::local_tempdir()
  data <- mx.symbol.Variable("data")
  # MXNet's float64 CPU code runs 1D and 2D only, and its forward is wrong when stride > 1
  # and dilate > 1 meet in one dimension: the cases avoid that.
  up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 3), stride = c(2, 2), pad = c(1, 1),
                                 num.filter = 4, no.bias = FALSE, name = "up1")
  up2 <- mx.symbol.Deconvolution(up1, kernel = c(3, 3), stride = c(2, 1), num_filter = 3,
                                 num_group = 1, target_shape = c(12, 9), name = "up2")
  d1 <- mx.symbol.Deconvolution(data, kernel = 3, stride = 2, adj = 1, pad = 1,
                                num.filter = 4, no.bias = FALSE, name = "d1")
  d1b <- mx.symbol.Deconvolution(d1, kernel = 2, dilate = 2, num.filter = 2, name = "d1b")
  g <- mx.symbol.Deconvolution(data, kernel = c(3, 3), stride = c(1, 1), num.filter = 4,
                               num.group = 2, no.bias = FALSE, name = "grouped")
  auto <- mx.symbol.Deconvolution(data, kernel = c(2, 2), stride = c(2, 2), num.filter = 2)
  cases <- c(write_case(dir, "decoder", up2, c(3, 4, 2, 2), 1),
             write_case(dir, "stack1d", d1b, c(5, 3, 2), 2),
             write_case(dir, "grouped", g, c(4, 3, 4, 1), 3),
             write_case(dir, "auto", auto, c(3, 3, 1, 1), 4))
  res <- suppressWarnings(system2(py, c(shQuote(script), shQuote(cases)), stdout = TRUE,
                                  stderr = TRUE))
  status <- attr(res, "status") %||% 0L
  ok <- grep("^(OK|FAIL) ", res, value = TRUE)
  expect_identical(status, 0L, info = paste(res, collapse = "\n"))
  expect_identical(ok, paste("OK", basename(cases)), info = paste(res, collapse = "\n"))
})
