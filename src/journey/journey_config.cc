#include "journey/journey_config.h"

namespace beckon::journey {
namespace {

constexpr Millis kMinute{60 * 1000};
constexpr Millis kHour{60 * kMinute};
constexpr Millis kDay{24 * kHour};

StepConfig step(Millis delay, std::vector<Channel> channels, std::string template_id, bool most_engaged = false) {
  StepConfig s;
  s.delay = delay;
  s.channels = std::move(channels);
  s.most_engaged = most_engaged;
  s.template_id = std::move(template_id);
  return s;
}

}  // namespace

EngineConfig default_engine_config() {
  EngineConfig config;

  // Cart abandonment: 1 h push, 24 h email, 72 h email; each cart update restarts the countdown.
  JourneyConfig cart;
  cart.name = "cart_abandonment";
  cart.trigger = Trigger::kCartAbandonment;
  cart.steps.push_back(step(kHour, {Channel::kAppPush, Channel::kWebPush}, "cart_reminder_push"));
  cart.steps.push_back(step(24 * kHour, {Channel::kEmail}, "cart_reminder_email_1"));
  cart.steps.push_back(step(72 * kHour, {Channel::kEmail}, "cart_reminder_email_2"));
  cart.expires_after = 24 * kHour;
  config.journeys.push_back(std::move(cart));

  // Signup abandonment: one reminder 24 h after the start (never within the 60 min grace).
  // A new instance for the same form at most once a week.
  JourneyConfig signup;
  signup.name = "signup_abandonment";
  signup.trigger = Trigger::kSignupAbandonment;
  signup.steps.push_back(step(24 * kHour, {Channel::kEmail, Channel::kAppPush}, "signup_benefits"));
  signup.signup_grace = 60 * kMinute;
  signup.reentry = ReentryRule::kCooldown;
  signup.reentry_cooldown = 7 * kDay;
  config.journeys.push_back(std::move(signup));

  // Replenishment: cycle from the event, else by SKU, else by category; reminder 3 days early.
  JourneyConfig replenish;
  replenish.name = "replenishment";
  replenish.trigger = Trigger::kReplenishment;
  replenish.steps.push_back(step(Millis(0), {Channel::kEmail, Channel::kAppPush, Channel::kSms}, "replenish_reminder"));
  replenish.lead_days = 3;
  replenish.cycle_days_by_category = {{"skincare", 30}, {"makeup", 60}, {"fragrance", 90}, {"haircare", 45}};
  replenish.expires_after = 7 * kDay;
  config.journeys.push_back(std::move(replenish));

  // Shipping delay: transactional (no caps, no after-order pause), apology coupon.
  JourneyConfig shipping;
  shipping.name = "shipping_delay";
  shipping.trigger = Trigger::kShippingDelay;
  shipping.transactional = true;
  shipping.steps.push_back(step(Millis(0), {Channel::kEmail, Channel::kSms, Channel::kAppPush}, "shipping_apology"));
  shipping.shipping_grace = 24 * kHour;
  shipping.incentive = Incentive{"coupon", "SORRY10", 10};
  shipping.expires_after = 24 * kHour;
  config.journeys.push_back(std::move(shipping));

  return config;
}

}  // namespace beckon::journey
