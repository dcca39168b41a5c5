// libFuzzer target: arbitrary bytes as a JSON event, through EventDecoder and the tool converters.
// Properties: no crash, no out-of-bounds read, a failed parse never breaks the reused parser, and
// whatever JsonEventReader builds itself, flatbuffers::Parser accepts and builds alike (both
// render to the same JSON), so taking the reader's buffer never changes a decision.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "codec/action_encoder.h"
#include "codec/event_decoder.h"
#include "codec/json_event_reader.h"
#include "codec/schema_parser.h"
#include "schemas/events_generated.h"
#include "fuzz_touch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static beckon::codec::EventDecoder decoder;  // reused across inputs, as a worker would
  beckon::journey::Event ev;
  beckon::codec::DecodeFailure failure;
  if (decoder.decode({data, size}, beckon::codec::InputFormat::kJson, ev, failure)) {
    if (ev.customer_id.empty() || ev.event_id.empty()) std::abort();
    for (const auto& it : ev.items) {
      if (it.quantity < 0 || !std::isfinite(it.unit_price) || it.unit_price < 0) std::abort();
    }
    volatile uint64_t sink = beckon::fuzz::touch(ev);
    (void)sink;
  } else if (failure.detail.empty()) {
    std::abort();
  }

  std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    static beckon::codec::JsonEventReader reader;
    static beckon::codec::SchemaParser parser(beckon::codec::WireSchema::kEvents);
    static beckon::codec::SchemaParser renderer(beckon::codec::WireSchema::kEvents);
    const auto built = reader.read(text);
    if (!built.empty()) {
      const std::vector<uint8_t> ours(built.begin(), built.end());
      std::string error;
      const auto theirs = parser.parse_json(text, error);
      if (theirs.empty()) std::abort();  // the reader took what the Parser rejects
      flatbuffers::Verifier verify_ours(ours.data(), ours.size());
      flatbuffers::Verifier verify_theirs(theirs.data(), theirs.size());
      if (!beckon::fb::VerifyEventBuffer(verify_ours) || !beckon::fb::VerifyEventBuffer(verify_theirs)) std::abort();
      std::string a, b;
      const bool rendered_a = renderer.to_json(ours.data(), a);
      const bool rendered_b = renderer.to_json(theirs.data(), b);
      if (rendered_a != rendered_b || a != b) std::abort();  // built differently
    }
  }

  // JSON -> FlatBuffers -> JSON -> FlatBuffers must be stable once it parses.
  auto fb = beckon::codec::event_json_to_flatbuffer(text);
  if (fb.is_ok()) {
    auto json = beckon::codec::event_to_json(
        {reinterpret_cast<const uint8_t*>(fb->data()), fb->size()});
    if (json.is_ok()) {
      auto again = beckon::codec::event_json_to_flatbuffer(*json);
      if (!again.is_ok()) std::abort();
    }
  }
  return 0;
}
