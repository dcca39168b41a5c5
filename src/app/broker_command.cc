#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "core/log.h"
#include "journey/types.h"
#include "kafka/handles.h"

namespace beckon::app {

int run_broker(const BrokerOptions& options) {
  static std::atomic<bool> stop{false};
  watch_signals([] { stop.store(true); });
  auto broker = kafka::EmbeddedBroker::start(1);
  if (!broker) {
    std::cerr << "beckon broker: " << broker.status().to_string() << "\n";
    return 1;
  }
  std::vector<std::string> topics = {options.input_topic, options.dead_letter_topic};
  topics.insert(topics.end(), options.extra_topics.begin(), options.extra_topics.end());
  for (int c = 0; c < journey::kChannelCount; ++c) {
    topics.push_back(options.action_topic_prefix + std::string(journey::to_string(static_cast<journey::Channel>(c))));
  }
  for (const std::string& t : topics) {
    if (Status s = (*broker)->create_topic(t, options.partitions); !s) {
      std::cerr << "beckon broker: " << s.to_string() << "\n";
      return 1;
    }
  }
  const std::string& address = (*broker)->bootstrap_servers();
  if (!options.address_file.empty()) {
    std::ofstream(options.address_file + ".tmp") << address << "\n";
    std::rename((options.address_file + ".tmp").c_str(), options.address_file.c_str());
  }
  std::cout << "bootstrap.servers=" << address << "\n";
  std::cout << "topics (" << options.partitions << " partitions each):";
  for (const std::string& t : topics) std::cout << " " << t;
  std::cout << "\nembedded broker is a Kafka test double (no transactions; 5 MiB / 100k batches kept per "
               "partition). Ctrl-C or SIGTERM stops it.\n"
            << std::flush;
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cout << "embedded broker stopped\n";
  return 0;
}

}  // namespace beckon::app
