#include "core/thread_name.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>

#include <sys/syscall.h>
#include <unistd.h>

namespace beckon {
namespace {

// What `top -H` and `ps -L` show: the kernel's comm of the thread.
std::string comm_of_this_thread() {
  std::ifstream in("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(ThreadName, NamesTheCallingThreadAndCutsAtTheKernelLimit) {
  std::string short_name, long_name, comm;
  std::thread t([&] {
    set_thread_name("beckon-worker-3");
    short_name = thread_name();
    comm = comm_of_this_thread();
    set_thread_name("beckon-worker-12345");
    long_name = thread_name();
  });
  t.join();
  EXPECT_EQ(short_name, "beckon-worker-3");
  EXPECT_EQ(comm, "beckon-worker-3");
  EXPECT_EQ(long_name, "beckon-worker-1");  // 15 bytes
}

}  // namespace
}  // namespace beckon
