#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace beckon::journey {

// Enumerations mirror schemas/events.fbs and schemas/actions.fbs value for value, so the codec
// converts with a static_cast; codec/ has static_asserts that keep them in step.
enum class PageType : uint8_t { kHome, kCategory, kProduct, kCart, kCheckout, kSignup, kLoyaltySignup, kOther };
enum class SignupForm : uint8_t { kAccount, kLoyalty, kNewsletter };
inline constexpr int kSignupFormCount = 3;
enum class Channel : uint8_t { kEmail, kSms, kAppPush, kWebPush, kWhatsapp, kAdsAudience };
inline constexpr int kChannelCount = 6;
enum class EngagementKind : uint8_t { kDelivered, kOpened, kClicked };
enum class Trigger : uint8_t { kCartAbandonment, kSignupAbandonment, kReplenishment, kShippingDelay };
inline constexpr int kTriggerCount = 4;

enum class EventType : uint8_t {
  kPageViewed,
  kProductViewed,
  kCartUpdated,
  kCheckoutStarted,
  kOrderPlaced,
  kSignupStarted,
  kSignupCompleted,
  kOrderShipped,
  kShipmentDelayed,
  kOrderDelivered,
  kConsentChanged,
  kChannelEngaged,
  kProfileUpdated,
  kCustomerErased,
};
inline constexpr int kEventTypeCount = 14;

// Lower-case names as they appear in the schemas, config files, metrics labels and topics.
std::string_view to_string(PageType v);
std::string_view to_string(SignupForm v);
std::string_view to_string(Channel v);
std::string_view to_string(EngagementKind v);
std::string_view to_string(Trigger v);
std::string_view to_string(EventType v);  // the schema's table name, e.g. "CartUpdated"
std::optional<Channel> parse_channel(std::string_view name);
std::optional<SignupForm> parse_signup_form(std::string_view name);
std::optional<Trigger> parse_trigger(std::string_view name);

// One line of a cart or an order, as a view into the message buffer.
struct LineItemView {
  std::string_view sku;
  int32_t quantity = 1;
  double unit_price = 0;
  std::string_view category;
  int32_t replenish_after_days = 0;  // 0 = not given by the event
};

// A decoded, verified and validated input event. Zero-copy: the string views and `items` point
// into the consumed message and into the decoder's scratch space, and are valid only until the
// next decode or until the message is released. Only the fields of `type` are meaningful.
struct Event {
  EventType type = EventType::kPageViewed;
  std::string_view event_id;
  std::string_view customer_id;
  EventTime timestamp;

  // PageViewed
  std::string_view url;
  PageType page_type = PageType::kOther;
  std::string_view session_id;
  // ProductViewed (also sku/category of nothing else)
  std::string_view sku;
  std::string_view category;
  double price = 0;
  // CartUpdated, OrderPlaced
  std::span<const LineItemView> items;
  std::string_view currency;
  // CheckoutStarted: cart_value; OrderPlaced: total
  double amount = 0;
  // OrderPlaced, OrderShipped, ShipmentDelayed, OrderDelivered
  std::string_view order_id;
  std::string_view carrier;
  EventTime promised_delivery;  // OrderShipped
  EventTime new_eta;            // ShipmentDelayed
  std::string_view reason;      // ShipmentDelayed
  // SignupStarted, SignupCompleted
  SignupForm form = SignupForm::kAccount;
  // ConsentChanged, ChannelEngaged
  Channel channel = Channel::kEmail;
  bool granted = false;
  EngagementKind engagement = EngagementKind::kDelivered;
  // ProfileUpdated (empty / nullopt: unchanged)
  std::string_view timezone;
  std::string_view locale;
  std::optional<bool> email_known;
  std::optional<bool> phone_known;
  std::optional<bool> push_token_known;
};

// A line of a cart as kept in state and sent in cart actions.
struct CartLine {
  std::string sku;
  int32_t quantity = 1;
  double unit_price = 0;
  std::string category;
  bool operator==(const CartLine&) const = default;
};

