#' Number of CPU threads
#'
#' Gets or sets the number of threads the CPU kernels use (option `deconv.threads`;
#' 0 means OpenMP's default, which honours `OMP_NUM_THREADS`). The count is at most
#' `deconv_info()$thread_limit` (1024); a bad value, set here or with `options()`, is
#' an error naming it, and more threads than the machine has cores warn once a
#' session. In a forked child process (`parallel::mclapply()`, multicore
#' futures) the kernels run on one thread whatever the setting, since OpenMP's threads
#' do not survive a fork.
#'
#' @param n `NULL` to only query, or the number of threads to use from now on.
#' @return The number of threads in effect (invisibly when setting).
#' @examples
#' old <- deconv_threads()
#' deconv_threads(1)
#' deconv_threads(old)
#' @export
deconv_threads <- function(n = NULL) {
  call <- sys.call()
  if (is.null(n)) {
    n <- threads_option(call)
    return(if (n > 0) n else cpp_deconv_info(call)$threads)
  }
  n <- check_thread_count(n, "n", call)
  options(deconv.threads = n)
  invisible(deconv_threads())
}

.deconv_state <- new.env(parent = emptyenv())

# The thread count in force: option deconv.threads (unset or 0: OpenMP's default),
# checked where it is read, so a bad option is an error naming it rather than a crash,
# and more threads than cores (set here or with deconv_threads()) warn once a session.
threads_option <- function(call = NULL) {
  n <- getOption("deconv.threads")
  if (is.null(n)) return(0L)
  n <- check_thread_count(n, "deconv.threads", call)
  if (n > 1L && !isTRUE(.deconv_state$warned_threads)) warn_oversubscribed(n)
  n
}

warn_oversubscribed <- function(n) {
  if (is.null(.deconv_state$cores)) .deconv_state$cores <- parallel::detectCores()
  cores <- .deconv_state$cores
  if (!is.na(cores) && n > cores) {
    .deconv_state$warned_threads <- TRUE
    warning(warningCondition(sprintf(paste0(
      "deconv.threads = %d: this machine has %d cores; more threads than cores usually ",
      "run slower (this warning is shown once)"), n, cores), class = "deconv_warning"))
  }
}

check_thread_count <- function(n, arg, call) {
  limit <- thread_limit()
  if (!is.numeric(n) || is.object(n) || length(n) != 1 || is.na(n) || n < 0 || n > limit ||
      n != floor(n)) {
    deconv_abort(arg, sprintf(
      "expected a whole number of threads from 0 (OpenMP's default) to %d, got %s",
      limit, describe_value(n)), call = call)
  }
  as.integer(n)
}

thread_limit <- function() {
  if (is.null(.deconv_state$thread_limit)) {
    .deconv_state$thread_limit <- cpp_thread_limit()
  }
  .deconv_state$thread_limit
}
