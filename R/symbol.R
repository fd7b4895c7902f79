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
#' Graphs of any depth work (every walk over a graph is iterative). A symbol is a plain
#' list, so it can be altered or forged: every function checks the nodes it walks and
#' refuses a malformed symbol with a `deconv_param_error` naming the argument. Two
#' variables may have the same name (both are listed, as in MXNet), but such a symbol
#' cannot be shape-inferred or bound.
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
  call <- sys.call()
  symbol_arguments(graph_nodes(x, "x", call))
}

#' @rdname mx.symbol.Variable
#' @export
outputs <- function(x) {
  call <- sys.call()
  heads <- check_symbol(x, "x", call)
  for (h in heads) check_node(h, "x", call)
  vapply(heads, node_output_name, "")
}

# The heads of a symbol, checked to be a non-empty list of lists; the nodes themselves
# are checked by the walk (graph_nodes).
check_symbol <- function(x, arg, call) {
  if (!is.mx.symbol(x)) {
    deconv_abort(arg, paste0("expected a symbol (mx.symbol.Variable(), mx.symbol.Deconvolution() ",
                             "or mx.symbol.load()), got ", describe_value(x)), call = call)
  }
  heads <- if (is.list(x)) .subset2(x, "heads")
  if (!is.list(heads) || is.object(heads) || !length(heads) ||
      !all(vapply(heads, function(h) is.list(h) && !is.object(h), TRUE))) {
    deconv_abort(arg, paste0("not a valid symbol: its heads are ", describe_value(heads),
                             ", not a non-empty list of nodes"), call = call)
  }
  heads
}

# A name for messages: quoted, at most 40 characters.
node_label <- function(name) {
  if (is.character(name) && length(name) == 1 && !is.na(name)) describe_value(name)
  else "(unnamed)"
}

# One node's fields, checked without looking at its inputs' fields (the walk visits
# them). A symbol can be hand-made or altered, so nothing is trusted.
check_node <- function(node, arg, call) {
  bad <- function(detail) {
    deconv_abort(arg, paste0("not a valid symbol: ", detail), call = call)
  }
  if (!is.list(node) || is.object(node)) bad(paste("a node is", describe_value(node)))
  name <- node[["name"]]
  if (!is.character(name) || length(name) != 1 || is.na(name) || !nzchar(name)) {
    bad(paste("a node's name is", describe_value(name)))
  }
  id <- node[["id"]]
  if (!is.numeric(id) || is.object(id) || length(id) != 1 || !is.finite(id)) {
    bad(sprintf("node %s has id %s, not a number", node_label(name), describe_value(id)))
  }
  op <- node[["op"]]
  if (!is.character(op) || length(op) != 1 || is.na(op) || !op %in% c("null", "Deconvolution")) {
    bad(sprintf("node %s has op %s; symbols hold \"null\" (variables) and \"Deconvolution\" nodes",
                node_label(name), describe_value(op)))
  }
  attrs <- node[["attrs"]]
  if (length(attrs) || !is.null(attrs) && !is.list(attrs)) {
    if (!is.list(attrs) || is.object(attrs) || is.null(names(attrs)) ||
        !all(nzchar(names(attrs))) || !all(vapply(attrs, is.character, NA)) ||
        !all(lengths(attrs) == 1L) || anyNA(unlist(attrs))) {
      bad(sprintf("node %s has attrs %s, not a named list of strings", node_label(name),
                  describe_value(attrs)))
    }
  }
  inputs <- node[["inputs"]]
  if (!is.list(inputs) || is.object(inputs)) {
    bad(sprintf("node %s has inputs %s, not a list of nodes", node_label(name), describe_value(inputs)))
  }
  want <- 0L
  if (op == "Deconvolution") {
    params <- node[["params"]]
    if (!is.list(params) || is.object(params) ||
        any(vapply(params, is.recursive, NA))) {
      bad(sprintf("node %s has params %s, not a list of parameter values", node_label(name),
                  describe_value(params)))
    }
    no_bias <- params[["no_bias"]]
    if (!is.logical(no_bias) || length(no_bias) != 1 || is.na(no_bias)) {
      bad(sprintf("node %s has no_bias %s, not TRUE or FALSE", node_label(name),
                  describe_value(no_bias)))
    }
    want <- if (no_bias) 2L else 3L
  }
  if (length(inputs) != want) {
    bad(sprintf("node %s (%s) has %d inputs, expected %d", node_label(name), op, length(inputs), want))
  }
  # (An input's own fields, and its class, are checked when the walk reaches it.)
  if (want && !all(vapply(inputs, is.list, NA))) {
    i <- which(!vapply(inputs, is.list, NA))[1]
    bad(sprintf("input %d of node %s is %s, not a node", i, node_label(name),
                describe_value(inputs[[i]])))
  }
  node
}

