#include "codec/event_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>

#include "codec/action_encoder.h"
#include "codec/event_builder.h"
#include "schemas/events_generated.h"
#include "test_events.h"

namespace beckon::codec {
namespace {

using journey::EventType;
using testing::cart_event;
using testing::one_event_of_each_type;

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Decodes and returns the failure reason, or nullopt on success.
std::optional<DecodeError> reject_reason(EventDecoder& d, std::span<const uint8_t> bytes,
                                         InputFormat format, DecodeFailure* failure_out = nullptr) {
  journey::Event ev;
  DecodeFailure failure;
  if (d.decode(bytes, format, ev, failure)) return std::nullopt;
  EXPECT_FALSE(failure.detail.empty());
  if (failure_out) *failure_out = failure;
  return failure.reason;
}

std::optional<DecodeError> reject_reason_fb(const EventSpec& spec, DecoderOptions opts = {}) {
  EventDecoder d(opts);
  EventBuilder b;
  return reject_reason(d, b.build(spec), InputFormat::kFlatBuffers);
}

std::optional<DecodeError> reject_reason_json(std::string_view json) {
  EventDecoder d;
  return reject_reason(d, bytes_of(json), InputFormat::kJson);
}

TEST(EventDecoder, RoundTripsEveryBodyTypeThroughFlatBuffers) {
  EventDecoder d;
  EventBuilder b;
  auto specs = one_event_of_each_type();
  ASSERT_EQ(specs.size(), static_cast<size_t>(journey::kEventTypeCount));
  for (const auto& spec : specs) {
    for (InputFormat f : {InputFormat::kFlatBuffers, InputFormat::kAuto}) {
      journey::Event ev;
      DecodeFailure failure;
      ASSERT_TRUE(d.decode(b.build(spec), f, ev, failure)) << spec.event_id << ": " << failure.detail;
      EXPECT_EQ(to_spec(ev), spec) << spec.event_id;
    }
  }
}

TEST(EventDecoder, PeekedKindIsTheDecodedOnesAndAnyPrefixIsSafe) {
  EventDecoder d;
  EventBuilder b;
  std::vector<EventSpec> specs = one_event_of_each_type();
  for (int page = 0; page <= static_cast<int>(journey::PageType::kOther); ++page) {
    EventSpec view = specs[0];
    ASSERT_EQ(view.type, EventType::kPageViewed);
    view.page_type = static_cast<journey::PageType>(page);  // kOther is the default: not written
    specs.push_back(view);
  }
  for (const EventSpec& spec : specs) {
    for (bool identifier : {true, false}) {
      const std::span<const uint8_t> built = b.build(spec, identifier);
      const std::vector<uint8_t> bytes(built.begin(), built.end());
      journey::Event ev;
      DecodeFailure failure;
      ASSERT_TRUE(d.decode(bytes, InputFormat::kFlatBuffers, ev, failure)) << failure.detail;
      for (InputFormat f : {InputFormat::kFlatBuffers, InputFormat::kAuto}) {
        const std::optional<EventKind> kind = peek_event_kind(bytes, f);
        ASSERT_TRUE(kind.has_value()) << spec.event_id;
        EXPECT_EQ(kind->type, ev.type) << spec.event_id;
        if (ev.type == EventType::kPageViewed) {
          EXPECT_EQ(kind->page_type, ev.page_type) << spec.event_id;
        }
      }
      // A truncated buffer tells nothing or the truth, and is never read past its end (the
      // copy has exactly the prefix's size, for the sanitizer builds).
      for (size_t n = 0; n < bytes.size(); ++n) {
        const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
        const std::optional<EventKind> kind = peek_event_kind(prefix, InputFormat::kFlatBuffers);
        if (!kind) continue;
        EXPECT_EQ(kind->type, ev.type) << spec.event_id << " cut at " << n;
        if (ev.type == EventType::kPageViewed) {
          EXPECT_EQ(kind->page_type, ev.page_type) << spec.event_id << " cut at " << n;
        }
      }
    }
    EXPECT_FALSE(peek_event_kind(bytes_of(event_spec_to_json(spec)), InputFormat::kJson).has_value());
    EXPECT_FALSE(peek_event_kind(bytes_of(event_spec_to_json(spec)), InputFormat::kAuto).has_value());
  }
}

TEST(EventDecoder, PeekSaysNothingOfAnUnknownBodyTypeOrPageType) {
  EventBuilder b;
  EventSpec view = one_event_of_each_type()[0];
  view.page_type = journey::PageType::kSignup;
  const std::span<const uint8_t> built = b.build(view);
  std::vector<uint8_t> bytes(built.begin(), built.end());
  ASSERT_TRUE(peek_event_kind(bytes, InputFormat::kFlatBuffers).has_value());
  // Generated tables derive privately from flatbuffers::Table, which has the field lookup.
  const fb::Event* ev = fb::GetEvent(bytes.data());
  auto field_at = [&](const void* table, flatbuffers::voffset_t field) {
    return static_cast<size_t>(reinterpret_cast<const flatbuffers::Table*>(table)->GetAddressOf(field) - bytes.data());
  };
  const size_t body_type_at = field_at(ev, fb::Event::VT_BODY_TYPE);
  const size_t page_type_at = field_at(ev->body_as_PageViewed(), fb::PageViewed::VT_PAGE_TYPE);
  ASSERT_EQ(bytes[page_type_at], static_cast<uint8_t>(fb::PageType::signup));

  bytes[body_type_at] = 200;
  EXPECT_FALSE(peek_event_kind(bytes, InputFormat::kFlatBuffers).has_value());
  bytes[body_type_at] = 0;  // NONE
  EXPECT_FALSE(peek_event_kind(bytes, InputFormat::kFlatBuffers).has_value());
  bytes[body_type_at] = static_cast<uint8_t>(fb::EventBody::PageViewed);
  bytes[page_type_at] = 100;
  EXPECT_FALSE(peek_event_kind(bytes, InputFormat::kFlatBuffers).has_value());

  const std::vector<uint8_t> noise = {4, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3};
  EXPECT_FALSE(peek_event_kind(noise, InputFormat::kFlatBuffers).has_value());
}

TEST(EventDecoder, RoundTripsEveryBodyTypeThroughJson) {
  EventDecoder d;
  for (const auto& spec : one_event_of_each_type()) {
    std::string json = event_spec_to_json(spec);
    ASSERT_FALSE(json.empty());
    for (InputFormat f : {InputFormat::kJson, InputFormat::kAuto}) {
      journey::Event ev;
      DecodeFailure failure;
      ASSERT_TRUE(d.decode(bytes_of(json), f, ev, failure)) << json << ": " << failure.detail;
      EXPECT_EQ(to_spec(ev), spec) << json;
    }
  }
}

TEST(EventDecoder, DecodesTheDesignExampleJson) {
  const std::string json =
      R"({"event_id":"e1","customer_id":"c42","timestamp_ms":1732270000000,"body_type":"CartUpdated","body":{"items":[{"sku":"LIP-01","quantity":1,"unit_price":19.5}],"currency":"EUR"}})";
  EventDecoder d;
  journey::Event ev;
  DecodeFailure failure;
  ASSERT_TRUE(d.decode(bytes_of(json), InputFormat::kAuto, ev, failure)) << failure.detail;
  EXPECT_EQ(ev.type, EventType::kCartUpdated);
  EXPECT_EQ(ev.event_id, "e1");
  EXPECT_EQ(ev.customer_id, "c42");
  EXPECT_EQ(ev.timestamp, EventTime(1732270000000));
  ASSERT_EQ(ev.items.size(), 1u);
  EXPECT_EQ(ev.items[0].sku, "LIP-01");
  EXPECT_EQ(ev.items[0].quantity, 1);
  EXPECT_EQ(ev.items[0].unit_price, 19.5);
  EXPECT_EQ(ev.currency, "EUR");
}

TEST(EventDecoder, AcceptsEnumValuesByNameInJson) {
  EventDecoder d;
  journey::Event ev;
  DecodeFailure failure;
  auto decode = [&](std::string_view json) { return d.decode(bytes_of(json), InputFormat::kJson, ev, failure); };
  ASSERT_TRUE(decode(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"PageViewed","body":{"page_type":"cart"}})"));
  EXPECT_EQ(ev.page_type, journey::PageType::kCart);
  ASSERT_TRUE(decode(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"SignupStarted","body":{"form":"loyalty"}})"));
  EXPECT_EQ(ev.form, journey::SignupForm::kLoyalty);
  ASSERT_TRUE(decode(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"ConsentChanged","body":{"channel":"email","granted":true}})"));
  EXPECT_EQ(ev.channel, journey::Channel::kEmail);
  EXPECT_TRUE(ev.granted);
}

TEST(EventDecoder, IgnoresUnknownJsonFieldsForForwardCompatibility) {
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"added_later":{"x":[1,2]},"body_type":"CustomerErased","body":{}})"),
            std::nullopt);
}

