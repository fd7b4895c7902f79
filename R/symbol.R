# Symbols: lazy graphs of Variable and Deconvolution nodes, MXNet R's symbol API.
#
# A symbol is a list of class "MXSymbol" with one element, `heads`: a list of nodes.
# A node is a list: `id` (unique in the session; identifies shared nodes), `op` ("null"
# for a variable, "Deconvolution"), `name`, `attrs` (MXNet's attribute strings, as
# written to JSON), `params` (for Deconvolution: the core's parameter list, tuples in R
# order) and `inputs` (a list of nodes). Graph order is MXNet's: a depth-first
# post-order over the inputs, so arguments come as data, weight, bias, layer by layer.

.symbol_state <- new.env(parent = emptyenv())
.symbol_state$next_id <- 0
.symbol_state$counters <- list()

new_node_id <- function() {
  .symbol_state$next_id <- .symbol_state$next_id + 1
  .symbol_state$next_id
}

# MXNet's automatic name: the lower-cased op name and a per-session counter per op.
auto_name <- function(hint) {
  n <- .symbol_state$counters[[hint]]
  if (is.null(n)) n <- 0
  .symbol_state$counters[[hint]] <- n + 1
  paste0(hint, n)
}

new_node <- function(op, name, attrs = list(), params = NULL, inputs = list()) {
  list(id = new_node_id(), op = op, name = name, attrs = attrs, params = params,
       inputs = inputs)
}

new_symbol <- function(heads) structure(list(heads = heads), class = "MXSymbol")

sym_heads <- function(sym) .subset2(sym, "heads")

check_name <- function(name, call) {
  if (!is.character(name) || length(name) != 1 || is.na(name) || !nzchar(name)) {
    deconv_abort("name", "expected a single non-empty string", call = call)
  }
  name
}

#' Symbols: lazy graphs of transposed convolutions
#'
#' `mx.symbol.Variable()` makes a named input of a graph (data or a parameter). Symbols
#' are combined with [mx.symbol.Deconvolution()] into graphs that can be
#' shape-inferred ([mx.symbol.infer.shape()]), saved as MXNet JSON
#' ([mx.symbol.save()]) and run ([mx.simple.bind()], [mx.symbol.eval()]), as in
#' MXNet R.
#'
#' `arguments()` lists the graph's inputs in MXNet's order (depth first: each layer's
#' data, weight and bias), `outputs()` its outputs (`<name>_output` for an operator).
#' `sym$arguments`, `sym$outputs`, `sym$as.json()`, `sym$save(file)` and
#' `sym$infer.shape(list(...))` work as in MXNet R.
#'
#' @param name Name of the variable (a single string).
#' @param x An object.
#' @return `mx.symbol.Variable()`: an `MXSymbol`. `arguments()` and `outputs()`: character
#'   vectors. `is.mx.symbol()`: `TRUE` or `FALSE`.
#' @examples
#' data <- mx.symbol.Variable("data")
#' up <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                               num.filter = 8, no.bias = FALSE, name = "up")
#' arguments(up)
#' outputs(up)
#' is.mx.symbol(up)
#' up
#' @export
mx.symbol.Variable <- function(name) {
  call <- sys.call()
  if (missing(name)) deconv_abort("name", "required: the variable's name", call = call)
  new_symbol(list(new_node("null", check_name(name, call))))
}

#' @rdname mx.symbol.Variable
#' @export
is.mx.symbol <- function(x) inherits(x, "MXSymbol")

#' @rdname mx.symbol.Variable
#' @export
arguments <- function(x) {
  check_symbol(x, "x", sys.call())
  symbol_arguments(x)
}

#' @rdname mx.symbol.Variable
#' @export
outputs <- function(x) {
  check_symbol(x, "x", sys.call())
  symbol_outputs(x)
}

check_symbol <- function(x, arg, call) {
  if (!is.mx.symbol(x)) {
    deconv_abort(arg, paste0("expected a symbol (mx.symbol.Variable(), mx.symbol.Deconvolution() ",
                             "or mx.symbol.load()), got ", class(x)[1]), call = call)
  }
  x
}

# All nodes of a symbol, each once, in MXNet's depth-first post-order.
graph_nodes <- function(sym) {
  seen <- new.env(parent = emptyenv())
  out <- list()
  visit <- function(node) {
    key <- as.character(node$id)
    if (!is.null(seen[[key]])) return()
    seen[[key]] <- TRUE
    for (inp in node$inputs) visit(inp)
    out[[length(out) + 1]] <<- node
  }
  for (h in sym_heads(sym)) visit(h)
  out
}

symbol_arguments <- function(sym) {
  nodes <- graph_nodes(sym)
  vapply(Filter(function(n) n$op == "null", nodes), function(n) n$name, "")
}

node_output_name <- function(node) {
  if (node$op == "null") node$name else paste0(node$name, "_output")
}

symbol_outputs <- function(sym) vapply(sym_heads(sym), node_output_name, "")

# Runs expr; a deconv error, or a core error value, is re-signalled with the node named.
with_node <- function(expr, node_name, call, op = "Deconvolution") {
  where <- sprintf(" (%s node '%s')", op, node_name)
  result <- tryCatch(expr, deconv_error = identity)
  if (inherits(result, "deconv_core_error")) {
    classes <- c(result$class, "deconv_error")
    message <- result$message
  } else if (inherits(result, "deconv_error")) {
    classes <- setdiff(class(result), c("error", "condition"))
    message <- conditionMessage(result)
  } else {
    return(result)
  }
  stop(errorCondition(paste0(message, where), class = classes, call = call))
}

#' @export
`$.MXSymbol` <- function(x, name) {
  switch(name,
    arguments = symbol_arguments(x),
    outputs = symbol_outputs(x),
    auxiliary.states = character(0),
    as.json = function() as.json(x),
    save = function(fname) mx.symbol.save(x, fname),
    infer.shape = function(shapes) do.call(mx.symbol.infer.shape, c(list(x), shapes)),
    .subset2(x, name))
}

#' @export
print.MXSymbol <- function(x, ...) {
  nodes <- graph_nodes(x)
  cat(sprintf("MXSymbol with %d node%s; outputs: %s\n", length(nodes),
              if (length(nodes) == 1) "" else "s", paste(symbol_outputs(x), collapse = ", ")))
  args <- symbol_arguments(x)
  cat("arguments:", if (length(args)) paste(args, collapse = ", ") else "(none)", "\n")
  width <- max(nchar(vapply(nodes, function(n) n$name, "")))
  for (n in nodes) {
    if (n$op == "null") {
      cat(sprintf("  %-*s  Variable\n", width, n$name))
    } else {
      ins <- paste(vapply(n$inputs, function(i) i$name, ""), collapse = ", ")
      cat(sprintf("  %-*s  %s(%s)\n", width, n$name, n$op, ins))
      desc <- describe_params(n)
      if (nzchar(desc)) cat(sprintf("  %-*s    %s\n", width, "", desc))
    }
  }
  invisible(x)
}
