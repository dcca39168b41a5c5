#include "pipeline/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codec/event_builder.h"

namespace beckon::pipeline {
namespace {

using journey::EventType;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kT0 = 1'795'000'000'000;  // 2026-11-19, event time of the first event
const PartitionId kP0(0);

// Records everything the worker hands over; flush can be made to fail.
class FakeSink final : public ActionSink {
 public:
  Status send(const journey::Action& a) override {
    actions.push_back(a);
    ++unacked;
    return Status::ok();
  }
  Status send_held_out(const journey::Action& a) override {
    held_out.push_back(a);
    return Status::ok();
  }
  Status send_dead_letter(const DeadLetter& d) override {
    dead_letters.push_back({std::string(d.reason), d.offset.value()});
    ++unacked;
    return Status::ok();
  }
  uint64_t seal() override {
    sealed = unacked;
    return ++seals;
  }
  // Runs on the worker's commit thread. While held, acknowledgements do not come in.
  Status wait_sealed(uint64_t token, Millis timeout) override {
    requested_ms += timeout.count();
    {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, timeout, [this] { return !held; })) return Status::retriable("unacknowledged");
    }
    waited_for = token;
    if (fail_flush) return Status::fatal("delivery failed");
    unacked -= sealed;
    return Status::ok();
  }
  void hold() {
    std::lock_guard lock(mu);
    held = true;
  }
  void release() {
    {
      std::lock_guard lock(mu);
      held = false;
    }
    cv.notify_all();
  }
  std::vector<journey::Action> actions, held_out;
  std::vector<std::pair<std::string, int64_t>> dead_letters;
  std::atomic<int> unacked = 0;
  int sealed = 0;
  uint64_t seals = 0;
  std::atomic<uint64_t> waited_for = 0;
  std::atomic<bool> fail_flush = false;
  std::atomic<int64_t> requested_ms = 0;  // wait time asked for, all calls together
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
};

