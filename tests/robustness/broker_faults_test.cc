// Broker faults (issue 4): the in-process mock cluster's error injection against a live
// app::Engine (SystemClock, replay mode so action ids depend on the input alone).
//
// A fault-free run over the same input gives the expected action-id set; each scenario must end
// with exactly that set on the action topics (duplicates allowed and counted, never a missing or
// foreign id), and the engine must keep running through the fault.
//   (a) the broker is down for 30 s while events flow;
//   (b) Produce requests fail (NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT) for the action producer;
//   (c) OffsetCommit requests fail: processing continues, and a restart resumes from RocksDB;
//   (d) a rebalance in the middle of work: a second group member takes half the partitions and
//       leaves again; and a stop() mid-stream followed by a new Engine on the same state dir.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/engine.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "emit/producer.h"
#include "kafka/handles.h"

namespace beckon {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 4;
constexpr const char* kInput = "faults.events";
constexpr const char* kPrefix = "faults.actions.";
constexpr int kEvents = 6000;

std::string yaml(const std::string& bootstrap, const std::string& group, const std::string& state_dir) {
  return "kafka:\n  bootstrap_servers: " + bootstrap + "\n  group_id: " + group +
         "\n  properties:\n    session.timeout.ms: 6000\n    heartbeat.interval.ms: 500\n"
         "inputs:\n  - topic: " + kInput + "\n    format: json\n"
         "output:\n  format: json\n  topic_prefix: " + kPrefix + "\n  dead_letter_topic: faults.dlq\n"
         "state:\n  dir: " + state_dir + "\n  commit_interval: 100ms\n"
         "processing:\n  replay: true\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "log:\n  level: warn\n"
         "policies:\n  consent_default: granted\n  frequency_caps: []\n  after_order_pause: 0s\n"
         "  quiet_hours: { enabled: false }\n"
         "journeys:\n"
         "  - name: cart\n    trigger: cart_abandonment\n    steps:\n"
         "      - { delay: 1h, channels: [email], template: cart_1 }\n"
         "      - { delay: 1d, channels: [email], template: cart_2 }\n"
         "  - name: shipping\n    trigger: shipping_delay\n    transactional: true\n    steps:\n"
         "      - { delay: 0s, channels: [email], template: sorry }\n";
}

// The deterministic input: profiles, carts (reminders in event time), shipment delays.
std::vector<std::pair<std::string, std::string>> make_events(int n) {
  const int64_t start = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count() - 20LL * 86'400'000;
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
    const std::string c = "c" + std::to_string(i % 500);
    const int64_t t = start + int64_t{i} * 120'000;
    auto ev = [&](const std::string& id, int64_t ts, const std::string& type, const std::string& body) {
      out.push_back({c, "{\"event_id\":\"" + id + "\",\"customer_id\":\"" + c + "\",\"timestamp_ms\":" +
                            std::to_string(ts) + ",\"body_type\":\"" + type + "\",\"body\":" + body + "}"});
    };
    if (seen.insert(c).second) {
      ev("p" + std::to_string(i), t, "ProfileUpdated", R"({"timezone":"UTC","email_known":true})");
    } else if (i % 4 == 0) {
      const std::string o = "o" + std::to_string(i);
      ev("s" + std::to_string(i), t, "OrderShipped",
         R"({"order_id":")" + o + R"(","carrier":"DHL","promised_delivery_ms":)" + std::to_string(t + 86'400'000) + "}");
      ev("d" + std::to_string(i), t + 1, "ShipmentDelayed",
         R"({"order_id":")" + o + R"(","new_eta_ms":)" + std::to_string(t + 2 * 86'400'000) + R"(,"reason":"x"})");
    } else {
      ev("e" + std::to_string(i), t, "CartUpdated",
         R"({"items":[{"sku":"S)" + std::to_string(i % 7) + R"(","quantity":1,"unit_price":5.0}],"currency":"EUR"})");
    }
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// GET /metrics from the engine and return the lines starting with one of `prefixes` (non-zero).
std::string metrics_lines(int port, const std::vector<std::string>& prefixes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "(metrics unavailable)";
  }
  const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  std::istringstream in(resp);
  std::string line, out;
  while (std::getline(in, line)) {
    for (const auto& p : prefixes) {
      if (line.rfind(p, 0) == 0 && line.substr(line.size() - 2) != " 0") out += "    " + line + "\n";
    }
  }
  return out;
}

// One mock cluster with the topics, an input producer and an action reader.
class Fixture {
 public:
  Fixture() {
    auto b = kafka::EmbeddedBroker::start(1);
    EXPECT_TRUE(b.is_ok());
    broker_ = std::move(*b);
    EXPECT_TRUE(broker_->create_topic(kInput, kPartitions).is_ok());
    EXPECT_TRUE(broker_->create_topic("faults.dlq", kPartitions).is_ok());
    EXPECT_TRUE(broker_->create_topic(std::string(kPrefix) + "email", kPartitions).is_ok());
    auto p = emit::Producer::create({{"bootstrap.servers", broker_->bootstrap_servers()}, {"linger.ms", "1"}});
    EXPECT_TRUE(p.is_ok());
    producer_ = std::move(*p);
    dir_ = std::filesystem::temp_directory_path() /
           ("beckon-faults-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
  }
  ~Fixture() {
    producer_->stop();
    std::filesystem::remove_all(dir_);
  }

  rd_kafka_mock_cluster_t* cluster() { return broker_->cluster(); }

  void produce(const std::vector<std::pair<std::string, std::string>>& events, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      ASSERT_TRUE(producer_->produce(kInput, bytes(events[i].first), bytes(events[i].second), {}, &tracker_).is_ok());
    }
  }
  void wait_input_delivered() { ASSERT_TRUE(tracker_.wait_all(Millis(120'000)).is_ok()); }

  config::AppConfig config(const std::string& group, const std::string& state = "state") {
    auto c = config::load_config_string(yaml(broker_->bootstrap_servers(), group, (dir_ / state).string()), "test");
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return *c;
  }

  // Every action id on the action topic (one entry per message).
  std::vector<std::string> action_ids() {
    auto conf = kafka::make_conf({{"bootstrap.servers", broker_->bootstrap_servers()},
                                  {"enable.partition.eof", "true"}, {"group.id", "faults-reader"}});
    char err[512];
    kafka::KafkaPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof(err)));
    kafka::PartitionListPtr parts(rd_kafka_topic_partition_list_new(kPartitions));
    const std::string topic = std::string(kPrefix) + "email";
    for (int p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk.get(), parts.get());
    std::vector<std::string> ids;
    int eof = 0;
    const auto deadline = Clock::now() + 30s;
    while (eof < kPartitions && Clock::now() < deadline) {
      kafka::MessagePtr m(rd_kafka_consumer_poll(rk.get(), 200));
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) { ++eof; continue; }
      if (m->err) continue;
      rd_kafka_headers_t* h = nullptr;
      const void* v = nullptr;
      size_t n = 0;
      if (rd_kafka_message_headers(m.get(), &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(h, "action_id", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ids.emplace_back(static_cast<const char*>(v), n);
      }
    }
    rd_kafka_consumer_close(rk.get());
    return ids;
  }

  // Waits until the distinct ids cover `expected` (or the timeout); returns all ids read.
  std::vector<std::string> wait_for_ids(const std::set<std::string>& expected, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::vector<std::string> ids;
    for (;;) {
      ids = action_ids();
      std::set<std::string> got(ids.begin(), ids.end());
      bool all = std::includes(got.begin(), got.end(), expected.begin(), expected.end());
      if (all || Clock::now() > deadline) return ids;
      std::this_thread::sleep_for(500ms);
    }
  }

 private:
  static inline int counter_ = 0;
  std::unique_ptr<kafka::EmbeddedBroker> broker_;
  std::unique_ptr<emit::Producer> producer_;
  emit::DeliveryTracker tracker_;
  std::filesystem::path dir_;
};

// A live Engine on its own thread.
class RunningEngine {
 public:
  explicit RunningEngine(const config::AppConfig& c) {
    auto e = app::Engine::create(c, clock_);
    EXPECT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(*e);
    thread_ = std::thread([this] {
      status_ = engine_->run();
      done_.store(true);
    });
  }
  ~RunningEngine() { stop().ignore_error(); }  // tests check stop() explicitly where it matters
  bool exited() const { return done_.load(); }
  bool wait_ready(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!engine_->ready() && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
    return engine_->ready();
  }
  int port() const { return engine_->metrics_port(); }
  Status stop() {
    if (engine_) {
      engine_->stop();
      if (thread_.joinable()) thread_.join();
      engine_.reset();
    }
    return status_;
  }

 private:
  SystemClock clock_;
  std::unique_ptr<app::Engine> engine_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Status status_;
};

struct Compared {
  size_t total = 0, distinct = 0, missing = 0, extra = 0;
};

Compared compare(const std::set<std::string>& expected, const std::vector<std::string>& ids) {
  std::set<std::string> got(ids.begin(), ids.end());
  Compared c{ids.size(), got.size(), 0, 0};
  for (const auto& id : expected) c.missing += got.count(id) ? 0 : 1;
  for (const auto& id : got) c.extra += expected.count(id) ? 0 : 1;
  return c;
}

// The sum of a metric's series, or the value of one series named with its labels (0 when the
// engine cannot be scraped).
double metric_sum(int port, const std::string& name) {
  std::istringstream in(metrics_lines(port, {name + "{", name + " "}));
  double sum = 0;
  for (std::string line; std::getline(in, line);) {
    if (const auto sp = line.rfind(' '); sp != std::string::npos) sum += std::atof(line.c_str() + sp + 1);
  }
  return sum;
}

const std::vector<std::string> kReport = {"beckon_delivery_errors", "beckon_commit_failures", "beckon_rebalances",
                                          "beckon_commits_total", "beckon_actions_emitted"};

class BrokerFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    init_logging(false, "warn");
    events_ = make_events(kEvents);
    // The fault-free reference run.
    Fixture f;
    f.produce(events_, 0, events_.size());
    f.wait_input_delivered();
    RunningEngine e(f.config("reference"));
    // Every event consumed (the counters are published about once a second), then until the
    // action count has not moved for 3 s: a pause of a loaded machine cannot end it early.
    const auto consumed_by = Clock::now() + 120s;
    while (metric_sum(e.port(), "beckon_events_consumed_total") < kEvents && Clock::now() < consumed_by) {
      std::this_thread::sleep_for(200ms);
    }
    ASSERT_GE(metric_sum(e.port(), "beckon_events_consumed_total"), kEvents) << "the reference run stalled";
    std::vector<std::string> ids;
    size_t last = 0;
    for (int stable = 0; stable < 6;) {
      std::this_thread::sleep_for(500ms);
      ids = f.action_ids();
      stable = (ids.size() == last && !ids.empty()) ? stable + 1 : 0;
      last = ids.size();
    }
    ASSERT_TRUE(e.stop().is_ok());
    expected_ = std::set<std::string>(ids.begin(), ids.end());
    std::printf("[reference] %d events -> %zu actions (%zu distinct)\n", kEvents, ids.size(), expected_.size());
    ASSERT_EQ(expected_.size(), ids.size()) << "the fault-free run emitted duplicates";
    ASSERT_GT(expected_.size(), 1000u);
  }

  static inline std::vector<std::pair<std::string, std::string>> events_;
  static inline std::set<std::string> expected_;
};

TEST_F(BrokerFaults, BrokerDownThirtySecondsWhileEventsFlow) {
  Fixture f;
  f.produce(events_, 0, events_.size() / 2);
  f.wait_input_delivered();
  RunningEngine e(f.config("down"));
  ASSERT_TRUE(e.wait_ready(30s));
  std::this_thread::sleep_for(1s);
  const size_t before = f.action_ids().size();
  ASSERT_EQ(rd_kafka_mock_broker_set_down(f.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto down_at = Clock::now();
  f.produce(events_, events_.size() / 2, events_.size());  // queued by the input producer
  std::this_thread::sleep_for(30s);
  EXPECT_FALSE(e.exited()) << "the engine gave up while the broker was down";
  ASSERT_EQ(rd_kafka_mock_broker_set_up(f.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  const double down_s = std::chrono::duration<double>(Clock::now() - down_at).count();
  f.wait_input_delivered();
  const auto ids = f.wait_for_ids(expected_, 90s);
  EXPECT_FALSE(e.exited());
  const std::string m = metrics_lines(e.port(), kReport);
  EXPECT_TRUE(e.stop().is_ok());
  const Compared c = compare(expected_, ids);
  std::printf("[a] broker down %.0f s (%zu actions out before): %zu actions read, %zu distinct, %zu missing, "
              "%zu extra\n%s", down_s, before, c.total, c.distinct, c.missing, c.extra, m.c_str());
  EXPECT_EQ(c.missing, 0u);
  EXPECT_EQ(c.extra, 0u);
}

TEST_F(BrokerFaults, ProduceErrorsAreRetriedWithoutLoss) {
  Fixture f;
  f.produce(events_, 0, events_.size());
  f.wait_input_delivered();
  // The next Produce requests (only the engine's action producer produces now) fail retriably.
  std::vector<rd_kafka_resp_err_t> errs;
  for (int i = 0; i < 6; ++i) {
    errs.push_back(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    errs.push_back(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  }
  rd_kafka_mock_push_request_errors_array(f.cluster(), 0 /* Produce */, errs.size(), errs.data());
  RunningEngine e(f.config("produce-errors"));
  const auto ids = f.wait_for_ids(expected_, 120s);
  EXPECT_FALSE(e.exited());
  const std::string m = metrics_lines(e.port(), kReport);
  EXPECT_TRUE(e.stop().is_ok());
  const Compared c = compare(expected_, ids);
  std::printf("[b] %zu Produce errors injected: %zu actions read, %zu distinct, %zu missing, %zu extra\n%s",
              errs.size(), c.total, c.distinct, c.missing, c.extra, m.c_str());
  EXPECT_EQ(c.missing, 0u);
  EXPECT_EQ(c.extra, 0u);
}

TEST_F(BrokerFaults, OffsetCommitErrorsDoNotStopProcessing) {
  Fixture f;
  f.produce(events_, 0, events_.size() / 2);
  f.wait_input_delivered();
  std::vector<rd_kafka_resp_err_t> errs(40, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  for (size_t i = 0; i < errs.size(); i += 2) errs[i] = RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
  rd_kafka_mock_push_request_errors_array(f.cluster(), 8 /* OffsetCommit */, errs.size(), errs.data());
  size_t first_run = 0;
  {
    RunningEngine e(f.config("commit-errors"));
    ASSERT_TRUE(e.wait_ready(30s));
    std::this_thread::sleep_for(5s);
    EXPECT_FALSE(e.exited());
    first_run = f.action_ids().size();
    const std::string m = metrics_lines(e.port(), kReport);
    std::printf("[c] %zu OffsetCommit errors injected; first engine emitted %zu actions\n%s", errs.size(),
                first_run, m.c_str());
    EXPECT_TRUE(e.stop().is_ok());
  }
  // The Kafka-side commits may be missing; the restart resumes from RocksDB's offsets.
  f.produce(events_, events_.size() / 2, events_.size());
  f.wait_input_delivered();
  RunningEngine e2(f.config("commit-errors"));
  const auto ids = f.wait_for_ids(expected_, 90s);
  std::this_thread::sleep_for(2s);
  const auto all = f.action_ids();
  EXPECT_TRUE(e2.stop().is_ok());
  const Compared c = compare(expected_, all);
  std::printf("[c] after restart: %zu actions read, %zu distinct, %zu missing, %zu extra\n", c.total, c.distinct,
              c.missing, c.extra);
  EXPECT_EQ(c.missing, 0u);
  EXPECT_EQ(c.extra, 0u);
  EXPECT_EQ(c.total, c.distinct) << "stored offsets are the truth: a clean restart replays nothing";
}

TEST_F(BrokerFaults, RebalanceInTheMiddleOfWork) {
  Fixture f;
  f.produce(events_, 0, events_.size() / 3);
  f.wait_input_delivered();
  RunningEngine e(f.config("rebalance"));
  ASSERT_TRUE(e.wait_ready(30s));
  // A second member joins the group mid-stream, takes its share of partitions (the engine commits
  // and revokes them), consumes nothing and leaves: the engine gets them back and resumes from
  // its stored offsets.
  auto conf = kafka::make_conf({{"group.id", "rebalance"}, {"enable.auto.commit", "false"},
                           {"partition.assignment.strategy", "range"}, {"session.timeout.ms", "6000"},
                           {"bootstrap.servers", f.config("rebalance").kafka.bootstrap_servers}});
  char err[512];
  kafka::KafkaPtr other(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof(err)));
  kafka::PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), kInput, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(other.get(), topics.get());
  f.produce(events_, events_.size() / 3, 2 * events_.size() / 3);
  // The group coordinator waits up to session.timeout.ms - 1 s for the engine to rejoin before it
  // assigns (rd_kafka_mock_cgrp_rebalance), so the assignment takes seconds, more on a loaded
  // machine: wait for it (bounded), then hold the partitions for a while.
  int other_assigned = 0;
  const auto joined = Clock::now();
  std::optional<Clock::time_point> assigned_at;
  while (Clock::now() < joined + 60s && !(assigned_at && Clock::now() > *assigned_at + 3s)) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(other.get(), 100));
    rd_kafka_topic_partition_list_t* a = nullptr;
    if (rd_kafka_assignment(other.get(), &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      other_assigned = std::max(other_assigned, a->cnt);
      if (a->cnt > 0 && !assigned_at) assigned_at = Clock::now();
      rd_kafka_topic_partition_list_destroy(a);
    }
  }
  const double assign_s = assigned_at ? std::chrono::duration<double>(*assigned_at - joined).count() : -1.0;
  rd_kafka_consumer_close(other.get());
  other.reset();
  // The engine, alone again, gets every partition back and resumes from its stored offsets; the
  // coordinator again waits for the rebalance window first. (Counting assignments would not do:
  // the mock coordinator may rebalance the group several times while both members are in it.
  // The gauge is refreshed every second; the engine owned at most 2 while the other member held 2
  // for 3 s.)
  const auto left = Clock::now();
  while (metric_sum(e.port(), "beckon_partitions_assigned") < kPartitions && Clock::now() < left + 60s) {
    std::this_thread::sleep_for(100ms);
  }
  const double back_s = std::chrono::duration<double>(Clock::now() - left).count();
  ASSERT_EQ(metric_sum(e.port(), "beckon_partitions_assigned"), kPartitions)
      << "the engine did not get the partitions back in 60 s";
  f.produce(events_, 2 * events_.size() / 3, events_.size());
  f.wait_input_delivered();
  const auto mid = f.action_ids().size();
  // And a stop() mid-stream, then a new Engine on the same state directory.
  EXPECT_TRUE(e.stop().is_ok());
  RunningEngine e2(f.config("rebalance"));
  const auto ids = f.wait_for_ids(expected_, 90s);
  const std::string m = metrics_lines(e2.port(), kReport);
  EXPECT_TRUE(e2.stop().is_ok());
  const Compared c = compare(expected_, ids);
  std::printf("[d] second member got %d of %d partitions %.1f s after subscribing and held them for 3 s; the "
              "engine had them back %.1f s after it left; stop() with %zu actions out; new engine on the same "
              "state: %zu actions read, %zu distinct, %zu missing, %zu extra\n%s",
              other_assigned, kPartitions, assign_s, back_s, mid, c.total, c.distinct, c.missing, c.extra,
              m.c_str());
  EXPECT_GT(other_assigned, 0) << "the second member got no partitions in 60 s: no rebalance happened";
  EXPECT_EQ(c.missing, 0u);
  EXPECT_EQ(c.extra, 0u);
}

}  // namespace
}  // namespace beckon
