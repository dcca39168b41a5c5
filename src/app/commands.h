#pragma once

#include <functional>
#include <string>
#include <vector>

namespace beckon::app {

struct DemoOptions {
  int duration_seconds = 0;      // 0: until Ctrl-C
  int customers = 300;
  double events_per_second = 150;
  int metrics_port = 9464;       // 0: any free port
  std::string state_dir;         // empty: a fresh temporary directory
  int workers = 1;
  int samples_per_trigger = 2;   // sample actions printed per trigger
  bool require_all_triggers = false;  // exit 1 unless all four triggers fired
};

struct BrokerOptions {
  int partitions = 4;
  std::string input_topic = "shop.events";
  std::string action_topic_prefix = "beckon.actions.";
  std::string dead_letter_topic = "beckon.dlq";
  std::string address_file;      // also write the bootstrap address here
  std::vector<std::string> extra_topics;  // more topics to create, same partition count
};

struct ProduceOptions {
  std::string bootstrap = "localhost:9092";
  std::string topic = "shop.events";
  std::string file = "-";        // JSON lines; "-" = standard input
  bool json = false;             // send the JSON as is (default: convert to FlatBuffers)
};

struct TailOptions {
  std::string bootstrap = "localhost:9092";
  std::vector<std::string> topics;
  bool from_beginning = false;
  uint64_t max_messages = 0;     // 0: no limit
  int idle_timeout_seconds = 0;  // 0: wait forever
};

struct InspectOptions {
  std::string state_dir;
  std::string customer;
  bool all = false;
};

int run_demo(const DemoOptions& options);
int run_produce(const ProduceOptions& options);
int run_tail(const TailOptions& options);
int run_inspect(const InspectOptions& options);
int run_broker(const BrokerOptions& options);
int run_engine(const std::string& config_path, int metrics_port_override);
int validate_config(const std::string& config_path);

// Blocks SIGINT/SIGTERM in the calling thread (call before starting threads) and starts a
// thread that calls `on_signal` once when one arrives.
void watch_signals(std::function<void()> on_signal);

}  // namespace beckon::app
