# Benchmark of deconvolution() and deconvolution_backward() against PyTorch, ONNX Runtime
# and OpenVINO.
#
#   Rscript inst/bench/bench.R [--quick] [--layers=dcgan1,fcn2] [--dtypes=float32]
#                              [--threads=1,2] [--peers=torch2,ort] [--no-peers] [--out=DIR]
#                              [--max-wait=SEC]
#
# Run by `make bench`, not by CI. For each (dtype, threads) it measures the machine's GEMM
# peak (through the package's own GEMM, deconv:::gemm_benchmark(), the one %pk divides by;
# also Eigen as compiled for the package, and R's BLAS), then times our forward and
# backward passes on the layers of inst/bench/layers.csv and the same layers through the
# peers (inst/bench/bench_peers.R): PyTorch 2.x (PyPI) forward and backward, ONNX Runtime's
# and OpenVINO's ConvTranspose forward (all three from the venv inst/bench/setup_peers.sh
# makes), and Debian's torch 1.13 when it is there; each in one Python subprocess per
# (peer, dtype, threads) that returns JSON (inst/bench/peers.py, peers_onnx.py). Both sides
# follow the same repetition policy (`measure()` here and in peer_common.py) and both
# sides' results are checked against each other by checksum. Prints per layer ms, GF/s,
# % of the GEMM peak and the ratio to each peer, then a markdown table and the geometric
# means per peer, dtype and direction.
#
# Options:
#   --quick        short repetitions (and a smaller GEMM for the peak): a rough run
#   --layers=LIST  names or groups of inst/bench/layers.csv (dcgan1, fcn1, nhwc, tiny, ...;
#                  groups dcgan, fcn, unet3d, audio, depthwise, scaling, ...), or all (default)
#   --dtypes=LIST  float32,float64 (default both)
#   --threads=LIST thread counts (default 1,2)
#   --peers=LIST   only these peers: torch2, torch1, ort, openvino (default all found)
#   --no-peers     no peers
#   --out=DIR      also write DIR/results.csv and DIR/summary.md
#   --max-wait=SEC how long to wait for other processes' CPU use to drop before a timing
#                  (default 120; 0 = never wait)
# Debian's torch 1.13 runs its GEMMs on OpenBLAS (pthreads) inside its own OpenMP threads;
# with 2 threads the two oversubscribe the cores and some of its timings become erratic
# (backward up to several times slower). `OPENBLAS_NUM_THREADS=1 Rscript ...` avoids that;
# it does not change our side (the package and the peak probe set BLAS threads themselves).
# Environment: DECONV_BENCH_VENV (default build/bench-venv of this source tree) is the
# peers' venv; DECONV_BENCH_TORCH2 and DECONV_BENCH_ONNX (default: that venv's python) name
# the Pythons of PyTorch 2 and of ONNX Runtime / OpenVINO, DECONV_BENCH_TORCH1 (default
# /usr/bin/python3) torch 1.13's; a peer whose Python is missing or fails its probe is
# skipped.

suppressPackageStartupMessages({
  ok <- requireNamespace("deconv", quietly = TRUE)
})
if (!ok) stop("bench.R: the deconv package is not installed (run `make install`, or set R_LIBS)")
library(deconv)

# ---------------------------------------------------------------------------------------
# Options

parse_args <- function(args) {
  opt <- list(quick = FALSE, layers = "all", dtypes = c("float32", "float64"),
              threads = c(1L, 2L), peers = TRUE, peer_names = NULL, out = NULL,
              max_wait = 120)
  for (a in args) {
    if (a == "--quick") opt$quick <- TRUE
    else if (a == "--no-peers") opt$peers <- FALSE
    else if (grepl("^--peers=", a)) opt$peer_names <- strsplit(sub("^--peers=", "", a), ",")[[1]]
    else if (grepl("^--layers=", a)) opt$layers <- strsplit(sub("^--layers=", "", a), ",")[[1]]
    else if (grepl("^--dtypes=", a)) opt$dtypes <- strsplit(sub("^--dtypes=", "", a), ",")[[1]]
    else if (grepl("^--threads=", a))
      opt$threads <- as.integer(strsplit(sub("^--threads=", "", a), ",")[[1]])
    else if (grepl("^--out=", a)) opt$out <- sub("^--out=", "", a)
    else if (grepl("^--max-wait=", a)) opt$max_wait <- as.numeric(sub("^--max-wait=", "", a))
    else if (a %in% c("-h", "--help")) {
      cat("usage: Rscript inst/bench/bench.R [--quick] [--layers=dcgan1,fcn2]",
          "[--dtypes=float32] [--threads=1,2] [--peers=torch2,ort] [--no-peers] [--out=DIR]",
          "[--max-wait=SEC]\n")
      quit(status = 0)
    } else stop("bench.R: unknown argument '", a, "' (try --help)")
  }
  bad <- setdiff(opt$dtypes, c("float32", "float64"))
  if (length(bad)) stop("bench.R: unknown dtype(s): ", paste(bad, collapse = ", "))
  if (anyNA(opt$threads) || any(opt$threads < 1)) stop("bench.R: --threads needs positive integers")
  opt
}

