#include "codec/json_event_reader.h"

#include <flatbuffers/flatbuffers.h>
#include <simdjson.h>

#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "schemas/events_generated.h"

namespace beckon::codec {
namespace {

namespace fb = beckon::fb;
namespace dom = simdjson::dom;

enum class Kind : uint8_t { kString, kInt32, kInt64, kDouble, kBool, kOptionalBool, kEnum, kItems, kObject };

// One field of a table as the JSON mapping spells it. For kEnum, the schema's value names
// (index = value) as the generated code lists them.
struct FieldSpec {
  std::string_view name;
  Kind kind;
  const char* const* enum_names = nullptr;
  int enum_count = 0;
};

// A field's value as read: `seen` when its key was there (`position`: its place among the
// object's fields of the schema), `present` when it holds a value (an optional scalar given as
// null is seen and absent, as the Parser reads it).
struct Slot {
  bool seen = false;
  bool present = false;
  int position = 0;
  std::string_view s;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  dom::array array;    // kItems
  dom::object object;  // kObject
};

constexpr int kMaxFields = 5;

template <typename E>
constexpr int enum_count() {
  return static_cast<int>(E::MAX) + 1;
}

const FieldSpec kPageType{"page_type", Kind::kEnum, fb::EnumNamesPageType(), enum_count<fb::PageType>()};
const FieldSpec kForm{"form", Kind::kEnum, fb::EnumNamesSignupForm(), enum_count<fb::SignupForm>()};
const FieldSpec kChannel{"channel", Kind::kEnum, fb::EnumNamesChannel(), enum_count<fb::Channel>()};
const FieldSpec kEngagement{"kind", Kind::kEnum, fb::EnumNamesEngagementKind(), enum_count<fb::EngagementKind>()};

// Fields per body type, indexed by fb::EventBody (0 = NONE: none).
const std::array<std::vector<FieldSpec>, enum_count<fb::EventBody>()> kBodies = {{
    {},
    {{"url", Kind::kString}, kPageType, {"session_id", Kind::kString}},
    {{"sku", Kind::kString}, {"category", Kind::kString}, {"price", Kind::kDouble}},
    {{"items", Kind::kItems}, {"currency", Kind::kString}},
    {{"cart_value", Kind::kDouble}, {"currency", Kind::kString}},
    {{"order_id", Kind::kString}, {"items", Kind::kItems}, {"total", Kind::kDouble}, {"currency", Kind::kString}},
    {kForm},
    {kForm},
    {{"order_id", Kind::kString}, {"carrier", Kind::kString}, {"promised_delivery_ms", Kind::kInt64}},
    {{"order_id", Kind::kString}, {"new_eta_ms", Kind::kInt64}, {"reason", Kind::kString}},
    {{"order_id", Kind::kString}},
    {kChannel, {"granted", Kind::kBool}},
    {kChannel, kEngagement},
    {{"timezone", Kind::kString},
     {"locale", Kind::kString},
     {"email_known", Kind::kOptionalBool},
     {"phone_known", Kind::kOptionalBool},
     {"push_token_known", Kind::kOptionalBool}},
    {},
}};

// The event table; body_type and body are its last two fields.
const std::vector<FieldSpec> kEvent = {{"event_id", Kind::kString},
                                       {"customer_id", Kind::kString},
                                       {"timestamp_ms", Kind::kInt64},
                                       {"body_type", Kind::kEnum, fb::EnumNamesEventBody(), enum_count<fb::EventBody>()},
                                       {"body", Kind::kObject}};
constexpr size_t kBodyType = 3, kBody = 4;

const std::vector<FieldSpec> kLineItem = {{"sku", Kind::kString},
                                          {"quantity", Kind::kInt32},
                                          {"unit_price", Kind::kDouble},
                                          {"category", Kind::kString},
                                          {"replenish_after_days", Kind::kInt32}};

// The index of `name` among `count` enum value names, or -1.
int enum_index(std::string_view name, const char* const* names, int count) {
  for (int i = 0; i < count; ++i) {
    if (name == names[i]) return i;
  }
  return -1;
}

// Reads one value as `spec` wants it; false when its JSON type does not fit plainly.
bool read_value(const FieldSpec& spec, dom::element value, Slot& slot) {
  const dom::element_type type = value.type();
  switch (spec.kind) {
    case Kind::kString:
      if (type != dom::element_type::STRING) return false;
      return value.get_string().get(slot.s) == simdjson::SUCCESS;
    case Kind::kInt32:
    case Kind::kInt64: {
      if (type != dom::element_type::INT64) return false;
      if (value.get_int64().get(slot.i) != simdjson::SUCCESS) return false;
      return spec.kind == Kind::kInt64 ||
             (slot.i >= std::numeric_limits<int32_t>::min() && slot.i <= std::numeric_limits<int32_t>::max());
    }
    case Kind::kDouble:
      // An integer converts as strtod would read its digits (both round to nearest).
      if (type == dom::element_type::DOUBLE) return value.get_double().get(slot.d) == simdjson::SUCCESS;
      if (type == dom::element_type::INT64) {
        int64_t v;
        if (value.get_int64().get(v) != simdjson::SUCCESS) return false;
        slot.d = static_cast<double>(v);
        return true;
      }
      if (type == dom::element_type::UINT64) {
        uint64_t v;
        if (value.get_uint64().get(v) != simdjson::SUCCESS) return false;
        slot.d = static_cast<double>(v);
        return true;
      }
      return false;
    case Kind::kOptionalBool:
      if (type == dom::element_type::NULL_VALUE) {
        slot.present = false;
        return true;
      }
      [[fallthrough]];
    case Kind::kBool:
      if (type != dom::element_type::BOOL) return false;
      return value.get_bool().get(slot.b) == simdjson::SUCCESS;
    case Kind::kEnum: {
      std::string_view name;
      if (type != dom::element_type::STRING || value.get_string().get(name) != simdjson::SUCCESS) return false;
      const int index = enum_index(name, spec.enum_names, spec.enum_count);
      if (index < 0) return false;
      slot.i = index;
      return true;
    }
    case Kind::kItems:
      return value.get_array().get(slot.array) == simdjson::SUCCESS;
    case Kind::kObject:
      return value.get_object().get(slot.object) == simdjson::SUCCESS;
  }
  return false;
}

// Reads the fields of `object` into `slots` (index = the field's index in `specs`); false on a
// repeated key or a value that does not fit. Keys the schema lacks are skipped, as the Parser
// skips them (SchemaParser: skip_unexpected_fields_in_json), whatever their JSON value.
bool read_fields(dom::object object, const std::vector<FieldSpec>& specs, Slot* slots) {
  int position = 0;
  for (dom::key_value_pair field : object) {
    size_t k = 0;
    while (k < specs.size() && specs[k].name != field.key) ++k;
    if (k == specs.size()) continue;  // a field added later: skipped, as the Parser is told to
    if (slots[k].seen) return false;
    slots[k].seen = slots[k].present = true;
    slots[k].position = position++;
    if (!read_value(specs[k], field.value, slots[k])) return false;
  }
  return true;
}

}  // namespace

struct JsonEventReader::Impl {
  dom::parser parser;
  std::string padded;  // the input with simdjson's padding after it
  flatbuffers::FlatBufferBuilder fbb{1024};
  std::vector<flatbuffers::Offset<fb::LineItem>> items;

