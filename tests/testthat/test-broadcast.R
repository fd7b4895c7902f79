# One-value tuples stand for every spatial dimension: in eager calls the data's rank
# sets the dimensionality (kernel = 4 with 2D data is c(4, 4)), in symbols kernel's
# length does, and the symbol's JSON holds full tuples as MXNet reads them.

# Per rank: data, weight and the parameters as scalars and as full tuples.
broadcast_case <- function(rank, seed = rank) {
  set.seed(seed)
  space <- c(5, 4, 3)[seq_len(rank)]
  x <- array(rnorm(prod(space) * 3 * 2), c(space, 3, 2))         # C = 3, N = 2
  w <- array(rnorm(3^rank * 2 * 3), c(rep(3, rank), 2, 3))       # k = 3, F = 2, C = 3
  scalar <- list(kernel = 3, stride = 2, dilate = 1, pad = 1, adj = 1)
  full <- lapply(scalar, rep, rank)
  list(x = x, w = w, scalar = scalar, full = full, rank = rank)
}

eager_call <- function(fn, case, params, ...) {
  do.call(fn, c(list(case$x, case$w), params, list(num.filter = 2, ...)))
}

test_that("scalar tuples in deconvolution() equal the full tuples for 1D, 2D and 3D data", {
  for (rank in 1:3) {
    case <- broadcast_case(rank)
    y_full <- eager_call(deconvolution, case, case$full)
    expect_identical(eager_call(deconvolution, case, case$scalar), y_full, label = paste(rank, "D"))
    expect_identical(eager_call(mx.nd.Deconvolution, case, case$scalar), y_full)
    # A mix of scalars and full tuples, and the underscore spellings.
    expect_identical(eager_call(deconvolution, case, c(case$full["kernel"], case$scalar[-1])),
                     y_full)
    t_full <- eager_call(deconvolution, case, c(case$full["kernel"],
                                                list(stride = rep(2, rank),
                                                     target_shape = rep(7, rank))))
    t_scalar <- eager_call(deconvolution, case, list(kernel = 3, stride = 2, target_shape = 7))
    expect_identical(t_scalar, t_full)
    expect_identical(dim(t_scalar)[seq_len(rank)], rep(7L, rank))
  }
})

test_that("scalar tuples in deconvolution_backward() and deconvolution_shape() equal the full tuples", {
  for (rank in 1:3) {
    case <- broadcast_case(rank)
    y <- eager_call(deconvolution, case, case$full)
    dy <- array(rnorm(length(y)), dim(y))
    g_full <- do.call(deconvolution_backward, c(list(dy, case$x, case$w), case$full,
                                                list(num.filter = 2)))
    g_scalar <- do.call(deconvolution_backward, c(list(dy, case$x, case$w), case$scalar,
                                                  list(num.filter = 2)))
    expect_identical(g_scalar, g_full)
    s_full <- do.call(deconvolution_shape, c(list(dim(case$x)), case$full, list(num.filter = 2)))
    s_scalar <- do.call(deconvolution_shape, c(list(case$x), case$scalar, list(num.filter = 2)))
    expect_identical(s_scalar, s_full)
    expect_identical(s_scalar$out, dim(y))
    expect_identical(deconvolution_shape(dim(case$x), kernel = 3, target.shape = 6, stride = 2,
                                         num.filter = 2)$out[seq_len(rank)], rep(6L, rank))
  }
})

test_that("channels-last data broadcast the same way", {
  set.seed(4)
  x <- array(rnorm(3 * 5 * 4 * 2), c(3, 5, 4, 2))                 # NHWC: C3 W5 H4 N2
  w <- array(rnorm(2 * 3 * 3 * 3), c(2, 3, 3, 3))                 # F2 kw3 kh3 C3
  expect_identical(
    deconvolution(x, w, kernel = 3, stride = 2, pad = 1, num.filter = 2, layout = "NHWC"),
    deconvolution(x, w, kernel = c(3, 3), stride = c(2, 2), pad = c(1, 1), num.filter = 2,
                  layout = "NHWC"))
})

