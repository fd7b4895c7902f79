// Interrupts in the CPU kernels (src/core/cpu/deconv_cpu.cpp): on calls that are one big
// chunk (the team path, whose GEMMs are cut into sub-blocks), on the group-parallel and on
// the direct (depthwise) path, the callback is polled regularly while the kernel runs,
// only on the calling thread, an interrupt stops the call promptly with Interrupted, and
// one reported only by the end-of-run poll is still delivered by that call.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/dispatch.h"
#include "core/error.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"

using namespace deconv;
using deconv_test::Case;
using deconv_test::make_case;

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// What the callback saw during one run.
struct PollLog {
  bool interrupted = false;   // the run threw Interrupted
  int calls = 0;              // callback calls
  int calls_off_caller = 0;   // ... from a thread other than the caller's
  int calls_after_stop = 0;   // ... after it had returned true
  double max_gap = 0;         // longest time without a poll: start, polls, end
  int max_gap_before = 0;     // ... ended by this call (calls: by the end of the run)
  double stop_latency = -1;   // from the poll that returned true to the throw
  double wall = 0;
};

// Runs `run` with a callback that records each call and returns decide(call index,
// seconds since the start).
PollLog logged(const std::function<void(const RunOptions&)>& run, int threads,
               const std::function<bool(int, double)>& decide) {
  PollLog log;
  std::mutex mutex;
  const std::thread::id caller = std::this_thread::get_id();
  const Clock::time_point start = Clock::now();
  Clock::time_point last = start, stopped_at{};
  bool stopped = false;
  RunOptions opts;
  opts.threads = threads;
  opts.interrupted = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    const Clock::time_point now = Clock::now();
    if (std::this_thread::get_id() != caller) ++log.calls_off_caller;
    if (stopped) ++log.calls_after_stop;
    if (seconds(now - last) > log.max_gap) {
      log.max_gap = seconds(now - last);
      log.max_gap_before = log.calls;
    }
    last = now;
    const bool stop = decide(log.calls++, seconds(now - start));
    if (stop && !stopped) {
      stopped = true;
      stopped_at = now;
    }
    return stop;
  };
  try {
    run(opts);
  } catch (const Interrupted&) {
    log.interrupted = true;
  }
  const Clock::time_point end = Clock::now();
  if (seconds(end - last) > log.max_gap) {
    log.max_gap = seconds(end - last);
    log.max_gap_before = log.calls;
  }
  log.wall = seconds(end - start);
  if (stopped) log.stop_latency = seconds(end - stopped_at);
  return log;
}

std::string str(const PollLog& l) {
  return "calls=" + std::to_string(l.calls) + " max_gap=" + std::to_string(l.max_gap) +
         " s (before call " + std::to_string(l.max_gap_before) + ")" +
         " s, stop_latency=" + std::to_string(l.stop_latency) +
         " s, wall=" + std::to_string(l.wall) + " s, interrupted=" + std::to_string(l.interrupted);
}

// Inputs of a case in float, and the calls on them.
struct Problem {
  Case c;
  Geometry g;
  std::vector<float> x, w, b, y, dy, dx, dw, db;
  CpuPath path = CpuPath::Auto;  // the forward's algorithm
  Algorithm algorithm = Algorithm::Auto;

  explicit Problem(const Case& cs) : c(cs), g(infer_geometry(cs.params(), cs.data_shape())) {
    auto fill = [](std::vector<float>& v, int64_t n, uint32_t seed) {
      v.resize(static_cast<size_t>(n));
      for (auto& e : v) {  // cheap values in [-0.5, 0.5): these arrays are large
        seed = seed * 1664525u + 1013904223u;
        e = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
      }
    };
    fill(x, element_count(g.data_shape), 1);
    fill(w, element_count(g.weight_shape), 2);
    fill(b, g.num_filter, 3);
    fill(dy, element_count(g.out_shape), 4);
    y.resize(dy.size());
    dx.resize(x.size());
    dw.resize(w.size());
    db.resize(b.size());
  }
  void forward(const RunOptions& o, RunStats* s = nullptr) {
    RunOptions with_path = o;
    with_path.cpu_path = path;
    with_path.algorithm = algorithm;
    deconvolution_forward<float>(Context{}, g, x.data(), w.data(), c.bias ? b.data() : nullptr,
                                 y.data(), with_path, s);
  }
  void backward(const RunOptions& o, RunStats* s = nullptr) {
    RunOptions with_algorithm = o;
    with_algorithm.algorithm = algorithm;
    deconvolution_backward<float>(Context{}, g, dy.data(), x.data(), w.data(), dx.data(),
                                  dw.data(), c.bias ? db.data() : nullptr, with_algorithm, s);
  }
};

