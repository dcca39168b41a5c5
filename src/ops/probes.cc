#include "ops/probes.h"

#include <algorithm>
#include <string>

namespace beckon::ops {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;
using detail::LabelDim;
using detail::MetricGrid;

Family<Counter>& counter_family(Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& gauge_family(Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
Family<Histogram>& histogram_family(Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

Counter& counter(Registry& r, const std::string& name, const std::string& help) {
  return counter_family(r, name, help).Add({});
}
Gauge& gauge(Registry& r, const std::string& name, const std::string& help) {
  return gauge_family(r, name, help).Add({});
}

MetricGrid<Counter> counters(Registry& r, const std::string& name, const std::string& help,
                             std::vector<LabelDim> dims) {
  return MetricGrid<Counter>(detail::adder(counter_family(r, name, help)), std::move(dims));
}

std::vector<LabelDim> dims(LabelDim a) {
  std::vector<LabelDim> v;
  v.push_back(std::move(a));
  return v;
}
std::vector<LabelDim> dims(LabelDim a, LabelDim b) {
  std::vector<LabelDim> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  return v;
}

}  // namespace

const Histogram::BucketBoundaries& commit_duration_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  return kBuckets;
}

const Histogram::BucketBoundaries& commit_bytes_buckets() {
  // Powers of 4 from 1 KiB to 64 MiB.
  static const Histogram::BucketBoundaries kBuckets = [] {
    Histogram::BucketBoundaries b;
    for (double v = 1024.0; v <= 64.0 * 1024 * 1024; v *= 4) b.push_back(v);
    return b;
  }();
  return kBuckets;
}

const Histogram::BucketBoundaries& timer_lateness_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.001, 0.01, 0.1,   0.5,    1.0,   5.0,
                                                       10.0,  30.0, 60.0, 300.0, 900.0, 3600.0};
  return kBuckets;
}

// ---------------------------------------------------------------------------------------------
// IngestProbe

IngestProbe::IngestProbe(Registry& r, const Labels& labels)
    : consumer_lag_family_(gauge_family(
          r, "beckon_consumer_lag_messages",
          "Messages between the committed position and the high watermark, per input partition.")),
      frontier_lag_family_(gauge_family(
          r, "beckon_frontier_lag_seconds",
          "Seconds the partition's timer frontier trails the wall clock.")),
      consumed_(counters(r, "beckon_events_consumed_total", "Input events consumed, by event type.",
                         dims(LabelDim("type", labels.event_types)))),
      decode_failures_(counters(r, "beckon_decode_failures_total",
                                "Input records that failed verification or decoding, by reason.",
                                dims(LabelDim("reason", labels.decode_failure_reasons)))),
      dead_letters_(counters(r, "beckon_dead_letters_total",
                             "Records written to the dead-letter topic, by reason.",
                             dims(LabelDim("reason", labels.dead_letter_reasons)))),
      late_(counter(r, "beckon_late_events_total",
                    "Events older than their partition's frontier when consumed.")),
      clamped_(counter(r, "beckon_clamped_events_total",
                       "Events whose timestamp was too far ahead of the wall clock and was clamped.")),
      redelivered_(counter(r, "beckon_redelivered_messages_total",
                           "Input messages skipped: already processed since their partition was assigned.")),
      rebalance_assign_(counter_family(r, "beckon_rebalances_total",
                                       "Consumer-group rebalance callbacks, by kind.")
                            .Add({{"kind", "assign"}})),
      rebalance_revoke_(counter_family(r, "beckon_rebalances_total",
                                       "Consumer-group rebalance callbacks, by kind.")
                            .Add({{"kind", "revoke"}})),
      partitions_assigned_(gauge(r, "beckon_partitions_assigned",
                                 "Input partitions currently owned by this instance.")) {}

void IngestProbe::on_assigned(int64_t partitions) {
  rebalance_assign_.Increment();
  partitions_assigned_.Increment(static_cast<double>(partitions));
}

void IngestProbe::on_revoked(int64_t partitions) {
  rebalance_revoke_.Increment();
  partitions_assigned_.Decrement(static_cast<double>(partitions));
}

void IngestProbe::set_consumer_lag(std::string_view topic, PartitionId partition,
                                   int64_t messages) {
  if (messages < 0) return;
  std::lock_guard lock(partition_mu_);
  auto key = std::make_pair(std::string(topic), partition.value());
  auto it = consumer_lag_.find(key);
  if (it == consumer_lag_.end()) {
    Gauge& g = consumer_lag_family_.Add(
        {{"topic", key.first}, {"partition", std::to_string(partition.value())}});
    it = consumer_lag_.emplace(std::move(key), &g).first;
  }
  it->second->Set(static_cast<double>(messages));
}

