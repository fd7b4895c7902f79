# Symbols as MXNet's symbol JSON (the format of Symbol.tojson()/save() in MXNet 1.x):
# nodes in depth-first post-order, arg_nodes, node_row_ptr, heads and the
# mxnet_version attribute. Read and written with jsonlite.

.mxnet_version <- 10901L

#' Save and load symbols as MXNet JSON
#'
#' `mx.symbol.save()` writes a symbol in MXNet's symbol JSON format (the file MXNet's
#' `mx.symbol.save()`/Python `Symbol.save()` writes), `mx.symbol.load()` reads one, and
#' `mx.symbol.load.json()` reads it from a string. `as.json()` (also `sym$as.json()`)
#' gives the JSON text. Parameters are stored as MXNet's strings (`"(4, 4)"` in MXNet's
#' tuple order, `"True"`), so files written by MXNet load here and files written here
#' load in MXNet. Graphs can hold variables and `Deconvolution` nodes; any other
#' operator is an error (class `deconv_unsupported_error`) naming it.
#'
#' Reading is strict, since a symbol file may come from anywhere: `mx.symbol.load()`
#' reads regular files only (not directories, FIFOs or devices), of at most
#' `getOption("deconv.max.json.bytes", 64 * 1024^2)` bytes; a connection is refused
#' (read it yourself and give the text to `mx.symbol.load.json()`).
#' `mx.symbol.load.json()` parses its argument as JSON text and never as a path or URL:
#' text that does not start with `{` is refused. The text must be UTF-8 without NUL
#' characters (`\u0000`), comments or nesting deeper than 64, and must have MXNet's
#' layout: every error is a `deconv_param_error` naming `json` (or the parameter) and
#' what is wrong. Two variables may share a name, as in MXNet, but such a symbol cannot
#' be bound.
#'
#' @param symbol,x An `MXSymbol`.
#' @param filename Path of the file to write (a single string): a new file, or an
#'   existing regular file, which is replaced. Errors (a bad path, a directory, a
#'   failed write) are `deconv_param_error`s naming `filename`.
#' @param file.name Path of the JSON file to read (a single string).
#' @param json.str The JSON text (a string, or lines that are pasted together).
#' @param ... Unused.
#' @return `mx.symbol.save()`: `filename`, invisibly. `mx.symbol.load()` and
#'   `mx.symbol.load.json()`: an `MXSymbol`. `as.json()`: a string.
#' @examples
#' data <- mx.symbol.Variable("data")
#' up <- mx.symbol.Deconvolution(data, kernel = c(4, 2), stride = c(2, 2), num.filter = 3,
#'                               name = "up")
#' cat(as.json(up))
#' f <- tempfile(fileext = ".json")
#' mx.symbol.save(up, f)
#' up2 <- mx.symbol.load(f)
#' identical(as.json(up2), as.json(up))
#' @export
mx.symbol.save <- function(symbol, filename) {
  call <- sys.call()
  text <- symbol_json(symbol, "symbol", call)
  path <- check_out_path(filename, "filename", call)
  write_text_file(paste0(text, "\n"), path, "filename", call)
  invisible(filename)
}

#' @rdname mx.symbol.save
#' @export
mx.symbol.load <- function(file.name) {
  call <- sys.call()
  path <- check_in_path(file.name, "file.name", call)
  symbol_from_json(read_text_file(path, "file.name", call), call)
}

#' @rdname mx.symbol.save
#' @export
mx.symbol.load.json <- function(json.str) {
  call <- sys.call()
  if (!is.character(json.str) || !length(json.str) || anyNA(json.str)) {
    deconv_abort("json.str", paste0("expected the JSON text as a string, got ",
                                    describe_value(json.str)), call = call)
  }
  text <- if (length(json.str) == 1) json.str else paste(json.str, collapse = "\n")
  if (nchar(text, type = "bytes") > max_json_bytes()) {
    deconv_abort("json.str", sprintf("the text has more than %s bytes (option deconv.max.json.bytes)",
                                     format(max_json_bytes(), big.mark = ",")), call = call)
  }
  symbol_from_json(text, call)
}

#' @rdname mx.symbol.save
#' @export
as.json <- function(x, ...) UseMethod("as.json")

#' @rdname mx.symbol.save
#' @export
as.json.MXSymbol <- function(x, ...) symbol_json(x, "x", sys.call())

