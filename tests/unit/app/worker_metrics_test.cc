#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "app/labels.h"
#include "app/metrics_observer.h"

namespace beckon::app {
namespace {

using journey::Channel;
using journey::EventType;
using journey::SuppressionReason;
using journey::Trigger;

// The value of one series in the text exposition, or -1 when it is absent.
double series(ops::Metrics& m, const std::string& name_and_labels) {
  const std::string text = prometheus::TextSerializer().Serialize(m.registry->Collect());
  const std::regex re("(^|\n)" + std::regex_replace(name_and_labels, std::regex(R"([{}\[\]().*+?^$|\\])"), R"(\$&)") +
                      " ([^\n]+)");
  std::smatch match;
  if (!std::regex_search(text, match, re)) return -1;
  return std::stod(match[2]);
}

journey::Action action(Trigger t, Channel c) {
  journey::Action a;
  a.trigger = t;
  a.channel = c;
  return a;
}

class WorkerMetricsTest : public ::testing::Test {
 protected:
  std::unique_ptr<ops::Metrics> metrics = std::make_unique<ops::Metrics>(metrics_labels(WallTime(0)));
  MetricsObserver shared{*metrics};
};

TEST_F(WorkerMetricsTest, PerEventCountsReachTheSharedCountersAtTheEndOfTheBatch) {
  WorkerMetrics w(shared);
  for (int i = 0; i < 3; ++i) w.on_consumed(EventType::kCartUpdated);
  w.on_consumed(EventType::kOrderPlaced);
  w.on_late_event();
  w.on_clamped_event();
  w.on_clamped_event();
  w.on_timer_scheduled(Trigger::kCartAbandonment);
  w.on_timer_scheduled(Trigger::kCartAbandonment);
  w.on_timer_cancelled(Trigger::kReplenishment);
  w.on_action(action(Trigger::kCartAbandonment, Channel::kEmail));
  w.on_action(action(Trigger::kCartAbandonment, Channel::kEmail));
  w.on_action(action(Trigger::kShippingDelay, Channel::kSms));
  w.on_held_out(action(Trigger::kSignupAbandonment, Channel::kEmail));
  w.on_suppressed(journey::Suppression{Trigger::kCartAbandonment, "cart", SuppressionReason::kFrequencyCap, 1});
  w.on_deferred(Trigger::kReplenishment);

  // Nothing reaches the shared counters before the batch ends.
  EXPECT_EQ(shared.consumed.load(), 0u);
  EXPECT_EQ(series(*metrics, "beckon_events_consumed_total{type=\"CartUpdated\"}"), 0);
  EXPECT_EQ(series(*metrics, "beckon_timers_scheduled_total{trigger=\"cart_abandonment\"}"), 0);

  w.on_batch_end();
  EXPECT_EQ(shared.consumed.load(), 4u);
  EXPECT_EQ(shared.actions[static_cast<size_t>(Trigger::kCartAbandonment)].load(), 2u);
  EXPECT_EQ(shared.actions[static_cast<size_t>(Trigger::kShippingDelay)].load(), 1u);
  EXPECT_EQ(shared.suppressed.load(), 1u);
  EXPECT_EQ(series(*metrics, "beckon_events_consumed_total{type=\"CartUpdated\"}"), 3);
  EXPECT_EQ(series(*metrics, "beckon_events_consumed_total{type=\"OrderPlaced\"}"), 1);
  EXPECT_EQ(series(*metrics, "beckon_late_events_total"), 1);
  EXPECT_EQ(series(*metrics, "beckon_clamped_events_total"), 2);
  EXPECT_EQ(series(*metrics, "beckon_timers_scheduled_total{trigger=\"cart_abandonment\"}"), 2);
  EXPECT_EQ(series(*metrics, "beckon_timers_cancelled_total{trigger=\"replenishment\"}"), 1);
  EXPECT_EQ(series(*metrics, "beckon_actions_emitted_total{channel=\"email\",trigger=\"cart_abandonment\"}"), 2);
  EXPECT_EQ(series(*metrics, "beckon_actions_emitted_total{channel=\"sms\",trigger=\"shipping_delay\"}"), 1);
  EXPECT_EQ(series(*metrics, "beckon_actions_deferred_total{trigger=\"replenishment\"}"), 1);

  // A second batch adds to the first; an empty one changes nothing.
  w.on_consumed(EventType::kCartUpdated);
  w.on_batch_end();
  w.on_batch_end();
  EXPECT_EQ(shared.consumed.load(), 5u);
  EXPECT_EQ(series(*metrics, "beckon_events_consumed_total{type=\"CartUpdated\"}"), 4);
}

TEST_F(WorkerMetricsTest, RareEventsGoStraightThrough) {
  WorkerMetrics w(shared);
  w.on_dead_letter(codec::to_string(codec::DecodeError::kVerifyFailed));
  w.on_timer_fired(Trigger::kCartAbandonment, Millis(5));
  w.on_stale_timer(Trigger::kShippingDelay);
  w.on_redelivered();
  w.on_commit(0.01, 1000, 10);
  w.on_commit_failed();
  EXPECT_EQ(shared.dead_letters.load(), 1u);
  EXPECT_EQ(series(*metrics, "beckon_timers_fired_total{trigger=\"cart_abandonment\"}"), 1);
  EXPECT_EQ(series(*metrics, "beckon_timers_stale_total{trigger=\"shipping_delay\"}"), 1);
  EXPECT_EQ(series(*metrics, "beckon_redelivered_messages_total"), 1);
  EXPECT_EQ(series(*metrics, "beckon_commits_total"), 1);
  EXPECT_EQ(series(*metrics, "beckon_commit_failures_total"), 1);
}

TEST_F(WorkerMetricsTest, DestructionReportsWhatIsLeft) {
  {
    WorkerMetrics w(shared);
    w.on_consumed(EventType::kPageViewed);
  }
  EXPECT_EQ(shared.consumed.load(), 1u);
  EXPECT_EQ(series(*metrics, "beckon_events_consumed_total{type=\"PageViewed\"}"), 1);
}

TEST_F(WorkerMetricsTest, WorkersOnTwoThreadsAddUpExactly) {
  constexpr int kBatches = 200, kPerBatch = 500;
  auto run = [&] {
    WorkerMetrics w(shared);
    for (int b = 0; b < kBatches; ++b) {
      for (int i = 0; i < kPerBatch; ++i) {
        w.on_consumed(EventType::kProductViewed);
        w.on_timer_scheduled(Trigger::kSignupAbandonment);
      }
      w.on_batch_end();
    }
  };
  std::thread a(run), b(run);
  a.join();
  b.join();
  EXPECT_EQ(shared.consumed.load(), 2u * kBatches * kPerBatch);
  EXPECT_EQ(series(*metrics, "beckon_events_consumed_total{type=\"ProductViewed\"}"), 2.0 * kBatches * kPerBatch);
  EXPECT_EQ(series(*metrics, "beckon_timers_scheduled_total{trigger=\"signup_abandonment\"}"), 2.0 * kBatches * kPerBatch);
}

}  // namespace
}  // namespace beckon::app
