#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace flatbuffers {
class Parser;
}

namespace beckon::codec {

// Which wire schema a SchemaParser is loaded with.
enum class WireSchema : uint8_t { kEvents, kActions };

// Internal to codec/: a flatbuffers::Parser loaded once with an embedded wire schema, reused to
// turn JSON into FlatBuffers and FlatBuffers into JSON. After a failed parse the flatbuffers::Parser
// may keep partial internal state, so it is rebuilt (≈40 µs) before the next use; successful
// parses reuse it (≈4 µs per small event). Owned by one codec object; not thread-safe.
class SchemaParser {
 public:
  explicit SchemaParser(WireSchema schema);
  ~SchemaParser();
  SchemaParser(const SchemaParser&) = delete;
  SchemaParser& operator=(const SchemaParser&) = delete;

  // Parses `json` into the parser's builder. On success returns the finished buffer (with the
  // schema's file identifier), valid until the next call; on failure returns an empty span and
  // sets `error` to the parser's message.
  std::span<const uint8_t> parse_json(std::string_view json, std::string& error);

  // Writes the schema's JSON mapping of a *verified* buffer to `out` (replaced), one line,
  // quoted keys, default scalars included. False if the buffer cannot be rendered (e.g. non-UTF-8).
  bool to_json(const uint8_t* verified_buffer, std::string& out);

 private:
  void rebuild();

  WireSchema schema_;
  std::unique_ptr<flatbuffers::Parser> parser_;
  std::string text_;  // NUL-terminated copy of the JSON input, reused
  bool dirty_ = false;
};

}  // namespace beckon::codec
