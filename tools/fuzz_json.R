#!/usr/bin/env Rscript
# Mutation fuzzer for mx.symbol.load.json(): Rscript tools/fuzz_json.R N SEED
#
# Seeds are the symbol files in tests/testthat/fixtures/symbols/ and files written by
# as.json(). Each of N mutants (byte flips, deletions, duplications, spliced fragments,
# numbers swapped for huge, negative or fractional ones, \u0000, deep nesting,
# truncation, ...) is given to mx.symbol.load.json(). The outcome must be a symbol whose
# JSON round-trips (load.json(as.json(s)) gives the same JSON) or a deconv_error; any
# other error, a warning, a failed round trip or a crash of R is a finding. Prints the
# counts and exits with status 1 on any finding.
#
# The mutants run in a child R process (this script with --worker), which writes each
# input to a file before running it: if R dies, the driver reports the input that
# killed it.

args <- commandArgs(trailingOnly = TRUE)
worker <- length(args) && args[1] == "--worker"
if (worker) args <- args[-1]
n_total <- if (length(args) >= 1) as.integer(args[1]) else 1000L
seed <- if (length(args) >= 2) as.integer(args[2]) else 1L
stopifnot(!is.na(n_total), n_total >= 0, !is.na(seed))
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))[1]

if (!worker) {
  current <- tempfile("fuzz_current_", fileext = ".json")
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c(shQuote(script), "--worker", n_total, seed, shQuote(current)))
  if (!status %in% c(0L, 1L)) {
    kept <- tempfile("fuzz_crash_", fileext = ".json")
    file.copy(current, kept)
    cat(sprintf("FINDING: R died (exit status %d) on the input saved to %s\n", status, kept))
    cat("fuzz_json: 1 finding (a crash)\n")
    quit(status = 1)
  }
  unlink(current)
  quit(status = status)
}
current_file <- args[3]
suppressPackageStartupMessages(library(deconv))

root <- normalizePath(file.path(dirname(script), ".."))
fixture_dir <- file.path(root, "tests", "testthat", "fixtures", "symbols")
read_text <- function(p) paste(readLines(p, warn = FALSE, encoding = "UTF-8"), collapse = "\n")

seed_texts <- function() {
  files <- list.files(fixture_dir, pattern = "\\.json$", full.names = TRUE)
  files <- files[!grepl("_expected\\.json$", files)]
  texts <- vapply(files, read_text, "")
  data <- mx.symbol.Variable("data")
  w <- mx.symbol.Variable("shared_w")
  a <- mx.symbol.Deconvolution(data, kernel = c(3, 2), stride = c(2, 1), pad = c(1, 0),
                               adj = c(1, 0), num.filter = 4, no.bias = FALSE, name = "a")
  b <- mx.symbol.Deconvolution(a, weight = w, kernel = 2, num.filter = 2, name = "b")
  c3 <- mx.symbol.Deconvolution(data, kernel = c(2, 2, 2), num.filter = 2, num.group = 2,
                                layout = "NCDHW", cudnn.tune = "fastest", target.shape = c(5, 5, 5),
                                name = "c3")
  made <- c(as.json(a), as.json(b), as.json(c3), as.json(mx.symbol.Variable("x")))
  unname(c(texts, made))
}

# ---- Mutations (on raw bytes) ------------------------------------------------------------

fragments <- c("{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "\\u00e9", "null",
               "true", "false", "0", "-1", "1.5", "1e400", "-0", "2147483648", strrep("9", 300),
               "\"op\"", "\"name\"", "\"inputs\"", "\"attrs\"", "\"heads\"", "\"nodes\"",
               "\"Deconvolution\"", "\"null\"", "[0, 0, 0]", "[[0, 0, 0]]", "[9, 0, 0]",
               "\"(3, 3)\"", "\"(3, 3)junk\"", "\"(3,,3)\"", "\"(3.5, 3)\"", "\"()\"", "\"None\"",
               "\"True\"", "\"0x10\"", "{}", "[]", "/* c */", "//", "\xff", "\xc3\x28", "\t", " ")
numbers <- c("0", "1", "-1", "2", "3", "7", "1.5", "-2.5", "1e400", "-1e400", "1e-300",
             "2147483647", "2147483648", "4294967296", "9007199254740993", strrep("9", 40),
             strrep("1", 300), "0.0", "-0", "1e3", "NaN", "Infinity")

rand_pos <- function(n) sample.int(n + 1L, 1L) - 1L      # 0..n: insert after that many bytes
insert_at <- function(b, pos, x) c(b[seq_len(pos)], x, b[seq_len(length(b) - pos) + pos])

