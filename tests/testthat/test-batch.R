# deconv_batch() and upsample_files(): the same results on every future plan and without
# future, input order, failures named by item, progress, threads per worker. Plans with
# 2 local workers stand in for a cluster; each costs about a second to start.

skip_if_no_future <- function() {
  for (p in c("future", "future.apply", "parallelly", "progressr")) skip_if_not_installed(p)
}

# future::plan(...) for the rest of the calling test, then the previous plan again.
local_plan <- function(..., .env = parent.frame()) {
  old <- future::plan(...)
  withr::defer(future::plan(old), envir = .env)
}

# The suggested packages hidden (the code paths of a library without them), the one-time
# message not yet given.
local_without_suggests <- function(.env = parent.frame()) {
  withr::local_options(deconv.batch.without = c("future", "future.apply", "parallelly",
                                                "progressr"), .local_envir = .env)
  assign("told", NULL, envir = deconv:::.batch_state)
}

batch_case <- function(n = 7) {
  set.seed(5)
  x <- array(runif(6 * 5 * 2 * n), c(6, 5, 2, n))            # W, H, C, N
  w <- array(runif(4 * 4 * 3 * 2), c(4, 4, 3, 2))            # kW, kH, F, C
  layer <- function(a) deconvolution(a, w, kernel = c(4, 4), stride = c(2, 2),
                                     pad = c(1, 1), num.filter = 3)
  list(x = x, w = w, layer = layer)
}

# A random draw per item, its number and the worker's thread setting and process.
noisy <- function(i) list(i = i, r = stats::rnorm(3), threads = deconv_threads(),
                          pid = Sys.getpid())

write_images <- function(dir, n = 3, size = c(9, 7)) {
  dir.create(dir, showWarnings = FALSE)
  files <- file.path(dir, sprintf("img%02d.png", seq_len(n)))
  set.seed(9)
  for (f in files) png::writePNG(array(runif(size[2] * size[1] * 3), c(size[2], size[1], 3)), f)
  files
}

test_that("arrays, chunks and executors give what one call on the whole batch gives", {
  case <- batch_case()
  whole <- case$layer(case$x)
  for (size in list(NULL, 1, 3, 7, 100)) {
    expect_identical(deconv_batch(case$x, case$layer, chunk.size = size), whole)
  }
  # A list: one result per element, in order, names kept.
  parts <- list(a = case$x[, , , 1:3, drop = FALSE], b = case$x[, , , 4:7, drop = FALSE])
  got <- deconv_batch(parts, deconvolution, weight = case$w, kernel = c(4, 4),
                      stride = c(2, 2), pad = c(1, 1), num.filter = 3)
  expect_named(got, c("a", "b"))
  expect_identical(got$b, whole[, , , 4:7, drop = FALSE])
  # A bound executor's forward pass, chunk by chunk (the last one smaller); the caller's
  # executor is left as it was.
  data <- mx.symbol.Variable("data")
  up <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
                                num.filter = 3, name = "up")
  exec <- mx.simple.bind(up, data = c(6, 5, 2, 3), grad.req = "null")
  mx.exec.update.arg.arrays(exec, list(up_weight = case$w), match.name = TRUE)
  expect_identical(deconv_batch(case$x, exec, chunk.size = 3), whole)
  expect_identical(exec$arg.arrays$data, array(0, c(6, 5, 2, 3)))
  # Results that are not arrays of the chunk's samples come back as a list per chunk.
  expect_identical(deconv_batch(case$x, function(a) dim(a)[4], chunk.size = 3), list(3L, 3L, 1L))
})

test_that("bad arguments are errors naming them", {
  case <- batch_case()
  expect_error(deconv_batch(1:3, case$layer), "^x: expected a list or an array",
               class = "deconv_param_error")
  expect_error(deconv_batch(case$x, 3), "^fun: ", class = "deconv_param_error")
  expect_error(deconv_batch(case$x, case$layer, chunk.size = 0), "^chunk.size: ")
  expect_error(deconv_batch(case$x, case$layer, threads = 1.5), "^threads: ")
  expect_error(deconv_batch(case$x, case$layer, errors = "skip"), "^errors: ")
  expect_error(upsample_files(c("a.png", "b/a.png"), tempfile()), "^output: .*share the name")
  expect_error(upsample_files(c("a.png", "b.png"), c("x.png", "y.png", "z.png")), "^output: ")
})

