# Batches over the future ecosystem: deconv_batch() applies one function (or a bound
# executor's forward pass) to each array of a list or to chunks of one array split along
# its last (batch) dimension; upsample_files() upsamples image files. Items run through
# future.apply, so the user's future::plan() decides where; deconv never sets a plan or
# progress handlers. Without future and future.apply (Suggests) the same items run one
# after another in this session, with the same results.

#' Apply a layer to many arrays, wherever `future::plan()` says
#'
#' `deconv_batch()` calls `fun` on each element of a list, or on chunks of one array
#' split along its last (batch) dimension, and returns the results in input order: a
#' list for a list; for an array, the chunks' results bound along the last dimension
#' again, as one call on the whole array returns them. `fun` is an ordinary function,
#' such as [deconvolution()] or a function of yours that calls it, or an executor from
#' [mx.simple.bind()], whose forward pass then runs on each chunk.
#'
#' The items run through [future.apply::future_lapply()], so [future::plan()] decides
#' where: `plan(multisession)` on a laptop, a cluster of machines, or a
#' `future.batchtools` plan on a scheduler (see `vignette("batches")`). deconv never sets
#' a plan. Without the future and future.apply packages the items run one after another
#' in this session, after a message (once per session) saying how to run them in
#' parallel.
#'
#' **Random numbers.** Item (or chunk) `i` runs with its own L'Ecuyer-CMRG stream (the
#' `i`th of a sequence started from one draw of this session's random numbers, passed
#' to `future_lapply()` as `future.seed`), so a function that draws random numbers gives
#' the same results on every plan, and without future, after the same [set.seed()] and
#' with the same `chunk.size`.
#'
#' **Threads.** While a worker runs an item, option `deconv.threads` is `threads` when
#' given, else the worker machine's cores divided by [future::nbrOfWorkers()] (at least
#' 1), the cores being [parallelly::availableCores()] on the worker without its
#' `mc.cores` entry (future sets `mc.cores = 1` on its workers to stop nested forking).
#' Workers x threads is then at most a machine's cores whenever the workers share one
#' machine and do not outnumber its cores. A forked worker (`plan(multicore)`) runs on
#' one thread, whatever `threads` says, since OpenMP's threads do not survive a fork;
#' see [deconv_threads()].
#'
#' **Memory.** An array is cut and sent in waves of one chunk per worker: a worker
#' receives only its chunk (plus `fun` and `...`), and this session holds the array, one
#' wave of chunks and the output. The default `chunk.size` is the smaller of an equal
#' share per worker and 64 MiB of input per chunk.
#'
#' **Progress.** One [progressr::progressor()] step per item or chunk (when progressr is
#' installed); silent unless you ask, with [progressr::with_progress()] or
#' `progressr::handlers(global = TRUE)`.
#'
#' **Failures.** With `errors = "stop"`, a failing item is an error of class
#' `deconv_batch_error` whose message names it (`x[[3]]`, or the chunk and its
#' samples) and whose `parent` is the original condition (with `index`, the item's
#' number); the items of the same wave still finish, later waves do not start. With
#' `errors = "collect"`, every item runs and the failures come back beside the results.
#'
#' @param x A list (each element is passed to `fun`) or an array, whose last dimension
#'   is split into chunks of `chunk.size` (for NCHW data, `dim = c(W, H, C, N)`).
#' @param fun A function, called as `fun(item, ...)`, or an executor from
#'   [mx.simple.bind()]: each item is then bound to the executor's argument `input`
#'   (with the executor's other argument arrays, such as weights) and run forward; its
#'   output (a list, when the symbol has several) is the item's result.
#' @param ... Further arguments to `fun`; sent to every worker.
#' @param chunk.size For an array `x`: the most samples per chunk. `NULL`: the default
#'   above.
#' @param input For an executor `fun`: the name of the argument each item feeds.
#' @param threads `NULL` (the rule above) or the number of CPU threads every worker uses.
#' @param errors `"stop"` or `"collect"`.
#' @return With `errors = "stop"`, the results in input order: a list (names kept) for a
#'   list `x`; for an array, the chunks' results bound along their last dimension when
#'   they are arrays with as many samples as their chunks, else a list with one result
#'   per chunk. With `errors = "collect"`, a list of `value` (one result per item or
#'   chunk, `NULL` where it failed), `ok` (logical, per item or chunk), `errors` (the
#'   `deconv_batch_error` conditions, named by item or chunk number) and, for an array,
#'   `samples` (the sample numbers of each chunk).
#' @seealso [upsample_files()] for folders of images; `vignette("batches")`.
#' @examples
#' w <- bilinear_kernel(c(4, 4))
#' up2 <- function(a) deconvolution(a, w, kernel = c(4, 4), stride = c(2, 2),
#'                                  pad = c(1, 1), num.filter = 1)
#' x <- array(runif(8 * 8 * 1 * 6), c(8, 8, 1, 6))        # 6 samples, W = H = 8
#' # future::plan(future::multisession, workers = 2)     # to run on 2 workers
#' y <- deconv_batch(x, up2, chunk.size = 2)             # 3 chunks of 2 samples
#' identical(y, up2(x))
#' # A list, with arguments for fun:
#' ys <- deconv_batch(list(a = x[, , , 1:2, drop = FALSE], b = x[, , , 3, drop = FALSE]),
#'                    deconvolution, weight = w, kernel = c(4, 4), stride = c(2, 2),
#'                    pad = c(1, 1), num.filter = 1)
#' sapply(ys, dim)
#' # A bound executor's forward pass, chunk by chunk:
#' data <- mx.symbol.Variable("data")
#' up <- mx.symbol.Deconvolution(data, kernel = c(4, 4), stride = c(2, 2), pad = c(1, 1),
#'                               num.filter = 1, name = "up")
#' exec <- mx.simple.bind(up, data = c(8, 8, 1, 2), grad.req = "null")
#' mx.exec.update.arg.arrays(exec, list(up_weight = w), match.name = TRUE)
#' identical(deconv_batch(x, exec, chunk.size = 2), y)
#' @export
deconv_batch <- function(x, fun, ..., chunk.size = NULL, input = "data", threads = NULL,
                         errors = c("stop", "collect")) {
  call <- sys.call()
  errors <- batch_errors_arg(errors, call)
  threads <- batch_threads_arg(threads, call)
  if (inherits(fun, "MXExecutor")) {
    fun <- executor_forward(fun, input, call)
  } else if (!is.function(fun)) {
    deconv_abort("fun", paste0("expected a function or an executor from mx.simple.bind(), got ",
                               describe_value(fun)), call = call)
  }
  args <- list(...)
  if (is.list(x) && !is.object(x)) {
    n <- length(x)
    labels <- function(i) {
      nm <- names(x)[i]
      sprintf("x[[%d]]%s", i, if (is.null(nm) || is.na(nm) || !nzchar(nm)) "" else
        paste0(" (", encodeString(nm, quote = "\""), ")"))
    }
    out <- batch_map(n, function(i) x[[i]], fun, args, threads, errors, labels,
                     wave = n, progress_env = environment(), call = call)
    return(batch_finish_list(out, names(x), errors))
  }
  d <- dim(x)
  if (!is.array(x) || !(is.numeric(x) || is.logical(x) || is.complex(x))) {
    deconv_abort("x", paste0("expected a list or an array, got ", describe_value(x)),
                 call = call)
  }
  total <- d[length(d)]
  if (total == 0) deconv_abort("x", "has no samples: its last dimension is 0", call = call)
  workers <- batch_workers()
  per <- prod(as.numeric(d[-length(d)]))
  chunk.size <- batch_chunk_size(chunk.size, total, per * 8, workers, call)
  starts <- seq(1, total, by = chunk.size)
  samples <- lapply(starts, function(s) seq.int(s, min(total, s + chunk.size - 1)))
  labels <- function(i) {
    s <- samples[[i]]
    sprintf("x, chunk %d (sample%s)", i, if (length(s) == 1) paste0(" ", s) else
      sprintf("s %d to %d", s[1], s[length(s)]))
  }
  cut <- function(i) batch_slice(x, samples[[i]], per)
  if (errors == "collect") {
    out <- batch_map(length(samples), cut, fun, args, threads, errors, labels,
                     wave = min(length(samples), workers), progress_env = environment(),
                     call = call)
    res <- batch_finish_list(out, NULL, errors)
    res$samples <- samples
    return(res)
  }
  binder <- batch_binder(samples, total, dimnames(x)[[length(d)]])
  batch_map(length(samples), cut, fun, args, threads, errors, labels,
            wave = min(length(samples), workers), progress_env = environment(),
            sink = binder$add, call = call)
  binder$result()
}

