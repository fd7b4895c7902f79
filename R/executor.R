# Executors: a bound symbol with its argument, gradient and output arrays (MXNet R's
# mx.simple.bind / mx.exec.* API). An executor is an environment of class "MXExecutor",
# so the mx.exec.* functions update it in place. Forward runs each Deconvolution node
# through the core's forward entry, backward through cpp_deconvolution_backward.

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
#'
#' @param symbol An `MXSymbol`.
#' @param ctx Device: `"cpu"`, `"gpu"`, [mx.cpu()] or [mx.gpu()].
#' @param grad.req `"null"`, `"write"` or `"add"`, or a named vector or list of them.
#'   The default `"write"` gives the parameters gradients (MXNet R's default is `"null"`,
#'   which training scripts always override).
#' @param fixed.param Names of arguments that get no gradient when `grad.req` is a
#'   single string.
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

bind_symbol <- function(symbol, ctx, grad.req, fixed.param, shapes, dtype, call) {
  check_symbol(symbol, "symbol", call)
  ctx_parsed <- parse_ctx(ctx, call)
  if (!is.character(dtype) || length(dtype) != 1 || !dtype %in% c("float64", "float32")) {
    deconv_abort("dtype", "expected \"float64\" or \"float32\"", call = call)
  }
  shapes <- infer_shapes(symbol, shapes, call)
  unknown <- names(Filter(is.null, shapes$arg.shapes))
  if (length(unknown)) {
    deconv_abort(unknown[1], paste0("need more shape information: the dims of ",
                                    paste(unknown, collapse = ", "),
                                    " cannot be inferred; give them as name = dims"),
                 class = "deconv_shape_error", call = call)
  }
  args <- names(shapes$arg.shapes)
  reqs <- resolve_grad_req(grad.req, args, fixed.param, call)
  exec <- new.env(parent = emptyenv())
  exec$symbol <- symbol
  exec$ctx <- if (inherits(ctx, "MXContext")) ctx else
    if (ctx_parsed$device == "gpu") mx.gpu(ctx_parsed$id) else mx.cpu(ctx_parsed$id)
  exec$dtype <- dtype
  exec$grad.req <- reqs
  exec$arg.arrays <- lapply(shapes$arg.shapes, function(s) array(0, dim = s))
  exec$grad.arrays <- stats::setNames(lapply(args, function(a) {
    if (reqs[[a]] != "null") array(0, dim = shapes$arg.shapes[[a]])
  }), args)
  exec$aux.arrays <- stats::setNames(list(), character(0))
  exec$outputs <- NULL
  exec$.nodes <- graph_nodes(symbol)
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

resolve_grad_req <- function(grad.req, args, fixed.param, call) {
  valid <- c("null", "write", "add")
  bad <- function(detail) deconv_abort("grad.req", detail, call = call)
  if (is.list(grad.req)) {
    if (!all(vapply(grad.req, function(v) is.character(v) && length(v) == 1, TRUE))) {
      bad("expected a list of single strings")
    }
    grad.req <- unlist(grad.req)
  }
  if (!is.character(grad.req) || !length(grad.req) || anyNA(grad.req)) {
    bad("expected \"null\", \"write\" or \"add\", or a named vector of them per argument")
  }
  if (!all(grad.req %in% valid)) {
    bad(sprintf("expected \"null\", \"write\" or \"add\", got \"%s\"",
                grad.req[!grad.req %in% valid][1]))
  }
  if (is.null(names(grad.req))) {
    if (length(grad.req) != 1) bad("a vector of requests must be named by argument")
    reqs <- stats::setNames(rep(grad.req, length(args)), args)
    fixed <- grepl("(data|label)$", args) | args %in% fixed.param
    reqs[fixed] <- "null"
    return(reqs)
  }
  nm <- names(grad.req)
  if (any(!nzchar(nm))) bad("every request in a vector must be named by its argument")
  if (!all(nm %in% args)) {
    deconv_abort(nm[!nm %in% args][1], paste0("not an argument of the symbol; its arguments are ",
                                              paste(args, collapse = ", ")), call = call)
  }
  reqs <- stats::setNames(rep("null", length(args)), args)
  reqs[nm] <- grad.req
  reqs
}

#' @rdname mx.simple.bind
#' @param exec An `MXExecutor` from [mx.simple.bind()].
#' @param arg.arrays A list of arrays: one per argument in order, or named when
#'   `match.name = TRUE`.
#' @param match.name Match the list's names to the argument names (otherwise the list
#'   is positional and must have one entry per argument).
#' @param skip.null Skip `NULL` entries (otherwise they are an error).
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

update_arrays <- function(exec, field, values, match.name, skip.null, call) {
  check_executor(exec, call)
  current <- exec[[field]]
  targets <- names(current)
  if (field == "grad.arrays") targets <- targets[exec$grad.req[targets] != "null"]
  if (!is.list(values)) deconv_abort(field, "expected a list of arrays", call = call)
  if (isTRUE(match.name)) {
    nm <- names(values)
    if (is.null(nm) || any(!nzchar(nm))) {
      deconv_abort(field, "with match.name = TRUE every array must be named", call = call)
    }
    if (!all(nm %in% targets)) {
      deconv_abort(nm[!nm %in% targets][1], paste0(
        "not an argument", if (field == "grad.arrays") " with a gradient", "; expected one of ",
        paste(targets, collapse = ", ")), call = call)
    }
  } else {
    if (length(values) != length(targets)) {
      deconv_abort(field, sprintf("expected %d arrays (%s), in order, got %d; or name them and use match.name = TRUE",
                                  length(targets), paste(targets, collapse = ", "), length(values)),
                   call = call)
    }
    names(values) <- targets
  }
  for (nm in names(values)) {
    v <- values[[nm]]
    if (is.null(v)) {
      if (isTRUE(skip.null)) next
      deconv_abort(nm, "NULL given; use skip.null = TRUE to leave it unchanged", call = call)
    }
    v <- as_numeric_array(v, nm, call)
    want <- dim(current[[nm]])
    got <- if (is.null(dim(v))) length(v) else dim(v)
    if (!identical(as.integer(got), as.integer(want)) ||
        (is.null(dim(v)) && length(want) != 1)) {
      deconv_abort(nm, sprintf("expected an array with dim = %s, got %s", dims_string(want),
                               if (is.null(dim(v))) sprintf("a vector of length %d", length(v))
                               else paste("dim =", dims_string(dim(v)))),
                   class = "deconv_shape_error", call = call)
    }
    current[nm] <- list(array(as.double(v), dim = want))
  }
  exec[[field]] <- current
  invisible(exec)
}

check_executor <- function(exec, call) {
  if (!inherits(exec, "MXExecutor")) {
    deconv_abort("exec", paste0("expected an executor from mx.simple.bind(), got ", class(exec)[1]),
                 call = call)
  }
}

#' @rdname mx.simple.bind
#' @param is.train Whether the forward pass is for training (kept for MXNet
#'   compatibility; Deconvolution computes the same either way).
#' @export
mx.exec.forward <- function(exec, is.train = TRUE) {
  call <- sys.call()
  check_executor(exec, call)
  run_forward(exec, is.train, call)
}

run_forward <- function(exec, is.train, call) {
  ops <- executor_ops(parse_ctx(exec$ctx, call), exec$dtype, call)
  values <- new.env(parent = emptyenv())
  for (n in exec$.nodes) {
    key <- as.character(n$id)
    values[[key]] <- if (n$op == "null") {
      ops$put(exec$arg.arrays[[n$name]])
    } else {
      ins <- lapply(n$inputs, function(i) values[[as.character(i$id)]])
      with_node(ops$forward(ins[[1]], ins[[2]], if (length(ins) > 2) ins[[3]], n$params),
                n$name, call)
    }
  }
  heads <- sym_heads(exec$symbol)
  exec$outputs <- stats::setNames(lapply(heads, function(h) ops$get(values[[as.character(h$id)]])),
                                  symbol_outputs(exec$symbol))
  # Node values stay where they were computed (on the GPU for a GPU executor) for backward.
  exec$.values <- values
  exec$.is.train <- isTRUE(is.train)
  invisible(exec)
}

#' @rdname mx.simple.bind
#' @param out.grads Gradients with respect to the outputs: an array (one output) or a
#'   list of arrays, one per output, shaped as the outputs. `NULL` uses ones (the
#'   gradients of the sum of the outputs).
#' @export
mx.exec.backward <- function(exec, out.grads = NULL) {
  call <- sys.call()
  check_executor(exec, call)
  if (is.null(exec$.values)) {
    deconv_abort("exec", "no forward pass to differentiate: call mx.exec.forward() first",
                 call = call)
  }
  ops <- executor_ops(parse_ctx(exec$ctx, call), exec$dtype, call)
  outs <- exec$outputs
  if (is.null(out.grads)) {
    out.grads <- lapply(outs, function(o) array(1, dim = dim(o)))
  } else if (!is.list(out.grads)) {
    out.grads <- list(out.grads)
  }
  if (length(out.grads) != length(outs)) {
    deconv_abort("out.grads", sprintf("expected %d arrays (one per output: %s), got %d",
                                      length(outs), paste(names(outs), collapse = ", "),
                                      length(out.grads)), call = call)
  }
  for (i in seq_along(outs)) {
    g <- as_numeric_array(out.grads[[i]], "out.grads", call)
    if (!identical(as.integer(dim(g) %||% length(g)), as.integer(dim(outs[[i]])))) {
      deconv_abort("out.grads", sprintf("expected dim = %s for %s (the output's), got %s",
                                        dims_string(dim(outs[[i]])), names(outs)[i],
                                        dims_string(dim(g) %||% length(g))),
                   class = "deconv_shape_error", call = call)
    }
    out.grads[[i]] <- array(g, dim = dim(outs[[i]]))
  }
  nodes <- exec$.nodes
  reqs <- exec$grad.req
  # needs[id]: some argument with a gradient request lies upstream of the node.
  needs <- new.env(parent = emptyenv())
  for (n in nodes) {
    needs[[as.character(n$id)]] <- if (n$op == "null") reqs[[n$name]] != "null"
      else any(vapply(n$inputs, function(i) needs[[as.character(i$id)]], TRUE))
  }
  grads <- new.env(parent = emptyenv())
  add_grad <- function(node, g) {
    key <- as.character(node$id)
    grads[[key]] <- if (is.null(grads[[key]])) g else ops$add(grads[[key]], g)
  }
  heads <- sym_heads(exec$symbol)
  for (i in seq_along(heads)) add_grad(heads[[i]], ops$put(out.grads[[i]]))
  values <- exec$.values
  for (n in rev(nodes)) {
    key <- as.character(n$id)
    if (n$op == "null" || !needs[[key]] || is.null(grads[[key]])) next
    ins <- lapply(n$inputs, function(i) values[[as.character(i$id)]])
    want <- vapply(n$inputs, function(i) needs[[as.character(i$id)]], TRUE)
    g <- with_node(ops$backward(grads[[key]], ins[[1]], ins[[2]], if (length(ins) > 2) ins[[3]],
                                n$params, want[1], want[2]), n$name, call)
    for (i in which(want)) add_grad(n$inputs[[i]], g[[c("data", "weight", "bias")[i]]])
  }
  # Per argument name (a name could label several variable nodes), the summed gradient.
  by_name <- list()
  for (n in nodes) {
    if (n$op != "null" || reqs[[n$name]] == "null") next
    g <- grads[[as.character(n$id)]]
    if (!is.null(g)) g <- ops$get(g)
    if (!is.null(g)) by_name[[n$name]] <- if (is.null(by_name[[n$name]])) g else by_name[[n$name]] + g
  }
  grad_arrays <- exec$grad.arrays
  for (a in names(reqs)[reqs != "null"]) {
    shape <- dim(exec$arg.arrays[[a]])
    g <- if (is.null(by_name[[a]])) array(0, dim = shape) else array(by_name[[a]], dim = shape)
    grad_arrays[[a]] <- if (reqs[[a]] == "add") grad_arrays[[a]] + g else g
  }
  exec$grad.arrays <- grad_arrays
  invisible(exec)
}

#' @export
print.MXExecutor <- function(x, ...) {
  cat(sprintf("MXExecutor on %s(%d), %s; outputs: %s\n", x$ctx$device, x$ctx$device_id, x$dtype,
              paste(symbol_outputs(x$symbol), collapse = ", ")))
  for (a in names(x$arg.arrays)) {
    cat(sprintf("  %-20s dim %-18s grad.req %s\n", a, dims_string(dim(x$arg.arrays[[a]])),
                x$grad.req[[a]]))
  }
  if (is.null(x$outputs)) cat("  (not run yet: mx.exec.forward())\n")
  invisible(x)
}

#' Evaluate a symbol on arrays in one call
#'
#' Binds `symbol` to the arrays in `args` (one per argument, named by argument), runs
#' it forward and returns the output: the one-call form of [mx.simple.bind()],
#' [mx.exec.update.arg.arrays()] and [mx.exec.forward()].
#'
#' @param symbol An `MXSymbol`.
#' @param args A named list of arrays, one per argument of the symbol.
#' @inheritParams mx.simple.bind
#' @param simplify Return the array itself when the symbol has one output.
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
  check_symbol(symbol, "symbol", call)
  if (!is.list(args) || (length(args) && (is.null(names(args)) || any(!nzchar(names(args)))))) {
    deconv_abort("args", "expected a named list of arrays, one per argument", call = call)
  }
  needed <- symbol_arguments(symbol)
  missing_args <- setdiff(needed, names(args))
  if (length(missing_args)) {
    deconv_abort(missing_args[1], paste0("no array given; the symbol's arguments are ",
                                         paste(needed, collapse = ", ")), call = call)
  }
  extra <- setdiff(names(args), needed)
  if (length(extra)) {
    deconv_abort(extra[1], paste0("not an argument of the symbol; its arguments are ",
                                  paste(needed, collapse = ", ")), call = call)
  }
  shapes <- lapply(args, function(a) {
    a <- as_numeric_array(a, "args", call)
    if (is.null(dim(a))) length(a) else dim(a)
  })
  exec <- bind_symbol(symbol, ctx, "null", NULL, shapes, dtype, call)
  update_arrays(exec, "arg.arrays", args, TRUE, FALSE, call)
  run_forward(exec, FALSE, call)
  if (simplify && length(exec$outputs) == 1) exec$outputs[[1]] else exec$outputs
}

`%||%` <- function(a, b) if (is.null(a)) b else a
