// The one piece of state the binding keeps between calls: what the last CPU run of an
// eager call used (peak temporary bytes and its plan). C_deconvolution and
// C_deconvolution_backward hand it to the dispatch on every call (a GPU run leaves it
// as it was); C_last_temp_bytes reads it for the benchmark and the workspace tests
// (deconv:::cpp_last_temp_bytes()). R runs one .Call at a time, so one instance is enough.
#pragma once

#include "core/run_options.h"

namespace deconv {
namespace r {

RunStats& last_cpu_run_stats();

}  // namespace r
}  // namespace deconv
