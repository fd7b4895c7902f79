# deconvolution() against the direct-loop reference on many seeded random cases.

run_cases <- function(n, rank, layout = NULL, dtype = "float64", tol = 1e-10, seed = 1) {
  set.seed(seed)
  for (i in seq_len(n)) {
    a <- random_case_for(rank, layout, dtype)
    want <- do.call(ref_deconvolution, a)
    got <- do.call(deconvolution, c(a, dtype = dtype))
    expect_identical(dim(got), dim(want))
    expect_lt(rel_err(got, want), tol)
  }
}

test_that("1D NCW matches the reference in float64", {
  run_cases(60, 1, seed = 11)
})
test_that("2D NCHW matches the reference in float64", {
  run_cases(80, 2, seed = 12)
})
test_that("3D NCDHW matches the reference in float64", {
  run_cases(40, 3, seed = 13)
})
test_that("2D NHWC matches the reference in float64", {
  run_cases(40, 2, "NHWC", seed = 14)
})
test_that("3D NDHWC matches the reference in float64", {
  run_cases(25, 3, "NDHWC", seed = 15)
})
test_that("float32 matches the reference to 1e-4", {
  run_cases(30, 1, dtype = "float32", tol = 1e-4, seed = 21)
  run_cases(30, 2, dtype = "float32", tol = 1e-4, seed = 22)
  run_cases(15, 3, dtype = "float32", tol = 1e-4, seed = 23)
  run_cases(15, 2, "NHWC", dtype = "float32", tol = 1e-4, seed = 24)
  run_cases(10, 3, "NDHWC", dtype = "float32", tol = 1e-4, seed = 25)
})

test_that("float32 really computes in single precision", {
  set.seed(3)
  x <- array(rnorm(64 * 4), c(8, 8, 4, 1))
  w <- array(rnorm(9 * 4 * 2), c(3, 3, 2, 4))
  y64 <- deconvolution(x, w, kernel = c(3, 3), num.filter = 2)
  y32 <- deconvolution(x, w, kernel = c(3, 3), num.filter = 2, dtype = "float32")
  err <- rel_err(y32, y64)
  expect_gt(err, 1e-10)
  expect_lt(err, 1e-5)
})

test_that("large float32 results and gradients come back intact, on 1 and 2 threads", {
  # Above 2^14 values the float results are widened to doubles in parallel halves;
  # odd sizes make the halves uneven. Every value is compared with float64.
  set.seed(31)
  x <- array(rnorm(61 * 47 * 3 * 2), c(61, 47, 3, 2))
  w <- array(rnorm(3 * 3 * 5 * 3), c(3, 3, 5, 3))
  old <- deconv_threads()
  on.exit(deconv_threads(old))
  for (th in 1:2) {
    deconv_threads(th)
    y64 <- deconvolution(x, w, kernel = c(3, 3), stride = c(2, 2), num.filter = 5)
    y32 <- deconvolution(x, w, kernel = c(3, 3), stride = c(2, 2), num.filter = 5,
                         dtype = "float32")
    expect_gt(length(y32), 2^16)
    expect_lt(max(abs(y32 - y64)) / max(abs(y64)), 1e-5)
    g64 <- deconvolution_backward(y64, x, w, kernel = c(3, 3), stride = c(2, 2), num.filter = 5)
    g32 <- deconvolution_backward(y64, x, w, kernel = c(3, 3), stride = c(2, 2), num.filter = 5,
                                  dtype = "float32")
    expect_lt(max(abs(g32$data - g64$data)) / max(abs(g64$data)), 1e-5)
    expect_lt(max(abs(g32$weight - g64$weight)) / max(abs(g64$weight)), 1e-5)
  }
})

test_that("threads and a tiny workspace give the same result", {
  set.seed(5)
  for (i in 1:10) {
    a <- random_case(sample(1:3, 1))
    want <- do.call(ref_deconvolution, a)
    with_each_thread_count(1:2, function(th) {
      expect_lt(rel_err(do.call(deconvolution, a), want), 1e-10)
      expect_lt(rel_err(do.call(deconvolution, c(a, workspace = 0)), want), 1e-10)
    })
  }
})

test_that("a large case split into tiles by workspace matches the untiled result", {
  set.seed(6)
  x <- array(rnorm(40 * 40 * 6 * 2), c(40, 40, 6, 2))
  w <- array(rnorm(4 * 4 * 8 * 6), c(4, 4, 8, 6))
  args <- list(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1), num.filter = 8)
  big <- do.call(deconvolution, args)
  small <- do.call(deconvolution, c(args, workspace = 0))
  expect_equal(small, big, tolerance = 1e-12)
  expect_lt(rel_err(big, do.call(ref_deconvolution, c(list(data = x, weight = w),
                                                       args[-(1:2)]))), 1e-10)
})

