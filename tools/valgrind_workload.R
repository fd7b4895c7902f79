# An R workload for valgrind (make valgrind): eager calls in both precisions, every
# failure kind of the boundary, hostile parameters, a bound executor. Memcheck must
# report 0 errors and nothing definitely lost.
library(deconv)
options(deconv.threads = 1)
set.seed(1)
x <- array(rnorm(6 * 5 * 4 * 2), c(6, 5, 4, 2))
w <- array(rnorm(3 * 3 * 2 * 4), c(3, 3, 2, 4))
for (dtype in c("float64", "float32")) {
  y <- deconvolution(x, w, kernel = c(3, 3), stride = c(2, 2), num.filter = 2, dtype = dtype)
  g <- deconvolution_backward(array(1, dim(y)), x, w, bias = c(1, 2), no.bias = FALSE,
                              kernel = c(3, 3), stride = c(2, 2), num.filter = 2, dtype = dtype)
}
s <- deconvolution_shape(dim(x), kernel = c(3, 3), num.filter = 2)
for (k in c("ok", "param", "bad_alloc", "std", "unknown", "r_error", "r_error_kept", "huge", "many"))
  try(deconv:::cpp_boundary_probe(k), silent = TRUE)
tryCatch(deconv:::cpp_boundary_probe("interrupt"), interrupt = function(c) NULL)
for (bad in list(list(stride = factor(c(2, 2))), list(stride = c(2^31 + 1, 1)), list(dtype = 32),
                 list(stride = c(2^30, 1)), list(ctx = "tpu")))
  try(do.call(deconvolution, c(list(x, w, kernel = c(3, 3), num.filter = 2), bad)), silent = TRUE)
sym <- mx.symbol.Deconvolution(mx.symbol.Variable("data"), kernel = c(3, 3), num.filter = 2, name = "up")
e <- mx.simple.bind(sym, data = dim(x))
mx.exec.update.arg.arrays(e, list(data = x, up_weight = w), match.name = TRUE)
mx.exec.forward(e); mx.exec.backward(e, array(1, dim(e$outputs[[1]])))
info <- deconv_info()
cat("workload done\n")
