#include "codec/event_builder.h"

#include <cassert>

#include "codec/action_encoder.h"
#include "schemas/events_generated.h"

namespace beckon::codec {
namespace {
namespace fb = beckon::fb;
}  // namespace

EventSpec to_spec(const journey::Event& e) {
  EventSpec s;
  s.type = e.type;
  s.event_id = std::string(e.event_id);
  s.customer_id = std::string(e.customer_id);
  s.timestamp = e.timestamp;
  s.url = std::string(e.url);
  s.page_type = e.page_type;
  s.session_id = std::string(e.session_id);
  s.sku = std::string(e.sku);
  s.category = std::string(e.category);
  s.price = e.price;
  for (const auto& it : e.items) {
    s.items.push_back({std::string(it.sku), it.quantity, it.unit_price, std::string(it.category),
                       it.replenish_after_days});
  }
  s.currency = std::string(e.currency);
  s.amount = e.amount;
  s.order_id = std::string(e.order_id);
  s.carrier = std::string(e.carrier);
  s.promised_delivery = e.promised_delivery;
  s.new_eta = e.new_eta;
  s.reason = std::string(e.reason);
  s.form = e.form;
  s.channel = e.channel;
  s.granted = e.granted;
  s.engagement = e.engagement;
  s.timezone = std::string(e.timezone);
  s.locale = std::string(e.locale);
  s.email_known = e.email_known;
  s.phone_known = e.phone_known;
  s.push_token_known = e.push_token_known;
  return s;
}

EventBuilder::EventBuilder() : builder_(512) {}

std::span<const uint8_t> EventBuilder::build(const EventSpec& s, bool with_identifier) {
  auto& b = builder_;
  b.Clear();
  auto str = [&](const std::string& v) { return b.CreateString(v); };
  auto items = [&]() {
    items_.clear();
    for (const auto& it : s.items) {
      auto sku = str(it.sku);
      auto category = str(it.category);
      items_.push_back(
          fb::CreateLineItem(b, sku, it.quantity, it.unit_price, category, it.replenish_after_days).Union());
    }
    return b.CreateVector(reinterpret_cast<const flatbuffers::Offset<fb::LineItem>*>(items_.data()),
                          items_.size());
  };
  auto opt = [](const std::optional<bool>& v) {
    return v.has_value() ? flatbuffers::Optional<bool>(*v) : flatbuffers::nullopt;
  };

  flatbuffers::Offset<void> body;
  using T = journey::EventType;
  switch (s.type) {
    case T::kPageViewed: {
      auto url = str(s.url);
      auto session = str(s.session_id);
      body = fb::CreatePageViewed(b, url, static_cast<fb::PageType>(s.page_type), session).Union();
      break;
    }
    case T::kProductViewed: {
      auto sku = str(s.sku);
      auto category = str(s.category);
      body = fb::CreateProductViewed(b, sku, category, s.price).Union();
      break;
    }
    case T::kCartUpdated: {
      auto v = items();
      body = fb::CreateCartUpdated(b, v, str(s.currency)).Union();
      break;
    }
    case T::kCheckoutStarted:
      body = fb::CreateCheckoutStarted(b, s.amount, str(s.currency)).Union();
      break;
    case T::kOrderPlaced: {
      auto order_id = str(s.order_id);
      auto v = items();
      auto currency = str(s.currency);
      body = fb::CreateOrderPlaced(b, order_id, v, s.amount, currency).Union();
      break;
    }
    case T::kSignupStarted:
      body = fb::CreateSignupStarted(b, static_cast<fb::SignupForm>(s.form)).Union();
      break;
    case T::kSignupCompleted:
      body = fb::CreateSignupCompleted(b, static_cast<fb::SignupForm>(s.form)).Union();
      break;
    case T::kOrderShipped: {
      auto order_id = str(s.order_id);
      auto carrier = str(s.carrier);
      body = fb::CreateOrderShipped(b, order_id, carrier, s.promised_delivery.ms()).Union();
      break;
    }
    case T::kShipmentDelayed: {
      auto order_id = str(s.order_id);
      auto reason = str(s.reason);
      body = fb::CreateShipmentDelayed(b, order_id, s.new_eta.ms(), reason).Union();
      break;
    }
    case T::kOrderDelivered:
      body = fb::CreateOrderDelivered(b, str(s.order_id)).Union();
      break;
    case T::kConsentChanged:
      body = fb::CreateConsentChanged(b, static_cast<fb::Channel>(s.channel), s.granted).Union();
      break;
    case T::kChannelEngaged:
      body = fb::CreateChannelEngaged(b, static_cast<fb::Channel>(s.channel),
                                      static_cast<fb::EngagementKind>(s.engagement))
                 .Union();
      break;
    case T::kProfileUpdated: {
      auto tz = s.timezone.empty() ? 0 : str(s.timezone);
      auto locale = s.locale.empty() ? 0 : str(s.locale);
      body = fb::CreateProfileUpdated(b, tz, locale, opt(s.email_known), opt(s.phone_known),
                                      opt(s.push_token_known))
                 .Union();
      break;
    }
    case T::kCustomerErased:
      body = fb::CreateCustomerErased(b).Union();
      break;
  }
  auto event_id = str(s.event_id);
  auto customer_id = str(s.customer_id);
  auto body_type = static_cast<fb::EventBody>(static_cast<int>(s.type) + 1);
  auto root = fb::CreateEvent(b, event_id, customer_id, s.timestamp.ms(), body_type, body);
  if (with_identifier) {
    fb::FinishEventBuffer(b, root);
  } else {
    b.Finish(root);
  }
  return {b.GetBufferPointer(), b.GetSize()};
}

std::string event_spec_to_json(const EventSpec& spec) {
  EventBuilder builder;
  auto json = event_to_json(builder.build(spec));
  // A freshly built buffer always verifies; rendering fails only for non-UTF-8 strings.
  return json.is_ok() ? std::move(json).value() : std::string();
}

}  // namespace beckon::codec
