#include "pipeline/job_thread.h"

#include <utility>

#include "core/thread_name.h"

namespace beckon::pipeline {

JobThread::~JobThread() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void JobThread::start(std::function<Status()> job) {
  {
    std::lock_guard lock(mu_);
    job_ = std::move(job);
    has_job_ = true;
    finished_.store(false, std::memory_order_relaxed);
  }
  busy_ = true;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
  } else {
    cv_.notify_all();
  }
}

void JobThread::run() {
  set_thread_name(name_);
  std::unique_lock lock(mu_);
  for (;;) {
    // A job started before the destructor runs is finished first: its batch is written or not,
    // never half-written, and the owner waits for it anyway.
    cv_.wait(lock, [this] { return has_job_ || stopping_; });
    if (!has_job_) return;
    std::function<Status()> job = std::move(job_);
    lock.unlock();
    Status result = job();
    lock.lock();
    result_ = std::move(result);
    has_job_ = false;
    finished_.store(true, std::memory_order_release);
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
  cv_.wait(lock, [this] { return !has_job_; });
  busy_ = false;
  finished_.store(false, std::memory_order_relaxed);
  return std::move(result_);
}

}  // namespace beckon::pipeline
