// The R side of RunOptions: an interrupt check that never longjmps through C++ frames,
// and the options that choose an algorithm.
#pragma once

#include <Rinternals.h>

#include "core/run_options.h"

namespace deconv {
namespace r {

inline void check_interrupt_fn(void*) { R_CheckUserInterrupt(); }

// True when the user pressed Ctrl-C / Esc. R_ToplevelExec confines R's jump.
inline bool user_interrupted() { return R_ToplevelExec(check_interrupt_fn, nullptr) == FALSE; }

// options(deconv.algorithm) (algorithm_option.cpp); ParamError naming it if invalid.
Algorithm algorithm_option();

inline RunOptions run_options(int threads) {
  RunOptions o;
  o.threads = resolve_threads(threads);
  o.algorithm = algorithm_option();
  o.interrupted = user_interrupted;
  return o;
}

}  // namespace r
}  // namespace deconv
