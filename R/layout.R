#' Convert arrays between ordinary layouts and the package's convention
#'
#' deconv follows MXNet R: `dim(x)` is the layout reversed, so NCHW data is an array with
#' `dim = c(W, H, C, N)`. Arrays from elsewhere read the other way round: a torch or
#' numpy NCHW batch (through reticulate, or written with `array()`) has
#' `dim = c(N, C, H, W)`, a keras batch `c(N, H, W, C)`, and [png::readPNG()] or
#' `jpeg::readJPEG()` return `H x W x C` (or `H x W` for grey). `from_layout()` turns such
#' an array into the package's convention; `to_layout()` turns a result back. Both only
#' permute dimensions (with [aperm()]), so round trips are exact, and dimnames move with
#' their dimensions.
#'
#' `layout` names the order in which `dim(x)` reads for the ordinary array:
#' * data: `"NCW"`, `"NWC"`, `"NCHW"`, `"NHWC"`, `"NCDHW"`, `"NDHWC"` (torch and numpy
#'   hold channels-first data, keras channels-last);
#' * images: `"HWC"` (colour, as `png::readPNG()` returns it) and `"HW"` (grey); a
#'   batch of one image (`N = 1`, and `C = 1` for `"HW"`);
#' * weights: `"torch_weight"`, the `weight` of torch's `ConvTranspose1d/2d/3d`, whose
#'   dims are `(C, F / groups, k...)` as in MXNet, and `"keras_weight"`, the kernel of
#'   keras's `Conv1DTranspose/2D/3D`, `(k..., F, C)`.
#'
#' `as` (and `from`) name the package layout on the other side: by default the
#' channels-first one of the same rank (`"NCW"`, `"NCHW"` or `"NCDHW"`), which
#' [deconvolution()] assumes when `layout = NULL`; `"NHWC"` or `"NDHWC"` give the
#' channels-last convention (`dim = c(C, W, H, N)`; weights `c(F / groups, kw, kh, C)`),
#' to be used with `layout = "NHWC"`.
#'
#' @param x An array (a matrix for `"HW"`).
#' @param layout The ordinary array's layout, one of those above.
#' @param as,from The package layout: `NULL` (channels-first) or a layout name of
#'   [deconvolution()] of the same rank.
#' @return `from_layout()`: the array in the package's convention, ready for
#'   [deconvolution()] or [upsample()]. `to_layout()`: the array with `dim` in `layout`'s
#'   order.
#' @examples
#' # A torch-style NCHW batch: 2 samples, 3 channels, 4 x 5 pixels.
#' x <- array(rnorm(2 * 3 * 4 * 5), dim = c(2, 3, 4, 5))
#' d <- from_layout(x, "NCHW")
#' dim(d)                                 # c(W, H, C, N) = 5 4 3 2
#' identical(to_layout(d, "NCHW"), x)
#' # An image as png::readPNG() returns it (H x W x C).
#' img <- array(runif(4 * 6 * 3), dim = c(4, 6, 3))
#' dim(from_layout(img, "HWC"))           # c(W, H, C, 1) = 6 4 3 1
#' # A torch ConvTranspose2d weight, (C, F, kh, kw).
#' w <- array(rnorm(3 * 2 * 4 * 4), dim = c(3, 2, 4, 4))
#' y <- deconvolution(d, from_layout(w, "torch_weight"), kernel = c(4, 4),
#'                    stride = c(2, 2), num.filter = 2)
#' dim(to_layout(y, "NCHW"))              # N, F, H_out, W_out
#' @export
from_layout <- function(x, layout, as = NULL) {
  call <- sys.call()
  spec <- layout_spec(x, layout, call)
  to <- package_axes(spec, as, "as", call)
  if (spec$add) {
    dn <- dimnames(x)
    dim(x) <- c(dim(x), rep(1L, length(spec$axes) - length(dim(x))))
    if (!is.null(dn)) dimnames(x) <- c(dn, vector("list", length(spec$axes) - length(dn)))
  }
  aperm(x, match(to, spec$axes))
}

