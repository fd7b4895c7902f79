// One test per code path of the CPU kernel's plan (src/core/cpu/deconv_cpu.cpp): each
// chooses workspace, batch, sizes, groups and threads so the plan must take that path,
// asserts through RunStats that it did (in float and double, forward and backward), and
// compares forward and all three gradients with the direct-loop reference (reference.h).
// The random cases of test_deconv_cpu.cpp land on these paths too, but nothing there
// says which ones; here a path that stops being taken fails its test.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"
#include "reference.h"

using namespace deconv;
using namespace deconv_test;  // Case, make_case, Ref, Inputs, check_case, ...

namespace {

std::string path_str(const RunStats& s) {
  std::ostringstream os;
  os << "path: chunk_samples=" << s.chunk_samples << " tile=" << s.tile
     << " input_positions=" << s.input_positions << " chunks=" << s.chunks
     << " packed=" << s.packed << " group_parallel=" << s.group_parallel
     << " direct=" << s.direct << " temp_bytes=" << s.temp_bytes;
  return os.str();
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The path a case must take, checked on each run: its stats and the thread count.
using PathCheck = std::function<void(const RunStats&, int threads)>;

// Checks what holds on every path, then `expect`: the stats were filled in, the chunks
// cover every (sample, input position) once, X is packed exactly when channels-first
// chunks hold several samples, and the temporaries stay within the workspace whenever
// it holds one minimal chunk (one input position per worker), else are that chunk.
void check_stats(const Case& c, const Geometry& g, const RunStats& s, size_t elem, int threads,
                 const PathCheck& expect) {
  SCOPED_TRACE(path_str(s));
  ASSERT_EQ(s.input_positions, g.in_size());
  ASSERT_GE(s.chunk_samples, 1);
  ASSERT_GE(s.tile, 1);
  EXPECT_LE(s.chunk_samples, c.N);
  EXPECT_LE(s.tile, s.input_positions);
  if (s.chunk_samples > 1) {
    EXPECT_EQ(s.tile, s.input_positions);  // several samples only whole
  }
  EXPECT_EQ(s.chunks, ceil_div(c.N, s.chunk_samples) * ceil_div(s.input_positions, s.tile));
  EXPECT_EQ(s.packed, !g.channels_last && s.chunk_samples > 1 && !s.direct);
  EXPECT_TRUE(!s.group_parallel || (threads > 1 && c.G >= threads));
  EXPECT_TRUE(!s.direct || c.Cg == 1);  // the direct path is for one channel per group
  const int64_t workers = s.group_parallel ? threads : 1;
  const int64_t minimal = workers * c.Fg * g.kernel_size() * static_cast<int64_t>(elem);
  const int64_t workspace = c.workspace << 20;
  if (s.direct) {
    EXPECT_EQ(s.temp_bytes, 0);  // no columns, no packs
  } else if (workspace >= minimal) {
    EXPECT_LE(s.temp_bytes, workspace);
  } else {
    EXPECT_EQ(s.tile, 1);
    EXPECT_EQ(s.temp_bytes, minimal);
  }
  expect(s, threads);
}

template <typename T>
void run_path(const Case& c, const Geometry& g, const Ref& r, const Inputs& raw, int threads,
              const PathCheck& expect) {
  RunStats fwd, bwd;
  // Impossible values, so stats the kernel leaves unset fail the checks.
  fwd.chunk_samples = fwd.tile = fwd.input_positions = fwd.chunks = fwd.temp_bytes = -1;
  bwd = fwd;
  // These plans are the GEMM path's: the forward is forced onto it (phase_forward has
  // its own suite, test_phase_forward.cpp).
  check_case<T>(c, g, r, raw, threads, &fwd, &bwd, CpuPath::Gemm);
  const std::string type = std::is_same<T, double>::value ? "double" : "float";
  {
    SCOPED_TRACE(type + " forward, threads " + std::to_string(threads));
    check_stats(c, g, fwd, sizeof(T), threads, expect);
  }
  {
    SCOPED_TRACE(type + " backward, threads " + std::to_string(threads));
    check_stats(c, g, bwd, sizeof(T), threads, expect);
  }
}

// Runs `c` in double and float with each thread count, checking values and path.
void check_path(const Case& c, uint64_t seed, std::initializer_list<int> threads,
                const PathCheck& expect) {
  SCOPED_TRACE(c.str());
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  ASSERT_EQ(g.out_shape, r.out_shape);
  const Inputs raw = random_inputs(r, seed);
  for (int t : threads) {
    run_path<double>(c, g, r, raw, t, expect);
    run_path<float>(c, g, r, raw, t, expect);
  }
}

bool have_two_threads() { return resolve_threads(2) >= 2; }

// Several whole samples per chunk and a shorter last chunk (N not a multiple of nb).
void expect_whole_samples_with_tail(const RunStats& s, int64_t N) {
  EXPECT_GT(s.chunk_samples, 1);
  EXPECT_LT(s.chunk_samples, N);
  EXPECT_NE(N % s.chunk_samples, 0) << "no tail chunk";
  EXPECT_EQ(s.tile, s.input_positions);
}

// Tiles of one sample's input positions, the last one shorter.
void expect_tiles_with_tail(const RunStats& s) {
  EXPECT_EQ(s.chunk_samples, 1);
  EXPECT_GT(s.tile, 1);
  EXPECT_LT(s.tile, s.input_positions);
  EXPECT_NE(s.input_positions % s.tile, 0) << "no tail tile";
  EXPECT_FALSE(s.packed);
}

// ---- several whole samples per chunk -----------------------------------------------------

TEST(DeconvCpuPath, WholeSamplesPackedAndUnpackedWithTailChunk) {
  // Default workspace: the chunk width (nb * S) bounds nb. S = 13 * 17 = 221, N = 11.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case c = make_case(l, 11, 2, 2, 3, {13, 17}, {3, 2}, {2, 3}, {1, 2}, {1, 1},
                             {1, 0}, true);
    check_path(c, 101, {1, 2}, [&](const RunStats& s, int) {
      expect_whole_samples_with_tail(s, c.N);
      EXPECT_EQ(s.packed, l == Layout::NCHW);
    });
  }
  // 1D channels-first, S = 131 (the only 1D layout).
  const Case c1 = make_case(Layout::NCW, 23, 1, 3, 2, {131}, {4}, {3}, {2}, {2}, {1}, false);
  check_path(c1, 102, {1, 2}, [&](const RunStats& s, int) {
    expect_whole_samples_with_tail(s, c1.N);
    EXPECT_TRUE(s.packed);
  });
}

