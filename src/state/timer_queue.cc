#include "state/timer_queue.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "state/keys.h"

namespace beckon::state {

// ---- ChangeTable ---------------------------------------------------------------------------

uint64_t TimerQueue::ChangeTable::customer_hash(std::string_view customer) {
  return stable_hash64(customer, 0x165667B19E3779F9ull);
}

uint64_t TimerQueue::ChangeTable::hash(const KeyView& k) {
  // The customer chooses the home slot's group of 8 (64 bytes of slots: one cache line when the
  // array is line-aligned, as the allocator places large ones), the timer id and due the slot
  // in it. So the changes of one event (a reminder cancelled at its old due and scheduled at
  // the new one, a fired timer's next step) probe one line, which prefetch() can load while the
  // event is decided. A customer has few pending timers and each one due at a time, so few keys
  // share a group (see record()). The slot's 32 bits are also its filter: the bits outside
  // kGroupMask come from the id and due too, so keys of one customer seldom pass it for another.
  // (A table of more than 2^24 slots spreads one customer's keys over several groups: still
  // correct, only without the shared line.)
  const uint64_t c = customer_hash(k.customer);
  const uint64_t mix = (c ^ (k.id * 0xC2B2AE3D27D4EB4Full) ^ (static_cast<uint64_t>(k.due.ms()) * 0x9E3779B97F4A7C15ull)) *
                       0xD6E8FEB86659FD93ull;
  return (c & kGroupMask) | ((mix >> 32) & ~kGroupMask);
}

void TimerQueue::ChangeTable::prefetch(std::string_view customer) const {
  if (size_ == 0) return;
  __builtin_prefetch(&slots_[customer_hash(customer) & kGroupMask & (slots_.size() - 1)]);
}

TimerQueue::ChangeTable::Entry* TimerQueue::ChangeTable::find(const KeyView& k, uint64_t h) {
  if (size_ == 0) return nullptr;
  const size_t mask = slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(h);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.entry == 0) return nullptr;
    if (s.hash != tag) continue;
    Entry& e = entries_[s.entry - 1];
    if (e.key.due == k.due && e.key.id == k.id && e.key.customer == k.customer) return &e;
  }
}

TimerQueue::ChangeTable::Entry& TimerQueue::ChangeTable::insert(const KeyView& k, uint64_t h) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  if (size_ == entries_.size()) entries_.emplace_back();
  Entry& e = entries_[size_];
  e.key.due = k.due;
  e.key.customer.assign(k.customer);
  e.key.id = k.id;
  e.change = Change{};
  e.hash = h;
  place(h, size_);
  ++size_;
  return e;
}

void TimerQueue::ChangeTable::place(uint64_t h, size_t entry) {
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].entry != 0) i = (i + 1) & mask;
  slots_[i] = Slot{static_cast<uint32_t>(h), static_cast<uint32_t>(entry + 1)};
}

size_t TimerQueue::ChangeTable::slot_of(uint64_t h, size_t entry) const {
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].entry != entry + 1) i = (i + 1) & mask;
  return i;
}

void TimerQueue::ChangeTable::grow() {
  slots_.assign(std::max<size_t>(slots_.size() * 2, 16), Slot{});
  for (size_t e = 0; e < size_; ++e) place(entries_[e].hash, e);
}

