// The tools around the engine: produce (JSON lines -> events), tail (topic -> JSON lines),
// inspect (customer state and pending timers from a state directory).
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "codec/action_encoder.h"
#include "codec/event_decoder.h"
#include "core/bytes.h"
#include "core/log.h"
#include "emit/producer.h"
#include "journey/customer_state.h"
#include "kafka/handles.h"
#include "state/store.h"

namespace beckon::app {

namespace {

std::string base64(std::span<const uint8_t> in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int k = 18; k >= 0; k -= 6) out.push_back(kAlphabet[(v >> k) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (i + 1 < in.size()) v |= uint32_t{in[i + 1]} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace

int run_produce(const ProduceOptions& options) {
  init_logging(false, "warn");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!options.file.empty() && options.file != "-") {
    file.open(options.file);
    if (!file) {
      std::cerr << "beckon produce: cannot read " << options.file << "\n";
      return 2;
    }
    in = &file;
  }
  auto producer = emit::Producer::create({{"bootstrap.servers", options.bootstrap}});
  if (!producer) {
    std::cerr << "beckon produce: " << producer.status().to_string() << "\n";
    return 1;
  }
  emit::DeliveryTracker tracker;
  codec::EventDecoder decoder;
  std::string line;
  uint64_t line_no = 0, sent = 0, invalid = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // Every line is checked against the schema and validated exactly as the engine would.
    auto fb = codec::event_json_to_flatbuffer(line);
    journey::Event event;
    codec::DecodeFailure failure;
    if (!fb || !decoder.decode(bytes_of(*fb), codec::InputFormat::kFlatBuffers, event, failure)) {
      ++invalid;
      std::cerr << options.file << ":" << line_no << ": "
                << (fb ? std::string(codec::to_string(failure.reason)) + ": " + failure.detail : fb.status().message())
                << "\n";
      continue;
    }
    const std::string key(event.customer_id);
    std::span<const uint8_t> value = options.json ? bytes_of(line) : bytes_of(*fb);
    if (Status s = (*producer)->produce(options.topic, bytes_of(key), value, {}, &tracker); !s) {
      std::cerr << "beckon produce: " << s.to_string() << "\n";
      return 1;
    }
    ++sent;
  }
  Status s = tracker.wait_all(Millis(60'000));
  (*producer)->stop();
  std::cerr << "produced " << sent << " events to " << options.topic << (invalid ? ", rejected " : "")
            << (invalid ? std::to_string(invalid) + " invalid lines" : "") << "\n";
  if (!s) {
    std::cerr << "beckon produce: " << s.to_string() << "\n";
    return 1;
  }
  return invalid == 0 ? 0 : 3;
}

int run_tail(const TailOptions& options) {
  init_logging(false, "warn");
  static std::atomic<bool> stop{false};
  watch_signals([] { stop.store(true); });
  const std::string group = "beckon-tail-" + std::to_string(::getpid()) + "-" +
                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  auto conf = kafka::make_conf({{"bootstrap.servers", options.bootstrap},
                                {"group.id", group},
                                {"enable.auto.commit", "false"},
                                {"auto.offset.reset", options.from_beginning ? "earliest" : "latest"}});
  if (!conf) {
    std::cerr << "beckon tail: " << conf.status().to_string() << "\n";
    return 2;
  }
  char err[512];
  kafka::KafkaPtr consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof(err)));
  if (!consumer) {
    std::cerr << "beckon tail: " << err << "\n";
    return 1;
  }
  rd_kafka_poll_set_consumer(consumer.get());
  kafka::PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  for (const std::string& t : options.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), -1);
  rd_kafka_subscribe(consumer.get(), topics.get());
  uint64_t printed = 0;
  auto last_message = std::chrono::steady_clock::now();
  while (!stop.load()) {
    if (options.max_messages > 0 && printed >= options.max_messages) break;
    if (options.idle_timeout_seconds > 0 &&
        std::chrono::steady_clock::now() - last_message > std::chrono::seconds(options.idle_timeout_seconds)) {
      break;
    }
    kafka::MessagePtr msg(rd_kafka_consumer_poll(consumer.get(), 200));
    if (!msg) continue;
    if (msg->err) {
      if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) std::cerr << "beckon tail: " << rd_kafka_message_errstr(msg.get()) << "\n";
      continue;
    }
    last_message = std::chrono::steady_clock::now();
    std::span<const uint8_t> value{static_cast<const uint8_t*>(msg->payload), msg->len};
    nlohmann::json out;
    out["topic"] = rd_kafka_topic_name(msg->rkt);
    out["partition"] = msg->partition;
    out["offset"] = msg->offset;
    if (msg->key) out["key"] = std::string(static_cast<const char*>(msg->key), msg->key_len);
    const std::string reason = kafka::header_value(msg.get(), "beckon.reason");
    if (!reason.empty()) {
      out["dead_letter"] = {{"reason", reason},
                            {"detail", kafka::header_value(msg.get(), "beckon.detail")},
                            {"source_topic", kafka::header_value(msg.get(), "beckon.source.topic")},
                            {"source_partition", kafka::header_value(msg.get(), "beckon.source.partition")},
                            {"source_offset", kafka::header_value(msg.get(), "beckon.source.offset")}};
      out["payload_base64"] = base64(value);
    } else if (auto action = codec::action_to_json(value)) {
      out["action"] = nlohmann::json::parse(*action, nullptr, false);
    } else if (auto json = nlohmann::json::parse(value.begin(), value.end(), nullptr, false); !json.is_discarded()) {
      out["value"] = json;
    } else {
      out["payload_base64"] = base64(value);
    }
    std::cout << out.dump() << "\n" << std::flush;
    ++printed;
  }
  rd_kafka_consumer_close(consumer.get());
  return 0;
}

int run_inspect(const InspectOptions& options) {
  init_logging(false, "warn");
  state::StoreOptions so;
  so.path = options.state_dir;
  so.read_only = true;
  so.create_if_missing = false;
  auto store = state::Store::open(so);
  if (!store) {
    std::cerr << "beckon inspect: " << store.status().to_string() << "\n";
    return 1;
  }
  uint64_t found = 0;
  Status decode_error;
  Status s = (*store)->for_each_customer([&](PartitionId p, std::string_view customer, std::string_view value) {
    if (!options.all && customer != options.customer) return;
    journey::CustomerState state;
    if (Status d = journey::CustomerStateCodec::decode(value, state); !d) {
      decode_error = d;
      std::cerr << "beckon inspect: partition " << p.value() << ": undecodable state: " << d.to_string() << "\n";
      return;
    }
    ++found;
    nlohmann::json line;
    line["partition"] = p.value();
    line["customer"] = std::string(customer);
    line["state"] = nlohmann::json::parse(journey::describe_json(state), nullptr, false);
    std::cout << line.dump() << "\n";
  });
  if (!s) {
    std::cerr << "beckon inspect: " << s.to_string() << "\n";
    return 1;
  }
  if (!options.all && found == 0) {
    std::cerr << "beckon inspect: no state for customer '" << options.customer << "'\n";
    return 4;
  }
  return decode_error.is_ok() ? 0 : 1;
}

}  // namespace beckon::app