TEST(DeconvCpuPath, WholeSamplesBoundByWorkspaceWithTailChunk) {
  // 1 MB bounds nb: a sample takes S * (Fg*K + packed X) = 247 * (225 + 3 or 6) values,
  // so 4 samples fit in float and 2 in double; N = 5 leaves a tail either way.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case c = make_case(l, 5, 1, 3, 9, {13, 19}, {5, 5}, {2, 1}, {1, 1}, {2, 1}, {1, 0},
                             true, 1);
    check_path(c, 103, {1, 2}, [&](const RunStats& s, int) {
      expect_whole_samples_with_tail(s, c.N);
      EXPECT_EQ(s.packed, l == Layout::NCHW);
      EXPECT_GT(s.temp_bytes, (int64_t(1) << 20) / 2);  // uses most of the workspace
    });
  }
}

// ---- one whole sample per chunk ----------------------------------------------------------

TEST(DeconvCpuPath, OneSamplePerChunkUntiled) {
  auto one_sample = [](const Case& c) {
    return [&c](const RunStats& s, int) {
      EXPECT_EQ(s.chunk_samples, 1);
      EXPECT_EQ(s.tile, s.input_positions);
      EXPECT_EQ(s.chunks, c.N);
      EXPECT_FALSE(s.packed);
    };
  };
  // Samples as wide as a chunk may be (S = 2053 and 11*13*17 = 2431 >= 2048): one each.
  const Case wide1 = make_case(Layout::NCW, 3, 1, 2, 3, {2053}, {3}, {2}, {1}, {1}, {1}, true);
  check_path(wide1, 104, {1, 2}, one_sample(wide1));
  for (Layout l : {Layout::NCDHW, Layout::NDHWC}) {
    const Case wide3 = make_case(l, 2, 1, 2, 2, {11, 13, 17}, {2, 1, 3}, {1, 2, 3}, {1, 1, 2},
                                 {0, 0, 1}, {0, 1, 2}, false);
    check_path(wide3, 105, {1, 2}, one_sample(wide3));
  }
  // A batch of one.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case single = make_case(l, 1, 2, 3, 2, {7, 11}, {3, 3}, {2, 1}, {1, 2}, {1, 2},
                                  {1, 0}, true);
    check_path(single, 106, {1, 2}, one_sample(single));
  }
}

