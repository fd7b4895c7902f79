#' Upsample a PNG or JPEG file
#'
#' Reads an image file, upsamples it with [upsample()] and writes the result. The
#' format is told by each file's extension (`.png`, `.jpg` or `.jpeg`, any case), read
#' and written with the 'png' and 'jpeg' packages. PNG transparency is kept (colours
#' are interpolated premultiplied by alpha); a transparent image written as JPEG, which
#' has no alpha, is composited onto white.
#'
#' @param input Path of the PNG or JPEG file to read.
#' @param output Path of the PNG or JPEG file to write (replaced if it exists).
#' @param factor Upsampling factor: one whole number, or `c(fw, fh)` (width first, as
#'   everywhere in the package).
#' @param ... Passed to [upsample()]: `method`, `edge`, `dtype`, `ctx`, ...
#' @param quality JPEG quality, a number in (0, 1]; ignored for PNG output.
#' @return `output`, invisibly.
#' @examples
#' if (requireNamespace("png", quietly = TRUE)) {
#'   out <- tempfile(fileext = ".png")
#'   upsample_file(system.file("img", "Rlogo.png", package = "png"), out, factor = 2)
#'   dim(png::readPNG(out))
#' }
#' @export
upsample_file <- function(input, output, factor = 2, ..., quality = 0.95) {
  call <- sys.call()
  input <- check_image_path(input, "input", call)
  output <- check_image_path(output, "output", call)
  if (!is.numeric(quality) || is.object(quality) || length(quality) != 1 || is.na(quality) ||
      quality <= 0 || quality > 1) {
    deconv_abort("quality", paste0("expected a number in (0, 1], got ", describe_value(quality)),
                 call = call)
  }
  check_readable(input$path, call)
  img <- read_image(input, call)
  channels <- if (length(dim(img)) == 3) dim(img)[3] else 1L
  alpha <- channels %in% c(2L, 4L)
  y <- upsample(img, factor, layout = if (length(dim(img)) == 3) "HWC" else "HW",
                alpha = alpha, ...)
  if (output$format == "jpeg" && alpha) y <- onto_white(y)
  write_image(y, output, quality, call)
  invisible(output$path)
}

# The path and its format, from the extension.
check_image_path <- function(path, arg, call) {
  path <- check_path_string(path, arg, call)
  ext <- tolower(tools::file_ext(path))
  format <- switch(ext, png = "png", jpg = , jpeg = "jpeg",
                   deconv_abort(arg, sprintf("expected a .png, .jpg or .jpeg file, got %s",
                                             quote_path(path)), call = call))
  if (!requireNamespace(format, quietly = TRUE)) {
    deconv_abort(arg, sprintf("%s files need the '%s' package: install.packages(\"%s\")",
                              toupper(ext), format, format),
                 class = "deconv_unsupported_error", call = call)
  }
  list(path = path, format = format)
}

check_readable <- function(path, call) {
  what <- quote_path(path)
  if (!file.exists(path)) {
    deconv_abort("input", paste0("no such file: ", what), class = file_error, call = call)
  }
  if (dir.exists(path) || !is_regular_file(path)) {
    deconv_abort("input", paste0(what, " is not a regular file"), class = file_error,
                 call = call)
  }
  if (file.access(path, 4) != 0) {
    deconv_abort("input", paste0(what, " is not readable"), class = file_error,
                 call = call)
  }
}

read_image <- function(input, call) {
  fail <- function(e) {
    deconv_abort("input", sprintf("cannot read %s as %s: %s", quote_path(input$path),
                                  toupper(input$format), conditionMessage(e)),
                 class = file_error, call = call)
  }
  img <- tryCatch(if (input$format == "png") png::readPNG(input$path) else
                    jpeg::readJPEG(input$path), error = fail, warning = fail)
  # A paletted PNG can come back as a nativeRaster; ask for plain arrays only.
  if (!is.numeric(img) || !length(dim(img)) %in% 2:3) {
    fail(simpleError("not a numeric image array"))
  }
  img
}

write_image <- function(y, output, quality, call) {
  fail <- function(e) {
    deconv_abort("output", sprintf("cannot write %s: %s", quote_path(output$path),
                                   conditionMessage(e)), class = file_error, call = call)
  }
  tryCatch(if (output$format == "png") png::writePNG(y, output$path) else
             jpeg::writeJPEG(y, output$path, quality = quality), error = fail)
}

# H x W x C with alpha last, composited onto a white background; alpha dropped.
onto_white <- function(y) {
  C <- dim(y)[3]
  a <- y[, , C]
  out <- y[, , -C, drop = FALSE]
  for (c in seq_len(C - 1)) out[, , c] <- out[, , c] * a + (1 - a)
  if (C == 2) out[, , 1] else out
}

# File names in messages are given in full (describe_value() shortens long strings).
quote_path <- function(path) encodeString(path, quote = "\"")

# A file that cannot be read or written is a bad argument, and says it is a file.
file_error <- c("deconv_file_error", "deconv_param_error")
