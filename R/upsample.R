#' Upsample arrays and images by integer factors
#'
#' Enlarges 1D, 2D or 3D data by an integer factor per spatial dimension, bilinearly
#' (linear, bilinear or trilinear by the data's rank) or by nearest-neighbour copies
#' (for label maps), with any number of channels. Bilinear upsampling is one
#' [deconvolution()] call with MXNet's bilinear weights ([bilinear_kernel()]), one
#' group per channel, so every channel is upsampled on its own.
#'
#' Output sample `o` (counting from 0) of a dimension upsampled by `s` sits at input
#' coordinate `u = (o + 0.5) / s - 0.5` (pixel centres line up, as in PyTorch's
#' `align_corners = FALSE`), and takes `(1 - f) * x[i] + f * x[i + 1]` with
#' `i = floor(u)` and `f = u - i`: this is what MXNet's bilinear deconvolution
#' (`kernel = 2 * s - s %% 2`, `stride = s`, `pad = ceiling((s - 1) / 2)`) computes.
#' Near the border `u` falls outside the data, and `edge` says what lies there:
#' * `"replicate"` (default): the border sample, repeated. Every output is then a
#'   convex combination of input samples, so a constant image stays constant and values
#'   stay in the input's range.
#' * `"zero"`: zeros, which is MXNet's plain bilinear deconvolution (the recipe above).
#'   It darkens the border: at 2x a constant image of 1s gives 0.75 on its first and
#'   last rows and columns (0.5625 in the corners), at 4x 0.625.
#'
#' @param x An array in the package's convention (`dim` the layout reversed, e.g.
#'   `c(W, H, C, N)` for NCHW; see [from_layout()]), or, with `layout = "HWC"` or
#'   `"HW"`, an image as [png::readPNG()] or `jpeg::readJPEG()` return it (`H x W x C`
#'   or `H x W`), which comes back in the same form. Numeric; integer and logical `x`
#'   keep their type with `method = "nearest"`.
#' @param factor Whole numbers >= 1: one for all spatial dimensions, or one per
#'   dimension in R order (`c(fw, fh)`, `c(fw, fh, fd)`), as `kernel` in
#'   [deconvolution()], also for images.
#' @param method `"bilinear"` (default) or `"nearest"` (each sample copied into an
#'   `s x s` block, exactly: for labels).
#' @param edge `"replicate"` (default) or `"zero"`: what bilinear interpolation assumes
#'   beyond the border (see Details). Ignored by `"nearest"`.
#' @param layout `NULL` (channels-first, the rank from `dim(x)`), a layout of
#'   [deconvolution()] (`"NCW"`, `"NCHW"`, `"NCDHW"`, `"NHWC"`, `"NDHWC"`), or `"HWC"` /
#'   `"HW"` for an image as [png::readPNG()] returns it.
#' @param dtype `"float64"` or `"float32"`: the precision of the bilinear computation
#'   (results are doubles either way). `"nearest"` copies values and ignores it.
#' @param clamp Whether to clamp bilinear results to the input's range (with
#'   `edge = "zero"`, the range of the input and 0). The results are convex combinations
#'   of the input, so this only removes rounding excursions, which keeps images valid
#'   for [png::writePNG()] and constant images exactly constant; it costs a pass over the
#'   output.
#' @param alpha Whether the last channel is an alpha (opacity) channel. Colour channels
#'   are then interpolated premultiplied by alpha and divided by the interpolated alpha
#'   afterwards, so that the colour of transparent pixels does not bleed into their
#'   neighbours.
#' @param ... Passed to [deconvolution()]: `ctx`, `workspace`, `cudnn.tune`, ...
#' @return The upsampled array: each spatial dimension `factor` times longer, other
#'   dimensions as in `x`, in the same layout.
#' @seealso [upsample_file()] for PNG and JPEG files, [bilinear_kernel()] for the
#'   weights.
#' @examples
#' # A 2-channel 1D signal (NCW: dim c(W, C, N)), 3x longer.
#' x <- array(c(0, 1, 0, 1, 1, 2, 3, 4), dim = c(4, 2, 1))
#' upsample(x, 3)[, , 1]
#'
#' # A constant image stays constant with the default edge, not with MXNet's zeros.
#' img <- array(1, dim = c(8, 8, 3))                 # H x W x C, as png::readPNG gives
#' range(upsample(img, 4, layout = "HWC"))
#' range(upsample(img, 4, layout = "HWC", edge = "zero"))
#'
#' # Labels: nearest-neighbour copies, per-dimension factors (W 2x, H 3x).
#' labels <- matrix(1:6, nrow = 2)                    # H x W
#' upsample(labels, c(2, 3), method = "nearest", layout = "HW")
#' @export
upsample <- function(x, factor = 2, method = c("bilinear", "nearest"),
                     edge = c("replicate", "zero"), layout = NULL, dtype = "float64",
                     clamp = TRUE, alpha = FALSE, ...) {
  call <- sys.call()
  method <- choose_one(method, c("bilinear", "nearest"), "method", call)
  edge <- choose_one(edge, c("replicate", "zero"), "edge", call)
  layout <- check_upsample_layout(layout, call)
  dtype <- choose_one(dtype, c("float64", "float32"), "dtype", call, default = FALSE)
  check_flag(clamp, "clamp", call)
  check_flag(alpha, "alpha", call)
  image <- !is.null(layout) && layout %in% c("HWC", "HW")
  data <- check_upsample_x(x, layout, image, call)
  geom <- upsample_geometry(data, layout, image)
  s <- check_factor(factor, geom, layout, image, call)
  if (alpha && dim(data)[geom$channel] < 2) {
    deconv_abort("alpha", sprintf("TRUE needs an alpha channel after the colour channels; x has %d channel",
                                  dim(data)[geom$channel]), call = call)
  }
  y <- if (method == "nearest") {
    upsample_nearest(data, s, geom)
  } else {
    upsample_bilinear(data, s, geom, edge, dtype, clamp, alpha, call, ...)
  }
  if (image) image_back(y, layout) else y
}

