// Tests of src/core/shape.{h,cpp}: output sizes, target_shape, weight/bias shapes, errors.
#include "core/shape.h"

#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "test_helpers.h"

using namespace deconv;
using deconv_test::expected_out;
using deconv_test::make_params;
using deconv_test::target_pad_adj;

namespace {

constexpr int64_t kBig = int64_t(1) << 31;  // largest tuple value the params accept

// Data shape for the layout: spatial in MXNet order, channels first or last.
Shape data_shape_for(Layout layout, int64_t n, int64_t c, const Tuple& spatial) {
  Shape s{n};
  const bool last = layout_channels_last(layout);
  if (!last) s.push_back(c);
  s.insert(s.end(), spatial.begin(), spatial.end());
  if (last) s.push_back(c);
  return s;
}

}  // namespace

// ---- output size vs the formula -----------------------------------------------------

TEST(Shape, OutputSizeMatchesFormulaRandom) {
  std::mt19937_64 rng(20240601);
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const Layout layouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                            Layout::NDHWC};
  int checked = 0;
  for (int it = 0; it < 2000; ++it) {
    const Layout layout = layouts[it % 5];
    const int rank = layout_rank(layout);
    DeconvParams p;
    p.layout = layout;
    const int64_t G = uni(1, 3);
    p.num_group = G;
    p.num_filter = G * uni(1, 4);
    Tuple in(rank);
    for (int i = 0; i < rank; ++i) {
      in[i] = uni(1, 40);
      p.kernel.push_back(uni(1, 7));
      p.stride.push_back(uni(1, 5));
      p.dilate.push_back(uni(1, 4));
      p.pad.push_back(uni(0, 6));
      p.adj.push_back(uni(0, p.stride.back() - 1));
    }
    const int64_t C = G * uni(1, 3), N = uni(1, 4);
    bool positive = true;
    for (int i = 0; i < rank; ++i)
      positive &= expected_out(in[i], p.kernel[i], p.stride[i], p.dilate[i], p.pad[i],
                               p.adj[i]) >= 1;
    if (!positive) continue;  // covered by NonPositiveOutput
    SCOPED_TRACE("iteration " + std::to_string(it));
    const Geometry g = infer_geometry(p, data_shape_for(layout, N, C, in));
    Tuple out(rank);
    for (int i = 0; i < rank; ++i) {
      out[i] = expected_out(in[i], p.kernel[i], p.stride[i], p.dilate[i], p.pad[i], p.adj[i]);
      const int k = 3 - rank + i;
      EXPECT_EQ(g.out[k], out[i]);
      EXPECT_EQ(g.in[k], in[i]);
      EXPECT_EQ(g.pad[k], p.pad[i]);
      EXPECT_EQ(g.adj[k], p.adj[i]);
      EXPECT_EQ(g.kernel[k], p.kernel[i]);
      EXPECT_EQ(g.stride[k], p.stride[i]);
      EXPECT_EQ(g.dilate[k], p.dilate[i]);
    }
    for (int k = 0; k < 3 - rank; ++k) {  // unused leading dimensions
      EXPECT_EQ(g.in[k], 1);
      EXPECT_EQ(g.out[k], 1);
      EXPECT_EQ(g.kernel[k], 1);
      EXPECT_EQ(g.stride[k], 1);
      EXPECT_EQ(g.dilate[k], 1);
      EXPECT_EQ(g.pad[k], 0);
      EXPECT_EQ(g.adj[k], 0);
    }
    EXPECT_EQ(g.out_shape, data_shape_for(layout, N, p.num_filter, out));
    EXPECT_EQ(g.rank, rank);
    EXPECT_EQ(g.batch, N);
    EXPECT_EQ(g.channels, C);
    EXPECT_EQ(g.num_filter, p.num_filter);
    EXPECT_EQ(g.num_group, G);
    EXPECT_EQ(g.channels_last, layout_channels_last(layout));
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

TEST(Shape, KnownSizes) {
  struct Case {
    Tuple kernel, stride, dilate, pad, adj, in, out;
  };
  const Case cases[] = {
      {{4, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, {16, 16}, {32, 32}},  // FCN-style 2x
      {{3}, {1}, {1}, {0}, {0}, {5}, {7}},
      {{3}, {1}, {1}, {1}, {0}, {5}, {5}},
      {{3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {7, 5}, {14, 10}},
      {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {2, 3, 4}, {2, 3, 4}},
      {{3, 3, 3}, {2, 2, 2}, {2, 2, 2}, {0, 1, 2}, {1, 0, 1}, {3, 3, 3}, {10, 7, 6}},
      {{5}, {3}, {2}, {4}, {2}, {1}, {3}},
      {{2}, {4}, {1}, {0}, {3}, {6}, {25}},
  };
  for (const Case& c : cases) {
    DeconvParams p = make_params(c.kernel, 2);
    p.stride = c.stride;
    p.dilate = c.dilate;
    p.pad = c.pad;
    p.adj = c.adj;
    Shape data{1, 3};
    data.insert(data.end(), c.in.begin(), c.in.end());
    const Geometry g = infer_geometry(p, data);
    Shape out{1, 2};
    out.insert(out.end(), c.out.begin(), c.out.end());
    EXPECT_EQ(g.out_shape, out);
  }
}

// ---- target_shape ---------------------------------------------------------------------

TEST(Shape, TargetShapeOverridesPadAndAdj) {
  // Every reachable target of a 1D layer: the output equals it and pad/adj follow MXNet.
  for (int64_t s = 1; s <= 4; ++s)
    for (int64_t k = 1; k <= 5; ++k)
      for (int64_t d = 1; d <= 3; ++d)
        for (int64_t in = 1; in <= 6; ++in) {
          const int64_t full = s * (in - 1) + d * (k - 1) + 1;
          for (int64_t target = 1; target <= full; ++target) {
            DeconvParams p = make_params({k}, 3);
            p.stride = {s};
            p.dilate = {d};
            p.pad = {5};                  // ignored
            p.adj = {s - 1};              // ignored
            p.target_shape = {target};
            const Geometry g = infer_geometry(p, {2, 1, in});
            const auto pa = target_pad_adj(in, k, s, d, target);
            ASSERT_EQ(g.out[2], target) << "s=" << s << " k=" << k << " d=" << d << " in=" << in;
            EXPECT_EQ(g.pad[2], pa.pad);
            EXPECT_EQ(g.adj[2], pa.adj);
            EXPECT_EQ(g.out_shape, Shape({2, 3, target}));
          }
        }
}

TEST(Shape, TargetShapeStrideOneOddT) {
  // stride 1 with an odd total padding gives adj 1 >= stride, which is allowed.
  DeconvParams p = make_params({4}, 1);
  p.target_shape = {7};  // full = 8, t = 1 -> pad 1, adj 1
  const Geometry g = infer_geometry(p, {1, 1, 5});
  EXPECT_EQ(g.pad[2], 1);
  EXPECT_EQ(g.adj[2], 1);
  EXPECT_EQ(g.out[2], 7);

  DeconvParams q = make_params({3, 3}, 1);
  q.target_shape = {4, 5};  // full = 7 each: t = 3 -> (2, 1); t = 2 -> (1, 0)
  const Geometry h = infer_geometry(q, {1, 1, 5, 5});
  EXPECT_EQ(h.pad[1], 2);
  EXPECT_EQ(h.adj[1], 1);
  EXPECT_EQ(h.pad[2], 1);
  EXPECT_EQ(h.adj[2], 0);
  EXPECT_EQ(h.out_shape, Shape({1, 1, 4, 5}));
}

TEST(Shape, TargetShapeMXNetExample) {
  // 7x5 input, 3x3 kernel, stride 2, target 14x10: pad 1, adj 1 in both dimensions.
  DeconvParams p = make_params({3, 3}, 8);
  p.stride = {2, 2};
  p.target_shape = {14, 10};
  const Geometry g = infer_geometry(p, {2, 3, 7, 5});
  EXPECT_EQ(g.pad[1], 1);
  EXPECT_EQ(g.pad[2], 1);
  EXPECT_EQ(g.adj[1], 1);
  EXPECT_EQ(g.adj[2], 1);
  EXPECT_EQ(g.out_shape, Shape({2, 8, 14, 10}));
}

TEST(Shape, PartialTargetShapeKeepsPadAdjOfZeroEntries) {
  DeconvParams p = make_params({3, 4, 5}, 2);
  p.stride = {2, 3, 2};
  p.pad = {1, 2, 0};
  p.adj = {1, 2, 1};
  const Tuple in{4, 6, 3};
  // h: full = 3*5 + 3 + 1 = 19; target 17 gives t = 2 -> pad 1, adj 0.
  p.target_shape = {0, 17, 0};
  const Geometry g = infer_geometry(p, {1, 2, in[0], in[1], in[2]});
  const auto pa = target_pad_adj(6, 4, 3, 1, 17);
  EXPECT_EQ(g.pad[1], pa.pad);
  EXPECT_EQ(g.adj[1], pa.adj);
  EXPECT_EQ(g.out[1], 17);
  // d and w keep the given pad/adj.
  EXPECT_EQ(g.pad[0], 1);
  EXPECT_EQ(g.adj[0], 1);
  EXPECT_EQ(g.out[0], expected_out(4, 3, 2, 1, 1, 1));
  EXPECT_EQ(g.pad[2], 0);
  EXPECT_EQ(g.adj[2], 1);
  EXPECT_EQ(g.out[2], expected_out(3, 5, 2, 1, 0, 1));
  EXPECT_EQ(g.out_shape, Shape({1, 2, 8, 17, 10}));
  // Channels-last layout reads the spatial sizes from the right axes.
  p.layout = Layout::NDHWC;
  const Geometry c = infer_geometry(p, {1, in[0], in[1], in[2], 2});
  EXPECT_EQ(c.out_shape, Shape({1, 8, 17, 10, 2}));
  // A zero entry is not checked against its (unreachable) size, a non-zero one is.
  p.target_shape = {0, 20, 0};
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(p, {1, in[0], in[1], in[2], 2}),
                      "target_shape", "dimension h");
}

TEST(Shape, PartialTargetFirstEntryZero2D) {
  DeconvParams p = make_params({3, 3}, 4);
  p.stride = {2, 2};
  p.pad = {1, 1};
  p.adj = {1, 0};
  p.target_shape = {0, 12};
  const Geometry g = infer_geometry(p, {1, 4, 5, 6});
  EXPECT_EQ(g.out[1], expected_out(5, 3, 2, 1, 1, 1));  // 10
  EXPECT_EQ(g.out[2], 12);
  const auto pa = target_pad_adj(6, 3, 2, 1, 12);  // full 13, t 1
  EXPECT_EQ(g.pad[2], pa.pad);
  EXPECT_EQ(g.adj[2], pa.adj);
}

TEST(ShapeErrors, TooBigTargetShape) {
  DeconvParams p = make_params({3, 3}, 4);
  p.stride = {2, 2};
  p.target_shape = {0, 14};  // full = 2*5 + 2 + 1 = 13
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(p, {1, 4, 6, 6}), "target_shape",
                      "too big target shape");
  p.target_shape = {0, 13};
  EXPECT_EQ(infer_geometry(p, {1, 4, 6, 6}).out[2], 13);
  DeconvParams q = make_params({1}, 1);
  q.target_shape = {2};
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(q, {1, 1, 1}), "target_shape",
                      "too big target shape");
}

