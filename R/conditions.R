# Classed conditions: every deconv error is a `deconv_error` with a subclass saying
# whether a parameter (`deconv_param_error`), a shape (`deconv_shape_error`) or the
# build (`deconv_unsupported_error`) is at fault. Messages start with the argument name.

deconv_abort <- function(arg, detail, class = "deconv_param_error", call = NULL) {
  stop(errorCondition(paste0(arg, ": ", detail), class = c(class, "deconv_error"),
                      call = call))
}

# The core's entry points return a "deconv_core_error" value instead of throwing (see
# src/r_errors.h); this raises it from the user's call. Cheap when there is no error.
core_call <- function(result, call) {
  if (inherits(result, "deconv_core_error")) {
    stop(errorCondition(result$message, class = c(result$class, "deconv_error"), call = call))
  }
  result
}
