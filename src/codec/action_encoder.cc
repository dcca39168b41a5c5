#include "codec/action_encoder.h"

#include "codec/schema_parser.h"
#include "codec/wire_util.h"
#include "schemas/actions_generated.h"

namespace beckon::codec {
namespace {

namespace fb = beckon::fb;

static_assert(static_cast<int>(journey::Trigger::kCartAbandonment) == static_cast<int>(fb::Trigger::cart_abandonment));
static_assert(static_cast<int>(journey::Trigger::kSignupAbandonment) == static_cast<int>(fb::Trigger::signup_abandonment));
static_assert(static_cast<int>(journey::Trigger::kReplenishment) == static_cast<int>(fb::Trigger::replenishment));
static_assert(static_cast<int>(journey::Trigger::kShippingDelay) == static_cast<int>(fb::Trigger::shipping_delay));
static_assert(static_cast<int>(fb::Trigger::MAX) + 1 == journey::kTriggerCount);
static_assert(static_cast<int>(fb::Channel::MAX) + 1 == journey::kChannelCount);
static_assert(static_cast<int>(fb::SignupForm::MAX) + 1 == journey::kSignupFormCount);

template <typename E>
bool enum_in_range(E v) {
  auto i = static_cast<int>(v);
  return i >= static_cast<int>(E::MIN) && i <= static_cast<int>(E::MAX);
}

fb::ActionPayload payload_type_for(journey::Trigger t) {
  switch (t) {
    case journey::Trigger::kCartAbandonment: return fb::ActionPayload::CartPayload;
    case journey::Trigger::kSignupAbandonment: return fb::ActionPayload::SignupPayload;
    case journey::Trigger::kReplenishment: return fb::ActionPayload::ReplenishmentPayload;
    case journey::Trigger::kShippingDelay: return fb::ActionPayload::ShippingDelayPayload;
  }
  return fb::ActionPayload::NONE;
}

SchemaParser& thread_parser(WireSchema schema) {
  thread_local std::unique_ptr<SchemaParser> events;
  thread_local std::unique_ptr<SchemaParser> actions;
  auto& p = schema == WireSchema::kEvents ? events : actions;
  if (!p) p = std::make_unique<SchemaParser>(schema);
  return *p;
}

Status verify_status(detail::VerifyResult r, const char* root, const std::string& found_id) {
  switch (r) {
    case detail::VerifyResult::kOk: return Status::ok();
    case detail::VerifyResult::kWrongIdentifier:
      return Status::invalid_argument(std::string("not an ") + root + " buffer: file identifier \"" +
                                      found_id + "\"");
    case detail::VerifyResult::kFailed: break;
  }
  return Status::corruption(std::string("FlatBuffers verification of ") + root + " failed");
}

}  // namespace

std::optional<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "flatbuffers") return OutputFormat::kFlatBuffers;
  if (name == "json") return OutputFormat::kJson;
  return std::nullopt;
}

std::string_view to_string(OutputFormat format) {
  return format == OutputFormat::kJson ? "json" : "flatbuffers";
}

ActionEncoder::ActionEncoder() : builder_(1024) {}

ActionEncoder::~ActionEncoder() = default;

