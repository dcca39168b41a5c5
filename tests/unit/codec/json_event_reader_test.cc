#include "codec/json_event_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/event_builder.h"
#include "codec/schema_parser.h"
#include "schemas/events_generated.h"
#include "test_events.h"

namespace beckon::codec {
namespace {

using testing::one_event_of_each_type;

// The schema's JSON rendering of a buffer (default scalars included): two buffers that render
// alike decode alike. Empty when the buffer does not verify.
std::string render(std::span<const uint8_t> buffer) {
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  if (!fb::VerifyEventBuffer(verifier)) return {};
  SchemaParser renderer(WireSchema::kEvents);
  std::string out;
  return renderer.to_json(buffer.data(), out) ? out : std::string();
}

// What flatbuffers::Parser makes of `json`, rendered; empty when it rejects it.
std::string parser_view(std::string_view json) {
  SchemaParser parser(WireSchema::kEvents);
  std::string error;
  auto buffer = parser.parse_json(json, error);
  if (buffer.empty()) return {};
  const std::vector<uint8_t> copy(buffer.begin(), buffer.end());
  return render(copy);
}

std::string with_body(std::string_view body_type, std::string_view body) {
  return R"({"event_id":"e1","customer_id":"c42","timestamp_ms":1732270000000,"body_type":")" +
         std::string(body_type) + R"(","body":)" + std::string(body) + "}";
}

