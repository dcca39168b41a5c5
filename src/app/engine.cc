#include "app/engine.h"

#include <nlohmann/json.hpp>

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "core/log.h"
#include "core/thread_name.h"

namespace beckon::app {

codec::InputFormat to_codec(config::InputFormat f) {
  switch (f) {
    case config::InputFormat::kFlatbuffers: return codec::InputFormat::kFlatBuffers;
    case config::InputFormat::kJson: return codec::InputFormat::kJson;
    case config::InputFormat::kAuto: return codec::InputFormat::kAuto;
  }
  return codec::InputFormat::kAuto;
}

codec::OutputFormat to_codec(config::OutputFormat f) {
  return f == config::OutputFormat::kJson ? codec::OutputFormat::kJson : codec::OutputFormat::kFlatBuffers;
}

unsigned cap_by_cpu_quota(unsigned cores, int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return cores;  // no limit
  return std::min(cores, static_cast<unsigned>(std::max<int64_t>(1, (quota_us + period_us - 1) / period_us)));
}

unsigned available_cores() {
  unsigned cores = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = static_cast<unsigned>(CPU_COUNT(&set));
  if (cores == 0) cores = std::max(1u, std::thread::hardware_concurrency());
  // cgroup v2: cpu.max holds "max <period>" (no limit) or "<quota> <period>", in microseconds.
  std::ifstream cpu_max("/sys/fs/cgroup/cpu.max");
  std::string quota;
  int64_t period = 0;
  if (cpu_max >> quota >> period) return cap_by_cpu_quota(cores, quota == "max" ? -1 : std::atoll(quota.c_str()), period);
  // cgroup v1 (older nodes): cpu.cfs_quota_us (-1: no limit) and cpu.cfs_period_us.
  for (const char* dir : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
    std::ifstream q(std::string(dir) + "/cpu.cfs_quota_us"), per(std::string(dir) + "/cpu.cfs_period_us");
    int64_t quota_us = 0, period_us = 0;
    if (q >> quota_us && per >> period_us) return cap_by_cpu_quota(cores, quota_us, period_us);
  }
  return cores;
}

bool read_ahead_on(config::ReadAhead setting, int workers, unsigned cores) {
  switch (setting) {
    case config::ReadAhead::kOn: return true;
    case config::ReadAhead::kOff: return false;
    case config::ReadAhead::kAuto: break;
  }
  return static_cast<int64_t>(cores) >= 2 * static_cast<int64_t>(std::max(1, workers));
}

Result<std::unique_ptr<Engine>> Engine::create(const config::AppConfig& config, const Clock& clock) {
  std::unique_ptr<Engine> e(new Engine(clock));
  e->config_ = config;
  const config::AppConfig& c = e->config_;
  e->metrics_ = std::make_unique<ops::Metrics>(metrics_labels(clock.now()));
  e->observer_ = std::make_unique<MetricsObserver>(*e->metrics_);

  state::StoreOptions store_options;
  store_options.path = c.state.dir;
  store_options.sync_commits = c.state.sync_commits;
  store_options.block_cache_bytes = c.state.block_cache_bytes;
  auto store = state::Store::open(store_options);
  if (!store) return Status::fatal("state directory " + c.state.dir + ": " + store.status().to_string());
  e->store_ = std::move(*store);

  kafka::Properties common = c.kafka.properties;
  common["bootstrap.servers"] = c.kafka.bootstrap_servers;
  auto producer = emit::Producer::create(common);
  if (!producer) return producer.status();
  e->producer_ = std::move(*producer);

  for (int i = 0; i < journey::kChannelCount; ++i) {
    const auto ch = static_cast<journey::Channel>(i);
    e->routing_.channel_topics[i] = c.output.topic_for(ch);
    e->routing_.channel_formats[i] = to_codec(c.output.format_for(ch));
  }
  e->routing_.dead_letter_topic = c.output.dead_letter_topic;
  e->routing_.holdout_topic = c.output.holdout_topic;
  e->routing_.holdout_format = to_codec(c.output.format);

  e->local_time_ = journey::make_tzdb_local_time(c.engine.policies.default_timezone);
  pipeline::WorkerOptions wo;
  const size_t workers = static_cast<size_t>(std::max(1, c.processing.workers));
  wo.cache_entries = std::max<size_t>(1024, c.state.cache_entries / workers);
  wo.commit_interval = c.state.commit_interval;
  wo.replay = c.processing.replay;
  const unsigned cores = available_cores();
  wo.read_ahead = read_ahead_on(c.processing.read_ahead, static_cast<int>(workers), cores);
  spdlog::info("{} worker(s) on {} core(s): read threads {}{}", workers, cores, wo.read_ahead ? "on" : "off",
               c.processing.read_ahead == config::ReadAhead::kAuto ? " (processing.read_ahead: auto)" : "");
  wo.decoder.max_message_bytes = c.processing.max_message_bytes;
  std::vector<pipeline::Worker*> raw_workers;
  for (size_t i = 0; i < workers; ++i) {
    e->sinks_.push_back(std::make_unique<emit::KafkaActionSink>(*e->producer_, e->routing_,
                                                                c.processing.max_in_flight_actions));
    e->worker_metrics_.push_back(std::make_unique<WorkerMetrics>(*e->observer_));
    e->workers_.push_back(std::make_unique<pipeline::Worker>(*e->store_, c.engine, *e->local_time_, clock,
                                                             *e->sinks_.back(), *e->worker_metrics_.back(), wo));
    raw_workers.push_back(e->workers_.back().get());
  }

  ingest::RunnerOptions ro;
  ro.consumer_properties = common;
  ro.consumer_properties["group.id"] = c.kafka.group_id;
  for (const config::InputTopic& t : c.inputs) ro.topics.push_back({t.name, to_codec(t.format)});
  ingest::RunnerHooks hooks;
  Engine* self = e.get();
  hooks.on_rebalance = [self](const std::string& kind, const std::vector<int32_t>& partitions) {
    if (kind == "assign") {
      self->metrics_->ingest.on_assigned(static_cast<int64_t>(partitions.size()));
    } else {
      self->metrics_->ingest.on_revoked(static_cast<int64_t>(partitions.size()));
      // A revoked partition's series go away with it (they now belong to another instance).
      for (int32_t p : partitions) self->metrics_->ingest.forget_partition(PartitionId(p));
    }
  };
  hooks.on_stats = [self](const std::string& json) { self->on_stats(json); };
  e->runner_ = std::make_unique<ingest::Runner>(std::move(ro), raw_workers, std::move(hooks));

  e->http_ = std::make_unique<ops::HttpServer>(e->metrics_->registry, [self] {
    if (!self->runner_ || !self->runner_->ready()) return ops::ReadyState{false, "partitions not assigned"};
    if (!self->broker_reachable_.load()) return ops::ReadyState{false, "no broker reachable"};
    return ops::ReadyState{true, ""};
  });
  if (Status s = e->http_->start(c.metrics.listen); !s) return s;
  return e;
}

Engine::~Engine() {
  stop();
  if (gauges_.joinable()) gauges_.join();
  if (http_) http_->stop();
  runner_.reset();
  workers_.clear();
  sinks_.clear();
  if (producer_) producer_->stop();
}

void Engine::stop() {
  stopping_.store(true);
  if (runner_) runner_->stop();
}

void Engine::on_stats(const std::string& json) {
  // librdkafka statistics: per topic-partition consumer_lag (-1 when unknown).
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded()) return;
  if (doc.contains("brokers")) {
    // Reachable when at least one real broker (not the bootstrap placeholder) is UP.
    bool any_up = false;
    for (const auto& [name, b] : doc["brokers"].items()) {
      if (b.value("nodeid", -1) >= 0 && b.value("state", "") == "UP") any_up = true;
    }
    broker_reachable_.store(any_up);
  }
  if (!doc.contains("topics")) return;
  for (const auto& [topic, t] : doc["topics"].items()) {
    if (!t.contains("partitions")) continue;
    for (const auto& [pid, p] : t["partitions"].items()) {
      // "desired": the partition is in the current assignment (librdkafka STATISTICS.md).
      if (pid == "-1" || !p.value("desired", false)) continue;
      const int64_t lag = p.value("consumer_lag", int64_t{-1});
      if (lag >= 0) metrics_->ingest.set_consumer_lag(topic, PartitionId(std::stoi(pid)), lag);
    }
  }
}

