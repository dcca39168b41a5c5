#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace beckon {

// The bytes of a string, as the byte spans Kafka payloads and FlatBuffers use. A view: valid
// while the string lives.
inline std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace beckon