// Texts the reader builds itself: each must render exactly as the Parser's buffer does.
std::vector<std::string> accepted_texts() {
  std::vector<std::string> texts;
  for (const auto& spec : one_event_of_each_type()) texts.push_back(event_spec_to_json(spec));
  texts.push_back(
      R"({"event_id":"e1","customer_id":"c42","timestamp_ms":1732270000000,"body_type":"CartUpdated","body":{"items":[{"sku":"LIP-01","quantity":1,"unit_price":19.5}],"currency":"EUR"}})");
  texts.push_back(with_body("CartUpdated", R"({"items":[],"currency":"EUR"})"));
  texts.push_back(with_body("CartUpdated", R"({})"));
  texts.push_back(with_body("OrderPlaced", R"({"order_id":"o1","total":19,"items":[{"sku":"A","quantity":0,"unit_price":-0.0},{"sku":"B","unit_price":1e-300,"replenish_after_days":2147483647}]})"));
  texts.push_back(with_body("ProductViewed", R"({"sku":"s","price":18446744073709551615})"));
  texts.push_back(with_body("ProductViewed", R"({"sku":"s","price":0.1000000000000000055511151231257827})"));
  texts.push_back(with_body("PageViewed", R"({"url":"https://shop.example/p?q=\"a\"&x=\u00e9\ud83d\ude00\n","page_type":"loyalty_signup","session_id":""})"));
  // A page type absent (the schema's default, other) and one given as its first value (home).
  texts.push_back(with_body("PageViewed", R"({"url":"/"})"));
  texts.push_back(with_body("PageViewed", R"({"url":"/","page_type":"home"})"));
  texts.push_back(with_body("ProfileUpdated", R"({"timezone":"Europe/Paris","email_known":false,"phone_known":null,"push_token_known":true})"));
  texts.push_back(with_body("ProfileUpdated", R"({})"));
  texts.push_back(with_body("ShipmentDelayed", R"({"order_id":"o","new_eta_ms":-9223372036854775808,"reason":"weather"})"));
  texts.push_back(with_body("ChannelEngaged", R"({"channel":"ads_audience","kind":"clicked"})"));
  texts.push_back(with_body("CustomerErased", R"({})"));
  // Keys the schema lacks are skipped, at every level, whatever their value.
  texts.push_back(
      R"({"added_later":{"x":[1,null,{"y":"z"}]},"event_id":"e","customer_id":"c","timestamp_ms":5,"body_type":"OrderPlaced","schema":2,"body":{"order_id":"o","channel":null,"items":[{"sku":"A","colour":"red"}]}})");
  // Keys spelled with escapes are the same keys.
  texts.push_back(R"({"event\u005fid":"e","customer_id":"c","timestamp_ms":5,"body_type":"OrderDelivered","body":{"order_id":"o"}})");
  // Whitespace anywhere, and no event id or timestamp (decode judges those, the same way).
  texts.push_back(" \n{ \"customer_id\" : \"c\" ,\t\"body_type\":\"CustomerErased\", \"body\" : { } }\r\n");
  return texts;
}

TEST(JsonEventReader, BuildsWhatTheParserBuildsFromTheSameText) {
  JsonEventReader reader;
  for (const std::string& text : accepted_texts()) {
    const auto built = reader.read(text);
    ASSERT_FALSE(built.empty()) << "declined: " << text;
    // The decoder reads the buffer in place only when it is 8-byte aligned (else it copies it).
    EXPECT_EQ(reinterpret_cast<uintptr_t>(built.data()) % 8, 0u) << text;
    const std::string expected = parser_view(text);
    ASSERT_FALSE(expected.empty()) << "the Parser rejects: " << text;
    EXPECT_EQ(render(built), expected) << text;
  }
}

// Texts outside the plain shape go to the Parser, which accepts or rejects them as before.
TEST(JsonEventReader, DeclinesWhatItCannotJudgeLikeTheParser) {
  const std::vector<std::string> declined = {
      with_body("PageViewed", R"({"url":null})"),                                      // null
      with_body("ProfileUpdated", R"({"email_known":null,"email_known":true})"),       // repeated
      with_body("PageViewed", R"({"url":"a","url":"b"})"),                             // repeated
      with_body("PageViewed", R"({"page_type":2})"),                                   // enum by number
      with_body("PageViewed", R"({"page_type":"basket"})"),                            // unknown name
      with_body("SignupStarted", R"({"form":"PageType.home"})"),                       // qualified
      with_body("CartUpdated", R"({"items":[{"sku":"a","quantity":1.0}]})"),           // int as float
      with_body("CartUpdated", R"({"items":[{"sku":"a","quantity":2147483648}]})"),   // beyond int32
      with_body("CartUpdated", R"({"items":[{"sku":"a","quantity":"1"}]})"),          // string for int
      with_body("CartUpdated", R"({"items":{"sku":"a"}})"),                             // not an array
      with_body("CartUpdated", R"({"items":[1]})"),                                     // item not a table
      with_body("ConsentChanged", R"({"channel":"sms","granted":1})"),                 // bool as number
      with_body("ProductViewed", R"({"price":"19.5"})"),                               // string for double
      with_body("OrderShipped", R"({"promised_delivery_ms":9223372036854775808})"),   // beyond int64
      with_body("NONE", R"({})"),
      with_body("FutureEvent", R"({})"),
      R"({"event_id":"e","customer_id":"c","timestamp_ms":5,"body":{},"body_type":"CustomerErased"})",
      R"({"event_id":"e","customer_id":"c","timestamp_ms":5,"body_type":"CustomerErased"})",
      R"({"event_id":"e","customer_id":"c","timestamp_ms":5,"body":{}})",
      R"({"event_id":"e","customer_id":"c","timestamp_ms":5,"timestamp_ms":6,"body_type":"CustomerErased","body":{}})",
      R"({event_id:"e",customer_id:"c",timestamp_ms:5,body_type:"CustomerErased",body:{}})",  // JSON5
      R"({"event_id":"e","customer_id":"c","timestamp_ms":5,"body_type":"CustomerErased","body":{},})",
      R"({"event_id":"e","customer_id":"c","timestamp_ms":1.7e12,"body_type":"CustomerErased","body":{}})",
      "{\"event_id\":\"\xff\",\"customer_id\":\"c\",\"timestamp_ms\":5,\"body_type\":\"CustomerErased\",\"body\":{}}",
      R"([{"event_id":"e"}])",
      R"({"event_id":"e"} {"event_id":"f"})",
      R"({"event_id":"e")",
      "",
  };
  JsonEventReader reader;
  for (const std::string& text : declined) EXPECT_TRUE(reader.read(text).empty()) << text;
}

TEST(JsonEventReader, KeepsWorkingAfterDecliningAndReusesItsBuffers) {
  JsonEventReader reader;
  const auto texts = accepted_texts();
  for (int round = 0; round < 3; ++round) {
    for (const std::string& text : texts) {
      EXPECT_TRUE(reader.read(R"({"event_id":)").empty());
      const auto built = reader.read(text);
      ASSERT_FALSE(built.empty()) << text;
      EXPECT_EQ(render(built), parser_view(text)) << text;
    }
  }
}

}  // namespace
}  // namespace beckon::codec