# The JSON text of a symbol (`arg` names it in messages), laid out as MXNet writes it.
# Written here rather than by jsonlite::toJSON(), which takes seconds on deep graphs.
symbol_json <- function(x, arg, call) {
  nodes <- graph_nodes(x, arg, call)
  n <- length(nodes)
  ids <- vapply(nodes, function(nd) format_id(nd$id), "")
  # Each part is computed for all nodes at once: per-node string work is what is slow.
  node_of <- function(counts) rep.int(seq_len(n), counts)
  group <- function(text, counts, empty) {
    out <- rep(empty, n)
    has <- counts > 0
    if (any(has)) out[has] <- vapply(split(text, node_of(counts)), paste, "", collapse = "")
    out
  }
  entry_text <- function(positions) paste0("[", positions - 1L, ", 0, 0]")
  n_inputs <- vapply(nodes, function(nd) length(nd$inputs), 0L)
  input_ids <- unlist(lapply(nodes, function(nd) vapply(nd$inputs, function(i) format_id(i$id), "")))
  inputs <- entry_text(match(input_ids, ids))
  sep <- rep(", ", length(inputs))
  sep[cumsum(n_inputs)[n_inputs > 0]] <- ""
  inputs_text <- paste0("[", group(paste0(inputs, sep), n_inputs, ""), "]")
  n_attrs <- vapply(nodes, function(nd) length(nd$attrs), 0L)
  keys <- unlist(lapply(nodes, function(nd) names(nd$attrs)))
  vals <- unlist(lapply(nodes, function(nd) unlist(nd$attrs, use.names = FALSE)))
  attr_lines <- paste0("        ", json_quote(keys), ": ", json_quote(vals))
  asep <- rep(",\n", length(attr_lines))
  asep[cumsum(n_attrs)[n_attrs > 0]] <- ""
  attrs_text <- group(paste0(attr_lines, asep), n_attrs, "")
  attrs_text[n_attrs > 0] <- paste0(',\n      "attrs": {\n', attrs_text[n_attrs > 0], "\n      }")
  ops <- vapply(nodes, function(nd) nd$op, "")
  node_text <- paste0('    {\n      "op": ', json_quote(ops), ',\n      "name": ',
                      json_quote(vapply(nodes, function(nd) nd$name, "")), attrs_text,
                      ',\n      "inputs": ', inputs_text, "\n    }")
  heads <- entry_text(match(vapply(sym_heads(x), function(h) format_id(h$id), ""), ids))
  int_list <- function(v) paste0("[", paste(v, collapse = ", "), "]")
  paste0('{\n  "nodes": [\n', paste(node_text, collapse = ",\n"), "\n  ],\n",
         '  "arg_nodes": ', int_list(which(ops == "null") - 1L), ",\n",
         '  "node_row_ptr": ', int_list(0:n), ",\n",
         '  "heads": [', paste(heads, collapse = ", "), "],\n",
         '  "attrs": {"mxnet_version": ["int", ', .mxnet_version, "]}\n}")
}

# Strings as JSON string literals (UTF-8; quotes, backslashes and control characters
# escaped).
json_quote <- function(x) {
  x <- enc2utf8(as.character(x))
  x <- gsub("\\", "\\\\", x, fixed = TRUE)
  x <- gsub("\"", "\\\"", x, fixed = TRUE)
  if (any(grepl("[\001-\037\177]", x, useBytes = TRUE))) {
    for (code in c(1:31, 127L)) {
      ch <- rawToChar(as.raw(code))
      rep <- switch(as.character(code), "8" = "\\b", "9" = "\\t", "10" = "\\n", "12" = "\\f",
                    "13" = "\\r", sprintf("\\u%04x", code))
      x <- gsub(ch, rep, x, fixed = TRUE, useBytes = TRUE)
    }
    Encoding(x) <- "UTF-8"
  }
  paste0("\"", x, "\"")
}

# ---- Files ----------------------------------------------------------------------------

max_json_bytes <- function() {
  v <- getOption("deconv.max.json.bytes", 64 * 1024^2)
  if (!is.numeric(v) || length(v) != 1 || is.na(v) || v < 1) 64 * 1024^2 else v
}

