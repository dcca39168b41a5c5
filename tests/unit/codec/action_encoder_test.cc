#include "codec/action_encoder.h"

#include <gtest/gtest.h>

#include "codec/event_builder.h"
#include "schemas/actions_generated.h"
#include "test_events.h"

namespace beckon::codec {
namespace {

using journey::Action;
using journey::Trigger;

Action base_action(Trigger trigger) {
  Action a;
  a.action_id = "3f2a9c0d11e4b7a8";
  a.customer_id = "c42";
  a.trigger = trigger;
  a.journey = "default";
  a.step = 1;
  a.channel = journey::Channel::kEmail;
  a.created = EventTime(1732270000000);
  a.due = EventTime(1732273600000);
  a.expires = EventTime(1732359999000);
  a.variant = "B";
  a.template_id = "tmpl-7";
  a.context = {.first_time_buyer = false, .order_count = 3, .lifetime_value = 120.5,
               .loyalty_tier = "gold", .locale = "fr-FR", .timezone = "Europe/Paris"};
  return a;
}

std::vector<Action> one_action_per_trigger() {
  std::vector<Action> v;
  Action cart = base_action(Trigger::kCartAbandonment);
  cart.channel = journey::Channel::kAppPush;
  cart.items = {{"LIP-01", 1, 19.5, "lips"}, {"EYE-07", 2, 12.25, "eyes"}};
  cart.cart_value = 44.0;
  cart.currency = "EUR";
  v.push_back(cart);
  Action signup = base_action(Trigger::kSignupAbandonment);
  signup.form = journey::SignupForm::kLoyalty;
  v.push_back(signup);
  Action repl = base_action(Trigger::kReplenishment);
  repl.sku = "SHAMPOO-1";
  repl.category = "hair";
  repl.quantity = 3;
  repl.order_id = "o-1";
  repl.last_order = EventTime(1729000000000);
  v.push_back(repl);
  Action ship = base_action(Trigger::kShippingDelay);
  ship.channel = journey::Channel::kSms;
  ship.order_id = "o-9";
  ship.carrier = "DHL";
  ship.promised_delivery = EventTime(1732300000000);
  ship.new_eta = EventTime(1732500000000);
  ship.reason = "weather";
  ship.incentive = {"coupon", "SORRY10", 10.0};
  ship.context.first_time_buyer = true;
  v.push_back(ship);
  return v;
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(ActionEncoder, RoundTripsEveryTriggerThroughFlatBuffers) {
  ActionEncoder enc;
  for (const auto& a : one_action_per_trigger()) {
    auto bytes = enc.encode(a, OutputFormat::kFlatBuffers);
    ASSERT_TRUE(fb::ActionBufferHasIdentifier(bytes.data()));
    auto back = decode_action(bytes);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, a);
  }
}

TEST(ActionEncoder, RoundTripsEveryTriggerThroughJson) {
  ActionEncoder enc;
  for (const auto& a : one_action_per_trigger()) {
    auto bytes = enc.encode(a, OutputFormat::kJson);
    ASSERT_FALSE(bytes.empty());
    std::string json(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    EXPECT_EQ(json.find('\n'), std::string::npos) << json;
    auto back = decode_action(bytes);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string() << "\n" << json;
    EXPECT_EQ(*back, a);
  }
}

TEST(ActionEncoder, JsonUsesSchemaNamesForEnumsAndUnion) {
  ActionEncoder enc;
  auto actions = one_action_per_trigger();
  const char* triggers[] = {"cart_abandonment", "signup_abandonment", "replenishment", "shipping_delay"};
  const char* payloads[] = {"CartPayload", "SignupPayload", "ReplenishmentPayload", "ShippingDelayPayload"};
  for (size_t i = 0; i < actions.size(); ++i) {
    auto bytes = enc.encode(actions[i], OutputFormat::kJson);
    std::string json(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    // flatc's compact mapping puts one space after each colon.
    EXPECT_NE(json.find(std::string("\"trigger\": \"") + triggers[i] + "\""), std::string::npos) << json;
    EXPECT_NE(json.find(std::string("\"payload_type\": \"") + payloads[i] + "\""), std::string::npos) << json;
    EXPECT_EQ(json.front(), '{');
  }
  auto cart = enc.encode(actions[0], OutputFormat::kJson);
  std::string json(reinterpret_cast<const char*>(cart.data()), cart.size());
  EXPECT_NE(json.find("\"channel\": \"app_push\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"step\": 1"), std::string::npos) << json;
  auto signup = enc.encode(actions[1], OutputFormat::kJson);
  json.assign(reinterpret_cast<const char*>(signup.data()), signup.size());
  EXPECT_NE(json.find("\"form\": \"loyalty\""), std::string::npos) << json;
}

TEST(ActionEncoder, ShippingDelayPayloadCarriesFirstTimeBuyerAndIncentive) {
  ActionEncoder enc;
  Action ship = one_action_per_trigger()[3];
  for (bool first : {true, false}) {
    ship.context.first_time_buyer = first;
    auto bytes = enc.encode(ship, OutputFormat::kFlatBuffers);
    const auto* p = fb::GetAction(bytes.data())->payload_as_ShippingDelayPayload();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->first_time_buyer(), first);
    ASSERT_NE(p->incentive(), nullptr);
    EXPECT_EQ(p->incentive()->code()->str(), "SORRY10");
  }
  ship.incentive = {};
  auto bytes = enc.encode(ship, OutputFormat::kFlatBuffers);
  EXPECT_EQ(fb::GetAction(bytes.data())->payload_as_ShippingDelayPayload()->incentive(), nullptr);
  auto back = decode_action(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, ship);
}

TEST(ActionEncoder, ActionToJsonMatchesJsonEncoding) {
  ActionEncoder enc;
  for (const auto& a : one_action_per_trigger()) {
    auto fbytes = enc.encode(a, OutputFormat::kFlatBuffers);
    std::vector<uint8_t> copy(fbytes.begin(), fbytes.end());
    auto json = action_to_json(copy);
    ASSERT_TRUE(json.is_ok()) << json.status().to_string();
    auto direct = enc.encode(a, OutputFormat::kJson);
    EXPECT_EQ(*json, std::string(reinterpret_cast<const char*>(direct.data()), direct.size()));
  }
}

TEST(ActionEncoder, DecodeActionRejectsEventsAndGarbage) {
  EventBuilder b;
  auto event = b.build(testing::cart_event());
  auto r = decode_action(event);
  EXPECT_FALSE(r.is_ok());
  EXPECT_FALSE(action_to_json(event).is_ok());
  EXPECT_FALSE(decode_action(bytes_of("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c")).is_ok());
  EXPECT_FALSE(decode_action(bytes_of("{\"action_id\": ")).is_ok());
  EXPECT_FALSE(decode_action({}).is_ok());
  // Payload that does not belong to the trigger.
  EXPECT_FALSE(decode_action(bytes_of(
                   R"({"action_id":"a","customer_id":"c","trigger":"cart_abandonment","payload_type":"SignupPayload","payload":{"form":"loyalty"}})"))
                   .is_ok());
}

TEST(ActionEncoder, ParsesOutputFormatNames) {
  EXPECT_EQ(parse_output_format("flatbuffers"), OutputFormat::kFlatBuffers);
  EXPECT_EQ(parse_output_format("json"), OutputFormat::kJson);
  EXPECT_EQ(parse_output_format("auto"), std::nullopt);
}

}  // namespace
}  // namespace beckon::codec
