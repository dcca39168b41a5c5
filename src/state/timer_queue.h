#pragma once

#include <array>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "state/keys.h"
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
// A timer is identified by (due, customer, id). Timers are popped in key order: due time, then
// customer id length, then customer id bytes, then timer id (the store's key order, keys.h).
//
// Memory is bounded: the head holds every pending timer whose key is below a boundary and at
// most `head_capacity` of them; the rest live in the store or, until the next commit, in the
// change table. When the head runs dry it is refilled by an ordered scan of the store from the
// boundary, which reads up to kScanHeads heads' worth and keeps what the head does not take for
// the next refills (until a commit), so at most (1 + kScanHeads) * head_capacity timers are in
// memory. A refill takes only the soonest keys that fit, from the scan and the uncommitted puts
// together; the stored keys it read and had no room for stay read ahead. The read-ahead is
// consumed in place, and its buffer (customer ids included) is reused by the next scan rather
// than allocated per key. Nothing ever scans all customers.
//
// Contract: schedule() of a timer that is already pending, or cancel() of one that is not, is
// the caller's error outside the in-memory head; inside the head range the queue still detects
// it and ignores it. schedule() and cancel() never read the store: beyond the head the queue
// trusts the caller (pipeline::Worker knows from the customer's state, committed in the same
// batch, which of its timers are pending) and only detects a repeat of a change made since the
// last commit. Under this contract pending() and pending_in_class() are exact; a caller that
// breaks it makes them drift (and a stray cancel writes a delete of an absent key, harmless).
//
// Commit protocol (same as StateCache): flush_to(batch) writes the timer puts/deletes (in key
// order) and the pending count (partition metadata "timers.pending"); after Store::commit
// succeeded, on_committed(). If the commit failed, skip on_committed(); the next flush_to()
// rewrites the changes. Changes made between flush_to() and on_committed() are kept for the next
// commit.
//
// Writing on another thread (as StateCache): flush_to() is cut_flush() followed by
// encode_flush(). The owner calls cut_flush(), which copies the changes as they are now, and may
// hand encode_flush() (the sort and the writes) to another thread while it goes on changing the
// queue; encode_flush() reads only that copy, which the owner leaves alone until on_committed()
// or the next cut_flush().
//
// A storage read error (while refilling the head) is sticky: status(), pop_due() and flush_to()
// (cut_flush()) return it, so it cannot reach a commit unnoticed.
//
// Once warm, the hot path (schedule, cancel, pop_due) allocates nothing: head nodes (up to
// kSpareHeadNodes spare ones) and change entries, with their customer id buffers, are reused; the
// change table keeps the size of the largest batch it has held until open(), and so does the
// cut's copy of it (its records and sort keys, about 90 bytes per change with a short id).
//
// Owned by the partition's worker; not thread-safe. open() must be called before other methods.
class TimerQueue {
 public:
  static constexpr std::string_view kPendingMetaKey = "timers.pending";

  TimerQueue(Store& store, PartitionId partition, size_t head_capacity = 4096);
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Loads the pending count and the first chunk of the head from the store. May be called again
  // to drop uncommitted changes and reload.
  Status open();

  // Add or remove one timer; neither reads the store (see the contract above). Customer ids
  // longer than keys::kMaxTimerCustomerBytes are rejected by schedule (sticky InvalidArgument)
  // and ignored by cancel.
  void schedule(std::string_view customer, uint64_t id, EventTime due);
  void cancel(std::string_view customer, uint64_t id, EventTime due);

  // The earliest timer if it is due at or before `frontier`, removed from the queue (its delete
  // is recorded for the next commit). False when none is due.
  Result<bool> pop_due(EventTime frontier, DueTimer& out);
  // A hint, before the changes of one customer's event: starts loading where the change table
  // keeps that customer's changes (they share one group of slots), so that the schedules and
  // cancels the event leads to find it in cache.
  void prefetch_changes(std::string_view customer) const { changes_.prefetch(customer); }
  // The earliest pending due time; nullopt when no timer is pending (or on a storage error,
  // which status() then reports).
  std::optional<EventTime> next_due();

  // Records the timer changes and the pending count into `batch`. Returns the sticky error, if
  // any (then nothing is written).
  Status flush_to(CommitBatch& batch);
  // Owner's thread: what the next commit holds, copied (see the class comment). Returns the
  // sticky error, if any (then nothing is cut).
  Status cut_flush();
  // Any one thread, after a successful cut_flush(): writes the cut into `batch`.
  void encode_flush(CommitBatch& batch);
  void on_committed();

  // Exact number of pending timers of this partition, uncommitted changes included (as long as
  // the caller keeps the contract above).
  int64_t pending() const { return pending_; }
  // Pending timers of one class: the top two bits of a timer id name its class (journey/ puts
  // the trigger there), so the count per trigger survives restarts without a scan.
  static constexpr size_t kTimerClasses = 4;
  static size_t timer_class(uint64_t id) { return static_cast<size_t>(id >> 62); }
  int64_t pending_in_class(size_t c) const { return pending_by_class_[c]; }
  const Status& status() const { return error_; }
  size_t head_size() const { return head_.size(); }
  size_t uncommitted_changes() const { return changes_.size(); }
  // Store keys read ahead by the last refill and not yet taken into the head (tests).
  size_t read_ahead() const { return spill_len_ - spill_pos_; }
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

