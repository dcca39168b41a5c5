#include "core/hash.h"

#include <xxhash.h>

namespace beckon {

uint64_t stable_hash64(std::string_view bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

uint64_t HashBuilder::digest64() const {
  const std::string_view b = bytes();
  return XXH3_64bits(b.data(), b.size());
}

std::string HashBuilder::hex128() const {
  const std::string_view b = bytes();
  XXH128_hash_t h = XXH3_128bits(b.data(), b.size());
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
