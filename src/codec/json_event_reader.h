#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace beckon::codec {

// Internal to codec/: turns the common JSON input event into its FlatBuffer without
// flatbuffers::Parser, which costs several microseconds per event. The document is parsed with
// simdjson (RFC 8259, UTF-8 validated) and the buffer built with the generated events.fbs
// builders, so the result decodes exactly as the Parser's buffer of the same text would.
//
// It takes only what it can judge alike: a strict-JSON object whose fields of the schema come
// once each, with `body_type` (a body type's name) before `body`, strings as strings, integers
// within their field's range, numbers for doubles, true/false (or null) for optional bools,
// true/false for other bools and enum values by name; keys the schema lacks are skipped, as the
// Parser skips them. Anything else (any other null, a repeated field, an enum as a number, JSON5
// syntax, malformed text, ...) is declined, and the caller hands the text to flatbuffers::Parser,
// which accepts it or names the error as before. The unit tests and the JSON fuzz target check
// that every buffer built here renders to the same JSON as the Parser's.
//
// Owned by one EventDecoder; not thread-safe. The parser's and builder's buffers are reused.
class JsonEventReader {
 public:
  JsonEventReader();
  ~JsonEventReader();
  JsonEventReader(const JsonEventReader&) = delete;
  JsonEventReader& operator=(const JsonEventReader&) = delete;

  // The finished buffer (with the schema's file identifier), valid until the next call; empty
  // when the text is declined.
  std::span<const uint8_t> read(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace beckon::codec
