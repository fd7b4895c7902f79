// Fuzz target: parameters (fields drawn from the bytes, or MXNet attribute text through
// the parser) -> normalize_params -> infer_geometry with a fuzzed data shape. Nothing
// may crash, overflow or throw anything but a deconv::Error; whatever succeeds must
// satisfy MXNet's shape formulas exactly (checked in 128-bit arithmetic).
#include <cstddef>
#include <cstdint>
#include <string>

#include "attr_text.h"
#include "byte_reader.h"
#include "check.h"
#include "core/error.h"
#include "core/mxnet_attrs.h"
#include "core/params.h"
#include "core/shape.h"
#include "params_compare.h"

namespace {

using deconv::DeconvParams;
using deconv::Geometry;
using deconv::Layout;
using deconv::Shape;
using deconv::Tuple;
using deconv_fuzz::ByteReader;
using deconv_fuzz::check;
using deconv_fuzz::fail;
using i128 = __int128;

constexpr int64_t kParseBound = int64_t(1) << 40;

// Mostly the kernel's length (so that inputs get past the length checks), sometimes
// empty (the default) or any length up to 4.
Tuple draw_tuple(ByteReader& in, size_t rank) {
  const uint8_t mode = in.byte() % 8;
  const size_t n = mode < 2 ? 0 : mode == 7 ? static_cast<size_t>(in.range(0, 4)) : rank;
  Tuple t(n);
  for (auto& v : t) v = in.edgy();
  return t;
}

DeconvParams draw_params(ByteReader& in) {
  DeconvParams p;
  const size_t rank = static_cast<size_t>(in.range(0, 4));
  p.kernel.resize(rank);
  for (auto& v : p.kernel) v = in.edgy();
  p.stride = draw_tuple(in, rank);
  p.dilate = draw_tuple(in, rank);
  p.pad = draw_tuple(in, rank);
  p.adj = draw_tuple(in, rank);
  p.target_shape = draw_tuple(in, rank);
  p.num_filter = in.edgy();
  p.num_group = in.flag() ? 1 : in.edgy();
  p.workspace = in.flag() ? 512 : in.edgy();
  p.no_bias = in.flag();
  p.cudnn_off = in.flag();
  p.cudnn_tune = static_cast<deconv::CudnnTune>(in.range(0, 3));
  p.layout = static_cast<Layout>(in.range(0, 5));
  return p;
}

bool within_parse_bound(const DeconvParams& p) {
  auto ok = [](int64_t v) { return v >= -kParseBound && v <= kParseBound; };
  for (const Tuple* t : {&p.kernel, &p.stride, &p.dilate, &p.pad, &p.adj, &p.target_shape})
    for (int64_t v : *t)
      if (!ok(v)) return false;
  return ok(p.num_filter) && ok(p.num_group) && ok(p.workspace);
}

// Writing any parameters the parser could have returned and parsing them back is exact.
void check_attr_round_trip(const DeconvParams& p) {
  if (p.kernel.empty() || !within_parse_bound(p)) return;
  static const std::vector<std::string> keys = {
      "kernel", "stride", "dilate", "pad", "adj", "target_shape", "num_filter",
      "num_group", "workspace", "no_bias", "cudnn_tune", "cudnn_off", "layout"};
  DeconvParams back;
  try {
    back = deconv::params_from_mxnet_attrs(deconv::mxnet_attrs_from_params(p, keys));
  } catch (const deconv::Error& e) {
    fail(std::string("written attributes do not parse: ") + e.what() + "; " +
         deconv_test::describe_params(p));
  }
  if (!deconv_test::same_params(back, p))
    fail("attribute round trip changed " + deconv_test::describe_params(p) + " into " +
         deconv_test::describe_params(back));
}

i128 product(const Shape& s) {
  i128 n = 1;
  for (int64_t d : s) {
    n *= d;
    if (n > INT64_MAX) return n;  // flagged by the caller; stop before __int128 overflows
  }
  return n;
}

// What a successful infer_geometry promises, recomputed independently.
void check_geometry(const DeconvParams& p, const Shape& data, const Geometry& g) {
  const int rank = static_cast<int>(p.kernel.size());
  check(g.rank == rank && static_cast<int>(data.size()) == rank + 2, "rank");
  const bool last = g.channels_last;
  const int64_t channels = last ? data[rank + 1] : data[1];
  check(g.channels == channels && g.batch == data[0], "batch/channels");
  check(g.num_group >= 1 && channels % g.num_group == 0 && g.num_filter % g.num_group == 0,
        "groups");
  const bool target = deconv::uses_target_shape(p);
  const int off = 3 - rank;
  for (int k = 0; k < off; ++k)
    check(g.in[k] == 1 && g.out[k] == 1 && g.kernel[k] == 1 && g.stride[k] == 1 &&
              g.dilate[k] == 1 && g.pad[k] == 0 && g.adj[k] == 0,
          "unused leading dimensions");
  for (int i = 0; i < rank; ++i) {
    const int k = off + i;
    const int64_t in = last ? data[1 + i] : data[2 + i];
    check(g.in[k] == in && g.kernel[k] == p.kernel[i], "in/kernel copied");
    check(g.pad[k] >= 0 && g.adj[k] >= 0, "pad/adj non-negative");
    const i128 full = i128(g.stride[k]) * (in - 1) + i128(g.dilate[k]) * (g.kernel[k] - 1) + 1;
    check(i128(g.out[k]) == full - 2 * i128(g.pad[k]) + g.adj[k], "output extent formula");
    check(g.out[k] >= 1, "output extent positive");
    if (target && p.target_shape[i] != 0) {
      check(g.out[k] == p.target_shape[i], "target_shape reached exactly");
      check(g.adj[k] <= 1, "adj from target is 0 or 1");
    } else {
      check(g.adj[k] < g.stride[k], "adj < stride where given");
    }
  }
  check(product(g.out_shape) <= INT64_MAX && product(g.weight_shape) <= INT64_MAX &&
            product(g.data_shape) <= INT64_MAX,
        "sizes representable");
  check(g.out_shape.size() == data.size() && g.weight_shape.size() == data.size(), "shapes");
  check(g.bias_shape == Shape{g.num_filter}, "bias shape");
}

void run(const DeconvParams& raw, const Shape& data) {
  DeconvParams p;
  try {
    p = deconv::normalize_params(raw);
  } catch (const deconv::Error&) {
    return;
  }
  // Normalizing is idempotent, and infer_geometry normalizes by itself.
  check(deconv_test::same_params(deconv::normalize_params(p), p), "normalize idempotent");
  check_attr_round_trip(p);
  Geometry g;
  try {
    g = deconv::infer_geometry(raw, data);
  } catch (const deconv::Error&) {
    return;
  }
  check_geometry(p, data, g);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  const uint8_t mode = in.byte();
  DeconvParams p;
  if (mode & 1) {
    // MXNet attribute text for the parameters, then a data shape from the last bytes.
    const size_t shape_bytes = size > 1 ? std::min<size_t>(data[size - 1] % 8, size - 1) : 0;
    const size_t text_size = size > 1 ? size - 1 - shape_bytes : 0;
    try {
      p = deconv::params_from_mxnet_attrs(deconv_fuzz::attrs_from_text(data + 1, text_size));
    } catch (const deconv::ParamError&) {
      return 0;
    }
    check_attr_round_trip(p);
    ByteReader tail(data + 1 + text_size, shape_bytes);
    Shape shape(p.kernel.size() + 2);
    for (auto& d : shape) d = tail.remaining() ? tail.edgy() : 4;
    run(p, shape);
    return 0;
  }
  p = draw_params(in);
  check_attr_round_trip(p);
  const uint8_t shape_mode = in.byte() % 8;
  const size_t n = shape_mode == 7 ? static_cast<size_t>(in.range(0, 6)) : p.kernel.size() + 2;
  Shape shape(n);
  for (auto& d : shape) d = in.edgy();
  run(p, shape);
  return 0;
}
