// The cuDNN path (see cudnn_deconv.h): descriptors, the algorithm choice per
// cudnn_tune with its cache, and the asymmetric-padding window.
//
// In cuDNN's terms the deconvolution's output is the convolution's input ("big", N x F
// x X), its data the convolution's output ("small", N x C x in) and its weight the
// convolution's filter (C x F/G x kernel), with the deconvolution's pad, stride and
// dilation. cuDNN needs X = s*(in-1) + d*(k-1) + 1 - 2p + a with a < s in every
// dimension; where a target.shape gives a >= s (stride 1 with an odd total pad), that
// dimension is computed without padding and cropped (see Window).
#include "core/cuda/cudnn/cudnn_deconv.h"

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cuda/cuda_elementwise.h"
#include "core/cuda/runtime/runtime_device_buffer.h"
#include "core/cuda/runtime/runtime_status.h"
#include "core/error.h"

namespace deconv {
namespace cuda {

namespace {

// ---- descriptors ----------------------------------------------------------------------

// A cuDNN descriptor of type H, created and destroyed with the given functions.
template <typename H, cudnnStatus_t (*Create)(H*), cudnnStatus_t (*Destroy)(H)>
class Descriptor {
 public:
  Descriptor() { check(Create(&d_), "cudnnCreate...Descriptor"); }
  ~Descriptor() { Destroy(d_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  operator H() const { return d_; }

 private:
  H d_ = nullptr;
};

using TensorDesc = Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                              cudnnDestroyTensorDescriptor>;
using FilterDesc = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                              cudnnDestroyFilterDescriptor>;
using ConvDesc = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                            cudnnDestroyConvolutionDescriptor>;

// A dense (row-major) tensor of `dims`.
void set_tensor(const TensorDesc& d, cudnnDataType_t type, const std::vector<int>& dims) {
  std::vector<int> strides(dims.size());
  int s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  check(cudnnSetTensorNdDescriptor(d, type, static_cast<int>(dims.size()), dims.data(),
                                   strides.data()),
        "cudnnSetTensorNdDescriptor");
}

void set_filter(const FilterDesc& d, cudnnDataType_t type, const std::vector<int>& dims) {
  check(cudnnSetFilterNdDescriptor(d, type, CUDNN_TENSOR_NCHW, static_cast<int>(dims.size()),
                                   dims.data()),
        "cudnnSetFilterNdDescriptor");
}

// ---- the problem in cuDNN's terms -------------------------------------------------------

// Per spatial dimension, the box cuDNN computes ("big", size xc) and where the requested
// output starts in it (offset): the output is big[offset .. offset + out).
struct Window {
  Box big{1, 1, 1}, out{1, 1, 1}, offset{0, 0, 0};
  bool needed = false;  // big differs from out
};

struct Problem {
  cudnnDataType_t type;
  int64_t batch = 0;
  std::vector<int> big, small, filter;  // per-sample dims (batch entry set per chunk)
  std::vector<int> pad, stride, dilate;
  int groups = 1;
  Window window;
  int64_t big_sample = 0, small_sample = 0;  // elements per sample
};

int to_int(int64_t v, const char* what) {
  if (v > INT_MAX) {
    throw UnsupportedError("data", std::string(what) +
                                       " is too large for cuDNN; use cudnn.off = TRUE");
  }
  return static_cast<int>(v);
}

template <typename T>
Problem make_problem(const Geometry& g) {
  Problem p;
  p.type = std::is_same<T, float>::value ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
  p.batch = g.batch;
  p.groups = to_int(g.num_group, "num.group");
  const int first = g.rank == 3 ? 0 : 1;  // 1D runs as 2D with a height of 1
  p.big = {1, to_int(g.num_filter, "num.filter")};
  p.small = {1, to_int(g.channels, "channels")};
  p.filter = {to_int(g.channels, "channels"), to_int(g.filters_per_group(), "num.filter/num.group")};
  for (int k = 0; k < 3; ++k) {
    const int64_t full = g.stride[k] * (g.in[k] - 1) + g.dilate[k] * (g.kernel[k] - 1) + 1;
    const bool fits = g.adj[k] < g.stride[k];
    const int64_t pad = fits ? g.pad[k] : 0;
    const int64_t big = fits ? g.out[k] : full;
    p.window.big[k] = big;
    p.window.out[k] = g.out[k];
    p.window.offset[k] = fits ? 0 : g.pad[k];
    p.window.needed = p.window.needed || big != g.out[k];
    if (k < first) continue;
    p.big.push_back(to_int(big, "the output"));
    p.small.push_back(to_int(g.in[k], "data"));
    p.filter.push_back(to_int(g.kernel[k], "kernel"));
    p.pad.push_back(to_int(pad, "pad"));
    p.stride.push_back(to_int(g.stride[k], "stride"));
    p.dilate.push_back(to_int(g.dilate[k], "dilate"));
  }
  p.big_sample = g.num_filter * p.window.big[0] * p.window.big[1] * p.window.big[2];
  p.small_sample = g.channels * g.in_size();
  return p;
}

// Samples per cuDNN call: its tensors are limited to INT_MAX elements.
int64_t chunk_samples(const Problem& p) {
  const int64_t per = std::max<int64_t>(std::max(p.big_sample, p.small_sample), 1);
  return std::max<int64_t>(1, std::min<int64_t>(p.batch, INT_MAX / per));
}

struct Descriptors {
  TensorDesc big, small;
  FilterDesc filter;
  ConvDesc conv;
  Descriptors(const Problem& p, int64_t samples) {
    std::vector<int> b = p.big, s = p.small;
    b[0] = s[0] = static_cast<int>(samples);
    set_tensor(big, p.type, b);
    set_tensor(small, p.type, s);
    set_filter(filter, p.type, p.filter);
    check(cudnnSetConvolutionNdDescriptor(conv, static_cast<int>(p.pad.size()), p.pad.data(),
                                          p.stride.data(), p.dilate.data(),
                                          CUDNN_CROSS_CORRELATION, p.type),
          "cudnnSetConvolutionNdDescriptor");
    check(cudnnSetConvolutionGroupCount(conv, p.groups), "cudnnSetConvolutionGroupCount");
    // FMA only: TF32 tensor cores would miss float32's 1e-4 agreement with the CPU.
    check(cudnnSetConvolutionMathType(
              conv, p.type == CUDNN_DATA_FLOAT ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH),
          "cudnnSetConvolutionMathType");
  }
};

// ---- the three cuDNN operations, behind one interface for the algorithm choice ----------

// Each op has: Perf (cuDNN's result struct), name, max_count, heuristic (get_v7), find
// (FindEx), workspace (size of an algorithm), with the tensors in its own roles.
struct Pointers {
  void* big;
  void* small;
  void* filter;
};

struct BackwardDataOp {  // big = conv(filter)ᵀ small: the deconvolution's forward
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  static constexpr const char* name = "cudnnConvolutionBackwardData";
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    check(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &n),
          "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
    return n;
  }
  static void heuristic(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* perf) {
    check(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.filter, d.small, d.conv, d.big, n, got,
                                                      perf),
          "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  }
  static void find(cudnnHandle_t h, const Descriptors& d, const Pointers& q, int n, int* got,
                   Perf* perf, void* ws, size_t ws_bytes) {
    check(cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.filter, q.filter, d.small, q.small,
                                                      d.conv, d.big, q.big, n, got, perf, ws,
                                                      ws_bytes),
          "cudnnFindConvolutionBackwardDataAlgorithmEx");
  }
  static size_t workspace(cudnnHandle_t h, const Descriptors& d, Algo a) {
    size_t bytes = 0;
    check(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.filter, d.small, d.conv, d.big, a,
                                                       &bytes),
          "cudnnGetConvolutionBackwardDataWorkspaceSize");
    return bytes;
  }
};

struct ForwardOp {  // small = conv(big, filter): the deconvolution's data gradient
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  using Algo = cudnnConvolutionFwdAlgo_t;
  static constexpr const char* name = "cudnnConvolutionForward";
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    check(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &n),
          "cudnnGetConvolutionForwardAlgorithmMaxCount");
    return n;
  }
  static void heuristic(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* perf) {
    check(cudnnGetConvolutionForwardAlgorithm_v7(h, d.big, d.filter, d.conv, d.small, n, got, perf),
          "cudnnGetConvolutionForwardAlgorithm_v7");
  }
  static void find(cudnnHandle_t h, const Descriptors& d, const Pointers& q, int n, int* got,
                   Perf* perf, void* ws, size_t ws_bytes) {
    check(cudnnFindConvolutionForwardAlgorithmEx(h, d.big, q.big, d.filter, q.filter, d.conv,
                                                 d.small, q.small, n, got, perf, ws, ws_bytes),
          "cudnnFindConvolutionForwardAlgorithmEx");
  }
  static size_t workspace(cudnnHandle_t h, const Descriptors& d, Algo a) {
    size_t bytes = 0;
    check(cudnnGetConvolutionForwardWorkspaceSize(h, d.big, d.filter, d.conv, d.small, a, &bytes),
          "cudnnGetConvolutionForwardWorkspaceSize");
    return bytes;
  }
};

struct BackwardFilterOp {  // filter = big ⋆ small: the deconvolution's weight gradient
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  static constexpr const char* name = "cudnnConvolutionBackwardFilter";
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    check(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &n),
          "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
    return n;
  }
  static void heuristic(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* perf) {
    check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.big, d.small, d.conv, d.filter, n,
                                                        got, perf),
          "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  }
  static void find(cudnnHandle_t h, const Descriptors& d, const Pointers& q, int n, int* got,
                   Perf* perf, void* ws, size_t ws_bytes) {
    check(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.big, q.big, d.small, q.small, d.conv,
                                                        d.filter, q.filter, n, got, perf, ws,
                                                        ws_bytes),
          "cudnnFindConvolutionBackwardFilterAlgorithmEx");
  }
  static size_t workspace(cudnnHandle_t h, const Descriptors& d, Algo a) {
    size_t bytes = 0;
    check(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.big, d.small, d.conv, d.filter, a,
                                                         &bytes),
          "cudnnGetConvolutionBackwardFilterWorkspaceSize");
    return bytes;
  }
};

