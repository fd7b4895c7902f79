// CPU kernels of the GEMM path (forward() hands the layers the phase path suits to
// phase_forward.cpp). The batch is cut into chunks that fit `workspace`: several whole
// samples when a sample is small (so one GEMM covers them), else tiles of one sample's
// input positions. Per chunk and group:
//   forward   cols = W_g^T X_g (GEMM), then col2im adds cols into the output;
//   backward  cols = im2col(dY), dX_g = W_g cols, dW_g += X_g cols^T (GEMMs).
// All threads are OpenMP's: a team shares each chunk's work (GEMMs split into row or
// column blocks, each a single-threaded GEMM on the backend gemm.h chose; col2im/im2col
// over disjoint output planes), or, with many small groups, each thread takes whole
// groups. An optimized BLAS is pinned to one thread meanwhile, since its own threads
// and OpenMP's would fight for cores.
// Channels-last layouts use the transposed GEMMs, so no data is reordered.
// Groups of one input channel (depthwise) skip the GEMM, whose inner dimension would be
// 1: the direct path forms each product where col2im / im2col would move it.
// Interrupts: the calling thread polls the callback (InterruptPoll) between chunks and
// groups, between sub-blocks of the GEMMs and every kPollWork values moved in the other
// loops, and once more at the end; the other threads then skip their remaining work,
// and the call throws Interrupted after its threads have joined.
#include "core/cpu/deconv_cpu.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/phase_backward.h"
#include "core/cpu/phase_forward.h"
#include "core/cpu/scratch.h"
#include "core/cpu/taps.h"
#include "core/cpu/winograd.h"
#include "core/cpu/winograd_common.h"
#include "core/error.h"
#include "core/precision.h"