`%||%` <- function(a, b) if (is.null(a)) b else a

opt <- parse_args(commandArgs(trailingOnly = TRUE))

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else system.file("bench", package = "deconv")
})

# Repetition policy, shared with peers.py: see measure().
policy <- if (opt$quick) {
  list(warm_s = 0, min_batch_s = 0.002, target_s = 0.1, min_k = 3L, max_k = 200L)
} else {
  list(warm_s = 0.1, min_batch_s = 0.002, target_s = 1.0, min_k = 5L, max_k = 500L)
}
gemm_n <- if (opt$quick) 1024L else 2048L
gemm_reps <- if (opt$quick) 2L else 3L
busy_limit <- 0.25  # cores used by other processes above which a timing is retried

# ---------------------------------------------------------------------------------------
# Layers (inst/bench/layers.R, shared with bench_gpu.R): all_layers, select_layers(),
# layer_flops(). Sizes in MXNet/PyTorch order (spatial = D, H, W); R order is the reverse.

source(file.path(script_dir, "layers.R"), local = TRUE)
layers <- select_layers(opt$layers)

# ---------------------------------------------------------------------------------------
# Timing and machine load

now <- function() as.numeric(Sys.time())

# CPU ticks: all CPUs busy, all CPUs total, this process (all threads) and its waited-for
# children. NULL where /proc is not there.
cpu_ticks <- function() {
  st <- tryCatch(readLines("/proc/stat", n = 1L), error = function(e) NULL)
  me <- tryCatch(readLines("/proc/self/stat", n = 1L), error = function(e) NULL)
  if (is.null(st) || is.null(me)) return(NULL)
  v <- as.numeric(strsplit(trimws(sub("^cpu", "", st)), "[[:space:]]+")[[1]])
  f <- strsplit(sub("^.*\\) ", "", me), " ")[[1]]  # fields from 3 on
  own <- sum(as.numeric(f[12:15]))                  # utime stime cutime cstime
  list(busy = sum(v) - v[4] - v[5], total = sum(v), own = own)
}

# Cores used by other processes between two cpu_ticks() snapshots. Ticks are 10 ms, so
# over a short window this is rough: attribute "slack" is the error a couple of ticks make.
others_busy <- function(a, b) {
  if (is.null(a) || is.null(b) || b$total <= a$total) return(NA_real_)
  ncpu <- parallel::detectCores()
  window_s <- (b$total - a$total) / ncpu / 100
  structure(max(0, ((b$busy - a$busy) - (b$own - a$own)) / (b$total - a$total) * ncpu),
            slack = 0.02 / max(window_s, 1e-3))
}
# Whether a measurement was disturbed: others_busy() above busy_limit plus its slack.
disturbed <- function(b) {
  !is.na(b) && b > busy_limit + (if (is.null(attr(b, "slack"))) 0 else attr(b, "slack"))
}

busy_now <- function(seconds = 0.5) {
  a <- cpu_ticks(); Sys.sleep(seconds); others_busy(a, cpu_ticks())
}

waited_total <- 0
# Waits (up to --max-wait seconds) until other processes use less than busy_limit cores.
wait_quiet <- function(what = "") {
  if (opt$max_wait <= 0) return(invisible(NA_real_))
  start <- now()
  b <- busy_now()
  said <- FALSE
  while (!is.na(b) && b > busy_limit && now() - start < opt$max_wait) {
    if (!said) {
      cat(sprintf("  [waiting: other processes use %.1f cores%s]\n", b,
                  if (nzchar(what)) paste0(" before ", what) else ""))
      said <- TRUE
    }
    Sys.sleep(5)
    b <- busy_now(1)
  }
  waited_total <<- waited_total + (now() - start)
  if (said) cat(sprintf("  [%s after %.0f s: %.1f cores busy elsewhere]\n",
                        if (b > busy_limit) "going on anyway" else "quiet", now() - start, b))
  invisible(b)
}

# Warm-up, then the median over k timed batches of b calls (seconds per call). One
# untimed call; timed single calls until warm_s has passed give an estimate t; a batch is
# b = ceiling(min_batch_s / t) calls; k = target_s / (b t), clamped to [min_k, max_k].
# peers.py's measure() is the same. `others` is the number of cores other processes used
# meanwhile.
measure <- function(fn, p = policy) {
  fn()
  times <- numeric(0)
  start <- now()
  repeat {
    t0 <- now(); fn(); times <- c(times, now() - t0)
    if (now() - start >= p$warm_s) break
  }
  est <- max(min(times), 1e-9)
  b <- max(1L, as.integer(ceiling(p$min_batch_s / est)))
  k <- as.integer(min(p$max_k, max(p$min_k, round(p$target_s / (b * est)))))
  samples <- numeric(k)
  c0 <- cpu_ticks()
  for (i in seq_len(k)) {
    t0 <- now()
    for (j in seq_len(b)) fn()
    samples[i] <- (now() - t0) / b
  }
  list(median_s = stats::median(samples), min_s = min(samples), k = k, batch = b,
       others = others_busy(c0, cpu_ticks()))
}

