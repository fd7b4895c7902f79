// options(deconv.algorithm): which CPU forward algorithm a call may use
// (RunOptions::algorithm, read once per call by r::run_options()).
#include <string>

#include "convert.h"
#include "core/error.h"
#include "r_interrupt.h"

namespace deconv {
namespace r {

Algorithm algorithm_option() {
  static SEXP option = Rf_install("deconv.algorithm");
  SEXP x = Rf_GetOption1(option);
  if (Rf_isNull(x)) return Algorithm::Auto;
  if (TYPEOF(x) == STRSXP && XLENGTH(x) == 1 && STRING_ELT(x, 0) != NA_STRING) {
    const std::string v = CHAR(STRING_ELT(x, 0));
    if (v == "auto") return Algorithm::Auto;
    if (v == "direct") return Algorithm::Direct;
    if (v == "winograd") return Algorithm::Winograd;
  }
  throw ParamError("deconv.algorithm",
                   "expected \"auto\", \"direct\" or \"winograd\", got " + describe(x));
}

}  // namespace r
}  // namespace deconv
