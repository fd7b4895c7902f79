# Runs the R tests against the installed deconv and writes the counts.
#
# Usage: Rscript tools/run_tests.R TEST_DIR COUNTS_FILE
#
# Counts test_that() blocks, not expectations: a block failed if any expectation in it
# failed or it raised an error (an error outside test_that() counts as one failed
# block); skipped if it was skipped (an empty block counts as skipped, as testthat
# reports it); passed otherwise. COUNTS_FILE gets one line "passed failed skipped".
# Exit status: 0 when nothing failed.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript tools/run_tests.R TEST_DIR COUNTS_FILE")
test_dir <- args[[1]]
counts_file <- args[[2]]
# This is the developers' run (make test, CI), not CRAN's: the tests CRAN should not run
# (rendering the vignettes, which needs pandoc) run here.
Sys.setenv(NOT_CRAN = "true")

write_counts <- function(passed, failed, skipped) {
  writeLines(sprintf("%d %d %d", passed, failed, skipped), counts_file)
  cat(sprintf("R tests (test_that blocks): %d passed, %d failed, %d skipped\n",
              passed, failed, skipped))
  quit(status = if (failed > 0) 1 else 0)
}

files <- list.files(test_dir, pattern = "^test.*\\.[rR]$")
if (!length(files)) {
  cat("R tests: no test files in", test_dir, "\n")
  write_counts(0L, 0L, 0L)
}

# Keep going after any number of failures (the counts below decide the exit status);
# in a log rather than a terminal, print one line per file instead of a spinner.
reporter <- testthat::ProgressReporter$new(
  show_praise = FALSE, max_failures = .Machine$integer.max,
  update_interval = if (isatty(stdout())) 0.1 else Inf)
results <- tryCatch(
  testthat::test_dir(test_dir, package = "deconv", load_package = "installed",
                     reporter = reporter, stop_on_failure = FALSE,
                     stop_on_warning = FALSE),
  error = function(e) {
    cat("R tests could not run:", conditionMessage(e), "\n")
    NULL
  })
if (is.null(results)) write_counts(0L, 1L, 0L)

d <- as.data.frame(results)
failed <- d$failed > 0 | d$error
skipped <- !failed & d$skipped
write_counts(sum(!failed & !skipped), sum(failed), sum(skipped))
