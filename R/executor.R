# Executors: a bound symbol with its argument, gradient and output arrays (MXNet R's
# mx.simple.bind / mx.exec.* API). An executor is an environment of class "MXExecutor",
# so the mx.exec.* functions update it in place. Forward and backward run each
# Deconvolution node through executor_ops() (R/gpu-arrays.R): the core's entries, with
# node values kept on the executor's device.

#' Bind a symbol to arrays and run it forward and backward
#'
#' `mx.simple.bind()` infers every argument's shape from the shapes given in `...`
#' (R order), allocates zero argument arrays and gradient arrays, and returns an
#' executor, as MXNet R does. `mx.exec.update.arg.arrays()` copies values into the
#' argument arrays (`mx.exec.update.grad.arrays()` into the gradient arrays),
#' `mx.exec.forward()` computes `exec$outputs` and `mx.exec.backward()` fills
#' `exec$grad.arrays` with the gradients of the outputs, given the gradients with
#' respect to the outputs (`out.grads`).
#'
#' `grad.req` says, per argument, whether its gradient is not computed (`"null"`),
#' written (`"write"`) or added to the gradient array (`"add"`, which accumulates over
#' backward calls). A single string applies MXNet R's rule: it is used for every argument
#' except those whose names end in `data` or `label` and those in `fixed.param`, which
#' get `"null"`. A named character vector or list gives the request per argument (e.g.
#' `c(data = "write", up1_weight = "add")`); arguments it does not name get `"null"`.
#'
#' The executor is an environment of class `MXExecutor` with `arg.arrays`,
#' `grad.arrays` (`NULL` for arguments whose request is `"null"`), `aux.arrays` (empty),
#' `outputs` (named `<name>_output`), `grad.req`, `symbol`, `ctx` and `dtype`; MXNet R's
#' `ref.arg.arrays`, `ref.grad.arrays`, `ref.aux.arrays` and `ref.outputs` read the same.
#' Every `mx.exec.*` call checks the executor first (its fields may have been replaced);
#' an inconsistent one is an error naming `exec`. Arrays are numeric (integers are
#' converted to doubles); a symbol whose variables do not have distinct names cannot be
#' bound.
#'
#' @param symbol An `MXSymbol`.
#' @param ctx Device: `"cpu"`, `"gpu"`, [mx.cpu()] or [mx.gpu()].
#' @param grad.req `"null"`, `"write"` or `"add"`, or a named vector or list of them.
#'   The default `"write"` gives the parameters gradients (MXNet R's default is `"null"`,
#'   which training scripts always override).
#' @param fixed.param `NULL` or names of arguments (a character vector) that get no
#'   gradient, whatever `grad.req` says.
#' @param ... Input shapes, named by argument, in R order (`data = c(8, 8, 3, 1)`).
#' @param dtype `"float64"` or `"float32"` (computes in single precision, returns
#'   doubles), as for [deconvolution()].
#' @return `mx.simple.bind()`: an `MXExecutor`. The `mx.exec.*` functions update the
#'   executor in place and return it invisibly.
#' @seealso [mx.symbol.eval()] for a one-call forward evaluation.
#' @examples
#' data <- mx.symbol.Variable("data")
#' up <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                               num.filter = 2, no.bias = FALSE, name = "up")
#' exec <- mx.simple.bind(up, ctx = mx.cpu(), grad.req = "write", data = c(3, 3, 1, 1))
#' names(exec$arg.arrays)
#' mx.exec.update.arg.arrays(exec, list(up_weight = array(0.1, c(4, 4, 2, 1)),
#'                                      data = array(1, c(3, 3, 1, 1))), match.name = TRUE)
#' mx.exec.forward(exec, is.train = TRUE)
#' dim(exec$outputs$up_output)
#' mx.exec.backward(exec, array(1, dim(exec$outputs$up_output)))
#' exec$grad.arrays$up_bias
#' @export
mx.simple.bind <- function(symbol, ctx = "cpu", grad.req = "write", fixed.param = NULL, ...,
                           dtype = "float64") {
  call <- sys.call()
  bind_symbol(symbol, ctx, grad.req, fixed.param, list(...), dtype, call)
}

