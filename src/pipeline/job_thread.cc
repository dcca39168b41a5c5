#include "pipeline/job_thread.h"

#include <sched.h>

#include <algorithm>
#include <utility>

#include "core/thread_name.h"

namespace beckon::pipeline {

JobThread::~JobThread() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_seq_cst);
  }
  cv_.notify_all();
  thread_.join();
}

void JobThread::start(std::function<Status()> job) {
  job_ = std::move(job);  // the job thread reads it only after it sees has_job_
  finished_.store(false, std::memory_order_relaxed);
  busy_ = true;
  has_job_.store(true, std::memory_order_seq_cst);
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
    return;
  }
  // The job thread announces its sleep (seq_cst) before it looks at has_job_ under the mutex
  // for the last time: either it sees the job there, or this sees it sleeping and wakes it.
  // The lock orders this notify after that last look, so the wake-up cannot be lost.
  if (sleeping_.load(std::memory_order_seq_cst)) {
    { std::lock_guard lock(mu_); }
    cv_.notify_all();
  }
}

bool JobThread::linger(std::chrono::steady_clock::duration budget) const {
  const auto until = std::chrono::steady_clock::now() + budget;
  for (unsigned looks = 0;; ++looks) {
    if (has_job_.load(std::memory_order_acquire) || stopping_.load(std::memory_order_acquire)) return true;
    if ((looks & 15) == 15) {
      if (std::chrono::steady_clock::now() >= until) return false;
      sched_yield();  // another thread of this core (a commit, a compaction) runs meanwhile
    } else {
      __builtin_ia32_pause();
    }
  }
}

void JobThread::run() {
  set_thread_name(name_);
  std::chrono::steady_clock::duration budget{0};  // the first job is posted before the thread starts
  for (;;) {
    if (!linger(budget)) {
      std::unique_lock lock(mu_);
      sleeping_.store(true, std::memory_order_seq_cst);
      cv_.wait(lock, [this] {
        return has_job_.load(std::memory_order_seq_cst) || stopping_.load(std::memory_order_relaxed);
      });
      sleeping_.store(false, std::memory_order_relaxed);
    }
    // A job started before the destructor runs is finished first: its batch is written or not,
    // never half-written, and the owner waits for it anyway.
    if (!has_job_.load(std::memory_order_acquire)) return;  // stopping, nothing posted
    const auto began = std::chrono::steady_clock::now();
    Status result = job_();
    job_ = nullptr;
    // Look for the next job for at most twice as long as this one worked: however jobs come,
    // looking takes at most two thirds of the thread's time.
    budget = std::min<std::chrono::steady_clock::duration>(kLinger, 2 * (std::chrono::steady_clock::now() - began));
    {
      std::lock_guard lock(mu_);
      result_ = std::move(result);
      has_job_.store(false, std::memory_order_release);
      finished_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }
}

std::optional<Status> JobThread::poll() {
  if (!busy_ || !finished_.load(std::memory_order_acquire)) return std::nullopt;
  return wait();
}

Status JobThread::wait() {
  if (!busy_) return Status::ok();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !has_job_.load(std::memory_order_acquire); });
  busy_ = false;
  finished_.store(false, std::memory_order_relaxed);
  return std::move(result_);
}

}  // namespace beckon::pipeline
