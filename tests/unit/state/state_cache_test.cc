#include "state/state_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace beckon::state {
namespace {

using testing::TempDir;

struct Counter {
  int64_t n = 0;
  std::string note;
};

// Encodes "n|note"; anything else fails to decode.
struct CounterCodec {
  static void encode(const Counter& c, std::string& out) { out = std::to_string(c.n) + "|" + c.note; }
  static Status decode(std::string_view bytes, Counter& out) {
    size_t bar = bytes.find('|');
    if (bar == std::string_view::npos) return Status::corruption("no separator");
    auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + bar, out.n);
    if (ec != std::errc() || end != bytes.data() + bar) return Status::corruption("bad number");
    out.note = std::string(bytes.substr(bar + 1));
    return Status::ok();
  }
};

using Cache = StateCache<Counter, CounterCodec>;

class StateCacheTest : public ::testing::Test {
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

  void commit(Cache& cache) {
    CommitBatch batch(*store_);
    cache.flush_to(batch);
    ASSERT_TRUE(store_->commit(batch).is_ok());
    cache.on_committed();
  }

  // Stages `batch` and reads it all on this thread (read_staged until done).
  static void stage_and_read(Cache& cache, const std::vector<std::string_view>& batch) {
    cache.stage(batch);
    while (cache.read_staged(16)) {
    }
  }

  // Customers prefix0, prefix1, ... stored with n = their number; returns their ids.
  std::vector<std::string> put_stored_numbered(std::string_view prefix, int count) {
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) {
      names.push_back(std::string(prefix) + std::to_string(i));
      put_stored(names.back(), std::to_string(i) + "|");
    }
    return names;
  }

  // Customers customer-0, customer-1, ... cached with n = their number and marked dirty.
  static std::vector<std::string> dirty_numbered(Cache& cache, int count) {
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) {
      names.push_back("customer-" + std::to_string(i));
      cache.get(names.back()).value()->n = i;
      cache.mark_dirty(names.back());
    }
    return names;
  }
  // Each of `names` is stored with n = its position and no note.
  void expect_stored_numbered(const std::vector<std::string>& names) {
    for (size_t i = 0; i < names.size(); ++i) {
      ASSERT_EQ(stored(names[i]), std::optional<std::string>(std::to_string(i) + "|")) << i;
    }
  }
  // Writes an encoded value straight into the store (a state some earlier run committed).
  void put_stored(std::string_view customer, std::string_view value) {
    CommitBatch batch(*store_);
    batch.put_customer(kPartition, customer, value);
    ASSERT_TRUE(store_->commit(batch).is_ok());
  }

  std::optional<std::string> stored(std::string_view customer) {
    std::string v;
    Status s = store_->get_customer(kPartition, customer, &v);
    if (!s.is_ok()) return std::nullopt;
    return v;
  }

  static constexpr PartitionId kPartition{3};
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StateCacheTest, UnknownCustomerGetsDefaultAndMissThenHit) {
  Cache cache(*store_, kPartition, 10);
  bool existed = true;
  auto r = cache.get("alice", &existed);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(existed);
  EXPECT_EQ(r.value()->n, 0);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 0u);

  Counter* again = cache.get("alice").value();
  EXPECT_EQ(again, r.value());
  EXPECT_EQ(cache.hits(), 1u);
}

TEST_F(StateCacheTest, DirtyValueIsWrittenAtCommitAndReloadedAfterwards) {
  {
    Cache cache(*store_, kPartition, 10);
    Counter* c = cache.get("alice").value();
    c->n = 5;
    c->note = "hi";
    cache.mark_dirty("alice");
    EXPECT_EQ(cache.dirty_count(), 1u);
    EXPECT_FALSE(stored("alice").has_value());  // nothing written before the commit
    commit(cache);
    EXPECT_EQ(cache.dirty_count(), 0u);
    EXPECT_EQ(stored("alice"), std::optional<std::string>("5|hi"));
  }
  Cache fresh(*store_, kPartition, 10);
  bool existed = false;
  Counter* c = fresh.get("alice", &existed).value();
  EXPECT_TRUE(existed);
  EXPECT_EQ(c->n, 5);
  EXPECT_EQ(c->note, "hi");
}

TEST_F(StateCacheTest, ChangesWithoutMarkDirtyAreNotWritten) {
  Cache cache(*store_, kPartition, 10);
  cache.get("bob").value()->n = 9;
  commit(cache);
  EXPECT_FALSE(stored("bob").has_value());
}

