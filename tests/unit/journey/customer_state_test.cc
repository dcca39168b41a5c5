#include <random>
#include <string>
#include <string_view>
#include <vector>

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

// A hand-built state with every field set to a distinctive value: multi-byte and maximal
// varints, negative zig-zag values, every enum, non-trivial doubles, empty and long strings.
CustomerState golden_state() {
  CustomerState s;
  s.profile.timezone = "America/Argentina/Buenos_Aires";
  s.profile.locale = "es-AR";
  s.profile.email_known = true;
  s.profile.phone_known = false;
  s.profile.push_token_known = true;
  s.consent = {ConsentState::kGranted, ConsentState::kDenied, ConsentState::kUnknown,
               ConsentState::kGranted, ConsentState::kDenied, ConsentState::kUnknown};
  for (int i = 0; i < kChannelCount; ++i) {
    auto& e = s.engagement[i];
    e.delivered = 127u + static_cast<uint32_t>(i) * 1000u;  // 1- and 2-byte varints
    e.opened = i == 0 ? UINT32_MAX : static_cast<uint32_t>(i);
    e.clicked = static_cast<uint32_t>(1) << (7 * (i % 5));
    e.last = EventTime(1732276800000 - i * 86400000LL);
  }
  s.orders.order_count = 42;
  s.orders.lifetime_value = 1234.5678;
  s.orders.first_order = EventTime(-1);
  s.orders.last_order = EventTime(INT64_MAX);
  s.orders.last_order_id = "ord-\xc3\xa9t\xc3\xa9-0001";
  s.cart.items = {CartLine{"LIP-01", 2, 19.5, "makeup"}, CartLine{"CREAM-1", -3, -0.0, ""},
                  CartLine{std::string(200, 'x'), INT32_MIN, 1e300, "skincare"}};
  s.cart.value = -7.25;
  s.cart.currency = "EUR";
  s.cart.last_update = EventTime(INT64_MIN);
  s.cart.instance = 300;
  s.cart.active = true;
  s.signups[0] = SignupState{true, EventTime(1732276800000), 1, false};
  s.signups[1] = SignupState{false, EventTime(0), 0, true};
  s.signups[2] = SignupState{true, EventTime(-86400000), 16384, true};
  s.replenishment = {ReplenishmentItem{"SKU-A", "haircare", "ord-7", EventTime(1700000000000), 3,
                                       EventTime(1702592000000)},
                     ReplenishmentItem{"", "", "", EventTime(0), INT32_MAX, EventTime(0)}};
  s.shipments = {Shipment{"ord-7", "DHL", EventTime(1700000000000), EventTime(1700259200000),
                          EventTime(1700345600000), "weather", true, false},
                 Shipment{"ord-8", "UPS", EventTime(1), EventTime(2), EventTime(0), "delivery_overdue", false, true}};
  s.recent_sends = {EventTime(1732276800000), EventTime(1732276860000), EventTime(-5)};
  s.progress = {JourneyProgress{"cart_abandonment", "", 7, 2, EventTime(1732276800000), EventTime(1732270000000),
                                true, false},
                JourneyProgress{"signup_abandonment", "loyalty", UINT32_MAX, -1, EventTime(-2), EventTime(3),
                                false, true}};
  s.pending = {PendingTimer{0x0123456789abcdefULL, EventTime(1732280400000), EventTime(1732280000000),
                            "cart_abandonment", Trigger::kCartAbandonment, "", 7, 2},
               PendingTimer{1, EventTime(2), EventTime(3), "signup_abandonment", Trigger::kSignupAbandonment,
                            "loyalty", 1, 0},
               PendingTimer{UINT64_MAX, EventTime(INT64_MAX), EventTime(INT64_MIN), "replenishment",
                            Trigger::kReplenishment, "SKU-A", 0, INT32_MAX},
               PendingTimer{128, EventTime(-128), EventTime(127), "shipping_delay", Trigger::kShippingDelay, "ord-7",
                            16383, INT32_MIN}};
  return s;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 0xf]);
  }
  return hex;
}

std::string from_hex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