// ---- algorithm choice and its cache -----------------------------------------------------

struct Choice {
  int algo = 0;
  size_t workspace = 0;
};

std::mutex cache_mutex;
std::map<std::string, Choice> cache;

std::string cache_key(const char* op, int device, const Problem& p, int64_t samples,
                      CudnnTune tune, size_t limit) {
  std::ostringstream os;
  auto list = [&os](const std::vector<int>& v) {
    for (int x : v) os << x << ',';
    os << '|';
  };
  os << op << '|' << device << '|' << p.type << '|' << samples << '|';
  list(p.big);
  list(p.small);
  list(p.filter);
  list(p.pad);
  list(p.stride);
  list(p.dilate);
  os << p.groups << '|' << static_cast<int>(tune) << '|' << limit;
  return os.str();
}

bool usable(cudnnStatus_t status, cudnnMathType_t math) {
  return status == CUDNN_STATUS_SUCCESS &&
         (math == CUDNN_DEFAULT_MATH || math == CUDNN_FMA_MATH);
}

// NULL / "off": cuDNN's heuristic order, the first that fits `limit` bytes (else the
// one needing least). "fastest": every algorithm timed once with as much workspace as
// the device can spare. "limited_workspace": timed, the fastest within `limit`.
template <class Op>
Choice choose(GpuContext& ctx, const Problem& p, const Descriptors& d, const Pointers& q,
              int64_t samples, CudnnTune tune, size_t limit) {
  const std::string key = cache_key(Op::name, ctx.device, p, samples, tune, limit);
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  const int n = std::max(Op::max_count(ctx.cudnn), 1);
  std::vector<typename Op::Perf> perf(static_cast<size_t>(n));
  int got = 0;
  Op::heuristic(ctx.cudnn, d, n, &got, perf.data());
  const bool timed = tune == CudnnTune::Fastest || tune == CudnnTune::LimitedWorkspace;
  if (timed) {
    size_t cap = limit;
    if (tune == CudnnTune::Fastest) {
      size_t free_bytes = 0, total = 0;
      check(cudaMemGetInfo(&free_bytes, &total), "cudaMemGetInfo");
      cap = free_bytes / 4 * 3;
    }
    // Workspace for the trial: the most any candidate within the cap asks for.
    size_t need = 0;
    for (int i = 0; i < got; ++i) {
      if (usable(perf[i].status, perf[i].mathType) && perf[i].memory <= cap)
        need = std::max(need, perf[i].memory);
    }
    DeviceBuffer ws(need);
    Op::find(ctx.cudnn, d, q, n, &got, perf.data(), ws.get(), need);
    limit = need;  // FindEx sorted by time; take the first that ran within it
  }
  Choice choice;
  bool found = false;
  for (int i = 0; i < got && !found; ++i) {
    if (usable(perf[i].status, perf[i].mathType) && perf[i].memory <= limit) {
      choice.algo = static_cast<int>(perf[i].algo);
      found = true;
    }
  }
  if (!found) {  // nothing fits: the usable one needing least workspace
    size_t least = SIZE_MAX;
    for (int i = 0; i < got; ++i) {
      if (usable(perf[i].status, perf[i].mathType) && perf[i].memory < least) {
        least = perf[i].memory;
        choice.algo = static_cast<int>(perf[i].algo);
        found = true;
      }
    }
  }
  if (!found) {
    throw DeviceError("ctx", std::string(Op::name) +
                                 ": cuDNN offers no algorithm for this problem; try cudnn.off = TRUE");
  }
  choice.workspace =
      Op::workspace(ctx.cudnn, d, static_cast<typename Op::Algo>(choice.algo));
  std::lock_guard<std::mutex> lock(cache_mutex);
  cache.emplace(key, choice);
  return choice;
}

