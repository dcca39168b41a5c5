#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <mutex>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/event_decoder.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/types.h"
#include "journey/customer_state.h"
#include "journey/engine.h"
#include "journey/journey_config.h"
#include "pipeline/action_sink.h"
#include "pipeline/job_thread.h"
#include "pipeline/observer.h"
#include "state/state_cache.h"
#include "state/store.h"
#include "state/timer_queue.h"

namespace beckon::pipeline {

struct WorkerOptions {
  size_t cache_entries = 1'000'000;  // customers cached by this worker, split over its partitions;
                                     // dirty ones are pinned until the next commit
  // Timers kept in memory per partition: the soonest ones, which fire next. Small on purpose:
  // schedule/cancel inside the head range walk an ordered set, beyond it only a hash table.
  size_t timer_head_capacity = 4'096;
  Millis commit_interval{1000};                  // time between durable commits
  Millis flush_timeout{120'000};                 // longest wait for action acknowledgements
  bool replay = false;                           // frontier from the data alone, no wall clock
  // prefetch(kAhead) reads the next batch's states on the worker's read thread while process()
  // goes on; false: prefetch() reads them all before it returns.
  bool read_ahead = true;
  codec::DecoderOptions decoder;
};

// One consumed message, as the worker needs it (no Kafka types).
struct InputMessage {
  std::string_view topic;
  PartitionId partition;
  Offset offset;
  std::span<const uint8_t> key;
  std::span<const uint8_t> payload;
  codec::InputFormat format = codec::InputFormat::kAuto;
};

struct CommittedOffset {
  std::string topic;
  PartitionId partition;
  Offset next;
};

// The engine of one worker thread: it owns a set of partitions (each with its write-back state
// cache, durable timer queue, input offsets and frontier), decodes each message, runs the
// journeys, hands decisions to its ActionSink and commits everything in one RocksDB batch
// after the sink has acknowledged every action (DESIGN.md §5).
//
// Ownership: created by the app (or a test/bench) with references that must outlive it.
// Thread-safety: none; one thread drives a worker at a time (the ingest runner guards the
// hand-over of partitions during a rebalance with its own lock).
class Worker {
 public:
  Worker(state::Store& store, const journey::EngineConfig& config, const journey::LocalTime& local_time,
         const Clock& clock, ActionSink& sink, WorkerObserver& observer, WorkerOptions options);
  ~Worker();

  // Takes ownership of a partition: opens its timer queue and restores its frontier.
  Status assign(PartitionId partition);
  // Releases a partition. Call commit() first: uncommitted work of the partition is dropped
  // (it will be replayed by the next owner from the stored offsets).
  void revoke(PartitionId partition);
  bool owns(PartitionId partition) const;
  std::vector<PartitionId> partitions() const;
  // The next offset to consume for (partition, topic), from the store; nullopt if none stored.
  Result<std::optional<Offset>> stored_offset(PartitionId partition, std::string_view topic) const;