// The exact version-1 encoding of golden_state(), as releases before version 2 wrote it. Stores
// still hold states in this form: the codec must keep accepting exactly these bytes.
constexpr std::string_view kGoldenStateV1Hex =
    "011e416d65726963612f417267656e74696e612f4275656e6f735f41697265730565732d41520100010102000102007f"
    "ffffffff0f0180a8f2bbea64e70801800180b8bfe9e964cf100280800180c88c97e964b718038080800180d8d9c4e864"
    "9f2004808080800180e8a6f2e7648728050180f8f39fe76454adfa5c6d454a934001feffffffffffffffff010e6f7264"
    "2dc3a974c3a92d3030303103064c49502d3031040000000000803340066d616b65757007435245414d2d310500000000"
    "0000008000c8017878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878ffffffff0f9c7500883ce4377e08736b696e636172650000000000001dc0034555"
    "52ffffffffffffffffff01ac02010180a8f2bbea6401000000000101ffefb252808001010205534b552d410868616972"
    "63617265056f72642d3780a0abfef9620680c0a1a68d6300000000feffffff0f0002056f72642d370344484c80a0abfe"
    "f96280f0c3f5fb6280e0f6c7fc6207776561746865720100056f72642d38035550530204001064656c69766572795f6f"
    "76657264756500010380a8f2bbea64c0d1f9bbea64090210636172745f6162616e646f6e6d656e7400070480a8f2bbea"
    "64809eb4b5ea640100127369676e75705f6162616e646f6e6d656e74076c6f79616c7479ffffffff0f010306000104ef"
    "9bafcdf8acd1910180e2a9bfea6480f8f8beea6410636172745f6162616e646f6e6d656e740000070401040612736967"
    "6e75705f6162616e646f6e6d656e7401076c6f79616c74790100ffffffffffffffffff01feffffffffffffffff01ffff"
    "ffffffffffffff010d7265706c656e6973686d656e740205534b552d4100feffffff0f8001ff01fe010e736869707069"
    "6e675f64656c617903056f72642d37ff7fffffffff0f";

// The exact version-2 encoding of golden_state(). The codec writes this form: it must keep
// producing and accepting exactly these bytes (a format change needs a new version byte).
constexpr std::string_view kGoldenStateHex =
    "021e416d65726963612f417267656e74696e612f4275656e6f735f41697265730565732d415205c9043f7fffffffff0f"
    "0182a8f2bbea64e70801800181f0b252cf100280800181f0b252b718038080800181f0b2529f2004808080800181f0b2"
    "528728050181f0b2520154adfa5c6d454a934083f8f39fe76401ffffffffffffff7f0e6f72642dc3a974c3a92d303030"
    "3103064c49502d3031040000000000803340066d616b65757007435245414d2d3105000000000000008000c801787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
    "7878787878ffffffff0f9c7500883ce4377e08736b696e636172650000000000001dc00345555204ac0201070181d88d"
    "c4959bffffff0101020000038198a58eeb648080010205534b552d41086861697263617265056f72642d378290ded0fa"
    "620682a0f6a71300000000feffffff0f0002056f72642d370344484c81a0f6a71382d098f70182f0b252077765617468"
    "657201056f72642d3803555053ffdff6c7fc6204001064656c69766572795f6f7665726475650203fea7f2bbea64c2a9"
    "07cbd1f9bbea640210636172745f6162616e646f6e6d656e740007048ca8f2bbea64818abe0601127369676e75705f61"
    "62616e646f6e6d656e74076c6f79616c7479ffffffff0f01859eb4b5ea640c0204efcdab8967452301fce1a9bfea6481"
    "ea3001000007040100000000000000fdf7f8beea64040201076c6f79616c74790100fffffffffffffffffaffffffffff"
    "ffffff0104000d7265706c656e6973686d656e740205534b552d4100feffffff0f800000000000000082feffffffffff"
    "ffff018004000e7368697070696e675f64656c617903056f72642d37ff7fffffffff0f";

TEST(CustomerStateCodec, EncodingMatchesGoldenBytes) {
  std::string bytes;
  CustomerStateCodec::encode(golden_state(), bytes);
  EXPECT_EQ(to_hex(bytes), kGoldenStateHex);
}

