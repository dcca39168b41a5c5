#include "core/thread_name.h"

#include <pthread.h>

#include <algorithm>

namespace beckon {

namespace {
constexpr size_t kMaxThreadName = 15;  // the kernel's limit, without the terminating NUL
}  // namespace

void set_thread_name(std::string_view name) {
  const std::string cut(name.substr(0, std::min(name.size(), kMaxThreadName)));
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string thread_name() {
  char buf[kMaxThreadName + 1] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return {};
  return buf;
}

}  // namespace beckon