TEST_F(StateCacheTest, NothingIsEvictedBeforeCommitAndCleanEntriesAreEvictedAfter) {
  Cache cache(*store_, kPartition, 2);
  std::vector<Counter*> held;
  for (int i = 0; i < 5; ++i) {
    std::string id = "c" + std::to_string(i);
    Counter* c = cache.get(id).value();
    c->n = i;
    held.push_back(c);
    if (i % 2 == 0) cache.mark_dirty(id);
  }
  EXPECT_EQ(cache.size(), 5u);
  EXPECT_TRUE(cache.over_capacity());
  // Pointers from earlier get() calls are still valid and hold their values.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(held[i]->n, i);

  commit(cache);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.over_capacity());
  // The most recently used entries stay: c3 and c4.
  uint64_t misses = cache.misses();
  EXPECT_EQ(cache.get("c4").value()->n, 4);
  EXPECT_EQ(cache.get("c3").value()->n, 3);  // never written, but still cached
  EXPECT_EQ(cache.misses(), misses);
  // Evicted dirty-then-committed entries reload from the store; evicted clean ones are gone.
  EXPECT_EQ(cache.get("c0").value()->n, 0);
  EXPECT_EQ(cache.get("c2").value()->n, 2);
  bool existed = true;
  EXPECT_EQ(cache.get("c1", &existed).value()->n, 0);
  EXPECT_FALSE(existed);
  EXPECT_EQ(cache.misses(), misses + 3);
}

TEST_F(StateCacheTest, EntryChangedAfterFlushStaysDirtyAndPinned) {
  Cache cache(*store_, kPartition, 1);
  Counter* a = cache.get("a").value();
  a->n = 1;
  cache.mark_dirty("a");
  CommitBatch batch(*store_);
  cache.flush_to(batch);
  a->n = 2;  // changed while the batch is in flight
  cache.mark_dirty("a");
  cache.get("b").value()->n = 7;
  ASSERT_TRUE(store_->commit(batch).is_ok());
  cache.on_committed();
  EXPECT_EQ(stored("a"), std::optional<std::string>("1|"));
  EXPECT_EQ(cache.dirty_count(), 1u);
  // "a" is dirty so it cannot go; clean "b" is evicted to respect capacity.
  EXPECT_EQ(cache.size(), 1u);
  commit(cache);
  EXPECT_EQ(stored("a"), std::optional<std::string>("2|"));
}

TEST_F(StateCacheTest, OwnerTouchingACutEntryFirstEncodesItAsItWasAtTheCut) {
  Cache cache(*store_, kPartition, 10);
  cache.get("a").value()->n = 1;
  cache.mark_dirty("a");
  cache.erase("gone");
  cache.cut_flush();
  // Before the cut is encoded, the owner changes "a" and brings "gone" back.
  cache.get("a").value()->n = 2;
  cache.mark_dirty("a");
  cache.get("gone").value()->n = 5;
  cache.mark_dirty("gone");
  CommitBatch batch(*store_);
  cache.encode_flush(batch);
  ASSERT_TRUE(store_->commit(batch).is_ok());
  cache.on_committed();
  EXPECT_EQ(stored("a"), std::optional<std::string>("1|")) << "the value at the cut";
  EXPECT_EQ(stored("gone"), std::nullopt) << "the delete of the cut";
  EXPECT_EQ(cache.dirty_count(), 2u);
  commit(cache);
  EXPECT_EQ(stored("a"), std::optional<std::string>("2|"));
  EXPECT_EQ(stored("gone"), std::optional<std::string>("5|"));
}

