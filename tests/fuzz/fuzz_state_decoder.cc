// libFuzzer target: arbitrary bytes as a stored customer state (the RocksDB value).
// Properties: decode() never crashes, reads out of bounds or allocates without bound; it either
// fails with Corruption or yields a state that encodes (as the current version) to bytes which
// decode to the same state and encode again to the same bytes.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "journey/customer_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using beckon::journey::CustomerState;
  using beckon::journey::CustomerStateCodec;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CustomerState state;
  beckon::Status s = CustomerStateCodec::decode(bytes, state);
  if (!s.is_ok()) {
    if (s.code() != beckon::Status::Code::kCorruption || s.message().empty()) std::abort();
    return 0;
  }
  std::string encoded;
  CustomerStateCodec::encode(state, encoded);
  if (encoded.empty() || static_cast<uint8_t>(encoded[0]) != CustomerStateCodec::kVersion) std::abort();
  CustomerState again;
  if (!CustomerStateCodec::decode(encoded, again).is_ok()) std::abort();
  // Doubles compare by value (a NaN is never equal): compare the encodings instead.
  std::string reencoded;
  CustomerStateCodec::encode(again, reencoded);
  if (reencoded != encoded) std::abort();
  return 0;
}
