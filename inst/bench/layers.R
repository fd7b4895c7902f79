# The benchmark layers, shared by bench.R (CPU, against PyTorch) and bench_gpu.R (GPU):
# the layer table, the selection by --layers and the FLOP count of one pass.
# Sourced by both scripts; defines layer(), all_layers, select_layers() and layer_flops().

# Sizes in MXNet/PyTorch order (spatial = D, H, W); R order is the reverse.

# The table itself is layers.csv next to this file, which the C++ benchmark of the core
# (tests/gtest/bench_core.cpp, run by tools/gpu_check.sh) reads too: one list for all.
# Tuples are written "4x4" (MXNet order); bench.R and bench_gpu.R set `script_dir`.
# `dilate` and `layout` may be blank: dilation 1, and the channels-first layout of the
# kernel's rank (NCW, NCHW, NCDHW). `layout` is always filled in here.
layer <- function(name, group, N, C, spatial, F, kernel, stride, pad, groups = 1L,
                  dilate = rep(1, length(kernel)), layout = "") {
  if (!nzchar(layout)) layout <- c("NCW", "NCHW", "NCDHW")[length(kernel)]
  list(name = name, group = group, N = N, C = C, spatial = spatial, F = F, kernel = kernel,
       stride = stride, pad = pad, groups = groups, dilate = dilate, layout = layout)
}
read_layers <- function(file) {
  t <- utils::read.csv(file, colClasses = "character", strip.white = TRUE)
  for (col in c("dilate", "layout")) if (is.null(t[[col]])) t[[col]] <- ""
  tuple <- function(x) as.numeric(strsplit(x, "x", fixed = TRUE)[[1]])
  lapply(seq_len(nrow(t)), function(i) {
    r <- t[i, ]
    kernel <- tuple(r$kernel)
    dilate <- if (nzchar(r$dilate)) tuple(r$dilate) else rep(1, length(kernel))
    layer(r$name, r$group, as.numeric(r$N), as.numeric(r$C), tuple(r$spatial),
          as.numeric(r$F), kernel, tuple(r$stride), tuple(r$pad), as.integer(r$groups),
          dilate, r$layout)
  })
}
# Whether a layer's channels come last (NWC-style layouts: NHWC, NDHWC).
channels_last <- function(L) substr(L$layout, 2, 2) != "C"
all_layers <- read_layers(file.path(
  if (exists("script_dir", inherits = TRUE)) script_dir else system.file("bench", package = "deconv"),
  "layers.csv"))
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
# gradients): 2 * N * C * spatial_in * (num.filter / groups) * prod(kernel). Dilation
# spreads the taps but does not add any, and the layout only orders memory: neither counts.
layer_flops <- function(L) 2 * L$N * L$C * prod(L$spatial) * (L$F / L$groups) * prod(L$kernel)
