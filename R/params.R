# Gathers the Deconvolution parameters of a calling function into the list the core
# reads (MXNet's underscore names), accepting the underscore spellings MXNet scripts
# use as synonyms of the dotted ones. No shape rules here: the core owns them.

.param_names <- c(
  kernel = "kernel", stride = "stride", dilate = "dilate", pad = "pad", adj = "adj",
  target.shape = "target_shape", num.filter = "num_filter", num.group = "num_group",
  workspace = "workspace", no.bias = "no_bias", cudnn.tune = "cudnn_tune",
  cudnn.off = "cudnn_off", layout = "layout"
)

# Synonyms accepted through `...`: underscore spelling -> dotted formal.
.synonyms <- c(
  num_filter = "num.filter", target_shape = "target.shape", no_bias = "no.bias",
  num_group = "num.group", cudnn_tune = "cudnn.tune", cudnn_off = "cudnn.off"
)

# `env` is the calling function's frame, `dots` its list(...). Returns the core's list.
collect_params <- function(env, dots, call) {
  given <- function(p) {
    exists(p, envir = env, inherits = FALSE) &&
      !eval(call("missing", as.name(p)), env)
  }
  required <- c("kernel", "num.filter")
  values <- lapply(names(.param_names), function(p) {
    if (given(p) || !p %in% required) get(p, envir = env)
  })
  names(values) <- names(.param_names)
  if (length(dots)) {
    nm <- names(dots)
    if (is.null(nm) || any(!nzchar(nm))) {
      deconv_abort("...", "every extra argument must be named", call = call)
    }
    unknown <- setdiff(nm, names(.synonyms))
    if (length(unknown)) {
      deconv_abort(unknown[1], paste0(
        "unknown argument; the accepted underscore spellings are ",
        paste(names(.synonyms), collapse = ", ")), call = call)
    }
    for (u in nm) {
      d <- .synonyms[[u]]
      if (given(d)) {
        deconv_abort(d, paste0("given twice, as ", d, " and as ", u, "; use one spelling"),
                     call = call)
      }
      values[d] <- list(dots[[u]])
    }
  }
  for (req in required) {
    if (is.null(values[[req]])) {
      deconv_abort(req, if (req == "kernel") "required: the kernel size, e.g. c(kw, kh)"
                        else "required: the number of output filters", call = call)
    }
  }
  stats::setNames(values, unname(.param_names))
}

# A numeric array (double or integer) given as `arg`; integers become doubles.
as_numeric_array <- function(x, arg, call, ranks = NULL) {
  if (!is.numeric(x) || is.object(x) && !is.array(x)) {
    deconv_abort(arg, paste0("expected a numeric array, got ", class(x)[1]), call = call)
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

threads_option <- function() {
  as.integer(getOption("deconv.threads", 0L))
}
