// Implementation of the R <-> core conversions.
#include "convert.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/param_schema.h"
#include "core/run_options.h"
#include "r_boundary.h"

namespace deconv {
namespace r {

std::string r_arg_name(const std::string& arg) {
  std::string s = arg;
  for (char& c : s)
    if (c == '_') c = '.';
  return s;
}

std::string number_text(double v) {
  char buf[64];
  if (std::isnan(v)) return "NA";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string bytes_text(double bytes) {
  static const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

namespace {

[[noreturn]] void bad(const char* arg, const std::string& detail) {
  throw ParamError(arg, detail);
}

}  // namespace

std::string describe(SEXP x) {
  if (Rf_isNull(x)) return "NULL";
  if (Rf_isFactor(x)) return "a factor";
  if (OBJECT(x)) {
    SEXP cls = Rf_getAttrib(x, R_ClassSymbol);
    if (TYPEOF(cls) == STRSXP && Rf_xlength(cls) > 0)
      return std::string("an object of class \"") + CHAR(STRING_ELT(cls, 0)) + "\"";
  }
  const R_xlen_t n = Rf_xlength(x);
  if (n == 1) {
    switch (TYPEOF(x)) {
      case LGLSXP: {
        const int v = LOGICAL(x)[0];
        return v == NA_LOGICAL ? "NA" : v ? "TRUE" : "FALSE";
      }
      case INTSXP:
        return INTEGER(x)[0] == NA_INTEGER ? "NA" : number_text(INTEGER(x)[0]);
      case REALSXP:
        return number_text(REAL(x)[0]);
      case STRSXP: {
        if (STRING_ELT(x, 0) == NA_STRING) return "NA";
        std::string s = CHAR(STRING_ELT(x, 0));
        if (s.size() > 40) s = s.substr(0, 40) + "...";
        return "\"" + s + "\"";
      }
      default:
        break;
    }
  }
  return std::string("a ") + Rf_type2char(TYPEOF(x)) + " of length " + number_text(static_cast<double>(n));
}

namespace {

// Refuses classed objects: a factor's codes, a Date's day count or an integer64's bits
// are not the numbers the user meant.
void check_plain(SEXP x, const char* arg, const char* expected) {
  if (OBJECT(x)) bad(arg, std::string("expected ") + expected + ", got " + describe(x));
}

int64_t checked_integer(double v, const char* arg) {
  if (std::isnan(v)) bad(arg, "expected integer values, got NA");
  if (!std::isfinite(v)) bad(arg, "expected finite integer values, got " + number_text(v));
  if (std::fabs(v) > 9.0e15) bad(arg, "expected integer values of a sensible size, got " + number_text(v));
  if (v != std::floor(v)) bad(arg, "expected integer values, got " + number_text(v));
  return static_cast<int64_t>(v);
}

}  // namespace

Tuple tuple_from_r(SEXP x, const char* arg) {
  Tuple t;
  if (Rf_isNull(x)) return t;
  check_plain(x, arg, "a numeric vector");
  const R_xlen_t n = Rf_xlength(x);
  if (n > 64) bad(arg, "expected a short numeric vector, got " + number_text(static_cast<double>(n)) + " values");
  if (TYPEOF(x) == INTSXP) {
    const int* p = INTEGER(x);
    for (R_xlen_t i = n; i-- > 0;) {
      if (p[i] == NA_INTEGER) bad(arg, "expected integer values, got NA");
      t.push_back(p[i]);
    }
  } else if (TYPEOF(x) == REALSXP) {
    const double* p = REAL(x);
    for (R_xlen_t i = n; i-- > 0;) t.push_back(checked_integer(p[i], arg));
  } else if (TYPEOF(x) == LGLSXP && n > 0 && LOGICAL(x)[0] == NA_LOGICAL) {
    bad(arg, "expected integer values, got NA");
  } else {
    bad(arg, std::string("expected a numeric vector, got ") + describe(x));
  }
  return t;
}

int64_t int_from_r(SEXP x, const char* arg, int64_t fallback) {
  if (Rf_isNull(x)) return fallback;
  check_plain(x, arg, "a single integer");
  if (Rf_xlength(x) != 1)
    bad(arg, "expected a single integer, got " + number_text(static_cast<double>(Rf_xlength(x))) + " values");
  return tuple_from_r(x, arg)[0];
}

bool bool_from_r(SEXP x, const char* arg, bool fallback) {
  if (Rf_isNull(x)) return fallback;
  check_plain(x, arg, "TRUE or FALSE");
  if (Rf_xlength(x) != 1)
    bad(arg, "expected TRUE or FALSE, got " + number_text(static_cast<double>(Rf_xlength(x))) + " values");
  if (TYPEOF(x) == LGLSXP) {
    const int v = LOGICAL(x)[0];
    if (v == NA_LOGICAL) bad(arg, "expected TRUE or FALSE, got NA");
    return v != 0;
  }
  if (TYPEOF(x) == INTSXP || TYPEOF(x) == REALSXP) {
    const double v = TYPEOF(x) == INTSXP ? INTEGER(x)[0] : REAL(x)[0];
    if (v == 0 || v == 1) return v == 1;
  }
  bad(arg, "expected TRUE or FALSE, got " + describe(x));
}

std::string string_from_r(SEXP x, const char* arg) {
  if (Rf_isNull(x)) return "";
  if (TYPEOF(x) != STRSXP || Rf_xlength(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
    bad(arg, "expected a single string or NULL, got " + describe(x));
  if (!*CHAR(STRING_ELT(x, 0))) bad(arg, "expected a non-empty string or NULL, got \"\"");
  return CHAR(STRING_ELT(x, 0));
}

bool is_float32(SEXP dtype) {
  if (TYPEOF(dtype) == STRSXP && Rf_xlength(dtype) == 1 && STRING_ELT(dtype, 0) != NA_STRING) {
    const char* s = CHAR(STRING_ELT(dtype, 0));
    if (!std::strcmp(s, "float32")) return true;
    if (!std::strcmp(s, "float64")) return false;
  }
  bad("dtype", "expected \"float64\" or \"float32\", got " + describe(dtype));
}

bool thread_value(SEXP x, double* v) {
  if (Rf_isNull(x) || OBJECT(x) || Rf_xlength(x) != 1 || (TYPEOF(x) != INTSXP && TYPEOF(x) != REALSXP))
    return false;
  *v = TYPEOF(x) == INTSXP ? (INTEGER(x)[0] == NA_INTEGER ? NAN : INTEGER(x)[0]) : REAL(x)[0];
  return true;
}

bool valid_thread_count(double v) { return v >= 0 && v <= thread_limit() && v == std::floor(v); }

int threads_from_r(SEXP x, const char* arg) {
  const std::string expected = "expected a whole number of threads from 0 (OpenMP's default) to " +
                               std::to_string(thread_limit());
  double v;
  if (!thread_value(x, &v)) bad(arg, expected + ", got " + describe(x));
  if (!valid_thread_count(v)) bad(arg, expected + ", got " + number_text(v));
  return static_cast<int>(v);
}

Context context_from_r(SEXP device, SEXP device_id) {
  const std::string d = string_from_r(device, "ctx");
  Context c;
  if (d == "gpu") {
    c.device = Device::GPU;
  } else if (d != "cpu") {
    bad("ctx", "expected device \"cpu\" or \"gpu\", got " + describe(device));
  }
  c.device_id = device_id_from_r(device_id);
  return c;
}

int device_id_from_r(SEXP device_id) {
  const int64_t id = int_from_r(device_id, "ctx", 0);
  if (id < 0 || id > INT_MAX) bad("ctx", "expected a device number from 0, got " + number_text(static_cast<double>(id)));
  return static_cast<int>(id);
}

DeconvParams params_from_r(SEXP list) {
  const std::vector<ParamSpec>& schema = param_schema();
  if (TYPEOF(list) != VECSXP) bad("params", "expected a list of Deconvolution parameters, got " + describe(list));
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  const R_xlen_t n = Rf_xlength(list);
  if (n && TYPEOF(names) != STRSXP) bad("params", "expected a named list of Deconvolution parameters");
  std::vector<SEXP> values(schema.size(), R_NilValue);
  std::vector<bool> seen(schema.size(), false);
  for (R_xlen_t i = 0; i < n; ++i) {
    const char* name = STRING_ELT(names, i) == NA_STRING ? "" : CHAR(STRING_ELT(names, i));
    // R lists the parameters in schema order: look there first (this runs per call).
    size_t k = static_cast<size_t>(i) < schema.size() && schema[i].name == name ? i : 0;
    while (k < schema.size() && schema[k].name != name) ++k;
    if (k == schema.size()) bad(*name ? name : "params", "not a parameter of Deconvolution");
    if (seen[k]) bad(name, "given twice");
    seen[k] = true;
    values[k] = VECTOR_ELT(list, i);
  }
  return params_from_values(values.data());
}

DeconvParams params_from_values(const SEXP* values) {
  const std::vector<ParamSpec>& schema = param_schema();
  const DeconvParams defaults;
  DeconvParams p;
  for (size_t k = 0; k < schema.size(); ++k) {
    const ParamSpec& spec = schema[k];
    const char* arg = spec.name.c_str();
    SEXP x = values[k];
    switch (spec.kind) {
      case ParamKind::Tuple:
        p.*spec.tuple = tuple_from_r(x, arg);
        break;
      case ParamKind::Integer:
        if (spec.required && Rf_isNull(x)) bad(arg, "required: " + spec.meaning);
        p.*spec.integer = int_from_r(x, arg, defaults.*spec.integer);
        break;
      case ParamKind::Bool:
        p.*spec.flag = bool_from_r(x, arg, defaults.*spec.flag);
        break;
      case ParamKind::Enum:
        set_enum(spec, p, string_from_r(x, arg));  // R's NULL reads as "", not set
        break;
    }
  }
  return p;
}

void check_double_array(SEXP x, const char* arg) {
  if (TYPEOF(x) != REALSXP) bad(arg, "expected a numeric array, got " + describe(x));
}

Shape shape_of(SEXP x) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  Shape s;
  if (TYPEOF(dim) != INTSXP) {
    s.push_back(Rf_xlength(x));
  } else {
    const int* d = INTEGER(dim);
    for (R_xlen_t i = Rf_xlength(dim); i-- > 0;) s.push_back(d[i]);
  }
  return s;
}

void check_r_dims(const Shape& shape, const char* arg) {
  for (int64_t v : shape)
    if (v > INT_MAX)
      throw ShapeError(arg, "a dimension of " + std::to_string(v) +
                                " exceeds R's limit for array dimensions (2^31 - 1)");
}

SEXP r_dim(const Shape& shape, const char* arg) {
  check_r_dims(shape, arg);
  SEXP d = new_vector(INTSXP, static_cast<R_xlen_t>(shape.size()), arg);
  for (size_t i = 0; i < shape.size(); ++i) INTEGER(d)[i] = static_cast<int>(shape[shape.size() - 1 - i]);
  return d;
}

SEXP new_array(const Shape& shape, const char* arg, bool as_vector) {
  check_r_dims(shape, arg);
  int64_t n = 1;
  for (int64_t d : shape) n = checked_mul(n, d, arg);
  SEXP dim = as_vector ? R_NilValue : r_dim(shape, arg);
  SEXP v = new_vector(REALSXP, static_cast<R_xlen_t>(n), arg);
  if (!as_vector) set_attr(v, R_DimSymbol, dim);
  return v;
}

std::string r_dim_string(const Shape& s) {
  std::string out = "c(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[s.size() - 1 - i]);
  return out + ")";
}

void check_weight_dims(const Geometry& g, const Shape& got, bool has_dim) {
  if (got == g.weight_shape && has_dim) return;
  const std::string names = g.channels_last ? "num.filter/num.group, kernel, channels"
                                            : "kernel, num.filter/num.group, channels";
  const std::string got_s = !has_dim ? "a vector without dim of length " + std::to_string(got.at(0))
                                     : "dim = " + r_dim_string(got);
  throw ShapeError("weight", "expected an array with dim = " + r_dim_string(g.weight_shape) +
                                 " (" + names + ", in R order for layout " +
                                 layout_name(g.layout) + "), got " + got_s);
}

void check_bias_dims(const Geometry& g, const Shape& got) {
  if (got == g.bias_shape) return;
  auto values = [](int64_t n) { return std::to_string(n) + (n == 1 ? " value" : " values"); };
  throw ShapeError("bias", "expected " + values(g.num_filter) +
                               " (one per filter, num.filter), got " +
                               (got.size() == 1 ? values(got[0])
                                                : "an array with dim = " + r_dim_string(got)));
}

void broadcast_tuples(DeconvParams& p, size_t rank, const std::string& why) {
  if (rank < 1 || rank > 3) return;  // the core reports a kernel of no or too many values
  const std::string n = std::to_string(rank);
  for (const ParamSpec& spec : param_schema()) {
    if (spec.kind != ParamKind::Tuple) continue;
    const char* arg = spec.name.c_str();
    Tuple* t = &(p.*spec.tuple);
    if (t->size() == 1) {
      t->assign(rank, t->front());
    } else if (!t->empty() && t->size() != rank) {
      bad(arg, (rank == 1 ? "expected 1 value (" + why + ")"
                          : "expected 1 or " + n + " values (one for all spatial dimensions or one each; " + why + ")") +
                   ", got " + std::to_string(t->size()));
    }
  }
}

DeconvParams symbol_params(DeconvParams p) {
  const size_t rank = p.kernel.size();
  broadcast_tuples(p, rank, "kernel has " + std::to_string(rank) + (rank == 1 ? " value" : " values"));
  return p;
}

Geometry eager_geometry(DeconvParams p, const Shape& data) {
  if (p.kernel.size() != 1) {
    p = symbol_params(p);
  } else if (p.layout != Layout::None) {
    // An explicit layout says the rank (a symbol's normalized 1D parameters carry NCW).
    broadcast_tuples(p, layout_rank(p.layout), "layout " + layout_name(p.layout) + " is " +
                                                   std::to_string(layout_rank(p.layout)) + "D");
  } else if (data.size() >= 3) {
    broadcast_tuples(p, data.size() - 2, "the data is " + std::to_string(data.size() - 2) + "D");
  }
  return infer_geometry(p, data);
}

Geometry checked_geometry(const DeconvParams& p, const Shape& data, const Shape& weight,
                          bool weight_has_dim, bool has_bias, const Shape& bias) {
  Geometry g = eager_geometry(p, data);
  check_weight_dims(g, weight, weight_has_dim);
  check_bias_given(p, has_bias);
  if (!p.no_bias) check_bias_dims(g, bias);
  return g;
}

}  // namespace r
}  // namespace deconv
