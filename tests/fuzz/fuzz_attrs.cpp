// Fuzz target: arbitrary MXNet attribute text ("key=value" lines) into
// params_from_mxnet_attrs. It may only throw ParamError, with a short message; when it
// parses, writing the result and parsing again gives the same parameters (and the same
// text), and blanks around the values change nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "attr_text.h"
#include "check.h"
#include "core/error.h"
#include "core/mxnet_attrs.h"
#include "params_compare.h"

namespace {

using deconv::AttrList;
using deconv::DeconvParams;
using deconv_fuzz::check;
using deconv_fuzz::fail;

struct Outcome {
  bool ok = false;
  DeconvParams params;
  std::string arg;  // on error
};

Outcome parse(const AttrList& attrs) {
  Outcome o;
  try {
    o.params = deconv::params_from_mxnet_attrs(attrs);
    o.ok = true;
  } catch (const deconv::ParamError& e) {
    // Offending text is shown truncated, whatever the input's size.
    check(e.arg().size() <= 64, "error arg() is short");
    check(e.detail().size() <= 400, "error detail() is short");
    o.arg = e.arg();
  }
  return o;
}

std::string text(const AttrList& attrs) {
  std::string s;
  for (const auto& kv : attrs) s += kv.first + "=" + kv.second + "\n";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const AttrList attrs = deconv_fuzz::attrs_from_text(data, size);
  const Outcome first = parse(attrs);

  AttrList padded = attrs;
  for (auto& kv : padded) kv.second = " \t" + kv.second + "\n ";
  const Outcome again = parse(padded);
  check(again.ok == first.ok, "blanks around values change whether it parses");
  if (!first.ok) {
    // An empty value becomes all blanks: same error, same key.
    check(again.arg == first.arg, "blanks around values change the key blamed");
    return 0;
  }
  check(deconv_test::same_params(again.params, first.params), "blanks change the result");

  std::vector<std::string> keys;
  for (const auto& kv : attrs)
    if (!deconv::is_symbol_attr(kv.first)) keys.push_back(kv.first);
  const AttrList written = deconv::mxnet_attrs_from_params(first.params, keys);
  const Outcome back = parse(written);
  if (!back.ok) fail("written attributes do not parse (" + back.arg + "):\n" + text(written));
  if (!deconv_test::same_params(back.params, first.params))
    fail("round trip changed " + deconv_test::describe_params(first.params) + " into " +
         deconv_test::describe_params(back.params));
  check(deconv::mxnet_attrs_from_params(back.params, keys) == written,
        "writing is not a fixed point");
  return 0;
}
