#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"

namespace beckon::pipeline {

// A thread that runs one job at a time for its owner: a Worker writes its commits on one
// (beckon-commit-N), so that processing goes on while RocksDB copies a batch into its WAL and
// memtables and the producer's acknowledgements come in, and reads the states of a batch's
// customers on another (beckon-read-N), so that processing starts before they are all read.
// The owner starts a job, then collects its Status (poll() or wait()) before it starts the
// next one. The thread starts with the first job.
//
// Ownership: a member of its Worker. Thread-safety: one owning thread calls start/poll/wait;
// the job runs on the job thread and must only touch what the owner leaves alone until it
// collects the result (or what the job and the owner share through atomics). The destructor
// waits for a running job, then joins.
//
// Hand-over: after a job the thread looks for the next one for twice as long as the job took,
// at most kLinger, giving its core to any other runnable thread between looks, and only then
// sleeps. Starting a job for a thread that is still looking is a store; waking a sleeping one
// is a system call, and on a virtual machine an interprocessor interrupt, paid by the owner.
// Under a backlog the read thread gets a job per batch, about every millisecond, each taking
// about half of that, so it is then seldom asleep when one comes. Bounded by the job's own
// time, looking never takes more than two thirds of the thread's CPU, however small and
// frequent the jobs: a fixed 2 ms kept a read thread with a job every millisecond on its core
// at any load (bench/RESULTS.md, session 18).
class JobThread {
 public:
  // `name`: the thread's name (set_thread_name; Linux keeps 15 bytes).
  explicit JobThread(std::string name) : name_(std::move(name)) {}
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // Runs `job` on the job thread. A previous job must have been collected.
  void start(std::function<Status()> job);
  // A job has been started and not yet collected.
  bool busy() const { return busy_; }
  // The finished job's Status, collecting it; nullopt while it runs (or when none was started).
  std::optional<Status> poll();
  // Waits for the job and collects its Status (ok when none was started).
  Status wait();

 private:
  static constexpr std::chrono::microseconds kLinger{2000};

  void run();
  // Job thread: true once a job is posted or the thread is to stop, looking for up to `budget`.
  bool linger(std::chrono::steady_clock::duration budget) const;

  const std::string name_;
  bool busy_ = false;                // owner's view: started and not collected
  std::atomic<bool> finished_{false};  // the job has returned (poll's lock-free check)
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<Status()> job_;        // written by start() before has_job_ is set
  std::atomic<bool> has_job_{false};   // set by start(), cleared by the job thread when done
  std::atomic<bool> sleeping_{false};  // the job thread waits (or is about to) on cv_
  std::atomic<bool> stopping_{false};  // set under mu_ (for cv_'s waiter), read lock-free too
  Status result_;                      // guarded by mu_
  std::thread thread_;
};

}  // namespace beckon::pipeline
