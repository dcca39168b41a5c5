#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"
#include "core/types.h"
#include "journey/types.h"

namespace beckon::pipeline {

// An input message that could not be decoded or validated, with where it came from.
struct DeadLetter {
  std::string_view source_topic;
  PartitionId partition;
  Offset offset;
  std::span<const uint8_t> key;
  std::span<const uint8_t> payload;  // the original bytes, unchanged
  std::string_view reason;           // snake_case, e.g. "verify_failed"
  std::string_view detail;           // human-readable, names the field
};

// Where a worker's decisions go. One instance per worker: send*() and seal() on the worker's
// thread, wait_sealed() on its commit thread. The production implementation
// (emit::KafkaActionSink) produces to Kafka, tests use an in-memory fake.
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  // Queues an action for its channel's topic. Blocks while the producer queue is full
  // (backpressure, never loss). Non-ok only when the producer cannot continue.
  virtual Status send(const journey::Action& action) = 0;
  // Records a held-out decision (holdout topic, when configured).
  virtual Status send_held_out(const journey::Action& action) = 0;
  virtual Status send_dead_letter(const DeadLetter& letter) = 0;

  // The commit protocol (DESIGN.md §5): a commit is written only after every message sent
  // before it was cut is acknowledged. seal() is called on the owning thread when a commit is
  // cut: it closes the set of messages sent so far and returns a token naming it.
  // wait_sealed(token, timeout) blocks until every message of that set is acknowledged. It runs
  // on the worker's commit thread while the owner goes on sending, so it must be safe against
  // concurrent send() calls. Non-ok if a delivery failed for good or the timeout passed: the
  // commit is then not written. The worker waits for one sealed set at a time and calls
  // seal() again only after that wait has returned.
  virtual uint64_t seal() = 0;
  virtual Status wait_sealed(uint64_t token, Millis timeout) = 0;
};

}  // namespace beckon::pipeline
