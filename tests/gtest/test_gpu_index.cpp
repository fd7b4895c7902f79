// Host-side checks of the cudnn_off GPU path (src/core/cuda/colgemm/colgemm_index.h,
// colgemm_plan.h), needing no GPU or CUDA runtime:
//  - the per-element col2im / im2col functions the CUDA kernels run, driven by host loops
//    around column matrices computed here with plain loops, against the CPU kernels;
//  - the whole chunked algorithm (the exact GEMM arguments colgemm_deconv.cpp hands to
//    cuBLAS) run with a host emulation of cuBLAS's column-major strided-batched GEMM that
//    also checks leading dimensions, buffer bounds and overlapping outputs, under
//    workspace budgets that force every kind of chunk.
// All in double against deconv::deconvolution_forward / _backward on the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/cuda/colgemm/colgemm_index.h"
#include "core/cuda/colgemm/colgemm_plan.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/params.h"
#include "core/run_options.h"
#include "core/shape.h"

using namespace deconv;
using deconv::cuda::ColGeom;
using deconv::cuda::GemmOp;
using deconv::cuda::ColgemmPlan;

namespace {

constexpr double kTol = 1e-12;
constexpr int kCases = 100;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string tuple_str(const Tuple& t) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < t.size(); ++i) os << (i ? "," : "") << t[i];
  os << ")";
  return os.str();
}

struct Problem {
  DeconvParams params;
  Geometry g;
  std::string desc;
  std::vector<double> x, w, dy;
};

// A seeded random channels-first problem of rank 1-3 with groups, stride, dilation,
// pad and adj.
Problem random_problem(std::mt19937_64& rng) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (;;) {
    const int rank = static_cast<int>(pick(1, 3));
    DeconvParams p;
    p.layout = rank == 1 ? Layout::NCW : rank == 2 ? Layout::NCHW : Layout::NCDHW;
    const int64_t G = pick(1, 3), Cg = pick(1, 3), Fg = pick(1, 3), N = pick(1, 3);
    Shape data{N, G * Cg};
    for (int i = 0; i < rank; ++i) {
      const int64_t s = pick(1, 3);
      p.kernel.push_back(pick(1, rank == 3 ? 3 : 4));
      p.stride.push_back(s);
      p.dilate.push_back(pick(1, 3));
      p.pad.push_back(pick(0, 3));
      p.adj.push_back(pick(0, s - 1));
      data.push_back(pick(1, rank == 3 ? 4 : 6));
    }
    p.num_filter = G * Fg;
    p.num_group = G;
    Problem pr;
    pr.params = p;
    try {
      pr.g = infer_geometry(p, data);
    } catch (const ShapeError&) {
      continue;  // e.g. a pad that leaves no output: draw again
    }
    std::ostringstream os;
    os << layout_name(p.layout) << " data=" << tuple_str(data) << " G=" << G << " Fg=" << Fg
       << " kernel=" << tuple_str(p.kernel) << " stride=" << tuple_str(p.stride)
       << " dilate=" << tuple_str(p.dilate) << " pad=" << tuple_str(p.pad)
       << " adj=" << tuple_str(p.adj);
    pr.desc = os.str();
    std::uniform_real_distribution<double> u(-1, 1);
    const Geometry& g = pr.g;
    pr.x.resize(g.batch * g.channels * g.in_size());
    pr.w.resize(g.channels * g.filters_per_group() * g.kernel_size());
    pr.dy.resize(g.batch * g.num_filter * g.out_size());
    for (double& v : pr.x) v = u(rng);
    for (double& v : pr.w) v = u(rng);
    for (double& v : pr.dy) v = u(rng);
    return pr;
  }
}

