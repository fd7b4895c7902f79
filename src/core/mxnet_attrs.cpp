// MXNet attribute strings <-> DeconvParams. The parser is strict (one spelling of each
// thing, nothing after a value) so that a malformed symbol file fails with the key named
// rather than being half read; it accepts what MXNet itself writes and reads.
#include "core/mxnet_attrs.h"

#include <cstdint>
#include <cstdio>
#include <set>

#include "core/error.h"
#include "core/param_schema.h"

namespace deconv {

namespace {

constexpr int64_t kMaxValue = int64_t(1) << 40;  // any real layer is far below this
constexpr size_t kShown = 40;                    // bytes of offending text in a message

// Offending text for a message: about kShown characters, control and non-ASCII bytes
// as \xNN, so neither a huge number nor binary junk ends up in an error message
// verbatim. The bound is on what is printed (an escape takes four characters).
std::string shown(const std::string& s) {
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < kShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// An optionally signed run of digits at s[pos], |value| <= kMaxValue; pos moves past it.
int64_t scan_int(const std::string& key, const std::string& s, size_t& pos, const char* what) {
  const size_t start = pos;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) negative = s[pos++] == '-';
  if (pos >= s.size() || !is_digit(s[pos]))
    throw ParamError(key, std::string("expected ") + what + ", got '" + shown(s) + "'");
  int64_t v = 0;
  for (; pos < s.size() && is_digit(s[pos]); ++pos) {
    v = v * 10 + (s[pos] - '0');
    if (v > kMaxValue)
      throw ParamError(key, "integer out of range (|value| <= 2^40): '" +
                                shown(s.substr(start)) + "'");
  }
  return negative ? -v : v;
}

// MXNet's tuple syntax (dmlc::Tuple): "(a, b)" or "[a, b]", a trailing comma allowed,
// "()" empty, a bare integer for one entry, and an "L" after an entry (Python 2 wrote
// tuples of longs as "(3L, 3L)"). "None" means not given.
Tuple parse_tuple(const std::string& key, const std::string& s) {
  if (s == "None") return {};
  size_t pos = 0;
  if (!s.empty() && (is_digit(s[0]) || s[0] == '-' || s[0] == '+')) {
    const int64_t v = scan_int(key, s, pos, "a tuple such as '(3, 3)'");
    if (pos != s.size())
      throw ParamError(key, "expected a tuple such as '(3, 3)', got '" + shown(s) + "'");
    return {v};
  }
  if (s.empty() || (s[0] != '(' && s[0] != '['))
    throw ParamError(key, "expected a tuple such as '(3, 3)', got '" + shown(s) + "'");
  const char close = s[0] == '(' ? ')' : ']';
  const std::string closing = std::string("'") + close + "'";
  auto skip_space = [&] {
    while (pos < s.size() && is_space(s[pos])) ++pos;
  };
  Tuple t;
  pos = 1;
  skip_space();
  if (pos < s.size() && s[pos] == close) {
    ++pos;
  } else {
    while (true) {
      skip_space();
      if (pos >= s.size())
        throw ParamError(key, "unterminated tuple (no " + closing + "): '" + shown(s) + "'");
      if (s[pos] == close && !t.empty()) {  // after a trailing comma
        ++pos;
        break;
      }
      if (s[pos] == ',' || s[pos] == close)
        throw ParamError(key, "empty entry in tuple '" + shown(s) + "'");
      if (s[pos] == '.' || (!is_digit(s[pos]) && s[pos] != '-' && s[pos] != '+'))
        throw ParamError(key, "expected a tuple of integers such as '(3, 3)', got '" +
                                  shown(s) + "'");
      t.push_back(scan_int(key, s, pos, "a tuple of integers such as '(3, 3)'"));
      if (pos < s.size() && s[pos] == 'L') ++pos;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == 'e' || s[pos] == 'E'))
        throw ParamError(key, "expected integers, got a fraction in '" + shown(s) + "'");
      skip_space();
      if (pos < s.size() && s[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < s.size() && s[pos] == close) {
        ++pos;
        break;
      }
      if (pos >= s.size())
        throw ParamError(key, "unterminated tuple (no " + closing + "): '" + shown(s) + "'");
      throw ParamError(key, "expected ',' or " + closing + " after an entry, got '" +
                                shown(s.substr(pos)) + "' in '" + shown(s) + "'");
    }
  }
  if (pos != s.size())
    throw ParamError(key, "text after the tuple: '" + shown(s.substr(pos)) + "' in '" +
                              shown(s) + "'");
  return t;
}

int64_t parse_int(const std::string& key, const std::string& s) {
  size_t pos = 0;
  const int64_t v = scan_int(key, s, pos, "an integer");
  if (pos != s.size()) {
    if (s[pos] == '.' || s[pos] == 'e' || s[pos] == 'E')
      throw ParamError(key, "expected an integer, got a fraction '" + shown(s) + "'");
    throw ParamError(key, "expected an integer, got '" + shown(s) + "'");
  }
  return v;
}

bool parse_bool(const std::string& key, const std::string& s) {
  std::string lower = s;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  throw ParamError(key, "expected True or False (or 1 or 0), got '" + shown(s) + "'");
}

// An enum parameter by MXNet name ("None": not set); case matters, as in MXNet.
void parse_enum(const ParamSpec& spec, DeconvParams& p, const std::string& s) {
  if (s.empty() || !spec.set_name(p, s))
    throw ParamError(spec.name, "expected one of " + allowed_text(spec) + " or None, got '" +
                                    shown(s) + "'");
}

std::string unknown_detail(const std::string& key) {
  std::string detail = "not a parameter of Deconvolution";
  std::string underscored = key;
  for (char& c : underscored)
    if (c == '.') c = '_';
  if (underscored != key && find_param(underscored))
    detail += " (MXNet spells it " + underscored + ")";
  return detail;
}

std::string tuple_string(const Tuple& t) {
  std::string s = "(";
  for (size_t i = 0; i < t.size(); ++i) s += (i ? ", " : "") + std::to_string(t[i]);
  return s + (t.size() == 1 ? ",)" : ")");
}

}  // namespace