void TimerQueue::ChangeTable::erase(Entry& e) {
  const auto index = static_cast<size_t>(&e - entries_.data());
  const size_t mask = slots_.size() - 1;
  // Backward-shift deletion: pull later slots of the probe run into the hole when the hole lies
  // between their home slot and where they sit, so no tombstones are needed.
  size_t hole = slot_of(e.hash, index);
  for (size_t i = (hole + 1) & mask; slots_[i].entry != 0; i = (i + 1) & mask) {
    const size_t home = slots_[i].hash & mask;
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Slot{};
  // Keep the entries dense: the last one fills the gap.
  const size_t last = size_ - 1;
  if (index != last) {
    slots_[slot_of(entries_[last].hash, last)].entry = static_cast<uint32_t>(index + 1);
    std::swap(entries_[index], entries_[last]);
  }
  --size_;
}

void TimerQueue::ChangeTable::clear() {
  if (size_ == 0) return;
  empty_slots();
  size_ = 0;
}

void TimerQueue::ChangeTable::empty_slots() {
  // The slots keep the size of the busiest interval (a catch-up, a burst of schedules). When
  // the live entries are few, emptying their slots one by one beats clearing the whole array,
  // and an array far larger than they need shrinks: every commit clears the table, and a sparse
  // one spreads lookups over more cache lines.
  const size_t want = std::max<size_t>(16, std::bit_ceil(size_ * 4));
  if (slots_.size() > 4 * want) {
    slots_.assign(want, Slot{});
  } else if (size_ * 8 < slots_.size()) {
    for (size_t e = 0; e < size_; ++e) slots_[slot_of(entries_[e].hash, e)] = Slot{};
  } else {
    std::fill(slots_.begin(), slots_.end(), Slot{});
  }
}

template <typename Keep>
void TimerQueue::ChangeTable::retain(Keep keep) {
  if (size_ == 0) return;
  empty_slots();  // while the slots still name the entries where they are
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i) {
    if (!keep(entries_[i])) continue;
    if (i != kept) std::swap(entries_[i], entries_[kept]);
    ++kept;
  }
  size_ = kept;
  for (size_t e = 0; e < size_; ++e) place(entries_[e].hash, e);
}

// ---- TimerQueue ----------------------------------------------------------------------------

TimerQueue::TimerQueue(Store& store, PartitionId partition, size_t head_capacity)
    : store_(store), partition_(partition), head_capacity_(std::max<size_t>(head_capacity, 1)) {}

Status TimerQueue::open() {
  head_.clear();
  drop_spill();
  changes_ = ChangeTable{};
  bound_kind_ = Bound::kNone;
  bound_ = Key{};
  version_ = flushed_version_ = 0;
  flushed_ = false;
  flushed_changes_ = false;
  pending_ = 0;
  error_ = Status::ok();

  pending_by_class_.fill(0);
  Result<std::optional<std::string>> meta = store_.load_meta(partition_, kPendingMetaKey);
  if (!meta.is_ok()) return meta.status();
  if (meta.value().has_value()) {
    // "n0,n1,n2,n3": pending timers per class (the top two bits of the timer id).
    const std::string& text = *meta.value();
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (size_t c = 0; c < kTimerClasses; ++c) {
      int64_t n = 0;
      auto [next, ec] = std::from_chars(p, end, n);
      const bool last = c + 1 == kTimerClasses;
      if (ec != std::errc() || n < 0 || (last ? next != end : (next == end || *next != ','))) {
        return Status::corruption("partition " + std::to_string(partition_.value()) +
                                  ": malformed pending timer counts '" + text + "'");
      }
      pending_by_class_[c] = n;
      pending_ += n;
      p = last ? next : next + 1;
    }
  }
  return refill();
}

bool TimerQueue::in_range(const KeyView& k) const {
  switch (bound_kind_) {
    case Bound::kNone: return false;
    case Bound::kBefore: return Less::less(k, bound_.view());
    case Bound::kThrough: return !Less::less(bound_.view(), k);
    case Bound::kAll: return true;
  }
  return false;
}

void TimerQueue::record(const KeyView& k, uint64_t h, ChangeTable::Entry* e, bool put) {
  if (e == nullptr) {
    // A first change always flips the stored state: a schedule reaches here only for a key that
    // is not pending (so not stored), a cancel or pop only for one that is (so stored). Beyond
    // the head that is the caller's promise (see the class comment).
    e = &changes_.insert(k, h);
    e->change.stored = !put;
  }
  e->change.put = put;
  e->change.version = ++version_;
  // Back to what the store holds (e.g. a reminder rescheduled before it was ever committed):
  // nothing to write. Not for a change the batch in flight writes, which the next commit must
  // undo; `stored` of any other entry holds after that batch too.
  if (e->change.put == e->change.stored && !(flushed_ && e->change.in_flush)) changes_.erase(*e);
}

