# deconvolution_backward() against the direct-loop reference's backward and against
# finite differences of deconvolution() itself.

backward_cases <- function(n, rank, layout = NULL, dtype = "float64", tol = 1e-10, seed = 1) {
  set.seed(seed)
  for (i in seq_len(n)) {
    a <- random_case_for(rank, layout, dtype)
    y <- do.call(ref_deconvolution, a)
    dy <- array(rnorm(length(y)), dim(y))
    if (dtype == "float32") dy <- as_float32_values(dy)
    want <- do.call(ref_deconvolution_backward, c(list(out.grad = dy), a))
    got <- do.call(deconvolution_backward, c(list(out.grad = dy), a, dtype = dtype))
    expect_identical(dim(got$data), dim(a$data))
    expect_identical(dim(got$weight), dim(a$weight))
    expect_lt(rel_err(got$data, want$data), tol)
    expect_lt(rel_err(got$weight, want$weight), tol)
    if (is.null(a$bias)) expect_null(got$bias) else expect_lt(rel_err(got$bias, want$bias), tol)
  }
}

test_that("gradients match the reference: 1D, 2D, 3D, channels-last, float64", {
  backward_cases(40, 1, seed = 51)
  backward_cases(50, 2, seed = 52)
  backward_cases(25, 3, seed = 53)
  backward_cases(25, 2, "NHWC", seed = 54)
  backward_cases(15, 3, "NDHWC", seed = 55)
})

test_that("gradients match the reference in float32", {
  backward_cases(20, 1, dtype = "float32", tol = 1e-4, seed = 56)
  backward_cases(20, 2, dtype = "float32", tol = 1e-4, seed = 57)
  backward_cases(10, 3, "NDHWC", dtype = "float32", tol = 1e-4, seed = 58)
})

test_that("gradients match central finite differences (float64, rel. error <= 1e-6)", {
  set.seed(59)
  for (i in 1:12) {
    a <- random_case(sample(1:3, 1), target = i %% 3 == 0)
    y <- do.call(deconvolution, a)
    dy <- array(rnorm(length(y)), dim(y))
    loss <- function(b) sum(do.call(deconvolution, b) * dy)
    g <- do.call(deconvolution_backward, c(list(out.grad = dy), a))
    for (what in c("data", "weight", "bias")) {
      if (is.null(a[[what]])) next
      idx <- sample(length(a[[what]]), min(6, length(a[[what]])))
      h <- 1e-3   # the loss is linear in each input, so central differences are exact
      num <- vapply(idx, function(j) {
        up <- a; up[[what]][j] <- up[[what]][j] + h
        dn <- a; dn[[what]][j] <- dn[[what]][j] - h
        (loss(up) - loss(dn)) / (2 * h)
      }, 0)
      expect_lt(max(abs(num - g[[what]][idx])) / max(abs(num), 1e-3), 1e-6)
    }
  }
})

test_that("gradients honour threads and a tiny workspace", {
  set.seed(60)
  for (i in 1:8) {
    a <- random_case(sample(1:3, 1))
    y <- do.call(ref_deconvolution, a)
    dy <- array(rnorm(length(y)), dim(y))
    want <- do.call(ref_deconvolution_backward, c(list(out.grad = dy), a))
    with_each_thread_count(1:2, function(th) {
      got <- do.call(deconvolution_backward, c(list(out.grad = dy), a, workspace = 0))
      expect_lt(rel_err(got$data, want$data), 1e-10)
      expect_lt(rel_err(got$weight, want$weight), 1e-10)
    })
  }
})

test_that("out.grad of the wrong shape is an error", {
  x <- array(1, c(4, 4, 2, 1)); w <- array(1, c(3, 3, 1, 2))
  expect_error(deconvolution_backward(array(1, c(5, 6, 1, 1)), x, w, kernel = c(3, 3),
                                      num.filter = 1),
               "^out.grad: expected an array with dim = c\\(6, 6, 1, 1\\)",
               class = "deconv_shape_error")
})
