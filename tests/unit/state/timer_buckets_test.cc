#include "state/timer_buckets.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
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

// Against a plain model (the last change of each timer wins, applied over the existing value),
// for random existing values and operand lists with repeated keys.
TEST(TimerBuckets, MergeMatchesAModelOnRandomInput) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::map<std::string, bool> model;  // timer key -> pending
    auto random_key = [&] {
      const std::string customer(1 + rng() % 3, static_cast<char>('a' + rng() % 4));
      return keys::timer_key(EventTime(static_cast<int64_t>(rng() % 5) - 2), customer, rng() % 3);
    };
    std::string existing;
    const bool has_existing = rng() % 2;
    if (has_existing) {
      std::map<std::string, bool> base;
      for (int i = 0, n = static_cast<int>(rng() % 12); i < n; ++i) base[random_key()] = true;
      for (const auto& [k, _] : base) {
        existing.push_back(keys::kTimerPut);
        existing.append(k);
        model[k] = true;
      }
    }
    std::vector<std::string> operands(rng() % 4);
    for (std::string& o : operands) {
      for (int i = 0, n = static_cast<int>(rng() % 8); i < n; ++i) {
        const std::string k = random_key();
        const bool is_put = rng() % 2;
        o.push_back(is_put ? keys::kTimerPut : keys::kTimerDelete);
        o.append(k);
        model[k] = is_put;
      }
    }
    std::string want;
    for (const auto& [k, pending] : model) {
      if (!pending) continue;
      want.push_back(keys::kTimerPut);
      want.append(k);
    }
    EXPECT_EQ(merged(has_existing ? &existing : nullptr, operands), want) << "round " << round;
  }
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
