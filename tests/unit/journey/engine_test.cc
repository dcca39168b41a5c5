#include <tuple>

#include "core/hash.h"
#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

TEST(Erasure, CancelsAllTimers) {
  Harness h;
  auto cart = h.items({line("LIP-01", 1, 19.5)});
  auto order = h.items({line("CREAM-1", 1, 30, "skincare")});
  h.event(cart_updated(kNoon, cart));
  h.event(signup_started(kNoon, SignupForm::kLoyalty));
  h.event(order_placed(kNoon, "o1", order, 30));
  h.event(cart_updated(kNoon + kMinute, cart));
  h.event(order_shipped(kNoon + kMinute, "o1", "DHL", kNoon + 2 * kDay));
  ASSERT_EQ(h.index.size(), 4u);
  Outcome out = h.event(customer_erased(kNoon + 2 * kMinute));
  EXPECT_TRUE(out.erase_customer);
  EXPECT_EQ(out.cancelled.size(), 4u);
  EXPECT_TRUE(h.index.empty());
  EXPECT_EQ(h.state, CustomerState{});
  h.advance_to(kNoon + 100 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(ActionId, SameDecisionSameId) {
  auto run = [](const std::string& customer) {
    Harness h(trigger_test_config(), customer);
    auto items = h.items({line("LIP-01", 1, 19.5)});
    h.event(cart_updated(kNoon, items));
    h.advance_to(kNoon + 2 * kHour);
    return h.actions;
  };
  auto a = run("c1");
  auto b = run("c1");
  auto other = run("c2");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0].action_id.size(), 32u);
  EXPECT_NE(a[0].action_id, other[0].action_id);
  EXPECT_EQ(a[0].action_id, JourneyEngine::action_id("c1", Trigger::kCartAbandonment, "cart_abandonment", "#1", 0));
}

TEST(ActionId, ReplayFromStoredStateMakesTheSameDecision) {
  // A crash after deciding but before committing: the stored state is the one before the timer
  // fired, and firing again yields the same action id.
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  CustomerState before = h.state;
  TimerRef ref{h.state.pending[0].id, h.state.pending[0].due};
  h.advance_to(kNoon + 2 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);

  EngineConfig config = trigger_test_config();
  FixedOffsetLocalTime utc;
  JourneyEngine engine(config, utc);
  Outcome out;
  engine.on_timer(before, "c1", ref, kNoon + 2 * kHour, out);
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0], h.actions[0]);
}

TEST(Timers, StaleTimerIsIgnored) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  const TimerRef old{h.state.pending[0].id, h.state.pending[0].due};
  h.event(cart_updated(kNoon + 10 * kMinute, items));  // rescheduled: `old` is stale

  EngineConfig config = trigger_test_config();
  FixedOffsetLocalTime utc;
  JourneyEngine engine(config, utc);
  CustomerState copy = h.state;
  Outcome out;
  engine.on_timer(copy, "c1", old, kNoon + 2 * kHour, out);
  EXPECT_TRUE(out.actions.empty());
  EXPECT_FALSE(out.state_changed);
  EXPECT_TRUE(out.stale_timer);  // reported: the index held a timer the state does not
  EXPECT_EQ(copy, h.state);
  out.clear();
  engine.on_timer(copy, "c1", TimerRef{12345, kNoon}, kNoon + 2 * kHour, out);
  EXPECT_FALSE(out.state_changed);
  EXPECT_TRUE(out.stale_timer);
  out.clear();
  engine.on_timer(copy, "c1", TimerRef{copy.pending[0].id, copy.pending[0].due}, kNoon + 2 * kHour, out);
  EXPECT_FALSE(out.stale_timer);  // the live one fires
}

TEST(Timers, RescheduleCancelsOldRef) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  Outcome out = h.event(cart_updated(kNoon + 10 * kMinute, items));
  ASSERT_EQ(out.cancelled.size(), 1u);
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.cancelled[0].id, out.scheduled[0].id);
  EXPECT_EQ(out.cancelled[0].due, kNoon + kHour);
  EXPECT_EQ(out.scheduled[0].due, kNoon + 70 * kMinute);
}

TEST(Timers, TimerOfRemovedJourneyIsDropped) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  EngineConfig config = trigger_test_config();
  config.journeys.erase(config.journeys.begin());  // no cart journey any more
  FixedOffsetLocalTime utc;
  JourneyEngine engine(config, utc);
  Outcome out;
  engine.on_timer(h.state, "c1", TimerRef{h.state.pending[0].id, h.state.pending[0].due}, kNoon + kDay, out);
  EXPECT_TRUE(out.actions.empty());
  EXPECT_TRUE(h.state.pending.empty());
  EXPECT_TRUE(out.state_changed);
}

TEST(LateEvent, LateEventFlagged) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  Outcome on_time = h.event(cart_updated(kNoon, items));
  EXPECT_FALSE(on_time.late);
  h.advance_to(kNoon + 10 * kMinute);
  Outcome late = h.event(order_placed(kNoon + 5 * kMinute, "o1", items, 19.5));
  EXPECT_TRUE(late.late);
  EXPECT_TRUE(h.index.empty()) << "a late order is still applied";
  EXPECT_EQ(h.state.orders.order_count, 1);
}

