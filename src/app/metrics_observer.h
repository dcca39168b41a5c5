#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "app/labels.h"
#include "ops/probes.h"
#include "pipeline/observer.h"

namespace beckon::app {

// The totals of every worker, reported through the ops probes and kept for the demo's summary.
// Workers do not call it per event: each has a WorkerMetrics (below) that counts per batch and
// calls add(); the rare reports go straight through the methods here. Thread-safe (probes and
// atomics only).
class MetricsObserver {
 public:
  explicit MetricsObserver(ops::Metrics& metrics) : m_(metrics) {}

  void on_dead_letter(std::string_view reason) {
    const auto& names = LabelNames::get().decode_errors;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == reason) {
        m_.ingest.on_decode_failure(static_cast<int>(i));
        m_.ingest.on_dead_letter(static_cast<int>(i));
      }
    }
    dead_letters.fetch_add(1, std::memory_order_relaxed);
  }
  void on_stale_timer(journey::Trigger t) { m_.timer.on_stale(static_cast<int>(t)); }
  void on_redelivered() { m_.ingest.on_redelivered(); }
  void on_timer_fired(journey::Trigger t, Millis lateness) {
    m_.timer.on_fired(static_cast<int>(t), static_cast<double>(lateness.count()) / 1000.0);
  }
  void on_commit(double seconds, size_t bytes) { m_.state.on_commit(seconds, bytes); }
  void on_commit_failed() { m_.state.on_commit_failure(); }

  // Counts a worker gathered over a batch (WorkerMetrics), added to the probes and totals.
  struct Counts {
    std::array<uint64_t, journey::kEventTypeCount> consumed{};
    uint64_t late = 0;
    uint64_t clamped = 0;
    std::array<uint64_t, journey::kTriggerCount> scheduled{};
    std::array<uint64_t, journey::kTriggerCount> cancelled{};
    std::array<std::array<uint64_t, journey::kChannelCount>, journey::kTriggerCount> emitted{};
    std::array<uint64_t, journey::kTriggerCount> held_out{};
    std::array<std::array<uint64_t, journey::kSuppressionReasonCount>, journey::kTriggerCount> suppressed{};
    std::array<uint64_t, journey::kTriggerCount> deferred{};
  };
  void add(const Counts& c);

  std::atomic<uint64_t> consumed{0};
  std::atomic<uint64_t> dead_letters{0};
  std::atomic<uint64_t> suppressed{0};
  std::array<std::atomic<uint64_t>, journey::kTriggerCount> actions{};

 private:
  ops::Metrics& m_;
};

// The observer of one worker. The calls that come with every event (consumed, timer scheduled or
// cancelled, decisions) are counted in plain fields and added to the shared MetricsObserver at the
// end of each batch, so workers on different cores do not write the same counters for every
// event; the rarer ones (dead letters, fired timers, commits) go straight through. The shared
// counters therefore trail the work by at most one batch. Not thread-safe: used by one worker,
// under the ingest runner's lock of that worker.
class WorkerMetrics final : public pipeline::WorkerObserver {
 public:
  explicit WorkerMetrics(MetricsObserver& shared) : shared_(shared) {}
  ~WorkerMetrics() override { on_batch_end(); }

  void on_consumed(journey::EventType t) override { bump(c_.consumed[static_cast<size_t>(t)]); }
  void on_dead_letter(std::string_view reason) override { shared_.on_dead_letter(reason); }
  void on_late_event() override { bump(c_.late); }
  void on_clamped_event() override { bump(c_.clamped); }
  void on_redelivered() override { shared_.on_redelivered(); }
  void on_timer_scheduled(journey::Trigger t) override { bump(c_.scheduled[static_cast<size_t>(t)]); }
  void on_timer_cancelled(journey::Trigger t) override { bump(c_.cancelled[static_cast<size_t>(t)]); }
  void on_stale_timer(journey::Trigger t) override { shared_.on_stale_timer(t); }
  void on_timer_fired(journey::Trigger t, Millis lateness) override { shared_.on_timer_fired(t, lateness); }
  void on_action(const journey::Action& a) override {
    bump(c_.emitted[static_cast<size_t>(a.trigger)][static_cast<size_t>(a.channel)]);
  }
  void on_held_out(const journey::Action& a) override { bump(c_.held_out[static_cast<size_t>(a.trigger)]); }
  void on_suppressed(const journey::Suppression& s) override {
    bump(c_.suppressed[static_cast<size_t>(s.trigger)][static_cast<size_t>(s.reason)]);
  }
  void on_deferred(journey::Trigger t) override { bump(c_.deferred[static_cast<size_t>(t)]); }
  void on_commit(double seconds, size_t bytes, size_t) override { shared_.on_commit(seconds, bytes); }
  void on_commit_failed() override { shared_.on_commit_failed(); }
  void on_batch_end() override {
    if (!pending_) return;
    shared_.add(c_);
    c_ = {};
    pending_ = false;
  }

 private:
  void bump(uint64_t& n) {
    ++n;
    pending_ = true;
  }

  MetricsObserver& shared_;
  MetricsObserver::Counts c_;
  bool pending_ = false;
};

}  // namespace beckon::app