TEST(EventDecoder, AcceptsFlatBuffersWithoutFileIdentifier) {
  EventDecoder d;
  EventBuilder b;
  EventSpec spec = cart_event();
  journey::Event ev;
  DecodeFailure failure;
  ASSERT_TRUE(d.decode(b.build(spec, /*with_identifier=*/false), InputFormat::kFlatBuffers, ev, failure))
      << failure.detail;
  EXPECT_EQ(to_spec(ev), spec);
}

TEST(EventDecoder, DecodesMisalignedInputByCopying) {
  EventBuilder b;
  EventSpec spec = cart_event();
  auto built = b.build(spec);
  std::vector<uint8_t> storage(built.size() + 1);
  std::memcpy(storage.data() + 1, built.data(), built.size());
  EventDecoder d;
  journey::Event ev;
  DecodeFailure failure;
  ASSERT_TRUE(d.decode({storage.data() + 1, built.size()}, InputFormat::kFlatBuffers, ev, failure))
      << failure.detail;
  EXPECT_EQ(to_spec(ev), spec);
}

TEST(EventDecoder, RejectsEmptyAndOversizedMessages) {
  EventDecoder d(DecoderOptions{.max_message_bytes = 64});
  EXPECT_EQ(reject_reason(d, {}, InputFormat::kAuto), DecodeError::kEmpty);
  EventBuilder b;
  auto big = b.build(cart_event());
  ASSERT_GT(big.size(), 64u);
  EXPECT_EQ(reject_reason(d, big, InputFormat::kFlatBuffers), DecodeError::kOversized);
  std::string json(100, ' ');
  json[0] = '{';
  EXPECT_EQ(reject_reason(d, bytes_of(json), InputFormat::kJson), DecodeError::kOversized);
}

