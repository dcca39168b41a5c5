#include "emit/kafka_action_sink.h"

#include "core/bytes.h"

#include <chrono>
#include <string>
#include <thread>

namespace beckon::emit {

Status KafkaActionSink::produce_action(const std::string& topic, codec::OutputFormat format,
                                       const journey::Action& action) {
  if (in_flight() >= max_in_flight_) {
    // Backpressure: stop deciding until the broker has acknowledged enough; never drop.
    ++backpressure_waits_;
    while (in_flight() >= max_in_flight_ / 2) {
      for (DeliveryTracker& t : trackers_) {
        if (t.failed() > 0) return t.wait_all(Millis(0));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::span<const uint8_t> value = encoder_.encode(action, format);
  if (value.empty()) {
    // Input strings are UTF-8-checked by the decoder, so this means a bug, not bad input.
    return Status::fatal("action " + action.action_id + " cannot be encoded as " +
                         std::string(codec::to_string(format)));
  }
  const std::string_view trigger = journey::to_string(action.trigger);
  const std::string_view content_type =
      format == codec::OutputFormat::kJson ? "application/json" : "application/x-flatbuffers";
  const Header headers[] = {
      {"action_id", bytes_of(action.action_id)},
      {"trigger", bytes_of(trigger)},
      {"content-type", bytes_of(content_type)},
  };
  return producer_.produce(topic, bytes_of(action.customer_id), value, headers, &trackers_[epoch_]);
}

Status KafkaActionSink::send(const journey::Action& action) {
  const auto channel = static_cast<size_t>(action.channel);
  return produce_action(routing_.channel_topics[channel], routing_.channel_formats[channel], action);
}

Status KafkaActionSink::send_held_out(const journey::Action& action) {
  if (routing_.holdout_topic.empty()) return Status::ok();
  return produce_action(routing_.holdout_topic, routing_.holdout_format, action);
}

Status KafkaActionSink::send_dead_letter(const pipeline::DeadLetter& letter) {
  const std::string partition = std::to_string(letter.partition.value());
  const std::string offset = std::to_string(letter.offset.value());
  const Header headers[] = {
      {"beckon.reason", bytes_of(letter.reason)},
      {"beckon.detail", bytes_of(letter.detail)},
      {"beckon.source.topic", bytes_of(letter.source_topic)},
      {"beckon.source.partition", bytes_of(partition)},
      {"beckon.source.offset", bytes_of(offset)},
  };
  return producer_.produce(routing_.dead_letter_topic, letter.key, letter.payload, headers, &trackers_[epoch_]);
}

uint64_t KafkaActionSink::seal() {
  const size_t sealed = epoch_;
  epoch_ ^= 1;
  return sealed;
}

Status KafkaActionSink::wait_sealed(uint64_t token, Millis timeout) { return trackers_[token & 1].wait_all(timeout); }

}  // namespace beckon::emit
