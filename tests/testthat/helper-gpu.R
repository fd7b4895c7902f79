# Helpers of the GPU tests (test-gpu.R): the skip, the ways the GPU may pick its algorithm,
# and one check that runs a case on the GPU and compares it with the CPU.

skip_if_no_gpu <- function() {
  info <- deconv_info()
  if (!isTRUE(info$cuda)) {
    testthat::skip("no CUDA device: GPU tests skipped (CPU-only build, deconv_info()$cuda is FALSE)")
  }
  if (!isTRUE(info$devices > 0)) {
    testthat::skip("no CUDA device: GPU tests skipped (deconv_info()$devices == 0)")
  }
}

# The ways the GPU may pick its algorithm: cuDNN with each cudnn.tune, and deconv's own
# kernels (cudnn.off = TRUE). Each is a list of extra deconvolution() arguments.
gpu_modes <- list(
  tune_default = list(),
  tune_off = list(cudnn.tune = "off"),
  tune_limited_workspace = list(cudnn.tune = "limited_workspace"),
  tune_fastest = list(cudnn.tune = "fastest"),
  cudnn_off = list(cudnn.off = TRUE)
)

gpu_tolerance <- c(float64 = 1e-10, float32 = 1e-4)

# A short description of a case's parameters (not its arrays) for failure messages.
case_label <- function(a, what = NULL) {
  keep <- setdiff(names(a), c("data", "weight", "bias"))
  p <- vapply(keep, function(n) paste0(n, "=", paste(format(a[[n]]), collapse = ",")), "")
  paste(c(what, sprintf("data dim %s", paste(dim(a$data), collapse = "x")), p), collapse = "; ")
}

# Runs case `a` (deconvolution() arguments) on the GPU, forward and backward, in each of
# `modes` and `dtypes`, and compares every result with the CPU's float64 result on the same
# inputs. The inputs are first rounded to single-precision values, so that float32 runs see
# exactly the numbers the float64 reference saw. `extra` is added to the GPU calls only.
check_gpu_case <- function(a, modes = gpu_modes, dtypes = c("float64", "float32"),
                           ctx = "gpu", extra = list(), label = "") {
  a[c("data", "weight", "bias")] <- lapply(a[c("data", "weight", "bias")], as_float32_values)
  a <- a[!vapply(a, is.null, TRUE)]
  want <- do.call(deconvolution, a)
  dy <- as_float32_values(array(rnorm(length(want)), dim(want)))
  want_g <- do.call(deconvolution_backward, c(list(out.grad = dy), a))
  for (mode in names(modes)) for (dtype in dtypes) {
    tol <- gpu_tolerance[[dtype]]
    args <- c(a, modes[[mode]], extra, list(dtype = dtype, ctx = ctx))
    what <- case_label(a, paste0(label, if (nzchar(label)) ", ", mode, ", ", dtype))
    got <- do.call(deconvolution, args)
    expect_true(is.array(got) && is.double(got), label = what)
    expect_identical(dim(got), dim(want), label = what)
    expect_lt(rel_err(got, want), tol, label = paste("forward:", what))
    g <- do.call(deconvolution_backward, c(list(out.grad = dy), args))
    expect_identical(dim(g$data), dim(a$data), label = what)
    expect_identical(dim(g$weight), dim(a$weight), label = what)
    expect_lt(rel_err(g$data, want_g$data), tol, label = paste("data gradient:", what))
    expect_lt(rel_err(g$weight, want_g$weight), tol, label = paste("weight gradient:", what))
    if (is.null(a$bias)) {
      expect_null(g$bias, label = what)
    } else {
      expect_lt(rel_err(g$bias, want_g$bias), tol, label = paste("bias gradient:", what))
    }
  }
  invisible(NULL)
}

# Seeded random cases (random_case_for) for one mode: `n` per (rank, layout) configuration,
# each in float64 and float32. Returns the number of cases run.
gpu_random_cases <- function(mode, n, seed) {
  configs <- list(list(1, "NCW"), list(2, "NCHW"), list(3, "NCDHW"), list(2, "NHWC"),
                  list(3, "NDHWC"))
  set.seed(seed)
  runs <- 0L
  for (cfg in configs) for (i in seq_len(n)) {
    a <- random_case_for(cfg[[1]], cfg[[2]], "float32")
    check_gpu_case(a, gpu_modes[mode], label = sprintf("random case %d of %s", i, cfg[[2]]))
    runs <- runs + 1L
  }
  runs
}
