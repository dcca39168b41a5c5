#include <atomic>
#include <iostream>

#include "app/commands.h"
#include "app/engine.h"
#include "config/config.h"
#include "core/log.h"

namespace beckon::app {

int validate_config(const std::string& config_path) {
  auto config = config::load_config_file(config_path);
  if (!config) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  std::cout << config_path << ": ok (" << config->inputs.size() << " input topic(s), "
            << config->engine.journeys.size() << " journey(s))\n";
  return 0;
}

int run_engine(const std::string& config_path, int metrics_port_override) {
  auto config = config::load_config_file(config_path);
  if (!config) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  if (metrics_port_override >= 0) {
    const std::string& listen = config->metrics.listen;
    config->metrics.listen = listen.substr(0, listen.rfind(':')) + ":" + std::to_string(metrics_port_override);
  }
  init_logging(config->log.json, config->log.level);
  // Signals are routed to one watcher before any thread starts, so none inherits them.
  static std::atomic<Engine*> running{nullptr};
  static std::atomic<bool> signalled{false};
  watch_signals([] {
    signalled.store(true);
    if (Engine* e = running.load()) e->stop();
  });
  SystemClock clock;
  auto engine = Engine::create(*config, clock);
  if (!engine) {
    spdlog::critical("cannot start: {}", engine.status().to_string());
    return 1;
  }
  running.store(engine->get());
  if (signalled.load()) (*engine)->stop();
  Status s = (*engine)->run();
  if (!s) {
    spdlog::critical("stopped on error: {}", s.to_string());
    return 1;
  }
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace beckon::app
