#include "pipeline/job_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace beckon::pipeline {
namespace {

using namespace std::chrono_literals;

// Jobs started back to back find the thread still looking for them; jobs started after a
// pause longer than its linger find it asleep. Both hand-overs must run every job once and
// return its status, whatever the timing.
TEST(JobThread, EveryJobRunsOnceWhetherTheThreadLingersOrSleeps) {
  JobThread t("test-job");
  int runs = 0;  // written by the job, read by the owner after it collects the job
  for (int i = 0; i < 2000; ++i) {
    t.start([&runs, i] {
      ++runs;
      return i % 7 == 0 ? Status::retriable("job " + std::to_string(i)) : Status::ok();
    });
    if (i % 500 == 0) std::this_thread::sleep_for(5ms);  // past the linger: the thread sleeps
    const Status s = t.wait();
    EXPECT_EQ(s.is_ok(), i % 7 != 0) << i;
    ASSERT_EQ(runs, i + 1);
  }
  EXPECT_FALSE(t.busy());
}

TEST(JobThread, PollCollectsOnlyAFinishedJob) {
  JobThread t("test-job");
  std::atomic<bool> release{false};
  t.start([&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return Status::fatal("done");
  });
  EXPECT_FALSE(t.poll().has_value());
  EXPECT_TRUE(t.busy());
  release.store(true);
  std::optional<Status> s;
  for (int i = 0; i < 5000 && !s; ++i) {
    s = t.poll();
    if (!s) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->code(), Status::Code::kFatal);
  EXPECT_FALSE(t.busy());
  // Asleep by now (past its linger), the thread still takes the next job.
  std::this_thread::sleep_for(5ms);
  t.start([] { return Status::ok(); });
  EXPECT_TRUE(t.wait().is_ok());
}

TEST(JobThread, DestructorFinishesTheJobInFlight) {
  std::atomic<int> done{0};
  {
    JobThread t("test-job");
    t.start([&] {
      std::this_thread::sleep_for(20ms);
      done.store(1);
      return Status::ok();
    });
  }
  EXPECT_EQ(done.load(), 1);
}

TEST(JobThread, DestructorStopsALingeringOrSleepingThread) {
  for (auto pause : {0ms, 5ms}) {
    JobThread t("test-job");
    t.start([] { return Status::ok(); });
    EXPECT_TRUE(t.wait().is_ok());
    std::this_thread::sleep_for(pause);  // 0: still lingering; 5 ms: asleep
  }
  JobThread never_started("test-job");  // no thread to stop
}

}  // namespace
}  // namespace beckon::pipeline
