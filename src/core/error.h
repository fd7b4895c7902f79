// Exception types of the deconv core: each names the offending argument so that any
// front end (R, C++ tests) can word the message in its own terms.
#pragma once

#include <stdexcept>
#include <string>

namespace deconv {

// Base of every error the core raises on bad input. `arg()` is the MXNet parameter
// name ("kernel", "target_shape", "data", ...); `detail()` says what was expected.
class Error : public std::runtime_error {
 public:
  Error(std::string arg, std::string detail)
      : std::runtime_error(arg + ": " + detail), arg_(std::move(arg)), detail_(std::move(detail)) {}
  const std::string& arg() const noexcept { return arg_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string arg_;
  std::string detail_;
};

// A parameter that is wrong whatever the input shapes are.
class ParamError : public Error {
 public:
  using Error::Error;
};

// An input shape that does not fit the parameters (or a size that would overflow).
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A request the build cannot serve (e.g. a GPU context in a CPU-only build).
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

// A CUDA, cuBLAS or cuDNN call failed at run time (out of memory, driver trouble, ...).
// arg() is "ctx"; detail() names the call and carries the library's status string.
class DeviceError : public Error {
 public:
  using Error::Error;
};

// Memory or another resource ran out (a result R cannot allocate, std::bad_alloc).
class ResourceError : public Error {
 public:
  using Error::Error;
};

// Raised when the interrupt callback reported a user interrupt; work stopped cleanly.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted by the user") {}
};

}  // namespace deconv
