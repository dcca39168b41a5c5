#pragma once
// The raw-consumption ceiling of beckon-bench: a plain librdkafka consumer reading every message
// of a topic with no processing. Used in the bench process and by beckon-raw-consume, which runs
// the same passes in a process of its own with the system allocator (see bench/README.md).

#include <chrono>
#include <cstdint>
#include <string>

#include <sys/resource.h>

#include <librdkafka/rdkafka.h>

#include "kafka/handles.h"

namespace beckon::bench {

struct RawConsumePass {
  double events_per_s = 0;  // first to last message; 0 when not every expected message arrived
  uint64_t consumed = 0;
  uint64_t payload_bytes = 0;
  double seconds = 0;      // first to last message
  double cpu_seconds = 0;  // CPU time of the whole process (every thread) over the pass
  std::string error;  // set when the consumer could not be created or assigned
};

// One pass from the beginning of partitions [0, partitions) of `topic`, as a fresh consumer group
// `group`, until `expected` messages arrived or `timeout` passed. queued.min.messages as
// ingest::Runner sets it (a smaller one makes librdkafka back fetches off for a second).
inline RawConsumePass raw_consume_pass(const std::string& bootstrap, const std::string& topic, int partitions,
                                       uint64_t expected, const std::string& group,
                                       std::chrono::seconds timeout = std::chrono::seconds(300)) {
  using Clock = std::chrono::steady_clock;
  RawConsumePass out;
  auto conf = kafka::make_conf({{"bootstrap.servers", bootstrap},
                                {"group.id", group},
                                {"queued.min.messages", "1000000"},
                                {"enable.auto.commit", "false"},
                                {"enable.partition.eof", "false"}});
  if (!conf) {
    out.error = "kafka conf: " + conf.status().to_string();
    return out;
  }
  char err[512];
  kafka::KafkaPtr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof(err)));
  if (!c) {
    out.error = std::string("rd_kafka_new: ") + err;
    return out;
  }
  (void)conf->release();  // rd_kafka_new took it
  rd_kafka_poll_set_consumer(c.get());
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int part = 0; part < partitions; ++part) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), part)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_resp_err_t e = rd_kafka_assign(c.get(), list.get())) {
    out.error = std::string("assign: ") + rd_kafka_err2str(e);
    return out;
  }
  const auto process_cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu0 = process_cpu();
  Clock::time_point first{}, last{};
  const auto deadline = Clock::now() + timeout;
  while (out.consumed < expected && Clock::now() < deadline) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(c.get(), 100));
    if (!m || m->err) continue;
    if (out.consumed == 0) first = Clock::now();
    ++out.consumed;
    out.payload_bytes += m->len;
    last = Clock::now();
  }
  out.cpu_seconds = process_cpu() - cpu0;
  rd_kafka_consumer_close(c.get());
  const double secs = std::chrono::duration<double>(last - first).count();
  out.seconds = secs;
  out.events_per_s = secs > 0 && out.consumed >= expected ? static_cast<double>(out.consumed) / secs : 0.0;
  return out;
}

}  // namespace beckon::bench
