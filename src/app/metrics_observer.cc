#include "app/metrics_observer.h"

namespace beckon::app {

void MetricsObserver::add(const Counts& c) {
  uint64_t consumed_total = 0;
  for (size_t t = 0; t < c.consumed.size(); ++t) {
    if (c.consumed[t] == 0) continue;
    m_.ingest.on_consumed(static_cast<int>(t), c.consumed[t]);
    consumed_total += c.consumed[t];
  }
  if (consumed_total > 0) consumed.fetch_add(consumed_total, std::memory_order_relaxed);
  if (c.late > 0) m_.ingest.on_late_event(c.late);
  if (c.clamped > 0) m_.ingest.on_clamped_event(c.clamped);
  uint64_t suppressed_total = 0;
  for (size_t t = 0; t < static_cast<size_t>(journey::kTriggerCount); ++t) {
    const int trigger = static_cast<int>(t);
    if (c.scheduled[t] > 0) m_.timer.on_scheduled(trigger, c.scheduled[t]);
    if (c.cancelled[t] > 0) m_.timer.on_cancelled(trigger, c.cancelled[t]);
    uint64_t emitted_total = 0;
    for (size_t ch = 0; ch < c.emitted[t].size(); ++ch) {
      if (c.emitted[t][ch] == 0) continue;
      m_.journey.on_emitted(trigger, static_cast<int>(ch), c.emitted[t][ch]);
      emitted_total += c.emitted[t][ch];
    }
    if (emitted_total > 0) actions[t].fetch_add(emitted_total, std::memory_order_relaxed);
    if (c.held_out[t] > 0) m_.journey.on_holdout(trigger, c.held_out[t]);
    for (size_t r = 0; r < c.suppressed[t].size(); ++r) {
      if (c.suppressed[t][r] == 0) continue;
      m_.journey.on_suppressed(trigger, static_cast<int>(r), c.suppressed[t][r]);
      suppressed_total += c.suppressed[t][r];
    }
    if (c.deferred[t] > 0) m_.journey.on_deferred(trigger, c.deferred[t]);
  }
  if (suppressed_total > 0) suppressed.fetch_add(suppressed_total, std::memory_order_relaxed);
}

}  // namespace beckon::app
