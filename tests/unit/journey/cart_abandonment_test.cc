#include <set>

#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

TEST(CartAbandonment, OrderCancelsReminder) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  ASSERT_EQ(h.index.size(), 1u);
  h.event(order_placed(kNoon + 30 * kMinute, "o1", items, 19.5));
  EXPECT_TRUE(h.index.empty());
  h.advance_to(kNoon + 10 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(CartAbandonment, OrderInBacklogStillEndsInstanceWhenLate) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  // The frontier has moved on without firing (the timer is not due yet), the order arrives late.
  h.frontier = kNoon + 50 * kMinute;
  Outcome out = h.event(order_placed(kNoon + 20 * kMinute, "o1", items, 19.5));
  EXPECT_TRUE(out.late);
  EXPECT_TRUE(h.index.empty());
  h.advance_to(kNoon + 5 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(CartAbandonment, CartUpdateRestartsCountdown) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  auto more = h.items({line("LIP-01", 2, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.event(cart_updated(kNoon + 50 * kMinute, more));
  h.advance_to(kNoon + 80 * kMinute);
  EXPECT_TRUE(h.actions.empty()) << "the update at 50 min restarted the 1 h countdown";
  h.advance_to(kNoon + 110 * kMinute);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].due, kNoon + 110 * kMinute);
  EXPECT_EQ(h.actions[0].created, kNoon + 110 * kMinute);
  EXPECT_EQ(h.actions[0].cart_value, 39.0);
  ASSERT_EQ(h.actions[0].items.size(), 1u);
  EXPECT_EQ(h.actions[0].items[0].quantity, 2);
}

TEST(CartAbandonment, EmptiedCartEndsInstance) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.event(cart_updated(kNoon + 10 * kMinute, {}));
  EXPECT_TRUE(h.index.empty());
  EXPECT_FALSE(h.state.cart.active);
  h.advance_to(kNoon + 5 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(CartAbandonment, MultiStepSchedule) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.advance_to(kNoon + 10 * kDay);
  ASSERT_EQ(h.actions.size(), 3u);
  EXPECT_EQ(h.actions[0].step, 0);
  EXPECT_EQ(h.actions[0].channel, Channel::kAppPush);
  EXPECT_EQ(h.actions[0].due, kNoon + kHour);
  EXPECT_EQ(h.actions[1].step, 1);
  EXPECT_EQ(h.actions[1].channel, Channel::kEmail);
  EXPECT_EQ(h.actions[1].due, kNoon + 24 * kHour);
  EXPECT_EQ(h.actions[2].step, 2);
  EXPECT_EQ(h.actions[2].due, kNoon + 72 * kHour);
  std::set<std::string> ids;
  for (const auto& a : h.actions) {
    ids.insert(a.action_id);
    EXPECT_EQ(a.trigger, Trigger::kCartAbandonment);
    EXPECT_EQ(a.journey, "cart_abandonment");
    EXPECT_EQ(a.customer_id, "c1");
    EXPECT_EQ(a.expires, a.due + 24 * kHour);
    EXPECT_FALSE(a.template_id.empty());
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_TRUE(h.index.empty()) << "no step after the last";
  EXPECT_TRUE(h.state.progress[0].active) << "exhausted, but only an order or empty cart ends it";
}

TEST(CartAbandonment, UpdateAfterAStepSchedulesTheNextStepFromTheUpdate) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.advance_to(kNoon + 2 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  h.event(cart_updated(kNoon + 3 * kHour, items));
  h.advance_to(kNoon + 3 * kHour + 24 * kHour - Millis(1));
  EXPECT_EQ(h.actions.size(), 1u);
  h.advance_to(kNoon + 3 * kHour + 24 * kHour);
  ASSERT_EQ(h.actions.size(), 2u);
  EXPECT_EQ(h.actions[1].step, 1);
}

TEST(CartAbandonment, NewCartAfterOrderIsNewInstance) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.advance_to(kNoon + 2 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  h.event(order_placed(kNoon + 3 * kHour, "o1", items, 19.5));
  h.event(cart_updated(kNoon + 4 * kHour, items));
  h.advance_to(kNoon + 5 * kHour);
  ASSERT_EQ(h.actions.size(), 2u);
  EXPECT_EQ(h.actions[1].step, 0) << "a new instance starts again at step 0";
  EXPECT_NE(h.actions[1].action_id, h.actions[0].action_id);
  EXPECT_EQ(h.state.cart.instance, 2u);
}

TEST(CartAbandonment, ReentryOnceAllowsOneInstanceEver) {
  EngineConfig c = trigger_test_config();
  journey_of(c, Trigger::kCartAbandonment).reentry = ReentryRule::kOnce;
  Harness h(c);
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.event(cart_updated(kNoon + kMinute, {}));
  h.event(cart_updated(kNoon + 2 * kMinute, items));
  EXPECT_TRUE(h.index.empty());
}

TEST(CartAbandonment, MinimumCartValue) {
  EngineConfig c = trigger_test_config();
  journey_of(c, Trigger::kCartAbandonment).min_cart_value = 50;
  Harness h(c);
  auto small = h.items({line("LIP-01", 1, 19.5)});
  auto big = h.items({line("LIP-01", 3, 19.5)});
  h.event(cart_updated(kNoon, small));
  EXPECT_TRUE(h.index.empty());
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kBelowMinimumValue), 1);
  h.event(cart_updated(kNoon + kMinute, big));
  EXPECT_EQ(h.index.size(), 1u);
  h.event(cart_updated(kNoon + 2 * kMinute, small));
  EXPECT_TRUE(h.index.empty()) << "a cart that drops below the minimum ends the instance";
  h.advance_to(kNoon + 5 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(CartAbandonment, OlderCartSnapshotDoesNotRevertCart) {
  Harness h;
  auto one = h.items({line("LIP-01", 1, 19.5)});
  auto two = h.items({line("LIP-01", 2, 19.5)});
  h.event(cart_updated(kNoon + kMinute, two));
  Outcome out = h.event(cart_updated(kNoon, one));
  EXPECT_TRUE(out.late);
  EXPECT_EQ(h.state.cart.value, 39.0);
}

TEST(CartAbandonment, EachUpdateReplacesTheWholeCart) {
  Harness h;
  auto three = h.items({line("LIP-01", 1, 10, "makeup"), line("CREAM-2", 2, 20, "skincare"), line("OIL-3", 1, 5)});
  auto changed = h.items({line("LIP-01", 1, 10, "makeup"), line("SERUM-9", 3, 7, "skincare")});
  auto grown = h.items({line("A", 1, 1), line("B", 0, 2), line("C", 2, 3, "bath"), line("D", 1, 4)});
  h.event(cart_updated(kNoon, three));
  ASSERT_EQ(h.state.cart.items.size(), 3u);
  h.event(cart_updated(kNoon + kMinute, changed, "USD"));
  const std::vector<CartLine> want_changed{{"LIP-01", 1, 10, "makeup"}, {"SERUM-9", 3, 7, "skincare"}};
  EXPECT_EQ(h.state.cart.items, want_changed);
  EXPECT_EQ(h.state.cart.value, 31.0);
  EXPECT_EQ(h.state.cart.currency, "USD");
  h.event(cart_updated(kNoon + 2 * kMinute, grown));
  const std::vector<CartLine> want_grown{{"A", 1, 1, ""}, {"C", 2, 3, "bath"}, {"D", 1, 4, ""}};
  EXPECT_EQ(h.state.cart.items, want_grown) << "lines with no quantity are dropped";
  h.advance_to(kNoon + 2 * kMinute + kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].items, want_grown);
  EXPECT_EQ(h.actions[0].currency, "EUR");
}

TEST(CartAbandonment, SuppressedStepEmitsNothingAndMovesOn) {
  Harness h;
  h.state.profile.push_token_known = false;  // step 1 is push only: no address
  auto items = h.items({line("LIP-01", 1, 19.5)});
  Outcome first = h.event(cart_updated(kNoon, items));
  EXPECT_TRUE(first.actions.empty());
  h.advance_to(kNoon + kHour);
  EXPECT_TRUE(h.actions.empty());
  ASSERT_EQ(h.state.progress.size(), 1u);
  EXPECT_EQ(h.state.progress[0].next_step, 1) << "a suppressed step counts as decided";
  h.advance_to(kNoon + kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].step, 1);
  EXPECT_EQ(h.actions[0].channel, Channel::kEmail);
  ASSERT_EQ(h.actions[0].items.size(), 1u);
}

}  // namespace
}  // namespace beckon::journey::testing
