#' Bilinear upsampling weights
#'
#' The weight that makes a transposed convolution a bilinear upsampler: the kernel
#' MXNet's `mx.init.Bilinear` draws, for any kernel size (each dimension gets its own
#' factor `f = ceil(k / 2)`), 1D, 2D or 3D, any channels and groups. For an upsampling
#' factor `s` use `kernel = 2 * s - s %% 2`, `stride = s`, `pad = ceiling((s - 1) / 2)`.
#'
#' @param kernel Kernel size in R order (`c(kw, kh)`).
#' @param channels Input channels `C`.
#' @param num.filter Output channels.
#' @param num.group Number of groups.
#' @param diagonal `TRUE`: each output channel upsamples its own input channel (within a
#'   group, local input channel `i` feeds only local filter `i`; needs
#'   `channels / num.group == num.filter / num.group`). `FALSE`: every input channel of a
#'   group feeds every filter, as `mx.init.Bilinear` fills the whole weight.
#' @param layout `NULL` or a channels-first layout (weight dims `c(kernel, num.filter /
#'   num.group, channels)`), or `"NHWC"`/`"NDHWC"` (`c(num.filter / num.group, kernel,
#'   channels)`).
#' @return The weight array, `dim` in R order, ready for [deconvolution()].
#' @examples
#' bilinear_kernel(4)                 # 1D, factor 2
#' w <- bilinear_kernel(c(4, 4), channels = 3, num.filter = 3, num.group = 3)
#' dim(w)
#' @export
bilinear_kernel <- function(kernel, channels = 1, num.filter = channels, num.group = 1,
                            diagonal = TRUE, layout = NULL) {
  call <- sys.call()
  limit <- .Machine$integer.max
  count <- function(x, arg) {
    if (!is.numeric(x) || is.object(x) || length(x) != 1 || is.na(x) || x < 1 ||
        x != round(x) || x > limit)
      deconv_abort(arg, paste0("expected a positive whole number up to 2^31 - 1, got ",
                               describe_value(x)), call = call)
    as.integer(x)
  }
  if (!is.numeric(kernel) || is.object(kernel) || !length(kernel) %in% 1:3 || anyNA(kernel) ||
      any(kernel < 1) || any(kernel != round(kernel)) || any(kernel > limit))
    deconv_abort("kernel", paste0("expected 1, 2 or 3 positive whole numbers, got ",
                                  describe_value(kernel)), call = call)
  channels <- count(channels, "channels")
  num.filter <- count(num.filter, "num.filter")
  num.group <- count(num.group, "num.group")
  check_flag(diagonal, "diagonal", call)
  layouts <- list(`1` = "NCW", `2` = c("NCHW", "NHWC"), `3` = c("NCDHW", "NDHWC"))
  allowed <- layouts[[length(kernel)]]
  if (!is.null(layout) && (!is.character(layout) || length(layout) != 1 || is.na(layout) ||
                           !layout %in% allowed)) {
    deconv_abort("layout", sprintf("expected NULL or %s for a %dD kernel, got %s",
                                   paste0("\"", allowed, "\"", collapse = " or "),
                                   length(kernel), describe_value(layout)), call = call)
  }
  if (channels %% num.group) deconv_abort("num.group", "must divide channels", call = call)
  if (num.filter %% num.group) deconv_abort("num.group", "must divide num.filter", call = call)
  cg <- channels / num.group
  fg <- num.filter / num.group
  if (prod(as.numeric(kernel)) * fg * channels > limit) {
    deconv_abort("kernel", sprintf("the weight would have %s values, more than 2^31 - 1",
                                   format(prod(as.numeric(kernel)) * fg * channels, digits = 6)),
                 class = "deconv_shape_error", call = call)
  }
  if (diagonal && cg != fg) {
    deconv_abort("diagonal", sprintf(paste0(
      "TRUE needs as many input channels as filters per group (%d vs %d); ",
      "use diagonal = FALSE"), cg, fg), call = call)
  }
  taps <- function(k) {
    f <- ceiling(k / 2)
    centre <- (2 * f - 1 - f %% 2) / (2 * f)
    1 - abs(seq(0, k - 1) / f - centre)
  }
  pattern <- taps(kernel[1])
  for (k in kernel[-1]) pattern <- outer(pattern, taps(k))
  pattern <- as.vector(pattern)
  # mix[f, c]: 1 where local filter f is fed by local input channel c.
  mix <- if (diagonal) diag(1, fg) else matrix(1, fg, cg)
  mix <- mix[, rep(seq_len(cg), num.group), drop = FALSE]
  channels_last <- !is.null(layout) && layout %in% c("NHWC", "NDHWC")
  if (channels_last) {
    w <- array(0, c(fg, length(pattern), channels))
    for (c in seq_len(channels)) w[, , c] <- outer(mix[, c], pattern)
    dim(w) <- c(fg, kernel, channels)
  } else {
    w <- array(0, c(length(pattern), fg, channels))
    for (c in seq_len(channels)) w[, , c] <- outer(pattern, mix[, c])
    dim(w) <- c(kernel, fg, channels)
  }
  w
}
