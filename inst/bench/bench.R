# Benchmark of deconvolution() and deconvolution_backward() against PyTorch.
#
#   Rscript inst/bench/bench.R [--quick] [--layers=dcgan1,fcn2] [--dtypes=float32]
#                              [--threads=1,2] [--no-peers] [--out=DIR] [--max-wait=SEC]
#
# Run by `make bench`, not by CI. For each (dtype, threads) it measures the machine's GEMM
# peak (through the package's own GEMM, deconv:::gemm_benchmark(), the one %pk divides by;
# also Eigen as compiled for the package, and R's BLAS), then times our forward and
# backward passes on the layers below and the same layers through PyTorch 2.x (PyPI) and
# 1.13 (Debian), each in one Python subprocess per (peer, dtype, threads) that returns
# JSON (inst/bench/peers.py). Both sides follow the same repetition policy (`measure()`
# here, `measure()` in peers.py) and both sides' results are checked against each other
# by checksum. Ends with a markdown table for the README.
#
# Options:
#   --quick        short repetitions (and a smaller GEMM for the peak): a rough run
#   --layers=LIST  names or groups: dcgan1..3, fcn1, fcn2, unet, unet3d, audio, depthwise,
#                  tiny, scale_n1, scale_n4, scale_n16, scale_n64; groups dcgan, fcn,
#                  scaling, all (default)
#   --dtypes=LIST  float32,float64 (default both)
#   --threads=LIST thread counts (default 1,2)
#   --no-peers     skip PyTorch
#   --out=DIR      also write DIR/results.csv and DIR/summary.md
#   --max-wait=SEC how long to wait for other processes' CPU use to drop before a timing
#                  (default 120; 0 = never wait)
# Debian's torch 1.13 runs its GEMMs on OpenBLAS (pthreads) inside its own OpenMP threads;
# with 2 threads the two oversubscribe the cores and some of its timings become erratic
# (backward up to several times slower). `OPENBLAS_NUM_THREADS=1 Rscript ...` avoids that;
# it does not change our side (the package and the peak probe set BLAS threads themselves).
# Environment: DECONV_BENCH_TORCH2 (default /opt/torch2/bin/python) and
# DECONV_BENCH_TORCH1 (default /usr/bin/python3) name the peers' Pythons; a peer whose
# Python cannot `import torch` is skipped.

suppressPackageStartupMessages({
  ok <- requireNamespace("deconv", quietly = TRUE)
})
if (!ok) stop("bench.R: the deconv package is not installed (run `make install`, or set R_LIBS)")
library(deconv)

# ---------------------------------------------------------------------------------------
# Options

parse_args <- function(args) {
  opt <- list(quick = FALSE, layers = "all", dtypes = c("float32", "float64"),
              threads = c(1L, 2L), peers = TRUE, out = NULL, max_wait = 120)
  for (a in args) {
    if (a == "--quick") opt$quick <- TRUE
    else if (a == "--no-peers") opt$peers <- FALSE
    else if (grepl("^--layers=", a)) opt$layers <- strsplit(sub("^--layers=", "", a), ",")[[1]]
    else if (grepl("^--dtypes=", a)) opt$dtypes <- strsplit(sub("^--dtypes=", "", a), ",")[[1]]
    else if (grepl("^--threads=", a))
      opt$threads <- as.integer(strsplit(sub("^--threads=", "", a), ",")[[1]])
    else if (grepl("^--out=", a)) opt$out <- sub("^--out=", "", a)
    else if (grepl("^--max-wait=", a)) opt$max_wait <- as.numeric(sub("^--max-wait=", "", a))
    else if (a %in% c("-h", "--help")) {
      cat("usage: Rscript inst/bench/bench.R [--quick] [--layers=dcgan1,fcn2]",
          "[--dtypes=float32] [--threads=1,2] [--no-peers] [--out=DIR] [--max-wait=SEC]\n")
      quit(status = 0)
    } else stop("bench.R: unknown argument '", a, "' (try --help)")
  }
  bad <- setdiff(opt$dtypes, c("float32", "float64"))
  if (length(bad)) stop("bench.R: unknown dtype(s): ", paste(bad, collapse = ", "))
  if (anyNA(opt$threads) || any(opt$threads < 1)) stop("bench.R: --threads needs positive integers")
  opt
}

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