TEST(EventDecoder, RejectsRandomBytes) {
  std::mt19937 rng(12345);
  EventDecoder d;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes(1 + rng() % 200);
    for (auto& c : bytes) c = static_cast<uint8_t>(rng());
    auto reason = reject_reason(d, bytes, InputFormat::kAuto);
    ASSERT_TRUE(reason.has_value()) << "random buffer " << i << " decoded";
  }
}

// Cutting a buffer short either loses data the Verifier needs (rejected) or only trailing
// alignment padding (decodes to the same event); it never yields a different event.
TEST(EventDecoder, TruncatedBufferIsRejectedOrUnchanged) {
  EventBuilder b;
  const EventSpec spec = cart_event();
  auto built = b.build(spec);
  std::vector<uint8_t> full(built.begin(), built.end());
  EventDecoder d;
  size_t rejected = 0;
  for (size_t n = 1; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    journey::Event ev;
    DecodeFailure failure;
    if (d.decode(prefix, InputFormat::kFlatBuffers, ev, failure)) {
      EXPECT_EQ(to_spec(ev), spec) << "prefix of " << n << " bytes";
      EXPECT_GT(n + 8, full.size()) << "prefix of " << n << " bytes decoded";
    } else {
      ++rejected;
    }
  }
  EXPECT_GE(rejected + 8, full.size() - 1);
}