# measure(), retried once (after waiting for quiet) when other processes were busy.
measure_guarded <- function(fn, what) {
  r <- measure(fn)
  if (disturbed(r$others)) {
    wait_quiet(what)
    r2 <- measure(fn)
    r2$retried <- TRUE
    if (is.na(r2$others) || r2$others <= r$others) r <- r2
  }
  r
}

# ---------------------------------------------------------------------------------------
# Inputs, identical to peers.py's: pattern(n, mult)[i] = ((i * mult) mod 1000)/1000 - 0.5,
# i = 0..n-1 in memory order.

pattern <- function(n, mult) {
  i <- seq_len(n) - 1
  ((i * mult) %% 1000) / 1000 - 0.5
}
checksum <- function(a) {
  a <- as.numeric(a)
  c(sum(a), sum(a * pattern(length(a), 613)), sum(abs(a)))
}
# Whether two checksums agree: sum and weighted sum, relative to the sum of |values|.
same_sums <- function(ours, theirs, dtype) {
  tol <- if (dtype == "float32") 1e-4 else 1e-9
  scale <- max(abs(ours[3]), abs(theirs[3]), 1e-300)
  all(abs(ours[1:2] - theirs[1:2]) <= tol * scale)
}

# Peak temporary bytes of a call: attr(result, "temp_bytes") when the package sets it,
# else the package's record of its last CPU run (cpp_last_temp_bytes), else NA.
last_temp_bytes <- if (exists("cpp_last_temp_bytes", envir = asNamespace("deconv"), inherits = FALSE)) {
  get("cpp_last_temp_bytes", envir = asNamespace("deconv"))
} else NULL
temp_bytes_of <- function(res) {
  tb <- attr(res, "temp_bytes", exact = TRUE)
  if (!is.null(tb)) return(as.numeric(tb))
  if (!is.null(last_temp_bytes)) return(as.numeric(last_temp_bytes()))
  NA_real_
}
temp_source <- if (!is.null(last_temp_bytes)) "deconv:::cpp_last_temp_bytes()" else "attr(, \"temp_bytes\") (NA when absent)"

# R dims are the layout's reversed: NCHW data c(W, H, C, N), NHWC data c(C, W, H, N);
# the weight is MXNet's (C, F/g, kernel...) reversed, or (C, kernel..., F/g) for NHWC/NDHWC.
run_ours <- function(L, dtype) {
  last <- channels_last(L)
  fg <- L$F / L$groups
  x_dim <- if (last) c(L$C, rev(L$spatial), L$N) else c(rev(L$spatial), L$C, L$N)
  w_dim <- if (last) c(fg, rev(L$kernel), L$C) else c(rev(L$kernel), fg, L$C)
  x <- array(pattern(prod(x_dim), 7919), dim = x_dim)
  w <- array(pattern(prod(w_dim), 104729), dim = w_dim)
  b <- pattern(L$F, 31)
  kern <- rev(L$kernel); str <- rev(L$stride); pad <- rev(L$pad)
  # The defaults stay NULL, so that a plain layer (the tiny call) is called as users do.
  dil <- if (all(L$dilate == 1)) NULL else rev(L$dilate)
  lay <- if (last) L$layout else NULL
  nf <- L$F; ng <- L$groups
  fwd <- function() deconvolution(x, w, b, kernel = kern, stride = str, dilate = dil,
                                  pad = pad, num.filter = nf, num.group = ng,
                                  no.bias = FALSE, layout = lay, dtype = dtype)
  y <- fwd()
  temp_fwd <- temp_bytes_of(y)
  gy <- array(pattern(length(y), 613), dim = dim(y))
  bwd <- function() deconvolution_backward(gy, x, w, b, kernel = kern, stride = str,
                                           dilate = dil, pad = pad, num.filter = nf,
                                           num.group = ng, no.bias = FALSE, layout = lay,
                                           dtype = dtype)
  g <- bwd()
  temp_bwd <- temp_bytes_of(g)
  check <- list(y = checksum(y), dx = checksum(g$data), dw = checksum(g$weight),
                db = checksum(g$bias))
  invisible(gc(verbose = FALSE))
  rf <- measure_guarded(fwd, paste(L$name, "forward"))
  rb <- measure_guarded(bwd, paste(L$name, "backward"))
  list(fwd = rf, bwd = rb, temp_fwd = temp_fwd, temp_bwd = temp_bwd,
       check = check, out_dim = dim(y))
}

# ---------------------------------------------------------------------------------------
# GEMM peaks: Eigen compiled with the package's flags (inst/bench/gemm_peak.cpp), R's BLAS
# through %*% (double) and sgemm_ (float).

package_flags <- function() {
  mk <- file.path(script_dir, "..", "..", "src", c("Makevars", "Makevars.in"))
  mk <- mk[file.exists(mk)][1]
  flags <- list(cpp = "-DEIGEN_NO_DEBUG", cxx = "$(SHLIB_OPENMP_CXXFLAGS)",
                libs = "$(SHLIB_OPENMP_CXXFLAGS)", from = "defaults (no src/Makevars found)")
  if (!is.na(mk)) {
    lines <- gsub("@[A-Za-z_]+@", "", readLines(mk, warn = FALSE))
    get <- function(var) {
      l <- grep(paste0("^", var, "[[:space:]]*=", ""), lines, value = TRUE)
      if (length(l)) trimws(sub("^[^=]*=", "", l[1])) else ""
    }
    cpp <- gsub("(^|[[:space:]])-I[^[:space:]]*", " ", get("PKG_CPPFLAGS"))
    flags <- list(cpp = trimws(cpp), cxx = get("PKG_CXXFLAGS"), libs = get("PKG_LIBS"),
                  from = normalizePath(mk))
  }
  flags
}

