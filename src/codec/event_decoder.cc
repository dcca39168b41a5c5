#include "codec/event_decoder.h"

#include <flatbuffers/flatbuffers.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>

#include "codec/json_event_reader.h"
#include "codec/schema_parser.h"
#include "codec/wire_util.h"
#include "schemas/events_generated.h"

namespace beckon::codec {
namespace {

namespace fb = beckon::fb;

// The journey enums mirror the schema's value for value (journey/types.h), so decoding is a
// static_cast once the range has been checked.
static_assert(static_cast<int>(journey::PageType::kHome) == static_cast<int>(fb::PageType::home));
static_assert(static_cast<int>(journey::PageType::kCategory) == static_cast<int>(fb::PageType::category));
static_assert(static_cast<int>(journey::PageType::kProduct) == static_cast<int>(fb::PageType::product));
static_assert(static_cast<int>(journey::PageType::kCart) == static_cast<int>(fb::PageType::cart));
static_assert(static_cast<int>(journey::PageType::kCheckout) == static_cast<int>(fb::PageType::checkout));
static_assert(static_cast<int>(journey::PageType::kSignup) == static_cast<int>(fb::PageType::signup));
static_assert(static_cast<int>(journey::PageType::kLoyaltySignup) == static_cast<int>(fb::PageType::loyalty_signup));
static_assert(static_cast<int>(journey::PageType::kOther) == static_cast<int>(fb::PageType::other));
static_assert(static_cast<int>(fb::PageType::MAX) == 7);
static_assert(static_cast<int>(journey::SignupForm::kAccount) == static_cast<int>(fb::SignupForm::account));
static_assert(static_cast<int>(journey::SignupForm::kLoyalty) == static_cast<int>(fb::SignupForm::loyalty));
static_assert(static_cast<int>(journey::SignupForm::kNewsletter) == static_cast<int>(fb::SignupForm::newsletter));
static_assert(static_cast<int>(fb::SignupForm::MAX) + 1 == journey::kSignupFormCount);
static_assert(static_cast<int>(journey::Channel::kEmail) == static_cast<int>(fb::Channel::email));
static_assert(static_cast<int>(journey::Channel::kSms) == static_cast<int>(fb::Channel::sms));
static_assert(static_cast<int>(journey::Channel::kAppPush) == static_cast<int>(fb::Channel::app_push));
static_assert(static_cast<int>(journey::Channel::kWebPush) == static_cast<int>(fb::Channel::web_push));
static_assert(static_cast<int>(journey::Channel::kWhatsapp) == static_cast<int>(fb::Channel::whatsapp));
static_assert(static_cast<int>(journey::Channel::kAdsAudience) == static_cast<int>(fb::Channel::ads_audience));
static_assert(static_cast<int>(fb::Channel::MAX) + 1 == journey::kChannelCount);
static_assert(static_cast<int>(journey::EngagementKind::kDelivered) == static_cast<int>(fb::EngagementKind::delivered));
static_assert(static_cast<int>(journey::EngagementKind::kOpened) == static_cast<int>(fb::EngagementKind::opened));
static_assert(static_cast<int>(journey::EngagementKind::kClicked) == static_cast<int>(fb::EngagementKind::clicked));
static_assert(static_cast<int>(fb::EngagementKind::MAX) == 2);
// EventBody is journey::EventType + 1 (NONE = 0).
static_assert(static_cast<int>(fb::EventBody::PageViewed) == static_cast<int>(journey::EventType::kPageViewed) + 1);
static_assert(static_cast<int>(fb::EventBody::CartUpdated) == static_cast<int>(journey::EventType::kCartUpdated) + 1);
static_assert(static_cast<int>(fb::EventBody::OrderPlaced) == static_cast<int>(journey::EventType::kOrderPlaced) + 1);
static_assert(static_cast<int>(fb::EventBody::OrderShipped) == static_cast<int>(journey::EventType::kOrderShipped) + 1);
static_assert(static_cast<int>(fb::EventBody::ConsentChanged) == static_cast<int>(journey::EventType::kConsentChanged) + 1);
static_assert(static_cast<int>(fb::EventBody::CustomerErased) == static_cast<int>(journey::EventType::kCustomerErased) + 1);
static_assert(static_cast<int>(fb::EventBody::MAX) == journey::kEventTypeCount);

using detail::view;

template <typename E>
bool enum_in_range(E v) {
  auto i = static_cast<int>(v);
  return i >= static_cast<int>(E::MIN) && i <= static_cast<int>(E::MAX);
}

bool fail(DecodeFailure& f, DecodeError reason, std::string detail) {
  f.reason = reason;
  f.detail = std::move(detail);
  return false;
}

}  // namespace

std::optional<InputFormat> parse_input_format(std::string_view name) {
  if (name == "flatbuffers") return InputFormat::kFlatBuffers;
  if (name == "json") return InputFormat::kJson;
  if (name == "auto") return InputFormat::kAuto;
  return std::nullopt;
}

std::string_view to_string(InputFormat format) {
  switch (format) {
    case InputFormat::kFlatBuffers: return "flatbuffers";
    case InputFormat::kJson: return "json";
    case InputFormat::kAuto: return "auto";
  }
  return "unknown";
}

std::string_view to_string(DecodeError error) {
  switch (error) {
    case DecodeError::kEmpty: return "empty";
    case DecodeError::kOversized: return "oversized";
    case DecodeError::kVerifyFailed: return "verify_failed";
    case DecodeError::kWrongIdentifier: return "wrong_identifier";
    case DecodeError::kMalformedJson: return "malformed_json";
    case DecodeError::kSchemaMismatch: return "schema_mismatch";
    case DecodeError::kMissingBody: return "missing_body";
    case DecodeError::kUnknownBodyType: return "unknown_body_type";
    case DecodeError::kMissingCustomerId: return "missing_customer_id";
    case DecodeError::kMissingEventId: return "missing_event_id";
    case DecodeError::kInvalidTimestamp: return "invalid_timestamp";
    case DecodeError::kInvalidField: return "invalid_field";
  }
  return "unknown";
}

DecodeError classify_json_error(std::string_view rejected_text) {
  // flatbuffers::Parser has no error codes, and its messages are no contract. Whether the text
  // is JSON at all (RFC 8259, nlohmann's validating lexer) decides instead: well-formed JSON the
  // schema parser rejected has a wrong type, enum name or field for the schema.
  return nlohmann::json::accept(rejected_text) ? DecodeError::kSchemaMismatch : DecodeError::kMalformedJson;
}

EventDecoder::EventDecoder(DecoderOptions opts) : opts_(opts) {}

EventDecoder::~EventDecoder() = default;

bool EventDecoder::decode(std::span<const uint8_t> bytes, InputFormat format, journey::Event& out,
                          DecodeFailure& failure) {
  if (bytes.empty()) return fail(failure, DecodeError::kEmpty, "empty message");
  if (bytes.size() > opts_.max_message_bytes) {
    return fail(failure, DecodeError::kOversized,
                "message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                    std::to_string(opts_.max_message_bytes));
  }
  if (format == InputFormat::kAuto) {
    format = detail::starts_like_json(bytes) ? InputFormat::kJson : InputFormat::kFlatBuffers;
  }
  const bool ok = format == InputFormat::kJson ? decode_json(bytes, out, failure)
                                               : decode_flatbuffer(bytes, out, failure);
  return ok && strings_are_utf8(out, failure);
}

namespace {

// The high bits of the bytes of `s`, ORed together: zero when `s` is ASCII. Whole words, the
// last one overlapping the one before, so a short id costs a load or two and no byte loop.
[[gnu::always_inline]] inline uint64_t high_bits(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  uint64_t acc = 0;
  if (n >= 8) {
    uint64_t w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    std::memcpy(&w, p + n - 8, 8);
    acc |= w;
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    acc = a | b;
  } else {
    for (size_t i = 0; i < n; ++i) acc |= p[i];
  }
  return acc & 0x8080808080808080ull;
}

// Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF), walked byte by byte with an
// ASCII fast path between multi-byte sequences.
bool valid_utf8_walk(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path, eight bytes at a time (ids, SKUs and URLs are nearly always ASCII).
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((*p & 0xE0) == 0xC0) { n = 1; cp = *p & 0x1F; }
    else if ((*p & 0xF0) == 0xE0) { n = 2; cp = *p & 0x0F; }
    else if ((*p & 0xF8) == 0xF0) { n = 3; cp = *p & 0x07; }
    else return false;
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

// Strict UTF-8. Nearly every string is ASCII (ids, SKUs, URLs): high_bits() settles those
// inline, and only the rest are walked.
[[gnu::always_inline]] inline bool valid_utf8(std::string_view s) { return high_bits(s) == 0 || valid_utf8_walk(s); }

}  // namespace

// Strings travel on into actions, whose JSON form must be valid UTF-8: reject them here, where
// the message can still be dead-lettered, rather than fail to encode a decision later.
bool EventDecoder::strings_are_utf8(const journey::Event& e, DecodeFailure& failure) {
  struct StringField {
    std::string_view journey::Event::*member;
    const char* name;
  };
  static constexpr StringField kFields[] = {
      {&journey::Event::event_id, "event_id"}, {&journey::Event::customer_id, "customer_id"},
      {&journey::Event::url, "url"},           {&journey::Event::session_id, "session_id"},
      {&journey::Event::sku, "sku"},           {&journey::Event::category, "category"},
      {&journey::Event::currency, "currency"}, {&journey::Event::order_id, "order_id"},
      {&journey::Event::carrier, "carrier"},   {&journey::Event::reason, "reason"},
      {&journey::Event::timezone, "timezone"}, {&journey::Event::locale, "locale"},
  };
  for (const StringField& f : kFields) {
    if (!valid_utf8(e.*f.member)) {
      return fail(failure, DecodeError::kInvalidField, std::string(f.name) + " is not valid UTF-8");
    }
  }
  for (size_t i = 0; i < e.items.size(); ++i) {
    if (!valid_utf8(e.items[i].sku) || !valid_utf8(e.items[i].category)) {
      return fail(failure, DecodeError::kInvalidField, "items[" + std::to_string(i) + "] has a string that is not valid UTF-8");
    }
  }
  return true;
}

namespace {

// A little-endian scalar at `pos`, when the buffer holds all of it.
template <typename T>
bool read_at(std::span<const uint8_t> b, uint64_t pos, T& out) {
  if (pos > b.size() || b.size() - pos < sizeof(T)) return false;
  std::memcpy(&out, b.data() + pos, sizeof(T));
  return true;
}

// Where the field with vtable offset `vt_field` of the table at `table` is: 0 when the table has
// no such field, empty when the table cannot be read.
std::optional<uint64_t> field_at(std::span<const uint8_t> b, uint64_t table, flatbuffers::voffset_t vt_field) {
  int32_t to_vtable = 0;
  if (!read_at(b, table, to_vtable)) return std::nullopt;
  const int64_t vtable = static_cast<int64_t>(table) - to_vtable;
  uint16_t vtable_size = 0;
  if (vtable < 0 || !read_at(b, static_cast<uint64_t>(vtable), vtable_size)) return std::nullopt;
  if (vt_field + sizeof(uint16_t) > vtable_size) return 0;  // written by an older schema
  uint16_t offset = 0;
  if (!read_at(b, static_cast<uint64_t>(vtable) + vt_field, offset)) return std::nullopt;
  return offset == 0 ? 0 : table + offset;
}

}  // namespace

std::optional<EventKind> peek_event_kind(std::span<const uint8_t> bytes, InputFormat format) {
  if (format == InputFormat::kJson || (format == InputFormat::kAuto && detail::starts_like_json(bytes))) {
    return std::nullopt;
  }
  uint32_t root = 0;
  if (!read_at(bytes, 0, root)) return std::nullopt;
  const std::optional<uint64_t> type_at = field_at(bytes, root, fb::Event::VT_BODY_TYPE);
  uint8_t body_type = 0;
  if (!type_at || *type_at == 0 || !read_at(bytes, *type_at, body_type)) return std::nullopt;
  const auto body = static_cast<fb::EventBody>(body_type);
  if (body == fb::EventBody::NONE || !enum_in_range(body)) return std::nullopt;
  EventKind kind;
  kind.type = static_cast<journey::EventType>(body_type - 1);
  if (body != fb::EventBody::PageViewed) return kind;
  const std::optional<uint64_t> body_at = field_at(bytes, root, fb::Event::VT_BODY);
  uint32_t to_body = 0;
  if (!body_at || *body_at == 0 || !read_at(bytes, *body_at, to_body)) return std::nullopt;
  const std::optional<uint64_t> page_at = field_at(bytes, *body_at + to_body, fb::PageViewed::VT_PAGE_TYPE);
  if (!page_at) return std::nullopt;
  if (*page_at == 0) return kind;  // not written: the schema's default, other
  int8_t page = 0;
  if (!read_at(bytes, *page_at, page) || !enum_in_range(static_cast<fb::PageType>(page))) return std::nullopt;
  kind.page_type = static_cast<journey::PageType>(page);
  return kind;
}

bool EventDecoder::decode_json(std::span<const uint8_t> bytes, journey::Event& out,
                               DecodeFailure& failure) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // The common event is built by the JsonEventReader; the Parser judges all the rest.
  if (!json_reader_) json_reader_ = std::make_unique<JsonEventReader>();
  if (auto built = json_reader_->read(text); !built.empty()) return decode_flatbuffer(built, out, failure);
  if (!json_) json_ = std::make_unique<SchemaParser>(WireSchema::kEvents);
  auto buffer = json_->parse_json(text, scratch_text_);
  if (buffer.empty()) return fail(failure, classify_json_error(text), scratch_text_);
  return decode_flatbuffer(buffer, out, failure);
}

bool EventDecoder::decode_flatbuffer(std::span<const uint8_t> bytes, journey::Event& out,
                                     DecodeFailure& failure) {
  const uint8_t* data = detail::aligned_for_read(bytes, aligned_);
  switch (detail::verify_root<fb::Event>(data, bytes.size(), fb::EventIdentifier(), &scratch_text_)) {
    case detail::VerifyResult::kOk:
      break;
    case detail::VerifyResult::kWrongIdentifier:
      return fail(failure, DecodeError::kWrongIdentifier,
                  "file identifier \"" + scratch_text_ + "\" is not \"" + fb::EventIdentifier() + "\"");
    case detail::VerifyResult::kFailed:
      return fail(failure, DecodeError::kVerifyFailed, "FlatBuffers verification of Event failed");
  }
  const fb::Event* ev = flatbuffers::GetRoot<fb::Event>(data);

  // Reset in place: `out = Event{}` built a temporary and copied it, writing the event's
  // ~290 bytes twice per message.
  static_assert(std::is_trivially_destructible_v<journey::Event>);
  std::construct_at(&out);
  out.event_id = view(ev->event_id());
  if (out.event_id.empty()) return fail(failure, DecodeError::kMissingEventId, "event_id is missing or empty");
  out.customer_id = view(ev->customer_id());
  if (out.customer_id.empty()) {
    return fail(failure, DecodeError::kMissingCustomerId, "customer_id is missing or empty");
  }
  if (out.customer_id.size() > opts_.max_customer_id_bytes) {
    return fail(failure, DecodeError::kInvalidField,
                "customer_id is " + std::to_string(out.customer_id.size()) + " bytes, limit " +
                    std::to_string(opts_.max_customer_id_bytes));
  }
  const int64_t ts = ev->timestamp_ms();
  if (ts < opts_.min_timestamp_ms || ts > opts_.max_timestamp_ms) {
    return fail(failure, DecodeError::kInvalidTimestamp,
                "timestamp_ms " + std::to_string(ts) + " is outside [" +
                    std::to_string(opts_.min_timestamp_ms) + ", " +
                    std::to_string(opts_.max_timestamp_ms) + "]");
  }
  out.timestamp = EventTime(ts);

  const fb::EventBody body_type = ev->body_type();
  if (body_type == fb::EventBody::NONE || ev->body() == nullptr) {
    return fail(failure, DecodeError::kMissingBody, "body is missing");
  }
  if (!enum_in_range(body_type)) {
    return fail(failure, DecodeError::kUnknownBodyType,
                "body_type " + std::to_string(static_cast<int>(body_type)) + " is not known");
  }
  out.type = static_cast<journey::EventType>(static_cast<int>(body_type) - 1);

  auto finite_non_negative = [&](double v, const char* field) {
    if (std::isfinite(v) && v >= 0) return true;
    return fail(failure, DecodeError::kInvalidField,
                std::string(field) + " must be a finite number >= 0, got " + std::to_string(v));
  };
  auto non_empty = [&](std::string_view v, const char* field) {
    if (!v.empty()) return true;
    return fail(failure, DecodeError::kInvalidField, std::string(field) + " is missing or empty");
  };
  auto time_in_bounds = [&](int64_t ms, const char* field) {
    if (ms == 0 || (ms >= opts_.min_timestamp_ms && ms <= opts_.max_timestamp_ms)) return true;
    return fail(failure, DecodeError::kInvalidField,
                std::string(field) + " " + std::to_string(ms) + " is outside the accepted range");
  };
  auto bad_enum = [&](const char* field, int v) {
    return fail(failure, DecodeError::kInvalidField,
                std::string(field) + " value " + std::to_string(v) + " is out of range");
  };
  // Line items of a cart (quantity >= 0) or an order (quantity > 0).
  auto read_items = [&](const flatbuffers::Vector<flatbuffers::Offset<fb::LineItem>>* items,
                        bool order) {
    items_.clear();
    if (items == nullptr) return true;
    if (items->size() > opts_.max_line_items) {
      return fail(failure, DecodeError::kInvalidField,
                  "items has " + std::to_string(items->size()) + " entries, limit " +
                      std::to_string(opts_.max_line_items));
    }
    for (flatbuffers::uoffset_t i = 0; i < items->size(); ++i) {
      const fb::LineItem* it = items->Get(i);
      // Built only on failure: the success path does not allocate.
      auto where = [i] { return "items[" + std::to_string(i) + "]."; };
      if (it == nullptr) return fail(failure, DecodeError::kInvalidField, "items[" + std::to_string(i) + "] is null");
      journey::LineItemView v;
      v.sku = view(it->sku());
      v.quantity = it->quantity();
      v.unit_price = it->unit_price();
      v.category = view(it->category());
      v.replenish_after_days = it->replenish_after_days();
      if (v.sku.empty()) return fail(failure, DecodeError::kInvalidField, where() + "sku is missing or empty");
      if (order ? v.quantity <= 0 : v.quantity < 0) {
        return fail(failure, DecodeError::kInvalidField,
                    where() + "quantity must be " + (order ? "> 0" : ">= 0") + ", got " +
                        std::to_string(v.quantity));
      }
      if (!std::isfinite(v.unit_price) || v.unit_price < 0) {
        return fail(failure, DecodeError::kInvalidField,
                    where() + "unit_price must be a finite number >= 0, got " + std::to_string(v.unit_price));
      }
      if (v.replenish_after_days < 0) {
        return fail(failure, DecodeError::kInvalidField,
                    where() + "replenish_after_days must be >= 0, got " + std::to_string(v.replenish_after_days));
      }
      items_.push_back(v);
    }
    out.items = std::span<const journey::LineItemView>(items_.data(), items_.size());
    return true;
  };

  switch (body_type) {
    case fb::EventBody::PageViewed: {
      const auto* b = ev->body_as_PageViewed();
      if (!enum_in_range(b->page_type())) return bad_enum("page_type", static_cast<int>(b->page_type()));
      out.url = view(b->url());
      out.page_type = static_cast<journey::PageType>(b->page_type());
      out.session_id = view(b->session_id());
      return true;
    }
    case fb::EventBody::ProductViewed: {
      const auto* b = ev->body_as_ProductViewed();
      out.sku = view(b->sku());
      out.category = view(b->category());
      out.price = b->price();
      return non_empty(out.sku, "sku") && finite_non_negative(out.price, "price");
    }
    case fb::EventBody::CartUpdated: {
      const auto* b = ev->body_as_CartUpdated();
      out.currency = view(b->currency());
      return read_items(b->items(), /*order=*/false);
    }
    case fb::EventBody::CheckoutStarted: {
      const auto* b = ev->body_as_CheckoutStarted();
      out.amount = b->cart_value();
      out.currency = view(b->currency());
      return finite_non_negative(out.amount, "cart_value");
    }
    case fb::EventBody::OrderPlaced: {
      const auto* b = ev->body_as_OrderPlaced();
      out.order_id = view(b->order_id());
      out.amount = b->total();
      out.currency = view(b->currency());
      return non_empty(out.order_id, "order_id") && finite_non_negative(out.amount, "total") &&
             read_items(b->items(), /*order=*/true);
    }
    case fb::EventBody::SignupStarted:
    case fb::EventBody::SignupCompleted: {
      fb::SignupForm form = body_type == fb::EventBody::SignupStarted
                                ? ev->body_as_SignupStarted()->form()
                                : ev->body_as_SignupCompleted()->form();
      if (!enum_in_range(form)) return bad_enum("form", static_cast<int>(form));
      out.form = static_cast<journey::SignupForm>(form);
      return true;
    }
    case fb::EventBody::OrderShipped: {
      const auto* b = ev->body_as_OrderShipped();
      out.order_id = view(b->order_id());
      out.carrier = view(b->carrier());
      out.promised_delivery = EventTime(b->promised_delivery_ms());
      return non_empty(out.order_id, "order_id") &&
             time_in_bounds(b->promised_delivery_ms(), "promised_delivery_ms");
    }
    case fb::EventBody::ShipmentDelayed: {
      const auto* b = ev->body_as_ShipmentDelayed();
      out.order_id = view(b->order_id());
      out.new_eta = EventTime(b->new_eta_ms());
      out.reason = view(b->reason());
      return non_empty(out.order_id, "order_id") && time_in_bounds(b->new_eta_ms(), "new_eta_ms");
    }
    case fb::EventBody::OrderDelivered: {
      out.order_id = view(ev->body_as_OrderDelivered()->order_id());
      return non_empty(out.order_id, "order_id");
    }
    case fb::EventBody::ConsentChanged: {
      const auto* b = ev->body_as_ConsentChanged();
      if (!enum_in_range(b->channel())) return bad_enum("channel", static_cast<int>(b->channel()));
      out.channel = static_cast<journey::Channel>(b->channel());
      out.granted = b->granted();
      return true;
    }
    case fb::EventBody::ChannelEngaged: {
      const auto* b = ev->body_as_ChannelEngaged();
      if (!enum_in_range(b->channel())) return bad_enum("channel", static_cast<int>(b->channel()));
      if (!enum_in_range(b->kind())) return bad_enum("kind", static_cast<int>(b->kind()));
      out.channel = static_cast<journey::Channel>(b->channel());
      out.engagement = static_cast<journey::EngagementKind>(b->kind());
      return true;
    }
    case fb::EventBody::ProfileUpdated: {
      const auto* b = ev->body_as_ProfileUpdated();
      out.timezone = view(b->timezone());
      out.locale = view(b->locale());
      auto opt = [](flatbuffers::Optional<bool> v) {
        return v.has_value() ? std::optional<bool>(*v) : std::nullopt;
      };
      out.email_known = opt(b->email_known());
      out.phone_known = opt(b->phone_known());
      out.push_token_known = opt(b->push_token_known());
      return true;
    }
    case fb::EventBody::CustomerErased:
      return true;
    case fb::EventBody::NONE:
      break;
  }
  return fail(failure, DecodeError::kUnknownBodyType, "body_type is not known");
}

}  // namespace beckon::codec
