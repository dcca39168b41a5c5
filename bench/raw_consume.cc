// beckon-raw-consume: the raw-consumption passes of beckon-bench in a process of their own, linked
// with the system allocator. beckon-bench runs it against its embedded broker (which listens on
// loopback TCP) so the ceiling it reports does not depend on the allocator or the heap of the bench
// process. Prints one JSON object.
//
//   beckon-raw-consume BOOTSTRAP TOPIC PARTITIONS EXPECTED [PASSES]

#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "raw_consume.h"

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PARTITIONS EXPECTED [PASSES]\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1], topic = argv[2];
  const int partitions = std::atoi(argv[3]);
  const auto expected = std::strtoull(argv[4], nullptr, 10);
  const int passes = argc == 6 ? std::atoi(argv[5]) : 3;
  if (partitions <= 0 || expected == 0 || passes <= 0) {
    std::fprintf(stderr, "%s: PARTITIONS, EXPECTED and PASSES must be positive\n", argv[0]);
    return 2;
  }
  nlohmann::json rates = nlohmann::json::array(), cores = nlohmann::json::array();
  uint64_t consumed = 0, bytes = 0;
  for (int pass = 0; pass < passes; ++pass) {
    auto r = beckon::bench::raw_consume_pass(bootstrap, topic, partitions, expected,
                                             "bench-raw-subprocess-" + std::to_string(pass));
    if (!r.error.empty()) {
      std::fprintf(stderr, "%s: %s\n", argv[0], r.error.c_str());
      return 1;
    }
    rates.push_back(r.events_per_s);
    cores.push_back(r.seconds > 0 ? r.cpu_seconds / r.seconds : 0.0);
    consumed = r.consumed;
    bytes = r.payload_bytes;
  }
  nlohmann::json out = {{"passes_events_per_s", rates}, {"consumed", consumed}, {"payload_bytes", bytes},
                        {"passes_cpu_cores_used", cores},
                        {"allocator", "system"}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
