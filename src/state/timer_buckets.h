#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace rocksdb {
class CompactionFilter;
class MergeOperator;
}  // namespace rocksdb

namespace beckon::state {

// The timers CF stores one value per partition and bucket of due time (keys.h): a list of
// records [op][timer key], op keys::kTimerPut or keys::kTimerDelete. Commits add merge operands
// (the records of the bucket's changes, in order); reads and compactions merge them.

// Applies `operands` (oldest first) to `existing` (a merged value, or nullptr for none): the
// last record of each timer key decides whether it stays. Writes the merged value, put records
// only in timer key order, to `out` (replacing it). False when any input is malformed (or
// `existing` holds a delete record or is out of order). Records are idempotent: applying an
// operand twice gives the same value.
bool merge_timer_bucket(const std::string_view* existing, std::span<const std::string_view> operands,
                        std::string& out);

// The merge operator of the timers CF (merge_timer_bucket; partial merges concatenate).
std::shared_ptr<rocksdb::MergeOperator> timer_bucket_merge_operator();
// The compaction filter of the timers CF: drops buckets whose merged value is empty (every
// timer in them fired or was cancelled). Static lifetime.
const rocksdb::CompactionFilter* empty_timer_bucket_filter();

}  // namespace beckon::state