test_that("sequential, multisession and no future give identical results, seeds included", {
  skip_if_no_future()
  case <- batch_case()
  items <- as.list(1:6)
  run <- function() {
    set.seed(42)
    list(noise = deconv_batch(items, noisy), next_draw = stats::runif(1),
         layer = deconv_batch(case$x, case$layer, chunk.size = 2),  # 4 chunks: 4 or 2 waves
         last_draw = stats::runif(1))
  }
  local_plan(future::sequential)
  seq_res <- run()
  withr::with_options(list(deconv.batch.without = c("future", "future.apply")), {
    assign("told", TRUE, envir = deconv:::.batch_state)  # message tested below
    none_res <- run()
  })
  local_plan(future::multisession, workers = 2)
  par_res <- run()
  strip <- function(res) lapply(res$noise, function(o) o[c("i", "r")])
  expect_identical(strip(par_res), strip(seq_res))
  expect_identical(strip(none_res), strip(seq_res))
  expect_identical(par_res$layer, seq_res$layer)
  expect_identical(par_res$layer, case$layer(case$x))
  # The session's own random numbers go on the same way after each.
  expect_identical(par_res$next_draw, seq_res$next_draw)
  expect_identical(none_res$next_draw, seq_res$next_draw)
  expect_identical(par_res$last_draw, seq_res$last_draw)
  expect_identical(none_res$last_draw, seq_res$last_draw)
  expect_identical(vapply(par_res$noise, function(o) o$i, 0L), 1:6)
  # Really two other processes; the streams differ between items.
  pids <- unique(vapply(par_res$noise, function(o) o$pid, 0L))
  expect_length(pids, 2)
  expect_false(Sys.getpid() %in% pids)
  expect_false(identical(par_res$noise[[1]]$r, par_res$noise[[2]]$r))
})

test_that("order is kept when later items finish first", {
  skip_if_no_future()
  local_plan(future::multisession, workers = 2)
  slow_first <- function(i) {
    Sys.sleep(if (i == 1) 0.6 else 0.05)
    i
  }
  items <- stats::setNames(as.list(1:5), letters[1:5])
  expect_identical(deconv_batch(items, slow_first), items)
})

test_that("workers receive only their chunk, not the whole array", {
  skip_if_no_future()
  local_plan(future::multisession, workers = 2)
  x <- array(runif(64 * 64 * 4 * 32), c(64, 64, 4, 32))     # 4 MiB; chunks of 0.5 MiB
  withr::local_options(future.globals.maxSize = 2 * 1024^2)
  expect_identical(deconv_batch(x, function(a) a * 2, chunk.size = 4), x * 2)
})

test_that("each worker's thread count follows the rule", {
  skip_if_no_future()
  expect_identical(deconv:::thread_rule(8, 2), 4L)
  expect_identical(deconv:::thread_rule(7, 2), 3L)
  expect_identical(deconv:::thread_rule(2, 4), 1L)
  expect_identical(deconv:::thread_rule(64, Inf), 1L)
  # What the rule says, worked out on the worker: the machine's cores (parallelly,
  # without the mc.cores = 1 future sets on its workers) over the caller's workers.
  report <- function(i, workers) {
    n <- parallelly::availableCores(which = "all")
    cores <- min(n[names(n) != "mc.cores"])
    list(threads = deconv_threads(), want = max(1, floor(cores / workers)), cores = cores,
         pid = Sys.getpid())
  }
  local_plan(future::multisession, workers = 2)
  got <- deconv_batch(as.list(1:4), report, workers = 2)
  expect_length(unique(vapply(got, function(g) g$pid, 0L)), 2)
  for (g in got) {
    expect_equal(g$threads, g$want)
    if (g$cores >= 2) expect_lte(2 * g$threads, g$cores)
  }
  # threads = 3 on a 2-core machine: each worker warns that it exceeds the cores.
  three <- suppressWarnings(deconv_batch(as.list(1:4), report, workers = 2, threads = 3),
                            classes = "deconv_warning")
  expect_true(all(vapply(three, function(g) g$threads, 0) == 3))
  local_plan(future::sequential)
  got <- deconv_batch(list(1), report, workers = 1)
  expect_equal(got[[1]]$threads, got[[1]]$want)
  expect_equal(got[[1]]$threads, got[[1]]$cores)
  # The caller's own setting is back afterwards.
  withr::local_options(deconv.threads = 1)
  deconv_batch(list(1), report, workers = 1)
  expect_identical(getOption("deconv.threads"), 1)
})