void IngestProbe::set_frontier_lag(PartitionId partition, double seconds) {
  std::lock_guard lock(partition_mu_);
  auto it = frontier_lag_.find(partition.value());
  if (it == frontier_lag_.end()) {
    Gauge& g = frontier_lag_family_.Add({{"partition", std::to_string(partition.value())}});
    it = frontier_lag_.emplace(partition.value(), &g).first;
  }
  it->second->Set(std::max(0.0, seconds));
}

void IngestProbe::forget_partition(PartitionId partition) {
  std::lock_guard lock(partition_mu_);
  for (auto it = consumer_lag_.begin(); it != consumer_lag_.end();) {
    if (it->first.second == partition.value()) {
      consumer_lag_family_.Remove(it->second);
      it = consumer_lag_.erase(it);
    } else {
      ++it;
    }
  }
  if (auto it = frontier_lag_.find(partition.value()); it != frontier_lag_.end()) {
    frontier_lag_family_.Remove(it->second);
    frontier_lag_.erase(it);
  }
}

// ---------------------------------------------------------------------------------------------
// StateProbe

StateProbe::StateProbe(Registry& r, const Labels& labels)
    : cache_hits_(counter(r, "beckon_state_cache_hits_total",
                          "Customer-state lookups served by the write-back cache.")),
      cache_misses_(counter(r, "beckon_state_cache_misses_total",
                            "Customer-state lookups that had to read RocksDB.")),
      cache_entries_(gauge(r, "beckon_state_cache_entries",
                           "Customer states currently held in the write-back cache.")),
      read_ahead_waits_(counter(r, "beckon_state_read_ahead_waits_total",
                                "Customer-state lookups that waited for the worker's read thread "
                                "(processing.read_ahead) to finish reading their customer.")),
      read_ahead_worker_reads_(counter(r, "beckon_state_read_ahead_worker_reads_total",
                                       "Customers staged for the read thread that the worker read itself "
                                       "because the read thread had not reached them.")),
      read_ahead_batches_(counter(r, "beckon_state_read_ahead_batches_total",
                                  "Batches whose customer-state reads went to the worker's read thread "
                                  "(a batch queued behind the one being processed).")),
      memtable_bytes_(gauge(r, "beckon_rocksdb_memtable_bytes",
                            "RocksDB memory used by memtables (rocksdb.cur-size-all-mem-tables).")),
      pending_compaction_(gauge(r, "beckon_rocksdb_pending_compaction_bytes",
                                "RocksDB estimated bytes pending compaction "
                                "(rocksdb.estimate-pending-compaction-bytes).")),
      block_cache_bytes_(gauge(r, "beckon_rocksdb_block_cache_bytes",
                               "RocksDB block cache usage (rocksdb.block-cache-usage).")),
      estimated_keys_(detail::adder(gauge_family(
                          r, "beckon_rocksdb_estimated_keys",
                          "RocksDB estimated number of keys per column family "
                          "(rocksdb.estimate-num-keys).")),
                      dims(LabelDim("cf", labels.column_families))),
      commit_duration_(histogram_family(r, "beckon_commit_duration_seconds",
                                        "Duration of a commit: waiting for producer acks and "
                                        "writing the state batch.")
                           .Add({}, commit_duration_buckets())),
      commit_bytes_(histogram_family(r, "beckon_commit_bytes",
                                     "Size of the RocksDB write batch of a commit.")
                        .Add({}, commit_bytes_buckets())),
      commits_(counter(r, "beckon_commits_total", "Successful commits.")),
      commit_failures_(counter(r, "beckon_commit_failures_total", "Failed commits.")) {}

void StateProbe::on_commit(double seconds, uint64_t bytes) {
  commits_.Increment();
  commit_duration_.Observe(std::max(0.0, seconds));
  commit_bytes_.Observe(static_cast<double>(bytes));
}

// ---------------------------------------------------------------------------------------------
// TimerProbe