check_dtype <- function(dtype, arg, call) {
  if (!is.character(dtype) || length(dtype) != 1 || is.na(dtype) ||
      !dtype %in% c("float64", "float32")) {
    deconv_abort(arg, paste0("expected \"float64\" or \"float32\", got ", describe_value(dtype)),
                 call = call)
  }
  dtype
}

bind_symbol <- function(symbol, ctx, grad.req, fixed.param, shapes, dtype, call,
                        nodes = graph_nodes(symbol, "symbol", call)) {
  ctx_parsed <- parse_ctx(ctx, call)
  check_dtype(dtype, "dtype", call)
  shapes <- infer_shapes(nodes, sym_heads(symbol), shapes, call)
  unknown <- names(Filter(is.null, shapes$arg.shapes))
  if (length(unknown)) {
    deconv_abort(unknown[1], paste0("need more shape information: the dims of ",
                                    short_list(unknown), " cannot be inferred; give them as name = dims"),
                 class = "deconv_shape_error", call = call)
  }
  args <- names(shapes$arg.shapes)
  reqs <- resolve_grad_req(grad.req, args, fixed.param, call)
  exec <- new.env(parent = emptyenv())
  exec$symbol <- symbol
  exec$ctx <- if (ctx_parsed$device == "gpu") mx.gpu(ctx_parsed$id) else mx.cpu(ctx_parsed$id)
  exec$dtype <- dtype
  exec$grad.req <- reqs
  exec$arg.arrays <- lapply(shapes$arg.shapes, function(s) array(0, dim = s))
  exec$grad.arrays <- stats::setNames(Map(function(r, s) if (r != "null") array(0, dim = s),
                                           unname(reqs), shapes$arg.shapes), args)
  exec$aux.arrays <- stats::setNames(list(), character(0))
  exec$outputs <- NULL
  exec$.values <- NULL
  # MXNet R's live views (ref.outputs etc.); here the same arrays as the plain fields.
  for (f in c("arg.arrays", "grad.arrays", "aux.arrays", "outputs")) {
    local({
      field <- f
      makeActiveBinding(paste0("ref.", field), function() exec[[field]], exec)
    })
  }
  class(exec) <- "MXExecutor"
  exec
}

# Per argument, "null", "write" or "add". A single string follows MXNet R's rule (no
# gradient for *data, *label and fixed.param); a named vector or list gives them by name.
resolve_grad_req <- function(grad.req, args, fixed.param, call) {
  valid <- c("null", "write", "add")
  bad <- function(detail) deconv_abort("grad.req", detail, call = call)
  if (is.list(grad.req) && !is.object(grad.req)) {
    if (!length(grad.req) || !all(vapply(grad.req, is_string, TRUE))) {
      bad(paste0("expected a list of single strings, got ", describe_value(grad.req)))
    }
    grad.req <- stats::setNames(vapply(grad.req, identity, ""), names(grad.req))
  }
  if (!is.character(grad.req) || is.object(grad.req) || !length(grad.req) || anyNA(grad.req)) {
    bad(paste0("expected \"null\", \"write\" or \"add\", or a named vector of them per argument, got ",
               describe_value(grad.req)))
  }
  if (!all(grad.req %in% valid)) {
    bad(sprintf("expected \"null\", \"write\" or \"add\", got %s",
                describe_value(grad.req[!grad.req %in% valid][1])))
  }
  fixed <- check_fixed_param(fixed.param, args, call)
  nm <- names(grad.req)
  if (is.null(nm)) {
    if (length(grad.req) != 1) bad("a vector of requests must be named by argument")
    reqs <- stats::setNames(rep(grad.req, length(args)), args)
    reqs[grepl("(data|label)$", args)] <- "null"
  } else {
    if (any(is.na(nm) | !nzchar(nm))) bad("every request in a vector must be named by its argument")
    twice <- nm[duplicated(nm)]
    if (length(twice)) bad(paste0("the request for ", describe_value(twice[1]), " is given twice"))
    if (!all(nm %in% args)) {
      deconv_abort(nm[!nm %in% args][1], paste0("not an argument of the symbol; its arguments are ",
                                                short_list(args)), call = call)
    }
    reqs <- stats::setNames(rep("null", length(args)), args)
    reqs[nm] <- unname(grad.req)
  }
  reqs[args %in% fixed] <- "null"
  reqs
}

