#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace beckon::state::testing {

// A fresh directory under /tmp, removed with its contents when the object goes away.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/beckon-state-test-XXXXXX";
    char* made = ::mkdtemp(tmpl);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace beckon::state::testing