test_that("forked (multicore) workers run on one thread and finish, after a threaded call", {
  skip_if_no_future()
  skip_on_os("windows")
  res <- callr::r(function() {
    library(deconv)
    set.seed(3)
    x <- array(rnorm(12 * 10 * 16 * 4), c(12, 10, 16, 4))
    w <- array(rnorm(4 * 4 * 8 * 16), c(4, 4, 8, 16))
    layer <- function(a) deconvolution(a, w, kernel = c(4, 4), stride = c(2, 2),
                                       pad = c(1, 1), num.filter = 8)
    options(deconv.threads = 1)
    serial <- layer(x)
    options(deconv.threads = 2)
    layer(x)  # the parent's OpenMP pool now holds a second thread
    future::plan(future::multicore, workers = 2)
    y <- deconv_batch(x, layer, chunk.size = 1)
    info <- deconv_batch(as.list(1:2), function(i) c(deconv_threads(), Sys.getpid()),
                         threads = 2)  # told 2, runs (and says) 1
    list(same = identical(y, serial), info = info, pid = Sys.getpid())
  }, libpath = .libPaths(), timeout = 60)
  expect_true(res$same)
  for (i in res$info) {
    expect_equal(i[1], 1)
    expect_false(i[2] == res$pid)
  }
})

test_that("progress: one step per item or chunk, only when asked for", {
  skip_if_no_future()
  case <- batch_case()
  updates <- function(expr) {
    seen <- character()
    progressr::with_progress(
      withCallingHandlers(expr, progression = function(p) seen <<- c(seen, p$type)),
      handlers = progressr::handler_void(), enable = TRUE)
    sum(seen == "update")
  }
  local_plan(future::sequential)
  expect_identical(updates(deconv_batch(case$x, case$layer, chunk.size = 3)), 3L)
  expect_silent(deconv_batch(case$x, case$layer, chunk.size = 3))
  local_plan(future::multisession, workers = 2)  # relayed from the workers
  expect_identical(updates(deconv_batch(as.list(1:5), sqrt)), 5L)
})

test_that("a failing item is an error naming it; collect returns it beside the others", {
  case <- batch_case(4)
  picky <- function(a) if (is.character(a)) stop("not numbers") else sqrt(a)
  err <- expect_error(deconv_batch(list(4, "b", 9, "d"), picky), class = "deconv_batch_error")
  expect_match(conditionMessage(err), "^x\\[\\[2\\]\\]: not numbers")
  expect_match(conditionMessage(err), "2 items failed")
  expect_identical(err$index, 2L)
  expect_identical(conditionMessage(err$parent), "not numbers")
  err <- expect_error(deconv_batch(list(p = 4, q = "b"), picky), class = "deconv_batch_error")
  expect_match(conditionMessage(err), "^x\\[\\[2\\]\\] \\(\"q\"\\): ")
  res <- deconv_batch(list(4, "b", 9, "d"), picky, errors = "collect")
  expect_identical(res$ok, c(TRUE, FALSE, TRUE, FALSE))
  expect_identical(res$value, list(2, NULL, 3, NULL))
  expect_named(res$errors, c("2", "4"))
  expect_s3_class(res$errors[[2]], "deconv_batch_error")
  # Chunks: the samples are named; an error inside deconvolution() keeps its class.
  bad_chunk <- function(a) if (dim(a)[4] == 1) deconvolution(a, 1, kernel = 9, num.filter = 1) else a
  err <- expect_error(deconv_batch(case$x, bad_chunk, chunk.size = 3), class = "deconv_batch_error")
  expect_match(conditionMessage(err), "^x, chunk 2 \\(sample 4\\): ")
  expect_s3_class(err$parent, "deconv_error")
  res <- deconv_batch(case$x, bad_chunk, chunk.size = 3, errors = "collect")
  expect_identical(res$ok, c(TRUE, FALSE))
  expect_identical(res$samples, list(1:3, 4L))
  expect_identical(res$value[[1]], case$x[, , , 1:3, drop = FALSE])
})

