// The one boundary between R and the C++ code. Every .Call entry (src/init.cpp lists
// them) takes SEXPs only and runs its body through entry():
//  - a C++ exception (deconv's, std::bad_alloc, any std::exception) becomes a value of
//    class "deconv_core_error" (the message, worded with R's argument names, and the
//    condition class), which R/core.R raises from the user's call;
//  - deconv::Interrupted becomes an R interrupt;
//  - R API calls that can raise an R error (every allocation) run inside call_r(), which
//    turns R's longjmp into a C++ exception; entry() resumes the jump once the body's
//    C++ objects are destroyed.
// So no R jump crosses a live C++ object: inside the body, call_r() turns R's jump into
// an exception, which destroys the body's objects on its way out to entry(); the jumps
// entry() makes itself (the interrupt, a resumed jump) come after that, and entry() and
// its callers keep only trivially destructible state (every .Call function is just
// `return r::entry([&] { ... });`). An error reaches R as a returned value, after all
// C++ objects are gone. PROTECTs made through keep() are balanced on every way out.
#pragma once

#include <Rinternals.h>

#include <csetjmp>
#include <exception>
#include <new>
#include <string>

#include "core/error.h"

namespace deconv {
namespace r {

// Thrown by call_r() when R started a jump (an R error or interrupt) inside it.
struct RJump {};

// PROTECTs x until the entry returns (also when the body throws); returns x.
SEXP keep(SEXP x);

namespace detail {

int protect_depth();
void set_protect_depth(int depth);  // after R itself popped PROTECTs in a jump
SEXP unwind_token();                // the entry's continuation token (R_MakeUnwindCont)

template <class F>
SEXP trampoline(void* fn) {
  return (*static_cast<F*>(fn))();
}
void jump_back(void* buf, Rboolean jump);

// What the body's failure was, in fixed buffers (no destructors to skip).
struct Outcome {
  enum Kind { Ok, Failed, Interrupt, Jump } kind = Ok;
  char r_class[40] = {0};
  char message[4096] = {0};
};

void record(Outcome& o, const char* r_class, const std::string& arg, const char* detail) noexcept;
// Runs at the entry's end: balances PROTECTs, then returns `result`, the error value,
// raises the interrupt or resumes R's jump.
SEXP finish(SEXP result, const Outcome& o, int protect_base);
int begin_entry();  // makes the token; returns the PROTECT depth to restore

template <class F>
SEXP run_body(F& body, Outcome& o) noexcept {
  try {
    return body();
  } catch (const RJump&) {
    o.kind = Outcome::Jump;
  } catch (const Interrupted&) {
    o.kind = Outcome::Interrupt;
  } catch (const ParamError& e) {
    record(o, "deconv_param_error", e.arg(), e.detail().c_str());
  } catch (const ShapeError& e) {
    record(o, "deconv_shape_error", e.arg(), e.detail().c_str());
  } catch (const UnsupportedError& e) {
    record(o, "deconv_unsupported_error", e.arg(), e.detail().c_str());
  } catch (const DeviceError& e) {
    record(o, "deconv_device_error", e.arg(), e.detail().c_str());
  } catch (const ResourceError& e) {
    record(o, "deconv_resource_error", e.arg(), e.detail().c_str());
  } catch (const Error& e) {
    record(o, "deconv_error", e.arg(), e.detail().c_str());
  } catch (const std::bad_alloc&) {
    record(o, "deconv_resource_error", "memory",
           "out of memory for temporary buffers (std::bad_alloc); try a smaller batch or "
           "workspace");
  } catch (const std::exception& e) {
    record(o, "deconv_internal_error", "internal", e.what());
  } catch (...) {
    record(o, "deconv_internal_error", "internal", "unknown C++ exception");
  }
  return R_NilValue;
}

}  // namespace detail

// Runs body() (returning SEXP) behind the boundary; see the top of this file.
template <class F>
SEXP entry(F&& body) {
  const int base = detail::begin_entry();
  detail::Outcome outcome;
  SEXP result = detail::run_body(body, outcome);
  return detail::finish(result, outcome, base);
}

// Runs fn() (returning SEXP), which calls the R API, so that an R error or jump inside
// it becomes RJump. fn must create no C++ objects that need destroying.
template <class F>
SEXP call_r(F&& fn) {
  const int depth = detail::protect_depth();
  std::jmp_buf buf;
  if (setjmp(buf)) {
    detail::set_protect_depth(depth);  // R popped the PROTECTs made inside fn
    throw RJump{};
  }
  return R_UnwindProtect(detail::trampoline<F>, &fn, detail::jump_back, &buf,
                         detail::unwind_token());
}

// Fresh R vectors, kept until the entry returns. Big ones are allocated so that R's
// "cannot allocate" becomes a deconv_resource_error naming `arg`; large doubles (the
// results) come from the block cache (result_memory.h).
SEXP new_vector(SEXPTYPE type, R_xlen_t n, const char* arg);
SEXP scalar_real(double v);
SEXP scalar_int(int v);
SEXP scalar_lgl(bool v);
SEXP scalar_string(const std::string& s);
SEXP scalar_string_or_na(const std::string& s);  // "" becomes NA

// Sets attribute `name` of x to value (both kept).
void set_attr(SEXP x, SEXP name, SEXP value);

// A named list of kept values, built in one go.
SEXP named_list(std::initializer_list<std::pair<const char*, SEXP>> items);

}  // namespace r
}  // namespace deconv