  // Loads the state of the customers a batch of messages is about to touch, taken from the
  // message keys (input topics are keyed by customer id), in batched store reads.
  // When prefetch() reads: kNow before it returns, in one batched read per partition, for a
  // batch about to be processed (a consumer that keeps up hands over nothing else to work on
  // meanwhile). kAhead, with WorkerOptions::read_ahead, on the worker's read thread
  // (beckon-read-N), for the next batch while this thread processes the current one (a
  // backlog); without read_ahead kAhead reads as kNow.
  enum class Prefetch { kNow, kAhead };
  // Reads the states of the batch's customers that are not cached. With kAhead and read_ahead
  // the reads run on the read thread, in message order; process() reads a customer the read
  // thread has not reached yet itself and waits only for one it is reading. Messages whose
  // payload (and format) codec::peek_event_kind says are events that need no state are left
  // out; a message without its payload is read. A hint only: the process() calls that follow
  // do the work, and a key that is not the event's customer costs nothing but a read. Call it
  // before processing the batch; with kAhead, before processing the one ahead of it. It first
  // waits for the reads of the previous call, which are then done before their batch starts.
  void prefetch(std::span<const InputMessage> messages, Prefetch when);
  // WorkerOptions::read_ahead: prefetch(kAhead) hands its reads to the read thread.
  bool reads_ahead() const { return options_.read_ahead; }
  // Batches whose reads were handed to the read thread.
  uint64_t read_ahead_batches() const { return read_ahead_batches_; }
  // Decodes, applies and records one message. Bad input is dead-lettered and counted, never an
  // error; a non-ok Status means the worker cannot continue (sink or store failure). A message at
  // an offset already processed since its partition was assigned (a redelivery after a
  // rebalance) is skipped and reported to WorkerObserver::on_redelivered.
  Status process(const InputMessage& message);
  // Tells the worker whether `partition` has no backlog (its frontier then follows wall time).
  void set_caught_up(PartitionId partition, bool caught_up);
  // Fires every timer due at or before its partition's frontier.
  Status fire_due_timers();
  // Wall time until the earliest pending timer of a caught-up partition is due (0 when one is
  // due now); nullopt when none is pending or the frontier follows the data. The ingest loop
  // caps its poll timeout with it, so timers fire on time when no messages arrive.
  std::optional<Millis> wall_time_until_next_timer();
  // True when the commit interval has passed or a cache holds too many pinned entries.
  bool commit_due() const;
  // Marks the end of a batch of work for the observer (WorkerObserver::on_batch_end).
  void end_batch() { observer_.on_batch_end(); }

  // Commits run in the background, so that processing goes on while they are written
  // (DESIGN.md §5's protocol is unchanged). begin_commit() cuts a commit on this thread: it
  // records which states changed, copies the timer changes, puts the offsets and frontiers of
  // every owned partition into one batch and seals the sink's messages sent so far. The worker's
  // commit thread then encodes the states (those this thread has not touched since), sorts and
  // writes the timer changes, waits for the sink to acknowledge those messages and writes the
  // batch. State changed after the cut goes into the next commit; entries of the batch stay
  // cached and pinned until it is durable. At most one commit is in flight: if the previous one
  // is still running, begin_commit() first waits for it. Whenever this thread waits for a commit
  // (there, and in finish_commit(true), so at rebalances and shutdown), it first encodes the
  // states the commit thread has not got to (StateCache::help_encode). Non-ok when that previous
  // commit failed or a timer queue holds a storage error (then nothing is handed over).
  // `flush_timeout` overrides WorkerOptions::flush_timeout (shutdown uses a shorter one).
  Status begin_commit(std::optional<Millis> flush_timeout = std::nullopt);
  // Completes the commit in flight if it has finished (with `wait`, waits for it): its entries
  // become clean and evictable, the stats are published. Returns the offsets made durable
  // since the last call (for consumer-group commits), empty when none. A failed commit returns
  // its error: nothing of it was written, its changes stay dirty for the next commit, and the
  // caller must treat the worker as failed (the ingest runner stops; a restart replays).
  Result<std::vector<CommittedOffset>> finish_commit(bool wait = false);
  bool commit_in_flight() const;
  // begin_commit() and finish_commit(true): everything processed so far is durable when it
  // returns ok. Rebalances and shutdown use it.
  Result<std::vector<CommittedOffset>> commit(std::optional<Millis> flush_timeout = std::nullopt);

  // A snapshot published at every commit, safe to read from any thread (metrics).
  struct Stats {
    std::array<std::atomic<int64_t>, journey::kTriggerCount> pending_timers{};
    std::atomic<uint64_t> cache_entries{0};
    std::atomic<uint64_t> cache_hits{0};
    std::atomic<uint64_t> cache_misses{0};
    std::atomic<uint64_t> read_ahead_waits{0};         // CacheCounts::read_waits
    std::atomic<uint64_t> read_ahead_worker_reads{0};  // CacheCounts::owner_reads
    std::atomic<uint64_t> read_ahead_batches{0};       // read_ahead_batches()
    std::atomic<uint64_t> partitions{0};
  };
  const Stats& stats() const { return stats_; }
  // (partition, frontier) of every owned partition as of the last commit; any thread.
  std::vector<std::pair<PartitionId, EventTime>> published_frontiers() const;

