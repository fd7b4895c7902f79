# Winograd F(2, 2) on the stride phases (src/core/cpu/winograd_forward.cpp and
# winograd_backward.cpp) from R: options(deconv.algorithm) forces it or the direct
# kernels, the automatic choice takes it on large k4 s2 layers, and its outputs and data
# gradients match the direct ones in float64 and float32.

k4s2 <- function(n, c, f, size, layout = "NCHW") {
  x <- if (layout == "NCHW") array(rnorm(size^2 * c * n), c(size, size, c, n))
       else array(rnorm(size^2 * c * n), c(c, size, size, n))
  w <- if (layout == "NCHW") array(rnorm(16 * c * f), c(4, 4, f, c))
       else array(rnorm(16 * c * f), c(f, 4, 4, c))
  list(data = x, weight = w, bias = rnorm(f), no.bias = FALSE, kernel = c(4, 4),
       stride = c(2, 2), pad = c(1, 1), num.filter = f, layout = layout)
}

test_that("deconv.algorithm forces Winograd or the direct kernels, with equal results", {
  set.seed(5)
  for (layout in c("NCHW", "NHWC")) {
    args <- k4s2(2, 6, 5, 7, layout)
    for (dtype in c("float64", "float32")) {
      direct <- withr::with_options(list(deconv.algorithm = "direct"),
                                    do.call(deconvolution, c(args, dtype = dtype)))
      expect_false(deconv:::cpp_last_run_stats()$winograd)
      wino <- withr::with_options(list(deconv.algorithm = "winograd"),
                                  do.call(deconvolution, c(args, dtype = dtype)))
      expect_true(deconv:::cpp_last_run_stats()$winograd)
      tol <- if (dtype == "float64") 1e-12 else 1e-5
      expect_equal(wino, direct, tolerance = tol)
      og <- array(rnorm(length(direct)), dim(direct))
      grads <- function(algorithm) {
        withr::with_options(list(deconv.algorithm = algorithm),
                            do.call(deconvolution_backward, c(list(og), args, dtype = dtype)))
      }
      g_direct <- grads("direct")
      expect_false(deconv:::cpp_last_run_stats()$winograd_data_grad)
      g_wino <- grads("winograd")
      expect_true(deconv:::cpp_last_run_stats()$winograd_data_grad)
      expect_equal(g_wino, g_direct, tolerance = tol)
    }
  }
})

test_that("the automatic choice takes Winograd on a large k4 s2 layer only", {
  set.seed(6)
  args <- k4s2(1, 128, 64, 32)
  withr::local_options(deconv.algorithm = NULL)
  y <- do.call(deconvolution, args)
  expect_true(deconv:::cpp_last_run_stats()$winograd)
  want <- withr::with_options(list(deconv.algorithm = "direct"), do.call(deconvolution, args))
  expect_equal(y, want, tolerance = 1e-12)
  small <- k4s2(1, 8, 4, 8)
  do.call(deconvolution, small)
  expect_false(deconv:::cpp_last_run_stats()$winograd)
  # A shape the transforms do not suit runs direct even when Winograd is asked for.
  withr::with_options(list(deconv.algorithm = "winograd"),
                      deconvolution(small$data, small$weight, kernel = c(4, 4), stride = c(2, 2),
                                    dilate = c(2, 2), num.filter = 4, no.bias = TRUE))
  expect_false(deconv:::cpp_last_run_stats()$winograd)
})

test_that("a bad deconv.algorithm is a classed error naming it", {
  args <- k4s2(1, 2, 2, 4)
  for (v in list("fast", NA_character_, c("auto", "direct"), 1, TRUE)) {
    err <- withr::with_options(list(deconv.algorithm = v),
                               tryCatch(do.call(deconvolution, args), error = function(e) e))
    expect_s3_class(err, "deconv_param_error")
    expect_match(conditionMessage(err), "^deconv.algorithm: expected \"auto\", \"direct\" or")
  }
})
