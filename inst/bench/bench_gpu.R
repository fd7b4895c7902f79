# GPU benchmark of deconvolution() and deconvolution_backward() on the layers of bench.R.
#
#   Rscript inst/bench/bench_gpu.R [--quick] [--layers=dcgan1,fcn2] [--dtypes=float32]
#                                  [--out=DIR]
#
# Run by hand (or `make bench-gpu`), not by CI. For each dtype and layer (inst/bench/layers.R,
# shared with bench.R) it times, with deconv:::gpu_benchmark() (median of `reps` passes on
# random device-resident arrays after a warm-up, timed with CUDA events):
#   - cuDNN with cudnn.tune = NULL, cuDNN with cudnn.tune = "fastest", and deconv's own
#     kernels (cudnn.off = TRUE), forward and backward (all three gradients);
#   - the eager call deconvolution(ctx = mx.gpu()) end to end, forward: R arrays in and
#     out, so host-device transfers and conversions included (wall clock, median).
# GF/s counts 2*N*C*spatial_in*(num.filter/groups)*prod(kernel) per pass, as bench.R does
# (backward = 2 passes). Ends with a markdown table. Without a CUDA build or a CUDA device
# it says so and exits with status 0.
#
# Options:
#   --quick        fewer repetitions (a rough run)
#   --layers=LIST  names or groups of inst/bench/layers.csv, as in bench.R (dcgan1, fcn1,
#                  nhwc, tiny, ...; groups dcgan, fcn, scaling, ...; all, the default)
#   --dtypes=LIST  float32,float64 (default both)
#   --out=DIR      also write DIR/results_gpu.csv and DIR/summary_gpu.md

suppressPackageStartupMessages({
  ok <- requireNamespace("deconv", quietly = TRUE)
})
if (!ok) stop("bench_gpu.R: the deconv package is not installed (run `make install`, or set R_LIBS)")
library(deconv)

# ---------------------------------------------------------------------------------------
# Options

parse_args <- function(args) {
  opt <- list(quick = FALSE, layers = "all", dtypes = c("float32", "float64"), out = NULL)
  for (a in args) {
    if (a == "--quick") opt$quick <- TRUE
    else if (grepl("^--layers=", a)) opt$layers <- strsplit(sub("^--layers=", "", a), ",")[[1]]
    else if (grepl("^--dtypes=", a)) opt$dtypes <- strsplit(sub("^--dtypes=", "", a), ",")[[1]]
    else if (grepl("^--out=", a)) opt$out <- sub("^--out=", "", a)
    else if (a %in% c("-h", "--help")) {
      cat("usage: Rscript inst/bench/bench_gpu.R [--quick] [--layers=dcgan1,fcn2]",
          "[--dtypes=float32] [--out=DIR]\n")
      quit(status = 0)
    } else stop("bench_gpu.R: unknown argument '", a, "' (try --help)")
  }
  bad <- setdiff(opt$dtypes, c("float32", "float64"))
  if (length(bad)) stop("bench_gpu.R: unknown dtype(s): ", paste(bad, collapse = ", "))
  opt
}

opt <- parse_args(commandArgs(trailingOnly = TRUE))

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else system.file("bench", package = "deconv")
})
source(file.path(script_dir, "layers.R"), local = TRUE)
layers <- select_layers(opt$layers, who = "bench_gpu.R")

# ---------------------------------------------------------------------------------------
# Is there a GPU to measure?

info <- deconv_info()
if (!isTRUE(info$cuda)) {
  cat("bench_gpu.R: this build of deconv has no GPU support (deconv_info()$cuda is FALSE);",
      "nothing to benchmark. Install deconv on a machine with the CUDA toolkit and cuDNN.\n")
  quit(status = 0)
}
if (!isTRUE(info$devices > 0)) {
  cat("bench_gpu.R: no CUDA device (deconv_info()$devices == 0); nothing to benchmark.\n")
  quit(status = 0)
}
gpu_benchmark <- get0("gpu_benchmark", envir = asNamespace("deconv"), inherits = FALSE)
if (is.null(gpu_benchmark)) {
  stop("bench_gpu.R: this CUDA build of deconv has no internal gpu_benchmark()")
}

reps <- if (opt$quick) 5L else 20L          # gpu_benchmark's passes per timing
eager_reps <- if (opt$quick) 3L else 10L    # eager calls per timing (fewer when slow)
eager_budget_s <- if (opt$quick) 1 else 3   # at most this long per eager timing

# The configurations timed with gpu_benchmark(): extra deconvolution() arguments.
configs <- list(
  cudnn = list(),
  cudnn_fastest = list(cudnn.tune = "fastest"),
  own = list(cudnn.off = TRUE)
)

# ---------------------------------------------------------------------------------------
# Measurements

