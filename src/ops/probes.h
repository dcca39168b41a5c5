#pragma once

// Metric probes: one small class per pipeline stage. Each probe owns its metric families and
// exposes cheap, intention-named methods (`on_consumed(type)`, `on_fired(trigger, lateness)`), so
// business code never touches prometheus-cpp. The catalogue of every series is docs/metrics.md.
//
// Label values are given by the caller at construction as spans of names (event types, triggers,
// channels, reasons) and are addressed afterwards by index, so ops/ does not depend on the enums of
// journey/, state/ or codec/. The caller passes its enum's underlying value; an index outside the
// declared names is counted under the label value "unknown". Names are copied at construction;
// the spans need not outlive the probe.
//
// Common contract of every probe:
// - Ownership: a probe holds references into the prometheus::Registry it was built on; the registry
//   must outlive it (the `Metrics` aggregate below guarantees that).
// - Thread-safety: every method may be called concurrently from any thread (prometheus-cpp
//   metrics are atomic; children are pre-resolved at construction into immutable arrays).
// - Cost: a counter/gauge update is an index plus an atomic compare-exchange on a double; no
//   allocation, no lock. Per-partition series (lag) take a mutex and are meant for the stats
//   interval, not per event.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/types.h"
#include "ops/metric_grid.h"

namespace beckon::ops {

using LabelValues = std::span<const std::string_view>;

// Consumption side: events read, decode failures, dead letters, late and clamped events,
// redelivered messages, consumer lag, rebalances, partition frontier lag.
class IngestProbe {
 public:
  struct Labels {
    LabelValues event_types;             // label `type`, e.g. the 14 event body types
    LabelValues decode_failure_reasons;  // label `reason` of beckon_decode_failures_total
    LabelValues dead_letter_reasons;     // label `reason` of beckon_dead_letters_total
  };

  IngestProbe(prometheus::Registry& registry, const Labels& labels);

  void on_consumed(int event_type, uint64_t n = 1) { consumed_.at(event_type).Increment(static_cast<double>(n)); }
  void on_decode_failure(int reason) { decode_failures_.at(reason).Increment(); }
  void on_dead_letter(int reason) { dead_letters_.at(reason).Increment(); }
  void on_late_event(uint64_t n = 1) { late_.Increment(static_cast<double>(n)); }
  void on_clamped_event(uint64_t n = 1) { clamped_.Increment(static_cast<double>(n)); }
  void on_redelivered() { redelivered_.Increment(); }

  // A rebalance assigned (revoked) `partitions` partitions: counts the rebalance and moves
  // beckon_partitions_assigned by that many.
  void on_assigned(int64_t partitions);
  void on_revoked(int64_t partitions);
  // Overrides beckon_partitions_assigned, e.g. from the consumer's assignment after a restart.
  void set_partitions_assigned(int64_t partitions) {
    partitions_assigned_.Set(static_cast<double>(partitions));
  }

  // Messages behind the high watermark (from librdkafka statistics, `consumer_lag`). Creates the
  // (topic, partition) series on first use. Negative values (librdkafka's "unknown", -1) are
  // ignored.
  void set_consumer_lag(std::string_view topic, PartitionId partition, int64_t messages);
  // Seconds the partition's frontier trails the wall clock (DESIGN.md §4). Created on first use.
  void set_frontier_lag(PartitionId partition, double seconds);
  // Removes the per-partition series of a partition this instance no longer owns, so a revoked
  // partition does not report a stale lag forever.
  void forget_partition(PartitionId partition);

 private:
  prometheus::Family<prometheus::Gauge>& consumer_lag_family_;
  prometheus::Family<prometheus::Gauge>& frontier_lag_family_;
  detail::MetricGrid<prometheus::Counter> consumed_;
  detail::MetricGrid<prometheus::Counter> decode_failures_;
  detail::MetricGrid<prometheus::Counter> dead_letters_;
  prometheus::Counter& late_;
  prometheus::Counter& clamped_;
  prometheus::Counter& redelivered_;
  prometheus::Counter& rebalance_assign_;
  prometheus::Counter& rebalance_revoke_;
  prometheus::Gauge& partitions_assigned_;

