#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace beckon::kafka {

// RAII owners of librdkafka handles. Each deleter calls the matching destroy function.
struct KafkaDeleter { void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); } };
struct ConfDeleter { void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); } };
struct QueueDeleter { void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); } };
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct MessageDeleter { void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); } };
struct HeadersDeleter { void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); } };

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

using Properties = std::map<std::string, std::string>;

// Builds a librdkafka configuration from properties; the error names the offending property.
Result<ConfPtr> make_conf(const Properties& properties);

// Maps a librdkafka error where it enters beckon: fatal errors (the handle cannot continue,
// authentication, invalid configuration) become Status::fatal, the rest Status::retriable.
Status map_error(rd_kafka_resp_err_t err, std::string_view context);
bool is_fatal(rd_kafka_resp_err_t err);

// The last value of header `name` of a consumed message; empty when absent.
std::string header_value(const rd_kafka_message_t* message, const char* name);

// The embedded Kafka-protocol broker (librdkafka's mock cluster) with the handle that owns it.
// A test double of Kafka: 5 MiB or 100k message sets kept per partition, no transactions or
// read_committed. Not thread-safe to construct; the cluster itself serves from its own thread.
class EmbeddedBroker {
 public:
  // Starts `brokers` brokers listening on 127.0.0.1 (ephemeral ports).
  static Result<std::unique_ptr<EmbeddedBroker>> start(int brokers = 1);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  const std::string& bootstrap_servers() const { return bootstraps_; }
  Status create_topic(const std::string& topic, int partitions);
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

 private:
  EmbeddedBroker() = default;
  KafkaPtr handle_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace beckon::kafka