TEST(CustomerStateCodec, GoldenBytesDecodeToTheState) {
  for (std::string_view hex : {kGoldenStateHex, kGoldenStateV1Hex}) {
    CustomerState decoded;
    Status st = CustomerStateCodec::decode(from_hex(hex), decoded);
    ASSERT_TRUE(st.is_ok()) << st.to_string() << " version " << hex.substr(0, 2);
    EXPECT_EQ(decoded, golden_state()) << "version " << hex.substr(0, 2);
  }
}

TEST(CustomerStateCodec, Version1StateIsRewrittenAsVersion2) {
  CustomerState decoded;
  ASSERT_TRUE(CustomerStateCodec::decode(from_hex(kGoldenStateV1Hex), decoded).is_ok());
  std::string bytes;
  CustomerStateCodec::encode(decoded, bytes);
  EXPECT_EQ(to_hex(bytes), kGoldenStateHex);
}

TEST(CustomerStateCodec, EmptyPartsTakeOneByteEach) {
  CustomerState empty;
  std::string bytes;
  CustomerStateCodec::encode(empty, bytes);
  EXPECT_EQ(bytes.size(), 26u) << "version, 17 empty fields of one byte each, and the 8-byte cart value";
  // One channel engaged, one form started, no orders: only those two are written.
  CustomerState s;
  s.engagement[3].opened = 1;
  s.signups[1].started = true;
  std::string some;
  CustomerStateCodec::encode(s, some);
  EXPECT_EQ(some.size(), bytes.size() + 4 + 3) << "channel: delivered, opened, clicked, last; form: flags, start, instance";
  CustomerState decoded;
  ASSERT_TRUE(CustomerStateCodec::decode(some, decoded).is_ok());
  EXPECT_EQ(decoded, s);
}

TEST(CustomerStateCodec, TimesAreDifferencesFromThePreviousTime) {
  CustomerState s;
  s.recent_sends = {EventTime(1732276800000)};
  std::string one, two;
  CustomerStateCodec::encode(s, one);
  s.recent_sends.push_back(EventTime(1732276800000 + 60000));  // a minute later: zig-zag 120000, + 2
  CustomerStateCodec::encode(s, two);
  EXPECT_EQ(two.size(), one.size() + 3);
  CustomerState decoded;
  ASSERT_TRUE(CustomerStateCodec::decode(two, decoded).is_ok());
  EXPECT_EQ(decoded, s);
}

TEST(CustomerStateCodec, EncodeReplacesPreviousOutput) {
  std::string bytes(1000, 'z');
  CustomerStateCodec::encode(golden_state(), bytes);
  EXPECT_EQ(to_hex(bytes), kGoldenStateHex);
  CustomerState empty;
  std::string small;
  CustomerStateCodec::encode(empty, small);
  CustomerStateCodec::encode(empty, bytes);
  EXPECT_EQ(bytes, small);
}

TEST(CustomerStateCodec, DecodeOverwritesEveryField) {
  // Decoding into a state that already holds data (the cache reuses states) gives exactly the
  // stored state: no element or character of the previous contents survives.
  CustomerState out = golden_state();
  out.cart.items.resize(50);
  out.profile.timezone.assign(500, 'q');
  CustomerState small;
  small.profile.timezone = "UTC";
  small.recent_sends = {EventTime(9)};
  std::string bytes;
  CustomerStateCodec::encode(small, bytes);
  ASSERT_TRUE(CustomerStateCodec::decode(bytes, out).is_ok());
  EXPECT_EQ(out, small);
  CustomerStateCodec::encode(golden_state(), bytes);
  ASSERT_TRUE(CustomerStateCodec::decode(bytes, out).is_ok());
  EXPECT_EQ(out, golden_state());
}

TEST(CustomerStateCodec, GoldenTruncationRejected) {
  for (std::string_view hex : {kGoldenStateHex, kGoldenStateV1Hex}) {
    const std::string bytes = from_hex(hex);
    for (size_t n = 0; n < bytes.size(); ++n) {
      CustomerState out;
      Status st = CustomerStateCodec::decode(std::string_view(bytes).substr(0, n), out);
      ASSERT_FALSE(st.is_ok()) << "prefix of " << n << " bytes accepted, version " << hex.substr(0, 2);
      EXPECT_EQ(st.code(), Status::Code::kCorruption);
    }
  }
}

