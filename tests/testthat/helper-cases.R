# Seeded random Deconvolution cases: small shapes across ranks, layouts, groups,
# dilation, pad, adj, target.shape and bias. Each case is a list of deconvolution()
# arguments (R order), usable with do.call on both the package and the reference.

random_case <- function(rank, layout = NULL, bias = NA, target = NA) {
  pick <- function(v) v[sample.int(length(v), 1)]
  G <- pick(c(1, 1, 2, 3))
  C <- G * pick(1:2)
  F <- G * pick(1:2)
  if (runif(1) < 0.15) { G <- C <- F <- pick(2:4) }                     # depthwise
  kernel <- sample(if (rank == 3) 1:3 else 1:4, rank, replace = TRUE)
  stride <- sample(1:3, rank, replace = TRUE)
  dilate <- sample(1:2, rank, replace = TRUE)
  in_sp <- sample(if (rank == 3) 1:3 else 1:5, rank, replace = TRUE)
  full <- stride * (in_sp - 1) + dilate * (kernel - 1) + 1
  pad <- pmin(sample(0:2, rank, replace = TRUE), (full - 1) %/% 2)
  adj <- vapply(stride, function(s) sample(0:(s - 1), 1), 0)
  N <- pick(1:2)
  layout <- if (is.null(layout)) c("NCW", "NCHW", "NCDHW")[rank] else layout
  channels_last <- layout %in% c("NHWC", "NDHWC")
  data_dim <- if (channels_last) c(C, in_sp, N) else c(in_sp, C, N)
  weight_dim <- if (channels_last) c(F / G, kernel, C) else c(kernel, F / G, C)
  a <- list(data = array(rnorm(prod(data_dim)), data_dim),
            weight = array(rnorm(prod(weight_dim)), weight_dim),
            kernel = kernel, stride = stride, dilate = dilate, pad = pad, adj = adj,
            num.filter = F, num.group = G, layout = layout)
  if (is.na(target)) target <- runif(1) < 0.25
  if (target) {
    ts <- vapply(seq_len(rank), function(i) sample(max(1, full[i] - 3):full[i], 1), 0)
    if (rank > 1 && runif(1) < 0.3) ts[sample.int(rank, 1)] <- 0     # partial target
    a$target.shape <- ts
  }
  if (is.na(bias)) bias <- runif(1) < 0.5
  if (bias) {
    a$bias <- rnorm(F)
    a$no.bias <- FALSE
  }
  a
}

# A random case whose arrays hold single-precision values when dtype is "float32".
random_case_for <- function(rank, layout = NULL, dtype = "float64") {
  a <- random_case(rank, layout)
  if (dtype == "float32") {
    a[c("data", "weight", "bias")] <- lapply(a[c("data", "weight", "bias")], as_float32_values)
  }
  a
}

# Casts a case's arrays to single precision values (so a float32 run sees the same
# inputs as the double reference).
as_float32_values <- function(x) {
  if (is.null(x)) return(x)
  # Round to 24 significant bits, as a float would store it.
  e <- floor(log2(pmax(abs(x), 1e-300)))
  round(x / 2^(e - 23)) * 2^(e - 23)
}

# Runs fn(th) with deconv_threads(th) for each count, restoring the setting afterwards.
with_each_thread_count <- function(counts, fn) {
  old <- deconv_threads()
  on.exit(deconv_threads(old))
  for (th in counts) {
    deconv_threads(th)
    fn(th)
  }
}
