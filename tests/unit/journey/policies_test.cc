#include <map>

#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

TEST(Policies, NoConsentSuppresses) {
  EngineConfig c = trigger_test_config();
  c.policies.consent_default_granted = false;
  Harness h(c);
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(consent_changed(kNoon - kHour, Channel::kEmail, true));
  h.event(cart_updated(kNoon, items));
  h.advance_to(kNoon + 2 * kHour);
  EXPECT_TRUE(h.actions.empty()) << "push has no consent";
  ASSERT_EQ(h.suppressions.size(), 1u);
  EXPECT_EQ(h.suppressions[0].reason, SuppressionReason::kNoConsent);
  EXPECT_EQ(h.suppressions[0].trigger, Trigger::kCartAbandonment);
  EXPECT_EQ(h.suppressions[0].journey, "cart_abandonment");
  EXPECT_EQ(h.suppressions[0].step, 0);
  h.advance_to(kNoon + 25 * kHour);
  ASSERT_EQ(h.actions.size(), 1u) << "the suppressed step does not stop the journey";
  EXPECT_EQ(h.actions[0].channel, Channel::kEmail);

  h.event(consent_changed(kNoon + 30 * kHour, Channel::kEmail, false));
  h.advance_to(kNoon + 4 * kDay);
  EXPECT_EQ(h.actions.size(), 1u) << "consent withdrawn";
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kNoConsent), 2);
}

TEST(Policies, NoAddressSuppresses) {
  Harness h;
  h.state.profile.push_token_known = false;
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.advance_to(kNoon + 2 * kHour);
  EXPECT_TRUE(h.actions.empty());
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kNoAddress), 1);
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kNoConsent), 0);
}

TEST(Policies, FirstChannelWithConsentAndAddressWins) {
  Harness h;
  h.event(consent_changed(kNoon - kHour, Channel::kAppPush, false));
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(cart_updated(kNoon, items));
  h.advance_to(kNoon + 2 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].channel, Channel::kWebPush);
}

TEST(Policies, MostEngagedChannel) {
  EngineConfig c = trigger_test_config();
  auto& step = journey_of(c, Trigger::kShippingDelay).steps[0];
  step.channels = {Channel::kEmail, Channel::kSms, Channel::kAppPush};
  step.most_engaged = true;

  Harness plain(c);
  Outcome out = plain.event(shipment_delayed(kNoon, "o1", kNoon + kDay, "x"));
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].channel, Channel::kEmail) << "no history: the step's order";

  Harness h(c);
  h.event(channel_engaged(kNoon - 3 * kHour, Channel::kEmail, EngagementKind::kOpened));
  h.event(channel_engaged(kNoon - 3 * kHour, Channel::kSms, EngagementKind::kClicked));
  h.event(channel_engaged(kNoon - 2 * kHour, Channel::kSms, EngagementKind::kClicked));
  h.event(channel_engaged(kNoon - 2 * kHour, Channel::kWhatsapp, EngagementKind::kClicked));  // not in the step
  out = h.event(shipment_delayed(kNoon, "o1", kNoon + kDay, "x"));
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].channel, Channel::kSms);

  // The most engaged channel without consent is skipped.
  h.event(consent_changed(kNoon + kHour, Channel::kSms, false));
  out = h.event(shipment_delayed(kNoon + 2 * kHour, "o2", kNoon + kDay, "x"));
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].channel, Channel::kEmail);
}

TEST(Policies, FrequencyCap) {
  EngineConfig c = trigger_test_config();
  c.policies.frequency_caps = {{24 * kHour, 1}};
  Harness h(c);
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(signup_started(kNoon - 22 * kHour, SignupForm::kAccount));  // reminder at noon + 2 h
  h.event(cart_updated(kNoon, items));                                // reminder at noon + 1 h
  h.advance_to(kNoon + 2 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].trigger, Trigger::kCartAbandonment);
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kFrequencyCap), 1);
  EXPECT_EQ(h.suppressions.back().trigger, Trigger::kSignupAbandonment);

  // Transactional journeys bypass the cap and do not count towards it.
  h.event(shipment_delayed(kNoon + 3 * kHour, "o1", kNoon + kDay, "x"));
  h.event(shipment_delayed(kNoon + 4 * kHour, "o2", kNoon + kDay, "x"));
  EXPECT_EQ(h.actions.size(), 3u);
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kFrequencyCap), 1);

  // The cart's 24 h step falls in the same window as its 1 h step; the 72 h step does not.
  h.advance_to(kNoon + 4 * kDay);
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kFrequencyCap), 2);
  ASSERT_EQ(h.actions.size(), 4u);
  EXPECT_EQ(h.actions[3].step, 2);
}