// Every single-bit flip of every event type either still decodes to a valid event or is rejected
// with a reason; it never crashes (ASan/UBSan builds check the "never" part).
TEST(EventDecoder, SurvivesEveryBitFlip) {
  EventDecoder d;
  EventBuilder b;
  int decoded = 0;
  int rejected = 0;
  std::set<DecodeError> reasons;
  for (const auto& spec : one_event_of_each_type()) {
    auto built = b.build(spec);
    std::vector<uint8_t> original(built.begin(), built.end());
    for (size_t i = 0; i < original.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<uint8_t> flipped = original;
        flipped[i] ^= static_cast<uint8_t>(1u << bit);
        journey::Event ev;
        DecodeFailure failure;
        if (d.decode(flipped, InputFormat::kFlatBuffers, ev, failure)) {
          ++decoded;
          EXPECT_FALSE(ev.customer_id.empty());
          EXPECT_FALSE(ev.event_id.empty());
          EXPECT_GE(ev.timestamp, EventTime(DecoderOptions{}.min_timestamp_ms));
          EXPECT_LE(ev.timestamp, EventTime(DecoderOptions{}.max_timestamp_ms));
          for (const auto& it : ev.items) {
            EXPECT_GE(it.quantity, 0);
            EXPECT_TRUE(std::isfinite(it.unit_price));
          }
        } else {
          ++rejected;
          reasons.insert(failure.reason);
          EXPECT_FALSE(to_string(failure.reason).empty());
        }
      }
    }
  }
  EXPECT_GT(decoded, 0);  // flips in string contents keep the buffer valid
  EXPECT_GT(rejected, 0);
  EXPECT_TRUE(reasons.contains(DecodeError::kVerifyFailed));
}

TEST(EventDecoder, RejectsAnActionBufferAsWrongIdentifier) {
  journey::Action a;
  a.action_id = "a1";
  a.customer_id = "c42";
  ActionEncoder enc;
  auto bytes = enc.encode(a, OutputFormat::kFlatBuffers);
  EventDecoder d;
  EXPECT_EQ(reject_reason(d, bytes, InputFormat::kFlatBuffers), DecodeError::kWrongIdentifier);
  EXPECT_EQ(reject_reason(d, bytes, InputFormat::kAuto), DecodeError::kWrongIdentifier);
}

TEST(EventDecoder, RejectsMalformedJson) {
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e1",)"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json(R"({"event_id" "e1"})"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json("{"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json("not json"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e1","body":{"items":[{"sku":)"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e"} trailing)"), DecodeError::kMalformedJson);
}

TEST(EventDecoder, RejectsJsonWithWrongTypesAsSchemaMismatch) {
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"CartUpdated","body":{"items":[{"sku":"A","quantity":"two"}]}})"),
            DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json(R"({"event_id":3,"customer_id":"c"})"), DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1.5})"), DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json(R"({"event_id":["x"]})"), DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"PageViewed","body":{"page_type":"bogus"}})"),
            DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","body_type":"NoSuchEvent","body":{}})"),
            DecodeError::kSchemaMismatch);
}

TEST(EventDecoder, KeepsWorkingAfterAFailedJsonParse) {
  EventDecoder d;
  std::string good = event_spec_to_json(cart_event());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reject_reason(d, bytes_of(R"({"event_id":"e1","body":{"items":[{"sku":)"), InputFormat::kJson),
              DecodeError::kMalformedJson);
    journey::Event ev;
    DecodeFailure failure;
    ASSERT_TRUE(d.decode(bytes_of(good), InputFormat::kJson, ev, failure)) << failure.detail;
    EXPECT_EQ(to_spec(ev), cart_event());
  }
}

TEST(EventDecoder, RejectsMissingIdentifiers) {
  EventSpec s = cart_event();
  s.customer_id.clear();
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kMissingCustomerId);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","timestamp_ms":1732270000000,"body_type":"CustomerErased","body":{}})"),
            DecodeError::kMissingCustomerId);
  s = cart_event();
  s.event_id.clear();
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kMissingEventId);
  s = cart_event();
  s.customer_id = std::string(257, 'x');
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kInvalidField);
  s.customer_id = std::string(256, 'x');
  EXPECT_EQ(reject_reason_fb(s), std::nullopt);
}

TEST(EventDecoder, RejectsMissingAndUnknownBody) {
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000})"),
            DecodeError::kMissingBody);
  // A body type from a newer schema: the Verifier lets unknown union members through.
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateCustomerErased(fbb);
  auto ev = fb::CreateEvent(fbb, fbb.CreateString("e"), fbb.CreateString("c"), 1732270000000,
                            static_cast<fb::EventBody>(99), body.Union());
  fb::FinishEventBuffer(fbb, ev);
  EventDecoder d;
  EXPECT_EQ(reject_reason(d, {fbb.GetBufferPointer(), fbb.GetSize()}, InputFormat::kFlatBuffers),
            DecodeError::kUnknownBodyType);
}

