#include "ops/probes.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>
#include <thread>
#include <vector>

#include "test_labels.h"

namespace beckon::ops {
namespace {

using testing::serialize;

// True when `text` contains `line` as a complete line.
bool has_line(const std::string& text, const std::string& line) {
  size_t pos = 0;
  while ((pos = text.find(line, pos)) != std::string::npos) {
    const bool starts = pos == 0 || text[pos - 1] == '\n';
    const size_t end = pos + line.size();
    const bool ends = end == text.size() || text[end] == '\n';
    if (starts && ends) return true;
    pos = end;
  }
  return false;
}

#define EXPECT_LINE(text, line) EXPECT_TRUE(has_line(text, line)) << "missing line: " << (line) << "\n" << (text)
#define EXPECT_NO_LINE(text, line) EXPECT_FALSE(has_line(text, line)) << "unexpected line: " << (line)

class ProbesTest : public ::testing::Test {
 protected:
  Metrics m{testing::test_metrics_labels()};
  std::string text() { return serialize(*m.registry); }
};

TEST_F(ProbesTest, ConsumedEventsAreCountedByTypeName) {
  m.ingest.on_consumed(2);
  m.ingest.on_consumed(2);
  m.ingest.on_consumed(13);
  const std::string t = text();
  EXPECT_LINE(t, "# TYPE beckon_events_consumed_total counter");
  EXPECT_LINE(t, "beckon_events_consumed_total{type=\"CartUpdated\"} 2");
  EXPECT_LINE(t, "beckon_events_consumed_total{type=\"CustomerErased\"} 1");
}

TEST_F(ProbesTest, DeclaredLabelValuesAreExportedAtZeroBeforeAnyEvent) {
  const std::string t = text();
  EXPECT_LINE(t, "beckon_events_consumed_total{type=\"PageViewed\"} 0");
  EXPECT_LINE(t, "beckon_timers_fired_total{trigger=\"shipping_delay\"} 0");
  EXPECT_LINE(t, "beckon_actions_emitted_total{channel=\"sms\",trigger=\"replenishment\"} 0");
  EXPECT_LINE(t, "beckon_rebalances_total{kind=\"assign\"} 0");
  EXPECT_LINE(t, "beckon_rebalances_total{kind=\"revoke\"} 0");
}

TEST_F(ProbesTest, OutOfRangeIndexIsCountedAsUnknown) {
  m.ingest.on_consumed(14);
  m.ingest.on_consumed(-1);
  m.journey.on_emitted(0, 99);
  const std::string t = text();
  EXPECT_LINE(t, "beckon_events_consumed_total{type=\"unknown\"} 2");
  EXPECT_LINE(t, "beckon_actions_emitted_total{channel=\"unknown\",trigger=\"cart_abandonment\"} 1");
}

TEST_F(ProbesTest, IngestFailuresLateClampedAndRedelivered) {
  m.ingest.on_decode_failure(1);
  m.ingest.on_dead_letter(0);
  m.ingest.on_dead_letter(0);
  m.ingest.on_late_event();
  m.ingest.on_clamped_event();
  m.ingest.on_redelivered();
  m.ingest.on_redelivered();
  const std::string t = text();
  EXPECT_LINE(t, "beckon_decode_failures_total{reason=\"bad_json\"} 1");
  EXPECT_LINE(t, "beckon_dead_letters_total{reason=\"decode\"} 2");
  EXPECT_LINE(t, "beckon_late_events_total 1");
  EXPECT_LINE(t, "beckon_clamped_events_total 1");
  EXPECT_LINE(t, "beckon_redelivered_messages_total 2");
}

TEST_F(ProbesTest, RebalancesMovePartitionsAssigned) {
  m.ingest.on_assigned(6);
  m.ingest.on_revoked(2);
  const std::string t = text();
  EXPECT_LINE(t, "beckon_rebalances_total{kind=\"assign\"} 1");
  EXPECT_LINE(t, "beckon_rebalances_total{kind=\"revoke\"} 1");
  EXPECT_LINE(t, "beckon_partitions_assigned 4");
  m.ingest.set_partitions_assigned(0);
  EXPECT_LINE(text(), "beckon_partitions_assigned 0");
}

TEST_F(ProbesTest, ConsumerLagIsPerTopicAndPartitionAndForgottenOnRevoke) {
  m.ingest.set_consumer_lag("clicks", PartitionId(3), 120);
  m.ingest.set_consumer_lag("orders", PartitionId(3), 7);
  m.ingest.set_consumer_lag("clicks", PartitionId(4), 1);
  m.ingest.set_consumer_lag("clicks", PartitionId(3), 100);  // overwrite, not a new series
  m.ingest.set_consumer_lag("clicks", PartitionId(4), -1);   // librdkafka "unknown": ignored
  m.ingest.set_frontier_lag(PartitionId(3), 2.5);
  std::string t = text();
  EXPECT_LINE(t, "# TYPE beckon_consumer_lag_messages gauge");
  EXPECT_LINE(t, "beckon_consumer_lag_messages{partition=\"3\",topic=\"clicks\"} 100");
  EXPECT_LINE(t, "beckon_consumer_lag_messages{partition=\"3\",topic=\"orders\"} 7");
  EXPECT_LINE(t, "beckon_consumer_lag_messages{partition=\"4\",topic=\"clicks\"} 1");
  EXPECT_LINE(t, "beckon_frontier_lag_seconds{partition=\"3\"} 2.5");

  m.ingest.forget_partition(PartitionId(3));
  t = text();
  EXPECT_EQ(t.find("partition=\"3\""), std::string::npos) << t;
  EXPECT_LINE(t, "beckon_consumer_lag_messages{partition=\"4\",topic=\"clicks\"} 1");
}

TEST_F(ProbesTest, StateCacheAndRocksDbGauges) {
  m.state.on_cache_hit();
  m.state.on_cache_hit(4);
  m.state.on_cache_miss();
  m.state.set_cache_entries(42);
  m.state.on_read_ahead_wait(3);
  m.state.on_read_ahead_worker_read();
  m.state.on_read_ahead_batch(7);
  m.state.set_memtable_bytes(1 << 20);
  m.state.set_pending_compaction_bytes(0);
  m.state.set_block_cache_bytes(8192);
  m.state.set_estimated_keys(1, 500);
  const std::string t = text();
  EXPECT_LINE(t, "beckon_state_cache_hits_total 5");
  EXPECT_LINE(t, "beckon_state_cache_misses_total 1");
  EXPECT_LINE(t, "beckon_state_cache_entries 42");
  EXPECT_LINE(t, "beckon_state_read_ahead_waits_total 3");
  EXPECT_LINE(t, "beckon_state_read_ahead_worker_reads_total 1");
  EXPECT_LINE(t, "beckon_state_read_ahead_batches_total 7");
  EXPECT_LINE(t, "beckon_rocksdb_memtable_bytes 1048576");
  EXPECT_LINE(t, "beckon_rocksdb_pending_compaction_bytes 0");
  EXPECT_LINE(t, "beckon_rocksdb_block_cache_bytes 8192");
  EXPECT_LINE(t, "beckon_rocksdb_estimated_keys{cf=\"timers\"} 500");
  EXPECT_LINE(t, "beckon_rocksdb_estimated_keys{cf=\"state\"} 0");
}

TEST_F(ProbesTest, CommitsFeedDurationAndSizeHistograms) {
  m.state.on_commit(0.004, 3000);
  m.state.on_commit(0.2, 100);
  m.state.on_commit_failure();
  const std::string t = text();
  EXPECT_LINE(t, "# TYPE beckon_commit_duration_seconds histogram");
  EXPECT_LINE(t, "beckon_commits_total 2");
  EXPECT_LINE(t, "beckon_commit_failures_total 1");
  EXPECT_LINE(t, "beckon_commit_duration_seconds_count 2");
  EXPECT_LINE(t, "beckon_commit_duration_seconds_bucket{le=\"0.001\"} 0");
  EXPECT_LINE(t, "beckon_commit_duration_seconds_bucket{le=\"0.005\"} 1");
  EXPECT_LINE(t, "beckon_commit_duration_seconds_bucket{le=\"0.25\"} 2");
  EXPECT_LINE(t, "beckon_commit_duration_seconds_bucket{le=\"10\"} 2");
  EXPECT_LINE(t, "beckon_commit_duration_seconds_bucket{le=\"+Inf\"} 2");
  EXPECT_LINE(t, "beckon_commit_bytes_sum 3100");
  EXPECT_LINE(t, "beckon_commit_bytes_bucket{le=\"1024\"} 1");
  EXPECT_LINE(t, "beckon_commit_bytes_bucket{le=\"4096\"} 2");
}

TEST_F(ProbesTest, TimerCountersAndPendingGauge) {
  for (int i = 0; i < 3; ++i) m.timer.on_scheduled(0);
  m.timer.on_cancelled(0);
  m.timer.on_fired(0, 0.05);
  m.timer.on_stale(1);
  m.timer.set_pending(0, 1);
  m.timer.set_pending(2, 10);
  m.timer.set_pending(2, 6);
  const std::string t = text();
  EXPECT_LINE(t, "beckon_timers_scheduled_total{trigger=\"cart_abandonment\"} 3");
  EXPECT_LINE(t, "beckon_timers_cancelled_total{trigger=\"cart_abandonment\"} 1");
  EXPECT_LINE(t, "beckon_timers_fired_total{trigger=\"cart_abandonment\"} 1");
  EXPECT_LINE(t, "beckon_timers_stale_total{trigger=\"signup_abandonment\"} 1");
  EXPECT_LINE(t, "beckon_timers_stale_total{trigger=\"cart_abandonment\"} 0");
  EXPECT_LINE(t, "beckon_timers_pending{trigger=\"cart_abandonment\"} 1");
  EXPECT_LINE(t, "beckon_timers_pending{trigger=\"replenishment\"} 6");
}

TEST_F(ProbesTest, TimerLatenessIsObservedPerTriggerAndNeverNegative) {
  m.timer.on_fired(3, 0.05);
  m.timer.on_fired(3, 1200.0);
  m.timer.on_fired(3, -2.0);
  const std::string t = text();
  EXPECT_LINE(t, "beckon_timer_lateness_seconds_count{trigger=\"shipping_delay\"} 3");
  EXPECT_LINE(t, "beckon_timer_lateness_seconds_bucket{trigger=\"shipping_delay\",le=\"0.001\"} 1");
  EXPECT_LINE(t, "beckon_timer_lateness_seconds_bucket{trigger=\"shipping_delay\",le=\"0.1\"} 2");
  EXPECT_LINE(t, "beckon_timer_lateness_seconds_bucket{trigger=\"shipping_delay\",le=\"900\"} 2");
  EXPECT_LINE(t, "beckon_timer_lateness_seconds_bucket{trigger=\"shipping_delay\",le=\"3600\"} 3");
  EXPECT_LINE(t, "beckon_timer_lateness_seconds_sum{trigger=\"shipping_delay\"} 1200.05");
}

TEST_F(ProbesTest, JourneyDecisionsByTriggerChannelAndReason) {
  m.journey.on_emitted(0, 2);
  m.journey.on_emitted(0, 2);
  m.journey.on_suppressed(1, 1);
  m.journey.on_deferred(2);
  m.journey.on_holdout(3);
  const std::string t = text();
  EXPECT_LINE(t, "beckon_actions_emitted_total{channel=\"app_push\",trigger=\"cart_abandonment\"} 2");
  EXPECT_LINE(t, "beckon_suppressions_total{reason=\"frequency_cap\",trigger=\"signup_abandonment\"} 1");
  EXPECT_LINE(t, "beckon_actions_deferred_total{trigger=\"replenishment\"} 1");
  EXPECT_LINE(t, "beckon_holdout_total{trigger=\"shipping_delay\"} 1");
}

TEST_F(ProbesTest, EmitQueueErrorsInFlightAndBackpressure) {
  m.emit.set_producer_queue_messages(17);
  m.emit.on_delivery_error(0);
  m.emit.set_actions_in_flight(3);
  m.emit.on_backpressure_pause();
  const std::string t = text();
  EXPECT_LINE(t, "beckon_producer_queue_messages 17");
  EXPECT_LINE(t, "beckon_delivery_errors_total{reason=\"msg_timed_out\"} 1");
  EXPECT_LINE(t, "beckon_delivery_errors_total{reason=\"topic_unknown\"} 0");
  EXPECT_LINE(t, "beckon_actions_in_flight 3");
  EXPECT_LINE(t, "beckon_backpressure_pauses_total 1");
}

TEST_F(ProbesTest, BuildInfoAndProcessStartTime) {
  const std::string t = text();
  EXPECT_LINE(t, "beckon_build_info{version=\"0.1.0-test\"} 1");
  EXPECT_LINE(t, "process_start_time_seconds 1732270000.5");
}

TEST_F(ProbesTest, EveryFamilyHasHelpText) {
  const std::string t = text();
  size_t types = 0, helps = 0;
  for (size_t pos = 0; (pos = t.find("# TYPE ", pos)) != std::string::npos; ++pos) ++types;
  for (size_t pos = 0; (pos = t.find("# HELP ", pos)) != std::string::npos; ++pos) ++helps;
  EXPECT_GT(types, 30u);
  EXPECT_EQ(types, helps);
}

TEST(ProbesConcurrency, ConcurrentUpdatesAreNotLost) {
  prometheus::Registry registry;
  IngestProbe probe(registry, {testing::kEventTypes, testing::kDecodeReasons,
                               testing::kDeadLetterReasons});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&probe, i] {
      for (int n = 0; n < kPerThread; ++n) {
        probe.on_consumed(4);
        probe.set_consumer_lag("clicks", PartitionId(i), n);
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string t = serialize(registry);
  EXPECT_LINE(t, "beckon_events_consumed_total{type=\"OrderPlaced\"} 80000");
  EXPECT_LINE(t, "beckon_consumer_lag_messages{partition=\"2\",topic=\"clicks\"} 19999");
}

TEST(ProbesRegistry, TwoProbesOnOneRegistryShareFamilies) {
  prometheus::Registry registry;
  TimerProbe a(registry, {testing::kTriggers});
  TimerProbe b(registry, {testing::kTriggers});
  a.on_scheduled(1);
  b.on_scheduled(1);
  EXPECT_LINE(serialize(registry), "beckon_timers_scheduled_total{trigger=\"signup_abandonment\"} 2");
}

}  // namespace
}  // namespace beckon::ops