check_fixed_param <- function(fixed.param, args, call) {
  if (is.null(fixed.param)) return(character(0))
  if (!is.character(fixed.param) || is.object(fixed.param) || anyNA(fixed.param)) {
    deconv_abort("fixed.param", paste0("expected NULL or argument names (a character vector), got ",
                                       describe_value(fixed.param)), call = call)
  }
  unknown <- setdiff(fixed.param, args)
  if (length(unknown)) {
    deconv_abort("fixed.param", sprintf("%s is not an argument of the symbol; its arguments are %s",
                                        describe_value(unknown[1]), short_list(args)), call = call)
  }
  fixed.param
}

#' @rdname mx.simple.bind
#' @param exec An `MXExecutor` from [mx.simple.bind()].
#' @param arg.arrays A list of numeric arrays: one per argument in order, or named when
#'   `match.name = TRUE`.
#' @param match.name `TRUE` or `FALSE`: match the list's names to the argument names
#'   (otherwise the list is positional and must have one entry per argument).
#' @param skip.null `TRUE` or `FALSE`: skip `NULL` entries (otherwise they are an error).
#' @export
mx.exec.update.arg.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE) {
  call <- sys.call()
  update_arrays(exec, "arg.arrays", arg.arrays, match.name, skip.null, call)
}

#' @rdname mx.simple.bind
#' @param grad.arrays As `arg.arrays`, for the gradient arrays (arguments whose request
#'   is not `"null"`).
#' @export
mx.exec.update.grad.arrays <- function(exec, grad.arrays, match.name = FALSE, skip.null = FALSE) {
  call <- sys.call()
  update_arrays(exec, "grad.arrays", grad.arrays, match.name, skip.null, call)
}

update_arrays <- function(exec, field, values, match.name, skip.null, call,
                          st = check_executor(exec, call)) {
  check_flag(match.name, "match.name", call)
  check_flag(skip.null, "skip.null", call)
  current <- st[[field]]
  targets <- st$args
  if (field == "grad.arrays") targets <- targets[st$reqs[targets] != "null"]
  if (!is.list(values) || is.object(values)) {
    deconv_abort(field, paste0("expected a list of arrays, got ", describe_value(values)), call = call)
  }
  if (match.name) {
    nm <- names(values)
    if (is.null(nm) || any(is.na(nm) | !nzchar(nm))) {
      deconv_abort(field, "with match.name = TRUE every array must be named", call = call)
    }
    twice <- nm[duplicated(nm)]
    if (length(twice)) deconv_abort(twice[1], "array given twice; give it once", call = call)
    if (!all(nm %in% targets)) {
      deconv_abort(nm[!nm %in% targets][1], paste0(
        "not an argument", if (field == "grad.arrays") " with a gradient", "; expected one of ",
        short_list(targets)), call = call)
    }
  } else {
    if (length(values) != length(targets)) {
      deconv_abort(field, sprintf("expected %d arrays (%s), in order, got %d; or name them and use match.name = TRUE",
                                  length(targets), short_list(targets), length(values)),
                   call = call)
    }
    names(values) <- targets
  }
  # Positions, not names: a lookup by name is linear in the number of arguments.
  at <- match(names(values), st$args)
  for (k in seq_along(values)) {
    v <- values[[k]]
    nm <- st$args[at[k]]
    if (is.null(v)) {
      if (skip.null) next
      deconv_abort(nm, "NULL given; use skip.null = TRUE to leave it unchanged", call = call)
    }
    current[[at[k]]] <- as_arg_array(v, dim(st$arg.arrays[[at[k]]]), nm, call)
  }
  exec[[field]] <- current
  invisible(exec)
}

# A numeric value for an array of dim `want` (a vector is accepted for a 1-d array).
as_arg_array <- function(v, want, arg, call) {
  v <- as_numeric_array(v, arg, call)
  got <- if (is.null(dim(v))) length(v) else dim(v)
  if (!identical(as.integer(got), as.integer(want)) || (is.null(dim(v)) && length(want) != 1)) {
    deconv_abort(arg, sprintf("expected an array with dim = %s, got %s", dims_string(want),
                              if (is.null(dim(v))) sprintf("a vector of length %d", length(v))
                              else paste("dim =", dims_string(dim(v)))),
                 class = "deconv_shape_error", call = call)
  }
  array(as.double(v), dim = want)
}