std::span<const uint8_t> ActionEncoder::encode(const journey::Action& a, OutputFormat format) {
  auto& b = builder_;
  b.Clear();
  auto str = [&](const std::string& s) { return b.CreateString(s); };

  flatbuffers::Offset<void> payload;
  switch (a.trigger) {
    case journey::Trigger::kCartAbandonment: {
      items_.clear();
      for (const auto& line : a.items) {
        auto sku = str(line.sku);
        auto category = str(line.category);
        items_.push_back(fb::CreateLineItem(b, sku, line.quantity, line.unit_price, category).Union());
      }
      auto items = b.CreateVector(
          reinterpret_cast<const flatbuffers::Offset<fb::LineItem>*>(items_.data()), items_.size());
      payload = fb::CreateCartPayload(b, items, a.cart_value, str(a.currency)).Union();
      break;
    }
    case journey::Trigger::kSignupAbandonment:
      payload = fb::CreateSignupPayload(b, static_cast<fb::SignupForm>(a.form)).Union();
      break;
    case journey::Trigger::kReplenishment: {
      auto sku = str(a.sku);
      auto category = str(a.category);
      auto order_id = str(a.order_id);
      payload = fb::CreateReplenishmentPayload(b, sku, category, a.quantity, order_id, a.last_order.ms())
                    .Union();
      break;
    }
    case journey::Trigger::kShippingDelay: {
      auto order_id = str(a.order_id);
      auto carrier = str(a.carrier);
      auto reason = str(a.reason);
      flatbuffers::Offset<fb::Incentive> incentive;
      const auto& in = a.incentive;
      if (!in.kind.empty() || !in.code.empty() || in.value != 0) {
        auto kind = str(in.kind);
        auto code = str(in.code);
        incentive = fb::CreateIncentive(b, kind, code, in.value);
      }
      payload = fb::CreateShippingDelayPayload(b, order_id, carrier, a.promised_delivery.ms(),
                                               a.new_eta.ms(), reason, incentive,
                                               a.context.first_time_buyer)
                    .Union();
      break;
    }
  }
  const auto& c = a.context;
  auto tier = str(c.loyalty_tier);
  auto locale = str(c.locale);
  auto timezone = str(c.timezone);
  auto context = fb::CreateCustomerContext(b, c.first_time_buyer, c.order_count, c.lifetime_value,
                                           tier, locale, timezone);
  auto action_id = str(a.action_id);
  auto customer_id = str(a.customer_id);
  auto journey = str(a.journey);
  auto variant = str(a.variant);
  auto template_id = str(a.template_id);
  auto root = fb::CreateAction(b, action_id, customer_id, static_cast<fb::Trigger>(a.trigger), journey,
                               a.step, static_cast<fb::Channel>(a.channel), a.created.ms(), a.due.ms(),
                               a.expires.ms(), variant, template_id, context,
                               payload_type_for(a.trigger), payload);
  fb::FinishActionBuffer(b, root);
  std::span<const uint8_t> bytes(b.GetBufferPointer(), b.GetSize());
  if (format == OutputFormat::kFlatBuffers) return bytes;

  if (!json_) json_ = std::make_unique<SchemaParser>(WireSchema::kActions);
  if (!json_->to_json(bytes.data(), json_text_)) return {};
  return {reinterpret_cast<const uint8_t*>(json_text_.data()), json_text_.size()};
}

Result<std::string> action_to_json(std::span<const uint8_t> flatbuffer) {
  std::vector<uint64_t> scratch;
  const uint8_t* data = detail::aligned_for_read(flatbuffer, scratch);
  std::string found;
  if (Status s = verify_status(detail::verify_root<fb::Action>(data, flatbuffer.size(), fb::ActionIdentifier(), &found),
                               "Action", found);
      !s.is_ok()) {
    return s;
  }
  std::string out;
  if (!thread_parser(WireSchema::kActions).to_json(data, out)) {
    return Status::invalid_argument("Action cannot be rendered as JSON (non-UTF-8 string?)");
  }
  return out;
}

Result<std::string> event_to_json(std::span<const uint8_t> flatbuffer) {
  std::vector<uint64_t> scratch;
  const uint8_t* data = detail::aligned_for_read(flatbuffer, scratch);
  std::string found;
  if (Status s = verify_status(detail::verify_root<fb::Event>(data, flatbuffer.size(), fb::EventIdentifier(), &found),
                               "Event", found);
      !s.is_ok()) {
    return s;
  }
  std::string out;
  if (!thread_parser(WireSchema::kEvents).to_json(data, out)) {
    return Status::invalid_argument("Event cannot be rendered as JSON (non-UTF-8 string?)");
  }
  return out;
}

