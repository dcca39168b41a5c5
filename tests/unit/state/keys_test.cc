#include "state/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

namespace beckon::state::keys {
namespace {

TEST(Keys, NegativeDueSortsBeforePositive) {
  PartitionId p(3);
  std::string neg = timer_key(p, EventTime(-5), "c", 1);
  std::string zero = timer_key(p, EventTime(0), "c", 1);
  std::string pos = timer_key(p, EventTime(5), "c", 1);
  std::string min = timer_key(p, EventTime::min(), "c", 1);
  std::string max = timer_key(p, EventTime::max(), "c", 1);
  EXPECT_LT(min, neg);
  EXPECT_LT(neg, zero);
  EXPECT_LT(zero, pos);
  EXPECT_LT(pos, max);
}

TEST(Keys, PartitionIsMajorOrderInEveryKeyKind) {
  // Partition 1 with the largest due time still sorts before partition 2 with the smallest.
  EXPECT_LT(timer_key(PartitionId(1), EventTime::max(), "zzz", ~uint64_t{0}),
            timer_key(PartitionId(2), EventTime::min(), "", 0));
  EXPECT_LT(customer_key(PartitionId(1), "\xff\xff"), customer_key(PartitionId(2), ""));
  EXPECT_LT(meta_key(PartitionId(1), "z"), offset_key(PartitionId(2), "a"));
  // 256 > 1 numerically and bytewise (big-endian), unlike a little-endian encoding.
  EXPECT_LT(customer_key(PartitionId(1), "a"), customer_key(PartitionId(256), "a"));
}

TEST(Keys, TimerKeyRoundTrips) {
  std::string customer("cu\0st\xff", 6);
  std::string k = timer_key(PartitionId(7), EventTime(-123456789), customer, 0xDEADBEEF12345678ull);
  auto d = decode_timer_key(k);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->partition, PartitionId(7));
  EXPECT_EQ(d->due, EventTime(-123456789));
  EXPECT_EQ(d->customer, customer);
  EXPECT_EQ(d->id, 0xDEADBEEF12345678ull);
}

TEST(Keys, MalformedTimerKeyIsRejected) {
  std::string k = timer_key(PartitionId(7), EventTime(1), "abc", 1);
  EXPECT_FALSE(decode_timer_key(k.substr(0, k.size() - 1)).has_value());
  EXPECT_FALSE(decode_timer_key(k + "x").has_value());
  EXPECT_FALSE(decode_timer_key("short").has_value());
}

TEST(Keys, CustomerKeyRoundTrips) {
  std::string k = customer_key(PartitionId(12), "alice");
  PartitionId p;
  std::string_view c;
  ASSERT_TRUE(decode_customer_key(k, p, c));
  EXPECT_EQ(p, PartitionId(12));
  EXPECT_EQ(c, "alice");
}

TEST(Keys, OffsetValueRoundTripsAndRejectsBadSizes) {
  EXPECT_EQ(decode_offset_value(encode_offset_value(Offset(42))), Offset(42));
  EXPECT_EQ(decode_offset_value(encode_offset_value(Offset(-1))), Offset(-1));
  EXPECT_FALSE(decode_offset_value("1234567").has_value());
}

// Bytewise order of encoded timer keys equals (partition, due, customer length, customer, id).
TEST(Keys, TimerKeyBytewiseOrderMatchesTupleOrder) {
  std::mt19937_64 rng(7);
  using Tuple = std::tuple<uint32_t, int64_t, size_t, std::string, uint64_t>;
  std::vector<std::pair<Tuple, std::string>> items;
  const int64_t dues[] = {std::numeric_limits<int64_t>::min(), -1000, -1, 0, 1, 999,
                          std::numeric_limits<int64_t>::max()};
  for (int i = 0; i < 2000; ++i) {
    uint32_t part = static_cast<uint32_t>(rng() % 3);
    int64_t due = rng() % 2 ? dues[rng() % 7] : static_cast<int64_t>(rng());
    std::string customer;
    size_t len = rng() % 4;
    for (size_t j = 0; j < len; ++j) customer.push_back(static_cast<char>(rng() % 256));
    uint64_t id = rng() % 2 ? rng() % 4 : rng();
    items.push_back({Tuple{part, due, customer.size(), customer, id},
                     timer_key(PartitionId(static_cast<int32_t>(part)), EventTime(due), customer, id)});
  }
  auto by_tuple = items;
  std::sort(by_tuple.begin(), by_tuple.end(), [](const auto& a, const auto& b) {
    const auto& [p1, d1, l1, c1, i1] = a.first;
    const auto& [p2, d2, l2, c2, i2] = b.first;
    if (p1 != p2) return p1 < p2;
    if (d1 != d2) return d1 < d2;
    if (l1 != l2) return l1 < l2;
    if (c1 != c2) return std::string_view(c1) < std::string_view(c2);  // unsigned bytes
    return i1 < i2;
  });
  auto by_bytes = items;
  std::stable_sort(by_bytes.begin(), by_bytes.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  for (size_t i = 0; i < items.size(); ++i) {
    ASSERT_EQ(by_tuple[i].second, by_bytes[i].second) << "at " << i;
  }
}

}  // namespace
}  // namespace beckon::state::keys