  std::mutex partition_mu_;  // guards the two maps below (stats interval, not hot path)
  std::map<std::pair<std::string, int32_t>, prometheus::Gauge*> consumer_lag_;
  std::map<int32_t, prometheus::Gauge*> frontier_lag_;
};

// State store: write-back cache, RocksDB internals, commits.
class StateProbe {
 public:
  struct Labels {
    LabelValues column_families;  // label `cf` of beckon_rocksdb_estimated_keys
  };

  StateProbe(prometheus::Registry& registry, const Labels& labels);

  void on_cache_hit(uint64_t n = 1) { cache_hits_.Increment(static_cast<double>(n)); }
  void on_cache_miss(uint64_t n = 1) { cache_misses_.Increment(static_cast<double>(n)); }
  void set_cache_entries(uint64_t n) { cache_entries_.Set(static_cast<double>(n)); }
  // processing.read_ahead: lookups that slept while the read thread read their customer, and
  // staged customers the worker read itself because the read thread had not reached them.
  void on_read_ahead_wait(uint64_t n = 1) { read_ahead_waits_.Increment(static_cast<double>(n)); }
  void on_read_ahead_worker_read(uint64_t n = 1) { read_ahead_worker_reads_.Increment(static_cast<double>(n)); }
  // Batches handed to the read thread: only those queued behind the batch being processed.
  void on_read_ahead_batch(uint64_t n = 1) { read_ahead_batches_.Increment(static_cast<double>(n)); }

  // RocksDB properties, sampled periodically by the state module.
  void set_memtable_bytes(uint64_t b) { memtable_bytes_.Set(static_cast<double>(b)); }
  void set_pending_compaction_bytes(uint64_t b) { pending_compaction_.Set(static_cast<double>(b)); }
  void set_block_cache_bytes(uint64_t b) { block_cache_bytes_.Set(static_cast<double>(b)); }
  void set_estimated_keys(int cf, uint64_t keys) {
    estimated_keys_.at(cf).Set(static_cast<double>(keys));
  }

  // A commit (wait for acks + one WriteBatch) succeeded after `seconds` writing `bytes`.
  void on_commit(double seconds, uint64_t bytes);
  void on_commit_failure() { commit_failures_.Increment(); }

 private:
  prometheus::Counter& cache_hits_;
  prometheus::Counter& cache_misses_;
  prometheus::Gauge& cache_entries_;
  prometheus::Counter& read_ahead_waits_;
  prometheus::Counter& read_ahead_worker_reads_;
  prometheus::Counter& read_ahead_batches_;
  prometheus::Gauge& memtable_bytes_;
  prometheus::Gauge& pending_compaction_;
  prometheus::Gauge& block_cache_bytes_;
  detail::MetricGrid<prometheus::Gauge> estimated_keys_;
  prometheus::Histogram& commit_duration_;
  prometheus::Histogram& commit_bytes_;
  prometheus::Counter& commits_;
  prometheus::Counter& commit_failures_;
};

// Durable timers. beckon_timers_pending{trigger} follows the transitions reported here:
// scheduled +1, cancelled −1, fired −1, restored +n (partition assigned), released −n (partition
// revoked). A replaced timer is a cancel plus a schedule.
class TimerProbe {
 public:
  struct Labels {
    LabelValues triggers;  // label `trigger`
  };

  TimerProbe(prometheus::Registry& registry, const Labels& labels);

  void on_scheduled(int trigger, uint64_t n = 1);
  void on_cancelled(int trigger, uint64_t n = 1);
  // A timer fired `lateness_seconds` after its due time (negative values count as 0).
  void on_fired(int trigger, double lateness_seconds);
  // A timer came due that the customer's state did not hold (expected never to happen).
  void on_stale(int trigger);
  // Exact pending count of a trigger on the partitions this instance owns, as the timer index
  // keeps it (durable across restarts and hand-overs); set periodically by the app.
  void set_pending(int trigger, int64_t n) { pending_.at(trigger).Set(static_cast<double>(n)); }