// ---- other shape errors --------------------------------------------------------------

TEST(ShapeErrors, NonPositiveOutput) {
  DeconvParams p = make_params({3}, 1);
  p.pad = {2};  // full = 2 + 2 + 1 = 5: pad 2 gives 1, pad 3 gives -1
  EXPECT_EQ(infer_geometry(p, {1, 1, 3}).out[2], 1);
  p.pad = {3};
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(p, {1, 1, 3}), "pad", "output size");
  // Exactly zero.
  DeconvParams q = make_params({2, 2}, 1);
  q.pad = {0, 1};  // w: 1 + 1 - 2 = 0
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(q, {1, 1, 4, 1}), "pad", "dimension w");
  // adj cannot rescue a pad past the output.
  DeconvParams r = make_params({1, 1, 1}, 1);
  r.stride = {2, 2, 2};
  r.pad = {1, 0, 0};
  r.adj = {1, 0, 0};  // d: 1 - 2 + 1 = 0
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(r, {1, 1, 1, 1, 1}), "pad", "dimension d");
}

TEST(ShapeErrors, ChannelsNotDivisibleByNumGroup) {
  DeconvParams p = make_params({3, 3}, 6);
  p.num_group = 3;
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(p, {1, 4, 5, 5}), "num_group",
                      "divisible by num.group (3)");
  EXPECT_NO_THROW(infer_geometry(p, {1, 6, 5, 5}));
  p.layout = Layout::NHWC;
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(p, {1, 5, 5, 4}), "num_group", "(4)");
  EXPECT_NO_THROW(infer_geometry(p, {1, 5, 5, 3}));
}

