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
#' Dims are whole numbers from 0 to `.Machine$integer.max`, each argument named once. A
#' variable's `__shape__` attribute (in files MXNet writes) gives its dims when they are
#' not given; zeros in it mean unknown, and one that is not a tuple is an error.
#'
#' Partial knowledge: like MXNet R, the result is `NULL` when some shape cannot be
#' inferred (for example the data's shape is not given). With `partial = TRUE` the
#' result is returned anyway, with `NULL` entries for the shapes that are not known.
#'
#' @param symbol An `MXSymbol`.
#' @param ... Named dims in R order, one per known argument (`data = c(8, 8, 3, 1)`).
#' @param partial `TRUE` or `FALSE`: return what is known (`NULL` entries) instead of
#'   `NULL` when inference is incomplete.
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
  check_flag(partial, "partial", call)
  infer_shape_result(symbol, list(...), partial, call)
}

infer_shape_result <- function(symbol, shapes, partial, call) {
  nodes <- graph_nodes(symbol, "symbol", call)
  res <- infer_shapes(nodes, sym_heads(symbol), shapes, call)
  if (!partial && !res$complete) return(NULL)
  res[c("arg.shapes", "out.shapes", "aux.shapes")]
}

# Shapes of every argument and output from the given ones (a named list), for the
# checked nodes of graph_nodes() and the symbol's heads. Returns list(arg.shapes,
# out.shapes, aux.shapes, complete).
infer_shapes <- function(nodes, heads, shapes, call, arg = "symbol") {
  args <- check_unique_arguments(symbol_arguments(nodes), arg, call)
  shapes <- check_shape_list(shapes, args, call)
  graph <- shape_graph(nodes)
  var <- list2env(shapes, envir = new.env(parent = emptyenv(), hash = TRUE))  # name -> dims
  add_attr_shapes(var, graph, call)
  out <- propagate_shapes(graph, var, call)
  arg_shapes <- stats::setNames(lapply(args, function(a) var[[a]]), args)
  out_shapes <- stats::setNames(lapply(heads, function(h) out[[graph$index[[format_id(h$id)]]]]),
                                vapply(heads, node_output_name, ""))
  list(arg.shapes = arg_shapes, out.shapes = out_shapes,
       aux.shapes = stats::setNames(list(), character(0)),
       complete = !any(vapply(c(arg_shapes, out_shapes), is.null, TRUE)))
}

# What the propagation looks up, per node position: whether it is a variable, its name,
# its data input's position (operators), the operators reading it as data, and per
# variable name its nodes. Environments, not named lists: a lookup by name in a list is
# linear.
shape_graph <- function(nodes) {
  n <- length(nodes)
  index <- node_index(nodes)
  is_var <- vapply(nodes, function(x) x$op == "null", TRUE)
  names_ <- vapply(nodes, function(x) x$name, "")
  data_of <- vapply(nodes, function(x) if (x$op == "null") NA_integer_ else
                      index[[format_id(x$inputs[[1]]$id)]], 0L)
  list(nodes = nodes, index = index, is_var = is_var, names_ = names_, data_of = data_of,
       consumers = split(which(!is_var), factor(data_of[!is_var], levels = seq_len(n))),
       var_nodes = list2env(split(which(is_var), names_[is_var]), hash = TRUE))
}

# Variables whose dims were not given take them from their `__shape__` attribute, when
# it has no unknown (zero) entries.
add_attr_shapes <- function(var, graph, call) {
  for (k in which(graph$is_var)) {
    nm <- graph$names_[k]
    sh <- graph$nodes[[k]]$attrs[["__shape__"]]
    if (is.null(var[[nm]]) && !is.null(sh)) {
      s <- parse_attr_tuple(sh, "__shape__", call, arg = nm)
      if (length(s) && all(s > 0)) var[[nm]] <- as.integer(s)
    }
  }
}

# Every node's output dims (NULL where unknown), learning variables' dims (in `var`)
# from the operators that read them and checking the known ones. A shared variable can
# learn its shape from a node later in the order than one that reads it, so nodes are
# processed as MXNet's repeated passes would (pass by pass, in graph order), but each
# only once, when its data's shape becomes known: a heap keyed by (pass, position)
# keeps this linear-logarithmic in the nodes.
propagate_shapes <- function(graph, var, call) {
  prop <- shape_propagation(graph, var, call)
  for (nm in ls(var, sorted = FALSE)) prop$schedule(graph$var_nodes[[nm]])
  current <- NULL                          # the node whose rule runs, for errors
  tryCatch(while (!is.null(k <- prop$next_node())) {
    if (!is.null(prop$dims(k))) next
    node <- graph$nodes[[k]]
    if (graph$is_var[k]) {
      prop$set_out(k, var[[graph$names_[k]]])
      next
    }
    data_dims <- prop$dims(graph$data_of[k])
    current <- node$name
    s <- cpp_deconvolution_shape(data_dims, node$params, call = call)
    current <- NULL
    need <- list(s$weight, s$bias)
    for (i in seq_along(node$inputs)[-1]) {
      e <- list(node = node$name, role = c("weight", "bias")[i - 1], need = need[[i - 1]],
                data = data_dims)
      prop$constrain_input(node$inputs[[i]], e)
    }
    prop$set_out(k, s$out)
  }, deconv_error = function(e) node_error(e, current, call))
  prop$out()
}

