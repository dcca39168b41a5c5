#include "app/labels.h"

namespace beckon::app {

const LabelNames& LabelNames::get() {
  static const LabelNames names = [] {
    LabelNames n;
    for (int i = 0; i < journey::kEventTypeCount; ++i) n.event_types[i] = to_string(static_cast<journey::EventType>(i));
    for (int i = 0; i < journey::kTriggerCount; ++i) n.triggers[i] = to_string(static_cast<journey::Trigger>(i));
    for (int i = 0; i < journey::kChannelCount; ++i) n.channels[i] = to_string(static_cast<journey::Channel>(i));
    for (int i = 0; i < journey::kSuppressionReasonCount; ++i) {
      n.suppression_reasons[i] = to_string(static_cast<journey::SuppressionReason>(i));
    }
    for (int i = 0; i < codec::kDecodeErrorCount; ++i) n.decode_errors[i] = codec::to_string(static_cast<codec::DecodeError>(i));
    return n;
  }();
  return names;
}

ops::MetricsLabels metrics_labels(WallTime process_start) {
  const LabelNames& n = LabelNames::get();
  ops::MetricsLabels labels;
  labels.version = BECKON_VERSION;
  labels.process_start = process_start;
  labels.ingest = {n.event_types, n.decode_errors, n.decode_errors};
  labels.state = {n.column_families};
  labels.timer = {n.triggers};
  labels.journey = {n.triggers, n.channels, n.suppression_reasons};
  labels.emit = {n.delivery_errors};
  return labels;
}

}  // namespace beckon::app
