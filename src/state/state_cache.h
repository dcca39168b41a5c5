#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "core/status.h"
#include "core/types.h"
#include "state/keys.h"
#include "state/store.h"

namespace beckon::state {

// Codec for StateCache values:
//   static void encode(const V& value, std::string& out);   // replaces out's contents
//   static Status decode(std::string_view bytes, V& out);    // out is default-constructed
//   static void touch(const V& value);                        // optional, see stage()
//   static void load_blocks(const V& value);                  // optional, see encode_flush()
template <typename V, typename Codec>
concept StateCodec = requires(const V& cv, V& v, std::string& out, std::string_view bytes) {
  Codec::encode(cv, out);
  { Codec::decode(bytes, v) } -> std::same_as<Status>;
};

// Asks the CPU to start loading the `bytes` at `p` (no effect on program state).
inline void prefetch_lines(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off);
}

// Write-back cache of decoded customer values of ONE partition, in front of the Store.
//
// Lifecycle of a batch: get()/mark_dirty()/erase() while processing events; flush_to(batch)
// encodes every changed entry (puts and tombstones) into the commit; after Store::commit
// succeeded, on_committed() marks them clean and evicts clean entries beyond `capacity`. If the
// commit failed, do not call on_committed(): the entries stay dirty and the next flush_to()
// writes them again.
//
// Pointers returned by get() stay valid until the next on_committed() or clear(): nothing is
// evicted during a batch, so values of the current batch can be held across get() calls.
// erase() resets the value in place (the pointer stays valid and sees a default V). Changes
// made between flush_to() and on_committed() are kept dirty for the next commit.
//
// Encoding on another thread: flush_to() is cut_flush() followed by encode_flush(). The owner
// calls cut_flush() (it records what the commit holds: the changed entries, as they are now)
// and may hand encode_flush() to another thread while it goes on with get(), mark_dirty() and
// erase(). The two meet per entry through an atomic flag: whichever reaches a cut entry first
// encodes it. When the owner touches a cut entry not yet encoded, get() (or erase()) encodes it
// first, into a buffer of the flush, and encode_flush() takes those bytes instead; if the
// encoding thread holds the entry, the owner waits for that one entry. An owner about to wait
// for the commit takes the puts left the same way (help_encode()). Nothing else is shared:
// the encoding thread reads only cut entries' keys and (before their flag says otherwise)
// values, and the owner neither evicts nor removes entries until on_committed(), which must
// follow encode_flush()'s return (or, for a failed commit, the next cut_flush() does). So the
// owner must not write through a pointer it got from get() before a cut_flush() without
// calling get() again after it.
//
// Layout (the hot path of every event): entries live in fixed-size chunks (stable addresses,
// no per-entry allocation once a slot has been used), found through an open-addressing index of
// 8-byte slots (entry number + 32 hash bits, linear probing, backward-shift deletion). A lookup
// touches one index slot and the entry. mark_dirty()/erase() right after get() of the same
// customer reuse that entry without a second lookup. Eviction is CLOCK (second chance): a hit
// sets a bit instead of relinking a list, and the sweep at on_committed() evicts clean entries
// not used since its last pass, which approximates least-recently-used without touching other
// entries on a hit.
//
// Bounded: clean entries beyond `capacity` are evicted at every on_committed(); during a batch
// the cache may grow past capacity by the entries the batch touches, and over_capacity() tells
// the caller to commit early. Owned by the partition's worker; not thread-safe.
template <typename V, typename Codec>
  requires StateCodec<V, Codec>
