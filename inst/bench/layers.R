# The benchmark layers, shared by bench.R (CPU, against PyTorch) and bench_gpu.R (GPU):
# the layer table, the selection by --layers and the FLOP count of one pass.
# Sourced by both scripts; defines layer(), all_layers, select_layers() and layer_flops().

# Sizes in MXNet/PyTorch order (spatial = D, H, W); R order is the reverse.

layer <- function(name, group, N, C, spatial, F, kernel, stride, pad, groups = 1L) {
  list(name = name, group = group, N = N, C = C, spatial = spatial, F = F, kernel = kernel,
       stride = stride, pad = pad, groups = groups)
}
all_layers <- list(
  layer("dcgan1", "dcgan", 64, 512, c(4, 4), 256, c(4, 4), c(2, 2), c(1, 1)),
  layer("dcgan2", "dcgan", 64, 256, c(8, 8), 128, c(4, 4), c(2, 2), c(1, 1)),
  layer("dcgan3", "dcgan", 64, 128, c(16, 16), 3, c(4, 4), c(2, 2), c(1, 1)),
  layer("fcn1", "fcn", 1, 21, c(32, 32), 21, c(4, 4), c(2, 2), c(1, 1)),
  layer("fcn2", "fcn", 1, 21, c(16, 16), 21, c(16, 16), c(8, 8), c(4, 4)),
  layer("unet", "unet", 8, 64, c(64, 64), 32, c(2, 2), c(2, 2), c(0, 0)),
  layer("unet3d", "unet3d", 2, 64, c(16, 16, 16), 32, c(2, 2, 2), c(2, 2, 2), c(0, 0, 0)),
  layer("audio", "audio", 8, 256, 1024, 128, 16, 8, 4),
  layer("depthwise", "depthwise", 16, 64, c(32, 32), 64, c(4, 4), c(2, 2), c(1, 1), groups = 64),
  layer("tiny", "tiny", 1, 1, c(4, 4), 1, c(2, 2), c(2, 2), c(0, 0)),
  layer("scale_n1", "scaling", 1, 256, c(8, 8), 128, c(4, 4), c(2, 2), c(1, 1)),
  layer("scale_n4", "scaling", 4, 256, c(8, 8), 128, c(4, 4), c(2, 2), c(1, 1)),
  layer("scale_n16", "scaling", 16, 256, c(8, 8), 128, c(4, 4), c(2, 2), c(1, 1)),
  layer("scale_n64", "scaling", 64, 256, c(8, 8), 128, c(4, 4), c(2, 2), c(1, 1))
)
names(all_layers) <- vapply(all_layers, `[[`, "", "name")

select_layers <- function(wanted, who = "bench.R") {
  if ("all" %in% wanted) return(all_layers)
  groups <- vapply(all_layers, `[[`, "", "group")
  keep <- names(all_layers) %in% wanted | groups %in% wanted
  unknown <- setdiff(wanted, c(names(all_layers), groups))
  if (length(unknown)) stop(who, ": unknown layer(s): ", paste(unknown, collapse = ", "),
                            "; known: ", paste(unique(c(names(all_layers), groups, "all")),
                                               collapse = ", "))
  all_layers[keep]
}

# Useful multiply-adds x 2 of one pass (forward, or each of backward's data and weight
# gradients): 2 * N * C * spatial_in * (num.filter / groups) * prod(kernel).
layer_flops <- function(L) 2 * L$N * L$C * prod(L$spatial) * (L$F / L$groups) * prod(L$kernel)