// ---- tiles within a sample -----------------------------------------------------------------

// Cases whose columns (S * Fg*K values) exceed 1 MB in float and double, with S not a
// multiple of the tile there (1 MB / (Fg*K * sizeof) positions); odd shapes throughout.
std::vector<Case> tiled_cases(int64_t workspace) {
  std::vector<Case> cases;
  // 1D: S = 1009, Fg*K = 40 * 7 = 280: tiles of 936 (float) or 468 (double); stride 11
  // beyond the dilated kernel's taps, pad and adj.
  cases.push_back(make_case(Layout::NCW, 2, 1, 2, 40, {1009}, {7}, {11}, {3}, {2}, {3}, true,
                            workspace));
  // 2D: S = 13 * 11 = 143, Fg*K = 128 * 15 = 1920: tiles of 136 or 68; stride 4 > kernel
  // 3, dilation, and a target_shape on h (full 33, target 27).
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    Case c = make_case(l, 2, 1, 2, 128, {13, 11}, {5, 3}, {2, 4}, {2, 1}, {3, 1}, {1, 2}, true,
                       workspace);
    c.target = {27, 0};
    cases.push_back(c);
  }
  // 3D: S = 3 * 5 * 7 = 105, Fg*K = 100 * 27 = 2700: tiles of 97 or 48; stride 4 > kernel 3.
  for (Layout l : {Layout::NCDHW, Layout::NDHWC}) {
    cases.push_back(make_case(l, 2, 1, 2, 100, {3, 5, 7}, {3, 3, 3}, {1, 4, 2}, {1, 1, 2},
                              {1, 0, 2}, {0, 3, 1}, false, workspace));
  }
  return cases;
}

TEST(DeconvCpuPath, TilesWithTailTileWorkspace1MB) {
  uint64_t seed = 110;
  for (const Case& c : tiled_cases(1)) {
    check_path(c, seed++, {1, 2}, [](const RunStats& s, int) {
      expect_tiles_with_tail(s);
      EXPECT_GT(s.temp_bytes, (int64_t(1) << 20) / 2);  // tiles as large as fit
    });
  }
}

TEST(DeconvCpuPath, TilesOfOnePositionWorkspace0) {
  // No workspace: one input position per chunk, so no tile is short, and the
  // temporaries are one position's columns.
  uint64_t seed = 120;
  for (const Case& c : tiled_cases(0)) {
    check_path(c, seed++, {1, 2}, [&c](const RunStats& s, int) {
      EXPECT_EQ(s.chunk_samples, 1);
      EXPECT_EQ(s.tile, 1);
      EXPECT_EQ(s.chunks, c.N * s.input_positions);
      EXPECT_FALSE(s.packed);
    });
  }
}

// ---- threads: whole groups per thread, or a team per group ---------------------------------

TEST(DeconvCpuPath, GroupParallelTwoThreads) {
  if (!have_two_threads()) GTEST_SKIP() << "built without OpenMP";
  auto group_parallel = [](const RunStats& s, int) { EXPECT_TRUE(s.group_parallel); };
  uint64_t seed = 130;
  // G = 2, 3 and 5 groups on 2 threads (3 and 5: one thread takes an extra group), on
  // whole-sample chunks (packed and not) and on one-position tiles.
  for (int64_t G : {2, 3, 5}) {
    for (Layout l : {Layout::NCHW, Layout::NHWC, Layout::NCDHW}) {
      for (int64_t ws : {512, 0}) {
        const int rank = layout_rank(l);
        Tuple in = rank == 2 ? Tuple{7, 5} : Tuple{3, 5, 2};
        const Case c = make_case(l, 3, G, 2, 3, in, Tuple(rank, 3), Tuple(rank, 2),
                                 Tuple(rank, 1), Tuple(rank, 1), Tuple(rank, 1), true, ws);
        check_path(c, seed++, {2}, group_parallel);
      }
    }
  }
  // Group-parallel tiles of a 1 MB workspace split between the 2 threads.
  const Case tiled = make_case(Layout::NHWC, 2, 3, 2, 64, {13, 11}, {5, 5}, {2, 3}, {1, 1},
                               {2, 1}, {1, 0}, false, 1);
  check_path(tiled, seed++, {2}, [](const RunStats& s, int threads) {
    EXPECT_TRUE(s.group_parallel);
    expect_tiles_with_tail(s);
    EXPECT_LE(s.temp_bytes, int64_t(1) << 20);
    EXPECT_EQ(threads, 2);
  });
}