void TimerQueue::head_insert(HeadSet::const_iterator hint, const KeyView& k) {
  if (spare_nodes_.empty()) {
    head_.emplace_hint(hint, Key{k.due, std::string(k.customer), k.id});
    return;
  }
  HeadSet::node_type node = std::move(spare_nodes_.back());
  spare_nodes_.pop_back();
  Key& key = node.value();
  key.due = k.due;
  key.customer.assign(k.customer);
  key.id = k.id;
  head_.insert(hint, std::move(node));
  if (!node.empty()) recycle(std::move(node));  // k was already in the head: the node is left
}

void TimerQueue::recycle(HeadSet::node_type&& node) {
  if (spare_nodes_.size() < kSpareHeadNodes) spare_nodes_.push_back(std::move(node));
}

void TimerQueue::trim_head() {
  while (head_.size() > head_capacity_) {
    HeadSet::node_type last = head_.extract(std::prev(head_.end()));
    const Key& k = last.value();
    bound_.due = k.due;
    bound_.customer.assign(k.customer);
    bound_.id = k.id;
    bound_kind_ = Bound::kBefore;
    drop_spill();  // it continues from the old bound: the trimmed keys are not in it
    recycle(std::move(last));
  }
}

void TimerQueue::schedule(std::string_view customer, uint64_t id, EventTime due) {
  if (customer.size() > keys::kMaxTimerCustomerBytes) {
    if (error_.is_ok()) {
      error_ = Status::invalid_argument("timer customer id longer than " +
                                        std::to_string(keys::kMaxTimerCustomerBytes) + " bytes");
    }
    return;
  }
  const KeyView k{due, customer, id};
  // The head knows every pending timer in its range; beyond it only the changes since the last
  // commit are known, and the caller promises the rest.
  const bool in_head = in_range(k);
  HeadSet::iterator at;  // where k goes in the head
  if (in_head) {
    at = head_.lower_bound(k);
    if (at != head_.end() && !Less::less(k, at->view())) return;
  }
  const uint64_t h = ChangeTable::hash(k);
  ChangeTable::Entry* e = changes_.find(k, h);
  if (!in_head && e != nullptr && e->change.put) return;
  record(k, h, e, true);
  ++pending_;
  ++pending_by_class_[timer_class(id)];
  if (in_head) {
    head_insert(at, k);
    trim_head();
  }
}

void TimerQueue::cancel(std::string_view customer, uint64_t id, EventTime due) {
  if (customer.size() > keys::kMaxTimerCustomerBytes) return;  // could never have been scheduled
  const KeyView k{due, customer, id};
  const bool in_head = in_range(k);
  HeadSet::iterator it;
  if (in_head) {
    it = head_.find(k);
    if (it == head_.end()) return;
  }
  const uint64_t h = ChangeTable::hash(k);
  ChangeTable::Entry* e = changes_.find(k, h);
  if (!in_head && e != nullptr && !e->change.put) return;
  record(k, h, e, false);
  --pending_;
  --pending_by_class_[timer_class(id)];
  if (in_head) recycle(head_.extract(it));
}