#' Upsample many image files, wherever `future::plan()` says
#'
#' Reads each PNG or JPEG file of `input`, upsamples it with [upsample_file()] and
#' writes the result (PNG or JPEG, by the output file's extension). Each worker reads
#' and writes its own files and returns only their paths, so no process holds more than
#' the images it is working on. Runs, threads per worker, progress and the one-time
#' message without future are as for [deconv_batch()]; the workers must see the same
#' files (on a cluster, a shared file system).
#'
#' Every file is attempted. With `errors = "stop"`, a file that fails is then an error of
#' class `deconv_batch_error` naming it (`input[3] ("a.png")`; `parent` is the original
#' condition, `file` the file name); with `errors = "collect"`, a data frame says which
#' files failed and why. Files written stay written either way.
#'
#' @param input Paths of PNG or JPEG files.
#' @param output A folder (created when missing), where each result gets its input's
#'   file name, or one output path per input (a single input may have a single `.png`,
#'   `.jpg` or `.jpeg` output path).
#' @param factor,... Passed to [upsample_file()] (and on to [upsample()]).
#' @inheritParams deconv_batch
#' @return With `errors = "stop"`, the output paths, invisibly. With `errors =
#'   "collect"`, a data frame with columns `input`, `output` (`NA` where it failed),
#'   `ok` and `error` (why it failed, `NA` where it worked).
#' @seealso [deconv_batch()], `vignette("batches")`.
#' @examples
#' if (requireNamespace("png", quietly = TRUE)) {
#'   dir <- tempfile("images")
#'   dir.create(dir)
#'   files <- file.path(dir, c("a.png", "b.png"))
#'   for (f in files) png::writePNG(array(runif(8 * 8 * 3), c(8, 8, 3)), f)
#'   # future::plan(future::multisession, workers = 2)   # to run on 2 workers
#'   out <- upsample_files(files, file.path(dir, "up"), factor = 2)
#'   dim(png::readPNG(out[1]))
#' }
#' @export
upsample_files <- function(input, output, factor = 2, ..., threads = NULL,
                           errors = c("stop", "collect")) {
  call <- sys.call()
  batch_files(input, output, function(input, output, ...) upsample_file(input, output, ...),
              c(list(factor = factor), list(...)), threads, errors, call)
}

