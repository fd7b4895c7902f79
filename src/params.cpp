// .Call entries behind R/params.R and the symbols' parameters: the parameter table for
// R (C_param_schema), the shape-independent check and normalized list a symbol keeps
// (C_deconvolution_params), and MXNet's attribute strings both ways (C_params_from_attrs,
// C_mxnet_attrs). Every list of parameters here comes from core/param_schema.h.
#include <Rinternals.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "convert.h"
#include "core/mxnet_attrs.h"
#include "core/param_schema.h"
#include "r_boundary.h"

using namespace deconv;

namespace {

// A character vector of `items`, kept until the entry returns.
SEXP string_vector(const std::vector<std::string>& items, const char* arg) {
  const R_xlen_t n = static_cast<R_xlen_t>(items.size());
  SEXP out = r::new_vector(STRSXP, n, arg);
  for (R_xlen_t i = 0; i < n; ++i) {
    const char* s = items[i].c_str();
    r::call_r([&] {
      SET_STRING_ELT(out, i, Rf_mkCharCE(s, CE_UTF8));
      return R_NilValue;
    });
  }
  return out;
}

// A list of kept values named `names`.
SEXP list_of(const std::vector<SEXP>& values, const std::vector<std::string>& names) {
  const R_xlen_t n = static_cast<R_xlen_t>(values.size());
  SEXP out = r::new_vector(VECSXP, n, "result");
  for (R_xlen_t i = 0; i < n; ++i) {
    SEXP v = values[i];
    r::call_r([&] {
      SET_VECTOR_ELT(out, i, v);
      return R_NilValue;
    });
  }
  r::set_attr(out, R_NamesSymbol, string_vector(names, "result"));
  return out;
}

// The normalized parameters as the R list symbols keep (tuples in R order).
SEXP params_value(const DeconvParams& p) {
  std::vector<SEXP> values;
  std::vector<std::string> names;
  for (const ParamSpec& spec : param_schema()) {
    const char* arg = spec.name.c_str();
    SEXP v = R_NilValue;
    switch (spec.kind) {
      case ParamKind::Tuple:
        for (int64_t x : p.*spec.tuple)  // the core allows 2^31; R's integers stop one short
          if (x > INT32_MAX) throw ParamError(arg, "expected values up to 2^31 - 1, got " + std::to_string(x));
        v = r::r_dim(p.*spec.tuple, arg);
        break;
      case ParamKind::Integer: v = r::scalar_real(static_cast<double>(p.*spec.integer)); break;
      case ParamKind::Bool: v = r::scalar_lgl(p.*spec.flag); break;
      case ParamKind::Enum: v = r::scalar_string(spec.get_name(p)); break;
    }
    values.push_back(v);
    names.push_back(spec.name);
  }
  return list_of(values, names);
}

// A character vector's elements (NA, NUL-free by R's construction, refused as NA).
std::vector<std::string> strings_from_r(SEXP x, const char* arg) {
  if (TYPEOF(x) != STRSXP) throw ParamError(arg, "expected a character vector");
  std::vector<std::string> out;
  for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) {
    if (STRING_ELT(x, i) == NA_STRING) throw ParamError(arg, "expected strings, got NA");
    out.emplace_back(CHAR(STRING_ELT(x, i)));
  }
  return out;
}

// A row's default as the R formal writes it: NULL for tuples, enums and required ones.
SEXP default_value(const ParamSpec& spec) {
  const DeconvParams defaults;
  if (spec.required) return R_NilValue;
  switch (spec.kind) {
    case ParamKind::Integer: return r::scalar_real(static_cast<double>(defaults.*spec.integer));
    case ParamKind::Bool: return r::scalar_lgl(defaults.*spec.flag);
    default: return R_NilValue;
  }
}

}  // namespace

// The parameter table (core/param_schema.h) as a list of columns, one element per
// parameter: name (core/MXNet), r_name, kind ("tuple", "integer", "bool", "enum"),
// required, default (a list: the formal's default value), allowed (a list of MXNet
// names, empty but for enums).
extern "C" SEXP C_param_schema() {
  return r::entry([&]() -> SEXP {
    const std::vector<ParamSpec>& schema = param_schema();
    std::vector<std::string> name, r_name, kind;
    for (const ParamSpec& spec : schema) {
      name.push_back(spec.name);
      r_name.push_back(spec.r_name);
      kind.push_back(kind_name(spec.kind));
    }
    const R_xlen_t n = static_cast<R_xlen_t>(schema.size());
    SEXP required = r::new_vector(LGLSXP, n, "schema");
    SEXP defaults = r::new_vector(VECSXP, n, "schema");
    SEXP allowed = r::new_vector(VECSXP, n, "schema");
    for (R_xlen_t i = 0; i < n; ++i) {
      LOGICAL(required)[i] = schema[i].required;
      SEXP d = default_value(schema[i]);
      SEXP a = string_vector(schema[i].allowed, "schema");
      r::call_r([&] {
        SET_VECTOR_ELT(defaults, i, d);
        SET_VECTOR_ELT(allowed, i, a);
        return R_NilValue;
      });
    }
    return r::named_list({{"name", string_vector(name, "schema")},
                          {"r_name", string_vector(r_name, "schema")},
                          {"kind", string_vector(kind, "schema")},
                          {"required", required},
                          {"default", defaults},
                          {"allowed", allowed}});
  });
}

// Shape-independent validation (the errors a symbol raises when it is made) and the
// normalized parameters, tuples in R order with defaults filled in.
extern "C" SEXP C_deconvolution_params(SEXP params) {
  return r::entry([&]() -> SEXP { return params_value(normalize_params(r::symbol_params(r::params_from_r(params)))); });
}

// The same from MXNet's attribute strings (a symbol's JSON): keys and values.
extern "C" SEXP C_params_from_attrs(SEXP keys, SEXP values) {
  return r::entry([&]() -> SEXP {
    const std::vector<std::string> k = strings_from_r(keys, "json"), v = strings_from_r(values, "json");
    if (k.size() != v.size()) throw ParamError("json", "expected one value per attribute");
    AttrList attrs;
    for (size_t i = 0; i < k.size(); ++i) attrs.emplace_back(k[i], v[i]);
    return params_value(normalize_params(params_from_mxnet_attrs(attrs)));
  });
}

// MXNet's attribute strings of the parameters `keys` (MXNet names), a named character
// vector in that order: what a symbol writes to JSON.
extern "C" SEXP C_mxnet_attrs(SEXP params, SEXP keys) {
  return r::entry([&]() -> SEXP {
    const AttrList attrs = mxnet_attrs_from_params(r::params_from_r(params), strings_from_r(keys, "keys"));
    std::vector<std::string> names, values;
    for (const auto& kv : attrs) {
      names.push_back(kv.first);
      values.push_back(kv.second);
    }
    SEXP out = string_vector(values, "attrs");
    r::set_attr(out, R_NamesSymbol, string_vector(names, "attrs"));
    return out;
  });
}
