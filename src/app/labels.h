#pragma once

#include <array>
#include <string_view>

#include "codec/event_decoder.h"
#include "core/types.h"
#include "journey/types.h"
#include "ops/probes.h"

namespace beckon::app {

// Label values of every metric family, in enum order, built once from the modules' own names.
struct LabelNames {
  std::array<std::string_view, journey::kEventTypeCount> event_types;
  std::array<std::string_view, journey::kTriggerCount> triggers;
  std::array<std::string_view, journey::kChannelCount> channels;
  std::array<std::string_view, journey::kSuppressionReasonCount> suppression_reasons;
  std::array<std::string_view, codec::kDecodeErrorCount> decode_errors;
  std::array<std::string_view, 4> column_families{"default", "customers", "timers", "offsets"};
  std::array<std::string_view, 3> delivery_errors{"timed_out", "broker", "fatal"};

  static const LabelNames& get();
};

// The label sets of every probe (ops::Metrics), from LabelNames; `process_start` for
// process_start_time_seconds.
ops::MetricsLabels metrics_labels(WallTime process_start);

}  // namespace beckon::app
