#include "state/store.h"

#include <rocksdb/perf_level.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <filesystem>
#include <system_error>

#include "core/log.h"
#include "state/keys.h"
#include "state/timer_buckets.h"

namespace beckon::state {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCfNames[kCfCount] = {"default", "customers", "timers", "offsets"};

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::not_found(std::move(msg));
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::invalid_argument(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::retriable(std::move(msg));
  return Status::io_error(std::move(msg));
}

bool looks_like_lock_error(const rocksdb::Status& s) {
  std::string text = s.ToString();
  return s.IsIOError() && (text.find("LOCK") != std::string::npos ||
                           text.find("lock hold") != std::string::npos ||
                           text.find("No locks available") != std::string::npos);
}

// RocksDB's per-thread perf counters are on by default (kEnableCount) and cost a thread-local
// access per operation; beckon exports its own metrics, so each thread turns them off once.
void disable_perf_counters() {
  thread_local bool done = false;
  if (!done) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    done = true;
  }
}

// The key just past every key of partition `p` (p >= 0, so p + 1 fits in 32 bits).
std::string partition_end(PartitionId p) {
  std::string out;
  keys::put_be32(out, keys::partition_bits(p) + 1);
  return out;
}

// Groups customer keys by partition for the memtable's insert hints (below). A commit writes
// each partition's customers in key order, so with a hint per partition the skip list resumes
// each insert where the previous one ended instead of descending from its head (the memtable
// insert was a quarter to a third of the commit thread's samples). Keys of exactly one
// partition prefix are left out of the domain: those are the begin keys of delete_partition's
// range deletions, and RocksDB before 9.2 shares one hint map between a memtable's point and
// range-deletion skip lists (facebook/rocksdb#5118, fixed by #12558), so a hinted range
// deletion would follow a hint into the other list. (A customer key with an empty id is only
// the prefix too; it is merely inserted without a hint.)
class CustomerInsertHintPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "beckon.CustomerInsertHintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), keys::kPartitionBytes);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > keys::kPartitionBytes; }
};

rocksdb::ColumnFamilyOptions cf_options(Cf cf, const StoreOptions& so,
                                        const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = so.write_buffer_bytes;
  o.max_write_buffer_number = 3;
  o.level_compaction_dynamic_level_bytes = true;
  // LZ4 at every level: a cache miss decompresses one block, and LZ4 decodes several times
  // faster than ZSTD; state is small and hot, so speed beats the last bit of ratio.
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kLZ4Compression;

  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  // Index and filter blocks live in the table readers, outside the block cache: a cache-miss
  // lookup then never re-reads and decompresses them (which dominated at 10M customers). Their
  // memory is about 1.3 bytes per key (10-bit bloom filter plus index), bounded by the data.
  t.cache_index_and_filter_blocks = false;
  t.format_version = 5;
  switch (cf) {
    case Cf::kCustomers:
      // Point lookups by full key: whole-key bloom filter, hash index within data blocks.
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      t.whole_key_filtering = true;
      t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
      o.optimize_filters_for_hits = false;
      o.memtable_whole_key_filtering = true;
      o.memtable_prefix_bloom_size_ratio = 0.02;
      o.memtable_insert_with_hint_prefix_extractor = std::make_shared<CustomerInsertHintPrefix>();
      break;
    case Cf::kTimers:
      // Buckets of timers (keys.h): ordered scans within one partition (the prefix), commits add
      // merge operands, compactions merge them and drop buckets that have emptied.
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      t.whole_key_filtering = true;
      o.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kPartitionBytes));
      o.memtable_prefix_bloom_size_ratio = 0.02;
      o.memtable_whole_key_filtering = true;
      o.merge_operator = timer_bucket_merge_operator();
      // RocksDB runs a compaction filter on stored values, not on what a merge produces in the
      // same compaction: a bucket that empties is dropped the next time its file is compacted.
      // Files older than a day are recompacted (the CF is small), so empty buckets last a day
      // at most; scans skip them meanwhile.
      o.compaction_filter = empty_timer_bucket_filter();
      o.periodic_compaction_seconds = 24 * 3600;
      break;
    case Cf::kOffsets:
    case Cf::kDefault:
      o.write_buffer_size = std::min<size_t>(so.write_buffer_bytes, size_t{4} << 20);
      break;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

}  // namespace