# A choice among `choices`: the default (the whole vector) means the first.
choose_one <- function(value, choices, arg, call, default = TRUE) {
  if (default && identical(value, choices)) return(choices[1])
  if (!is.character(value) || is.object(value) || length(value) != 1 || is.na(value) ||
      !value %in% choices) {
    deconv_abort(arg, paste0("expected ", paste0("\"", choices, "\"", collapse = " or "),
                             ", got ", describe_value(value)), call = call)
  }
  value
}

check_upsample_layout <- function(layout, call) {
  known <- c("NCW", "NCHW", "NCDHW", "NHWC", "NDHWC", "HWC", "HW")
  if (!is.null(layout) && (!is.character(layout) || is.object(layout) || length(layout) != 1 ||
                           is.na(layout) || !layout %in% known)) {
    deconv_abort("layout", paste0("expected NULL or one of ", paste0("\"", known, "\"", collapse = ", "),
                                  "; got ", describe_value(layout)), call = call)
  }
  layout
}

# x as an array in the package's convention. An image's H x W (x C) array is used as it
# is, as NCHW data with dim c(H, W, C, 1): in memory that is from_layout(x, "HWC") with
# the two spatial axes swapped, and upsampling treats each axis on its own, so the
# result is the same without the two aperm() copies (which cost more than the kernel).
# Its factor is reversed to match (see check_factor()), and image_back() drops the
# added dimensions.
check_upsample_x <- function(x, layout, image, call) {
  if (missing(x) || !(is.numeric(x) || is.logical(x)) || is.object(x) || is.null(dim(x))) {
    deconv_abort("x", paste0("expected a numeric array, got ",
                             if (missing(x)) "nothing" else describe_value(x)), call = call)
  }
  d <- dim(x)
  if (image) {
    want <- nchar(layout)
    if (length(d) != want) {
      deconv_abort("x", sprintf("expected %d dimensions for layout \"%s\" (%s), got dim = %s",
                                want, layout, paste(strsplit(layout, "")[[1]], collapse = " x "),
                                dims_string(d)), class = "deconv_shape_error", call = call)
    }
  } else {
    want <- if (is.null(layout)) 3:5 else nchar(layout)
    if (!length(d) %in% want) {
      hint <- if (length(d) == 2) "; for a grey image (H x W) use layout = \"HW\"" else ""
      deconv_abort("x", sprintf("expected %s dimensions for %s, got dim = %s%s",
                                paste(want, collapse = ", "),
                                if (is.null(layout)) "1D, 2D or 3D data (layout NULL)" else
                                  paste0("layout \"", layout, "\""),
                                dims_string(d), hint), class = "deconv_shape_error", call = call)
    }
  }
  if (any(d == 0L)) {
    deconv_abort("x", sprintf("expected no empty dimension, got dim = %s", dims_string(d)),
                 class = "deconv_shape_error", call = call)
  }
  if (image) {
    dn <- dimnames(x)
    dim(x) <- c(d, rep(1L, 4L - length(d)))
    if (!is.null(dn)) dimnames(x) <- c(dn, vector("list", 4L - length(dn)))
  }
  x
}

