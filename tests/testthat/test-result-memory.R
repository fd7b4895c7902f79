# Large results come from the block cache (src/result_memory.h): a freed result's memory
# is reused by the next call of about its size, uninitialized. These tests poison such
# memory with NaN and check that every path still writes every value, that the cache is
# reused and bounded by options(deconv.cache.mb), and that a result outliving the
# package's unloading is freed without a crash.

# A result-sized block full of NaN, left in the cache: a result of `n` NaNs computed (in
# place: `y[] <- NaN` would write a copy) and collected.
poison_cache <- function(n) {
  y <- deconvolution(array(NaN, c(n, 1, 1)), array(1, c(1, 1, 1)), kernel = 1, num.filter = 1)
  stopifnot(is.nan(y[n]))
  rm(y)
  invisible(gc(verbose = FALSE))
}

test_that("every path writes all of a result whose memory held NaN", {
  withr::local_options(deconv.cache.mb = 256)
  set.seed(11)
  cases <- list(
    # out 32x32x24x2 = 49152 doubles: phase and GEMM forward, gradients 12288 (data) ...
    list(x = c(16, 16, 24, 2), w = c(4, 4, 24, 24), kernel = c(4, 4), stride = c(2, 2),
         pad = c(1, 1), num.filter = 24, num.group = 1),
    # depthwise (the direct steps), with a bias
    list(x = c(32, 32, 16, 2), w = c(4, 4, 1, 16), kernel = c(4, 4), stride = c(2, 2),
         pad = c(1, 1), num.filter = 16, num.group = 16, bias = TRUE),
    # NHWC (channels-last GEMM path)
    list(x = c(24, 16, 16, 2), w = c(24, 4, 4, 24), kernel = c(4, 4), stride = c(2, 2),
         pad = c(1, 1), num.filter = 24, num.group = 1, layout = "NHWC"),
    # a weight gradient above the cache's 128 KiB: 4x4x64x64 doubles
    list(x = c(8, 8, 64, 2), w = c(4, 4, 64, 64), kernel = c(4, 4), stride = c(2, 2),
         pad = c(1, 1), num.filter = 64, num.group = 1))
  for (case in cases) {
    x <- array(rnorm(prod(case$x)), case$x)
    w <- array(rnorm(prod(case$w)), case$w)
    b <- if (isTRUE(case$bias)) rnorm(case$num.filter)
    args <- list(x, w, bias = b, kernel = case$kernel, stride = case$stride, pad = case$pad,
                 num.filter = case$num.filter, num.group = case$num.group,
                 no.bias = is.null(b), layout = case$layout)
    for (path in c("gemm", "phase")) for (dtype in c("float64", "float32")) {
      withr::local_envvar(DECONV_CPU_PATH = path)
      # The reference: R's own allocation (options(deconv.cache.mb = 0)).
      withr::with_options(list(deconv.cache.mb = 0), {
        want <- do.call(deconvolution, c(args, dtype = dtype))
        og <- array(rnorm(length(want)), dim(want))
        want_g <- do.call(deconvolution_backward, c(list(og), args, dtype = dtype))
      })
      sizes <- c(length(want), length(x), length(w))
      for (n in sizes) poison_cache(n)
      hits <- deconv:::cpp_result_cache_stats()$hits
      got <- do.call(deconvolution, c(args, dtype = dtype))
      got_g <- do.call(deconvolution_backward, c(list(og), args, dtype = dtype))
      label <- sprintf("%s, %s, %s", paste(case$x, collapse = "x"), path, dtype)
      expect_gt(deconv:::cpp_result_cache_stats()$hits, hits)
      # expect(identical()): waldo fails to print differences of arrays this size
      same <- c(forward = identical(got, want), data = identical(got_g$data, want_g$data),
                weight = identical(got_g$weight, want_g$weight),
                bias = identical(got_g$bias, want_g$bias))
      expect(all(same), sprintf("%s: %s differ(s) from R's own allocation", label,
                                paste(names(same)[!same], collapse = ", ")))
    }
  }
})

test_that("a loop of same-shaped calls reuses one block; deconv.cache.mb bounds it", {
  withr::local_options(deconv.cache.mb = 256)
  x <- array(rnorm(32 * 32 * 8), c(32, 32, 8, 1))
  w <- array(rnorm(4 * 4 * 8 * 8), c(4, 4, 8, 8))
  call <- function() deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                   num.filter = 8)
  y0 <- call()
  rm(y0)
  gc(verbose = FALSE)
  s0 <- deconv:::cpp_result_cache_stats()
  for (i in 1:5) {
    y <- call()
    rm(y)
    gc(verbose = FALSE)
  }
  s1 <- deconv:::cpp_result_cache_stats()
  expect_equal(s1$hits - s0$hits, 5)
  expect_equal(s1$misses, s0$misses)
  expect_equal(s1$idle_limit, 256 * 2^20)
  # 0 frees what is idle at the next large result and keeps nothing after it.
  options(deconv.cache.mb = 0)
  y <- call()
  rm(y)
  gc(verbose = FALSE)
  s2 <- deconv:::cpp_result_cache_stats()
  expect_equal(s2$idle_bytes, 0)
  expect_equal(s2$idle_limit, 0)
  options(deconv.cache.mb = 1)
  y <- call()
  expect_equal(deconv:::cpp_result_cache_stats()$idle_limit, 2^20)
  # Unset: off.
  options(deconv.cache.mb = NULL)
  y <- call()
  expect_equal(deconv:::cpp_result_cache_stats()$idle_limit, 0)
})

test_that("a bad deconv.cache.mb is a classed error naming it", {
  x <- array(rnorm(32 * 32 * 8), c(32, 32, 8, 1))
  w <- array(rnorm(4 * 4 * 8 * 8), c(4, 4, 8, 8))
  for (v in list(-1, NA, "a", c(1, 2), NaN)) {
    withr::with_options(list(deconv.cache.mb = v), {
      err <- tryCatch(deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), num.filter = 8),
                      error = function(e) e)
    })
    expect_s3_class(err, "deconv_param_error")
    expect_match(conditionMessage(err), "^deconv.cache.mb: expected one number of MiB")
  }
})

test_that("a result that outlives the package's unloading is freed without a crash", {
  skip_if_not_installed("callr")
  got <- tryCatch(callr::r(function() {
    library(deconv)
    options(deconv.cache.mb = 16)
    y <- deconvolution(array(1, c(64, 64, 8, 1)), array(1, c(4, 4, 8, 8)), kernel = c(4, 4),
                       stride = c(2, 2), num.filter = 8)
    unloadNamespace("deconv")
    s <- sum(y)
    rm(y)
    gc()
    s
  }, timeout = 60), error = function(e) paste("child failed:", conditionMessage(e)))
  # every input value reaches 16 taps of 8 filters
  expect_equal(got, 64 * 64 * 8 * 16 * 8)
})
