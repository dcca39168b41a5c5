// beckon-bench: the measurement harness of issue 5. One run measures, on the same generated events:
//   naive_rmw      decode -> RocksDB Get -> JourneyEngine::on_event -> RocksDB Put (per event)
//   engine         pipeline::Worker, one thread, real state::Store, counting ActionSink (encodes)
//   raw_consume    plain librdkafka consumer of the pre-produced topic on the embedded broker, in
//                  this process and in beckon-raw-consume (system allocator); the fastest pass
//   end_to_end     app::Engine consuming that topic and producing actions to the embedded broker
//                  (--e2e-rate: instead, events produced at a steady rate while it runs; its CPU
//                  and how far it trails the broker)
//   timer lateness live-mode Worker with N pending timers, fired-minus-due of timers firing
// and prints a table, or one JSON object with --json. See bench/README.md.

#include <array>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "app/engine.h"
#include "raw_consume.h"
#include "workload.h"
#include "codec/action_encoder.h"
#include "codec/event_decoder.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "journey/customer_state.h"
#include "journey/engine.h"
#include "journey/journey_config.h"
#include "kafka/handles.h"
#include "pipeline/worker.h"
#include "state/store.h"

namespace beckon::bench {
namespace {

using Clk = std::chrono::steady_clock;
using nlohmann::json;

// CPU time of the calling thread, in seconds (unaffected by other processes on the machine).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Minor page faults of the calling thread so far (first touches of heap pages, mostly).
uint64_t thread_minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<uint64_t>(ru.ru_minflt);
}

// CPU time of the whole process (every thread), in seconds.
double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// One live thread of this process: its id, its name, the CPU seconds it used so far.
struct TaskCpu {
  int tid = 0;
  std::string name;
  double seconds = 0;
};

// This process's live threads (threads that ended are not listed).
std::vector<TaskCpu> task_cpu() {
  std::vector<TaskCpu> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm_file(task.path() / "comm"), stat_file(task.path() / "stat");
    std::string name, stat;
    if (!std::getline(comm_file, name) || !std::getline(stat_file, stat)) continue;
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stod(f);
      if (i == 15) stime = std::stod(f);
    }
    out.push_back({std::atoi(task.path().filename().c_str()), std::move(name), (utime + stime) / tick});
  }
  return out;
}

// A thread name with trailing digits, '-' and '#' removed ("beckon-worker-1" -> "beckon-worker",
// "rdk:broker12" -> "rdk:broker").
std::string thread_kind(std::string name) {
  while (!name.empty() && (std::isdigit(static_cast<unsigned char>(name.back())) || name.back() == '-' ||
                           name.back() == '#')) {
    name.pop_back();
  }
  return name;
}

// CPU seconds of this process's live threads, summed by thread_kind().
std::map<std::string, double> thread_cpu_by_name() {
  std::map<std::string, double> out;
  for (const TaskCpu& t : task_cpu()) out[thread_kind(t.name)] += t.seconds;
  return out;
}

double seconds_since(Clk::time_point t) { return std::chrono::duration<double>(Clk::now() - t).count(); }

int64_t wall_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

[[noreturn]] void die(const std::string& what) {
  std::cerr << "beckon-bench: " << what << "\n";
  std::exit(1);
}

void check(const Status& s, const std::string& what) {
  if (!s) die(what + ": " + s.to_string());
}

// Commits as the ingest loop does (src/ingest/runner.cc): cut a commit when one is due, written
// on the worker's commit thread while processing goes on; collect the finished one.
void commit_in_background(pipeline::Worker& worker) {
  if (worker.commit_due()) check(worker.begin_commit(), "begin commit");
  check(worker.finish_commit().status(), "commit");
}

// Peak resident set size since the last reset_peak_rss() (VmHWM), in bytes.
uint64_t peak_rss() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}
uint64_t current_rss() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}
// Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}
uint64_t process_max_rss() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

json machine_info() {
  json m;
  m["nproc"] = std::thread::hardware_concurrency();
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      m["cpu_model"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      m["mem_total_bytes"] = std::stoull(line.substr(9)) * 1024;
      break;
    }
  }
  utsname u{};
  uname(&u);
  m["kernel"] = std::string(u.sysname) + " " + u.release;
  return m;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

// The engine configuration of every phase: the default journeys and policies, with consent
// granted by default (most customers never send a ConsentChanged in a 2M-event window) and quiet
// hours off (so lateness measures the engine, not a deferral to 08:00).
journey::EngineConfig bench_engine_config() {
  journey::EngineConfig c = journey::default_engine_config();
  c.policies.consent_default_granted = true;
  c.policies.quiet_hours_enabled = false;
  return c;
}

// Counts what the worker reports; single-threaded use only.
class CountingObserver final : public pipeline::WorkerObserver {
 public:
  void on_consumed(journey::EventType) override { ++consumed; }
  void on_dead_letter(std::string_view) override { ++dead_letters; }
  void on_timer_scheduled(journey::Trigger) override { ++timers_scheduled; }
  void on_timer_fired(journey::Trigger, Millis lateness) override {
    ++timers_fired;
    if (measuring) lateness_ms.push_back(static_cast<double>(lateness.count()));
  }
  void on_action(const journey::Action&) override { ++actions; }
  void on_suppressed(const journey::Suppression&) override { ++suppressed; }
  void on_commit(double seconds, size_t bytes, size_t entries) override {
    ++commits;
    commit_bytes += bytes;
    commit_entries += entries;
    commit_seconds += seconds;
    max_commit_seconds = std::max(max_commit_seconds, seconds);
  }
  uint64_t consumed = 0, dead_letters = 0, timers_scheduled = 0, timers_fired = 0, actions = 0, suppressed = 0,
           commits = 0;
  double commit_seconds = 0, max_commit_seconds = 0;
  uint64_t commit_bytes = 0, commit_entries = 0;
  bool measuring = false;
  std::vector<double> lateness_ms;  // as the worker reports it (ms, wall time at the start of a firing pass)
};

// An ActionSink that encodes each action as a FlatBuffer (as KafkaActionSink would) and
// acknowledges at once. Optionally records emission-time lateness of timer-driven actions.
class CountingSink final : public pipeline::ActionSink {
 public:
  Status send(const journey::Action& a) override {
    bytes += encoder_.encode(a, codec::OutputFormat::kFlatBuffers).size();
    ++sent;
    if (measure_from_ms > 0 && a.trigger == journey::Trigger::kCartAbandonment && a.due.ms() >= measure_from_ms) {
      lateness_us.push_back(static_cast<double>(wall_us() - a.due.ms() * 1000));
    }
    return Status::ok();
  }
  Status send_held_out(const journey::Action& a) override {
    bytes += encoder_.encode(a, codec::OutputFormat::kFlatBuffers).size();
    ++held_out;
    return Status::ok();
  }
  Status send_dead_letter(const pipeline::DeadLetter&) override {
    ++dead_letters;
    return Status::ok();
  }
  uint64_t seal() override { return 0; }
  Status wait_sealed(uint64_t, Millis) override { return Status::ok(); }

  uint64_t sent = 0, held_out = 0, dead_letters = 0, bytes = 0;
  int64_t measure_from_ms = 0;
  std::vector<double> lateness_us;

 private:
  codec::ActionEncoder encoder_;
};

std::unique_ptr<state::Store> open_store(const std::string& dir) {
  state::StoreOptions so;
  so.path = dir;
  auto store = state::Store::open(so);
  if (!store) die("open store " + dir + ": " + store.status().to_string());
  return std::move(*store);
}

// The stored state of an existing customer (profile with addresses), as every customer of the
// population has before the measured events: misses then read real values, as in production.
std::string preload_value() {
  journey::CustomerState st;
  st.profile.email_known = true;
  st.profile.push_token_known = true;
  st.profile.timezone = "Europe/Paris";
  st.profile.locale = "fr-FR";
  std::string v;
  journey::CustomerStateCodec::encode(st, v);
  return v;
}