test_that("integer input is accepted and the result is double", {
  x <- array(1:8, c(2, 2, 2, 1))
  w <- array(1L, c(2, 2, 1, 2))
  y <- deconvolution(x, w, kernel = c(2, 2), num.filter = 1)
  expect_type(y, "double")
  expect_equal(y, deconvolution(x * 1, w * 1, kernel = c(2, 2), num.filter = 1))
})

test_that("the underscore spellings mean the same as the dotted ones", {
  set.seed(7)
  x <- array(rnorm(3 * 3 * 2), c(3, 3, 2, 1))
  w <- array(rnorm(3 * 3 * 2 * 2), c(3, 3, 2, 2))
  b <- rnorm(2)
  dotted <- deconvolution(x, w, b, kernel = c(3, 3), stride = c(2, 2), target.shape = c(6, 6),
                          num.filter = 2, num.group = 1, no.bias = FALSE, cudnn.tune = "off",
                          cudnn.off = TRUE)
  under <- deconvolution(x, w, b, kernel = c(3, 3), stride = c(2, 2), target_shape = c(6, 6),
                         num_filter = 2, num_group = 1, no_bias = FALSE, cudnn_tune = "off",
                         cudnn_off = TRUE)
  expect_identical(under, dotted)
  expect_identical(dim(dotted), c(6L, 6L, 2L, 1L))
})

test_that("tuples are in R order: kernel = c(kw, kh)", {
  x <- array(0, c(1, 1, 1, 1)); x[] <- 1
  w <- array(1, c(3, 2, 1, 1))                 # kw = 3, kh = 2
  y <- deconvolution(x, w, kernel = c(3, 2), num.filter = 1)
  expect_identical(dim(y), c(3L, 2L, 1L, 1L))  # W = 3, H = 2
  y <- deconvolution(array(1, c(2, 1, 1, 1)), array(1, c(1, 1, 1, 1)), kernel = c(1, 1),
                     stride = c(3, 1), num.filter = 1)
  expect_identical(dim(y), c(4L, 1L, 1L, 1L))  # stride 3 along W only
})

test_that("NHWC gives the NCHW result with channels moved", {
  set.seed(8)
  x <- array(rnorm(5 * 4 * 3 * 2), c(5, 4, 3, 2))              # NCHW: W5 H4 C3 N2
  w <- array(rnorm(3 * 2 * 4 * 3), c(3, 2, 4, 3))              # kw3 kh2 F4 C3
  y <- deconvolution(x, w, kernel = c(3, 2), stride = c(2, 1), num.filter = 4)
  xl <- aperm(x, c(3, 1, 2, 4))                                 # NHWC: C W H N
  wl <- aperm(w, c(3, 1, 2, 4))                                 # F kw kh C
  yl <- deconvolution(xl, wl, kernel = c(3, 2), stride = c(2, 1), num.filter = 4,
                      layout = "NHWC")
  expect_equal(aperm(yl, c(2, 3, 1, 4)), y, tolerance = 1e-12)
})

test_that("MXNet's bilinear 2x upsampling of a constant image is constant inside", {
  x <- array(1, c(6, 6, 1, 1))
  y <- deconvolution(x, bilinear_kernel(c(4, 4)), kernel = c(4, 4), stride = c(2, 2),
                     pad = c(1, 1), num.filter = 1)
  expect_identical(dim(y), c(12L, 12L, 1L, 1L))
  expect_equal(y[2:11, 2:11, 1, 1], matrix(1, 10, 10), tolerance = 1e-15)
})

test_that("temporaries stay within workspace, forward and backward", {
  # The GEMM path's column buffer is what the workspace bounds here (the phase path,
  # which this small-channel layer would take, keeps only a padded copy of the input).
  withr::local_envvar(DECONV_CPU_PATH = "gemm")
  set.seed(9)
  x <- array(rnorm(32 * 32 * 16 * 4), c(32, 32, 16, 4))
  w <- array(rnorm(4 * 4 * 16 * 16), c(4, 4, 16, 16))
  args <- list(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1), num.filter = 16)
  big <- do.call(deconvolution, args)
  expect_gt(deconv:::cpp_last_temp_bytes(), 2^20)       # unbounded, it uses more than 1 MB
  small <- do.call(deconvolution, c(args, workspace = 1))
  expect_lte(deconv:::cpp_last_temp_bytes(), 2^20)
  expect_equal(small, big, tolerance = 1e-12)
  dy <- array(rnorm(length(big)), dim(big))
  gb <- do.call(deconvolution_backward, c(list(dy), args))
  gs <- do.call(deconvolution_backward, c(list(dy), args, workspace = 1))
  expect_lte(deconv:::cpp_last_temp_bytes(), 2^20)
  expect_equal(gs, gb, tolerance = 1e-12)
})

