#include "state/timer_buckets.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/merge_operator.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "state/keys.h"

namespace beckon::state {
namespace {

struct Record {
  std::string_view key;  // the timer key
  char op;
};

// Appends the records of `value` to `out`; false when malformed or (for a merged value, `puts_only`)
// holding a delete or keys not strictly ascending.
bool parse_records(std::string_view value, bool puts_only, std::vector<Record>& out) {
  std::string_view previous;
  while (!value.empty()) {
    const char op = value[0];
    if (op != keys::kTimerPut && op != keys::kTimerDelete) return false;
    if (puts_only && op != keys::kTimerPut) return false;
    size_t size = 0;
    if (!keys::decode_timer_key(value.substr(1), &size)) return false;
    const std::string_view key = value.substr(1, size);
    if (puts_only && !previous.empty() && !(previous < key)) return false;
    previous = key;
    out.push_back(Record{key, op});
    value.remove_prefix(1 + size);
  }
  return true;
}

class TimerBucketMerge final : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    std::vector<std::string_view> operands;
    operands.reserve(in.operand_list.size());
    for (const rocksdb::Slice& o : in.operand_list) operands.emplace_back(o.data(), o.size());
    std::string_view existing;
    if (in.existing_value != nullptr) existing = std::string_view(in.existing_value->data(), in.existing_value->size());
    return merge_timer_bucket(in.existing_value != nullptr ? &existing : nullptr, operands, out->new_value);
  }

  // Operands are record lists applied in order, so consecutive ones concatenate.
  bool PartialMergeMulti(const rocksdb::Slice&, const std::deque<rocksdb::Slice>& operand_list,
                         std::string* new_value, rocksdb::Logger*) const override {
    new_value->clear();
    for (const rocksdb::Slice& o : operand_list) new_value->append(o.data(), o.size());
    return true;
  }

  const char* Name() const override { return "beckon.TimerBucketMerge"; }
};

class EmptyTimerBucketFilter final : public rocksdb::CompactionFilter {
 public:
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& existing_value, std::string*, bool*) const override {
    return existing_value.empty();
  }
  const char* Name() const override { return "beckon.EmptyTimerBucketFilter"; }
};

}  // namespace

namespace {

bool ascending_unique(const std::vector<Record>& run) {
  for (size_t i = 1; i < run.size(); ++i) {
    if (!(run[i - 1].key < run[i].key)) return false;
  }
  return true;
}

// Merges `newer` (sorted, unique) over `older` (sorted, unique): a key in both takes newer's record.
void merge_runs(const std::vector<Record>& older, const std::vector<Record>& newer, std::vector<Record>& out) {
  out.clear();
  out.reserve(older.size() + newer.size());
  size_t a = 0, b = 0;
  while (a < older.size() || b < newer.size()) {
    if (b == newer.size() || (a < older.size() && older[a].key < newer[b].key)) {
      out.push_back(older[a++]);
    } else {
      if (a < older.size() && older[a].key == newer[b].key) ++a;
      out.push_back(newer[b++]);
    }
  }
}

}  // namespace

bool merge_timer_bucket(const std::string_view* existing, std::span<const std::string_view> operands,
                        std::string& out) {
  // The existing value is sorted and unique. The operands' records, oldest first, become one
  // sorted run (stable, so the last record of a key is its latest change; skipped when they
  // are in order already, as when one large operand was written by TimerQueue::flush_to in key
  // order), which is merged over the existing value in one pass: reading a large bucket costs
  // one pass over it plus a sort of what changed since it was last merged.
  std::vector<Record> changes;
  for (std::string_view o : operands) {
    if (!parse_records(o, /*puts_only=*/false, changes)) return false;
  }
  if (!ascending_unique(changes)) {
    std::stable_sort(changes.begin(), changes.end(), [](const Record& a, const Record& b) { return a.key < b.key; });
    size_t keep = 0;
    for (size_t i = 0; i < changes.size(); ++i) {
      if (i + 1 < changes.size() && changes[i + 1].key == changes[i].key) continue;  // a later change follows
      changes[keep++] = changes[i];
    }
    changes.resize(keep);
  }
  std::vector<Record> base;
  if (existing != nullptr && !parse_records(*existing, /*puts_only=*/true, base)) return false;
  std::vector<Record> merged;
  merge_runs(base, changes, merged);
  out.clear();
  size_t bytes = 0;
  for (const Record& r : merged) bytes += r.op == keys::kTimerPut ? 1 + r.key.size() : 0;
  out.reserve(bytes);
  for (const Record& r : merged) {
    if (r.op != keys::kTimerPut) continue;
    out.push_back(keys::kTimerPut);
    out.append(r.key);
  }
  return true;
}

std::shared_ptr<rocksdb::MergeOperator> timer_bucket_merge_operator() {
  return std::make_shared<TimerBucketMerge>();
}

const rocksdb::CompactionFilter* empty_timer_bucket_filter() {
  static const EmptyTimerBucketFilter filter;
  return &filter;
}

}  // namespace beckon::state