TEST(DeconvCpuPath, TeamOfTwoThreadsPerGroup) {
  if (!have_two_threads()) GTEST_SKIP() << "built without OpenMP";
  auto team = [](const RunStats& s, int) { EXPECT_FALSE(s.group_parallel); };
  uint64_t seed = 150;
  // One group: both threads share each GEMM and col2im/im2col, on whole-sample chunks
  // (odd N), one-sample chunks and tiles.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    for (int64_t N : {5, 1}) {
      for (int64_t ws : {512, 0}) {
        const Case c = make_case(l, N, 1, 5, 7, {9, 7}, {3, 4}, {3, 2}, {2, 1}, {1, 2}, {2, 1},
                                 true, ws);
        check_path(c, seed++, {2}, team);
      }
    }
  }
  // Two groups, but each too large (Cg * Fg*K = 16 * 48 * 25 > 16384) to give a thread.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case c = make_case(l, 2, 2, 16, 48, {7, 7}, {5, 5}, {2, 2}, {1, 1}, {2, 2}, {1, 1},
                             true);
    check_path(c, seed++, {2}, team);
  }
}

// ---- col2im storing each output once -------------------------------------------------------

// The forward's col2im stores bias + column when every output has one tap, and adds into
// an output filled first otherwise; the (poisoned) outputs are compared either way.
void check_stored_once(const Case& c, bool want) {
  SCOPED_TRACE(c.str());
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 211);
  for (int t : {1, 2, 3}) {
    RunStats fwd, bwd;
    fwd.stored_once = !want;  // the run must set it
    check_case<double>(c, g, r, raw, t, &fwd, &bwd, CpuPath::Gemm);
    EXPECT_EQ(fwd.stored_once, want);
    EXPECT_FALSE(bwd.stored_once);
    fwd.stored_once = !want;
    check_case<float>(c, g, r, raw, t, &fwd, &bwd, CpuPath::Gemm);
    EXPECT_EQ(fwd.stored_once, want);
  }
}

TEST(DeconvCpuPath, Col2imStoresEachOutputOnceWhenItHasOneTap) {
  // kernel = stride (pad only crops): 1D, 2D, 3D, both channel orders, groups, with and
  // without bias, whole samples and tiles of one position (workspace 0).
  check_stored_once(targeted(Layout::NCHW, 3, 1, 3, 4, {9, 7}, {2, 2}, {2, 2}, {1, 1}, {0, 0}),
                    true);
  check_stored_once(targeted(Layout::NHWC, 3, 2, 3, 2, {5, 7}, {2, 3}, {2, 3}, {1, 1}, {0, 1}),
                    true);
  check_stored_once(targeted(Layout::NCDHW, 2, 1, 4, 3, {3, 4, 5}, {2, 2, 2}, {2, 2, 2},
                             {1, 1, 1}, {0, 0, 0}),
                    true);
  check_stored_once(targeted(Layout::NCW, 2, 2, 2, 3, {11}, {3}, {3}, {1}, {1}, {}, {}, false),
                    true);
  // Stride 3 with no crop: a kernel row's three runs are written interleaved.
  check_stored_once(targeted(Layout::NCW, 2, 1, 2, 3, {10}, {3}, {3}, {1}, {0}), true);
  Case tiled = targeted(Layout::NCHW, 2, 1, 3, 5, {13, 11}, {2, 2}, {2, 2}, {1, 1}, {1, 0});
  tiled.workspace = 0;
  check_stored_once(tiled, true);
  // Outputs with no tap (adj), taps apart (dilation), or several taps (kernel > stride).
  check_stored_once(
      targeted(Layout::NCHW, 2, 1, 3, 4, {5, 6}, {2, 2}, {2, 2}, {1, 1}, {0, 0}, {1, 0}), false);
  check_stored_once(
      targeted(Layout::NHWC, 2, 1, 3, 4, {5, 6}, {2, 2}, {2, 2}, {2, 1}, {0, 0}), false);
  check_stored_once(
      targeted(Layout::NCHW, 2, 1, 3, 4, {5, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}), false);
}

