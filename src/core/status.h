#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace beckon {

// The outcome of an operation that can fail in an expected way (bad input, I/O, a retriable
// broker error). [[nodiscard]]: ignoring one is a compile warning; a deliberate ignore is
// written `status.ignore_error()` so it can be found with grep.
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // bad input or configuration; retrying will not help
    kNotFound,
    kCorruption,       // stored or received bytes that cannot be trusted
    kIoError,          // local storage failure
    kRetriable,        // transient; the same call may succeed later
    kFatal,            // the process cannot continue safely
  };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status not_found(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status io_error(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status retriable(std::string m) { return Status(Code::kRetriable, std::move(m)); }
  static Status fatal(std::string m) { return Status(Code::kFatal, std::move(m)); }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;
  void ignore_error() const {}

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

const char* to_string(Status::Code code);

// Either a value or a non-ok Status. [[nodiscard]] like Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.is_ok()); }  // NOLINT

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(is_ok()); return *value_; }
  const T& value() const& { assert(is_ok()); return *value_; }
  T&& value() && { assert(is_ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace beckon
