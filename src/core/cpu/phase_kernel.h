// The inner loop of the phase-decomposed forward (phase_forward.cpp): one output row of
// one group, every filter and every width phase, accumulated in SIMD registers and
// written once. Built three times from phase_kernel.inc: portable, and with AVX2 and
// with AVX-512 where the compiler takes them (chosen at run time by the CPU). Out is the
// output's element type: T, or double for float arithmetic on R's doubles (converted at
// the store).
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/params.h"

namespace deconv {
namespace cpu {

// The width phases of a layer: outputs ow = q * stride + r (q = 0 .. count - 1) of
// phase r take input iw = q + off[t] through tap kw[t], for the phase's taps
// t = begin .. end - 1.
struct WidthPhase {
  int64_t r, count, begin, end;
};

template <typename T, typename Out = T>
struct PhaseRow {
  // The row's input contributions: for entry e, x[e] points at iw = 0 of a zero-padded
  // input row, and w[e] at that (channel, kd, kh)'s weights, laid out [kw][filter].
  const T* const* x;
  const T* const* w;
  int64_t entries;
  const T* bias;           // this group's filters' biases, or null
  Out* y;                  // output of filter 0 at (row, ow = 0)
  int64_t filter_stride;   // elements between two filters' outputs
  int64_t filters;
  const WidthPhase* phases;
  int64_t phase_count, stride_w;
  const int64_t* kw;       // taps of all phases (WidthPhase::begin/end index these)
  const int64_t* off;
};

// How many outputs one block of the kernel covers: the padded input rows must hold
// this many values past each phase's last block start.
constexpr int64_t kPhaseBlock = 32;

// How many (sample, group) units of `per_unit` temporary elements a phase path builds
// at a time, of `total`: as many as the workspace (`workspace_mb`, elements of `elem`
// bytes) holds beside `fixed` elements (the reordered weights), at least one; `within`
// says whether one fits.
struct PhaseUnits {
  int64_t units;
  bool within;
};
inline PhaseUnits phase_units(int64_t workspace_mb, size_t elem, int64_t per_unit,
                              int64_t fixed, int64_t total) {
  const int64_t fit =
      (workspace_bytes(workspace_mb) / static_cast<int64_t>(elem) - fixed) / per_unit;
  return {std::max<int64_t>(1, std::min(total, fit)), fit >= 1};
}

// Built for (T, Out) = (float, float), (double, double) and (float, double).
template <typename T, typename Out>
void phase_row_portable(const PhaseRow<T, Out>& row);
template <typename T, typename Out>
void phase_row_avx2(const PhaseRow<T, Out>& row);
template <typename T, typename Out>
void phase_row_avx512(const PhaseRow<T, Out>& row);

// The widest of those builds the CPU runs (DECONV_PHASE_KERNEL=avx2 or portable in the
// environment asks for a narrower one; the tests run each). The forward and the data
// gradient (phase_backward.cpp) both call it.
template <typename T, typename Out>
using PhaseRowKernel = void (*)(const PhaseRow<T, Out>&);
template <typename T, typename Out>
PhaseRowKernel<T, Out> phase_row_kernel();

}  // namespace cpu
}  // namespace deconv
