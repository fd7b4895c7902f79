// What the last CPU run of an eager call used (peak temporary bytes and its plan), kept
// for the benchmark and the workspace tests (deconv:::cpp_last_temp_bytes()).
#pragma once

#include "core/run_options.h"

namespace deconv {
namespace r {

RunStats& last_run_stats();

}  // namespace r
}  // namespace deconv