helper <- local({
  env <- new.env()
  flags <- package_flags()
  src <- file.path(script_dir, "gemm_peak.cpp")
  ok <- FALSE
  msg <- ""
  if (file.exists(src) && requireNamespace("Rcpp", quietly = TRUE) &&
      requireNamespace("RcppEigen", quietly = TRUE)) {
    old <- Sys.getenv(c("PKG_CPPFLAGS", "PKG_CXXFLAGS", "PKG_LIBS"), unset = NA)
    Sys.setenv(PKG_CPPFLAGS = flags$cpp, PKG_CXXFLAGS = paste(flags$cxx, "-w"),
               PKG_LIBS = flags$libs)
    cache <- file.path(tempdir(), "deconv-bench")
    res <- tryCatch({
      out <- utils::capture.output(
        Rcpp::sourceCpp(src, env = env, cacheDir = cache, showOutput = FALSE),
        type = "output")
      TRUE
    }, error = function(e) conditionMessage(e))
    for (v in names(old)) {
      if (is.na(old[[v]])) Sys.unsetenv(v) else do.call(Sys.setenv, as.list(old[v]))
    }
    if (isTRUE(res)) ok <- TRUE else msg <- res
  } else {
    msg <- "needs inst/bench/gemm_peak.cpp, Rcpp and RcppEigen"
  }
  list(ok = ok, env = env, flags = flags, msg = msg)
})

# Sets the BLAS's threads (n > 0) and returns the previous count; NA if not settable.
blas_threads <- function(n) {
  if (helper$ok) helper$env$bench_blas_threads(as.integer(n)) else NA_integer_
}

gemm_peaks <- function(dtype, threads) {
  single <- dtype == "float32"
  flop <- 2 * as.numeric(gemm_n)^3
  res <- list(eigen = NA_real_, blas = NA_real_, blas_how = NA_character_,
              blas_threads_set = FALSE)
  # The peak %pk divides by: the package's own GEMM backend and threading.
  res$package <- flop / deconv:::gemm_benchmark(gemm_n, gemm_reps, threads, dtype) / 1e9
  if (helper$ok) {
    res$eigen <- flop / helper$env$bench_eigen_gemm(gemm_n, gemm_reps, threads, single) / 1e9
  }
  old_threads <- blas_threads(threads)
  res$blas_threads_set <- !is.na(old_threads)
  if (single) {
    if (helper$ok) {
      t <- helper$env$bench_blas_gemm(gemm_n, gemm_reps, TRUE)
      res$blas <- flop / t / 1e9
      res$blas_how <- "sgemm_"
    }
  } else {
    a <- matrix(pattern(gemm_n^2, 7919), gemm_n)
    b <- matrix(pattern(gemm_n^2, 104729), gemm_n)
    invisible(a %*% b)
    best <- Inf
    for (i in seq_len(gemm_reps)) {
      t0 <- now(); invisible(a %*% b); best <- min(best, now() - t0)
    }
    res$blas <- flop / best / 1e9
    res$blas_how <- "%*%"
  }
  if (!is.na(old_threads)) blas_threads(old_threads)
  res
}

# The GEMM library the package uses for a dtype (deconv_info()$gemm; builds that do not
# say use Eigen): "eigen" or "blas".
package_gemm <- function(dtype) {
  g <- deconv_info()$gemm
  lib <- if (!is.null(g) && !is.na(g[dtype])) unname(g[dtype]) else "Eigen"
  list(name = lib, kind = if (grepl("eigen", lib, ignore.case = TRUE)) "eigen" else "blas")
}

# ---------------------------------------------------------------------------------------
# Peers (inst/bench/bench_peers.R): peer_defs, find_peer(), run_peer_guarded(),
# compare_peer(); one Python subprocess per (peer, dtype, threads).

source(file.path(script_dir, "bench_peers.R"), local = TRUE)
if (length(bad <- setdiff(opt$peer_names, names(peer_defs))))
  stop("bench.R: unknown peer(s): ", paste(bad, collapse = ", "), "; known: ",
       paste(names(peer_defs), collapse = ", "))

# ---------------------------------------------------------------------------------------
# Formatting

fmt_ms <- function(s) {
  ms <- s * 1e3
  ifelse(is.na(ms), "-", ifelse(ms < 0.1, sprintf("%.4f", ms),
                                ifelse(ms < 10, sprintf("%.3f", ms),
                                       ifelse(ms < 1000, sprintf("%.1f", ms), sprintf("%.0f", ms)))))
}
fmt_num <- function(x, d = 1) ifelse(is.na(x), "-", formatC(x, format = "f", digits = d))
fmt_ratio <- function(x) ifelse(is.na(x), "-", sprintf("%.2fx", x))
fmt_mib <- function(b) ifelse(is.na(b), "NA", sprintf("%.1f", b / 2^20))