// A state (preload_value) for each of `customers` customers, in the partition the bench's
// partitioner gives it: a cache miss then reads a real value, as it would in production.
void preload_states(state::Store& store, uint64_t customers, int32_t partitions) {
  const std::string v = preload_value();
  state::CommitBatch batch(store);
  for (uint64_t c = 0; c < customers; ++c) {
    batch.put_customer(PartitionId(partition_of(c, partitions)), customer_name(c), v);
    if (batch.count() >= 100'000 || c + 1 == customers) {
      check(store.commit(batch), "preload");
      batch.clear();
    }
  }
  // Into SST files: left in the 64 MiB memtable, most of the population would be read from the
  // skip list, which is faster than a restarted engine reading its store from disk.
  check(store.compact(), "preload compaction");
}

struct Params {
  uint64_t customers = 1'000'000;
  uint64_t events = 2'000'000;
  uint64_t pending_timers = 1'000'000;
  // 32 partitions of 5 MiB each keep all 2M events on the embedded broker, so the end-to-end
  // run lasts several commit intervals (with 8 partitions it kept ~715k, under one interval).
  uint64_t e2e_events = 2'000'000;
  int e2e_partitions = 32;
  std::string e2e_compression = "lz4";
  int partitions = 4;
  size_t cache_entries = 1'000'000;
  int e2e_workers = 2;  // worker threads of the end-to-end engine (one per core here)
  double event_rate = 200;
  double timer_spread_s = 600;
  double timer_window_s = 20;
  int poll_timeout_ms = 100;
  int commit_interval_ms = 1000;  // state.commit_interval of every run
  uint64_t seed = 42;
  bool json = false;
  bool skip_e2e = false;
  bool skip_naive = false;
  bool skip_timers = false;
  bool no_preload = false;
  bool no_prefetch = false;
  bool no_read_ahead = false;
  bool warm_cache = false;
  bool engine_json = false;  // engine runs read the events in the schema's JSON mapping
  bool skip_engine = false;
  bool no_warmup = false;
  // Engine run: events per second fed to the worker, in batches of a millisecond's events as a
  // consumer that keeps up hands them over (0: as fast as it takes them).
  double engine_rate = 0;
  // End to end: events per second produced while the engine runs (0: all produced first).
  double e2e_rate = 0;
  // Paced end to end: the engine consumer's fetch.wait.max.ms. The embedded (mock) broker holds
  // a fetch that finds no data for this long even when data arrives meanwhile; a Kafka broker
  // answers as soon as there is some. A short wait stands in for that.
  int e2e_fetch_wait_ms = 5;
  std::string state_dir;
};

// ---------------------------------------------------------------------------------------------
// naive read-modify-write

