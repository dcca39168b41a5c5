#include "journey/customer_state.h"

#include <bit>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/hash.h"

namespace beckon::journey {

PendingTimer* CustomerState::find_pending(uint64_t id) {
  for (auto& p : pending) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

JourneyProgress* CustomerState::find_progress(std::string_view journey, std::string_view key) {
  for (auto& p : progress) {
    if (p.journey == journey && p.key == key) return &p;
  }
  return nullptr;
}

ReplenishmentItem* CustomerState::find_replenishment(std::string_view sku) {
  for (auto& r : replenishment) {
    if (r.sku == sku) return &r;
  }
  return nullptr;
}

Shipment* CustomerState::find_shipment(std::string_view order_id) {
  for (auto& s : shipments) {
    if (s.order_id == order_id) return &s;
  }
  return nullptr;
}

namespace {

// Hard limits on decoded collection sizes, above the engine's own bounds so a state written by a
// build with slightly larger bounds still decodes, but small enough that garbage cannot make the
// decoder allocate much.
constexpr uint64_t kMaxDecodedElements = 4096;
constexpr uint64_t kMaxDecodedString = 1 << 16;

// Writer and Reader share one field list (visit_state below), so encode and decode cannot drift.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  bool ok() const { return true; }

  void u64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void field(uint64_t& v) { u64(v); }
  void field(uint32_t& v) { u64(v); }
  void field(int64_t& v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void field(int32_t& v) {
    int64_t w = v;
    field(w);
  }
  void field(bool& v) { out_.push_back(v ? 1 : 0); }
  void field(double& v) {
    uint64_t bits = std::bit_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  void field(std::string& v) {
    u64(v.size());
    out_.append(v);
  }
  void field(EventTime& v) {
    int64_t ms = v.ms();
    field(ms);
  }
  template <typename E>
    requires std::is_enum_v<E>
  void enumeration(E& v, int /*count*/) {
    u64(static_cast<uint64_t>(v));
  }
  template <typename T, typename F>
  void vec(std::vector<T>& v, F&& each) {
    u64(v.size());
    for (auto& e : v) each(e);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool at_end() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  void fail(const char* what) {
    if (error_.empty()) error_ = std::string(what) + " at byte " + std::to_string(pos_);
  }

  uint64_t u64() {
    if (!ok()) return 0;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) {
        fail("truncated varint");
        return 0;
      }
      auto b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        fail("varint overflow");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("varint too long");
    return 0;
  }
  void field(uint64_t& v) { v = u64(); }
  void field(uint32_t& v) {
    uint64_t w = u64();
    if (w > UINT32_MAX) fail("u32 out of range");
    v = static_cast<uint32_t>(w);
  }
  void field(int64_t& v) {
    uint64_t z = u64();
    v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  }
  void field(int32_t& v) {
    int64_t w = 0;
    field(w);
    if (w < INT32_MIN || w > INT32_MAX) fail("i32 out of range");
    v = static_cast<int32_t>(w);
  }
  void field(bool& v) {
    if (!ok()) return;
    if (pos_ >= in_.size()) return fail("truncated bool");
    auto b = static_cast<uint8_t>(in_[pos_++]);
    if (b > 1) return fail("bad bool");
    v = b == 1;
  }
  void field(double& v) {
    if (!ok()) return;
    if (remaining() < 8) return fail("truncated double");
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    v = std::bit_cast<double>(bits);
  }
  void field(std::string& v) {
    uint64_t n = u64();
    if (!ok()) return;
    if (n > remaining() || n > kMaxDecodedString) return fail("bad string length");
    v.assign(in_.data() + pos_, n);
    pos_ += n;
  }
  void field(EventTime& v) {
    int64_t ms = 0;
    field(ms);
    v = EventTime(ms);
  }
  template <typename E>
    requires std::is_enum_v<E>
  void enumeration(E& v, int count) {
    uint64_t w = u64();
    if (w >= static_cast<uint64_t>(count)) return fail("enum out of range");
    v = static_cast<E>(w);
  }
  template <typename T, typename F>
  void vec(std::vector<T>& v, F&& each) {
    uint64_t n = u64();
    if (!ok()) return;
    // Every element takes at least one byte, so a count above the remaining input is garbage.
    if (n > remaining() || n > kMaxDecodedElements) return fail("bad element count");
    v.clear();
    v.resize(n);
    for (auto& e : v) {
      each(e);
      if (!ok()) return;
    }
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

template <typename IO>
void visit_state(IO& io, CustomerState& s) {
  io.field(s.profile.timezone);
  io.field(s.profile.locale);
  io.field(s.profile.email_known);
  io.field(s.profile.phone_known);
  io.field(s.profile.push_token_known);
  for (auto& c : s.consent) io.enumeration(c, 3);
  for (auto& e : s.engagement) {
    io.field(e.delivered);
    io.field(e.opened);
    io.field(e.clicked);
    io.field(e.last);
  }
  io.field(s.orders.order_count);
  io.field(s.orders.lifetime_value);
  io.field(s.orders.first_order);
  io.field(s.orders.last_order);
  io.field(s.orders.last_order_id);

  io.vec(s.cart.items, [&](CartLine& l) {
    io.field(l.sku);
    io.field(l.quantity);
    io.field(l.unit_price);
    io.field(l.category);
  });
  io.field(s.cart.value);
  io.field(s.cart.currency);
  io.field(s.cart.last_update);
  io.field(s.cart.instance);
  io.field(s.cart.active);

  for (auto& f : s.signups) {
    io.field(f.started);
    io.field(f.start);
    io.field(f.instance);
    io.field(f.completed);
  }
  io.vec(s.replenishment, [&](ReplenishmentItem& r) {
    io.field(r.sku);
    io.field(r.category);
    io.field(r.last_order_id);
    io.field(r.last_order);
    io.field(r.quantity);
    io.field(r.due);
  });
  io.vec(s.shipments, [&](Shipment& sh) {
    io.field(sh.order_id);
    io.field(sh.carrier);
    io.field(sh.shipped);
    io.field(sh.promised_delivery);
    io.field(sh.new_eta);
    io.field(sh.reason);
    io.field(sh.notified);
    io.field(sh.delivered);
  });
  io.vec(s.recent_sends, [&](EventTime& t) { io.field(t); });
  io.vec(s.progress, [&](JourneyProgress& p) {
    io.field(p.journey);
    io.field(p.key);
    io.field(p.instance);
    io.field(p.next_step);
    io.field(p.anchor);
    io.field(p.instance_start);
    io.field(p.active);
    io.field(p.completed_once);
  });
  io.vec(s.pending, [&](PendingTimer& p) {
    io.field(p.id);
    io.field(p.due);
    io.field(p.original_due);
    io.field(p.journey);
    io.enumeration(p.trigger, kTriggerCount);
    io.field(p.key);
    io.field(p.instance);
    io.field(p.step);
  });
}

const char* consent_name(ConsentState c) {
  switch (c) {
    case ConsentState::kGranted: return "granted";
    case ConsentState::kDenied: return "denied";
    case ConsentState::kUnknown: break;
  }
  return "unknown";
}

}  // namespace

void CustomerStateCodec::encode(const CustomerState& state, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kVersion));
  Writer w(out);
  // visit_state takes a mutable reference so one function serves both directions; Writer only reads.
  visit_state(w, const_cast<CustomerState&>(state));
}

Status CustomerStateCodec::decode(std::string_view bytes, CustomerState& out) {
  if (bytes.empty()) return Status::corruption("customer state: empty");
  auto version = static_cast<uint8_t>(bytes[0]);
  if (version != kVersion) {
    return Status::corruption("customer state: unknown version " + std::to_string(version));
  }
  CustomerState decoded;
  Reader r(bytes.substr(1));
  visit_state(r, decoded);
  if (!r.ok()) return Status::corruption("customer state: " + r.error());
  if (!r.at_end()) return Status::corruption("customer state: trailing bytes");
  out = std::move(decoded);
  return Status::ok();
}

std::string describe_json(const CustomerState& s) {
  using nlohmann::json;
  json j;
  j["profile"] = {{"timezone", s.profile.timezone},
                  {"locale", s.profile.locale},
                  {"email_known", s.profile.email_known},
                  {"phone_known", s.profile.phone_known},
                  {"push_token_known", s.profile.push_token_known}};
  json consent = json::object();
  json engagement = json::object();
  for (int i = 0; i < kChannelCount; ++i) {
    auto name = std::string(to_string(static_cast<Channel>(i)));
    consent[name] = consent_name(s.consent[i]);
    const auto& e = s.engagement[i];
    if (e.delivered || e.opened || e.clicked) {
      engagement[name] = {{"delivered", e.delivered}, {"opened", e.opened}, {"clicked", e.clicked}, {"last_ms", e.last.ms()}};
    }
  }
  j["consent"] = consent;
  j["engagement"] = engagement;
  j["orders"] = {{"order_count", s.orders.order_count},
                 {"lifetime_value", s.orders.lifetime_value},
                 {"first_order_ms", s.orders.first_order.ms()},
                 {"last_order_ms", s.orders.last_order.ms()},
                 {"last_order_id", s.orders.last_order_id}};
  json items = json::array();
  for (const auto& l : s.cart.items) {
    items.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"unit_price", l.unit_price}, {"category", l.category}});
  }
  j["cart"] = {{"items", items},
               {"value", s.cart.value},
               {"currency", s.cart.currency},
               {"last_update_ms", s.cart.last_update.ms()},
               {"instance", s.cart.instance},
               {"active", s.cart.active}};
  json signups = json::object();
  for (int i = 0; i < kSignupFormCount; ++i) {
    const auto& f = s.signups[i];
    signups[std::string(to_string(static_cast<SignupForm>(i)))] = {
        {"started", f.started}, {"start_ms", f.start.ms()}, {"instance", f.instance}, {"completed", f.completed}};
  }
  j["signups"] = signups;
  json repl = json::array();
  for (const auto& r : s.replenishment) {
    repl.push_back({{"sku", r.sku},
                    {"category", r.category},
                    {"last_order_id", r.last_order_id},
                    {"last_order_ms", r.last_order.ms()},
                    {"quantity", r.quantity},
                    {"due_ms", r.due.ms()}});
  }
  j["replenishment"] = repl;
  json ships = json::array();
  for (const auto& sh : s.shipments) {
    ships.push_back({{"order_id", sh.order_id},
                     {"carrier", sh.carrier},
                     {"shipped_ms", sh.shipped.ms()},
                     {"promised_delivery_ms", sh.promised_delivery.ms()},
                     {"new_eta_ms", sh.new_eta.ms()},
                     {"reason", sh.reason},
                     {"notified", sh.notified},
                     {"delivered", sh.delivered}});
  }
  j["shipments"] = ships;
  json sends = json::array();
  for (auto t : s.recent_sends) sends.push_back(t.ms());
  j["recent_sends_ms"] = sends;
  json progress = json::array();
  for (const auto& p : s.progress) {
    progress.push_back({{"journey", p.journey},
                        {"key", p.key},
                        {"instance", p.instance},
                        {"next_step", p.next_step},
                        {"anchor_ms", p.anchor.ms()},
                        {"instance_start_ms", p.instance_start.ms()},
                        {"active", p.active},
                        {"completed_once", p.completed_once}});
  }
  j["progress"] = progress;
  json pending = json::array();
  for (const auto& p : s.pending) {
    pending.push_back({{"id", to_hex64(p.id)},
                       {"due_ms", p.due.ms()},
                       {"original_due_ms", p.original_due.ms()},
                       {"journey", p.journey},
                       {"trigger", std::string(to_string(p.trigger))},
                       {"key", p.key},
                       {"instance", p.instance},
                       {"step", p.step}});
  }
  j["pending_timers"] = pending;
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace beckon::journey
