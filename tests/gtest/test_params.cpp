// Tests of src/core/params.{h,cpp}: defaults and every shape-independent validation, and
// of the parameter table, src/core/param_schema.{h,cpp}.
#include "core/params.h"

#include <gtest/gtest.h>

#include <set>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/mxnet_attrs.h"
#include "core/param_schema.h"
#include "params_compare.h"
#include "test_helpers.h"

using namespace deconv;
using deconv_test::make_params;

namespace {

DeconvParams p2d() { return make_params({3, 3}, 4); }

}  // namespace

// ---- defaults -------------------------------------------------------------------------

TEST(Params, DefaultsFilledPerRank) {
  for (int rank = 1; rank <= 3; ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    DeconvParams p = make_params(Tuple(rank, 3), 8);
    const DeconvParams q = normalize_params(p);
    EXPECT_EQ(q.kernel, Tuple(rank, 3));
    EXPECT_EQ(q.stride, Tuple(rank, 1));
    EXPECT_EQ(q.dilate, Tuple(rank, 1));
    EXPECT_EQ(q.pad, Tuple(rank, 0));
    EXPECT_EQ(q.adj, Tuple(rank, 0));
    EXPECT_TRUE(q.target_shape.empty());
    EXPECT_EQ(q.num_filter, 8);
    EXPECT_EQ(q.num_group, 1);
    EXPECT_EQ(q.workspace, 512);
    EXPECT_TRUE(q.no_bias);
    EXPECT_EQ(q.cudnn_tune, CudnnTune::None);
    EXPECT_FALSE(q.cudnn_off);
    const Layout expected = rank == 1 ? Layout::NCW : rank == 2 ? Layout::NCHW : Layout::NCDHW;
    EXPECT_EQ(q.layout, expected);
    EXPECT_FALSE(uses_target_shape(q));
  }
}

TEST(Params, GivenValuesKept) {
  DeconvParams p = make_params({2, 3, 4}, 6);
  p.stride = {2, 3, 1};
  p.dilate = {1, 2, 3};
  p.pad = {0, 1, 2};
  p.adj = {1, 2, 0};
  p.num_group = 3;
  p.workspace = 0;
  p.layout = Layout::NDHWC;
  const DeconvParams q = normalize_params(p);
  EXPECT_EQ(q.kernel, p.kernel);
  EXPECT_EQ(q.stride, p.stride);
  EXPECT_EQ(q.dilate, p.dilate);
  EXPECT_EQ(q.pad, p.pad);
  EXPECT_EQ(q.adj, p.adj);
  EXPECT_EQ(q.num_group, 3);
  EXPECT_EQ(q.workspace, 0);
  EXPECT_EQ(q.layout, Layout::NDHWC);
}

TEST(Params, AllZeroTargetShapeIsUnused) {
  DeconvParams p = p2d();
  p.target_shape = {0, 0};
  EXPECT_FALSE(uses_target_shape(p));
  const DeconvParams q = normalize_params(p);
  EXPECT_TRUE(q.target_shape.empty());
  EXPECT_FALSE(uses_target_shape(q));
}

TEST(Params, NonZeroTargetShapeIsKept) {
  DeconvParams p = p2d();
  p.target_shape = {0, 9};
  EXPECT_TRUE(uses_target_shape(p));
  const DeconvParams q = normalize_params(p);
  EXPECT_EQ(q.target_shape, Tuple({0, 9}));
  EXPECT_TRUE(uses_target_shape(q));
}

TEST(Params, LayoutMatchingKernelAccepted) {
  const std::pair<Layout, int> cases[] = {{Layout::NCW, 1},   {Layout::NCHW, 2},
                                          {Layout::NHWC, 2},  {Layout::NCDHW, 3},
                                          {Layout::NDHWC, 3}};
  for (const auto& c : cases) {
    DeconvParams p = make_params(Tuple(c.second, 2), 2);
    p.layout = c.first;
    EXPECT_EQ(normalize_params(p).layout, c.first) << layout_name(c.first);
  }
}

// ---- kernel ---------------------------------------------------------------------------

TEST(ParamsErrors, KernelLength) {
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({}, 4)), "kernel", "got 0");
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({2, 2, 2, 2}, 4)), "kernel",
                      "got 4");
}

TEST(ParamsErrors, KernelNotPositive) {
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({0}, 4)), "kernel", "got 0");
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({3, -1}, 4)), "kernel",
                      "dimension w");
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({0, 3, 3}, 4)), "kernel",
                      "dimension d");
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({(int64_t(1) << 31) + 1}, 4)),
                      "kernel", "");
}

// ---- stride / dilate / pad / adj --------------------------------------------------------

