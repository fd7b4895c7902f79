# Symbols as MXNet's symbol JSON (the format of Symbol.tojson()/save() in MXNet 1.x):
# nodes in depth-first post-order, arg_nodes, node_row_ptr, heads and the
# mxnet_version attribute. Read and written with jsonlite.

.mxnet_version <- 10901L

#' Save and load symbols as MXNet JSON
#'
#' `mx.symbol.save()` writes a symbol in MXNet's symbol JSON format (the file MXNet's
#' `mx.symbol.save()`/Python `Symbol.save()` writes), `mx.symbol.load()` reads one, and
#' `mx.symbol.load.json()` reads it from a string. `as.json()` (also `sym$as.json()`)
#' gives the JSON text. Parameters are stored as MXNet's strings (`"(4, 4)"` in MXNet's
#' tuple order, `"True"`), so files written by MXNet load here and files written here
#' load in MXNet. Graphs can hold variables and `Deconvolution` nodes; any other
#' operator is an error (class `deconv_unsupported_error`) naming it.
#'
#' @param symbol,x An `MXSymbol`.
#' @param filename,file.name Path of the JSON file.
#' @param json.str The JSON text (a string, or lines that are pasted together).
#' @param ... Unused.
#' @return `mx.symbol.save()`: `filename`, invisibly. `mx.symbol.load()` and
#'   `mx.symbol.load.json()`: an `MXSymbol`. `as.json()`: a string.
#' @examples
#' data <- mx.symbol.Variable("data")
#' up <- mx.symbol.Deconvolution(data, kernel = c(4, 2), stride = c(2, 2), num.filter = 3,
#'                               name = "up")
#' cat(as.json(up))
#' f <- tempfile(fileext = ".json")
#' mx.symbol.save(up, f)
#' up2 <- mx.symbol.load(f)
#' identical(as.json(up2), as.json(up))
#' @export
mx.symbol.save <- function(symbol, filename) {
  call <- sys.call()
  check_symbol(symbol, "symbol", call)
  writeLines(as.json(symbol), filename, useBytes = TRUE)
  invisible(filename)
}

#' @rdname mx.symbol.save
#' @export
mx.symbol.load <- function(file.name) {
  call <- sys.call()
  if (!is.character(file.name) || length(file.name) != 1 || !file.exists(file.name)) {
    deconv_abort("file.name", "expected the path of an existing JSON file", call = call)
  }
  symbol_from_json(paste(readLines(file.name, warn = FALSE), collapse = "\n"), call)
}

#' @rdname mx.symbol.save
#' @export
mx.symbol.load.json <- function(json.str) {
  call <- sys.call()
  if (!is.character(json.str) || !length(json.str)) {
    deconv_abort("json.str", "expected the JSON text as a string", call = call)
  }
  symbol_from_json(paste(json.str, collapse = "\n"), call)
}

#' @rdname mx.symbol.save
#' @export
as.json <- function(x, ...) UseMethod("as.json")

#' @rdname mx.symbol.save
#' @export
as.json.MXSymbol <- function(x, ...) {
  unbox <- jsonlite::unbox
  nodes <- graph_nodes(x)
  index <- stats::setNames(seq_along(nodes) - 1L, vapply(nodes, function(n) as.character(n$id), ""))
  entry <- function(node) c(index[[as.character(node$id)]], 0L, 0L)
  json_nodes <- lapply(nodes, function(n) {
    j <- list(op = unbox(n$op), name = unbox(n$name))
    if (length(n$attrs)) j$attrs <- lapply(n$attrs, function(v) unbox(as.character(v)))
    j$inputs <- lapply(n$inputs, entry)
    j
  })
  is_arg <- vapply(nodes, function(n) n$op == "null", TRUE)
  doc <- list(
    nodes = json_nodes,
    arg_nodes = as.integer(which(is_arg) - 1L),
    node_row_ptr = 0:length(nodes),
    heads = lapply(sym_heads(x), entry),
    attrs = list(mxnet_version = list(unbox("int"), unbox(.mxnet_version)))
  )
  as.character(jsonlite::toJSON(doc, pretty = TRUE, auto_unbox = FALSE, digits = NA))
}

symbol_from_json <- function(text, call) {
  doc <- tryCatch(jsonlite::fromJSON(text, simplifyVector = FALSE),
                  error = function(e) deconv_abort("json", paste0("not valid JSON: ", conditionMessage(e)),
                                                   call = call))
  malformed <- function(detail) {
    deconv_abort("json", paste0("not an MXNet symbol file: ", detail), call = call)
  }
  if (!is.list(doc) || !is.list(doc$nodes) || !length(doc$nodes)) malformed("no \"nodes\" list")
  if (!is.list(doc$heads) || !length(doc$heads)) malformed("no \"heads\" list")
  built <- vector("list", length(doc$nodes))
  entry_node <- function(e, i, what) {
    e <- unlist(e)
    if (!is.numeric(e) || length(e) < 2 || e[1] < 0 || e[1] >= i || e[1] != floor(e[1])) {
      malformed(sprintf("%s refers to node %s, which is not an earlier node", what,
                        paste(e, collapse = ", ")))
    }
    if (e[2] != 0) malformed(sprintf("%s uses output %d of node %d; these nodes have one output",
                                     what, e[2], e[1]))
    built[[e[1] + 1]]
  }
  for (i in seq_along(doc$nodes)) {
    j <- doc$nodes[[i]]
    op <- j$op
    name <- j$name
    if (!is.character(op) || length(op) != 1 || !is.character(name) || length(name) != 1) {
      malformed(sprintf("node %d has no \"op\" or \"name\" string", i - 1))
    }
    # MXNet 1.x writes "attrs"; files from older versions have "param" and "attr".
    attrs <- c(j[["attrs"]], j[["param"]], j[["attr"]])
    attrs <- lapply(attrs, function(v) as.character(unlist(v)))
    inputs <- lapply(j$inputs, entry_node, i = i - 1, what = sprintf("an input of node '%s'", name))
    built[[i]] <- if (op == "null") {
      new_node("null", name, attrs)
    } else if (op == "Deconvolution") {
      deconv_node_from_json(name, attrs, inputs, call)
    } else {
      deconv_abort(op, sprintf(paste0("operator not implemented (node '%s'); deconv runs graphs of ",
                                      "variables and Deconvolution nodes only"), name),
                   class = "deconv_unsupported_error", call = call)
    }
  }
  heads <- lapply(doc$heads, entry_node, i = length(built), what = "a head")
  new_symbol(heads)
}

deconv_node_from_json <- function(name, attrs, inputs, call) {
  params <- with_node(params_from_attrs(attrs, call), name, call)
  norm <- with_node(cpp_deconvolution_params(params, call = call), name, call)
  want <- if (norm$no_bias) 2 else 3
  if (length(inputs) != want) {
    deconv_abort("inputs", sprintf("expected %d inputs (data, weight%s), got %d (Deconvolution node '%s')",
                                   want, if (want == 3) ", bias" else "", length(inputs), name),
                 call = call)
  }
  new_node("Deconvolution", name, attrs, norm, inputs)
}
