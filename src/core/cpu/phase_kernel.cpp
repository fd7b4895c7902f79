// The portable builds of the phase kernel and the weight gradient's tap dots: the
// compiler's baseline vectors (SSE2 on x86-64), 16 bytes; and the choice of build.
#include "core/cpu/phase_kernel.h"
#include "core/cpu/tap_dots.h"

#define DECONV_PHASE_VARIANT portable
#define DECONV_PHASE_BYTES 16
#include "core/cpu/phase_kernel.inc"
#include "core/cpu/tap_dots.inc"

#include <cstdlib>
#include <string>

namespace deconv {
namespace cpu {

namespace {

enum class PhaseSimd { Portable, Avx2, Avx512 };

PhaseSimd phase_simd() {
  static const PhaseSimd simd = [] {
    const char* env = std::getenv("DECONV_PHASE_KERNEL");
    const std::string want = env ? env : "";
    PhaseSimd best = PhaseSimd::Portable;
#ifdef DECONV_HAVE_AVX2_PHASE
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = PhaseSimd::Avx2;
#endif
#ifdef DECONV_HAVE_AVX512_GEMM
    if (__builtin_cpu_supports("avx512f")) best = PhaseSimd::Avx512;
#endif
    if (want == "portable") return PhaseSimd::Portable;
    if (want == "avx2" && best == PhaseSimd::Avx512) return PhaseSimd::Avx2;
    return best;
  }();
  return simd;
}

}  // namespace

template <typename T, typename Out>
PhaseRowKernel<T, Out> phase_row_kernel() {
  switch (phase_simd()) {
#ifdef DECONV_HAVE_AVX512_GEMM
    case PhaseSimd::Avx512: return &phase_row_avx512<T, Out>;
#endif
#ifdef DECONV_HAVE_AVX2_PHASE
    case PhaseSimd::Avx2: return &phase_row_avx2<T, Out>;
#endif
    default: return &phase_row_portable<T, Out>;
  }
}

template <typename T>
TapDotsBuild<T> tap_dots_build() {
  constexpr int64_t e = sizeof(T);
  switch (phase_simd()) {
#ifdef DECONV_HAVE_AVX512_GEMM
    case PhaseSimd::Avx512: return {&tap_dots_avx512<T>, 64 / e};
#endif
#ifdef DECONV_HAVE_AVX2_PHASE
    case PhaseSimd::Avx2: return {&tap_dots_avx2<T>, 32 / e};
#endif
    default: return {&tap_dots_portable<T>, 16 / e};
  }
}

template PhaseRowKernel<float, float> phase_row_kernel<float, float>();
template PhaseRowKernel<double, double> phase_row_kernel<double, double>();
template PhaseRowKernel<float, double> phase_row_kernel<float, double>();
template TapDotsBuild<float> tap_dots_build<float>();
template TapDotsBuild<double> tap_dots_build<double>();

}  // namespace cpu
}  // namespace deconv