image_back <- function(y, layout) {
  keep <- nchar(layout)
  dn <- dimnames(y)
  dim(y) <- dim(y)[seq_len(keep)]
  if (!is.null(dn)) dimnames(y) <- dn[seq_len(keep)]
  y
}

# Where the spatial and channel dimensions of the package-convention array sit.
upsample_geometry <- function(x, layout, image) {
  rank <- length(dim(x)) - 2L
  last <- !image && !is.null(layout) && layout %in% c("NHWC", "NDHWC")
  spatial <- if (last) seq_len(rank) + 1L else seq_len(rank)
  channel <- if (last) 1L else rank + 1L
  list(rank = rank, spatial = spatial, channel = channel, dims = dim(x),
       layout = if (image || is.null(layout)) NULL else layout)
}

check_factor <- function(factor, geom, layout, image, call) {
  r <- geom$rank
  if (!is.numeric(factor) || is.object(factor) || !length(factor) %in% unique(c(1L, r)) ||
      anyNA(factor) || any(factor < 1) || any(factor != round(factor)) ||
      any(factor > .Machine$integer.max)) {
    hint <- if (is.numeric(factor) && length(factor) == 2 && r == 1 && is.null(layout))
      "; 3-dimensional x is 1D data (W, C, N) here: for an image from png::readPNG use layout = \"HWC\"" else ""
    deconv_abort("factor", sprintf("expected 1%s whole number%s >= 1 for %dD data, got %s%s",
                                   if (r > 1) paste(" or", r) else "", if (r > 1) "s" else "",
                                   r, describe_value(factor), hint), call = call)
  }
  s <- rep_len(as.numeric(factor), r)
  if (image) s <- rev(s)                 # the image's dims are (H, W), the factor (fw, fh)
  out <- geom$dims[geom$spatial] * s
  if (any(out > .Machine$integer.max)) {
    deconv_abort("factor", sprintf("the output would have spatial dims %s; R arrays hold at most 2^31 - 1 per dimension",
                                   dims_string(out)), class = "deconv_shape_error", call = call)
  }
  s
}

# Each sample copied into a block: plain indexing, exact for any type.
upsample_nearest <- function(x, s, geom) {
  d <- dim(x)
  index <- lapply(d, seq_len)
  for (j in seq_along(geom$spatial)) {
    a <- geom$spatial[j]
    index[[a]] <- rep(seq_len(d[a]), each = s[j])
  }
  y <- do.call(`[`, c(list(x), index, list(drop = FALSE)))
  drop_spatial_dimnames(y, geom)
}

