// Benchmark of the core without R: the GPU paths (cuDNN with its heuristic, cuDNN's fastest
// algorithm, deconv's own kernels with cudnn_off) timed with CUDA events on device arrays
// (cuda::benchmark_ms, as deconv:::gpu_benchmark() in R), and the CPU kernel at several
// thread counts (wall clock, median), on the layers of inst/bench/layers.csv, the list
// bench.R and bench_gpu.R read too. Forward and backward (all three gradients), with bias.
//
//   bench_core --layers=inst/bench/layers.csv [--select=dcgan1,fcn] [--dtypes=float32,float64]
//              [--gpu-reps=20] [--no-gpu] [--cpu-threads=1,4,8,16] [--cpu-reps=3]
//              [--cpu-budget=2] [--gradients=all|data|weight|none] [--md=FILE] [--csv=FILE]
//
// --cpu-threads= (empty) skips the CPU; --cpu-budget caps the seconds of timed passes per
// layer, dtype, thread count and direction (at least one pass is timed). Prints markdown
// tables; --md writes them to FILE, --csv one row per timing. A timing that throws shows
// as "error" in its cell and the rest goes on. --gradients=data or weight times the CPU
// backward with only that gradient (to compare the paths of one; GF/s still count all
// three); --gradients=none skips the backward (a forward alone, for profiles). Exit
// status 0 unless the arguments or the
// layer file are bad.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda/cuda_entry_points.h"
#include "core/cuda/runtime/runtime_device_info.h"
#include "core/dispatch.h"
#include "core/params.h"
#include "core/run_options.h"
#include "core/shape.h"

using namespace deconv;