now <- function() as.numeric(Sys.time())

# deconvolution() parameters of a layer, in R order.
layer_params <- function(L) {
  list(kernel = rev(L$kernel), stride = rev(L$stride), dilate = rev(L$dilate),
       pad = rev(L$pad), num.filter = L$F, num.group = L$groups, no.bias = FALSE,
       layout = L$layout)
}
# R dims: the layout reversed (NHWC data c(C, W, H, N)); the weight is MXNet's
# (C, F/g, kernel...) reversed, or (C, kernel..., F/g) for NHWC/NDHWC.
layer_data_dim <- function(L) {
  if (channels_last(L)) c(L$C, rev(L$spatial), L$N) else c(rev(L$spatial), L$C, L$N)
}
layer_weight_dim <- function(L) {
  fg <- L$F / L$groups
  if (channels_last(L)) c(fg, rev(L$kernel), L$C) else c(rev(L$kernel), fg, L$C)
}

# Kernel time (ms) of one configuration and direction; NA with a note when it fails.
notes <- character(0)
bench_one <- function(L, dtype, cfg, backward) {
  args <- c(list(layer_data_dim(L)), layer_params(L), configs[[cfg]],
            list(dtype = dtype, ctx = mx.gpu(0), reps = reps, backward = backward))
  tryCatch(as.numeric(do.call(gpu_benchmark, args)), error = function(e) {
    notes <<- c(notes, sprintf("%s %s %s %s: %s", L$name, dtype, cfg,
                               if (backward) "backward" else "forward", conditionMessage(e)))
    NA_real_
  })
}

# Eager forward, R arrays in and out (transfers included): median wall milliseconds.
bench_eager <- function(L, dtype) {
  dd <- layer_data_dim(L)
  x <- array(runif(prod(dd), -0.5, 0.5), dd)
  w <- array(runif(prod(layer_weight_dim(L)), -0.5, 0.5), layer_weight_dim(L))
  b <- runif(L$F, -0.5, 0.5)
  p <- layer_params(L)
  fwd <- function() do.call(deconvolution, c(list(x, w, b), p, list(dtype = dtype, ctx = mx.gpu(0))))
  tryCatch({
    invisible(fwd())
    t <- numeric(0)
    start <- now()
    while (length(t) < eager_reps && (length(t) < 2 || now() - start < eager_budget_s)) {
      t0 <- now(); invisible(fwd()); t <- c(t, now() - t0)
    }
    stats::median(t) * 1e3
  }, error = function(e) {
    notes <<- c(notes, sprintf("%s %s eager: %s", L$name, dtype, conditionMessage(e)))
    NA_real_
  })
}

fmt_ms <- function(ms) {
  ifelse(is.na(ms), "-", ifelse(ms < 0.1, sprintf("%.4f", ms),
                                ifelse(ms < 10, sprintf("%.3f", ms),
                                       ifelse(ms < 1000, sprintf("%.1f", ms), sprintf("%.0f", ms)))))
}
fmt_gfs <- function(x) ifelse(is.na(x), "-", formatC(x, format = "f", digits = 0))
gfs <- function(flops, ms) flops / (ms * 1e-3) / 1e9

# ---------------------------------------------------------------------------------------
# Run

t_start <- now()
cat("# deconv GPU benchmark\n")
cat(sprintf("date: %s; %s; deconv %s from %s\n", format(Sys.time(), "%Y-%m-%d %H:%M"),
            R.version.string, utils::packageVersion("deconv"),
            dirname(system.file(package = "deconv"))))
cat(sprintf("devices: %s\n", paste(sprintf("%d: %s", seq_along(info$device_names) - 1L,
                                           info$device_names), collapse = "; ")))
cat(sprintf("CUDA %s (runtime %s, driver %s); cuDNN %s (runtime %s)\n",
            format(info$cuda_version), format(info$cuda_runtime), format(info$cuda_driver),
            format(info$cudnn_version), format(info$cudnn_runtime)))
cat(sprintf("kernel times: deconv:::gpu_benchmark(), median of %d passes on device arrays (CUDA events);",
            reps), sprintf("eager: wall clock of deconvolution(ctx = mx.gpu()), median of up to %d calls\n",
                           eager_reps))
cat("GF/s counts 2*N*C*spatial_in*(num.filter/groups)*prod(kernel) per pass (backward = 2 passes).\n")
cat(sprintf("layers: %s; dtypes: %s\n", paste(names(layers), collapse = ", "),
            paste(opt$dtypes, collapse = ", ")))

