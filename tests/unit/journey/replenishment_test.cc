#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

TEST(Replenishment, ReorderReplacesReminder) {
  Harness h;
  auto items = h.items({line("CREAM-1", 1, 30, "skincare")});
  h.event(order_placed(kNoon, "o1", items, 30));
  ASSERT_EQ(h.index.size(), 1u);
  EXPECT_EQ(EventTime(h.index.begin()->first), kNoon + 27 * kDay);
  h.event(order_placed(kNoon + 10 * kDay, "o2", items, 30));
  ASSERT_EQ(h.index.size(), 1u) << "the old reminder was cancelled";
  EXPECT_EQ(EventTime(h.index.begin()->first), kNoon + 37 * kDay);
  h.advance_to(kNoon + 60 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  const Action& a = h.actions[0];
  EXPECT_EQ(a.trigger, Trigger::kReplenishment);
  EXPECT_EQ(a.sku, "CREAM-1");
  EXPECT_EQ(a.category, "skincare");
  EXPECT_EQ(a.order_id, "o2");
  EXPECT_EQ(a.last_order, kNoon + 10 * kDay);
  EXPECT_EQ(a.quantity, 1);
  EXPECT_EQ(a.due, kNoon + 37 * kDay);
}

TEST(Replenishment, CycleFromEventSkuCategoryDefault) {
  EngineConfig c = trigger_test_config();
  auto& j = journey_of(c, Trigger::kReplenishment);
  j.cycle_days_by_sku = {{"SKU-TABLE", 20}};
  j.cycle_days_by_category = {{"makeup", 60}};
  j.default_cycle_days.reset();
  Harness h(c);
  auto items = h.items({
      line("SKU-EVENT", 1, 10, "makeup", 15),  // event wins over SKU and category
      line("SKU-TABLE", 1, 10, "makeup"),      // SKU table wins over category
      line("SKU-CAT", 1, 10, "makeup"),        // category
      line("SKU-NONE", 1, 10, "misc"),         // no cycle, no default: no reminder
  });
  h.event(order_placed(kNoon, "o1", items, 40));
  auto due_of = [&](std::string_view sku) {
    for (const auto& p : h.state.pending) {
      if (p.key == sku) return p.due;
    }
    return EventTime(-1);
  };
  EXPECT_EQ(due_of("SKU-EVENT"), kNoon + 12 * kDay);
  EXPECT_EQ(due_of("SKU-TABLE"), kNoon + 17 * kDay);
  EXPECT_EQ(due_of("SKU-CAT"), kNoon + 57 * kDay);
  EXPECT_EQ(due_of("SKU-NONE"), EventTime(-1));
  EXPECT_EQ(h.index.size(), 3u);

  EngineConfig d = c;
  journey_of(d, Trigger::kReplenishment).default_cycle_days = 10;
  Harness h2(d);
  auto misc = h2.items({line("SKU-NONE", 1, 10, "misc")});
  h2.event(order_placed(kNoon, "o1", misc, 10));
  ASSERT_EQ(h2.state.pending.size(), 1u);
  EXPECT_EQ(h2.state.pending[0].due, kNoon + 7 * kDay);
}

TEST(Replenishment, QuantityMultipliesCycle) {
  Harness h;
  auto items = h.items({line("CREAM-1", 3, 30, "skincare")});
  h.event(order_placed(kNoon, "o1", items, 90));
  ASSERT_EQ(h.state.pending.size(), 1u);
  EXPECT_EQ(h.state.pending[0].due, kNoon + (90 - 3) * kDay);
}

TEST(Replenishment, NeverBeforeTheOrder) {
  EngineConfig c = trigger_test_config();
  journey_of(c, Trigger::kReplenishment).lead_days = 10;
  Harness h(c);
  auto items = h.items({line("SAMPLE", 1, 1, "", 2)});
  h.event(order_placed(kNoon, "o1", items, 1));
  ASSERT_EQ(h.state.pending.size(), 1u);
  EXPECT_EQ(h.state.pending[0].due, kNoon);
}

TEST(Replenishment, OlderOrderArrivingLateDoesNotReplaceNewer) {
  Harness h;
  auto items = h.items({line("CREAM-1", 1, 30, "skincare")});
  h.event(order_placed(kNoon + kDay, "o2", items, 30));
  h.event(order_placed(kNoon, "o1", items, 30));
  ASSERT_EQ(h.state.pending.size(), 1u);
  EXPECT_EQ(h.state.pending[0].due, kNoon + 28 * kDay);
  EXPECT_EQ(h.state.replenishment[0].last_order_id, "o2");
}

}  // namespace
}  // namespace beckon::journey::testing

namespace beckon::journey::testing {
namespace {

TEST(Replenishment, DayLengthScalesCycleForDemos) {
  EngineConfig c = trigger_test_config();
  journey_of(c, Trigger::kReplenishment).day_length = Millis(1000);
  Harness h(c);
  auto items = h.items({line("CREAM-1", 2, 30, "skincare")});
  h.event(order_placed(kNoon, "o1", items, 60));
  ASSERT_EQ(h.state.pending.size(), 1u);
  EXPECT_EQ(h.state.pending[0].due, kNoon + Millis((60 - 3) * 1000));
}

}  // namespace
}  // namespace beckon::journey::testing
