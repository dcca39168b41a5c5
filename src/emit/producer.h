#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "core/status.h"
#include "core/types.h"
#include "kafka/handles.h"

namespace beckon::emit {

// Counts messages handed to the producer and their delivery reports, so a worker can wait for
// "everything I sent is acknowledged" before it commits. Thread-safe: the producer's poll thread
// records reports while the owning worker sends and waits.
class DeliveryTracker {
 public:
  void on_sent() { sent_.fetch_add(1, std::memory_order_relaxed); }
  void on_report(rd_kafka_resp_err_t err);
  // Blocks until every sent message has a report. Non-ok if any failed, or on timeout.
  Status wait_all(Millis timeout);
  int64_t in_flight() const { return sent_.load() - reported_.load(); }
  int64_t failed() const { return failed_.load(); }

 private:
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> reported_{0};
  std::atomic<int64_t> failed_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string first_error_;
};

struct Header {
  std::string_view name;
  std::span<const uint8_t> value;
};

// An idempotent librdkafka producer (acks=all, enable.idempotence=true) with its own thread
// serving delivery reports. Thread-safe: any worker may produce. stop() flushes and joins.
class Producer {
 public:
  // `properties` are passed through (bootstrap.servers, security.*, sasl.*, ssl.*, ...).
  static Result<std::unique_ptr<Producer>> create(const kafka::Properties& properties);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Copies the message into the producer queue. While the queue is full it waits (the caller's
  // consumption stalls: backpressure). `tracker` receives the delivery report.
  Status produce(const std::string& topic, std::span<const uint8_t> key, std::span<const uint8_t> value,
                 std::span<const Header> headers, DeliveryTracker* tracker);
  int queue_length() const { return rd_kafka_outq_len(rk_.get()); }
  int64_t backpressure_waits() const { return backpressure_waits_.load(); }
  // Fatal producer error (e.g. idempotence guarantee broken), empty when none.
  std::string fatal_error() const;
  Status flush(Millis timeout);
  void stop();

 private:
  Producer() = default;
  void poll_loop();

  kafka::KafkaPtr rk_;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> backpressure_waits_{0};
};

}  // namespace beckon::emit
