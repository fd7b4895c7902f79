# Tables of hostile calls. Each case is an expression, the condition class it must raise
# and the argument its message must start with ("arg: ..."); every such error must also
# be a deconv_error. bad_call() records a case; expect_bad_calls() runs a table of them
# (one expectation per case) and returns how many ran, so files can report their count.
bad_call <- function(expr, class, arg) {
  list(expr = substitute(expr), class = class, arg = arg)
}

expect_bad_calls <- function(cases, env = parent.frame()) {
  for (case in cases) {
    label <- paste(deparse(case$expr, width.cutoff = 200L), collapse = " ")
    err <- tryCatch({
      eval(case$expr, env)
      NULL
    }, error = function(e) e)
    got <- if (is.null(err)) "no error" else
      sprintf("<%s> %s", paste(class(err), collapse = "/"), conditionMessage(err))
    ok <- !is.null(err) && inherits(err, case$class) && inherits(err, "deconv_error") &&
      startsWith(conditionMessage(err), paste0(case$arg, ":"))
    expect(ok, sprintf("%s\n  expected <%s> naming '%s'\n  got %s", label, case$class,
                       case$arg, got))
  }
  invisible(length(cases))
}
