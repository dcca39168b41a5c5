#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/compact_string.h"
#include "core/status.h"
#include "core/types.h"
#include "journey/types.h"

namespace beckon::journey {

// Everything the triggers and policies know about one customer. Plain data, owned by the state
// cache (state/) and mutated only by JourneyEngine. Every collection is bounded (limits below),
// and every field is a deterministic function of the customer's events and fired timers, so a
// replay from the same stored state and offsets yields the same state. Not thread-safe.

enum class ConsentState : uint8_t { kUnknown, kGranted, kDenied };

struct Profile {
  std::string timezone;  // IANA name; empty = policy default
  std::string locale;
  bool email_known = false;
  bool phone_known = false;
  bool push_token_known = false;
  bool operator==(const Profile&) const = default;
};

// ChannelEngaged history of one channel (for "most engaged channel").
struct ChannelEngagement {
  uint32_t delivered = 0;
  uint32_t opened = 0;
  uint32_t clicked = 0;
  EventTime last;  // last engagement of any kind
  bool operator==(const ChannelEngagement&) const = default;
};

struct OrderStats {
  int32_t order_count = 0;
  double lifetime_value = 0;  // sum of order totals
  EventTime first_order;      // meaningful when order_count > 0
  EventTime last_order;
  std::string last_order_id;
  bool operator==(const OrderStats&) const = default;
};

struct CartState {
  std::vector<CartLine> items;  // the full cart after the last update (at most kMaxCartLines)
  double value = 0;             // sum of quantity * unit_price
  std::string currency;
  EventTime last_update;
  uint32_t instance = 0;  // counts non-empty carts started (emptied/ordered carts end one)
  bool active = false;    // a non-empty cart is open
  bool operator==(const CartState&) const = default;
};

struct SignupState {
  bool started = false;  // a start was seen and not yet completed
  EventTime start;
  uint32_t instance = 0;  // starts seen
  bool completed = false;
  bool operator==(const SignupState&) const = default;
};

// The last order of one SKU (replenishment).
struct ReplenishmentItem {
  std::string sku;
  std::string category;
  std::string last_order_id;
  EventTime last_order;
  int32_t quantity = 1;
  EventTime due;  // reminder due time of the last scheduling (0 = none)
  bool operator==(const ReplenishmentItem&) const = default;
};

struct Shipment {
  std::string order_id;
  std::string carrier;
  EventTime shipped;
  EventTime promised_delivery;
  EventTime new_eta;    // from ShipmentDelayed; 0 = unknown
  std::string reason;   // of the notice ("delivery_overdue" for the check)
  bool notified = false;   // the one notice of this order was decided (sent, held out, suppressed or deferred)
  bool delivered = false;
  bool operator==(const Shipment&) const = default;
};

// Progress of one journey instance. Cart journeys have one per journey (key ""), signup journeys
// one per form (key = form name).
struct JourneyProgress {
  CompactString journey;  // names are short: inline, no heap block to miss on in find_progress()
  std::string key;
  uint32_t instance = 0;     // instances started so far; the current one when active
  int32_t next_step = 0;     // next unsent step; == steps.size() when all were decided
  EventTime anchor;          // what step delays count from (cart: last update; signup: start)
  EventTime instance_start;  // for the re-entry cooldown
  bool active = false;
  bool completed_once = false;  // an instance ran through its last step at least once
  bool operator==(const JourneyProgress&) const = default;
};

// A timer this customer has in the timer index. `due` is the index key's due time; `original_due`
// the step's due before any quiet-hours deferral.
struct PendingTimer {
  uint64_t id = 0;
  EventTime due;
  EventTime original_due;
  CompactString journey;
  Trigger trigger = Trigger::kCartAbandonment;
  std::string key;         // cart: ""; signup: form; replenishment: sku; shipping: order id
  uint32_t instance = 0;   // cart/signup instance
  int32_t step = 0;
  bool operator==(const PendingTimer&) const = default;
};

struct CustomerState {
  // Bounds. Exceeding one drops the oldest entries (and cancels their timers).
  static constexpr size_t kMaxCartLines = 100;
  static constexpr size_t kMaxReplenishmentItems = 64;
  static constexpr size_t kMaxShipments = 32;
  static constexpr size_t kMaxRecentSends = 64;

