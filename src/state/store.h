#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace beckon::state {

struct StoreOptions {
  // Directory of the RocksDB database. No default; required.
  std::string path;
  // fsync the WAL on every commit. Default false (the WAL is still written; a machine crash may
  // lose the last commits, which Kafka replays from the stored offsets' predecessor commit).
  bool sync_commits = false;
  // Shared LRU block cache for all column families, in bytes. Default 256 MiB.
  size_t block_cache_bytes = size_t{256} << 20;
  // Memtable size per column family, in bytes. Default 64 MiB.
  size_t write_buffer_bytes = size_t{64} << 20;
  // Create the database when the directory is missing or holds no database. Default true. An
  // existing database that fails to open is always an error, never replaced by a fresh one.
  bool create_if_missing = true;
  bool read_only = false;             // for tools: no lock taken, commit() fails; store must exist
};

// The column families of the store.
enum class Cf { kDefault, kCustomers, kTimers, kOffsets };
inline constexpr int kCfCount = 4;
const char* cf_name(Cf cf);

class Store;

// One commit under construction: puts and deletes across the column families, written
// atomically by Store::commit. Owned by its creator; not thread-safe; reusable after clear().
// Must not outlive the Store it was made for.
class CommitBatch {
 public:
  // `reserve_bytes` pre-sizes the batch's buffer (e.g. the size of the previous commit), so a
  // large commit does not grow it by repeated copies.
  explicit CommitBatch(Store& store, size_t reserve_bytes = 0);
  ~CommitBatch();
  CommitBatch(const CommitBatch&) = delete;
  CommitBatch& operator=(const CommitBatch&) = delete;

  void put_customer(PartitionId p, std::string_view customer, std::string_view value);
  void delete_customer(PartitionId p, std::string_view customer);
  // Customer ids longer than keys::kMaxTimerCustomerBytes are cut to that length. Timer changes
  // are gathered per bucket of due time (keys.h) and enter the batch as one merge operand per
  // bucket when the batch is committed; later changes of the same timer win.
  void put_timer(PartitionId p, EventTime due, std::string_view customer, uint64_t timer_id);
  void delete_timer(PartitionId p, EventTime due, std::string_view customer, uint64_t timer_id);
  // `next` is the next offset to consume on that partition of `topic`.
  void put_offset(PartitionId p, std::string_view topic, Offset next);
  void put_meta(PartitionId p, std::string_view key, std::string_view value);
  void delete_meta(PartitionId p, std::string_view key);

  // Approximate serialized size in bytes, and number of RocksDB entries (a bucket's timer
  // changes count once).
  size_t bytes() const;
  size_t count() const;
  bool empty() const { return count() == 0; }
  // Empties the batch; its buffer keeps its capacity for the next use.
  void clear();

 private:
  friend class Store;
  void timer_record(PartitionId p, EventTime due, std::string_view customer, uint64_t id, char op);
  // Moves the gathered timer changes into the WriteBatch (Store::commit does, before writing).
  void seal();

  struct TimerOperand {
    std::string key;      // the bucket's key
    std::string records;  // its changes, in order
  };

  Store* store_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::string key_;  // scratch buffer, reused across calls
  std::vector<TimerOperand> timer_ops_;  // [0, timer_ops_used_) hold this batch's buckets
  size_t timer_ops_used_ = 0;
  size_t timer_ops_bytes_ = 0;
  size_t last_timer_op_ = 0;  // the bucket of the last timer change (most are in order)
  std::unordered_map<std::string, size_t> timer_op_index_;  // bucket key -> timer_ops_ index
};

// Figures for the metrics probe. Figures RocksDB cannot give are 0.
struct StoreStats {
  uint64_t memtable_bytes = 0;             // rocksdb.cur-size-all-mem-tables, all CFs
  uint64_t pending_compaction_bytes = 0;   // rocksdb.estimate-pending-compaction-bytes, all CFs
  uint64_t block_cache_usage_bytes = 0;
  uint64_t block_cache_capacity_bytes = 0;
  uint64_t estimate_keys[kCfCount] = {};   // rocksdb.estimate-num-keys, indexed by Cf
};

// The RocksDB database that holds customer state, the durable timer index and the input
// offsets of every partition this process owns (see keys.h for the layout). RocksDB is the
// source of truth for progress: a commit writes state, timers and offsets in one WriteBatch.
//
// Owned by the application (unique_ptr from open()); closes the database when destroyed.
// Thread-safe: every method may be called concurrently, as RocksDB allows. Partition-scoped
// users (StateCache, TimerQueue) belong to one worker thread each.
class Store {
 public:
  using TimerCallback = std::function<void(EventTime due, std::string_view customer, uint64_t id)>;
  using CustomerCallback =
      std::function<void(PartitionId p, std::string_view customer, std::string_view value)>;

