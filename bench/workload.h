#pragma once

// Deterministic, realistic event workload for the benchmarks (header-only, bench/ only).
//
// Shoppers arrive in sessions: a pool of concurrently active sessions, each belonging to one
// customer (30% drawn from a "returning" hot set of 5% of the population, 70% uniformly), emits
// the event mix of issue 5 (views 55%, cart updates 20%, orders 8%, signups 7%, fulfilment 6%,
// profile/consent/engagement 4%). Event times increase by exponential inter-arrival times at
// `events_per_second` of event time. Every event is encoded once as an Event FlatBuffer with
// codec::EventBuilder into one arena (8-byte aligned, as a consumer buffer would be).

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/event_builder.h"

namespace beckon::bench {

inline std::string customer_name(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "cust-%010llu", static_cast<unsigned long long>(index));
  return buf;
}

// Stable partition of a customer index (the bench's own key partitioner for the Worker runs).
inline int32_t partition_of(uint64_t index, int32_t partitions) {
  uint64_t x = index * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<int32_t>(x % static_cast<uint64_t>(partitions));
}

struct WorkloadOptions {
  uint64_t customers = 1'000'000;
  uint64_t events = 2'000'000;
  uint64_t seed = 42;
  int32_t partitions = 4;
  double events_per_second = 200;          // of event time (a mid-size shop)
  int64_t start_ms = 1767225600000;        // 2026-01-01T00:00:00Z
  size_t active_sessions = 5000;
};

struct EventMixCounts {
  uint64_t by_type[journey::kEventTypeCount] = {};
};

class Workload {
 public:
  explicit Workload(const WorkloadOptions& o) : o_(o) {}