# The engine of upsample_files(): file_fun(input, output, ...) per file (tests pass a
# stand-in for upsample_file()).
batch_files <- function(input, output, file_fun, args, threads, errors, call) {
  errors <- batch_errors_arg(errors, call)
  threads <- batch_threads_arg(threads, call)
  if (!is.character(input) || is.object(input) || !length(input) || anyNA(input) ||
      any(!nzchar(input))) {
    deconv_abort("input", paste0("expected paths of image files, got ", describe_value(input)),
                 call = call)
  }
  output <- batch_output_paths(input, output, call)
  labels <- function(i) sprintf("input[%d] (%s)", i, encodeString(input[i], quote = "\""))
  out <- batch_map(length(input), function(i) c(input[i], output[i]),
                   function(paths, ...) file_fun(paths[1], paths[2], ...), args, threads,
                   errors, labels, wave = length(input), progress_env = environment(),
                   files = input, call = call)
  if (errors == "stop") return(invisible(output))
  ok <- vapply(out, function(o) o$ok, NA)
  data.frame(input = input, output = ifelse(ok, output, NA_character_), ok = ok,
             error = vapply(out, function(o) if (o$ok) NA_character_ else o$error$detail, ""),
             stringsAsFactors = FALSE)
}

# One output path per input: the paths given, or the inputs' file names in a folder.
batch_output_paths <- function(input, output, call) {
  if (!is.character(output) || is.object(output) || !length(output) || anyNA(output) ||
      any(!nzchar(output))) {
    deconv_abort("output", paste0("expected a folder or one path per input, got ",
                                  describe_value(output)), call = call)
  }
  image_ext <- grepl("\\.(png|jpe?g)$", output, ignore.case = TRUE)
  if (length(output) == 1 && !(length(input) == 1 && image_ext && !dir.exists(output))) {
    paths <- file.path(output, basename(input))
    dup <- anyDuplicated(paths)
    if (dup) {
      deconv_abort("output", sprintf(
        "input files %s share the name %s; give one output path per input instead",
        paste(which(paths == paths[dup]), collapse = " and "),
        encodeString(basename(input[dup]), quote = "\"")), call = call)
    }
    if (!dir.exists(output) && !dir.create(output, recursive = TRUE)) {
      deconv_abort("output", paste0("cannot create the folder ",
                                    encodeString(output, quote = "\"")), call = call)
    }
    output <- paths
  } else if (length(output) != length(input)) {
    deconv_abort("output", sprintf("expected a folder or %d paths (one per input), got %d paths",
                                   length(input), length(output)), call = call)
  }
  same <- normalizePath(output, mustWork = FALSE) == normalizePath(input, mustWork = FALSE)
  if (any(same)) {
    deconv_abort("output", sprintf("output[%d] is its input file %s; it would be overwritten",
                                   which(same)[1], encodeString(input[which(same)[1]], quote = "\"")),
                 call = call)
  }
  output
}

