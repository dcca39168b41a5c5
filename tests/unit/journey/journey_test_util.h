#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "journey/customer_state.h"
#include "journey/engine.h"
#include "journey/journey_config.h"
#include "journey/types.h"

namespace beckon::journey::testing {

constexpr Millis kMinute{60 * 1000};
constexpr Millis kHour{60 * kMinute};
constexpr Millis kDay{24 * kHour};

// 2024-11-22 12:00:00 UTC: noon, outside the default quiet hours.
constexpr EventTime kNoon{1732276800000};

// The default journeys with the policies that get in the way of trigger tests relaxed: consent
// granted by default, no caps, no quiet hours, no after-order pause. Policy tests re-enable them.
inline EngineConfig trigger_test_config() {
  EngineConfig c = default_engine_config();
  c.policies.consent_default_granted = true;
  c.policies.frequency_caps.clear();
  c.policies.quiet_hours_enabled = false;
  c.policies.after_order_pause = Millis(0);
  return c;
}

inline JourneyConfig& journey_of(EngineConfig& c, Trigger t) {
  for (auto& j : c.journeys) {
    if (j.trigger == t) return j;
  }
  throw std::runtime_error("no journey");
}

// Drives a JourneyEngine for one customer the way a pipeline worker does: keeps a timer index
// (due, id), fires due timers in order as the frontier advances, applies every Outcome, and checks
// that the index always matches the state's pending timers.
class Harness {
 public:
  // `local_time` overrides the harness's FixedOffsetLocalTime (which defaults to UTC everywhere).
  explicit Harness(EngineConfig config = trigger_test_config(), std::string customer = "c1",
                   const LocalTime* local_time = nullptr)
      : config_(std::move(config)), engine_(config_, local_time ? *local_time : local_), customer_(std::move(customer)) {
    state.profile.email_known = true;
    state.profile.phone_known = true;
    state.profile.push_token_known = true;
  }

  EngineConfig& config() { return config_; }
  FixedOffsetLocalTime& local_time() { return local_; }
  const std::string& customer() const { return customer_; }

  // Items are copied into storage owned by the harness (Event holds views).
  std::span<const LineItemView> items(std::vector<LineItemView> lines) {
    item_store_.push_back(std::move(lines));
    return item_store_.back();
  }

  // Delivers an event at its timestamp; the frontier first advances to it (firing due timers),
  // unless the event is older than the frontier (then it is late).
  Outcome event(Event e) {
    if (e.timestamp > frontier) advance_to(e.timestamp);
    e.customer_id = customer_;
    Outcome out;
    engine_.on_event(state, e, frontier, out);
    apply(out);
    return out;
  }

  // Moves the frontier to `t`, firing every timer due at or before it, in due order.
  void advance_to(EventTime t) {
    if (t > frontier) frontier = t;
    while (!index.empty() && index.begin()->first <= frontier.ms()) {
      auto [due, id] = *index.begin();
      index.erase(index.begin());
      Outcome out;
      engine_.on_timer(state, customer_, TimerRef{id, EventTime(due)}, frontier, out);
      apply(out);
    }
  }

  void apply(const Outcome& out) {
    for (const auto& c : out.cancelled) {
      EXPECT_EQ(index.erase({c.due.ms(), c.id}), 1u) << "cancelled a timer that is not in the index";
    }
    for (const auto& s : out.scheduled) {
      EXPECT_TRUE(index.insert({s.due.ms(), s.id}).second) << "scheduled a timer twice";
    }
    if (out.erase_customer) {
      EXPECT_TRUE(index.empty());
    } else {
      std::set<std::pair<int64_t, uint64_t>> pending;
      for (const auto& p : state.pending) pending.insert({p.due.ms(), p.id});
      EXPECT_EQ(pending, index) << "timer index and state disagree";
    }
    for (const auto& a : out.actions) actions.push_back(a);
    for (const auto& a : out.held_out) held_out.push_back(a);
    for (const auto& s : out.suppressions) suppressions.push_back(s);
    deferred += out.deferred;
    outcomes.push_back(out);
  }

  int count_suppressions(SuppressionReason r) const {
    int n = 0;
    for (const auto& s : suppressions) n += s.reason == r;
    return n;
  }

  CustomerState state;
  EventTime frontier;
  std::set<std::pair<int64_t, uint64_t>> index;
  std::vector<Action> actions;
  std::vector<Action> held_out;
  std::vector<Suppression> suppressions;
  std::vector<Outcome> outcomes;
  int deferred = 0;

 private:
  EngineConfig config_;
  FixedOffsetLocalTime local_;
  JourneyEngine engine_;
  std::string customer_;
  std::deque<std::vector<LineItemView>> item_store_;
};

// ---- event makers (string arguments must outlive the call: use literals) ----

inline Event make_event(EventType type, EventTime t) {
  Event e;
  e.type = type;
  e.event_id = "e";
  e.timestamp = t;
  return e;
}

inline Event cart_updated(EventTime t, std::span<const LineItemView> items, std::string_view currency = "EUR") {
  Event e = make_event(EventType::kCartUpdated, t);
  e.items = items;
  e.currency = currency;
  return e;
}

inline Event order_placed(EventTime t, std::string_view order_id, std::span<const LineItemView> items, double total) {
  Event e = make_event(EventType::kOrderPlaced, t);
  e.order_id = order_id;
  e.items = items;
  e.amount = total;
  e.currency = "EUR";
  return e;
}

inline Event signup_started(EventTime t, SignupForm f) {
  Event e = make_event(EventType::kSignupStarted, t);
  e.form = f;
  return e;
}

inline Event signup_completed(EventTime t, SignupForm f) {
  Event e = make_event(EventType::kSignupCompleted, t);
  e.form = f;
  return e;
}

inline Event page_viewed(EventTime t, PageType p) {
  Event e = make_event(EventType::kPageViewed, t);
  e.page_type = p;
  e.url = "/page";
  return e;
}

inline Event order_shipped(EventTime t, std::string_view order_id, std::string_view carrier, EventTime promised) {
  Event e = make_event(EventType::kOrderShipped, t);
  e.order_id = order_id;
  e.carrier = carrier;
  e.promised_delivery = promised;
  return e;
}

inline Event shipment_delayed(EventTime t, std::string_view order_id, EventTime eta, std::string_view reason) {
  Event e = make_event(EventType::kShipmentDelayed, t);
  e.order_id = order_id;
  e.new_eta = eta;
  e.reason = reason;
  return e;
}

inline Event order_delivered(EventTime t, std::string_view order_id) {
  Event e = make_event(EventType::kOrderDelivered, t);
  e.order_id = order_id;
  return e;
}

inline Event consent_changed(EventTime t, Channel c, bool granted) {
  Event e = make_event(EventType::kConsentChanged, t);
  e.channel = c;
  e.granted = granted;
  return e;
}

inline Event channel_engaged(EventTime t, Channel c, EngagementKind k) {
  Event e = make_event(EventType::kChannelEngaged, t);
  e.channel = c;
  e.engagement = k;
  return e;
}

inline Event profile_updated(EventTime t, std::string_view tz) {
  Event e = make_event(EventType::kProfileUpdated, t);
  e.timezone = tz;
  return e;
}

inline Event customer_erased(EventTime t) { return make_event(EventType::kCustomerErased, t); }

inline LineItemView line(std::string_view sku, int32_t qty, double price, std::string_view category = "",
                         int32_t replenish_days = 0) {
  return LineItemView{sku, qty, price, category, replenish_days};
}

}  // namespace beckon::journey::testing
