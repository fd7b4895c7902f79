// Thread counts (src/core/run_options.h): requests are capped at thread_limit(), and a
// fork() child of a process that has run multi-threaded calls runs on one thread (GNU
// OpenMP's pool does not survive fork: a team started there waits forever).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/dispatch.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"

#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define DECONV_TEST_FORK 1
#endif

using namespace deconv;
using deconv_test::Case;
using deconv_test::make_case;

namespace {

// Forward and all three gradients of one case in double, with `threads`.
struct Results {
  std::vector<double> y, dx, dw, db;
  bool operator==(const Results& o) const {
    return y == o.y && dx == o.dx && dw == o.dw && db == o.db;
  }
};

Results run_case(const Case& c, int threads) {
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  std::mt19937_64 rng(7);
  const auto x = deconv_test::random_values(element_count(g.data_shape), rng);
  const auto w = deconv_test::random_values(element_count(g.weight_shape), rng);
  const auto b = deconv_test::random_values(g.num_filter, rng);
  const auto dy = deconv_test::random_values(element_count(g.out_shape), rng);
  Results r;
  r.y.resize(dy.size());
  r.dx.resize(x.size());
  r.dw.resize(w.size());
  r.db.resize(b.size());
  RunOptions o;
  o.threads = threads;
  deconvolution_forward<double>(Context{}, g, x.data(), w.data(), b.data(), r.y.data(), o);
  deconvolution_backward<double>(Context{}, g, dy.data(), x.data(), w.data(), r.dx.data(),
                                 r.dw.data(), r.db.data(), o);
  return r;
}

// Large enough for a team of threads (not a tiny call), small enough to be quick.
Case team_case() {
  return make_case(Layout::NCHW, 4, 1, 16, 8, {12, 10}, {4, 4}, {2, 2}, {1, 1}, {1, 1},
                   {0, 0}, true);
}

TEST(Threads, RequestsCappedAtThreadLimit) {
  const int limit = thread_limit();
  EXPECT_GE(limit, 1);
  EXPECT_LE(limit, 1024);
  EXPECT_LE(resolve_threads(100000), limit);
  EXPECT_LE(resolve_threads(INT32_MAX), limit);
  EXPECT_GE(resolve_threads(0), 1);
  EXPECT_GE(resolve_threads(-5), 1);
  EXPECT_FALSE(in_forked_child());
}

TEST(Threads, HugeRequestRunsCapped) {
  // 100000 threads overflowed GNU OpenMP's stack; capped, the call runs and agrees.
  const Case c = team_case();
  const Results one = run_case(c, 1);
  const Results many = run_case(c, 100000);
  ASSERT_EQ(one.y.size(), many.y.size());
  for (size_t i = 0; i < one.y.size(); ++i) ASSERT_NEAR(one.y[i], many.y[i], 1e-12);
  for (size_t i = 0; i < one.dw.size(); ++i) ASSERT_NEAR(one.dw[i], many.dw[i], 1e-12);
}

#ifdef DECONV_TEST_FORK
// Child exit codes.
enum : int { kChildOk = 0, kChildNotFlagged = 2, kChildThreads = 3, kChildMismatch = 4 };

TEST(Threads, ForkedChildRunsSingleThreaded) {
  if (resolve_threads(2) < 2) GTEST_SKIP() << "built without OpenMP";
  const Case c = team_case();
  run_case(c, 2);  // the parent's OpenMP pool now has a second thread
  const Results serial = run_case(c, 1);
  const pid_t pid = fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {  // the child: no gtest assertions here, only the exit code
    int code = kChildOk;
    if (!in_forked_child()) code = kChildNotFlagged;
    else if (resolve_threads(2) != 1 || resolve_threads(0) != 1) code = kChildThreads;
    else if (!(run_case(c, 2) == serial) || !(run_case(c, 0) == serial)) code = kChildMismatch;
    _exit(code);
  }
  // The parent: wait with a deadline; a hung child is killed and fails the test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  pid_t done = 0;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "the forked child hung (killed after 60 s)";
  }
  ASSERT_EQ(done, pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), kChildOk)
      << "2: in_forked_child() false, 3: more than one thread, 4: results differ";
  // The parent itself still runs threaded.
  EXPECT_FALSE(in_forked_child());
  EXPECT_GE(resolve_threads(2), 2);
}
#endif

}  // namespace
