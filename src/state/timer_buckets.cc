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

bool merge_timer_bucket(const std::string_view* existing, std::span<const std::string_view> operands,
                        std::string& out) {
  std::vector<Record> records;
  if (existing != nullptr && !parse_records(*existing, /*puts_only=*/true, records)) return false;
  for (std::string_view o : operands) {
    if (!parse_records(o, /*puts_only=*/false, records)) return false;
  }
  // Stable: records of one key keep their order, so the last of each group is the latest.
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) { return a.key < b.key; });
  out.clear();
  for (size_t i = 0; i < records.size(); ++i) {
    if (i + 1 < records.size() && records[i + 1].key == records[i].key) continue;
    if (records[i].op != keys::kTimerPut) continue;
    out.push_back(keys::kTimerPut);
    out.append(records[i].key);
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
