#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "app/commands.h"
#include "app/engine.h"
#include "app/simulator.h"
#include "codec/action_encoder.h"
#include "core/bytes.h"
#include "core/log.h"
#include "emit/producer.h"
#include "journey/journey_config.h"
#include "kafka/handles.h"

namespace beckon::app {

namespace {

constexpr const char* kInputTopic = "shop.events";
constexpr int kPartitions = 4;

// The default journeys with demo-scale delays (seconds instead of hours and days).
config::AppConfig demo_config(const std::string& bootstrap, const std::string& state_dir, int metrics_port,
                              int workers) {
  config::AppConfig c;
  c.kafka.bootstrap_servers = bootstrap;
  c.kafka.group_id = "beckon-demo";
  c.inputs = {{kInputTopic, config::InputFormat::kAuto}};
  c.output.format = config::OutputFormat::kJson;
  c.state.dir = state_dir;
  c.state.commit_interval = Millis(500);
  c.state.cache_entries = 100'000;
  c.processing.workers = workers;
  c.metrics.listen = "127.0.0.1:" + std::to_string(metrics_port);
  c.engine = journey::default_engine_config();
  c.engine.time.allowed_lateness = Millis(500);
  c.engine.policies.quiet_hours_enabled = false;  // the demo runs at any hour
  c.engine.policies.frequency_caps = {{Millis(10'000), 3}};
  c.engine.policies.after_order_pause = Millis(3'000);
  for (journey::JourneyConfig& j : c.engine.journeys) {
    j.expires_after = Millis(60'000);
    switch (j.trigger) {
      case journey::Trigger::kCartAbandonment: {
        const Millis delays[] = {Millis(4'000), Millis(10'000), Millis(20'000)};
        for (size_t i = 0; i < j.steps.size() && i < 3; ++i) j.steps[i].delay = delays[i];
        break;
      }
      case journey::Trigger::kSignupAbandonment:
        j.signup_grace = Millis(2'000);
        for (auto& s : j.steps) s.delay = Millis(6'000);
        break;
      case journey::Trigger::kReplenishment:
        j.day_length = Millis(300);  // a 30-day cycle comes round in 9 seconds
        j.lead_days = 3;
        break;
      case journey::Trigger::kShippingDelay:
        j.shipping_grace = Millis(3'000);
        break;
    }
  }
  return c;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  init_logging(false, "warn");
  static std::atomic<bool> stop{false};
  watch_signals([] { stop.store(true); });

  auto broker = kafka::EmbeddedBroker::start(1);
  if (!broker) {
    std::cerr << "demo: " << broker.status().to_string() << "\n";
    return 1;
  }
  const std::string bootstrap = (*broker)->bootstrap_servers();
  std::string state_dir = options.state_dir;
  bool temporary_state = false;
  if (state_dir.empty()) {
    char tmpl[] = "/tmp/beckon-demo-XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::cerr << "demo: cannot create a temporary state directory\n";
      return 1;
    }
    state_dir = tmpl;
    temporary_state = true;
  }
  config::AppConfig cfg = demo_config(bootstrap, state_dir, options.metrics_port, options.workers);
  std::vector<std::string> topics = {kInputTopic, cfg.output.dead_letter_topic};
  for (int c = 0; c < journey::kChannelCount; ++c) topics.push_back(cfg.output.topic_for(static_cast<journey::Channel>(c)));
  for (const auto& t : topics) {
    if (Status s = (*broker)->create_topic(t, kPartitions); !s) {
      std::cerr << "demo: " << s.to_string() << "\n";
      return 1;
    }
  }

  SystemClock clock;
  auto engine = Engine::create(cfg, clock);
  if (!engine) {
    std::cerr << "demo: " << engine.status().to_string() << "\n";
    return 1;
  }
  Engine& e = **engine;
  Status engine_status;
  std::thread engine_thread([&] { engine_status = e.run(); });

  std::cout << "beckon demo\n"
            << "  embedded broker  " << bootstrap << "  (input topic " << kInputTopic << ", " << kPartitions
            << " partitions)\n"
            << "  metrics          http://127.0.0.1:" << e.metrics_port() << "/metrics  (/healthz, /readyz)\n"
            << "  state            " << state_dir << "\n"
            << "  journeys         cart reminders at 4s/10s/20s, signup reminder after 6s, replenishment on a "
               "300ms 'day', shipping check 3s past the promised date\n\n"
            << std::flush;

  // Tail the action topics and the dead-letter topic: print a few samples of each trigger.
  std::atomic<uint64_t> tail_actions{0}, tail_dead{0};
  std::thread tail([&] {
    auto conf = kafka::make_conf({{"bootstrap.servers", bootstrap},
                                  {"group.id", "beckon-demo-tail"},
                                  {"auto.offset.reset", "earliest"},
                                  {"enable.partition.eof", "false"}});
    if (!conf) return;
    char err[512];
    kafka::KafkaPtr consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof(err)));
    if (!consumer) return;
    rd_kafka_poll_set_consumer(consumer.get());
    kafka::PartitionListPtr subs(rd_kafka_topic_partition_list_new(8));
    for (size_t i = 1; i < topics.size(); ++i) rd_kafka_topic_partition_list_add(subs.get(), topics[i].c_str(), -1);
    rd_kafka_subscribe(consumer.get(), subs.get());
    std::map<std::string, int> shown;
    while (!stop.load()) {
      kafka::MessagePtr msg(rd_kafka_consumer_poll(consumer.get(), 200));
      if (!msg || msg->err) continue;
      const std::string topic = rd_kafka_topic_name(msg->rkt);
      std::string body(static_cast<const char*>(msg->payload), msg->len);
      std::string kind;
      if (topic == cfg.output.dead_letter_topic) {
        ++tail_dead;
        std::string reason = kafka::header_value(msg.get(), "beckon.reason");
        if (reason.empty()) reason = "?";
        kind = "dead letter";
        body = "reason=" + reason + " bytes=" + std::to_string(msg->len);
      } else {
        ++tail_actions;
        auto decoded = codec::decode_action({static_cast<const uint8_t*>(msg->payload), msg->len});
        kind = decoded ? std::string(journey::to_string(decoded->trigger)) : "action";
      }
      if (shown[kind]++ < options.samples_per_trigger) {
        std::cout << "[" << kind << " -> " << topic << "] " << body << "\n" << std::flush;
      }
    }
    rd_kafka_consumer_close(consumer.get());
  });

  // Produce shopper traffic.
  auto producer = emit::Producer::create({{"bootstrap.servers", bootstrap}, {"linger.ms", "2"}});
  if (!producer) {
    std::cerr << "demo: " << producer.status().to_string() << "\n";
    stop.store(true);
  }
  emit::DeliveryTracker produced_tracker;
  ShopperSimulator sim({.customers = options.customers, .events_per_second = options.events_per_second});
  const auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  while (!stop.load() && producer) {
    if (options.duration_seconds > 0 && elapsed() >= options.duration_seconds) break;
    Status produce_status;
    sim.step(clock.now(), [&](const std::string& customer, std::span<const uint8_t> bytes) {
      if (produce_status.is_ok()) {
        produce_status = (*producer)->produce(kInputTopic, bytes_of(customer), bytes, {}, &produced_tracker);
      }
    });
    if (!produce_status) {
      std::cerr << "demo: " << produce_status.to_string() << "\n";
      break;
    }
    if (std::chrono::steady_clock::now() - last_progress >= std::chrono::seconds(5)) {
      last_progress = std::chrono::steady_clock::now();
      const auto& o = e.observer();
      std::cout << "-- " << static_cast<int>(elapsed()) << "s: produced " << sim.produced() << ", consumed "
                << o.consumed.load() << ", dead letters " << o.dead_letters.load() << ", actions: cart "
                << o.actions[0].load() << " signup " << o.actions[1].load() << " replenishment "
                << o.actions[2].load() << " shipping " << o.actions[3].load() << ", suppressed "
                << o.suppressed.load() << (e.ready() ? "" : " (not ready)") << "\n"
                << std::flush;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop.store(true);
  e.stop();
  engine_thread.join();
  tail.join();
  if (producer) (*producer)->stop();

  const auto& o = e.observer();
  bool all = true;
  std::cout << "\nsummary: consumed " << o.consumed.load() << " events, " << o.dead_letters.load()
            << " dead letters, actions emitted by trigger:";
  for (int t = 0; t < journey::kTriggerCount; ++t) {
    const uint64_t n = o.actions[static_cast<size_t>(t)].load();
    all = all && n > 0;
    std::cout << " " << journey::to_string(static_cast<journey::Trigger>(t)) << "=" << n;
  }
  std::cout << "\n";
  engine->reset();
  if (temporary_state) std::filesystem::remove_all(state_dir);
  if (!engine_status) {
    std::cerr << "demo: engine stopped on error: " << engine_status.to_string() << "\n";
    return 1;
  }
  if (options.require_all_triggers && !all) {
    std::cerr << "demo: not every trigger fired\n";
    return 1;
  }
  return 0;
}

}  // namespace beckon::app