is_string <- function(v) is.character(v) && length(v) == 1 && !is.na(v)

# A node met again under an id already seen must be that node: same fields, same inputs.
check_same_node <- function(node, first, arg, call) {
  same <- identical(node[["op"]], first[["op"]]) && identical(node[["name"]], first[["name"]]) &&
    identical(node[["attrs"]], first[["attrs"]]) && identical(node[["params"]], first[["params"]]) &&
    identical(input_ids(node), input_ids(first))
  if (!same) {
    deconv_abort(arg, sprintf(paste0("not a valid symbol: two different nodes (%s and %s) have ",
                                     "the same id %s"), node_label(first[["name"]]),
                              node_label(node[["name"]]), describe_value(node[["id"]])),
                 call = call)
  }
}

input_ids <- function(node) vapply(node[["inputs"]], function(i) as.double(i[["id"]])[1], 0)

# All nodes of a symbol, each once, in MXNet's depth-first post-order, each checked
# (check_node). Iterative, with an explicit stack, so graphs of any depth work. Nodes
# are kept in environments, not stored into lists with `[[<-`: R checks a list stored
# into a list for cycles by walking all of it, which would make the walk quadratic
# (and exponential on shared subgraphs). `arg` names the symbol in messages.
graph_nodes <- function(sym, arg, call) {
  heads <- check_symbol(sym, arg, call)
  seen <- new.env(parent = emptyenv(), hash = TRUE)   # id -> the node first met
  out <- new.env(parent = emptyenv(), hash = TRUE)    # "1", "2", ... -> node, in order
  stack <- new.env(parent = emptyenv(), hash = TRUE)  # "1", "2", ... -> node being visited
  pos <- integer(64L)                                 # the next input of each to visit
  n_out <- 0L
  depth <- 0L
  for (h in heads) {
    node <- h
    repeat {
      if (!is.null(node)) {
        # A node met: checked, then pushed unless already seen.
        check_node(node, arg, call)
        key <- format_id(node[["id"]])
        first <- seen[[key]]
        if (is.null(first)) {
          assign(key, node, envir = seen)
          if (depth == length(pos)) length(pos) <- 2L * depth
          depth <- depth + 1L
          assign(as.character(depth), node, envir = stack)
          pos[depth] <- 1L
        } else {
          check_same_node(node, first, arg, call)
        }
        node <- NULL
      }
      if (depth == 0L) break
      top <- stack[[as.character(depth)]]
      i <- pos[depth]
      if (i <= length(top[["inputs"]])) {
        pos[depth] <- i + 1L
        node <- top[["inputs"]][[i]]
      } else {
        depth <- depth - 1L
        n_out <- n_out + 1L
        assign(as.character(n_out), top, envir = out)
      }
    }
  }
  unname(mget(as.character(seq_len(n_out)), envir = out))
}

format_id <- function(id) as.character(as.double(id))

# The argument names: the variables' names in graph order. Two variables may share a
# name (MXNet lists both), but such a symbol cannot be bound (check_unique_arguments).
symbol_arguments <- function(nodes) {
  is_var <- vapply(nodes, function(n) n$op == "null", TRUE)
  vapply(nodes[is_var], function(n) n$name, "")
}

