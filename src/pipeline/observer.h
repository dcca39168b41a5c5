#pragma once

#include <string_view>

#include "core/types.h"
#include "journey/types.h"

namespace beckon::pipeline {

// What a Worker reports as it works, for metrics and logs. The app implements it with the ops
// probes; tests count calls. Called on the worker's thread; implementations must be thread-safe
// when shared by workers. Every method has a no-op default.
class WorkerObserver {
 public:
  virtual ~WorkerObserver() = default;
  virtual void on_consumed(journey::EventType) {}
  virtual void on_dead_letter(std::string_view /*reason*/) {}
  virtual void on_late_event() {}
  virtual void on_clamped_event() {}
  // A message at an offset already processed since its partition was assigned was skipped
  // (Worker::process: a batch consumed before a rebalance and fetched again after it).
  virtual void on_redelivered() {}
  virtual void on_timer_scheduled(journey::Trigger) {}
  virtual void on_timer_cancelled(journey::Trigger) {}
  // `lateness` = wall time at firing minus due time (only meaningful on a wall-clock frontier).
  virtual void on_timer_fired(journey::Trigger, Millis /*lateness*/) {}
  // A timer came due that the customer's state does not hold (the index and the state
  // disagree); nothing was decided for it.
  virtual void on_stale_timer(journey::Trigger) {}
  virtual void on_action(const journey::Action&) {}
  virtual void on_held_out(const journey::Action&) {}
  virtual void on_suppressed(const journey::Suppression&) {}
  virtual void on_deferred(journey::Trigger) {}
  virtual void on_commit(double /*seconds*/, size_t /*bytes*/, size_t /*entries*/) {}
  virtual void on_commit_failed() {}
  // The worker's caller finished a batch (ingest::Runner: once per poll, after timers and any
  // commit; Worker::end_batch). An observer that buffers its counts per worker, so that workers
  // do not write shared counters per event, reports them here.
  virtual void on_batch_end() {}
};

}  // namespace beckon::pipeline
