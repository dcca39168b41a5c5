// libFuzzer target: arbitrary bytes as a JSON event, through EventDecoder, peek_event_kind and the
// tool converters. Property: no crash, no out-of-bounds read, a failed parse never breaks the
// reused parser, and the peek never contradicts an event that decodes.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/action_encoder.h"
#include "codec/event_decoder.h"
#include "fuzz_touch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static beckon::codec::EventDecoder decoder;  // reused across inputs, as a worker would
  beckon::journey::Event ev;
  beckon::codec::DecodeFailure failure;
  const bool ok = decoder.decode({data, size}, beckon::codec::InputFormat::kJson, ev, failure);
  if (ok) {
    if (ev.customer_id.empty() || ev.event_id.empty()) std::abort();
    for (const auto& it : ev.items) {
      if (it.quantity < 0 || !std::isfinite(it.unit_price) || it.unit_price < 0) std::abort();
    }
    volatile uint64_t sink = beckon::fuzz::touch(ev);
    (void)sink;
  } else if (failure.detail.empty()) {
    std::abort();
  }
  // The JSON peek is bounds-checked on any bytes, and what it tells of an event decode()
  // accepts is the truth (it may also tell nothing).
  const auto kind = beckon::codec::peek_event_kind({data, size}, beckon::codec::InputFormat::kJson);
  if (ok && kind &&
      (kind->type != ev.type ||
       (ev.type == beckon::journey::EventType::kPageViewed && kind->page_type != ev.page_type))) {
    std::abort();
  }

  // JSON -> FlatBuffers -> JSON -> FlatBuffers must be stable once it parses.
  std::string_view text(reinterpret_cast<const char*>(data), size);
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
