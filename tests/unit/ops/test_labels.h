#pragma once

#include <array>
#include <string>
#include <string_view>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "ops/probes.h"

namespace beckon::ops::testing {

// Label names as the app would pass them (the real ones come from journey/codec enums).
inline constexpr std::array<std::string_view, 14> kEventTypes = {
    "PageViewed",     "ProductViewed",   "CartUpdated",   "CheckoutStarted", "OrderPlaced",
    "SignupStarted",  "SignupCompleted", "OrderShipped",  "ShipmentDelayed", "OrderDelivered",
    "ConsentChanged", "ChannelEngaged",  "ProfileUpdated", "CustomerErased"};
inline constexpr std::array<std::string_view, 3> kDecodeReasons = {"verify_failed", "bad_json",
                                                                   "missing_field"};
inline constexpr std::array<std::string_view, 2> kDeadLetterReasons = {"decode", "validation"};
inline constexpr std::array<std::string_view, 3> kColumnFamilies = {"state", "timers", "offsets"};
inline constexpr std::array<std::string_view, 4> kTriggers = {
    "cart_abandonment", "signup_abandonment", "replenishment", "shipping_delay"};
inline constexpr std::array<std::string_view, 3> kChannels = {"email", "sms", "app_push"};
inline constexpr std::array<std::string_view, 3> kSuppressionReasons = {"no_consent", "frequency_cap",
                                                                        "recent_order"};
inline constexpr std::array<std::string_view, 2> kDeliveryErrorReasons = {"msg_timed_out",
                                                                          "topic_unknown"};

inline MetricsLabels test_metrics_labels() {
  MetricsLabels l;
  l.version = "0.1.0-test";
  l.process_start = WallTime(1'732'270'000'500);
  l.ingest = {kEventTypes, kDecodeReasons, kDeadLetterReasons};
  l.state = {kColumnFamilies};
  l.timer = {kTriggers};
  l.journey = {kTriggers, kChannels, kSuppressionReasons};
  l.emit = {kDeliveryErrorReasons};
  return l;
}

inline std::string serialize(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace beckon::ops::testing