size_t varint_length(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// Values on both sides of every varint length boundary (1..10 bytes).
std::vector<uint64_t> varint_boundaries() {
  std::vector<uint64_t> values = {0, UINT64_MAX, UINT64_MAX - 1};
  for (int bits = 1; bits < 64; ++bits) {
    values.push_back((uint64_t{1} << bits) - 1);
    values.push_back(uint64_t{1} << bits);
  }
  return values;
}

uint64_t zigzag(int64_t x) { return (static_cast<uint64_t>(x) << 1) ^ static_cast<uint64_t>(x >> 63); }

// Bytes of a version-2 time that follows no other non-zero time.
size_t first_time_length(int64_t t) {
  if (t == 0) return 1;
  const uint64_t z = zigzag(t);
  return z <= UINT64_MAX - 2 ? varint_length(z + 2) : 9;  // else the escape byte and 8 raw bytes
}

TEST(CustomerStateCodec, VarintOfEveryLengthRoundTrips) {
  CustomerState base;
  base.pending.push_back(PendingTimer{0, EventTime(0), EventTime(0), "j", Trigger::kReplenishment, "k", 0, 0});
  base.recent_sends = {EventTime(0)};
  std::string base_bytes;
  CustomerStateCodec::encode(base, base_bytes);
  for (uint64_t v : varint_boundaries()) {
    SCOPED_TRACE(v);
    CustomerState s = base;
    s.recent_sends[0] = EventTime(static_cast<int64_t>(v));      // a time: zig-zag + 2, or escaped
    s.pending[0].instance = static_cast<uint32_t>(v);            // u32
    s.pending[0].step = static_cast<int32_t>(static_cast<uint32_t>(v));  // i32, zig-zag
    std::string bytes;
    CustomerStateCodec::encode(s, bytes);
    size_t expected = base_bytes.size() + (first_time_length(s.recent_sends[0].ms()) - 1) +
                      (varint_length(s.pending[0].instance) - 1) + (varint_length(zigzag(s.pending[0].step)) - 1);
    EXPECT_EQ(bytes.size(), expected);
    CustomerState decoded;
    Status st = CustomerStateCodec::decode(bytes, decoded);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_EQ(decoded, s);
  }
}

TEST(CustomerStateCodec, VarintOverflowRejected) {
  // The last (10th) byte of a varint may only carry bit 63. The time INT64_MIN + 1 is written as
  // zig-zag + 2 = UINT64_MAX, the longest varint.
  CustomerState s;
  s.recent_sends = {EventTime(INT64_MIN + 1)};
  std::string bytes;
  CustomerStateCodec::encode(s, bytes);
  const std::string max_varint = std::string(9, '\xff') + '\x01';
  size_t at = bytes.find(max_varint);
  ASSERT_NE(at, std::string::npos);
  CustomerState out;
  ASSERT_TRUE(CustomerStateCodec::decode(bytes, out).is_ok());
  EXPECT_EQ(out, s);
  bytes[at + 9] = '\x02';
  Status st = CustomerStateCodec::decode(bytes, out);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.message().find("varint overflow"), std::string::npos) << st.to_string();
  bytes[at + 9] = '\x81';  // an 11th byte is never read as part of the varint
  EXPECT_EQ(CustomerStateCodec::decode(bytes, out).code(), Status::Code::kCorruption);
}