struct Incentive {
  std::string kind;  // e.g. "coupon", "free_shipping"; empty = none
  std::string code;
  double value = 0;
  bool operator==(const Incentive&) const = default;
};

// What a template needs to personalise a message (actions.fbs CustomerContext).
struct CustomerContext {
  bool first_time_buyer = true;
  int32_t order_count = 0;
  double lifetime_value = 0;
  std::string loyalty_tier;
  std::string locale;
  std::string timezone;
  bool operator==(const CustomerContext&) const = default;
};

// One decision to contact a customer (actions.fbs Action). Owns its data.
struct Action {
  std::string action_id;
  std::string customer_id;
  Trigger trigger = Trigger::kCartAbandonment;
  std::string journey;
  int32_t step = 0;
  Channel channel = Channel::kEmail;
  EventTime created;
  EventTime due;
  EventTime expires;
  std::string variant;
  std::string template_id;
  CustomerContext context;
  // Payload, by trigger.
  std::vector<CartLine> items;      // cart_abandonment
  double cart_value = 0;            // cart_abandonment
  std::string currency;             // cart_abandonment
  SignupForm form = SignupForm::kAccount;  // signup_abandonment
  std::string sku;                  // replenishment
  std::string category;             // replenishment
  int32_t quantity = 0;             // replenishment
  std::string order_id;             // replenishment (last order), shipping_delay
  EventTime last_order;             // replenishment
  std::string carrier;              // shipping_delay
  EventTime promised_delivery;      // shipping_delay
  EventTime new_eta;                // shipping_delay (0 = unknown)
  std::string reason;               // shipping_delay
  Incentive incentive;              // shipping_delay
  bool operator==(const Action&) const = default;
};

// A durable timer: identified within a customer by `id`, due at `due` (event time).
// The timer index key is (partition, due, customer, id); see state/timer_index.h.
struct TimerRef {
  uint64_t id = 0;
  EventTime due;
  bool operator==(const TimerRef&) const = default;
};

// Why an action was not sent. Labels of beckon_suppressions_total{reason=...}.
enum class SuppressionReason : uint8_t {
  kNoConsent,         // no channel of the step has consent
  kNoAddress,         // consented channels exist, but none with a known address/token
  kFrequencyCap,      // a rolling-window cap across journeys was reached
  kRecentOrder,       // marketing reminder within the configured time after an order
  kHoldout,           // customer is in the journey's holdout group (recorded, not sent)
  kExpired,           // the step's send window passed (e.g. long deferral)
  kBelowMinimumValue, // cart value under the journey's minimum
  kAlreadyNotified,   // at most one notice per order / instance
};
inline constexpr int kSuppressionReasonCount = 8;
std::string_view to_string(SuppressionReason v);

struct Suppression {
  Trigger trigger;
  std::string_view journey;  // points into the engine's configuration
  SuppressionReason reason;
  int32_t step = 0;
};

// Everything one call into the journey engine decided. Reused across calls (clear() keeps the
// capacity) so the hot path does not allocate. Not thread-safe.
struct Outcome {
  std::vector<TimerRef> scheduled;   // to add to the timer index
  std::vector<TimerRef> cancelled;   // to remove from the timer index
  std::vector<Action> actions;       // to emit, in order
  std::vector<Action> held_out;      // decisions recorded but not sent (holdout group)
  std::vector<Suppression> suppressions;
  int32_t deferred = 0;              // actions postponed (quiet hours)
  bool late = false;                 // event older than the frontier
  bool erase_customer = false;       // drop the customer's state (all its timers are in `cancelled`)
  bool state_changed = false;        // the customer's state must be written back
  bool stale_timer = false;          // on_timer: the state holds no such pending timer (index
                                     // and state disagree; nothing was decided)

  void clear() {
    scheduled.clear();
    cancelled.clear();
    actions.clear();
    held_out.clear();
    suppressions.clear();
    deferred = 0;
    late = false;
    erase_customer = false;
    state_changed = false;
    stale_timer = false;
  }
};

}  // namespace beckon::journey
