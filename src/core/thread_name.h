#pragma once

#include <string>
#include <string_view>

namespace beckon {

// Names the calling thread (Linux keeps 15 bytes; longer names are cut), so `top -H`, `ps -L`,
// perf and debuggers tell beckon's threads apart: beckon-worker-N with its beckon-commit-N and
// beckon-read-N, beckon-gauges, beckon-produce, beckon-http. librdkafka names its own threads
// rdk:*, RocksDB its rocksdb:*.
void set_thread_name(std::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string thread_name();

}  // namespace beckon