run_ours <- function(L, dtype) {
  x <- array(pattern(L$N * L$C * prod(L$spatial), 7919), dim = c(rev(L$spatial), L$C, L$N))
  w <- array(pattern(L$C * (L$F / L$groups) * prod(L$kernel), 104729),
             dim = c(rev(L$kernel), L$F / L$groups, L$C))
  b <- pattern(L$F, 31)
  kern <- rev(L$kernel); str <- rev(L$stride); pad <- rev(L$pad)
  nf <- L$F; ng <- L$groups
  fwd <- function() deconvolution(x, w, b, kernel = kern, stride = str, pad = pad,
                                  num.filter = nf, num.group = ng, no.bias = FALSE,
                                  dtype = dtype)
  y <- fwd()
  temp_fwd <- temp_bytes_of(y)
  gy <- array(pattern(length(y), 613), dim = dim(y))
  bwd <- function() deconvolution_backward(gy, x, w, b, kernel = kern, stride = str,
                                           pad = pad, num.filter = nf, num.group = ng,
                                           no.bias = FALSE, dtype = dtype)
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
# Peers: PyTorch in a subprocess per (peer, dtype, threads).

peer_defs <- list(
  torch2 = list(label = "torch2", env = "DECONV_BENCH_TORCH2", default = "/opt/torch2/bin/python"),
  torch1 = list(label = "torch1.13", env = "DECONV_BENCH_TORCH1", default = "/usr/bin/python3")
)

find_peer <- function(def) {
  py <- Sys.getenv(def$env, unset = def$default)
  if (!nzchar(py) || !file.exists(py)) {
    return(list(ok = FALSE, python = py, why = "no such python"))
  }
  out <- suppressWarnings(tryCatch(
    system2(py, c(shQuote(file.path(script_dir, "peers.py")), "--probe"),
            stdout = TRUE, stderr = TRUE),
    error = function(e) conditionMessage(e)))
  st <- attr(out, "status")
  js <- tryCatch(jsonlite::fromJSON(utils::tail(out, 1)), error = function(e) NULL)
  if ((!is.null(st) && st != 0) || is.null(js)) {
    return(list(ok = FALSE, python = py,
                why = paste("`import torch` failed:", utils::tail(out, 1))))
  }
  list(ok = TRUE, python = py, info = js$peer)
}

layer_json <- function(L) {
  list(name = L$name, N = L$N, C = L$C, F = L$F, groups = L$groups,
       spatial = I(as.integer(L$spatial)), kernel = I(as.integer(L$kernel)),
       stride = I(as.integer(L$stride)), pad = I(as.integer(L$pad)))
}

run_peer <- function(peer, dtype, threads, lays) {
  spec <- list(dtype = dtype, threads = threads, backward = TRUE, policy = policy,
               layers = unname(lapply(lays, layer_json)))
  f <- tempfile(fileext = ".json")
  on.exit(unlink(f))
  writeLines(jsonlite::toJSON(spec, auto_unbox = TRUE, digits = NA), f)
  errf <- tempfile()
  on.exit(unlink(errf), add = TRUE)
  c0 <- cpu_ticks()
  t0 <- now()
  out <- suppressWarnings(system2(peer$python, c(shQuote(file.path(script_dir, "peers.py")),
                                                  shQuote(f)), stdout = TRUE, stderr = errf))
  others <- others_busy(c0, cpu_ticks())
  st <- attr(out, "status")
  js <- tryCatch(jsonlite::fromJSON(paste(out, collapse = "\n"), simplifyVector = TRUE),
                 error = function(e) NULL)
  if ((!is.null(st) && st != 0) || is.null(js)) {
    err <- readLines(errf, warn = FALSE)
    cat(sprintf("  [%s failed (status %s): %s]\n", peer$label, format(st),
                paste(utils::tail(err, 3), collapse = " | ")))
    return(NULL)
  }
  list(info = js$peer, results = js$results, others = others, wall = now() - t0)
}

# The peer's run, with the layers re-run once (after waiting for quiet) when other
# processes used more than busy_limit cores during it.
run_peer_guarded <- function(peer, dtype, threads, lays) {
  r <- run_peer(peer, dtype, threads, lays)
  if (!is.null(r) && disturbed(r$others)) {
    wait_quiet(paste(peer$label, "rerun"))
    r2 <- run_peer(peer, dtype, threads, lays)
    if (!is.null(r2) && (is.na(r2$others) || r2$others <= r$others)) r <- r2
  }
  r
}

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
  for (nm in names(peer_defs)) {
    p <- find_peer(peer_defs[[nm]])
    p$label <- peer_defs[[nm]]$label
    if (p$ok) {
      cat(sprintf("peer %s: torch %s (oneDNN %s, BLAS %s, CPU capability %s) at %s\n",
                  p$label, p$info$version, format(p$info$onednn), format(p$info$blas),
                  format(p$info$cpu_capability), p$python))
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
      for (nm in c("torch2", "torch1")) {
        pr <- theirs[[nm]]$results[[L$name]]
        tf <- tb <- NA_real_
        chk <- NA
        if (!is.null(pr) && is.null(pr$error)) {
          tf <- pr$fwd$median_s
          tb <- pr$bwd$median_s
          chk <- same_sums(o$check$y, pr$check$y, dtype) && same_sums(o$check$dx, pr$check$dx, dtype) &&
            same_sums(o$check$dw, pr$check$dw, dtype) && same_sums(o$check$db, pr$check$db, dtype)
          if (!isTRUE(all(o$out_dim == rev(pr$out_shape)))) chk <- FALSE
          if (!chk) notes <- c(notes, sprintf("%s %s %d thr: our results differ from %s's (checksums)",
                                              L$name, dtype, th, peer_defs[[nm]]$label))
        } else if (!is.null(pr$error)) {
          notes <- c(notes, sprintf("%s %s %d thr: %s failed: %s", L$name, dtype, th,
                                    peer_defs[[nm]]$label, pr$error))
        }
        r[[paste0(nm, "_fwd_s")]] <- tf
        r[[paste0(nm, "_bwd_s")]] <- tb
        r[[paste0(nm, "_check")]] <- chk
      }
      for (nm in names(theirs)) {
        if (!is.null(theirs[[nm]]) && disturbed(theirs[[nm]]$others)) r$disturbed <- TRUE
      }
      rows[[length(rows) + 1]] <- r
      tab[[length(tab) + 1]] <- r
    }

    if (length(tab)) {
      g <- function(f) vapply(tab, function(r) { v <- r[[f]]; if (is.null(v)) NA_real_ else as.numeric(v) }, 0)
      chk <- function(r) {
        v <- c(r$torch2_check, r$torch1_check)
        if (all(is.na(v))) "-" else if (all(v, na.rm = TRUE)) "ok" else "DIFF"
      }
      df <- data.frame(
        layer = vapply(tab, `[[`, "", "layer"),
        `fwd ms` = fmt_ms(g("fwd_s")), `GF/s` = fmt_num(g("fwd_gfs")),
        `%pk` = fmt_num(g("pct_peak"), 0),
        `%Eig` = fmt_num(g("pct_eigen"), 0), `%BLAS` = fmt_num(g("pct_blas"), 0),
        `bwd ms` = fmt_ms(g("bwd_s")), `bGF/s` = fmt_num(g("bwd_gfs")),
        `b/f` = fmt_num(g("bwd_s") / g("fwd_s"), 2),
        `tmpMiB f/b` = paste(fmt_mib(g("temp_fwd")), fmt_mib(g("temp_bwd")), sep = "/"),
        `t2 fwd` = fmt_ms(g("torch2_fwd_s")), `t2 bwd` = fmt_ms(g("torch2_bwd_s")),
        `xt2 fwd` = fmt_ratio(g("torch2_fwd_s") / g("fwd_s")),
        `xt2 bwd` = fmt_ratio(g("torch2_bwd_s") / g("bwd_s")),
        `t1 fwd` = fmt_ms(g("torch1_fwd_s")), `t1 bwd` = fmt_ms(g("torch1_bwd_s")),
        `xt1 fwd` = fmt_ratio(g("torch1_fwd_s") / g("fwd_s")),
        `xt1 bwd` = fmt_ratio(g("torch1_bwd_s") / g("bwd_s")),
        chk = vapply(tab, chk, ""),
        busy = paste0(fmt_num(g("others"), 2), ifelse(g("disturbed") > 0, "*", "")),
        check.names = FALSE, stringsAsFactors = FALSE)
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
        cat(sprintf("  tiny call overhead: fwd %s, bwd %s (torch2 %s / %s; torch1.13 %s / %s)\n",
                    us(ti$fwd_s), us(ti$bwd_s), us(ti$torch2_fwd_s), us(ti$torch2_bwd_s),
                    us(ti$torch1_fwd_s), us(ti$torch1_bwd_s)))
      }
      cat(sprintf("  (this configuration took %.0f s)\n", now() - t_config))
      sc <- Filter(function(r) r$layer %in% c("scale_n1", "scale_n4", "scale_n16", "scale_n64"), tab)
      if (length(sc) >= 2) {
        n <- as.numeric(sub("scale_n", "", vapply(sc, `[[`, "", "layer")))
        per <- function(f) {
          v <- vapply(sc, function(r) { x <- r[[f]]; if (is.null(x)) NA_real_ else x }, 0) * 1e3 / n
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

if (length(rows)) {
  g <- function(f) vapply(rows, function(r) { v <- r[[f]]; if (is.null(v)) NA_real_ else as.numeric(v) }, 0)
  md <- data.frame(
    layer = paste0(vapply(rows, `[[`, "", "layer"), ifelse(g("disturbed") > 0, " *", "")),
    dtype = vapply(rows, `[[`, "", "dtype"),
    threads = as.character(g("threads")),
    `fwd ms` = fmt_ms(g("fwd_s")), `fwd GF/s` = fmt_num(g("fwd_gfs")),
    `% GEMM peak` = fmt_num(g("pct_peak"), 0),
    `bwd ms` = fmt_ms(g("bwd_s")), `bwd/fwd` = fmt_num(g("bwd_s") / g("fwd_s"), 2),
    `vs torch2 fwd` = fmt_ratio(g("torch2_fwd_s") / g("fwd_s")),
    `vs torch2 bwd` = fmt_ratio(g("torch2_bwd_s") / g("bwd_s")),
    `vs torch1.13 fwd` = fmt_ratio(g("torch1_fwd_s") / g("fwd_s")),
    `temp MiB fwd/bwd` = paste(fmt_mib(g("temp_fwd")), fmt_mib(g("temp_bwd")), sep = " / "),
    check.names = FALSE, stringsAsFactors = FALSE)
  md_lines <- c(paste0("| ", paste(names(md), collapse = " | "), " |"),
                paste0("|", paste(ifelse(seq_along(md) <= 3, "---", "---:"), collapse = "|"), "|"),
                apply(md, 1, function(r) paste0("| ", paste(r, collapse = " | "), " |")))
  cat("\n## Summary (markdown)\n\n")
  gemm_libs <- unique(vapply(rows, function(r) sprintf("%s: %s", r$dtype, r$gemm), ""))
  cat(sprintf(paste("`vs torchX` = PyTorch's time / ours (> 1: deconv is faster). %% GEMM peak:",
                    "forward GF/s over the GEMM peak measured in the same run (n = %d, same dtype",
                    "and threads) through the GEMM and threading the package uses (%s). Temporary memory",
                    "(MiB, workspace = 512 MiB): %s.\n\n"), gemm_n, paste(gemm_libs, collapse = ", "),
              temp_source))
  cat(md_lines, sep = "\n")
  cat("\n")
  peak_lines <- unique(vapply(rows, function(r) sprintf("%s, %d thread(s): package (%s) %s GF/s, Eigen %s GF/s, R's BLAS %s GF/s",
                                                        r$dtype, as.integer(r$threads), r$gemm,
                                                        fmt_num(r$peak_package), fmt_num(r$peak_eigen),
                                                        fmt_num(r$peak_blas)), ""))
  cat("\nGEMM peaks in this run:", paste(peak_lines, collapse = "; "), "\n")
  ver <- vapply(peers, function(p) sprintf("%s = torch %s (oneDNN %s)", p$label, p$info$version,
                                           format(p$info$onednn)), "")
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
  if (waited_total > 5) notes <- c(notes, sprintf("waited %.0f s in all for other processes to go quiet", waited_total))
  if (length(notes)) cat("\nNotes:\n", paste0("- ", unique(notes), "\n"), sep = "")

  if (!is.null(opt$out)) {
    dir.create(opt$out, showWarnings = FALSE, recursive = TRUE)
    flat <- do.call(rbind, lapply(rows, function(r) as.data.frame(lapply(r, function(v) if (is.null(v)) NA else v))))
    utils::write.csv(flat, file.path(opt$out, "results.csv"), row.names = FALSE)
    writeLines(md_lines, file.path(opt$out, "summary.md"))
    cat(sprintf("wrote %s and %s\n", file.path(opt$out, "results.csv"), file.path(opt$out, "summary.md")))
  }
}
cat(sprintf("\ntotal time %.0f s\n", now() - t_start))