void expect_close(const std::vector<double>& got, const std::vector<double>& ref,
                  const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  double scale = 1;
  for (double v : ref) scale = std::max(scale, std::fabs(v));
  size_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!(std::fabs(got[i] - ref[i]) <= kTol * scale)) {  // NaN fails too
      if (++bad <= 3) ADD_FAILURE() << what << ": element " << i << " is " << got[i]
                                    << ", expected " << ref[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

std::vector<double> cpu_forward(const Problem& pr) {
  std::vector<double> y(pr.dy.size());
  deconvolution_forward<double>(Context{}, pr.g, pr.x.data(), pr.w.data(), nullptr, y.data(),
                                RunOptions{});
  return y;
}

void cpu_backward(const Problem& pr, std::vector<double>& dx, std::vector<double>& dw) {
  dx.assign(pr.x.size(), 0);
  dw.assign(pr.w.size(), 0);
  deconvolution_backward<double>(Context{}, pr.g, pr.dy.data(), pr.x.data(), pr.w.data(),
                                 dx.data(), dw.data(), nullptr, RunOptions{});
}

// ---- 1. the per-element functions ---------------------------------------------------------

TEST(GpuIndex, Col2imElementMatchesCpuForward) {
  std::mt19937_64 rng(20240611);
  for (int c = 0; c < kCases; ++c) {
    const Problem pr = random_problem(rng);
    SCOPED_TRACE(pr.desc);
    const Geometry& g = pr.g;
    const ColGeom cg = cuda::make_col_geom(g);
    const int64_t N = g.batch, C = g.channels, F = g.num_filter, G = g.num_group;
    const int64_t Cg = g.channels_per_group(), Fg = g.filters_per_group();
    const int64_t K = cg.taps, S = cg.in_positions, So = cg.out_positions;
    // col[n][g][f*K + t][s] = sum_c W[g*Cg + c][f*K + t] * X[n][g*Cg + c][s]
    std::vector<double> col(N * F * K * S, 0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t gi = 0; gi < G; ++gi)
        for (int64_t r = 0; r < Fg * K; ++r)
          for (int64_t s = 0; s < S; ++s) {
            double acc = 0;
            for (int64_t ci = 0; ci < Cg; ++ci)
              acc += pr.w[(gi * Cg + ci) * Fg * K + r] * pr.x[(n * C + gi * Cg + ci) * S + s];
            col[((n * G + gi) * Fg * K + r) * S + s] = acc;
          }
    std::vector<double> y(N * F * So, kNaN);
    for (int64_t idx = 0; idx < N * F * So; ++idx)
      cuda::col2im_at(idx, col.data(), y.data(), cg, F, F * So);
    expect_close(y, cpu_forward(pr), "forward");
  }
}

TEST(GpuIndex, Im2colElementMatchesCpuBackward) {
  std::mt19937_64 rng(977);
  for (int c = 0; c < kCases; ++c) {
    const Problem pr = random_problem(rng);
    SCOPED_TRACE(pr.desc);
    const Geometry& g = pr.g;
    const ColGeom cg = cuda::make_col_geom(g);
    const int64_t N = g.batch, C = g.channels, F = g.num_filter, G = g.num_group;
    const int64_t Cg = g.channels_per_group(), Fg = g.filters_per_group();
    const int64_t K = cg.taps, S = cg.in_positions, So = cg.out_positions, FgK = Fg * K;
    std::vector<double> col(N * F * K * S, kNaN);
    for (int64_t idx = 0; idx < N * F * K * S; ++idx)
      cuda::im2col_at(idx, pr.dy.data(), col.data(), cg, F, F * So);
    std::vector<double> dx(pr.x.size(), 0), dw(pr.w.size(), 0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t gi = 0; gi < G; ++gi) {
        const double* cb = col.data() + (n * G + gi) * FgK * S;
        for (int64_t ci = 0; ci < Cg; ++ci) {
          const double* wr = pr.w.data() + (gi * Cg + ci) * FgK;
          const double* xr = pr.x.data() + (n * C + gi * Cg + ci) * S;
          for (int64_t s = 0; s < S; ++s) {  // dX_g = W_g col
            double acc = 0;
            for (int64_t r = 0; r < FgK; ++r) acc += wr[r] * cb[r * S + s];
            dx[(n * C + gi * Cg + ci) * S + s] = acc;
          }
          for (int64_t r = 0; r < FgK; ++r) {  // dW_g += X_g col^T
            double acc = 0;
            for (int64_t s = 0; s < S; ++s) acc += xr[s] * cb[r * S + s];
            dw[(gi * Cg + ci) * FgK + r] += acc;
          }
        }
      }
    std::vector<double> rdx, rdw;
    cpu_backward(pr, rdx, rdw);
    expect_close(dx, rdx, "data_grad");
    expect_close(dw, rdw, "weight_grad");
  }
}

// ---- 2. the chunked algorithm with an emulated cuBLAS ---------------------------------------

// Runs colgemm_plan.h's operations on the host. gemm() follows cuBLAS's
// cublas<t>gemmStridedBatched (column-major, alpha = 1, beta = 0 never reads C) and fails
// the test on arguments cuBLAS would reject or that would touch memory outside the
// buffers registered here or write one element twice within a call.
struct HostOps {
  struct Span {
    const double* begin;
    int64_t size;
  };
  std::vector<Span> spans;
  int64_t gemm_calls = 0, col_calls = 0, queued = 0;

  void add(const std::vector<double>& v) { spans.push_back({v.data(), int64_t(v.size())}); }

  bool inside(const double* p, int64_t first, int64_t last) const {
    for (const Span& s : spans)
      if (p + first >= s.begin && p + last < s.begin + s.size) return true;
    return false;
  }

  // Matrix (rows x cols) column-major with leading dim ld, batch items `stride` apart.
  bool matrix_ok(const char* name, const double* p, int64_t rows, int64_t cols, int64_t ld,
                 int64_t stride, int64_t batch) const {
    if (ld < std::max<int64_t>(1, rows) || stride < 0) {
      ADD_FAILURE() << name << ": leading dimension " << ld << " below " << rows
                    << " or negative stride " << stride;
      return false;
    }
    const int64_t last = (batch - 1) * stride + (cols - 1) * ld + (rows - 1);
    if (!inside(p, 0, last)) {
      ADD_FAILURE() << name << " reaches outside its buffer";
      return false;
    }
    return true;
  }

  void gemm(GemmOp ta, GemmOp tb, int64_t m, int64_t n, int64_t k, const double* A, int64_t lda,
            int64_t sa, const double* B, int64_t ldb, int64_t sb, double beta, double* C,
            int64_t ldc, int64_t sc, int64_t batch) {
    ++gemm_calls;
    if (m <= 0 || n <= 0 || k <= 0 || batch <= 0) {
      ADD_FAILURE() << "empty GEMM: m=" << m << " n=" << n << " k=" << k << " batch=" << batch;
      return;
    }
    // On a bad argument nothing is computed (cuBLAS would return an error status).
    if (!matrix_ok("A", A, ta == GemmOp::N ? m : k, ta == GemmOp::N ? k : m, lda, sa, batch) ||
        !matrix_ok("B", B, tb == GemmOp::N ? k : n, tb == GemmOp::N ? n : k, ldb, sb, batch) ||
        !matrix_ok("C", C, m, n, ldc, sc, batch))
      return;
    std::set<const double*> written;
    for (int64_t b = 0; b < batch; ++b) {
      const double* Ab = A + b * sa;
      const double* Bb = B + b * sb;
      double* Cb = C + b * sc;
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
          double acc = 0;
          for (int64_t l = 0; l < k; ++l) {
            const double a = ta == GemmOp::N ? Ab[i + l * lda] : Ab[l + i * lda];
            const double bv = tb == GemmOp::N ? Bb[l + j * ldb] : Bb[j + l * ldb];
            acc += a * bv;
          }
          double* c = Cb + i + j * ldc;
          if (!written.insert(c).second) {
            ADD_FAILURE() << "C element written twice in one call";
            return;
          }
          *c = beta == 0 ? acc : acc + beta * *c;
        }
    }
  }

  void col2im(const double* col, double* y, const ColGeom& g, int64_t samples, int64_t ch,
              int64_t stride) {
    ++col_calls;
    for (int64_t i = 0; i < samples * ch * g.out_positions; ++i)
      cuda::col2im_at(i, col, y, g, ch, stride);
  }
  void im2col(const double* dy, double* col, const ColGeom& g, int64_t samples, int64_t ch,
              int64_t stride) {
    ++col_calls;
    for (int64_t i = 0; i < samples * ch * g.taps * g.in_positions; ++i)
      cuda::im2col_at(i, dy, col, g, ch, stride);
  }
  void chunk_queued() { ++queued; }
};

// Budgets (in elements) that lead to each kind of chunk for problem `g`.
std::vector<int64_t> budgets(const Geometry& g) {
  const int64_t per_group = g.filters_per_group() * g.kernel_size() * g.in_size();
  const int64_t per_sample = per_group * g.num_group;
  return {int64_t(1) << 40,             // the whole batch in one chunk
          2 * per_sample + per_group,   // two samples per chunk (a partial last one)
          per_sample,                   // one sample per chunk
          per_sample - 1,               // one sample, groups in chunks (G - 1 at most)
          per_group,                    // one sample, one group
          1};                           // below one group: one group anyway
}

void check_plan(const ColgemmPlan& p, int64_t budget) {
  const int64_t per_group = p.group_rows * p.in_positions;
  EXPECT_GE(p.samples_per_chunk, 1);
  EXPECT_GE(p.groups_per_chunk, 1);
  EXPECT_LE(p.samples_per_chunk, p.batch);
  EXPECT_LE(p.groups_per_chunk, p.groups);
  EXPECT_TRUE(p.groups_per_chunk == p.groups || p.samples_per_chunk == 1);
  EXPECT_EQ(p.column_elems, p.samples_per_chunk * p.groups_per_chunk * per_group);
  if (per_group <= budget) {
    EXPECT_LE(p.column_elems, budget);
  } else {
    EXPECT_EQ(p.column_elems, per_group);  // the smallest unit, over budget
  }
  // As many as fit: one more sample (or group) would exceed the budget.
  if (p.groups_per_chunk == p.groups && p.samples_per_chunk < p.batch) {
    EXPECT_GT((p.samples_per_chunk + 1) * p.groups * per_group, budget);
  }
  if (p.groups_per_chunk < p.groups) {
    EXPECT_GT((p.groups_per_chunk + 1) * per_group, budget);
  }
}

TEST(GpuIndex, ChunkedGemmAlgorithmMatchesCpu) {
  std::mt19937_64 rng(4242);
  int64_t group_chunks = 0, sample_chunks = 0;
  for (int c = 0; c < kCases; ++c) {
    const Problem pr = random_problem(rng);
    const std::vector<double> ref_y = cpu_forward(pr);
    std::vector<double> ref_dx, ref_dw;
    cpu_backward(pr, ref_dx, ref_dw);
    for (int64_t budget : budgets(pr.g)) {
      SCOPED_TRACE(pr.desc + " budget=" + std::to_string(budget));
      const ColgemmPlan p = cuda::plan_colgemm(pr.g, budget);
      check_plan(p, budget);
      group_chunks += p.groups_per_chunk < p.groups;
      sample_chunks += p.samples_per_chunk > 1;
      std::vector<double> col(p.column_elems, kNaN);
      std::vector<double> y(ref_y.size(), kNaN), dx(pr.x.size(), kNaN), dw(pr.w.size(), kNaN);
      HostOps ops;
      ops.add(pr.x); ops.add(pr.w); ops.add(pr.dy); ops.add(col);
      ops.add(y); ops.add(dx); ops.add(dw);
      cuda::run_colgemm_forward(p, pr.x.data(), pr.w.data(), y.data(), col.data(), RunOptions{},
                             ops);
      expect_close(y, ref_y, "forward");
      const int64_t chunks = ((p.batch + p.samples_per_chunk - 1) / p.samples_per_chunk) *
                             ((p.groups + p.groups_per_chunk - 1) / p.groups_per_chunk);
      EXPECT_EQ(ops.col_calls, chunks);
      cuda::run_colgemm_backward(p, pr.dy.data(), pr.x.data(), pr.w.data(), dx.data(), dw.data(),
                              col.data(), RunOptions{}, ops);
      expect_close(dx, ref_dx, "data_grad");
      expect_close(dw, ref_dw, "weight_grad");
      // Each gradient alone.
      std::vector<double> dx_only(pr.x.size(), kNaN), dw_only(pr.w.size(), kNaN);
      ops.add(dx_only); ops.add(dw_only);
      cuda::run_colgemm_backward<double>(p, pr.dy.data(), pr.x.data(), pr.w.data(), dx_only.data(),
                                      nullptr, col.data(), RunOptions{}, ops);
      cuda::run_colgemm_backward<double>(p, pr.dy.data(), pr.x.data(), pr.w.data(), nullptr,
                                      dw_only.data(), col.data(), RunOptions{}, ops);
      expect_close(dx_only, ref_dx, "data_grad alone");
      expect_close(dw_only, ref_dw, "weight_grad alone");
    }
  }
  // The budgets did exercise both kinds of chunking.
  EXPECT_GT(group_chunks, 0);
  EXPECT_GT(sample_chunks, 0);
}

TEST(GpuIndex, BudgetFromWorkspaceMegabytes) {
  Geometry g;
  g.workspace_mb = 3;
  EXPECT_EQ(cuda::workspace_elems<double>(g), 3 * (int64_t(1) << 20) / 8);
  EXPECT_EQ(cuda::workspace_elems<float>(g), 3 * (int64_t(1) << 20) / 4);
  g.workspace_mb = 0;
  EXPECT_EQ(cuda::workspace_elems<float>(g), 0);
}

TEST(GpuIndex, InterruptStopsBetweenChunks) {
  std::mt19937_64 rng(7);
  Problem pr = random_problem(rng);
  while (pr.g.batch < 2) pr = random_problem(rng);
  const ColgemmPlan p = cuda::plan_colgemm(pr.g, 1);  // one sample and one group per chunk
  std::vector<double> col(p.column_elems), y(pr.dy.size()), dx(pr.x.size()), dw(pr.w.size());
  HostOps ops;
  ops.add(pr.x); ops.add(pr.w); ops.add(pr.dy); ops.add(col); ops.add(y); ops.add(dx);
  ops.add(dw);
  int asked = 0;
  RunOptions opts;
  opts.interrupted = [&] { return ++asked == 2; };
  EXPECT_THROW(cuda::run_colgemm_forward(p, pr.x.data(), pr.w.data(), y.data(), col.data(), opts,
                                      ops),
               Interrupted);
  EXPECT_EQ(ops.col_calls, 1);  // the first chunk ran, the second did not start
  EXPECT_EQ(ops.queued, 1);
  asked = 0;
  EXPECT_THROW(cuda::run_colgemm_backward(p, pr.dy.data(), pr.x.data(), pr.w.data(), dx.data(),
                                       dw.data(), col.data(), opts, ops),
               Interrupted);
  EXPECT_EQ(ops.col_calls, 2);
}

}  // namespace
