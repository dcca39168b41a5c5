#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "journey/customer_state.h"
#include "journey/journey_config.h"
#include "journey/types.h"

namespace beckon::journey {

// Resolves a customer's UTC offset for quiet hours. The only "I/O" the journey engine does goes
// through this interface, so tests substitute fixed offsets. Implementations must be thread-safe
// (one instance may be shared by all worker threads).
class LocalTime {
 public:
  virtual ~LocalTime() = default;
  // Offset of local time from UTC in `tz` (an IANA name) at the instant `at`, in milliseconds.
  virtual int64_t utc_offset_ms(std::string_view tz, EventTime at) const = 0;
};

// LocalTime backed by the system tz database (date::tz, /usr/share/zoneinfo). Zones are looked up
// once per name and cached (at most 1024 names); a name the database does not know falls back to
// `fallback_timezone` (pass PolicyConfig::default_timezone), and to UTC if that is unknown too.
// Thread-safe.
std::unique_ptr<LocalTime> make_tzdb_local_time(std::string fallback_timezone = "UTC");

// LocalTime with fixed offsets per zone name (no DST), for tests and golden scenarios.
// Not thread-safe while being configured; thread-safe for reads afterwards.
class FixedOffsetLocalTime final : public LocalTime {
 public:
  explicit FixedOffsetLocalTime(int64_t default_offset_ms = 0) : default_offset_ms_(default_offset_ms) {}
  void set(std::string tz, int64_t offset_ms) { offsets_[std::move(tz)] = offset_ms; }
  int64_t utc_offset_ms(std::string_view tz, EventTime at) const override;

 private:
  int64_t default_offset_ms_;
  std::map<std::string, int64_t, std::less<>> offsets_;
};

// The four triggers and the policies of DESIGN.md §3 as a pure function of (state, input):
// no Kafka, no storage, no wall clock. The caller (a pipeline worker) loads the customer's state,
// calls on_event / on_timer, then applies the Outcome: removes `cancelled` and adds `scheduled`
// timers in its timer index (the two lists are already netted against each other, so their order
// does not matter), emits `actions`, writes the state back if `state_changed` (or drops it if
// `erase_customer`).
//
// Timers: the caller removes a fired timer from its index itself; on_timer never lists the fired
// TimerRef in `cancelled`. A timer whose (id, due) is not in the state's pending list is stale and
// ignored. A rescheduled timer keeps its id and changes its due: the old TimerRef is cancelled and
// the new one scheduled.
//
// Decision times are event times (the event's timestamp, or the timer's due), never the frontier
// or the wall clock, so a replay makes the same decisions with the same action ids.
//
// One engine per worker thread; not thread-safe. `config` and `local_time` must outlive it, and
// `config` must not change while it lives (the engine indexes the journeys at construction).
class JourneyEngine {
 public:
  JourneyEngine(const EngineConfig& config, const LocalTime& local_time);

  // Applies one validated event of `state`'s customer (event.customer_id). `frontier` is the
  // partition frontier (event time); an event older than it is late (out.late, see is_late) and
  // still applied.
  void on_event(CustomerState& state, const Event& event, EventTime frontier, Outcome& out);

  // False when on_event would neither read nor change any state for `event` and decide nothing:
  // a product view, a checkout start, or a view of a page other than a signup page, unless an
  // enabled journey exits on its type. The caller may then skip the customer's state altogether
  // (on_event would only have set out.late). About half of a shop's events are such views.
  bool reads_state(const Event& event) const { return reads_state(event.type, event.page_type); }
  bool reads_state(EventType type, PageType page_type) const {
    if ((exit_event_mask_ & (uint32_t{1} << static_cast<unsigned>(type))) != 0) return true;
    switch (type) {
      case EventType::kProductViewed:
      case EventType::kCheckoutStarted:
        return false;
      case EventType::kPageViewed:
        return page_type == PageType::kSignup || page_type == PageType::kLoyaltySignup;
      default:
        return true;
    }
  }
  // An event older than the partition frontier is late: counted, and still applied.
  static bool is_late(const Event& event, EventTime frontier) { return event.timestamp < frontier; }

  // A pending timer is due (timer.due <= frontier). Decides, applies policies, emits or
  // suppresses, and schedules the next step.
  void on_timer(CustomerState& state, std::string_view customer_id, const TimerRef& timer, EventTime frontier,
                Outcome& out);

  // The id of the timer of (journey, key, instance); key is "" (cart), the form name (signup), the
  // SKU (replenishment) or the order id (shipping); instance is 0 for replenishment and shipping.
  // The top two bits of the id hold the trigger (see trigger_of_timer), the rest is a stable hash.
  static uint64_t timer_id(std::string_view journey, Trigger trigger, std::string_view key, uint32_t instance);
  // The trigger a timer id was made for (for metrics labels; no state needed).
  static Trigger trigger_of_timer(uint64_t timer_id) { return static_cast<Trigger>(timer_id >> 62); }