const char* cf_name(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

// ---- CommitBatch ---------------------------------------------------------------------------

CommitBatch::CommitBatch(Store& store, size_t reserve_bytes)
    : store_(&store), batch_(std::make_unique<rocksdb::WriteBatch>(reserve_bytes)) {}
CommitBatch::~CommitBatch() = default;

void CommitBatch::put_customer(PartitionId p, std::string_view customer, std::string_view value) {
  keys::encode_customer_key(p, customer, key_);
  batch_->Put(store_->cf(Cf::kCustomers), slice(key_), slice(value)).PermitUncheckedError();
}
void CommitBatch::delete_customer(PartitionId p, std::string_view customer) {
  keys::encode_customer_key(p, customer, key_);
  batch_->Delete(store_->cf(Cf::kCustomers), slice(key_)).PermitUncheckedError();
}
void CommitBatch::put_timer(PartitionId p, EventTime due, std::string_view customer, uint64_t id) {
  timer_record(p, due, customer, id, keys::kTimerPut);
}
void CommitBatch::delete_timer(PartitionId p, EventTime due, std::string_view customer, uint64_t id) {
  timer_record(p, due, customer, id, keys::kTimerDelete);
}
void CommitBatch::timer_record(PartitionId p, EventTime due, std::string_view customer, uint64_t id, char op) {
  keys::encode_timer_bucket_key(p, keys::bucket_bits(keys::due_bits(due)), key_);
  size_t i = last_timer_op_;
  if (i >= timer_ops_used_ || timer_ops_[i].key != key_) {
    auto [it, added] = timer_op_index_.try_emplace(key_, timer_ops_used_);
    i = it->second;
    if (added) {
      if (timer_ops_used_ == timer_ops_.size()) timer_ops_.emplace_back();
      TimerOperand& fresh = timer_ops_[timer_ops_used_++];
      fresh.key = key_;
      fresh.records.clear();
      timer_ops_bytes_ += key_.size();
    }
    last_timer_op_ = i;
  }
  std::string& records = timer_ops_[i].records;
  const size_t before = records.size();
  records.push_back(op);
  keys::append_timer_key(records, due, customer, id);
  timer_ops_bytes_ += records.size() - before;
}
void CommitBatch::seal() {
  for (size_t i = 0; i < timer_ops_used_; ++i) {
    batch_->Merge(store_->cf(Cf::kTimers), slice(timer_ops_[i].key), slice(timer_ops_[i].records))
        .PermitUncheckedError();
  }
  timer_ops_used_ = 0;
  timer_ops_bytes_ = 0;
  last_timer_op_ = 0;
  timer_op_index_.clear();
}
void CommitBatch::put_offset(PartitionId p, std::string_view topic, Offset next) {
  batch_->Put(store_->cf(Cf::kOffsets), slice(keys::offset_key(p, topic)),
              slice(keys::encode_offset_value(next)))
      .PermitUncheckedError();
}
void CommitBatch::put_meta(PartitionId p, std::string_view key, std::string_view value) {
  batch_->Put(store_->cf(Cf::kOffsets), slice(keys::meta_key(p, key)), slice(value))
      .PermitUncheckedError();
}
void CommitBatch::delete_meta(PartitionId p, std::string_view key) {
  batch_->Delete(store_->cf(Cf::kOffsets), slice(keys::meta_key(p, key))).PermitUncheckedError();
}
size_t CommitBatch::bytes() const { return batch_->GetDataSize() + timer_ops_bytes_; }
size_t CommitBatch::count() const { return static_cast<size_t>(batch_->Count()) + timer_ops_used_; }
void CommitBatch::clear() {
  batch_->Clear();
  timer_ops_used_ = 0;
  timer_ops_bytes_ = 0;
  last_timer_op_ = 0;
  timer_op_index_.clear();
}

// ---- Store: open/close ---------------------------------------------------------------------

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (options.path.empty()) return Status::invalid_argument("state store path is empty");
  const std::string& path = options.path;
  std::error_code ec;

  bool has_db = false;
  fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::io_error("state directory " + path + " cannot be inspected: " + ec.message());
  }
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return Status::io_error("state directory " + path + " exists and is not a directory");
    }
    has_db = fs::exists(fs::path(path) / "CURRENT", ec);
    if (!has_db) {
      // Files RocksDB leaves behind without CURRENT mean a damaged database, not an empty dir.
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with("MANIFEST-") || name.ends_with(".sst") || name.ends_with(".log") ||
            name.starts_with("OPTIONS-")) {
          return Status::corruption("state directory " + path + " holds RocksDB files (" + name +
                                    ") but no CURRENT file; refusing to start fresh");
        }
      }
      if (ec) return Status::io_error("state directory " + path + " cannot be listed: " + ec.message());
    }
  }
  if (!has_db && options.read_only) {
    return Status::not_found("no state store in " + path);
  }
  if (!has_db && !options.create_if_missing) {
    return Status::not_found("no state store in " + path + " and create_if_missing is false");
  }
  if (!has_db) {
    fs::create_directories(path, ec);
    if (ec) return Status::io_error("cannot create state directory " + path + ": " + ec.message());
  }

  std::unique_ptr<Store> store(new Store());
  store->options_ = options;
  store->cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !has_db;
  db_options.create_missing_column_families = true;
  db_options.error_if_exists = false;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    descriptors.emplace_back(kCfNames[i], cf_options(static_cast<Cf>(i), options, store->cache_));
  }
  if (has_db) {
    std::vector<std::string> existing;
    rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options, path, &existing);
    if (!ls.ok()) {
      if (looks_like_lock_error(ls)) {
        return Status::io_error("state directory " + path + " is locked by another process: " +
                                ls.ToString());
      }
      return Status::corruption("state store in " + path + " cannot be read: " + ls.ToString());
    }
    for (const std::string& name : existing) {
      if (std::find(std::begin(kCfNames), std::end(kCfNames), name) == std::end(kCfNames)) {
        descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
      }
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  // Read-only opens take no lock, so tools can inspect the store of a running engine.
  rocksdb::Status s = options.read_only
                          ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &raw)
                          : rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (looks_like_lock_error(s)) {
      return Status::io_error("state directory " + path + " is locked by another process: " +
                              s.ToString());
    }
    if (has_db && !s.IsIOError()) {
      return Status::corruption("state store in " + path + " cannot be opened: " + s.ToString());
    }
    if (has_db && s.ToString().find("No such file") != std::string::npos) {
      return Status::corruption("state store in " + path + " is missing files: " + s.ToString());
    }
    return Status::io_error("cannot open state store in " + path + ": " + s.ToString());
  }
  store->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) {
    if (i < static_cast<size_t>(kCfCount)) {
      store->handles_[i] = handles[i];
    } else {
      store->extra_handles_.push_back(handles[i]);
    }
  }
  if (Status s = store->check_layout(has_db); !s) return s;
  return store;
}