TEST(EventDecoder, RejectsTimestampsOutsideTheAcceptedRange) {
  EventSpec s = cart_event();
  s.timestamp = EventTime(0);
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kInvalidTimestamp);
  s.timestamp = EventTime(86400000);  // 1970-01-02
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kInvalidTimestamp);
  s.timestamp = EventTime(32503680000000);  // 3000-01-01
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kInvalidTimestamp);
  s.timestamp = EventTime(-5);
  EXPECT_EQ(reject_reason_fb(s), DecodeError::kInvalidTimestamp);

  auto specs = one_event_of_each_type();
  EventSpec shipped = specs[static_cast<int>(EventType::kOrderShipped)];
  shipped.promised_delivery = EventTime(32503680000000);
  EXPECT_EQ(reject_reason_fb(shipped), DecodeError::kInvalidField);
  EventSpec delayed = specs[static_cast<int>(EventType::kShipmentDelayed)];
  delayed.new_eta = EventTime(1000);
  EXPECT_EQ(reject_reason_fb(delayed), DecodeError::kInvalidField);
  delayed.new_eta = EventTime(0);  // absent: allowed
  EXPECT_EQ(reject_reason_fb(delayed), std::nullopt);
}

TEST(EventDecoder, RejectsNegativeQuantitiesAndPrices) {
  EventSpec cart = cart_event();
  cart.items[1].quantity = -1;
  DecodeFailure failure;
  EventDecoder d;
  EventBuilder b;
  EXPECT_EQ(reject_reason(d, b.build(cart), InputFormat::kFlatBuffers, &failure), DecodeError::kInvalidField);
  EXPECT_NE(failure.detail.find("items[1].quantity"), std::string::npos) << failure.detail;
  cart.items[1].quantity = 0;  // a zero line in a cart is tolerated
  EXPECT_EQ(reject_reason_fb(cart), std::nullopt);
  cart.items[0].unit_price = -0.01;
  EXPECT_EQ(reject_reason_fb(cart), DecodeError::kInvalidField);

  EventSpec order = one_event_of_each_type()[static_cast<int>(EventType::kOrderPlaced)];
  order.items[0].quantity = 0;
  EXPECT_EQ(reject_reason_fb(order), DecodeError::kInvalidField);
  order = one_event_of_each_type()[static_cast<int>(EventType::kOrderPlaced)];
  order.amount = -1;
  EXPECT_EQ(reject_reason_fb(order), DecodeError::kInvalidField);
  order = one_event_of_each_type()[static_cast<int>(EventType::kOrderPlaced)];
  order.order_id.clear();
  EXPECT_EQ(reject_reason_fb(order), DecodeError::kInvalidField);

  EventSpec product = one_event_of_each_type()[static_cast<int>(EventType::kProductViewed)];
  product.price = -3;
  EXPECT_EQ(reject_reason_fb(product), DecodeError::kInvalidField);
}

TEST(EventDecoder, RejectsNonFiniteNumbers) {
  EventSpec product = one_event_of_each_type()[static_cast<int>(EventType::kProductViewed)];
  product.price = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(reject_reason_fb(product), DecodeError::kInvalidField);
  product.price = std::numeric_limits<double>::infinity();
  EXPECT_EQ(reject_reason_fb(product), DecodeError::kInvalidField);
  EventSpec cart = cart_event();
  cart.items[0].unit_price = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(reject_reason_fb(cart), DecodeError::kInvalidField);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"ProductViewed","body":{"sku":"A","price":nan}})"),
            DecodeError::kInvalidField);
}

TEST(EventDecoder, RejectsOutOfRangeEnums) {
  auto specs = one_event_of_each_type();
  EventSpec page = specs[static_cast<int>(EventType::kPageViewed)];
  page.page_type = static_cast<journey::PageType>(42);
  EXPECT_EQ(reject_reason_fb(page), DecodeError::kInvalidField);
  EventSpec signup = specs[static_cast<int>(EventType::kSignupStarted)];
  signup.form = static_cast<journey::SignupForm>(3);
  EXPECT_EQ(reject_reason_fb(signup), DecodeError::kInvalidField);
  EventSpec consent = specs[static_cast<int>(EventType::kConsentChanged)];
  consent.channel = static_cast<journey::Channel>(200);  // -56 as the schema's signed byte
  EXPECT_EQ(reject_reason_fb(consent), DecodeError::kInvalidField);
  EventSpec engaged = specs[static_cast<int>(EventType::kChannelEngaged)];
  engaged.engagement = static_cast<journey::EngagementKind>(3);
  EXPECT_EQ(reject_reason_fb(engaged), DecodeError::kInvalidField);
  // JSON may give enums as numbers, which the parser does not range-check either.
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e","customer_id":"c","timestamp_ms":1732270000000,"body_type":"PageViewed","body":{"page_type":9}})"),
            DecodeError::kInvalidField);
}