# ---- the engine -----------------------------------------------------------------------

# Runs fun on items 1..n (make_item(i) makes item i on this side) in waves of `wave` items and
# returns one outcome per item, list(ok, value | error, threads), in order. `sink(i,
# value)` consumes values as waves finish (they are then not kept). In stop mode the
# first failure is raised once its wave has finished; later waves are not started.
batch_map <- function(n, make_item, fun, args, threads, errors, labels, wave, progress_env,
                      sink = NULL, files = NULL, call = NULL) {
  outcomes <- vector("list", n)
  if (n == 0) return(outcomes)
  parallel <- batch_parallel()
  workers <- batch_workers()
  seeds <- batch_seeds(n)
  # future_lapply() moves the session's generator on once per call (per wave, so by a
  # number that depends on the plan): put it back where batch_seeds() left it.
  genv <- globalenv()
  rng <- get(".Random.seed", envir = genv, inherits = FALSE)
  on.exit(assign(".Random.seed", rng, envir = genv), add = TRUE)
  progress <- if (batch_has("progressr")) progressr::progressor(steps = n, envir = progress_env)
  worker <- batch_worker(fun, args, threads, workers, progress)
  for (start in seq(1, n, by = wave)) {
    idx <- seq.int(start, min(n, start + wave - 1))
    items <- lapply(idx, make_item)
    res <- if (parallel) {
      future.apply::future_lapply(items, worker, future.seed = seeds[idx],
                                  future.scheduling = 1, future.packages = "deconv")
    } else {
      batch_sequential(items, worker, seeds[idx])
    }
    rm(items)
    for (k in seq_along(idx)) {
      i <- idx[k]
      o <- res[[k]]
      res[k] <- list(NULL)  # drop this session's copy as soon as it is consumed
      if (!o$ok) {
        o$error <- batch_error(o$error, i, labels(i), if (!is.null(files)) files[i], call)
      } else if (!is.null(sink)) {
        sink(i, o$value)
        o$value <- NULL
      }
      outcomes[[i]] <- o
    }
    if (errors == "stop" && !all(vapply(outcomes[idx], function(o) o$ok, NA))) break
  }
  if (errors == "stop") {
    failed <- Filter(function(o) !is.null(o) && !o$ok, outcomes)
    if (length(failed)) {
      e <- failed[[1]]$error
      if (length(failed) > 1) {
        e$message <- sprintf("%s\n(%d items failed; errors = \"collect\" returns the rest)",
                             e$message, length(failed))
      }
      stop(e)
    }
  }
  outcomes
}

