#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "codec/event_decoder.h"
#include "core/status.h"
#include "kafka/handles.h"
#include "pipeline/worker.h"

namespace beckon::ingest {

struct InputTopic {
  std::string name;
  codec::InputFormat format = codec::InputFormat::kAuto;
};

struct RunnerOptions {
  kafka::Properties consumer_properties;  // bootstrap.servers, group.id, security.*, ...
  std::vector<InputTopic> topics;         // co-partitioned, keyed by customer_id
  Millis poll_timeout{100};
  int batch_size = 1024;                  // messages taken from a worker's queue at a time
  Millis shutdown_flush_timeout{30'000};  // longest wait for action acknowledgements when stopping;
                                          // past it the process exits non-zero without committing
                                          // (the next start replays: at-least-once)
};

// Hooks the runner calls for metrics and readiness; all optional, called from runner threads.
struct RunnerHooks {
  std::function<void(const std::string& kind, const std::vector<int32_t>& partitions)> on_rebalance;
  std::function<void(const std::string& stats_json)> on_stats;  // librdkafka statistics
};

// Runs the consumer group: one librdkafka consumer whose per-partition queues are forwarded to
// one queue per worker (partition p goes to worker p % workers), each worker driven by its own
// thread with no locks on the hot path but its own mutex, which the rebalance handler takes to
// hand partitions over. On assignment each partition resumes from the offsets stored in
// RocksDB; on revocation its worker commits first. Consumer-group offsets are committed after
// each durable commit, for lag monitoring.
//
// Lifecycle: construct, run() (blocks until stop() or a fatal error), destroy. stop() may be
// called from any thread (e.g. a signal watcher). Workers must outlive the runner.
class Runner {
 public:
  Runner(RunnerOptions options, std::vector<pipeline::Worker*> workers, RunnerHooks hooks = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Subscribes and processes until stop(); then drains, commits and closes the consumer.
  // Returns non-ok on a fatal broker, sink or storage error (nothing is committed past it).
  Status run();
  void stop() { stopping_.store(true); }
  // True once partitions are assigned and the first poll after assignment completed.
  bool ready() const { return ready_.load(); }
  size_t assigned_partitions() const { return assigned_.load(); }

 private:
  struct Batch;
  struct WorkerSlot;
  static int stats_cb(rd_kafka_t* rk, char* json, size_t len, void* opaque);
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  void on_assign(rd_kafka_topic_partition_list_t* parts);
  void on_revoke(rd_kafka_topic_partition_list_t* parts);
  void worker_loop(WorkerSlot& slot);
  // Takes a batch from the worker's queue, waiting up to `timeout` for its first message.
  void take(WorkerSlot& slot, Batch& batch, Millis timeout);
  // Sets the batch's inputs and hands their keys to the worker's prefetch (slot lock held):
  // kNow for the batch processed next, kAhead for the one held behind it.
  void prefetch(WorkerSlot& slot, Batch& batch, std::vector<pipeline::InputMessage>& hints,
                pipeline::Worker::Prefetch when);
  // Commits everything the worker processed and waits until it is durable (rebalance, drain).
  Status commit_worker(WorkerSlot& slot, std::optional<Millis> flush_timeout = std::nullopt);
  // Tells the consumer group about offsets made durable; a failed commit stops the runner.
  Status publish_commit(const Result<std::vector<pipeline::CommittedOffset>>& committed);
  void update_caught_up(WorkerSlot& slot);
  // A consumed message as the worker takes it (its topic's format resolved).
  pipeline::InputMessage input_of(const rd_kafka_message_t& msg) const;
  // Hands one consumed message to its worker (slot lock held) and records its position.
  Status dispatch(WorkerSlot& slot, const pipeline::InputMessage& in);
  void fail(Status status);
  codec::InputFormat format_of(std::string_view topic) const;

  RunnerOptions options_;
  RunnerHooks hooks_;
  kafka::KafkaPtr consumer_;
  std::vector<std::unique_ptr<WorkerSlot>> slots_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
  std::atomic<size_t> assigned_{0};
  std::mutex fatal_mu_;
  Status fatal_;
};

}  // namespace beckon::ingest
