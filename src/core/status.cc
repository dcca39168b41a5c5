#include "core/status.h"

namespace beckon {

const char* to_string(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kIoError: return "I/O error";
    case Status::Code::kRetriable: return "retriable";
    case Status::Code::kFatal: return "fatal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(beckon::to_string(code_)) + ": " + message_;
}

}  // namespace beckon
