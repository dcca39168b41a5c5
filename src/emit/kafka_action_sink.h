#pragma once

#include <array>
#include <string>

#include "codec/action_encoder.h"
#include "emit/producer.h"
#include "journey/types.h"
#include "pipeline/action_sink.h"

namespace beckon::emit {

// Where actions go: one topic per channel, each with its wire format (DESIGN.md §2).
struct Routing {
  std::array<std::string, journey::kChannelCount> channel_topics;
  std::array<codec::OutputFormat, journey::kChannelCount> channel_formats{};
  std::string dead_letter_topic;
  std::string holdout_topic;  // empty: held-out decisions are only counted
  codec::OutputFormat holdout_format = codec::OutputFormat::kJson;
};

// The production ActionSink: encodes actions and produces them keyed by customer_id with the
// header "action_id"; dead letters keep the original key and bytes and carry the reason and
// source in headers. One per worker (owns an encoder and its delivery trackers); the Producer
// is shared and must outlive it.
//
// Deliveries are counted per epoch: seal() ends the current epoch, and wait_sealed() waits for
// that epoch's reports only, so a commit in flight does not wait for actions decided after its
// cut. Two trackers take turns, which is enough because the worker seals again only after the
// previous wait returned. send*() and seal() on the worker's thread; wait_sealed(), in_flight()
// and failed() on any thread.
class KafkaActionSink final : public pipeline::ActionSink {
 public:
  // `max_in_flight`: actions sent but not yet acknowledged before send() waits (backpressure).
  KafkaActionSink(Producer& producer, const Routing& routing, size_t max_in_flight = 100'000)
      : producer_(producer), routing_(routing), max_in_flight_(static_cast<int64_t>(max_in_flight)) {}

  Status send(const journey::Action& action) override;
  Status send_held_out(const journey::Action& action) override;
  Status send_dead_letter(const pipeline::DeadLetter& letter) override;
  uint64_t seal() override;
  Status wait_sealed(uint64_t token, Millis timeout) override;

  // Messages sent and not yet reported, and messages whose delivery failed (both epochs).
  int64_t in_flight() const { return trackers_[0].in_flight() + trackers_[1].in_flight(); }
  int64_t failed() const { return trackers_[0].failed() + trackers_[1].failed(); }
  uint64_t backpressure_waits() const { return backpressure_waits_; }

 private:
  Status produce_action(const std::string& topic, codec::OutputFormat format, const journey::Action& action);

  Producer& producer_;
  const Routing& routing_;
  const int64_t max_in_flight_;
  codec::ActionEncoder encoder_;
  DeliveryTracker trackers_[2];
  size_t epoch_ = 0;  // the tracker counting what is sent now
  uint64_t backpressure_waits_ = 0;
};

}  // namespace beckon::emit