  Profile profile;
  std::array<ConsentState, kChannelCount> consent{};
  std::array<ChannelEngagement, kChannelCount> engagement{};
  OrderStats orders;
  CartState cart;
  std::array<SignupState, kSignupFormCount> signups{};
  std::vector<ReplenishmentItem> replenishment;
  std::vector<Shipment> shipments;
  std::vector<EventTime> recent_sends;  // non-transactional sends, ascending (frequency caps)
  std::vector<JourneyProgress> progress;
  std::vector<PendingTimer> pending;

  bool operator==(const CustomerState&) const = default;

  // First match, or nullptr. Inline: the journey engine calls them on every event.
  PendingTimer* find_pending(uint64_t id) { return find_in(pending, [id](const PendingTimer& p) { return p.id == id; }); }
  JourneyProgress* find_progress(std::string_view journey, std::string_view key) {
    return find_in(progress, [&](const JourneyProgress& p) { return p.key == key && p.journey == journey; });
  }
  ReplenishmentItem* find_replenishment(std::string_view sku) {
    return find_in(replenishment, [&](const ReplenishmentItem& r) { return r.sku == sku; });
  }
  Shipment* find_shipment(std::string_view order_id) {
    return find_in(shipments, [&](const Shipment& s) { return s.order_id == order_id; });
  }

 private:
  template <typename T, typename Pred>
  static T* find_in(std::vector<T>& v, Pred pred) {
    for (T& e : v) {
      if (pred(e)) return &e;
    }
    return nullptr;
  }
};

// Compact versioned binary form of CustomerState (the RocksDB value). Layout: a version byte,
// then fields as varints (zig-zag for signed), doubles as 8 little-endian bytes, strings as
// length-prefixed bytes. Version 2 (written since; customer_state.cc lists what it changed)
// codes times as differences and leaves out empty channels, forms and order stats; version 1
// states, written by earlier releases, still decode, and are rewritten as version 2 when their
// customer next changes. Decoding checks every length against the remaining input and every enum
// against its range: truncated or garbage input gives Status::corruption, never a crash or a
// large allocation. Stateless and thread-safe.
struct CustomerStateCodec {
  static constexpr uint8_t kVersion = 2;
  static constexpr uint8_t kVersion1 = 1;
  static void encode(const CustomerState& state, std::string& out);
  static Status decode(std::string_view bytes, CustomerState& out);
  // Starts loading the first line of each heap block of `s` (the state cache calls it when it
  // stages a batch, before the journey engine reads them; no effect on program state).
  static void touch(const CustomerState& s) {
    for_each_block(s, [](const void* p) { __builtin_prefetch(p); });
  }
  // Reads the first byte of each heap block of `s`: the state cache's commit encoder calls it
  // a few states ahead of encode(). A load, not a prefetch: a state's blocks lie on pages of
  // their own, and on the machine measured a prefetch to a page missing from the TLB appears
  // not to bring the line in (encoding a commit's states, scattered in memory, took 11-28 %
  // less time with loads at the same distance; bench/RESULTS.md, session 14). The loads of one
  // state overlap one another.
  static void load_blocks(const CustomerState& s) {
    // As unsigned char: a block with no element yet (capacity only) may be read that way.
    for_each_block(s, [](const void* p) {
      if (p != nullptr) (void)*static_cast<const volatile unsigned char*>(p);
    });
  }

 private:
  template <typename F>
  static void for_each_block(const CustomerState& s, F&& f) {
    f(s.pending.data());
    f(s.progress.data());
    f(s.cart.items.data());
    f(s.recent_sends.data());
    f(s.replenishment.data());
    f(s.shipments.data());
  }
};

// Human-readable JSON of a state (for `beckon inspect`), pretty-printed.
std::string describe_json(const CustomerState& state);

}  // namespace beckon::journey
