# The peers of bench.R: which there are, how each is run (one Python subprocess per peer,
# dtype and thread count, speaking peer_common.py's JSON protocol) and how a peer's result
# for a layer is compared with ours. Sourced by bench.R after its timing helpers (now(),
# cpu_ticks(), others_busy(), disturbed(), wait_quiet(), same_sums(), policy, script_dir).

# The venv inst/bench/setup_peers.sh makes: $DECONV_BENCH_VENV, else build/bench-venv in
# the source tree this script is in (or in the working directory for an installed copy).
bench_venv <- local({
  v <- Sys.getenv("DECONV_BENCH_VENV", unset = "")
  if (nzchar(v)) return(v)
  root <- normalizePath(file.path(script_dir, "..", ".."), mustWork = FALSE)
  if (!file.exists(file.path(root, "DESCRIPTION"))) root <- getwd()
  file.path(root, "build", "bench-venv")
})
venv_python <- file.path(bench_venv, "bin", "python")

# label: in the tables; short: in column names; env: the variable naming its Python;
# script and args: what runs in that Python; backward: whether it times the backward pass.
peer_defs <- list(
  torch2 = list(label = "torch2", short = "t2", env = "DECONV_BENCH_TORCH2",
                default = venv_python, script = "peers.py", args = character(0),
                backward = TRUE),
  torch1 = list(label = "torch1.13", short = "t1", env = "DECONV_BENCH_TORCH1",
                default = "/usr/bin/python3", script = "peers.py", args = character(0),
                backward = TRUE),
  ort = list(label = "onnxruntime", short = "ort", env = "DECONV_BENCH_ONNX",
             default = venv_python, script = "peers_onnx.py", args = "--engine=onnxruntime",
             backward = FALSE),
  openvino = list(label = "openvino", short = "ov", env = "DECONV_BENCH_ONNX",
                  default = venv_python, script = "peers_onnx.py", args = "--engine=openvino",
                  backward = FALSE)
)

peer_command <- function(def, more) c(shQuote(file.path(script_dir, def$script)), def$args, more)
# No __pycache__ of peer_common.py in the source tree.
peer_env <- "PYTHONDONTWRITEBYTECODE=1"

# The peer's Python and what it reports with --probe, or ok = FALSE and why not.
find_peer <- function(def) {
  py <- Sys.getenv(def$env, unset = def$default)
  res <- c(def, list(ok = FALSE, python = py))
  if (!nzchar(py) || !file.exists(py)) {
    res$why <- "no such python (inst/bench/setup_peers.sh makes the venv)"
    return(res)
  }
  out <- suppressWarnings(tryCatch(system2(py, peer_command(def, "--probe"), stdout = TRUE,
                                           stderr = TRUE, env = peer_env),
                                   error = function(e) conditionMessage(e)))
  st <- attr(out, "status")
  js <- tryCatch(jsonlite::fromJSON(utils::tail(out, 1)), error = function(e) NULL)
  if ((!is.null(st) && st != 0) || is.null(js)) {
    res$why <- paste("probe failed:", utils::tail(out, 1))
    return(res)
  }
  res$ok <- TRUE
  res$info <- js$peer
  res
}

# One line on what a found peer is.
describe_peer <- function(p) {
  i <- p$info
  what <- if (identical(p$script, "peers.py")) {
    sprintf("torch %s (oneDNN %s, BLAS %s, CPU capability %s)", i$version, format(i$onednn),
            format(i$blas), format(i$cpu_capability))
  } else {
    sprintf("%s %s (onnx %s)", i$engine, i$version, format(i$onnx))
  }
  sprintf("%s%s", what, if (p$backward) "" else ", forward only")
}

layer_json <- function(L) {
  list(name = L$name, N = L$N, C = L$C, F = L$F, groups = L$groups,
       spatial = I(as.integer(L$spatial)), kernel = I(as.integer(L$kernel)),
       stride = I(as.integer(L$stride)), pad = I(as.integer(L$pad)),
       dilate = I(as.integer(L$dilate)), layout = L$layout)
}

run_peer <- function(peer, dtype, threads, lays) {
  spec <- list(dtype = dtype, threads = threads, backward = peer$backward, policy = policy,
               layers = unname(lapply(lays, layer_json)))
  f <- tempfile(fileext = ".json")
  on.exit(unlink(f))
  writeLines(jsonlite::toJSON(spec, auto_unbox = TRUE, digits = NA), f)
  errf <- tempfile()
  on.exit(unlink(errf), add = TRUE)
  c0 <- cpu_ticks()
  t0 <- now()
  out <- suppressWarnings(system2(peer$python, peer_command(peer, shQuote(f)), stdout = TRUE,
                                  stderr = errf, env = peer_env))
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

# A peer's result for a layer against ours (`o`, from run_ours()): its times (NA where it
# did not run or does not time that direction), whether the checksums and output shape
# agree (NA when not compared), and its error or note.
compare_peer <- function(pr, o, dtype, backward) {
  res <- list(fwd_s = NA_real_, bwd_s = NA_real_, check = NA, error = NA_character_,
              note = NA_character_)
  if (is.null(pr)) return(res)
  if (!is.null(pr$error)) {
    res$error <- pr$error
    return(res)
  }
  res$fwd_s <- pr$fwd$median_s
  if (backward && !is.null(pr$bwd)) res$bwd_s <- pr$bwd$median_s
  parts <- if (backward) c("y", "dx", "dw", "db") else "y"
  res$check <- all(vapply(parts, function(p) same_sums(o$check[[p]], pr$check[[p]], dtype), NA)) &&
    isTRUE(all(o$out_dim == rev(pr$out_shape)))
  if (!is.null(pr$note)) res$note <- pr$note
  res
}
