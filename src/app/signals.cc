#include <signal.h>

#include <thread>

#include "app/commands.h"
#include "core/log.h"

namespace beckon::app {

void watch_signals(std::function<void()> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_signal = std::move(on_signal)] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) {
      spdlog::info("received {}, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      on_signal();
    }
  }).detach();
}

}  // namespace beckon::app
