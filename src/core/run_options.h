// How a kernel runs: thread count and the interrupt check, passed in by the caller so
// the core stays free of any front end (the R adapter lives in src/r_interrupt.h).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <functional>
#include <thread>

#include "core/error.h"

namespace deconv {

// Which CPU forward algorithm runs: the automatic choice (cpu::forward's rule), GEMM +
// col2im, or the phase-decomposed kernel (channels-first layers; others run GEMM).
enum class CpuPath { Auto, Gemm, Phase };

// Whether the forward may compute with Winograd's minimal filtering (winograd.h): where
// the automatic rule prefers it, never (Direct: the CPU path above), or wherever the
// layer's shape allows it (others run as Direct).
enum class Algorithm { Auto, Direct, Winograd };

struct RunOptions {
  int threads = 1;
  CpuPath cpu_path = CpuPath::Auto;
  Algorithm algorithm = Algorithm::Auto;
  // Winograd's outputs per tile and dimension: 2 (F(2, 2)), 4 (F(4, 2)), or 0 for the
  // default, F(2, 2) (DECONV_WINOGRAD_TILE in the environment when 0).
  int winograd_tile = 0;
  // Called only on the calling thread, at most every InterruptPoll::kInterval ns while a
  // CPU kernel runs and once more at its end (GPU paths: before each long library
  // call); returns true to stop. The kernel then skips its remaining work and throws
  // deconv::Interrupted once its threads have joined.
  std::function<bool()> interrupted;
};

// Throws Interrupted when the caller's callback reports an interrupt. Calling thread only.
inline void throw_if_interrupted(const RunOptions& opts) {
  if (opts.interrupted && opts.interrupted()) throw Interrupted();
}

// One kernel call's view of the interrupt callback, shared by its threads: the thread
// that constructed it (the caller, OpenMP's thread 0 of every team the kernel starts)
// polls the callback, time-throttled; the others only read the flag that poll sets.
// Threads that see the flag skip their remaining work but still reach every barrier;
// finish() then throws on the calling thread, outside any parallel region.
class InterruptPoll {
 public:
  // Polls at most this often (nanoseconds): cheap enough to call between blocks of a few
  // ms of work.
  static constexpr int64_t kInterval = 10000000;

  // The first poll is due one interval in: a shorter call polls only in finish(), once,
  // as a call polled between chunks did before.
  explicit InterruptPoll(const RunOptions& opts)
      : callback_(opts.interrupted ? &opts.interrupted : nullptr),
        caller_(std::this_thread::get_id()),
        next_(now() + kInterval) {}
  InterruptPoll(const InterruptPoll&) = delete;
  InterruptPoll& operator=(const InterruptPoll&) = delete;

  // True once an interrupt was seen. Any thread may call it; only the caller polls.
  bool poll() {
    if (callback_ && !stopped() && std::this_thread::get_id() == caller_) {
      const int64_t t = now();
      if (t >= next_) {
        next_ = t + kInterval;
        if ((*callback_)()) stop_.store(true, std::memory_order_relaxed);
      }
    }
    return stopped();
  }
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }

  // At the end of a run, on the calling thread: a last, unthrottled poll, so that an
  // interrupt arriving during the last block of work is delivered by this call, never
  // left pending for the next one. Throws Interrupted if one was seen.
  void finish() {
    if (!stopped() && callback_ && (*callback_)()) stop_.store(true, std::memory_order_relaxed);
    if (stopped()) throw Interrupted();
  }

 private:
  // Monotonic nanoseconds. Linux's coarse clock (a few ms resolution, fine for a 10 ms
  // throttle) costs a fifth of a precise one, which tiny calls would notice.
  static int64_t now() {
#if defined(__linux__) && defined(CLOCK_MONOTONIC_COARSE)
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
#else
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
#endif
  }

  const std::function<bool()>* callback_;
  std::thread::id caller_;
  int64_t next_;  // when the next poll is due

  std::atomic<bool> stop_{false};
};