#' @rdname from_layout
#' @export
to_layout <- function(x, layout, from = NULL) {
  call <- sys.call()
  spec <- layout_spec(NULL, layout, call)
  if (!is.array(x) || !(is.numeric(x) || is.logical(x))) {
    deconv_abort("x", paste0("expected a numeric array, got ", describe_value(x)),
                 call = call)
  }
  rank <- spec$rank %||% (length(dim(x)) - 2L)
  spec <- layout_spec(NULL, layout, call, rank = rank)
  have <- package_axes(spec, from, "from", call)
  if (length(dim(x)) != length(have)) {
    deconv_abort("x", sprintf("expected %d dimensions for %s in the package's convention, got dim = %s",
                              length(have), layout, dims_string(dim(x))),
                 class = "deconv_shape_error", call = call)
  }
  y <- aperm(x, match(spec$axes, have))
  if (spec$add) {
    keep <- seq_len(spec$kept)
    extra <- dim(y)[-keep]
    if (any(extra != 1L)) {
      deconv_abort("x", sprintf("%s holds one image (%s), got dim = %s; use \"%s\" for a batch",
                                layout, if (layout == "HW") "C = 1 and N = 1" else "N = 1",
                                dims_string(dim(x)), "NHWC"),
                   class = "deconv_shape_error", call = call)
    }
    dn <- dimnames(y)
    dim(y) <- dim(y)[keep]
    if (!is.null(dn)) dimnames(y) <- dn[keep]
  }
  y
}

# The axes of an ordinary array in `layout` (the order dim(x) reads in), its rank, and,
# for images, how many of those axes the array itself has (the rest are added as 1).
layout_spec <- function(x, layout, call, rank = NULL) {
  data <- c("NCW", "NWC", "NCHW", "NHWC", "NCDHW", "NDHWC")
  known <- c(data, "HWC", "HW", "torch_weight", "keras_weight")
  if (!is.character(layout) || length(layout) != 1 || is.na(layout) || !layout %in% known) {
    deconv_abort("layout", paste0("expected one of ", paste0("\"", known, "\"", collapse = ", "),
                                  "; got ", describe_value(layout)), call = call)
  }
  spatial <- function(r) c("D", "H", "W")[(4 - r):3]
  if (layout %in% data) {
    axes <- strsplit(layout, "")[[1]]
    spec <- list(axes = axes, rank = length(axes) - 2L, add = FALSE, weight = FALSE)
  } else if (layout %in% c("HWC", "HW")) {
    spec <- list(axes = c("H", "W", "C", "N"), rank = 2L, add = TRUE, weight = FALSE,
                 kept = nchar(layout))
  } else {
    if (!is.null(x)) rank <- length(dim(x)) - 2L
    if (!is.null(rank) && !rank %in% 1:3) {
      deconv_abort("x", sprintf("expected a weight with 3, 4 or 5 dimensions for %s, got dim = %s",
                                layout, dims_string(dim(x))),
                   class = "deconv_shape_error", call = call)
    }
    axes <- if (is.null(rank)) NULL else if (layout == "torch_weight")
      c("C", "F", spatial(rank)) else c(spatial(rank), "F", "C")
    spec <- list(axes = axes, rank = rank, add = FALSE, weight = TRUE)
  }
  if (!is.null(x)) check_layout_array(x, spec, layout, call)
  spec
}

check_layout_array <- function(x, spec, layout, call) {
  if (!(is.numeric(x) || is.logical(x)) || is.null(dim(x)) || is.data.frame(x)) {
    deconv_abort("x", paste0("expected a numeric array, got ", describe_value(x)),
                 call = call)
  }
  want <- if (spec$add) spec$kept else length(spec$axes)
  if (length(dim(x)) != want) {
    deconv_abort("x", sprintf("expected %d dimensions for layout \"%s\" (%s), got dim = %s",
                              want, layout, paste(spec$axes[seq_len(want)], collapse = " x "),
                              dims_string(dim(x))),
                 class = "deconv_shape_error", call = call)
  }
}

# The axes of the package's convention for package layout `as` (NULL: channels-first).
package_axes <- function(spec, as, arg, call) {
  allowed <- list(c("NCW"), c("NCHW", "NHWC"), c("NCDHW", "NDHWC"))[[spec$rank]]
  if (is.null(as)) as <- allowed[1]
  if (!is.character(as) || length(as) != 1 || is.na(as) || !as %in% allowed) {
    deconv_abort(arg, sprintf("expected NULL or %s for %dD %s, got %s",
                              paste0("\"", allowed, "\"", collapse = " or "), spec$rank,
                              if (spec$weight) "weights" else "data", describe_value(as)),
                 call = call)
  }
  last <- as != allowed[1]
  space <- rev(c("D", "H", "W")[(4 - spec$rank):3])
  if (spec$weight) {
    if (last) c("F", space, "C") else c(space, "F", "C")
  } else {
    if (last) c("C", space, "N") else c(space, "C", "N")
  }
}
