# Benchmark of upsample_files() on three future plans: a folder of generated PNG images
# upsampled 4x with plan(sequential), plan(multisession, workers = 2) and a cluster of 2
# local PSOCK workers (parallelly::makeClusterPSOCK, the kind of workers one starts on
# other machines). Prints images per second per plan and the speedup over sequential,
# and checks that every plan wrote the same files.
#
#   Rscript inst/bench/bench_batch.R [--images=200] [--size=128] [--factor=4] [--workers=2]
#
# Needs future, future.apply, parallelly and png. Not run by CI. Each plan's workers are
# started, and warmed up on a few images, before the timing; the timing is of one run
# over the whole folder (reading, upsampling and writing). The images are random noise,
# which PNG compresses badly, so writing is a large share of the time.

args <- commandArgs(trailingOnly = TRUE)
opt <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit)) as.numeric(sub("^[^=]*=", "", hit[length(hit)])) else default
}
n_images <- opt("images", 200)
size <- opt("size", 128)
factor <- opt("factor", 4)
n_workers <- opt("workers", 2)

for (p in c("future", "future.apply", "parallelly", "png")) {
  if (!requireNamespace(p, quietly = TRUE)) stop("bench_batch.R needs the '", p, "' package")
}
library(deconv)
library(future)

cpu <- tryCatch({
  l <- system("lscpu", intern = TRUE)
  trimws(sub("^Model name:", "", grep("^Model name:", l, value = TRUE)[1]))
}, error = function(e) NA_character_, warning = function(e) NA_character_)
cat(sprintf("CPU: %s; %d cores (parallelly::availableCores(): %d)\n", cpu,
            parallel::detectCores(), parallelly::availableCores()))

root <- tempfile("bench_batch")
dir.create(file.path(root, "in"), recursive = TRUE)
set.seed(1)
files <- file.path(root, "in", sprintf("img%04d.png", seq_len(n_images)))
for (f in files) png::writePNG(array(runif(size * size * 3), c(size, size, 3)), f)
cat(sprintf("%d RGB images of %dx%d, upsampled %dx to %dx%d\n\n", n_images, size, size,
            factor, size * factor, size * factor))

run_plan <- function(label, set_plan) {
  set_plan()
  out_dir <- file.path(root, gsub("[^a-z0-9]+", "_", tolower(label)))
  threads <- unlist(deconv_batch(as.list(seq_len(n_workers)), function(i) deconv_threads()))
  upsample_files(files[1:min(4, n_images)], file.path(out_dir, "warmup"), factor = factor)
  t <- system.time(upsample_files(files, out_dir, factor = factor))[["elapsed"]]
  sums <- unname(tools::md5sum(file.path(out_dir, basename(files))))
  list(label = label, workers = nbrOfWorkers(), threads = paste(unique(threads), collapse = ","),
       seconds = t, per_second = n_images / t, sums = sums)
}

results <- list(
  run_plan("sequential", function() plan(sequential)),
  run_plan(sprintf("multisession, %d workers", n_workers),
           function() plan(multisession, workers = n_workers)),
  {
    cl <- parallelly::makeClusterPSOCK(n_workers, rscript_libs = .libPaths())
    r <- run_plan(sprintf("cluster of %d PSOCK workers", n_workers),
                  function() plan(cluster, workers = cl))
    plan(sequential)
    parallel::stopCluster(cl)
    r
  })
plan(sequential)

same <- all(vapply(results, function(r) identical(r$sums, results[[1]]$sums), NA))
base <- results[[1]]$per_second
cat(sprintf("%-30s %7s %7s %9s %10s %8s\n", "plan", "workers", "threads", "seconds",
            "images/s", "speedup"))
for (r in results) {
  cat(sprintf("%-30s %7d %7s %9.2f %10.1f %7.2fx\n", r$label, as.integer(r$workers), r$threads,
              r$seconds, r$per_second, r$per_second / base))
}
cat(sprintf("\nSame output files on every plan: %s\n", if (same) "yes" else "NO"))
unlink(root, recursive = TRUE)
