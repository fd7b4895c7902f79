# upsample() and upsample_file(): against an interpolation formula written here from
# its definition, constant images, nearest copies, the zero-edge recipe, image layouts,
# files, and errors.
#
# The formula. A bilinear deconvolution by s (kernel k = 2s - s %% 2, stride s,
# pad p = ceiling((s - 1) / 2)) writes input i to output o = i * s + t - p with tap
# weight 1 - |t / s - c|, c = (2s - 1 - s %% 2) / (2s) (mx.init.Bilinear with f = s).
# Substituting t = o + p - i * s gives, for even and odd s alike, 1 - |u - i| with
# u = (o + 0.5) / s - 0.5: the tent around the half-pixel-centre coordinate u. So
# output o is (1 - f) x[floor(u)] + f x[floor(u) + 1], f = u - floor(u); the tests
# below build that from u alone, with the border sample repeated (edge = "replicate")
# or zeros (edge = "zero") where floor(u) or floor(u) + 1 leaves 0..n-1.

interp_matrix <- function(n, s, edge) {
  M <- matrix(0, n * s, n)
  for (o in seq_len(n * s) - 1) {
    u <- (o + 0.5) / s - 0.5
    i <- floor(u)
    f <- u - i
    for (j in 0:1) {
      src <- i + j
      wt <- if (j == 0) 1 - f else f
      if (edge == "replicate") src <- min(max(src, 0), n - 1)
      if (src >= 0 && src < n) M[o + 1, src + 1] <- M[o + 1, src + 1] + wt
    }
  }
  M
}

# Applies M along dimension `axis` of array x.
along <- function(x, M, axis) {
  d <- dim(x)
  perm <- c(axis, seq_along(d)[-axis])
  y <- M %*% matrix(aperm(x, perm), d[axis])
  aperm(array(y, c(nrow(M), d[-axis])), order(perm))
}

formula_upsample <- function(x, s, edge, spatial) {
  for (j in seq_along(spatial)) x <- along(x, interp_matrix(dim(x)[spatial[j]], s[j], edge), spatial[j])
  x
}

test_that("the formula reproduces the textbook case: 2x of c(0, 1) is 0, .25, .75, 1", {
  expect_equal(drop(interp_matrix(2, 2, "replicate") %*% c(0, 1)), c(0, 0.25, 0.75, 1))
  expect_equal(drop(interp_matrix(2, 2, "zero") %*% c(1, 1)), c(0.75, 1, 1, 0.75))
})

test_that("bilinear upsample() agrees with the direct formula (1D/2D/3D, layouts, edges, dtypes)", {
  set.seed(13)
  cases <- list(
    list(d = c(5, 2, 2), s = 3, spatial = 1, layout = NULL),
    list(d = c(4, 3, 2, 2), s = c(2, 3), spatial = 1:2, layout = NULL),
    list(d = c(3, 5, 4, 1), s = c(4, 1), spatial = 1:2, layout = "NCHW"),
    list(d = c(3, 4, 5, 2), s = c(2, 5), spatial = 2:3, layout = "NHWC"),
    list(d = c(3, 2, 4, 2, 1), s = c(2, 1, 3), spatial = 1:3, layout = NULL),
    list(d = c(2, 3, 2, 3, 1), s = 2, spatial = 2:4, layout = "NDHWC"))
  for (cs in cases) {
    x <- array(runif(prod(cs$d)), cs$d)
    s <- rep_len(cs$s, length(cs$spatial))
    for (edge in c("replicate", "zero")) {
      want <- formula_upsample(x, s, edge, cs$spatial)
      info <- paste(paste(cs$d, collapse = "x"), paste(cs$s, collapse = ","), edge, cs$layout)
      expect_equal(upsample(x, cs$s, edge = edge, layout = cs$layout), want,
                   tolerance = 1e-13, info = info)
      expect_equal(upsample(x, cs$s, edge = edge, layout = cs$layout, dtype = "float32"),
                   want, tolerance = 1e-6, info = info)
    }
  }
})