  // The deterministic action id of a decision.
  static std::string action_id(std::string_view customer_id, Trigger trigger, std::string_view journey,
                               std::string_view discriminator, int32_t step);

  // Holdout bucket in [0, 10000) and variant name ("" without variants) of (customer, journey).
  static uint32_t holdout_bucket(std::string_view customer_id, std::string_view journey);
  static std::string_view variant_for(std::string_view customer_id, const JourneyConfig& journey);

  const EngineConfig& config() const { return config_; }

 private:
  enum class Verdict { kSent, kSuppressed, kDeferred };
  struct Decision {
    Verdict verdict = Verdict::kSuppressed;
    EventTime defer_until;              // kDeferred
    Channel channel = Channel::kEmail;  // kSent: the chosen channel
  };

  const JourneyConfig* find_journey(std::string_view name) const;
  // The journeys of one trigger (enabled or not), in configuration order.
  std::span<const JourneyConfig* const> journeys_of(Trigger t) const {
    return by_trigger_[static_cast<size_t>(t)];
  }

  // Triggers.
  void on_cart_updated(CustomerState& s, const Event& e, Outcome& out);
  void on_order_placed(CustomerState& s, const Event& e, Outcome& out);
  void start_signup(CustomerState& s, SignupForm form, EventTime at, bool from_page_view, Outcome& out);
  void on_signup_completed(CustomerState& s, SignupForm form, Outcome& out);
  void on_order_shipped(CustomerState& s, const Event& e, Outcome& out);
  void on_shipment_delayed(CustomerState& s, const Event& e, Outcome& out);
  void on_order_delivered(CustomerState& s, const Event& e, Outcome& out);
  void on_erased(CustomerState& s, Outcome& out);

  void fire_cart(CustomerState& s, std::string_view customer, const JourneyConfig& j, const PendingTimer& p,
                 Outcome& out);
  void fire_signup(CustomerState& s, std::string_view customer, const JourneyConfig& j, const PendingTimer& p,
                   Outcome& out);
  void fire_replenishment(CustomerState& s, std::string_view customer, const JourneyConfig& j,
                          const PendingTimer& p, Outcome& out);
  void fire_shipping(CustomerState& s, std::string_view customer, const JourneyConfig& j, const PendingTimer& p,
                     EventTime now, Outcome& out);

  // Instances.
  bool may_start(const JourneyProgress* prog, const JourneyConfig& j, EventTime at) const;
  // Starts the next instance of (j, key); `prog` is its progress entry, or null to add one.
  JourneyProgress& start_instance(CustomerState& s, JourneyProgress* prog, const JourneyConfig& j,
                                  std::string_view key, EventTime at);
  void end_instance(CustomerState& s, const JourneyConfig& j, JourneyProgress& prog, Outcome& out);
  void defer(CustomerState& s, const PendingTimer& p, EventTime until, Outcome& out);

  // Policies: decides step `step` of `j` at event time `now` for a step originally due at `due`.
  // kSuppressed (recorded in out.suppressions), kDeferred (quiet hours), or kSent with the channel:
  // the caller then calls emit() and adds the trigger's payload to the action it returns, so no
  // payload is built for a suppressed or deferred step.
  Decision check_policies(const CustomerState& s, const JourneyConfig& j, int32_t step, EventTime due, EventTime now,
                          Outcome& out) const;
  // Records a decision check_policies let through: appends it to out.actions (and counts the
  // send for the frequency caps) or, for the holdout group, to out.held_out with a suppression.
  // Fills every field but the trigger's payload; the reference is valid until `out` changes.
  Action& emit(CustomerState& s, std::string_view customer, const JourneyConfig& j, int32_t step, EventTime due,
               EventTime now, Channel channel, std::string_view discriminator, Outcome& out);
  std::optional<EventTime> quiet_hours_end(const CustomerState& s, EventTime now) const;
  bool consented(const CustomerState& s, Channel c) const;
  std::string_view timezone_of(const CustomerState& s) const;
  void record_send(CustomerState& s, EventTime at) const;

  const EngineConfig& config_;
  const LocalTime& local_time_;
  int64_t max_cap_window_ms_ = 0;
  int32_t max_cap_actions_ = 0;
  std::array<std::vector<const JourneyConfig*>, kTriggerCount> by_trigger_;
  uint32_t exit_event_mask_ = 0;  // bit t: an enabled journey lists EventType t in exit_on
};

}  // namespace beckon::journey