TimerProbe::TimerProbe(Registry& r, const Labels& labels)
    : scheduled_(counters(r, "beckon_timers_scheduled_total", "Timers scheduled, by trigger.",
                          dims(LabelDim("trigger", labels.triggers)))),
      cancelled_(counters(r, "beckon_timers_cancelled_total",
                          "Timers cancelled or replaced before firing, by trigger.",
                          dims(LabelDim("trigger", labels.triggers)))),
      fired_(counters(r, "beckon_timers_fired_total", "Timers fired, by trigger.",
                      dims(LabelDim("trigger", labels.triggers)))),
      stale_(counters(r, "beckon_timers_stale_total",
                      "Timers that came due but were not pending in the customer's state (the timer "
                      "index and the state disagree; expected to stay 0), by trigger.",
                      dims(LabelDim("trigger", labels.triggers)))),
      pending_(detail::adder(gauge_family(r, "beckon_timers_pending",
                                          "Timers scheduled and not yet fired or cancelled on "
                                          "partitions owned by this instance, by trigger.")),
               dims(LabelDim("trigger", labels.triggers))),
      lateness_(detail::adder(histogram_family(r, "beckon_timer_lateness_seconds",
                                               "Wall-clock time between a timer's due time and "
                                               "its firing, by trigger."),
                              timer_lateness_buckets()),
                dims(LabelDim("trigger", labels.triggers))) {}

void TimerProbe::on_scheduled(int trigger, uint64_t n) {
  scheduled_.at(trigger).Increment(static_cast<double>(n));
}

void TimerProbe::on_cancelled(int trigger, uint64_t n) {
  cancelled_.at(trigger).Increment(static_cast<double>(n));
}

void TimerProbe::on_stale(int trigger) {
  stale_.at(trigger).Increment();
}

void TimerProbe::on_fired(int trigger, double lateness_seconds) {
  fired_.at(trigger).Increment();
  lateness_.at(trigger).Observe(std::max(0.0, lateness_seconds));
}

// ---------------------------------------------------------------------------------------------
// JourneyProbe

JourneyProbe::JourneyProbe(Registry& r, const Labels& labels)
    : emitted_(counters(r, "beckon_actions_emitted_total",
                        "Actions decided and handed to the producer, by trigger and channel.",
                        dims(LabelDim("trigger", labels.triggers),
                             LabelDim("channel", labels.channels)))),
      suppressed_(counters(r, "beckon_suppressions_total",
                           "Actions not sent because a policy suppressed them, by trigger and "
                           "reason.",
                           dims(LabelDim("trigger", labels.triggers),
                                LabelDim("reason", labels.suppression_reasons)))),
      deferred_(counters(r, "beckon_actions_deferred_total",
                         "Actions deferred to the end of the customer's quiet hours, by trigger.",
                         dims(LabelDim("trigger", labels.triggers)))),
      holdout_(counters(r, "beckon_holdout_total",
                        "Actions withheld because the customer is in the journey's holdout group, "
                        "by trigger.",
                        dims(LabelDim("trigger", labels.triggers)))) {}

// ---------------------------------------------------------------------------------------------
// EmitProbe

EmitProbe::EmitProbe(Registry& r, const Labels& labels)
    : producer_queue_(gauge(r, "beckon_producer_queue_messages",
                            "Messages in the librdkafka producer queue.")),
      delivery_errors_(counters(r, "beckon_delivery_errors_total",
                                "Action deliveries that failed, by reason.",
                                dims(LabelDim("reason", labels.delivery_error_reasons)))),
      in_flight_(gauge(r, "beckon_actions_in_flight",
                       "Actions produced but not yet acknowledged by the broker.")),
      backpressure_pauses_(counter(r, "beckon_backpressure_pauses_total",
                                   "Times consumption was paused because the producer queue or "
                                   "memory budget was full.")) {}

// ---------------------------------------------------------------------------------------------

void register_build_info(Registry& r, std::string_view version, WallTime process_start) {
  gauge_family(r, "beckon_build_info", "Build information; the value is always 1.")
      .Add({{"version", std::string(version)}})
      .Set(1);
  gauge_family(r, "process_start_time_seconds",
               "Start time of the process since the Unix epoch, in seconds.")
      .Add({})
      .Set(static_cast<double>(process_start.ms()) / 1000.0);
}

Metrics::Metrics(const MetricsLabels& labels)
    : registry(std::make_shared<Registry>()),
      ingest(*registry, labels.ingest),
      state(*registry, labels.state),
      timer(*registry, labels.timer),
      journey(*registry, labels.journey),
      emit(*registry, labels.emit) {
  register_build_info(*registry, labels.version, labels.process_start);
}

}  // namespace beckon::ops