TEST(Policies, QuietHoursDefersNotDrops) {
  EngineConfig c = trigger_test_config();
  c.policies.quiet_hours_enabled = true;  // 21:00-08:00 local
  Harness h(c);
  h.local_time().set("Test/Plus2", 2 * kHour.count());
  h.event(profile_updated(kNoon, "Test/Plus2"));
  auto items = h.items({line("LIP-01", 1, 19.5)});
  const EventTime cart_at = kNoon + 7 * kHour + 30 * kMinute;  // 19:30 UTC
  h.event(cart_updated(cart_at, items));                        // step 0 due 20:30 UTC = 22:30 local
  const EventTime due = cart_at + kHour;
  h.advance_to(due);
  EXPECT_TRUE(h.actions.empty());
  EXPECT_EQ(h.deferred, 1);
  const EventTime morning = kNoon + 18 * kHour;  // 06:00 UTC = 08:00 local next day
  h.advance_to(morning - Millis(1));
  EXPECT_TRUE(h.actions.empty());
  h.advance_to(morning);
  ASSERT_EQ(h.actions.size(), 1u);
  const Action& a = h.actions[0];
  EXPECT_EQ(a.created, morning);
  EXPECT_EQ(a.due, due);
  EXPECT_EQ(a.expires, due + 24 * kHour);
  EXPECT_EQ(a.context.timezone, "Test/Plus2");
  EXPECT_EQ(a.action_id, JourneyEngine::action_id("c1", Trigger::kCartAbandonment, "cart_abandonment", "#1", 0));
  EXPECT_EQ(h.suppressions.size(), 0u);
}

TEST(Policies, QuietHoursUseRealTimezoneDatabase) {
  EngineConfig c = trigger_test_config();
  c.policies.quiet_hours_enabled = true;
  auto tzdb = make_tzdb_local_time("UTC");
  Harness h(c, "c1", tzdb.get());
  h.event(profile_updated(kNoon, "America/New_York"));  // EST, UTC-5, in November
  auto items = h.items({line("LIP-01", 1, 19.5)});
  // Cart at 01:00 UTC = 20:00 EST; step 0 due 21:00 EST: quiet until 08:00 EST = 13:00 UTC.
  const EventTime cart_at = kNoon + 13 * kHour;
  h.event(cart_updated(cart_at, items));
  h.advance_to(kNoon + 25 * kHour - Millis(1));
  EXPECT_TRUE(h.actions.empty());
  EXPECT_EQ(h.deferred, 1);
  h.advance_to(kNoon + 25 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].created, kNoon + 25 * kHour);
  EXPECT_EQ(h.actions[0].due, cart_at + kHour);
}

TEST(Policies, TzdbLocalTimeOffsetsAndFallback) {
  auto tz = make_tzdb_local_time("Europe/Berlin");
  EXPECT_EQ(tz->utc_offset_ms("America/New_York", kNoon), -5 * kHour.count());
  EXPECT_EQ(tz->utc_offset_ms("America/New_York", kNoon - 150 * kDay), -4 * kHour.count());  // summer
  EXPECT_EQ(tz->utc_offset_ms("UTC", kNoon), 0);
  EXPECT_EQ(tz->utc_offset_ms("Not/AZone", kNoon), kHour.count()) << "falls back to Europe/Berlin (CET)";
  EXPECT_EQ(tz->utc_offset_ms("Not/AZone", kNoon), kHour.count()) << "cached";
  auto utc = make_tzdb_local_time("Also/Unknown");
  EXPECT_EQ(utc->utc_offset_ms("Nope", kNoon), 0);
}

TEST(Policies, QuietHoursWindowWithinADay) {
  EngineConfig c = trigger_test_config();
  c.policies.quiet_hours_enabled = true;
  c.policies.quiet_start_hour = 12;
  c.policies.quiet_end_hour = 14;
  Harness h(c);
  Outcome out = h.event(shipment_delayed(kNoon + 30 * kMinute, "o1", kNoon + kDay, "x"));
  EXPECT_TRUE(out.actions.empty());
  EXPECT_EQ(out.deferred, 1);
  h.advance_to(kNoon + 2 * kHour);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].created, kNoon + 2 * kHour);
  EXPECT_EQ(h.actions[0].due, kNoon + 30 * kMinute);
}

TEST(Policies, DeferralPastExpiryExpires) {
  EngineConfig c = trigger_test_config();
  c.policies.quiet_hours_enabled = true;
  journey_of(c, Trigger::kShippingDelay).expires_after = kHour;
  Harness h(c);
  h.event(shipment_delayed(kNoon + 10 * kHour, "o1", kNoon + 2 * kDay, "x"));  // 22:00 UTC
  h.advance_to(kNoon + 2 * kDay);
  EXPECT_TRUE(h.actions.empty());
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kExpired), 1);
}

