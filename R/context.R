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
  structure(list(device = "cpu", device_id = check_device_id(dev.id, "dev.id", sys.call()),
                 device_typeid = 1L), class = "MXContext")
}

#' @rdname mx.cpu
#' @export
mx.gpu <- function(dev.id = 0L) {
  structure(list(device = "gpu", device_id = check_device_id(dev.id, "dev.id", sys.call()),
                 device_typeid = 2L), class = "MXContext")
}

check_device_id <- function(id, arg, call) {
  if (!is.numeric(id) || is.object(id) || length(id) != 1 || is.na(id) || id < 0 ||
      id != floor(id) || id > .Machine$integer.max) {
    deconv_abort(arg, paste0("expected a device number (a whole number from 0), got ",
                             describe_value(id)), call = call)
  }
  as.integer(id)
}

#' @export
print.MXContext <- function(x, ...) {
  cat(paste0(format(x[["device"]]), "(", format(x[["device_id"]]), ")"), "\n", sep = "")
  invisible(x)
}

# ctx as list(device = "cpu"/"gpu", id = int); anything else is a clear error. A
# context object is validated, not trusted: a hand-made one may say anything.
.cpu_ctx <- list(device = "cpu", id = 0L)

parse_ctx <- function(ctx, call) {
  if (identical(ctx, "cpu")) return(.cpu_ctx)  # the default, built once
  if (is.character(ctx) && length(ctx) == 1 && !is.na(ctx) && ctx %in% c("cpu", "gpu")) {
    return(list(device = ctx, id = 0L))
  }
  if (!inherits(ctx, "MXContext")) {
    deconv_abort("ctx", paste0("expected \"cpu\", \"gpu\", mx.cpu() or mx.gpu(i), got ",
                               describe_value(ctx)), call = call)
  }
  device <- if (is.list(ctx)) ctx[["device"]]
  if (!is.character(device) || length(device) != 1 || is.na(device) ||
      !device %in% c("cpu", "gpu")) {
    deconv_abort("ctx", paste0("expected a context of device \"cpu\" or \"gpu\", got device ",
                               describe_value(device)), call = call)
  }
  list(device = device, id = check_device_id(ctx[["device_id"]], "ctx", call))
}
