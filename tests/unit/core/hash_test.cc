#include "core/hash.h"

#include <gtest/gtest.h>

namespace beckon {
namespace {

TEST(HashBuilder, SameFieldsSameDigest) {
  EXPECT_EQ(HashBuilder().add("c42").add(uint64_t{3}).hex128(), HashBuilder().add("c42").add(uint64_t{3}).hex128());
}

// The digest is part of the public contract (action ids, timer ids, holdout buckets): pin the
// byte layout it hashes, for short fields and for input past the inline buffer.
TEST(HashBuilder, DigestIsXxh3OfLengthPrefixedLittleEndianFields) {
  auto le64 = [](uint64_t v) {
    std::string out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
  };
  const std::string long_field(500, 'k');
  for (const std::string& field : {std::string(), std::string("cart_abandonment"), long_field}) {
    const std::string bytes = le64(field.size()) + field + le64(0x0102030405060708ull) + le64(3) + "c42";
    HashBuilder h;
    h.add(field).add(uint64_t{0x0102030405060708ull}).add("c42");
    EXPECT_EQ(h.digest64(), stable_hash64(bytes)) << field.size();
  }
}

TEST(HashBuilder, FieldBoundariesMatter) {
  EXPECT_NE(HashBuilder().add("ab").add("c").digest64(), HashBuilder().add("a").add("bc").digest64());
}

TEST(HashBuilder, HexIs32LowercaseChars) {
  std::string id = HashBuilder().add("x").hex128();
  ASSERT_EQ(id.size(), 32u);
  for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
}

TEST(StableHash, KnownValueNeverChanges) {
  // Action ids and holdout buckets depend on this value staying fixed across releases.
  EXPECT_EQ(stable_hash64(""), 0x2d06800538d394c2ULL);
}

}  // namespace
}  // namespace beckon