# The state of one propagation: each node's output dims, the checks waiting for an
# operator's output, and the heap of nodes to visit, keyed by (pass, position).
shape_propagation <- function(graph, var, call) {
  nodes <- graph$nodes
  n <- length(nodes)
  out <- vector("list", n)                 # node position -> output dims
  expected <- vector("list", n)            # checks waiting for an operator's output
  heap <- new_heap()
  width <- n + 1
  pass <- 1
  pos <- 0L
  # Nodes ahead of the current one run in this pass, the others in the next.
  schedule <- function(ks) {
    for (k in ks) if (is.null(out[[k]])) heap$push((if (k > pos) pass else pass + 1) * width + k)
  }
  list(
    schedule = schedule,
    out = function() out,
    dims = function(k) out[[k]],
    # The next node to visit, which becomes the current one; NULL when none is left.
    next_node = function() {
      if (heap$size() == 0) return(NULL)
      key <- heap$pop()
      pass <<- key %/% width
      pos <<- as.integer(key %% width)
      pos
    },
    # A node's output is known: run the checks waiting for it, schedule its readers.
    set_out = function(k, dims) {
      out[[k]] <<- as.integer(dims)
      for (e in expected[[k]]) check_input_shape(nodes[[k]], out[[k]], e, call)
      expected[k] <<- list(NULL)
      schedule(graph$consumers[[k]])
    },
    # An operator's weight or bias input must have `e$need`: a variable without dims
    # learns them, an operator's output not known yet is checked once it is.
    constrain_input = function(inp, e) {
      j <- graph$index[[format_id(inp$id)]]
      if (graph$is_var[j]) {
        have <- var[[inp$name]]
        if (!is.null(have)) return(check_input_shape(inp, have, e, call))
        var[[inp$name]] <- as.integer(e$need)
        schedule(graph$var_nodes[[inp$name]])
      } else if (is.null(out[[j]])) {
        expected[[j]] <<- c(expected[[j]], list(e))
      } else {
        check_input_shape(inp, out[[j]], e, call)
      }
    })
}

# A node's input (weight or bias) has the dims the node needs, or a shape error naming it.
check_input_shape <- function(inp, have, e, call) {
  if (!identical(as.integer(have), as.integer(e$need))) {
    deconv_abort(node_output_name(inp), sprintf(
      "dim %s, but Deconvolution node '%s' needs dim %s for its %s (from data dim %s)",
      dims_string(have), short_text(e$node), dims_string(e$need), e$role,
      dims_string(e$data)), class = "deconv_shape_error", call = call)
  }
}

# Node id -> position in `nodes`.
node_index <- function(nodes) {
  index <- new.env(parent = emptyenv(), hash = TRUE, size = max(29L, length(nodes)))
  for (k in seq_along(nodes)) index[[format_id(nodes[[k]]$id)]] <- k
  index
}

# A binary min-heap of numbers.
new_heap <- function() {
  v <- numeric(64L)
  n <- 0L
  list(
    size = function() n,
    push = function(x) {
      if (n == length(v)) length(v) <<- 2L * n
      n <<- n + 1L
      i <- n
      while (i > 1L) {
        p <- i %/% 2L
        if (v[p] <= x) break
        v[i] <<- v[p]
        i <- p
      }
      v[i] <<- x
    },
    pop = function() {
      top <- v[1L]
      last <- v[n]
      n <<- n - 1L
      i <- 1L
      repeat {
        c <- 2L * i
        if (c > n) break
        if (c < n && v[c + 1L] < v[c]) c <- c + 1L
        if (last <= v[c]) break
        v[i] <<- v[c]
        i <- c
      }
      if (n > 0L) v[i] <<- last
      top
    })
}

# Shapes given by name: named once each, arguments of the symbol, whole numbers in
# 0..integer.max. Returns them as integer vectors.
check_shape_list <- function(shapes, args, call) {
  if (!length(shapes)) return(list())
  nm <- names(shapes)
  if (is.null(nm) || any(is.na(nm) | !nzchar(nm))) {
    deconv_abort("...", "every shape must be named by its argument, e.g. data = c(8, 8, 3, 1)",
                 call = call)
  }
  twice <- nm[duplicated(nm)]
  if (length(twice)) {
    deconv_abort(twice[1], "shape given twice; give each argument's dims once", call = call)
  }
  unknown <- nm[!nm %in% args]
  if (length(unknown)) {
    deconv_abort(unknown[1], paste0("not an argument of the symbol; its arguments are ",
                                    short_list(args)), call = call)
  }
  stats::setNames(lapply(seq_along(shapes), function(k) check_dims(shapes[[k]], nm[k], call)), nm)
}

check_dims <- function(s, arg, call) {
  if (!is.numeric(s) || is.object(s) || !length(s) || anyNA(s) || any(!is.finite(s)) ||
      any(s < 0) || any(s != floor(s)) || any(s > .Machine$integer.max)) {
    deconv_abort(arg, paste0("expected dims: a vector of whole numbers from 0 to ",
                             .Machine$integer.max, " in R order, got ", describe_dims(s)),
                 call = call)
  }
  as.integer(s)
}

# A value given as dims, for messages: c(8, 8, 3, 1), or what it is.
describe_dims <- function(s) {
  if (is.numeric(s) && !is.object(s) && length(s) > 1 && length(s) <= 8) {
    paste0("c(", paste(vapply(s, describe_value, ""), collapse = ", "), ")")
  } else {
    describe_value(s)
  }
}

# Names for messages: the first few, then how many more.
short_list <- function(x, n = 8L) {
  if (length(x) <= n) return(paste(x, collapse = ", "))
  paste0(paste(x[seq_len(n)], collapse = ", "), ", ... (", length(x), " in all)")
}

dims_string <- function(d) paste0("c(", paste(d, collapse = ", "), ")")
