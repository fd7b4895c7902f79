# Errors that point at the cause when data arrive in another program's order (torch's
# c(N, C, H, W), keras's c(N, H, W, C), png::readPNG's H x W x C): if the data as given
# do not fit the weight and parameters but from_layout() of some layout would, the
# error says so and names that conversion. Runs only on the error path.

# Ordinary layouts worth suggesting, by the number of dims the data have.
.hint_layouts <- list(
  "2" = "HW", "3" = c("NCW", "NWC", "HWC"), "4" = c("NCHW", "NHWC"), "5" = c("NCDHW", "NDHWC")
)
.hint_names <- c(
  NCW = "torch/numpy order (N, C, W)", NWC = "keras order (N, W, C)",
  NCHW = "torch/numpy order (N, C, H, W)", NHWC = "keras order (N, H, W, C)",
  NCDHW = "torch/numpy order (N, C, D, H, W)", NDHWC = "keras order (N, D, H, W, C)",
  HWC = "png::readPNG() order (H, W, C)", HW = "png::readPNG() order (H, W) of a grey image"
)

# Raises a deconv_shape_error with the hint when one applies, else returns NULL (the
# caller then raises its own error). `weight_dim` NULL: no weight to fit (shape calls);
# `error`: the error the data as given met, quoted when no shorter reason can be given.
layout_hint_abort <- function(dims, weight_dim, params, call, error = NULL) {
  fits <- function(d) {
    s <- tryCatch(cpp_deconvolution_shape(d, params), deconv_error = function(e) NULL)
    !is.null(s) && (is.null(weight_dim) || identical(s$weight, as.integer(weight_dim)))
  }
  if (length(dims) %in% 3:5 && fits(dims)) return(NULL)  # the data are not at fault
  last <- identical(params$layout, "NHWC") || identical(params$layout, "NDHWC")
  as <- if (last) params$layout
  hits <- Filter(function(lay) {
    spec <- layout_spec(NULL, lay, call)
    to <- tryCatch(package_axes(spec, as, "as", call), deconv_error = function(e) NULL)
    if (is.null(to)) return(FALSE)
    d <- c(dims, rep(1L, length(spec$axes) - length(dims)))
    fits(d[match(to, spec$axes)])
  }, .hint_layouts[[as.character(length(dims))]])
  if (!length(hits)) return(NULL)
  r <- length(dims)
  channels <- dims[if (last) 1L else max(r - 1L, 1L)]
  why <- if (!is.null(weight_dim) && length(weight_dim) != r) {
    sprintf("has %d dimensions where the weight (dim = %s) is for %d-dimensional data", r,
            dims_string(weight_dim), length(weight_dim))
  } else if (!is.null(weight_dim) && channels != weight_dim[r]) {
    sprintf("has %d channel%s where the weight expects %d", channels,
            if (channels == 1) "" else "s", weight_dim[r])
  } else if (length(params$kernel) %in% 2:3 && r != length(params$kernel) + 2L) {
    sprintf("has %d dimensions where kernel = %s is for %d-dimensional data", r,
            dims_string(params$kernel), length(params$kernel) + 2L)
  } else if (!is.null(error)) {
    sprintf("does not fit (%s)", conditionMessage(error))
  } else {
    sprintf("has %d dimensions, not 3, 4 or 5", r)
  }
  convert <- sprintf("from_layout(data, \"%s\"%s)", hits,
                     if (last) sprintf(", as = \"%s\"", as) else "")
  deconv_abort("data", sprintf("dim = %s %s; it looks like %s: convert it with %s",
                               dims_string(dims), why, paste(.hint_names[hits], collapse = " or "),
                               paste(convert, collapse = " or ")),
               class = "deconv_shape_error", call = call)
}

# What an eager call's core wrapper (R/core.R) does with a shape error before raising
# it: raise the error with a layout hint instead when one applies. `weight_dim` as
# above (NA: a weight without dim, which no conversion of the data fixes). A handler
# passed down rather than a tryCatch() around the call, which would cost every call
# about 4 us.
layout_hint <- function(dims, weight_dim, params, call) {
  function(e) layout_hint_abort(dims, weight_dim, params, call, e)
}
