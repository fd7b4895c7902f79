# deconvolution() and deconvolution_backward() against outputs and gradients recorded
# from MXNet 1.9.1 itself and from PyTorch (tools/make_fixtures.py).

read_fixtures <- function(stem) {
  path <- test_path("fixtures", paste0(stem, ".json"))
  cases <- jsonlite::fromJSON(path, simplifyVector = FALSE)
  bin <- test_path("fixtures", paste0(stem, ".bin"))
  values <- readBin(bin, "double", n = file.size(bin) / 8, endian = "little")
  take <- function(off, dim) {
    n <- prod(unlist(dim))
    array(values[off + seq_len(n)], unlist(dim))
  }
  lapply(cases, function(cs) {
    num <- function(v) as.numeric(unlist(v))
    args <- list(data = take(cs$data_off, cs$data_dim),
                 weight = take(cs$weight_off, cs$weight_dim),
                 kernel = num(cs$kernel), stride = num(cs$stride), dilate = num(cs$dilate),
                 pad = num(cs$pad), adj = num(cs$adj), num.filter = cs$num_filter,
                 num.group = cs$num_group, no.bias = cs$no_bias, layout = cs$layout,
                 dtype = cs$dtype)
    if (length(cs$target_shape)) args$target.shape <- num(cs$target_shape)
    if (!cs$no_bias) args$bias <- values[cs$bias_off + seq_len(cs$num_filter)]
    out <- take(cs$out_off, cs$out_dim)
    grad <- NULL
    if (!is.null(cs$grad)) {
      grad <- list(out = take(cs$grad$out_grad_off, cs$out_dim),
                   data = take(cs$grad$data_grad_off, cs$data_dim),
                   weight = take(cs$grad$weight_grad_off, cs$weight_dim),
                   bias = if (!cs$no_bias) values[cs$grad$bias_grad_off + seq_len(cs$num_filter)])
    }
    list(id = cs$id, source = cs$source, args = args, out = out, grad = grad)
  })
}

check_fixtures <- function(stem) {
  skip_if_not_installed("jsonlite")
  cases <- read_fixtures(stem)
  expect_gt(length(cases), 50)
  for (cs in cases) {
    tol <- if (cs$args$dtype == "float32") 1e-4 else 1e-10
    got <- do.call(deconvolution, cs$args)
    expect_identical(dim(got), dim(cs$out), label = cs$id)
    expect_lt(rel_err(got, cs$out), tol, label = cs$id)
    if (!is.null(cs$grad)) {
      g <- do.call(deconvolution_backward, c(list(out.grad = cs$grad$out), cs$args))
      expect_lt(rel_err(g$data, cs$grad$data), tol, label = paste(cs$id, "data grad"))
      expect_lt(rel_err(g$weight, cs$grad$weight), tol, label = paste(cs$id, "weight grad"))
      if (!is.null(cs$grad$bias))
        expect_lt(rel_err(g$bias, cs$grad$bias), tol, label = paste(cs$id, "bias grad"))
    }
  }
}

test_that("outputs and gradients match MXNet 1.9.1's own", {
  check_fixtures("mxnet_cases")
})
test_that("outputs and gradients match PyTorch where MXNet cannot run the case", {
  check_fixtures("torch_cases")
})