namespace {

struct Layer {
  std::string name, group;
  int64_t N = 0, C = 0, F = 0, groups = 1;
  Tuple spatial, kernel, stride, pad;
  Tuple dilate;        // empty: 1 per dimension
  std::string layout;  // empty: NCW / NCHW / NCDHW from the kernel's length
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream is(s);
  while (std::getline(is, part, sep)) out.push_back(part);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  const auto b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

Tuple tuple(const std::string& s) {
  Tuple t;
  for (const std::string& p : split(s, 'x')) t.push_back(std::stoll(p));
  return t;
}

// layers.csv: header name,group,N,C,spatial,F,kernel,stride,pad,groups[,dilate,layout];
// tuples "4x4"; a blank dilate or layout is the default (1; channels first).
std::vector<Layer> read_layers(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> want = {"name", "group", "N",    "C",   "spatial",
                                   "F",    "kernel", "stride", "pad", "groups"};
  std::vector<std::string> head = split(line, ',');
  for (auto& h : head) h = trim(h);
  if (head.size() == want.size() + 2) {
    want.push_back("dilate");
    want.push_back("layout");
  }
  if (head != want) throw std::runtime_error(file + ": unexpected header '" + line + "'");
  std::vector<Layer> layers;
  while (std::getline(in, line)) {
    if (trim(line).empty()) continue;
    std::vector<std::string> f = split(line, ',');
    if (f.size() != want.size()) throw std::runtime_error(file + ": bad row '" + line + "'");
    for (auto& x : f) x = trim(x);
    Layer L;
    L.name = f[0];
    L.group = f[1];
    L.N = std::stoll(f[2]);
    L.C = std::stoll(f[3]);
    L.spatial = tuple(f[4]);
    L.F = std::stoll(f[5]);
    L.kernel = tuple(f[6]);
    L.stride = tuple(f[7]);
    L.pad = tuple(f[8]);
    L.groups = std::stoll(f[9]);
    if (f.size() > 10) {
      if (!f[10].empty()) L.dilate = tuple(f[10]);
      L.layout = f[11];
    }
    layers.push_back(L);
  }
  return layers;
}

// 2 * N * C * spatial_in * (F / groups) * prod(kernel): one pass, as layers.R counts it
// (dilation spreads the taps without adding any).
double layer_flops(const Layer& L) {
  double f = 2.0 * L.N * L.C * (double(L.F) / L.groups);
  for (int64_t s : L.spatial) f *= s;
  for (int64_t k : L.kernel) f *= k;
  return f;
}

Geometry geometry(const Layer& L, CudnnTune tune, bool cudnn_off) {
  DeconvParams p;
  p.kernel = L.kernel;
  p.stride = L.stride;
  p.dilate = L.dilate;
  p.pad = L.pad;
  p.num_filter = L.F;
  p.num_group = L.groups;
  p.no_bias = false;
  p.cudnn_tune = tune;
  p.cudnn_off = cudnn_off;
  if (!L.layout.empty()) p.layout = parse_layout(L.layout);
  // The data shape in the layout's order: N, C, spatial... or N, spatial..., C.
  const bool last = p.layout != Layout::None && layout_channels_last(p.layout);
  Shape data{L.N};
  if (!last) data.push_back(L.C);
  data.insert(data.end(), L.spatial.begin(), L.spatial.end());
  if (last) data.push_back(L.C);
  return infer_geometry(p, data);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

using Clock = std::chrono::steady_clock;

// Median ms of CPU passes: one warm-up, then up to `reps` timed within `budget_s`.
template <typename T>
double cpu_ms(const Geometry& g, bool backward, int threads, int reps, double budget_s,
              const std::string& gradients) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  auto fill = [&](int64_t n) {
    std::vector<T> v(static_cast<size_t>(n));
    for (auto& e : v) e = static_cast<T>(u(rng));
    return v;
  };
  const int64_t nx = element_count(g.data_shape), nw = element_count(g.weight_shape),
                ny = element_count(g.out_shape);
  std::vector<T> x = fill(nx), w = fill(nw), b = fill(g.num_filter), y = fill(ny);
  std::vector<T> dx, dw, db;
  if (backward) {
    dx.resize(nx);
    dw.resize(nw);
    db.resize(g.num_filter);
  }
  const Context cpu;
  RunOptions opts;
  opts.threads = threads;
  auto pass = [&] {
    if (backward) {
      const bool all = gradients == "all";
      deconvolution_backward<T>(cpu, g, y.data(), x.data(), w.data(),
                                all || gradients == "data" ? dx.data() : nullptr,
                                all || gradients == "weight" ? dw.data() : nullptr,
                                all ? db.data() : nullptr, opts);
    } else {
      deconvolution_forward<T>(cpu, g, x.data(), w.data(), b.data(), y.data(), opts);
    }
  };
  pass();
  std::vector<double> ms;
  double spent = 0;
  for (int i = 0; i < std::max(reps, 1) && (i == 0 || spent < budget_s); ++i) {
    const auto t0 = Clock::now();
    pass();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    spent += s;
    ms.push_back(s * 1e3);
  }
  return median(ms);
}

struct Options {
  std::string layers_file = "inst/bench/layers.csv";
  std::vector<std::string> select;
  std::vector<std::string> dtypes = {"float32", "float64"};
  bool gpu = true;
  int gpu_reps = 20;
  std::vector<int> cpu_threads = {1, 4, 8, 16};
  int cpu_reps = 3;
  double cpu_budget = 2;
  std::string gradients = "all";
  std::string md, csv;
};

bool starts(const std::string& a, const std::string& prefix) { return a.rfind(prefix, 0) == 0; }

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& key) { return a.substr(key.size()); };
    if (starts(a, "--layers=")) o.layers_file = value("--layers=");
    else if (starts(a, "--select=")) o.select = split(value("--select="), ',');
    else if (starts(a, "--dtypes=")) o.dtypes = split(value("--dtypes="), ',');
    else if (a == "--no-gpu") o.gpu = false;
    else if (starts(a, "--gpu-reps=")) o.gpu_reps = std::stoi(value("--gpu-reps="));
    else if (starts(a, "--cpu-threads=")) {
      o.cpu_threads.clear();
      for (const std::string& t : split(value("--cpu-threads="), ','))
        if (!t.empty()) o.cpu_threads.push_back(std::stoi(t));
    } else if (starts(a, "--cpu-reps=")) o.cpu_reps = std::stoi(value("--cpu-reps="));
    else if (starts(a, "--cpu-budget=")) o.cpu_budget = std::stod(value("--cpu-budget="));
    else if (starts(a, "--gradients=")) o.gradients = value("--gradients=");
    else if (starts(a, "--md=")) o.md = value("--md=");
    else if (starts(a, "--csv=")) o.csv = value("--csv=");
    else throw std::runtime_error("unknown argument '" + a + "'");
  }
  for (const std::string& d : o.dtypes)
    if (d != "float32" && d != "float64") throw std::runtime_error("unknown dtype '" + d + "'");
  if (o.gradients != "all" && o.gradients != "data" && o.gradients != "weight" &&
      o.gradients != "none")
    throw std::runtime_error("unknown --gradients '" + o.gradients + "'");
  return o;
}