check_path_string <- function(path, arg, call) {
  if (inherits(path, "connection")) {
    deconv_abort(arg, paste0("expected a file path (a single string), got a connection; ",
                             "read it yourself and give the text to mx.symbol.load.json()"),
                 call = call)
  }
  if (!is.character(path) || length(path) != 1 || is.na(path) || !nzchar(path)) {
    deconv_abort(arg, paste0("expected a file path (a single non-empty string), got ",
                             describe_value(path)), call = call)
  }
  path.expand(path)
}

# Whether path is a regular file (after links). Base R cannot tell: file_test("-f")
# only says "not a directory", which a FIFO (whose opening blocks) or a device passes.
# So test(1) is asked; where it cannot run, file_test() is the fallback.
is_regular_file <- function(path) {
  if (.Platform$OS.type == "unix") {
    status <- suppressWarnings(system2("test", c("-f", shQuote(path)), stdout = FALSE, stderr = FALSE))
    if (status %in% c(0L, 1L)) return(status == 0L)
  }
  isTRUE(utils::file_test("-f", path))
}

# A path to read: an existing regular file (checked before opening it, so a FIFO cannot
# block and a device cannot stream forever) of at most max_json_bytes().
check_in_path <- function(path, arg, call) {
  path <- check_path_string(path, arg, call)
  what <- describe_value(path)
  if (!file.exists(path)) deconv_abort(arg, paste0("no such file: ", what), call = call)
  if (dir.exists(path)) deconv_abort(arg, paste0(what, " is a directory, not a JSON file"), call = call)
  if (!is_regular_file(path)) {
    deconv_abort(arg, paste0(what, " is not a regular file (a FIFO, device or socket?)"), call = call)
  }
  size <- file.info(path, extra_cols = FALSE)$size
  if (is.na(size)) deconv_abort(arg, paste0("cannot read the size of ", what), call = call)
  if (size > max_json_bytes()) {
    deconv_abort(arg, sprintf("%s has %s bytes, more than the %s allowed (option deconv.max.json.bytes)",
                              what, format(size, big.mark = ","),
                              format(max_json_bytes(), big.mark = ",")), call = call)
  }
  structure(path, size = size)
}

# The file's text, read with a bounded read: a file that grew since it was checked is
# refused rather than read on.
read_text_file <- function(path, arg, call) {
  size <- attr(path, "size")
  fail <- function(e) {
    deconv_abort(arg, paste0("cannot read ", describe_value(as.vector(path)), ": ",
                             conditionMessage(e)), call = call)
  }
  con <- tryCatch(file(path, open = "rb"), error = fail, warning = fail)
  on.exit(close(con))
  bytes <- tryCatch(readBin(con, "raw", n = size + 1), error = fail, warning = fail)
  if (length(bytes) > size) {
    deconv_abort(arg, paste0(describe_value(as.vector(path)), " grew while it was read; try again"),
                 call = call)
  }
  if (any(bytes == as.raw(0))) {
    deconv_abort("json", "the file holds NUL bytes: not JSON text", call = call)
  }
  text <- rawToChar(bytes)
  Encoding(text) <- "UTF-8"
  text
}

# A path to write: a new file in an existing directory, or an existing regular file.
check_out_path <- function(path, arg, call) {
  path <- check_path_string(path, arg, call)
  what <- describe_value(path)
  if (dir.exists(path)) deconv_abort(arg, paste0(what, " is a directory"), call = call)
  if (file.exists(path) && !is_regular_file(path)) {
    deconv_abort(arg, paste0(what, " exists and is not a regular file (a FIFO, device or socket?)"),
                 call = call)
  }
  if (!dir.exists(dirname(path))) {
    deconv_abort(arg, paste0("the directory of ", what, " does not exist"), call = call)
  }
  path
}

# Writes the text; any failure (opening, writing, closing) is an error naming `arg`.
write_text_file <- function(text, path, arg, call) {
  fail <- function(e) {
    deconv_abort(arg, paste0("cannot write ", describe_value(path), ": ", conditionMessage(e)),
                 call = call)
  }
  con <- tryCatch(file(path, open = "wb"), error = fail, warning = fail)
  closed <- FALSE
  on.exit(if (!closed) try(close(con), silent = TRUE))
  tryCatch({
    writeBin(charToRaw(enc2utf8(text)), con)
    closed <- TRUE
    close(con)
  }, error = fail, warning = fail)
  invisible(path)
}

