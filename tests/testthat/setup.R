# Partial matching of argument names hides bugs: make it loud while testing.
withr::local_options(
  warnPartialMatchArgs = TRUE, warnPartialMatchAttr = TRUE, warnPartialMatchDollar = TRUE,
  .local_envir = teardown_env()
)
