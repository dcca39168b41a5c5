#include <gtest/gtest.h>

#include "app/engine.h"

namespace beckon::app {
namespace {

using config::ReadAhead;

TEST(ReadAhead, AutoWantsTwoCoresPerWorker) {
  EXPECT_TRUE(read_ahead_on(ReadAhead::kAuto, 1, 2));
  EXPECT_FALSE(read_ahead_on(ReadAhead::kAuto, 2, 2)) << "the workers already keep both cores busy";
  EXPECT_FALSE(read_ahead_on(ReadAhead::kAuto, 2, 3));
  EXPECT_TRUE(read_ahead_on(ReadAhead::kAuto, 2, 4));
  EXPECT_FALSE(read_ahead_on(ReadAhead::kAuto, 1, 1));
}

TEST(ReadAhead, ExplicitSettingWins) {
  EXPECT_TRUE(read_ahead_on(ReadAhead::kOn, 8, 1));
  EXPECT_FALSE(read_ahead_on(ReadAhead::kOff, 1, 64));
}

TEST(ReadAhead, ACpuQuotaCapsTheCoresRoundedUp) {
  EXPECT_EQ(cap_by_cpu_quota(8, 150'000, 100'000), 2u) << "a limit of 1.5 CPUs";
  EXPECT_EQ(cap_by_cpu_quota(8, 200'000, 100'000), 2u);
  EXPECT_EQ(cap_by_cpu_quota(8, 10'000, 100'000), 1u) << "at least one";
  EXPECT_EQ(cap_by_cpu_quota(2, 800'000, 100'000), 2u) << "a quota above the affinity does not add cores";
  EXPECT_EQ(cap_by_cpu_quota(8, -1, 100'000), 8u) << "cgroup v1's no limit";
  EXPECT_EQ(cap_by_cpu_quota(8, 100'000, 0), 8u);
}

TEST(ReadAhead, AvailableCoresIsAtLeastOneAndAtMostTheMachine) {
  const unsigned cores = available_cores();
  EXPECT_GE(cores, 1u);
  EXPECT_LE(cores, std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace beckon::app