Status Store::check_layout(bool existed) {
  const auto write_marker = [this]() -> Status {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status ws = db_->Put(wo, cf(Cf::kDefault), slice(keys::kLayoutKey), slice(keys::kLayoutCurrent));
    if (!ws.ok()) return from_rocksdb(ws, "writing the store layout marker");
    return Status::ok();
  };
  if (!existed) return options_.read_only ? Status::ok() : write_marker();
  std::string layout;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(Cf::kDefault), slice(keys::kLayoutKey), &layout);
  if (s.ok()) {
    if (layout == keys::kLayoutCurrent) return Status::ok();
    // Before customer states of version 2: this beckon writes them from now on.
    if (layout == keys::kLayoutTimerBuckets) {
      if (options_.read_only) return Status::ok();
      spdlog::info("state store {}: layout '{}' -> '{}': customer states are written in encoding version 2 from "
                   "now on (older ones are rewritten when their customer changes); the release that wrote '{}' "
                   "refuses this store",
                   options_.path, layout, keys::kLayoutCurrent, layout);
      return write_marker();
    }
    return Status::corruption("state store in " + options_.path + " has layout '" + layout +
                              "', which this beckon does not know (written by a newer version?)");
  }
  if (!s.IsNotFound()) return from_rocksdb(s, "reading the store layout marker");
  // No marker: a store written before the marker existed, which may hold one key per timer.
  // A read-only open leaves it as it is (tools report such keys).
  if (options_.read_only) return Status::ok();
  Result<size_t> migrated = migrate_per_timer_keys();
  if (!migrated) return migrated.status();
  if (*migrated > 0) {
    spdlog::info("state store {}: rewrote {} timers from one key per timer into buckets of due time",
                 options_.path, *migrated);
  }
  return write_marker();
}