  flatbuffers::Offset<flatbuffers::String> string(const Slot& slot) {
    return slot.present ? fbb.CreateString(slot.s.data(), slot.s.size()) : 0;
  }
  // The vector of line items of `slot` (absent: 0); false when an item does not fit.
  bool line_items(const Slot& slot, flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::LineItem>>>& out);
  // The body table of type `body`; false when a field does not fit.
  bool body_table(fb::EventBody body, dom::object object, flatbuffers::Offset<void>& out);
};

bool JsonEventReader::Impl::line_items(
    const Slot& slot, flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::LineItem>>>& out) {
  out = 0;
  if (!slot.present) return true;
  items.clear();
  for (dom::element item : slot.array) {
    dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) return false;
    Slot s[kMaxFields];
    if (!read_fields(object, kLineItem, s)) return false;
    const auto sku = string(s[0]);
    const auto category = string(s[3]);
    fb::LineItemBuilder b(fbb);
    b.add_sku(sku);
    if (s[1].present) b.add_quantity(static_cast<int32_t>(s[1].i));  // absent: the schema's default (1)
    b.add_unit_price(s[2].d);
    b.add_category(category);
    b.add_replenish_after_days(static_cast<int32_t>(s[4].i));
    items.push_back(b.Finish());
  }
  out = fbb.CreateVector(items);
  return true;
}