# The function each worker runs per item: sets the thread count, calls fun, catches its
# error, ticks progress. Built here so that its environment holds only what it needs
# (a closure made in batch_map() would carry the whole input to every worker).
batch_worker <- function(fun, args, threads, workers, progress) {
  force(fun)
  force(args)
  force(threads)
  force(workers)
  force(progress)
  function(item) {
    n <- if (forked_child()) 1L else if (is.null(threads)) worker_threads(workers) else threads
    old <- options(deconv.threads = n)
    on.exit(options(old))
    out <- tryCatch(list(ok = TRUE, value = call_with(fun, item, args)),
                    error = function(e) list(ok = FALSE, error = e))
    out$threads <- n
    if (!is.null(progress)) progress()
    out
  }
}

# fun(item, <args>) through a call made of symbols, so a condition's call shows
# `fun(item, ...)` rather than embedding the data (which a worker would send back).
call_with <- function(fun, item, args) {
  arg_exprs <- lapply(seq_along(args), function(k) call("[[", quote(args), k))
  cl <- as.call(c(list(quote(fun), quote(item)), arg_exprs))
  if (!is.null(names(args))) names(cl) <- c("", "", names(args))
  eval(cl)
}

# Without future: the items in order here, each with its own seed as future_lapply()
# would set it, the session's random-number state restored afterwards.
batch_sequential <- function(items, worker, seeds) {
  genv <- globalenv()
  had <- exists(".Random.seed", envir = genv, inherits = FALSE)
  old <- if (had) get(".Random.seed", envir = genv, inherits = FALSE)
  on.exit(if (had) assign(".Random.seed", old, envir = genv) else
    rm(".Random.seed", envir = genv))
  lapply(seq_along(items), function(k) {
    assign(".Random.seed", seeds[[k]], envir = genv)
    worker(items[[k]])
  })
}

# n L'Ecuyer-CMRG streams started from one draw of the session's generator (so repeated
# calls differ and set.seed() repeats them); the generator kind is left as it was.
batch_seeds <- function(n) {
  genv <- globalenv()
  start <- sample.int(.Machine$integer.max, 1L)
  caller <- get(".Random.seed", envir = genv, inherits = FALSE)
  on.exit(assign(".Random.seed", caller, envir = genv))
  RNGkind("L'Ecuyer-CMRG")
  set.seed(start)
  s <- get(".Random.seed", envir = genv, inherits = FALSE)
  seeds <- vector("list", n)
  for (i in seq_len(n)) {
    s <- parallel::nextRNGStream(s)
    seeds[[i]] <- s
  }
  seeds
}

# ---- threads per worker ---------------------------------------------------------------

# On a worker: its machine's cores shared among the plan's workers.
worker_threads <- function(workers) thread_rule(worker_cores(), workers)

# A forked child runs the core on one thread whatever it is told (OpenMP's threads do
# not survive fork; see run_options.h), so that is the count it reports.
forked_child <- function() batch_has("parallelly") && parallelly::isForkedChild()

thread_rule <- function(cores, workers) {
  max(1L, as.integer(floor(cores / max(1, workers))))
}

# The cores this machine offers this process: parallelly's count (cgroups, affinity,
# schedulers' allocations, _R_CHECK_LIMIT_CORES_) without mc.cores, which future sets
# to 1 on its workers to stop nested forking, not to size their threads.
worker_cores <- function() {
  if (batch_has("parallelly")) {
    n <- parallelly::availableCores(which = "all")
    n <- n[names(n) != "mc.cores" & !is.na(n)]
    if (length(n)) return(max(1L, as.integer(min(n))))
  }
  n <- parallel::detectCores()
  if (is.na(n)) 1L else as.integer(n)
}