json run_naive(const Params& p, const Workload& w, const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(opts, dir, &raw);
  const auto preload0 = Clk::now();
  if (!rs.ok()) die("naive: open rocksdb: " + rs.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const journey::EngineConfig cfg = bench_engine_config();
  auto local_time = journey::make_tzdb_local_time("UTC");
  journey::JourneyEngine engine(cfg, *local_time);
  codec::EventDecoder decoder;
  journey::CustomerState state;
  journey::Outcome out;
  std::string value;
  EventTime max_event = EventTime::min();
  uint64_t bad = 0, actions = 0;
  if (!p.no_preload) {
    const std::string v = preload_value();
    rocksdb::WriteBatch batch;
    for (uint64_t c = 0; c < p.customers; ++c) {
      batch.Put(customer_name(c), v);
      if (batch.Count() >= 100'000 || c + 1 == p.customers) {
        rs = db->Write(rocksdb::WriteOptions(), &batch);
        if (!rs.ok()) die("naive: preload: " + rs.ToString());
        batch.Clear();
      }
    }
    // Into SST files, as preload_states does for the engine.
    rs = db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
    if (!rs.ok()) die("naive: preload compaction: " + rs.ToString());
  }
  reset_peak_rss();
  const auto t0 = Clk::now();
  for (size_t i = 0; i < w.size(); ++i) {
    journey::Event ev;
    codec::DecodeFailure failure;
    if (!decoder.decode(w.payload(i), codec::InputFormat::kFlatBuffers, ev, failure)) {
      ++bad;
      continue;
    }
    const rocksdb::Slice key(ev.customer_id.data(), ev.customer_id.size());
    rs = db->Get(rocksdb::ReadOptions(), key, &value);
    state = journey::CustomerState{};
    if (rs.ok()) {
      check(journey::CustomerStateCodec::decode(value, state), "naive: decode state");
    } else if (!rs.IsNotFound()) {
      die("naive: get: " + rs.ToString());
    }
    const EventTime frontier =
        max_event == EventTime::min() ? EventTime::min() : max_event - cfg.time.allowed_lateness;
    out.clear();
    engine.on_event(state, ev, frontier, out);
    actions += out.actions.size();
    max_event = std::max(max_event, ev.timestamp);
    value.clear();
    journey::CustomerStateCodec::encode(state, value);
    rs = db->Put(rocksdb::WriteOptions(), key, value);
    if (!rs.ok()) die("naive: put: " + rs.ToString());
  }
  const double secs = seconds_since(t0);
  json r;
  r["events"] = w.size();
  r["seconds"] = secs;
  r["events_per_s"] = static_cast<double>(w.size()) / secs;
  r["decode_failures"] = bad;
  r["preload_seconds"] = std::chrono::duration<double>(t0 - preload0).count();
  r["actions"] = actions;
  r["peak_rss_bytes"] = peak_rss();
  return r;
}

// ---------------------------------------------------------------------------------------------
// production Worker, one thread, replay mode

// `json_payloads`: the workload's events in the schema's JSON mapping (--engine-json), fed
// instead of the FlatBuffers. `rate`: events per second fed (0: as fast as the worker takes
// them; else a millisecond's events per batch, each batch at its time, with nothing queued
// behind it, as from a consumer that keeps up).
json run_engine(const Params& p, const Workload& w, const std::string& dir,
                const std::vector<std::string>* json_payloads, double rate) {
  auto store = open_store(dir);
  const journey::EngineConfig cfg = bench_engine_config();
  auto local_time = journey::make_tzdb_local_time("UTC");
  SystemClock clock;
  CountingSink sink;
  CountingObserver observer;
  pipeline::WorkerOptions wo;
  wo.replay = true;
  wo.commit_interval = Millis(p.commit_interval_ms);
  wo.cache_entries = p.cache_entries;  // one worker: the whole state.cache_entries
  // As `beckon run` decides for one worker (processing.read_ahead: auto) on this machine.
  wo.read_ahead = !p.no_read_ahead && app::read_ahead_on(config::ReadAhead::kAuto, 1, app::available_cores());
  pipeline::Worker worker(*store, cfg, *local_time, clock, sink, observer, wo);
  const auto preload0 = Clk::now();
  if (!p.no_preload) preload_states(*store, p.customers, p.partitions);
  const double preload_secs = seconds_since(preload0);
  for (int i = 0; i < p.partitions; ++i) check(worker.assign(PartitionId(i)), "assign");
  const std::string topic = "shop.events";
  std::vector<int64_t> next_offset(static_cast<size_t>(p.partitions), 0);
  // As ingest::Runner: prefetch, timers and commit once per batch of up to 1024 messages.
  constexpr size_t kMaxBatch = 1024;
  const size_t batch_size =
      rate > 0 ? std::clamp<size_t>(static_cast<size_t>(std::ceil(rate / 1000)), 1, kMaxBatch) : kMaxBatch;
  // Message keys are customer ids, as on the input topics; built before the clock starts, as a
  // consumer finds them in its fetch buffers.
  std::vector<std::string> keys(w.size());
  for (size_t i = 0; i < w.size(); ++i) keys[i] = customer_name(w.customer(i));
  std::vector<pipeline::InputMessage> batch;
  batch.reserve(kMaxBatch);
  double warm_secs = 0;
  if (p.warm_cache) {
    // Every customer's state in the cache before the clock starts, as in an engine that has run
    // long enough to have seen each of them (needs cache_entries >= customers to keep them all).
    const auto w0 = Clk::now();
    std::vector<std::string> names;
    for (uint64_t c0 = 0; c0 < p.customers; c0 += kMaxBatch) {
      names.clear();
      batch.clear();
      for (uint64_t c = c0; c < std::min<uint64_t>(p.customers, c0 + kMaxBatch); ++c) names.push_back(customer_name(c));
      for (uint64_t c = c0; c < std::min<uint64_t>(p.customers, c0 + kMaxBatch); ++c) {
        const std::string& n = names[c - c0];
        batch.push_back(pipeline::InputMessage{topic, PartitionId(partition_of(c, p.partitions)), Offset(0),
                                               {reinterpret_cast<const uint8_t*>(n.data()), n.size()},
                                               {}, codec::InputFormat::kAuto});
      }
      worker.prefetch(batch, pipeline::Worker::Prefetch::kNow);
    }
    warm_secs = seconds_since(w0);
  }
  const pipeline::Worker::CacheCounts counts0 = worker.cache_counts();
  reset_peak_rss();
  // Wall time by phase of the loop (one clock read per phase per 1024-message batch).
  std::array<Clk::duration, 4> phase{};
  const auto t0 = Clk::now();
  const double cpu0 = thread_cpu_seconds();
  auto helpers_cpu0 = thread_cpu_by_name();
  const uint64_t faults0 = thread_minor_faults();
  auto fill = [&](std::vector<pipeline::InputMessage>& b, size_t start) {
    b.clear();
    for (size_t i = start; i < std::min(w.size(), start + batch_size); ++i) {
      const int32_t part = w.partition(i);
      std::span<const uint8_t> payload = w.payload(i);
      codec::InputFormat format = codec::InputFormat::kAuto;
      if (json_payloads != nullptr) {
        const std::string& text = (*json_payloads)[i];
        payload = {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
        format = codec::InputFormat::kJson;
      }
      b.push_back(pipeline::InputMessage{topic, PartitionId(part), Offset(next_offset[static_cast<size_t>(part)]++),
                                         {reinterpret_cast<const uint8_t*>(keys[i].data()), keys[i].size()},
                                         payload, format});
    }
  };
  // As ingest::Runner with a backlog: with a read thread, the next batch is prefetched before
  // the current one is processed, so that its states are read meanwhile. Paced, the consumer
  // has nothing queued behind the batch.
  const bool look_ahead = !p.no_prefetch && worker.reads_ahead() && rate <= 0;
  std::vector<pipeline::InputMessage> next;
  next.reserve(batch_size);
  fill(next, 0);
  if (look_ahead) worker.prefetch(next, pipeline::Worker::Prefetch::kNow);  // the first: nothing ahead of it
  for (size_t start = 0; start < w.size(); start += batch_size) {
    batch.swap(next);
    const bool more = start + batch_size < w.size();
    if (more) fill(next, start + batch_size);
    if (rate > 0) {
      std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clk::duration>(
                                             std::chrono::duration<double>(static_cast<double>(start) / rate)));
    }
    auto ta = Clk::now();
    if (look_ahead) {
      if (more) worker.prefetch(next, pipeline::Worker::Prefetch::kAhead);
    } else if (!p.no_prefetch) {
      worker.prefetch(batch, pipeline::Worker::Prefetch::kNow);
    }
    auto tb = Clk::now();
    for (const pipeline::InputMessage& m : batch) check(worker.process(m), "process");
    auto tc = Clk::now();
    check(worker.fire_due_timers(), "fire_due_timers");
    auto td = Clk::now();
    commit_in_background(worker);
    auto te = Clk::now();
    phase[0] += tb - ta;
    phase[1] += tc - tb;
    phase[2] += td - tc;
    phase[3] += te - td;
  }
  check(worker.commit().status(), "final commit");
  const double secs = seconds_since(t0);
  const double cpu = thread_cpu_seconds() - cpu0;
  auto helpers_cpu = thread_cpu_by_name();
  const uint64_t faults = thread_minor_faults() - faults0;
  json r;
  r["events"] = w.size();
  r["seconds"] = secs;
  r["rate"] = rate;  // events per second fed (0: as fast as taken)
  r["batch_messages"] = batch_size;
  // The worker thread alone; its commits are written on its commit thread, RocksDB's flushes
  // and compactions on RocksDB's.
  r["thread_cpu_seconds"] = cpu;
  // Its helper threads (clock ticks, 10 ms): commits are encoded and written on the commit
  // thread, and a batch's states read on the read thread.
  r["commit_thread_cpu_seconds"] = helpers_cpu["beckon-commit"] - helpers_cpu0["beckon-commit"];
  r["read_thread_cpu_seconds"] = helpers_cpu["beckon-read"] - helpers_cpu0["beckon-read"];
  r["events_per_cpu_s"] = static_cast<double>(w.size()) / cpu;
  r["minor_page_faults"] = faults;  // the worker thread's, over the measured loop
  r["events_per_s"] = static_cast<double>(w.size()) / secs;
  // Over the measured loop only: lookups, and states read from the store (by the prefetch or a
  // lookup); a warm-up's reads precede it. (The worker's own hit/miss counters count a
  // prefetched state as a miss at its first lookup, warm-up or not.)
  const pipeline::Worker::CacheCounts counts = worker.cache_counts();
  const uint64_t gets = counts.hits + counts.misses - counts0.hits - counts0.misses;
  const uint64_t loads = counts.loads - counts0.loads;
  r["preload_seconds"] = preload_secs;
  r["warm_cache_seconds"] = warm_secs;
  r["cache_lookups"] = gets;
  r["store_reads"] = loads;
  // How the worker shared the cache's work with its read and commit threads: staged customers
  // it read itself because the read thread had not got to them, lookups that slept for the
  // read thread, and the customer puts cut for commits with those it encoded itself because it
  // touched them before the commit thread did.
  r["staged_reads_by_worker"] = counts.owner_reads - counts0.owner_reads;
  r["read_waits"] = counts.read_waits - counts0.read_waits;
  r["read_ahead_batches"] = worker.read_ahead_batches();  // batches whose reads the read thread did
  r["cut_puts"] = counts.cut_puts - counts0.cut_puts;
  r["cut_puts_encoded_by_worker"] = counts.owner_encodes - counts0.owner_encodes;
  r["cache_hit_ratio"] = gets > 0 ? 1.0 - static_cast<double>(std::min(loads, gets)) / static_cast<double>(gets) : 0.0;
  r["cached_customers_at_end"] = worker.cached_customers();
  r["cache_entries"] = wo.cache_entries;
  r["actions_emitted"] = sink.sent;
  r["held_out"] = sink.held_out;
  r["action_bytes_encoded"] = sink.bytes;
  r["suppressed"] = observer.suppressed;
  r["dead_letters"] = sink.dead_letters;
  r["timers_scheduled"] = observer.timers_scheduled;
  r["timers_fired"] = observer.timers_fired;
  r["pending_timers_at_end"] = worker.pending_timers();
  r["commits"] = observer.commits;
  r["commit_seconds_total"] = observer.commit_seconds;
  r["commit_seconds_max"] = observer.max_commit_seconds;
  r["phase_seconds"] = {{"prefetch", std::chrono::duration<double>(phase[0]).count()},
                        {"process", std::chrono::duration<double>(phase[1]).count()},
                        {"fire_due_timers", std::chrono::duration<double>(phase[2]).count()},
                        {"commit", std::chrono::duration<double>(phase[3]).count()}};
  r["commit_bytes_total"] = observer.commit_bytes;      // WriteBatch data size, all commits
  // RocksDB entries, all commits: customer puts and deletes, one merge per timer bucket changed,
  // offsets and partition metadata.
  r["commit_entries_total"] = observer.commit_entries;
  r["peak_rss_bytes"] = peak_rss();
  return r;
}

// ---------------------------------------------------------------------------------------------
// timer lateness, live mode

json run_timers(const Params& p, const std::string& dir) {
  auto store = open_store(dir);
  const journey::EngineConfig cfg = bench_engine_config();
  Millis cart_delay{0};
  for (const auto& j : cfg.journeys) {
    if (j.trigger == journey::Trigger::kCartAbandonment && !j.steps.empty()) cart_delay = j.steps[0].delay;
  }
  auto local_time = journey::make_tzdb_local_time("UTC");
  SystemClock clock;
  CountingSink sink;
  CountingObserver observer;
  pipeline::WorkerOptions wo;
  wo.replay = false;
  wo.commit_interval = Millis(p.commit_interval_ms);
  wo.cache_entries = p.cache_entries;  // one worker: the whole state.cache_entries
  pipeline::Worker worker(*store, cfg, *local_time, clock, sink, observer, wo);
  for (int i = 0; i < p.partitions; ++i) {
    check(worker.assign(PartitionId(i)), "assign");
    worker.set_caught_up(PartitionId(i), true);
  }
  // Setup: per customer a ProfileUpdated (address known) and a CartUpdated whose first reminder
  // falls `lead` after it is fed, spread over `timer_spread_s` by customer index.
  codec::EventBuilder builder;
  codec::EventSpec spec;
  const std::string topic = "shop.events";
  std::vector<int64_t> next_offset(static_cast<size_t>(p.partitions), 0);
  const int64_t lead_ms = 5000;
  const auto setup0 = Clk::now();
  const int64_t first_due_ms = clock.now().ms() + lead_ms;
  uint64_t fed = 0;
  for (uint64_t c = 0; c < p.pending_timers; ++c) {
    const int32_t part = partition_of(c, p.partitions);
    const int64_t now_ms = clock.now().ms();
    for (int k = 0; k < 2; ++k) {
      spec = codec::EventSpec{};
      spec.customer_id = customer_name(c);
      spec.event_id = "t" + std::to_string(k) + "-" + std::to_string(c);
      if (k == 0) {
        spec.type = journey::EventType::kProfileUpdated;
        spec.timestamp = EventTime(now_ms - cart_delay.count());
        spec.email_known = true;
        spec.push_token_known = true;
      } else {
        spec.type = journey::EventType::kCartUpdated;
        const int64_t spread = static_cast<int64_t>(p.timer_spread_s * 1000.0 * static_cast<double>(c) /
                                                    static_cast<double>(p.pending_timers));
        spec.timestamp = EventTime(now_ms - cart_delay.count() + lead_ms + spread);
        spec.items = {{"SKU-00001", 1, 19.5, "skincare", 0}};
        spec.currency = "EUR";
      }
      auto bytes = builder.build(spec);
      pipeline::InputMessage m{topic, PartitionId(part), Offset(next_offset[static_cast<size_t>(part)]++), {},
                               bytes, codec::InputFormat::kFlatBuffers};
      check(worker.process(m), "timer setup process");
      if (++fed % 1024 == 0) {
        check(worker.fire_due_timers(), "fire");
        commit_in_background(worker);
      }
    }
  }
  check(worker.commit().status(), "setup commit");
  const double setup_secs = seconds_since(setup0);
  // Measure only once timers are coming due (the first is due `lead` after the setup began).
  while (clock.now().ms() < first_due_ms) {
    check(worker.fire_due_timers(), "fire");
    commit_in_background(worker);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int64_t pending_after_setup = worker.pending_timers();

  // interval_ms > 0: fire every interval; 0: wait exactly as src/ingest/runner.cc does (its poll
  // timeout capped by the wall time until the next timer, at least 1 ms).
  auto measure = [&](int interval_ms) {
    observer.lateness_ms.clear();
    sink.lateness_us.clear();
    const int64_t start_ms = clock.now().ms();
    sink.measure_from_ms = start_ms;
    observer.measuring = true;
    const uint64_t fired_before = observer.timers_fired;
    const auto end = Clk::now() + std::chrono::duration<double>(p.timer_window_s);
    while (Clk::now() < end) {
      check(worker.fire_due_timers(), "fire");
      commit_in_background(worker);
      Millis wait(interval_ms);
      if (interval_ms == 0) {
        wait = Millis(p.poll_timeout_ms);
        if (auto until = worker.wall_time_until_next_timer()) wait = std::clamp(*until, Millis(1), wait);
      }
      std::this_thread::sleep_for(wait);
    }
    observer.measuring = false;
    sink.measure_from_ms = 0;
    json r;
    r["fire_interval_ms"] = interval_ms;
    r["window_s"] = p.timer_window_s;
    r["timers_fired"] = observer.timers_fired - fired_before;
    r["pending_timers_at_end"] = worker.pending_timers();
    std::vector<double> us = sink.lateness_us;
    r["measured_actions"] = us.size();
    r["lateness_p50_ms"] = percentile(us, 50) / 1000.0;
    r["lateness_p99_ms"] = percentile(us, 99) / 1000.0;
    r["lateness_max_ms"] = us.empty() ? 0.0 : us.back() / 1000.0;
    std::vector<double> ms = observer.lateness_ms;
    r["observer_measured"] = ms.size();
    r["observer_lateness_p50_ms"] = percentile(ms, 50);
    r["observer_lateness_p99_ms"] = percentile(ms, 99);
    r["observer_lateness_max_ms"] = ms.empty() ? 0.0 : ms.back();
    return r;
  };
  json r;
  r["pending_timers_requested"] = p.pending_timers;
  r["pending_timers_after_setup"] = pending_after_setup;
  r["setup_seconds"] = setup_secs;
  r["spread_s"] = p.timer_spread_s;
  r["tight_1ms"] = measure(1);
  r["production_poll_timeout"] = measure(0);
  r["peak_rss_bytes"] = peak_rss();

  // A restart with this many pending timers: commit, close, reopen the store (as `beckon run`
  // does) and take the partitions back (each timer queue loads its head).
  check(worker.commit().status(), "final commit");
  const int64_t pending_before_restart = worker.pending_timers();
  std::vector<PartitionId> owned = worker.partitions();
  for (PartitionId part : owned) worker.revoke(part);
  // `worker` still refers to the old store; it owns no partition now and is not used again (its
  // destructor does not touch the store).
  store.reset();
  const auto open0 = Clk::now();
  store = open_store(dir);
  const double open_secs = seconds_since(open0);
  pipeline::Worker restarted(*store, cfg, *local_time, clock, sink, observer, wo);
  const auto assign0 = Clk::now();
  for (PartitionId part : owned) check(restarted.assign(part), "assign after restart");
  const double assign_secs = seconds_since(assign0);
  if (restarted.pending_timers() != pending_before_restart) {
    die("restart: " + std::to_string(restarted.pending_timers()) + " pending timers, " +
        std::to_string(pending_before_restart) + " before");
  }
  r["restart"] = {{"pending_timers", pending_before_restart},
                  {"store_open_seconds", open_secs},
                  {"assign_seconds", assign_secs}};
  return r;
}

// ---------------------------------------------------------------------------------------------
// embedded broker: produce, raw consume, end to end

// `setup`, if given, completes the configuration (callbacks, opaque) before the client is made.
rd_kafka_t* new_client(rd_kafka_type_t type, const kafka::Properties& props,
                       const std::function<void(rd_kafka_conf_t*)>& setup = {}) {
  auto conf = kafka::make_conf(props);
  if (!conf) die("kafka conf: " + conf.status().to_string());
  if (setup) setup(conf->get());
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf->release(), err, sizeof(err));
  if (!rk) die(std::string("rd_kafka_new: ") + err);
  return rk;
}

// The output of beckon-raw-consume (built beside this binary), run against the embedded broker
// over loopback TCP; dies when it fails or is missing.
json raw_consume_subprocess(const std::string& bootstrap, const std::string& topic, int partitions,
                                           uint64_t expected) {
  const auto tool = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "beckon-raw-consume";
  if (!std::filesystem::exists(tool)) die("raw consume: " + tool.string() + " not found (build target beckon-raw-consume)");
  const std::string cmd = tool.string() + " '" + bootstrap + "' '" + topic + "' " + std::to_string(partitions) + " " +
                          std::to_string(expected) + " 3";
  std::unique_ptr<FILE, int (*)(FILE*)> f(popen(cmd.c_str(), "r"), &pclose);
  if (!f) die("raw consume: cannot run " + cmd);
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), f.get())) text.append(buf, n);
  const int status = pclose(f.release());
  if (status != 0) die("raw consume: " + cmd + " exited with status " + std::to_string(status));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("passes_events_per_s") || !j.contains("passes_cpu_cores_used")) {
    die("raw consume: unexpected output: " + text);
  }
  return j;
}