test_that("a constant image stays constant at factors 1..8 with the replicate edge", {
  shapes <- list(c(5, 2, 1), c(4, 3, 2, 1), c(3, 2, 3, 2, 1))
  for (d in shapes) {
    x <- array(0.37, d)
    r <- length(d) - 2
    for (s in 1:8) {
      for (dtype in c("float64", "float32")) {
        info <- paste(length(d) - 2, "D, factor", s, dtype)
        y <- upsample(x, s, dtype = dtype, clamp = FALSE)
        expect_identical(dim(y), as.integer(c(d[seq_len(r)] * s, d[-seq_len(r)])), info = info)
        # Unclamped: constant up to rounding; clamped: exactly.
        tol <- if (dtype == "float64") 1e-15 else 1e-7
        expect_lt(max(abs(y - 0.37)), tol)
        expect_true(all(upsample(x, s, dtype = dtype) == 0.37), info = info)
      }
    }
  }
})

test_that("the zero edge is the plain deconvolution recipe, and darkens the border", {
  x <- array(runif(6 * 5 * 3), c(6, 5, 3, 1))
  for (s in 2:4) {
    k <- 2 * s - s %% 2
    p <- ceiling((s - 1) / 2)
    w <- bilinear_kernel(c(k, k), channels = 3, num.filter = 3, num.group = 3)
    plain <- deconvolution(x, w, kernel = c(k, k), stride = c(s, s), pad = c(p, p),
                           num.filter = 3, num.group = 3)
    expect_identical(upsample(x, s, edge = "zero", clamp = FALSE), plain)
    expect_equal(upsample(x, s, edge = "zero"), plain, tolerance = 1e-15)
  }
  ones <- array(1, c(8, 8, 1, 1))
  expect_equal(upsample(ones, 2, edge = "zero")[3, 1, 1, 1], 0.75)
  expect_equal(upsample(ones, 4, edge = "zero")[5, 1, 1, 1], 0.625)
})

test_that("bilinear results stay in the input's range", {
  set.seed(2)
  img <- array(runif(9 * 7 * 3), c(9, 7, 3))
  for (dtype in c("float64", "float32")) {
    for (s in c(3, 5)) {
      y <- upsample(img, s, layout = "HWC", dtype = dtype)
      expect_gte(min(y), min(img))
      expect_lte(max(y), max(img))
    }
  }
})

test_that("nearest gives exact copies, as kronecker/rep expansion does", {
  set.seed(3)
  x1 <- array(rnorm(4 * 3 * 2), c(4, 3, 2))
  expect_identical(upsample(x1, 3, method = "nearest"),
                   array(apply(x1, 2:3, rep, each = 3), c(12, 3, 2)))
  x2 <- array(sample.int(9, 5 * 4 * 2, TRUE), c(5, 4, 2, 1))
  y2 <- upsample(x2, c(2, 3), method = "nearest")
  expect_type(y2, "integer")
  for (c in 1:2) {
    want <- kronecker(x2[, , c, 1], matrix(1L, 2, 3))   # kronecker() gives doubles
    storage.mode(want) <- "integer"
    expect_identical(y2[, , c, 1], want)
  }
  x3 <- array(c(NA, rnorm(3 * 2 * 2 * 2 - 1)), c(3, 2, 2, 2, 1))
  y3 <- upsample(x3, c(2, 1, 2), method = "nearest")
  expect_identical(dim(y3), c(6L, 2L, 4L, 2L, 1L))
  expect_identical(y3[, , , 2, 1], x3[rep(1:3, each = 2), , rep(1:2, each = 2), 2, 1])
  expect_true(all(is.na(y3[1:2, 1, 1:2, 1, 1])))
  last <- array(1:24, c(2, 3, 4, 1))                    # NHWC: C = 2, W = 3, H = 4
  expect_identical(upsample(last, 2, method = "nearest", layout = "NHWC"),
                   last[, rep(1:3, each = 2), rep(1:4, each = 2), , drop = FALSE])
})

test_that("image layouts HWC and HW come back in their own shape and orientation", {
  set.seed(4)
  img <- array(runif(5 * 7 * 3), c(5, 7, 3))            # H = 5, W = 7
  y <- upsample(img, c(2, 3), layout = "HWC")           # factor in R order: W 2x, H 3x
  expect_identical(dim(y), c(15L, 14L, 3L))
  expect_equal(y, to_layout(upsample(from_layout(img, "HWC"), c(2, 3)), "HWC"))
  grey <- img[, , 1]
  g <- upsample(grey, 2, layout = "HW")
  expect_identical(dim(g), c(10L, 14L))
  expect_equal(g, formula_upsample(grey, c(2, 2), "replicate", 1:2))
  expect_identical(dim(upsample(grey, 4, method = "nearest", layout = "HW")), c(20L, 28L))
})