TEST(EventDecoder, RejectsTooManyLineItems) {
  EventSpec cart = cart_event();
  cart.items.assign(1001, LineItemSpec{"SKU", 1, 1.0, "", 0});
  EXPECT_EQ(reject_reason_fb(cart), DecodeError::kInvalidField);
  cart.items.resize(1000);
  EXPECT_EQ(reject_reason_fb(cart), std::nullopt);
}

TEST(EventDecoder, ParsesInputFormatNames) {
  EXPECT_EQ(parse_input_format("flatbuffers"), InputFormat::kFlatBuffers);
  EXPECT_EQ(parse_input_format("json"), InputFormat::kJson);
  EXPECT_EQ(parse_input_format("auto"), InputFormat::kAuto);
  EXPECT_EQ(parse_input_format("JSON"), std::nullopt);
  EXPECT_EQ(parse_input_format(""), std::nullopt);
}

TEST(EventDecoder, DecodeErrorNamesAreDistinctSnakeCase) {
  std::set<std::string_view> names;
  for (int i = 0; i < kDecodeErrorCount; ++i) {
    auto name = to_string(static_cast<DecodeError>(i));
    EXPECT_NE(name, "unknown");
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kDecodeErrorCount));
  EXPECT_EQ(to_string(DecodeError::kVerifyFailed), "verify_failed");
}

TEST(EventJson, ConvertsBetweenJsonAndFlatBuffers) {
  for (const auto& spec : one_event_of_each_type()) {
    std::string json = event_spec_to_json(spec);
    EXPECT_EQ(json.find('\n'), std::string::npos);
    auto fbytes = event_json_to_flatbuffer(json);
    ASSERT_TRUE(fbytes.is_ok()) << fbytes.status().to_string();
    auto again = event_to_json(bytes_of(*fbytes));
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(*again, json);
  }
  EXPECT_FALSE(event_json_to_flatbuffer("{nope").is_ok());
  EXPECT_FALSE(event_to_json(bytes_of("garbage bytes here")).is_ok());
}

}  // namespace
}  // namespace beckon::codec