TEST(Policies, RecentOrderPause) {
  EngineConfig c = trigger_test_config();
  c.policies.after_order_pause = 12 * kHour;
  Harness h(c);
  auto items = h.items({line("LIP-01", 1, 19.5)});
  h.event(order_placed(kNoon, "o1", items, 19.5));
  h.event(cart_updated(kNoon + 10 * kMinute, items));
  h.advance_to(kNoon + 2 * kHour);
  EXPECT_TRUE(h.actions.empty());
  EXPECT_EQ(h.count_suppressions(SuppressionReason::kRecentOrder), 1);
  h.advance_to(kNoon + 2 * kDay);
  ASSERT_EQ(h.actions.size(), 1u) << "the 24 h step is outside the pause";
  EXPECT_EQ(h.actions[0].step, 1);
}

TEST(Policies, HoldoutDeterministicAndRecorded) {
  EngineConfig c = trigger_test_config();
  journey_of(c, Trigger::kCartAbandonment).holdout_percent = 50;
  int held = 0;
  int sent = 0;
  for (int i = 0; i < 200; ++i) {
    std::string customer = "cust-" + std::to_string(i);
    Harness h(c, customer);
    auto items = h.items({line("LIP-01", 1, 19.5)});
    h.event(cart_updated(kNoon, items));
    h.advance_to(kNoon + 2 * kHour);
    const bool in_holdout = JourneyEngine::holdout_bucket(customer, "cart_abandonment") < 5000;
    if (in_holdout) {
      ++held;
      EXPECT_TRUE(h.actions.empty());
      ASSERT_EQ(h.held_out.size(), 1u);
      EXPECT_EQ(h.held_out[0].step, 0);
      EXPECT_EQ(h.count_suppressions(SuppressionReason::kHoldout), 1);
    } else {
      ++sent;
      EXPECT_EQ(h.actions.size(), 1u);
      EXPECT_TRUE(h.held_out.empty());
    }
    EXPECT_EQ(h.index.size(), 1u) << "the journey progresses as if sent";
    EXPECT_EQ(h.state.progress[0].next_step, 1);

    Harness again(c, customer);
    auto items2 = again.items({line("LIP-01", 1, 19.5)});
    again.event(cart_updated(kNoon, items2));
    again.advance_to(kNoon + 2 * kHour);
    EXPECT_EQ(again.held_out, h.held_out);
    EXPECT_EQ(again.actions, h.actions);
  }
  EXPECT_GT(held, 60);
  EXPECT_GT(sent, 60);

  // 100% holds out everyone; other journeys are unaffected.
  journey_of(c, Trigger::kCartAbandonment).holdout_percent = 100;
  Harness all(c);
  auto items = all.items({line("LIP-01", 1, 19.5)});
  all.event(cart_updated(kNoon, items));
  all.event(shipment_delayed(kNoon, "o1", kNoon + kDay, "x"));
  all.advance_to(kNoon + 2 * kHour);
  EXPECT_EQ(all.held_out.size(), 1u);
  ASSERT_EQ(all.actions.size(), 1u);
  EXPECT_EQ(all.actions[0].trigger, Trigger::kShippingDelay);
}

TEST(Policies, VariantsDeterministic) {
  EngineConfig c = trigger_test_config();
  auto& j = journey_of(c, Trigger::kShippingDelay);
  j.variants = {{"apology_a", 1}, {"apology_b", 3}};
  std::map<std::string, int> counts;
  for (int i = 0; i < 400; ++i) {
    std::string customer = "cust-" + std::to_string(i);
    Harness h(c, customer);
    Outcome out = h.event(shipment_delayed(kNoon, "o1", kNoon + kDay, "x"));
    ASSERT_EQ(out.actions.size(), 1u);
    const std::string& v = out.actions[0].variant;
    EXPECT_EQ(v, JourneyEngine::variant_for(customer, j));
    EXPECT_EQ(v, JourneyEngine::variant_for(customer, j));
    ++counts[v];
  }
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_GT(counts["apology_b"], counts["apology_a"]);
  EXPECT_GT(counts["apology_a"], 50);

  Harness none;
  Outcome out = none.event(shipment_delayed(kNoon, "o1", kNoon + kDay, "x"));
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].variant, "");
}

TEST(Policies, ContextFromOrderHistory) {
  Harness h;
  auto items = h.items({line("BAG-1", 1, 300)});
  h.event(order_placed(kNoon - 3 * kDay, "o1", items, 300));
  h.event(order_placed(kNoon - 2 * kDay, "o2", items, 900));
  h.state.profile.locale = "de-DE";
  Outcome out = h.event(shipment_delayed(kNoon, "o2", kNoon + kDay, "x"));
  ASSERT_EQ(out.actions.size(), 1u);
  const auto& ctx = out.actions[0].context;
  EXPECT_FALSE(ctx.first_time_buyer);
  EXPECT_EQ(ctx.order_count, 2);
  EXPECT_EQ(ctx.lifetime_value, 1200);
  EXPECT_EQ(ctx.loyalty_tier, "gold");
  EXPECT_EQ(ctx.locale, "de-DE");
  EXPECT_EQ(ctx.timezone, "UTC");
}

}  // namespace
}  // namespace beckon::journey::testing