TEST(ShapeErrors, WrongDataRank) {
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3, 3}, 2), {1, 2, 5}), "data",
                      "4-dimensional");
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3, 3}, 2), {1, 2, 5, 5, 5}),
                      "data", "got 5 dimensions");
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3}, 2), {1, 2}), "data", "");
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3, 3, 3}, 2), {}), "data", "");
  DeconvParams p = make_params({3, 3, 3}, 2);
  p.layout = Layout::NDHWC;
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(p, {1, 4, 4, 4}), "data", "5-dimensional");
}

TEST(ShapeErrors, NonPositiveDataDimension) {
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3}, 2), {0, 2, 5}), "data",
                      "positive");
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3}, 2), {1, 2, -5}), "data",
                      "positive");
  EXPECT_DECONV_ERROR(ShapeError, infer_geometry(make_params({3, 3}, 2), {1, 0, 5, 5}), "data",
                      "");
}

TEST(ShapeErrors, ParamErrorsPassThrough) {
  DeconvParams p = make_params({3, 3}, 2);
  p.stride = {0, 1};
  EXPECT_DECONV_ERROR(ParamError, infer_geometry(p, {1, 2, 5, 5}), "stride", "");
}

// ---- overflow ------------------------------------------------------------------------

TEST(ShapeErrors, OverflowOfFullExtent) {
  // stride * (in - 1) overflows int64.
  DeconvParams p = make_params({3}, 1);
  p.stride = {kBig};
  EXPECT_THROW(infer_geometry(p, {1, 1, int64_t(1) << 40}), ShapeError);
  // stride * (in - 1) + dilate * (kernel - 1) overflows only in the sum.
  DeconvParams q = make_params({kBig}, 1);
  q.dilate = {kBig};  // 2^31 * (2^31 - 1) ~ 2^62
  q.stride = {kBig};
  EXPECT_THROW(infer_geometry(q, {1, 1, (int64_t(1) << 31) + 2}), ShapeError);
}