  // Opens or creates the database. Errors: the directory is locked by another process or
  // another Store of this process (IoError "state directory X is locked by another process"),
  // it cannot be created or written (IoError), it holds a database that cannot be read
  // (Corruption), or it holds no database and create_if_missing is false (NotFound).
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreOptions& options() const { return options_; }

  // The stored value of `customer`, into *value. NotFound when absent.
  Status get_customer(PartitionId p, std::string_view customer, std::string* value);
  // Batched lookup of several customers of partition `p` (one RocksDB MultiGet, which shares
  // the index and filter work of neighbouring keys). `callback(i, status, value)` is called once
  // per customer (i = its position in `customers`), in key order: status ok with the value,
  // NotFound, or a read error; the value view is valid only during the call.
  using MultiGetCallback = std::function<void(size_t index, const Status& status, std::string_view value)>;
  void multi_get_customers(PartitionId p, std::span<const std::string_view> customers,
                           const MultiGetCallback& callback);
  // Whether the timer exists in the store (committed). For tools and tests: reads the whole
  // bucket.
  Result<bool> has_timer(PartitionId p, EventTime due, std::string_view customer, uint64_t id);
  // The next offset to consume for `topic` on partition `p`, nullopt when never committed.
  Result<std::optional<Offset>> load_offset(PartitionId p, std::string_view topic);
  // Every stored (topic, next offset) of partition `p`, in topic order.
  Result<std::vector<std::pair<std::string, Offset>>> load_offsets(PartitionId p);
  // Partition metadata value, nullopt when absent.
  Result<std::optional<std::string>> load_meta(PartitionId p, std::string_view key);

  // Writes the batch atomically (one WriteBatch; fsync when options.sync_commits). The batch is
  // left unchanged; clear() it to reuse it.
  Status commit(CommitBatch& batch);

  // Ordered scan of partition `p`'s timers with due >= `from`, at most `limit` of them. The
  // customer view is valid only during the callback.
  Status scan_timers(PartitionId p, EventTime from, size_t limit, const TimerCallback& callback);
  // Like scan_timers, starting at the timer key (due, customer, id): inclusive or just after it.
  Status scan_timers_from(PartitionId p, EventTime due, std::string_view customer, uint64_t id,
                          bool inclusive, size_t limit, const TimerCallback& callback);

  // Every customer of every partition, in key order (partition-major). For tools and tests.
  Status for_each_customer(const CustomerCallback& callback);
  // Every customer of partition `p`, in key order.
  Status for_each_customer_in(PartitionId p, const CustomerCallback& callback);

  // Removes every key of partition `p` in every column family. `p` must be >= 0.
  Status delete_partition(PartitionId p);

  // RocksDB property of a column family (e.g. "rocksdb.stats"). NotFound for an unknown name.
  Result<std::string> property(std::string_view name, Cf cf = Cf::kDefault);
  // Integer property summed over all column families (e.g. "rocksdb.cur-size-all-mem-tables").
  Result<uint64_t> int_property(std::string_view name);
  // Integer property of one column family (e.g. "rocksdb.estimate-num-keys").
  Result<uint64_t> int_property(std::string_view name, Cf cf);
  StoreStats stats();

  // Flushes memtables to SST files (tests and tools).
  Status flush();
  // Flushes, then compacts every column family over its whole key range (tests and tools).
  Status compact();

 private:
  friend class CommitBatch;
  Store() = default;
  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return handles_[static_cast<int>(c)]; }
  // Checks the store-wide layout marker (keys.h). A new store gets it; an existing store
  // without it (written before the marker existed) has its timers rewritten into buckets when
  // opened for writing, then gets it; an unknown layout is refused. `existed`: the store was
  // there before this open.
  Status check_layout(bool existed);
  // Rewrites timers stored one key per timer (the layout before buckets) into buckets; the
  // number rewritten. Reads every key of the timers CF.
  Result<size_t> migrate_per_timer_keys();
  // `start` is a timer key (keys.h) or a prefix of one.
  Status scan_timers_impl(PartitionId p, const std::string& start, bool skip_start, size_t limit,
                          const TimerCallback& callback);
  Status scan_customers(const std::string* prefix, const CustomerCallback& callback);

  StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> cache_;  // shared: RocksDB's table options hold it too
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* handles_[kCfCount] = {};
  std::vector<rocksdb::ColumnFamilyHandle*> extra_handles_;  // unknown CFs found on open
};

}  // namespace beckon::state