bool JsonEventReader::Impl::body_table(fb::EventBody body, dom::object object, flatbuffers::Offset<void>& out) {
  Slot s[kMaxFields];
  if (!read_fields(object, kBodies[static_cast<size_t>(body)], s)) return false;
  auto optional_bool = [](const Slot& slot) {
    return slot.present ? flatbuffers::Optional<bool>(slot.b) : flatbuffers::nullopt;
  };
  // Nested strings and vectors first: a table is built with nothing else under construction.
  // An absent scalar is passed as 0 (Slot's value), which is the schema's default and leaves the
  // field out as the Parser does; the two fields with another default (a line item's quantity,
  // a page view's page_type) are added only when present, so the schema keeps its default.
  switch (body) {
    case fb::EventBody::PageViewed: {
      const auto url = string(s[0]);
      const auto session = string(s[2]);
      fb::PageViewedBuilder b(fbb);
      b.add_url(url);
      if (s[1].present) b.add_page_type(static_cast<fb::PageType>(s[1].i));  // absent: the schema's default (other)
      b.add_session_id(session);
      out = b.Finish().Union();
      return true;
    }
    case fb::EventBody::ProductViewed: {
      const auto sku = string(s[0]);
      const auto category = string(s[1]);
      out = fb::CreateProductViewed(fbb, sku, category, s[2].d).Union();
      return true;
    }
    case fb::EventBody::CartUpdated: {
      flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::LineItem>>> lines;
      if (!line_items(s[0], lines)) return false;
      const auto currency = string(s[1]);
      out = fb::CreateCartUpdated(fbb, lines, currency).Union();
      return true;
    }
    case fb::EventBody::CheckoutStarted: {
      const auto currency = string(s[1]);
      out = fb::CreateCheckoutStarted(fbb, s[0].d, currency).Union();
      return true;
    }
    case fb::EventBody::OrderPlaced: {
      const auto order_id = string(s[0]);
      flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::LineItem>>> lines;
      if (!line_items(s[1], lines)) return false;
      const auto currency = string(s[3]);
      out = fb::CreateOrderPlaced(fbb, order_id, lines, s[2].d, currency).Union();
      return true;
    }
    case fb::EventBody::SignupStarted:
      out = fb::CreateSignupStarted(fbb, static_cast<fb::SignupForm>(s[0].i)).Union();
      return true;
    case fb::EventBody::SignupCompleted:
      out = fb::CreateSignupCompleted(fbb, static_cast<fb::SignupForm>(s[0].i)).Union();
      return true;
    case fb::EventBody::OrderShipped: {
      const auto order_id = string(s[0]);
      const auto carrier = string(s[1]);
      out = fb::CreateOrderShipped(fbb, order_id, carrier, s[2].i).Union();
      return true;
    }
    case fb::EventBody::ShipmentDelayed: {
      const auto order_id = string(s[0]);
      const auto reason = string(s[2]);
      out = fb::CreateShipmentDelayed(fbb, order_id, s[1].i, reason).Union();
      return true;
    }
    case fb::EventBody::OrderDelivered: {
      const auto order_id = string(s[0]);
      out = fb::CreateOrderDelivered(fbb, order_id).Union();
      return true;
    }
    case fb::EventBody::ConsentChanged:
      out = fb::CreateConsentChanged(fbb, static_cast<fb::Channel>(s[0].i), s[1].b).Union();
      return true;
    case fb::EventBody::ChannelEngaged:
      out = fb::CreateChannelEngaged(fbb, static_cast<fb::Channel>(s[0].i), static_cast<fb::EngagementKind>(s[1].i))
                .Union();
      return true;
    case fb::EventBody::ProfileUpdated: {
      const auto timezone = string(s[0]);
      const auto locale = string(s[1]);
      out = fb::CreateProfileUpdated(fbb, timezone, locale, optional_bool(s[2]), optional_bool(s[3]),
                                     optional_bool(s[4]))
                .Union();
      return true;
    }
    case fb::EventBody::CustomerErased:
      out = fb::CreateCustomerErased(fbb).Union();
      return true;
    case fb::EventBody::NONE:
      break;
  }
  return false;
}

JsonEventReader::JsonEventReader() : impl_(std::make_unique<Impl>()) {}
JsonEventReader::~JsonEventReader() = default;

std::span<const uint8_t> JsonEventReader::read(std::string_view json) {
  Impl& m = *impl_;
  m.padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(m.padded.data(), json.data(), json.size());
  dom::element doc;
  dom::object root;
  if (m.parser.parse(m.padded.data(), json.size(), false).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return {};
  }
  Slot s[kMaxFields];
  if (!read_fields(root, kEvent, s)) return {};
  // A body without its type, a type without its body (or NONE), and a body before its type (the
  // mapping writes the type first) are the Parser's to judge.
  if (!s[kBodyType].present || !s[kBody].present || s[kBodyType].i == 0 ||
      s[kBody].position < s[kBodyType].position) {
    return {};
  }

  m.fbb.Clear();
  const auto body_type = static_cast<fb::EventBody>(s[kBodyType].i);
  flatbuffers::Offset<void> body;
  if (!m.body_table(body_type, s[kBody].object, body)) return {};
  const auto event_id = m.string(s[0]);
  const auto customer_id = m.string(s[1]);
  m.fbb.Finish(fb::CreateEvent(m.fbb, event_id, customer_id, s[2].i, body_type, body), fb::EventIdentifier());
  return {m.fbb.GetBufferPointer(), m.fbb.GetSize()};
}

}  // namespace beckon::codec
