#pragma once

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "app/metrics_observer.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/status.h"
#include "emit/kafka_action_sink.h"
#include "emit/producer.h"
#include "ingest/runner.h"
#include "journey/engine.h"
#include "ops/http_server.h"
#include "ops/probes.h"
#include "pipeline/worker.h"
#include "state/store.h"

namespace beckon::app {

// Cores this process may use: its CPU affinity, capped by its cgroup's CPU quota (as a
// Kubernetes CPU limit sets it: cpu.max in cgroup v2, cpu.cfs_quota_us in v1), rounded up; at
// least 1.
unsigned available_cores();
// `cores` capped by a CFS quota of `quota_us` per `period_us` (rounded up, at least 1); a
// quota or period <= 0 means no limit.
unsigned cap_by_cpu_quota(unsigned cores, int64_t quota_us, int64_t period_us);
// Whether workers get read threads (config::ReadAhead). Auto turns them on when there are at
// least two cores per worker: on a machine the workers already keep busy, the read threads
// cost more CPU than the waits they save (bench/RESULTS.md, session 7).
bool read_ahead_on(config::ReadAhead setting, int workers, unsigned cores);

// The one place where the production parts are wired together (STYLE.md): RocksDB store,
// idempotent producer, per-worker action sinks and workers, the consumer-group runner, metrics
// and the /metrics, /healthz, /readyz endpoint.
//
// Lifecycle: create() opens the store (a corrupt or unwritable state directory is an error
// here, never a silent fresh start) and binds the HTTP port; run() blocks until stop() or a
// fatal error; stop() may be called from any thread (signal watcher, demo timer).
class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const config::AppConfig& config, const Clock& clock);
  ~Engine();

  // Processes until stop(); then drains in-flight actions, commits and closes. Non-ok on a
  // fatal broker or storage error.
  Status run();
  void stop();

  // Ready: partitions assigned and restored, and a broker reachable (what /readyz reports).
  bool ready() const { return runner_ && runner_->ready() && broker_reachable_.load(); }
  int metrics_port() const { return http_ ? http_->port() : 0; }
  const MetricsObserver& observer() const { return *observer_; }
  ops::Metrics& metrics() { return *metrics_; }
  int64_t producer_queue() const { return producer_ ? producer_->queue_length() : 0; }

 private:
  explicit Engine(const Clock& clock) : clock_(clock) {}
  void refresh_gauges();
  void on_stats(const std::string& json);

  const Clock& clock_;
  config::AppConfig config_;
  std::unique_ptr<ops::Metrics> metrics_;
  std::unique_ptr<MetricsObserver> observer_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<emit::Producer> producer_;
  emit::Routing routing_;
  std::unique_ptr<journey::LocalTime> local_time_;
  std::vector<std::unique_ptr<emit::KafkaActionSink>> sinks_;
  std::vector<std::unique_ptr<WorkerMetrics>> worker_metrics_;  // one per worker, over observer_
  std::vector<std::unique_ptr<pipeline::Worker>> workers_;
  std::unique_ptr<ingest::Runner> runner_;
  std::unique_ptr<ops::HttpServer> http_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> broker_reachable_{true};  // from librdkafka statistics (every 5 s)
  std::thread gauges_;
  // A cumulative total as of the last gauge refresh.
  struct LastTotal {
    uint64_t value = 0;
    // The growth since the last call (0 if the total went back), remembering `now`.
    uint64_t growth(uint64_t now) {
      const uint64_t before = std::exchange(value, now);
      return now > before ? now - before : 0;
    }
  };
  struct {
    LastTotal hits, misses, read_ahead_waits, read_ahead_worker_reads, read_ahead_batches, backpressure,
        delivery_failures;
  } last_totals_;  // gauge thread only
};

codec::InputFormat to_codec(config::InputFormat f);
codec::OutputFormat to_codec(config::OutputFormat f);

}  // namespace beckon::app