// ---- depthwise ---------------------------------------------------------------------------

TEST(DeconvCpuPath, Depthwise) {
  // G = C = 7: one input channel per group, so the direct path (no GEMM) runs, on one
  // thread or with whole groups per thread. One output channel per group (F = 7) or
  // three (F = 21, a depthwise multiplier); whole-sample chunks (all N = 5 samples) and
  // one-position tiles.
  uint64_t seed = 160;
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    for (int64_t Fg : {1, 3}) {
      for (int64_t ws : {512, 0}) {
        const Case c = make_case(l, 5, 7, 1, Fg, {11, 13}, {3, 3}, {2, 2}, {1, 1}, {1, 1},
                                 {1, 1}, true, ws);
        check_path(c, seed++, {1, 2}, [&](const RunStats& s, int threads) {
          EXPECT_EQ(s.group_parallel, threads > 1 && have_two_threads());
          EXPECT_TRUE(s.direct);
          if (ws == 0) {
            EXPECT_EQ(s.tile, 1);
          } else {
            EXPECT_EQ(s.chunk_samples, c.N);
          }
        });
      }
    }
  }
  // 1D, 2D and 3D, channels first and last, with dilation, uneven strides, pad, adj and odd
  // sizes; a stride larger than the kernel leaves outputs untouched; 1 MB tiles.
  const Case d1 = make_case(Layout::NCW, 3, 4, 1, 2, {17}, {5}, {3}, {2}, {3}, {1}, false, 512);
  const Case d2l = make_case(Layout::NHWC, 2, 5, 1, 1, {9, 4}, {2, 3}, {4, 1}, {1, 2}, {0, 1},
                             {3, 0}, true, 0);
  const Case d3 = make_case(Layout::NCDHW, 2, 3, 1, 2, {3, 5, 4}, {3, 2, 3}, {2, 1, 3},
                            {1, 2, 1}, {1, 0, 2}, {1, 0, 2}, true, 512);
  const Case d3l = make_case(Layout::NDHWC, 2, 3, 1, 1, {4, 3, 5}, {2, 3, 2}, {1, 2, 2},
                             {2, 1, 1}, {0, 1, 0}, {0, 1, 1}, false, 1);
  for (const Case* c : {&d1, &d2l, &d3, &d3l}) {
    check_path(*c, seed++, {1, 2}, [](const RunStats& s, int) { EXPECT_TRUE(s.direct); });
  }
  // One group of one channel on a team of 2 threads: the threads would race on dx and
  // dw, so the team takes the GEMM path.
  if (have_two_threads()) {
    const Case team = make_case(Layout::NCHW, 3, 1, 1, 4, {15, 9}, {3, 3}, {2, 2}, {1, 1},
                                {1, 1}, {1, 1}, true, 512);
    check_path(team, seed++, {2}, [](const RunStats& s, int) {
      EXPECT_FALSE(s.group_parallel);
      EXPECT_FALSE(s.direct);
    });
  }
}

// ---- workspace bound ---------------------------------------------------------------------

TEST(DeconvCpuPath, TempBytesWithinWorkspaceOnEveryPath) {
  // 1 and 2 MB on whole-sample chunks, tiles, and group-parallel tiles (each thread's
  // buffers count); check_stats asserts temp_bytes <= workspace on every run.
  uint64_t seed = 170;
  for (int64_t ws : {1, 2}) {
    const Case whole = make_case(Layout::NCHW, 9, 1, 3, 9, {13, 19}, {5, 5}, {2, 1}, {1, 1},
                                 {2, 1}, {1, 0}, false, ws);
    const Case tiles = make_case(Layout::NDHWC, 1, 1, 2, 100, {3, 5, 7}, {3, 3, 3}, {1, 4, 2},
                                 {1, 1, 2}, {1, 0, 2}, {0, 3, 1}, false, ws);
    const Case groups = make_case(Layout::NCHW, 2, 3, 2, 64, {13, 11}, {5, 5}, {2, 3}, {1, 1},
                                  {2, 1}, {1, 0}, false, ws);
    for (const Case* c : {&whole, &tiles, &groups}) {
      check_path(*c, seed++, {1, 2}, [ws](const RunStats& s, int) {
        EXPECT_LE(s.temp_bytes, ws << 20);
        EXPECT_GT(s.temp_bytes, (ws << 20) / 2);
      });
    }
  }
}

}  // namespace