Status TimerQueue::refill() {
  if (bound_kind_ == Bound::kAll) return Status::ok();
  if (spill_pos_ == spill_len_) {
    // The read-ahead is used up: scan the store past the bound. A scan reads several heads'
    // worth: a bucket of the store holding many timers (all due at the same time, say) is then
    // read once per kScanHeads refills, not once per refill. The keys go into the read-ahead's
    // elements, whose customer id buffers are reused.
    const size_t scan_limit = head_capacity_ * kScanHeads;
    drop_spill();
    auto collect = [this](EventTime due, std::string_view customer, uint64_t id) {
      if (spill_len_ == spill_.size()) spill_.emplace_back();
      Key& k = spill_[spill_len_++];
      k.due = due;
      k.customer.assign(customer);
      k.id = id;
    };
    Status s = bound_kind_ == Bound::kNone
                   ? store_.scan_timers(partition_, EventTime::min(), scan_limit, collect)
                   : store_.scan_timers_from(partition_, bound_.due, bound_.customer, bound_.id,
                                             bound_kind_ == Bound::kBefore, scan_limit, collect);
    if (!s.is_ok()) {
      drop_spill();
      if (error_.is_ok()) error_ = s;
      return s;
    }
    spill_exhausted_ = spill_len_ < scan_limit;
  }
  // This refill's share of the read-ahead: the next head's worth of store keys past the bound.
  const Key* const scanned = spill_.data() + spill_pos_;
  const size_t n = std::min(head_capacity_, spill_len_ - spill_pos_);
  const size_t scanned_from = spill_pos_;
  spill_pos_ += n;
  // Nothing in the store beyond what `scanned` ends with (always so when it is empty: a scan
  // that found nothing reached the end).
  const bool exhausted = spill_pos_ == spill_len_ && spill_exhausted_;

  // The pending keys in (old bound, new bound]: the scanned ones not cancelled in this batch,
  // and the uncommitted puts (the changes are unordered: filtered, not sorted). A scanned key
  // with a change is taken from the change table or not at all, so none comes twice (a put in
  // a batch in flight may already be in the store).
  const Key* new_bound = exhausted ? nullptr : &scanned[n - 1];
  incoming_.clear();
  for (size_t i = 0; i < n; ++i) {
    const KeyView k = scanned[i].view();
    if (changes_.size() != 0 && changes_.find(k, ChangeTable::hash(k)) != nullptr) continue;
    incoming_.push_back(&scanned[i]);
  }
  for (const ChangeTable::Entry& c : changes_) {
    if (!c.change.put) continue;
    const KeyView k = c.key.view();
    if (bound_kind_ == Bound::kBefore && Less::less(k, bound_.view())) continue;
    if (bound_kind_ == Bound::kThrough && !Less::less(bound_.view(), k)) continue;
    if (new_bound != nullptr && Less::less(new_bound->view(), k)) continue;
    incoming_.push_back(&c.key);
  }
  // Only the soonest of them fit. After a burst of schedules the uncommitted puts below the
  // scanned keys can outnumber the head many times: select the ones that fit instead of
  // inserting all and trimming the rest off again. The smallest one left out bounds the head.
  auto less = [](const Key* a, const Key* b) { return Less::less(a->view(), b->view()); };
  const size_t room = head_capacity_ > head_.size() ? head_capacity_ - head_.size() : 0;
  const bool overflow = incoming_.size() > room;
  if (overflow) {
    std::nth_element(incoming_.begin(), incoming_.begin() + static_cast<ptrdiff_t>(room), incoming_.end(), less);
    const Key& first_out = *incoming_[room];
    bound_.due = first_out.due;
    bound_.customer.assign(first_out.customer);
    bound_.id = first_out.id;
    incoming_.resize(room);
  }
  // Above every key of the head (all of them are within the old bound): each goes at the end.
  std::sort(incoming_.begin(), incoming_.end(), less);
  for (const Key* k : incoming_) head_insert(head_.end(), k->view());
  incoming_.clear();
  if (overflow) {
    // The scanned keys from the new bound on stay in the read-ahead, which continues right
    // after them: the next refill takes them from there instead of scanning the store again.
    // All of them, changed or not: like the rest of the read-ahead they are the store's keys,
    // and the change table is applied when they are taken.
    spill_pos_ = static_cast<size_t>(
        std::lower_bound(spill_.begin() + static_cast<ptrdiff_t>(scanned_from),
                         spill_.begin() + static_cast<ptrdiff_t>(scanned_from + n), bound_.view(),
                         [](const Key& a, const KeyView& b) { return Less::less(a.view(), b); }) -
        spill_.begin());
    bound_kind_ = Bound::kBefore;
  } else if (exhausted) {
    bound_kind_ = Bound::kAll;
    bound_ = Key{};
  } else {
    bound_kind_ = Bound::kThrough;
    bound_.due = new_bound->due;
    bound_.customer.assign(new_bound->customer);
    bound_.id = new_bound->id;
  }
  trim_head();
  return Status::ok();
}