// The poll gap these tests accept: the target is an interrupt seen within 0.2 s.
// DECONV_TIMING_SLACK (a factor >= 1) widens it for builds that run several times
// slower than the release build, such as `make sanitize`'s ASan + UBSan build.
double timing_slack() {
  const char* s = std::getenv("DECONV_TIMING_SLACK");
  const double v = s ? std::atof(s) : 1.0;
  return v >= 1.0 ? v : 1.0;
}
const double kMaxGap = 0.15 * timing_slack();
// A run shorter than this cannot show regular polls (not widened: slower code only
// makes the runs longer).
constexpr double kMinWall = 0.15;

// On `pb`'s forward and backward: polls come regularly, only from the calling thread,
// and an interrupt (the 4th poll) stops the call promptly, with no poll after it.
void check_interruptible(Problem& pb, int threads) {
  for (bool fwd : {true, false}) {
    SCOPED_TRACE(fwd ? "forward" : "backward");
    auto run = [&](const RunOptions& o) { fwd ? pb.forward(o) : pb.backward(o); };
    const PollLog full = logged(run, threads, [](int, double) { return false; });
    SCOPED_TRACE("full run: " + str(full));
    std::printf("[ info ] %s, %d threads: %s\n", fwd ? "forward" : "backward", threads,
                str(full).c_str());
    EXPECT_FALSE(full.interrupted);
    EXPECT_EQ(full.calls_off_caller, 0);
    EXPECT_GT(full.wall, kMinWall) << "the case is too short to show regular polls";
    EXPECT_LT(full.max_gap, kMaxGap);
    EXPECT_GE(full.calls, static_cast<int>(full.wall / kMaxGap));

    const PollLog stop = logged(run, threads, [](int call, double) { return call == 3; });
    SCOPED_TRACE("interrupted run: " + str(stop));
    std::printf("[ info ] %s interrupted: %s\n", fwd ? "forward" : "backward", str(stop).c_str());
    EXPECT_TRUE(stop.interrupted);
    EXPECT_EQ(stop.calls, 4);
    EXPECT_EQ(stop.calls_after_stop, 0);
    EXPECT_EQ(stop.calls_off_caller, 0);
    EXPECT_GE(stop.stop_latency, 0);
    EXPECT_LT(stop.stop_latency, kMaxGap);
    EXPECT_LT(stop.wall, full.wall);
  }
}

bool have_two_threads() { return resolve_threads(2) >= 2; }

// check_interruptible on one and two threads, after `expect` has checked (on the stats
// of a plain forward) that the case takes the path it is written for.
void check_on_one_and_two_threads(Problem& pb, const std::function<void(const RunStats&)>& expect) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    RunOptions o;
    o.threads = threads;
    RunStats s;
    pb.forward(o, &s);
    expect(s);
    if (::testing::Test::HasFatalFailure()) return;
    check_interruptible(pb, threads);
  }
}

TEST(Interrupts, OneBigChunkTeamPath) {
  // N = 1, 1024 -> 512 channels, 96x96, kernel 4, stride 2: one chunk whose GEMMs (m up to
  // Fg*K = 8192) are cut along k, n and m.
  Problem pb(make_case(Layout::NCHW, 1, 1, 1024, 512, {96, 96}, {4, 4}, {2, 2}, {1, 1}, {1, 1},
                       {0, 0}, true));
  pb.path = CpuPath::Gemm;  // (Winograd's automatic choice would take it)
  RunStats s;
  pb.forward(RunOptions{}, &s);
  ASSERT_EQ(s.chunks, 1);
  ASSERT_FALSE(s.group_parallel);
  ASSERT_FALSE(s.direct);
  check_interruptible(pb, 2);
}

TEST(Interrupts, Winograd) {
  // The same layer on Winograd, forward and data gradient (forced): filter
  // transforms, GEMMs and transforms of many chunks. The data gradient's filter
  // transform once ran 0.2 s between polls.
  Problem pb(make_case(Layout::NCHW, 1, 1, 1024, 512, {96, 96}, {4, 4}, {2, 2}, {1, 1}, {1, 1},
                       {0, 0}, true));
  pb.algorithm = Algorithm::Winograd;
  RunStats s;
  pb.forward(RunOptions{}, &s);
  ASSERT_TRUE(s.winograd);
  check_interruptible(pb, 1);
  check_interruptible(pb, 2);
}

