// libFuzzer target: arbitrary bytes as a FlatBuffers event and in auto-detect mode.
// Property: decode() never crashes or reads out of bounds; it either yields a valid event or a
// reason. Decoded events satisfy the validation invariants. peek_event_kind() never reads out of
// bounds either, and agrees with every event decode() accepts.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "codec/event_decoder.h"
#include "fuzz_touch.h"

namespace {

void check(bool ok, const beckon::journey::Event& ev, const beckon::codec::DecodeFailure& failure) {
  if (ok) {
    if (ev.customer_id.empty() || ev.event_id.empty()) std::abort();
    for (const auto& it : ev.items) {
      if (it.quantity < 0 || !std::isfinite(it.unit_price) || it.unit_price < 0) std::abort();
    }
    volatile uint64_t sink = beckon::fuzz::touch(ev);
    (void)sink;
  } else if (beckon::codec::to_string(failure.reason).empty() || failure.detail.empty()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static beckon::codec::EventDecoder decoder;  // reused across inputs, as a worker would
  beckon::journey::Event ev;
  beckon::codec::DecodeFailure failure;
  std::span<const uint8_t> bytes(data, size);

  const bool ok = decoder.decode(bytes, beckon::codec::InputFormat::kFlatBuffers, ev, failure);
  check(ok, ev, failure);
  // The unverified peek is bounds-checked on any bytes, and on a valid event tells its kind.
  const auto kind = beckon::codec::peek_event_kind(bytes, beckon::codec::InputFormat::kFlatBuffers);
  if (ok && (!kind || kind->type != ev.type ||
             (ev.type == beckon::journey::EventType::kPageViewed && kind->page_type != ev.page_type))) {
    std::abort();
  }
  check(decoder.decode(bytes, beckon::codec::InputFormat::kAuto, ev, failure), ev, failure);

  // The same bytes at an odd address take the aligned-copy path.
  std::vector<uint8_t> shifted(size + 1);
  if (size > 0) std::memcpy(shifted.data() + 1, data, size);
  check(decoder.decode({shifted.data() + 1, size}, beckon::codec::InputFormat::kFlatBuffers, ev, failure),
        ev, failure);
  return 0;
}
