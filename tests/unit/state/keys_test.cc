#include "state/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

namespace beckon::state::keys {
namespace {

TEST(Keys, NegativeDueSortsBeforePositive) {
  std::string neg = timer_key(EventTime(-5), "c", 1);
  std::string zero = timer_key(EventTime(0), "c", 1);
  std::string pos = timer_key(EventTime(5), "c", 1);
  std::string min = timer_key(EventTime::min(), "c", 1);
  std::string max = timer_key(EventTime::max(), "c", 1);
  EXPECT_LT(min, neg);
  EXPECT_LT(neg, zero);
  EXPECT_LT(zero, pos);
  EXPECT_LT(pos, max);
  // A seek key sorts before every timer key of its due time and after those of earlier ones.
  EXPECT_LT(timer_seek_key(EventTime(5)), pos);
  EXPECT_LT(zero, timer_seek_key(EventTime(5)));
}

TEST(Keys, PartitionIsMajorOrderInEveryKeyKind) {
  // Partition 1 with the largest due time still sorts before partition 2 with the smallest.
  EXPECT_LT(timer_bucket_key(PartitionId(1), EventTime::max()), timer_bucket_key(PartitionId(2), EventTime::min()));
  EXPECT_LT(customer_key(PartitionId(1), "\xff\xff"), customer_key(PartitionId(2), ""));
  EXPECT_LT(meta_key(PartitionId(1), "z"), offset_key(PartitionId(2), "a"));
  // 256 > 1 numerically and bytewise (big-endian), unlike a little-endian encoding.
  EXPECT_LT(customer_key(PartitionId(1), "a"), customer_key(PartitionId(256), "a"));
}

TEST(Keys, TimerBucketsFollowDueOrderWithoutOverflow) {
  const int64_t dues[] = {std::numeric_limits<int64_t>::min(), -60'001, -60'000, -1, 0, 1, 59'999, 60'000,
                          1767225600000, std::numeric_limits<int64_t>::max()};
  uint64_t previous = 0;
  for (int64_t d : dues) {
    const uint64_t bits = due_bits(EventTime(d));
    const uint64_t b = bucket_bits(bits);
    EXPECT_LE(b, bits) << d;
    EXPECT_LT(bits - b, kTimerBucketMs) << d;
    EXPECT_GE(b, previous) << d;  // a later due never lands in an earlier bucket
    previous = b;
    EXPECT_EQ(timer_bucket_key(PartitionId(4), EventTime(d)).size(), kTimerBucketKeyBytes);
  }
  // Due times a bucket apart land in different buckets, due times within one may share it.
  EXPECT_NE(bucket_bits(due_bits(EventTime(0))), bucket_bits(due_bits(EventTime(kTimerBucketMs))));
}

TEST(Keys, TimerKeyRoundTrips) {
  std::string customer("cu\0st\xff", 6);
  std::string k = timer_key(EventTime(-123456789), customer, 0xDEADBEEF12345678ull);
  size_t size = 0;
  auto d = decode_timer_key(k, &size);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(size, k.size());
  EXPECT_EQ(d->due, EventTime(-123456789));
  EXPECT_EQ(d->customer, customer);
  EXPECT_EQ(d->id, 0xDEADBEEF12345678ull);
}

TEST(Keys, MalformedTimerKeyIsRejected) {
  std::string k = timer_key(EventTime(1), "abc", 1);
  size_t size = 0;
  EXPECT_FALSE(decode_timer_key(k.substr(0, k.size() - 1), &size).has_value());
  EXPECT_FALSE(decode_timer_key("short", &size).has_value());
  // A key followed by more bytes (the next record) decodes, and says where it ends.
  ASSERT_TRUE(decode_timer_key(k + "x", &size).has_value());
  EXPECT_EQ(size, k.size());
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

// Bytewise order of encoded timer keys equals (due, customer length, customer, id).
TEST(Keys, TimerKeyBytewiseOrderMatchesTupleOrder) {
  std::mt19937_64 rng(7);
  using Tuple = std::tuple<int64_t, size_t, std::string, uint64_t>;
  std::vector<std::pair<Tuple, std::string>> items;
  const int64_t dues[] = {std::numeric_limits<int64_t>::min(), -1000, -1, 0, 1, 999,
                          std::numeric_limits<int64_t>::max()};
  for (int i = 0; i < 2000; ++i) {
    int64_t due = rng() % 2 ? dues[rng() % 7] : static_cast<int64_t>(rng());
    std::string customer;
    size_t len = rng() % 4;
    for (size_t j = 0; j < len; ++j) customer.push_back(static_cast<char>(rng() % 256));
    uint64_t id = rng() % 2 ? rng() % 4 : rng();
    items.push_back({Tuple{due, customer.size(), customer, id}, timer_key(EventTime(due), customer, id)});
  }
  auto by_tuple = items;
  std::sort(by_tuple.begin(), by_tuple.end(), [](const auto& a, const auto& b) {
    const auto& [d1, l1, c1, i1] = a.first;
    const auto& [d2, l2, c2, i2] = b.first;
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

TEST(Keys, BePrefixIsTheBytesAsABigEndianNumber) {
  EXPECT_EQ(be_prefix("ab", 0), 0x6162000000000000ull);
  EXPECT_EQ(be_prefix("abcdefghij", 8), 0x696a000000000000ull);
  EXPECT_EQ(be_prefix("abcdefgh", 2, 3), 0x636465ull);
  EXPECT_EQ(be_prefix("\xff", 0, 1), 0xffull);  // unsigned bytes
  EXPECT_EQ(be_prefix("abc", 5), 0u);
  EXPECT_LT(be_prefix("ab", 0), be_prefix("ab\x01", 0));
}

// Sorting on timer_key_prefix first and on the whole key only for equal prefixes gives the
// keys' byte order: for customer ids of every length around the 14 bytes the prefix holds, ids
// sharing long prefixes, bytes above 0x7F and due times of both signs.
TEST(Keys, TimerKeyPrefixOrderIsTheKeyOrder) {
  std::mt19937_64 rng(11);
  const int64_t dues[] = {std::numeric_limits<int64_t>::min(), -1, 0, 1, 1767225600000,
                          std::numeric_limits<int64_t>::max()};
  const std::string shared[] = {"", "cust-", "cust-000000", "cust-00000000", "cust-000000000", "\xff\xfe\x80"};
  struct Item {
    TimerKeyPrefix prefix;
    std::string key;
  };
  std::vector<Item> items;
  for (int i = 0; i < 3000; ++i) {
    const EventTime due(dues[rng() % 6]);
    std::string customer = shared[rng() % 6];
    const size_t extra = rng() % 4;
    for (size_t j = 0; j < extra; ++j) customer.push_back(static_cast<char>(rng() % 3 == 0 ? 0x80 + rng() % 128 : '0' + rng() % 3));
    const uint64_t id = rng() % 3;
    items.push_back(Item{timer_key_prefix(due, customer), timer_key(due, customer, id)});
  }
  auto by_prefix = items;
  std::sort(by_prefix.begin(), by_prefix.end(), [](const Item& a, const Item& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return a.key < b.key;
  });
  auto by_key = items;
  std::sort(by_key.begin(), by_key.end(), [](const Item& a, const Item& b) { return a.key < b.key; });
  for (size_t i = 0; i < items.size(); ++i) ASSERT_EQ(by_prefix[i].key, by_key[i].key) << "at " << i;
  // It holds the ids' first 14 bytes: ids that differ there have different prefixes.
  const EventTime due(1767225600000);
  EXPECT_LT(timer_key_prefix(due, "cust-00000000a"), timer_key_prefix(due, "cust-00000000b"));
  EXPECT_EQ(timer_key_prefix(due, "cust-000000000a"), timer_key_prefix(due, "cust-000000000b"));
  EXPECT_LT(timer_key_prefix(due, "cust-zzzzzzzzz"), timer_key_prefix(due, "cust-000000000a"));  // length first
}

}  // namespace
}  // namespace beckon::state::keys