void Engine::refresh_gauges() {
  auto prop = [&](std::string_view name) -> uint64_t {
    auto v = store_->int_property(name);
    return v ? *v : 0;
  };
  metrics_->state.set_memtable_bytes(prop("rocksdb.cur-size-all-mem-tables"));
  metrics_->state.set_pending_compaction_bytes(prop("rocksdb.estimate-pending-compaction-bytes"));
  metrics_->state.set_block_cache_bytes(prop("rocksdb.block-cache-usage"));
  for (int cf = 0; cf < 4; ++cf) {
    auto keys = store_->int_property("rocksdb.estimate-num-keys", static_cast<state::Cf>(cf));
    if (keys) metrics_->state.set_estimated_keys(cf, *keys);
  }
  metrics_->emit.set_producer_queue_messages(static_cast<uint64_t>(producer_->queue_length()));
  int64_t in_flight = 0;
  for (const auto& s : sinks_) in_flight += s->in_flight();
  metrics_->emit.set_actions_in_flight(static_cast<uint64_t>(std::max<int64_t>(0, in_flight)));
  metrics_->ingest.set_partitions_assigned(static_cast<int64_t>(runner_->assigned_partitions()));
  std::array<int64_t, journey::kTriggerCount> pending{};
  uint64_t entries = 0, hits = 0, misses = 0, read_waits = 0, worker_reads = 0, read_ahead_batches = 0;
  for (const auto& w : workers_) {
    const pipeline::Worker::Stats& s = w->stats();
    for (size_t t = 0; t < pending.size(); ++t) pending[t] += s.pending_timers[t].load(std::memory_order_relaxed);
    entries += s.cache_entries.load(std::memory_order_relaxed);
    hits += s.cache_hits.load(std::memory_order_relaxed);
    misses += s.cache_misses.load(std::memory_order_relaxed);
    read_waits += s.read_ahead_waits.load(std::memory_order_relaxed);
    worker_reads += s.read_ahead_worker_reads.load(std::memory_order_relaxed);
    read_ahead_batches += s.read_ahead_batches.load(std::memory_order_relaxed);
  }
  for (size_t t = 0; t < pending.size(); ++t) metrics_->timer.set_pending(static_cast<int>(t), pending[t]);
  const WallTime now = clock_.now();
  for (const auto& w : workers_) {
    for (const auto& [partition, frontier] : w->published_frontiers()) {
      if (frontier == EventTime::min()) continue;
      metrics_->ingest.set_frontier_lag(partition, static_cast<double>(now.ms() - frontier.ms()) / 1000.0);
    }
  }
  metrics_->state.set_cache_entries(entries);
  // The components keep cumulative totals (a worker's include its revoked partitions'); the
  // exported counters get their growth since the last refresh.
  metrics_->state.on_cache_hit(last_totals_.hits.growth(hits));
  metrics_->state.on_cache_miss(last_totals_.misses.growth(misses));
  metrics_->state.on_read_ahead_wait(last_totals_.read_ahead_waits.growth(read_waits));
  metrics_->state.on_read_ahead_worker_read(last_totals_.read_ahead_worker_reads.growth(worker_reads));
  metrics_->state.on_read_ahead_batch(last_totals_.read_ahead_batches.growth(read_ahead_batches));
  uint64_t waits = producer_->backpressure_waits();
  for (const auto& s : sinks_) waits += s->backpressure_waits();
  if (const uint64_t n = last_totals_.backpressure.growth(waits)) metrics_->emit.on_backpressure_pause(n);
  uint64_t failed = 0;
  for (const auto& s : sinks_) failed += static_cast<uint64_t>(s->failed());
  if (const uint64_t n = last_totals_.delivery_failures.growth(failed)) metrics_->emit.on_delivery_error(1 /*broker*/, n);
}

Status Engine::run() {
  gauges_ = std::thread([this] {
    set_thread_name("beckon-gauges");
    while (!stopping_.load()) {
      refresh_gauges();
      for (int i = 0; i < 20 && !stopping_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  spdlog::info("beckon {} consuming {} topic(s) with {} worker(s); metrics on port {}", BECKON_VERSION,
               config_.inputs.size(), workers_.size(), http_->port());
  Status s = runner_->run();
  stopping_.store(true);
  if (gauges_.joinable()) gauges_.join();
  if (s.is_ok()) {
    if (Status f = producer_->flush(Millis(30000)); !f) return f;
  }
  return s;
}

}  // namespace beckon::app