// The embedded broker with the bench's input topic and the engine's output topics.
struct BenchBroker {
  std::unique_ptr<kafka::EmbeddedBroker> broker;
  std::string bootstrap;
  std::string topic = "bench.events";
};

BenchBroker start_broker(const Params& p) {
  BenchBroker b;
  auto broker = kafka::EmbeddedBroker::start(1);
  if (!broker) die("embedded broker: " + broker.status().to_string());
  b.broker = std::move(broker).value();
  b.bootstrap = b.broker->bootstrap_servers();
  check(b.broker->create_topic(b.topic, p.e2e_partitions), "create topic");
  const config::AppConfig defaults;
  for (int c = 0; c < journey::kChannelCount; ++c) {
    check(b.broker->create_topic(defaults.output.topic_for(static_cast<journey::Channel>(c)), 4), "create topic");
  }
  check(b.broker->create_topic(defaults.output.dead_letter_topic, 4), "create topic");
  return b;
}

// Produces event i of the workload (waits while the producer's queue is full).
void produce_event(rd_kafka_t* producer, const BenchBroker& b, const Params& p, const Workload& w, uint64_t i) {
  const std::string key = customer_name(w.customer(i));
  auto payload = w.payload(i);
  for (;;) {
    // The bench's partitioner, so the preloaded states sit in the partitions that receive
    // their customers' events.
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(b.topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_PARTITION(partition_of(w.customer(i), p.e2e_partitions)),
        RD_KAFKA_V_VALUE(const_cast<uint8_t*>(payload.data()), payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 10);
      continue;
    }
    if (err) die(std::string("produce: ") + rd_kafka_err2str(err));
    return;
  }
}

