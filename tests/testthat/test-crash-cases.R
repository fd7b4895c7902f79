# Calls that once crashed R (a segfault in libgomp for 1e5 threads) or broke the session
# (an NA thread option). Each runs in a child R process with a timeout, so a crash or a
# hang fails the test instead of taking the test run down.

run_child <- function(fun, timeout = 60) {
  skip_if_not_installed("callr")
  tryCatch(callr::r(fun, timeout = timeout, package = FALSE),
           error = function(e) paste("child failed:", conditionMessage(e)))
}

test_that("a thread count of 1e5 is an error, never a crash, from every way in", {
  got <- run_child(function() {
    library(deconv)
    x <- array(1, c(5, 5, 4, 2))
    w <- array(1, c(3, 3, 2, 4))
    call <- function() deconvolution(x, w, kernel = c(3, 3), num.filter = 2)
    out <- character()
    cls <- function(expr) tryCatch({ expr; "no error" }, error = function(e) class(e)[1])
    out["deconv_threads"] <- cls(deconv_threads(1e5))
    options(deconv.threads = 1e5)
    out["option_forward"] <- cls(call())
    out["option_backward"] <- cls(deconvolution_backward(array(1, c(7, 7, 2, 2)), x, w,
                                                         kernel = c(3, 3), num.filter = 2))
    options(deconv.threads = NULL)
    # Past the R checks, straight to the C++ entry: the binding refuses it too.
    out["entry"] <- cls(deconv:::cpp_deconvolution(x, w, NULL, list(kernel = c(3, 3), num_filter = 2),
                                                   "float64", "cpu", 0L, 1e5))
    out["gemm"] <- cls(deconv:::cpp_gemm_benchmark(8, 1L, 1e5, "float64"))
    out["after"] <- if (identical(dim(call()), c(7L, 7L, 2L, 2L))) "works" else "broken"
    out
  })
  expect_identical(unname(got), c(rep("deconv_param_error", 5), "works"))
})

test_that("bad thread options leave the session usable", {
  got <- run_child(function() {
    library(deconv)
    x <- array(1, c(5, 5, 4, 2))
    w <- array(1, c(3, 3, 2, 4))
    for (n in list(2^31, 1e300, Inf, -Inf, NaN, "a")) try(deconv_threads(n), silent = TRUE)
    c(option = format(getOption("deconv.threads")),
      dims = paste(dim(deconvolution(x, w, kernel = c(3, 3), num.filter = 2)), collapse = "x"))
  })
  expect_identical(unname(got), c("NULL", "7x7x2x2"))
})
