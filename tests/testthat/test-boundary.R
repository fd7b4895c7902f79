# The one R/C++ boundary (src/r_boundary.h, R/core.R): every kind of C++ failure becomes
# a classed R condition raised after the C++ objects are destroyed, PROTECTs stay
# balanced, and R reaches C++ only through R/core.R's wrappers.

probe <- function(kind) deconv:::cpp_boundary_probe(kind, call = quote(probe()))
destroyed <- function() probe("destroyed")

test_that("each C++ failure becomes its classed condition, after C++ cleanup", {
  cases <- c(param = "deconv_param_error", shape = "deconv_shape_error",
             unsupported = "deconv_unsupported_error", device = "deconv_device_error",
             resource = "deconv_resource_error", bad_alloc = "deconv_resource_error",
             std = "deconv_internal_error", unknown = "deconv_internal_error",
             huge = "deconv_resource_error", many = "deconv_shape_error")
  args <- c(param = "num.filter", shape = "data", unsupported = "ctx", device = "ctx",
            resource = "memory", bad_alloc = "memory", std = "internal",
            unknown = "internal", huge = "probe", many = "data")
  for (kind in names(cases)) {
    before <- destroyed()
    err <- expect_error(probe(kind), class = cases[[kind]])
    expect_s3_class(err, "deconv_error")
    expect_match(conditionMessage(err), paste0("^", args[[kind]], ": "))
    expect_identical(err$call, quote(probe()))
    expect_identical(destroyed(), before + 1L, label = paste("sentinel destroyed for", kind))
  }
  expect_match(conditionMessage(expect_error(probe("huge"))), "cannot allocate .* for the result")
  expect_match(conditionMessage(expect_error(probe("std"))), "^internal: probe$")
})

test_that("an R error inside the C++ code unwinds through C++ and reaches R intact", {
  before <- destroyed()
  expect_error(probe("r_error"), "probe R error")
  expect_identical(destroyed(), before + 1L)
  expect_error(probe("r_error_kept"), "probe R error")
  expect_identical(destroyed(), before + 2L)
})

test_that("an interrupt from the kernel is an R interrupt, after C++ cleanup", {
  before <- destroyed()
  got <- tryCatch(probe("interrupt"), interrupt = function(c) "interrupted")
  expect_identical(got, "interrupted")
  expect_identical(destroyed(), before + 1L)
})

test_that("PROTECTs stay balanced on every way out", {
  # Called from interpreted code, R checks the PROTECT stack around .Call and reports an
  # imbalance on stderr; the kinds that return (a result or an error value) are checked.
  entry <- deconv:::C_boundary_probe
  msgs <- capture.output(type = "message", for (i in 1:20) {
    for (kind in c("ok", "param", "many", "huge", "bad_alloc", "std")) .Call(entry, kind)
  })
  expect_false(any(grepl("imbalance", msgs)), label = paste(msgs, collapse = "\n"))
  # 30,000 successful calls: a leak of one PROTECT per call would overflow R's stack.
  expect_silent(for (i in 1:30000) probe("ok"))
  for (i in 1:50) {
    for (kind in c("r_error", "r_error_kept")) try(probe(kind), silent = TRUE)
    tryCatch(probe("interrupt"), interrupt = function(c) NULL)
  }
  expect_identical(probe("ok"), 1L)
})

test_that("R reaches C++ only through R/core.R, and every entry runs behind r::entry", {
  pkg <- test_path("..", "..")
  skip_if_not(dir.exists(file.path(pkg, "R")) && dir.exists(file.path(pkg, "src")),
              "package sources not available")
  r_files <- setdiff(list.files(file.path(pkg, "R"), "\\.R$", full.names = TRUE),
                     file.path(pkg, "R", "core.R"))
  # The one exception: deconvolution()'s fast path, its result checked there.
  fast <- ".Call(C_deconvolution_fast,"
  for (f in r_files) {
    lines <- readLines(f)
    calls <- grepl(".Call(", lines, fixed = TRUE)
    allowed <- basename(f) == "deconvolution.R" & grepl(fast, lines, fixed = TRUE)
    expect_false(any(calls & !allowed), label = basename(f))
  }
  fast_lines <- grep(fast, readLines(file.path(pkg, "R", "deconvolution.R")), fixed = TRUE)
  expect_length(fast_lines, 1)
  src <- list.files(file.path(pkg, "src"), "\\.cpp$", full.names = TRUE)
  text <- paste(unlist(lapply(src, readLines)), collapse = "\n")
  entries <- regmatches(text, gregexpr('extern "C" SEXP (C_[a-z0-9_]+)\\([^)]*\\) \\{\n  return r::entry\\(',
                                       text))[[1]]
  declared <- regmatches(text, gregexpr('extern "C" SEXP C_[a-z0-9_]+\\([^)]*\\) \\{', text))[[1]]
  expect_gt(length(declared), 10)
  expect_identical(length(entries), length(declared))
  # Every registered routine has its wrapper in R/core.R, and nothing else is registered.
  registered <- names(getDLLRegisteredRoutines("deconv")$.Call)
  core <- paste(c(readLines(file.path(pkg, "R", "core.R")),
                  readLines(file.path(pkg, "R", "deconvolution.R"))[fast_lines]), collapse = "\n")
  for (r in registered) expect_match(core, paste0("\\.Call\\(", r, "[,)]"), label = r)
  expect_setequal(registered, sub('extern "C" SEXP (C_[a-z0-9_]+)\\(.*', "\\1", declared))
})