test_that("alpha: transparent pixels' colour does not bleed", {
  rgba <- array(0, c(1, 4, 2))                          # H = 1, W = 4, grey + alpha
  rgba[1, , 1] <- c(0.5, 0.5, 1, 1)                     # colour of the transparent half
  rgba[1, , 2] <- c(1, 1, 0, 0)                         # is not to show
  y <- upsample(rgba, c(2, 1), layout = "HWC", alpha = TRUE)
  seen <- y[1, , 2] > 0
  expect_identical(seen, c(rep(TRUE, 5), rep(FALSE, 3)))
  expect_true(all(abs(y[1, seen, 1] - 0.5) < 1e-12))
  expect_equal(y[1, , 2], c(1, 1, 1, 0.75, 0.25, 0, 0, 0))
  expect_true(any(upsample(rgba, c(2, 1), layout = "HWC")[1, seen, 1] > 0.6))
})

test_that("dimnames of channels and samples are kept; ctx and workspace pass through", {
  x <- array(runif(4 * 3 * 2), c(4, 3, 2, 1), dimnames = list(NULL, NULL, c("a", "b"), "s1"))
  y <- upsample(x, 2, ctx = "cpu", workspace = 1)
  expect_identical(dimnames(y), list(NULL, NULL, c("a", "b"), "s1"))
  expect_identical(dimnames(upsample(x, 2, method = "nearest")), dimnames(y))
})

skip_if_no_pkg <- function(p) skip_if_not_installed(p)

test_that("upsample_file round-trips PNG (grey, RGB, RGBA) and JPEG", {
  skip_if_no_pkg("png")
  set.seed(5)
  dir <- withr::local_tempdir()
  for (ch in c(1, 3, 4)) {
    img <- if (ch == 1) matrix(runif(6 * 8), 6, 8) else array(runif(6 * 8 * ch), c(6, 8, ch))
    if (ch == 4) img[, , 4] <- 1                         # opaque: colours match upsample()
    input <- file.path(dir, sprintf("in%d.png", ch))
    png::writePNG(img, input)
    stored <- png::readPNG(input)
    output <- file.path(dir, sprintf("out%d.PNG", ch))
    expect_identical(upsample_file(input, output, factor = c(2, 3)), output)
    back <- png::readPNG(output)
    want <- upsample(stored, c(2, 3), layout = if (ch == 1) "HW" else "HWC")
    expect_identical(dim(back), dim(want))
    expect_lte(max(abs(back - want)), 0.5 / 255 + 1e-9)  # 8-bit rounding only
  }
  skip_if_no_pkg("jpeg")
  img <- array(runif(16 * 16 * 3), c(16, 16, 3))
  input <- file.path(dir, "in.jpg")
  jpeg::writeJPEG(img, input, quality = 1)
  output <- file.path(dir, "out.jpeg")
  upsample_file(input, output, factor = 4, quality = 1)
  back <- jpeg::readJPEG(output)
  expect_identical(dim(back), c(64L, 64L, 3L))
  expect_lt(abs(mean(back) - mean(jpeg::readJPEG(input))), 0.02)
  # A transparent PNG written as JPEG is composited onto white.
  rgba <- array(0, c(4, 4, 4))
  png::writePNG(rgba, file.path(dir, "clear.png"))
  upsample_file(file.path(dir, "clear.png"), file.path(dir, "clear.jpg"))
  expect_gt(min(jpeg::readJPEG(file.path(dir, "clear.jpg"))), 0.95)
})

