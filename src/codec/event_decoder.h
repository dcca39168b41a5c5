#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "journey/types.h"

namespace beckon::codec {

class JsonEventReader;
class SchemaParser;

// Wire format of an input topic (config: `flatbuffers`, `json`, `auto`).
enum class InputFormat : uint8_t {
  kFlatBuffers,
  kJson,
  kAuto,  // JSON if the first non-whitespace byte is '{', else FlatBuffers
};
std::optional<InputFormat> parse_input_format(std::string_view name);
std::string_view to_string(InputFormat format);

// Why an input message was rejected. Used as DLQ header and metric label (see to_string).
enum class DecodeError : uint8_t {
  kEmpty,              // zero-length message
  kOversized,          // longer than DecoderOptions::max_message_bytes
  kVerifyFailed,       // flatbuffers::Verifier rejected the buffer (corrupt, truncated, too deep)
  kWrongIdentifier,    // a FlatBuffer of another schema (e.g. an Action, "BKAC")
  kMalformedJson,      // JSON syntax error
  kSchemaMismatch,     // valid JSON that does not fit events.fbs (wrong type, unknown enum name)
  kMissingBody,        // body absent or body_type NONE
  kUnknownBodyType,    // body_type not known to this build
  kMissingCustomerId,  // customer_id absent or empty
  kMissingEventId,     // event_id absent or empty
  kInvalidTimestamp,   // timestamp_ms outside [min_timestamp_ms, max_timestamp_ms]
  kInvalidField,       // a field value out of range (negative quantity, NaN price, bad enum...)
};
inline constexpr int kDecodeErrorCount = 12;
// snake_case reason, e.g. "verify_failed".
std::string_view to_string(DecodeError error);

struct DecodeFailure {
  DecodeError reason = DecodeError::kEmpty;
  std::string detail;  // human readable, names the field
};

struct DecoderOptions {
  // Messages longer than this are rejected without being parsed. Default 1 MiB.
  size_t max_message_bytes = size_t{1} << 20;
  // Accepted range of timestamp_ms, also applied to promised_delivery_ms and new_eta_ms when
  // present. Defaults: 2000-01-01T00:00Z and 2200-01-01T00:00Z, in ms since the Unix epoch.
  int64_t min_timestamp_ms = 946684800000;
  int64_t max_timestamp_ms = 7258118400000;
  // Longest string accepted for customer_id, in bytes. Default 256.
  size_t max_customer_id_bytes = 256;
  // Most line items accepted in one CartUpdated / OrderPlaced. Default 1000.
  size_t max_line_items = 1000;
};

// Verifies, decodes and validates input events (DESIGN.md §2) into journey::Event views.
//
// Every FlatBuffer is checked by flatbuffers::Verifier before a field is read; JSON is turned into
// the FlatBuffer of the events.fbs schema, which then takes the same path: by JsonEventReader
// when it is plain JSON of the schema's shape, else by flatbuffers::Parser, which accepts or
// rejects it as it always did. The returned Event
// points into the input bytes, or into this decoder's buffers (JSON, misaligned input, line
// items), and is valid until the next decode() call.
//
// One per worker thread; not thread-safe. Buffers are reused, so the FlatBuffers path does not
// allocate per event in steady state.
class EventDecoder {
 public:
  explicit EventDecoder(DecoderOptions opts = {});
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // On success fills `out` and returns true; otherwise fills `failure` and returns false.
  bool decode(std::span<const uint8_t> bytes, InputFormat format, journey::Event& out,
              DecodeFailure& failure);

  const DecoderOptions& options() const { return opts_; }

 private:
  bool strings_are_utf8(const journey::Event& event, DecodeFailure& failure);
  bool decode_flatbuffer(std::span<const uint8_t> bytes, journey::Event& out, DecodeFailure& failure);
  bool decode_json(std::span<const uint8_t> bytes, journey::Event& out, DecodeFailure& failure);

  DecoderOptions opts_;
  std::unique_ptr<JsonEventReader> json_reader_;  // created on first JSON message
  std::unique_ptr<SchemaParser> json_;            // created on the first JSON it declines
  std::vector<uint64_t> aligned_;          // copy of misaligned input (8-byte aligned storage)
  std::vector<journey::LineItemView> items_;
  std::string scratch_text_;              // parser error / identifier found, reused
};

// What kind of event a message is, read from a FlatBuffer without verifying it: the body type
// and, for a page view, the page type. Every read is bounds-checked, so any bytes are safe, but
// the answer is a hint (the worker uses it to leave out of a batch's state reads the customers
// of events that need no state); decode() still verifies and decides. Empty for JSON (as
// `format` says or, for kAuto, as decode() would sniff it), and for a buffer too short or
// malformed to tell or with an unknown body type.
struct EventKind {
  journey::EventType type = journey::EventType::kPageViewed;
  journey::PageType page_type = journey::PageType::kOther;
};
std::optional<EventKind> peek_event_kind(std::span<const uint8_t> bytes, InputFormat format);

// The reason for JSON input flatbuffers::Parser rejected: kSchemaMismatch when it is
// well-formed JSON, else kMalformedJson.
DecodeError classify_json_error(std::string_view rejected_text);

}  // namespace beckon::codec