print_table <- function(df) {
  w <- pmax(nchar(names(df)), vapply(df, function(col) max(nchar(col), 0L), 0L))
  line <- function(v) paste(sprintf("%*s", w, v), collapse = "  ")
  cat(line(names(df)), "\n", sep = "")
  for (i in seq_len(nrow(df))) cat(line(unlist(df[i, ])), "\n", sep = "")
}

git_desc <- function() {
  root <- normalizePath(file.path(script_dir, "..", ".."), mustWork = FALSE)
  if (!dir.exists(file.path(root, ".git")) || !nzchar(Sys.which("git"))) return("")
  h <- suppressWarnings(system2("git", c("-C", shQuote(root), "rev-parse", "--short", "HEAD"),
                                stdout = TRUE, stderr = FALSE))
  d <- suppressWarnings(system2("git", c("-C", shQuote(root), "status", "--porcelain",
                                         "--untracked-files=no", "--", "src", "R"),
                                stdout = TRUE, stderr = FALSE))
  if (!length(h)) return("")
  paste0(h[1], if (length(d)) " (src/ or R/ modified)" else "")
}

# ---------------------------------------------------------------------------------------
# Run

t_start <- now()
cpu_model <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^[^:]*:", "", l[1])) else "unknown"
}, error = function(e) "unknown")

cat("# deconv benchmark\n")
cat(sprintf("date: %s; CPU: %s, %d cores; %s\n", format(Sys.time(), "%Y-%m-%d %H:%M"),
            cpu_model, parallel::detectCores(), R.version.string))
cat(sprintf("deconv %s (%s) from %s%s\n", utils::packageVersion("deconv"),
            if (deconv_info()$cuda) "CUDA" else "CPU only",
            dirname(system.file(package = "deconv")),
            if (nzchar(g <- git_desc())) paste0("; bench script's tree at ", g) else ""))
blas_lib <- tryCatch(extSoftVersion()[["BLAS"]], error = function(e) "")
cat(sprintf("R's BLAS: %s%s\n", if (nzchar(blas_lib)) blas_lib else "(unknown)",
            if (helper$ok && nzchar(cfg <- helper$env$bench_blas_config())) paste0(" [", cfg, "]") else ""))
if (grepl("libblas\\.so|/blas/", blas_lib) && !grepl("openblas|mkl|blis", tolower(blas_lib)))
  cat("  note: this looks like the reference BLAS; install libopenblas0-pthread for real BLAS peaks\n")
if (helper$ok) {
  cat(sprintf("GEMM peak probe: %s; flags from %s: %s %s\n", helper$env$bench_eigen_info(),
              helper$flags$from, helper$flags$cpp, helper$flags$cxx))
} else {
  cat("GEMM peak probe not compiled (", helper$msg, "): Eigen peak and BLAS float peak are NA\n", sep = "")
}
gl <- deconv_info()$gemm
cat(sprintf("package GEMM library (deconv_info()$gemm): %s\n",
            if (is.null(gl)) "not reported (Eigen)" else paste(names(gl), gl, sep = " ", collapse = ", ")))
cat(sprintf("policy: warm-up %.2f s, batches >= %.0f ms, median of k runs (k in [%d, %d], ~%.2f s per pass); GEMM peak = best of %d, n = %d\n",
            policy$warm_s, policy$min_batch_s * 1e3, policy$min_k, policy$max_k,
            policy$target_s, gemm_reps, gemm_n))
cat("GF/s counts 2*N*C*spatial_in*(num.filter/groups)*prod(kernel) per pass (backward = 2 passes),",
    "including taps that land in the cropped padding.\n")

peers <- list()
if (opt$peers) {
  for (nm in intersect(names(peer_defs), opt$peer_names %||% names(peer_defs))) {
    p <- find_peer(peer_defs[[nm]])
    if (p$ok) {
      cat(sprintf("peer %s: %s at %s\n", p$label, describe_peer(p), p$python))
      peers[[nm]] <- p
    } else {
      cat(sprintf("peer %s: skipped (%s: %s)\n", p$label, p$python, p$why))
    }
  }
} else {
  cat("peers: skipped (--no-peers)\n")
}
cat(sprintf("layers: %s\n", paste(names(layers), collapse = ", ")))
b0 <- busy_now(1)
cat(sprintf("other processes' CPU use at start: %s cores (load average %s)\n", fmt_num(b0, 2),
            tryCatch(paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = " "),
                     error = function(e) "?")))

rows <- list()
notes <- character(0)
peer_errors <- list()  # one entry per (peer, dtype, threads, layer) that a peer could not run

# A numeric field of each row (NA where absent).
field <- function(rs, f) vapply(rs, function(r) { v <- r[[f]]; if (is.null(v)) NA_real_ else as.numeric(v) }, 0)