// What a run used, for benchmarks and tests of the workspace bound. The fields after
// temp_bytes say how the CPU kernel planned the work (set when it has chunks to run), so
// tests can tell which of its code paths a case took; GPU runs leave them untouched.
struct RunStats {
  int64_t temp_bytes = 0;        // peak bytes of temporaries the kernel allocated
  int64_t chunk_samples = 0;     // whole samples per chunk (1 when a sample is tiled)
  int64_t tile = 0;              // input positions per chunk and sample (all S if untiled)
  int64_t input_positions = 0;   // S: input positions per sample and channel
  int64_t chunks = 0;            // chunks planned, tail chunks included
  bool packed = false;           // channels-first X (and dX) copied into a chunk buffer
  bool group_parallel = false;   // each thread took whole groups, not shares of one
  bool direct = false;           // one input channel per group: products formed directly
  bool phase = false;            // the phase-decomposed forward ran (phase_forward.cpp)
  bool phase_data_grad = false;  // the data gradient ran direct (phase_backward.cpp)
  bool phase_weight_grad = false;  // so did the weight gradient (no im2col, no GEMM)
  bool stored_once = false;      // GEMM-path col2im stored each output once (no init pass)
  bool winograd = false;         // the forward ran Winograd F(2, 2) (winograd_forward.cpp)
  bool winograd_data_grad = false;  // so did the data gradient (winograd_backward.cpp)
  int64_t winograd_tile = 0;     // and its outputs per tile and dimension (2 or 4)
};

}  // namespace deconv

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define DECONV_DETECT_FORK 1
#endif

namespace deconv {

namespace detail {
// Set in every child of fork() (a pthread_atfork handler registered when the core is
// loaded): GNU OpenMP's thread pool does not survive fork, and a team started in the
// child waits forever for the parent's threads, so forked children run on one thread.
inline volatile std::sig_atomic_t forked_child = 0;
#ifdef DECONV_DETECT_FORK
inline void on_fork_child() { forked_child = 1; }
inline const bool fork_handler_registered =
    pthread_atfork(nullptr, nullptr, on_fork_child) == 0;
#endif
}  // namespace detail

// Whether this process is a fork() child of the one that loaded the core (then every
// call runs on one thread).
inline bool in_forked_child() {
#ifdef DECONV_DETECT_FORK
  (void)detail::fork_handler_registered;  // used, so never left uninitialized
#endif
  return detail::forked_child != 0;
}

// The most threads a call may ask for: OpenMP's thread limit, capped at 1024 (GNU
// OpenMP sizes a team's start-up data on the stack, and a huge team overflows it).
inline int thread_limit() {
#ifdef _OPENMP
  return std::max(1, std::min(1024, omp_get_thread_limit()));
#else
  return 1;
#endif
}

// `requested` threads, or OpenMP's default when it is 0 or less; at most thread_limit(),
// and 1 in a forked child.
inline int resolve_threads(int requested) {
#ifdef _OPENMP
  if (in_forked_child()) return 1;
  const int n = requested > 0 ? requested : omp_get_max_threads();
  return std::max(1, std::min(n, thread_limit()));
#else
  (void)requested;
  return 1;
#endif
}

// The same for a call of `work` multiply-adds: OpenMP's default (requested 0) runs
// small calls on one thread, where waking a team costs more than the work (a tiny
// layer's forward is a few hundred); a count asked for is left to the plans.
constexpr double kThreadMinWork = 32768;
inline int resolve_threads(int requested, double work) {
  return requested <= 0 && work < kThreadMinWork ? 1 : resolve_threads(requested);
}

// Runs body() on a team of `threads` OpenMP threads, or on the caller alone when there is
// one: GNU OpenMP allocates a team and makes a futex wake-up even for a region whose
// if() clause is false (0.3 us each on this project's VM; a tiny call made two). The
// body's `omp for` and `omp barrier` then bind to the caller alone, as OpenMP specifies
// for such constructs met outside a parallel region.
template <class Body>
void parallel_region(int threads, Body&& body) {
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body();
    return;
  }
#endif
  body();
}

// body(i) for i in [0, n), shared statically by `threads` threads (parallel_region).
template <class Body>
void parallel_for(int threads, int64_t n, Body&& body) {
  parallel_region(threads, [&] {
#pragma omp for
    for (int64_t i = 0; i < n; ++i) body(i);
  });
}

// This thread's number in the current OpenMP team, and the team's size (0 and 1
// outside a parallel region or without OpenMP).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace deconv
