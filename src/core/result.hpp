#pragma once
// A value or an error that names the problem; the low layers return these and
// only the CLI layer turns an error into a message and an exit code.

#include <string>
#include <utility>
#include <variant>

namespace wg {

// What went wrong, in the categories the CLI maps to exit codes.
enum class ErrorKind {
  usage,            // bad flag, bad value, bad environment variable
  nvml_unavailable, // no driver library, driver not loaded, version mismatch
  no_suitable_gpu,  // nothing passes the filters
  timed_out,        // --wait gave up
  interrupted,      // SIGINT while waiting
  terminated,       // SIGTERM while waiting
  lock_dir,         // the claims directory cannot be used
  command_not_found,
  command_not_executable,
  internal,
};

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::string details;  // optional extra lines (per-GPU reasons), already formatted
};

// Holds either a T or an Error. Small on purpose: has_value, value, error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}
  Result(Error error) : data_(std::move(error)) {}

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

struct Ok {};

inline Error usage_error(std::string message) {
  return Error{ErrorKind::usage, std::move(message), {}};
}

}  // namespace wg