rows <- list()
for (dtype in opt$dtypes) {
  cat(sprintf("\n## %s\n", dtype))
  head <- sprintf("%-10s %9s %7s %9s %7s %9s %7s %9s %7s %9s %7s %9s %7s %10s",
                  "layer", "cudnn f", "GF/s", "cudnn b", "GF/s", "fast f", "GF/s", "fast b",
                  "GF/s", "own f", "GF/s", "own b", "GF/s", "eager f")
  cat(head, "\n", sep = "")
  for (L in layers) {
    fl <- layer_flops(L)
    r <- list(layer = L$name, dtype = dtype, flops = fl)
    for (cfg in names(configs)) {
      f <- bench_one(L, dtype, cfg, FALSE)
      b <- bench_one(L, dtype, cfg, TRUE)
      r[[paste0(cfg, "_fwd_ms")]] <- f
      r[[paste0(cfg, "_bwd_ms")]] <- b
      r[[paste0(cfg, "_fwd_gfs")]] <- gfs(fl, f)
      r[[paste0(cfg, "_bwd_gfs")]] <- gfs(2 * fl, b)
    }
    r$eager_fwd_ms <- bench_eager(L, dtype)
    r$eager_fwd_gfs <- gfs(fl, r$eager_fwd_ms)
    cat(sprintf("%-10s %9s %7s %9s %7s %9s %7s %9s %7s %9s %7s %9s %7s %10s\n", L$name,
                fmt_ms(r$cudnn_fwd_ms), fmt_gfs(r$cudnn_fwd_gfs),
                fmt_ms(r$cudnn_bwd_ms), fmt_gfs(r$cudnn_bwd_gfs),
                fmt_ms(r$cudnn_fastest_fwd_ms), fmt_gfs(r$cudnn_fastest_fwd_gfs),
                fmt_ms(r$cudnn_fastest_bwd_ms), fmt_gfs(r$cudnn_fastest_bwd_gfs),
                fmt_ms(r$own_fwd_ms), fmt_gfs(r$own_fwd_gfs),
                fmt_ms(r$own_bwd_ms), fmt_gfs(r$own_bwd_gfs), fmt_ms(r$eager_fwd_ms)))
    rows[[length(rows) + 1]] <- r
  }
}

if (length(rows)) {
  g <- function(f) vapply(rows, function(r) as.numeric(r[[f]]), 0)
  md <- data.frame(
    layer = vapply(rows, `[[`, "", "layer"),
    dtype = vapply(rows, `[[`, "", "dtype"),
    `cuDNN fwd ms` = fmt_ms(g("cudnn_fwd_ms")), `GF/s` = fmt_gfs(g("cudnn_fwd_gfs")),
    `cuDNN bwd ms` = fmt_ms(g("cudnn_bwd_ms")), `bwd GF/s` = fmt_gfs(g("cudnn_bwd_gfs")),
    `fastest fwd ms` = fmt_ms(g("cudnn_fastest_fwd_ms")),
    `fastest bwd ms` = fmt_ms(g("cudnn_fastest_bwd_ms")),
    `own fwd ms` = fmt_ms(g("own_fwd_ms")), `own GF/s` = fmt_gfs(g("own_fwd_gfs")),
    `own bwd ms` = fmt_ms(g("own_bwd_ms")),
    `eager fwd ms` = fmt_ms(g("eager_fwd_ms")),
    check.names = FALSE, stringsAsFactors = FALSE)
  md_lines <- c(paste0("| ", paste(names(md), collapse = " | "), " |"),
                paste0("|", paste(ifelse(seq_along(md) <= 2, "---", "---:"), collapse = "|"), "|"),
                apply(md, 1, function(r) paste0("| ", paste(r, collapse = " | "), " |")))
  cat("\n## Summary (markdown)\n\n")
  cat(sprintf(paste("Device: %s. cuDNN = cudnn.tune NULL; fastest = cudnn.tune \"fastest\";",
                    "own = cudnn.off = TRUE (deconv's CUDA kernels). Kernel times from",
                    "deconv:::gpu_benchmark() (device arrays, CUDA events); eager = deconvolution(ctx =",
                    "mx.gpu()) with R arrays, transfers included. Backward computes all three gradients.\n\n"),
              info$device_names[1]))
  cat(md_lines, sep = "\n")
  cat("\n")
  if (length(notes)) cat("\nNotes:\n", paste0("- ", unique(notes), "\n"), sep = "")
  if (!is.null(opt$out)) {
    dir.create(opt$out, showWarnings = FALSE, recursive = TRUE)
    flat <- do.call(rbind, lapply(rows, as.data.frame))
    utils::write.csv(flat, file.path(opt$out, "results_gpu.csv"), row.names = FALSE)
    writeLines(md_lines, file.path(opt$out, "summary_gpu.md"))
    cat(sprintf("wrote %s and %s\n", file.path(opt$out, "results_gpu.csv"),
                file.path(opt$out, "summary_gpu.md")))
  }
}
cat(sprintf("\ntotal time %.0f s\n", now() - t_start))