# ---- backends and arguments -----------------------------------------------------------

.batch_state <- new.env(parent = emptyenv())

# Whether a suggested package is usable. Option deconv.batch.without (names) hides
# packages, so tests can run the code paths of a library without them.
batch_has <- function(pkg) {
  !pkg %in% getOption("deconv.batch.without", character()) &&
    requireNamespace(pkg, quietly = TRUE)
}

# future_lapply() when future and future.apply are there; else sequential, said once.
batch_parallel <- function() {
  if (batch_has("future") && batch_has("future.apply")) return(TRUE)
  if (!isTRUE(.batch_state$told)) {
    .batch_state$told <- TRUE
    message(structure(class = c("deconv_sequential_message", "message", "condition"), list(
      message = paste0(
        "deconv: running the batch sequentially in this R session. To run it in parallel, ",
        "install the 'future' and 'future.apply' packages and choose workers, e.g. ",
        "future::plan(future::multisession); install 'progressr' for progress updates.\n"),
      call = NULL)))
  }
  FALSE
}

batch_workers <- function() {
  if (batch_has("future") && batch_has("future.apply")) future::nbrOfWorkers() else 1
}

batch_errors_arg <- function(errors, call) {
  if (identical(errors, c("stop", "collect"))) return("stop")
  if (!is_string(errors) || !errors %in% c("stop", "collect")) {
    deconv_abort("errors", paste0("expected \"stop\" or \"collect\", got ", describe_value(errors)),
                 call = call)
  }
  errors
}

batch_threads_arg <- function(threads, call) {
  if (is.null(threads)) return(NULL)
  if (!is.numeric(threads) || is.object(threads) || length(threads) != 1 || is.na(threads) ||
      threads < 1 || threads != floor(threads)) {
    deconv_abort("threads", paste0("expected NULL or a whole number of threads, at least 1, got ",
                                   describe_value(threads)), call = call)
  }
  check_thread_count(threads, "threads", call)
}

# Samples per chunk: as given, else an equal share per worker, at most 64 MiB of input.
batch_chunk_size <- function(chunk.size, total, sample_bytes, workers, call) {
  if (is.null(chunk.size)) {
    share <- ceiling(total / min(total, if (is.finite(workers)) workers else total))
    return(max(1, min(share, floor(2^26 / max(1, sample_bytes)))))
  }
  if (!is.numeric(chunk.size) || is.object(chunk.size) || length(chunk.size) != 1 ||
      is.na(chunk.size) || chunk.size < 1 || chunk.size != floor(chunk.size)) {
    deconv_abort("chunk.size", paste0("expected NULL or a whole number of samples, at least 1, got ",
                                      describe_value(chunk.size)), call = call)
  }
  min(chunk.size, total)
}

# ---- arrays: cutting and binding ------------------------------------------------------

# Samples `s` (consecutive) of x along its last dimension. The last dimension is the
# slowest, so a chunk is one contiguous run of x (a compact sequence indexes it).
batch_slice <- function(x, s, per) {
  d <- dim(x)
  from <- (s[1] - 1) * per + 1
  out <- x[seq.int(from, from + per * length(s) - 1)]
  dim(out) <- c(d[-length(d)], length(s))
  dn <- dimnames(x)
  if (!is.null(dn)) {
    dn[[length(d)]] <- dn[[length(d)]][s]
    dimnames(out) <- dn
  }
  out
}

