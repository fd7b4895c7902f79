# A 10,000-layer chain of 1x1 layers through every symbol function: graph walks are
# iterative (no C stack overflow) and linear (each call takes seconds, not minutes).

test_that("a 10,000-layer chain works in every symbol and executor function", {
  n <- 10000L
  timed <- function(expr) {
    t <- system.time(v <- expr)[["elapsed"]]
    expect_lt(t, 60)      # seconds on a loaded machine; quadratic walks took minutes
    v
  }
  s <- timed({
    s <- mx.symbol.Variable("data")
    for (i in seq_len(n)) s <- mx.symbol.Deconvolution(s, kernel = c(1, 1), num.filter = 1,
                                                       name = paste0("l", i))
    s
  })
  args <- timed(arguments(s))
  expect_length(args, n + 1L)
  expect_identical(args[c(1, 2, n + 1L)], c("data", "l1_weight", sprintf("l%d_weight", n)))
  expect_identical(outputs(s), sprintf("l%d_output", n))
  out <- timed(capture.output(print(s)))
  expect_match(out[1], sprintf("MXSymbol with %d nodes", 2L * n + 1L), fixed = TRUE)
  expect_match(out[length(out)], "more nodes", fixed = TRUE)
  sh <- timed(mx.symbol.infer.shape(s, data = c(1, 1, 1, 1)))
  expect_identical(sh$out.shapes[[1]], c(1L, 1L, 1L, 1L))
  expect_length(sh$arg.shapes, n + 1L)
  j <- timed(as.json(s))
  expect_identical(timed(as.json(mx.symbol.load.json(j))), j)
  f <- withr::local_tempfile(fileext = ".json")
  timed(mx.symbol.save(s, f))
  back <- timed(mx.symbol.load(f))
  expect_identical(as.json(back), j)
  exec <- timed(mx.simple.bind(back, "cpu", grad.req = "write", data = c(1, 1, 1, 1)))
  w <- stats::setNames(rep(list(array(1, c(1, 1, 1, 1))), n), paste0("l", seq_len(n), "_weight"))
  w$l7_weight <- array(0.5, c(1, 1, 1, 1))
  inputs <- c(list(data = array(3, c(1, 1, 1, 1))), w)
  timed(mx.exec.update.arg.arrays(exec, inputs, match.name = TRUE))
  timed(mx.exec.forward(exec))
  expect_equal(as.vector(exec$outputs[[1]]), 1.5)
  timed(mx.exec.backward(exec))
  # y = x * prod(w): dy/dw_k = x * prod of the others.
  expect_equal(as.vector(exec$grad.arrays$l1_weight), 1.5)
  expect_equal(as.vector(exec$grad.arrays$l7_weight), 3)
  expect_equal(as.vector(exec$grad.arrays[[sprintf("l%d_weight", n)]]), 1.5)
  expect_null(exec$grad.arrays$data)
  y <- timed(mx.symbol.eval(s, inputs))
  expect_equal(as.vector(y), 1.5)
})

test_that("shared subgraphs are walked once (a diamond ladder is not exponential)", {
  # Each layer reads the previous output as data and as weight: 2^40 paths, 40 layers.
  data <- mx.symbol.Variable("data")
  s <- mx.symbol.Deconvolution(data, weight = data, kernel = c(1, 1), num.filter = 1, name = "d1")
  for (i in 2:40) s <- mx.symbol.Deconvolution(s, weight = s, kernel = c(1, 1), num.filter = 1,
                                               name = paste0("d", i))
  expect_identical(arguments(s), "data")
  expect_identical(mx.symbol.infer.shape(s, data = c(1, 1, 1, 1))$out.shapes[[1]], c(1L, 1L, 1L, 1L))
  # y_k = y_(k-1)^2, so y_40 = x^(2^40): (1 + 2^-40)^(2^40) is e (to rounding).
  y <- mx.symbol.eval(s, list(data = array(1 + 2^-40, c(1, 1, 1, 1))))
  expect_equal(as.vector(y), exp(1), tolerance = 1e-2)
  expect_identical(as.json(mx.symbol.load.json(as.json(s))), as.json(s))
})
