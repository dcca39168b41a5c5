#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "core/types.h"
#include "journey/types.h"

namespace beckon::codec {

// One line of a cart or order in an EventSpec (owning counterpart of journey::LineItemView).
struct LineItemSpec {
  std::string sku;
  int32_t quantity = 1;
  double unit_price = 0;
  std::string category;
  int32_t replenish_after_days = 0;  // 0 = not given
  bool operator==(const LineItemSpec&) const = default;
};

// An input event described in C++ with owning fields, for the shopper simulator, benchmarks and
// tests. Field names and meanings are those of journey::Event; only the fields of `type` are
// written. Values are written as given (no validation), so invalid events can be built too.
struct EventSpec {
  journey::EventType type = journey::EventType::kPageViewed;
  std::string event_id;
  std::string customer_id;
  EventTime timestamp;

  std::string url;                                         // PageViewed
  journey::PageType page_type = journey::PageType::kOther; // PageViewed
  std::string session_id;                                  // PageViewed
  std::string sku;                                         // ProductViewed
  std::string category;                                    // ProductViewed
  double price = 0;                                        // ProductViewed
  std::vector<LineItemSpec> items;                         // CartUpdated, OrderPlaced
  std::string currency;                                    // CartUpdated, CheckoutStarted, OrderPlaced
  double amount = 0;                                       // CheckoutStarted cart_value, OrderPlaced total
  std::string order_id;                                    // OrderPlaced, OrderShipped, ShipmentDelayed, OrderDelivered
  std::string carrier;                                     // OrderShipped
  EventTime promised_delivery;                             // OrderShipped
  EventTime new_eta;                                       // ShipmentDelayed
  std::string reason;                                      // ShipmentDelayed
  journey::SignupForm form = journey::SignupForm::kAccount;  // SignupStarted, SignupCompleted
  journey::Channel channel = journey::Channel::kEmail;       // ConsentChanged, ChannelEngaged
  bool granted = false;                                      // ConsentChanged
  journey::EngagementKind engagement = journey::EngagementKind::kDelivered;  // ChannelEngaged
  std::string timezone;                                    // ProfileUpdated ("" = unchanged)
  std::string locale;                                      // ProfileUpdated
  std::optional<bool> email_known;                         // ProfileUpdated
  std::optional<bool> phone_known;
  std::optional<bool> push_token_known;

  bool operator==(const EventSpec&) const = default;
};

// Copies a decoded event into an owning spec (all fields, whatever the type).
EventSpec to_spec(const journey::Event& event);

// Builds Event FlatBuffers (identifier "BKEV") from EventSpecs, reusing one FlatBufferBuilder.
// Not thread-safe; one per thread.
class EventBuilder {
 public:
  EventBuilder();
  // The returned bytes are valid until the next call. `with_identifier` = false omits the
  // "BKEV" file identifier, as some producers do.
  std::span<const uint8_t> build(const EventSpec& spec, bool with_identifier = true);

 private:
  flatbuffers::FlatBufferBuilder builder_;
  std::vector<flatbuffers::Offset<void>> items_;
};

// The event's JSON form (FlatBuffers' JSON mapping, one line), as a producer would send it.
std::string event_spec_to_json(const EventSpec& spec);

}  // namespace beckon::codec
