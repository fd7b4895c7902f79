# The R formals of every function taking the Deconvolution parameters agree with the
# core's parameter table (src/core/param_schema.h): the names in order, as R spells them,
# and the defaults. The formals stay written out because they are the documentation.

schema <- deconv:::cpp_param_schema()
ns <- asNamespace("deconv")

# Every function of the package that reads the parameters through collect_params().
param_functions <- Filter(function(name) {
  f <- get(name, envir = ns)
  is.function(f) && name != "collect_params" && "collect_params" %in% all.names(body(f))
}, ls(ns, all.names = TRUE))

test_that("the schema gives each parameter its R spelling and kind", {
  expect_equal(schema$r_name[1:2], c("kernel", "stride"))
  expect_equal(schema$name, gsub(".", "_", schema$r_name, fixed = TRUE))
  expect_true(all(schema$kind %in% c("tuple", "integer", "bool", "enum")))
  expect_equal(schema$name[schema$required], c("kernel", "num_filter"))
  expect_equal(schema$allowed[[which(schema$name == "layout")]],
               c("NCW", "NCHW", "NCDHW", "NHWC", "NDHWC"))
  # The R tables are built from it.
  expect_equal(unname(deconv:::.param_names), schema$name)
  expect_equal(names(deconv:::.param_names), schema$r_name)
  expect_setequal(names(deconv:::.synonyms), setdiff(schema$name, schema$r_name))
})

test_that("every function with the parameters is checked", {
  expect_true(all(c("deconvolution", "deconvolution_backward", "deconvolution_shape",
                    "mx.symbol.Deconvolution", "gpu_benchmark") %in% param_functions))
  expect_identical(deconv::mx.nd.Deconvolution, deconv::deconvolution)
})

for (fn in param_functions) {
  test_that(paste0(fn, "(): parameter formals in the schema's order with its defaults"), {
    f <- formals(get(fn, envir = ns))
    at <- match(schema$r_name, names(f))
    expect_false(anyNA(at), info = paste(schema$r_name[is.na(at)], collapse = ", "))
    expect_equal(at, seq(at[1], length.out = length(at)))  # one block, in order
    for (k in seq_along(schema$r_name)) {
      name <- schema$r_name[k]
      no_default <- identical(f[[name]], quote(expr = ))
      expect_equal(no_default, schema$required[k], info = name)
      if (!no_default) {
        expect_identical(eval(f[[name]], baseenv()), schema$default[[k]], info = name)
      }
    }
  })
}
