#pragma once

#include <array>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/types.h"
#include "state/store.h"

namespace beckon::state {

// A timer that has come due, as returned by TimerQueue::pop_due.
struct DueTimer {
  std::string customer;
  uint64_t id = 0;
  EventTime due;
};

// The durable timers of ONE partition: the timers CF of the Store (committed timers) plus the
// changes of the current batch, with an in-memory ordered head of the soonest timers.
//
// A timer is identified by (due, customer, id); scheduling an existing timer is a no-op and so
// is cancelling an absent one. Timers are popped in key order: due time, then customer id length,
// then customer id bytes, then timer id (the store's key order, keys.h).
//
// Memory is bounded: the head holds every pending timer whose key is below a boundary and at
// most `head_capacity` of them; the rest live in the store or, until the next commit, in the
// change map. When the head runs dry it is refilled from the store by an ordered scan from the
// boundary. Nothing ever scans all customers.
//
// Commit protocol (same as StateCache): flush_to(batch) writes the timer puts/deletes and the
// pending count (partition metadata "timers.pending"); after Store::commit succeeded,
// on_committed(). If the commit failed, skip on_committed(); the next flush_to() rewrites the
// changes. Changes made between flush_to() and on_committed() are kept for the next commit.
//
// A storage read error (while refilling, or checking whether a far-future timer exists) is
// sticky: status(), pop_due() and flush_to() return it, so it cannot reach a commit unnoticed.
//
// Owned by the partition's worker; not thread-safe. open() must be called before other methods.
class TimerQueue {
 public:
  static constexpr std::string_view kPendingMetaKey = "timers.pending";

  TimerQueue(Store& store, PartitionId partition, size_t head_capacity = 65536);
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Loads the pending count and the first chunk of the head from the store. May be called again
  // to drop uncommitted changes and reload.
  Status open();

  // Customer ids longer than keys::kMaxTimerCustomerBytes are rejected (sticky InvalidArgument).
  void schedule(std::string_view customer, uint64_t id, EventTime due);
  void cancel(std::string_view customer, uint64_t id, EventTime due);

  // The earliest timer if it is due at or before `frontier`, removed from the queue (its delete
  // is recorded for the next commit). False when none is due.
  Result<bool> pop_due(EventTime frontier, DueTimer& out);
  // The earliest pending due time; nullopt when no timer is pending (or on a storage error,
  // which status() then reports).
  std::optional<EventTime> next_due();

  // Records the timer changes and the pending count into `batch`. Returns the sticky error, if
  // any (then nothing is written).
  Status flush_to(CommitBatch& batch);
  void on_committed();

  // Exact number of pending timers of this partition, uncommitted changes included.
  int64_t pending() const { return pending_; }
  // Pending timers of one class: the top two bits of a timer id name its class (journey/ puts
  // the trigger there), so the count per trigger survives restarts without a scan.
  static constexpr size_t kTimerClasses = 4;
  static size_t timer_class(uint64_t id) { return static_cast<size_t>(id >> 62); }
  int64_t pending_in_class(size_t c) const { return pending_by_class_[c]; }
  const Status& status() const { return error_; }
  size_t head_size() const { return head_.size(); }
  size_t uncommitted_changes() const { return changes_.size(); }
  PartitionId partition() const { return partition_; }

 private:
  struct KeyView {
    EventTime due;
    std::string_view customer;
    uint64_t id;
  };
  struct Key {
    EventTime due;
    std::string customer;
    uint64_t id;
    KeyView view() const { return KeyView{due, customer, id}; }
  };
  struct Less {
    using is_transparent = void;
    static bool less(const KeyView& a, const KeyView& b) {
      if (a.due != b.due) return a.due < b.due;
      if (a.customer.size() != b.customer.size()) return a.customer.size() < b.customer.size();
      int c = a.customer.compare(b.customer);
      if (c != 0) return c < 0;
      return a.id < b.id;
    }
    static KeyView v(const Key& k) { return k.view(); }
    static const KeyView& v(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const { return less(v(a), v(b)); }
  };
  struct Change {
    bool put = false;
    uint64_t version = 0;
    bool stored = false;       // whether the committed store holds the key (what `put` changes)
    bool flushed_put = false;  // what the last flush_to wrote for this key...
    bool in_flush = false;     // ...if this entry was part of that flush
  };
  // Which keys the head covers: none, keys < bound_, keys <= bound_, or all keys.
  enum class Bound : uint8_t { kNone, kBefore, kThrough, kAll };

  bool in_range(const KeyView& k) const;
  bool exists(const KeyView& k);
  void record(const KeyView& k, bool put);
  void trim_head();
  Status refill();
  Status ensure_head();

  Store& store_;
  PartitionId partition_;
  size_t head_capacity_;
  std::set<Key, Less> head_;
  Bound bound_kind_ = Bound::kNone;
  Key bound_{};
  std::map<Key, Change, Less> changes_;  // uncommitted puts/deletes relative to the store
  uint64_t version_ = 0;
  uint64_t flushed_version_ = 0;
  bool flushed_ = false;
  int64_t pending_ = 0;
  std::array<int64_t, kTimerClasses> pending_by_class_{};
  Status error_;
};

}  // namespace beckon::state
