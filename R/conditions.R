# Classed conditions: every deconv error is a `deconv_error` with a subclass saying
# whether a parameter (`deconv_param_error`), a shape (`deconv_shape_error`) or the
# build (`deconv_unsupported_error`) is at fault. Messages start with the argument name.

deconv_abort <- function(arg, detail, class = "deconv_param_error", call = NULL) {
  stop(errorCondition(paste0(arg, ": ", detail), class = c(class, "deconv_error"),
                      call = call))
}

# Maps the C++ exception type (Rcpp makes it the first condition class) to ours.
.core_classes <- c(
  "deconv::ParamError" = "deconv_param_error",
  "deconv::ShapeError" = "deconv_shape_error",
  "deconv::UnsupportedError" = "deconv_unsupported_error"
)

# Evaluates a call into the core and re-signals its errors from the user's call.
core_call <- function(expr, call) {
  tryCatch(expr, "C++Error" = function(e) {
    kind <- unname(.core_classes[class(e)[1]])
    if (is.na(kind)) stop(e)
    stop(errorCondition(conditionMessage(e), class = c(kind, "deconv_error"), call = call))
  })
}