mutate_once <- function(b, pool) {
  n <- length(b)
  op <- sample.int(12L, 1L)
  if (n == 0L) op <- 3L
  switch(op,
    { i <- sample.int(n, 1L); b[i] <- as.raw(bitwXor(as.integer(b[i]), bitwShiftL(1L, sample.int(8L, 1L) - 1L))); b },
    { i <- sample.int(n, 1L); k <- min(n - i + 1L, sample.int(16L, 1L)); b[-(i:(i + k - 1L))] },
    insert_at(b, rand_pos(n), charToRaw(sample(fragments, 1L))),
    { i <- sample.int(n, 1L); k <- min(n - i + 1L, sample.int(64L, 1L)); insert_at(b, rand_pos(n), b[i:(i + k - 1L)]) },
    { src <- charToRaw(sample(pool, 1L)); i <- sample.int(length(src), 1L)
      k <- min(length(src) - i + 1L, sample.int(200L, 1L)); insert_at(b, rand_pos(n), src[i:(i + k - 1L)]) },
    { # a number swapped for another
      s <- rawToChar(b); m <- gregexpr("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?", s, useBytes = TRUE)[[1]]
      if (m[1] < 0) return(b)
      j <- sample.int(length(m), 1L)
      st <- m[j]; len <- attr(m, "match.length")[j]
      c(b[seq_len(st - 1L)], charToRaw(sample(numbers, 1L)), b[seq_len(n - st - len + 1L) + st + len - 1L]) },
    b[seq_len(sample.int(n, 1L) - 1L)],                      # truncation
    { d <- sample(c(2L, 10L, 100L, 1000L, 70L), 1L); o <- sample(c("[", "{\"a\":"), 1L)
      cl <- if (o == "[") "]" else "}"
      insert_at(b, rand_pos(n), charToRaw(paste0(strrep(o, d), "0", strrep(cl, d)))) },
    insert_at(b, rand_pos(n), charToRaw("\\u0000")),
    { # a string value replaced
      s <- rawToChar(b); m <- gregexpr("\"[^\"\\\\]*\"", s, useBytes = TRUE)[[1]]
      if (m[1] < 0) return(b)
      j <- sample.int(length(m), 1L); st <- m[j]; len <- attr(m, "match.length")[j]
      c(b[seq_len(st - 1L)], charToRaw(sample(c(fragments, numbers), 1L)), b[seq_len(n - st - len + 1L) + st + len - 1L]) },
    { i <- sample.int(n, 1L); b[i] <- as.raw(sample.int(256L, 1L) - 1L); b },
    { i <- sample.int(n, 1L); k <- min(n - i + 1L, sample.int(32L, 1L)); rev_seg <- b[i:(i + k - 1L)]
      insert_at(b[-(i:(i + k - 1L))], rand_pos(n - k), rev_seg) })
}

mutate <- function(text, pool) {
  b <- charToRaw(text)
  for (k in seq_len(sample(c(1L, 1L, 1L, 2L, 3L, 5L), 1L))) {
    b <- mutate_once(b, pool)
    b <- b[b != as.raw(0)]          # an R string cannot hold NUL bytes
  }
  rawToChar(b)
}

# ---- Running ------------------------------------------------------------------------------

run_one <- function(text) {
  warned <- NULL
  res <- withCallingHandlers(
    tryCatch(mx.symbol.load.json(text), error = function(e) e),
    warning = function(w) { warned <<- conditionMessage(w); invokeRestart("muffleWarning") })
  if (!is.null(warned)) return(list(kind = "finding", why = paste("warning:", warned)))
  if (inherits(res, "deconv_error")) return(list(kind = "deconv_error"))
  if (inherits(res, "error")) return(list(kind = "finding", why = paste("error:", conditionMessage(res))))
  if (!is.mx.symbol(res)) return(list(kind = "finding", why = "returned something other than a symbol"))
  rt <- tryCatch({
    j1 <- as.json(res)
    j2 <- as.json(mx.symbol.load.json(j1))
    identical(j1, j2)
  }, error = function(e) paste("round trip failed:", conditionMessage(e)))
  if (!isTRUE(rt)) return(list(kind = "finding", why = if (is.character(rt)) rt else "round trip changed the JSON"))
  list(kind = "symbol")
}

set.seed(seed)
pool <- seed_texts()
counts <- c(symbol = 0L, deconv_error = 0L, finding = 0L)
findings <- character(0)
started <- Sys.time()
for (i in seq_len(n_total)) {
  text <- mutate(sample(pool, 1L), pool)
  writeBin(charToRaw(text), current_file)
  r <- run_one(text)
  counts[[r$kind]] <- counts[[r$kind]] + 1L
  if (r$kind == "finding") {
    findings <- c(findings, r$why)
    if (length(findings) <= 10) {
      f <- tempfile("fuzz_finding_", fileext = ".json")
      writeBin(charToRaw(text), f)
      cat(sprintf("FINDING %d: %s\n  input saved to %s\n", length(findings), substr(r$why, 1, 300), f))
    }
  }
}
cat(sprintf("fuzz_json: %d mutants (seed %d) in %.0fs: %d symbols (round trip ok), %d deconv_errors, %d findings\n",
            n_total, seed, as.numeric(difftime(Sys.time(), started, units = "secs")),
            counts[["symbol"]], counts[["deconv_error"]], counts[["finding"]]))
if (counts[["finding"]] > 0) {
  tab <- sort(table(substr(findings, 1, 120)), decreasing = TRUE)
  print(utils::head(tab, 20))
  quit(status = 1)
}
