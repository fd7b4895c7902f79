# The GEMM backends behind the CPU kernels (deconv_info()$gemm, DECONV_GEMM) and the
# GEMM timing the benchmark divides by (gemm_benchmark()).

test_that("deconv_info() names a GEMM backend per precision", {
  g <- deconv_info()$gemm
  expect_named(g, c("float64", "float32"))
  expect_true(all(g %in% c("OpenBLAS", "MKL", "BLIS", "BLAS", "deconv AVX-512", "Eigen")))
})

test_that("gemm_benchmark() times the package's GEMM and checks n", {
  s <- gemm_benchmark(64, reps = 2L, threads = 1L, dtype = "float32")
  expect_true(is.finite(s) && s > 0)
  expect_true(gemm_benchmark(33, reps = 1L, threads = 2L, dtype = "float64") > 0)
  expect_error(gemm_benchmark(0), class = "deconv_param_error", regexp = "^n:")
  expect_error(gemm_benchmark(2.5), class = "deconv_param_error", regexp = "^n:")
})

test_that("every GEMM backend (DECONV_GEMM) gives the same deconvolution", {
  rscript <- file.path(R.home("bin"), "Rscript")
  set.seed(7)
  x <- array(rnorm(9 * 7 * 20 * 3), c(9, 7, 20, 3))
  w <- array(rnorm(4 * 3 * 10 * 20), c(4, 3, 10, 20))
  dy <- array(rnorm(18 * 15 * 10 * 3), c(18, 15, 10, 3))
  run <- function(x, w, dy) {
    y <- deconv::deconvolution(x, w, kernel = c(4, 3), stride = c(2, 2), pad = c(1, 0),
                               num.filter = 10)
    g <- deconv::deconvolution_backward(dy, x, w, kernel = c(4, 3), stride = c(2, 2),
                                        pad = c(1, 0), num.filter = 10)
    list(y = y, g = g, gemm = deconv::deconv_info()$gemm[["float64"]])
  }
  inputs <- tempfile(fileext = ".rds")
  saveRDS(list(x = x, w = w, dy = dy, run = run), inputs)
  here <- run(x, w, dy)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  for (backend in c("blas", "avx512", "eigen")) {
    out <- tempfile(fileext = ".rds")
    code <- sprintf("a <- readRDS('%s'); saveRDS(a$run(a$x, a$w, a$dy), '%s')", inputs, out)
    status <- system2(rscript, c("--vanilla", "-e", shQuote(code)),
                      env = c(paste0("DECONV_GEMM=", backend), paste0("R_LIBS=", libs)),
                      stdout = FALSE, stderr = FALSE)
    expect_equal(status, 0L, info = backend)
    there <- readRDS(out)
    if (backend == "eigen") expect_equal(there$gemm, "Eigen")
    expect_equal(there$y, here$y, tolerance = 1e-12, info = there$gemm)
    expect_equal(there$g, here$g, tolerance = 1e-12, info = there$gemm)
  }
})
