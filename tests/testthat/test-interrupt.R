# Ctrl-C during a long CPU call: a child R runs a call that is one big chunk (N = 1,
# 1024 -> 512 channels, 128x128, kernel 4, stride 2; a second or more here) ten times,
# and the parent sends SIGINT 0.3 s into each. Every interrupt must reach the child's
# tryCatch(interrupt = ) promptly, none may be left pending for the next call, memory
# must not grow with each interrupted call, and normal calls must still give the same
# results afterwards.

interrupt_child <- function(n) {
  library(deconv)
  options(deconv.threads = 2)
  set.seed(3)
  x <- array(runif(128 * 128 * 1024) - 0.5, c(128, 128, 1024, 1))
  w <- array(runif(4 * 4 * 512 * 1024) - 0.5, c(4, 4, 512, 1024))
  long <- function() {
    deconvolution(x, w, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1), num_filter = 512,
                  dtype = "float32")
  }
  xs <- x[1:8, 1:8, 1:16, , drop = FALSE]
  ws <- w[, , 1:8, 1:16, drop = FALSE]
  short <- function() {
    deconvolution(xs, ws, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1), num_filter = 8,
                  dtype = "float32")
  }
  rss_mb <- function() {
    invisible(gc(full = TRUE))  # the interrupted calls' results are garbage by now
    line <- grep("^VmRSS:", readLines("/proc/self/status"), value = TRUE)
    as.numeric(gsub("[^0-9]", "", line)) / 1024
  }
  short_ref <- short()
  long_time <- system.time(long_ref <- long())[["elapsed"]]
  caught <- rep(NA_real_, n)   # when each interrupt reached the handler (epoch seconds)
  short_ok <- logical(n)       # the short call right after was not interrupted, and right
  rss <- numeric(n)
  for (i in seq_len(n)) {
    caught[i] <- tryCatch({
      cat(sprintf("ready %d\n", i))
      long()
      NA_real_  # finished: the interrupt was missed
    }, interrupt = function(e) as.numeric(Sys.time()))
    short_ok[i] <- tryCatch(identical(short(), short_ref), interrupt = function(e) FALSE)
    rss[i] <- rss_mb()
  }
  again <- long()
  list(caught = caught, short_ok = short_ok, rss = rss, rss_after_normal = rss_mb(),
       long_time = long_time, same_after = identical(again, long_ref))
}

test_that("Ctrl-C stops a long single-chunk call promptly, leaving nothing pending", {
  skip_on_os("windows")
  skip_if_not_installed("callr")
  n <- 10
  p <- callr::r_bg(interrupt_child, args = list(n = n))
  on.exit(p$kill(), add = TRUE)
  seen <- character()
  # Waits for the child's line "ready <i>" on its stdout.
  wait_ready <- function(i, timeout = 60) {
    deadline <- Sys.time() + timeout
    want <- sprintf("ready %d", i)
    while (!want %in% seen) {
      if (Sys.time() > deadline || !p$is_alive()) return(FALSE)
      p$poll_io(100)
      seen <<- c(seen, trimws(p$read_output_lines()))
    }
    TRUE
  }
  sent <- rep(NA_real_, n)
  for (i in seq_len(n)) {
    expect_true(wait_ready(i), info = paste("call", i, "never started:", p$read_error()))
    if (!p$is_alive()) break
    Sys.sleep(0.3)
    sent[i] <- as.numeric(Sys.time())
    p$interrupt()
  }
  p$wait(120000)
  expect_false(p$is_alive())
  res <- p$get_result()
  latency <- res$caught - sent
  message(sprintf("interrupt latency (s): %s; max %.3f; long call %.2f s; RSS MB after 1st %.0f, after %dth %.0f, after a normal call %.0f",
                  paste(sprintf("%.3f", latency), collapse = " "), max(latency), res$long_time,
                  res$rss[1], n, res$rss[n], res$rss_after_normal))
  expect_gt(res$long_time, 0.5)  # long enough that 0.3 s in is mid-call
  expect_false(anyNA(res$caught), info = "some interrupts were missed (the call finished)")
  # The worst of ten reached 0.46-0.50 s on the 2-core Zen 4 VM (0743126 and later alike,
  # and 0.504 s once in CI), most well under 0.3: bound the worst at 1 s, the median at 0.3.
  expect_true(all(latency < 1), info = paste(sprintf("%.3f", latency), collapse = " "))
  expect_lt(stats::median(latency), 0.3)
  expect_true(all(res$short_ok), info = "a short call after an interrupt was interrupted")
  expect_lt(res$rss[n] - res$rss[1], 50)
  expect_true(res$same_after)
})
