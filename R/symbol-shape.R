# Shape inference over a symbol's graph. The per-node rule is the core's
# (cpp_deconvolution_shape); this file only walks the graph, propagates what is known and
# reports contradictions with the node and argument named.

#' Infer the shapes of a symbol's arguments and outputs
#'
#' Given the dims (R order) of some arguments, usually `data = c(W, H, C, N)`, infers the
#' dims of every argument and output, as MXNet R's `mx.symbol.infer.shape()` does. The
#' per-layer rules are [deconvolution_shape()]'s. A given shape that contradicts the
#' inferred one is an error (class `deconv_shape_error`) naming the argument and the node.
#'
#' Partial knowledge: like MXNet R, the result is `NULL` when some shape cannot be
#' inferred (for example the data's shape is not given). With `partial = TRUE` the
#' result is returned anyway, with `NULL` entries for the shapes that are not known.
#'
#' @param symbol An `MXSymbol`.
#' @param ... Named dims in R order, one per known argument (`data = c(8, 8, 3, 1)`).
#' @param partial Return what is known (`NULL` entries) instead of `NULL` when inference
#'   is incomplete.
#' @return `list(arg.shapes = , out.shapes = , aux.shapes = )`: named lists of integer
#'   dims in R order (by argument, by output; `aux.shapes` is empty), or `NULL`.
#' @examples
#' data <- mx.symbol.Variable("data")
#' up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                                num.filter = 8, name = "up1")
#' up2 <- mx.symbol.Deconvolution(up1, kernel = c(2, 2), stride = c(2, 2), num.filter = 3,
#'                                name = "up2")
#' str(mx.symbol.infer.shape(up2, data = c(5, 5, 4, 2)))
#' # Without the data's shape nothing can be inferred:
#' mx.symbol.infer.shape(up2)
#' str(mx.symbol.infer.shape(up2, up1_weight = c(4, 4, 8, 4), partial = TRUE)$arg.shapes)
#' @export
mx.symbol.infer.shape <- function(symbol, ..., partial = FALSE) {
  call <- sys.call()
  check_symbol(symbol, "symbol", call)
  res <- infer_shapes(symbol, list(...), call)
  if (!partial && !res$complete) return(NULL)
  res[c("arg.shapes", "out.shapes", "aux.shapes")]
}

# Returns list(arg.shapes, out.shapes, aux.shapes, complete, node_shapes).
infer_shapes <- function(symbol, shapes, call) {
  nodes <- graph_nodes(symbol)
  args <- symbol_arguments(symbol)
  shapes <- check_shape_list(shapes, args, call)
  var <- new.env(parent = emptyenv())      # variable name -> dims
  for (nm in names(shapes)) var[[nm]] <- shapes[[nm]]
  for (n in nodes) {
    if (n$op == "null" && is.null(var[[n$name]]) && !is.null(n$attrs[["__shape__"]])) {
      s <- tryCatch(parse_mx_tuple(n$attrs[["__shape__"]], "__shape__", call), error = function(e) NULL)
      if (length(s) && all(s > 0)) var[[n$name]] <- as.integer(s)
    }
  }
  out <- new.env(parent = emptyenv())      # node id -> output dims
  # A shared variable can learn its shape from a node later in the order than a node
  # that reads it, so repeat until nothing new is learnt.
  repeat {
    learnt <- FALSE
    for (n in nodes) {
      key <- as.character(n$id)
      if (!is.null(out[[key]])) next
      if (n$op == "null") {
        if (!is.null(var[[n$name]])) {
          out[[key]] <- var[[n$name]]
          learnt <- TRUE
        }
        next
      }
      data_dims <- out[[as.character(n$inputs[[1]]$id)]]
      if (is.null(data_dims)) next
      s <- with_node(cpp_deconvolution_shape(data_dims, n$params, call = call), n$name, call)
      need <- list(s$weight, s$bias)
      for (i in seq_along(n$inputs)[-1]) {
        inp <- n$inputs[[i]]
        role <- c("weight", "bias")[i - 1]
        have <- if (inp$op == "null") var[[inp$name]] else out[[as.character(inp$id)]]
        if (is.null(have)) {
          if (inp$op == "null") {
            var[[inp$name]] <- need[[i - 1]]
            learnt <- TRUE
          }
        } else if (!identical(as.integer(have), as.integer(need[[i - 1]]))) {
          deconv_abort(node_output_name(inp), sprintf(
            "dim %s, but Deconvolution node '%s' needs dim %s for its %s (from data dim %s)",
            dims_string(have), n$name, dims_string(need[[i - 1]]), role,
            dims_string(data_dims)), class = "deconv_shape_error", call = call)
        }
      }
      out[[key]] <- s$out
      learnt <- TRUE
    }
    if (!learnt) break
  }
  arg_shapes <- stats::setNames(lapply(args, function(a) var[[a]]), args)
  out_shapes <- stats::setNames(lapply(sym_heads(symbol), function(h) out[[as.character(h$id)]]),
                                symbol_outputs(symbol))
  list(arg.shapes = arg_shapes, out.shapes = out_shapes,
       aux.shapes = stats::setNames(list(), character(0)),
       complete = !any(vapply(c(arg_shapes, out_shapes), is.null, TRUE)),
       node_shapes = out)
}

check_shape_list <- function(shapes, args, call) {
  if (!length(shapes)) return(list())
  nm <- names(shapes)
  if (is.null(nm) || any(!nzchar(nm))) {
    deconv_abort("...", "every shape must be named by its argument, e.g. data = c(8, 8, 3, 1)",
                 call = call)
  }
  for (a in nm) {
    if (!a %in% args) {
      deconv_abort(a, paste0("not an argument of the symbol; its arguments are ",
                             paste(args, collapse = ", ")), call = call)
    }
    s <- shapes[[a]]
    if (!is.numeric(s) || !length(s) || anyNA(s) || any(s < 0) || any(s != floor(s))) {
      deconv_abort(a, "expected dims: a vector of non-negative integers in R order", call = call)
    }
    shapes[[a]] <- as.integer(s)
  }
  shapes
}

dims_string <- function(d) paste0("c(", paste(d, collapse = ", "), ")")
