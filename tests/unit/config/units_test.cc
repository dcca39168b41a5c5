#include <gtest/gtest.h>

#include "config/config.h"

namespace beckon::config {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("30s"), Millis(30'000));
  EXPECT_EQ(parse_duration("15m"), Millis(15 * 60'000));
  EXPECT_EQ(parse_duration("1h"), Millis(3'600'000));
  EXPECT_EQ(parse_duration("3d"), Millis(3 * 86'400'000LL));
  EXPECT_EQ(parse_duration("1w"), Millis(7 * 86'400'000LL));
  EXPECT_EQ(parse_duration("0"), Millis(0));
  EXPECT_EQ(parse_duration("0s"), Millis(0));
}

TEST(ParseDuration, ReadsCompoundsInDecreasingUnitOrder) {
  EXPECT_EQ(parse_duration("1h30m"), Millis(90 * 60'000));
  EXPECT_EQ(parse_duration("1d12h"), Millis(36 * 3'600'000LL));
  EXPECT_EQ(parse_duration("1s500ms"), Millis(1500));
  EXPECT_EQ(parse_duration("30m1h"), std::nullopt);
  EXPECT_EQ(parse_duration("1h1h"), std::nullopt);
}

TEST(ParseDuration, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "soon", "5", "1.5h", "-5s", "5 s", "h", "5x", "1H", "5sec",
                          "99999999999999999999w", "1000000000000000w"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(ParseDuration, TrimsOuterSpaces) { EXPECT_EQ(parse_duration(" 30s "), Millis(30'000)); }

TEST(FormatDuration, WritesTheShortestSpellingThatParsesBack) {
  EXPECT_EQ(format_duration(Millis(0)), "0");
  EXPECT_EQ(format_duration(Millis(90 * 60'000)), "1h30m");
  EXPECT_EQ(format_duration(Millis(7 * 86'400'000LL)), "1w");
  EXPECT_EQ(format_duration(Millis(1500)), "1s500ms");
  for (int64_t ms : {1LL, 999LL, 61'001LL, 3'600'000LL * 25, 86'400'000LL * 9 + 1}) {
    EXPECT_EQ(parse_duration(format_duration(Millis(ms))), Millis(ms)) << ms;
  }
}

TEST(ParseSize, ReadsBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("512B"), 512u);
  EXPECT_EQ(parse_size("64KiB"), 64u << 10);
  EXPECT_EQ(parse_size("64MiB"), 64u << 20);
  EXPECT_EQ(parse_size("1GiB"), uint64_t{1} << 30);
  EXPECT_EQ(parse_size("2TiB"), uint64_t{2} << 40);
  EXPECT_EQ(parse_size("10KB"), 10'000u);
  EXPECT_EQ(parse_size("1MB"), 1'000'000u);
  EXPECT_EQ(parse_size("3GB"), 3'000'000'000u);
  EXPECT_EQ(parse_size("256 MiB"), 256u << 20);
}

TEST(ParseSize, RejectsWhatIsNotASize) {
  for (const char* bad : {"", "MiB", "1.5GiB", "-1", "64mib", "64M", "1 GiB extra", "99999999999TiB"}) {
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace beckon::config
