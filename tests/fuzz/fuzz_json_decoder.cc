// libFuzzer target: arbitrary bytes as a JSON event, through EventDecoder and the tool converters.
// Property: no crash, no out-of-bounds read, and a failed parse never breaks the reused parser.

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