  // Introspection for tests and benchmarks (owning thread only).
  EventTime frontier(PartitionId partition) const;
  // The state caches' counters (StateCache's of the same names), summed over the partitions
  // owned now and those revoked before, so each only grows.
  struct CacheCounts {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t loads = 0;          // customer states read from the store
    uint64_t owner_reads = 0;    // staged customers this thread read itself (read thread not there yet)
    uint64_t read_waits = 0;     // lookups that slept for the read thread
    uint64_t cut_puts = 0;       // customer puts cut for commits
    uint64_t owner_encodes = 0;  // ... that this thread encoded: touched before the commit thread got to
                                 // them, or taken while it waited for the commit
    CacheCounts& operator+=(const CacheCounts& o);
  };
  CacheCounts cache_counts() const;
  size_t cached_customers() const;
  int64_t pending_timers() const;
  // Pending timers by trigger over the owned partitions (exact, from the timer index).
  std::array<int64_t, journey::kTriggerCount> pending_timers_by_trigger() const;
  uint64_t processed() const { return processed_; }

 private:
  struct Partition;
  // The owned partition, or nullptr. process() and prefetch() ask for every message: partition
  // numbers below kIndexedPartitions (all that Kafka hands out in practice) are found by index
  // in by_id_, any other in partitions_.
  Partition* find(PartitionId partition);
  void index_partition(PartitionId partition, Partition* p);
  EventTime advance_frontier(Partition& p);
  Status fire_partition(Partition& p);
  Status apply(Partition& p, std::string_view customer, journey::CustomerState& state);
  void rebalance_cache_budget();
  // Collects the commit in flight (waiting for it if `wait`) and completes it; ok while it runs.
  Status complete_commit(bool wait);
  // Waits for the read thread's job, if any (its partitions' caches may then drop or evict).
  void wait_for_reads();
  // Commit thread: waits until the sink acknowledged the sealed set, or flush_deadline_ms_.
  Status wait_for_acknowledgements(uint64_t sealed);
  // Moves the deadline of the commit in flight to `timeout` from now, if that is sooner.
  void tighten_flush_deadline(Millis timeout);
  static int64_t steady_ms();

  state::Store& store_;
  const journey::EngineConfig& config_;
  const Clock& clock_;
  ActionSink& sink_;
  WorkerObserver& observer_;
  WorkerOptions options_;
  journey::JourneyEngine engine_;
  codec::EventDecoder decoder_;
  journey::Outcome outcome_;
  // process()'s decoded message, reused rather than constructed per message (the decoder
  // resets it); its views point into the message being processed, and only there.
  journey::Event event_;
  std::map<int32_t, std::unique_ptr<Partition>> partitions_;
  static constexpr int32_t kIndexedPartitions = 1 << 16;
  std::vector<Partition*> by_id_;  // index of partitions_ by number (find())
  CacheCounts revoked_counts_;  // the revoked partitions' caches' counters
  WallTime last_commit_;
  uint64_t processed_ = 0;
  // Reused by every commit: its buffer keeps the capacity of the largest commit so far (held
  // between commits), instead of allocating and growing tens of MB per commit. Owned by the
  // commit thread while a commit is in flight.
  std::unique_ptr<state::CommitBatch> batch_;
  // The commit in flight: what it makes durable and what on_commit reports.
  struct Flight {
    std::vector<CommittedOffset> offsets;
    std::vector<state::StateCache<journey::CustomerState, journey::CustomerStateCodec>*> caches;
    std::vector<state::TimerQueue*> timers;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point written;  // set by the commit thread
    size_t bytes = 0;
    size_t entries = 0;
  };
  Flight flight_;
  // When the commit in flight stops waiting for acknowledgements (steady clock, ms).
  std::atomic<int64_t> flush_deadline_ms_{0};
  std::vector<CommittedOffset> durable_;  // offsets made durable, not yet returned by finish_commit
  JobThread committer_;
  // The caches whose staged customers the read thread is reading (prefetch with read_ahead).
  std::vector<state::StateCache<journey::CustomerState, journey::CustomerStateCodec>*> reading_;
  uint64_t read_ahead_batches_ = 0;
  JobThread reader_;
  Stats stats_;
  mutable std::mutex published_mu_;
  std::vector<std::pair<PartitionId, EventTime>> published_frontiers_;
};

}  // namespace beckon::pipeline
