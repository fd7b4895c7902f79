// .Call entries behind deconv_info() and the benchmarks' helpers: what this build
// supports, the last run's temporaries and the GEMM peak.
#include <Rinternals.h>

#include <string>

#include "convert.h"
#include "core/backend_info.h"
#include "last_run_stats.h"
#include "r_boundary.h"

using namespace deconv;

extern "C" SEXP C_deconv_info() {
  return r::entry([&]() -> SEXP {
    const BackendInfo b = backend_info();
    SEXP names = r::new_vector(STRSXP, static_cast<R_xlen_t>(b.devices.size()), "device_names");
    for (size_t i = 0; i < b.devices.size(); ++i) {
      const char* s = b.devices[i].c_str();
      r::call_r([&] {
        SET_STRING_ELT(names, static_cast<R_xlen_t>(i), Rf_mkChar(s));
        return R_NilValue;
      });
    }
    SEXP gemm = r::new_vector(STRSXP, 2, "gemm");
    SEXP gemm_names = r::new_vector(STRSXP, 2, "gemm");
    r::call_r([&] {
      SET_STRING_ELT(gemm, 0, Rf_mkChar(b.gemm_f64.c_str()));
      SET_STRING_ELT(gemm, 1, Rf_mkChar(b.gemm_f32.c_str()));
      SET_STRING_ELT(gemm_names, 0, Rf_mkChar("float64"));
      SET_STRING_ELT(gemm_names, 1, Rf_mkChar("float32"));
      return R_NilValue;
    });
    r::set_attr(gemm, R_NamesSymbol, gemm_names);
    return r::named_list({{"cuda", r::scalar_lgl(b.cuda)},
                          {"devices", r::scalar_int(static_cast<int>(b.devices.size()))},
                          {"device_names", names},
                          {"cuda_version", r::scalar_string_or_na(b.cuda_compiled)},
                          {"cuda_runtime", r::scalar_string_or_na(b.cuda_runtime)},
                          {"cuda_driver", r::scalar_string_or_na(b.cuda_driver)},
                          {"cudnn_version", r::scalar_string_or_na(b.cudnn_compiled)},
                          {"cudnn_runtime", r::scalar_string_or_na(b.cudnn_runtime)},
                          {"threads", r::scalar_int(b.threads)},
                          {"thread_limit", r::scalar_int(b.thread_limit)},
                          {"gemm", gemm}});
  });
}

// The most threads a call may ask for (deconv_threads() checks against it).
extern "C" SEXP C_thread_limit() {
  return r::entry([&]() -> SEXP { return r::scalar_int(thread_limit()); });
}

// What the last CPU run (forward or backward) used: peak bytes of temporaries and
// which of the kernels' paths ran (RunStats), for the benchmark and the tests.
extern "C" SEXP C_last_run_stats() {
  return r::entry([&]() -> SEXP {
    const RunStats& s = r::last_cpu_run_stats();
    return r::named_list({{"temp_bytes", r::scalar_real(static_cast<double>(s.temp_bytes))},
                          {"chunks", r::scalar_real(static_cast<double>(s.chunks))},
                          {"phase", r::scalar_lgl(s.phase)},
                          {"phase_data_grad", r::scalar_lgl(s.phase_data_grad)},
                          {"phase_weight_grad", r::scalar_lgl(s.phase_weight_grad)},
                          {"stored_once", r::scalar_lgl(s.stored_once)},
                          {"winograd", r::scalar_lgl(s.winograd)},
                          {"winograd_data_grad", r::scalar_lgl(s.winograd_data_grad)},
                          {"direct", r::scalar_lgl(s.direct)},
                          {"packed", r::scalar_lgl(s.packed)},
                          {"group_parallel", r::scalar_lgl(s.group_parallel)}});
  });
}

// Best seconds of an n x n x n GEMM through the kernels' GEMM and threading.
extern "C" SEXP C_gemm_benchmark(SEXP n, SEXP reps, SEXP threads, SEXP dtype) {
  return r::entry([&]() -> SEXP {
    const int64_t size = r::int_from_r(n, "n", 2048);
    if (size < 1 || size > 16384) throw ParamError("n", "expected one whole number in [1, 16384]");
    const int64_t r_reps = r::int_from_r(reps, "reps", 5);
    if (r_reps < 1 || r_reps > 1000) throw ParamError("reps", "expected one whole number in [1, 1000]");
    const int nt = r::threads_from_r(threads, "threads");
    const bool f32 = r::is_float32(dtype);
    const int k = static_cast<int>(r_reps);
    return r::scalar_real(f32 ? gemm_best_seconds<float>(size, k, nt)
                              : gemm_best_seconds<double>(size, k, nt));
  });
}