TEST(ParamsErrors, StrideNotPositive) {
  for (int64_t v : {0, -1, -7}) {
    DeconvParams p = p2d();
    p.stride = {1, v};
    EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "stride", "positive");
  }
}

TEST(ParamsErrors, DilateNotPositive) {
  for (int64_t v : {0, -2}) {
    DeconvParams p = p2d();
    p.dilate = {v, 1};
    EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "dilate", "dimension h");
  }
}

TEST(ParamsErrors, NegativePad) {
  DeconvParams p = p2d();
  p.pad = {0, -1};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "pad", "non-negative");
  p.pad = {0, 0};
  EXPECT_NO_THROW(normalize_params(p));
}

TEST(ParamsErrors, NegativeAdj) {
  DeconvParams p = p2d();
  p.stride = {2, 2};
  p.adj = {-1, 0};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "adj", "non-negative");
}

TEST(ParamsErrors, NegativeTargetShape) {
  DeconvParams p = p2d();
  p.target_shape = {4, -1};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "target_shape", "non-negative");
}

TEST(ParamsErrors, TupleLengthMismatch) {
  struct Field {
    const char* name;
    Tuple DeconvParams::*member;
  };
  const Field fields[] = {{"stride", &DeconvParams::stride},
                          {"dilate", &DeconvParams::dilate},
                          {"pad", &DeconvParams::pad},
                          {"adj", &DeconvParams::adj},
                          {"target_shape", &DeconvParams::target_shape}};
  for (const Field& f : fields) {
    SCOPED_TRACE(f.name);
    for (const Tuple& t : {Tuple{1}, Tuple{1, 1, 1}}) {
      DeconvParams p = p2d();
      p.stride = {2, 2};
      p.*(f.member) = t;
      EXPECT_DECONV_ERROR(ParamError, normalize_params(p), f.name, "expected 2 values");
    }
  }
  // 1D kernel with a 2-tuple.
  DeconvParams p = make_params({3}, 2);
  p.pad = {1, 1};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "pad", "expected 1 value");
}

TEST(ParamsErrors, AdjNotSmallerThanStride) {
  DeconvParams p = p2d();
  p.stride = {2, 2};
  p.adj = {1, 2};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "adj", "adj 2 >= stride 2");
  p.adj = {1, 1};
  EXPECT_NO_THROW(normalize_params(p));
  // Default stride 1 allows only adj 0.
  DeconvParams q = make_params({3}, 2);
  q.adj = {1};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(q), "adj", "dimension w");
  DeconvParams r = make_params({3, 3, 3}, 2);
  r.stride = {1, 3, 3};
  r.adj = {1, 0, 0};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(r), "adj", "dimension d");
}

TEST(ParamsErrors, AdjNotCheckedWhereTargetShapeIsGiven) {
  // adj >= stride is fine in a dimension whose target_shape entry is non-zero (the adj
  // given there is not used) ...
  DeconvParams p = p2d();
  p.stride = {2, 1};
  p.adj = {0, 3};
  p.target_shape = {0, 7};
  EXPECT_NO_THROW(normalize_params(p));
  p.target_shape = {5, 7};
  p.adj = {4, 3};
  EXPECT_NO_THROW(normalize_params(p));
  // ... but not in a dimension whose entry is zero (that dimension keeps pad/adj).
  p.target_shape = {0, 7};
  p.adj = {2, 0};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "adj", "dimension h");
  // An all-zero target_shape is not used at all.
  p.target_shape = {0, 0};
  p.adj = {0, 1};
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "adj", "dimension w");
}

// ---- num_filter / num_group / workspace ----------------------------------------------

TEST(ParamsErrors, NumFilterNotPositive) {
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({3}, 0)), "num_filter",
                      "positive");
  EXPECT_DECONV_ERROR(ParamError, normalize_params(make_params({3}, -4)), "num_filter",
                      "positive");
}

TEST(ParamsErrors, NumGroupNotPositive) {
  for (int64_t g : {0, -1}) {
    DeconvParams p = p2d();
    p.num_group = g;
    EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "num_group", "positive");
  }
}

TEST(ParamsErrors, NumFilterNotMultipleOfNumGroup) {
  DeconvParams p = make_params({3, 3}, 6);
  p.num_group = 4;
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "num_filter", "multiple of num.group");
  p.num_group = 3;
  EXPECT_NO_THROW(normalize_params(p));
  p.num_group = 6;
  EXPECT_NO_THROW(normalize_params(p));
  p.num_group = 7;
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "num_filter", "multiple of num.group");
}

TEST(ParamsErrors, NegativeWorkspace) {
  DeconvParams p = p2d();
  p.workspace = -1;
  EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "workspace", "");
}

