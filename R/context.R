#' Device contexts
#'
#' `mx.cpu()` and `mx.gpu()` name a device as MXNet R does; `ctx` arguments also take
#' the strings `"cpu"` and `"gpu"` (device 0).
#'
#' @param dev.id Device number (0-based, as in MXNet).
#' @return An object of class `MXContext`: a list with `device`, `device_id` and
#'   `device_typeid`.
#' @examples
#' mx.cpu()
#' mx.gpu(1)$device_id
#' @export
mx.cpu <- function(dev.id = 0L) {
  structure(list(device = "cpu", device_id = as.integer(dev.id), device_typeid = 1L),
            class = "MXContext")
}

#' @rdname mx.cpu
#' @export
mx.gpu <- function(dev.id = 0L) {
  structure(list(device = "gpu", device_id = as.integer(dev.id), device_typeid = 2L),
            class = "MXContext")
}

#' @export
print.MXContext <- function(x, ...) {
  cat(sprintf("%s(%d)\n", x$device, x$device_id))
  invisible(x)
}

# ctx as list(device = "cpu"/"gpu", id = int); anything else is a clear error.
parse_ctx <- function(ctx, call) {
  if (identical(ctx, "cpu")) return(list(device = "cpu", id = 0L))
  if (inherits(ctx, "MXContext")) ctx <- list(device = ctx$device, id = ctx$device_id)
  else if (is.character(ctx) && length(ctx) == 1 && ctx %in% c("cpu", "gpu"))
    ctx <- list(device = ctx, id = 0L)
  else deconv_abort("ctx", "expected \"cpu\", \"gpu\", mx.cpu() or mx.gpu(i)", call = call)
  if (length(ctx$id) != 1 || is.na(ctx$id) || ctx$id < 0)
    deconv_abort("ctx", "expected a non-negative device number", call = call)
  ctx
}
