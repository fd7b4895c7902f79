# Classed conditions: every deconv error is a `deconv_error` with a subclass saying
# what is at fault: a parameter or argument (`deconv_param_error`), a shape
# (`deconv_shape_error`), the build or device choice (`deconv_unsupported_error`), the
# GPU libraries at run time (`deconv_device_error`), memory (`deconv_resource_error`)
# or deconv itself (`deconv_internal_error`, a bug to report). Messages start with the
# argument's name. Errors from the C++ side are raised by core_result() (R/core.R).

deconv_abort <- function(arg, detail, class = "deconv_param_error", call = NULL) {
  stop(errorCondition(paste0(arg, ": ", detail), class = c(class, "deconv_error"),
                      call = call))
}

# What x is, for messages: "NULL", "TRUE", "32", "\"abc\"", "a factor", "a list of
# length 2". Long strings and numbers are shortened, so a message stays one line.
describe_value <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.factor(x)) return("a factor")
  if (is.object(x)) return(sprintf("an object of class \"%s\"", class(x)[1]))
  if (is.atomic(x) && length(x) == 1) {
    if (is.na(x)) return("NA")
    if (is.character(x)) {
      s <- if (nchar(x, type = "chars", allowNA = TRUE) %in% NA) "<invalid string>" else x
      if (nchar(s) > 40) s <- paste0(substr(s, 1, 40), "...")
      return(encodeString(s, quote = "\""))
    }
    if (is.numeric(x)) return(format(x, digits = 6))
    if (is.logical(x)) return(as.character(x))
  }
  sprintf("a %s of length %d", typeof(x), length(x))
}

# TRUE or FALSE given as `arg`, or an error naming it.
check_flag <- function(x, arg, call) {
  if (!is.logical(x) || is.object(x) || length(x) != 1 || is.na(x)) {
    deconv_abort(arg, paste0("expected TRUE or FALSE, got ", describe_value(x)), call = call)
  }
  x
}