Result<size_t> Store::migrate_per_timer_keys() {
  // A store written before timers were bucketed holds one key per timer:
  // [partition BE32][timer key] with an empty value. Each batch deletes such keys and adds their
  // timers to their buckets (records in key order, as the scan meets them) atomically, so an
  // interrupted rewrite resumes at the next open. Bucket keys have exactly kTimerBucketKeyBytes.
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // every partition, past the prefix extractor
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kTimers)));
  rocksdb::WriteBatch batch;
  std::map<std::string, std::string> operands;  // bucket key -> put records
  size_t migrated = 0, pending = 0;
  auto write = [&]() -> Status {
    for (const auto& [key, records] : operands) {
      batch.Merge(cf(Cf::kTimers), slice(key), slice(records)).PermitUncheckedError();
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status ws = db_->Write(wo, &batch);
    if (!ws.ok()) return from_rocksdb(ws, "rewriting timers into buckets");
    batch.Clear();
    operands.clear();
    pending = 0;
    return Status::ok();
  };
  std::string bucket;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k = view(it->key());
    if (k.size() == keys::kTimerBucketKeyBytes) continue;
    const std::string_view timer = k.size() > keys::kPartitionBytes ? k.substr(keys::kPartitionBytes) : std::string_view();
    size_t size = 0;
    if (!keys::decode_timer_key(timer, &size) || size != timer.size()) {
      return Status::corruption("timer index holds a key that is neither a bucket nor a timer key");
    }
    bucket.assign(k.substr(0, keys::kPartitionBytes));
    keys::put_be64(bucket, keys::bucket_bits(keys::get_be64(timer.data())));
    std::string& records = operands[bucket];
    records.push_back(keys::kTimerPut);
    records.append(timer);
    batch.Delete(cf(Cf::kTimers), slice(k)).PermitUncheckedError();
    ++migrated;
    if (++pending == 100'000) {
      if (Status ws = write(); !ws) return ws;
    }
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning timers");
  if (pending > 0) {
    if (Status ws = write(); !ws) return ws;
  }
  return migrated;
}

Store::~Store() {
  if (!db_) return;
  for (auto*& h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    h = nullptr;
  }
  for (auto* h : extra_handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
  db_.reset();
}

// ---- Store: reads --------------------------------------------------------------------------

Status Store::get_customer(PartitionId p, std::string_view customer, std::string* value) {
  disable_perf_counters();
  std::string key = keys::customer_key(p, customer);
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(Cf::kCustomers), slice(key), value);
  if (s.ok()) return Status::ok();
  if (s.IsNotFound()) return Status::not_found("customer not found");
  return from_rocksdb(s, "reading customer state");
}

void Store::multi_get_customers(PartitionId p, std::span<const std::string_view> customers,
                                const MultiGetCallback& callback) {
  disable_perf_counters();
  const size_t n = customers.size();
  if (n == 0) return;
  // Keys in store order, as MultiGet wants them (sorted_input = true skips its own sort).
  std::vector<std::string> keys(n);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) {
    keys::encode_customer_key(p, customers[i], keys[i]);
    order[i] = i;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) slices[i] = slice(keys[order[i]]);
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(rocksdb::ReadOptions(), cf(Cf::kCustomers), n, slices.data(), values.data(), statuses.data(),
                /*sorted_input=*/true);
  for (size_t k = 0; k < n; ++k) {
    if (statuses[k].ok()) {
      callback(order[k], Status::ok(), view(values[k]));
    } else if (statuses[k].IsNotFound()) {
      callback(order[k], Status::not_found("customer not found"), {});
    } else {
      callback(order[k], from_rocksdb(statuses[k], "reading customer state"), {});
    }
  }
}