std::string fmt(double v, int digits = 3) {
  if (v < 0) return "error";
  char buf[64];
  if (v >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
  else std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string ratio(double a, double b) {
  if (a < 0 || b <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", a / b);
  return buf;
}

struct GpuMode {
  const char* name;
  CudnnTune tune;
  bool off;
};
const GpuMode kGpuModes[] = {{"heuristic", CudnnTune::None, false},
                             {"fastest", CudnnTune::Fastest, false},
                             {"cudnn_off", CudnnTune::None, true}};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<Layer> layers;
  try {
    o = parse(argc, argv);
    layers = read_layers(o.layers_file);
    if (!o.select.empty()) {
      std::vector<Layer> keep;
      for (const Layer& L : layers)
        if (std::find(o.select.begin(), o.select.end(), L.name) != o.select.end() ||
            std::find(o.select.begin(), o.select.end(), L.group) != o.select.end())
          keep.push_back(L);
      layers = keep;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_core: " << e.what() << "\n";
    return 2;
  }
  std::ofstream csv;
  if (!o.csv.empty()) {
    csv.open(o.csv);
    csv << "device,layer,dtype,path,threads,direction,ms,gflops\n";
  }
  std::ostringstream md;
  auto note_error = [](const std::string& what, const std::exception& e) {
    std::cerr << "bench_core: " << what << ": " << e.what() << "\n";
  };

  // ---- GPU ----
  const int devices = cuda::device_count();
  if (o.gpu && devices > 0) {
    const cuda::BuildInfo info = cuda::build_info();
    md << "### GPU: " << info.devices[0] << "\n\n"
       << "Median of " << o.gpu_reps << " passes on device arrays after a warm-up, CUDA events;"
       << " ms per pass; backward = all three gradients (2 passes of FLOPs). GF/s of the"
       << " fastest path. \"/fastest\": time over cuDNN's fastest algorithm's.\n\n"
       << "| layer | dtype | heuristic fwd | fastest fwd | cudnn_off fwd | heuristic bwd |"
       << " fastest bwd | cudnn_off bwd | best fwd GF/s | heuristic/fastest fwd, bwd |"
       << " cudnn_off/fastest fwd, bwd |\n"
       << "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    for (const std::string& dtype : o.dtypes) {
      for (const Layer& L : layers) {
        double ms[3][2];
        for (int m = 0; m < 3; ++m) {
          for (int bwd = 0; bwd < 2; ++bwd) {
            ms[m][bwd] = -1;
            try {
              const Geometry g = geometry(L, kGpuModes[m].tune, kGpuModes[m].off);
              ms[m][bwd] = cuda::benchmark_ms(0, g, dtype == "float32", true, bwd == 1, o.gpu_reps);
            } catch (const std::exception& e) {
              note_error(L.name + " " + dtype + " " + kGpuModes[m].name, e);
            }
            const double gf = ms[m][bwd] > 0 ? layer_flops(L) * (bwd ? 2 : 1) / ms[m][bwd] / 1e6 : -1;
            if (csv.is_open())
              csv << "gpu," << L.name << "," << dtype << "," << kGpuModes[m].name << ",,"
                  << (bwd ? "backward" : "forward") << "," << ms[m][bwd] << "," << gf << "\n";
          }
        }
        double best = -1;
        for (int m = 0; m < 3; ++m)
          if (ms[m][0] > 0 && (best < 0 || ms[m][0] < best)) best = ms[m][0];
        md << "| " << L.name << " | " << dtype;
        for (int bwd = 0; bwd < 2; ++bwd)
          for (int m = 0; m < 3; ++m) md << " | " << fmt(ms[m][bwd]);
        md << " | " << (best > 0 ? fmt(layer_flops(L) / best / 1e6) : "-") << " | "
           << ratio(ms[0][0], ms[1][0]) << ", " << ratio(ms[0][1], ms[1][1]) << " | "
           << ratio(ms[2][0], ms[1][0]) << ", " << ratio(ms[2][1], ms[1][1]) << " |\n";
        std::cerr << "gpu " << L.name << " " << dtype << " done\n";
      }
    }
    md << "\n";
  } else if (o.gpu) {
    md << "### GPU: not run (" << (cuda::compiled_with_cuda() ? "no CUDA device" : "built without CUDA")
       << ")\n\n";
  }

  // ---- CPU ----
  if (!o.cpu_threads.empty()) {
    const unsigned hw = std::thread::hardware_concurrency();
    md << "### CPU kernel: " << hw << " hardware threads\n\n"
       << "Median of up to " << o.cpu_reps << " passes (wall clock, after a warm-up; at most "
       << o.cpu_budget << " s of timed passes per cell); ms per pass; backward = all three"
       << " gradients. Speed-up: the time at " << o.cpu_threads.front()
       << " thread(s) over this one."
       << (o.cpu_threads.back() > static_cast<int>(hw) ? " Thread counts above the hardware's are oversubscribed." : "")
       << "\n\n| layer | dtype | threads | fwd ms | fwd GF/s | fwd speed-up | bwd ms | bwd GF/s |"
       << " bwd speed-up |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const std::string& dtype : o.dtypes) {
      for (const Layer& L : layers) {
        double base[2] = {-1, -1};
        const int directions = o.gradients == "none" ? 1 : 2;  // forward, then backward
        for (int t : o.cpu_threads) {
          double ms[2] = {-1, -1};
          for (int bwd = 0; bwd < directions; ++bwd) {
            try {
              const Geometry g = geometry(L, CudnnTune::None, false);
              ms[bwd] = dtype == "float32"
                            ? cpu_ms<float>(g, bwd, t, o.cpu_reps, o.cpu_budget, o.gradients)
                            : cpu_ms<double>(g, bwd, t, o.cpu_reps, o.cpu_budget, o.gradients);
            } catch (const std::exception& e) {
              note_error(L.name + " " + dtype + " cpu " + std::to_string(t), e);
            }
            if (t == o.cpu_threads.front()) base[bwd] = ms[bwd];
            if (csv.is_open())
              csv << "cpu," << L.name << "," << dtype << ",cpu," << t << ","
                  << (bwd ? "backward" : "forward") << "," << ms[bwd] << ","
                  << (ms[bwd] > 0 ? layer_flops(L) * (bwd ? 2 : 1) / ms[bwd] / 1e6 : -1) << "\n";
          }
          md << "| " << L.name << " | " << dtype << " | " << t;
          for (int bwd = 0; bwd < 2; ++bwd) {
            if (bwd == directions) {  // not timed
              md << " | - | - | -";
              continue;
            }
            md << " | " << fmt(ms[bwd]) << " | "
               << (ms[bwd] > 0 ? fmt(layer_flops(L) * (bwd ? 2 : 1) / ms[bwd] / 1e6) : "-")
               << " | " << ratio(base[bwd], ms[bwd]);
          }
          md << " |\n";
        }
        std::cerr << "cpu " << L.name << " " << dtype << " done\n";
      }
    }
    md << "\n";
  }

  std::cout << md.str();
  if (!o.md.empty()) {
    std::ofstream f(o.md);
    f << md.str();
  }
  return 0;
}