class StateCache {
 public:
  StateCache(Store& store, PartitionId partition, size_t capacity)
      : store_(store), partition_(partition), capacity_(capacity) {}
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // The customer's value, loaded from the store and decoded on a miss. A customer with no stored
  // value gets a default V and *existed = false. Errors: store read failure (IoError) or
  // undecodable bytes (Corruption); the cache is unchanged then.
  Result<V*> get(std::string_view customer, bool* existed = nullptr) {
    const uint64_t h = stable_hash64(customer);
    Entry* e = find(customer, h);
    if (e != nullptr && !loaded(*e)) {
      // Its batched read failed: read it again, one by one, which reports the error.
      remove(*e);
      e = nullptr;
    }
    if (e != nullptr) {
      settle(*e);
      if (e->prefetched) {
        e->prefetched = false;
        ++misses_;  // loaded from the store, in a batch
      } else {
        ++hits_;
      }
      e->referenced = true;
      last_ = e;
      if (existed != nullptr) *existed = e->exists;
      return &e->value;
    }
    ++misses_;
    ++loads_;
    Status s = store_.get_customer(partition_, customer, &scratch_);
    const bool found = s.is_ok();
    if (!found && s.code() != Status::Code::kNotFound) return s;
    Entry& fresh = insert(customer, h);
    if (found) {
      Status d = Codec::decode(scratch_, fresh.value);
      if (!d.is_ok()) {
        remove(fresh);
        return Status::corruption("state of customer '" + std::string(customer) + "' in partition " +
                                  std::to_string(partition_.value()) + ": " + d.message());
      }
    }
    fresh.exists = found;
    last_ = &fresh;
    if (existed != nullptr) *existed = found;
    return &fresh.value;
  }

  // Loads the customers that are not cached with one batched store read, so the get() calls
  // that follow hit: stage() and read_staged() on the owner's thread. A hint (e.g. the message
  // keys of a consumed batch): customers never asked for stay cached as clean entries. A
  // customer whose value cannot be read or decoded is left to its get(), which reads it again
  // and reports the error. Nothing is evicted.
  void prefetch(std::span<const std::string_view> customers) {
    stage(customers);
    while (read_staged(staged_.size())) {
    }
  }

