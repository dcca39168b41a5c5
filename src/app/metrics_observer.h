#pragma once

#include <atomic>
#include <string_view>

#include "app/labels.h"
#include "ops/probes.h"
#include "pipeline/observer.h"

namespace beckon::app {

// Reports a worker's progress through the ops probes, and keeps the totals the demo prints.
// Shared by all workers: every method is thread-safe (probes and atomics only).
class MetricsObserver final : public pipeline::WorkerObserver {
 public:
  explicit MetricsObserver(ops::Metrics& metrics) : m_(metrics) {}

  void on_consumed(journey::EventType t) override {
    m_.ingest.on_consumed(static_cast<int>(t));
    consumed.fetch_add(1, std::memory_order_relaxed);
  }
  void on_dead_letter(std::string_view reason) override {
    const auto& names = LabelNames::get().decode_errors;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == reason) {
        m_.ingest.on_decode_failure(static_cast<int>(i));
        m_.ingest.on_dead_letter(static_cast<int>(i));
      }
    }
    dead_letters.fetch_add(1, std::memory_order_relaxed);
  }
  void on_late_event() override { m_.ingest.on_late_event(); }
  void on_clamped_event() override { m_.ingest.on_clamped_event(); }
  void on_timer_scheduled(journey::Trigger t) override { m_.timer.on_scheduled(static_cast<int>(t)); }
  void on_timer_cancelled(journey::Trigger t) override { m_.timer.on_cancelled(static_cast<int>(t)); }
  void on_stale_timer(journey::Trigger t) override { m_.timer.on_stale(static_cast<int>(t)); }
  void on_timer_fired(journey::Trigger t, Millis lateness) override {
    m_.timer.on_fired(static_cast<int>(t), static_cast<double>(lateness.count()) / 1000.0);
  }
  void on_action(const journey::Action& a) override {
    m_.journey.on_emitted(static_cast<int>(a.trigger), static_cast<int>(a.channel));
    actions[static_cast<size_t>(a.trigger)].fetch_add(1, std::memory_order_relaxed);
  }
  void on_held_out(const journey::Action& a) override { m_.journey.on_holdout(static_cast<int>(a.trigger)); }
  void on_suppressed(const journey::Suppression& s) override {
    m_.journey.on_suppressed(static_cast<int>(s.trigger), static_cast<int>(s.reason));
    suppressed.fetch_add(1, std::memory_order_relaxed);
  }
  void on_deferred(journey::Trigger t) override { m_.journey.on_deferred(static_cast<int>(t)); }
  void on_commit(double seconds, size_t bytes, size_t) override { m_.state.on_commit(seconds, bytes); }
  void on_commit_failed() override { m_.state.on_commit_failure(); }

  std::atomic<uint64_t> consumed{0};
  std::atomic<uint64_t> dead_letters{0};
  std::atomic<uint64_t> suppressed{0};
  std::array<std::atomic<uint64_t>, journey::kTriggerCount> actions{};

 private:
  ops::Metrics& m_;
};

}  // namespace beckon::app