# Names along spatial dimensions do not survive upsampling; the others do.
drop_spatial_dimnames <- function(y, geom, names_only = FALSE) {
  dn <- dimnames(y)
  if (!is.null(dn)) {
    dn[geom$spatial] <- list(NULL)
    if (all(vapply(dn, is.null, TRUE))) dn <- NULL
  }
  if (names_only) return(dn)
  dimnames(y) <- dn
  y
}

# One depthwise deconvolution with bilinear weights. With edge = "replicate", the
# border sample is repeated once on each side of every upsampled dimension (one is
# enough: the weights reach at most one sample beyond the border), and `pad` grows by
# the stride to crop the extra output.
upsample_bilinear <- function(x, s, geom, edge, dtype, clamp, alpha, call, ...) {
  if (!is.double(x)) storage.mode(x) <- "double"
  names <- drop_spatial_dimnames(x, geom, names_only = TRUE)
  d <- dim(x)
  ch <- geom$channel
  C <- d[ch]
  if (alpha) x <- premultiply(x, ch, C)
  if (clamp) {
    lo <- suppressWarnings(min(x, na.rm = TRUE))
    hi <- suppressWarnings(max(x, na.rm = TRUE))
    if (edge == "zero") {
      lo <- min(lo, 0)
      hi <- max(hi, 0)
    }
  }
  k <- 2 * s - s %% 2
  pad <- ceiling((s - 1) / 2)
  if (edge == "replicate" && any(s > 1)) {
    index <- lapply(d, seq_len)
    for (j in which(s > 1)) {
      a <- geom$spatial[j]
      index[[a]] <- c(1L, seq_len(d[a]), d[a])
    }
    x <- do.call(`[`, c(list(x), index, list(drop = FALSE)))
    pad <- pad + ifelse(s > 1, s, 0)
  }
  w <- bilinear_kernel(k, channels = C, num.filter = C, num.group = C, layout = geom$layout)
  # Errors of the deconvolution (a bad ctx in `...`, memory) are reported as upsample()'s.
  y <- tryCatch(deconvolution(x, w, kernel = k, stride = s, pad = pad, num.filter = C,
                              num.group = C, layout = geom$layout, dtype = dtype, ...),
                deconv_error = function(e) {
    e$call <- call
    stop(e)
  })
  if (alpha) y <- unpremultiply(y, ch, C)
  if (clamp && is.finite(lo) && is.finite(hi)) y <- clamp_range(y, lo, hi)
  # deconvolution() returns a bare array; channel and sample names carry over.
  if (!is.null(names)) dimnames(y) <- names
  y
}

# Clamping touches the output only where it is out of range (two passes otherwise).
clamp_range <- function(y, lo, hi) {
  if (min(y, na.rm = TRUE) < lo) y[!is.na(y) & y < lo] <- lo
  if (max(y, na.rm = TRUE) > hi) y[!is.na(y) & y > hi] <- hi
  y
}

# Colour channels times alpha (the last channel), and back after interpolation; where
# the interpolated alpha is 0 there is no colour to recover, and 0 is returned.
premultiply <- function(x, ch, C) {
  a <- slice_channel(x, ch, C)
  for (c in seq_len(C - 1)) x <- set_channel(x, ch, c, slice_channel(x, ch, c) * a)
  x
}

unpremultiply <- function(y, ch, C) {
  a <- slice_channel(y, ch, C)
  for (c in seq_len(C - 1)) {
    v <- slice_channel(y, ch, c)
    v <- ifelse(a > 0, v / a, 0)
    y <- set_channel(y, ch, c, v)
  }
  y
}

channel_index <- function(y, ch, c) {
  index <- lapply(dim(y), function(n) TRUE)
  index[[ch]] <- c
  index
}

slice_channel <- function(y, ch, c) do.call(`[`, c(list(y), channel_index(y, ch, c), list(drop = FALSE)))

set_channel <- function(y, ch, c, v) do.call(`[<-`, c(list(y), channel_index(y, ch, c), list(value = v)))
