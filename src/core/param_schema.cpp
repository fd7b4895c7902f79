// The parameter table. A new parameter is a field of DeconvParams (with its default)
// and a row here; the R formals list it too (a test checks them against this table).
#include "core/param_schema.h"

#include "core/error.h"

namespace deconv {

namespace {

constexpr int64_t kMaxTupleValue = int64_t(1) << 31;  // beyond this no real layer exists

ParamSpec tuple_row(const char* name, const char* r_name, Tuple DeconvParams::*field,
                    int64_t min, int64_t fill, const char* expected) {
  ParamSpec s{name, r_name, ParamKind::Tuple, false, ""};
  s.min = min;
  s.max = kMaxTupleValue;
  s.fill = fill;
  s.expected = expected;
  s.tuple = field;
  return s;
}

ParamSpec integer_row(const char* name, const char* r_name, int64_t DeconvParams::*field,
                      int64_t min, int64_t max, const char* expected) {
  ParamSpec s{name, r_name, ParamKind::Integer, false, ""};
  s.min = min;
  s.max = max;
  s.expected = expected;
  s.integer = field;
  return s;
}

ParamSpec bool_row(const char* name, const char* r_name, bool DeconvParams::*field) {
  ParamSpec s{name, r_name, ParamKind::Bool, false, ""};
  s.flag = field;
  return s;
}

ParamSpec required(ParamSpec s, const char* meaning) {
  s.required = true;
  s.meaning = meaning;
  return s;
}

template <typename E, size_t N>
ParamSpec enum_row(const char* name, const char* r_name, const E (&values)[N],
                   std::string (*get)(const DeconvParams&),
                   bool (*set)(DeconvParams&, const std::string&),
                   std::string (*value_name)(E), const char* quote) {
  ParamSpec s{name, r_name, ParamKind::Enum, false, ""};
  s.quote = quote;
  for (E v : values) s.allowed.push_back(value_name(v));
  s.get_name = get;
  s.set_name = set;
  return s;
}

const CudnnTune kTunes[] = {CudnnTune::Off, CudnnTune::LimitedWorkspace, CudnnTune::Fastest};
const Layout kLayouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                           Layout::NDHWC};

// An enum field set by name: one of `values`, "None" or "" (not set).
template <typename E, size_t N>
bool set_by_name(E& field, const std::string& name, const E (&values)[N],
                 std::string (*value_name)(E)) {
  if (name.empty() || name == "None") {
    field = E::None;
    return true;
  }
  for (E v : values) {
    if (name == value_name(v)) {
      field = v;
      return true;
    }
  }
  return false;
}

std::vector<ParamSpec> make_schema() {
  return {
      required(tuple_row("kernel", "kernel", &DeconvParams::kernel, 1, 1, "a positive integer"),
               "the kernel size"),
      tuple_row("stride", "stride", &DeconvParams::stride, 1, 1, "a positive integer"),
      tuple_row("dilate", "dilate", &DeconvParams::dilate, 1, 1, "a positive integer"),
      tuple_row("pad", "pad", &DeconvParams::pad, 0, 0, "a non-negative integer"),
      tuple_row("adj", "adj", &DeconvParams::adj, 0, 0, "a non-negative integer"),
      tuple_row("target_shape", "target.shape", &DeconvParams::target_shape, 0, 0,
                "a non-negative integer"),
      required(integer_row("num_filter", "num.filter", &DeconvParams::num_filter, 1,
                           kMaxTupleValue, "a positive integer"),
               "the number of output filters"),
      integer_row("num_group", "num.group", &DeconvParams::num_group, 1, kMaxTupleValue,
                  "a positive integer"),
      integer_row("workspace", "workspace", &DeconvParams::workspace, 0, kMaxWorkspaceMb,
                  "a non-negative number of MB"),
      bool_row("no_bias", "no.bias", &DeconvParams::no_bias),
      enum_row(
          "cudnn_tune", "cudnn.tune", kTunes,
          [](const DeconvParams& p) { return cudnn_tune_name(p.cudnn_tune); },
          [](DeconvParams& p, const std::string& s) {
            return set_by_name(p.cudnn_tune, s, kTunes, cudnn_tune_name);
          },
          cudnn_tune_name, "'"),
      bool_row("cudnn_off", "cudnn.off", &DeconvParams::cudnn_off),
      enum_row(
          "layout", "layout", kLayouts,
          [](const DeconvParams& p) { return layout_name(p.layout); },
          [](DeconvParams& p, const std::string& s) {
            return set_by_name(p.layout, s, kLayouts, layout_name);
          },
          layout_name, ""),
  };
}

}  // namespace

const std::vector<ParamSpec>& param_schema() {
  static const std::vector<ParamSpec> schema = make_schema();
  return schema;
}

const ParamSpec* find_param(const std::string& name) {
  for (const ParamSpec& s : param_schema())
    if (s.name == name) return &s;
  return nullptr;
}

void set_enum(const ParamSpec& spec, DeconvParams& p, const std::string& name) {
  if (!spec.set_name(p, name))
    throw ParamError(spec.name, "expected one of " + allowed_text(spec, spec.quote) +
                                    " (or NULL), got '" + name + "'");
}

const char* kind_name(ParamKind kind) {
  switch (kind) {
    case ParamKind::Tuple: return "tuple";
    case ParamKind::Integer: return "integer";
    case ParamKind::Bool: return "bool";
    default: return "enum";
  }
}

std::string allowed_text(const ParamSpec& spec, const std::string& quote) {
  std::string out;
  for (size_t i = 0; i < spec.allowed.size(); ++i)
    out += (i ? ", " : "") + quote + spec.allowed[i] + quote;
  return out;
}

}  // namespace deconv
