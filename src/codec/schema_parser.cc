#include "codec/schema_parser.h"

#include <flatbuffers/idl.h>

#include <stdexcept>

#include "schemas/schema_text.h"

namespace beckon::codec {
namespace {

// actions.fbs says `include "events.fbs";`, which flatbuffers::Parser would resolve on disk. The
// texts are embedded, so events.fbs is parsed first into the same Parser and the include line is
// dropped from actions.fbs; the second Parse call sets the root type and identifier to Action.
std::string without_include(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.rfind("include ", 0) != 0) {
      out.append(line);
      out.push_back('\n');
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace

SchemaParser::SchemaParser(WireSchema schema) : schema_(schema) { rebuild(); }

SchemaParser::~SchemaParser() = default;

void SchemaParser::rebuild() {
  flatbuffers::IDLOptions opts;
  opts.strict_json = true;                     // output: quoted keys
  opts.indent_step = -1;                       // output: one line
  opts.output_default_scalars_in_json = true;  // output: explicit values for templates
  // Input: a producer on a newer schema may send fields this build does not know; like the binary
  // form, ignore them rather than reject the event.
  opts.skip_unexpected_fields_in_json = true;
  auto parser = std::make_unique<flatbuffers::Parser>(opts);
  std::string events(schemas::events_fbs());
  // The schema texts are compiled in: failing to parse them is a build defect, not bad input.
  if (!parser->Parse(events.c_str(), nullptr, "events.fbs")) {
    throw std::logic_error("codec: embedded events.fbs does not parse: " + parser->error_);
  }
  if (schema_ == WireSchema::kActions) {
    std::string actions = without_include(schemas::actions_fbs());
    if (!parser->Parse(actions.c_str(), nullptr, "actions.fbs")) {
      throw std::logic_error("codec: embedded actions.fbs does not parse: " + parser->error_);
    }
  }
  parser_ = std::move(parser);
  dirty_ = false;
}

std::span<const uint8_t> SchemaParser::parse_json(std::string_view json, std::string& error) {
  if (dirty_) rebuild();
  text_.assign(json.data(), json.size());  // Parser needs NUL termination
  if (text_.find('\0') != std::string::npos) {
    error = "JSON contains a NUL byte";
    return {};
  }
  if (!parser_->ParseJson(text_.c_str())) {
    error = parser_->error_;
    dirty_ = true;
    return {};
  }
  const auto& b = parser_->builder_;
  return {b.GetBufferPointer(), b.GetSize()};
}

bool SchemaParser::to_json(const uint8_t* verified_buffer, std::string& out) {
  if (dirty_) rebuild();
  out.clear();
  return flatbuffers::GenerateText(*parser_, verified_buffer, &out);
}

}  // namespace beckon::codec
