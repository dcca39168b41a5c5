#include "journey/types.h"

namespace beckon::journey {

std::string_view to_string(PageType v) {
  switch (v) {
    case PageType::kHome: return "home";
    case PageType::kCategory: return "category";
    case PageType::kProduct: return "product";
    case PageType::kCart: return "cart";
    case PageType::kCheckout: return "checkout";
    case PageType::kSignup: return "signup";
    case PageType::kLoyaltySignup: return "loyalty_signup";
    case PageType::kOther: return "other";
  }
  return "unknown";
}

std::string_view to_string(SignupForm v) {
  switch (v) {
    case SignupForm::kAccount: return "account";
    case SignupForm::kLoyalty: return "loyalty";
    case SignupForm::kNewsletter: return "newsletter";
  }
  return "unknown";
}

std::string_view to_string(Channel v) {
  switch (v) {
    case Channel::kEmail: return "email";
    case Channel::kSms: return "sms";
    case Channel::kAppPush: return "app_push";
    case Channel::kWebPush: return "web_push";
    case Channel::kWhatsapp: return "whatsapp";
    case Channel::kAdsAudience: return "ads_audience";
  }
  return "unknown";
}

std::string_view to_string(EngagementKind v) {
  switch (v) {
    case EngagementKind::kDelivered: return "delivered";
    case EngagementKind::kOpened: return "opened";
    case EngagementKind::kClicked: return "clicked";
  }
  return "unknown";
}

std::string_view to_string(Trigger v) {
  switch (v) {
    case Trigger::kCartAbandonment: return "cart_abandonment";
    case Trigger::kSignupAbandonment: return "signup_abandonment";
    case Trigger::kReplenishment: return "replenishment";
    case Trigger::kShippingDelay: return "shipping_delay";
  }
  return "unknown";
}

std::string_view to_string(EventType v) {
  switch (v) {
    case EventType::kPageViewed: return "PageViewed";
    case EventType::kProductViewed: return "ProductViewed";
    case EventType::kCartUpdated: return "CartUpdated";
    case EventType::kCheckoutStarted: return "CheckoutStarted";
    case EventType::kOrderPlaced: return "OrderPlaced";
    case EventType::kSignupStarted: return "SignupStarted";
    case EventType::kSignupCompleted: return "SignupCompleted";
    case EventType::kOrderShipped: return "OrderShipped";
    case EventType::kShipmentDelayed: return "ShipmentDelayed";
    case EventType::kOrderDelivered: return "OrderDelivered";
    case EventType::kConsentChanged: return "ConsentChanged";
    case EventType::kChannelEngaged: return "ChannelEngaged";
    case EventType::kProfileUpdated: return "ProfileUpdated";
    case EventType::kCustomerErased: return "CustomerErased";
  }
  return "unknown";
}

std::string_view to_string(SuppressionReason v) {
  switch (v) {
    case SuppressionReason::kNoConsent: return "no_consent";
    case SuppressionReason::kNoAddress: return "no_address";
    case SuppressionReason::kFrequencyCap: return "frequency_cap";
    case SuppressionReason::kRecentOrder: return "recent_order";
    case SuppressionReason::kHoldout: return "holdout";
    case SuppressionReason::kExpired: return "expired";
    case SuppressionReason::kBelowMinimumValue: return "below_minimum_value";
    case SuppressionReason::kAlreadyNotified: return "already_notified";
  }
  return "unknown";
}

std::optional<Channel> parse_channel(std::string_view name) {
  for (int i = 0; i < kChannelCount; ++i) {
    auto c = static_cast<Channel>(i);
    if (to_string(c) == name) return c;
  }
  return std::nullopt;
}

std::optional<SignupForm> parse_signup_form(std::string_view name) {
  for (int i = 0; i < kSignupFormCount; ++i) {
    auto f = static_cast<SignupForm>(i);
    if (to_string(f) == name) return f;
  }
  return std::nullopt;
}

std::optional<Trigger> parse_trigger(std::string_view name) {
  for (int i = 0; i < kTriggerCount; ++i) {
    auto t = static_cast<Trigger>(i);
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace beckon::journey
