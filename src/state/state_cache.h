#pragma once

#include <algorithm>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "state/store.h"

namespace beckon::state {

// Codec for StateCache values:
//   static void encode(const V& value, std::string& out);   // replaces out's contents
//   static Status decode(std::string_view bytes, V& out);    // out is default-constructed
template <typename V, typename Codec>
concept StateCodec = requires(const V& cv, V& v, std::string& out, std::string_view bytes) {
  Codec::encode(cv, out);
  { Codec::decode(bytes, v) } -> std::same_as<Status>;
};

// Write-back cache of decoded customer values of ONE partition, in front of the Store.
//
// Lifecycle of a batch: get()/mark_dirty()/erase() while processing events; flush_to(batch)
// encodes every changed entry (puts and tombstones) into the commit; after Store::commit
// succeeded, on_committed() marks them clean and evicts clean entries beyond `capacity` (least
// recently used first). If the commit failed, do not call on_committed(): the entries stay
// dirty and the next flush_to() writes them again.
//
// Pointers returned by get() stay valid until the next on_committed() or clear(): nothing is
// evicted during a batch, so values of the current batch can be held across get() calls.
// erase() resets the value in place (the pointer stays valid and sees a default V). Changes
// made between flush_to() and on_committed() are kept dirty for the next commit.
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
    auto it = map_.find(customer);
    if (it != map_.end()) {
      ++hits_;
      Entry& e = it->second;
      touch(e);
      if (existed != nullptr) *existed = e.exists;
      return &e.value;
    }
    ++misses_;
    Status s = store_.get_customer(partition_, customer, &scratch_);
    bool found = s.is_ok();
    if (!found && s.code() != Status::Code::kNotFound) return s;
    V value{};
    if (found) {
      Status d = Codec::decode(scratch_, value);
      if (!d.is_ok()) {
        return Status::corruption("state of customer '" + std::string(customer) + "' in partition " +
                                  std::to_string(partition_.value()) + ": " + d.message());
      }
    }
    Entry& e = insert(customer);
    e.value = std::move(value);
    e.exists = found;
    if (existed != nullptr) *existed = found;
    return &e.value;
  }

  // The customer's value must be written at the next commit. The customer must have been
  // returned by get() (ignored otherwise).
  void mark_dirty(std::string_view customer) {
    auto it = map_.find(customer);
    if (it == map_.end()) return;
    Entry& e = it->second;
    e.state = EntryState::kDirty;
    e.exists = true;
    note_change(e);
  }

  // Deletes the customer's value at the next commit; the cached value becomes a default V.
  // A later mark_dirty() turns the delete back into a put of the (new) value.
  void erase(std::string_view customer) {
    auto it = map_.find(customer);
    Entry& e = it != map_.end() ? it->second : insert(customer);
    if (it != map_.end()) touch(e);
    e.value = V{};
    e.exists = false;
    e.state = EntryState::kDeleted;
    note_change(e);
  }

  // Encodes every changed entry into `batch` (puts and deletes of the customers CF), in key
  // order, so consecutive memtable inserts walk neighbouring skip-list nodes.
  void flush_to(CommitBatch& batch) {
    std::sort(changed_.begin(), changed_.end(), [](const Entry* a, const Entry* b) { return *a->key < *b->key; });
    for (Entry* e : changed_) {
      if (e->state == EntryState::kDirty) {
        Codec::encode(e->value, scratch_);
        batch.put_customer(partition_, *e->key, scratch_);
      } else if (e->state == EntryState::kDeleted) {
        batch.delete_customer(partition_, *e->key);
      }
      e->flushed_version = e->version;
    }
  }

  // The batch given to flush_to() is durable: flushed entries become clean, then clean entries
  // beyond capacity are evicted (least recently used first).
  void on_committed() {
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
  void clear() {
    map_.clear();
    changed_.clear();
    head_ = tail_ = nullptr;
  }

  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }
  // Changes the entry budget (e.g. when the owner's partition count changes); takes effect at
  // the next on_committed().
  void set_capacity(size_t capacity) { capacity_ = capacity; }
  size_t dirty_count() const { return changed_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  bool over_capacity() const { return map_.size() > capacity_; }
  PartitionId partition() const { return partition_; }

 private:
  enum class EntryState : uint8_t { kClean, kDirty, kDeleted };

  struct Entry {
    V value{};
    const std::string* key = nullptr;  // the map node's key (node-based map: stable)
    Entry* prev = nullptr;             // LRU list: head_ is the most recently used
    Entry* next = nullptr;
    uint64_t version = 0;              // bumped by every change
    uint64_t flushed_version = ~uint64_t{0};
    EntryState state = EntryState::kClean;
    bool exists = false;               // holds a real value, not the default of an absent customer
    bool in_changed = false;
  };

  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  Entry& insert(std::string_view customer) {
    auto [it, inserted] = map_.try_emplace(std::string(customer));
    Entry& e = it->second;
    e.key = &it->first;
    link_front(e);
    return e;
  }

  void note_change(Entry& e) {
    ++e.version;
    if (!e.in_changed) {
      e.in_changed = true;
      changed_.push_back(&e);
    }
  }

  void link_front(Entry& e) {
    e.prev = nullptr;
    e.next = head_;
    if (head_ != nullptr) head_->prev = &e;
    head_ = &e;
    if (tail_ == nullptr) tail_ = &e;
  }
  void unlink(Entry& e) {
    if (e.prev != nullptr) e.prev->next = e.next; else head_ = e.next;
    if (e.next != nullptr) e.next->prev = e.prev; else tail_ = e.prev;
    e.prev = e.next = nullptr;
  }
  void touch(Entry& e) {
    if (head_ == &e) return;
    unlink(e);
    link_front(e);
  }

  void evict() {
    Entry* e = tail_;
    while (map_.size() > capacity_ && e != nullptr) {
      Entry* prev = e->prev;
      if (!e->in_changed) {
        unlink(*e);
        map_.erase(map_.find(std::string_view(*e->key)));
      }
      e = prev;
    }
  }

  Store& store_;
  PartitionId partition_;
  size_t capacity_;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map_;
  std::vector<Entry*> changed_;  // entries with a put or delete not yet committed
  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
  std::string scratch_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace beckon::state