test_that("bad factor, method, edge, layout, x and flags are classed errors naming them", {
  x <- array(1, c(4, 4, 1, 1))
  bad <- list(
    list(quote(upsample(x, 0)), "factor", "deconv_param_error"),
    list(quote(upsample(x, 1.5)), "factor", "deconv_param_error"),
    list(quote(upsample(x, NA)), "factor", "deconv_param_error"),
    list(quote(upsample(x, "2")), "factor", "deconv_param_error"),
    list(quote(upsample(x, factor(2))), "factor", "deconv_param_error"),
    list(quote(upsample(x, c(2, 2, 2))), "factor", "deconv_param_error"),
    list(quote(upsample(x, 2^31)), "factor", "deconv_param_error"),
    list(quote(upsample(x, 2^30)), "factor", "deconv_shape_error"),
    list(quote(upsample(x, method = "cubic")), "method", "deconv_param_error"),
    list(quote(upsample(x, method = c("nearest", "bilinear"))), "method", "deconv_param_error"),
    list(quote(upsample(x, edge = "reflect")), "edge", "deconv_param_error"),
    list(quote(upsample(x, edge = NA)), "edge", "deconv_param_error"),
    list(quote(upsample(x, layout = "CHW")), "layout", "deconv_param_error"),
    list(quote(upsample(x, layout = "NCW")), "x", "deconv_shape_error"),
    list(quote(upsample(x, dtype = "float16")), "dtype", "deconv_param_error"),
    list(quote(upsample(x, clamp = NA)), "clamp", "deconv_param_error"),
    list(quote(upsample(x, alpha = TRUE)), "alpha", "deconv_param_error"),
    list(quote(upsample(list(1, 2))), "x", "deconv_param_error"),
    list(quote(upsample(array("a", c(2, 2, 1)))), "x", "deconv_param_error"),
    list(quote(upsample(1:4)), "x", "deconv_param_error"),
    list(quote(upsample(matrix(1, 2, 2))), "x", "deconv_shape_error"),
    list(quote(upsample(array(1, c(2, 2, 2)), layout = "HW")), "x", "deconv_shape_error"),
    list(quote(upsample(array(1, c(0, 2, 1)))), "x", "deconv_shape_error"),
    list(quote(upsample(x, ctx = "tpu")), "ctx", "deconv_error"))
  for (b in bad) {
    err <- expect_error(eval(b[[1]]), class = b[[3]], info = deparse(b[[1]]))
    expect_match(conditionMessage(err), paste0("^", b[[2]], ": "), info = deparse(b[[1]]))
    expect_identical(conditionCall(err)[[1]], quote(upsample), info = deparse(b[[1]]))
  }
  # The grey-image and readPNG-order hints.
  expect_error(upsample(matrix(1, 2, 2)), "layout = \"HW\"")
  expect_error(upsample(array(1, c(5, 6, 3)), c(2, 2)), "layout = \"HWC\"")
})

test_that("upsample_file errors name the file and the argument", {
  skip_if_no_pkg("png")
  dir <- withr::local_tempdir()
  out <- file.path(dir, "out.png")
  missing_file <- file.path(dir, "nope.png")
  err <- expect_error(upsample_file(missing_file, out), class = "deconv_file_error")
  expect_match(conditionMessage(err), "^input: no such file: .*nope\\.png")
  garbage <- file.path(dir, "garbage.png")
  writeLines("not a png", garbage)
  err <- expect_error(upsample_file(garbage, out), class = "deconv_file_error")
  expect_match(conditionMessage(err), "^input: cannot read .*garbage\\.png.* as PNG")
  expect_error(upsample_file(dir, out), class = "deconv_param_error")
  expect_error(upsample_file(file.path(dir, "a.gif"), out), "^input: expected a .png, .jpg")
  good <- file.path(dir, "good.png")
  png::writePNG(array(0.5, c(2, 2, 3)), good)
  expect_error(upsample_file(good, file.path(dir, "out.tiff")), "^output: expected a .png")
  err <- expect_error(upsample_file(good, file.path(dir, "no", "such", "dir.png")),
                      class = "deconv_file_error")
  expect_match(conditionMessage(err), "^output: cannot write")
  expect_error(upsample_file(good, out, quality = 2), "^quality: ", class = "deconv_param_error")
  expect_error(upsample_file(good, out, factor = 0), "^factor: ", class = "deconv_param_error")
  expect_error(upsample_file(NA, out), "^input: ", class = "deconv_param_error")
  expect_false(file.exists(out))
})