test_that("scalar stride, dilate, pad, adj and target.shape in symbols broadcast to kernel's length", {
  for (rank in 1:3) {
    case <- broadcast_case(rank)
    data <- mx.symbol.Variable("data")
    s_full <- do.call(mx.symbol.Deconvolution,
                      c(list(data), case$full, list(num.filter = 2, name = "up")))
    s_scalar <- do.call(mx.symbol.Deconvolution,
                        c(list(data), case$full["kernel"], case$scalar[-1],
                          list(num.filter = 2, name = "up")))
    expect_identical(as.json(s_scalar), as.json(s_full))
    args <- list(data = case$x, up_weight = case$w)
    expect_identical(mx.symbol.eval(s_scalar, args), eager_call(deconvolution, case, case$scalar))
    # The JSON holds MXNet's full tuples, never a one-value tuple for a 2D or 3D layer.
    node <- jsonlite::fromJSON(as.json(s_scalar), simplifyVector = FALSE)$nodes[[3]]
    for (key in c("stride", "dilate", "pad", "adj")) {
      expect_identical(node$attrs[[key]],
                       paste0("(", paste(rep(case$scalar[[key]], rank), collapse = ", "),
                              if (rank == 1) ",)" else ")"), label = paste(key, rank))
    }
    t_sym <- mx.symbol.Deconvolution(data, kernel = rep(3, rank), stride = 2, target.shape = 6,
                                     num.filter = 2, name = "t")
    t_node <- jsonlite::fromJSON(as.json(t_sym), simplifyVector = FALSE)$nodes[[3]]
    expect_identical(t_node$attrs$target_shape,
                     paste0("(", paste(rep(6, rank), collapse = ", "), if (rank == 1) ",)" else ")"))
    expect_identical(mx.symbol.infer.shape(t_sym, data = dim(case$x))$out.shapes[[1]],
                     c(rep(6L, rank), 2L, 2L))
  }
})

test_that("in symbols kernel's length sets the rank: a scalar kernel is 1D, as in MXNet", {
  s <- mx.symbol.Deconvolution(mx.symbol.Variable("data"), kernel = 3, stride = 2,
                               num.filter = 2, name = "one")
  node <- jsonlite::fromJSON(as.json(s), simplifyVector = FALSE)$nodes[[3]]
  expect_identical(node$attrs$kernel, "(3,)")
  expect_error(mx.symbol.infer.shape(s, data = c(5, 4, 3, 2)), class = "deconv_shape_error")
  expect_error(mx.symbol.Deconvolution(mx.symbol.Variable("data"), kernel = 3, stride = c(2, 2),
                                       num.filter = 2),
               "^stride: expected 1 value \\(kernel has 1 value\\), got 2", class = "deconv_param_error")
})

test_that("tuples of neither one value nor the rank are errors naming the argument", {
  case <- broadcast_case(2)
  for (arg in c("stride", "dilate", "pad", "adj", "target.shape")) {
    args <- list(kernel = 3, num.filter = 2)
    args[[arg]] <- c(1, 1, 1)
    expect_error(do.call(deconvolution, c(list(case$x, case$w), args)),
                 paste0("^", arg, ": expected 1 or 2 values \\(one for all spatial dimensions ",
                        "or one each; the data is 2D\\), got 3"),
                 class = "deconv_param_error")
    expect_error(do.call(deconvolution_shape, c(list(dim(case$x)), args)),
                 paste0("^", arg, ": expected 1 or 2 values"), class = "deconv_param_error")
    args$kernel <- c(3, 3)
    expect_error(do.call(mx.symbol.Deconvolution, c(list(mx.symbol.Variable("data")), args)),
                 paste0("^", arg, ": expected 1 or 2 values .*kernel has 2 values\\), got 3"),
                 class = "deconv_param_error")
  }
  # A scalar kernel with 3-dimensional (1D) data: a 2-tuple stride does not fit.
  x1 <- array(1, c(5, 3, 2))
  expect_error(deconvolution(x1, array(1, c(3, 2, 3)), kernel = 3, stride = c(2, 2),
                             num.filter = 2),
               "^stride: expected 1 value \\(the data is 1D\\), got 2", class = "deconv_param_error")
  # A full kernel of the wrong rank keeps the data's error.
  expect_error(deconvolution(case$x, case$w, kernel = c(3, 3, 3), stride = 2, num.filter = 2),
               "^data: expected a 5-dimensional array for a 3D kernel", class = "deconv_shape_error")
})