# The peers' errors as notes, one per (peer, dtype, error) with the layers and threads it hit.
peer_error_notes <- function(errs) {
  if (!length(errs)) return(character(0))
  key <- vapply(errs, function(e) paste(e$peer, e$dtype, e$error, sep = "\r"), "")
  vapply(unique(key), function(k) {
    es <- errs[key == k]
    sprintf("%s, %s: \"-\" on %s (%s thread(s)): %s", es[[1]]$peer, es[[1]]$dtype,
            paste(unique(vapply(es, `[[`, "", "layer")), collapse = ", "),
            paste(unique(vapply(es, function(e) as.character(e$threads), "")), collapse = ","),
            es[[1]]$error)
  }, "", USE.NAMES = FALSE)
}

for (dtype in opt$dtypes) {
  for (th in opt$threads) {
    cat(sprintf("\n## %s, %d thread%s\n", dtype, th, if (th > 1) "s" else ""))
    wait_quiet("the GEMM peak")
    deconv_threads(th)
    pk <- gemm_peaks(dtype, th)
    pg <- package_gemm(dtype)
    pk$peak <- pk$package
    cat(sprintf("GEMM peak (n = %d): the package's GEMM (%s) %s GF/s, which %%pk divides by; Eigen %s GF/s; R's BLAS %s %s GF/s%s\n",
                gemm_n, pg$name, fmt_num(pk$package), fmt_num(pk$eigen), format(pk$blas_how),
                fmt_num(pk$blas),
                if (!pk$blas_threads_set) " (BLAS threads not settable: its default)" else ""))
    t_config <- now()

    ours <- list()
    for (L in layers) {
      ours[[L$name]] <- tryCatch(run_ours(L, dtype), error = function(e) {
        cat(sprintf("  [%s failed: %s]\n", L$name, conditionMessage(e)))
        NULL
      })
    }
    deconv_threads(0)

    theirs <- list()
    for (nm in names(peers)) {
      wait_quiet(peers[[nm]]$label)
      theirs[[nm]] <- run_peer_guarded(peers[[nm]], dtype, th, layers)
    }

    tab <- list()
    for (L in layers) {
      o <- ours[[L$name]]
      if (is.null(o)) next
      fl <- layer_flops(L)
      r <- list(layer = L$name, dtype = dtype, threads = th, flops = fl,
                fwd_s = o$fwd$median_s, bwd_s = o$bwd$median_s, fwd_k = o$fwd$k,
                bwd_k = o$bwd$k, fwd_gfs = fl / o$fwd$median_s / 1e9,
                bwd_gfs = 2 * fl / o$bwd$median_s / 1e9,
                pct_peak = 100 * fl / o$fwd$median_s / 1e9 / pk$peak, gemm = pg$name,
                pct_eigen = 100 * fl / o$fwd$median_s / 1e9 / pk$eigen,
                pct_blas = 100 * fl / o$fwd$median_s / 1e9 / pk$blas,
                peak_package = pk$package, peak_eigen = pk$eigen, peak_blas = pk$blas,
                temp_fwd = o$temp_fwd, temp_bwd = o$temp_bwd,
                others = max(o$fwd$others, o$bwd$others, na.rm = FALSE),
                disturbed = disturbed(o$fwd$others) || disturbed(o$bwd$others))
      for (nm in names(peer_defs)) {
        def <- peer_defs[[nm]]
        cmp <- compare_peer(theirs[[nm]]$results[[L$name]], o, dtype, def$backward)
        if (isFALSE(cmp$check))
          notes <- c(notes, sprintf("%s %s %d thr: our results differ from %s's (checksums)",
                                    L$name, dtype, th, def$label))
        if (!is.na(cmp$error))
          peer_errors[[length(peer_errors) + 1]] <- list(peer = def$label, dtype = dtype,
                                                         threads = th, layer = L$name,
                                                         error = cmp$error)
        if (!is.na(cmp$note)) notes <- c(notes, sprintf("%s, %s: %s", L$name, def$label, cmp$note))
        r[[paste0(nm, "_fwd_s")]] <- cmp$fwd_s
        r[[paste0(nm, "_bwd_s")]] <- cmp$bwd_s
        r[[paste0(nm, "_check")]] <- cmp$check
      }
      for (nm in names(theirs)) {
        if (!is.null(theirs[[nm]]) && disturbed(theirs[[nm]]$others)) r$disturbed <- TRUE
      }
      rows[[length(rows) + 1]] <- r
      tab[[length(tab) + 1]] <- r
    }

    if (length(tab)) {
      g <- function(f) field(tab, f)
      chk <- function(r) {
        v <- vapply(names(peers), function(nm) as.logical(r[[paste0(nm, "_check")]]), NA)
        if (all(is.na(v))) "-" else if (all(v, na.rm = TRUE)) "ok"
        else paste0("DIFF(", paste(names(v)[!is.na(v) & !v], collapse = ","), ")")
      }
      df <- data.frame(
        layer = vapply(tab, `[[`, "", "layer"),
        `fwd ms` = fmt_ms(g("fwd_s")), `GF/s` = fmt_num(g("fwd_gfs")),
        `%pk` = fmt_num(g("pct_peak"), 0),
        `%Eig` = fmt_num(g("pct_eigen"), 0), `%BLAS` = fmt_num(g("pct_blas"), 0),
        `bwd ms` = fmt_ms(g("bwd_s")), `bGF/s` = fmt_num(g("bwd_gfs")),
        `b/f` = fmt_num(g("bwd_s") / g("fwd_s"), 2),
        `tmpMiB f/b` = paste(fmt_mib(g("temp_fwd")), fmt_mib(g("temp_bwd")), sep = "/"),
        check.names = FALSE, stringsAsFactors = FALSE)
      for (nm in names(peers)) {
        sh <- peer_defs[[nm]]$short
        df[[paste0("x", sh, " f")]] <- fmt_ratio(g(paste0(nm, "_fwd_s")) / g("fwd_s"))
        if (peer_defs[[nm]]$backward)
          df[[paste0("x", sh, " b")]] <- fmt_ratio(g(paste0(nm, "_bwd_s")) / g("bwd_s"))
      }
      df$chk <- vapply(tab, chk, "")
      df$busy <- paste0(fmt_num(g("others"), 2), ifelse(g("disturbed") > 0, "*", ""))
      print_table(df)
      for (nm in names(theirs)) {
        if (!is.null(theirs[[nm]]))
          cat(sprintf("  (%s subprocess: %.0f s, other processes %s cores)\n", peer_defs[[nm]]$label,
                      theirs[[nm]]$wall, fmt_num(theirs[[nm]]$others, 2)))
      }
      ti <- Filter(function(r) r$layer == "tiny", tab)
      if (length(ti)) {
        ti <- ti[[1]]
        us <- function(s) ifelse(is.na(s), "-", sprintf("%.1f us", s * 1e6))
        theirs_us <- vapply(names(peers), function(nm) {
          sprintf("%s %s%s", peer_defs[[nm]]$label, us(ti[[paste0(nm, "_fwd_s")]]),
                  if (peer_defs[[nm]]$backward) paste(" /", us(ti[[paste0(nm, "_bwd_s")]])) else "")
        }, "")
        cat(sprintf("  tiny call overhead: fwd %s, bwd %s%s\n", us(ti$fwd_s), us(ti$bwd_s),
                    if (length(theirs_us)) paste0(" (", paste(theirs_us, collapse = "; "), ")") else ""))
      }
      cat(sprintf("  (this configuration took %.0f s)\n", now() - t_config))
      sc <- Filter(function(r) r$layer %in% c("scale_n1", "scale_n4", "scale_n16", "scale_n64"), tab)
      if (length(sc) >= 2) {
        n <- as.numeric(sub("scale_n", "", vapply(sc, `[[`, "", "layer")))
        per <- function(f) {
          v <- field(sc, f) * 1e3 / n
          paste(ifelse(is.na(v), "-", sprintf("%.3f", v)), collapse = " ")
        }
        cat(sprintf("  scaling (ms per sample at N = %s): ours fwd %s | bwd %s | torch2 fwd %s\n",
                    paste(n, collapse = ","), per("fwd_s"), per("bwd_s"), per("torch2_fwd_s")))
      }
    }
  }
}

