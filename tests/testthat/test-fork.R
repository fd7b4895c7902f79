# Forked children (parallel::mclapply, mcparallel) after the parent has run threaded
# calls: GNU OpenMP's thread pool does not survive fork, so the core runs forked children
# on one thread; without that they hang. Each test runs in a child R with a timeout, so
# a hang fails the test instead of stalling the suite.

fork_results <- function() {
  callr::r(function() {
    library(deconv)
    set.seed(11)
    x <- array(rnorm(12 * 10 * 16 * 4), c(12, 10, 16, 4))  # W, H, C, N
    w <- array(rnorm(4 * 4 * 8 * 16), c(4, 4, 8, 16))      # kW, kH, F, C
    b <- rnorm(8)
    dy <- array(rnorm(24 * 20 * 8 * 4), c(24, 20, 8, 4))
    run <- function(dtype) {
      args <- list(kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1), num_filter = 8,
                   no_bias = FALSE, dtype = dtype)
      list(y = do.call(deconvolution, c(list(x, w, b), args)),
           grad = do.call(deconvolution_backward, c(list(dy, x, w, b), args)))
    }
    both <- function() list(float64 = run("float64"), float32 = run("float32"))
    options(deconv.threads = 1)
    serial <- both()
    options(deconv.threads = 2)
    threaded <- both()  # the parent's OpenMP pool now holds a second thread
    forked <- parallel::mclapply(1:4, function(i) both(), mc.cores = 2)
    job <- parallel::mcparallel(both())
    collected <- parallel::mccollect(job, wait = TRUE)
    list(serial = serial, threaded = threaded, forked = forked,
         collected = collected[[1]], info_threads = deconv_info()$threads)
  }, timeout = 60)  # about 2 s when nothing hangs
}

test_that("mclapply and mcparallel after a 2-thread call finish with the serial results", {
  skip_on_os("windows")
  skip_if_not_installed("callr")
  res <- fork_results()
  expect_length(res$forked, 4)
  for (r in res$forked) {
    expect_false(inherits(r, "try-error"))
    expect_identical(r, res$serial)
  }
  expect_identical(res$collected, res$serial)
  # The threaded parent agrees too (to rounding: its GEMMs are split between threads).
  expect_equal(res$threaded$float64, res$serial$float64, tolerance = 1e-12)
  expect_equal(res$threaded$float32, res$serial$float32, tolerance = 1e-6)
})
