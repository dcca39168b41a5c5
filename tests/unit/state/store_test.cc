#include "state/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "state/keys.h"
#include "temp_dir.h"

namespace beckon::state {
namespace {

using testing::TempDir;

StoreOptions options_for(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.block_cache_bytes = 8 << 20;
  o.write_buffer_bytes = 1 << 20;
  return o;
}

std::unique_ptr<Store> open_ok(const std::string& path) {
  auto r = Store::open(options_for(path));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : nullptr;
}

std::vector<std::tuple<int64_t, std::string, uint64_t>> all_timers(Store& s, PartitionId p,
                                                                  EventTime from = EventTime::min(),
                                                                  size_t limit = 1000) {
  std::vector<std::tuple<int64_t, std::string, uint64_t>> out;
  Status st = s.scan_timers(p, from, limit, [&](EventTime due, std::string_view c, uint64_t id) {
    out.emplace_back(due.ms(), std::string(c), id);
  });
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return out;
}

TEST(Store, CustomerPutGetDelete) {
  TempDir dir;
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  std::string value;
  EXPECT_EQ(store->get_customer(PartitionId(0), "alice", &value).code(), Status::Code::kNotFound);

  CommitBatch batch(*store);
  batch.put_customer(PartitionId(0), "alice", "v1");
  batch.put_customer(PartitionId(1), "alice", "other partition");
  EXPECT_EQ(batch.count(), 2u);
  EXPECT_GT(batch.bytes(), 0u);
  ASSERT_TRUE(store->commit(batch).is_ok());

  ASSERT_TRUE(store->get_customer(PartitionId(0), "alice", &value).is_ok());
  EXPECT_EQ(value, "v1");
  ASSERT_TRUE(store->get_customer(PartitionId(1), "alice", &value).is_ok());
  EXPECT_EQ(value, "other partition");

  batch.clear();
  EXPECT_TRUE(batch.empty());
  batch.delete_customer(PartitionId(0), "alice");
  ASSERT_TRUE(store->commit(batch).is_ok());
  EXPECT_EQ(store->get_customer(PartitionId(0), "alice", &value).code(), Status::Code::kNotFound);
  EXPECT_TRUE(store->get_customer(PartitionId(1), "alice", &value).is_ok());
}

TEST(Store, OffsetsAndMetaPersistAcrossReopen) {
  TempDir dir;
  {
    auto store = open_ok(dir.sub("db"));
    ASSERT_TRUE(store);
    auto none = store->load_offset(PartitionId(2), "events");
    ASSERT_TRUE(none.is_ok());
    EXPECT_FALSE(none.value().has_value());

    CommitBatch batch(*store);
    batch.put_offset(PartitionId(2), "events", Offset(100));
    batch.put_offset(PartitionId(2), "orders", Offset(7));
    batch.put_offset(PartitionId(3), "events", Offset(5));
    batch.put_meta(PartitionId(2), "timers.pending", "12");
    ASSERT_TRUE(store->commit(batch).is_ok());
  }
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  auto o = store->load_offset(PartitionId(2), "events");
  ASSERT_TRUE(o.is_ok());
  EXPECT_EQ(o.value(), Offset(100));
  auto all = store->load_offsets(PartitionId(2));
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all.value().size(), 2u);  // meta keys of the partition are not offsets
  EXPECT_EQ(all.value()[0].first, "events");
  EXPECT_EQ(all.value()[1].first, "orders");
  EXPECT_EQ(all.value()[1].second, Offset(7));
  auto meta = store->load_meta(PartitionId(2), "timers.pending");
  ASSERT_TRUE(meta.is_ok());
  EXPECT_EQ(meta.value(), std::optional<std::string>("12"));
}

TEST(Store, CommitWritesStateTimersAndOffsetsTogether) {
  TempDir dir;
  {
    auto store = open_ok(dir.sub("db"));
    ASSERT_TRUE(store);
    CommitBatch committed(*store);
    committed.put_customer(PartitionId(0), "a", "state-a");
    committed.put_timer(PartitionId(0), EventTime(10), "a", 1);
    committed.put_offset(PartitionId(0), "events", Offset(11));
    ASSERT_TRUE(store->commit(committed).is_ok());

    // A batch that is built but never committed leaves no trace.
    CommitBatch abandoned(*store);
    abandoned.put_customer(PartitionId(0), "b", "state-b");
    abandoned.put_timer(PartitionId(0), EventTime(20), "b", 1);
    abandoned.put_offset(PartitionId(0), "events", Offset(12));
  }
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  std::string value;
  EXPECT_TRUE(store->get_customer(PartitionId(0), "a", &value).is_ok());
  EXPECT_EQ(store->get_customer(PartitionId(0), "b", &value).code(), Status::Code::kNotFound);
  EXPECT_EQ(all_timers(*store, PartitionId(0)).size(), 1u);
  EXPECT_EQ(store->load_offset(PartitionId(0), "events").value(), Offset(11));
}

TEST(Store, ScanTimersIsOrderedBoundedAndPartitionScoped) {
  TempDir dir;
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  CommitBatch batch(*store);
  batch.put_timer(PartitionId(1), EventTime(50), "b", 2);
  batch.put_timer(PartitionId(1), EventTime(-50), "z", 9);
  batch.put_timer(PartitionId(1), EventTime(50), "a", 3);
  batch.put_timer(PartitionId(1), EventTime(50), "a", 1);
  batch.put_timer(PartitionId(1), EventTime(70), "a", 1);
  batch.put_timer(PartitionId(0), EventTime(60), "p0", 1);
  batch.put_timer(PartitionId(2), EventTime(0), "p2", 1);
  ASSERT_TRUE(store->commit(batch).is_ok());
  ASSERT_TRUE(store->flush().is_ok());  // read from SST files as well as memtables below

  using T = std::tuple<int64_t, std::string, uint64_t>;
  EXPECT_EQ(all_timers(*store, PartitionId(1)),
            (std::vector<T>{{-50, "z", 9}, {50, "a", 1}, {50, "a", 3}, {50, "b", 2}, {70, "a", 1}}));
  EXPECT_EQ(all_timers(*store, PartitionId(1), EventTime(0), 2),
            (std::vector<T>{{50, "a", 1}, {50, "a", 3}}));
  EXPECT_EQ(all_timers(*store, PartitionId(1), EventTime(71)), std::vector<T>{});

  std::vector<T> after;
  ASSERT_TRUE(store
                  ->scan_timers_from(PartitionId(1), EventTime(50), "a", 3, /*inclusive=*/false, 10,
                                     [&](EventTime d, std::string_view c, uint64_t id) {
                                       after.emplace_back(d.ms(), std::string(c), id);
                                     })
                  .is_ok());
  EXPECT_EQ(after, (std::vector<T>{{50, "b", 2}, {70, "a", 1}}));

  auto has = store->has_timer(PartitionId(1), EventTime(50), "a", 3);
  ASSERT_TRUE(has.is_ok());
  EXPECT_TRUE(has.value());
  EXPECT_FALSE(store->has_timer(PartitionId(1), EventTime(50), "a", 4).value());

  batch.clear();
  batch.delete_timer(PartitionId(1), EventTime(50), "a", 3);
  ASSERT_TRUE(store->commit(batch).is_ok());
  EXPECT_EQ(all_timers(*store, PartitionId(1)).size(), 4u);
}

// Timers live in buckets of due time that commits change by merge operands: changes of later
// commits win over earlier ones in memtables, SST files and after compaction, and a bucket that
// empties is dropped by compaction.
TEST(Store, TimerChangesMergeAcrossCommitsFlushesAndCompactions) {
  TempDir dir;
  using T = std::tuple<int64_t, std::string, uint64_t>;
  const PartitionId p(3);
  const int64_t t0 = 1767225600000;  // a bucket boundary (a multiple of 60 s)
  {
    auto store = open_ok(dir.sub("db"));
    ASSERT_TRUE(store);
    CommitBatch batch(*store);
    batch.put_timer(p, EventTime(t0 + 10), "a", 1);
    batch.put_timer(p, EventTime(t0 + 20), "b", 2);
    batch.put_timer(p, EventTime(t0 + 120'000), "c", 3);  // another bucket
    EXPECT_EQ(batch.count(), 2u) << "one entry per bucket";
    ASSERT_TRUE(store->commit(batch).is_ok());
    ASSERT_TRUE(store->flush().is_ok());

    batch.clear();
    batch.delete_timer(p, EventTime(t0 + 10), "a", 1);
    batch.put_timer(p, EventTime(t0 + 5), "d", 4);
    batch.put_timer(p, EventTime(t0 + 30), "e", 5);
    batch.delete_timer(p, EventTime(t0 + 30), "e", 5);  // the last change of a timer wins
    ASSERT_TRUE(store->commit(batch).is_ok());
    EXPECT_EQ(all_timers(*store, p), (std::vector<T>{{t0 + 5, "d", 4}, {t0 + 20, "b", 2}, {t0 + 120'000, "c", 3}}));

    // Committing the same batch again (a retried commit) changes nothing: records are idempotent.
    batch.clear();
    batch.delete_timer(p, EventTime(t0 + 120'000), "c", 3);
    ASSERT_TRUE(store->commit(batch).is_ok());
    ASSERT_TRUE(store->commit(batch).is_ok());
    EXPECT_EQ(all_timers(*store, p), (std::vector<T>{{t0 + 5, "d", 4}, {t0 + 20, "b", 2}}));
    EXPECT_FALSE(store->has_timer(p, EventTime(t0 + 120'000), "c", 3).value());
    EXPECT_TRUE(store->has_timer(p, EventTime(t0 + 20), "b", 2).value());

    // The first compaction merges the operands (the bucket of "c" becomes an empty value), the
    // next one drops that empty value; the bucket of "b" and "d" stays.
    ASSERT_TRUE(store->compact().is_ok());
    EXPECT_EQ(all_timers(*store, p), (std::vector<T>{{t0 + 5, "d", 4}, {t0 + 20, "b", 2}}));
    ASSERT_TRUE(store->compact().is_ok());
    EXPECT_EQ(all_timers(*store, p), (std::vector<T>{{t0 + 5, "d", 4}, {t0 + 20, "b", 2}}));
    EXPECT_EQ(store->int_property("rocksdb.estimate-num-keys", Cf::kTimers).value(), 1u);
  }
  auto reopened = open_ok(dir.sub("db"));
  ASSERT_TRUE(reopened);
  EXPECT_EQ(all_timers(*reopened, p), (std::vector<T>{{t0 + 5, "d", 4}, {t0 + 20, "b", 2}}));
}

// Opens the store at `path` with plain RocksDB (every column family it has) and hands the DB
// and the handle of each column family, by name, to `edit`: writes an older beckon, or a
// newer one, could have made.
void edit_raw(const std::string& path,
              const std::function<void(rocksdb::DB&, std::map<std::string, rocksdb::ColumnFamilyHandle*>&)>& edit) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &raw).ok());
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = handles[i];
  edit(*raw, by_name);
  for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
  delete raw;
}

// A timer key as the layout before buckets stored it: [partition BE32][timer key], empty value.
std::string per_timer_key(int32_t partition, int64_t due, std::string_view customer, uint64_t id) {
  std::string k = keys::partition_prefix(PartitionId(partition));
  keys::append_timer_key(k, EventTime(due), customer, id);
  return k;
}

std::optional<std::string> raw_layout(const std::string& path) {
  std::optional<std::string> out;
  edit_raw(path, [&](rocksdb::DB& db, auto& cfs) {
    std::string v;
    if (db.Get(rocksdb::ReadOptions(), cfs.at("default"), std::string(keys::kLayoutKey), &v).ok()) out = v;
  });
  return out;
}

// A new store at `path`, then one key written behind its back into column family `cf`.
void new_store_with_raw_put(const std::string& path, const std::string& cf, const std::string& key,
                            const std::string& value) {
  { ASSERT_TRUE(open_ok(path)); }
  edit_raw(path, [&](rocksdb::DB& db, auto& cfs) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), cfs.at(cf), key, value).ok());
  });
}

TEST(Store, NewStoreRecordsItsLayout) {
  TempDir dir;
  const std::string path = dir.sub("db");
  { ASSERT_TRUE(open_ok(path)); }
  EXPECT_EQ(raw_layout(path), std::string(keys::kLayoutCurrent));
}

// A store written before timers were bucketed (one key per timer, empty value, no layout
// marker) is rewritten into buckets when opened for writing: every timer is still there, in
// order, no per-timer key is left, and the marker is written.
TEST(Store, OpenRewritesPerTimerKeysIntoBuckets) {
  TempDir dir;
  const std::string path = dir.sub("db");
  { ASSERT_TRUE(open_ok(path)); }  // creates the column families
  edit_raw(path, [](rocksdb::DB& db, auto& cfs) {
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), cfs.at("default"), std::string(keys::kLayoutKey)).ok());
    for (const std::string& k : {per_timer_key(1, 50, "b", 2), per_timer_key(1, -50, "z", 9), per_timer_key(1, 50, "a", 3),
                                 per_timer_key(1, 200'000, "a", 1), per_timer_key(2, 0, "p2", 1)}) {
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), cfs.at("timers"), k, "").ok());
    }
  });
  ASSERT_FALSE(raw_layout(path).has_value());
  {
    // Read-only (tools) neither rewrites nor marks.
    StoreOptions ro = options_for(path);
    ro.read_only = true;
    auto tool = Store::open(ro);
    ASSERT_TRUE(tool.is_ok()) << tool.status().to_string();
  }
  ASSERT_FALSE(raw_layout(path).has_value());
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    using T = std::tuple<int64_t, std::string, uint64_t>;
    EXPECT_EQ(all_timers(*store, PartitionId(1)),
              (std::vector<T>{{-50, "z", 9}, {50, "a", 3}, {50, "b", 2}, {200'000, "a", 1}}));
    EXPECT_EQ(all_timers(*store, PartitionId(2)), (std::vector<T>{{0, "p2", 1}}));
    // Only bucket keys remain, so a read-only open (tools) reads them too.
    ASSERT_TRUE(store->compact().is_ok());
    ASSERT_TRUE(store->compact().is_ok());
    const std::set<std::string> buckets = {
        keys::timer_bucket_key(PartitionId(1), EventTime(50)), keys::timer_bucket_key(PartitionId(1), EventTime(-50)),
        keys::timer_bucket_key(PartitionId(1), EventTime(200'000)), keys::timer_bucket_key(PartitionId(2), EventTime(0))};
    EXPECT_EQ(store->int_property("rocksdb.estimate-num-keys", Cf::kTimers).value(), buckets.size());
  }
  EXPECT_EQ(raw_layout(path), std::string(keys::kLayoutCurrent));
}

// With the marker, an open does not read the timers CF: a per-timer key (which no beckon that
// writes the marker produces) is left in place and reported by the scan that meets it.
TEST(Store, OpenWithLayoutMarkerSkipsTheRewrite) {
  TempDir dir;
  const std::string path = dir.sub("db");
  new_store_with_raw_put(path, "timers", per_timer_key(1, 50, "b", 2), "");
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  Status s = store->scan_timers(PartitionId(1), EventTime::min(), 10, [](EventTime, std::string_view, uint64_t) {});
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("not a bucket key"), std::string::npos) << s.to_string();
}

// The marker is store-wide: dropping the partition whose number its first four bytes would
// spell (as a partition prefix, keys.h) leaves it in place.
TEST(Store, DeletePartitionKeepsTheLayoutMarker) {
  TempDir dir;
  const std::string path = dir.sub("db");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    const uint32_t spelled = keys::get_be32(keys::kLayoutKey.data()) & 0x7FFFFFFFu;
    ASSERT_TRUE(store->delete_partition(PartitionId(static_cast<int32_t>(spelled))).is_ok());
  }
  EXPECT_EQ(raw_layout(path), std::string(keys::kLayoutCurrent));
}

// A store from the release before customer states of version 2 is marked "timer-buckets". A
// writable open moves the marker on (so that release refuses the store from then on, rather than
// failing on each version-2 state); a read-only open leaves it.
TEST(Store, OpenMovesTheTimerBucketsMarkerToTheCurrentLayout) {
  TempDir dir;
  const std::string path = dir.sub("db");
  new_store_with_raw_put(path, "default", std::string(keys::kLayoutKey), std::string(keys::kLayoutTimerBuckets));
  {
    StoreOptions ro = options_for(path);
    ro.read_only = true;
    auto tool = Store::open(ro);
    ASSERT_TRUE(tool.is_ok()) << tool.status().to_string();
  }
  EXPECT_EQ(raw_layout(path), std::string(keys::kLayoutTimerBuckets));
  { ASSERT_TRUE(open_ok(path)); }
  EXPECT_EQ(raw_layout(path), std::string(keys::kLayoutCurrent));
}

TEST(Store, OpenRefusesAnUnknownLayout) {
  TempDir dir;
  const std::string path = dir.sub("db");
  new_store_with_raw_put(path, "default", std::string(keys::kLayoutKey), "timer-trees");
  for (bool read_only : {false, true}) {
    StoreOptions o = options_for(path);
    o.read_only = read_only;
    auto r = Store::open(o);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
    EXPECT_NE(r.status().message().find("timer-trees"), std::string::npos) << r.status().to_string();
  }
}

TEST(Store, DeletePartitionDropsOnlyThatPartition) {
  TempDir dir;
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  CommitBatch batch(*store);
  for (int p = 0; p < 3; ++p) {
    batch.put_customer(PartitionId(p), "c", "v");
    batch.put_timer(PartitionId(p), EventTime(1), "c", 1);
    batch.put_offset(PartitionId(p), "events", Offset(p));
  }
  ASSERT_TRUE(store->commit(batch).is_ok());
  ASSERT_TRUE(store->delete_partition(PartitionId(1)).is_ok());

  std::vector<int> partitions;
  ASSERT_TRUE(store
                  ->for_each_customer([&](PartitionId p, std::string_view c, std::string_view v) {
                    EXPECT_EQ(c, "c");
                    EXPECT_EQ(v, "v");
                    partitions.push_back(p.value());
                  })
                  .is_ok());
  EXPECT_EQ(partitions, (std::vector<int>{0, 2}));
  EXPECT_TRUE(all_timers(*store, PartitionId(1)).empty());
  EXPECT_EQ(all_timers(*store, PartitionId(2)).size(), 1u);
  EXPECT_FALSE(store->load_offset(PartitionId(1), "events").value().has_value());
  EXPECT_EQ(store->load_offset(PartitionId(2), "events").value(), Offset(2));
  EXPECT_FALSE(store->delete_partition(PartitionId(-1)).is_ok());
}

// The customers CF's memtable keeps an insert hint per partition, and RocksDB 7.8 shares that
// hint map with the memtable's range deletions (facebook/rocksdb#5118): a partition deleted and
// written again in one memtable must still read back exactly.
TEST(Store, PartitionWrittenAgainAfterDeleteReadsBack) {
  TempDir dir;
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  auto put_range = [&](int p, char from, char to, const std::string& value) {
    CommitBatch batch(*store);
    for (char c = from; c <= to; ++c) batch.put_customer(PartitionId(p), std::string(1, c) + "-customer", value);
    ASSERT_TRUE(store->commit(batch).is_ok());
  };
  put_range(1, 'a', 'z', "old");
  put_range(2, 'a', 'c', "other");
  ASSERT_TRUE(store->delete_partition(PartitionId(1)).is_ok());
  put_range(1, 'k', 'p', "new");
  put_range(1, 'b', 'd', "new");
  ASSERT_TRUE(store->delete_partition(PartitionId(2)).is_ok());
  put_range(2, 'x', 'y', "again");

  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->for_each_customer([&](PartitionId p, std::string_view c, std::string_view v) {
                    seen.push_back(std::to_string(p.value()) + ":" + std::string(c.substr(0, 1)) + "=" + std::string(v));
                  })
                  .is_ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"1:b=new", "1:c=new", "1:d=new", "1:k=new", "1:l=new", "1:m=new",
                                            "1:n=new", "1:o=new", "1:p=new", "2:x=again", "2:y=again"}));
  std::string value;
  EXPECT_EQ(store->get_customer(PartitionId(1), "a-customer", &value).code(), Status::Code::kNotFound);
}

TEST(Store, ForEachCustomerInVisitsOnePartition) {
  TempDir dir;
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  CommitBatch batch(*store);
  batch.put_customer(PartitionId(4), "b", "2");
  batch.put_customer(PartitionId(4), "a", "1");
  batch.put_customer(PartitionId(5), "a", "x");
  ASSERT_TRUE(store->commit(batch).is_ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->for_each_customer_in(PartitionId(4),
                                         [&](PartitionId p, std::string_view c, std::string_view v) {
                                           seen.push_back(std::string(c) + "=" + std::string(v));
                                         })
                  .is_ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "b=2"}));
}

