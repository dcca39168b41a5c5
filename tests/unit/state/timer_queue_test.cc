#include "state/timer_queue.h"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "temp_dir.h"

namespace beckon::state {
namespace {

using testing::TempDir;

class TimerQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.sub("db");
    o.block_cache_bytes = 4 << 20;
    o.write_buffer_bytes = 1 << 20;
    auto r = Store::open(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    store_ = std::move(r).value();
  }

  void commit(TimerQueue& q) {
    CommitBatch batch(*store_);
    ASSERT_TRUE(q.flush_to(batch).is_ok());
    ASSERT_TRUE(store_->commit(batch).is_ok());
    q.on_committed();
  }

  std::unique_ptr<TimerQueue> open_queue(PartitionId p, size_t capacity) {
    auto q = std::make_unique<TimerQueue>(*store_, p, capacity);
    Status s = q->open();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return q;
  }

  static std::vector<std::string> pop_all(TimerQueue& q, EventTime frontier) {
    std::vector<std::string> out;
    DueTimer t;
    while (true) {
      auto r = q.pop_due(frontier, t);
      EXPECT_TRUE(r.is_ok());
      if (!r.is_ok() || !r.value()) break;
      out.push_back(std::to_string(t.due.ms()) + ":" + t.customer + ":" + std::to_string(t.id));
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(TimerQueueTest, RescheduleWithinOneCommitWritesNothingForTheIntermediateTimer) {
  const PartitionId p(0);
  auto q = open_queue(p, 4);
  q->schedule("c1", 7, EventTime(100));
  q->cancel("c1", 7, EventTime(100));  // replaced before any commit: nothing to write
  q->schedule("c1", 7, EventTime(200));
  CommitBatch batch(*store_);
  ASSERT_TRUE(q->flush_to(batch).is_ok());
  EXPECT_EQ(batch.count(), 2u) << "one timer put and the pending-count metadata";
  ASSERT_TRUE(store_->commit(batch).is_ok());
  q->on_committed();
  auto stored = store_->has_timer(p, EventTime(100), "c1", 7);
  ASSERT_TRUE(stored.is_ok());
  EXPECT_FALSE(*stored);
}

TEST_F(TimerQueueTest, CancelDuringAnInFlightCommitIsStillWrittenAfterARoundTrip) {
  // A change made while a batch is in flight, to a timer the store already holds, must keep
  // knowing the store holds it: a later schedule+cancel pair then still ends in a delete.
  const PartitionId p(0);
  auto q = open_queue(p, 4);
  q->schedule("c1", 7, EventTime(100));
  commit(*q);
  CommitBatch batch(*store_);
  ASSERT_TRUE(q->flush_to(batch).is_ok());
  q->cancel("c1", 7, EventTime(100));  // after the flush, before the batch is durable
  ASSERT_TRUE(store_->commit(batch).is_ok());
  q->on_committed();
  q->schedule("c1", 7, EventTime(100));
  q->cancel("c1", 7, EventTime(100));
  commit(*q);
  auto stored = store_->has_timer(p, EventTime(100), "c1", 7);
  ASSERT_TRUE(stored.is_ok());
  EXPECT_FALSE(*stored) << "the cancelled timer must not survive in the store";
  auto reopened = open_queue(p, 4);
  EXPECT_EQ(reopened->pending(), 0);
}

// A reschedule while a commit is in flight (the commit thread writes about half the time): the
// intermediate timer, which that commit does not hold, leaves nothing behind, while the change
// the commit does hold is kept for the next one to undo.
TEST_F(TimerQueueTest, ATimerScheduledAndCancelledDuringAnInFlightCommitLeavesNoChange) {
  const PartitionId p(0);
  auto q = open_queue(p, 1);
  q->schedule("a", 1, EventTime(50));  // the head holds this one; the ones below are beyond it
  q->schedule("c1", 7, EventTime(100));
  CommitBatch batch(*store_);
  ASSERT_TRUE(q->flush_to(batch).is_ok());
  q->cancel("c1", 7, EventTime(100));    // in the batch in flight: must stay for the next commit
  q->schedule("c1", 7, EventTime(200));  // not in it...
  q->cancel("c1", 7, EventTime(200));    // ...and undone before any commit holds it
  q->schedule("c1", 7, EventTime(300));
  EXPECT_EQ(q->uncommitted_changes(), 3u) << "a:50 and c1:100 (in flight) and c1:300";
  ASSERT_TRUE(store_->commit(batch).is_ok());
  q->on_committed();
  EXPECT_EQ(q->uncommitted_changes(), 2u) << "the delete of c1:100 and the put of c1:300";
  commit(*q);
  auto stored = open_queue(p, 4);
  EXPECT_EQ(stored->pending(), 2);
  EXPECT_EQ(pop_all(*stored, EventTime(1000)), (std::vector<std::string>{"50:a:1", "300:c1:7"}));
}

// The worker cuts a commit and goes on while its commit thread writes it: what changes after
// cut_flush() is not in that commit (not even the pending count) and waits for the next one.
TEST_F(TimerQueueTest, ChangesAfterTheCutWaitForTheNextCommit) {
  const PartitionId p(0);
  auto q = open_queue(p, 4);
  q->schedule("a", 1, EventTime(100));
  q->schedule("b", 1, EventTime(200));
  ASSERT_TRUE(q->cut_flush().is_ok());
  q->schedule("c", 1, EventTime(300));
  q->cancel("a", 1, EventTime(100));
  CommitBatch batch(*store_);
  q->encode_flush(batch);  // on the commit thread, after the changes above
  ASSERT_TRUE(store_->commit(batch).is_ok());
  q->on_committed();
  {
    auto stored = open_queue(p, 4);
    EXPECT_EQ(stored->pending(), 2);
    EXPECT_EQ(pop_all(*stored, EventTime(1000)), (std::vector<std::string>{"100:a:1", "200:b:1"}));
  }
  EXPECT_EQ(q->pending(), 2);
  commit(*q);
  auto stored = open_queue(p, 4);
  EXPECT_EQ(stored->pending(), 2);
  EXPECT_EQ(pop_all(*stored, EventTime(1000)), (std::vector<std::string>{"200:b:1", "300:c:1"}));
}

TEST_F(TimerQueueTest, PopsOnlyDueTimersInOrder) {
  auto q = open_queue(PartitionId(0), 16);
  q->schedule("b", 1, EventTime(30));
  q->schedule("a", 2, EventTime(10));
  q->schedule("a", 1, EventTime(10));
  q->schedule("c", 1, EventTime(-5));
  EXPECT_EQ(q->pending(), 4);
  EXPECT_EQ(q->next_due(), EventTime(-5));
  EXPECT_EQ(pop_all(*q, EventTime(10)), (std::vector<std::string>{"-5:c:1", "10:a:1", "10:a:2"}));
  EXPECT_EQ(q->pending(), 1);
  EXPECT_EQ(q->next_due(), EventTime(30));
  EXPECT_TRUE(pop_all(*q, EventTime(29)).empty());
}

TEST_F(TimerQueueTest, DuplicateScheduleAndAbsentCancelInsideTheHeadAreNoOps) {
  auto q = open_queue(PartitionId(0), 2);
  q->schedule("a", 1, EventTime(10));
  q->schedule("a", 1, EventTime(10));
  EXPECT_EQ(q->pending(), 1);
  q->cancel("a", 2, EventTime(10));
  q->cancel("zzz", 1, EventTime(999));
  EXPECT_EQ(q->pending(), 1);
  commit(*q);
  // Still inside the head after the commit (its range is every key while the store holds less
  // than its capacity).
  q->schedule("a", 1, EventTime(10));
  q->cancel("b", 1, EventTime(5));
  EXPECT_EQ(q->pending(), 1);
  EXPECT_EQ(pop_all(*q, EventTime::max()), (std::vector<std::string>{"10:a:1"}));
}

TEST_F(TimerQueueTest, BeyondTheHeadARepeatOfAnUncommittedChangeIsANoOp) {
  auto q = open_queue(PartitionId(0), 2);
  q->schedule("a", 1, EventTime(10));
  commit(*q);
  q->schedule("x", 1, EventTime(1));
  q->schedule("y", 1, EventTime(2));  // the head (capacity 2) now ends before a@10
  ASSERT_EQ(q->head_size(), 2u);
  q->cancel("a", 1, EventTime(10));
  q->cancel("a", 1, EventTime(10));   // cancelled since the last commit: known without the store
  q->schedule("z", 1, EventTime(50));
  q->schedule("z", 1, EventTime(50));  // scheduled since the last commit
  EXPECT_EQ(q->pending(), 3);
  commit(*q);
  EXPECT_EQ(pop_all(*q, EventTime::max()), (std::vector<std::string>{"1:x:1", "2:y:1", "50:z:1"}));
  EXPECT_EQ(q->pending(), 0);
}

TEST_F(TimerQueueTest, BeyondTheHeadScheduleAndCancelTrustTheCallerNotTheStore) {
  // The store is changed behind the queue's back: a timer the queue counts as pending is deleted,
  // one it does not know is written. Beyond the head, schedule and cancel follow the caller (who
  // says the first is pending and the second is not) and never look the keys up in the store.
  const PartitionId p(3);
  auto q = open_queue(p, 1);
  q->schedule("near", 1, EventTime(1));
  q->schedule("gone", 1, EventTime(100));
  commit(*q);
  ASSERT_EQ(q->head_size(), 1u);  // only near@1: gone@100 and later keys are beyond the head
  {
    CommitBatch behind(*store_);
    behind.delete_timer(p, EventTime(100), "gone", 1);
    behind.put_timer(p, EventTime(200), "ghost", 1);
    ASSERT_TRUE(store_->commit(behind).is_ok());
  }
  q->cancel("gone", 1, EventTime(100));
  EXPECT_EQ(q->pending(), 1) << "the cancel counted although the store no longer held the timer";
  q->schedule("ghost", 1, EventTime(200));
  EXPECT_EQ(q->pending(), 2) << "the schedule counted although the store already held the timer";
  EXPECT_EQ(q->uncommitted_changes(), 2u);
}

// A refill reads several heads' worth and keeps the rest for the next refills. A commit that
// writes timer records drops that read-ahead (the store changed under it); one that writes
// none keeps it. Either way every timer pops once, in order.
TEST_F(TimerQueueTest, ReadAheadSurvivesCommitsWithoutTimerChanges) {
  const PartitionId p(0);
  {
    auto q = open_queue(p, 4);
    for (int i = 0; i < 200; ++i) q->schedule("c" + std::to_string(1000 + i), 1, EventTime(1000 + i));
    commit(*q);
  }
  auto q = open_queue(p, 4);
  ASSERT_EQ(q->head_size(), 4u);
  const size_t ahead = q->read_ahead();
  ASSERT_GT(ahead, 0u);
  commit(*q);  // nothing changed: only the pending count is written
  EXPECT_EQ(q->read_ahead(), ahead);
  std::vector<std::string> popped = pop_all(*q, EventTime(1000));  // one timer: a delete to write
  ASSERT_EQ(popped.size(), 1u);
  commit(*q);
  EXPECT_EQ(q->read_ahead(), 0u);
  std::vector<std::string> rest = pop_all(*q, EventTime(5000));
  popped.insert(popped.end(), rest.begin(), rest.end());
  ASSERT_EQ(popped.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(popped[i], std::to_string(1000 + i) + ":c" + std::to_string(1000 + i) + ":1");
  EXPECT_EQ(q->pending(), 0);
}

TEST_F(TimerQueueTest, UncommittedPutsBelowTheStoredTimersLeaveTheReadAheadInPlace) {
  // Stored timers, then a burst of uncommitted ones beyond the head but due before the stored
  // ones that follow it: each refill fills the head from the burst, and the stored keys it read
  // wait in the read-ahead instead of being dropped (and read from the store again).
  const PartitionId p(3);
  {
    auto q = open_queue(p, 4);
    for (int i = 0; i < 100; ++i) q->schedule("s" + std::to_string(100 + i), 1, EventTime(1000 + i));
    commit(*q);
  }
  auto q = open_queue(p, 4);  // head s100..s103, then the rest of a 64-key scan read ahead
  ASSERT_EQ(q->head_size(), 4u);
  ASSERT_EQ(q->read_ahead(), 60u);
  // Due with s103, after it in key order ("u" > "s"): beyond the head.
  for (int i = 0; i < 50; ++i) q->schedule("u" + std::to_string(100 + i), 2, EventTime(1003));
  ASSERT_EQ(q->head_size(), 4u);
  std::vector<std::string> due = pop_all(*q, EventTime(1003));
  ASSERT_EQ(due.size(), 4u + 50u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(due[i], std::to_string(1000 + i) + ":s" + std::to_string(100 + i) + ":1");
  for (int i = 0; i < 50; ++i) EXPECT_EQ(due[4 + i], "1003:u" + std::to_string(100 + i) + ":2");
  // 13 refills took the burst four at a time; the last one took two of it and two stored keys.
  EXPECT_EQ(q->read_ahead(), 58u);
  std::vector<std::string> rest = pop_all(*q, EventTime(5000));
  ASSERT_EQ(rest.size(), 96u);
  for (int i = 0; i < 96; ++i) EXPECT_EQ(rest[i], std::to_string(1004 + i) + ":s" + std::to_string(104 + i) + ":1");
  EXPECT_EQ(q->pending(), 0);
}

TEST_F(TimerQueueTest, CountsStayExactBeyondATinyHeadAcrossCommitsAndReopen) {
  // Head capacity 1: nearly every schedule and cancel lands beyond the head and is counted on the
  // caller's word alone.
  const PartitionId p(4);
  const uint64_t kReminder = (uint64_t{2} << 62) | 7;
  auto q = open_queue(p, 1);
  for (int i = 0; i < 50; ++i) q->schedule("c" + std::to_string(i), kReminder, EventTime(1000 + i));
  q->schedule("first", 1, EventTime(1));
  commit(*q);
  EXPECT_EQ(q->pending(), 51);
  for (int i = 0; i < 50; i += 2) q->cancel("c" + std::to_string(i), kReminder, EventTime(1000 + i));
  for (int i = 0; i < 10; ++i) q->schedule("d" + std::to_string(i), kReminder, EventTime(5000 + i));
  EXPECT_EQ(q->pending(), 36);
  EXPECT_EQ(q->pending_in_class(2), 35);
  EXPECT_EQ(q->pending_in_class(0), 1);
  commit(*q);
  auto reopened = open_queue(p, 1);
  EXPECT_EQ(reopened->pending(), 36);
  EXPECT_EQ(reopened->pending_in_class(2), 35);
  std::vector<std::string> fired = pop_all(*reopened, EventTime::max());
  ASSERT_EQ(fired.size(), 36u);
  EXPECT_EQ(fired.front(), "1:first:1");
  EXPECT_EQ(fired[1], "1001:c1:" + std::to_string(kReminder));
  EXPECT_EQ(fired.back(), "5009:d9:" + std::to_string(kReminder));
  EXPECT_EQ(reopened->pending(), 0);
  EXPECT_EQ(reopened->pending_in_class(2), 0);
}

TEST_F(TimerQueueTest, ManyChangesNetAndCommitExactly) {
  // Enough keys to grow the change table several times, then half of them netted away (removed
  // from the table) before the commit, and the rest cancelled after it.
  const PartitionId p(6);
  auto q = open_queue(p, 8);
  auto customer = [](int i) { return "customer-" + std::to_string(i * 7919 % 1000); };
  for (int i = 0; i < 1000; ++i) q->schedule(customer(i), static_cast<uint64_t>(i % 3), EventTime(100 + i % 50));
  EXPECT_EQ(q->pending(), 1000);
  for (int i = 0; i < 1000; i += 2) q->cancel(customer(i), static_cast<uint64_t>(i % 3), EventTime(100 + i % 50));
  EXPECT_EQ(q->pending(), 500);
  EXPECT_EQ(q->uncommitted_changes(), 500u) << "a cancelled uncommitted schedule leaves nothing to write";
  commit(*q);
  EXPECT_EQ(q->uncommitted_changes(), 0u);
  for (int i = 1; i < 1000; i += 2) q->cancel(customer(i), static_cast<uint64_t>(i % 3), EventTime(100 + i % 50));
  EXPECT_EQ(q->pending(), 0);
  EXPECT_EQ(q->uncommitted_changes(), 500u);
  commit(*q);
  auto reopened = open_queue(p, 8);
  EXPECT_EQ(reopened->pending(), 0);
  EXPECT_FALSE(reopened->next_due().has_value());
}

TEST_F(TimerQueueTest, OneCustomersManyChangesShareAGroupAndNetExactly) {
  // The change table puts every key of one customer in one group of 8 slots: a customer with
  // far more changes makes long probe runs, and netting removes keys from the middle of them.
  const PartitionId p(7);
  auto q = open_queue(p, 4);
  auto due = [](int i, int round) { return EventTime(1000 + i * 10 + round); };
  for (int i = 0; i < 300; ++i) q->schedule("busy", static_cast<uint64_t>(i), due(i, 0));
  for (int i = 0; i < 300; i += 3) q->schedule("other-" + std::to_string(i), 1, due(i, 0));
  commit(*q);
  // Every timer of "busy" rescheduled twice (two cancels and two schedules each, the first pair
  // netting away), every other one then cancelled.
  for (int round = 1; round <= 2; ++round) {
    for (int i = 0; i < 300; ++i) {
      q->cancel("busy", static_cast<uint64_t>(i), due(i, round - 1));
      q->schedule("busy", static_cast<uint64_t>(i), due(i, round));
    }
  }
  EXPECT_EQ(q->uncommitted_changes(), 600u) << "a delete at round 0 and a put at round 2 per timer";
  for (int i = 0; i < 300; i += 2) q->cancel("busy", static_cast<uint64_t>(i), due(i, 2));
  EXPECT_EQ(q->uncommitted_changes(), 450u);
  EXPECT_EQ(q->pending(), 250);
  commit(*q);
  auto reopened = open_queue(p, 1000);
  EXPECT_EQ(reopened->pending(), 250);
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    if (i % 3 == 0) expected.push_back(std::to_string(due(i, 0).ms()) + ":other-" + std::to_string(i) + ":1");
    if (i % 2 == 1) expected.push_back(std::to_string(due(i, 2).ms()) + ":busy:" + std::to_string(i));
  }
  EXPECT_EQ(pop_all(*reopened, EventTime(1'000'000)), expected);
}

TEST_F(TimerQueueTest, AfterABurstSmallCommitsKeepEveryChange) {
  // A burst grows the change table; the commits after it hold a handful of changes each, so the
  // table is emptied entry by entry and shrinks, including while a batch is in flight.
  const PartitionId p(9);
  auto q = open_queue(p, 8);
  auto customer = [](int i) { return "burst-" + std::to_string(i); };
  constexpr int kBurst = 20000;
  for (int i = 0; i < kBurst; ++i) q->schedule(customer(i), 1, EventTime(1000 + i));
  commit(*q);
  for (int i = 0; i < 10; ++i) q->cancel(customer(i), 1, EventTime(1000 + i));
  commit(*q);
  for (int round = 0; round < 20; ++round) {
    const int base = 10 + round * 20;
    for (int i = base; i < base + 10; ++i) q->cancel(customer(i), 1, EventTime(1000 + i));
    CommitBatch batch(*store_);
    ASSERT_TRUE(q->flush_to(batch).is_ok());
    // Changed while the batch is in flight: kept for the next commit.
    for (int i = base + 10; i < base + 20; ++i) q->cancel(customer(i), 1, EventTime(1000 + i));
    q->schedule("late-" + std::to_string(round), 2, EventTime(5));
    ASSERT_TRUE(store_->commit(batch).is_ok());
    q->on_committed();
    EXPECT_EQ(q->uncommitted_changes(), 11u) << round;
  }
  commit(*q);
  const int64_t expected = kBurst - 10 - 20 * 20 + 20;
  EXPECT_EQ(q->pending(), expected);
  auto reopened = open_queue(p, 8);
  EXPECT_EQ(reopened->pending(), expected);
  auto first = store_->has_timer(p, EventTime(1000 + 10 + 19 * 20 + 19), customer(10 + 19 * 20 + 19), 1);
  ASSERT_TRUE(first.is_ok());
  EXPECT_FALSE(*first) << "cancelled while a batch was in flight, written by the next commit";
  auto kept = store_->has_timer(p, EventTime(1000 + 500), customer(500), 1);
  ASSERT_TRUE(kept.is_ok());
  EXPECT_TRUE(*kept);
  EXPECT_EQ(pop_all(*reopened, EventTime(5)).size(), 20u) << "the late timers, due first";
}

TEST_F(TimerQueueTest, CommittedTimersSurviveReopenAndUncommittedOnesDoNot) {
  {
    auto q = open_queue(PartitionId(5), 8);
    q->schedule("a", 1, EventTime(100));
    q->schedule("b", 1, EventTime(200));
    commit(*q);
    q->schedule("c", 1, EventTime(50));  // never committed
    DueTimer t;
    ASSERT_TRUE(q->pop_due(EventTime(150), t).value());  // c
    ASSERT_TRUE(q->pop_due(EventTime(150), t).value());  // a: popped but not committed
  }
  auto q = open_queue(PartitionId(5), 8);
  EXPECT_EQ(q->pending(), 2);
  EXPECT_EQ(pop_all(*q, EventTime::max()), (std::vector<std::string>{"100:a:1", "200:b:1"}));
  commit(*q);
  auto again = open_queue(PartitionId(5), 8);
  EXPECT_EQ(again->pending(), 0);
  EXPECT_FALSE(again->next_due().has_value());
}

TEST_F(TimerQueueTest, PartitionsDoNotSeeEachOthersTimers) {
  auto p1 = open_queue(PartitionId(1), 4);
  auto p2 = open_queue(PartitionId(2), 4);
  p1->schedule("a", 1, EventTime(1));
  p2->schedule("b", 1, EventTime(2));
  commit(*p1);
  commit(*p2);
  auto r1 = open_queue(PartitionId(1), 4);
  EXPECT_EQ(pop_all(*r1, EventTime::max()), (std::vector<std::string>{"1:a:1"}));
}

TEST_F(TimerQueueTest, OverlongCustomerIdIsAStickyError) {
  auto q = open_queue(PartitionId(0), 4);
  q->schedule(std::string(70000, 'x'), 1, EventTime(1));
  EXPECT_FALSE(q->status().is_ok());
  CommitBatch batch(*store_);
  EXPECT_EQ(q->flush_to(batch).code(), Status::Code::kInvalidArgument);
  DueTimer t;
  EXPECT_FALSE(q->pop_due(EventTime::max(), t).is_ok());
}

TEST_F(TimerQueueTest, CorruptPendingCountIsReported) {
  CommitBatch batch(*store_);
  batch.put_meta(PartitionId(0), TimerQueue::kPendingMetaKey, "twelve");
  ASSERT_TRUE(store_->commit(batch).is_ok());
  TimerQueue q(*store_, PartitionId(0), 4);
  EXPECT_EQ(q.open().code(), Status::Code::kCorruption);
}

// ---- model-based randomized test -----------------------------------------------------------

// (due, customer length, customer, id): the order the queue promises.
using ModelKey = std::tuple<int64_t, size_t, std::string, uint64_t>;
using Model = std::set<ModelKey>;

ModelKey model_key(std::string_view customer, uint64_t id, int64_t due) {
  return ModelKey{due, customer.size(), std::string(customer), id};
}

struct RandomRun {
  uint64_t seed;
  size_t head_capacity;
  int steps;
};
void PrintTo(const RandomRun& r, std::ostream* os) {
  *os << "seed " << r.seed << ", head " << r.head_capacity << ", steps " << r.steps;
}

class TimerQueueModelTest : public TimerQueueTest, public ::testing::WithParamInterface<RandomRun> {};

TEST_P(TimerQueueModelTest, MatchesOrderedSetModelAcrossCommitsAndReopens) {
  const RandomRun run = GetParam();
  std::mt19937_64 rng(run.seed);
  const PartitionId p(9);
  const std::vector<std::string> customers = {"a", "b", "ab", "zz", "c\xff", "long-customer-7"};

  // Noise in neighbouring partitions must never leak in.
  {
    CommitBatch noise(*store_);
    noise.put_timer(PartitionId(8), EventTime(0), "n", 1);
    noise.put_timer(PartitionId(10), EventTime(-100), "n", 1);
    ASSERT_TRUE(store_->commit(noise).is_ok());
  }

  auto q = open_queue(p, run.head_capacity);
  Model model;      // every pending timer, uncommitted changes included
  Model committed;  // what the store holds after the last successful commit

  auto rand_int = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  auto random_key = [&]() {
    return model_key(customers[rng() % customers.size()], rng() % 4, rand_int(-20, 100));
  };
  // The caller's contract: schedule only what is not pending, cancel only what is, except inside
  // the head, where the queue must ignore such calls itself. After next_due() the head is either
  // every key or non-empty starting at the earliest pending timer, so that timer and every key
  // below it are inside the head.
  auto inside_head = [&](const ModelKey& k) {
    (void)q->next_due();
    return model.empty() || k <= *model.begin();
  };
  auto do_schedule = [&]() {
    ModelKey k = random_key();
    if (model.count(k) && !inside_head(k)) return;
    q->schedule(std::get<2>(k), std::get<3>(k), EventTime(std::get<0>(k)));
    model.insert(k);
  };
  auto do_cancel = [&]() {
    ModelKey k = random_key();
    if (!model.empty() && rng() % 2 == 0) {
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      k = *it;
    }
    if (!model.count(k) && !inside_head(k)) return;
    q->cancel(std::get<2>(k), std::get<3>(k), EventTime(std::get<0>(k)));
    model.erase(k);
  };

  for (int step = 0; step < run.steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    int op = static_cast<int>(rng() % 100);
    if (op < 35) {
      do_schedule();
    } else if (op < 55) {
      do_cancel();
    } else if (op < 75) {
      int64_t frontier = rand_int(-30, 110);
      DueTimer t;
      auto r = q->pop_due(EventTime(frontier), t);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      bool expect = !model.empty() && std::get<0>(*model.begin()) <= frontier;
      ASSERT_EQ(r.value(), expect);
      if (expect) {
        ASSERT_EQ(model_key(t.customer, t.id, t.due.ms()), *model.begin());
        model.erase(model.begin());
      }
    } else if (op < 85) {
      commit(*q);
      committed = model;
    } else if (op < 90) {
      // Changes made while the batch is in flight belong to the next commit.
      CommitBatch batch(*store_);
      ASSERT_TRUE(q->flush_to(batch).is_ok());
      Model at_flush = model;
      for (int i = 0; i < 3; ++i) (rng() % 2 == 0) ? do_schedule() : do_cancel();
      ASSERT_TRUE(store_->commit(batch).is_ok());
      q->on_committed();
      committed = at_flush;
    } else if (op < 93) {
      // A commit that failed: the batch is dropped; everything stays pending for the next one.
      CommitBatch lost(*store_);
      ASSERT_TRUE(q->flush_to(lost).is_ok());
    } else if (op < 99) {
      // Crash and restart: only committed timers come back.
      q = open_queue(p, run.head_capacity);
      model = committed;
    } else {
      ASSERT_TRUE(store_->flush().is_ok());
    }

    ASSERT_EQ(q->pending(), static_cast<int64_t>(model.size()));
    ASSERT_LE(q->head_size(), run.head_capacity);
    std::optional<EventTime> next = q->next_due();
    if (model.empty()) {
      ASSERT_FALSE(next.has_value());
    } else {
      ASSERT_TRUE(next.has_value());
      ASSERT_EQ(next->ms(), std::get<0>(*model.begin()));
    }
  }

  // Finally the store holds exactly the committed model, and draining yields the model in order.
  commit(*q);
  committed = model;
  Model stored;
  ASSERT_TRUE(store_
                  ->scan_timers(p, EventTime::min(), 1 << 20,
                                [&](EventTime due, std::string_view c, uint64_t id) {
                                  stored.insert(model_key(c, id, due.ms()));
                                })
                  .is_ok());
  EXPECT_EQ(stored, committed);
  auto reopened = open_queue(p, run.head_capacity);
  EXPECT_EQ(reopened->pending(), static_cast<int64_t>(committed.size()));
  DueTimer t;
  for (const ModelKey& k : committed) {
    auto r = reopened->pop_due(EventTime::max(), t);
    ASSERT_TRUE(r.is_ok() && r.value());
    ASSERT_EQ(model_key(t.customer, t.id, t.due.ms()), k);
  }
  EXPECT_FALSE(reopened->pop_due(EventTime::max(), t).value());
}

INSTANTIATE_TEST_SUITE_P(Runs, TimerQueueModelTest,
                         ::testing::Values(RandomRun{1, 4, 4000}, RandomRun{2, 4, 4000},
                                           RandomRun{3, 1, 3000}, RandomRun{4, 2, 3000},
                                           RandomRun{5, 16, 3000}, RandomRun{6, 4096, 2000},
                                           RandomRun{7, 4, 6000}, RandomRun{8, 2, 6000},
                                           RandomRun{9, 64, 6000}, RandomRun{10, 1, 6000}),
                         [](const ::testing::TestParamInfo<RandomRun>& info) {
                           return "seed" + std::to_string(info.param.seed) + "_head" +
                                  std::to_string(info.param.head_capacity);
                         });

}  // namespace
}  // namespace beckon::state