# The executor's fields, checked: an executor is an environment, so any field may have
# been removed or replaced. Returns what the mx.exec.* functions use: nodes, heads,
# args, ctx, dtype, reqs and the arrays (integers converted to doubles).
check_executor <- function(exec, call) {
  if (!inherits(exec, "MXExecutor") || !is.environment(exec)) {
    deconv_abort("exec", paste0("expected an executor from mx.simple.bind(), got ",
                                describe_value(exec)), call = call)
  }
  bad <- function(detail) deconv_abort("exec", paste0("not a valid executor: ", detail), call = call)
  field <- function(name) get0(name, envir = exec, inherits = FALSE)
  symbol <- field("symbol")
  if (!is.mx.symbol(symbol)) bad(paste0("its symbol is ", describe_value(symbol)))
  nodes <- graph_nodes(symbol, "exec", call)
  args <- check_unique_arguments(symbol_arguments(nodes), "exec", call)
  ctx <- tryCatch(parse_ctx(field("ctx"), call), deconv_error = function(e) {
    bad(paste0("its ctx is ", describe_value(field("ctx"))))
  })
  dtype <- field("dtype")
  if (!is_string(dtype) || !dtype %in% c("float64", "float32")) bad(paste0("its dtype is ", describe_value(dtype)))
  reqs <- field("grad.req")
  if (!is.character(reqs) || is.object(reqs) || !identical(names(reqs), args) ||
      anyNA(reqs) || !all(reqs %in% c("null", "write", "add"))) {
    bad("its grad.req is not one request per argument of its symbol")
  }
  arg_arrays <- check_exec_arrays(field("arg.arrays"), "arg.arrays", args, NULL, bad)
  want <- lapply(arg_arrays, dim)
  want[reqs == "null"] <- list(NULL)
  grad_arrays <- check_exec_arrays(field("grad.arrays"), "grad.arrays", args, want, bad)
  list(nodes = nodes, heads = sym_heads(symbol), args = args, ctx = ctx, dtype = dtype,
       reqs = reqs, arg.arrays = arg_arrays, grad.arrays = grad_arrays, bad = bad)
}

# A list of arrays, one per argument; with `want`, of those dims (NULL: no array).
check_exec_arrays <- function(arrays, what, args, want, bad) {
  if (!is.list(arrays) || is.object(arrays) || !identical(names(arrays), args)) {
    bad(sprintf("its %s is not a list with one entry per argument of its symbol", what))
  }
  for (k in seq_along(arrays)) {
    a <- arrays[[k]]
    w <- if (is.null(want)) NULL else want[[k]]
    if (!is.null(want) && is.null(w)) {
      if (!is.null(a)) bad(sprintf("its %s$%s should be NULL (grad.req \"null\")", what, args[k]))
      next
    }
    if (!is.numeric(a) || is.object(a) || !typeof(a) %in% c("double", "integer") ||
        is.null(dim(a)) || (!is.null(w) && !identical(dim(a), w))) {
      bad(sprintf("its %s$%s is %s, not a numeric array%s", what, args[k], describe_value(a),
                  if (is.null(w)) "" else paste(" with dim =", dims_string(w))))
    }
    if (is.integer(a)) {
      storage.mode(a) <- "double"
      arrays[[k]] <- a
    }
  }
  arrays
}

#' @rdname mx.simple.bind
#' @param is.train `TRUE` or `FALSE`: whether the forward pass is for training (kept
#'   for MXNet compatibility; Deconvolution computes the same either way).
#' @export
mx.exec.forward <- function(exec, is.train = TRUE) {
  call <- sys.call()
  st <- check_executor(exec, call)
  check_flag(is.train, "is.train", call)
  run_forward(exec, st, call)
}