TEST(ShapeErrors, OverflowOfOutputSize) {
  // Every dimension fits, the output's element count does not.
  DeconvParams p = make_params({1, 1, 1}, kBig);
  p.stride = {kBig, kBig, kBig};
  EXPECT_THROW(infer_geometry(p, {4, 1, 3, 3, 3}), ShapeError);
  DeconvParams q = make_params({1}, kBig);
  EXPECT_THROW(infer_geometry(q, {int64_t(1) << 40, 1, int64_t(1) << 30}), ShapeError);
}

TEST(ShapeErrors, OverflowOfWeightSize) {
  // channels * num_filter/num_group * kernel overflows though the output does not.
  DeconvParams p = make_params({kBig, kBig}, kBig);
  p.pad = {kBig / 2 - 1, kBig / 2 - 1};  // full = 2^31, so the output is 2 x 2
  EXPECT_THROW(infer_geometry(p, {1, 4, 1, 1}), ShapeError);
  DeconvParams q = make_params({3}, 1);
  EXPECT_THROW(infer_geometry(q, {1, int64_t(1) << 62, 5}), ShapeError);
}

// The product of the input's spatial sizes is checked too, not only the output's.
TEST(ShapeErrors, OverflowOfInputPositions) {
  // The data's spatial sizes multiply past int64 (2^32 * 2^32 = 2^64) while the output,
  // after a large pad, is a small 2 x 2; Geometry::in_size() would overflow.
  DeconvParams p = make_params({1, 1}, 1);
  p.pad = {kBig - 1, kBig - 1};  // out = 2^32 - 2*(2^31 - 1) = 2 per dimension
  const int64_t in = int64_t(1) << 32;
  EXPECT_THROW(infer_geometry(p, {1, 1, in, in}), ShapeError);
}

TEST(ShapeErrors, OverflowErrorNamesAnArgument) {
  DeconvParams p = make_params({3}, 1);
  p.stride = {kBig};
  try {
    infer_geometry(p, {1, 1, int64_t(1) << 40});
    FAIL() << "no exception";
  } catch (const ShapeError& e) {
    EXPECT_FALSE(e.arg().empty());
    EXPECT_NE(e.detail().find("too large"), std::string::npos) << e.what();
  }
}

TEST(Shape, CheckedArithmetic) {
  EXPECT_EQ(checked_mul(int64_t(1) << 31, int64_t(1) << 31, "x"), int64_t(1) << 62);
  EXPECT_EQ(checked_add(INT64_MAX - 1, 1, "x"), INT64_MAX);
  EXPECT_DECONV_ERROR(ShapeError, checked_mul(int64_t(1) << 32, int64_t(1) << 31, "x"), "x",
                      "overflow");
  EXPECT_DECONV_ERROR(ShapeError, checked_add(INT64_MAX, 1, "y"), "y", "overflow");
}

