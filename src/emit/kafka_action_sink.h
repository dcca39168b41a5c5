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
// source in headers. One per worker (owns an encoder and a delivery tracker; not thread-safe);
// the Producer is shared and must outlive it.
class KafkaActionSink final : public pipeline::ActionSink {
 public:
  // `max_in_flight`: actions sent but not yet acknowledged before send() waits (backpressure).
  KafkaActionSink(Producer& producer, const Routing& routing, size_t max_in_flight = 100'000)
      : producer_(producer), routing_(routing), max_in_flight_(static_cast<int64_t>(max_in_flight)) {}

  Status send(const journey::Action& action) override;
  Status send_held_out(const journey::Action& action) override;
  Status send_dead_letter(const pipeline::DeadLetter& letter) override;
  Status flush(Millis timeout) override;

  const DeliveryTracker& tracker() const { return tracker_; }
  uint64_t backpressure_waits() const { return backpressure_waits_; }

 private:
  Status produce_action(const std::string& topic, codec::OutputFormat format, const journey::Action& action);

  Producer& producer_;
  const Routing& routing_;
  const int64_t max_in_flight_;
  codec::ActionEncoder encoder_;
  DeliveryTracker tracker_;
  uint64_t backpressure_waits_ = 0;
};

}  // namespace beckon::emit
