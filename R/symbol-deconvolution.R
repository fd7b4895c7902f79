# The Deconvolution operator as a symbol (mx.symbol.Deconvolution), its eager form under
# MXNet R's name (mx.nd.Deconvolution), and the conversions between the core's parameter
# list (tuples in R order) and MXNet's attribute strings (tuples in MXNet's order).

# Filled from the core's parameter table at load time (init_param_tables(), R/params.R).
.tuple_params <- NULL  # core names of the tuple parameters
.given_call <- NULL    # see given_call()
.attr_order <- NULL    # core names in the byte order MXNet's std::map writes them

init_symbol_param_tables <- function(ns, schema) {
  names <- stats::setNames(schema$name, schema$r_name)
  assign(".tuple_params", schema$name[schema$kind == "tuple"], envir = ns)
  assign(".given_call", given_call(names), envir = ns)
  assign(".attr_order", sort(unname(names), method = "radix"), envir = ns)
}

#' Transposed convolution as a symbol (a graph node)
#'
#' Makes a `Deconvolution` node of a graph, as MXNet R's `mx.symbol.Deconvolution()`
#' does, with the arguments, spellings (`num.filter` or `num_filter`, ...), defaults and
#' parameter errors of [deconvolution()]. Tuple arguments are in R order
#' (`kernel = c(kw, kh)`) and are stored in the graph in MXNet's order (`"(kh, kw)"`).
#' `kernel`'s length sets the dimensionality, as in MXNet (no data is known yet); a
#' `stride`, `dilate`, `pad`, `adj` or `target.shape` of one value stands for every
#' dimension, and the graph (and its JSON) holds the full tuples, as MXNet reads them.
#'
#' `data`, `weight` and `bias` are symbols. A `weight` or `bias` not given becomes a
#' variable named `<name>_weight` or `<name>_bias` (a bias only when `no.bias = FALSE`,
#' MXNet's default being `no.bias = TRUE`); a missing `data` becomes `<name>_data`. An
#' unnamed node gets MXNet's automatic name, `deconvolution0`, `deconvolution1`, ...,
#' counted per R session. Parameter errors that do not depend on shapes are raised
#' here; shape errors when shapes are known ([mx.symbol.infer.shape()], binding).
#'
#' @inheritParams deconvolution
#' @param data Input symbol: a variable or another operator's output (so layers stack).
#' @param weight Weight symbol, or `NULL` for a new variable `<name>_weight`.
#' @param bias Bias symbol, or `NULL` for a new variable `<name>_bias` (only used when
#'   `no.bias = FALSE`).
#' @param kernel Kernel size, in R order: `c(kw)`, `c(kw, kh)` or `c(kw, kh, kd)`; its
#'   length sets the dimensionality of the node.
#' @param name Name of the node; `NULL` for an automatic name.
#' @return An `MXSymbol` whose output is `<name>_output`.
#' @seealso [mx.symbol.Variable()], [mx.symbol.infer.shape()], [mx.simple.bind()].
#' @examples
#' data <- mx.symbol.Variable("data")
#' up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                                num.filter = 8, no.bias = FALSE, name = "up1")
#' up2 <- mx.symbol.Deconvolution(up1, kernel = c(2, 2), stride = c(2, 2),
#'                                num_filter = 3, target_shape = c(12, 11), name = "up2")
#' arguments(up2)
#' mx.symbol.infer.shape(up2, data = c(3, 3, 4, 1))$out.shapes
#' @export
mx.symbol.Deconvolution <- function(data, weight = NULL, bias = NULL, kernel, stride = NULL,
                                    dilate = NULL, pad = NULL, adj = NULL,
                                    target.shape = NULL, num.filter, num.group = 1,
                                    workspace = 512, no.bias = TRUE, cudnn.tune = NULL,
                                    cudnn.off = FALSE, layout = NULL, name = NULL, ...) {
  call <- sys.call()
  name <- if (is.null(name)) auto_name("deconvolution") else check_name(name, call)
  env <- environment()
  dots <- list(...)
  norm <- with_node(cpp_deconvolution_params(collect_params(env, dots, call), call = call),
                    name, call)
  attrs <- deconv_attrs(norm, given_params(env, dots))
  data_node <- if (missing(data)) new_node("null", paste0(name, "_data"))
               else input_node(data, "data", name, call)
  weight_node <- if (is.null(weight)) new_node("null", paste0(name, "_weight"), attrs)
                 else input_node(weight, "weight", name, call)
  # The inputs list is built in one call: storing a node into a list with `[[<-` makes
  # R walk the node's whole graph (see graph_nodes()).
  if (norm$no_bias) {
    if (!is.null(bias)) {
      deconv_abort("bias", sprintf(paste0("a bias was given but no.bias is TRUE; set no.bias = ",
                                          "FALSE to use it (Deconvolution node '%s')"), name),
                   call = call)
    }
    inputs <- list(data_node, weight_node)
  } else {
    inputs <- list(data_node, weight_node,
                   if (is.null(bias)) new_node("null", paste0(name, "_bias"), attrs)
                   else input_node(bias, "bias", name, call))
  }
  new_symbol(list(new_node("Deconvolution", name, attrs, norm, inputs)))
}