class CountingObserver final : public WorkerObserver {
 public:
  void on_consumed(journey::EventType) override { ++consumed; }
  void on_late_event() override { ++late; }
  void on_clamped_event() override { ++clamped; }
  void on_commit_failed() override { ++commit_failures; }
  void on_timer_fired(journey::Trigger, Millis) override { ++fired; }
  void on_stale_timer(journey::Trigger) override { ++stale; }
  void on_redelivered() override { ++redelivered; }
  int consumed = 0, late = 0, clamped = 0, commit_failures = 0, fired = 0, stale = 0, redelivered = 0;
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("beckon-worker-test-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_ = journey::default_engine_config();
    config_.policies.consent_default_granted = true;
    config_.policies.quiet_hours_enabled = false;
    config_.policies.frequency_caps.clear();
    config_.time.allowed_lateness = Millis(5000);
    clock_.set(WallTime(kT0));
    open_store();
    start_worker();
  }
  void TearDown() override {
    worker_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void open_store() {
    state::StoreOptions o;
    o.path = dir_.string();
    auto s = state::Store::open(o);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    store_ = std::move(*s);
  }

  void start_worker(bool replay = false) {
    WorkerOptions o;
    o.replay = replay;
    o.commit_interval = Millis(1000);
    o.read_ahead = read_ahead_;
    worker_ = std::make_unique<Worker>(*store_, config_, local_time_, clock_, sink_, observer_, o);
    ASSERT_TRUE(worker_->assign(kP0).is_ok());
    worker_->set_caught_up(kP0, true);
    auto stored = worker_->stored_offset(kP0, "events");
    ASSERT_TRUE(stored.is_ok());
    next_offset_ = stored->has_value() ? (*stored)->value() : 0;
  }

  // Simulates a process crash or stop: the worker and store go away without committing.
  void restart(bool replay = false) {
    worker_.reset();
    store_.reset();
    open_store();
    start_worker(replay);
  }

  codec::EventSpec spec(EventType type, const std::string& customer, int64_t at) {
    codec::EventSpec s;
    s.type = type;
    s.customer_id = customer;
    s.event_id = "e" + std::to_string(++event_seq_);
    s.timestamp = EventTime(at);
    return s;
  }

  // As the ingest loop does: the message key (the customer id) is a prefetch hint first.
  void feed_bytes(std::span<const uint8_t> bytes, std::string_view key = {}) {
    InputMessage m{"events", kP0, Offset(next_offset_++),
                   {reinterpret_cast<const uint8_t*>(key.data()), key.size()}, bytes, codec::InputFormat::kAuto};
    worker_->prefetch(std::span(&m, 1), Worker::Prefetch::kNow);
    Status s = worker_->process(m);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  void feed(const codec::EventSpec& s) { feed_bytes(builder_.build(s), s.customer_id); }
  // One batch, as the ingest loop feeds it: every key a prefetch hint, then each message.
  // kAhead by default: the read thread reads while the batch is processed.
  void feed_batch(const std::vector<codec::EventSpec>& specs, Worker::Prefetch when = Worker::Prefetch::kAhead) {
    std::vector<std::vector<uint8_t>> payloads;
    std::vector<InputMessage> batch;
    for (const auto& s : specs) {
      const auto bytes = builder_.build(s);  // the builder's buffer, reused by the next build
      payloads.emplace_back(bytes.begin(), bytes.end());
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      const std::string& key = specs[i].customer_id;
      batch.push_back(InputMessage{"events", kP0, Offset(next_offset_++),
                                   {reinterpret_cast<const uint8_t*>(key.data()), key.size()}, payloads[i],
                                   codec::InputFormat::kAuto});
    }
    worker_->prefetch(batch, when);
    for (const InputMessage& m : batch) {
      Status s = worker_->process(m);
      ASSERT_TRUE(s.is_ok()) << s.to_string();
    }
  }

  void profile(const std::string& customer, int64_t at) {
    auto p = spec(EventType::kProfileUpdated, customer, at);
    p.email_known = true;
    p.push_token_known = true;
    feed(p);
  }
  codec::EventSpec cart_spec(const std::string& customer, int64_t at) {
    auto c = spec(EventType::kCartUpdated, customer, at);
    c.items = {{"LIP-01", 1, 19.5, "makeup", 0}};
    c.currency = "EUR";
    return c;
  }
  void cart(const std::string& customer, int64_t at) { feed(cart_spec(customer, at)); }
  // 0: a product view, 1: a checkout start, 2: a view of a product page.
  codec::EventSpec view_spec(int kind, const std::string& customer, int64_t at) {
    if (kind == 0) {
      auto v = spec(EventType::kProductViewed, customer, at);
      v.sku = "LIP-01";
      v.category = "makeup";
      v.price = 19.5;
      return v;
    }
    if (kind == 1) {
      auto v = spec(EventType::kCheckoutStarted, customer, at);
      v.amount = 19.5;
      v.currency = "EUR";
      return v;
    }
    auto v = spec(EventType::kPageViewed, customer, at);
    v.url = "https://shop.example/p/lip-01";
    v.page_type = journey::PageType::kProduct;
    return v;
  }
  void order(const std::string& customer, int64_t at) {
    auto o = spec(EventType::kOrderPlaced, customer, at);
    o.order_id = "o-" + customer;
    o.items = {{"LIP-01", 1, 19.5, "makeup", 0}};
    o.amount = 19.5;
    o.currency = "EUR";
    feed(o);
  }
  // The next offset of "events" the store holds for kP0; nullopt when nothing was committed.
  std::optional<int64_t> committed_offset() {
    auto stored = store_->load_offset(kP0, "events");
    if (!stored.is_ok()) {
      ADD_FAILURE() << stored.status().to_string();
      return std::nullopt;
    }
    if (!stored->has_value()) return std::nullopt;
    return (*stored)->value();
  }
  int actions_for(const std::string& customer, journey::Trigger trigger) const {
    int n = 0;
    for (const auto& a : sink_.actions) n += a.customer_id == customer && a.trigger == trigger;
    return n;
  }

  std::filesystem::path dir_;
  journey::EngineConfig config_;
  journey::FixedOffsetLocalTime local_time_;
  ManualClock clock_;
  FakeSink sink_;
  CountingObserver observer_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<Worker> worker_;
  codec::EventBuilder builder_;
  int64_t next_offset_ = 0;
  bool read_ahead_ = true;  // WorkerOptions::read_ahead of the next start_worker()
  int event_seq_ = 0;
};

TEST_F(WorkerTest, CaughtUpPartitionFiresReminderOnWallClock) {
  profile("c1", kT0);
  cart("c1", kT0);
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 0);
  clock_.set(WallTime(kT0 + kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 1);
  EXPECT_EQ(sink_.actions[0].due.ms(), kT0 + kHour);
}

// A timer in the index that the customer's state does not hold (as a database restored from
// mismatched pieces would have): reported as stale, nothing decided, not counted as fired.
TEST_F(WorkerTest, TimerTheStateDoesNotHoldIsReportedStale) {
  profile("c1", kT0);
  ASSERT_TRUE(worker_->commit().is_ok());
  worker_.reset();
  {
    state::CommitBatch batch(*store_);
    const uint64_t cart_timer = uint64_t{0} << 62 | 12345;  // class 0: cart abandonment
    batch.put_timer(kP0, EventTime(kT0 + 1000), "c1", cart_timer);
    batch.put_meta(kP0, state::TimerQueue::kPendingMetaKey, "1,0,0,0");
    ASSERT_TRUE(store_->commit(batch).is_ok());
  }
  start_worker();
  EXPECT_EQ(worker_->pending_timers(), 1);
  clock_.set(WallTime(kT0 + kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(observer_.stale, 1);
  EXPECT_EQ(observer_.fired, 0);
  EXPECT_TRUE(sink_.actions.empty());
  EXPECT_EQ(worker_->pending_timers(), 0);
}

TEST_F(WorkerTest, OrderInBacklogCancelsReminder) {
  // After a restart the wall clock is far past the reminder's due time, but the partition has
  // backlog: the frontier follows the data, so the order still waiting in the backlog wins.
  profile("c1", kT0);
  cart("c1", kT0);
  auto committed = worker_->commit();
  ASSERT_TRUE(committed.is_ok());
  restart();
  worker_->set_caught_up(kP0, false);
  clock_.set(WallTime(kT0 + 3 * kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  order("c1", kT0 + 10 * 60 * 1000);
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  worker_->set_caught_up(kP0, true);
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 0);
}

TEST_F(WorkerTest, BacklogFrontierFiresWhenDataPassesDueTime) {
  worker_->set_caught_up(kP0, false);
  profile("c1", kT0);
  cart("c1", kT0);
  clock_.set(WallTime(kT0 + 10 * kHour));  // wall time must not matter while there is backlog
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 0);
  profile("c2", kT0 + kHour + 4000);  // frontier = max event time - 5 s lateness: still before due
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 0);
  profile("c2", kT0 + kHour + 5000);  // frontier reaches the due time
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 1);
}

TEST_F(WorkerTest, GarbageIsDeadLetteredAndLaterEventsStillProcessed) {
  const std::string garbage = "definitely not an event";
  feed_bytes({reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()});
  const std::string bad_json = R"({"event_id":"x","timestamp_ms":1795000000000,"body_type":"CartUpdated","body":{}})";
  feed_bytes({reinterpret_cast<const uint8_t*>(bad_json.data()), bad_json.size()});
  profile("c1", kT0);
  cart("c1", kT0);
  clock_.set(WallTime(kT0 + kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  ASSERT_EQ(sink_.dead_letters.size(), 2u);
  EXPECT_EQ(sink_.dead_letters[0].first, "verify_failed");
  EXPECT_EQ(sink_.dead_letters[0].second, 0);
  EXPECT_EQ(sink_.dead_letters[1].first, "missing_customer_id");
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 1);
}

TEST_F(WorkerTest, CommitStoresNextOffsetOnlyAfterSinkAcknowledged) {
  profile("c1", kT0);
  cart("c1", kT0);
  sink_.fail_flush = true;
  auto failed = worker_->commit();
  EXPECT_FALSE(failed.is_ok());
  EXPECT_EQ(observer_.commit_failures, 1);
  auto stored = store_->load_offset(kP0, "events");
  ASSERT_TRUE(stored.is_ok());
  EXPECT_FALSE(stored->has_value()) << "nothing may be committed before the sink acknowledged";

  sink_.fail_flush = false;
  auto ok = worker_->commit();
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].next.value(), 2);
  stored = store_->load_offset(kP0, "events");
  ASSERT_TRUE(stored.is_ok() && stored->has_value());
  EXPECT_EQ((*stored)->value(), 2);
}

TEST_F(WorkerTest, BackgroundCommitWritesTheCutWhileProcessingGoesOn) {
  profile("c1", kT0);
  cart("c1", kT0);
  sink_.hold();
  ASSERT_TRUE(worker_->begin_commit().is_ok());
  EXPECT_TRUE(worker_->commit_in_flight());
  // Processing goes on: a customer the cut did not hold, and a change to one it did.
  profile("c2", kT0 + 1000);
  order("c1", kT0 + 2000);
  auto early = worker_->finish_commit();
  ASSERT_TRUE(early.is_ok());
  EXPECT_TRUE(early->empty()) << "nothing is durable before the sink acknowledged";
  EXPECT_EQ(committed_offset(), std::nullopt) << "the batch is written only after the acknowledgements";

  sink_.release();
  auto done = worker_->finish_commit(/*wait=*/true);
  ASSERT_TRUE(done.is_ok()) << done.status().to_string();
  ASSERT_EQ(done->size(), 1u);
  EXPECT_EQ((*done)[0].next.value(), 2) << "the offsets of the cut, not of what came after";
  EXPECT_FALSE(worker_->commit_in_flight());
  EXPECT_EQ(sink_.waited_for.load(), sink_.seals) << "the commit waited for the set it sealed";
  std::string value;
  EXPECT_TRUE(store_->get_customer(kP0, "c1", &value).is_ok());
  EXPECT_EQ(store_->get_customer(kP0, "c2", &value).code(), Status::Code::kNotFound);
  auto again = worker_->finish_commit();
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->empty()) << "durable offsets are returned once";

