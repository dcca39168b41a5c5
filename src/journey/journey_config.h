#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "journey/types.h"

namespace beckon::journey {

// The journeys and policies as plain data. config/ fills these from YAML and validates them;
// journey/ only reads them. Defaults here are DESIGN.md §3's and are the documented defaults
// of docs/configuration.md.

struct StepConfig {
  Millis delay{0};                 // after the journey's anchor (cart: last update; signup: start)
  std::vector<Channel> channels;   // ordered preference; the first with consent and an address wins
  bool most_engaged = false;       // prefer the customer's most engaged channel among `channels`
  std::string template_id;         // passed through to the action
};

struct VariantConfig {
  std::string name;
  uint32_t weight = 1;             // relative weight among the journey's variants
};

enum class ReentryRule : uint8_t {
  kAlways,    // a new instance may start as soon as the previous one ended (default)
  kCooldown,  // a new instance may start only `reentry_cooldown` after the previous one started
  kOnce,      // at most one instance per customer, ever
};

struct JourneyConfig {
  std::string name;                // unique; appears in actions and metrics
  Trigger trigger = Trigger::kCartAbandonment;
  bool enabled = true;
  bool transactional = false;      // bypasses frequency caps and the after-order pause
  std::vector<StepConfig> steps;
  Millis expires_after{Millis(24 * 3600 * 1000)};  // action expires_ms = due + this

  // cart_abandonment
  double min_cart_value = 0;       // carts worth less than this never enter

  // signup_abandonment
  std::vector<SignupForm> forms{SignupForm::kAccount, SignupForm::kLoyalty, SignupForm::kNewsletter};
  Millis signup_grace{Millis(60 * 60 * 1000)};  // nothing is sent during this period
  bool signup_from_page_views = true;           // a signup/loyalty_signup PageViewed starts it

  // replenishment: cycle = event's replenish_after_days, else by SKU, else by category, else default
  std::map<std::string, int32_t, std::less<>> cycle_days_by_sku;
  std::map<std::string, int32_t, std::less<>> cycle_days_by_category;
  std::optional<int32_t> default_cycle_days;    // none = items without a cycle get no reminder
  int32_t lead_days = 3;                        // remind this many days before running out
  Millis day_length{Millis(24 * 3600 * 1000)};  // length of one cycle "day"; shortened only by demos

  // shipping_delay
  Millis shipping_grace{Millis(24 * 3600 * 1000)};  // after promised delivery with no delivery
  Incentive incentive{"coupon", "SORRY10", 10};

  // experiment
  double holdout_percent = 0;      // 0..100; held-out customers are recorded, not contacted
  std::vector<VariantConfig> variants;

  ReentryRule reentry = ReentryRule::kAlways;
  Millis reentry_cooldown{0};

  // Exit conditions beyond the trigger's own (an order or an emptied cart ends a cart journey, a
  // completed signup a signup journey, a delivery a shipping check, a re-order a replenishment
  // reminder): any of these events ends the customer's active instances of this journey and
  // cancels its pending reminders. Default: none.
  std::vector<EventType> exit_on;
};

struct FrequencyCap {
  Millis window{Millis(3600 * 1000)};
  int32_t max_actions = 1;
};

struct LoyaltyTier {
  std::string name;
  double min_lifetime_value = 0;
};

struct PolicyConfig {
  // Consent assumed for a channel the customer never gave or withdrew consent for.
  bool consent_default_granted = false;
  // Rolling windows across all non-transactional journeys.
  std::vector<FrequencyCap> frequency_caps{{Millis(3600 * 1000), 1}, {Millis(24 * 3600 * 1000), 3}};
  // Quiet hours in the customer's local time: [start_hour, end_hour), may wrap midnight.
  bool quiet_hours_enabled = true;
  int32_t quiet_start_hour = 21;
  int32_t quiet_end_hour = 8;
  std::string default_timezone = "UTC";   // when the customer's timezone is unknown
  // No marketing reminder within this time after an order (transactional journeys exempt).
  Millis after_order_pause{Millis(12 * 3600 * 1000)};
  // Thresholds on lifetime value, ascending; the highest reached names the tier.
  std::vector<LoyaltyTier> loyalty_tiers{{"bronze", 0}, {"silver", 200}, {"gold", 1000}};
};

// The time rule of DESIGN.md §4.
struct TimeConfig {
  Millis allowed_lateness{Millis(5000)};      // out-of-orderness tolerated behind the max event time
  Millis max_future_skew{Millis(5 * 60 * 1000)};  // timestamps beyond wall clock + this are clamped
};

struct EngineConfig {
  std::vector<JourneyConfig> journeys;
  PolicyConfig policies;
  TimeConfig time;
};

// The four journeys of DESIGN.md §3 with their default steps and channels.
EngineConfig default_engine_config();

}  // namespace beckon::journey