#' Transposed convolution under MXNet R's name
#'
#' `mx.nd.Deconvolution()` is [deconvolution()] (computed now, on R arrays) under the
#' name MXNet R gives the eager operator. Same arguments, spellings and results.
#'
#' @inheritParams deconvolution
#' @return The output array, as [deconvolution()] returns it.
#' @examples
#' x <- array(as.numeric(1:16), dim = c(4, 4, 1, 1))
#' y <- mx.nd.Deconvolution(x, bilinear_kernel(c(4, 4)), kernel = c(4, 4),
#'                          stride = c(2, 2), pad = c(1, 1), num_filter = 1)
#' dim(y)
#' @export
mx.nd.Deconvolution <- deconvolution

# The core names of the parameters the caller gave (not missing, not NULL): one call,
# evaluated in the caller's frame, since this runs once per layer built.
given_call <- function(names) {
  as.call(c(as.name("c"), lapply(
    stats::setNames(names(names), unname(names)),
    function(p) call("&&", call("!", call("missing", as.name(p))),
                     call("!", call("is.null", as.name(p)))))))
}

given_params <- function(env, dots) {
  given <- eval(.given_call, env)
  out <- names(given)[given]
  dots <- dots[!vapply(dots, is.null, TRUE)]
  c(out, unname(.param_names[.synonyms[names(dots)]]))
}

# The head node of a one-output symbol given as `arg`, its own fields checked (its
# inputs were checked when it was built, or are checked by the next walk: checking the
# whole graph here would make building a deep graph quadratic).
input_node <- function(x, arg, node_name, call) {
  if (!is.mx.symbol(x)) {
    deconv_abort(arg, sprintf(paste0("expected a symbol, got %s (Deconvolution node '%s'); ",
                                     "to compute on arrays use mx.nd.Deconvolution() or ",
                                     "deconvolution()"), describe_value(x), short_text(node_name)),
                 call = call)
  }
  heads <- check_symbol(x, arg, call)
  if (length(heads) != 1) {
    deconv_abort(arg, sprintf("expected a symbol with one output, got %d (Deconvolution node '%s')",
                              length(heads), short_text(node_name)), call = call)
  }
  check_node(heads[[1]], arg, call)
}

# MXNet's attribute strings for the given parameters, from the normalized values, in
# the byte order of their names (MXNet's std::map order, .attr_order).
deconv_attrs <- function(norm, given) {
  given <- .attr_order[.attr_order %in% given & .attr_order %in% names(norm)]
  as.list(cpp_mxnet_attrs(norm, given))
}

# An integer as MXNet writes it ("3", python 2's "3L"): digits with an optional sign.
.int_pattern <- "^[+-]?[0-9]+L?$"

# The value of one integer entry, or NA when it is not one (or beyond integer range).
attr_int_value <- function(s) {
  if (!grepl(.int_pattern, s)) return(NA_real_)
  digits <- sub("^[+-]?0*([0-9]*)L?$", "\\1", s)
  if (nchar(digits) > 10) return(NA_real_)
  v <- as.numeric(sub("L$", "", s))
  if (abs(v) > .Machine$integer.max) NA_real_ else v
}

# A tuple as MXNet writes it: "(3, 3)", "[3, 3]", "(3,)", "()" or a single integer
# "3"; "None" is no value. Nothing may follow the closing bracket, entries are
# integers and none is empty (one trailing comma is allowed). R order is returned.
parse_attr_tuple <- function(s, key, call, arg = r_name(key)) {
  t <- trimws(s)
  if (t == "None") return(NULL)
  bad <- function(why) {
    deconv_abort(arg, sprintf("expected a tuple of integers such as '(3, 3)'%s, got %s (%s)",
                              if (arg != r_name(key)) paste0(" as its ", key) else "",
                              describe_value(s), why), call = call)
  }
  if (grepl(.int_pattern, t)) {
    parts <- t
  } else {
    open <- substr(t, 1, 1)
    close <- substr(t, nchar(t), nchar(t))
    if (!open %in% c("(", "[") || close != c("(" = ")", "[" = "]")[[open]]) {
      bad("not a bracketed list")
    }
    inner <- substr(t, 2, nchar(t) - 1)
    if (grepl("[][()]", inner)) bad("brackets inside")
    if (!nzchar(trimws(inner))) return(numeric(0))
    parts <- trimws(strsplit(paste0(inner, " "), ",", fixed = TRUE)[[1]])
    if (length(parts) > 1 && !nzchar(parts[length(parts)])) parts <- parts[-length(parts)]
    if (!all(nzchar(parts))) bad("an empty entry")
  }
  v <- vapply(parts, attr_int_value, 0, USE.NAMES = FALSE)
  if (anyNA(v)) bad("an entry that is not an integer in range")
  rev(v)
}

# A one-line R-order description of a node's given parameters, for print().
describe_params <- function(node) {
  keys <- intersect(names(node$params), names(node$attrs))
  parts <- vapply(keys, function(k) {
    v <- node$params[[k]]
    val <- if (k %in% .tuple_params) {
      if (length(v) == 1) as.character(v) else paste0("c(", paste(v, collapse = ", "), ")")
    } else if (is.logical(v)) {
      as.character(v)
    } else if (is.character(v)) {
      paste0('"', v, '"')
    } else {
      format(v)
    }
    paste0(r_name(k), " = ", val)
  }, "")
  paste(parts, collapse = ", ")
}
