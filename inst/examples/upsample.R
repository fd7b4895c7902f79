# Bilinear upsampling of an image with deconv.
#
# Usage: Rscript upsample.R [OUTDIR]     (OUTDIR defaults to the current directory)
#
# Reads the R logo that the 'png' package ships (RGBA), upsamples it 2x and 4x with
# upsample_file() (a depthwise deconvolution with bilinear weights, the border
# replicated, colours interpolated premultiplied by alpha), writes Rlogo_x2.png and
# Rlogo_x4.png to OUTDIR, and checks the sizes and that a constant image stays constant.

library(deconv)
if (!requireNamespace("png", quietly = TRUE))
  stop("this example needs the 'png' package: install.packages(\"png\")")

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[[1]] else "."
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)

path <- system.file("img", "Rlogo.png", package = "png")
img <- png::readPNG(path)                         # H x W x C
shape <- function(d) paste0("c(", paste(d, collapse = ", "), ")")
cat(sprintf("input  %s: %s (H, W, C), %d thread(s)\n", basename(path), shape(dim(img)),
            deconv_threads()))

ok <- TRUE
for (s in c(2, 4)) {
  file <- file.path(outdir, sprintf("Rlogo_x%d.png", s))
  elapsed <- system.time(upsample_file(path, file, factor = s))[["elapsed"]]
  out <- png::readPNG(file)
  want <- c(s * dim(img)[1:2], dim(img)[3])
  exact <- identical(dim(out), as.integer(want))
  cat(sprintf("x%d     %s in %.1f ms -> %s: %s\n", s, shape(dim(out)), 1000 * elapsed, file,
              if (exact) "OK" else paste("MISMATCH, expected", shape(want))))
  ok <- ok && exact
}

# The border: MXNet's zero padding darkens it, edge replication does not.
flat <- array(1, dim = c(8, 8, 3))
zero <- upsample(flat, 4, edge = "zero", layout = "HWC")
repl <- upsample(flat, 4, layout = "HWC")
cat(sprintf("constant image at 4x: top row %.3f with edge = \"zero\", %.3f with \"replicate\"\n",
            mean(zero[1, , ]), mean(repl[1, , ])))
ok <- ok && all(repl == 1)
if (!ok) quit(status = 1)
