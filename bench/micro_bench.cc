// Google Benchmark micro benches of the hot-path pieces (issue 5). Run:
//   build-bench/bench/beckon-micro-bench [--benchmark_filter=BM_Decode.*]

#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>
#include <unistd.h>

#include "app/labels.h"
#include "app/metrics_observer.h"
#include "codec/action_encoder.h"
#include "codec/event_builder.h"
#include "codec/event_decoder.h"
#include "journey/customer_state.h"
#include "journey/engine.h"
#include "journey/journey_config.h"
#include "state/state_cache.h"
#include "state/store.h"
#include "state/timer_queue.h"
#include "workload.h"

namespace beckon::bench {
namespace {

codec::EventSpec cart_spec(int64_t ts_ms, int lines) {
  codec::EventSpec s;
  s.type = journey::EventType::kCartUpdated;
  s.event_id = "ev-123456789";
  s.customer_id = "cust-0000012345";
  s.timestamp = EventTime(ts_ms);
  for (int i = 0; i < lines; ++i) {
    s.items.push_back({"SKU-0" + std::to_string(1000 + i), 1 + i % 2, 12.5 + i, "skincare", 0});
  }
  s.currency = "EUR";
  return s;
}

void BM_DecodeFlatBuffers(benchmark::State& st) {
  codec::EventBuilder b;
  auto bytes = b.build(cart_spec(1767225600000, 3));
  std::vector<uint8_t> buf(bytes.begin(), bytes.end());
  codec::EventDecoder dec;
  journey::Event ev;
  codec::DecodeFailure f;
  for (auto _ : st) {
    bool ok = dec.decode(buf, codec::InputFormat::kAuto, ev, f);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(ev.customer_id.data());
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_DecodeFlatBuffers);

void BM_DecodeJson(benchmark::State& st) {
  const std::string json = codec::event_spec_to_json(cart_spec(1767225600000, 3));
  std::span<const uint8_t> buf(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  codec::EventDecoder dec;
  journey::Event ev;
  codec::DecodeFailure f;
  if (!dec.decode(buf, codec::InputFormat::kAuto, ev, f)) st.SkipWithError(f.detail.c_str());
  for (auto _ : st) {
    bool ok = dec.decode(buf, codec::InputFormat::kAuto, ev, f);
    benchmark::DoNotOptimize(ok);
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(json.size()));
}
BENCHMARK(BM_DecodeJson);

// A customer after a typical history: a cart, an order with replenishment, a shipment, timers.
journey::CustomerState typical_state() {
  journey::EngineConfig cfg = journey::default_engine_config();
  cfg.policies.consent_default_granted = true;
  cfg.policies.quiet_hours_enabled = false;
  journey::FixedOffsetLocalTime lt;
  journey::JourneyEngine eng(cfg, lt);
  journey::CustomerState s;
  journey::Outcome out;
  codec::EventBuilder b;
  codec::EventDecoder dec;
  journey::Event ev;
  codec::DecodeFailure f;
  int64_t t = 1767225600000;
  auto feed = [&](const codec::EventSpec& spec) {
    auto bytes = b.build(spec);
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    if (!dec.decode(copy, codec::InputFormat::kFlatBuffers, ev, f)) return;
    out.clear();
    eng.on_event(s, ev, EventTime(spec.timestamp.ms() - 5000), out);
  };
  codec::EventSpec p;
  p.type = journey::EventType::kProfileUpdated;
  p.customer_id = "cust-0000012345";
  p.event_id = "e0";
  p.timestamp = EventTime(t);
  p.email_known = true;
  p.push_token_known = true;
  p.timezone = "Europe/Paris";
  feed(p);
  codec::EventSpec o = cart_spec(t += 60000, 2);
  o.type = journey::EventType::kOrderPlaced;
  o.order_id = "ord-1";
  o.amount = 40;
  feed(o);
  codec::EventSpec sh;
  sh.type = journey::EventType::kOrderShipped;
  sh.customer_id = p.customer_id;
  sh.event_id = "e2";
  sh.timestamp = EventTime(t += 3600000);
  sh.order_id = "ord-1";
  sh.carrier = "DHL";
  sh.promised_delivery = EventTime(t + 3 * 86400000LL);
  feed(sh);
  feed(cart_spec(t += 86400000, 3));
  return s;
}

void BM_StateCodecRoundTrip(benchmark::State& st) {
  const journey::CustomerState s = typical_state();
  std::string buf;
  journey::CustomerState back;
  for (auto _ : st) {
    buf.clear();
    journey::CustomerStateCodec::encode(s, buf);
    Status ok = journey::CustomerStateCodec::decode(buf, back);
    benchmark::DoNotOptimize(ok);
  }
  st.counters["state_bytes"] = static_cast<double>(buf.size());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_StateCodecRoundTrip);

// Encode alone into a reused buffer (the cache's commit path keeps one scratch string).
void BM_StateEncode(benchmark::State& st) {
  const journey::CustomerState s = typical_state();
  std::string buf;
  for (auto _ : st) {
    journey::CustomerStateCodec::encode(s, buf);
    benchmark::DoNotOptimize(buf.data());
  }
  st.counters["state_bytes"] = static_cast<double>(buf.size());
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_StateEncode);

// Decode alone into a fresh state each time (the cache decodes a miss into a new entry).
void BM_StateDecode(benchmark::State& st) {
  std::string buf;
  journey::CustomerStateCodec::encode(typical_state(), buf);
  for (auto _ : st) {
    journey::CustomerState back;
    Status ok = journey::CustomerStateCodec::decode(buf, back);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(back);
  }
  st.counters["state_bytes"] = static_cast<double>(buf.size());
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_StateDecode);

void BM_JourneyOnEventCart(benchmark::State& st) {
  journey::EngineConfig cfg = journey::default_engine_config();
  cfg.policies.consent_default_granted = true;
  cfg.policies.quiet_hours_enabled = false;
  journey::FixedOffsetLocalTime lt;
  journey::JourneyEngine eng(cfg, lt);
  const journey::CustomerState base = typical_state();
  journey::CustomerState s = base;
  codec::EventBuilder b;
  codec::EventDecoder dec;
  auto bytes = b.build(cart_spec(1767225600000 + 10LL * 86400000, 3));
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  journey::Event ev;
  codec::DecodeFailure f;
  if (!dec.decode(copy, codec::InputFormat::kFlatBuffers, ev, f)) st.SkipWithError("decode");
  journey::Outcome out;
  int64_t i = 0;
  for (auto _ : st) {
    // Each iteration updates the cart one second later (reschedules the reminder timers).
    ev.timestamp = EventTime(1767225600000 + 10LL * 86400000 + 1000 * (++i));
    out.clear();
    eng.on_event(s, ev, ev.timestamp - Millis(5000), out);
    benchmark::DoNotOptimize(out.scheduled.data());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_JourneyOnEventCart);

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/beckon-micro-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A store in `dir`, or nullptr after marking the benchmark skipped.
std::unique_ptr<state::Store> open_store(benchmark::State& st, const TempDir& dir) {
  state::StoreOptions so;
  so.path = dir.path();
  auto store = state::Store::open(so);
  if (!store) {
    st.SkipWithError(store.status().to_string().c_str());
    return nullptr;
  }
  return std::move(store).value();
}

// The encode half of a commit: flush_to() of `range` dirty customers into a WriteBatch (not
// written). Customers are cached in shuffled order, so key order (the flush order) is not
// memory order, as in a running engine.
void BM_StateCacheFlush(benchmark::State& st) {
  TempDir dir;
  auto store = open_store(st, dir);
  if (!store) return;
  const size_t n = static_cast<size_t>(st.range(0));
  state::StateCache<journey::CustomerState, journey::CustomerStateCodec> cache(*store, PartitionId(0), n);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  const journey::CustomerState typical = typical_state();
  for (size_t i : order) {
    const std::string name = customer_name(i);
    auto v = cache.get(name);
    if (!v) {
      st.SkipWithError(v.status().to_string().c_str());
      return;
    }
    **v = typical;
    cache.mark_dirty(name);
  }
  state::CommitBatch batch(*store);
  for (auto _ : st) {
    batch.clear();
    cache.flush_to(batch);
    benchmark::DoNotOptimize(batch.bytes());
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_StateCacheFlush)->Arg(200'000)->Unit(benchmark::kMillisecond);

// Timers that all fall due at the same millisecond (e.g. reminders deferred by quiet hours to
// 08:00), so they share one bucket of the timers CF: `range(0)` of them committed, then a fresh
// queue with a head of `range(1)` pops them all. Each head refill re-reads that bucket from the
// store, so this measures what a concentrated bucket costs per timer.
void BM_TimerQueueConcentratedDue(benchmark::State& st) {
  TempDir dir;
  auto store = open_store(st, dir);
  if (!store) return;
  const auto n = static_cast<size_t>(st.range(0));
  const auto head = static_cast<size_t>(st.range(1));
  const EventTime due(1767254400000);  // 08:00 UTC
  {
    state::TimerQueue q(*store, PartitionId(0), head);
    if (!q.open()) return st.SkipWithError("open");
    for (size_t i = 0; i < n; ++i) q.schedule(customer_name(i), 42, due);
    state::CommitBatch b(*store);
    if (!q.flush_to(b) || !store->commit(b)) return st.SkipWithError("commit");
    q.on_committed();
  }
  if (!store->flush()) return st.SkipWithError("flush");
  for (auto _ : st) {
    state::TimerQueue q(*store, PartitionId(0), head);
    if (!q.open()) return st.SkipWithError("open");
    state::DueTimer t;
    size_t popped = 0;
    for (;;) {
      auto r = q.pop_due(due, t);
      if (!r) return st.SkipWithError("pop");
      if (!*r) break;
      ++popped;
    }
    if (popped != n) return st.SkipWithError("not all popped");
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_TimerQueueConcentratedDue)->Args({200'000, 4096})->Args({200'000, 65536})->Unit(benchmark::kMillisecond);

// Schedules a batch of timers due now..now+batch, fires them all, commits: per timer cost of
// the durable timer index (in-memory head + RocksDB batch).
void BM_TimerQueueScheduleFire(benchmark::State& st) {
  TempDir dir;
  auto store = open_store(st, dir);
  if (!store) return;
  state::TimerQueue q(*store, PartitionId(0));
  if (!q.open()) st.SkipWithError("open");
  const int batch = static_cast<int>(st.range(0));
  std::vector<std::string> customers;
  for (int i = 0; i < batch; ++i) customers.push_back("cust-" + std::to_string(1000000 + i));
  int64_t t = 1767225600000;
  state::DueTimer due;
  state::CommitBatch cb(*store);
  for (auto _ : st) {
    for (int i = 0; i < batch; ++i) q.schedule(customers[static_cast<size_t>(i)], 42, EventTime(t + i));
    int fired = 0;
    for (;;) {
      auto r = q.pop_due(EventTime(t + batch), due);
      if (!r || !*r) break;
      ++fired;
    }
    cb.clear();
    (void)q.flush_to(cb);
    (void)store->commit(cb);
    q.on_committed();
    benchmark::DoNotOptimize(fired);
    t += batch;
  }
  st.SetItemsProcessed(st.iterations() * batch);
}
BENCHMARK(BM_TimerQueueScheduleFire)->Arg(1024);

// Reminders beyond the in-memory head (capacity 256, filled by near timers): schedule 1024 of
// them, commit, cancel them all, commit. Items are schedules plus cancels.
void BM_TimerQueueScheduleCancelBeyondHead(benchmark::State& st) {
  TempDir dir;
  auto store = open_store(st, dir);
  if (!store) return;
  state::TimerQueue q(*store, PartitionId(0), 256);
  if (!q.open()) st.SkipWithError("open");
  const int batch = static_cast<int>(st.range(0));
  std::vector<std::string> customers;
  for (int i = 0; i < batch; ++i) customers.push_back("cust-" + std::to_string(1000000 + i));
  state::CommitBatch cb(*store);
  auto commit = [&] {
    cb.clear();
    (void)q.flush_to(cb);
    (void)store->commit(cb);
    q.on_committed();
  };
  const int64_t near = 1767225600000;
  for (int i = 0; i < 512; ++i) q.schedule("near-" + std::to_string(i), 7, EventTime(near + i));
  commit();
  int64_t t = near + 86400000;
  for (auto _ : st) {
    for (int i = 0; i < batch; ++i) q.schedule(customers[static_cast<size_t>(i)], 42, EventTime(t + i));
    commit();
    for (int i = 0; i < batch; ++i) q.cancel(customers[static_cast<size_t>(i)], 42, EventTime(t + i));
    commit();
    t += batch;
  }
  if (q.pending() != 512) st.SkipWithError("pending count drifted");
  st.SetItemsProcessed(st.iterations() * batch * 2);
}
BENCHMARK(BM_TimerQueueScheduleCancelBeyondHead)->Arg(1024);

journey::Action sample_action() {
  journey::Action a;
  a.action_id = "3f2a9c0d8e7b6a5f4e3d2c1b0a998877";
  a.customer_id = "cust-0000012345";
  a.trigger = journey::Trigger::kCartAbandonment;
  a.journey = "cart_abandonment";
  a.step = 0;
  a.channel = journey::Channel::kAppPush;
  a.created = EventTime(1767225600000);
  a.due = a.created;
  a.expires = a.created + Millis(86400000);
  a.variant = "control";
  a.template_id = "cart_push_1";
  a.context.order_count = 2;
  a.context.first_time_buyer = false;
  a.context.lifetime_value = 120;
  a.context.loyalty_tier = "bronze";
  a.context.locale = "fr-FR";
  a.context.timezone = "Europe/Paris";
  a.items = {{"SKU-01001", 1, 12.5, "skincare"}, {"SKU-01002", 2, 13.5, "makeup"}, {"SKU-01003", 1, 30, "fragrance"}};
  a.cart_value = 69.5;
  a.currency = "EUR";
  return a;
}

void BM_ActionEncodeFlatBuffers(benchmark::State& st) {
  codec::ActionEncoder enc;
  const journey::Action a = sample_action();
  size_t n = 0;
  for (auto _ : st) {
    auto bytes = enc.encode(a, codec::OutputFormat::kFlatBuffers);
    n = bytes.size();
    benchmark::DoNotOptimize(bytes.data());
  }
  st.counters["bytes"] = static_cast<double>(n);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ActionEncodeFlatBuffers);

void BM_ActionEncodeJson(benchmark::State& st) {
  codec::ActionEncoder enc;
  const journey::Action a = sample_action();
  size_t n = 0;
  for (auto _ : st) {
    auto bytes = enc.encode(a, codec::OutputFormat::kJson);
    n = bytes.size();
    benchmark::DoNotOptimize(bytes.data());
  }
  if (n == 0) st.SkipWithError("JSON encoding failed");
  st.counters["bytes"] = static_cast<double>(n);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ActionEncodeJson);

// The engine alone on the realistic event mix of bench/workload.h (views 55%, cart updates 20%,
// orders 8%, signups 7%, fulfilment 6%, profile/consent/engagement 4%): one iteration replays
// 200k events of 50k customers (about 2.8 h of event time) from empty states, firing the timers
// they schedule as the frontier passes them, as a worker does (a heap with lazy removal stands in
// for the timer index: an entry no longer in the customer's pending list is skipped). Events are
// decoded once up front. Items are events; fired timers count towards the time, not the items.
void BM_JourneyMixedEvents(benchmark::State& st) {
  WorkloadOptions wo;
  wo.customers = 50'000;
  wo.events = 200'000;
  wo.events_per_second = 20;  // the same span of event time as 2M events at 200/s (timers fire)
  Workload w(wo);
  w.generate();
  codec::EventDecoder dec;
  codec::DecodeFailure f;
  std::vector<journey::Event> events(w.size());
  std::vector<std::vector<journey::LineItemView>> items(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    if (!dec.decode(w.payload(i), codec::InputFormat::kFlatBuffers, events[i], f)) {
      st.SkipWithError(f.detail.c_str());
      return;
    }
    items[i].assign(events[i].items.begin(), events[i].items.end());
    events[i].items = items[i];
  }
  std::vector<std::string> names(wo.customers);
  for (uint64_t c = 0; c < wo.customers; ++c) names[c] = customer_name(c);

  journey::EngineConfig cfg = journey::default_engine_config();
  cfg.policies.consent_default_granted = true;
  cfg.policies.quiet_hours_enabled = false;
  journey::FixedOffsetLocalTime lt;
  journey::JourneyEngine eng(cfg, lt);
  std::vector<journey::CustomerState> states(wo.customers);
  using Due = std::tuple<int64_t, uint32_t, uint64_t>;  // (due, customer, timer id)
  std::vector<Due> heap;
  journey::Outcome out;
  uint64_t actions = 0;
  uint64_t fired = 0;
  auto apply = [&](uint32_t cust) {
    for (const auto& t : out.scheduled) {
      heap.emplace_back(t.due.ms(), cust, t.id);
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
    actions += out.actions.size();
  };
  auto pending = [&](uint32_t cust, uint64_t id, int64_t due) {
    for (const auto& p : states[cust].pending) {
      if (p.id == id && p.due.ms() == due) return true;
    }
    return false;
  };
  for (auto _ : st) {
    st.PauseTiming();
    for (auto& s : states) s = journey::CustomerState{};
    heap.clear();
    st.ResumeTiming();
    int64_t max_ts = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const journey::Event& ev = events[i];
      const auto cust = static_cast<uint32_t>(w.customer(i));
      max_ts = std::max(max_ts, ev.timestamp.ms());
      const EventTime frontier(max_ts - 5000);
      out.clear();
      eng.on_event(states[cust], ev, frontier, out);
      apply(cust);
      while (!heap.empty() && std::get<0>(heap.front()) <= frontier.ms()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        const auto [due, c, id] = heap.back();
        heap.pop_back();
        if (!pending(c, id, due)) continue;  // cancelled or rescheduled: no longer in the index
        out.clear();
        eng.on_timer(states[c], names[c], journey::TimerRef{id, EventTime(due)}, frontier, out);
        apply(c);
        ++fired;
      }
    }
  }
  const double n = static_cast<double>(st.iterations()) * static_cast<double>(events.size());
  st.counters["actions_per_event"] = benchmark::Counter(static_cast<double>(actions) / n);
  st.counters["timers_per_event"] = benchmark::Counter(static_cast<double>(fired) / n);
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(events.size()));
}
BENCHMARK(BM_JourneyMixedEvents)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace beckon::bench

// ---- metrics from worker threads ----------------------------------------------------------
// What a worker reports per event (an event consumed, a timer scheduled), from every benchmark
// thread at once through a WorkerMetrics per thread: added to the shared counters after every
// event (every worker writing the same counters per event, as before per-batch counting), or
// every 1024 events (what app::Engine does, once per batch).

std::unique_ptr<beckon::ops::Metrics> g_metrics;
std::unique_ptr<beckon::app::MetricsObserver> g_shared;

void metrics_setup(const benchmark::State&) {
  g_metrics = std::make_unique<beckon::ops::Metrics>(beckon::app::metrics_labels(beckon::WallTime(0)));
  g_shared = std::make_unique<beckon::app::MetricsObserver>(*g_metrics);
}
void metrics_teardown(const benchmark::State&) {
  g_shared.reset();
  g_metrics.reset();
}

void BM_MetricsFlushedEvery(benchmark::State& st) {
  const auto every = static_cast<uint32_t>(st.range(0));
  beckon::app::WorkerMetrics w(*g_shared);
  uint32_t n = 0;
  for (auto _ : st) {
    w.on_consumed(beckon::journey::EventType::kCartUpdated);
    w.on_timer_scheduled(beckon::journey::Trigger::kCartAbandonment);
    if (++n % every == 0) w.on_batch_end();
  }
}
BENCHMARK(BM_MetricsFlushedEvery)
    ->Setup(metrics_setup)
    ->Teardown(metrics_teardown)
    ->Arg(1)
    ->Arg(1024)
    ->Threads(1)
    ->Threads(2);

BENCHMARK_MAIN();
