// Registers the .Call entries (the whole R <-> C++ surface) with R. Each is defined with
// r::entry() (r_boundary.h); R reaches them only through R/core.R.
#include <R.h>
#include <R_ext/Rdynload.h>
#include <Rinternals.h>

extern "C" {
// deconvolution.cpp
SEXP C_deconvolution(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP C_deconvolution_fast(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP,
                          SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP C_deconvolution_backward(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
// shape.cpp
SEXP C_deconvolution_shape(SEXP, SEXP);
// the symbols' parameters
SEXP C_deconvolution_params(SEXP);
SEXP C_params_from_attrs(SEXP, SEXP);
SEXP C_mxnet_attrs(SEXP, SEXP);
SEXP C_param_schema();
// deconv_info.cpp
SEXP C_deconv_info();
SEXP C_last_run_stats();
SEXP C_thread_limit();
SEXP C_gemm_benchmark(SEXP, SEXP, SEXP, SEXP);
// gpu_arrays.cpp
SEXP C_gpu_put(SEXP, SEXP, SEXP);
SEXP C_gpu_get(SEXP);
SEXP C_gpu_accumulate(SEXP, SEXP);
SEXP C_gpu_deconvolution(SEXP, SEXP, SEXP, SEXP);
SEXP C_gpu_deconvolution_backward(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP C_gpu_benchmark(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP C_gpu_release();
// boundary_probe.cpp
SEXP C_boundary_probe(SEXP);
// result_memory.cpp
SEXP C_result_cache_stats();
}

namespace {

#define ENTRY(name, n) {#name, reinterpret_cast<DL_FUNC>(&name), n}
const R_CallMethodDef entries[] = {
    ENTRY(C_deconvolution, 8),
    ENTRY(C_deconvolution_fast, 18),
    ENTRY(C_deconvolution_backward, 11),
    ENTRY(C_deconvolution_shape, 2),
    ENTRY(C_deconvolution_params, 1),
    ENTRY(C_params_from_attrs, 2),
    ENTRY(C_mxnet_attrs, 2),
    ENTRY(C_param_schema, 0),
    ENTRY(C_deconv_info, 0),
    ENTRY(C_last_run_stats, 0),
    ENTRY(C_thread_limit, 0),
    ENTRY(C_gemm_benchmark, 4),
    ENTRY(C_gpu_put, 3),
    ENTRY(C_gpu_get, 1),
    ENTRY(C_gpu_accumulate, 2),
    ENTRY(C_gpu_deconvolution, 4),
    ENTRY(C_gpu_deconvolution_backward, 7),
    ENTRY(C_gpu_benchmark, 6),
    ENTRY(C_gpu_release, 0),
    ENTRY(C_boundary_probe, 1),
    ENTRY(C_result_cache_stats, 0),
    {nullptr, nullptr, 0}};
#undef ENTRY

}  // namespace

extern "C" void R_init_deconv(DllInfo* dll) {
  R_registerRoutines(dll, nullptr, entries, nullptr, nullptr);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
}