# As MXNet's Module does, arguments must have distinct names to get shapes and arrays.
check_unique_arguments <- function(args, arg, call) {
  twice <- args[duplicated(args)]
  if (length(twice)) {
    deconv_abort(arg, sprintf(paste0("two different variables are named %s; give them distinct ",
                                     "names (MXNet refuses to bind such a symbol too)"),
                              describe_value(twice[1])), call = call)
  }
  args
}

node_output_name <- function(node) {
  if (node$op == "null") node$name else paste0(node$name, "_output")
}

symbol_outputs <- function(sym) vapply(sym_heads(sym), node_output_name, "")

# Runs expr; a deconv error, or a core error value, is re-signalled with the node named.
with_node <- function(expr, node_name, call, op = "Deconvolution") {
  result <- tryCatch(expr, deconv_error = identity)
  if (inherits(result, "deconv_error") || inherits(result, "deconv_core_error")) {
    node_error(result, node_name, call, op)
  }
  result
}

# Re-signals a deconv error (or core error value) with the node named. Loops over many
# nodes catch once around the loop and call this with the node they were at, since a
# tryCatch() per node costs more than the node's work on tiny layers.
node_error <- function(e, node_name, call, op = "Deconvolution") {
  if (is.null(node_name)) stop(e)
  where <- sprintf(" (%s node '%s')", op, short_text(node_name))
  if (inherits(e, "deconv_core_error")) {
    classes <- c(e$class, "deconv_error")
    message <- e$message
  } else {
    classes <- setdiff(class(e), c("error", "condition"))
    message <- conditionMessage(e)
  }
  stop(errorCondition(paste0(message, where), class = classes, call = call))
}

# At most `n` characters of a string, for messages.
short_text <- function(s, n = 40L) {
  if (nchar(s, allowNA = TRUE) %in% NA) return("<invalid string>")
  if (nchar(s) > n) paste0(substr(s, 1, n), "...") else s
}

#' @export
`$.MXSymbol` <- function(x, name) {
  switch(name,
    arguments = arguments(x),
    outputs = outputs(x),
    auxiliary.states = character(0),
    as.json = function() as.json(x),
    save = function(fname) mx.symbol.save(x, fname),
    infer.shape = function(shapes) {
      call <- sys.call()
      if (!is.list(shapes) || is.object(shapes)) {
        deconv_abort("shapes", paste0("expected a named list of dims, got ", describe_value(shapes)),
                     call = call)
      }
      infer_shape_result(x, shapes, FALSE, call)
    },
    .subset2(x, name))
}

.print_max_nodes <- 1000L

#' @export
print.MXSymbol <- function(x, ...) {
  nodes <- graph_nodes(x, "x", sys.call())
  cat(sprintf("MXSymbol with %d node%s; outputs: %s\n", length(nodes),
              if (length(nodes) == 1) "" else "s", paste(symbol_outputs(x), collapse = ", ")))
  args <- symbol_arguments(nodes)
  cat("arguments:", if (length(args)) short_list(args, .print_max_nodes) else "(none)", "\n")
  # A huge graph shows its first nodes only.
  shown <- nodes[seq_len(min(length(nodes), .print_max_nodes))]
  names <- vapply(shown, function(n) n$name, "")
  width <- max(nchar(names, type = "width", allowNA = TRUE), 1L, na.rm = TRUE)
  lines <- character(2L * length(shown) + 1L)
  for (k in seq_along(shown)) {
    n <- nodes[[k]]
    if (n$op == "null") {
      lines[2L * k - 1L] <- sprintf("  %-*s  Variable", width, n$name)
    } else {
      ins <- paste(vapply(n$inputs, function(i) i$name, ""), collapse = ", ")
      lines[2L * k - 1L] <- sprintf("  %-*s  %s(%s)", width, n$name, n$op, ins)
      desc <- describe_params(n)
      if (nzchar(desc)) lines[2L * k] <- sprintf("  %-*s    %s", width, "", desc)
    }
  }
  if (length(nodes) > length(shown)) {
    lines[length(lines)] <- sprintf("  ... and %d more nodes", length(nodes) - length(shown))
  }
  lines <- lines[nzchar(lines)]
  if (length(lines)) cat(lines, sep = "\n")
  invisible(x)
}