run_forward <- function(exec, st, call) {
  ops <- executor_ops(st$ctx, st$dtype, call)
  values <- new.env(parent = emptyenv(), hash = TRUE)
  at <- node_arg_positions(st$nodes, st$args)
  current <- NULL                                  # the operator being run, for errors
  tryCatch(for (k in seq_along(st$nodes)) {
    n <- st$nodes[[k]]
    key <- format_id(n$id)
    values[[key]] <- if (n$op == "null") {
      ops$put(st$arg.arrays[[at[k]]])
    } else {
      current <- n$name
      ins <- lapply(n$inputs, function(i) values[[format_id(i$id)]])
      ops$forward(ins[[1]], ins[[2]], if (length(ins) > 2) ins[[3]], n$params)
    }
    current <- NULL
  }, deconv_error = function(e) node_error(e, current, call))
  exec$outputs <- stats::setNames(lapply(st$heads, function(h) ops$get(values[[format_id(h$id)]])),
                                  vapply(st$heads, node_output_name, ""))
  # Node values stay where they were computed (on the GPU for a GPU executor) for
  # backward, with the symbol they belong to.
  exec$.values <- values
  exec$.forward.symbol <- exec$symbol
  invisible(exec)
}

#' @rdname mx.simple.bind
#' @param out.grads Gradients with respect to the outputs: a numeric array (one
#'   output) or a list of them, one per output, shaped as the outputs (named by output,
#'   or in order). `NULL` uses ones (the gradients of the sum of the outputs).
#' @export
mx.exec.backward <- function(exec, out.grads = NULL) {
  call <- sys.call()
  st <- check_executor(exec, call)
  fwd <- check_forward_values(exec, st, call)
  out.grads <- check_out_grads(out.grads, fwd$out_dims, call)
  ops <- executor_ops(st$ctx, st$dtype, call)
  at <- node_arg_positions(st$nodes, st$args)
  req_of <- unname(st$reqs)[at]                    # per node; NA for operators
  needs <- nodes_needing_gradients(st$nodes, req_of)
  grads <- backpropagate(st, fwd$values, needs, out.grads, ops, call)
  exec$grad.arrays <- updated_grad_arrays(st, grads, at, req_of, ops)
  invisible(exec)
}

# The values of the last forward pass, checked to belong to the executor's symbol, and
# the dims of its outputs.
check_forward_values <- function(exec, st, call) {
  values <- get0(".values", envir = exec, inherits = FALSE)
  if (is.null(values)) {
    deconv_abort("exec", "no forward pass to differentiate: call mx.exec.forward() first",
                 call = call)
  }
  outs <- get0("outputs", envir = exec, inherits = FALSE)
  if (!is.environment(values) || !identical(get0(".forward.symbol", envir = exec, inherits = FALSE),
                                            exec$symbol) ||
      !is.list(outs) || length(outs) != length(st$heads)) {
    st$bad("its forward values do not belong to its symbol; call mx.exec.forward() again")
  }
  out_dims <- lapply(outs, function(o) {
    if (!is.numeric(o) || is.null(dim(o))) st$bad("its outputs are not arrays; call mx.exec.forward() again")
    dim(o)
  })
  list(values = values, out_dims = out_dims)
}

# needs[id]: some argument with a gradient request lies upstream of the node.
nodes_needing_gradients <- function(nodes, req_of) {
  needs <- new.env(parent = emptyenv(), hash = TRUE)
  for (k in seq_along(nodes)) {
    n <- nodes[[k]]
    needs[[format_id(n$id)]] <- if (n$op == "null") req_of[k] != "null"
      else any(vapply(n$inputs, function(i) needs[[format_id(i$id)]], TRUE))
  }
  needs
}