  void generate() {
    std::mt19937_64 rng(o_.seed);
    codec::EventBuilder builder;
    offsets_.reserve(o_.events + 1);
    partition_.reserve(o_.events);
    customer_.reserve(o_.events);
    arena_.reserve(o_.events * 200);
    std::exponential_distribution<double> gap(o_.events_per_second / 1000.0);
    std::uniform_real_distribution<double> u01(0, 1);
    const uint64_t hot = std::max<uint64_t>(1, o_.customers / 20);
    auto pick_customer = [&] {
      if (u01(rng) < 0.3) return (rng() % hot) * 20 % o_.customers;  // spread the hot set
      return rng() % o_.customers;
    };
    sessions_.resize(std::min<size_t>(o_.active_sessions, o_.customers));
    for (auto& s : sessions_) new_session(s, pick_customer(), rng);

    double t = static_cast<double>(o_.start_ms);
    codec::EventSpec spec;
    for (uint64_t i = 0; i < o_.events; ++i) {
      t += gap(rng);
      Session& s = sessions_[rng() % sessions_.size()];
      spec = codec::EventSpec{};
      spec.event_id = "ev-" + std::to_string(i);
      spec.timestamp = EventTime(static_cast<int64_t>(t));
      uint64_t cust = s.customer;
      const double r = u01(rng) * 100;
      if (r < 30) {
        spec.type = journey::EventType::kPageViewed;
        static constexpr journey::PageType kPages[] = {
            journey::PageType::kHome,     journey::PageType::kCategory, journey::PageType::kCategory,
            journey::PageType::kProduct,  journey::PageType::kProduct,  journey::PageType::kCart,
            journey::PageType::kCheckout, journey::PageType::kOther,    journey::PageType::kOther,
            journey::PageType::kSignup};
        spec.page_type = kPages[rng() % 10];
        spec.url = "https://shop.example/" + std::to_string(rng() % 10000);
        spec.session_id = s.session_id;
      } else if (r < 55) {
        spec.type = journey::EventType::kProductViewed;
        const uint64_t sku = rng() % kSkus;
        spec.sku = sku_name(sku);
        spec.category = std::string(category_of(sku));
        spec.price = price_of(sku);
      } else if (r < 75) {
        spec.type = journey::EventType::kCartUpdated;
        if (s.cart.empty() || (s.cart.size() < 6 && u01(rng) < 0.7)) {
          s.cart.push_back(line(rng() % kSkus, 1 + static_cast<int32_t>(rng() % 2)));
        } else if (u01(rng) < 0.5) {
          s.cart.back().quantity += 1;
        } else {
          s.cart.pop_back();
        }
        spec.items = s.cart;
        spec.currency = "EUR";
      } else if (r < 83) {
        spec.type = journey::EventType::kOrderPlaced;
        if (s.cart.empty()) s.cart.push_back(line(rng() % kSkus, 1));
        spec.items = s.cart;
        for (const auto& it : s.cart) spec.amount += it.quantity * it.unit_price;
        spec.currency = "EUR";
        spec.order_id = "ord-" + std::to_string(next_order_++);
        s.cart.clear();
        orders_.push_back({cust, spec.order_id, 0});
        if (orders_.size() > 200'000) orders_.pop_front();
      } else if (r < 87) {
        spec.type = journey::EventType::kSignupStarted;
        spec.form = static_cast<journey::SignupForm>(rng() % journey::kSignupFormCount);
        signups_.push_back({cust, spec.form});
        if (signups_.size() > 100'000) signups_.pop_front();
      } else if (r < 90) {
        spec.type = journey::EventType::kSignupCompleted;
        if (!signups_.empty() && u01(rng) < 0.6) {
          cust = signups_.front().first;
          spec.form = signups_.front().second;
          signups_.pop_front();
        } else {
          spec.form = journey::SignupForm::kNewsletter;
        }
      } else if (r < 96) {
        // Fulfilment of earlier orders: ship, then deliver (75%) or delay first (25%).
        if (orders_.empty()) {
          spec.type = journey::EventType::kPageViewed;
          spec.page_type = journey::PageType::kHome;
          spec.url = "https://shop.example/";
          spec.session_id = s.session_id;
        } else {
          Order o = orders_.front();
          orders_.pop_front();
          cust = o.customer;
          spec.order_id = o.order_id;
          if (o.stage == 0) {
            spec.type = journey::EventType::kOrderShipped;
            spec.carrier = (rng() & 1) ? "DHL" : "UPS";
            spec.promised_delivery = spec.timestamp + Millis(3 * 24 * 3600 * 1000LL);
            o.stage = u01(rng) < 0.25 ? 1 : 2;
            orders_.push_back(o);
          } else if (o.stage == 1) {
            spec.type = journey::EventType::kShipmentDelayed;
            spec.new_eta = spec.timestamp + Millis(5 * 24 * 3600 * 1000LL);
            spec.reason = "weather";
            o.stage = 2;
            orders_.push_back(o);
          } else {
            spec.type = journey::EventType::kOrderDelivered;
          }
        }
      } else if (r < 97.5) {
        spec.type = journey::EventType::kProfileUpdated;
        static constexpr const char* kZones[] = {"Europe/Paris", "Europe/Berlin", "America/New_York",
                                                 "Europe/London", "Asia/Tokyo"};
        spec.timezone = kZones[rng() % 5];
        spec.locale = "en-GB";
        spec.email_known = true;
        spec.push_token_known = (rng() & 1) != 0;
        spec.phone_known = u01(rng) < 0.3;
      } else if (r < 98.5) {
        spec.type = journey::EventType::kConsentChanged;
        spec.channel = static_cast<journey::Channel>(rng() % journey::kChannelCount);
        spec.granted = u01(rng) < 0.85;
      } else {
        spec.type = journey::EventType::kChannelEngaged;
        spec.channel = static_cast<journey::Channel>(rng() % 4);
        spec.engagement = static_cast<journey::EngagementKind>(rng() % 3);
      }
      spec.customer_id = customer_name(cust);
      ++mix_.by_type[static_cast<int>(spec.type)];
      append(builder.build(spec));
      partition_.push_back(static_cast<uint8_t>(partition_of(cust, o_.partitions)));
      customer_.push_back(static_cast<uint32_t>(cust));
      if (--s.events_left == 0) new_session(s, pick_customer(), rng);
    }
    offsets_.push_back(arena_.size());
    last_ms_ = static_cast<int64_t>(t);
  }

  size_t size() const { return partition_.size(); }
  std::span<const uint8_t> payload(size_t i) const {
    return {arena_.data() + offsets_[i], offsets_[i + 1] - offsets_[i] - pad_[i]};
  }
  int32_t partition(size_t i) const { return partition_[i]; }
  uint64_t customer(size_t i) const { return customer_[i]; }
  size_t arena_bytes() const { return arena_.size(); }
  const EventMixCounts& mix() const { return mix_; }
  int64_t first_ms() const { return o_.start_ms; }
  int64_t last_ms() const { return last_ms_; }

 private:
  static constexpr uint64_t kSkus = 5000;
  struct Session {
    uint64_t customer = 0;
    std::string session_id;
    std::vector<codec::LineItemSpec> cart;
    int events_left = 0;
  };
  struct Order {
    uint64_t customer;
    std::string order_id;
    int stage;
  };

  void new_session(Session& s, uint64_t customer, std::mt19937_64& rng) {
    s.customer = customer;
    s.session_id = "s-" + std::to_string(next_session_++);
    s.cart.clear();
    s.events_left = 1 + static_cast<int>(rng() % 10);  // 5.5 events per session on average
  }
  static std::string sku_name(uint64_t sku) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "SKU-%05llu", static_cast<unsigned long long>(sku));
    return buf;
  }
  static std::string_view category_of(uint64_t sku) {
    static constexpr std::string_view kCats[] = {"skincare", "makeup",      "fragrance", "haircare",
                                                 "tools",    "accessories", "gifts",     "bath"};
    return kCats[sku % 8];
  }
  static double price_of(uint64_t sku) { return 5.0 + static_cast<double>(sku % 97) * 0.75; }
  static codec::LineItemSpec line(uint64_t sku, int32_t qty) {
    codec::LineItemSpec l;
    l.sku = sku_name(sku);
    l.quantity = qty;
    l.unit_price = price_of(sku);
    l.category = std::string(category_of(sku));
    if (sku % 8 == 0 && sku % 3 == 0) l.replenish_after_days = 28;  // some items carry their own cycle
    return l;
  }
  void append(std::span<const uint8_t> bytes) {
    offsets_.push_back(arena_.size());
    arena_.insert(arena_.end(), bytes.begin(), bytes.end());
    const size_t pad = (8 - arena_.size() % 8) % 8;
    arena_.resize(arena_.size() + pad);
    pad_.push_back(static_cast<uint8_t>(pad));
  }

  WorkloadOptions o_;
  std::vector<uint8_t> arena_;
  std::vector<uint64_t> offsets_;
  std::vector<uint8_t> pad_;
  std::vector<uint8_t> partition_;
  std::vector<uint32_t> customer_;
  std::vector<Session> sessions_;
  std::deque<Order> orders_;
  std::deque<std::pair<uint64_t, journey::SignupForm>> signups_;
  uint64_t next_order_ = 1;
  uint64_t next_session_ = 1;
  int64_t last_ms_ = 0;
  EventMixCounts mix_;
};

}  // namespace beckon::bench