bool is_symbol_attr(const std::string& key) {
  return key.size() >= 4 && key.compare(0, 2, "__") == 0 &&
         key.compare(key.size() - 2, 2, "__") == 0;
}

DeconvParams params_from_mxnet_attrs(const AttrList& attrs) {
  DeconvParams p;
  std::set<std::string> seen;
  for (const auto& kv : attrs) {
    const std::string& key = kv.first;
    if (key.find('\0') != std::string::npos)
      throw ParamError(shown(key), "the key contains a NUL byte");
    if (kv.second.find('\0') != std::string::npos)
      throw ParamError(shown(key), "the value contains a NUL byte");
    if (is_symbol_attr(key)) continue;
    const ParamSpec* f = find_param(key);
    if (!f) throw ParamError(shown(key), unknown_detail(key));
    if (!seen.insert(key).second) throw ParamError(key, "given twice");
    const std::string s = trim(kv.second);
    if (s.empty()) throw ParamError(key, "empty value");
    switch (f->kind) {
      case ParamKind::Tuple: p.*(f->tuple) = parse_tuple(key, s); break;
      case ParamKind::Integer: p.*(f->integer) = parse_int(key, s); break;
      case ParamKind::Bool: p.*(f->flag) = parse_bool(key, s); break;
      case ParamKind::Enum: parse_enum(*f, p, s); break;
    }
  }
  // A required tuple must have entries, a required integer must be given.
  for (const ParamSpec& f : param_schema()) {
    if (!f.required) continue;
    if (f.kind == ParamKind::Tuple && (p.*f.tuple).empty())
      throw ParamError(f.name, "required: " + f.meaning + ", e.g. '(3, 3)'");
    if (f.kind != ParamKind::Tuple && !seen.count(f.name))
      throw ParamError(f.name, "required: " + f.meaning);
  }
  return p;
}

AttrList mxnet_attrs_from_params(const DeconvParams& p, const std::vector<std::string>& keys) {
  AttrList out;
  std::set<std::string> seen;
  for (const std::string& key : keys) {
    const ParamSpec* f = find_param(key);
    if (!f) throw ParamError(shown(key), unknown_detail(key));
    if (!seen.insert(key).second) throw ParamError(key, "given twice");
    std::string value;
    switch (f->kind) {
      case ParamKind::Tuple: value = tuple_string(p.*(f->tuple)); break;
      case ParamKind::Integer: value = std::to_string(p.*(f->integer)); break;
      case ParamKind::Bool: value = p.*(f->flag) ? "True" : "False"; break;
      case ParamKind::Enum: value = f->get_name(p); break;
    }
    out.emplace_back(key, value);
  }
  return out;
}

}  // namespace deconv
