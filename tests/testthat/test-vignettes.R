# The vignettes render, offline, with the installed package: every chunk runs.
test_that("the vignettes render with knitr and rmarkdown", {
  skip_on_cran()
  skip_if_not_installed("knitr")
  skip_if_not_installed("rmarkdown")
  skip_if_not(rmarkdown::pandoc_available("1.12.3"), "pandoc is not available")
  # Installed packages have no vignettes/ sources; run from the source tree only.
  dir <- testthat::test_path("..", "..", "vignettes")
  skip_if_not(dir.exists(dir), "vignette sources not found (not a source tree)")
  out <- withr::local_tempdir()
  for (v in list.files(dir, pattern = "[.]Rmd$", full.names = TRUE)) {
    # A fresh R process: the vignette loads the package under test, as R CMD build would.
    lib <- .libPaths()
    html <- callr::r(function(v, out, lib) {
      .libPaths(lib)
      rmarkdown::render(v, output_dir = out, intermediates_dir = out, quiet = TRUE,
                        envir = new.env())
    }, list(normalizePath(v), out, lib), timeout = 120)
    expect_true(file.exists(html), info = basename(v))
    text <- paste(readLines(html, warn = FALSE), collapse = "\n")
    expect_false(grepl("## Error", text, fixed = TRUE), info = basename(v))
    expect_match(text, "data:image/png;base64", info = basename(v))
  }
})
