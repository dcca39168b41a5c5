#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

TEST(SignupAbandonment, CompletionCancelsReminder) {
  Harness h;
  h.event(signup_started(kNoon, SignupForm::kAccount));
  ASSERT_EQ(h.index.size(), 1u);
  h.event(signup_completed(kNoon + 2 * kHour, SignupForm::kAccount));
  EXPECT_TRUE(h.index.empty());
  h.advance_to(kNoon + 5 * kDay);
  EXPECT_TRUE(h.actions.empty());
}

TEST(SignupAbandonment, CompletionOfAnotherFormDoesNotCancel) {
  Harness h;
  h.event(signup_started(kNoon, SignupForm::kAccount));
  h.event(signup_completed(kNoon + kHour, SignupForm::kNewsletter));
  h.advance_to(kNoon + 2 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].form, SignupForm::kAccount);
}

TEST(SignupAbandonment, OneReminderAfterDelay) {
  Harness h;
  h.event(signup_started(kNoon, SignupForm::kAccount));
  h.event(signup_started(kNoon + kHour, SignupForm::kAccount));  // same instance: no restart
  h.advance_to(kNoon + 24 * kHour - Millis(1));
  EXPECT_TRUE(h.actions.empty());
  h.advance_to(kNoon + 10 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].due, kNoon + 24 * kHour);
  EXPECT_EQ(h.actions[0].trigger, Trigger::kSignupAbandonment);
  EXPECT_EQ(h.actions[0].channel, Channel::kEmail);
}

TEST(SignupAbandonment, GraceAndDelay) {
  // A delay shorter than the grace period waits for the grace period.
  EngineConfig c = trigger_test_config();
  auto& j = journey_of(c, Trigger::kSignupAbandonment);
  j.steps[0].delay = 10 * kMinute;
  j.signup_grace = 60 * kMinute;
  Harness h(c);
  h.event(signup_started(kNoon, SignupForm::kLoyalty));
  h.advance_to(kNoon + 59 * kMinute);
  EXPECT_TRUE(h.actions.empty()) << "nothing during the grace period";
  h.advance_to(kNoon + 60 * kMinute);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].due, kNoon + 60 * kMinute);

  // A delay longer than the grace period is used as is.
  EngineConfig c2 = trigger_test_config();
  journey_of(c2, Trigger::kSignupAbandonment).steps[0].delay = 3 * kHour;
  Harness h2(c2);
  h2.event(signup_started(kNoon, SignupForm::kLoyalty));
  h2.advance_to(kNoon + 10 * kDay);
  ASSERT_EQ(h2.actions.size(), 1u);
  EXPECT_EQ(h2.actions[0].due, kNoon + 3 * kHour);
}

TEST(SignupAbandonment, PageViewStartsLoyaltySignup) {
  Harness h;
  h.event(page_viewed(kNoon, PageType::kLoyaltySignup));
  h.advance_to(kNoon + 2 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].form, SignupForm::kLoyalty);

  Harness off([] {
    EngineConfig c = trigger_test_config();
    journey_of(c, Trigger::kSignupAbandonment).signup_from_page_views = false;
    return c;
  }());
  off.event(page_viewed(kNoon, PageType::kLoyaltySignup));
  off.event(page_viewed(kNoon, PageType::kProduct));
  EXPECT_TRUE(off.index.empty());
}

TEST(SignupAbandonment, SignupPageViewStartsAccountForm) {
  Harness h;
  h.event(page_viewed(kNoon, PageType::kSignup));
  h.event(page_viewed(kNoon, PageType::kCart));
  h.advance_to(kNoon + 2 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.actions[0].form, SignupForm::kAccount);
}

TEST(SignupAbandonment, CompletedFormNeverStartsAgain) {
  Harness h;
  h.event(signup_completed(kNoon, SignupForm::kAccount));
  h.event(signup_started(kNoon + kHour, SignupForm::kAccount));
  EXPECT_TRUE(h.index.empty());
}

TEST(SignupAbandonment, ReentryCooldown) {
  Harness h;  // default: one instance per form per 7 days
  h.event(signup_started(kNoon, SignupForm::kAccount));
  h.advance_to(kNoon + 2 * kDay);
  ASSERT_EQ(h.actions.size(), 1u);
  h.event(signup_started(kNoon + 3 * kDay, SignupForm::kAccount));
  EXPECT_TRUE(h.index.empty()) << "inside the cooldown";
  h.event(signup_started(kNoon + 8 * kDay, SignupForm::kAccount));
  EXPECT_EQ(h.index.size(), 1u);
  h.advance_to(kNoon + 10 * kDay);
  ASSERT_EQ(h.actions.size(), 2u);
  EXPECT_NE(h.actions[0].action_id, h.actions[1].action_id);
}

}  // namespace
}  // namespace beckon::journey::testing
