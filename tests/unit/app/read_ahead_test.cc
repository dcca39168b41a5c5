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

TEST(ReadAhead, AvailableCoresIsAtLeastOneAndAtMostTheMachine) {
  const unsigned cores = available_cores();
  EXPECT_GE(cores, 1u);
  EXPECT_LE(cores, std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace beckon::app
