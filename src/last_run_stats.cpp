// The owner of last_run_stats.h's state.
#include "last_run_stats.h"

namespace deconv {
namespace r {

RunStats& last_cpu_run_stats() {
  static RunStats stats;
  return stats;
}

}  // namespace r
}  // namespace deconv
