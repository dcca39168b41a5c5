#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

TEST(ShippingDelay, DeliveryCancelsCheck) {
  Harness h;
  h.event(order_shipped(kNoon, "o1", "DHL", kNoon + 2 * kDay));
  ASSERT_EQ(h.index.size(), 1u);
  h.event(order_delivered(kNoon + 2 * kDay, "o1"));
  EXPECT_TRUE(h.index.empty());
  h.advance_to(kNoon + 10 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(ShippingDelay, CheckFiresAfterGrace) {
  Harness h;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(order_placed(kNoon - kDay, "o1", items, 19.5));
  h.event(order_shipped(kNoon, "o1", "DHL", kNoon + 2 * kDay));
  h.advance_to(kNoon + 3 * kDay - Millis(1));
  EXPECT_TRUE(h.actions.empty());
  h.advance_to(kNoon + 3 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  const Action& a = h.actions[0];
  EXPECT_EQ(a.trigger, Trigger::kShippingDelay);
  EXPECT_EQ(a.order_id, "o1");
  EXPECT_EQ(a.carrier, "DHL");
  EXPECT_EQ(a.promised_delivery, kNoon + 2 * kDay);
  EXPECT_EQ(a.new_eta, EventTime(0));
  EXPECT_EQ(a.reason, "delivery_overdue");
  EXPECT_EQ(a.incentive.kind, "coupon");
  EXPECT_EQ(a.incentive.code, "SORRY10");
  EXPECT_TRUE(a.context.first_time_buyer);
  EXPECT_EQ(a.created, kNoon + 3 * kDay);
  // Delivered afterwards: nothing more to do, no second notice.
  h.event(order_delivered(kNoon + 4 * kDay, "o1"));
  h.event(shipment_delayed(kNoon + 4 * kDay, "o1", kNoon + 5 * kDay, "weather"));
  EXPECT_EQ(h.actions.size(), 1u);
}

TEST(ShippingDelay, DelayedEventActsImmediatelyOnce) {
  Harness h;
  h.event(order_shipped(kNoon, "o1", "UPS", kNoon + 2 * kDay));
  Outcome out = h.event(shipment_delayed(kNoon + kDay, "o1", kNoon + 4 * kDay, "weather"));
  ASSERT_EQ(out.actions.size(), 1u);
  const Action& a = out.actions[0];
  EXPECT_EQ(a.created, kNoon + kDay);
  EXPECT_EQ(a.due, kNoon + kDay);
  EXPECT_EQ(a.new_eta, kNoon + 4 * kDay);
  EXPECT_EQ(a.reason, "weather");
  EXPECT_EQ(a.carrier, "UPS");
  EXPECT_TRUE(h.index.empty()) << "the notice cancelled the overdue check";

  Outcome second = h.event(shipment_delayed(kNoon + 2 * kDay, "o1", kNoon + 6 * kDay, "weather"));
  EXPECT_TRUE(second.actions.empty());
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kAlreadyNotified), 1);
  h.advance_to(kNoon + 10 * kDay);
  EXPECT_EQ(h.actions.size(), 1u);
}

TEST(ShippingDelay, TransactionalBypassesRecentOrderPause) {
  EngineConfig c = trigger_test_config();
  c.policies.after_order_pause = 48 * kHour;
  Harness h(c);
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(order_placed(kNoon, "o1", items, 19.5));
  Outcome out = h.event(shipment_delayed(kNoon + kHour, "o1", kNoon + 4 * kDay, "strike"));
  EXPECT_EQ(out.actions.size(), 1u);
}

TEST(ShippingDelay, ManyShipmentsStayBounded) {
  Harness h;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("order-" + std::to_string(i));
  for (int i = 0; i < 50; ++i) {
    h.event(order_shipped(kNoon + i * kMinute, ids[i], "DHL", kNoon + 10 * kDay));
  }
  EXPECT_EQ(h.state.shipments.size(), CustomerState::kMaxShipments);
  EXPECT_EQ(h.state.pending.size(), CustomerState::kMaxShipments);
}

}  // namespace
}  // namespace beckon::journey::testing
