# A two-layer decoder as one symbol graph, in MXNet R's style: built, shape-inferred,
# saved as MXNet JSON, run forward and backward, and trained for a few steps.
#
# Usage: Rscript decoder.R

library(deconv)

# 1. Build: data (W, H, C, N) = (4, 4, 6, 2) -> up1: 2x upsampling to 8 channels
#    -> up2: 2x upsampling to 3 channels with an explicit target size.
data <- mx.symbol.Variable("data")
up1 <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                               num.filter = 8, no.bias = FALSE, name = "up1")
up2 <- mx.symbol.Deconvolution(up1, kernel = c(4, 4), stride = c(2, 2),
                               target.shape = c(16, 16), num.filter = 3, name = "up2")
print(up2)

# 2. Shapes, in R order, from the data's shape alone.
data_dim <- c(4, 4, 6, 2)
shapes <- mx.symbol.infer.shape(up2, data = data_dim)
str(shapes$arg.shapes)
cat("output:", shapes$out.shapes$up2_output, "\n")

# 3. The graph as MXNet's symbol JSON (MXNet's mx.sym.load() reads this file).
json_file <- tempfile(fileext = ".json")
mx.symbol.save(up2, json_file)
stopifnot(identical(as.json(mx.symbol.load(json_file)), as.json(up2)))

# 4. Bind: gradients for the weights and biases (and, asked by name, for the data).
set.seed(1)
reqs <- c(data = "write", up1_weight = "write", up1_bias = "write", up2_weight = "write")
exec <- mx.simple.bind(up2, ctx = mx.cpu(), grad.req = reqs, data = data_dim)
init <- lapply(shapes$arg.shapes, function(s) array(rnorm(prod(s), sd = 0.1), dim = s))
init$data <- array(rnorm(prod(data_dim)), dim = data_dim)
mx.exec.update.arg.arrays(exec, init, match.name = TRUE)

# 5. Forward and backward for a squared-error loss against a random target.
target <- array(rnorm(prod(shapes$out.shapes$up2_output)), dim = shapes$out.shapes$up2_output)
mx.exec.forward(exec, is.train = TRUE)
resid <- exec$outputs$up2_output - target
cat("loss before training:", 0.5 * sum(resid^2), "\n")
mx.exec.backward(exec, out.grads = resid)
str(lapply(exec$grad.arrays, dim))

# 6. A few steps of plain gradient descent on the weights and biases.
lr <- 0.002
for (step in 1:20) {
  mx.exec.forward(exec, is.train = TRUE)
  resid <- exec$outputs$up2_output - target
  mx.exec.backward(exec, out.grads = resid)
  params <- c("up1_weight", "up1_bias", "up2_weight")
  mx.exec.update.arg.arrays(exec, Map(function(p) exec$arg.arrays[[p]] - lr * exec$grad.arrays[[p]],
                                      stats::setNames(params, params)), match.name = TRUE)
}
mx.exec.forward(exec, is.train = FALSE)
cat("loss after 20 steps:", 0.5 * sum((exec$outputs$up2_output - target)^2), "\n")

# 7. One-call evaluation with the trained parameters.
y <- mx.symbol.eval(up2, exec$arg.arrays)
stopifnot(identical(y, exec$outputs$up2_output))
