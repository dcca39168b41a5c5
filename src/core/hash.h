#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace beckon {

// Stable 64-bit hash (XXH3) of bytes. Stable across runs, machines and versions of beckon:
// it decides action ids, holdout buckets and A/B variants, which must never change for the
// same input.
uint64_t stable_hash64(std::string_view bytes, uint64_t seed = 0);

// Builds a stable hash over a sequence of fields. Each field is length-prefixed, so ("ab","c")
// and ("a","bc") differ: the digest is XXH3 over, per field, its length as 8 little-endian
// bytes then its bytes (an integer field is its 8 little-endian bytes). Not thread-safe; cheap
// to create: fields are gathered on the stack (timer and action ids hash short fields on every
// event), and only input longer than the inline buffer moves to the heap.
class HashBuilder {
 public:
  HashBuilder() {}  // user-provided, so the inline buffer is not zeroed
  HashBuilder& add(std::string_view field) {
    add(static_cast<uint64_t>(field.size()));
    append(field.data(), field.size());
    return *this;
  }
  HashBuilder& add(uint64_t field) {
    if constexpr (std::endian::native != std::endian::little) field = __builtin_bswap64(field);
    char bytes[8];
    std::memcpy(bytes, &field, 8);  // one 8-byte store
    append(bytes, 8);
    return *this;
  }
  // 64-bit digest.
  uint64_t digest64() const;
  // 128-bit digest as 32 lowercase hex characters (the action id format).
  std::string hex128() const;

 private:
  void append(const char* p, size_t n) {
    if (n == 0) return;  // an empty view may carry a null pointer, which memcpy must not get
    if (heap_.empty() && size_ + n <= sizeof(inline_)) {
      std::memcpy(inline_ + size_, p, n);
      size_ += n;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_, size_);
    heap_.append(p, n);
  }
  std::string_view bytes() const { return heap_.empty() ? std::string_view(inline_, size_) : std::string_view(heap_); }

  char inline_[192];
  size_t size_ = 0;
  std::string heap_;  // all the bytes, once they outgrow inline_
};

// 16 lowercase hex characters of v.
std::string to_hex64(uint64_t v);

}  // namespace beckon