# ---- Reading JSON text ----------------------------------------------------------------

.max_json_depth <- 64L

symbol_from_json <- function(text, call) {
  text <- check_json_text(text, call)
  doc <- parse_json_text(text, call)
  build_symbol(check_json_doc(doc, call), call)
}

json_error <- function(detail, call) deconv_abort("json", detail, call = call)

# UTF-8 text that starts with "{" (so a path or URL is never taken for JSON), without
# NUL escapes or unpaired surrogates (jsonlite would cut or replace them), comments or
# deep nesting (which MXNet's files never have).
check_json_text <- function(text, call) {
  if (Encoding(text) == "latin1") text <- enc2utf8(text)
  if (!validUTF8(text)) json_error("the text is not valid UTF-8", call)
  Encoding(text) <- "UTF-8"
  if (!grepl("^[ \t\r\n]*\\{", text, useBytes = TRUE)) {
    json_error(paste0("expected JSON text starting with '{' (an MXNet symbol file's content), got ",
                      describe_value(text), "; to read a file use mx.symbol.load()"), call)
  }
  strings <- scan_json_text(charToRaw(text), call)
  protect_percent(text, strings, call)
}

# jsonlite (1.8.4) passes its parse error messages, which quote the text, to C's printf
# as the format: a "%n" in the text crashes R. A "%" is valid only inside a string,
# where the escape \u0025 means the same, so it is given to jsonlite that way.
protect_percent <- function(text, strings, call) {
  if (!grepl("%", text, fixed = TRUE, useBytes = TRUE)) return(text)
  pct <- as.integer(gregexpr("%", text, fixed = TRUE, useBytes = TRUE)[[1]])
  inside <- findInterval(pct, strings$quotes) %% 2L == 1L
  if (!all(inside)) json_error("not valid JSON: a '%' outside a string", call)
  if (any(pct %in% strings$escaped)) json_error("not valid JSON: the invalid escape '\\%'", call)
  text <- gsub("%", "\\u0025", text, fixed = TRUE, useBytes = TRUE)
  Encoding(text) <- "UTF-8"
  text
}

scan_json_text <- function(b, call) {
  # Positions of the bytes that matter (found by regex: a comparison per byte would
  # allocate several times the text's size).
  special <- gregexpr('["\\\\{}/[]|\\]', rawToChar(b), perl = TRUE, useBytes = TRUE)[[1]]
  special <- if (special[1] < 0) integer(0) else as.integer(special)
  ch <- as.integer(b[special])
  # A backslash escapes the next byte unless it is itself escaped: in a run of
  # backslashes, those at even offsets from the run's start escape.
  bs <- special[ch == 0x5c]
  escaped <- integer(0)
  if (length(bs)) {
    starts <- c(TRUE, diff(bs) != 1L)
    run_start <- cummax(ifelse(starts, bs, 0L))
    escaped <- bs[(bs - run_start) %% 2L == 0L] + 1L
  }
  quotes <- special[ch == 0x22]
  quotes <- quotes[!quotes %in% escaped]
  other <- ch != 0x22 & ch != 0x5c
  tok <- special[other]
  tok_ch <- ch[other]
  outside <- findInterval(tok, quotes) %% 2L == 0L
  if (any(outside & tok_ch == 0x2f)) json_error("comments are not allowed in symbol JSON", call)
  step <- ifelse(tok_ch == 0x5b | tok_ch == 0x7b, 1L, -1L)[outside]
  if (length(step) && max(cumsum(step)) > .max_json_depth) {
    json_error(sprintf("nested deeper than %d levels: not an MXNet symbol file", .max_json_depth), call)
  }
  check_unicode_escapes(b, escaped[escaped <= length(b) & b[pmin(escaped, length(b))] == as.raw(0x75)],
                        call)
  list(quotes = quotes, escaped = escaped)
}

# \uXXXX escapes (positions of their "u"): no NUL, surrogates only in pairs.
check_unicode_escapes <- function(b, u, call) {
  u <- u[u + 4L <= length(b)]
  if (!length(u)) return(invisible())
  hex <- vapply(u, function(i) rawToChar(b[(i + 1L):(i + 4L)]), "")
  code <- strtoi(hex, 16L)
  if (any(code %in% 0L)) json_error("a string holds a NUL character (\\u0000)", call)
  high <- !is.na(code) & code >= 0xD800 & code <= 0xDBFF
  low <- !is.na(code) & code >= 0xDC00 & code <= 0xDFFF
  paired_low <- u[high] + 6L          # where the low half of each pair must be
  if (!all(paired_low %in% u[low]) || !all(u[low] %in% paired_low)) {
    json_error("a string holds an unpaired UTF-16 surrogate escape", call)
  }
}

