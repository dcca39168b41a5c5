#include "ops/http_server.h"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>

#include "core/thread_name.h"

namespace beckon::ops {
namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
constexpr size_t kWorkerThreads = 2;  // scrapes and probes are tiny; do not take cores from workers

struct HostPort {
  std::string host;
  int port = 0;
};

Result<HostPort> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return Status::invalid_argument("listen address must be host:port, got '" + listen + "'");
  }
  HostPort hp;
  hp.host = listen.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);  // [::1]:9464
  }
  std::string_view port_text(listen);
  port_text.remove_prefix(colon + 1);
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, hp.port);
  if (ec != std::errc() || ptr != end || hp.port < 0 || hp.port > 65535) {
    return Status::invalid_argument("listen address has an invalid port: '" + listen + "'");
  }
  return hp;
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<prometheus::Registry> registry;
  std::function<ReadyState()> ready;
  httplib::Server server;
  std::atomic<bool> listen_returned{false};
};

HttpServer::HttpServer(std::shared_ptr<prometheus::Registry> registry,
                       std::function<ReadyState()> ready)
    : impl_(std::make_unique<Impl>()) {
  impl_->registry = std::move(registry);
  impl_->ready = std::move(ready);
  Impl* impl = impl_.get();

  impl->server.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  // One request per connection: an idle keep-alive connection would otherwise hold stop() for
  // the keep-alive timeout. Scrapes are seconds apart, so reconnecting costs nothing.
  impl->server.set_keep_alive_max_count(1);

  // httplib's default sets SO_REUSEPORT, which lets a second process bind the same port and
  // silently split scrapes between the two. SO_REUSEADDR alone still allows a quick restart over
  // TIME_WAIT connections, and makes a taken port an error of start().
  impl->server.set_socket_options([](auto sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  impl->server.Get("/metrics", [impl](const httplib::Request&, httplib::Response& res) {
    std::string body;
    if (impl->registry) body = prometheus::TextSerializer().Serialize(impl->registry->Collect());
    res.set_content(std::move(body), kMetricsContentType);
  });
  impl->server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", kTextContentType);
  });
  impl->server.Get("/readyz", [impl](const httplib::Request&, httplib::Response& res) {
    ReadyState state = impl->ready ? impl->ready() : ReadyState{true, {}};
    if (state.ready) {
      res.set_content("ready\n", kTextContentType);
    } else {
      res.status = 503;
      res.set_content((state.reason.empty() ? std::string("not ready") : state.reason) + "\n",
                      kTextContentType);
    }
  });
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& listen) {
  if (started_) return Status::invalid_argument("HttpServer::start called twice");
  auto parsed = parse_listen(listen);
  if (!parsed) return parsed.status();
  const HostPort& hp = parsed.value();

  httplib::Server& server = impl_->server;
  int bound = 0;
  if (hp.port == 0) {
    bound = server.bind_to_any_port(hp.host);
    if (bound < 0) bound = 0;
  } else if (server.bind_to_port(hp.host, hp.port)) {
    bound = hp.port;
  }
  if (bound == 0) {
    return Status::io_error("cannot listen on " + listen +
                            ": address in use, not permitted, or unknown host");
  }

  started_ = true;
  thread_ = std::thread([impl = impl_.get()] {
    set_thread_name("beckon-http");  // httplib's request threads, started here, inherit it
    impl->server.listen_after_bind();
    impl->listen_returned.store(true, std::memory_order_release);
  });
  // httplib's stop() only acts once the accept loop has started; wait for that (microseconds) so
  // that a stop() right after start() cannot be lost and leave the thread blocked in accept.
  while (!server.is_running() && !impl_->listen_returned.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  port_.store(bound, std::memory_order_release);
  return Status::ok();
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  impl_->server.stop();
  thread_.join();
  port_.store(0, std::memory_order_release);
}

}  // namespace beckon::ops
