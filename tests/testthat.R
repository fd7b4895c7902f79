library(testthat)
library(deconv)

test_check("deconv")
