#include <random>

#include <nlohmann/json.hpp>

#include "journey_test_util.h"

namespace beckon::journey::testing {
namespace {

// A state with every collection populated, produced by the engine itself.
CustomerState populated_state() {
  Harness h;
  auto cart = h.items({line("LIP-01", 2, 19.5, "makeup"), line("CREAM-1", 1, 30.25, "skincare")});
  h.event(profile_updated(kNoon - kDay, "Europe/Paris"));
  h.event(consent_changed(kNoon - kDay, Channel::kSms, false));
  h.event(consent_changed(kNoon - kDay, Channel::kEmail, true));
  h.event(channel_engaged(kNoon - kDay, Channel::kEmail, EngagementKind::kOpened));
  h.event(order_placed(kNoon - 10 * kDay, "o0", cart, 69.25));
  h.event(order_shipped(kNoon - 9 * kDay, "o0", "DHL", kNoon - 7 * kDay));
  h.event(order_delivered(kNoon - 8 * kDay, "o0"));
  h.event(signup_started(kNoon, SignupForm::kLoyalty));
  h.event(cart_updated(kNoon, cart));
  h.advance_to(kNoon + 2 * kHour);
  h.event(order_shipped(kNoon + 2 * kHour, "o9", "UPS", kNoon + 3 * kDay));
  h.state.profile.locale = "fr-FR";
  return h.state;
}

TEST(CustomerStateCodec, RoundTrip) {
  CustomerState s = populated_state();
  ASSERT_FALSE(s.pending.empty());
  ASSERT_FALSE(s.recent_sends.empty());
  ASSERT_FALSE(s.replenishment.empty());
  ASSERT_EQ(s.shipments.size(), 2u);
  std::string bytes;
  CustomerStateCodec::encode(s, bytes);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), CustomerStateCodec::kVersion);
  CustomerState decoded;
  Status st = CustomerStateCodec::decode(bytes, decoded);
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  EXPECT_EQ(decoded, s);

  std::string again;
  CustomerStateCodec::encode(decoded, again);
  EXPECT_EQ(again, bytes);

  CustomerState empty;
  CustomerStateCodec::encode(empty, bytes);
  EXPECT_LT(bytes.size(), 100u) << "an empty state is small";
  ASSERT_TRUE(CustomerStateCodec::decode(bytes, decoded).is_ok());
  EXPECT_EQ(decoded, empty);
}

TEST(CustomerStateCodec, NegativeAndExtremeValuesRoundTrip) {
  CustomerState s;
  s.orders.order_count = INT32_MAX;
  s.orders.lifetime_value = -0.5;
  s.orders.first_order = EventTime(INT64_MIN);
  s.orders.last_order = EventTime(INT64_MAX);
  s.pending.push_back(PendingTimer{UINT64_MAX, EventTime(-1), EventTime(0), "j", Trigger::kShippingDelay, "k",
                                   UINT32_MAX, INT32_MIN});
  std::string bytes;
  CustomerStateCodec::encode(s, bytes);
  CustomerState decoded;
  ASSERT_TRUE(CustomerStateCodec::decode(bytes, decoded).is_ok());
  EXPECT_EQ(decoded, s);
}

TEST(CustomerStateCodec, TruncationRejected) {
  std::string bytes;
  CustomerStateCodec::encode(populated_state(), bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    CustomerState out;
    Status st = CustomerStateCodec::decode(std::string_view(bytes).substr(0, n), out);
    ASSERT_FALSE(st.is_ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(st.code(), Status::Code::kCorruption);
  }
  CustomerState out;
  EXPECT_EQ(CustomerStateCodec::decode(bytes + "x", out).code(), Status::Code::kCorruption) << "trailing bytes";
}

TEST(CustomerStateCodec, GarbageRejected) {
  CustomerState out;
  EXPECT_EQ(CustomerStateCodec::decode(std::string("\x02", 1), out).code(), Status::Code::kCorruption)
      << "unknown version";
  // A huge element count must be rejected before allocating.
  CustomerState empty;
  std::string bytes;
  CustomerStateCodec::encode(empty, bytes);
  std::string huge = bytes.substr(0, 1) + std::string("\x00\x00\x00\x00\x00", 5);
  EXPECT_FALSE(CustomerStateCodec::decode(huge + std::string("\xff\xff\xff\xff\x0f", 5), out).is_ok());

  // Random bytes and random corruptions of a valid state never crash.
  std::mt19937_64 rng(42);
  std::string valid;
  CustomerStateCodec::encode(populated_state(), valid);
  int rejected = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string b;
    if (i % 2 == 0) {
      b.resize(rng() % 200);
      for (auto& ch : b) ch = static_cast<char>(rng());
      if (!b.empty()) b[0] = static_cast<char>(CustomerStateCodec::kVersion);
    } else {
      b = valid;
      for (int k = 0; k < 3; ++k) b[1 + rng() % (b.size() - 1)] = static_cast<char>(rng());
    }
    CustomerState s;
    Status st = CustomerStateCodec::decode(b, s);
    if (!st.is_ok()) {
      ++rejected;
      EXPECT_EQ(st.code(), Status::Code::kCorruption);
    }
  }
  EXPECT_GT(rejected, 2500);
}

TEST(CustomerStateCodec, FailedDecodeLeavesOutputUntouched) {
  CustomerState s = populated_state();
  CustomerState out = s;
  EXPECT_FALSE(CustomerStateCodec::decode("\x01\x05", out).is_ok());
  EXPECT_EQ(out, s);
}

TEST(CustomerState, DescribeJson) {
  CustomerState s = populated_state();
  auto j = nlohmann::json::parse(describe_json(s));
  EXPECT_EQ(j["profile"]["timezone"], "Europe/Paris");
  EXPECT_EQ(j["consent"]["sms"], "denied");
  EXPECT_EQ(j["consent"]["email"], "granted");
  EXPECT_EQ(j["consent"]["app_push"], "unknown");
  EXPECT_EQ(j["cart"]["items"].size(), 2u);
  EXPECT_EQ(j["pending_timers"].size(), s.pending.size());
  EXPECT_EQ(j["shipments"][0]["order_id"], "o0");
  s.profile.locale = std::string("\xff\xfe", 2);  // not UTF-8: must not throw
  EXPECT_NO_THROW(describe_json(s));
}

}  // namespace
}  // namespace beckon::journey::testing
