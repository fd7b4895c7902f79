// Rcpp entry points behind deconvolution(), deconvolution_backward() and
// deconvolution_shape(): convert, call the core dispatch, convert back.
#include <Rcpp.h>

#include <vector>

#include "convert.h"
#include "precision.h"
#include "core/dispatch.h"
#include "core/huge_pages.h"
#include "core/cpu/gemm.h"
#include "core/cuda/deconv_cuda.h"
#include "r_errors.h"
#include "r_interrupt.h"

using namespace deconv;

namespace {

Context context_from_r(const std::string& device, int device_id) {
  Context c;
  c.device = device == "gpu" ? Device::GPU : Device::CPU;
  c.device_id = device_id;
  return c;
}

// What the last CPU run used (for benchmarks: peak temporary bytes).
RunStats last_stats;

// An input as T: R's doubles themselves, or a float copy.
template <typename T>
struct Input {
  std::unique_ptr<float[]> store;
  const T* ptr = nullptr;
  Input(SEXP x, int threads) {
    if (Rf_isNull(x)) return;
    if constexpr (std::is_same<T, double>::value) {
      ptr = REAL(x);
    } else {
      store = r::narrow(REAL(x), Rf_xlength(x), threads);
      ptr = store.get();
    }
  }
};

// Where a T result goes: the R vector's memory (floats are widened afterwards).
template <typename T>
T* output_ptr(Rcpp::NumericVector& v) {
  prefer_huge_pages(v.begin(), static_cast<size_t>(v.size()) * sizeof(double));
  return reinterpret_cast<T*>(v.begin());
}

template <typename T>
void finish_output(Rcpp::NumericVector& v, int threads) {
  if constexpr (!std::is_same<T, double>::value) r::widen_in_place(v.begin(), v.size(), threads);
}

Geometry checked_geometry(SEXP data, SEXP weight, SEXP bias, const DeconvParams& p) {
  Geometry g = infer_geometry(p, r::shape_of(data));
  r::check_weight_r(g, weight);
  check_bias_given(p, !Rf_isNull(bias));
  if (!p.no_bias) r::check_bias_r(g, bias);
  return g;
}

template <typename T>
Rcpp::NumericVector forward_as(const Geometry& g, SEXP data, SEXP weight, SEXP bias,
                               const Context& ctx, const RunOptions& opts) {
  Rcpp::NumericVector out(Rcpp::no_init(static_cast<R_xlen_t>(g.batch * g.num_filter * g.out_size())));
  out.attr("dim") = r::r_dim(g.out_shape, "data");
  Input<T> x(data, opts.threads), w(weight, opts.threads), b(bias, opts.threads);
  deconvolution_forward<T>(ctx, g, x.ptr, w.ptr, b.ptr, output_ptr<T>(out), opts, &last_stats);
  finish_output<T>(out, opts.threads);
  return out;
}

template <typename T>
Rcpp::List backward_as(const Geometry& g, SEXP out_grad, SEXP data, SEXP weight, bool want_data,
                       bool want_weight, bool want_bias, const Context& ctx,
                       const RunOptions& opts) {
  Input<T> dy(out_grad, opts.threads), x(data, opts.threads), w(weight, opts.threads);
  auto make = [](bool want, const Shape& s, bool keep_dim) {
    if (!want) return Rcpp::NumericVector(0);
    Rcpp::NumericVector v(Rcpp::no_init(static_cast<R_xlen_t>(element_count(s))));
    if (keep_dim) v.attr("dim") = r::r_dim(s, "data");
    return v;
  };
  Rcpp::NumericVector dx = make(want_data, g.data_shape, true),
                      dw = make(want_weight, g.weight_shape, true),
                      db = make(want_bias, g.bias_shape, false);
  deconvolution_backward<T>(ctx, g, dy.ptr, x.ptr, w.ptr, want_data ? output_ptr<T>(dx) : nullptr,
                            want_weight ? output_ptr<T>(dw) : nullptr,
                            want_bias ? output_ptr<T>(db) : nullptr, opts, &last_stats);
  finish_output<T>(dx, opts.threads);
  finish_output<T>(dw, opts.threads);
  finish_output<T>(db, opts.threads);
  return Rcpp::List::create(Rcpp::Named("data") = want_data ? SEXP(dx) : R_NilValue,
                            Rcpp::Named("weight") = want_weight ? SEXP(dw) : R_NilValue,
                            Rcpp::Named("bias") = want_bias ? SEXP(db) : R_NilValue);
}

}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP cpp_deconvolution(SEXP data, SEXP weight, SEXP bias, Rcpp::List params, std::string dtype,
                       std::string device, int device_id, int threads) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = checked_geometry(data, weight, bias, p);
    const Context ctx = context_from_r(device, device_id);
    const RunOptions opts = r::run_options(threads);
    if (r::is_float32(dtype)) return forward_as<float>(g, data, weight, bias, ctx, opts);
    return forward_as<double>(g, data, weight, bias, ctx, opts);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP cpp_deconvolution_backward(SEXP out_grad, SEXP data, SEXP weight, SEXP bias,
                                Rcpp::List params, std::string dtype, std::string device,
                                int device_id, int threads, bool want_data, bool want_weight) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = checked_geometry(data, weight, bias, p);
    const Shape got = r::shape_of(out_grad);
    if (got != g.out_shape) {
      throw ShapeError("out_grad", "expected an array with dim = " + r::r_dim_string(g.out_shape) +
                                       " (the output's), got dim = " + r::r_dim_string(got));
    }
    const Context ctx = context_from_r(device, device_id);
    const RunOptions opts = r::run_options(threads);
    if (r::is_float32(dtype))
      return backward_as<float>(g, out_grad, data, weight, want_data, want_weight, !p.no_bias, ctx, opts);
    return backward_as<double>(g, out_grad, data, weight, want_data, want_weight, !p.no_bias, ctx, opts);
  });
}