Result<bool> Store::has_timer(PartitionId p, EventTime due, std::string_view customer, uint64_t id) {
  bool found = false;
  const std::string want = keys::timer_key(due, customer, id);
  Status s = scan_timers_impl(p, want, /*skip_start=*/false, 1,
                              [&](EventTime d, std::string_view c, uint64_t i) {
                                found = d == due && c == customer.substr(0, keys::kMaxTimerCustomerBytes) && i == id;
                              });
  if (!s) return s;
  return found;
}

Result<std::optional<Offset>> Store::load_offset(PartitionId p, std::string_view topic) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(Cf::kOffsets), slice(keys::offset_key(p, topic)), &value);
  if (s.IsNotFound()) return std::optional<Offset>();
  if (!s.ok()) return from_rocksdb(s, "reading offset");
  std::optional<Offset> o = keys::decode_offset_value(value);
  if (!o) return Status::corruption("stored offset for " + std::string(topic) + " is malformed");
  return o;
}

Result<std::vector<std::pair<std::string, Offset>>> Store::load_offsets(PartitionId p) {
  std::string start = keys::offset_key(p, "");
  std::string end = keys::partition_prefix(p);
  end.push_back(keys::kOffsetTag + 1);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kOffsets)));
  std::vector<std::pair<std::string, Offset>> out;
  for (it->Seek(slice(start)); it->Valid(); it->Next()) {
    std::optional<Offset> o = keys::decode_offset_value(view(it->value()));
    if (!o) return Status::corruption("stored offset is malformed");
    out.emplace_back(std::string(view(it->key()).substr(start.size())), *o);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning offsets");
  return out;
}

Result<std::optional<std::string>> Store::load_meta(PartitionId p, std::string_view key) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(Cf::kOffsets), slice(keys::meta_key(p, key)), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocksdb(s, "reading partition metadata");
  return std::optional<std::string>(std::move(value));
}

// ---- Store: writes -------------------------------------------------------------------------

Status Store::commit(CommitBatch& batch) {
  if (batch.store_ != this) return Status::invalid_argument("batch belongs to another store");
  disable_perf_counters();
  batch.seal();
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_commits;
  rocksdb::Status s = db_->Write(wo, batch.batch_.get());
  if (!s.ok()) return from_rocksdb(s, "committing state");
  return Status::ok();
}

Status Store::delete_partition(PartitionId p) {
  if (p.value() < 0) return Status::invalid_argument("partition must be >= 0");
  // Begins at the bare partition prefix: CustomerInsertHintPrefix keeps range deletions out of
  // the memtable's insert hints by that length (a RocksDB 7.8 bug, see there).
  std::string begin = keys::partition_prefix(p);
  std::string end = partition_end(p);
  rocksdb::WriteBatch batch;
  for (auto* h : handles_) batch.DeleteRange(h, slice(begin), slice(end)).PermitUncheckedError();
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_commits;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return from_rocksdb(s, "deleting partition");
  return Status::ok();
}

Status Store::flush() {
  std::vector<rocksdb::ColumnFamilyHandle*> all(std::begin(handles_), std::end(handles_));
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), all);
  if (!s.ok()) return from_rocksdb(s, "flushing memtables");
  return Status::ok();
}

Status Store::compact() {
  if (Status s = flush(); !s) return s;
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_) {
    rocksdb::Status s = db_->CompactRange(o, h, nullptr, nullptr);
    if (!s.ok()) return from_rocksdb(s, "compacting");
  }
  return Status::ok();
}

// ---- Store: scans --------------------------------------------------------------------------

