#pragma once

#include <atomic>
#include <chrono>

#include "core/types.h"

namespace beckon {

// The source of wall-clock time. Every component that needs "now" takes a Clock& so tests can
// substitute a ManualClock and never sleep. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  WallTime now() const override {
    using namespace std::chrono;
    return WallTime(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  }
};

// A clock that moves only when told. Thread-safe; used by tests and by replay.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start = WallTime(0)) : ms_(start.ms()) {}
  WallTime now() const override { return WallTime(ms_.load(std::memory_order_acquire)); }
  void set(WallTime t) { ms_.store(t.ms(), std::memory_order_release); }
  void advance(Millis d) { ms_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace beckon