namespace beckon::codec {
namespace {

TEST(EventDecoder, RejectsFlatBufferStringsThatAreNotUtf8) {
  // FlatBuffers verification does not check UTF-8, but actions built from these strings must
  // render as JSON: such events are dead-lettered at the door.
  EventSpec spec = testing::cart_event();
  spec.items[0].sku = std::string("LIP\xff\xfe", 5);
  EXPECT_EQ(reject_reason_fb(spec), DecodeError::kInvalidField);
  spec = testing::cart_event();
  spec.customer_id = std::string("c\xc0\xaf", 3);  // overlong encoding of '/'
  EXPECT_EQ(reject_reason_fb(spec), DecodeError::kInvalidField);
  spec = testing::cart_event();
  spec.customer_id = "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x92\x84";  // é, €, 💄
  EXPECT_EQ(reject_reason_fb(spec), std::nullopt);
  // Long ASCII runs (checked eight bytes at a time) before, between and after the bad or good
  // bytes.
  spec = testing::cart_event();
  spec.customer_id = std::string("customer-0000000001-") + "\xed\xa0\x80";  // a UTF-16 surrogate
  EXPECT_EQ(reject_reason_fb(spec), DecodeError::kInvalidField);
  spec = testing::cart_event();
  spec.customer_id = std::string("customer-00000000") + "\xe2\x82" + "01234567";  // truncated sequence
  EXPECT_EQ(reject_reason_fb(spec), DecodeError::kInvalidField);
  spec = testing::cart_event();
  spec.customer_id = "customer-00000000\xc3\xa9-0123456789abcdef\xf0\x9f\x92\x84-tail";
  EXPECT_EQ(reject_reason_fb(spec), std::nullopt);
}

// An ASCII string is accepted after a check of whole words, the last one overlapping the one
// before; that check must still see a single stray byte at any position of any length, and
// hand the string to the strict walk, which names the field.
TEST(EventDecoder, AStrayByteAnywhereInAnyStringIsFound) {
  EventDecoder d;
  EventBuilder b;
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t at = 0; at < len; ++at) {
      EventSpec spec = testing::cart_event();
      spec.customer_id = std::string(len, 'c');
      spec.customer_id[at] = '\xff';
      DecodeFailure failure;
      ASSERT_EQ(reject_reason(d, b.build(spec), InputFormat::kFlatBuffers, &failure), DecodeError::kInvalidField)
          << len << " " << at;
      EXPECT_EQ(failure.detail, "customer_id is not valid UTF-8");
      spec.customer_id[at] = 'x';
      ASSERT_EQ(reject_reason(d, b.build(spec), InputFormat::kFlatBuffers), std::nullopt) << len << " " << at;
    }
  }
  // Every string field, and the items' strings.
  struct Field {
    const char* name;
    std::string EventSpec::*member;
    EventType type;
  };
  const Field fields[] = {
      {"event_id", &EventSpec::event_id, EventType::kCartUpdated},
      {"url", &EventSpec::url, EventType::kPageViewed},
      {"session_id", &EventSpec::session_id, EventType::kPageViewed},
      {"sku", &EventSpec::sku, EventType::kProductViewed},
      {"category", &EventSpec::category, EventType::kProductViewed},
      {"currency", &EventSpec::currency, EventType::kCartUpdated},
      {"order_id", &EventSpec::order_id, EventType::kOrderPlaced},
      {"carrier", &EventSpec::carrier, EventType::kOrderShipped},
      {"reason", &EventSpec::reason, EventType::kShipmentDelayed},
      {"timezone", &EventSpec::timezone, EventType::kProfileUpdated},
      {"locale", &EventSpec::locale, EventType::kProfileUpdated},
  };
  for (const Field& f : fields) {
    EventSpec spec = testing::cart_event();
    spec.type = f.type;
    spec.sku = "SKU-1";  // what the types need besides the field under test
    spec.order_id = "ord-1";
    spec.*f.member = "abc\x80";
    DecodeFailure failure;
    EXPECT_EQ(reject_reason(d, b.build(spec), InputFormat::kFlatBuffers, &failure), DecodeError::kInvalidField)
        << f.name;
    EXPECT_EQ(failure.detail, std::string(f.name) + " is not valid UTF-8");
  }
  EventSpec spec = testing::cart_event();
  ASSERT_GE(spec.items.size(), 1u);
  spec.items.back().category = "skin\xe2\x82";
  EXPECT_EQ(reject_reason_fb(spec), DecodeError::kInvalidField);
}

}  // namespace
}  // namespace beckon::codec

namespace beckon::codec {
namespace {

TEST(EventDecoder, StructuralJsonErrorsAreMalformedAndTypeErrorsAreSchemaMismatches) {
  EXPECT_EQ(reject_reason_json("{]"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json(R"({"event_id": 5})"), DecodeError::kSchemaMismatch);
  // Well-formed JSON that is not an event object is a schema mismatch; text the schema parser
  // tolerates but JSON does not (an unquoted name) is malformed.
  EXPECT_EQ(reject_reason_json("[1, 2]"), DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json("\"an event\""), DecodeError::kSchemaMismatch);
  EXPECT_EQ(reject_reason_json("{event_id: 5}"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json(R"({"event_id":"e1"}})"), DecodeError::kMalformedJson);
  EXPECT_EQ(reject_reason_json("{\"event_id\":\"\xff\"}"), DecodeError::kMalformedJson) << "not UTF-8";
}

TEST(EventDecoder, ClassifiesRejectedJsonByWhetherItIsJson) {
  EXPECT_EQ(classify_json_error(R"({"a": [1, {"b": null}]})"), DecodeError::kSchemaMismatch);
  EXPECT_EQ(classify_json_error("{]"), DecodeError::kMalformedJson);
  EXPECT_EQ(classify_json_error(""), DecodeError::kMalformedJson);
}

}  // namespace
}  // namespace beckon::codec
