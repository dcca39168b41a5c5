#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace beckon {

// Stable 64-bit hash (XXH3) of bytes. Stable across runs, machines and versions of beckon:
// it decides action ids, holdout buckets and A/B variants, which must never change for the
// same input.
uint64_t stable_hash64(std::string_view bytes, uint64_t seed = 0);

// Builds a stable hash over a sequence of fields. Each field is length-prefixed, so ("ab","c")
// and ("a","bc") differ. Not thread-safe; cheap to create.
class HashBuilder {
 public:
  HashBuilder& add(std::string_view field);
  HashBuilder& add(uint64_t field);
  // 64-bit digest.
  uint64_t digest64() const;
  // 128-bit digest as 32 lowercase hex characters (the action id format).
  std::string hex128() const;

 private:
  std::string buffer_;
};

// 16 lowercase hex characters of v.
std::string to_hex64(uint64_t v);

}  // namespace beckon
