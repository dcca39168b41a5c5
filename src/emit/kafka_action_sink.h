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
  KafkaActionSink(Producer& producer, const Routing& routing) : producer_(producer), routing_(routing) {}

  Status send(const journey::Action& action) override;
  Status send_held_out(const journey::Action& action) override;
  Status send_dead_letter(const pipeline::DeadLetter& letter) override;
  Status flush(Millis timeout) override;

  const DeliveryTracker& tracker() const { return tracker_; }

 private:
  Status produce_action(const std::string& topic, codec::OutputFormat format, const journey::Action& action);

  Producer& producer_;
  const Routing& routing_;
  codec::ActionEncoder encoder_;
  DeliveryTracker tracker_;
};

}  // namespace beckon::emit