TEST(Store, SecondOpenOfSameDirectoryReportsLock) {
  TempDir dir;
  auto first = open_ok(dir.sub("db"));
  ASSERT_TRUE(first);
  auto second = Store::open(options_for(dir.sub("db")));
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIoError);
  EXPECT_NE(second.status().message().find("is locked by another process"), std::string::npos)
      << second.status().message();
}

TEST(Store, CorruptCurrentFileIsCorruptionNotFreshStart) {
  TempDir dir;
  {
    auto store = open_ok(dir.sub("db"));
    ASSERT_TRUE(store);
    CommitBatch batch(*store);
    batch.put_customer(PartitionId(0), "a", "v");
    ASSERT_TRUE(store->commit(batch).is_ok());
  }
  {
    std::ofstream current(dir.sub("db") + "/CURRENT", std::ios::trunc);
    current << "MANIFEST-999999\n";
  }
  auto r = Store::open(options_for(dir.sub("db")));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().to_string();
}

TEST(Store, RocksDbFilesWithoutCurrentAreCorruption) {
  TempDir dir;
  {
    auto store = open_ok(dir.sub("db"));
    ASSERT_TRUE(store);
  }
  std::filesystem::remove(dir.sub("db") + "/CURRENT");
  auto r = Store::open(options_for(dir.sub("db")));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().to_string();
}

