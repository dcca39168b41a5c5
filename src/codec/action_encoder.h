#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "core/status.h"
#include "journey/types.h"

namespace beckon::codec {

class SchemaParser;

// Wire format of an action topic (config: `flatbuffers`, `json`).
enum class OutputFormat : uint8_t { kFlatBuffers, kJson };
std::optional<OutputFormat> parse_output_format(std::string_view name);
std::string_view to_string(OutputFormat format);

// Encodes journey::Action per schemas/actions.fbs (file identifier "BKAC"), as a FlatBuffer or as
// FlatBuffers' own JSON mapping of it (one line, quoted keys, enum names such as
// "trigger":"cart_abandonment", default scalars written out).
//
// The payload union carries the trigger's fields: CartPayload (items, cart_value, currency),
// SignupPayload (form), ReplenishmentPayload (sku, category, quantity, last_order_id = order_id,
// last_order_ms = last_order), ShippingDelayPayload (order_id, carrier, promised_delivery_ms,
// new_eta_ms, reason, incentive when any of its fields is set, first_time_buyer =
// context.first_time_buyer).
//
// One per producer thread; not thread-safe. Reuses its FlatBufferBuilder and JSON buffer.
class ActionEncoder {
 public:
  ActionEncoder();
  ~ActionEncoder();
  ActionEncoder(const ActionEncoder&) = delete;
  ActionEncoder& operator=(const ActionEncoder&) = delete;

  // The returned bytes are valid until the next call. FlatBuffers encoding cannot fail; JSON
  // returns an empty span when a string is not valid UTF-8 (GenerateText refuses it), which the
  // caller must treat as an encode failure.
  std::span<const uint8_t> encode(const journey::Action& action, OutputFormat format);

 private:
  flatbuffers::FlatBufferBuilder builder_;
  std::vector<flatbuffers::Offset<void>> items_;  // LineItem offsets, reused
  std::unique_ptr<SchemaParser> json_;            // created on first JSON encode
  std::string json_text_;
};

// Converters for tools (beckon tail / produce / simulator / tests). Not the hot path; each thread
// lazily keeps its own schema parsers. All verify their input first.

// Verified Action FlatBuffer -> compact one-line JSON (flatc mapping).
Result<std::string> action_to_json(std::span<const uint8_t> flatbuffer);
// Verified Event FlatBuffer -> compact one-line JSON (flatc mapping).
Result<std::string> event_to_json(std::span<const uint8_t> flatbuffer);
// Event JSON (flatc mapping) -> verified Event FlatBuffer bytes (with identifier "BKEV").
// Checks the schema only; field validation is EventDecoder's job.
Result<std::string> event_json_to_flatbuffer(std::string_view json);
// Action as FlatBuffer or JSON (first non-space byte '{') -> struct. Verifies, and rejects
// out-of-range enums and a payload that does not match the trigger.
Result<journey::Action> decode_action(std::span<const uint8_t> bytes);

}  // namespace beckon::codec
