#include "ops/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace beckon::ops {
namespace {

// A readiness source a test can flip, read from the server's threads.
class FakeReadiness {
 public:
  void set(bool ready, std::string reason) {
    std::lock_guard lock(mu_);
    state_ = {ready, std::move(reason)};
  }
  ReadyState get() {
    std::lock_guard lock(mu_);
    return state_;
  }

 private:
  std::mutex mu_;
  ReadyState state_{false, "partitions not assigned"};
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    server_ = std::make_unique<HttpServer>(registry_, [this] { return readiness_.get(); });
    Status s = server_->start("127.0.0.1:0");
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_GT(server_->port(), 0);
  }

  httplib::Result get(const std::string& path) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client.Get(path);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  FakeReadiness readiness_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HealthzAnswersOkWhileRunning) {
  auto res = get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
}

TEST_F(HttpServerTest, MetricsServesTheRegistryInPrometheusTextFormat) {
  prometheus::BuildCounter()
      .Name("beckon_test_things_total")
      .Help("Things.")
      .Register(*registry_)
      .Add({{"kind", "a"}})
      .Increment(3);
  auto res = get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
      << res->get_header_value("Content-Type");
  EXPECT_NE(res->body.find("# TYPE beckon_test_things_total counter\n"), std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("beckon_test_things_total{kind=\"a\"} 3\n"), std::string::npos)
      << res->body;
}

TEST_F(HttpServerTest, MetricsReflectUpdatesBetweenScrapes) {
  auto& c = prometheus::BuildCounter().Name("beckon_test_n_total").Help("N.").Register(*registry_).Add({});
  auto first = get("/metrics");
  ASSERT_TRUE(first);
  EXPECT_NE(first->body.find("beckon_test_n_total 0\n"), std::string::npos) << first->body;
  c.Increment();
  auto second = get("/metrics");
  ASSERT_TRUE(second);
  EXPECT_NE(second->body.find("beckon_test_n_total 1\n"), std::string::npos) << second->body;
}

TEST_F(HttpServerTest, ReadyzFollowsTheReadinessCallback) {
  auto not_ready = get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "partitions not assigned\n");

  readiness_.set(true, "");
  auto ready = get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");

  readiness_.set(false, "restoring partition 3");
  auto restoring = get("/readyz");
  ASSERT_TRUE(restoring);
  EXPECT_EQ(restoring->status, 503);
  EXPECT_EQ(restoring->body, "restoring partition 3\n");
}

TEST_F(HttpServerTest, NotReadyWithoutReasonStillExplainsItself) {
  readiness_.set(false, "");
  auto res = get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "not ready\n");
}

TEST_F(HttpServerTest, UnknownPathIsNotFound) {
  auto res = get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(HttpServerTest, StartFailsWithIoErrorWhenPortIsTaken) {
  HttpServer second(registry_, [] { return ReadyState{true, ""}; });
  const std::string addr = "127.0.0.1:" + std::to_string(server_->port());
  Status s = second.start(addr);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_NE(s.message().find(addr), std::string::npos) << s.message();
  EXPECT_EQ(second.port(), 0);
  // The first server is unaffected.
  auto res = get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpServerTest, SecondStartIsRejected) {
  Status s = server_->start("127.0.0.1:0");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
}

TEST_F(HttpServerTest, StopClosesTheListenerAndIsIdempotent) {
  const int port = server_->port();
  server_->stop();
  EXPECT_EQ(server_->port(), 0);
  server_->stop();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  auto res = client.Get("/healthz");
  EXPECT_FALSE(res);
}

TEST(HttpServerAddress, MalformedListenAddressesAreInvalidArguments) {
  for (const char* bad : {"9464", ":9464", "localhost:", "127.0.0.1:http", "127.0.0.1:70000",
                          "127.0.0.1:-1", "127.0.0.1:80x"}) {
    HttpServer server(nullptr, nullptr);
    Status s = server.start(bad);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad << ": " << s.to_string();
  }
}

TEST(HttpServerAddress, UnresolvableHostIsAnIoError) {
  HttpServer server(nullptr, nullptr);
  Status s = server.start("no-such-host.invalid:0");
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.to_string();
}

TEST(HttpServerLifecycle, StopBeforeStartAndDestroyWhileRunningAreSafe) {
  HttpServer never_started(nullptr, nullptr);
  never_started.stop();
  auto server = std::make_unique<HttpServer>(nullptr, nullptr);
  ASSERT_TRUE(server->start("127.0.0.1:0").is_ok());
  server.reset();  // destructor stops and joins
}

}  // namespace
}  // namespace beckon::ops