size_t workspace_limit(const Geometry& g) {
  return static_cast<size_t>(workspace_bytes(g.workspace_mb));
}

// Runs one op over the batch in chunks of at most chunk_samples(p) samples.
// `run(descs, choice, ws, first_sample, samples)` issues the cuDNN call. Interrupts are
// checked before the algorithm choice (timing every algorithm may take long) and before
// each call; the workspace freed after a chunk (cudaFree waits for the device) keeps the
// host no more than a chunk ahead, so these checks come while the work runs.
template <class Op, class Run>
void over_chunks(GpuContext& ctx, const Geometry& g, const Problem& p, Pointers whole,
                 const RunOptions& opts, Run run) {
  const int64_t step = chunk_samples(p);
  for (int64_t n0 = 0; n0 < p.batch; n0 += step) {
    const int64_t nb = std::min(step, p.batch - n0);
    Descriptors d(p, nb);
    throw_if_interrupted(opts);
    const Choice c = choose<Op>(ctx, p, d, whole, nb, g.cudnn_tune, workspace_limit(g));
    DeviceBuffer ws(c.workspace);
    throw_if_interrupted(opts);
    run(d, c, ws, n0, nb);
  }
}

}  // namespace

template <typename T>
void cudnn_forward(GpuContext& ctx, const Geometry& g, const T* data, const T* weight, T* out,
                   const RunOptions& opts) {
  const Problem p = make_problem<T>(g);
  DeviceBuffer big_buffer = p.window.needed ? device_buffer<T>(g.batch * p.big_sample)
                                            : DeviceBuffer();
  T* big = p.window.needed ? big_buffer.as<T>() : out;
  const T one = 1, zero = 0;
  Pointers q{big, const_cast<T*>(data), const_cast<T*>(weight)};
  over_chunks<BackwardDataOp>(ctx, g, p, q, opts,
      [&](const Descriptors& d, const Choice& c, const DeviceBuffer& ws, int64_t n0, int64_t) {
        check(cudnnConvolutionBackwardData(
                  ctx.cudnn, &one, d.filter, weight, d.small, data + n0 * p.small_sample, d.conv,
                  static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws.get(), ws.bytes(), &zero,
                  d.big, big + n0 * p.big_sample),
              "cudnnConvolutionBackwardData");
      });
  if (p.window.needed) {
    copy_window(big, p.window.big, out, p.window.out, p.window.offset, g.batch * g.num_filter);
  }
}