# The gradient of every node that needs one (an environment by node id, values as `ops`
# holds them), from the heads' out.grads back through the operators in reverse order.
backpropagate <- function(st, values, needs, out.grads, ops, call) {
  value_of <- function(node) {
    v <- values[[format_id(node$id)]]
    if (is.null(v)) st$bad("its forward values are incomplete; call mx.exec.forward() again")
    v
  }
  grads <- new.env(parent = emptyenv(), hash = TRUE)
  add_grad <- function(node, g) {
    key <- format_id(node$id)
    grads[[key]] <- if (is.null(grads[[key]])) g else ops$add(grads[[key]], g)
  }
  for (i in seq_along(st$heads)) add_grad(st$heads[[i]], ops$put(out.grads[[i]]))
  current <- NULL
  tryCatch(for (n in rev(st$nodes)) {
    key <- format_id(n$id)
    if (n$op == "null" || !needs[[key]] || is.null(grads[[key]])) next
    ins <- lapply(n$inputs, value_of)
    want <- vapply(n$inputs, function(i) needs[[format_id(i$id)]], TRUE)
    current <- n$name
    g <- ops$backward(grads[[key]], ins[[1]], ins[[2]], if (length(ins) > 2) ins[[3]],
                      n$params, want[1], want[2])
    for (i in which(want)) add_grad(n$inputs[[i]], g[[c("data", "weight", "bias")[i]]])
    current <- NULL
  }, deconv_error = function(e) node_error(e, current, call))
  grads
}

# The executor's gradient arrays with each requested argument's gradient written
# ("write") or added ("add"); an argument no gradient reached gets zeros.
updated_grad_arrays <- function(st, grads, at, req_of, ops) {
  grad_arrays <- st$grad.arrays
  for (k in seq_along(st$nodes)) {
    n <- st$nodes[[k]]
    if (n$op != "null" || req_of[k] == "null") next
    shape <- dim(st$arg.arrays[[at[k]]])
    g <- grads[[format_id(n$id)]]
    g <- if (is.null(g)) array(0, dim = shape) else ops$get(g)
    if (!identical(as.integer(dim(g) %||% length(g)), as.integer(shape)) &&
        !(length(shape) == 1 && length(g) == shape)) {
      st$bad(sprintf("the gradient of %s has dim %s, not its array's %s", n$name,
                     dims_string(dim(g) %||% length(g)), dims_string(shape)))
    }
    g <- array(as.double(g), dim = shape)
    grad_arrays[[at[k]]] <- if (req_of[k] == "add") grad_arrays[[at[k]]] + g else g
  }
  grad_arrays
}

# For each node, its argument's position in `args` (NA for operators).
node_arg_positions <- function(nodes, args) {
  match(vapply(nodes, function(n) if (n$op == "null") n$name else NA_character_, ""), args)
}

# out.grads as a list of double arrays, one per output in order, of the outputs' dims.
check_out_grads <- function(out.grads, out_dims, call) {
  outs <- names(out_dims)
  if (is.null(out.grads)) return(lapply(out_dims, function(d) array(1, dim = d)))
  if (!is.list(out.grads) || is.object(out.grads)) out.grads <- list(out.grads)
  if (length(out.grads) != length(out_dims)) {
    deconv_abort("out.grads", sprintf("expected %d arrays (one per output: %s), got %d",
                                      length(out_dims), short_list(outs), length(out.grads)),
                 call = call)
  }
  nm <- names(out.grads)
  if (!is.null(nm) && all(nzchar(nm)) && !anyNA(nm)) {
    if (anyDuplicated(outs) || !setequal(nm, outs) || anyDuplicated(nm)) {
      deconv_abort("out.grads", paste0("named arrays must be named by the outputs (",
                                       short_list(outs), "), each once"), call = call)
    }
    out.grads <- out.grads[outs]
  }
  for (i in seq_along(out_dims)) {
    g <- out.grads[[i]]
    if (is.mx.symbol(g) || !is.numeric(g)) {
      deconv_abort("out.grads", sprintf("expected a numeric array for %s, got %s", outs[i],
                                        describe_value(g)), call = call)
    }
    g <- as_numeric_array(g, "out.grads", call)
    got <- dim(g) %||% length(g)
    if (!identical(as.integer(got), as.integer(out_dims[[i]]))) {
      deconv_abort("out.grads", sprintf("expected dim = %s for %s (the output's), got %s",
                                        dims_string(out_dims[[i]]), outs[i], dims_string(got)),
                   class = "deconv_shape_error", call = call)
    }
    out.grads[[i]] <- array(as.double(g), dim = out_dims[[i]])
  }
  unname(out.grads)
}