# Collects chunk results into one array as they come (the chunks' own copies are
# dropped); falls back to a list when a result is not an array of the chunk's samples.
batch_binder <- function(samples, total, batch_names) {
  st <- new.env(parent = emptyenv())
  st$out <- NULL
  st$list <- NULL
  st$filled <- integer()
  to_list <- function() {
    st$list <- lapply(st$filled, function(k) batch_slice(st$array(), samples[[k]], st$per))
    names(st$list) <- st$filled
    st$out <- NULL
  }
  st$array <- function() {
    a <- st$out
    dim(a) <- c(st$lead, total)
    a
  }
  add <- function(k, value) {
    d <- dim(value)
    fits <- is.array(value) && d[length(d)] == length(samples[[k]]) &&
      (is.null(st$lead) || (identical(d[-length(d)], st$lead) && typeof(value) == st$type))
    if (is.null(st$list) && !fits) {
      if (length(st$filled)) to_list() else st$list <- list()
    }
    if (!is.null(st$list)) {
      st$list[[as.character(k)]] <- value
      return(invisible())
    }
    if (is.null(st$lead)) {
      st$lead <- d[-length(d)]
      st$type <- typeof(value)
      st$per <- prod(as.numeric(st$lead))
      st$out <- vector(st$type, st$per * total)
      st$dimnames <- dimnames(value)
    }
    from <- (samples[[k]][1] - 1) * st$per + 1
    st$out[seq.int(from, length.out = length(value))] <- value
    st$filled <- c(st$filled, k)
  }
  result <- function() {
    if (!is.null(st$list)) {
      return(unname(st$list[as.character(seq_along(samples))]))
    }
    a <- st$array()
    if (!is.null(st$dimnames) || !is.null(batch_names)) {
      dn <- if (is.null(st$dimnames)) vector("list", length(dim(a))) else st$dimnames
      dn[length(dn)] <- list(batch_names)
      dimnames(a) <- dn
    }
    st$out <- NULL
    a
  }
  list(add = add, result = result)
}

batch_finish_list <- function(outcomes, item_names, errors) {
  ok <- vapply(outcomes, function(o) o$ok, NA)
  value <- lapply(outcomes, function(o) if (o$ok) o$value)
  names(value) <- item_names
  if (errors == "stop") return(value)
  errs <- lapply(outcomes[!ok], function(o) o$error)
  names(errs) <- which(!ok)
  list(value = value, ok = ok, errors = errs)
}

# The item's error, named by the item; the original condition is its parent. A parent
# message naming the same argument ("input: no such file ...") loses that prefix.
batch_error <- function(e, index, label, file, call) {
  arg <- regmatches(label, regexpr("^[[:alnum:]._]+", label))
  detail <- conditionMessage(e)
  prefix <- paste0(arg, ": ")
  if (startsWith(detail, prefix)) detail <- substring(detail, nchar(prefix) + 1)
  errorCondition(paste0(label, ": ", detail),
                 class = c("deconv_batch_error", "deconv_error"), call = call,
                 parent = e, index = index, file = file, detail = detail)
}

# ---- executors ------------------------------------------------------------------------

# A function running an executor's forward pass on one chunk: a fresh executor bound
# to the chunk's shape (the last chunk may be smaller) with the executor's other
# argument arrays, so the caller's executor is not modified. It captures only the
# symbol, the arrays, ctx and dtype, not the executor's other state.
executor_forward <- function(exec, input, call) {
  st <- check_executor(exec, call)
  if (!is_string(input) || !input %in% st$args) {
    deconv_abort("input", sprintf("expected the name of one of the executor's arguments (%s), got %s",
                                  paste0("\"", st$args, "\"", collapse = ", "),
                                  describe_value(input)), call = call)
  }
  symbol <- exec$symbol
  ctx <- exec$ctx
  dtype <- st$dtype
  params <- st$arg.arrays[setdiff(st$args, input)]
  rm(exec, st)
  function(chunk) {
    shape <- stats::setNames(list(dim(chunk)), input)
    e <- do.call(mx.simple.bind, c(list(symbol, ctx = ctx, grad.req = "null", dtype = dtype),
                                   shape))
    mx.exec.update.arg.arrays(e, c(stats::setNames(list(chunk), input), params),
                              match.name = TRUE)
    mx.exec.forward(e, is.train = FALSE)
    if (length(e$outputs) == 1) e$outputs[[1]] else e$outputs
  }
}
