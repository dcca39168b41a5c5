#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace prometheus {
class Registry;
}

namespace beckon::ops {

// What /readyz reports: ready, or not ready with a short human-readable reason
// ("partitions not assigned", "restoring partition 3").
struct ReadyState {
  bool ready = false;
  std::string reason;  // shown in the 503 body when not ready; ignored when ready
};

// The operations HTTP endpoint: GET /metrics (Prometheus text format 0.0.4), GET /healthz (200 "ok"
// while the process serves requests), GET /readyz (200 "ready", or 503 with the reason the readiness
// callback gives). Anything else is 404.
//
// Lifecycle: construct, start() once, stop() (or destroy). start() binds the socket synchronously,
// so a taken port is reported by start() itself, and serves on one background thread pool of two
// workers. stop() closes the listener, waits for the serving thread and is idempotent; the
// destructor calls it.
//
// Thread-safety: start/stop/port are meant for the owning thread. The readiness callback and the
// registry's Collect() run on the server's worker threads, concurrently with the pipeline; the
// callback must be thread-safe (read atomics, not the pipeline's plain state).
class HttpServer {
 public:
  // `registry` is shared because the server serializes it on its own threads and must be able to
  // keep it alive until stop() returns, independently of the order in which the app tears down
  // the Metrics aggregate. `ready` is called once per /readyz request.
  HttpServer(std::shared_ptr<prometheus::Registry> registry, std::function<ReadyState()> ready);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `listen` ("host:port", e.g. "0.0.0.0:9464" or "127.0.0.1:0"; port 0 picks a free port,
  // see port()) and starts serving. Errors: invalid_argument for a malformed address or a second
  // start; io_error when the address cannot be bound (port in use, permission, unknown host).
  Status start(const std::string& listen);

  // The bound port once started (useful with port 0), else 0.
  int port() const { return port_.load(std::memory_order_acquire); }

  // Stops serving and joins the server thread. Safe to call more than once or before start().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  bool started_ = false;  // start() succeeded once; the server cannot be restarted
  std::atomic<int> port_{0};
};

}  // namespace beckon::ops
