#include "state/timer_buckets.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "state/keys.h"

namespace beckon::state {
namespace {

std::string rec(char op, int64_t due, std::string_view customer, uint64_t id) {
  std::string out(1, op);
  keys::append_timer_key(out, EventTime(due), customer, id);
  return out;
}
std::string put(int64_t due, std::string_view c, uint64_t id) { return rec(keys::kTimerPut, due, c, id); }
std::string del(int64_t due, std::string_view c, uint64_t id) { return rec(keys::kTimerDelete, due, c, id); }

std::string merged(const std::string* existing, const std::vector<std::string>& operands) {
  std::vector<std::string_view> views(operands.begin(), operands.end());
  std::string_view ex = existing ? std::string_view(*existing) : std::string_view();
  std::string out = "stale";
  EXPECT_TRUE(merge_timer_bucket(existing ? &ex : nullptr, views, out));
  return out;
}

TEST(TimerBuckets, MergeKeepsLatestChangePerTimerInKeyOrder) {
  const std::vector<std::string> ops = {put(30, "b", 1) + put(10, "a", 1) + put(20, "c", 1),
                                        del(10, "a", 1) + put(10, "a", 2),
                                        del(20, "c", 1) + put(20, "c", 1)};  // deleted then put again
  EXPECT_EQ(merged(nullptr, ops), put(10, "a", 2) + put(20, "c", 1) + put(30, "b", 1));
}

TEST(TimerBuckets, MergeOntoExistingValueAndIdempotence) {
  const std::string existing = put(10, "a", 1) + put(30, "b", 1);
  const std::string op = del(30, "b", 1) + put(20, "x", 7) + del(99, "never", 1);
  const std::string once = merged(&existing, {op});
  EXPECT_EQ(once, put(10, "a", 1) + put(20, "x", 7));
  EXPECT_EQ(merged(&existing, {op, op}), once);
  EXPECT_EQ(merged(&once, {op}), once);
  EXPECT_EQ(merged(&existing, {del(10, "a", 1) + del(30, "b", 1)}), "");
}

TEST(TimerBuckets, MalformedInputIsRefused) {
  std::string out;
  const std::string good = put(10, "a", 1);
  const std::string_view truncated = std::string_view(good).substr(0, good.size() - 1);
  EXPECT_FALSE(merge_timer_bucket(nullptr, std::vector<std::string_view>{truncated}, out));
  const std::string bad_op = "X" + good.substr(1);
  EXPECT_FALSE(merge_timer_bucket(nullptr, std::vector<std::string_view>{bad_op}, out));
  // A merged value holds put records only, in strictly ascending order.
  const std::string with_delete = del(10, "a", 1);
  std::string_view ex = with_delete;
  EXPECT_FALSE(merge_timer_bucket(&ex, {}, out));
  const std::string unordered = put(30, "b", 1) + put(10, "a", 1);
  ex = unordered;
  EXPECT_FALSE(merge_timer_bucket(&ex, {}, out));
  ex = good;
  EXPECT_TRUE(merge_timer_bucket(&ex, {}, out));
  EXPECT_EQ(out, good);
}

}  // namespace
}  // namespace beckon::state