namespace deconv {
namespace cpu {

namespace {

// One run of kernel tap `tap`: `count` input positions from `s` (relative to the tile)
// land on output positions `o`, `o + stride_w`, ...
struct Run {
  int64_t tap, s, o, count;
};

std::vector<Run> tap_runs(const Geometry& g, int64_t s0, int64_t s1) {
  std::vector<Run> runs;
  // At most one run per tap and input row the tile touches: one allocation, not a
  // doubling series (a tiny call made five).
  const int64_t rows = (s1 - s0) / g.in[2] + 2;
  runs.reserve(static_cast<size_t>(rows * g.kernel_size()));
  for_each_tap_run(g, s0, s1, [&](int64_t tap, int64_t s, int64_t o, int64_t count) {
    runs.push_back({tap, s, o, count});
  });
  return runs;
}

// The layer's sizes (the letters some formulas below use are LayerSizes' legend, in
// core/shape.h), and how the work is cut and threaded.
struct Plan : LayerSizes {
  int64_t samples_per_chunk;  // each whole, or 1 with tiles
  int64_t tile;               // input positions per chunk and sample (S with several samples)
  int threads;                // all threads
  bool group_parallel;        // groups run in parallel, one per thread
  int workers;                // threads with their own buffers (group_parallel ? threads : 1)
  bool direct;                // one input channel per group, one thread per group: no GEMM
  bool pack;                  // channels-first chunks of several samples need X packed
  bool store_once;            // col2im stores bias + column: no output pass before it
  int64_t buffer_elems;       // per worker
};

// Whether every output element receives exactly one kernel tap: kernel = stride with no
// dilation, and no output past the inputs' reach (adj or a target shape add such
// outputs). Output o + pad = i * stride + k then has one (i, k), with i < in exactly
// when out + pad <= in * stride. U-Net's k2 s2 is the common case.
bool one_tap_per_output(const Geometry& g) {
  for (int d = 0; d < 3; ++d)
    if (g.kernel[d] != g.stride[d] || g.dilate[d] != 1 ||
        g.out[d] + g.pad[d] > g.in[d] * g.stride[d])
      return false;
  return true;
}

// Values moved (or products formed) between polls in the loops other than GEMMs: a few
// tens of microseconds of work, so a poll's clock read costs well under 1 %.
constexpr int64_t kPollWork = int64_t(1) << 16;

// Below this many flops a call runs on one thread.
constexpr double kSerialFlops = 4096;

// Widest chunk worth building: beyond this a GEMM gains little and buffers grow.
constexpr int64_t kTargetWidth = 2048;
// Buffer bytes a chunk of several samples aims at: larger chunks leave the caches
// between the GEMM and col2im, and outgrow the scratch memory kept between calls
// (measured on DCGAN layers, 2 threads: 4 MB beat 1, 2, 8, 16 and 64 MB; float64 dcgan2
// took 21 ms at 4 MB, 38 ms with chunks of up to 2048 positions).
constexpr int64_t kTargetChunkBytes = int64_t(4) << 20;
// Backward prefers wider chunks: the weight gradient's GEMM has the chunk width as its
// inner dimension and reads and writes all of dW per chunk (float64 dcgan1, 2 threads:
// 60 ms at 4 MB, 49 ms at 16 MB, 52 ms at 64 MB). 16 MB still fits the scratch cache.
constexpr int64_t kTargetChunkBytesBackward = int64_t(16) << 20;

// Whether a GEMM-path call pins the BLAS to one thread (SerialBlas): unless it runs on
// one thread and is too small for the BLAS to thread its products.
bool pins_blas(const Geometry& g, const Plan& p) {
  return p.threads > 1 || g.multiply_adds() >= kThreadMinWork;
}

// `convert`: float arithmetic on R's doubles, whose channels-first chunks always pack X
// (and dX in the backward), converted as they are copied, tiles included.
Plan make_plan(const Geometry& g, size_t elem, const RunOptions& opts, bool backward,
               bool convert = false) {
  Plan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  p.threads = resolve_threads(opts.threads, g.multiply_adds());
  // A call this small costs less than starting a team (tiny layer: 21 -> 16 us).
  if (2.0 * g.multiply_adds() < kSerialFlops) p.threads = 1;
  p.group_parallel = p.threads > 1 && p.groups >= p.threads &&
                     p.channels_per_group * p.group_rows <= 16384;
  p.workers = p.group_parallel ? p.threads : 1;
  p.direct = p.channels_per_group == 1 && (p.group_parallel || p.threads == 1);
  const int64_t budget = std::max<int64_t>(
      1, workspace_bytes(g.workspace_mb) / static_cast<int64_t>(elem) / p.workers);
  // Elements per input position of a chunk: columns, plus packed X (and dX) when
  // channels-first samples are batched.
  const int64_t packed = g.channels_last ? 0 : p.channels_per_group * (backward ? 2 : 1);
  const int64_t per_sample = p.in_positions * (p.group_rows + packed);
  if (p.batch > 1 && per_sample <= budget && p.in_positions < kTargetWidth) {
    const int64_t bytes = backward ? kTargetChunkBytesBackward : kTargetChunkBytes;
    const int64_t target = std::min(kTargetWidth / p.in_positions,
                                    bytes / (per_sample * static_cast<int64_t>(elem)));
    p.samples_per_chunk =
        std::min({p.batch, budget / per_sample, std::max<int64_t>(1, target)});
  } else {
    p.samples_per_chunk = 1;
  }
  p.pack = !g.channels_last && !p.direct && (p.samples_per_chunk > 1 || convert);
  const int64_t per_position = p.group_rows + (p.pack ? packed : 0);
  p.tile = p.samples_per_chunk > 1
               ? p.in_positions
               : std::min(p.in_positions, std::max<int64_t>(1, budget / per_position));
  p.buffer_elems =
      p.direct ? 0 : p.samples_per_chunk * p.tile * (p.group_rows + (p.pack ? packed : 0));
  // The forward's col2im then writes each output once (the direct steps add).
  p.store_once = !backward && !p.direct && one_tap_per_output(g);
  return p;
}

// Whether float arithmetic on R's doubles needs float copies of the arrays: channels-last
// chunks and the direct steps read them in place; other chunks convert as they pack
// (a `convert` plan). For those copies the `convert` plan is the plain one (no packing).
bool needs_float_copies(const Geometry& g, const Plan& p) { return g.channels_last || p.direct; }

// Reports the plan's buffers and how it cuts the work (tests assert the path taken).
void report(const Plan& p, size_t elem, RunStats* stats) {
  if (!stats) return;
  stats->temp_bytes = p.workers * p.buffer_elems * static_cast<int64_t>(elem);
  stats->chunk_samples = p.samples_per_chunk;
  stats->tile = p.tile;
  stats->input_positions = p.in_positions;
  stats->chunks = (p.batch + p.samples_per_chunk - 1) / p.samples_per_chunk *
                  ((p.in_positions + p.tile - 1) / p.tile);
  stats->packed = p.pack;
  stats->group_parallel = p.group_parallel;
  stats->direct = p.direct;
  stats->stored_once = p.store_once;
  stats->winograd = false;
  stats->winograd_data_grad = false;
  stats->winograd_tile = 0;
  stats->phase = false;
  stats->phase_data_grad = false;
  stats->phase_weight_grad = false;
}

// A chunk: samples [n0, n0 + nb) and, per sample, input positions [s0, s0 + ts).
struct Chunk {
  int64_t n0, nb, s0, ts;
  int64_t width() const { return nb * ts; }
};

// Calls fn(chunk) for every chunk, polling for interrupts between chunks; stops early
// once one was seen (the caller's poll.finish() then throws).
template <class Fn>
void for_each_chunk(const Plan& p, InterruptPoll& poll, Fn&& fn) {
  for (int64_t n0 = 0; n0 < p.batch; n0 += p.samples_per_chunk) {
    const int64_t nb = std::min(p.samples_per_chunk, p.batch - n0);
    for (int64_t s0 = 0; s0 < p.in_positions; s0 += p.tile) {
      if (poll.poll()) return;
      fn(Chunk{n0, nb, s0, std::min(p.tile, p.in_positions - s0)});
    }
  }
}

// Counts work done by one thread and polls once per kPollWork units of it.
class WorkPoll {
 public:
  explicit WorkPoll(InterruptPoll& poll) : poll_(poll) {}
  // Adds `work` units; true once an interrupt was seen.
  bool add(int64_t work) {
    done_ += work;
    if (done_ < kPollWork) return false;
    done_ = 0;
    return poll_.poll();
  }

 private:
  InterruptPoll& poll_;
  int64_t done_ = 0;
};

// What the threads of one parallel region share for their barriers: arrivals counted,
// so that the calling thread can wait for the others while polling for interrupts (on
// a busy machine a thread may lag behind by a large part of a GEMM), and whether a
// thread failed (then it may skip barriers, and no one waits for it).
struct TeamSync {
  InterruptPoll* poll;
  std::atomic<int64_t> arrived{0};
  std::atomic<bool> failed{false};

  explicit TeamSync(InterruptPoll* p) : poll(p) {}
  // Thread 0 (the caller): until `target` arrivals, poll, pause, then nap.
  void wait_for(int64_t target) {
    for (int spins = 0; arrived.load(std::memory_order_acquire) < target &&
                        !failed.load(std::memory_order_relaxed);
         ++spins) {
      poll->poll();
      if (spins < 2000) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#else
        std::this_thread::yield();
#endif
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
  }
};

// The threads sharing one chunk-and-group's work: this one is `tid` of `nt`.
struct Team {
  int tid, nt;
  TeamSync* sync = nullptr;          // needed when nt > 1
  mutable int64_t barriers = 0;      // barriers this thread has passed