  // The uncommitted changes, keyed by (due, customer, id): open addressing (linear probing,
  // backward-shift deletion) over a dense array of entries. The keys of one customer hash into
  // one group of 8 slots (see hash()). Lookups allocate nothing, and the
  // entries keep their customer id buffers from one batch to the next. Unordered: flush_to sorts
  // what it writes. Entry pointers are invalidated by insert, erase, clear and retain.
  class ChangeTable {
   public:
    struct Entry {
      Key key;
      Change change;
      uint64_t hash = 0;
    };
    // A key's hash: below 2^32; bits 3-23 from the customer alone (kGroupMask), the rest from
    // the customer, id and due.
    static uint64_t hash(const KeyView& k);
    static uint64_t customer_hash(std::string_view customer);
    static constexpr uint64_t kGroupMask = 0x00FFFFF8;
    // Starts loading the slots where the customer's keys are found.
    void prefetch(std::string_view customer) const;
    // The entry of `k` (whose hash is `h`), or nullptr.
    Entry* find(const KeyView& k, uint64_t h);
    // Adds `k`, which must be absent, with a default Change.
    Entry& insert(const KeyView& k, uint64_t h);
    void erase(Entry& e);
    void clear();
    // Keeps the entries for which keep(entry&) returns true (it may modify them).
    template <typename Keep>
    void retain(Keep keep);
    size_t size() const { return size_; }
    Entry* begin() { return entries_.data(); }
    Entry* end() { return entries_.data() + size_; }

   private:
    struct Slot {
      uint32_t hash = 0;   // low bits of the entry's hash: home slot and a cheap filter
      uint32_t entry = 0;  // index into entries_ plus one; 0 marks an empty slot
    };
    void grow();
    void empty_slots();  // every slot empty (entries unchanged); may shrink the array
    void place(uint64_t h, size_t entry);
    size_t slot_of(uint64_t h, size_t entry) const;

    std::vector<Entry> entries_;  // [0, size_) live; the rest keep their buffers for reuse
    size_t size_ = 0;
    std::vector<Slot> slots_;  // a power of two in size, at most half full
  };

  // Which keys the head covers: none, keys < bound_, keys <= bound_, or all keys.
  enum class Bound : uint8_t { kNone, kBefore, kThrough, kAll };

  using HeadSet = std::set<Key, Less>;
  // Head nodes kept for reuse after a pop or cancel, at most this many.
  static constexpr size_t kSpareHeadNodes = 1024;
  // A store scan reads this many heads' worth of timers; what the head does not take waits in
  // spill_ for the next refills.
  static constexpr size_t kScanHeads = 16;

  bool in_range(const KeyView& k) const;
  void record(const KeyView& k, uint64_t h, ChangeTable::Entry* e, bool put);
  // Inserts k unless present; `hint` is where it goes (any position is correct, a right one is
  // cheaper).
  void head_insert(HeadSet::const_iterator hint, const KeyView& k);
  void recycle(HeadSet::node_type&& node);
  void trim_head();
  Status refill();
  Status ensure_head();
  void drop_spill() {
    spill_len_ = 0;
    spill_pos_ = 0;
    spill_exhausted_ = false;
  }

  Store& store_;
  PartitionId partition_;
  size_t head_capacity_;
  HeadSet head_;
  std::vector<HeadSet::node_type> spare_nodes_;
  Bound bound_kind_ = Bound::kNone;
  Key bound_{};
  ChangeTable changes_;  // uncommitted puts/deletes relative to the store
  // Store keys just past bound_, in order, from the last store scan: [spill_pos_, spill_len_)
  // are still to come; spill_exhausted_ when that scan reached the end of the partition. The
  // elements past spill_len_ only keep their customer id buffers for the next scan. Valid until
  // the store's timers or the bound change otherwise (open, trim_head and a commit that wrote
  // timer changes clear it).
  std::vector<Key> spill_;
  size_t spill_len_ = 0;
  size_t spill_pos_ = 0;
  bool spill_exhausted_ = false;
  // The cut (cut_flush): the changes as they were, and their pending counts. [0, cut_len_) are
  // live; the rest keep their customer id buffers.
  struct CutRecord {
    Key key;
    bool put = false;
  };
  std::vector<CutRecord> cut_;
  size_t cut_len_ = 0;
  std::string cut_counts_;
  // encode_flush's sort: the first bytes of each record's key beside its index, so that most
  // comparisons read no record.
  struct CutOrder {
    keys::TimerKeyPrefix prefix;
    uint32_t record;
  };
  std::vector<CutOrder> cut_order_;
  std::vector<const Key*> incoming_;                    // scratch of refill (empty between refills)
  uint64_t version_ = 0;
  uint64_t flushed_version_ = 0;
  bool flushed_ = false;
  bool flushed_changes_ = false;  // the batch in flight writes timer records
  int64_t pending_ = 0;
  std::array<int64_t, kTimerClasses> pending_by_class_{};
  Status error_;
};

}  // namespace beckon::state