Status TimerQueue::ensure_head() {
  while (head_.empty() && bound_kind_ != Bound::kAll) {
    Status s = refill();
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

Result<bool> TimerQueue::pop_due(EventTime frontier, DueTimer& out) {
  if (!error_.is_ok()) return error_;
  Status s = ensure_head();
  if (!s.is_ok()) return s;
  if (head_.empty()) return false;
  auto first = head_.begin();
  if (first->due > frontier) return false;
  HeadSet::node_type node = head_.extract(first);
  const Key& k = node.value();
  const uint64_t h = ChangeTable::hash(k.view());
  record(k.view(), h, changes_.find(k.view(), h), false);
  --pending_;
  --pending_by_class_[timer_class(k.id)];
  out.customer.assign(k.customer);
  out.id = k.id;
  out.due = k.due;
  recycle(std::move(node));
  return true;
}

std::optional<EventTime> TimerQueue::next_due() {
  if (!error_.is_ok()) return std::nullopt;
  if (!ensure_head().is_ok()) return std::nullopt;
  if (head_.empty()) return std::nullopt;
  return head_.begin()->due;
}

Status TimerQueue::flush_to(CommitBatch& batch) {
  if (Status s = cut_flush(); !s) return s;
  encode_flush(batch);
  return Status::ok();
}

Status TimerQueue::cut_flush() {
  if (!error_.is_ok()) return error_;
  // A sequential copy: the sort by key and the writes are left to encode_flush().
  cut_len_ = 0;
  for (ChangeTable::Entry& c : changes_) {
    c.change.flushed_put = c.change.put;
    c.change.in_flush = true;
    if (cut_len_ == cut_.size()) cut_.emplace_back();
    CutRecord& r = cut_[cut_len_++];
    r.key.due = c.key.due;
    r.key.customer.assign(c.key.customer);
    r.key.id = c.key.id;
    r.put = c.change.put;
  }
  cut_counts_.clear();
  for (size_t c = 0; c < kTimerClasses; ++c) {
    if (c) cut_counts_.push_back(',');
    cut_counts_ += std::to_string(pending_by_class_[c]);
  }
  flushed_version_ = version_;
  flushed_ = true;
  flushed_changes_ = changes_.size() != 0;
  return Status::ok();
}

void TimerQueue::encode_flush(CommitBatch& batch) {
  // The store wants its writes in key order (a bucket's records then need no sort when it is
  // read or compacted); the change table has none, so sort here, on the keys' prefixes unless
  // two customer ids of one length share their first 14 bytes.
  cut_order_.clear();
  cut_order_.reserve(cut_len_);
  for (size_t i = 0; i < cut_len_; ++i) {
    const Key& k = cut_[i].key;
    cut_order_.push_back(CutOrder{keys::timer_key_prefix(k.due, k.customer), static_cast<uint32_t>(i)});
  }
  std::sort(cut_order_.begin(), cut_order_.end(), [this](const CutOrder& a, const CutOrder& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return Less::less(cut_[a.record].key.view(), cut_[b.record].key.view());
  });
  for (const CutOrder& o : cut_order_) {
    const CutRecord& r = cut_[o.record];
    if (r.put) {
      batch.put_timer(partition_, r.key.due, r.key.customer, r.key.id);
    } else {
      batch.delete_timer(partition_, r.key.due, r.key.customer, r.key.id);
    }
  }
  batch.put_meta(partition_, kPendingMetaKey, cut_counts_);
}

void TimerQueue::on_committed() {
  if (!flushed_) return;
  flushed_ = false;
  // Timer records written change the store under the read-ahead; a commit that wrote none
  // (only the pending count) leaves it valid.
  if (flushed_changes_) drop_spill();
  if (version_ == flushed_version_) {
    changes_.clear();  // nothing changed since the flush: the store holds it all
    return;
  }
  changes_.retain([this](ChangeTable::Entry& c) {
    if (c.change.version <= flushed_version_) return false;
    // Changed again after the flush: the store now holds what that flush wrote. (An entry
    // created after the flush was not in it; the store still holds what it noted.)
    if (c.change.in_flush) c.change.stored = c.change.flushed_put;
    c.change.in_flush = false;
    return true;
  });
}

}  // namespace beckon::state
