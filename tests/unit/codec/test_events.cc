#include "test_events.h"

namespace beckon::codec::testing {

using journey::EventType;

namespace {
constexpr int64_t kTs = 1732270000000;  // 2024-11-22

EventSpec base(EventType type, int n) {
  EventSpec s;
  s.type = type;
  s.event_id = "e" + std::to_string(n);
  s.customer_id = "c42";
  s.timestamp = EventTime(kTs + n);
  return s;
}
}  // namespace

EventSpec cart_event() {
  EventSpec s = base(EventType::kCartUpdated, 3);
  s.items = {{"LIP-01", 1, 19.5, "lips", 0}, {"EYE-07", 2, 12.25, "eyes", 30}};
  s.currency = "EUR";
  return s;
}

std::vector<EventSpec> one_event_of_each_type() {
  std::vector<EventSpec> v;
  {
    EventSpec s = base(EventType::kPageViewed, 1);
    s.url = "https://shop.example/cart";
    s.page_type = journey::PageType::kCart;
    s.session_id = "s-1";
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kProductViewed, 2);
    s.sku = "LIP-01";
    s.category = "lips";
    s.price = 19.5;
    v.push_back(s);
  }
  v.push_back(cart_event());
  {
    EventSpec s = base(EventType::kCheckoutStarted, 4);
    s.amount = 44.0;
    s.currency = "EUR";
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kOrderPlaced, 5);
    s.order_id = "o-1";
    s.items = {{"SHAMPOO-1", 3, 7.0, "hair", 45}};
    s.amount = 21.0;
    s.currency = "EUR";
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kSignupStarted, 6);
    s.form = journey::SignupForm::kLoyalty;
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kSignupCompleted, 7);
    s.form = journey::SignupForm::kNewsletter;
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kOrderShipped, 8);
    s.order_id = "o-1";
    s.carrier = "DHL";
    s.promised_delivery = EventTime(kTs + 3 * 86400000LL);
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kShipmentDelayed, 9);
    s.order_id = "o-1";
    s.new_eta = EventTime(kTs + 5 * 86400000LL);
    s.reason = "weather";
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kOrderDelivered, 10);
    s.order_id = "o-1";
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kConsentChanged, 11);
    s.channel = journey::Channel::kWhatsapp;
    s.granted = true;
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kChannelEngaged, 12);
    s.channel = journey::Channel::kAppPush;
    s.engagement = journey::EngagementKind::kClicked;
    v.push_back(s);
  }
  {
    EventSpec s = base(EventType::kProfileUpdated, 13);
    s.timezone = "Europe/Paris";
    s.locale = "fr-FR";
    s.email_known = true;
    s.phone_known = false;  // push_token_known left absent
    v.push_back(s);
  }
  v.push_back(base(EventType::kCustomerErased, 14));
  return v;
}

}  // namespace beckon::codec::testing
