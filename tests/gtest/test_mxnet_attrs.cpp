// MXNet attribute strings <-> DeconvParams (core/mxnet_attrs.h): MXNet's own spellings
// parse, every malformed entry throws ParamError naming its key, and write/parse round
// trips.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/mxnet_attrs.h"
#include "params_compare.h"
#include "test_helpers.h"

namespace {

using deconv::AttrList;
using deconv::CudnnTune;
using deconv::DeconvParams;
using deconv::Layout;
using deconv::ParamError;
using deconv::Tuple;
using deconv::mxnet_attrs_from_params;
using deconv::params_from_mxnet_attrs;
using deconv_test::same_params;

// kernel and num_filter (required) plus `extra`.
AttrList with_required(AttrList extra) {
  AttrList a{{"kernel", "(3, 3)"}, {"num_filter", "8"}};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

Tuple tuple_of(const std::string& s) {
  return params_from_mxnet_attrs({{"kernel", s}, {"num_filter", "1"}}).kernel;
}

TEST(MxnetAttrs, TupleSpellings) {
  EXPECT_EQ(tuple_of("(4, 4)"), (Tuple{4, 4}));
  EXPECT_EQ(tuple_of("(4,4)"), (Tuple{4, 4}));
  EXPECT_EQ(tuple_of("[4, 4]"), (Tuple{4, 4}));
  EXPECT_EQ(tuple_of("  ( 4 ,\t4 )  "), (Tuple{4, 4}));
  EXPECT_EQ(tuple_of("(3,)"), (Tuple{3}));
  EXPECT_EQ(tuple_of("(3)"), (Tuple{3}));
  EXPECT_EQ(tuple_of("[3 , ]"), (Tuple{3}));
  EXPECT_EQ(tuple_of("3"), (Tuple{3}));
  EXPECT_EQ(tuple_of("(2, 3, 4)"), (Tuple{2, 3, 4}));
  EXPECT_EQ(tuple_of("(2, 3, 4,)"), (Tuple{2, 3, 4}));
  EXPECT_EQ(tuple_of("(3L, 5L)"), (Tuple{3, 5}));  // Python 2's longs
  EXPECT_EQ(tuple_of("(007, 1)"), (Tuple{7, 1}));
  // Signs parse; normalize_params is the one that rejects negative sizes.
  EXPECT_EQ(tuple_of("(-1, +2)"), (Tuple{-1, 2}));
  EXPECT_EQ(tuple_of("(1099511627776, -1099511627776)"),
            (Tuple{int64_t(1) << 40, -(int64_t(1) << 40)}));
}

TEST(MxnetAttrs, AllKeys) {
  const DeconvParams p = params_from_mxnet_attrs({
      {"kernel", "(4, 4)"}, {"stride", "(2, 2)"}, {"dilate", "(1, 1)"}, {"pad", "(1, 1)"},
      {"adj", "(1, 0)"}, {"target_shape", "(0, 0)"}, {"num_filter", "512"},
      {"num_group", "2"}, {"workspace", "1024"}, {"no_bias", "False"},
      {"cudnn_tune", "fastest"}, {"cudnn_off", "True"}, {"layout", "NCHW"}});
  EXPECT_EQ(p.kernel, (Tuple{4, 4}));
  EXPECT_EQ(p.stride, (Tuple{2, 2}));
  EXPECT_EQ(p.dilate, (Tuple{1, 1}));
  EXPECT_EQ(p.pad, (Tuple{1, 1}));
  EXPECT_EQ(p.adj, (Tuple{1, 0}));
  EXPECT_EQ(p.target_shape, (Tuple{0, 0}));
  EXPECT_EQ(p.num_filter, 512);
  EXPECT_EQ(p.num_group, 2);
  EXPECT_EQ(p.workspace, 1024);
  EXPECT_FALSE(p.no_bias);
  EXPECT_EQ(p.cudnn_tune, CudnnTune::Fastest);
  EXPECT_TRUE(p.cudnn_off);
  EXPECT_EQ(p.layout, Layout::NCHW);
}

TEST(MxnetAttrs, DefaultsAndNone) {
  const DeconvParams p = params_from_mxnet_attrs(with_required(
      {{"stride", "None"}, {"target_shape", "()"}, {"cudnn_tune", "None"}, {"layout", "None"}}));
  const DeconvParams d;
  EXPECT_TRUE(p.stride.empty());
  EXPECT_TRUE(p.target_shape.empty());
  EXPECT_TRUE(p.dilate.empty());
  EXPECT_EQ(p.num_group, d.num_group);
  EXPECT_EQ(p.workspace, d.workspace);
  EXPECT_EQ(p.no_bias, d.no_bias);
  EXPECT_EQ(p.cudnn_tune, CudnnTune::None);
  EXPECT_EQ(p.layout, Layout::None);
}

TEST(MxnetAttrs, Booleans) {
  // cudnn_off defaults to false and no_bias to true: each is set against its default.
  for (const char* t : {"True", "true", "TRUE", "tRuE", "1", " True "})
    EXPECT_TRUE(params_from_mxnet_attrs(with_required({{"cudnn_off", t}})).cudnn_off) << t;
  for (const char* f : {"False", "false", "FALSE", "fAlSe", "0", "\tFalse\n"})
    EXPECT_FALSE(params_from_mxnet_attrs(with_required({{"no_bias", f}})).no_bias) << f;
}

TEST(MxnetAttrs, EnumsAndIntegers) {
  EXPECT_EQ(params_from_mxnet_attrs(with_required({{"cudnn_tune", "off"}})).cudnn_tune,
            CudnnTune::Off);
  EXPECT_EQ(params_from_mxnet_attrs(with_required({{"cudnn_tune", "limited_workspace"}}))
                .cudnn_tune, CudnnTune::LimitedWorkspace);
  for (Layout l : {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC, Layout::NDHWC})
    EXPECT_EQ(params_from_mxnet_attrs(with_required({{"layout", deconv::layout_name(l)}})).layout,
              l);
  EXPECT_EQ(params_from_mxnet_attrs(with_required({{"workspace", " 0 "}})).workspace, 0);
  EXPECT_EQ(params_from_mxnet_attrs(with_required({{"num_group", "-3"}})).num_group, -3);
}

TEST(MxnetAttrs, SymbolAttributesAreSkipped) {
  const DeconvParams p = params_from_mxnet_attrs(with_required(
      {{"__shape__", "(1, 2, 3)"}, {"__lr_mult__", "junk"}, {"____", "x"}, {"__shape__", "again"}}));
  EXPECT_EQ(p.kernel, (Tuple{3, 3}));
  EXPECT_TRUE(deconv::is_symbol_attr("__init__"));
  EXPECT_TRUE(deconv::is_symbol_attr("____"));
  EXPECT_FALSE(deconv::is_symbol_attr("___"));
  EXPECT_FALSE(deconv::is_symbol_attr("__kernel"));
  EXPECT_FALSE(deconv::is_symbol_attr("kernel__"));
}

// ---- bad input: each case names the key it blames ----------------------------------------

struct Bad {
  AttrList attrs;
  std::string arg, detail;
};

std::string nul_in(const char* a, const char* b) { return std::string(a) + '\0' + b; }

TEST(MxnetAttrs, BadInputThrowsParamErrorNamingTheKey) {
  const std::string huge(300, '9');
  const std::vector<Bad> bad = {
      // keys
      {with_required({{"kernal", "(3, 3)"}}), "kernal", "not a parameter of Deconvolution"},
      {with_required({{"num.group", "2"}}), "num.group", "MXNet spells it num_group"},
      {with_required({{"Kernel", "(3, 3)"}}), "Kernel", "not a parameter"},
      {with_required({{"", "1"}}), "", "not a parameter"},
      {with_required({{" stride", "(1, 1)"}}), " stride", "not a parameter"},
      {with_required({{"_shape_", "(1, 1)"}}), "_shape_", "not a parameter"},
      {with_required({{"stride", "(1, 1)"}, {"stride", "(1, 1)"}}), "stride", "given twice"},
      {with_required({{"kernel", "(3, 3)"}}), "kernel", "given twice"},
      {with_required({{nul_in("pad", ""), "(1, 1)"}}), "pad\\x00", "contains a NUL byte"},
      {with_required({{"pad", nul_in("(1, 1)", "")}}), "pad", "contains a NUL byte"},
      {with_required({{"layout", nul_in("NC", "HW")}}), "layout", "contains a NUL byte"},
      {with_required({{"__shape__", nul_in("(1,", "2)")}}), "__shape__", "contains a NUL byte"},
      // required
      {{{"num_filter", "8"}}, "kernel", "required"},
      {{{"kernel", "None"}, {"num_filter", "8"}}, "kernel", "required"},
      {{{"kernel", "()"}, {"num_filter", "8"}}, "kernel", "required"},
      {{{"kernel", "(3, 3)"}}, "num_filter", "required"},
      {{{"kernel", "(3, 3)"}, {"__num_filter__", "8"}}, "num_filter", "required"},
      // tuples
      {with_required({{"stride", "(3, 3)junk"}}), "stride", "text after the tuple"},
      {with_required({{"stride", "(3, 3))"}}), "stride", "text after the tuple"},
      {with_required({{"stride", "(3,,3)"}}), "stride", "empty entry"},
      {with_required({{"stride", "(,3)"}}), "stride", "empty entry"},
      {with_required({{"stride", "(,)"}}), "stride", "empty entry"},
      {with_required({{"stride", "(3, 3"}}), "stride", "unterminated"},
      {with_required({{"stride", "(3,"}}), "stride", "unterminated"},
      {with_required({{"stride", "("}}), "stride", "unterminated"},
      {with_required({{"stride", "(3, 3]"}}), "stride", "expected ',' or ')'"},
      {with_required({{"stride", "(3 3)"}}), "stride", "expected ',' or ')'"},
      {with_required({{"stride", "(1.5, 2)"}}), "stride", "fraction"},
      {with_required({{"stride", "(2.0, 2)"}}), "stride", "fraction"},
      {with_required({{"stride", "(1e3, 2)"}}), "stride", "fraction"},
      {with_required({{"stride", "(a, b)"}}), "stride", "tuple of integers"},
      {with_required({{"stride", "(-, 1)"}}), "stride", "tuple of integers"},
      {with_required({{"stride", "(0x10, 1)"}}), "stride", "expected ',' or ')'"},
      {with_required({{"stride", "{3, 3}"}}), "stride", "expected a tuple"},
      {with_required({{"stride", "3, 3"}}), "stride", "expected a tuple"},
      {with_required({{"stride", "none"}}), "stride", "expected a tuple"},
      {with_required({{"stride", ""}}), "stride", "empty value"},
      {with_required({{"stride", "   "}}), "stride", "empty value"},
      {with_required({{"pad", "(" + huge + ", 1)"}}), "pad", "out of range"},
      {with_required({{"pad", "(1099511627777,)"}}), "pad", "out of range"},
      {with_required({{"pad", "(-1099511627777,)"}}), "pad", "out of range"},
      // integers
      {with_required({{"num_group", "2.5"}}), "num_group", "fraction"},
      {with_required({{"num_group", "2.0"}}), "num_group", "fraction"},
      {with_required({{"workspace", "1e3"}}), "workspace", "fraction"},
      {with_required({{"workspace", "512MB"}}), "workspace", "expected an integer"},
      {with_required({{"workspace", "None"}}), "workspace", "expected an integer"},
      {with_required({{"workspace", "(512,)"}}), "workspace", "expected an integer"},
      {with_required({{"workspace", "- 5"}}), "workspace", "expected an integer"},
      {with_required({{"workspace", huge}}), "workspace", "out of range"},
      {{{"kernel", "(3, 3)"}, {"num_filter", ""}}, "num_filter", "empty value"},
      // booleans and strings
      {with_required({{"no_bias", "yes"}}), "no_bias", "expected True or False"},
      {with_required({{"no_bias", "2"}}), "no_bias", "expected True or False"},
      {with_required({{"cudnn_off", "None"}}), "cudnn_off", "expected True or False"},
      {with_required({{"cudnn_tune", "Fastest"}}), "cudnn_tune", "expected one of"},
      {with_required({{"cudnn_tune", "slowest"}}), "cudnn_tune", "expected one of"},
      {with_required({{"layout", "nchw"}}), "layout", "expected one of"},
      {with_required({{"layout", "NCHWC"}}), "layout", "expected one of"},
  };
  ASSERT_GE(bad.size(), 30u);
  for (const Bad& b : bad) {
    std::string what;
    for (const auto& kv : b.attrs) what += kv.first + "=" + kv.second + " ";
    SCOPED_TRACE(what);
    EXPECT_DECONV_ERROR(ParamError, params_from_mxnet_attrs(b.attrs), b.arg, b.detail);
  }
}

TEST(MxnetAttrs, MessagesShowTruncatedText) {
  const std::string huge(300, '7');
  try {
    params_from_mxnet_attrs(with_required({{"pad", "(" + huge + ",)"}}));
    FAIL() << "no error";
  } catch (const ParamError& e) {
    EXPECT_LT(e.detail().size(), 120u) << e.detail();
    EXPECT_NE(e.detail().find("bytes)"), std::string::npos) << e.detail();
  }
  try {
    params_from_mxnet_attrs(with_required({{std::string(1000, 'k'), "1"}}));
    FAIL() << "no error";
  } catch (const ParamError& e) {
    EXPECT_LT(e.arg().size(), 80u) << e.arg();
  }
  // Found by fuzz_attrs: escapes counted as one byte each let 40 bytes of binary
  // junk become 160 characters of key.
  try {
    params_from_mxnet_attrs(with_required({{"num" + std::string(200, '\xff'), "4"}}));
    FAIL() << "no error";
  } catch (const ParamError& e) {
    EXPECT_LT(e.arg().size(), 80u) << e.arg();
  }
  try {
    params_from_mxnet_attrs(with_required({{"layout", "\x01\xff"}}));
    FAIL() << "no error";
  } catch (const ParamError& e) {
    EXPECT_NE(e.detail().find("'\\x01\\xff'"), std::string::npos) << e.detail();
  }
}

// ---- writing, and round trips -------------------------------------------------------------

const std::vector<std::string> kAllKeys = {
    "kernel", "stride", "dilate", "pad", "adj", "target_shape", "num_filter",
    "num_group", "workspace", "no_bias", "cudnn_tune", "cudnn_off", "layout"};

TEST(MxnetAttrs, WritesMxnetFormat) {
  DeconvParams p = deconv_test::make_params({4, 3}, 16);
  p.stride = {2};
  p.dilate = {};
  p.no_bias = false;
  p.cudnn_tune = CudnnTune::LimitedWorkspace;
  p.layout = Layout::NHWC;
  const AttrList want = {
      {"kernel", "(4, 3)"}, {"stride", "(2,)"}, {"dilate", "()"}, {"pad", "()"},
      {"adj", "()"}, {"target_shape", "()"}, {"num_filter", "16"}, {"num_group", "1"},
      {"workspace", "512"}, {"no_bias", "False"}, {"cudnn_tune", "limited_workspace"},
      {"cudnn_off", "False"}, {"layout", "NHWC"}};
  EXPECT_EQ(mxnet_attrs_from_params(p, kAllKeys), want);
  EXPECT_EQ(mxnet_attrs_from_params(deconv::DeconvParams(), {"layout", "cudnn_tune", "no_bias"}),
            (AttrList{{"layout", "None"}, {"cudnn_tune", "None"}, {"no_bias", "True"}}));
  EXPECT_DECONV_ERROR(ParamError, mxnet_attrs_from_params(p, {"kernal"}), "kernal",
                      "not a parameter");
  EXPECT_DECONV_ERROR(ParamError, mxnet_attrs_from_params(p, {"pad", "pad"}), "pad",
                      "given twice");
}

TEST(MxnetAttrs, RoundTrips) {
  std::vector<DeconvParams> cases;
  cases.push_back(deconv_test::make_params({3}, 1));
  DeconvParams a = deconv_test::make_params({2, 3, 4}, 12);
  a.stride = {1, 2, 3};
  a.dilate = {2, 2, 2};
  a.pad = {0, 1, 2};
  a.adj = {0, 1, 2};
  a.target_shape = {0, 9, 0};
  a.num_group = 3;
  a.workspace = 0;
  a.no_bias = false;
  a.cudnn_tune = CudnnTune::Off;
  a.cudnn_off = true;
  a.layout = Layout::NDHWC;
  cases.push_back(a);
  DeconvParams b = deconv_test::make_params({int64_t(1) << 40, -(int64_t(1) << 40)}, -7);
  b.pad = {-1};
  b.cudnn_tune = CudnnTune::Fastest;
  cases.push_back(b);
  cases.push_back(deconv::normalize_params(a));
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const AttrList attrs = mxnet_attrs_from_params(cases[i], kAllKeys);
    EXPECT_TRUE(same_params(params_from_mxnet_attrs(attrs), cases[i]));
    // Only some keys: the rest come back as defaults.
    const AttrList some = mxnet_attrs_from_params(cases[i], {"num_filter", "kernel"});
    DeconvParams want = deconv_test::make_params(cases[i].kernel, cases[i].num_filter);
    EXPECT_TRUE(same_params(params_from_mxnet_attrs(some), want));
  }
}

}  // namespace
