// Pipes a real /metrics scrape, with every probe exercised, through `promtool check metrics`, the
// Prometheus project's own linter (naming conventions, units, _total suffixes, help text).

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ops/http_server.h"
#include "ops/probes.h"
#include "test_labels.h"

namespace beckon::ops {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void exercise_every_probe(Metrics& m) {
  m.ingest.on_consumed(0);
  m.ingest.on_consumed(99);  // "unknown"
  m.ingest.on_decode_failure(0);
  m.ingest.on_dead_letter(1);
  m.ingest.on_late_event();
  m.ingest.on_clamped_event();
  m.ingest.on_assigned(2);
  m.ingest.set_consumer_lag("clicks", PartitionId(0), 12);
  m.ingest.set_frontier_lag(PartitionId(0), 0.5);
  m.state.on_cache_hit();
  m.state.on_cache_miss();
  m.state.set_cache_entries(1);
  m.state.set_memtable_bytes(1);
  m.state.set_pending_compaction_bytes(1);
  m.state.set_block_cache_bytes(1);
  m.state.set_estimated_keys(0, 1);
  m.state.on_commit(0.01, 2048);
  m.state.on_commit_failure();
  m.timer.on_scheduled(0);
  m.timer.on_fired(0, 0.2);
  m.timer.on_cancelled(1);
  m.journey.on_emitted(0, 0);
  m.journey.on_suppressed(0, 0);
  m.journey.on_deferred(0);
  m.journey.on_holdout(0);
  m.emit.set_producer_queue_messages(1);
  m.emit.on_delivery_error(0);
  m.emit.set_actions_in_flight(1);
  m.emit.on_backpressure_pause();
}

TEST(PromtoolCheckMetrics, ScrapedMetricsPassPromtoolWithoutComplaint) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " not installed";

  Metrics metrics(testing::test_metrics_labels());
  exercise_every_probe(metrics);
  HttpServer server(metrics.registry, [] { return ReadyState{true, ""}; });
  ASSERT_TRUE(server.start("127.0.0.1:0").is_ok());
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200);
  ASSERT_NE(res->body.find("beckon_timer_lateness_seconds_bucket"), std::string::npos);

  const auto path = std::filesystem::temp_directory_path() /
                    ("beckon_ops_metrics_" + std::to_string(getpid()) + ".txt");
  {
    std::ofstream out(path, std::ios::binary);
    out << res->body;
  }
  const CommandResult r = run(std::string(kPromtool) + " check metrics < " + path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << r.output;
}

}  // namespace
}  // namespace beckon::ops