template <typename T>
void cudnn_backward(GpuContext& ctx, const Geometry& g, const T* out_grad, const T* data,
                    const T* weight, T* data_grad, T* weight_grad, const RunOptions& opts) {
  if (!data_grad && !weight_grad) return;
  const Problem p = make_problem<T>(g);
  DeviceBuffer big_buffer;
  const T* big = out_grad;
  if (p.window.needed) {  // the output gradient, zero-padded back into cuDNN's box
    big_buffer = device_buffer<T>(g.batch * p.big_sample);
    const Box back{-p.window.offset[0], -p.window.offset[1], -p.window.offset[2]};
    copy_window(out_grad, p.window.out, big_buffer.as<T>(), p.window.big, back,
                g.batch * g.num_filter);
    big = big_buffer.as<T>();
  }
  const T one = 1, zero = 0;
  if (data_grad) {
    Pointers q{const_cast<T*>(big), data_grad, const_cast<T*>(weight)};
    over_chunks<ForwardOp>(ctx, g, p, q, opts,
        [&](const Descriptors& d, const Choice& c, const DeviceBuffer& ws, int64_t n0, int64_t) {
          check(cudnnConvolutionForward(
                    ctx.cudnn, &one, d.big, big + n0 * p.big_sample, d.filter, weight, d.conv,
                    static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), ws.get(), ws.bytes(), &zero,
                    d.small, data_grad + n0 * p.small_sample),
                "cudnnConvolutionForward");
        });
  }
  if (weight_grad) {
    // FindEx may write the filter gradient while timing; it is overwritten afterwards.
    Pointers q{const_cast<T*>(big), const_cast<T*>(data), weight_grad};
    over_chunks<BackwardFilterOp>(ctx, g, p, q, opts,
        [&](const Descriptors& d, const Choice& c, const DeviceBuffer& ws, int64_t n0, int64_t) {
          check(cudnnConvolutionBackwardFilter(
                    ctx.cudnn, &one, d.big, big + n0 * p.big_sample, d.small,
                    data + n0 * p.small_sample, d.conv,
                    static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws.get(), ws.bytes(),
                    n0 == 0 ? &zero : &one, d.filter, weight_grad),
                "cudnnConvolutionBackwardFilter");
        });
  }
}

void clear_algorithm_cache() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  cache.clear();
}

template void cudnn_forward<float>(GpuContext&, const Geometry&, const float*, const float*,
                                   float*, const RunOptions&);
template void cudnn_forward<double>(GpuContext&, const Geometry&, const double*, const double*,
                                    double*, const RunOptions&);
template void cudnn_backward<float>(GpuContext&, const Geometry&, const float*, const float*,
                                    const float*, float*, float*, const RunOptions&);
template void cudnn_backward<double>(GpuContext&, const Geometry&, const double*, const double*,
                                     const double*, double*, double*, const RunOptions&);

}  // namespace cuda
}  // namespace deconv
