// The one table of the Deconvolution parameters: one row per field of DeconvParams with
// its names (core/MXNet and R), kind, default, allowed values and the words its messages
// use. Everything that lists the parameters reads this table: the R list reader and
// writer (src/convert.cpp, src/params.cpp), MXNet's attribute strings
// (core/mxnet_attrs.cpp), the validation (core/params.cpp) and, through
// C_param_schema, the R synonyms and type lists. Defaults are DeconvParams{}'s.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/params.h"

namespace deconv {

enum class ParamKind { Tuple, Integer, Bool, Enum };

struct ParamSpec {
  std::string name;     // core and MXNet spelling: "target_shape"
  std::string r_name;   // R spelling (the formal's name): "target.shape"
  ParamKind kind;
  bool required;        // no default (kernel, num_filter)
  std::string meaning;  // for "required: <meaning>" and documentation
  // Tuple and Integer: the valid range and its words; Tuple: `fill` per dimension when
  // not given.
  int64_t min = 0, max = 0, fill = 0;
  std::string expected;  // "a positive integer"
  // Enum: MXNet's names of the values ("None", not set, is not among them).
  std::vector<std::string> allowed;
  std::string quote;  // Enum: around each allowed value in set_enum's message
  // The field in DeconvParams (one of them, by kind).
  Tuple DeconvParams::*tuple = nullptr;
  int64_t DeconvParams::*integer = nullptr;
  bool DeconvParams::*flag = nullptr;
  std::string (*get_name)(const DeconvParams&) = nullptr;  // Enum: "None" when not set
  // Enum: sets the value named (allowed, "None" or ""); false for any other name.
  bool (*set_name)(DeconvParams&, const std::string&) = nullptr;
};

// The rows, in the order of the R formals and of the DeconvParams fields.
const std::vector<ParamSpec>& param_schema();

// The row of a parameter by core name, or nullptr.
const ParamSpec* find_param(const std::string& name);

// Sets the Enum `spec` of `p` by name (allowed, "None" or "" for not set); else throws
// ParamError listing the allowed values, as the R functions word it ("(or NULL)").
void set_enum(const ParamSpec& spec, DeconvParams& p, const std::string& name);

// "ParamKind::Tuple" -> "tuple", "integer", "bool", "enum".
const char* kind_name(ParamKind kind);

// The values of `spec.allowed` joined by ", ", each between `quote`s.
std::string allowed_text(const ParamSpec& spec, const std::string& quote = "");

}  // namespace deconv