  // [begin, end) of this thread's share of `total` items.
  std::pair<int64_t, int64_t> share(int64_t total) const {
    return {total * tid / nt, total * (tid + 1) / nt};
  }
  // Every thread arrives before thread 0 enters OpenMP's barrier, which then opens at
  // once: thread 0 waits in TeamSync::wait_for instead, polling.
  void barrier() const {
    if (nt > 1) {
      sync->arrived.fetch_add(1, std::memory_order_acq_rel);
      if (tid == 0) sync->wait_for(++barriers * nt);
#pragma omp barrier
    }
  }
};

// Runs fn(group, team, worker) for every group: whole groups in parallel when the plan
// says so, else each group by a team of all threads. Exceptions are caught per thread
// (so no thread misses a barrier) and the first is rethrown on the caller. Groups not
// started when an interrupt is seen are skipped. Each region ends with a Team barrier,
// so that the caller polls while the others finish.
template <class Fn>
void for_each_group(const Plan& p, InterruptPoll& poll, Fn&& fn) {
  std::exception_ptr error;
  std::mutex error_mutex;
  // Runs f; an exception marks the team failed and the first one is kept for the caller.
  auto run_keeping_error = [&](TeamSync& sync, auto&& f) {
    try {
      f();
    } catch (...) {
      sync.failed.store(true, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  if (p.group_parallel) {
    TeamSync sync(&poll);
    parallel_region(p.threads, [&] {
#pragma omp for schedule(dynamic, 1) nowait
      for (int64_t gi = 0; gi < p.groups; ++gi) {
        if (!poll.poll()) run_keeping_error(sync, [&] { fn(gi, Team{0, 1}, thread_id()); });
      }
      Team{thread_id(), team_size(), &sync}.barrier();
    });
  } else {
    for (int64_t gi = 0; gi < p.groups && !error && !poll.poll(); ++gi) {
      TeamSync sync(&poll);
      parallel_region(p.threads, [&] {
        const Team team{thread_id(), team_size(), &sync};
        run_keeping_error(sync, [&] { fn(gi, team, 0); });
        team.barrier();
      });
    }
  }
  if (error) std::rethrow_exception(error);
}

// The steps one thread runs on one (chunk, group): packing X, the direct path's
// products, col2im / im2col and the GEMMs around them. Holds what every step reads.
template <typename T>
struct ChunkSteps {
  const Geometry& g;
  const Plan& p;
  GemmBackend backend;
  InterruptPoll* poll;  // polled between blocks of work; stop once it reports

  // X of group gi for the chunk: (Cg x width) channels-first, packed by the team when
  // the chunk holds several samples (then the team must meet at a barrier before using
  // it), or (width x Cg) channels-last. Returns the pointer and leading dimension.
  // X of another type than T (R's doubles) is always packed, converted (make_plan).
  template <typename IO>
  std::pair<const T*, int64_t> x_block(const IO* data, const Chunk& c, int64_t gi, T* pack,
                                       const Team& team) const {
    if constexpr (std::is_same<IO, T>::value) {
      if (g.channels_last) {
        return {data + (c.n0 * p.in_positions + c.s0) * p.channels + gi * p.channels_per_group,
                p.channels};
      }
      if (!p.pack) {
        return {data + (c.n0 * p.channels + gi * p.channels_per_group) * p.in_positions + c.s0,
                p.in_positions};
      }
    }
    repack(data, pack, c, gi, true, team);
    return {pack, c.width()};
  }

  // Copies group gi's channels of the chunk (its samples, the tile's positions) from a
  // channels-first tensor into a packed (Cg x c.nb*ts) matrix when `to_packed`, else from
  // such a matrix into a tensor, converting when the two types differ.
  template <typename From, typename To>
  void repack(const From* from, To* to, const Chunk& c, int64_t gi, bool to_packed,
              const Team& team) const {
    const int64_t Cg = p.channels_per_group, S = p.in_positions;
    const auto [b, e] = team.share(c.nb * Cg);
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / Cg, ci = i % Cg;
      const int64_t tensor = ((c.n0 + n) * p.channels + gi * Cg + ci) * S + c.s0;
      const int64_t packed = ci * c.width() + n * c.ts;
      std::copy_n(from + (to_packed ? tensor : packed), c.ts,
                  to + (to_packed ? packed : tensor));
    }
  }

  // Where the direct path finds sample n's group-gi input (or its gradient) at the
  // tile's first position, and the step between positions.
  std::pair<int64_t, int64_t> x_at(const Chunk& c, int64_t n, int64_t gi) const {
    if (g.channels_last) {
      return {((c.n0 + n) * p.in_positions + c.s0) * p.channels + gi, p.channels};
    }
    return {((c.n0 + n) * p.channels + gi) * p.in_positions + c.s0, 1};
  }
  // Where sample n's filter f of group gi has output position o, and the step between
  // the positions of a tap run.
  std::pair<int64_t, int64_t> y_at(const Chunk& c, int64_t n, int64_t gi, int64_t f,
                                   int64_t o) const {
    const int64_t sw = g.stride[2];
    if (g.channels_last) {
      return {((c.n0 + n) * p.out_positions + o) * p.filters + gi * p.filters_per_group + f,
              sw * p.filters};
    }
    return {((c.n0 + n) * p.filters + gi * p.filters_per_group + f) * p.out_positions + o, sw};
  }

  // Index of filter f's kernel tap in a group's weights: (Fg, K) channels-first, (K, Fg)
  // channels-last, as the GEMM paths read them.
  int64_t w_index(int64_t f, int64_t tap) const {
    return g.channels_last ? tap * p.filters_per_group + f : f * p.taps + tap;
  }

  // Direct forward of group gi (one input channel): y += w[f, tap] * x over the runs.
  template <typename Out>
  void direct_forward(const Chunk& c, int64_t gi, const std::vector<Run>& runs, const T* data,
                      const T* w, Out* out) const {
    WorkPoll work(*poll);
    for (int64_t n = 0; n < c.nb; ++n) {
      const auto [xo, xs] = x_at(c, n, gi);
      for (int64_t f = 0; f < p.filters_per_group; ++f) {
        for (const Run& r : runs) {
          if (work.add(r.count)) return;
          const auto [yo, ys] = y_at(c, n, gi, f, r.o);
          const T wv = w[w_index(f, r.tap)];
          const T* x = data + xo + r.s * xs;
          Out* y = out + yo;
          for (int64_t j = 0; j < r.count; ++j) y[j * ys] += wv * x[j * xs];
        }
      }
    }
  }

  // Direct gradients of group gi: dx = sum of w[f, tap] * dy over the runs (dx of the
  // tile is zeroed first), dw[f, tap] += sum of x * dy.
  void direct_backward(const Chunk& c, int64_t gi, const std::vector<Run>& runs,
                       const T* out_grad, const T* data, const T* w, T* data_grad,
                       T* dw) const {
    WorkPoll work(*poll);
    for (int64_t n = 0; n < c.nb; ++n) {
      const auto [xo, xs] = x_at(c, n, gi);
      if (data_grad)
        for (int64_t j = 0; j < c.ts; ++j) data_grad[xo + j * xs] = T(0);
      for (int64_t f = 0; f < p.filters_per_group; ++f) {
        for (const Run& r : runs) {
          if (work.add(r.count)) return;
          const auto [yo, ys] = y_at(c, n, gi, f, r.o);
          const T* dy = out_grad + yo;
          if (data_grad) {
            const T wv = w[w_index(f, r.tap)];
            T* dx = data_grad + xo + r.s * xs;
            for (int64_t j = 0; j < r.count; ++j) dx[j * xs] += wv * dy[j * ys];
          }
          if (dw) {
            const T* x = data + xo + r.s * xs;
            T acc = 0;
            for (int64_t j = 0; j < r.count; ++j) acc += x[j * xs] * dy[j * ys];
            dw[w_index(f, r.tap)] += acc;
          }
        }
      }
    }
  }

  // col2im of one (sample, filter) plane when each output has one tap: y = b + cols.
  // The runs of a kernel row's stride_w taps cover the same inputs and interleave into
  // one output row segment: written together, in order, they fill whole cache lines
  // (run by run, every stride_w-th value, the lines were written piecemeal: slower than
  // adding into a filled output on two threads, measured on U-Net k2 s2).
  template <typename Out>
  void store_plane(const std::vector<Run>& runs, const T* col, int64_t width, Out* y,
                   Out b) const {
    const int64_t sw = g.stride[2];
    for (size_t i = 0; i < runs.size();) {
      const Run& r = runs[i];
      int64_t n = 1;
      while (n < sw && i + n < runs.size() && runs[i + n].tap == r.tap + n &&
             runs[i + n].s == r.s && runs[i + n].count == r.count && runs[i + n].o == r.o + n)
        ++n;
      const T* c = col + r.tap * width + r.s;
      Out* dst = y + r.o;
      if (n == 2 && sw == 2) {
        const T* c1 = c + width;
        for (int64_t j = 0; j < r.count; ++j) {
          dst[2 * j] = b + static_cast<Out>(c[j]);
          dst[2 * j + 1] = b + static_cast<Out>(c1[j]);
        }
      } else if (n == sw) {
        for (int64_t j = 0; j < r.count; ++j)
          for (int64_t k = 0; k < sw; ++k) dst[j * sw + k] = b + static_cast<Out>(c[k * width + j]);
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const Run& rk = runs[i + k];
          const T* ck = col + rk.tap * width + rk.s;
          Out* dk = y + rk.o;
          for (int64_t j = 0; j < rk.count; ++j) dk[j * sw] = b + static_cast<Out>(ck[j]);
        }
      }
      i += static_cast<size_t>(n);
    }
  }

  // Moves values between cols and y over the tile's tap runs: `scatter` adds cols into
  // y_out (col2im; with the plan's store_once it stores them plus the group's `bias`,
  // null for none), else cols gets y_in's values (im2col; this thread's part of cols is
  // zeroed first). The team splits (sample, filter) planes channels-first, filter
  // ranges channels-last: output locations never overlap between threads. Out and In
  // are y's types (double for float arithmetic on R's doubles: converted as it moves).
  template <typename Out, typename In>
  void transfer(const Chunk& c, int64_t gi, const std::vector<Run>& runs, T* cols, Out* y_out,
                const In* y_in, bool scatter, const Team& team, const T* bias = nullptr) const {
    const int64_t sw = g.stride[2], width = c.width();
    WorkPoll work(*poll);
    if (!g.channels_last) {
      const auto [b, e] = team.share(c.nb * p.filters_per_group);
      for (int64_t i = b; i < e; ++i) {
        if (work.add(p.taps * c.ts)) return;
        const int64_t n = i / p.filters_per_group, f = i % p.filters_per_group;
        const int64_t plane =
            ((c.n0 + n) * p.filters + gi * p.filters_per_group + f) * p.out_positions;
        T* col = cols + f * p.taps * width + n * c.ts;
        if (!scatter)
          for (int64_t t = 0; t < p.taps; ++t) std::fill_n(col + t * width, c.ts, T(0));
        if (scatter && p.store_once) {
          store_plane(runs, col, width, y_out + plane,
                      bias ? static_cast<Out>(bias[f]) : Out(0));
          continue;
        }
        for (const Run& r : runs) {
          T* cr = col + r.tap * width + r.s;
          if (scatter) {
            Out* dst = y_out + plane + r.o;
            for (int64_t j = 0; j < r.count; ++j) dst[j * sw] += cr[j];
          } else {
            const In* src = y_in + plane + r.o;
            for (int64_t j = 0; j < r.count; ++j) cr[j] = static_cast<T>(src[j * sw]);
          }
        }
      }
    } else {
      const int64_t Fg = p.filters_per_group;
      const auto [f0, f1] = team.share(Fg);
      if (f0 == f1) return;
      for (int64_t n = 0; n < c.nb; ++n) {
        T* rows = cols + n * c.ts * p.group_rows;
        if (!scatter) {  // in blocks of rows, polling between them: a tile may be large
          const int64_t total = c.ts * p.taps, block = std::max<int64_t>(1, kPollWork / (f1 - f0));
          for (int64_t i0 = 0; i0 < total; i0 += block) {
            if (work.add(kPollWork)) return;
            for (int64_t i = i0; i < std::min(total, i0 + block); ++i)
              std::fill(rows + i * Fg + f0, rows + i * Fg + f1, T(0));
          }
        }
        const int64_t base = (c.n0 + n) * p.out_positions * p.filters + gi * Fg;
        for (const Run& r : runs) {
          if (work.add(r.count * (f1 - f0))) return;
          for (int64_t j = 0; j < r.count; ++j) {
            T* cr = rows + (r.s + j) * p.group_rows + r.tap * Fg;
            if (scatter) {
              Out* dst = y_out + base + (r.o + j * sw) * p.filters;
              if (p.store_once) {
                for (int64_t f = f0; f < f1; ++f)
                  dst[f] = (bias ? static_cast<Out>(bias[f]) : Out(0)) + static_cast<Out>(cr[f]);
              } else {
                for (int64_t f = f0; f < f1; ++f) dst[f] += cr[f];
              }
            } else {
              const In* src = y_in + base + (r.o + j * sw) * p.filters;
              std::copy(src + f0, src + f1, cr + f0);
            }
          }
        }
      }
    }
  }

  // GEMM-path forward of group gi: cols = W_g^T X_g, then col2im adds cols into out (or
  // stores them plus the group's bias, with store_once). `cols` is this worker's
  // buffer; the packed X, when the plan packs, follows it.
  template <typename In, typename Out>
  void gemm_forward(const Chunk& c, int64_t gi, const std::vector<Run>& runs, const In* data,
                    const T* w, const T* bias, Out* out, T* cols, const Team& team) const {
    const int64_t width = c.width();
    const auto x = x_block(data, c, gi, cols + width * p.group_rows, team);
    if (p.pack) team.barrier();
    if (!g.channels_last) {
      gemm_part<T>(team.tid, team.nt, true, false, p.group_rows, width, p.channels_per_group,
                   w, p.group_rows, x.first, x.second, T(0), cols, width, backend, poll);
    } else {
      gemm_part<T>(team.tid, team.nt, false, false, width, p.group_rows, p.channels_per_group,
                   x.first, x.second, w, p.group_rows, T(0), cols, p.group_rows, backend, poll);
    }
    team.barrier();
    transfer<Out, T>(c, gi, runs, cols, out, nullptr, true, team, bias);
  }

  // GEMM-path gradients of group gi: cols = im2col(dY), then dX_g = W_g cols and
  // dW_g += X_g cols^T. `cols` is this worker's buffer; the packed X and dX, when the
  // plan packs, follow it. A null data_grad or dw is not wanted.
  // IO: the arrays' type (T, or R's doubles, which the plan then packs, converting).
  template <typename IO>
  void gemm_backward(const Chunk& c, int64_t gi, const std::vector<Run>& runs,
                     const IO* out_grad, const IO* data, const T* w, IO* data_grad, T* dw,
                     T* cols, const Team& team) const {
    const int64_t width = c.width();
    T* xpack = cols + width * p.group_rows;
    T* dxpack = xpack + (p.pack ? p.channels_per_group * width : 0);
    transfer<T, IO>(c, gi, runs, cols, nullptr, out_grad, false, team);
    const auto x =
        dw ? x_block(data, c, gi, xpack, team) : std::pair<const T*, int64_t>{nullptr, 0};
    team.barrier();
    if (data_grad) data_grad_gemm(c, gi, w, cols, data_grad, dxpack, team);
    if (dw) weight_grad_gemm(c, x, cols, dw, team);
    if (data_grad && p.pack) {
      team.barrier();
      repack(dxpack, data_grad, c, gi, false, team);
    }
  }

  // dX_g = W_g cols: into data_grad, or into dxpack when the plan packs (repacked after).
  template <typename IO>
  void data_grad_gemm(const Chunk& c, int64_t gi, const T* w, const T* cols, IO* data_grad,
                      T* dxpack, const Team& team) const {
    const int64_t width = c.width();
    const int64_t Cg = p.channels_per_group, FgK = p.group_rows, S = p.in_positions;
    T* dx = dxpack;
    if constexpr (std::is_same<IO, T>::value) {
      if (g.channels_last) {
        gemm_part<T>(team.tid, team.nt, false, true, width, Cg, FgK, cols, FgK, w, FgK, T(0),
                     data_grad + (c.n0 * S + c.s0) * p.channels + gi * Cg, p.channels,
                     backend, poll);
        return;
      }
      if (!p.pack) dx = data_grad + (c.n0 * p.channels + gi * Cg) * S + c.s0;
    }
    gemm_part<T>(team.tid, team.nt, false, false, Cg, width, FgK, w, FgK, cols, width, T(0), dx,
                 p.pack ? width : S, backend, poll);
  }

  // dW_g += X_g cols^T, X_g as x_block() returned it.
  void weight_grad_gemm(const Chunk& c, std::pair<const T*, int64_t> x, const T* cols, T* dw,
                        const Team& team) const {
    const int64_t width = c.width();
    if (g.channels_last) {
      gemm_part<T>(team.tid, team.nt, true, false, p.channels_per_group, p.group_rows, width,
                   x.first, x.second, cols, p.group_rows, T(1), dw, p.group_rows, backend, poll);
    } else {
      gemm_part<T>(team.tid, team.nt, false, true, p.channels_per_group, p.group_rows, width,
                   x.first, x.second, cols, width, T(1), dw, p.group_rows, backend, poll);
    }
  }
};

// Fills the output with the bias (or zeros) before the columns are added, in blocks of
// rows (a filter's plane channels-first, a position's filters channels-last) of about
// kPollWork values, polling between them.
template <typename T, typename Out>
void init_output(const Geometry& g, const Plan& p, const T* bias, Out* out, InterruptPoll& poll) {
  const int64_t len = g.channels_last ? p.filters : p.out_positions;
  const int64_t rows = p.batch * (g.channels_last ? p.out_positions : p.filters);
  const int64_t block = std::max<int64_t>(1, kPollWork / std::max<int64_t>(len, 1));
  const int64_t blocks = (rows + block - 1) / block;
  parallel_for(p.threads, blocks, [&](int64_t bi) {
    if (poll.poll()) return;
    const int64_t r1 = std::min(rows, (bi + 1) * block);
    for (int64_t r = bi * block; r < r1; ++r) {
      Out* o = out + r * len;
      if (!bias) std::fill_n(o, len, Out(0));
      else if (!g.channels_last) std::fill_n(o, len, static_cast<Out>(bias[r % p.filters]));
      else std::copy_n(bias, len, o);
    }
  });
}

// Filter f's bias gradient: the sum of its out_grad over samples and positions.
template <typename T>
double filter_sum(const Geometry& g, const Plan& p, const T* out_grad, int64_t f) {
  double acc = 0;
  for (int64_t n = 0; n < p.batch; ++n) {
    if (!g.channels_last) {
      const T* dy = out_grad + (n * p.filters + f) * p.out_positions;
      for (int64_t i = 0; i < p.out_positions; ++i) acc += dy[i];
    } else {
      const T* dy = out_grad + n * p.out_positions * p.filters + f;
      for (int64_t i = 0; i < p.out_positions; ++i) acc += dy[i * p.filters];
    }
  }
  return acc;
}

// The bias gradient, threaded over filters.
template <typename T>
void bias_gradient(const Geometry& g, const Plan& p, const T* out_grad, T* bias_grad,
                   InterruptPoll& poll) {
  // One poll per filter when its sum is long (each reads N * So values).
  const bool long_sums = p.batch * p.out_positions >= kPollWork / 16;
  parallel_for(p.threads, p.filters, [&](int64_t f) {
    if (long_sums && poll.poll()) return;
    bias_grad[f] = static_cast<T>(filter_sum(g, p, out_grad, f));
  });
}

// The data and weight gradients (either may be null, not both), chunk by chunk and
// group by group, on the direct or the GEMM path.
// IO: the arrays' type (T, or R's doubles with a plan that packs and no direct path).
template <typename T, typename IO>
void data_and_weight_gradients(const Geometry& g, const Plan& p, const IO* out_grad,
                               const IO* data, const T* weight, IO* data_grad, T* weight_grad,
                               InterruptPoll& poll, RunStats* stats) {
  const ChunkSteps<T> steps{g, p, gemm_backend<T>(), &poll};
  const SerialBlas serial_blas(pins_blas(g, p));
  const Scratch scratch(static_cast<size_t>(p.workers * p.buffer_elems) * sizeof(T));
  report(p, sizeof(T), stats);
  if (weight_grad) std::fill_n(weight_grad, p.channels * p.group_rows, T(0));
  for_each_chunk(p, poll, [&](const Chunk& c) {
    const std::vector<Run> runs = tap_runs(g, c.s0, c.s0 + c.ts);
    for_each_group(p, poll, [&](int64_t gi, const Team& team, int worker) {
      const T* w = weight + gi * p.channels_per_group * p.group_rows;
      T* dw = weight_grad ? weight_grad + gi * p.channels_per_group * p.group_rows : nullptr;
      if constexpr (std::is_same<IO, T>::value) {
        if (p.direct) {
          steps.direct_backward(c, gi, runs, out_grad, data, w, data_grad, dw);
          return;
        }
      }
      steps.gemm_backward(c, gi, runs, out_grad, data, w, data_grad, dw,
                          scratch.as<T>() + worker * p.buffer_elems, team);
    });
  });
}

// The caller's choice, else DECONV_CPU_PATH=gemm or phase from the environment (read
// per call, so benchmarks and tests can switch it), else automatic.
CpuPath cpu_path(const RunOptions& opts) {
  if (opts.cpu_path != CpuPath::Auto) return opts.cpu_path;
  const char* env = std::getenv("DECONV_CPU_PATH");
  if (!env) return CpuPath::Auto;
  const std::string v(env);
  return v == "gemm" ? CpuPath::Gemm : v == "phase" ? CpuPath::Phase : CpuPath::Auto;
}

// The caller's choice, else DECONV_ALGORITHM=direct or winograd from the environment
// (read per call, as DECONV_CPU_PATH), else automatic.
Algorithm algorithm(const RunOptions& opts) {
  if (opts.algorithm != Algorithm::Auto) return opts.algorithm;
  const char* env = std::getenv("DECONV_ALGORITHM");
  if (!env) return Algorithm::Auto;
  const std::string v(env);
  if (v == "direct") return Algorithm::Direct;
  return v == "winograd" ? Algorithm::Winograd : Algorithm::Auto;
}

// Whether a Winograd step runs under algorithm `a`: where forced and the shape fits, or
// where the automatic choice prefers it unless a CPU path was asked for. `fits` and
// `preferred` are the forward's or the data gradient's (winograd.h).
using WinogradFits = bool (*)(const Geometry&, size_t, int);
using WinogradPreferred = bool (*)(const Geometry&, size_t);
bool takes_winograd(Algorithm a, const Geometry& g, const RunOptions& opts, size_t elem,
                    WinogradFits fits, WinogradPreferred preferred) {
  switch (a) {
    case Algorithm::Winograd: return fits(g, elem, winograd::requested_tile(opts));
    case Algorithm::Direct: return false;
    default: return cpu_path(opts) == CpuPath::Auto && preferred(g, elem);
  }
}

bool takes_winograd_forward(const Geometry& g, const RunOptions& opts, size_t elem) {
  return takes_winograd(algorithm(opts), g, opts, elem, winograd_forward_fits,
                        winograd_forward_preferred);
}

// The data gradient's (the weight and bias gradients then run as before). Automatic only
// when the weight gradient is not wanted: the GEMM path's im2col of dY serves dX and dW
// at once, and Winograd's dX beside an im2col kept for dW lost (full make bench at
// 1bbe50f, Zen 4, float32 DCGAN 512 -> 256 backward on 1 thread: 148 ms against 101 at
// f4fdfba).
bool takes_winograd_data_grad(const Geometry& g, const RunOptions& opts, size_t elem,
                              bool weight_grad) {
  const Algorithm a = algorithm(opts);
  if (weight_grad && a != Algorithm::Winograd) return false;
  return takes_winograd(a, g, opts, elem, winograd_data_grad_fits, winograd_data_grad_preferred);
}

// The one rule for which forward runs: the caller's or the environment's choice, else
// phase_forward_preferred (channels-last layers always run GEMM + col2im).
bool takes_phase_path(const Geometry& g, const RunOptions& opts, size_t elem) {
  const CpuPath path = cpu_path(opts);
  return path == CpuPath::Phase ? !g.channels_last
                                : path == CpuPath::Auto && phase_forward_preferred(g, elem);
}

// The same for the data and weight gradients: direct (phase_backward.h) or im2col +
// GEMM (one im2col of dY serves both).
bool takes_phase_backward(const Geometry& g, const RunOptions& opts, size_t elem,
                          bool weight_grad) {
  const CpuPath path = cpu_path(opts);
  return path == CpuPath::Phase
             ? !g.channels_last
             : path == CpuPath::Auto && phase_backward_preferred(g, elem, weight_grad);
}

// GEMM + col2im (or the direct path) into out, of T or (T = float) R's doubles. X is
// of T, or R's doubles when the plan packs every chunk (`convert`: channels-first, not
// direct), which converts X as it packs it: no float copy of the whole input first.
template <typename T, typename In, typename Out>
void gemm_path_forward(const Geometry& g, const Plan& p, const In* data, const T* weight,
                       const T* bias, Out* out, const RunOptions& opts, RunStats* stats) {
  InterruptPoll poll(opts);
  const ChunkSteps<T> steps{g, p, gemm_backend<T>(), &poll};
  const SerialBlas serial_blas(pins_blas(g, p));
  const Scratch scratch(static_cast<size_t>(p.workers * p.buffer_elems) * sizeof(T));
  report(p, sizeof(T), stats);
  if (!p.store_once) init_output(g, p, bias, out, poll);
  for_each_chunk(p, poll, [&](const Chunk& c) {
    const std::vector<Run> runs = tap_runs(g, c.s0, c.s0 + c.ts);
    for_each_group(p, poll, [&](int64_t gi, const Team& team, int worker) {
      const T* w = weight + gi * p.channels_per_group * p.group_rows;
      if constexpr (std::is_same<In, T>::value) {
        if (p.direct) {
          steps.direct_forward(c, gi, runs, data, w, out);
          return;
        }
      }
      steps.gemm_forward(c, gi, runs, data, w, bias ? bias + gi * p.filters_per_group : nullptr,
                         out, scratch.as<T>() + worker * p.buffer_elems, team);
    });
  });
  poll.finish();
}

}  // namespace

void forward_float_on_double(const Geometry& g, const double* data, const double* weight,
                             const double* bias, double* out, const RunOptions& opts,
                             RunStats* stats) {
  if (takes_winograd_forward(g, opts, sizeof(float))) {
    winograd_forward<float, double>(g, data, weight, bias, out, opts, stats);
    return;
  }
  if (takes_phase_path(g, opts, sizeof(float))) {
    phase_forward<float, double>(g, data, weight, bias, out, opts, stats);
    return;
  }
  // The GEMMs need float weights; col2im adds their results straight into the doubles.
  const auto w = narrowed(weight, g.weight_shape, opts), b = narrowed(bias, g.bias_shape, opts);
  const Plan p = make_plan(g, sizeof(float), opts, false, true);
  if (needs_float_copies(g, p)) {
    const auto x = narrowed(data, g.data_shape, opts);
    gemm_path_forward<float>(g, p, x.get(), w.get(), b.get(), out, opts, stats);
    return;
  }
  gemm_path_forward<float>(g, p, data, w.get(), b.get(), out, opts, stats);
}

template <typename T>
void forward(const Geometry& g, const T* data, const T* weight, const T* bias, T* out,
             const RunOptions& opts, RunStats* stats) {
  if (takes_winograd_forward(g, opts, sizeof(T))) {
    winograd_forward<T>(g, data, weight, bias, out, opts, stats);
    return;
  }
  if (takes_phase_path(g, opts, sizeof(T))) {
    phase_forward<T>(g, data, weight, bias, out, opts, stats);
    return;
  }
  gemm_path_forward<T>(g, make_plan(g, sizeof(T), opts, false), data, weight, bias, out, opts,
                       stats);
}

namespace {

// The three gradients (any may be null) in T arithmetic on IO arrays: all direct
// (phase_backward.h), or the data and weight gradients on the GEMM path, then the bias
// gradient. With IO = double (float on R's doubles) the plan packs every chunk and takes
// no direct (depthwise) GEMM-path step, and weight_grad is float memory the caller
// widens.
template <typename T, typename IO>
void gradients(const Geometry& g, const Plan& p, const IO* out_grad, const IO* data,
               const IO* weight, IO* data_grad, T* weight_grad, IO* bias_grad,
               const RunOptions& opts, RunStats* stats) {
  InterruptPoll poll(opts);
  RunStats w;  // the Winograd data gradient's, when it ran
  if (data_grad && takes_winograd_data_grad(g, opts, sizeof(T), weight_grad != nullptr)) {
    winograd_data_grad<T, IO>(g, out_grad, weight, data_grad, opts, poll, &w);
    data_grad = nullptr;  // done: the rest computes dW and db
  }
  // Reports the Winograd data gradient beside what the rest ran.
  auto note_winograd = [&] {
    if (stats && w.winograd_tile) {
      stats->winograd_data_grad = true;
      stats->winograd_tile = w.winograd_tile;
      stats->temp_bytes = std::max(stats->temp_bytes, w.temp_bytes);
    }
  };
  if (poll.stopped()) {
    poll.finish();
  } else if (!data_grad && !weight_grad) {
    if (stats) *stats = RunStats{};
  } else if (takes_phase_backward(g, opts, sizeof(T), weight_grad != nullptr)) {
    // The bias gradient too, from the pass that splits dY.
    phase_gradients<T, IO>(g, out_grad, data, weight, data_grad, weight_grad, bias_grad, opts,
                           poll, stats);
    note_winograd();
    poll.finish();
    return;
  } else {
    // The GEMMs take T weights: the array itself, or a float copy of R's doubles.
    std::unique_ptr<float[]> copy;
    const T* w;
    if constexpr (std::is_same<IO, T>::value) {
      w = weight;
    } else {
      copy = narrowed(weight, g.weight_shape, opts);
      w = copy.get();
    }
    data_and_weight_gradients(g, p, out_grad, data, w, data_grad, weight_grad, poll, stats);
  }
  if (bias_grad && !poll.stopped()) bias_gradient(g, p, out_grad, bias_grad, poll);
  note_winograd();
  poll.finish();
}

}  // namespace

template <typename T>
void backward(const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts,
              RunStats* stats) {
  gradients<T, T>(g, make_plan(g, sizeof(T), opts, true), out_grad, data, weight, data_grad,
                  weight_grad, bias_grad, opts, stats);
}

void backward_float_on_double(const Geometry& g, const double* out_grad, const double* data,
                              const double* weight, double* data_grad, double* weight_grad,
                              double* bias_grad, const RunOptions& opts, RunStats* stats) {
  const Plan p = make_plan(g, sizeof(float), opts, true, true);
  if (needs_float_copies(g, p)) {
    // Float copies, results widened.
    on_float_copies(g, out_grad, data, weight, data_grad, weight_grad, bias_grad, opts,
                    [&](const float* dy, const float* x, const float* w, float* dx, float* dw,
                        float* db) { backward<float>(g, dy, x, w, dx, dw, db, opts, stats); });
    return;
  }
  // dW accumulates in float at the start of its double array.
  gradients<float, double>(g, p, out_grad, data, weight, data_grad, as_floats(weight_grad),
                           bias_grad, opts, stats);
  widen_result(weight_grad, g.weight_shape, opts);
  // The bias gradient is summed in double from the doubles; stored as the float it is.
  if (bias_grad)
    for (int64_t f = 0; f < p.filters; ++f) bias_grad[f] = static_cast<float>(bias_grad[f]);
}

template void forward<float>(const Geometry&, const float*, const float*, const float*, float*,
                             const RunOptions&, RunStats*);
template void forward<double>(const Geometry&, const double*, const double*, const double*,
                              double*, const RunOptions&, RunStats*);
template void backward<float>(const Geometry&, const float*, const float*, const float*, float*,
                              float*, float*, const RunOptions&, RunStats*);
template void backward<double>(const Geometry&, const double*, const double*, const double*,
                               double*, double*, double*, const RunOptions&, RunStats*);

}  // namespace cpu
}  // namespace deconv