// [[Rcpp::export(rng = false)]]
SEXP cpp_deconvolution_shape(SEXP data_dim, Rcpp::List params) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    Shape s = r::tuple_from_r(data_dim, "data");
    const Geometry g = infer_geometry(p, s);
    Shape pad, adj;
    for (int i = 3 - g.rank; i < 3; ++i) {
      pad.push_back(g.pad[i]);
      adj.push_back(g.adj[i]);
    }
    return Rcpp::List::create(Rcpp::Named("out") = r::r_dim(g.out_shape, "data"),
                              Rcpp::Named("weight") = r::r_dim(g.weight_shape, "weight"),
                              Rcpp::Named("bias") = r::r_dim(g.bias_shape, "bias"),
                              Rcpp::Named("pad") = r::r_dim(pad, "pad"),
                              Rcpp::Named("adj") = r::r_dim(adj, "adj"));
  });
}

// [[Rcpp::export(rng = false)]]
Rcpp::List cpp_deconv_info() {
  const cuda::BuildInfo b = cuda::build_info();
  auto version = [](const std::string& v) {
    return v.empty() ? Rcpp::CharacterVector::create(NA_STRING) : Rcpp::CharacterVector::create(v);
  };
  return Rcpp::List::create(
      Rcpp::Named("cuda") = cuda::compiled_with_cuda(),
      Rcpp::Named("devices") = static_cast<int>(b.devices.size()),
      Rcpp::Named("device_names") = Rcpp::CharacterVector(b.devices.begin(), b.devices.end()),
      Rcpp::Named("cuda_version") = version(b.cuda_compiled),
      Rcpp::Named("cuda_runtime") = version(b.cuda_runtime),
      Rcpp::Named("cuda_driver") = version(b.cuda_driver),
      Rcpp::Named("cudnn_version") = version(b.cudnn_compiled),
      Rcpp::Named("cudnn_runtime") = version(b.cudnn_runtime),
      Rcpp::Named("threads") = resolve_threads(0),
      Rcpp::Named("gemm") = Rcpp::CharacterVector::create(
          Rcpp::Named("float64") = cpu::gemm_backend_name(cpu::gemm_backend<double>()),
          Rcpp::Named("float32") = cpu::gemm_backend_name(cpu::gemm_backend<float>())));
}

// Peak bytes of temporaries of the last CPU run (forward or backward).
// [[Rcpp::export(rng = false)]]
double cpp_last_temp_bytes() { return static_cast<double>(last_stats.temp_bytes); }

// Shape-independent validation (the errors a symbol raises when it is made) and the
// normalized parameters, tuples in R order with defaults filled in.
// [[Rcpp::export(rng = false)]]
SEXP cpp_deconvolution_params(Rcpp::List params) {
  return r::guarded([&]() -> SEXP {
    const DeconvParams p = normalize_params(r::params_from_r(params));
    auto tuple = [](const Tuple& t) { return r::r_dim(t, "kernel"); };
    return Rcpp::List::create(
        Rcpp::Named("kernel") = tuple(p.kernel), Rcpp::Named("stride") = tuple(p.stride),
        Rcpp::Named("dilate") = tuple(p.dilate), Rcpp::Named("pad") = tuple(p.pad),
        Rcpp::Named("adj") = tuple(p.adj), Rcpp::Named("target_shape") = tuple(p.target_shape),
        Rcpp::Named("num_filter") = static_cast<double>(p.num_filter),
        Rcpp::Named("num_group") = static_cast<double>(p.num_group),
        Rcpp::Named("workspace") = static_cast<double>(p.workspace),
        Rcpp::Named("no_bias") = p.no_bias,
        Rcpp::Named("cudnn_tune") = cudnn_tune_name(p.cudnn_tune),
        Rcpp::Named("cudnn_off") = p.cudnn_off, Rcpp::Named("layout") = layout_name(p.layout));
  });
}