parse_json_text <- function(text, call) {
  fail <- function(e) {
    msg <- strsplit(conditionMessage(e), "\n", fixed = TRUE)[[1]][1]
    json_error(paste0("not valid JSON: ", short_text(trimws(msg %||% ""), 80L)), call)
  }
  tryCatch(jsonlite::parse_json(text, simplifyVector = FALSE), error = fail, warning = fail)
}

# ---- The document ---------------------------------------------------------------------

is_json_object <- function(x) is.list(x) && (!length(x) || !is.null(names(x)))
is_json_array <- function(x) is.list(x) && is.null(names(x))
json_string <- function(x) is.character(x) && length(x) == 1 && !is.na(x)
json_whole <- function(x) is.numeric(x) && length(x) == 1 && is.finite(x) && x == floor(x)

check_unique_keys <- function(x, where, call) {
  nm <- names(x)
  if (!all(nzchar(nm))) json_error(paste0(where, " has an empty key"), call)
  twice <- nm[duplicated(nm)]
  if (length(twice)) json_error(sprintf("%s has the key %s twice", where, describe_value(twice[1])), call)
}

# The top level: nodes, heads, and (optional) arg_nodes, node_row_ptr, attrs, with the
# right types. Returns the document.
check_json_doc <- function(doc, call) {
  if (!is_json_object(doc) || !length(doc)) json_error("not an MXNet symbol file: no \"nodes\" list", call)
  check_unique_keys(doc, "the top-level object", call)
  nodes <- doc[["nodes"]]
  if (!is_json_array(nodes) || !length(nodes)) {
    json_error("not an MXNet symbol file: no \"nodes\" list", call)
  }
  heads <- doc[["heads"]]
  if (!is_json_array(heads) || !length(heads)) {
    json_error("not an MXNet symbol file: no \"heads\" list", call)
  }
  n <- length(nodes)
  for (key in c("arg_nodes", "node_row_ptr")) {
    v <- doc[[key]]
    if (is.null(v)) next
    limit <- if (key == "arg_nodes") n - 1 else n
    if (!is_json_array(v) || !all(vapply(v, function(i) json_whole(i) && i >= 0 && i <= limit, TRUE))) {
      json_error(sprintf("\"%s\" must be a list of node numbers from 0 to %d", key, limit), call)
    }
  }
  if (!is.null(doc[["attrs"]]) && !is_json_object(doc[["attrs"]])) {
    json_error("the top-level \"attrs\" must be an object", call)
  }
  doc
}

# An input or head entry [node, output, version]: node < `before`, output 0.
json_entry <- function(e, before, what, call) {
  if (!is_json_array(e) || !length(e) %in% 2:3 || !all(vapply(e, json_whole, TRUE))) {
    json_error(sprintf("%s must be [node, output, version] (2 or 3 whole numbers), got %s", what,
                       describe_entry(e)), call)
  }
  v <- vapply(e, as.numeric, 0)
  if (v[1] < 0 || v[1] >= before) {
    json_error(sprintf("%s refers to node %s, which is not an earlier node (nodes 0 to %d)", what,
                       describe_value(v[1]), before - 1), call)
  }
  if (v[2] != 0) {
    json_error(sprintf("%s uses output %s of node %d; these nodes have one output", what,
                       describe_value(v[2]), v[1]), call)
  }
  if (length(v) == 3 && (v[3] < 0 || v[3] > .Machine$integer.max)) {
    json_error(sprintf("%s has version %s, not a count", what, describe_value(v[3])), call)
  }
  as.integer(v[1]) + 1L
}

describe_entry <- function(e) {
  if (is_json_array(e) && length(e) <= 4 &&
      all(vapply(e, function(x) is.atomic(x) && length(x) == 1, TRUE))) {
    paste0("[", paste(vapply(e, describe_value, ""), collapse = ", "), "]")
  } else {
    describe_value(e)
  }
}

