#pragma once

#include <atomic>
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
  void run();

  const std::string name_;
  bool busy_ = false;                // owner's view: started and not collected
  std::atomic<bool> finished_{false};  // the job has returned (poll's lock-free check)
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<Status()> job_;  // guarded by mu_
  bool has_job_ = false;         // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  Status result_;                // guarded by mu_
  std::thread thread_;
};

}  // namespace beckon::pipeline