// The events reads_state() lets a worker skip (views no journey reacts to) change nothing and
// decide nothing, for a customer in the middle of every journey; every other event may.
TEST(ReadsState, EventsItSkipsChangeNothing) {
  EngineConfig c = default_engine_config();
  c.policies.consent_default_granted = true;
  Harness h(c, "shopper-9");
  auto cart = h.items({line("LIP-01", 2, 19.5, "makeup")});
  h.event(page_viewed(kNoon - kDay, PageType::kSignup));
  h.event(order_placed(kNoon - 20 * kHour, "o1", cart, 39));
  h.event(order_shipped(kNoon - 19 * kHour, "o1", "DHL", kNoon + 3 * kDay));
  h.event(cart_updated(kNoon, cart));
  ASSERT_GE(h.state.pending.size(), 3u) << "signup, cart, replenishment and shipping timers";

  FixedOffsetLocalTime utc;
  JourneyEngine engine(c, utc);
  int skipped = 0;
  for (int t = 0; t < kEventTypeCount; ++t) {
    for (int page = 0; page <= static_cast<int>(PageType::kOther); ++page) {
      Event e = make_event(static_cast<EventType>(t), kNoon + kMinute);
      e.page_type = static_cast<PageType>(page);
      const bool views = e.type == EventType::kProductViewed || e.type == EventType::kCheckoutStarted ||
                         (e.type == EventType::kPageViewed && e.page_type != PageType::kSignup &&
                          e.page_type != PageType::kLoyaltySignup);
      EXPECT_EQ(engine.reads_state(e), !views) << to_string(e.type) << " page " << page;
      if (engine.reads_state(e)) continue;
      ++skipped;
      e.customer_id = "shopper-9";
      CustomerState state = h.state;
      Outcome out;
      engine.on_event(state, e, kNoon, out);
      EXPECT_EQ(state, h.state) << to_string(e.type);
      EXPECT_FALSE(out.state_changed || out.erase_customer || out.late || out.deferred != 0);
      EXPECT_TRUE(out.scheduled.empty() && out.cancelled.empty() && out.actions.empty() && out.held_out.empty() &&
                  out.suppressions.empty());
    }
  }
  EXPECT_EQ(skipped, 2 * 8 + 6);  // product views and checkout starts of any page type, six page types

  // A journey that exits on product views makes them read state: they end its instance.
  journey_of(c, Trigger::kCartAbandonment).exit_on.push_back(EventType::kProductViewed);
  JourneyEngine exiting(c, utc);
  Event view = make_event(EventType::kProductViewed, kNoon + kMinute);
  view.customer_id = "shopper-9";
  ASSERT_TRUE(exiting.reads_state(view));
  CustomerState state = h.state;
  Outcome out;
  exiting.on_event(state, view, kNoon, out);
  EXPECT_TRUE(out.state_changed);
  EXPECT_FALSE(out.cancelled.empty());
}

// A mixed sequence of every event type, applied twice from scratch, yields identical outcomes
// and identical state.
TEST(Determinism, SameEventsSameOutcomes) {
  auto run = [] {
    EngineConfig c = default_engine_config();  // every policy on
    c.policies.consent_default_granted = true;
    journey_of(c, Trigger::kCartAbandonment).holdout_percent = 20;
    journey_of(c, Trigger::kCartAbandonment).variants = {{"a", 1}, {"b", 1}};
    Harness h(c, "shopper-7");
    auto cart1 = h.items({line("LIP-01", 1, 19.5, "makeup")});
    auto cart2 = h.items({line("LIP-01", 2, 19.5, "makeup"), line("CREAM-1", 1, 30, "skincare")});
    h.local_time().set("Europe/Paris", kHour.count());
    h.event(profile_updated(kNoon - kDay, "Europe/Paris"));
    h.event(channel_engaged(kNoon - kDay, Channel::kEmail, EngagementKind::kClicked));
    h.event(page_viewed(kNoon - 20 * kHour, PageType::kLoyaltySignup));
    h.event(cart_updated(kNoon, cart1));
    h.event(cart_updated(kNoon + 30 * kMinute, cart2));
    h.advance_to(kNoon + 3 * kHour);
    h.event(order_placed(kNoon + 26 * kHour, "o1", cart2, 69));
    h.event(cart_updated(kNoon + 27 * kHour, cart1));
    h.event(order_shipped(kNoon + 30 * kHour, "o1", "DHL", kNoon + 3 * kDay));
    h.event(shipment_delayed(kNoon + 2 * kDay + 11 * kHour, "o1", kNoon + 5 * kDay, "weather"));
    h.event(consent_changed(kNoon + 3 * kDay, Channel::kAppPush, false));
    h.event(signup_started(kNoon + 3 * kDay, SignupForm::kNewsletter));
    h.advance_to(kNoon + 120 * kDay);
    return std::make_tuple(h.actions, h.held_out, h.state, h.outcomes.size(), h.deferred);
  };
  auto first = run();
  auto second = run();
  EXPECT_EQ(std::get<0>(first), std::get<0>(second));
  EXPECT_EQ(std::get<1>(first), std::get<1>(second));
  EXPECT_EQ(std::get<2>(first), std::get<2>(second));
  EXPECT_EQ(std::get<3>(first), std::get<3>(second));
  EXPECT_EQ(std::get<4>(first), std::get<4>(second));
  EXPECT_GE(std::get<0>(first).size() + std::get<1>(first).size(), 3u);
}