# A node's attributes: "attrs" (MXNet 1.x), or "param" and "attr" (older files), each an
# object of strings, no key given twice.
json_node_attrs <- function(j, where, call) {
  attrs <- list()
  for (key in c("attrs", "param", "attr")) {
    a <- j[[key]]
    if (is.null(a)) next
    if (!is_json_object(a)) json_error(sprintf("%s: \"%s\" must be an object of strings", where, key), call)
    if (!length(a)) next
    check_unique_keys(a, sprintf("%s's \"%s\"", where, key), call)
    ok <- vapply(a, json_string, TRUE)
    if (!all(ok)) {
      json_error(sprintf("%s: attribute %s must be a string, got %s", where,
                         describe_value(names(a)[!ok][1]), describe_value(a[!ok][[1]])), call)
    }
    again <- intersect(names(a), names(attrs))
    if (length(again)) json_error(sprintf("%s gives attribute %s twice", where, describe_value(again[1])), call)
    attrs <- c(attrs, a)
  }
  attrs
}

build_symbol <- function(doc, call) {
  jnodes <- doc[["nodes"]]
  built <- new.env(parent = emptyenv(), hash = TRUE)   # "1", "2", ... (see graph_nodes())
  memo <- new.env(parent = emptyenv())   # attrs -> normalized params, for repeated layers
  for (i in seq_along(jnodes)) {
    j <- jnodes[[i]]
    where <- sprintf("node %d", i - 1L)
    if (!is_json_object(j) || !length(j)) json_error(paste0(where, " is not an object with op, name and inputs"), call)
    check_unique_keys(j, where, call)
    op <- j[["op"]]
    name <- j[["name"]]
    if (!json_string(op)) json_error(sprintf("%s: \"op\" must be a string, got %s", where, describe_value(op)), call)
    if (!json_string(name) || !nzchar(name)) {
      json_error(sprintf("%s: \"name\" must be a non-empty string, got %s", where, describe_value(name)), call)
    }
    where <- sprintf("node %d (%s)", i - 1L, describe_value(name))
    attrs <- json_node_attrs(j, where, call)
    jin <- j[["inputs"]]
    if (!is_json_array(jin)) json_error(sprintf("%s: \"inputs\" must be a list, got %s", where, describe_value(jin)), call)
    inputs <- lapply(seq_along(jin), function(k) {
      built[[as.character(json_entry(jin[[k]], i - 1L, sprintf("input %d of %s", k - 1L, where), call))]]
    })
    node <- if (op == "null") {
      if (length(inputs)) json_error(sprintf("%s is a variable (op \"null\") but has inputs", where), call)
      new_node("null", name, attrs)
    } else if (op == "Deconvolution") {
      deconv_node_from_json(name, attrs, inputs, memo, call)
    } else {
      deconv_abort(short_text(op), sprintf(paste0("operator not implemented (node '%s'); deconv runs graphs of ",
                                                  "variables and Deconvolution nodes only"), short_text(name)),
                   class = "deconv_unsupported_error", call = call)
    }
    assign(as.character(i), node, envir = built)
  }
  heads <- lapply(seq_along(doc[["heads"]]), function(k) {
    built[[as.character(json_entry(doc[["heads"]][[k]], length(jnodes), sprintf("head %d", k - 1L),
                                   call))]]
  })
  new_symbol(heads)
}

deconv_node_from_json <- function(name, attrs, inputs, memo, call) {
  # Lengths make the key unambiguous whatever the strings hold.
  k <- names(attrs)
  v <- unlist(attrs, use.names = FALSE)
  key <- paste0(nchar(k, "bytes"), ":", k, nchar(v, "bytes"), ":", v, collapse = "")
  norm <- memo[[key]]
  if (is.null(norm)) {
    # The core reads MXNet's strings strictly (src/core/mxnet_attrs.h) and normalizes.
    norm <- with_node(cpp_params_from_attrs(as.character(k), as.character(v), call = call),
                      name, call)
    memo[[key]] <- norm
  }
  want <- if (norm$no_bias) 2 else 3
  if (length(inputs) != want) {
    deconv_abort("inputs", sprintf("expected %d inputs (data, weight%s), got %d (Deconvolution node '%s')",
                                   want, if (want == 3) ", bias" else "", length(inputs), short_text(name)),
                 call = call)
  }
  new_node("Deconvolution", name, attrs, norm, inputs)
}
