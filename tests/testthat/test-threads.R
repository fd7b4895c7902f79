# The deconv.threads option is checked where it is read (a classed error naming it),
# and more threads than cores warn once a session, however the count was set.

x <- array(1, c(4, 4, 2, 1))
w <- array(1, c(3, 3, 1, 2))
run <- function() deconvolution(x, w, kernel = 3, num.filter = 1)

test_that("a bad deconv.threads option is an error naming it, in every entry that reads it", {
  for (bad in list("a", -3, NA, 2.5, TRUE, NA_real_, c(1, 2), 1e5, Inf, factor(2))) {
    label <- paste(deparse(bad), collapse = "")
    withr::with_options(list(deconv.threads = bad), {
      expect_error(run(), "^deconv.threads: expected a whole number of threads",
                   class = "deconv_param_error", label = label)
      expect_error(deconv_threads(), "^deconv.threads: ", class = "deconv_param_error",
                   label = label)
      expect_error(deconvolution_backward(array(1, c(6, 6, 1, 1)), x, w, kernel = 3,
                                          num.filter = 1),
                   "^deconv.threads: ", class = "deconv_param_error", label = label)
    })
  }
  withr::with_options(list(deconv.threads = 1L), expect_identical(deconv_threads(), 1L))
  withr::with_options(list(deconv.threads = 1), expect_identical(dim(run()), c(6L, 6L, 1L, 1L)))
})

test_that("more threads than cores warn once, set by option or by deconv_threads()", {
  state <- deconv:::.deconv_state
  old_warned <- state$warned_threads
  old_cores <- state$cores
  on.exit({
    state$warned_threads <- old_warned
    state$cores <- old_cores
  })
  state$cores <- 2L                      # as if on a 2-core machine
  state$warned_threads <- NULL
  withr::with_options(list(deconv.threads = 2L), expect_no_warning(run()))
  withr::with_options(list(deconv.threads = 3L), {
    expect_warning(run(), "^deconv.threads = 3: this machine has 2 cores", class = "deconv_warning")
    expect_no_warning(run())
  })
  state$warned_threads <- NULL
  old <- getOption("deconv.threads")
  on.exit(options(deconv.threads = old), add = TRUE)
  expect_warning(deconv_threads(8), "this machine has 2 cores", class = "deconv_warning")
  expect_no_warning(deconv_threads(16))
  expect_identical(deconv_threads(), 16L)
  state$cores <- NA_integer_             # detectCores() may not know: no warning then
  state$warned_threads <- NULL
  expect_no_warning(deconv_threads(8))
})
