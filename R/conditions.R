# Classed conditions. Every deconv error is a `deconv_error`; its first class says
# what is at fault:
#   deconv_param_error        a parameter or argument; deconv_file_error, a subclass of
#                             it, a file that cannot be read or written (upsample_file())
#   deconv_shape_error        a shape (of an array, or one inferred in a symbol)
#   deconv_unsupported_error  something this build, device or file format cannot do (a
#                             CPU-only build asked for the GPU, a JSON operator other
#                             than Deconvolution, an image reader not installed)
#   deconv_device_error       the GPU libraries (CUDA, cuDNN) failing at run time
#   deconv_resource_error     memory: temporaries or a result too large to allocate
#   deconv_internal_error     deconv itself (a C++ exception it does not know: a bug)
#   deconv_batch_error        one item of deconv_batch() or upsample_files()
#                             failed; its `parent` is that item's condition
# A C++ deconv::Error of no subclass arrives as a bare `deconv_error`. Messages start
# with the argument's name. Errors from the C++ side come back as "deconv_core_error"
# values (src/r_boundary.h), raised by core_result() (R/core.R). Not errors: the
# `deconv_warning` for more threads than cores (R/threads.R) and the
# `deconv_sequential_message` of a batch run without future (R/batch.R).

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