test_that("upsample_files: same files on every plan, a missing file named, written files kept", {
  skip_if_no_future()
  skip_if_not_installed("png")
  dir <- withr::local_tempdir()
  files <- write_images(file.path(dir, "in"), 4)
  want <- lapply(files, function(f) upsample(png::readPNG(f), 4, layout = "HWC"))
  local_plan(future::multisession, workers = 2)
  out <- upsample_files(files, file.path(dir, "out"), factor = 4)
  expect_identical(out, file.path(dir, "out", basename(files)))
  got <- lapply(out, png::readPNG)
  local_plan(future::sequential)
  out2 <- upsample_files(files, file.path(dir, sprintf("s%d.png", 1:4)), factor = 4)
  expect_identical(lapply(out2, png::readPNG), got)
  expect_equal(dim(got[[1]]), c(28, 36, 3))
  expect_equal(got[[2]], want[[2]], tolerance = 1 / 255)  # PNG stores 8 bits
  # A missing file among good ones, on 2 workers: named by position and name; the
  # others are still written.
  local_plan(future::multisession, workers = 2)
  bad <- c(files[1], file.path(dir, "in", "nope.png"), files[2:3])
  err <- expect_error(upsample_files(bad, file.path(dir, "out2")), class = "deconv_batch_error")
  expect_match(conditionMessage(err), "^input\\[2\\] \\(\".*nope\\.png\"\\): ")
  expect_identical(err$file, bad[2])
  expect_s3_class(err$parent, "deconv_file_error")
  expect_true(all(file.exists(file.path(dir, "out2", basename(files[1:3])))))
  res <- upsample_files(bad, file.path(dir, "out3"), errors = "collect")
  expect_identical(res$ok, c(TRUE, FALSE, TRUE, TRUE))
  expect_identical(res$output[2], NA_character_)
  expect_match(res$error[2], "nope\\.png")
  expect_true(all(file.exists(res$output[-2])))
})

test_that("without the suggested packages: sequential, the same results, one message", {
  skip_if_not_installed("png")
  case <- batch_case()
  local_without_suggests()
  expect_message(y <- deconv_batch(case$x, case$layer, chunk.size = 2),
                 "future::plan\\(future::multisession\\)", class = "deconv_sequential_message")
  expect_identical(y, case$layer(case$x))
  seen <- 0
  withCallingHandlers(y <- deconv_batch(case$x, case$layer, chunk.size = 2),
                      progression = function(p) seen <<- seen + 1,
                      message = function(m) stop("a second message"))
  expect_identical(seen, 0)
  dir <- withr::local_tempdir()
  files <- write_images(file.path(dir, "in"), 2)
  expect_identical(upsample_files(files, dir, factor = 2), file.path(dir, basename(files)))
  # The thread rule needs no parallelly: this machine's cores for the one "worker".
  expect_identical(deconv_batch(list(1), function(i) deconv_threads())[[1]],
                   deconv:::thread_rule(parallel::detectCores(), 1))
})

test_that("in an R whose libraries lack future and its friends, batches still run", {
  skip_if_not_installed("png")
  # A library of links to deconv and what it needs; the child R uses no other but R's own.
  lib <- withr::local_tempdir()
  for (p in c("deconv", "jsonlite", "png")) file.symlink(find.package(p), file.path(lib, p))
  res <- callr::r(function(lib) {
    .libPaths(lib, include.site = FALSE)  # lib and R's own library only
    has <- vapply(c("future", "future.apply", "parallelly", "progressr"),
                  requireNamespace, NA, quietly = TRUE)
    msgs <- character()
    y <- withCallingHandlers(
      deconv::deconv_batch(array(1:8, c(2, 1, 1, 4)), function(a) a * 2, chunk.size = 1),
      message = function(m) {
        msgs <<- c(msgs, conditionMessage(m))
        invokeRestart("muffleMessage")
      })
    list(has = has, y = y, msgs = msgs)
  }, list(lib), libpath = lib, timeout = 60)
  skip_if(any(res$has), "the suggested packages could not be hidden")
  expect_identical(res$y, array(as.numeric(1:8) * 2, c(2, 1, 1, 4)))
  expect_length(res$msgs, 1)
})