# ---------------------------------------------------------------------------------------
# Summary

# Markdown lines of a data frame (the first `left` columns left-aligned).
md_table <- function(df, left) {
  c(paste0("| ", paste(names(df), collapse = " | "), " |"),
    paste0("|", paste(ifelse(seq_along(df) <= left, "---", "---:"), collapse = "|"), "|"),
    apply(df, 1, function(r) paste0("| ", paste(r, collapse = " | "), " |")))
}

# Geometric means of peer time / ours per peer, dtype and direction, over every layer but
# the tiny call where both sides ran and agreed: one column per thread count and one over
# all of them, with the smallest ratio and how many layers are at or above 1.0x.
geomean_table <- function(rows) {
  out <- list()
  for (nm in names(peers)) {
    for (dtype in opt$dtypes) {
      for (dir in c("fwd", if (peer_defs[[nm]]$backward) "bwd")) {
        sel <- Filter(function(r) r$dtype == dtype && r$layer != "tiny", rows)
        ratio <- field(sel, paste0(nm, "_", dir, "_s")) / field(sel, paste0(dir, "_s"))
        ratio[!vapply(sel, function(r) isTRUE(r[[paste0(nm, "_check")]]), NA)] <- NA
        thr <- field(sel, "threads")
        gm <- function(v) {
          v <- v[!is.na(v)]
          if (length(v)) sprintf("%.2fx (%d)", exp(mean(log(v))), length(v)) else "-"
        }
        line <- list(peer = peer_defs[[nm]]$label, dtype = dtype,
                     direction = c(fwd = "forward", bwd = "backward")[[dir]])
        for (t in opt$threads) line[[sprintf("%d thr", t)]] <- gm(ratio[thr == t])
        line$all <- gm(ratio)
        ok <- ratio[!is.na(ratio)]
        line$min <- if (length(ok)) sprintf("%.2fx", min(ok)) else "-"
        line$`>= 1.0x` <- if (length(ok)) sprintf("%d / %d", sum(ok >= 1), length(ok)) else "-"
        out[[length(out) + 1]] <- line
      }
    }
  }
  if (!length(out)) return(NULL)
  do.call(rbind, lapply(out, as.data.frame, check.names = FALSE, stringsAsFactors = FALSE))
}