// Version-2 input that no encoder writes is rejected with a message naming the problem. The
// empty state is laid out as: version, timezone, locale, profile flags, consents, engaged
// channels, orders presence, cart lines, cart value (8 bytes), currency, cart update time, cart
// instance, cart flags, signup forms, replenishment, shipments, sends, progress, pending.
TEST(CustomerStateCodec, MalformedVersion2Rejected) {
  std::string empty;
  CustomerStateCodec::encode(CustomerState{}, empty);
  ASSERT_EQ(empty.size(), 26u);
  auto expect_rejected = [](const std::string& bytes, std::string_view why) {
    CustomerState out;
    Status st = CustomerStateCodec::decode(bytes, out);
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << why;
    EXPECT_NE(st.message().find(why), std::string::npos) << st.to_string();
  };
  auto with = [&](size_t at, std::string_view replacement) {
    std::string b = empty;
    b.replace(at, 1, replacement);
    return b;
  };
  expect_rejected(with(3, "\x08"), "unknown flag bits");            // 3 profile flags
  expect_rejected(with(4, "\x03"), "enum out of range");            // consent 3
  expect_rejected(with(5, "\x40"), "presence bits out of range");   // channel 6 of 6
  expect_rejected(with(6, "\x02"), "bad presence");
  expect_rejected(with(17, "\x02"), "time difference to zero");     // base 0, difference 0
  expect_rejected(with(17, std::string("\x01", 1) + std::string(8, '\0')), "escaped zero time");
  expect_rejected(with(17, std::string("\x01\x05", 2) + std::string(7, '\0')), "needless time escape");
  expect_rejected(with(19, "\x02"), "unknown flag bits");           // 1 cart flag
  expect_rejected(with(20, "\x08"), "presence bits out of range");  // form 3 of 3

  // A pending timer whose journey refers to a progress record that is not there.
  CustomerState s;
  s.pending.push_back(PendingTimer{0, EventTime(0), EventTime(0), "j", Trigger::kReplenishment, "k", 0, 0});
  std::string bytes;
  CustomerStateCodec::encode(s, bytes);
  const std::string literal("\x00\x01j", 3);  // no reference, then the name
  size_t at = bytes.rfind(literal);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, literal.size(), "\x01");
  expect_rejected(bytes, "journey reference out of range");
}

TEST(CustomerStateCodec, PendingJourneyNamesReferToProgress) {
  CustomerState s;
  s.progress = {JourneyProgress{"cart_abandonment", "", 1, 0, EventTime(5), EventTime(5), true, false},
                JourneyProgress{"signup_abandonment", "loyalty", 1, 0, EventTime(5), EventTime(5), true, false}};
  s.pending = {PendingTimer{1, EventTime(9), EventTime(9), "signup_abandonment", Trigger::kSignupAbandonment,
                            "loyalty", 1, 0},
               PendingTimer{2, EventTime(9), EventTime(9), "other", Trigger::kReplenishment, "x", 0, 0}};
  std::string bytes;
  CustomerStateCodec::encode(s, bytes);
  EXPECT_EQ(bytes.find("signup_abandonment"), bytes.rfind("signup_abandonment")) << "the name is written once";
  CustomerState decoded;
  ASSERT_TRUE(CustomerStateCodec::decode(bytes, decoded).is_ok());
  EXPECT_EQ(decoded, s);
}

TEST(CustomerStateCodec, LargeStatesRoundTripWhateverTheOutputBuffer) {
  // Encodings far above the writer's initial buffer, with strings and varints straddling every
  // growth point, give the same bytes into a fresh string and into one that held a larger state.
  std::string previous(200000, 'p');
  for (size_t len : {0u, 1u, 15u, 16u, 127u, 128u, 1000u, 1023u, 1024u, 5000u, 16383u, 16384u, 60000u}) {
    SCOPED_TRACE(len);
    CustomerState s = golden_state();
    s.profile.timezone.assign(len, 't');
    for (size_t i = 0; i < CustomerState::kMaxCartLines; ++i) {
      s.cart.items.push_back(CartLine{"sku-" + std::to_string(i) + std::string(len % 97, 's'), static_cast<int32_t>(i),
                                      0.5 * static_cast<double>(i), std::string(i % 20, 'c')});
    }
    for (size_t i = 0; i < CustomerState::kMaxRecentSends; ++i) {
      s.recent_sends.push_back(EventTime(1732276800000 + static_cast<int64_t>(i * len)));
    }
    std::string fresh;
    CustomerStateCodec::encode(s, fresh);
    CustomerStateCodec::encode(s, previous);
    EXPECT_EQ(fresh, previous);
    CustomerState decoded;
    Status st = CustomerStateCodec::decode(fresh, decoded);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_EQ(decoded, s);
  }
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
  EXPECT_EQ(CustomerStateCodec::decode(std::string("\x03", 1), out).code(), Status::Code::kCorruption)
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
      if (!b.empty()) b[0] = static_cast<char>(i % 4 == 0 ? CustomerStateCodec::kVersion1 : CustomerStateCodec::kVersion);
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