  // Read-ahead, so that processing can start before a batch's states are all read. stage()
  // (owner's thread) inserts an entry for each customer that is not cached, in "loading" state,
  // in order; read_staged() (the reading thread, or the owner) reads and decodes the next ones
  // straight into their entries with one batched store read and publishes each through its
  // entry's atomic load flag. get() of an entry the reader has not taken yet reads it itself
  // (at the start of a batch the reader is still on the first customers of other partitions);
  // one the reader is reading it waits for. One whose read failed is read again by get(),
  // which reports the error. Once staged, every customer must be passed by the reader: call
  // read_staged() until it returns false before the next stage() or clear().
  //
  // The owner and the reader share only the staged entries, and each one is taken by exactly
  // one of them (a compare-and-swap on its flag): the taker reads its key and writes its value,
  // the other leaves the value alone until the flag says it is loaded, and eviction skips
  // entries that are not. Nothing can go stale: a customer is staged only when it is
  // not cached, so the store holds its latest committed value (every change goes through the
  // cache, and changed entries stay cached until durable), and from then on its entry is the
  // only way to it.
  //
  // The lookups of a batch are pipelined so that their memory loads overlap instead of waiting
  // on each other: hash every key and start loading its index slot, then start loading the
  // entries the slots name, then look up (from cache) and start loading the cached values
  // (and, through Codec::touch when the codec has it, what they point to). The get() calls of
  // the batch then find their index slot, entry and value in the CPU cache.
  void stage(std::span<const std::string_view> customers) {
    staged_.clear();
    staged_read_ = 0;
    const size_t n = customers.size();
    hashes_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      hashes_[i] = stable_hash64(customers[i]);
      if (!index_.empty()) __builtin_prefetch(&index_[hashes_[i] & mask()]);
    }
    if (!index_.empty()) {
      for (size_t i = 0; i < n; ++i) {
        const Slot s = index_[hashes_[i] & mask()];
        if (s.entry != kNoEntry) __builtin_prefetch(&entry_at(s.entry - 1));
      }
    }
    hits_scratch_.clear();
    for (size_t i = 0; i < n; ++i) {
      const std::string_view c = customers[i];
      if (c.empty()) continue;
      Entry* e = find(c, hashes_[i]);
      if (e != nullptr) {
        const uint8_t load = e->load.load(std::memory_order_relaxed);
        if (load == kLoadLoaded) {
          prefetch_lines(&e->value, sizeof(V));
          hits_scratch_.push_back(e);
          continue;
        }
        if (load == kLoadLoading) continue;  // staged earlier in this batch
        // A failed read of an earlier batch, never asked for: read it again.
        e->value = V{};
      } else {
        e = &insert(c, hashes_[i]);
      }
      e->prefetched = true;
      e->load.store(kLoadLoading, std::memory_order_relaxed);
      staged_.push_back(e);
    }
    if constexpr (requires(const V& v) { Codec::touch(v); }) {
      for (const Entry* e : hits_scratch_) Codec::touch(e->value);
    }
    loads_ += staged_.size();
    // Publishes the keys to the reader (the hand-over to it, e.g. a mutex, orders this too).
    std::atomic_thread_fence(std::memory_order_release);
  }

  // Reading thread (or the owner): reads and decodes the next `max` staged customers (one
  // MultiGet) into their entries. False when every staged customer has been read.
  bool read_staged(size_t max) {
    reading_.clear();
    read_keys_.clear();
    size_t i = staged_read_;
    for (; i < staged_.size() && reading_.size() < max; ++i) {
      Entry* e = staged_[i];
      // Taken unless the owner got there first and read it itself (loaded()).
      uint8_t expected = kLoadLoading;
      if (!e->load.compare_exchange_strong(expected, kLoadReading, std::memory_order_acquire)) continue;
      reading_.push_back(e);
      read_keys_.push_back(e->key);
    }
    staged_read_ = i;
    if (!reading_.empty()) {
      store_.multi_get_customers(partition_, read_keys_, [this](size_t k, const Status& st, std::string_view value) {
        Entry& e = *reading_[k];
        e.load.store(fill(e, st, value) ? kLoadLoaded : kLoadFailed, std::memory_order_release);
      });
      read_chunks_.fetch_add(1, std::memory_order_seq_cst);
      if (reader_waiting_.load(std::memory_order_seq_cst)) read_chunks_.notify_all();
    }
    return staged_read_ < staged_.size();
  }
  // Customers the last stage() left to read.
  size_t staged() const { return staged_.size(); }

  // The customer's value must be written at the next commit. The customer must have been
  // returned by get() (ignored otherwise).
  void mark_dirty(std::string_view customer) {
    Entry* e = lookup(customer);
    if (e == nullptr || !loaded(*e)) return;
    settle(*e);
    e->state = EntryState::kDirty;
    e->exists = true;
    note_change(*e);
  }

  // Deletes the customer's value at the next commit; the cached value becomes a default V.
  // A later mark_dirty() turns the delete back into a put of the (new) value.
  void erase(std::string_view customer) {
    Entry* e = lookup(customer);
    if (e == nullptr) {
      e = &insert(customer, stable_hash64(customer));
    } else {
      (void)loaded(*e);  // the reader is done with it (a failed read is overwritten here)
      e->load.store(kLoadLoaded, std::memory_order_relaxed);
      e->prefetched = false;
      settle(*e);
      e->referenced = true;
      e->value = V{};
    }
    e->exists = false;
    e->state = EntryState::kDeleted;
    note_change(*e);
  }

  // Encodes every changed entry into `batch` (puts and deletes of the customers CF), in key
  // order, so consecutive memtable inserts walk neighbouring skip-list nodes.
  void flush_to(CommitBatch& batch) {
    cut_flush();
    encode_flush(batch);
  }

  // Owner's thread: the changed entries, as they are now, make up the next flush. Their puts
  // are encoded by encode_flush() or, if the owner touches one first, by get()/erase().
  void cut_flush() {
    // Entries of an earlier cut whose commit failed are all still changed: they are cut again.
    for (const FlushItem& item : flush_) item.entry->flight.store(kFlightNone, std::memory_order_relaxed);
    flush_.clear();
    flush_.reserve(changed_.size());
    for (Entry* e : changed_) {
      e->flushed_version = e->version;
      const bool put = e->state == EntryState::kDirty;
      if (put) {
        ++cut_puts_;
        e->flush_slot = static_cast<uint32_t>(flush_.size());
        e->flight.store(kFlightPending, std::memory_order_relaxed);
      }
      // A clean entry cannot be in changed_; kDeleted needs no value, only the key.
      if (put || e->state == EntryState::kDeleted) flush_.push_back(FlushItem{e, put});
    }
    if (claimed_.size() < flush_.size()) claimed_.resize(flush_.size());
    // Publishes the flags and values to the thread that runs encode_flush() (the hand-over to
    // it, e.g. a mutex, orders this too).
    std::atomic_thread_fence(std::memory_order_release);
  }

  // Any one thread, after cut_flush(): writes the cut's puts and deletes into `batch`, in key
  // order. Reads cut entries only; see the class comment for how it shares them with the owner.
  void encode_flush(CommitBatch& batch) {
    // Sorted on the keys' first 16 bytes held beside the items (no pointer chasing per
    // comparison), the full keys only on a tie. Keys of cut entries do not change.
    order_.clear();
    order_.reserve(flush_.size());
    for (const FlushItem& item : flush_) {
      order_.push_back(SortItem{keys::be_prefix(item.entry->key, 0), keys::be_prefix(item.entry->key, 8), item, false});
    }
    std::sort(order_.begin(), order_.end(), [](const SortItem& a, const SortItem& b) {
      if (a.hi != b.hi) return a.hi < b.hi;
      if (a.lo != b.lo) return a.lo < b.lo;
      return a.item.entry->key < b.item.entry->key;
    });
    // Key order is random memory order: start loading the values a few entries ahead, and
    // take hold of the entries a little less far ahead, then load what their values point to
    // (only a held value is read), so encoding overlaps the misses of the next ones.
    constexpr size_t kValueAhead = 16, kHoldAhead = 8;
    const size_t n = order_.size();
    for (size_t i = 0; i < std::min(n, kHoldAhead); ++i) hold(order_[i]);
    for (size_t i = 0; i < n; ++i) {
      if (i + kValueAhead < n) prefetch_lines(&order_[i + kValueAhead].item.entry->value, sizeof(V));
      if (i + kHoldAhead < n) hold(order_[i + kHoldAhead]);
      const SortItem& item = order_[i];
      Entry* e = item.item.entry;
      if (!item.item.put) {
        batch.delete_customer(partition_, e->key);
      } else if (item.held) {
        Codec::encode(e->value, flush_scratch_);
        batch.put_customer(partition_, e->key, flush_scratch_);
        e->flight.store(kFlightDone, std::memory_order_release);
      } else {
        // The owner claimed it: its bytes are ready once the flag says so.
        while (e->flight.load(std::memory_order_acquire) != kFlightDone) cpu_relax();
        batch.put_customer(partition_, e->key, claimed_[e->flush_slot]);
      }
    }
  }

  // Owner's thread, while encode_flush() of the current cut runs on another thread and the owner
  // has nothing else to do (it is about to wait for that commit): encodes the cut's puts that
  // thread has not taken yet, as settle() does, so that the two share the encoding. Goes from
  // the end of the cut, in the order the entries changed, while encode_flush() goes in key
  // order; an entry is taken by whichever reaches it first, and encode_flush() waits only for
  // one the owner holds at that moment (at most kAhead of them). Each entry's out-of-line parts
  // are loaded kAhead entries before it is encoded, as hold() does. Without a cut in flight
  // (no cut_flush() since on_committed(), or encode_flush() done) there is nothing to take.
  // Returns the number of puts encoded.
  size_t help_encode() {
    constexpr size_t kAhead = 8;
    std::array<Entry*, kAhead> held{};  // taken, loading, not encoded yet: a ring
    size_t first = 0, count = 0, encoded = 0;
    auto encode = [&](Entry* e) {
      encode_claimed(*e);
      ++encoded;
    };
    for (size_t i = flush_.size(); i-- > 0;) {
      const FlushItem& item = flush_[i];
      if (!item.put) continue;
      uint8_t expected = kFlightPending;
      if (!item.entry->flight.compare_exchange_strong(expected, kFlightClaimed, std::memory_order_acquire)) continue;
      if constexpr (requires(const V& v) { Codec::load_blocks(v); }) Codec::load_blocks(item.entry->value);
      if (count == kAhead) {
        encode(held[first]);
        held[first] = item.entry;
        first = (first + 1) % kAhead;
      } else {
        held[(first + count++) % kAhead] = item.entry;
      }
    }
    for (; count > 0; --count, first = (first + 1) % kAhead) encode(held[first]);
    return encoded;
  }

  // The batch given to flush_to() is durable: flushed entries become clean, then clean entries
  // beyond capacity are evicted (those not used since the last sweep first).
  void on_committed() {
    for (const FlushItem& item : flush_) item.entry->flight.store(kFlightNone, std::memory_order_relaxed);
    flush_.clear();
    size_t keep = 0;
    for (Entry* e : changed_) {
      if (e->flushed_version == e->version) {
        e->state = EntryState::kClean;
        e->in_changed = false;
      } else {
        changed_[keep++] = e;
      }
    }
    changed_.resize(keep);
    evict();
  }

  // Forgets every entry, dirty ones included (the partition was revoked without a commit).
  // Every staged customer must have been read.
  void clear() {
    staged_.clear();
    staged_read_ = 0;
    flush_.clear();
    chunks_.clear();
    free_.clear();
    index_.clear();
    changed_.clear();
    slots_used_ = 0;
    size_ = 0;
    hand_ = 0;
    last_ = nullptr;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Changes the entry budget (e.g. when the owner's partition count changes); takes effect at
  // the next on_committed().
  void set_capacity(size_t capacity) { capacity_ = capacity; }
  size_t dirty_count() const { return changed_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  // Customers read from the store so far (batched by prefetch() or one by one by get()),
  // counted when read: unlike misses(), which counts a prefetched value at its first get(),
  // reads made before a measured period (a warm-up) stay out of a difference taken across it.
  uint64_t loads() const { return loads_; }
  // Staged customers the owner found not yet taken by the reader and read itself, and those it
  // found being read and slept for.
  uint64_t owner_reads() const { return owner_reads_; }
  uint64_t read_waits() const { return read_waits_; }
  // Puts cut for a commit (cut_flush), and those of them the owner encoded itself because it
  // touched them before encode_flush() got to them.
  uint64_t cut_puts() const { return cut_puts_; }
  uint64_t owner_encodes() const { return owner_encodes_; }
  bool over_capacity() const { return size_ > capacity_; }
  PartitionId partition() const { return partition_; }

  // Tests: every live entry is reachable from its home slot and the index holds nothing else.
  bool index_consistent() {
    size_t occupied = 0;
    for (const Slot& s : index_) occupied += s.entry != kNoEntry;
    if (occupied != size_) return false;
    for (size_t n = 0; n < slots_used_; ++n) {
      Entry& e = entry_at(static_cast<uint32_t>(n));
      if (e.live && find(e.key, e.hash) != &e) return false;
    }
    return true;
  }

 private:
  enum class EntryState : uint8_t { kClean, kDirty, kDeleted };

  // Entry::flight: where a cut put stands. Pending: not encoded yet; Encoding: encode_flush()
  // holds it; Claimed: the owner is encoding it into claimed_; Done: encoded (by either), the
  // owner may change the value again. None: not part of a cut.
  static constexpr uint8_t kFlightNone = 0, kFlightPending = 1, kFlightEncoding = 2, kFlightClaimed = 3,
                           kFlightDone = 4;

  // The fields a lookup reads come first (one cache line with a short key), the value last.
  struct Entry {
    std::string key;
    uint64_t hash = 0;
    uint64_t version = 0;  // bumped by every change
    uint64_t flushed_version = ~uint64_t{0};
    uint32_t number = 0;   // position in the chunks (slot number)
    EntryState state = EntryState::kClean;
    bool live = false;        // holds a cached customer (not a free slot)
    bool exists = false;      // holds a real value, not the default of an absent customer
    bool in_changed = false;
    bool referenced = false;  // used since the last eviction sweep passed it
    bool prefetched = false;  // loaded by prefetch() and not yet asked for
    std::atomic<uint8_t> flight{kFlightNone};  // see kFlightNone...
    std::atomic<uint8_t> load{kLoadLoaded};    // see kLoadLoaded...
    uint32_t flush_slot = 0;                   // its buffer in claimed_, while Pending/Claimed
    V value{};
  };

  struct FlushItem {
    Entry* entry;
    bool put;  // a put of the value; else a delete
  };

  // One index slot: entry number + 1 (0 = empty) and the hash's high 32 bits.
  struct Slot {
    uint32_t entry = 0;
    uint32_t tag = 0;
  };

  struct SortItem {
    uint64_t hi;
    uint64_t lo;
    FlushItem item;
    bool held = false;  // encode_flush() took the put (Pending -> Encoding)
  };

  // encode_flush(): takes a put the owner has not claimed, and loads its value's out-of-line
  // parts (Codec::load_blocks) now that the owner leaves it alone.
  void hold(SortItem& s) {
    if (!s.item.put) return;
    uint8_t expected = kFlightPending;
    s.held = s.item.entry->flight.compare_exchange_strong(expected, kFlightEncoding, std::memory_order_acquire);
    if constexpr (requires(const V& v) { Codec::load_blocks(v); }) {
      if (s.held) Codec::load_blocks(s.item.entry->value);
    }
  }

  static void cpu_relax() { __builtin_ia32_pause(); }

  // Entry::load: Loaded: the value is the customer's (or the default of an absent one);
  // Loading: staged, nobody has started reading it; Reading: being read (by the reader, or by
  // the owner in loaded()); Failed: its read or decode failed.
  static constexpr uint8_t kLoadLoaded = 0, kLoadLoading = 1, kLoadFailed = 2, kLoadReading = 3;

  // Owner's thread: the entry's value, once read; true when it is loaded. An entry the reader
  // has not taken yet the owner takes and reads itself. One the reader is reading it waits
  // for: a short spin, then it sleeps until the reader publishes its chunk, so that a wait
  // gives the core to the reader or the commit thread instead of spinning on it.
  bool loaded(Entry& e) {
    uint8_t load = e.load.load(std::memory_order_acquire);
    if (load == kLoadLoaded || load == kLoadFailed) return load == kLoadLoaded;
    if (load == kLoadLoading && e.load.compare_exchange_strong(load, kLoadReading, std::memory_order_acquire)) {
      // The reader has not started on it (at the start of a batch it is still reading the
      // first customers of every partition): one read here is cheaper than waiting.
      ++owner_reads_;
      Status s = store_.get_customer(partition_, e.key, &scratch_);
      const bool ok = fill(e, s, scratch_);
      e.load.store(ok ? kLoadLoaded : kLoadFailed, std::memory_order_relaxed);
      return ok;
    }
    // The reader is reading it, in its current chunk.
    for (int spins = 0; spins < 256 && load == kLoadReading; ++spins) {
      cpu_relax();
      load = e.load.load(std::memory_order_acquire);
    }
    if (load == kLoadReading) {
      ++read_waits_;
      for (;;) {
        // Announce the wait before looking again: read_staged() bumps the chunk count after
        // publishing its entries and then looks for a waiter (seq_cst on both sides), so either
        // this look sees the entry or that look sees the waiter, or wait() sees a new count.
        reader_waiting_.store(true, std::memory_order_seq_cst);
        const uint32_t chunks = read_chunks_.load(std::memory_order_seq_cst);
        load = e.load.load(std::memory_order_acquire);
        if (load != kLoadReading) break;
        read_chunks_.wait(chunks, std::memory_order_acquire);
      }
      reader_waiting_.store(false, std::memory_order_relaxed);
    }
    return load == kLoadLoaded;
  }

  // Whoever reads a staged entry (reader or owner): decodes the store's answer into it. False
  // when it could not be read or decoded.
  static bool fill(Entry& e, const Status& st, std::string_view value) {
    if (st.is_ok()) {
      e.exists = true;
      return Codec::decode(value, e.value).is_ok();
    }
    e.exists = false;
    return st.code() == Status::Code::kNotFound;
  }

  // Owner's thread, before it changes an entry: a cut put not yet encoded is encoded now, so
  // that encode_flush() writes the value as it was at the cut.
  void settle(Entry& e) {
    uint8_t f = e.flight.load(std::memory_order_acquire);
    if (f == kFlightNone || f == kFlightDone) return;
    if (f == kFlightPending &&
        e.flight.compare_exchange_strong(f, kFlightClaimed, std::memory_order_acquire)) {
      encode_claimed(e);
      return;
    }
    while (e.flight.load(std::memory_order_acquire) != kFlightDone) cpu_relax();
  }

  // Owner's thread, for a cut put it has claimed (settle(), help_encode()): encodes the value
  // into the flush's buffer for it and publishes the bytes to encode_flush().
  void encode_claimed(Entry& e) {
    Codec::encode(e.value, claimed_[e.flush_slot]);
    e.flight.store(kFlightDone, std::memory_order_release);
    ++owner_encodes_;
  }

  static constexpr size_t kChunkBits = 12;  // 4096 entries per chunk
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;
  static constexpr uint32_t kNoEntry = 0;

  Entry& entry_at(uint32_t number) { return chunks_[number >> kChunkBits][number & (kChunkSize - 1)]; }
  static uint32_t tag_of(uint64_t h) { return static_cast<uint32_t>(h >> 32); }
  size_t mask() const { return index_.size() - 1; }

  Entry* find(std::string_view customer, uint64_t h) {
    if (index_.empty()) return nullptr;
    const uint32_t tag = tag_of(h);
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      const Slot s = index_[i];
      if (s.entry == kNoEntry) return nullptr;
      if (s.tag == tag) {
        Entry& e = entry_at(s.entry - 1);
        if (e.key == customer) return &e;
      }
    }
  }

  // The entry of the customer given to the last get()/erase(), else a lookup.
  Entry* lookup(std::string_view customer) {
    if (last_ != nullptr && last_->live && last_->key == customer) return last_;
    Entry* e = find(customer, stable_hash64(customer));
    if (e != nullptr) last_ = e;
    return e;
  }

  Entry& insert(std::string_view customer, uint64_t h) {
    if ((size_ + 1) * 2 > index_.size()) grow_index();
    uint32_t number;
    if (!free_.empty()) {
      number = free_.back();
      free_.pop_back();
    } else {
      if ((slots_used_ >> kChunkBits) == chunks_.size()) chunks_.push_back(std::make_unique<Entry[]>(kChunkSize));
      number = static_cast<uint32_t>(slots_used_++);
    }
    Entry& e = entry_at(number);
    e.key.assign(customer);
    e.hash = h;
    e.number = number;
    e.live = true;
    e.referenced = true;
    e.exists = false;
    e.state = EntryState::kClean;
    e.in_changed = false;
    e.prefetched = false;
    e.load.store(kLoadLoaded, std::memory_order_relaxed);
    e.version = 0;
    e.flushed_version = ~uint64_t{0};
    place(number, h);
    ++size_;
    last_ = &e;
    return e;
  }

  void place(uint32_t number, uint64_t h) {
    size_t i = h & mask();
    while (index_[i].entry != kNoEntry) i = (i + 1) & mask();
    index_[i] = Slot{number + 1, tag_of(h)};
  }

  void grow_index() {
    std::vector<Slot> old = std::move(index_);
    index_.assign(std::max<size_t>(64, old.size() * 2), Slot{});
    for (const Slot& s : old) {
      if (s.entry != kNoEntry) place(s.entry - 1, entry_at(s.entry - 1).hash);
    }
  }

  // Removes a clean entry: its index slot (backward-shift deletion keeps probe chains intact)
  // and its value; the slot joins the free list.
  void remove(Entry& e) {
    size_t i = e.hash & mask();
    while (index_[i].entry != e.number + 1) i = (i + 1) & mask();
    for (size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      const Slot s = index_[j];
      if (s.entry == kNoEntry) break;
      const size_t home = entry_at(s.entry - 1).hash & mask();
      // s may move into the hole at i unless its home lies cyclically in (i, j].
      const bool home_in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!home_in_between) {
        index_[i] = s;
        i = j;
      }
    }
    index_[i] = Slot{};
    e.value = V{};
    e.key.clear();
    e.live = false;
    free_.push_back(e.number);
    --size_;
    if (last_ == &e) last_ = nullptr;
  }

  void note_change(Entry& e) {
    ++e.version;
    if (!e.in_changed) {
      e.in_changed = true;
      changed_.push_back(&e);
    }
  }

  // CLOCK sweep over the slots: a referenced entry gets a second chance (its bit is cleared),
  // an unreferenced clean one is evicted. Two passes at most: after the first every bit is clear.
  void evict() {
    if (size_ <= capacity_ || slots_used_ == 0) return;
    for (size_t steps = 0; size_ > capacity_ && steps < 2 * slots_used_; ++steps) {
      if (hand_ >= slots_used_) hand_ = 0;
      Entry& e = entry_at(static_cast<uint32_t>(hand_++));
      if (!e.live || e.in_changed) continue;
      // Staged and not read yet, or being read: the reader may still take or fill it.
      if (const uint8_t load = e.load.load(std::memory_order_acquire); load == kLoadLoading || load == kLoadReading) {
        continue;
      }
      if (e.referenced) {
        e.referenced = false;
        continue;
      }
      remove(e);
    }
  }

  Store& store_;
  PartitionId partition_;
  size_t capacity_;
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::vector<uint32_t> free_;   // numbers of slots whose entry was evicted
  std::vector<Slot> index_;      // power-of-two size, at most half full
  std::vector<Entry*> changed_;  // entries with a put or delete not yet committed
  std::vector<FlushItem> flush_;      // the last cut, until on_committed() or the next cut
  std::vector<SortItem> order_;       // encode_flush() scratch
  std::vector<std::string> claimed_;  // puts the owner encoded, by Entry::flush_slot
  std::string flush_scratch_;         // encode_flush()'s buffer
  size_t slots_used_ = 0;        // entry numbers handed out so far
  size_t size_ = 0;              // live entries
  size_t hand_ = 0;              // CLOCK position
  Entry* last_ = nullptr;        // entry of the last get()/erase()
  std::string scratch_;
  std::vector<Entry*> hits_scratch_;   // stage() scratch: entries already cached
  std::vector<uint64_t> hashes_;       // stage() scratch: key hashes
  // stage()/read_staged(): the loading entries of the last stage(), in order; [0, staged_read_)
  // have been read (the reader's cursor).
  std::vector<Entry*> staged_;
  size_t staged_read_ = 0;
  std::vector<std::string_view> read_keys_;  // read_staged() scratch
  std::vector<Entry*> reading_;              // read_staged() scratch: the entries it took
  std::atomic<uint32_t> read_chunks_{0};     // chunks read_staged() has published (wraps)
  std::atomic<bool> reader_waiting_{false};  // the owner sleeps in loaded()
  uint64_t read_waits_ = 0;
  uint64_t owner_encodes_ = 0;
  uint64_t owner_reads_ = 0;
  uint64_t cut_puts_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t loads_ = 0;
};

}  // namespace beckon::state
