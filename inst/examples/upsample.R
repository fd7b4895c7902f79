# Bilinear upsampling of an image with deconv's transposed convolution.
#
# Usage: Rscript upsample.R [OUTDIR]     (OUTDIR defaults to the current directory)
#
# Reads the R logo that the 'png' package ships, upsamples it 2x and 4x with
# deconvolution() and bilinear_kernel() weights (one group per channel, so each
# channel upsamples itself), and writes Rlogo_x2.png and Rlogo_x4.png to OUTDIR.

library(deconv)
if (!requireNamespace("png", quietly = TRUE))
  stop("this example needs the 'png' package: install.packages(\"png\")")

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[[1]] else "."
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)

# png::readPNG gives [H, W, C] (grey, grey + alpha, RGB or RGBA). MXNet R's layout for
# NCHW data is the reverse, dim c(W, H, C, N): swap H and W and add a batch of one.
path <- system.file("img", "Rlogo.png", package = "png")
img <- png::readPNG(path)
if (length(dim(img)) == 2) dim(img) <- c(dim(img), 1)
n_channels <- dim(img)[3]
has_alpha <- n_channels %in% c(2, 4)
x <- aperm(img, c(2, 1, 3))
dim(x) <- c(dim(x), 1)

# With straight (non-premultiplied) alpha, interpolating colour next to transparent
# pixels would pull in whatever colour those pixels hold. Interpolate premultiplied
# colour instead and divide by the interpolated alpha afterwards.
if (has_alpha) {
  alpha <- x[, , n_channels, 1]
  for (c in seq_len(n_channels - 1)) x[, , c, 1] <- x[, , c, 1] * alpha
}

upsample <- function(x, s) {
  k <- 2 * s - s %% 2
  p <- ceiling((s - 1) / 2)
  C <- dim(x)[3]
  w <- bilinear_kernel(c(k, k), channels = C, num.filter = C, num.group = C)
  deconvolution(x, w, kernel = c(k, k), stride = c(s, s), pad = c(p, p),
                num.filter = C, num.group = C)
}

to_png_array <- function(y) {
  if (has_alpha) {
    a <- y[, , n_channels, 1]
    keep <- a > 1e-6
    for (c in seq_len(n_channels - 1)) {
      ch <- y[, , c, 1]
      ch[keep] <- ch[keep] / a[keep]
      ch[!keep] <- 0
      y[, , c, 1] <- ch
    }
  }
  y <- pmin(pmax(y, 0), 1)                     # clamp to [0, 1]
  out <- aperm(y[, , , 1, drop = FALSE], c(2, 1, 3, 4))
  dim(out) <- dim(out)[1:3]                     # back to [H, W, C]
  out
}

shape <- function(d) paste0("c(", paste(d, collapse = ", "), ")")
cat(sprintf("input  %s: dim %s (W, H, C, N), %d channel(s)%s, %d thread(s)\n",
            basename(path), shape(dim(x)), n_channels,
            if (has_alpha) " with alpha" else "", deconv_threads()))

ok <- TRUE
for (s in c(2, 4)) {
  y <- NULL
  elapsed <- system.time(y <- upsample(x, s))[["elapsed"]]
  file <- file.path(outdir, sprintf("Rlogo_x%d.png", s))
  png::writePNG(to_png_array(y), file)
  cat(sprintf("x%d     dim %s in %.1f ms -> %s\n", s, shape(dim(y)), 1000 * elapsed, file))
  if (s == 2) {
    want <- c(2 * dim(x)[1:2], dim(x)[3:4])
    exact <- identical(as.integer(dim(y)), as.integer(want))
    cat(sprintf("x2 size check: output %s, expected %s: %s\n", shape(dim(y)), shape(want),
                if (exact) "OK (exactly 2x in W and H)" else "MISMATCH"))
    ok <- ok && exact
  }
}
if (!ok) quit(status = 1)
