// Implementation of the R <-> core conversions.
#include "convert.h"

#include <cmath>
#include <sstream>

namespace deconv {
namespace r {

std::string r_arg_name(const std::string& arg) {
  std::string s = arg;
  for (char& c : s)
    if (c == '_') c = '.';
  return s;
}

namespace {

[[noreturn]] void bad(const char* arg, const std::string& detail) {
  throw ParamError(arg, detail);
}

int64_t checked_integer(double v, const char* arg) {
  if (std::isnan(v)) bad(arg, "expected integer values, got NA");
  if (!std::isfinite(v) || std::fabs(v) > 9.0e15) bad(arg, "expected finite integer values of a sensible size, got " + std::to_string(v));
  if (v != std::floor(v)) {
    std::ostringstream os;
    os << "expected integer values, got " << v;
    bad(arg, os.str());
  }
  return static_cast<int64_t>(v);
}

}  // namespace

bool is_float32(const std::string& dtype) {
  if (dtype == "float32") return true;
  if (dtype == "float64") return false;
  throw ParamError("dtype", "expected \"float64\" or \"float32\", got \"" + dtype + "\"");
}

Tuple tuple_from_r(SEXP x, const char* arg) {
  Tuple t;
  if (Rf_isNull(x)) return t;
  if (TYPEOF(x) == INTSXP) {
    const int* p = INTEGER(x);
    for (R_xlen_t i = Rf_xlength(x); i-- > 0;) {
      if (p[i] == NA_INTEGER) bad(arg, "expected integer values, got NA");
      t.push_back(p[i]);
    }
  } else if (TYPEOF(x) == REALSXP) {
    const double* p = REAL(x);
    for (R_xlen_t i = Rf_xlength(x); i-- > 0;) t.push_back(checked_integer(p[i], arg));
  } else if (TYPEOF(x) == LGLSXP && Rf_xlength(x) > 0 && LOGICAL(x)[0] == NA_LOGICAL) {
    bad(arg, "expected integer values, got NA");
  } else {
    bad(arg, std::string("expected a numeric vector, got ") + Rf_type2char(TYPEOF(x)));
  }
  return t;
}

int64_t int_from_r(SEXP x, const char* arg, int64_t fallback) {
  if (Rf_isNull(x)) return fallback;
  if (Rf_xlength(x) != 1) bad(arg, "expected a single integer, got " + std::to_string(Rf_xlength(x)) + " values");
  Tuple t = tuple_from_r(x, arg);
  return t[0];
}

bool bool_from_r(SEXP x, const char* arg, bool fallback) {
  if (Rf_isNull(x)) return fallback;
  if (Rf_xlength(x) != 1) bad(arg, "expected TRUE or FALSE, got " + std::to_string(Rf_xlength(x)) + " values");
  if (TYPEOF(x) == LGLSXP) {
    int v = LOGICAL(x)[0];
    if (v == NA_LOGICAL) bad(arg, "expected TRUE or FALSE, got NA");
    return v != 0;
  }
  if (TYPEOF(x) == INTSXP || TYPEOF(x) == REALSXP) {
    int64_t v = tuple_from_r(x, arg)[0];
    if (v == 0 || v == 1) return v == 1;
  }
  bad(arg, "expected TRUE or FALSE");
}

std::string string_from_r(SEXP x, const char* arg) {
  if (Rf_isNull(x)) return "";
  if (TYPEOF(x) != STRSXP || Rf_xlength(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
    bad(arg, "expected a single string or NULL");
  return CHAR(STRING_ELT(x, 0));
}

namespace {
// The list element `name`, or NULL when the list has none.
SEXP element(const Rcpp::List& l, const char* name) {
  return l.containsElementNamed(name) ? SEXP(l[name]) : R_NilValue;
}
}  // namespace

DeconvParams params_from_r(const Rcpp::List& list) {
  auto l = [&list](const char* name) { return element(list, name); };
  DeconvParams p;
  p.kernel = tuple_from_r(l("kernel"), "kernel");
  p.stride = tuple_from_r(l("stride"), "stride");
  p.dilate = tuple_from_r(l("dilate"), "dilate");
  p.pad = tuple_from_r(l("pad"), "pad");
  p.adj = tuple_from_r(l("adj"), "adj");
  p.target_shape = tuple_from_r(l("target_shape"), "target_shape");
  if (Rf_isNull(l("num_filter"))) bad("num_filter", "required: the number of output filters");
  p.num_filter = int_from_r(l("num_filter"), "num_filter", 0);
  p.num_group = int_from_r(l("num_group"), "num_group", 1);
  p.workspace = int_from_r(l("workspace"), "workspace", 512);
  p.no_bias = bool_from_r(l("no_bias"), "no_bias", true);
  p.cudnn_off = bool_from_r(l("cudnn_off"), "cudnn_off", false);
  p.cudnn_tune = parse_cudnn_tune(string_from_r(l("cudnn_tune"), "cudnn_tune"));
  p.layout = parse_layout(string_from_r(l("layout"), "layout"));
  return p;
}

Shape shape_of(SEXP x) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  Shape s;
  if (Rf_isNull(dim)) {
    s.push_back(Rf_xlength(x));
  } else {
    const int* d = INTEGER(dim);
    for (R_xlen_t i = Rf_xlength(dim); i-- > 0;) s.push_back(d[i]);
  }
  return s;
}

Rcpp::IntegerVector r_dim(const Shape& shape, const char* arg) {
  Rcpp::IntegerVector d(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t v = shape[shape.size() - 1 - i];
    if (v > INT32_MAX) throw ShapeError(arg, "a dimension of " + std::to_string(v) + " exceeds R's limit for array dimensions (2^31 - 1)");
    d[i] = static_cast<int>(v);
  }
  return d;
}

std::string r_dim_string(const Shape& s) {
  std::ostringstream os;
  os << "c(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[s.size() - 1 - i];
  os << ")";
  return os.str();
}

void check_weight_r(const Geometry& g, SEXP weight) {
  const Shape got = shape_of(weight);
  if (got == g.weight_shape && !Rf_isNull(Rf_getAttrib(weight, R_DimSymbol))) return;
  std::string names = g.channels_last ? "num.filter/num.group, kernel, channels"
                                      : "kernel, num.filter/num.group, channels";
  std::string got_s = Rf_isNull(Rf_getAttrib(weight, R_DimSymbol))
                          ? "a vector without dim of length " + std::to_string(Rf_xlength(weight))
                          : "dim = " + r_dim_string(got);
  throw ShapeError("weight", "expected an array with dim = " + r_dim_string(g.weight_shape) +
                                 " (" + names + ", in R order for layout " +
                                 layout_name(g.layout) + "), got " + got_s);
}

void check_bias_r(const Geometry& g, SEXP bias) {
  const Shape got = shape_of(bias);
  if (got == g.bias_shape) return;
  throw ShapeError("bias", "expected " + std::to_string(g.num_filter) +
                               " values (one per filter, num.filter), got " +
                               (got.size() == 1 ? std::to_string(got[0]) + " values"
                                                : "an array with dim = " + r_dim_string(got)));
}

}  // namespace r
}  // namespace deconv