// The end-to-end engine's configuration: the bench's journeys, every input event consumed.
config::AppConfig e2e_config(const Params& p, const BenchBroker& b, const std::string& dir) {
  config::AppConfig cfg;
  cfg.kafka.bootstrap_servers = b.bootstrap;
  cfg.kafka.group_id = "bench-e2e";
  cfg.inputs = {{b.topic, config::InputFormat::kAuto}};
  cfg.state.dir = dir;
  cfg.state.commit_interval = Millis(p.commit_interval_ms);
  cfg.state.cache_entries = p.cache_entries;
  cfg.processing.workers = p.e2e_workers;
  cfg.processing.replay = true;
  cfg.metrics.listen = "127.0.0.1:0";
  cfg.engine = bench_engine_config();
  return cfg;
}

// app::Engine running on a thread of its own from construction until finish().
class RunningEngine {
 public:
  explicit RunningEngine(const config::AppConfig& cfg) {
    auto engine = app::Engine::create(cfg, clock_);
    if (!engine) die("engine: " + engine.status().to_string());
    engine_ = std::move(engine).value();
    thread_ = std::thread([this] { status_ = engine_->run(); });
  }
  RunningEngine(const RunningEngine&) = delete;
  RunningEngine& operator=(const RunningEngine&) = delete;

  app::Engine& engine() { return *engine_; }
  // Stops the engine (it drains and commits) and waits for it; dies if its run failed.
  void finish(const std::string& what) {
    engine_->stop();
    thread_.join();
    if (!status_) die(what + ": " + status_.to_string());
  }

 private:
  SystemClock clock_;  // outlives the engine, which refers to it
  std::unique_ptr<app::Engine> engine_;
  Status status_;
  std::thread thread_;
};