TEST(DefaultConfig, FourJourneysWithDesignDefaults) {
  EngineConfig c = default_engine_config();
  ASSERT_EQ(c.journeys.size(), 4u);
  auto& cart = journey_of(c, Trigger::kCartAbandonment);
  ASSERT_EQ(cart.steps.size(), 3u);
  EXPECT_EQ(cart.steps[0].delay, kHour);
  EXPECT_EQ(cart.steps[0].channels, (std::vector<Channel>{Channel::kAppPush, Channel::kWebPush}));
  EXPECT_EQ(cart.steps[1].delay, 24 * kHour);
  EXPECT_EQ(cart.steps[2].delay, 72 * kHour);
  auto& signup = journey_of(c, Trigger::kSignupAbandonment);
  EXPECT_EQ(signup.steps[0].delay, 24 * kHour);
  EXPECT_EQ(signup.signup_grace, 60 * kMinute);
  auto& repl = journey_of(c, Trigger::kReplenishment);
  EXPECT_EQ(repl.lead_days, 3);
  EXPECT_EQ(repl.cycle_days_by_category.at("skincare"), 30);
  auto& ship = journey_of(c, Trigger::kShippingDelay);
  EXPECT_TRUE(ship.transactional);
  EXPECT_EQ(ship.incentive.kind, "coupon");
}

TEST(Types, NamesRoundTrip) {
  for (int i = 0; i < kChannelCount; ++i) {
    auto c = static_cast<Channel>(i);
    EXPECT_EQ(parse_channel(to_string(c)), c);
  }
  for (int i = 0; i < kSignupFormCount; ++i) {
    auto f = static_cast<SignupForm>(i);
    EXPECT_EQ(parse_signup_form(to_string(f)), f);
  }
  for (int i = 0; i < kTriggerCount; ++i) {
    auto t = static_cast<Trigger>(i);
    EXPECT_EQ(parse_trigger(to_string(t)), t);
  }
  EXPECT_EQ(parse_channel("pigeon"), std::nullopt);
  EXPECT_EQ(to_string(EventType::kCartUpdated), "CartUpdated");
  EXPECT_EQ(to_string(SuppressionReason::kFrequencyCap), "frequency_cap");
  EXPECT_EQ(to_string(PageType::kLoyaltySignup), "loyalty_signup");
}

}  // namespace
}  // namespace beckon::journey::testing

namespace beckon::journey::testing {
namespace {

TEST(Timers, TimerIdCarriesTrigger) {
  for (int i = 0; i < kTriggerCount; ++i) {
    auto t = static_cast<Trigger>(i);
    EXPECT_EQ(JourneyEngine::trigger_of_timer(JourneyEngine::timer_id("j", t, "k", 7)), t);
  }
  Harness h;
  auto items = h.items({line("CREAM-1", 1, 30, "skincare")});
  h.event(order_placed(kNoon, "o1", items, 30));
  h.event(order_shipped(kNoon, "o1", "DHL", kNoon + kDay));
  ASSERT_EQ(h.state.pending.size(), 2u);
  EXPECT_EQ(JourneyEngine::trigger_of_timer(h.state.pending[0].id), Trigger::kReplenishment);
  EXPECT_EQ(JourneyEngine::trigger_of_timer(h.state.pending[1].id), Trigger::kShippingDelay);
}

// Timer ids are stored in states and timer indexes: they must stay the HashBuilder digest of
// (journey, trigger name, key, instance), also for keys longer than any inline buffer.
TEST(Timers, TimerIdIsTheStableHashOfItsFields) {
  const std::string long_key(500, 'k');
  for (std::string_view key : {std::string_view(), std::string_view("account"), std::string_view("ord-123456789"),
                               std::string_view(long_key)}) {
    for (int i = 0; i < kTriggerCount; ++i) {
      const auto t = static_cast<Trigger>(i);
      const uint64_t hash =
          HashBuilder().add("cart_abandonment").add(to_string(t)).add(key).add(uint64_t{42}).digest64();
      const uint64_t expected = (hash & (~uint64_t{0} >> 2)) | (static_cast<uint64_t>(t) << 62);
      EXPECT_EQ(JourneyEngine::timer_id("cart_abandonment", t, key, 42), expected) << key.size();
    }
  }
}

}  // namespace
}  // namespace beckon::journey::testing
