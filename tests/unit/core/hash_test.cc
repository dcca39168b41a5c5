#include "core/hash.h"

#include <gtest/gtest.h>

namespace beckon {
namespace {

TEST(HashBuilder, SameFieldsSameDigest) {
  EXPECT_EQ(HashBuilder().add("c42").add(uint64_t{3}).hex128(), HashBuilder().add("c42").add(uint64_t{3}).hex128());
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