// ---- weight and bias shapes per layout -------------------------------------------------

TEST(Shape, WeightAndBiasShapesPerLayout) {
  struct Case {
    Layout layout;
    Tuple kernel;
    Shape data, weight, out;
  };
  // channels 6, num_filter 4, num_group 2 -> 2 filters per group.
  const Case cases[] = {
      {Layout::NCW, {3}, {2, 6, 5}, {6, 2, 3}, {2, 4, 7}},
      {Layout::NCHW, {3, 2}, {2, 6, 5, 4}, {6, 2, 3, 2}, {2, 4, 7, 5}},
      {Layout::NCDHW, {1, 3, 2}, {2, 6, 3, 5, 4}, {6, 2, 1, 3, 2}, {2, 4, 3, 7, 5}},
      {Layout::NHWC, {3, 2}, {2, 5, 4, 6}, {6, 3, 2, 2}, {2, 7, 5, 4}},
      {Layout::NDHWC, {1, 3, 2}, {2, 3, 5, 4, 6}, {6, 1, 3, 2, 2}, {2, 3, 7, 5, 4}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(layout_name(c.layout));
    DeconvParams p = make_params(c.kernel, 4);
    p.num_group = 2;
    p.layout = c.layout;
    const Geometry g = infer_geometry(p, c.data);
    EXPECT_EQ(g.layout, c.layout);
    EXPECT_EQ(g.data_shape, c.data);
    EXPECT_EQ(g.weight_shape, c.weight);
    EXPECT_EQ(g.bias_shape, Shape({4}));
    EXPECT_EQ(g.out_shape, c.out);
    EXPECT_EQ(g.channels, 6);
    EXPECT_EQ(g.channels_per_group(), 3);
    EXPECT_EQ(g.filters_per_group(), 2);
    EXPECT_NO_THROW(check_weight_shape(g, c.weight));
    EXPECT_NO_THROW(check_bias_shape(g, {4}));
    Shape wrong = c.weight;
    std::swap(wrong[1], wrong.back());
    if (wrong != c.weight)
      EXPECT_DECONV_ERROR(ShapeError, check_weight_shape(g, wrong), "weight",
                          "(channels, num.filter/num.group, kernel)");
    Shape shorter(c.weight.begin(), c.weight.end() - 1);
    EXPECT_DECONV_ERROR(ShapeError, check_weight_shape(g, shorter), "weight", "");
    EXPECT_DECONV_ERROR(ShapeError, check_bias_shape(g, {2}), "bias", "4 values");
    EXPECT_DECONV_ERROR(ShapeError, check_bias_shape(g, {4, 1}), "bias", "");
  }
}

TEST(Shape, DefaultLayoutFromKernelRank) {
  EXPECT_EQ(infer_geometry(make_params({2}, 1), {1, 1, 3}).layout, Layout::NCW);
  EXPECT_EQ(infer_geometry(make_params({2, 2}, 1), {1, 1, 3, 3}).layout, Layout::NCHW);
  EXPECT_EQ(infer_geometry(make_params({2, 2, 2}, 1), {1, 1, 3, 3, 3}).layout, Layout::NCDHW);
}

TEST(Shape, WorkspaceCarried) {
  DeconvParams p = make_params({2}, 1);
  p.workspace = 7;
  EXPECT_EQ(infer_geometry(p, {1, 1, 3}).workspace_mb, 7);
  p.workspace = 0;
  EXPECT_EQ(infer_geometry(p, {1, 1, 3}).workspace_mb, 0);
}

// Details use R's dotted spellings (arg() stays MXNet's name; the R boundary dots it).
TEST(ShapeErrors, BiasGivenOrNotSpellsDottedNames) {
  DeconvParams p = make_params({3, 3}, 2);
  EXPECT_DECONV_ERROR(ParamError, check_bias_given(p, true), "bias",
                      "no.bias is TRUE; set no.bias = FALSE to use it");
  p.no_bias = false;
  EXPECT_DECONV_ERROR(ParamError, check_bias_given(p, false), "bias", "no.bias is FALSE");
  EXPECT_NO_THROW(check_bias_given(p, true));
  const Geometry g = infer_geometry(p, {1, 3, 4, 4});
  EXPECT_DECONV_ERROR(ShapeError, check_bias_shape(g, {3}), "bias", "one per filter, num.filter");
}
