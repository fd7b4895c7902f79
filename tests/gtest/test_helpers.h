// Small helpers shared by the core's GoogleTest files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <string>
#include <typeinfo>

#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"

namespace deconv_test {

// Output extent of one spatial dimension, written out from MXNet's formula.
inline int64_t expected_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p, int64_t a) {
  return s * (in - 1) + d * (k - 1) + 1 - 2 * p + a;
}

// pad and adj MXNet derives from a non-zero target_shape entry.
struct PadAdj {
  int64_t pad, adj;
};
inline PadAdj target_pad_adj(int64_t in, int64_t k, int64_t s, int64_t d, int64_t target) {
  const int64_t t = s * (in - 1) + d * (k - 1) + 1 - target;
  return {(t + 1) / 2, t % 2};
}

inline deconv::DeconvParams make_params(deconv::Tuple kernel, int64_t num_filter) {
  deconv::DeconvParams p;
  p.kernel = std::move(kernel);
  p.num_filter = num_filter;
  return p;
}

}  // namespace deconv_test

// Expects `stmt` to throw exactly the deconv error type `Type` (not a sibling) with
// arg() == `arg_name` and, when `substr` is non-empty, a detail() containing it.
#define EXPECT_DECONV_ERROR(Type, stmt, arg_name, substr)                                   \
  do {                                                                                      \
    try {                                                                                   \
      stmt;                                                                                 \
      ADD_FAILURE() << "expected " #Type " on '" << (arg_name) << "', nothing was thrown";  \
    } catch (const Type& e_) {                                                              \
      EXPECT_EQ(e_.arg(), std::string(arg_name)) << "message: " << e_.what();               \
      const std::string sub_(substr);                                                       \
      if (!sub_.empty()) {                                                                  \
        EXPECT_NE(e_.detail().find(sub_), std::string::npos)                                \
            << "detail lacks '" << sub_ << "': " << e_.detail();                            \
      }                                                                                     \
    } catch (const std::exception& e_) {                                                    \
      ADD_FAILURE() << "expected " #Type ", got " << typeid(e_).name() << ": " << e_.what(); \
    }                                                                                       \
  } while (0)