TEST(Interrupts, OneBigChunkChannelsLastOneThread) {
  Problem pb(make_case(Layout::NHWC, 1, 1, 1024, 512, {64, 64}, {4, 4}, {2, 2}, {1, 1}, {1, 1},
                       {0, 0}, false));
  pb.path = CpuPath::Gemm;
  RunStats s;
  pb.forward(RunOptions{}, &s);
  ASSERT_EQ(s.chunks, 1);
  check_interruptible(pb, 1);
}

TEST(Interrupts, GroupParallelPath) {
  if (!have_two_threads()) GTEST_SKIP() << "built without OpenMP";
  // 64 groups of 16 -> 16 channels, 192x192: whole groups per thread, one chunk.
  Problem pb(make_case(Layout::NCHW, 1, 64, 16, 16, {192, 192}, {4, 4}, {2, 2}, {1, 1}, {1, 1},
                       {0, 0}, true));
  pb.path = CpuPath::Gemm;
  RunOptions two;
  two.threads = 2;
  RunStats s;
  pb.forward(two, &s);
  ASSERT_TRUE(s.group_parallel);
  ASSERT_FALSE(s.direct);
  check_interruptible(pb, 2);
}

TEST(Interrupts, DirectPath) {
  // Depthwise, 16 channels with 4 filters each, 512x512, kernel 8: the direct path, one
  // chunk; on one thread and with whole groups per thread.
  Problem pb(make_case(Layout::NCHW, 1, 16, 1, 4, {512, 512}, {8, 8}, {2, 2}, {1, 1}, {3, 3},
                       {0, 0}, true));
  pb.path = CpuPath::Gemm;
  check_on_one_and_two_threads(pb, [](const RunStats& s) {
    ASSERT_TRUE(s.direct);
    ASSERT_EQ(s.chunks, 1);
  });
}

TEST(Interrupts, PhasePath) {
  // 128 -> 128 channels, 256x256, kernel 4, stride 2, forced onto the phase-decomposed
  // forward (about 34 GFLOP): polls between output rows, on one and two threads.
  Problem pb(make_case(Layout::NCHW, 1, 1, 128, 128, {256, 256}, {4, 4}, {2, 2}, {1, 1},
                       {1, 1}, {0, 0}, true));
  pb.path = CpuPath::Phase;
  check_on_one_and_two_threads(pb, [](const RunStats& s) { ASSERT_TRUE(s.phase); });
}

TEST(Interrupts, ReportedOnlyAtTheEndStillThrows) {
  // Calls far shorter than the poll interval poll once, at their end; an interrupt that
  // only this last poll sees must make the call throw, not stay pending for the next.
  for (int threads : {1, 2}) {
    Problem pb(make_case(Layout::NCHW, 3, 1, 8, 8, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1},
                         {0, 0}, true));
    for (bool fwd : {true, false}) {
      SCOPED_TRACE(std::string(fwd ? "forward" : "backward") + ", threads " +
                   std::to_string(threads));
      auto run = [&](const RunOptions& o) { fwd ? pb.forward(o) : pb.backward(o); };
      // Warm (thread pool, buffers); on a busy machine a run may still be slow: retry.
      // (With 2 threads on a loaded machine, waking the second thread can take a
      // scheduler tick; that case is then left out, the 1-thread one never is.)
      PollLog quiet;
      for (int attempt = 0; attempt < 10; ++attempt) {
        quiet = logged(run, threads, [](int, double) { return false; });
        if (quiet.wall < 0.005) break;
      }
      if (threads > 1 && quiet.wall >= 0.005) {
        std::printf("[ info ] 2-thread runs too slow here (%.3f s): not checked\n", quiet.wall);
        continue;
      }
      ASSERT_LT(quiet.wall, 0.005) << "the case must be shorter than the poll interval";
      EXPECT_FALSE(quiet.interrupted);
      EXPECT_EQ(quiet.calls, 1);  // the end-of-run poll only
      const PollLog last = logged(run, threads, [](int, double) { return true; });
      EXPECT_TRUE(last.interrupted) << str(last);
      EXPECT_EQ(last.calls, 1);
    }
  }
}

}  // namespace