// ---- layout ---------------------------------------------------------------------------

TEST(ParamsErrors, LayoutKernelRankMismatch) {
  const std::pair<Layout, int> bad[] = {{Layout::NCW, 2},   {Layout::NCW, 3},
                                        {Layout::NCHW, 1},  {Layout::NCHW, 3},
                                        {Layout::NHWC, 1},  {Layout::NHWC, 3},
                                        {Layout::NCDHW, 1}, {Layout::NCDHW, 2},
                                        {Layout::NDHWC, 2}};
  for (const auto& c : bad) {
    SCOPED_TRACE(layout_name(c.first) + " with kernel rank " + std::to_string(c.second));
    DeconvParams p = make_params(Tuple(c.second, 2), 2);
    p.layout = c.first;
    EXPECT_DECONV_ERROR(ParamError, normalize_params(p), "layout", layout_name(c.first));
  }
}

TEST(Params, LayoutNamesRoundTrip) {
  for (Layout l : {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC, Layout::NDHWC})
    EXPECT_EQ(parse_layout(layout_name(l)), l);
  EXPECT_EQ(parse_layout(""), Layout::None);
  EXPECT_EQ(parse_layout("None"), Layout::None);
  EXPECT_EQ(layout_rank(Layout::NCW), 1);
  EXPECT_EQ(layout_rank(Layout::NHWC), 2);
  EXPECT_EQ(layout_rank(Layout::NDHWC), 3);
  EXPECT_EQ(layout_rank(Layout::None), 0);
  EXPECT_TRUE(layout_channels_last(Layout::NHWC));
  EXPECT_TRUE(layout_channels_last(Layout::NDHWC));
  EXPECT_FALSE(layout_channels_last(Layout::NCHW));
  EXPECT_FALSE(layout_channels_last(Layout::NCW));
}

TEST(ParamsErrors, ParseLayoutUnknown) {
  for (const char* name : {"NHCW", "nchw", "NWC", "NCHW ", "CHWN"}) {
    SCOPED_TRACE(name);
    EXPECT_DECONV_ERROR(ParamError, parse_layout(name), "layout", std::string("'") + name + "'");
  }
}

// ---- cudnn_tune -----------------------------------------------------------------------

TEST(Params, CudnnTuneNamesRoundTrip) {
  EXPECT_EQ(parse_cudnn_tune("off"), CudnnTune::Off);
  EXPECT_EQ(parse_cudnn_tune("limited_workspace"), CudnnTune::LimitedWorkspace);
  EXPECT_EQ(parse_cudnn_tune("fastest"), CudnnTune::Fastest);
  EXPECT_EQ(parse_cudnn_tune(""), CudnnTune::None);
  EXPECT_EQ(parse_cudnn_tune("None"), CudnnTune::None);
  for (CudnnTune t : {CudnnTune::Off, CudnnTune::LimitedWorkspace, CudnnTune::Fastest})
    EXPECT_EQ(parse_cudnn_tune(cudnn_tune_name(t)), t);
}

TEST(ParamsErrors, ParseCudnnTuneUnknown) {
  for (const char* name : {"Fastest", "limited", "on", "best"}) {
    SCOPED_TRACE(name);
    EXPECT_DECONV_ERROR(ParamError, parse_cudnn_tune(name), "cudnn_tune",
                        std::string("'") + name + "'");
  }
}

TEST(Params, AxisNames) {
  EXPECT_EQ(axis_name(1, 0), "w");
  EXPECT_EQ(axis_name(2, 0), "h");
  EXPECT_EQ(axis_name(2, 1), "w");
  EXPECT_EQ(axis_name(3, 0), "d");
  EXPECT_EQ(axis_name(3, 1), "h");
  EXPECT_EQ(axis_name(3, 2), "w");
}

TEST(ParamsErrors, ErrorMessageStartsWithArg) {
  try {
    normalize_params(make_params({0}, 1));
    FAIL() << "no exception";
  } catch (const ParamError& e) {
    EXPECT_EQ(std::string(e.what()), "kernel: " + e.detail());
  }
}

// ---- the parameter table (core/param_schema.h) ---------------------------------------