if (length(rows)) {
  g <- function(f) field(rows, f)
  md <- data.frame(
    layer = paste0(vapply(rows, `[[`, "", "layer"), ifelse(g("disturbed") > 0, " *", "")),
    dtype = vapply(rows, `[[`, "", "dtype"),
    threads = as.character(g("threads")),
    `fwd ms` = fmt_ms(g("fwd_s")), `fwd GF/s` = fmt_num(g("fwd_gfs")),
    `% GEMM peak` = fmt_num(g("pct_peak"), 0),
    `bwd ms` = fmt_ms(g("bwd_s")), `bwd/fwd` = fmt_num(g("bwd_s") / g("fwd_s"), 2),
    check.names = FALSE, stringsAsFactors = FALSE)
  for (nm in names(peers)) {
    lab <- peer_defs[[nm]]$label
    md[[paste("vs", lab, "fwd")]] <- fmt_ratio(g(paste0(nm, "_fwd_s")) / g("fwd_s"))
    if (peer_defs[[nm]]$backward)
      md[[paste("vs", lab, "bwd")]] <- fmt_ratio(g(paste0(nm, "_bwd_s")) / g("bwd_s"))
  }
  md$`temp MiB fwd/bwd` <- paste(fmt_mib(g("temp_fwd")), fmt_mib(g("temp_bwd")), sep = " / ")
  md_lines <- md_table(md, 3)
  cat("\n## Summary (markdown)\n\n")
  gemm_libs <- unique(vapply(rows, function(r) sprintf("%s: %s", r$dtype, r$gemm), ""))
  cat(sprintf(paste("`vs PEER` = the peer's time / ours (> 1: deconv is faster); \"-\": the peer",
                    "did not run the layer (see the notes) or does not time that direction.",
                    "%% GEMM peak: forward GF/s over the GEMM peak measured in the same run",
                    "(n = %d, same dtype and threads) through the GEMM and threading the package",
                    "uses (%s). Temporary memory (MiB, workspace = 512 MiB): %s.\n\n"), gemm_n,
              paste(gemm_libs, collapse = ", "), temp_source))
  cat(md_lines, sep = "\n")
  cat("\n")
  gm <- geomean_table(rows)
  gm_lines <- if (!is.null(gm)) md_table(gm, 3) else character(0)
  if (length(gm_lines)) {
    cat("\n## Geometric means (peer time / ours; every layer but tiny where both ran and agree; (n) layers)\n\n")
    cat(gm_lines, sep = "\n")
    cat("\n")
  }
  peak_lines <- unique(vapply(rows, function(r) sprintf("%s, %d thread(s): package (%s) %s GF/s, Eigen %s GF/s, R's BLAS %s GF/s",
                                                        r$dtype, as.integer(r$threads), r$gemm,
                                                        fmt_num(r$peak_package), fmt_num(r$peak_eigen),
                                                        fmt_num(r$peak_blas)), ""))
  cat("\nGEMM peaks in this run:", paste(peak_lines, collapse = "; "), "\n")
  ver <- vapply(peers, function(p) sprintf("%s = %s", p$label, describe_peer(p)), "")
  if (length(ver)) cat("Peers:", paste(ver, collapse = "; "), "\n")
  over <- which(pmax(g("temp_fwd"), g("temp_bwd"), na.rm = TRUE) > 512 * 2^20)
  if (length(over)) notes <- c(notes, sprintf("temporaries above the 512 MiB workspace: %s",
                                              paste(vapply(rows[over], function(r) sprintf("%s/%s/%d", r$layer, r$dtype,
                                                                                   as.integer(r$threads)), ""), collapse = ", ")))
  dist <- which(g("disturbed") > 0)
  if (length(dist)) {
    notes <- c(notes, sprintf("* other processes used more than %.2f cores during (part of) the timing of: %s",
                              busy_limit, paste(vapply(rows[dist], function(r)
                                sprintf("%s/%s/%d", r$layer, r$dtype, as.integer(r$threads)), ""),
                                collapse = ", ")))
  }
  notes <- c(notes, peer_error_notes(peer_errors))
  if (waited_total > 5) notes <- c(notes, sprintf("waited %.0f s in all for other processes to go quiet", waited_total))
  if (length(notes)) cat("\nNotes:\n", paste0("- ", unique(notes), "\n"), sep = "")

  if (!is.null(opt$out)) {
    dir.create(opt$out, showWarnings = FALSE, recursive = TRUE)
    flat <- do.call(rbind, lapply(rows, function(r) as.data.frame(lapply(r, function(v) if (is.null(v)) NA else v))))
    utils::write.csv(flat, file.path(opt$out, "results.csv"), row.names = FALSE)
    writeLines(c(md_lines, if (length(gm_lines)) c("", gm_lines),
                 if (length(notes)) c("", paste0("- ", unique(notes)))),
               file.path(opt$out, "summary.md"))
    cat(sprintf("wrote %s and %s\n", file.path(opt$out, "results.csv"), file.path(opt$out, "summary.md")))
  }
}
cat(sprintf("\ntotal time %.0f s\n", now() - t_start))
