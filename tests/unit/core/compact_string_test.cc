#include "core/compact_string.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace beckon {
namespace {

std::string text(size_t n, char c = 'x') { return std::string(n, c); }

TEST(CompactStringTest, KeepsShortAndLongStringsAlike) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, CompactString::kInline, CompactString::kInline + 1,
                   size_t{200}}) {
    const std::string s = text(n, static_cast<char>('a' + n % 26));
    CompactString c(s);
    EXPECT_EQ(c.size(), n);
    EXPECT_EQ(c.view(), s);
    EXPECT_EQ(c.str(), s);
    EXPECT_EQ(c.empty(), n == 0);
    EXPECT_TRUE(c == s);
    EXPECT_TRUE(s == c);
    EXPECT_TRUE(c == std::string_view(s));
    EXPECT_FALSE(c == s + "y");
  }
  EXPECT_EQ(sizeof(CompactString), sizeof(std::string));
}

TEST(CompactStringTest, TakesAnEmptyViewWithoutData) {
  CompactString s("cart_abandonment");
  s.assign(std::string_view());
  EXPECT_TRUE(s.empty());
  CompactString long_one(text(50));
  long_one = std::string_view();
  EXPECT_TRUE(long_one.empty());
  EXPECT_EQ(CompactString(std::string_view()), "");
}

TEST(CompactStringTest, AShortStringLivesInsideTheObject) {
  CompactString inline_one(text(CompactString::kInline));
  const char* data = inline_one.data();
  EXPECT_TRUE(data >= reinterpret_cast<const char*>(&inline_one) &&
              data < reinterpret_cast<const char*>(&inline_one) + sizeof inline_one);
  CompactString heap_one(text(CompactString::kInline + 1));
  data = heap_one.data();
  EXPECT_FALSE(data >= reinterpret_cast<const char*>(&heap_one) &&
               data < reinterpret_cast<const char*>(&heap_one) + sizeof heap_one);
}

TEST(CompactStringTest, CopiesAndMovesBetweenInlineAndHeap) {
  const std::vector<std::string> values = {"", "cart_abandonment", text(31, 'i'), text(32, 'h'), text(100, 'l')};
  for (const std::string& a : values) {
    for (const std::string& b : values) {
      CompactString x(a), y(b);
      x = y;
      EXPECT_EQ(x, b);
      EXPECT_EQ(y, b) << "a copy leaves its source";
      CompactString z(a);
      z = std::move(y);
      EXPECT_EQ(z, b);
      EXPECT_TRUE(y.empty()) << "a move leaves its source empty";  // NOLINT(bugprone-use-after-move)
      y = a;  // a moved-from string takes new values
      EXPECT_EQ(y, a);
      CompactString w(std::move(z));
      EXPECT_EQ(w, b);
      CompactString v(w);
      EXPECT_EQ(v, w);
    }
  }
}

TEST(CompactStringTest, AssignsFromItself) {
  for (size_t n : {size_t{10}, size_t{31}, size_t{60}}) {
    CompactString s(text(n, 'q') + "tail");
    const CompactString& same = s;
    s = same;
    EXPECT_EQ(s, text(n, 'q') + "tail");
    // A part of itself, from the heap into the object and within the object.
    s.assign(s.view().substr(n));
    EXPECT_EQ(s, "tail");
    s.assign(s.view().substr(1, 2));
    EXPECT_EQ(s, "ai");
  }
  CompactString big(text(40, 'a') + text(40, 'b'));
  big.assign(big.view().substr(40));  // heap to heap, from its own block
  EXPECT_EQ(big, text(40, 'b'));
}

}  // namespace
}  // namespace beckon
