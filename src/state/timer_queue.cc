#include "state/timer_queue.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "state/keys.h"

namespace beckon::state {

TimerQueue::TimerQueue(Store& store, PartitionId partition, size_t head_capacity)
    : store_(store), partition_(partition), head_capacity_(std::max<size_t>(head_capacity, 1)) {}

Status TimerQueue::open() {
  head_.clear();
  changes_.clear();
  bound_kind_ = Bound::kNone;
  bound_ = Key{};
  version_ = flushed_version_ = 0;
  flushed_ = false;
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

bool TimerQueue::exists(const KeyView& k) {
  if (in_range(k)) return head_.find(k) != head_.end();
  auto c = changes_.find(k);
  if (c != changes_.end()) return c->second.put;
  Result<bool> stored = store_.has_timer(partition_, k.due, k.customer, k.id);
  if (!stored.is_ok()) {
    if (error_.is_ok()) error_ = stored.status();
    return false;
  }
  return stored.value();
}

void TimerQueue::record(const KeyView& k, bool put) {
  auto it = changes_.find(k);
  if (it == changes_.end()) {
    // A first change always flips the stored state: a schedule reaches here only for a key that
    // is not pending (so not stored), a cancel or pop only for one that is (so stored).
    Change c;
    c.stored = !put;
    it = changes_.emplace(Key{k.due, std::string(k.customer), k.id}, c).first;
  }
  it->second.put = put;
  it->second.version = ++version_;
  // Back to what the store holds (e.g. a reminder rescheduled before it was ever committed):
  // nothing to write. Only while no batch is in flight, whose content must not be undone.
  if (!flushed_ && it->second.put == it->second.stored) changes_.erase(it);
}

void TimerQueue::trim_head() {
  while (head_.size() > head_capacity_) {
    auto last = std::prev(head_.end());
    bound_ = std::move(head_.extract(last).value());
    bound_kind_ = Bound::kBefore;
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
  KeyView k{due, customer, id};
  if (exists(k)) return;
  record(k, true);
  ++pending_;
  ++pending_by_class_[timer_class(id)];
  if (in_range(k)) {
    head_.insert(Key{due, std::string(customer), id});
    trim_head();
  }
}

void TimerQueue::cancel(std::string_view customer, uint64_t id, EventTime due) {
  if (customer.size() > keys::kMaxTimerCustomerBytes) return;  // could never have been scheduled
  KeyView k{due, customer, id};
  if (!exists(k)) return;
  record(k, false);
  --pending_;
  --pending_by_class_[timer_class(id)];
  if (in_range(k)) {
    auto it = head_.find(k);
    if (it != head_.end()) head_.erase(it);
  }
}

Status TimerQueue::refill() {
  if (bound_kind_ == Bound::kAll) return Status::ok();
  const size_t limit = head_capacity_;
  std::vector<Key> scanned;
  scanned.reserve(std::min<size_t>(limit, 1024));
  auto collect = [&scanned](EventTime due, std::string_view customer, uint64_t id) {
    scanned.push_back(Key{due, std::string(customer), id});
  };
  Status s = bound_kind_ == Bound::kNone
                 ? store_.scan_timers(partition_, EventTime::min(), limit, collect)
                 : store_.scan_timers_from(partition_, bound_.due, bound_.customer, bound_.id,
                                           bound_kind_ == Bound::kBefore, limit, collect);
  if (!s.is_ok()) {
    if (error_.is_ok()) error_ = s;
    return s;
  }

  // Uncommitted puts in (old bound, new bound] join the head, committed timers cancelled in
  // this batch leave it.
  auto change = changes_.begin();
  if (bound_kind_ == Bound::kBefore) change = changes_.lower_bound(bound_.view());
  if (bound_kind_ == Bound::kThrough) change = changes_.upper_bound(bound_.view());

  const bool exhausted = scanned.size() < limit;
  Key new_bound = exhausted ? Key{} : scanned.back();
  for (Key& k : scanned) {
    auto c = changes_.find(k.view());
    if (c != changes_.end() && !c->second.put) continue;
    head_.insert(std::move(k));
  }
  for (; change != changes_.end(); ++change) {
    if (!exhausted && Less::less(new_bound.view(), change->first.view())) break;
    if (change->second.put) head_.insert(change->first);
  }
  if (exhausted) {
    bound_kind_ = Bound::kAll;
    bound_ = Key{};
  } else {
    bound_kind_ = Bound::kThrough;
    bound_ = std::move(new_bound);
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
  Key k = std::move(head_.extract(first).value());
  record(k.view(), false);
  --pending_;
  --pending_by_class_[timer_class(k.id)];
  out.customer = std::move(k.customer);
  out.id = k.id;
  out.due = k.due;
  return true;
}

std::optional<EventTime> TimerQueue::next_due() {
  if (!error_.is_ok()) return std::nullopt;
  if (!ensure_head().is_ok()) return std::nullopt;
  if (head_.empty()) return std::nullopt;
  return head_.begin()->due;
}

Status TimerQueue::flush_to(CommitBatch& batch) {
  if (!error_.is_ok()) return error_;
  for (auto& [k, c] : changes_) {
    c.flushed_put = c.put;
    c.in_flush = true;
    if (c.put) {
      batch.put_timer(partition_, k.due, k.customer, k.id);
    } else {
      batch.delete_timer(partition_, k.due, k.customer, k.id);
    }
  }
  std::string counts;
  for (size_t c = 0; c < kTimerClasses; ++c) {
    if (c) counts.push_back(',');
    counts += std::to_string(pending_by_class_[c]);
  }
  batch.put_meta(partition_, kPendingMetaKey, counts);
  flushed_version_ = version_;
  flushed_ = true;
  return Status::ok();
}

void TimerQueue::on_committed() {
  if (!flushed_) return;
  flushed_ = false;
  for (auto it = changes_.begin(); it != changes_.end();) {
    if (it->second.version <= flushed_version_) {
      it = changes_.erase(it);
    } else {
      // Changed again after the flush: the store now holds what that flush wrote. (An entry
      // created after the flush was not in it; the store still holds what it noted.)
      if (it->second.in_flush) it->second.stored = it->second.flushed_put;
      it->second.in_flush = false;
      ++it;
    }
  }
}

}  // namespace beckon::state