 private:
  detail::MetricGrid<prometheus::Counter> scheduled_;
  detail::MetricGrid<prometheus::Counter> cancelled_;
  detail::MetricGrid<prometheus::Counter> fired_;
  detail::MetricGrid<prometheus::Counter> stale_;
  detail::MetricGrid<prometheus::Gauge> pending_;
  detail::MetricGrid<prometheus::Histogram> lateness_;
};

// Decisions: actions emitted, suppressed by a policy, deferred (quiet hours), held out.
class JourneyProbe {
 public:
  struct Labels {
    LabelValues triggers;             // label `trigger`
    LabelValues channels;             // label `channel`
    LabelValues suppression_reasons;  // label `reason` of beckon_suppressions_total
  };

  JourneyProbe(prometheus::Registry& registry, const Labels& labels);

  void on_emitted(int trigger, int channel, uint64_t n = 1) {
    emitted_.at(trigger, channel).Increment(static_cast<double>(n));
  }
  void on_suppressed(int trigger, int reason, uint64_t n = 1) {
    suppressed_.at(trigger, reason).Increment(static_cast<double>(n));
  }
  void on_deferred(int trigger, uint64_t n = 1) { deferred_.at(trigger).Increment(static_cast<double>(n)); }
  void on_holdout(int trigger, uint64_t n = 1) { holdout_.at(trigger).Increment(static_cast<double>(n)); }

 private:
  detail::MetricGrid<prometheus::Counter> emitted_;
  detail::MetricGrid<prometheus::Counter> suppressed_;
  detail::MetricGrid<prometheus::Counter> deferred_;
  detail::MetricGrid<prometheus::Counter> holdout_;
};

// Producing actions: producer queue depth, delivery errors, in-flight actions, backpressure.
class EmitProbe {
 public:
  struct Labels {
    LabelValues delivery_error_reasons;  // label `reason` of beckon_delivery_errors_total
  };

  EmitProbe(prometheus::Registry& registry, const Labels& labels);

  void set_producer_queue_messages(uint64_t n) { producer_queue_.Set(static_cast<double>(n)); }
  void on_delivery_error(int reason, uint64_t n = 1) { delivery_errors_.at(reason).Increment(static_cast<double>(n)); }
  // Actions produced but not yet acknowledged by the broker.
  void set_actions_in_flight(uint64_t n) { in_flight_.Set(static_cast<double>(n)); }
  // Consumption was paused because the producer queue or memory budget was full.
  void on_backpressure_pause(uint64_t n = 1) { backpressure_pauses_.Increment(static_cast<double>(n)); }

 private:
  prometheus::Gauge& producer_queue_;
  detail::MetricGrid<prometheus::Counter> delivery_errors_;
  prometheus::Gauge& in_flight_;
  prometheus::Counter& backpressure_pauses_;
};

// Registers beckon_build_info{version="..."} 1 and process_start_time_seconds.
void register_build_info(prometheus::Registry& registry, std::string_view version,
                         WallTime process_start);

// Bucket boundaries, exposed for tests and docs.
const prometheus::Histogram::BucketBoundaries& commit_duration_buckets();  // 1 ms .. 10 s
const prometheus::Histogram::BucketBoundaries& commit_bytes_buckets();     // 1 KiB .. 64 MiB
const prometheus::Histogram::BucketBoundaries& timer_lateness_buckets();   // 1 ms .. 1 h

// Every label set the application declares, in one place.
struct MetricsLabels {
  std::string_view version;  // build version for beckon_build_info
  WallTime process_start;    // for process_start_time_seconds
  IngestProbe::Labels ingest;
  StateProbe::Labels state;
  TimerProbe::Labels timer;
  JourneyProbe::Labels journey;
  EmitProbe::Labels emit;
};

// The registry and every probe, created together; the app builds one and hands each probe to the
// stage that reports through it, and the registry to HttpServer. Not copyable or movable (probes
// refer into the registry); hold it in a std::unique_ptr. Members are thread-safe as documented
// on each probe.
struct Metrics {
  explicit Metrics(const MetricsLabels& labels);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Shared with HttpServer, which serializes it on its own thread and may outlive the probes'
  // users during shutdown; declared first so it is destroyed after the probes.
  std::shared_ptr<prometheus::Registry> registry;
  IngestProbe ingest;
  StateProbe state;
  TimerProbe timer;
  JourneyProbe journey;
  EmitProbe emit;
};

}  // namespace beckon::ops
