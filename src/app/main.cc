// beckon: customer-journey trigger engine for Kafka. The CLI verbs; see README.md.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  using namespace beckon::app;
  CLI::App cli{"beckon: real-time customer-journey triggers for Kafka (cart, signup, replenishment, shipping)"};
  cli.set_version_flag("--version", BECKON_VERSION " (allocator: " BECKON_ALLOCATOR ")");
  cli.require_subcommand(1);

  DemoOptions demo;
  auto* demo_cmd = cli.add_subcommand(
      "demo", "Run the whole pipeline on an embedded broker with a shopper simulator and demo-scale delays");
  demo_cmd->add_option("--duration", demo.duration_seconds, "Stop after this many seconds (0: until Ctrl-C)");
  demo_cmd->add_option("--customers", demo.customers, "Number of simulated shoppers")->check(CLI::Range(1, 10'000'000));
  demo_cmd->add_option("--rate", demo.events_per_second, "Simulated events per second")->check(CLI::Range(1.0, 1e6));
  demo_cmd->add_option("--metrics-port", demo.metrics_port, "Port of /metrics, /healthz, /readyz (0: any free port)");
  demo_cmd->add_option("--state-dir", demo.state_dir, "RocksDB directory (default: a temporary one, removed at exit)");
  demo_cmd->add_option("--workers", demo.workers, "Worker threads")->check(CLI::Range(1, 64));
  demo_cmd->add_option("--samples", demo.samples_per_trigger, "Sample actions printed per trigger");
  demo_cmd->add_flag("--require-all-triggers", demo.require_all_triggers,
                     "Exit 1 unless every trigger type fired (for scripts)");

  BrokerOptions broker;
  auto* broker_cmd = cli.add_subcommand(
      "broker", "Run the embedded Kafka-protocol broker (a test double) and print its bootstrap address");
  broker_cmd->add_option("--partitions", broker.partitions, "Partitions per topic")->check(CLI::Range(1, 256));
  broker_cmd->add_option("--input-topic", broker.input_topic, "Input topic to create");
  broker_cmd->add_option("--action-topic-prefix", broker.action_topic_prefix, "Prefix of the per-channel action topics");
  broker_cmd->add_option("--dead-letter-topic", broker.dead_letter_topic, "Dead-letter topic to create");
  broker_cmd->add_option("--address-file", broker.address_file, "Also write the bootstrap address to this file");
  broker_cmd->add_option("--topic", broker.extra_topics, "Another topic to create (repeatable)");

  std::string config_path;
  int metrics_port = -1;
  auto* run_cmd = cli.add_subcommand("run", "Run against a Kafka cluster with the given configuration");
  run_cmd->add_option("--config,-c", config_path, "YAML configuration file (docs/configuration.md)")->required();
  run_cmd->add_option("--metrics-port", metrics_port, "Override the port of metrics.listen");

  std::string validate_path;
  auto* validate_cmd = cli.add_subcommand("validate-config", "Check a configuration file and report every problem");
  validate_cmd->add_option("file", validate_path, "YAML configuration file")->required();

  ProduceOptions produce;
  auto* produce_cmd = cli.add_subcommand(
      "produce", "Validate JSON-lines events and produce them (as FlatBuffers by default), keyed by customer_id");
  produce_cmd->add_option("--bootstrap,-b", produce.bootstrap, "Kafka bootstrap servers");
  produce_cmd->add_option("--topic,-t", produce.topic, "Input topic");
  produce_cmd->add_option("--file,-f", produce.file, "JSON lines file ('-' = standard input)");
  produce_cmd->add_flag("--json", produce.json, "Send the JSON text instead of FlatBuffers");

  TailOptions tail;
  auto* tail_cmd = cli.add_subcommand("tail", "Print an action or dead-letter topic as JSON lines");
  tail_cmd->add_option("--bootstrap,-b", tail.bootstrap, "Kafka bootstrap servers");
  tail_cmd->add_option("--topic,-t", tail.topics, "Topic(s) to read")->required();
  tail_cmd->add_flag("--from-beginning", tail.from_beginning, "Start at the oldest message (default: new ones only)");
  tail_cmd->add_option("--max", tail.max_messages, "Stop after this many messages");
  tail_cmd->add_option("--idle-timeout", tail.idle_timeout_seconds, "Stop after this many seconds without a message");

  InspectOptions inspect;
  auto* inspect_cmd = cli.add_subcommand(
      "inspect", "Print customer state and pending timers from a state directory (read-only; safe while running)");
  inspect_cmd->add_option("--state-dir", inspect.state_dir, "RocksDB state directory")->required();
  auto* customer_opt = inspect_cmd->add_option("--customer", inspect.customer, "Customer id");
  auto* all_flag = inspect_cmd->add_flag("--all", inspect.all, "Every customer, one JSON line each");
  customer_opt->excludes(all_flag);

  CLI11_PARSE(cli, argc, argv);
  if (*inspect_cmd && !inspect.all && inspect.customer.empty()) {
    std::cerr << "inspect: give --customer ID or --all\n";
    return 2;
  }
  if (*produce_cmd) return run_produce(produce);
  if (*tail_cmd) return run_tail(tail);
  if (*inspect_cmd) return run_inspect(inspect);
  if (*demo_cmd) return run_demo(demo);
  if (*broker_cmd) return run_broker(broker);
  if (*run_cmd) return run_engine(config_path, metrics_port);
  if (*validate_cmd) return validate_config(validate_path);
  return 2;
}