TEST_F(StateCacheTest, EncodingOnAnotherThreadWritesEveryValueAsItWasAtTheCut) {
  constexpr int kCustomers = 5000;
  Cache cache(*store_, kPartition, kCustomers);
  const std::vector<std::string> names = dirty_numbered(cache, kCustomers);
  std::vector<int> order(kCustomers);
  for (int i = 0; i < kCustomers; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  cache.cut_flush();
  CommitBatch batch(*store_);
  // The owner changes every customer while the other thread encodes the cut: each one is
  // encoded by whichever gets there first, and the owner waits for any the encoder holds.
  std::thread encoder([&] { cache.encode_flush(batch); });
  for (int i : order) {
    Counter* c = cache.get(names[static_cast<size_t>(i)]).value();
    c->n += 1'000'000;
    c->note = "after";
    cache.mark_dirty(names[static_cast<size_t>(i)]);
  }
  encoder.join();
  ASSERT_TRUE(store_->commit(batch).is_ok());
  cache.on_committed();
  expect_stored_numbered(names);
  commit(cache);
  for (int i = 0; i < kCustomers; ++i) {
    ASSERT_EQ(stored(names[static_cast<size_t>(i)]), std::optional<std::string>(std::to_string(i + 1'000'000) + "|after"))
        << i;
  }
}

TEST_F(StateCacheTest, OwnerHelpingEncodeTakesThePutsNotYetEncodedAsTheyWereAtTheCut) {
  Cache cache(*store_, kPartition, 100);
  for (const char* c : {"a", "b", "c", "d"}) {
    cache.get(c).value()->n = c[0];
    cache.mark_dirty(c);
  }
  cache.erase("gone");
  cache.cut_flush();
  // The owner touches "a" first (settle encodes it), then helps with what is left: the other
  // three puts, not the delete.
  cache.get("a").value()->n = 1;
  cache.mark_dirty("a");
  EXPECT_EQ(cache.help_encode(), 3u);
  EXPECT_EQ(cache.help_encode(), 0u) << "every put of the cut is taken";
  EXPECT_EQ(cache.owner_encodes(), 4u);
  // Changes after the help stay out of this commit.
  cache.get("b").value()->n = 2;
  cache.mark_dirty("b");
  CommitBatch batch(*store_);
  cache.encode_flush(batch);
  ASSERT_TRUE(store_->commit(batch).is_ok());
  cache.on_committed();
  for (const char* c : {"a", "b", "c", "d"}) {
    EXPECT_EQ(stored(c), std::optional<std::string>(std::to_string(c[0]) + "|")) << c;
  }
  EXPECT_EQ(stored("gone"), std::nullopt);
  EXPECT_EQ(cache.help_encode(), 0u) << "no cut in flight";
  commit(cache);
  EXPECT_EQ(stored("a"), std::optional<std::string>("1|"));
  EXPECT_EQ(stored("b"), std::optional<std::string>("2|"));
}

TEST_F(StateCacheTest, OwnerAndEncoderShareTheCutAndEveryValueIsWrittenOnce) {
  constexpr int kCustomers = 20000;
  Cache cache(*store_, kPartition, kCustomers);
  const std::vector<std::string> names = dirty_numbered(cache, kCustomers);
  cache.cut_flush();
  CommitBatch batch(*store_);
  // Both take puts from opposite ends of different orders (the encoder by key, the owner from
  // the end of the cut) and meet somewhere; the encoder waits for any the owner holds.
  std::thread encoder([&] { cache.encode_flush(batch); });
  const size_t helped = cache.help_encode();
  encoder.join();
  EXPECT_LE(helped, static_cast<size_t>(kCustomers));
  EXPECT_EQ(cache.owner_encodes(), helped);
  EXPECT_EQ(batch.count(), static_cast<size_t>(kCustomers)) << "one put per customer, whoever encoded it";
  ASSERT_TRUE(store_->commit(batch).is_ok());
  cache.on_committed();
  EXPECT_EQ(cache.dirty_count(), 0u);
  expect_stored_numbered(names);
}

TEST_F(StateCacheTest, StagedCustomersAreReadOnAnotherThreadAndTakenByGet) {
  for (const char* c : {"a", "b", "c"}) put_stored(c, std::to_string(c[0]) + "|");
  put_stored("broken", "no separator");

  Cache cache(*store_, kPartition, 10);
  cache.get("a").value()->n = 100;  // cached: not staged again, its value stays
  const std::vector<std::string_view> batch = {"a", "b", "new", "b", "broken", "c"};
  cache.stage(batch);
  EXPECT_EQ(cache.staged(), 4u) << "b, new, broken and c: each once, and not the cached a";
  std::thread reader([&] {
    while (cache.read_staged(1)) {
    }
  });
  // get() waits for the reader where it has not got there yet.
  bool existed = true;
  EXPECT_EQ(cache.get("c").value()->n, 'c');
  EXPECT_EQ(cache.get("new", &existed).value()->n, 0);
  EXPECT_FALSE(existed);
  EXPECT_EQ(cache.get("b", &existed).value()->n, 'b');
  EXPECT_TRUE(existed);
  EXPECT_EQ(cache.get("a").value()->n, 100);
  reader.join();
  auto broken = cache.get("broken");
  ASSERT_FALSE(broken.is_ok()) << "an undecodable staged value is left to get()'s own read";
  EXPECT_EQ(broken.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(cache.loads(), 6u) << "a before staging, four staged, and broken read again";
}

// While the reader has not got to a staged customer, a commit's eviction passes it by; the
// reader then fills the very entry that get() finds.
TEST_F(StateCacheTest, EvictionSkipsEntriesTheReaderHasNotRead) {
  const std::vector<std::string> names = put_stored_numbered("s", 20);
  Cache cache(*store_, kPartition, 2);
  const std::vector<std::string_view> batch(names.begin(), names.end());
  cache.stage(batch);
  ASSERT_EQ(cache.staged(), 20u);
  ASSERT_TRUE(cache.read_staged(5));
  cache.get("other").value()->n = 1;
  cache.mark_dirty("other");
  commit(cache);  // two sweeps over 21 entries, capacity 2
  EXPECT_EQ(cache.size(), 15u) << "the 15 unread ones stay; the rest are evicted";
  while (cache.read_staged(4)) {
  }
  const uint64_t loads = cache.loads();
  for (int i = 0; i < 20; ++i) {
    bool existed = false;
    ASSERT_EQ(cache.get(names[static_cast<size_t>(i)], &existed).value()->n, i) << i;
    EXPECT_TRUE(existed);
  }
  EXPECT_EQ(cache.loads(), loads + 5) << "only the five read before the commit were evicted and read again";
  EXPECT_TRUE(cache.index_consistent());
}

// A staged customer the reader has not taken yet is read by get() itself; the reader then
// passes it by.
TEST_F(StateCacheTest, GetReadsAStagedCustomerTheReaderHasNotTaken) {
  put_stored("a", "1|");
  put_stored("b", "2|");
  Cache cache(*store_, kPartition, 10);
  const std::vector<std::string_view> batch = {"a", "b"};
  cache.stage(batch);
  bool existed = false;
  EXPECT_EQ(cache.get("b", &existed).value()->n, 2) << "no reader has run";
  EXPECT_TRUE(existed);
  EXPECT_EQ(cache.owner_reads(), 1u);
  EXPECT_FALSE(cache.read_staged(16)) << "one pass takes a and passes b by";
  EXPECT_EQ(cache.get("a").value()->n, 1);
  EXPECT_EQ(cache.owner_reads(), 1u) << "a was the reader's";
  EXPECT_EQ(cache.loads(), 2u);
  EXPECT_EQ(cache.misses(), 2u);
}

// Owner and reader race for the same staged customers (ThreadSanitizer runs this): each is
// read once, by one of them, and every get() sees its stored value.
TEST_F(StateCacheTest, OwnerAndReaderTakeEachStagedCustomerOnce) {
  constexpr int kStaged = 3000;
  const std::vector<std::string> names = put_stored_numbered("race-", kStaged);
  Cache cache(*store_, kPartition, kStaged);
  const std::vector<std::string_view> batch(names.begin(), names.end());
  cache.stage(batch);
  std::thread reader([&] {
    while (cache.read_staged(16)) {
    }
  });
  for (int i = 0; i < kStaged; ++i) {
    ASSERT_EQ(cache.get(names[static_cast<size_t>(i)]).value()->n, i) << i;
  }
  reader.join();
  EXPECT_EQ(cache.loads(), static_cast<uint64_t>(kStaged)) << "counted once each, at stage()";
  EXPECT_LE(cache.owner_reads(), static_cast<uint64_t>(kStaged));
  EXPECT_TRUE(cache.index_consistent());
}

// Commits evict while the reader fills staged entries on another thread (ThreadSanitizer runs
// this): every staged customer still gets its stored value, and nothing else is lost.
TEST_F(StateCacheTest, CommitsEvictWhileTheReaderFillsStagedEntries) {
  constexpr int kStaged = 2000;
  const std::vector<std::string> names = put_stored_numbered("staged-", kStaged);
  Cache cache(*store_, kPartition, 10);
  const std::vector<std::string_view> batch(names.begin(), names.end());
  cache.stage(batch);
  std::thread reader([&] {
    while (cache.read_staged(8)) {
    }
  });
  for (int i = 0; i < 500; ++i) {
    const std::string other = "other-" + std::to_string(i);
    cache.get(other).value()->n = i;
    cache.mark_dirty(other);
    if (i % 50 == 49) commit(cache);
  }
  reader.join();
  for (int i = 0; i < kStaged; i += 7) {
    bool existed = false;
    ASSERT_EQ(cache.get(names[static_cast<size_t>(i)], &existed).value()->n, i) << i;
    EXPECT_TRUE(existed);
  }
  commit(cache);
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(stored("other-" + std::to_string(i)), std::optional<std::string>(std::to_string(i) + "|")) << i;
  }
  EXPECT_TRUE(cache.index_consistent());
}

// A staged customer whose read failed and that no get() asked for is read again by the next
// stage(), once the store can give it.
TEST_F(StateCacheTest, AFailedStagedReadIsStagedAgain) {
  put_stored("x", "not a counter");
  Cache cache(*store_, kPartition, 10);
  const std::vector<std::string_view> batch = {"x"};
  stage_and_read(cache, batch);
  put_stored("x", "9|fixed");
  stage_and_read(cache, batch);
  EXPECT_EQ(cache.staged(), 1u) << "staged again";
  bool existed = false;
  EXPECT_EQ(cache.get("x", &existed).value()->n, 9);
  EXPECT_TRUE(existed);
  EXPECT_EQ(cache.loads(), 2u);
}

TEST_F(StateCacheTest, StagedValuesDoNotOutliveACommit) {
  put_stored("x", "1|");
  Cache cache(*store_, kPartition, 1);
  stage_and_read(cache, {"x"});
  // "x" is read ahead into its entry, then deleted without a get(), committed and evicted.
  cache.erase("x");
  commit(cache);
  cache.get("other").value()->n = 5;
  cache.mark_dirty("other");
  commit(cache);
  ASSERT_EQ(stored("x"), std::nullopt);
  bool existed = true;
  EXPECT_EQ(cache.get("x", &existed).value()->n, 0) << "the staged value read before the delete is gone";
  EXPECT_FALSE(existed);
}

TEST_F(StateCacheTest, FailedCommitKeepsEntriesDirtyForTheNextFlush) {
  Cache cache(*store_, kPartition, 10);
  cache.get("a").value()->n = 4;
  cache.mark_dirty("a");
  {
    CommitBatch lost(*store_);
    cache.flush_to(lost);  // never committed: as if the write failed
  }
  EXPECT_EQ(cache.dirty_count(), 1u);
  commit(cache);
  EXPECT_EQ(stored("a"), std::optional<std::string>("4|"));
}

TEST_F(StateCacheTest, EraseDeletesAtCommitAndReloadGivesDefault) {
  {
    Cache cache(*store_, kPartition, 10);
    cache.get("a").value()->n = 3;
    cache.mark_dirty("a");
    commit(cache);
    ASSERT_TRUE(stored("a").has_value());

    Counter* a = cache.get("a").value();
    cache.erase("a");
    EXPECT_EQ(a->n, 0);  // reset in place
    bool existed = true;
    EXPECT_EQ(cache.get("a", &existed).value()->n, 0);
    EXPECT_FALSE(existed);
    EXPECT_TRUE(stored("a").has_value());  // still there until the commit
    commit(cache);
    EXPECT_FALSE(stored("a").has_value());
  }
  Cache fresh(*store_, kPartition, 10);
  bool existed = true;
  EXPECT_EQ(fresh.get("a", &existed).value()->n, 0);
  EXPECT_FALSE(existed);
}

TEST_F(StateCacheTest, EraseOfUncachedCustomerDeletesStoredValue) {
  {
    Cache cache(*store_, kPartition, 10);
    cache.get("a").value()->n = 3;
    cache.mark_dirty("a");
    commit(cache);
  }
  Cache cache(*store_, kPartition, 10);
  cache.erase("a");
  commit(cache);
  EXPECT_FALSE(stored("a").has_value());
}

TEST_F(StateCacheTest, MarkDirtyAfterEraseWritesTheNewValue) {
  Cache cache(*store_, kPartition, 10);
  cache.get("a").value()->n = 3;
  cache.mark_dirty("a");
  commit(cache);
  cache.erase("a");
  cache.get("a").value()->n = 8;
  cache.mark_dirty("a");
  commit(cache);
  EXPECT_EQ(stored("a"), std::optional<std::string>("8|"));
}

TEST_F(StateCacheTest, UndecodableStoredValueIsCorruption) {
  CommitBatch batch(*store_);
  batch.put_customer(kPartition, "bad", "no separator here");
  ASSERT_TRUE(store_->commit(batch).is_ok());
  Cache cache(*store_, kPartition, 10);
  auto r = cache.get("bad");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(StateCacheTest, PartitionsAreIsolated) {
  Cache p3(*store_, kPartition, 10);
  p3.get("a").value()->n = 1;
  p3.mark_dirty("a");
  commit(p3);
  Cache p4(*store_, PartitionId(4), 10);
  bool existed = true;
  EXPECT_EQ(p4.get("a", &existed).value()->n, 0);
  EXPECT_FALSE(existed);
}


// Many customers through a small cache: every value read back (from the cache or, after
// eviction, from the store) equals a reference model, so inserts, evictions and the index's
// deletions never lose or mix up an entry.
TEST_F(StateCacheTest, RandomWorkloadMatchesReferenceModel) {
  Cache cache(*store_, kPartition, 64);
  std::map<std::string, int64_t> model;  // committed or pending value per customer
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::string id = "cust-" + std::to_string(rng() % 500);
      bool existed = false;
      Counter* c = cache.get(id, &existed).value();
      auto it = model.find(id);
      ASSERT_EQ(existed, it != model.end()) << id;
      ASSERT_EQ(c->n, it == model.end() ? 0 : it->second) << id;
      switch (rng() % 4) {
        case 0:
          cache.erase(id);
          model.erase(id);
          break;
        case 1:
        case 2:
          c->n = static_cast<int64_t>(rng() % 1000) + 1;
          cache.mark_dirty(id);
          model[id] = c->n;
          break;
        default:
          break;  // read only
      }
    }
    commit(cache);
    ASSERT_LE(cache.size(), 64u);
    ASSERT_TRUE(cache.index_consistent()) << "round " << round;
  }
  for (const auto& [id, n] : model) EXPECT_EQ(stored(id), std::optional<std::string>(std::to_string(n) + "|")) << id;
  EXPECT_GT(cache.misses(), 1000u);  // evictions happened and were reloaded
}


