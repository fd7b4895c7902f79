// MXNet's attribute strings for Deconvolution (as a symbol's JSON stores them) to and
// from DeconvParams. Tuples stay in MXNet order, as DeconvParams holds them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/params.h"

namespace deconv {

using AttrList = std::vector<std::pair<std::string, std::string>>;

// Keys of the form __name__ (at least four characters) are symbol attributes such as
// __shape__ or __lr_mult__, not operator parameters.
bool is_symbol_attr(const std::string& key);

// Parses MXNet's spellings: tuples "(4, 4)", "(4,4)", "[4, 4]", "(3,)", "(3L, 3L)" or a
// bare "3", "None" for a tuple or string not given; integers "512"; booleans
// "True"/"False" (any case) or "1"/"0"; strings as MXNet names them ("fastest", "NCHW",
// "None"). Surrounding whitespace is ignored. Symbol attributes are skipped (after the
// NUL check that every key and value gets). Nothing is normalized: defaults stay empty.
// Throws ParamError(key, detail) on any malformed entry, and on "kernel" or
// "num_filter" when missing. Every integer must satisfy |v| <= 2^40.
DeconvParams params_from_mxnet_attrs(const AttrList& attrs);

// The attribute strings of `keys` (MXNet names), in that order, written as the R package
// writes them: tuples "(kh, kw)" and "(3,)" for one entry ("()" when empty), integers in
// digits, booleans "True"/"False", strings by MXNet name ("None" when not set).
// params_from_mxnet_attrs of the result gives `p` back (for every p it can return).
// Throws ParamError on a key that is not a parameter or is listed twice.
AttrList mxnet_attrs_from_params(const DeconvParams& p, const std::vector<std::string>& keys);

}  // namespace deconv
