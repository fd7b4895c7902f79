// The non-template parts of the R boundary (see r_boundary.h).
#include "r_boundary.h"

#include <cstdio>
#include <cstring>

#include "convert.h"
#include "result_memory.h"

// R's interrupt, as the graphics-device API declares it (R_ext/GraphicsDevice.h).
extern "C" void Rf_onintr(void);

namespace deconv {
namespace r {

namespace {
// R calls entries on its main thread only, one at a time: plain statics suffice.
int depth = 0;
SEXP token = nullptr;
}  // namespace

SEXP keep(SEXP x) {
  PROTECT(x);
  ++depth;
  return x;
}

namespace detail {

int protect_depth() { return depth; }
void set_protect_depth(int d) { depth = d; }
SEXP unwind_token() { return token; }

void jump_back(void* buf, Rboolean jump) {
  if (jump) std::longjmp(*static_cast<std::jmp_buf*>(buf), 1);
}

int begin_entry() {
  const int base = depth;
  token = keep(R_MakeUnwindCont());
  return base;
}

void record(Outcome& o, const char* r_class, const std::string& arg, const char* detail) noexcept {
  o.kind = Outcome::Failed;
  std::snprintf(o.r_class, sizeof o.r_class, "%s", r_class);
  try {
    std::snprintf(o.message, sizeof o.message, "%s: %s", r_arg_name(arg).c_str(), detail);
  } catch (...) {
    std::snprintf(o.message, sizeof o.message, "%s: %s", arg.c_str(), detail);
  }
}

SEXP finish(SEXP result, const Outcome& o, int protect_base) {
  UNPROTECT(depth - protect_base);
  depth = protect_base;
  switch (o.kind) {
    case Outcome::Ok:
      return result;
    case Outcome::Jump:
      R_ContinueUnwind(token);  // no allocation since the unprotect: the token is intact
      return R_NilValue;
    case Outcome::Interrupt:
      Rf_onintr();
      return R_NilValue;
    case Outcome::Failed:
      break;
  }
  // The error value, list(message, class), of class "deconv_core_error".
  SEXP v = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(v, 0, Rf_mkString(o.message));
  SET_VECTOR_ELT(v, 1, Rf_mkString(o.r_class));
  SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
  SET_STRING_ELT(names, 0, Rf_mkChar("message"));
  SET_STRING_ELT(names, 1, Rf_mkChar("class"));
  Rf_setAttrib(v, R_NamesSymbol, names);
  Rf_setAttrib(v, R_ClassSymbol, Rf_mkString("deconv_core_error"));
  UNPROTECT(2);
  return v;
}

}  // namespace detail

namespace {

struct AllocRequest {
  SEXPTYPE type;
  R_xlen_t n;
  R_allocator_t* allocator;  // null: R's own
};

SEXP alloc_body(void* data) {
  const auto* a = static_cast<AllocRequest*>(data);
  return a->allocator ? Rf_allocVector3(a->type, a->n, a->allocator) : Rf_allocVector(a->type, a->n);
}

SEXP alloc_failed(SEXP, void*) { return R_NilValue; }

size_t element_bytes(SEXPTYPE type) {
  switch (type) {
    case REALSXP: return sizeof(double);
    case INTSXP: case LGLSXP: return sizeof(int);
    default: return sizeof(SEXP);
  }
}

}  // namespace

SEXP new_vector(SEXPTYPE type, R_xlen_t n, const char* arg) {
  const double bytes = static_cast<double>(n) * static_cast<double>(element_bytes(type));
  if (n < 0 || static_cast<double>(n) > static_cast<double>(R_XLEN_T_MAX))
    throw ResourceError(arg, "the result would have " + number_text(static_cast<double>(n)) +
                                 " values, more than an R vector can hold");
  // Large doubles (the results) from the block cache.
  R_allocator_t* allocator = type == REALSXP ? result_allocator(bytes) : nullptr;
  if (bytes < double(1 << 20) && !allocator)
    return keep(call_r([&] { return Rf_allocVector(type, n); }));
  // Big: R_tryCatchError turns R's "cannot allocate" into a value we can report.
  AllocRequest req{type, n, allocator};
  SEXP v = call_r([&] { return R_tryCatchError(alloc_body, &req, alloc_failed, nullptr); });
  if (v == R_NilValue)
    throw ResourceError(arg, "cannot allocate " + bytes_text(bytes) + " for the result");
  return keep(v);
}

SEXP scalar_real(double v) {
  return keep(call_r([&] { return Rf_ScalarReal(v); }));
}
SEXP scalar_int(int v) {
  return keep(call_r([&] { return Rf_ScalarInteger(v); }));
}
SEXP scalar_lgl(bool v) {
  return keep(call_r([&] { return Rf_ScalarLogical(v ? TRUE : FALSE); }));
}
SEXP scalar_string(const std::string& s) {
  const char* c = s.c_str();
  return keep(call_r([&] { return Rf_mkString(c); }));
}
SEXP scalar_string_or_na(const std::string& s) {
  if (!s.empty()) return scalar_string(s);
  return keep(call_r([&] { return Rf_ScalarString(NA_STRING); }));
}

void set_attr(SEXP x, SEXP name, SEXP value) {
  call_r([&] {
    Rf_setAttrib(x, name, value);
    return R_NilValue;
  });
}

SEXP named_list(std::initializer_list<std::pair<const char*, SEXP>> items) {
  const R_xlen_t n = static_cast<R_xlen_t>(items.size());
  SEXP out = new_vector(VECSXP, n, "result");
  SEXP names = new_vector(STRSXP, n, "result");
  R_xlen_t i = 0;
  for (const auto& item : items) {
    const char* name = item.first;
    SEXP value = item.second;
    call_r([&] {
      SET_VECTOR_ELT(out, i, value);
      SET_STRING_ELT(names, i, Rf_mkChar(name));
      return R_NilValue;
    });
    ++i;
  }
  set_attr(out, R_NamesSymbol, names);
  return out;
}

}  // namespace r
}  // namespace deconv