test_that("the phase-decomposed and the GEMM forward agree, and the automatic choice is one", {
  set.seed(10)
  x <- array(rnorm(17 * 13 * 5 * 3), c(17, 13, 5, 3))
  w <- array(rnorm(4 * 3 * 2 * 5), c(4, 3, 2, 5))
  b <- rnorm(2)
  args <- list(x, w, b, kernel = c(4, 3), stride = c(2, 3), dilate = c(1, 2), pad = c(1, 2),
               num.filter = 2, no.bias = FALSE)
  withr::with_envvar(c(DECONV_CPU_PATH = "gemm"), gemm <- do.call(deconvolution, args))
  withr::with_envvar(c(DECONV_CPU_PATH = "phase"), phase <- do.call(deconvolution, args))
  expect_equal(phase, gemm, tolerance = 1e-12)
  expect_equal(do.call(deconvolution, args), gemm, tolerance = 1e-12)
  withr::with_envvar(c(DECONV_CPU_PATH = "phase"),
                     phase32 <- do.call(deconvolution, c(args, dtype = "float32")))
  expect_equal(phase32, gemm, tolerance = 1e-5)
})

test_that("the common call takes the fast path, anything else the checked one, both alike", {
  # The fast path (one .Call) never reaches collect_params(); the checked path always does.
  taken <- new.env()
  taken$checked <- 0L
  count <- bquote(assign("checked", .(taken)$checked + 1L, envir = .(taken)))
  suppressMessages(trace("collect_params", count, where = asNamespace("deconv"), print = FALSE))
  on.exit(suppressMessages(untrace("collect_params", where = asNamespace("deconv"))))
  checked_calls <- function(expr) {
    before <- taken$checked
    value <- force(expr)
    list(value = value, checked = taken$checked - before)
  }
  set.seed(3)
  x <- array(rnorm(5 * 4 * 3 * 2), c(5, 4, 3, 2))
  w <- array(rnorm(3 * 2 * 4 * 4), c(4, 4, 2, 3))
  b <- rnorm(2)
  call <- function(...) deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                      num.filter = 2, ...)
  fast <- checked_calls(call())
  expect_identical(fast$checked, 0L)
  fast_bias <- checked_calls(call(bias = b, no.bias = FALSE, dtype = "float32"))
  expect_identical(fast_bias$checked, 0L)
  withr::with_options(list(deconv.threads = 1L), expect_identical(checked_calls(call())$checked, 0L))
  explicit <- checked_calls(call(ctx = "cpu", cudnn.off = TRUE, layout = "NCHW"))
  expect_identical(explicit$checked, 0L)
  expect_identical(explicit$value, fast$value)
  # These take the checked path, with the same numbers.
  for (other in list(checked_calls(call(ctx = mx.cpu())),
                     checked_calls(deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2),
                                                 pad = c(1, 1), num_filter = 2)))) {
    expect_identical(other$checked, 1L)
    expect_identical(other$value, fast$value)
  }
  xi <- array(1:120, c(5, 4, 3, 2))
  int <- checked_calls(deconvolution(xi, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                     num.filter = 2))
  expect_identical(int$checked, 1L)
  expect_identical(int$value, deconvolution(xi + 0, w, kernel = c(4, 4), stride = c(2, 2),
                                            pad = c(1, 1), num.filter = 2))
  withr::with_options(list(deconv.threads = 10^6), expect_error(call(), class = "deconv_param_error"))
  expect_equal(fast_bias$value, deconvolution(x, w, b, kernel = c(4, 4), stride = c(2, 2),
                                              pad = c(1, 1), num.filter = 2, no.bias = FALSE,
                                              dtype = "float32", ctx = mx.cpu()), tolerance = 0)
  # Every parameter away from its default reaches the core as the checked path passes
  # it (the fast path takes them in the schema's order).
  x4 <- array(rnorm(7 * 6 * 4 * 2), c(7, 6, 4, 2))
  w4 <- array(rnorm(3 * 2 * 2 * 4), c(3, 2, 2, 4))
  b4 <- rnorm(4)
  many <- function(...) {
    deconvolution(x4, w4, b4, kernel = c(3, 2), stride = c(2, 3), dilate = c(2, 1),
                  pad = c(1, 0), num.filter = 4, num.group = 2, workspace = 64,
                  no.bias = FALSE, cudnn.tune = "fastest", cudnn.off = TRUE, ...)
  }
  for (extra in list(list(adj = c(1, 2)), list(target.shape = c(14, 17)),
                     list(layout = "NCHW"))) {
    fast_many <- checked_calls(do.call(many, extra))
    expect_identical(fast_many$checked, 0L)
    expect_identical(fast_many$value, do.call(many, c(extra, list(ctx = mx.cpu()))))
  }
  # A wrong argument on the fast path is worded by the checked path (the layout hints of
  # test-layout-hints.R, whose plain arrays start on the fast path, too).
  expect_error(deconvolution(x, w, kernel = c(4, 4), stride = c(2, 0), num.filter = 2),
               "stride", class = "deconv_param_error")
  torch_order <- aperm(x, c(4, 3, 2, 1))
  expect_error(deconvolution(torch_order, w, kernel = c(4, 4), num.filter = 2),
               "from_layout(data, \"NCHW\")", fixed = TRUE, class = "deconv_shape_error")
})