Status Store::scan_timers_impl(PartitionId p, const std::string& start, bool skip_start,
                               size_t limit, const TimerCallback& callback) {
  if (limit == 0) return Status::ok();
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;  // stays within the partition (the prefix)
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kTimers)));
  const uint32_t part = keys::partition_bits(p);
  const uint64_t start_bits = start.size() >= 8 ? keys::get_be64(start.data()) : 0;
  std::string seek;
  keys::encode_timer_bucket_key(p, keys::bucket_bits(start_bits), seek);
  const auto malformed = [&](const char* what) {
    return Status::corruption(std::string("timer index of partition ") + std::to_string(p.value()) + ": " + what);
  };
  size_t n = 0;
  for (it->Seek(slice(seek)); it->Valid() && n < limit; it->Next()) {
    std::string_view k = view(it->key());
    if (k.size() < keys::kPartitionBytes || keys::get_be32(k.data()) != part) break;
    if (k.size() != keys::kTimerBucketKeyBytes) {
      return malformed("a key that is not a bucket key (one key per timer, as an older beckon wrote; opening the store for writing rewrites them)");
    }
    // A merged bucket: put records in ascending timer key order (timer_buckets.h).
    std::string_view records = view(it->value());
    std::string_view previous;
    while (!records.empty() && n < limit) {
      size_t size = 0;
      std::optional<keys::DecodedTimerKey> d;
      if (records[0] == keys::kTimerPut) d = keys::decode_timer_key(records.substr(1), &size);
      if (!d) return malformed("a malformed timer record");
      const std::string_view key = records.substr(1, size);
      if (!previous.empty() && !(previous < key)) return malformed("timer records out of order");
      previous = key;
      records.remove_prefix(1 + size);
      if (key < std::string_view(start) || (skip_start && key == start)) continue;
      callback(d->due, d->customer, d->id);
      ++n;
    }
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning timers");
  return Status::ok();
}

Status Store::scan_timers(PartitionId p, EventTime from, size_t limit, const TimerCallback& callback) {
  return scan_timers_impl(p, keys::timer_seek_key(from), false, limit, callback);
}

Status Store::scan_timers_from(PartitionId p, EventTime due, std::string_view customer, uint64_t id,
                               bool inclusive, size_t limit, const TimerCallback& callback) {
  return scan_timers_impl(p, keys::timer_key(due, customer, id), !inclusive, limit, callback);
}

Status Store::scan_customers(const std::string* prefix, const CustomerCallback& callback) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // tools must not wipe the hot set
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kCustomers)));
  if (prefix != nullptr) {
    it->Seek(slice(*prefix));
  } else {
    it->SeekToFirst();
  }
  for (; it->Valid(); it->Next()) {
    std::string_view k = view(it->key());
    if (prefix != nullptr && !k.starts_with(*prefix)) break;
    PartitionId p;
    std::string_view customer;
    if (!keys::decode_customer_key(k, p, customer)) return Status::corruption("malformed customer key");
    callback(p, customer, view(it->value()));
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning customers");
  return Status::ok();
}

Status Store::for_each_customer(const CustomerCallback& callback) {
  return scan_customers(nullptr, callback);
}

Status Store::for_each_customer_in(PartitionId p, const CustomerCallback& callback) {
  std::string prefix = keys::partition_prefix(p);
  return scan_customers(&prefix, callback);
}

// ---- Store: properties ---------------------------------------------------------------------

Result<std::string> Store::property(std::string_view name, Cf c) {
  std::string value;
  if (!db_->GetProperty(cf(c), slice(name), &value)) {
    return Status::not_found("unknown RocksDB property " + std::string(name));
  }
  return value;
}

Result<uint64_t> Store::int_property(std::string_view name) {
  uint64_t value = 0;
  if (!db_->GetAggregatedIntProperty(slice(name), &value)) {
    return Status::not_found("unknown RocksDB integer property " + std::string(name));
  }
  return value;
}

Result<uint64_t> Store::int_property(std::string_view name, Cf c) {
  uint64_t value = 0;
  if (!db_->GetIntProperty(cf(c), slice(name), &value)) {
    return Status::not_found("unknown RocksDB integer property " + std::string(name));
  }
  return value;
}

StoreStats Store::stats() {
  StoreStats out;
  auto get = [this](std::string_view name) {
    Result<uint64_t> r = int_property(name);
    return r.is_ok() ? r.value() : uint64_t{0};
  };
  out.memtable_bytes = get(rocksdb::DB::Properties::kCurSizeAllMemTables);
  out.pending_compaction_bytes = get(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  out.block_cache_usage_bytes = cache_ ? cache_->GetUsage() : 0;
  out.block_cache_capacity_bytes = cache_ ? cache_->GetCapacity() : 0;
  for (int i = 0; i < kCfCount; ++i) {
    Result<uint64_t> r = int_property(rocksdb::DB::Properties::kEstimateNumKeys, static_cast<Cf>(i));
    out.estimate_keys[i] = r.is_ok() ? r.value() : 0;
  }
  return out;
}

}  // namespace beckon::state