namespace {

// Counts an aggregate's fields: T{v, ..., v} compiles for up to that many values
// (DeconvParams has no nested aggregates, so brace elision adds nothing).
struct AnyValue {
  template <typename U>
  operator U() const;
};

template <typename T, typename Seq, typename = void>
struct brace_constructible : std::false_type {};
template <typename T, size_t... I>
struct brace_constructible<T, std::index_sequence<I...>,
                           std::void_t<decltype(T{(void(I), AnyValue{})...})>>
    : std::true_type {};

template <typename T, size_t N = 0>
constexpr size_t field_count() {
  if constexpr (brace_constructible<T, std::make_index_sequence<N + 1>>::value)
    return field_count<T, N + 1>();
  else
    return N;
}

// Where a row's field lies in p (enums by the value set_name changes).
const void* field_address(const ParamSpec& s, DeconvParams& p) {
  switch (s.kind) {
    case ParamKind::Tuple: return &(p.*s.tuple);
    case ParamKind::Integer: return &(p.*s.integer);
    case ParamKind::Bool: return &(p.*s.flag);
    default: return s.name == "layout" ? static_cast<const void*>(&p.layout) : &p.cudnn_tune;
  }
}

}  // namespace

TEST(ParamSchema, OneRowPerFieldInFieldOrder) {
  const std::vector<ParamSpec>& schema = param_schema();
  ASSERT_EQ(schema.size(), field_count<DeconvParams>());
  DeconvParams p;
  std::set<std::string> names, r_names;
  const char* previous = nullptr;
  for (const ParamSpec& s : schema) {
    SCOPED_TRACE(s.name);
    EXPECT_TRUE(names.insert(s.name).second);
    EXPECT_TRUE(r_names.insert(s.r_name).second);
    std::string dotted = s.name;
    for (char& c : dotted)
      if (c == '_') c = '.';
    EXPECT_EQ(s.r_name, dotted);
    EXPECT_EQ(find_param(s.name), &s);
    const int pointers = (s.tuple != nullptr) + (s.integer != nullptr) + (s.flag != nullptr) +
                         (s.get_name != nullptr);
    EXPECT_EQ(pointers, 1);
    const char* at = static_cast<const char*>(field_address(s, p));
    if (previous) {
      EXPECT_LT(previous, at);  // declaration order is address order
    }
    previous = at;
  }
  EXPECT_EQ(find_param("target.shape"), nullptr);
}

TEST(ParamSchema, EnumRowsNameEveryValue) {
  const ParamSpec& tune = *find_param("cudnn_tune");
  const ParamSpec& layout = *find_param("layout");
  EXPECT_EQ(tune.allowed, (std::vector<std::string>{"off", "limited_workspace", "fastest"}));
  EXPECT_EQ(layout.allowed,
            (std::vector<std::string>{"NCW", "NCHW", "NCDHW", "NHWC", "NDHWC"}));
  for (const ParamSpec* s : {&tune, &layout}) {
    SCOPED_TRACE(s->name);
    EXPECT_EQ(s->kind, ParamKind::Enum);
    DeconvParams p;
    EXPECT_EQ(s->get_name(p), "None");
    for (const std::string& v : s->allowed) {
      ASSERT_TRUE(s->set_name(p, v));
      EXPECT_EQ(s->get_name(p), v);
    }
    EXPECT_TRUE(s->set_name(p, "None"));
    EXPECT_EQ(s->get_name(p), "None");
    EXPECT_FALSE(s->set_name(p, "bogus"));
  }
  EXPECT_EQ(allowed_text(tune, "'"), "'off', 'limited_workspace', 'fastest'");
}

TEST(ParamSchema, DefaultsAreDeconvParams) {
  // The schema has no defaults of its own (the R formals are checked against
  // DeconvParams{} through it); these are MXNet's.
  const DeconvParams d;
  for (const ParamSpec& s : param_schema()) {
    SCOPED_TRACE(s.name);
    if (s.kind == ParamKind::Tuple) {
      EXPECT_TRUE((d.*s.tuple).empty());
    } else if (s.kind == ParamKind::Enum) {
      EXPECT_EQ(s.get_name(d), "None");
    }
    EXPECT_EQ(s.required, s.name == "kernel" || s.name == "num_filter");
  }
  EXPECT_EQ(d.num_group, 1);
  EXPECT_EQ(d.workspace, 512);
  EXPECT_TRUE(d.no_bias);
  EXPECT_FALSE(d.cudnn_off);
  // Attributes with only the required entries read back as the defaults.
  DeconvParams want;
  want.kernel = {3, 3};
  want.num_filter = 2;
  EXPECT_TRUE(deconv_test::same_params(
      params_from_mxnet_attrs({{"kernel", "(3, 3)"}, {"num_filter", "2"}}), want));
}

TEST(ParamSchema, WorkspaceBytes) {
  EXPECT_EQ(workspace_bytes(512), int64_t(512) << 20);
  EXPECT_EQ(workspace_bytes(0), 0);
  EXPECT_EQ(workspace_bytes(-5), 0);
  EXPECT_EQ(workspace_bytes(kMaxWorkspaceMb * 2), kMaxWorkspaceMb << 20);
}