TEST(Store, UnwritableLocationIsIoError) {
  TempDir dir;
  // A regular file where a parent directory should be: nothing can be created below it.
  std::ofstream(dir.sub("file")) << "x";
  auto r = Store::open(options_for(dir.sub("file") + "/db"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_NE(r.status().message().find("file/db"), std::string::npos) << r.status().message();

  auto not_dir = Store::open(options_for(dir.sub("file")));
  ASSERT_FALSE(not_dir.is_ok());
  EXPECT_EQ(not_dir.status().code(), Status::Code::kIoError);
}

TEST(Store, MissingDatabaseWithoutCreateIsNotFound) {
  TempDir dir;
  StoreOptions o = options_for(dir.sub("db"));
  o.create_if_missing = false;
  auto r = Store::open(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  // An existing empty directory is not a database either.
  o.path = dir.path();
  EXPECT_EQ(Store::open(o).status().code(), Status::Code::kNotFound);
  // With create_if_missing it is created in the empty directory.
  o.create_if_missing = true;
  EXPECT_TRUE(Store::open(o).is_ok());
}

TEST(Store, PropertiesForMetrics) {
  TempDir dir;
  auto store = open_ok(dir.sub("db"));
  ASSERT_TRUE(store);
  CommitBatch batch(*store);
  for (int i = 0; i < 100; ++i) batch.put_customer(PartitionId(0), "c" + std::to_string(i), "v");
  ASSERT_TRUE(store->commit(batch).is_ok());

  auto mem = store->int_property("rocksdb.cur-size-all-mem-tables");
  ASSERT_TRUE(mem.is_ok());
  EXPECT_GT(mem.value(), 0u);
  EXPECT_TRUE(store->int_property("rocksdb.estimate-pending-compaction-bytes").is_ok());
  EXPECT_FALSE(store->int_property("rocksdb.no-such-property").is_ok());
  auto text = store->property("rocksdb.stats", Cf::kCustomers);
  ASSERT_TRUE(text.is_ok());
  EXPECT_FALSE(text.value().empty());

  StoreStats stats = store->stats();
  EXPECT_GT(stats.memtable_bytes, 0u);
  EXPECT_EQ(stats.block_cache_capacity_bytes, 8u << 20);
  EXPECT_EQ(stats.estimate_keys[static_cast<int>(Cf::kCustomers)], 100u);
}

}  // namespace
}  // namespace beckon::state