Result<std::string> event_json_to_flatbuffer(std::string_view json) {
  std::string error;
  auto bytes = thread_parser(WireSchema::kEvents).parse_json(json, error);
  if (bytes.empty()) return Status::invalid_argument("event JSON: " + error);
  std::string found;
  if (Status s = verify_status(detail::verify_root<fb::Event>(bytes.data(), bytes.size(), fb::EventIdentifier(), &found),
                               "Event", found);
      !s.is_ok()) {
    return s;
  }
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<journey::Action> decode_action(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Status::invalid_argument("empty action");
  std::vector<uint64_t> scratch;
  std::span<const uint8_t> buffer = bytes;
  if (detail::starts_like_json(bytes)) {
    std::string error;
    buffer = thread_parser(WireSchema::kActions)
                 .parse_json({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, error);
    if (buffer.empty()) return Status::invalid_argument("action JSON: " + error);
  }
  const uint8_t* data = detail::aligned_for_read(buffer, scratch);
  std::string found;
  if (Status s = verify_status(detail::verify_root<fb::Action>(data, buffer.size(), fb::ActionIdentifier(), &found),
                               "Action", found);
      !s.is_ok()) {
    return s;
  }
  const fb::Action* in = flatbuffers::GetRoot<fb::Action>(data);
  using detail::view;
  auto str = [](const flatbuffers::String* s) { return std::string(view(s)); };

  if (!enum_in_range(in->trigger())) return Status::invalid_argument("trigger out of range");
  if (!enum_in_range(in->channel())) return Status::invalid_argument("channel out of range");
  journey::Action a;
  a.action_id = str(in->action_id());
  a.customer_id = str(in->customer_id());
  a.trigger = static_cast<journey::Trigger>(in->trigger());
  a.journey = str(in->journey());
  a.step = in->step();
  a.channel = static_cast<journey::Channel>(in->channel());
  a.created = EventTime(in->created_ms());
  a.due = EventTime(in->due_ms());
  a.expires = EventTime(in->expires_ms());
  a.variant = str(in->variant());
  a.template_id = str(in->template_id());
  if (const auto* c = in->context()) {
    a.context.first_time_buyer = c->first_time_buyer();
    a.context.order_count = c->order_count();
    a.context.lifetime_value = c->lifetime_value();
    a.context.loyalty_tier = str(c->loyalty_tier());
    a.context.locale = str(c->locale());
    a.context.timezone = str(c->timezone());
  }
  if (in->payload_type() != payload_type_for(a.trigger) || in->payload() == nullptr) {
    return Status::invalid_argument("payload type does not match trigger");
  }
  switch (a.trigger) {
    case journey::Trigger::kCartAbandonment: {
      const auto* p = in->payload_as_CartPayload();
      if (const auto* items = p->items()) {
        for (const auto* it : *items) {
          if (it == nullptr) continue;
          a.items.push_back({str(it->sku()), it->quantity(), it->unit_price(), str(it->category())});
        }
      }
      a.cart_value = p->cart_value();
      a.currency = str(p->currency());
      break;
    }
    case journey::Trigger::kSignupAbandonment: {
      const auto* p = in->payload_as_SignupPayload();
      if (!enum_in_range(p->form())) return Status::invalid_argument("form out of range");
      a.form = static_cast<journey::SignupForm>(p->form());
      break;
    }
    case journey::Trigger::kReplenishment: {
      const auto* p = in->payload_as_ReplenishmentPayload();
      a.sku = str(p->sku());
      a.category = str(p->category());
      a.quantity = p->quantity();
      a.order_id = str(p->last_order_id());
      a.last_order = EventTime(p->last_order_ms());
      break;
    }
    case journey::Trigger::kShippingDelay: {
      const auto* p = in->payload_as_ShippingDelayPayload();
      a.order_id = str(p->order_id());
      a.carrier = str(p->carrier());
      a.promised_delivery = EventTime(p->promised_delivery_ms());
      a.new_eta = EventTime(p->new_eta_ms());
      a.reason = str(p->reason());
      if (const auto* inc = p->incentive()) {
        a.incentive.kind = str(inc->kind());
        a.incentive.code = str(inc->code());
        a.incentive.value = inc->value();
      }
      break;
    }
  }
  return a;
}

}  // namespace beckon::codec
