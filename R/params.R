# Gathers the Deconvolution parameters of a calling function into the list the core
# reads (MXNet's underscore names), accepting the underscore spellings MXNet scripts
# use as synonyms of the dotted ones. No shape rules here: the core owns them.
#
# The parameter names come from the core's one table (src/core/param_schema.h) when the
# package loads (.Call needs the shared library, so not at build time): the tables
# below are filled by init_param_tables() from .onLoad.

.param_names <- NULL    # R spelling -> core name, every parameter, in the formals' order
.synonyms <- NULL       # underscore spelling accepted through `...` -> dotted formal
.params_call <- NULL    # see params_call()

.onLoad <- function(libname, pkgname) {
  init_param_tables(topenv(environment()))
}

init_param_tables <- function(ns) {
  schema <- cpp_param_schema()
  names <- stats::setNames(schema$name, schema$r_name)
  dotted <- names[names(names) != names]
  assign(".param_names", names, envir = ns)
  assign(".synonyms", stats::setNames(names(dotted), unname(dotted)), envir = ns)
  assign(".params_call", params_call(names, schema$r_name[schema$required]), envir = ns)
  init_symbol_param_tables(ns, schema)
}

# One call, evaluated in the calling function's frame, that lists every parameter under
# the core's name (the required ones have no default and may be missing).
params_call <- function(names, required) {
  as.call(c(as.name("list"), lapply(
    stats::setNames(names(names), unname(names)),
    function(p) {
      if (p %in% required) {
        call("if", call("!", call("missing", as.name(p))), as.name(p))
      } else {
        as.name(p)
      }
    })))
}

# `env` is the calling function's frame, `dots` its list(...). Returns the core's list.
# This runs on every call, so the common case (no underscore spellings) stays cheap.
collect_params <- function(env, dots, call) {
  values <- eval(.params_call, env)
  if (length(dots)) {
    nm <- names(dots)
    if (is.null(nm) || any(!nzchar(nm))) {
      deconv_abort("...", "every extra argument must be named", call = call)
    }
    twice <- nm[duplicated(nm)]
    if (length(twice)) {
      deconv_abort(r_name(twice[1]), paste0("given twice (as ", twice[1], "); give it once"),
                   call = call)
    }
    unknown <- setdiff(nm, names(.synonyms))
    if (length(unknown)) {
      deconv_abort(unknown[1], paste0(
        "unknown argument; the accepted underscore spellings are ",
        paste(names(.synonyms), collapse = ", ")), call = call)
    }
    for (u in nm) {
      d <- .synonyms[[u]]
      if (!eval(call("missing", as.name(d)), env)) {
        deconv_abort(d, paste0("given twice, as ", d, " and as ", u, "; use one spelling"),
                     call = call)
      }
      values[u] <- list(dots[[u]])   # the underscore spelling is the core's name
    }
  }
  if (is.null(values$kernel)) {
    deconv_abort("kernel", "required: the kernel size, e.g. c(kw, kh)", call = call)
  }
  if (is.null(values$num_filter)) {
    deconv_abort("num.filter", "required: the number of output filters", call = call)
  }
  values
}

# A numeric array (double or integer) given as `arg`; integers become doubles. Classed
# objects are refused (a factor's codes or an integer64's bits are not its values),
# except the classes of plain arrays that R itself makes ("table", "AsIs").
as_numeric_array <- function(x, arg, call, ranks = NULL) {
  # The common case first, in builtins only (this runs per call on every input).
  if (is.double(x) && !is.object(x) &&
      (is.null(ranks) || length(dim(x)) >= ranks[1L] && length(dim(x)) <= ranks[length(ranks)])) {
    return(x)
  }
  if (!is.numeric(x) || is.object(x) && !all(oldClass(x) %in% c("table", "AsIs"))) {
    deconv_abort(arg, paste0("expected a numeric array, got ", describe_value(x)), call = call)
  }
  if (!is.null(ranks)) {
    if (is.null(dim(x))) {
      deconv_abort(arg, paste0("expected an array with dim (", paste(ranks, collapse = ", "),
                               " dimensions: W[, H[, D]], C, N), got a vector without dim"),
                   call = call)
    }
    if (!length(dim(x)) %in% ranks) {
      deconv_abort(arg, paste0("expected an array of ", paste(ranks, collapse = ", "),
                               " dimensions (1D, 2D or 3D data with channels and batch), got ",
                               length(dim(x))), call = call)
    }
  }
  if (is.integer(x)) storage.mode(x) <- "double"
  x
}

r_name <- function(key) gsub("_", ".", key, fixed = TRUE)
