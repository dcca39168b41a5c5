#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "codec/event_builder.h"
#include "core/types.h"

namespace beckon::app {

struct SimulatorOptions {
  int customers = 300;             // distinct shoppers (c00000 .. c{n-1})
  double events_per_second = 150;  // average input rate
  uint64_t seed = 42;              // the same seed and clock give the same traffic
  double json_fraction = 0.25;     // share of events sent as JSON (the rest FlatBuffers)
  double garbage_fraction = 0.003; // share of messages that are malformed (dead-letter path)
  Millis step{1000};               // base gap between a shopper's successive actions
};

// A shopper simulator producing realistic beauty-shop traffic: profiles and consent, browsing,
// carts that are abandoned or ordered, orders with replenishable items, shipments that arrive,
// slip or go quiet, loyalty and account signups that are finished or not, and now and then a
// malformed message. Deterministic for a seed and a sequence of `now` values.
// Not thread-safe: one thread calls step().
class ShopperSimulator {
 public:
  using Emit = std::function<void(const std::string& customer, std::span<const uint8_t> bytes)>;
  explicit ShopperSimulator(SimulatorOptions options);

  // Emits every event due at or before `now` (event time = the moment it is due).
  void step(WallTime now, const Emit& emit);
  uint64_t produced() const { return produced_; }

 private:
  struct Pending {
    int64_t due_ms;
    uint64_t seq;
    codec::EventSpec spec;
    bool operator>(const Pending& o) const { return due_ms != o.due_ms ? due_ms > o.due_ms : seq > o.seq; }
  };
  void start_visit(int64_t now_ms);
  void push(int64_t due_ms, codec::EventSpec spec);
  codec::EventSpec make(journey::EventType type, const std::string& customer);
  std::vector<codec::LineItemSpec> random_items(int max_items);

  SimulatorOptions options_;
  std::mt19937_64 rng_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue_;
  std::vector<bool> onboarded_;
  codec::EventBuilder builder_;
  int64_t next_visit_ms_ = 0;
  uint64_t seq_ = 0;
  uint64_t produced_ = 0;
  uint64_t orders_ = 0;
};

}  // namespace beckon::app
