#include "core/hash.h"

#include <xxhash.h>

namespace beckon {

uint64_t stable_hash64(std::string_view bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

HashBuilder& HashBuilder::add(std::string_view field) {
  add(static_cast<uint64_t>(field.size()));
  buffer_.append(field);
  return *this;
}

HashBuilder& HashBuilder::add(uint64_t field) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((field >> (8 * i)) & 0xff);
  buffer_.append(bytes, 8);
  return *this;
}

uint64_t HashBuilder::digest64() const { return XXH3_64bits(buffer_.data(), buffer_.size()); }

std::string HashBuilder::hex128() const {
  XXH128_hash_t h = XXH3_128bits(buffer_.data(), buffer_.size());
  return to_hex64(h.high64) + to_hex64(h.low64);
}

std::string to_hex64(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

}  // namespace beckon