#' @export
print.MXExecutor <- function(x, ...) {
  st <- check_executor(x, sys.call())
  cat(sprintf("MXExecutor on %s(%d), %s; outputs: %s\n", st$ctx$device, st$ctx$id, st$dtype,
              paste(vapply(st$heads, node_output_name, ""), collapse = ", ")))
  shown <- seq_len(min(length(st$args), .print_max_nodes))
  lines <- vapply(shown, function(k) {
    sprintf("  %-20s dim %-18s grad.req %s", st$args[k], dims_string(dim(st$arg.arrays[[k]])),
            st$reqs[k])
  }, "")
  if (length(st$args) > length(shown)) {
    lines <- c(lines, sprintf("  ... and %d more arguments", length(st$args) - length(shown)))
  }
  cat(lines, sep = "\n")
  if (is.null(get0("outputs", envir = x, inherits = FALSE))) cat("  (not run yet: mx.exec.forward())\n")
  invisible(x)
}

#' Evaluate a symbol on arrays in one call
#'
#' Binds `symbol` to the arrays in `args` (one per argument, named by argument), runs
#' it forward and returns the output: the one-call form of [mx.simple.bind()],
#' [mx.exec.update.arg.arrays()] and [mx.exec.forward()].
#'
#' @param symbol An `MXSymbol`.
#' @param args A named list of numeric arrays, one per argument of the symbol, each
#'   named once (integers are converted to doubles).
#' @inheritParams mx.simple.bind
#' @param simplify `TRUE` or `FALSE`: return the array itself when the symbol has one
#'   output.
#' @return The output array (R dim order), or a named list of them.
#' @examples
#' data <- mx.symbol.Variable("data")
#' up <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                               num.filter = 1, name = "up")
#' x <- array(as.numeric(1:16), dim = c(4, 4, 1, 1))
#' y <- mx.symbol.eval(up, list(data = x, up_weight = bilinear_kernel(c(4, 4))))
#' dim(y)
#' @export
mx.symbol.eval <- function(symbol, args, ctx = "cpu", dtype = "float64", simplify = TRUE) {
  call <- sys.call()
  nodes <- graph_nodes(symbol, "symbol", call)
  check_flag(simplify, "simplify", call)
  if (!is.list(args) || is.object(args) ||
      (length(args) && (is.null(names(args)) || any(is.na(names(args)) | !nzchar(names(args)))))) {
    deconv_abort("args", paste0("expected a named list of arrays, one per argument, got ",
                                describe_value(args)), call = call)
  }
  twice <- names(args)[duplicated(names(args))]
  if (length(twice)) deconv_abort(twice[1], "array given twice in args; give it once", call = call)
  needed <- check_unique_arguments(symbol_arguments(nodes), "symbol", call)
  missing_args <- setdiff(needed, names(args))
  if (length(missing_args)) {
    deconv_abort(missing_args[1], paste0("no array given; the symbol's arguments are ",
                                         short_list(needed)), call = call)
  }
  extra <- setdiff(names(args), needed)
  if (length(extra)) {
    deconv_abort(extra[1], paste0("not an argument of the symbol; its arguments are ",
                                  short_list(needed)), call = call)
  }
  args <- stats::setNames(lapply(seq_along(args), function(k) {
    as_numeric_array(args[[k]], names(args)[k], call)
  }), names(args))
  shapes <- lapply(args, function(a) if (is.null(dim(a))) length(a) else dim(a))
  exec <- bind_symbol(symbol, ctx, "null", NULL, shapes, dtype, call, nodes = nodes)
  st <- list(nodes = nodes, heads = sym_heads(symbol), args = needed,
             ctx = parse_ctx(exec$ctx, call), dtype = dtype, reqs = exec$grad.req,
             arg.arrays = exec$arg.arrays, grad.arrays = exec$grad.arrays)
  update_arrays(exec, "arg.arrays", args, TRUE, FALSE, call, st = st)
  st$arg.arrays <- exec$arg.arrays
  run_forward(exec, st, call)
  if (simplify && length(exec$outputs) == 1) exec$outputs[[1]] else exec$outputs
}

# a, or b when a is NULL (base R has it only from 4.4). The package's only definition;
# the tests use it too.
`%||%` <- function(a, b) if (is.null(a)) b else a
