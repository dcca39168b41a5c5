// Google Benchmark micro benches of the hot-path pieces (issue 5). Run:
//   build-bench/bench/beckon-micro-bench [--benchmark_filter=BM_Decode.*]

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "codec/action_encoder.h"
#include "codec/event_builder.h"
#include "codec/event_decoder.h"
#include "journey/customer_state.h"
#include "journey/engine.h"
#include "journey/journey_config.h"
#include "state/store.h"
#include "state/timer_queue.h"

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

// Schedules a batch of timers due now..now+batch, fires them all, commits: per timer cost of
// the durable timer index (in-memory head + RocksDB batch).
void BM_TimerQueueScheduleFire(benchmark::State& st) {
  TempDir dir;
  state::StoreOptions so;
  so.path = dir.path();
  auto store = state::Store::open(so);
  if (!store) {
    st.SkipWithError(store.status().to_string().c_str());
    return;
  }
  state::TimerQueue q(**store, PartitionId(0));
  if (!q.open()) st.SkipWithError("open");
  const int batch = static_cast<int>(st.range(0));
  std::vector<std::string> customers;
  for (int i = 0; i < batch; ++i) customers.push_back("cust-" + std::to_string(1000000 + i));
  int64_t t = 1767225600000;
  state::DueTimer due;
  state::CommitBatch cb(**store);
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
    (void)(*store)->commit(cb);
    q.on_committed();
    benchmark::DoNotOptimize(fired);
    t += batch;
  }
  st.SetItemsProcessed(st.iterations() * batch);
}
BENCHMARK(BM_TimerQueueScheduleFire)->Arg(1024);

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

}  // namespace
}  // namespace beckon::bench

BENCHMARK_MAIN();