json run_e2e(const Params& p, const Workload& w, const std::string& dir) {
  json r;
  const BenchBroker b = start_broker(p);
  const std::string& bootstrap = b.bootstrap;
  const std::string& topic = b.topic;

  // 1. produce
  const uint64_t n = std::min<uint64_t>(p.e2e_events, w.size());
  {
    kafka::KafkaPtr producer(new_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap},
                                                            {"linger.ms", "50"},
                                                            {"batch.num.messages", "10000"},
                                                            {"queue.buffering.max.messages", "1000000"},
                                                            {"compression.codec", p.e2e_compression}}));
    const auto t0 = Clk::now();
    for (uint64_t i = 0; i < n; ++i) {
      produce_event(producer.get(), b, p, w, i);
      rd_kafka_poll(producer.get(), 0);
    }
    if (rd_kafka_flush(producer.get(), 120'000)) die("produce: flush timed out");
    r["produce_seconds"] = seconds_since(t0);
  }
  // What the mock broker kept (it drops old message sets beyond 5 MiB / 100k sets per partition).
  uint64_t retained = 0, trimmed = 0;
  std::vector<std::pair<int64_t, int64_t>> marks(static_cast<size_t>(p.e2e_partitions));
  {
    kafka::KafkaPtr c(new_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", "bench-marks"}}));
    for (int part = 0; part < p.e2e_partitions; ++part) {
      int64_t lo = 0, hi = 0;
      if (rd_kafka_query_watermark_offsets(c.get(), topic.c_str(), part, &lo, &hi, 10'000)) die("watermarks");
      marks[static_cast<size_t>(part)] = {lo, hi};
      retained += static_cast<uint64_t>(hi - lo);
      trimmed += static_cast<uint64_t>(lo);
    }
  }
  r["produced"] = n;
  r["retained"] = retained;
  r["trimmed_by_mock_broker"] = trimmed;
  r["partitions"] = p.e2e_partitions;
  r["compression"] = p.e2e_compression;

  // 2. raw consumption: three passes over the same messages in this process and three in
  // beckon-raw-consume (a process of its own, with the system allocator: the ceiling must not
  // depend on the allocator or the heap of this binary). A pass lasts under a second and some land
  // on a busy core (~1.7M/s against ~2.8M/s), so the ceiling is the fastest of the six passes.
  std::vector<double> raw_rates;
  for (int pass = 0; pass < 3; ++pass) {
    RawConsumePass rp = raw_consume_pass(bootstrap, topic, p.e2e_partitions, retained, "bench-raw-" + std::to_string(pass));
    if (!rp.error.empty()) die("raw consume: " + rp.error);
    raw_rates.push_back(rp.events_per_s);
    r["raw_consumed"] = rp.consumed;
    r["raw_payload_bytes"] = rp.payload_bytes;
  }
  r["raw_consume_passes_events_per_s"] = raw_rates;
  json sub = raw_consume_subprocess(bootstrap, topic, p.e2e_partitions, retained);
  r["raw_consume_subprocess_passes_events_per_s"] = sub["passes_events_per_s"];
  r["raw_consume_subprocess_passes_cpu_cores_used"] = sub["passes_cpu_cores_used"];
  double best = 0;
  for (double v : raw_rates) best = std::max(best, v);
  for (double v : sub["passes_events_per_s"]) best = std::max(best, v);
  r["raw_consume_events_per_s"] = best;

  // 3. end to end: app::Engine, on a store holding a state for every customer (as the engine run)
  {
    const auto preload0 = Clk::now();
    if (!p.no_preload) {
      auto store = open_store(dir);
      preload_states(*store, p.customers, p.e2e_partitions);
    }
    r["e2e_preload_seconds"] = seconds_since(preload0);
    const auto t0 = Clk::now();
    RunningEngine running(e2e_config(p, b, dir));
    app::Engine& e = running.engine();
    const auto& o = e.observer();
    Clk::time_point first{};
    double cpu_first = 0;
    std::map<std::string, double> threads_first;
    uint64_t seen = 0;
    const auto deadline = Clk::now() + std::chrono::seconds(400);
    while (Clk::now() < deadline) {
      seen = o.consumed.load() + o.dead_letters.load();
      if (seen > 0 && first == Clk::time_point{}) {
        first = Clk::now();
        cpu_first = process_cpu_seconds();
        threads_first = thread_cpu_by_name();
      }
      if (seen >= retained) break;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    const auto done = Clk::now();
    const double cpu_used = process_cpu_seconds() - cpu_first;
    json threads = json::object();
    for (const auto& [name, cpu] : thread_cpu_by_name()) {
      const auto before = threads_first.find(name);
      const double used = cpu - (before == threads_first.end() ? 0.0 : before->second);
      if (used > 0) threads[name] = used;
    }
    uint64_t actions = 0;
    for (const auto& a : o.actions) actions += a.load();
    running.finish("engine run");
    const double stop_secs = seconds_since(done);
    const double secs = std::chrono::duration<double>(done - first).count();
    r["e2e_consumed"] = seen;
    r["e2e_dead_letters"] = o.dead_letters.load();
    r["e2e_actions"] = actions;
    r["e2e_startup_seconds"] = std::chrono::duration<double>(first - t0).count();
    r["e2e_seconds_first_to_last"] = secs;
    // Cores kept busy while consuming (all threads: workers, consumer, librdkafka, RocksDB);
    // this machine has 2.
    r["e2e_cpu_cores_used"] = secs > 0 ? cpu_used / secs : 0.0;
    // The same window's CPU seconds by thread name (clock ticks, 10 ms): which threads used
    // the cores (workers, librdkafka's consumer and producer threads, the embedded broker,
    // RocksDB's background jobs).
    r["e2e_thread_cpu_seconds"] = threads;
    r["e2e_seconds_from_start"] = std::chrono::duration<double>(done - t0).count();
    r["e2e_drain_and_stop_seconds"] = stop_secs;
    r["end_to_end_events_per_s"] = secs > 0 && seen >= retained ? static_cast<double>(seen) / secs : 0.0;
    r["complete"] = seen >= retained;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// end to end at a steady load

// The paced producer's delivery reports.
struct Deliveries {
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> failed{0};
};

void count_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  (m->err == RD_KAFKA_RESP_ERR_NO_ERROR ? d->acknowledged : d->failed).fetch_add(1, std::memory_order_relaxed);
}

// app::Engine consuming events that a producer in this process sends at p.e2e_rate per second,
// from the moment the engine is ready: what a deployment that keeps up with its topic spends.
// Reports the engine's CPU (its own threads, librdkafka's of its clients, RocksDB's background
// jobs; not the producer's nor the embedded broker's) and how far consumption trails the broker:
// every millisecond, the events the broker acknowledged and the engine has not yet consumed.
json run_e2e_paced(const Params& p, const Workload& w, const std::string& dir) {
  json r;
  const BenchBroker b = start_broker(p);
  const uint64_t n = std::min<uint64_t>(p.e2e_events, w.size());
  if (!p.no_preload) {
    auto store = open_store(dir);
    preload_states(*store, p.customers, p.e2e_partitions);
  }

  // The events' producer: batches of up to 20 ms. The embedded broker returns one produced batch
  // per partition to each fetch, so smaller batches would cap consumption at the broker's fetch
  // round trips rather than the engine (a Kafka broker returns up to max.partition.fetch.bytes).
  Deliveries deliveries;
  kafka::KafkaPtr producer(new_client(RD_KAFKA_PRODUCER,
                                      {{"bootstrap.servers", b.bootstrap},
                                       {"linger.ms", "20"},
                                       {"queue.buffering.max.messages", "1000000"},
                                       {"compression.codec", p.e2e_compression}},
                                      [&](rd_kafka_conf_t* conf) {
                                        rd_kafka_conf_set_dr_msg_cb(conf, count_delivery);
                                        rd_kafka_conf_set_opaque(conf, &deliveries);
                                      }));
  // Connected now, so that its broker thread exists before the engine's threads are told apart.
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(producer.get(), 1, nullptr, &md, 10'000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("producer metadata");
  rd_kafka_metadata_destroy(md);

  // The producing thread starts now and sends from the moment it is given (the engine ready).
  std::promise<Clk::time_point> go;
  std::atomic<double> produce_seconds{0};
  std::thread paced([&, start = go.get_future()]() mutable {
    const Clk::time_point t0 = start.get();
    if (t0 == Clk::time_point{}) return;
    uint64_t i = 0;
    for (int64_t tick = 1; i < n; ++tick) {
      const uint64_t due = std::min<uint64_t>(n, static_cast<uint64_t>(seconds_since(t0) * p.e2e_rate) + 1);
      for (; i < due; ++i) produce_event(producer.get(), b, p, w, i);
      rd_kafka_poll(producer.get(), 0);
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(tick));
    }
    produce_seconds = seconds_since(t0);
    if (rd_kafka_flush(producer.get(), 60'000)) die("paced produce: flush timed out");
  });

  // Every thread that exists now (this one, the embedded broker's, the producer's) is not the
  // engine's, except RocksDB's background pool, which is the process's and works for it.
  std::set<int> not_engine;
  for (const TaskCpu& t : task_cpu()) not_engine.insert(t.tid);
  auto engine_cpu = [&] {
    std::map<std::string, double> out;
    for (const TaskCpu& t : task_cpu()) {
      std::string kind = thread_kind(t.name);
      if (!not_engine.count(t.tid) || kind.starts_with("rocksdb:")) out[std::move(kind)] += t.seconds;
    }
    return out;
  };

  config::AppConfig cfg = e2e_config(p, b, dir);
  cfg.kafka.properties["fetch.wait.max.ms"] = std::to_string(p.e2e_fetch_wait_ms);
  const auto start0 = Clk::now();
  RunningEngine running(cfg);
  app::Engine& e = running.engine();
  while (!e.ready()) {
    if (seconds_since(start0) > 60) {
      go.set_value({});
      paced.join();
      die("paced end to end: the engine was not ready within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r["e2e_startup_seconds"] = seconds_since(start0);

  const auto& o = e.observer();
  const std::map<std::string, double> cpu0 = engine_cpu();
  const double process_cpu0 = process_cpu_seconds();
  const auto t0 = Clk::now();
  go.set_value(t0);
  // Every millisecond: how many events the broker has acknowledged and the engine consumed.
  struct Sample {
    double t;
    uint64_t acknowledged;
    uint64_t consumed;
  };
  std::vector<Sample> samples;
  samples.reserve(std::min<size_t>(static_cast<size_t>(static_cast<double>(n) / p.e2e_rate * 1000) + 1000, 1'000'000));
  uint64_t seen = 0;
  const double limit_s = static_cast<double>(n) / p.e2e_rate + 120;
  for (;;) {
    seen = o.consumed.load() + o.dead_letters.load();
    samples.push_back({seconds_since(t0), deliveries.acknowledged.load(), seen});
    if (seen >= n || samples.back().t > limit_s) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double secs = seconds_since(t0);
  const double process_cpu = process_cpu_seconds() - process_cpu0;
  const std::map<std::string, double> cpu1 = engine_cpu();
  paced.join();
  uint64_t actions = 0;
  for (const auto& a : o.actions) actions += a.load();
  running.finish("paced end to end");
  if (deliveries.failed.load() > 0) die("paced produce: " + std::to_string(deliveries.failed.load()) + " not delivered");

  json threads = json::object();
  double engine_seconds = 0;
  for (const auto& [kind, cpu] : cpu1) {
    const auto before = cpu0.find(kind);
    const double used = cpu - (before == cpu0.end() ? 0.0 : before->second);
    if (used <= 0) continue;
    threads[kind] = used;
    engine_seconds += used;
  }
  const double rate = static_cast<double>(seen) / secs;
  r["rate_target_events_per_s"] = p.e2e_rate;
  r["produced"] = n;
  r["produce_seconds"] = produce_seconds.load();
  r["consumed"] = seen;
  r["complete"] = seen >= n;
  r["actions"] = actions;
  r["seconds"] = secs;
  r["events_per_s"] = rate;
  r["engine_cpu_cores"] = engine_seconds / secs;
  r["engine_cpu_us_per_event"] = seen > 0 ? engine_seconds / static_cast<double>(seen) * 1e6 : 0.0;
  // clock ticks (10 ms) by thread name, over the run
  r["engine_thread_cpu_seconds"] = threads;
  // everything in this process, with the producer and the embedded broker
  r["process_cpu_cores"] = process_cpu / secs;
  // The consumption delay at each sample: how long before it the broker had acknowledged as
  // many events as the engine has now consumed. Consumption within a partition is in order, and
  // across partitions about so; this is how far behind the broker the engine runs, in time.
  std::vector<double> delay_ms;
  size_t j = 0;
  for (const Sample& s : samples) {
    if (s.consumed == 0) continue;
    while (j < samples.size() && samples[j].acknowledged < s.consumed) ++j;
    if (j == samples.size()) break;
    delay_ms.push_back(std::max(0.0, (s.t - samples[j].t) * 1000.0));
  }
  r["samples"] = delay_ms.size();
  r["delay_ms_p50"] = percentile(delay_ms, 50);
  r["delay_ms_p99"] = percentile(delay_ms, 99);
  r["delay_ms_max"] = percentile(delay_ms, 100);
  return r;
}

std::string fmtd(double v, int prec = 0) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", prec, v);
  return buf;
}

}  // namespace
}  // namespace beckon::bench

int main(int argc, char** argv) {
  using namespace beckon;
  using namespace beckon::bench;
  Params p;
  CLI::App cli("beckon-bench: throughput, end-to-end and timer-lateness measurements (issue 5)");
  cli.add_option("--customers", p.customers, "customer population")->capture_default_str();
  cli.add_option("--events", p.events, "generated events for the naive and engine runs")->capture_default_str();
  cli.add_option("--pending-timers", p.pending_timers, "pending timers for the lateness run")->capture_default_str();
  cli.add_option("--e2e-events", p.e2e_events, "events produced to the embedded broker (<= --events)")
      ->capture_default_str();
  cli.add_option("--e2e-partitions", p.e2e_partitions, "partitions of the end-to-end input topic")
      ->capture_default_str();
  cli.add_option("--e2e-compression", p.e2e_compression, "producer compression.codec of the input topic")
      ->capture_default_str();
  cli.add_option("--partitions", p.partitions, "partitions owned by the worker in the engine/timer runs")
      ->check(CLI::Range(1, 250))
      ->capture_default_str();
  cli.add_option("--e2e-workers", p.e2e_workers, "worker threads of the end-to-end engine")->check(CLI::Range(1, 64));
  cli.add_option("--cache-entries", p.cache_entries, "write-back cache entries in total (state.cache_entries)")
      ->capture_default_str();
  cli.add_option("--event-rate", p.event_rate, "events per second of event time in the workload")
      ->capture_default_str();
  cli.add_option("--timer-spread", p.timer_spread_s, "pending timers' due times spread over S seconds")
      ->capture_default_str();
  cli.add_option("--timer-window", p.timer_window_s, "seconds measured per lateness mode")->capture_default_str();
  cli.add_option("--commit-interval-ms", p.commit_interval_ms, "state.commit_interval (durable commits) of every run")
      ->capture_default_str();
  cli.add_option("--poll-timeout-ms", p.poll_timeout_ms, "ingest runner poll timeout mirrored in the lateness run")
      ->capture_default_str();
  cli.add_option("--seed", p.seed, "workload seed")->capture_default_str();
  cli.add_option("--state-dir", p.state_dir, "parent of the RocksDB directories (default: a new /tmp dir)");
  cli.add_flag("--json", p.json, "print one JSON object");
  cli.add_flag("--skip-e2e", p.skip_e2e, "skip the embedded-broker runs (raw consume, end to end)");
  cli.add_flag("--skip-naive", p.skip_naive, "skip the naive read-modify-write baseline");
  cli.add_flag("--skip-timers", p.skip_timers, "skip the timer-lateness run");
  cli.add_flag("--skip-engine", p.skip_engine, "skip the Worker run (e.g. to profile the e2e run alone)");
  cli.add_flag("--no-preload", p.no_preload,
               "start naive/engine stores empty instead of holding a state for every customer");
  cli.add_flag("--warm-cache", p.warm_cache, "engine run: load every customer's state into the cache before timing");
  cli.add_flag("--engine-json", p.engine_json,
               "engine runs: feed the events in the schema's JSON mapping (converted before timing), not FlatBuffers");
  cli.add_flag("--no-warmup", p.no_warmup,
               "measure a cold process: no untimed engine pass before the naive and engine runs");
  cli.add_option("--engine-rate", p.engine_rate,
                 "engine run: feed S events per second, a millisecond's events per batch (0: as fast as taken)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  cli.add_option("--e2e-rate", p.e2e_rate,
                 "end to end: produce S events per second while the engine runs, instead of a backlog "
                 "(0: all produced first; no raw consumption then)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  cli.add_option("--e2e-fetch-wait-ms", p.e2e_fetch_wait_ms,
                 "paced end to end: the engine consumer's fetch.wait.max.ms (the embedded broker holds an "
                 "empty fetch this long even when data arrives)")
      ->capture_default_str()
      ->check(CLI::Range(0, 500));
  cli.add_flag("--no-prefetch", p.no_prefetch,
               "engine run: no batched state reads from the message keys (Worker::prefetch)");
  cli.add_flag("--no-read-ahead", p.no_read_ahead,
               "engine run: the worker thread reads a batch's states itself (default: as processing.read_ahead: auto)");
  CLI11_PARSE(cli, argc, argv);
  if (p.customers == 0 || p.events == 0) die("--customers and --events must be > 0");
  if (p.customers > 0xFFFFFFFFull) die("--customers must fit in 32 bits");
  init_logging(false, "warn");

  bool temporary = false;
  if (p.state_dir.empty()) {
    char tmpl[] = "/tmp/beckon-bench-XXXXXX";
    if (!mkdtemp(tmpl)) die("cannot create a temporary directory");
    p.state_dir = tmpl;
    temporary = true;
  } else {
    std::filesystem::create_directories(p.state_dir);
  }
  auto sub = [&](const char* name) {
    const std::string d = p.state_dir + "/" + name;
    std::filesystem::remove_all(d);
    return d;
  };
  auto log = [&](const std::string& s) {
    if (!p.json) std::cerr << "[bench] " << s << std::endl;
  };

  const auto total0 = Clk::now();
  json out;
  json params = {{"customers", p.customers},     {"events", p.events},
                 {"pending_timers", p.pending_timers}, {"e2e_events", p.e2e_events},
                 {"e2e_partitions", p.e2e_partitions}, {"e2e_compression", p.e2e_compression},
                 {"partitions", p.partitions}, {"e2e_workers", p.e2e_workers},   {"cache_entries", p.cache_entries},
                 {"e2e_read_ahead", app::read_ahead_on(config::ReadAhead::kAuto, p.e2e_workers, app::available_cores())},
                 {"event_rate", p.event_rate},   {"timer_spread_s", p.timer_spread_s},
                 {"timer_window_s", p.timer_window_s}, {"poll_timeout_ms", p.poll_timeout_ms},
                 {"commit_interval_ms", p.commit_interval_ms},
                 {"seed", p.seed},               {"skip_e2e", p.skip_e2e}, {"preload", !p.no_preload},
                 {"prefetch", !p.no_prefetch},  {"engine_input_format", p.engine_json ? "json" : "flatbuffers"},
                 {"engine_rate", p.engine_rate}, {"e2e_rate", p.e2e_rate},
                 {"e2e_fetch_wait_ms", p.e2e_fetch_wait_ms},
                 {"read_ahead", !p.no_read_ahead && app::read_ahead_on(config::ReadAhead::kAuto, 1, app::available_cores())},
                 {"available_cores", app::available_cores()}, {"warmup", !p.no_warmup},
                 {"build_type", BECKON_BENCH_BUILD_TYPE}, {"allocator", BECKON_ALLOCATOR}};
  out["parameters"] = params;
  out["machine"] = machine_info();

  log("generating " + std::to_string(p.events) + " events over " + std::to_string(p.customers) + " customers");
  WorkloadOptions wo;
  wo.customers = p.customers;
  wo.events = p.events;
  wo.seed = p.seed;
  wo.partitions = p.partitions;
  wo.events_per_second = p.event_rate;
  Workload w(wo);
  const auto g0 = Clk::now();
  w.generate();
  json wl;
  wl["generate_seconds"] = seconds_since(g0);
  wl["arena_bytes"] = w.arena_bytes();
  wl["mean_event_bytes"] = static_cast<double>(w.arena_bytes()) / static_cast<double>(w.size());
  wl["event_time_span_s"] = static_cast<double>(w.last_ms() - w.first_ms()) / 1000.0;
  json mix;
  for (int t = 0; t < journey::kEventTypeCount; ++t) {
    if (w.mix().by_type[t]) mix[std::string(journey::to_string(static_cast<journey::EventType>(t)))] = w.mix().by_type[t];
  }
  wl["mix"] = mix;
  out["workload"] = wl;
  std::vector<std::string> json_payloads;
  if (p.engine_json) {
    log("converting the events to JSON for the engine runs");
    json_payloads.reserve(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      auto text = codec::event_to_json(w.payload(i));
      check(text.status(), "event " + std::to_string(i) + " to JSON");
      json_payloads.push_back(std::move(text).value());
    }
  }
  const std::vector<std::string>* engine_json = p.engine_json ? &json_payloads : nullptr;
  out["rss_after_generate_bytes"] = current_rss();

  // A new process pays a first-touch page fault for every page its heap grows into: the state
  // cache, RocksDB's memtables, block cache and write batches. A long-running engine pays that
  // once; on this kind of VM it is about a quarter of a cold pass's time. One untimed engine pass
  // on a store of its own grows the heap first, so the naive and engine runs that follow measure
  // the steady process (each still with its own freshly preloaded store and an empty cache). The
  // warm-up's own rate is reported as the cold-process figure.
  if (!p.no_warmup && !(p.skip_naive && p.skip_engine)) {
    log("warm-up: one untimed engine pass (cold process)");
    const auto w0 = Clk::now();
    const json warm = run_engine(p, w, sub("warmup"), engine_json, 0);
    std::filesystem::remove_all(p.state_dir + "/warmup");
    out["warmup"] = {{"seconds", seconds_since(w0)},
                     {"engine_events_per_s", warm["events_per_s"]},
                     {"peak_rss_bytes", warm["peak_rss_bytes"]},
                     {"minor_page_faults", warm["minor_page_faults"]}};
  }
  if (!p.skip_naive) {
    log("naive read-modify-write baseline");
    out["naive"] = run_naive(p, w, sub("naive"));
    std::filesystem::remove_all(p.state_dir + "/naive");
  }
  if (!p.skip_engine) {
    log("engine (pipeline::Worker, 1 thread, replay)");
    out["engine"] = run_engine(p, w, sub("engine"), engine_json, p.engine_rate);
    std::filesystem::remove_all(p.state_dir + "/engine");
  }
  if (!p.skip_e2e && p.e2e_rate > 0) {
    log("embedded broker: end to end at " + fmtd(p.e2e_rate) + " events/s");
    out["e2e_paced"] = run_e2e_paced(p, w, sub("e2e"));
    std::filesystem::remove_all(p.state_dir + "/e2e");
  } else if (!p.skip_e2e) {
    log("embedded broker: produce, raw consume, end to end");
    out["e2e"] = run_e2e(p, w, sub("e2e"));
    std::filesystem::remove_all(p.state_dir + "/e2e");
  }
  if (!p.skip_timers) {
    log("timer lateness with " + std::to_string(p.pending_timers) + " pending timers (live mode)");
    out["timers"] = run_timers(p, sub("timers"));
    std::filesystem::remove_all(p.state_dir + "/timers");
  }
  if (temporary) std::filesystem::remove_all(p.state_dir);

  // Headline figures.
  auto get = [&](const char* a, const char* b) -> std::optional<double> {
    if (!out.contains(a) || !out[a].contains(b)) return std::nullopt;
    return out[a][b].get<double>();
  };
  const auto engine_eps = get("engine", "events_per_s");
  const auto naive_eps = get("naive", "events_per_s");
  const auto e2e_eps = get("e2e", "end_to_end_events_per_s");
  const auto raw_eps = get("e2e", "raw_consume_events_per_s");
  out["engine_events_per_s"] = engine_eps ? json(*engine_eps) : json(nullptr);
  out["naive_rmw_events_per_s"] = naive_eps ? json(*naive_eps) : json(nullptr);
  out["end_to_end_events_per_s"] = e2e_eps ? json(*e2e_eps) : json(nullptr);
  out["raw_consume_events_per_s"] = raw_eps ? json(*raw_eps) : json(nullptr);
  const auto cold_eps = get("warmup", "engine_events_per_s");
  out["engine_cold_process_events_per_s"] = cold_eps ? json(*cold_eps) : json(nullptr);
  // The naive baseline reads FlatBuffers: against a JSON engine run the ratio would compare
  // two inputs, so there is none.
  out["engine_vs_naive"] = engine_eps && naive_eps && *naive_eps > 0 && !p.engine_json
                               ? json(*engine_eps / *naive_eps)
                               : json(nullptr);
  out["e2e_vs_raw_consume"] = e2e_eps && raw_eps && *raw_eps > 0 ? json(*e2e_eps / *raw_eps) : json(nullptr);
  if (out.contains("engine")) {
    out["cache_hit_ratio"] = out["engine"]["cache_hit_ratio"];
    out["actions_emitted"] = out["engine"]["actions_emitted"];
    out["commits"] = out["engine"]["commits"];
  }
  if (out.contains("timers")) {
    // The headline figures are the production loop's (runner.cc's wake-up rule), not the 1 ms one.
    const json& t = out["timers"]["production_poll_timeout"];
    out["timer_lateness_p50_ms"] = t["lateness_p50_ms"];
    out["timer_lateness_p99_ms"] = t["lateness_p99_ms"];
    out["timer_lateness_max_ms"] = t["lateness_max_ms"];
    out["timer_lateness_measured"] = t["measured_actions"];
    out["timer_lateness_tight_1ms_p99_ms"] = out["timers"]["tight_1ms"]["lateness_p99_ms"];
  } else {
    out["timer_lateness_p99_ms"] = nullptr;
  }
  out["peak_rss_bytes"] = process_max_rss();
  out["total_seconds"] = seconds_since(total0);

  if (p.json) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  auto row = [](const std::string& k, const std::string& v) {
    std::printf("  %-42s %s\n", k.c_str(), v.c_str());
  };
  auto num = [&](const json& j, int prec = 0) { return j.is_null() ? std::string("-") : fmtd(j.get<double>(), prec); };
  std::printf("beckon-bench  (%s, %s, nproc %u)\n", out["machine"]["cpu_model"].get<std::string>().c_str(),
              out["machine"]["kernel"].get<std::string>().c_str(), std::thread::hardware_concurrency());
  std::printf("  customers %llu, events %llu (%.0f B mean, %.0f s of event time), partitions %d\n",
              static_cast<unsigned long long>(p.customers), static_cast<unsigned long long>(p.events),
              wl["mean_event_bytes"].get<double>(), wl["event_time_span_s"].get<double>(), p.partitions);
  row("naive_rmw_events_per_s", num(out["naive_rmw_events_per_s"]));
  row("engine_events_per_s", num(out["engine_events_per_s"]));
  row("engine_vs_naive", num(out["engine_vs_naive"], 2));
  row("  engine, cold process (the warm-up pass)", num(out["engine_cold_process_events_per_s"]));
  if (out.contains("engine")) {
    row("  cache hit ratio", num(out["engine"]["cache_hit_ratio"], 4));
    row("  actions emitted / commits", num(out["engine"]["actions_emitted"]) + " / " + num(out["engine"]["commits"]));
    row("  timers fired / pending at end",
        num(out["engine"]["timers_fired"]) + " / " + num(out["engine"]["pending_timers_at_end"]));
    row("  engine phase peak RSS (MiB)", fmtd(out["engine"]["peak_rss_bytes"].get<double>() / 1048576.0));
  }
  if (out.contains("e2e")) {
    const json& e = out["e2e"];
    row("e2e events (produced / retained)", num(e["produced"]) + " / " + num(e["retained"]));
    row("raw_consume_events_per_s", num(out["raw_consume_events_per_s"]));
    row("end_to_end_events_per_s", num(out["end_to_end_events_per_s"]));
    row("e2e_vs_raw_consume", num(out["e2e_vs_raw_consume"], 3));
    row("  e2e startup (s) / actions", num(e["e2e_startup_seconds"], 2) + " / " + num(e["e2e_actions"]));
  }
  if (out.contains("e2e_paced")) {
    const json& e = out["e2e_paced"];
    row("e2e paced: events/s (target)", num(e["events_per_s"]) + " (" + num(e["rate_target_events_per_s"]) + ")");
    row("  engine cores / us of CPU per event", num(e["engine_cpu_cores"], 3) + " / " + num(e["engine_cpu_us_per_event"], 2));
    row("  delay behind the broker p50/p99/max ms",
        num(e["delay_ms_p50"], 1) + " / " + num(e["delay_ms_p99"], 1) + " / " + num(e["delay_ms_max"], 1));
    row("  actions", num(e["actions"]));
  }
  if (out.contains("timers")) {
    const json& t = out["timers"];
    row("pending timers after setup", num(t["pending_timers_after_setup"]));
    for (const char* mode : {"tight_1ms", "production_poll_timeout"}) {
      const json& m = t[mode];
      row(std::string("timer lateness ") + mode + " p50/p99/max ms",
          num(m["lateness_p50_ms"], 2) + " / " + num(m["lateness_p99_ms"], 2) + " / " + num(m["lateness_max_ms"], 2) +
              "  (n=" + num(m["measured_actions"]) + ")");
    }
    const json& r = t["restart"];
    row("restart with " + num(r["pending_timers"]) + " timers: open / assign s",
        num(r["store_open_seconds"], 3) + " / " + num(r["assign_seconds"], 3));
  }
  row("peak_rss_bytes (MiB)", fmtd(out["peak_rss_bytes"].get<double>() / 1048576.0));
  row("total seconds", num(out["total_seconds"], 1));
  return 0;
}
