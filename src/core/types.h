#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

#include "core/strong_type.h"

namespace beckon {

// Kafka partition number. Partition p of every input topic belongs to the same owner.
using PartitionId = StrongType<int32_t, struct PartitionIdTag>;
// Kafka offset; stored offsets are always the *next* offset to consume.
using Offset = StrongType<int64_t, struct OffsetTag>;

using Millis = std::chrono::milliseconds;

// A point in time in milliseconds since the Unix epoch. EventTime is time as the data tells it
// (event timestamps, timer due times, the partition frontier); WallTime is the machine's clock.
// They only meet in the frontier rule (DESIGN.md §4), which converts explicitly.
template <typename Tag>
class TimePoint {
 public:
  constexpr TimePoint() = default;
  constexpr explicit TimePoint(int64_t ms) : ms_(ms) {}
  constexpr int64_t ms() const { return ms_; }
  constexpr auto operator<=>(const TimePoint&) const = default;
  constexpr TimePoint operator+(Millis d) const { return TimePoint(ms_ + d.count()); }
  constexpr TimePoint operator-(Millis d) const { return TimePoint(ms_ - d.count()); }
  constexpr Millis operator-(TimePoint o) const { return Millis(ms_ - o.ms_); }
  static constexpr TimePoint min() { return TimePoint(std::numeric_limits<int64_t>::min()); }
  static constexpr TimePoint max() { return TimePoint(std::numeric_limits<int64_t>::max()); }

 private:
  int64_t ms_ = 0;
};

using EventTime = TimePoint<struct EventTimeTag>;
using WallTime = TimePoint<struct WallTimeTag>;

}  // namespace beckon