TEST_F(StateCacheTest, PrefetchLoadsMissingCustomersInOneReadAndKeepsCachedOnes) {
  {
    CommitBatch batch(*store_);
    batch.put_customer(kPartition, "a", "1|stored a");
    batch.put_customer(kPartition, "b", "2|stored b");
    batch.put_customer(kPartition, "bad", "no separator here");
    ASSERT_TRUE(store_->commit(batch).is_ok());
  }
  Cache cache(*store_, kPartition, 10);
  Counter* b = cache.get("b").value();
  b->n = 20;  // changed in the cache, not yet committed: prefetch must not reload it
  cache.mark_dirty("b");
  const uint64_t misses = cache.misses();
  EXPECT_EQ(cache.loads(), 1u);  // b

  const std::vector<std::string_view> keys = {"a", "b", "absent", "a", "", "bad"};
  cache.prefetch(keys);
  EXPECT_EQ(cache.misses(), misses);  // counted when asked for, not when prefetched
  EXPECT_EQ(cache.loads(), 4u);       // read now: a, absent, bad (once each; b is cached)
  EXPECT_EQ(cache.size(), 4u);        // b, a, absent, and bad until its get() reports it

  bool existed = false;
  Counter* a = cache.get("a", &existed).value();
  EXPECT_TRUE(existed);
  EXPECT_EQ(a->n, 1);
  EXPECT_EQ(a->note, "stored a");
  EXPECT_EQ(cache.misses(), misses + 1);  // loaded from the store (in the batch)
  EXPECT_EQ(cache.get("a").value(), a);
  EXPECT_EQ(cache.misses(), misses + 1);  // then a hit

  EXPECT_EQ(cache.get("b").value()->n, 20);
  existed = true;
  EXPECT_EQ(cache.get("absent", &existed).value()->n, 0);
  EXPECT_FALSE(existed);

  EXPECT_EQ(cache.loads(), 4u);  // every get so far was served from the cache
  auto r = cache.get("bad");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(cache.loads(), 5u);  // read again, one by one, to report it
  EXPECT_EQ(cache.size(), 3u);   // and not cached
  EXPECT_TRUE(cache.index_consistent());

  commit(cache);
  EXPECT_EQ(stored("b"), std::optional<std::string>("20|stored b"));
  EXPECT_FALSE(stored("absent").has_value());  // prefetching an absent customer writes nothing
}

}  // namespace
}  // namespace beckon::state
