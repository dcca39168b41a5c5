#pragma once

// Internal to codec/: helpers shared by the event decoder and the action codec.

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace beckon::codec::detail {

// Verifier limits for our schemas: at most 4 tables deep (Event > body > items > LineItem); the
// table budget leaves room for the line-item limit with margin while bounding verification work.
inline constexpr flatbuffers::uoffset_t kMaxDepth = 16;
inline constexpr flatbuffers::uoffset_t kMaxTables = 4096;

// FlatBuffers scalars are aligned relative to the buffer start; Kafka payloads can sit at any
// address and reading misaligned scalars is undefined behaviour. Returns `bytes` when aligned, else
// a copy in `scratch` (reused: no allocation once it has grown).
inline const uint8_t* aligned_for_read(std::span<const uint8_t> bytes, std::vector<uint64_t>& scratch) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) == 0) return bytes.data();
  scratch.resize((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
  std::memcpy(scratch.data(), bytes.data(), bytes.size());
  return reinterpret_cast<const uint8_t*>(scratch.data());
}

// True for four bytes that look like a file identifier ([A-Z0-9_]). In a FlatBuffer without an
// identifier these bytes hold padding (zeros) or the root table's vtable, whose first uint16 (the
// vtable size) is small, so an identifier-shaped value there means "another schema's buffer".
inline bool looks_like_identifier(const uint8_t* p) {
  for (int i = 0; i < 4; ++i) {
    uint8_t c = p[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

enum class VerifyResult : uint8_t { kOk, kWrongIdentifier, kFailed };

// Verifies a buffer of root type T whose schema identifier is `identifier`.
// The identifier is optional on input: producers in other languages often Finish() without one,
// and the Verifier alone establishes that reading is safe. When present it must match; a buffer
// carrying another identifier (e.g. an Action "BKAC" on an event topic) is kWrongIdentifier.
template <typename T>
VerifyResult verify_root(const uint8_t* data, size_t size, const char* identifier, std::string* found_id) {
  if (size >= flatbuffers::kFileIdentifierLength + sizeof(flatbuffers::uoffset_t) &&
      !flatbuffers::BufferHasIdentifier(data, identifier) && looks_like_identifier(data + sizeof(flatbuffers::uoffset_t))) {
    if (found_id) found_id->assign(reinterpret_cast<const char*>(data + 4), 4);
    return VerifyResult::kWrongIdentifier;
  }
  // The identifier, when present, was checked above: the Verifier is not asked to check it again.
  flatbuffers::Verifier verifier(data, size, kMaxDepth, kMaxTables);
  return verifier.VerifyBuffer<T>(nullptr) ? VerifyResult::kOk : VerifyResult::kFailed;
}

inline std::string_view view(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

inline bool starts_like_json(std::span<const uint8_t> bytes) {
  for (uint8_t c : bytes) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace beckon::codec::detail