  // The changes after the cut went into the next commit: the order cancelled c1's reminder.
  ASSERT_TRUE(worker_->commit().is_ok());
  restart();
  EXPECT_EQ(next_offset_, 4);
  EXPECT_EQ(worker_->pending_timers_by_trigger()[static_cast<size_t>(journey::Trigger::kCartAbandonment)], 0);
  EXPECT_TRUE(store_->get_customer(kP0, "c2", &value).is_ok());
  clock_.set(WallTime(kT0 + 2 * kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 0);
}

TEST_F(WorkerTest, FailedBackgroundCommitLeavesItsChangesToTheNext) {
  profile("c1", kT0);
  cart("c1", kT0);
  sink_.fail_flush = true;
  ASSERT_TRUE(worker_->begin_commit().is_ok());
  profile("c2", kT0 + 1000);
  auto failed = worker_->finish_commit(/*wait=*/true);
  EXPECT_FALSE(failed.is_ok());
  EXPECT_EQ(observer_.commit_failures, 1);
  EXPECT_EQ(committed_offset(), std::nullopt);

  sink_.fail_flush = false;
  auto ok = worker_->commit();
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].next.value(), 3);
  restart();
  EXPECT_EQ(next_offset_, 3);
  EXPECT_EQ(worker_->pending_timers(), 1) << "the failed batch's timer was written by the next commit";
  std::string value;
  EXPECT_TRUE(store_->get_customer(kP0, "c1", &value).is_ok());
  EXPECT_TRUE(store_->get_customer(kP0, "c2", &value).is_ok());
}

TEST_F(WorkerTest, ShutdownTimeoutAlsoBoundsTheCommitInFlight) {
  profile("c1", kT0);
  cart("c1", kT0);
  sink_.hold();  // the broker stopped acknowledging
  ASSERT_TRUE(worker_->begin_commit().is_ok());  // waits up to WorkerOptions::flush_timeout (120 s)
  auto stopped = worker_->commit(Millis(50));    // as the drain at shutdown does
  ASSERT_FALSE(stopped.is_ok());
  EXPECT_EQ(stopped.status().code(), Status::Code::kRetriable);
  // Far below the in-flight commit's own 120 s (slices of 100 ms until the deadline moved).
  EXPECT_LT(sink_.requested_ms.load(), 10'000) << "the commit in flight stopped waiting at the shutdown's deadline";
  EXPECT_EQ(observer_.commit_failures, 1);
  EXPECT_EQ(committed_offset(), std::nullopt) << "nothing unacknowledged was committed";
  sink_.release();
}

TEST_F(WorkerTest, DestroyingAWorkerDoesNotWaitOutTheCommitInFlight) {
  profile("c1", kT0);
  cart("c1", kT0);
  sink_.hold();
  ASSERT_TRUE(worker_->begin_commit().is_ok());  // may wait 120 s for acknowledgements
  worker_.reset();                               // as after a fatal error
  EXPECT_LT(sink_.requested_ms.load(), 10'000) << "the commit in flight stopped waiting when its worker went";
  EXPECT_EQ(committed_offset(), std::nullopt) << "nothing unacknowledged was committed";
  sink_.release();
}

TEST_F(WorkerTest, RevokeWaitsForTheCommitInFlight) {
  profile("c1", kT0);
  cart("c1", kT0);
  sink_.hold();
  ASSERT_TRUE(worker_->begin_commit().is_ok());
  std::thread acknowledger([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sink_.release();
  });
  worker_->revoke(kP0);
  acknowledger.join();
  EXPECT_FALSE(worker_->commit_in_flight());
  EXPECT_EQ(committed_offset(), std::optional<int64_t>(2)) << "the partition's commit landed before it was handed on";
  auto done = worker_->finish_commit();
  ASSERT_TRUE(done.is_ok());
  ASSERT_EQ(done->size(), 1u) << "its offsets are still reported";
}

// The ingest runner takes a batch from the consumer before it locks the worker: a revocation and
// the same partition's reassignment can fall in between, and the batch is then processed by the
// new assignment, which fetches the same offsets again from the stored ones. The second copies
// are skipped, so their events count once. An offset below the assignment's first one (a reset
// to an earlier offset, e.g. of a recreated topic) is processed again.
TEST_F(WorkerTest, OffsetsProcessedSinceTheAssignmentAreSkippedWhenRedelivered) {
  profile("c1", kT0);  // offset 0
  ASSERT_TRUE(worker_->commit().is_ok());
  worker_->revoke(kP0);
  ASSERT_TRUE(worker_->assign(kP0).is_ok());
  worker_->set_caught_up(kP0, true);
  ASSERT_EQ(committed_offset(), std::optional<int64_t>(1));

  const auto first = cart_spec("c1", kT0 + 1000);
  auto second = cart_spec("c1", kT0 + 2000);
  second.items = {{"LIP-01", 2, 19.5, "makeup", 0}};
  next_offset_ = 1;
  feed_batch({first, second});  // the batch taken before the revocation: offsets 1 and 2
  EXPECT_EQ(observer_.consumed, 3);
  next_offset_ = 1;
  feed_batch({first, second});  // fetched again by the new assignment
  EXPECT_EQ(observer_.consumed, 3) << "a redelivered offset was processed again";
  EXPECT_EQ(observer_.redelivered, 2);
  cart("c1", kT0 + 3000);  // offset 3: the first one not processed yet
  EXPECT_EQ(observer_.consumed, 4);
  EXPECT_EQ(worker_->processed(), 4u);
  ASSERT_TRUE(worker_->commit().is_ok());
  EXPECT_EQ(committed_offset(), std::optional<int64_t>(4)) << "a redelivery moved the committed offset back";

  next_offset_ = 0;
  profile("c1", kT0 + 4000);  // below the assignment's first offset (1): a reset, processed
  EXPECT_EQ(observer_.consumed, 5);
  EXPECT_EQ(observer_.redelivered, 2);
  ASSERT_TRUE(worker_->commit().is_ok());
  EXPECT_EQ(committed_offset(), std::optional<int64_t>(1)) << "a reset replays from where it went back to";
}

// A message's partition is found by its number: small numbers (all Kafka hands out in practice)
// by index, any other through the partition map. Both find what was assigned and nothing once
// it is revoked.
TEST_F(WorkerTest, MessagesReachTheirPartitionOnBothSidesOfTheIndex) {
  const PartitionId small(3), large(70'000);
  ASSERT_TRUE(worker_->assign(small).is_ok());
  ASSERT_TRUE(worker_->assign(large).is_ok());
  auto send = [&](PartitionId p, int64_t offset, const std::string& customer) {
    const auto bytes = builder_.build(cart_spec(customer, kT0));
    InputMessage m{"events", p, Offset(offset),
                   {reinterpret_cast<const uint8_t*>(customer.data()), customer.size()}, bytes,
                   codec::InputFormat::kAuto};
    worker_->prefetch(std::span(&m, 1), Worker::Prefetch::kNow);
    Status s = worker_->process(m);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  };
  auto stored = [&](PartitionId p) -> std::optional<int64_t> {
    auto o = store_->load_offset(p, "events");
    EXPECT_TRUE(o.is_ok());
    return o.is_ok() && o->has_value() ? std::optional<int64_t>((*o)->value()) : std::nullopt;
  };
  send(small, 10, "s1");
  send(large, 20, "l1");
  send(PartitionId(5), 30, "u1");  // never assigned, within the index's range
  send(PartitionId(80'000), 40, "u2");  // never assigned, beyond it
  EXPECT_EQ(worker_->processed(), 2u);
  ASSERT_TRUE(worker_->commit().is_ok());
  EXPECT_EQ(stored(small), std::optional<int64_t>(11));
  EXPECT_EQ(stored(large), std::optional<int64_t>(21));
  EXPECT_EQ(stored(PartitionId(5)), std::nullopt);
  EXPECT_EQ(stored(PartitionId(80'000)), std::nullopt);

  worker_->revoke(small);
  worker_->revoke(large);
  send(small, 11, "s1");
  send(large, 21, "l1");
  EXPECT_EQ(worker_->processed(), 2u) << "revoked partitions' messages are left to their new owner";
  EXPECT_TRUE(worker_->owns(kP0));
  EXPECT_FALSE(worker_->owns(small));
  EXPECT_FALSE(worker_->owns(large));
}

TEST_F(WorkerTest, CacheCountersKeepARevokedPartitionsCounts) {
  profile("c1", kT0);
  cart("c1", kT0 + 1000);
  ASSERT_TRUE(worker_->commit().is_ok());
  const Worker::CacheCounts before = worker_->cache_counts();
  EXPECT_EQ(before.misses, 1u) << "c1's first lookup";
  EXPECT_EQ(before.hits, 1u);
  EXPECT_EQ(worker_->stats().cache_hits.load(), 1u) << "published at the commit";
  EXPECT_EQ(worker_->stats().cache_misses.load(), 1u);

  worker_->revoke(kP0);
  const Worker::CacheCounts revoked = worker_->cache_counts();
  EXPECT_EQ(revoked.hits, before.hits) << "the exported counters must not go back";
  EXPECT_EQ(revoked.misses, before.misses);
  EXPECT_EQ(revoked.loads, before.loads);

  ASSERT_TRUE(worker_->assign(kP0).is_ok());
  cart("c1", kT0 + 2000);  // read from the store again: the new cache starts empty
  ASSERT_TRUE(worker_->commit().is_ok());
  EXPECT_EQ(worker_->cache_counts().misses, before.misses + 1);
  EXPECT_EQ(worker_->cache_counts().loads, before.loads + 1);
  EXPECT_EQ(worker_->stats().cache_misses.load(), before.misses + 1);
  EXPECT_EQ(worker_->stats().cache_hits.load(), before.hits);
}

TEST_F(WorkerTest, ReadAheadCountersArePublishedAtTheCommit) {
  for (int i = 0; i < 64; ++i) profile("c" + std::to_string(i), kT0);
  ASSERT_TRUE(worker_->commit().is_ok());
  // A new worker on the same store (read_ahead is on by default) reads them all back, on its
  // read thread or itself.
  restart();
  std::vector<codec::EventSpec> carts;
  for (int i = 0; i < 64; ++i) carts.push_back(cart_spec("c" + std::to_string(i), kT0 + 1000));
  feed_batch(carts);
  ASSERT_TRUE(worker_->commit().is_ok());
  const Worker::CacheCounts n = worker_->cache_counts();
  EXPECT_EQ(n.misses, 64u) << "every customer came from the store";
  EXPECT_EQ(n.loads, 64u);
  EXPECT_LE(n.owner_reads, 64u);
  EXPECT_EQ(worker_->stats().read_ahead_worker_reads.load(), n.owner_reads);
  EXPECT_EQ(worker_->stats().read_ahead_waits.load(), n.read_waits);
  EXPECT_EQ(worker_->read_ahead_batches(), 1u);
  EXPECT_EQ(actions_for("c0", journey::Trigger::kCartAbandonment), 0) << "nothing due yet";
}

TEST_F(WorkerTest, ABatchProcessedRightAwayIsReadBeforePrefetchReturns) {
  for (int i = 0; i < 64; ++i) profile("c" + std::to_string(i), kT0);
  ASSERT_TRUE(worker_->commit().is_ok());
  restart();  // read_ahead is on by default
  std::vector<codec::EventSpec> carts;
  for (int i = 0; i < 64; ++i) carts.push_back(cart_spec("c" + std::to_string(i), kT0 + 1000));
  feed_batch(carts, Worker::Prefetch::kNow);
  ASSERT_TRUE(worker_->commit().is_ok());
  Worker::CacheCounts n = worker_->cache_counts();
  EXPECT_EQ(n.loads, 64u) << "every customer came from the store";
  EXPECT_EQ(n.misses, 64u);
  EXPECT_EQ(n.owner_reads, 0u) << "nothing was staged for the read thread";
  EXPECT_EQ(n.read_waits, 0u);
  EXPECT_EQ(worker_->read_ahead_batches(), 0u);

  // The next batch of customers not cached, prefetched ahead, goes to the read thread.
  carts.clear();
  for (int i = 64; i < 128; ++i) carts.push_back(cart_spec("c" + std::to_string(i), kT0 + 2000));
  feed_batch(carts, Worker::Prefetch::kAhead);
  ASSERT_TRUE(worker_->commit().is_ok());
  n = worker_->cache_counts();
  EXPECT_EQ(n.loads, 128u);
  EXPECT_EQ(worker_->read_ahead_batches(), 1u);
  EXPECT_EQ(worker_->stats().read_ahead_batches.load(), 1u) << "published at the commit (metrics)";

  // Without read_ahead, kAhead reads before it returns too.
  read_ahead_ = false;
  restart();
  carts.clear();
  for (int i = 0; i < 128; ++i) carts.push_back(cart_spec("c" + std::to_string(i), kT0 + 3000));
  feed_batch(carts, Worker::Prefetch::kAhead);
  ASSERT_TRUE(worker_->commit().is_ok());
  n = worker_->cache_counts();
  EXPECT_EQ(n.loads, 128u);
  EXPECT_EQ(n.owner_reads, 0u);
  EXPECT_EQ(worker_->read_ahead_batches(), 0u);
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(actions_for("c" + std::to_string(i), journey::Trigger::kCartAbandonment), 0) << "nothing due yet";
  }
}

TEST_F(WorkerTest, NextBatchPrefetchedBeforeThisOneIsProcessed) {
  for (int i = 0; i < 300; ++i) profile("c" + std::to_string(i), kT0);
  ASSERT_TRUE(worker_->commit().is_ok());
  restart();
  // A: carts of c0..c199. B: orders of c100..c299, so that half of B's customers are A's too and
  // their orders must see the carts A put in their state.
  std::vector<codec::EventSpec> a, b;
  for (int i = 0; i < 200; ++i) a.push_back(cart_spec("c" + std::to_string(i), kT0 + 1000));
  for (int i = 100; i < 300; ++i) {
    auto o = spec(EventType::kOrderPlaced, "c" + std::to_string(i), kT0 + 2000);
    o.order_id = "o-" + std::to_string(i);
    o.items = {{"LIP-01", 1, 19.5, "makeup", 0}};
    o.amount = 19.5;
    o.currency = "EUR";
    b.push_back(o);
  }
  std::vector<std::vector<uint8_t>> payloads;
  auto messages = [&](const std::vector<codec::EventSpec>& specs) {
    std::vector<InputMessage> out;
    for (const auto& sp : specs) {
      const auto bytes = builder_.build(sp);
      payloads.emplace_back(bytes.begin(), bytes.end());
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      const std::string& key = specs[i].customer_id;
      const auto& payload = payloads[payloads.size() - specs.size() + i];
      out.push_back(InputMessage{"events", kP0, Offset(next_offset_++),
                                 {reinterpret_cast<const uint8_t*>(key.data()), key.size()}, payload,
                                 codec::InputFormat::kAuto});
    }
    return out;
  };
  payloads.reserve(a.size() + b.size());  // the messages point into them
  const std::vector<InputMessage> batch_a = messages(a);
  const std::vector<InputMessage> batch_b = messages(b);
  // As the ingest loop with a backlog: each batch is prefetched before the one ahead of it is
  // processed, which first waits for that one's reads.
  worker_->prefetch(batch_a, Worker::Prefetch::kAhead);
  worker_->prefetch(batch_b, Worker::Prefetch::kAhead);
  for (const InputMessage& m : batch_a) ASSERT_TRUE(worker_->process(m).is_ok());
  worker_->prefetch(std::span<const InputMessage>(), Worker::Prefetch::kAhead);
  for (const InputMessage& m : batch_b) ASSERT_TRUE(worker_->process(m).is_ok());
  ASSERT_TRUE(worker_->commit().is_ok());

  const Worker::CacheCounts n = worker_->cache_counts();
  EXPECT_EQ(n.loads, 300u) << "each customer read once: B's stage skipped those A had staged";
  EXPECT_EQ(n.owner_reads, 0u) << "every batch was read before it was processed";
  EXPECT_EQ(n.read_waits, 0u);
  clock_.set(WallTime(kT0 + 2 * kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  int reminded = 0;
  for (int i = 0; i < 300; ++i) {
    const int r = actions_for("c" + std::to_string(i), journey::Trigger::kCartAbandonment);
    EXPECT_EQ(r, i < 100 ? 1 : 0) << "c" << i;
    reminded += r;
  }
  EXPECT_EQ(reminded, 100) << "the orders of c100..c199 ended the carts A had started";
}

TEST_F(WorkerTest, ViewsNoJourneyReactsToReadNoState) {
  for (int i = 0; i < 8; ++i) profile("c" + std::to_string(i), kT0);
  ASSERT_TRUE(worker_->commit().is_ok());
  restart();
  // Product views, checkout starts and plain page views of c0..c5; a cart of c6; a view of the
  // signup page of c7, which starts a signup journey.
  std::vector<codec::EventSpec> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(view_spec(i % 3, "c" + std::to_string(i), kT0 + 1000));
  batch.push_back(cart_spec("c6", kT0 + 1000));
  auto signup_page = view_spec(2, "c7", kT0 + 1000);
  signup_page.page_type = journey::PageType::kSignup;
  batch.push_back(signup_page);
  feed_batch(batch);
  ASSERT_TRUE(worker_->commit().is_ok());
  const Worker::CacheCounts n = worker_->cache_counts();
  EXPECT_EQ(n.loads, 2u) << "only c6 and c7 were read from the store";
  EXPECT_EQ(n.misses + n.hits, 2u);
  EXPECT_EQ(worker_->cached_customers(), 2u);
  EXPECT_EQ(observer_.consumed, 8 + 8) << "every view is still consumed (after the 8 profiles)";

  // A late view is still counted late, with no state read.
  clock_.set(WallTime(kT0 + kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  feed(view_spec(0, "c0", kT0));
  EXPECT_EQ(observer_.late, 1);
  EXPECT_EQ(worker_->cache_counts().loads, 2u);
}

TEST_F(WorkerTest, RestartResumesStateAndDurableTimers) {
  profile("c1", kT0);
  cart("c1", kT0);
  ASSERT_TRUE(worker_->commit().is_ok());
  EXPECT_EQ(worker_->pending_timers(), 1);
  restart();
  EXPECT_EQ(next_offset_, 2) << "resumes after the last committed message";
  EXPECT_EQ(worker_->pending_timers(), 1);
  clock_.set(WallTime(kT0 + kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 1);
}

TEST_F(WorkerTest, CrashBeforeCommitReplaysTheSameDecisionWithTheSameId) {
  worker_.reset();
  start_worker(/*replay=*/true);
  auto run = [&] {
    profile("c1", kT0);
    cart("c1", kT0);
    profile("c2", kT0 + kHour + 6000);  // moves the data frontier past the reminder
  };
  run();
  ASSERT_EQ(sink_.actions.size(), 1u);
  const std::string first_id = sink_.actions[0].action_id;
  restart(/*replay=*/true);  // crash: nothing was committed
  EXPECT_EQ(next_offset_, 0);
  event_seq_ = 0;
  run();
  ASSERT_EQ(sink_.actions.size(), 2u);
  EXPECT_EQ(sink_.actions[1].action_id, first_id);
}

TEST_F(WorkerTest, ReplayModeIgnoresTheWallClock) {
  worker_.reset();
  start_worker(/*replay=*/true);
  profile("c1", kT0);
  cart("c1", kT0);
  clock_.set(WallTime(kT0 + 100 * kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  EXPECT_EQ(actions_for("c1", journey::Trigger::kCartAbandonment), 0);
}

TEST_F(WorkerTest, FarFutureTimestampIsClampedAndLateEventCounted) {
  profile("c1", kT0 + 24 * kHour);  // a day ahead of the wall clock: clamped to now + skew
  EXPECT_EQ(observer_.clamped, 1);
  EXPECT_LE(worker_->frontier(kP0).ms(), kT0 + config_.time.max_future_skew.count());
  clock_.set(WallTime(kT0 + kHour));
  ASSERT_TRUE(worker_->fire_due_timers().is_ok());
  profile("c2", kT0);  // an hour older than the frontier
  EXPECT_EQ(observer_.late, 1);
}

TEST_F(WorkerTest, FrontierSurvivesRestart) {
  worker_.reset();
  start_worker(/*replay=*/true);
  profile("c1", kT0 + kHour);
  const EventTime before = worker_->frontier(kP0);
  ASSERT_TRUE(worker_->commit().is_ok());
  restart(/*replay=*/true);
  EXPECT_EQ(worker_->frontier(kP0), before);
}

}  // namespace
}  // namespace beckon::pipeline
