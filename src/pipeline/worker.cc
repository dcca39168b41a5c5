#include "pipeline/worker.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "core/log.h"
#include "core/thread_name.h"
#include "state/keys.h"

namespace beckon::pipeline {

using journey::CustomerState;
using journey::CustomerStateCodec;

namespace {

constexpr std::string_view kFrontierMetaKey = "frontier";

// The store's layout marker names the newest customer-state version it may hold (keys.h).
constexpr std::string_view kLayout = state::keys::kLayoutCurrent;
static_assert(kLayout.substr(0, kLayout.size() - 1).ends_with("customer-state-") &&
                  kLayout.back() == '0' + CustomerStateCodec::kVersion,
              "keys::kLayoutCurrent must name CustomerStateCodec::kVersion");

using journey::JourneyEngine;

// Helper threads are named after their worker's thread: beckon-worker-N commits on
// beckon-commit-N and reads ahead on beckon-read-N.
std::string helper_thread_name(std::string_view role) {
  constexpr std::string_view kWorker = "beckon-worker-";
  const std::string worker = thread_name();
  if (worker.starts_with(kWorker)) return "beckon-" + std::string(role) + "-" + worker.substr(kWorker.size());
  return "beckon-" + std::string(role);
}

// Staged customers read per batched store read on the read thread: small, because the worker
// sleeps for a chunk being read when it needs one of its customers (it reads those the read
// thread has not taken yet itself); large enough to share index work
// (Store::multi_get_customers). 8 against 16: a third fewer waits, and faster in 4 of 6
// alternating engine runs (bench/RESULTS.md, session 8).
constexpr size_t kReadChunk = 8;

std::string encode_frontier(EventTime max_event_time, EventTime frontier) {
  std::string out(16, '\0');
  int64_t a = max_event_time.ms(), b = frontier.ms();
  std::memcpy(out.data(), &a, 8);
  std::memcpy(out.data() + 8, &b, 8);
  return out;
}

template <typename Cache>
Worker::CacheCounts counts_of(const Cache& c) {
  return {c.hits(), c.misses(), c.loads(), c.owner_reads(), c.read_waits(), c.cut_puts(), c.owner_encodes()};
}

}  // namespace

struct Worker::Partition {
  Partition(state::Store& store, PartitionId id, const WorkerOptions& options)
      : id(id), cache(store, id, options.cache_entries), timers(store, id, options.timer_head_capacity) {}

  PartitionId id;
  state::StateCache<CustomerState, CustomerStateCodec> cache;
  state::TimerQueue timers;
  // Per input topic, since assignment: the first offset processed and the next to process.
  struct Consumed {
    Offset first;
    Offset next;
  };
  std::map<std::string, Consumed, std::less<>> consumed;
  EventTime max_event_time = EventTime::min();
  EventTime frontier = EventTime::min();
  bool caught_up = false;
  std::vector<std::string_view> hints;  // prefetch() scratch
};

Worker::Worker(state::Store& store, const journey::EngineConfig& config, const journey::LocalTime& local_time,
               const Clock& clock, ActionSink& sink, WorkerObserver& observer, WorkerOptions options)
    : store_(store),
      config_(config),
      clock_(clock),
      sink_(sink),
      observer_(observer),
      options_(options),
      engine_(config, local_time),
      decoder_(options.decoder),
      last_commit_(clock.now()),
      committer_(helper_thread_name("commit")),
      reader_(helper_thread_name("read")) {}

// reader_ and committer_, the last members, are destroyed first: they wait for their job, which
// uses the partitions' caches, batch_, the store and the sink. A commit still in flight here
// (a stop after a fatal error; a clean stop commits first) stops waiting for acknowledgements at
// once: it is written only if they are all in, and a batch being written is finished.
Worker::~Worker() { tighten_flush_deadline(Millis(0)); }

void Worker::wait_for_reads() {
  if (reader_.busy()) (void)reader_.wait();  // the job reports nothing: failed reads are get()'s
}

Status Worker::assign(PartitionId partition) {
  if (partitions_.count(partition.value())) return Status::ok();
  auto p = std::make_unique<Partition>(store_, partition, options_);
  if (Status s = p->timers.open(); !s) return s;
  auto meta = store_.load_meta(partition, kFrontierMetaKey);
  if (!meta) return meta.status();
  if (meta->has_value() && (*meta)->size() == 16) {
    int64_t a, b;
    std::memcpy(&a, (*meta)->data(), 8);
    std::memcpy(&b, (*meta)->data() + 8, 8);
    p->max_event_time = EventTime(a);
    p->frontier = EventTime(b);
  }
  index_partition(partition, p.get());
  partitions_[partition.value()] = std::move(p);
  rebalance_cache_budget();
  return Status::ok();
}

void Worker::rebalance_cache_budget() {
  if (partitions_.empty()) return;
  const size_t share = std::max<size_t>(1, options_.cache_entries / partitions_.size());
  for (auto& [_, p] : partitions_) p->cache.set_capacity(share);
}

void Worker::revoke(PartitionId partition) {
  // A commit in flight holds the partition's changes: let it land first, so that what the store
  // holds for the partition is settled when its next owner reads it. (Its offsets wait for
  // the next finish_commit; a failure is logged here, since the caller hands the partition on
  // either way.)
  if (Status s = complete_commit(/*wait=*/true); !s) {
    spdlog::error("commit in flight failed while partition {} was revoked: {}", partition.value(), s.to_string());
  }
  wait_for_reads();
  if (Partition* p = find(partition)) revoked_counts_ += counts_of(p->cache);
  index_partition(partition, nullptr);
  partitions_.erase(partition.value());
  rebalance_cache_budget();
  std::lock_guard lock(published_mu_);
  std::erase_if(published_frontiers_, [&](const auto& f) { return f.first == partition; });
}

bool Worker::owns(PartitionId partition) const { return partitions_.count(partition.value()) > 0; }

std::vector<PartitionId> Worker::partitions() const {
  std::vector<PartitionId> out;
  for (const auto& [id, _] : partitions_) out.emplace_back(id);
  return out;
}

Result<std::optional<Offset>> Worker::stored_offset(PartitionId partition, std::string_view topic) const {
  return store_.load_offset(partition, topic);
}

void Worker::index_partition(PartitionId partition, Partition* p) {
  const int32_t id = partition.value();
  if (id < 0 || id >= kIndexedPartitions) return;
  if (static_cast<size_t>(id) >= by_id_.size()) by_id_.resize(static_cast<size_t>(id) + 1, nullptr);
  by_id_[static_cast<size_t>(id)] = p;
}

Worker::Partition* Worker::find(PartitionId partition) {
  const int32_t id = partition.value();
  if (id >= 0 && id < kIndexedPartitions) {
    return static_cast<size_t>(id) < by_id_.size() ? by_id_[static_cast<size_t>(id)] : nullptr;
  }
  auto it = partitions_.find(id);
  return it == partitions_.end() ? nullptr : it->second.get();
}

EventTime Worker::advance_frontier(Partition& p) {
  EventTime f = p.max_event_time == EventTime::min() ? EventTime::min()
                                                      : p.max_event_time - config_.time.allowed_lateness;
  if (!options_.replay && p.caught_up) f = std::max(f, EventTime(clock_.now().ms()));
  p.frontier = std::max(p.frontier, f);
  return p.frontier;
}

void Worker::set_caught_up(PartitionId partition, bool caught_up) {
  if (Partition* p = find(partition)) p->caught_up = caught_up;
}

void Worker::prefetch(std::span<const InputMessage> messages, Prefetch when) {
  // The previous batch's reads are done (that batch was processed) unless some of its
  // customers were never asked for: a cache stages anew only once the last ones are read.
  wait_for_reads();
  for (const InputMessage& m : messages) {
    if (m.key.empty() || m.key.size() > options_.decoder.max_customer_id_bytes) continue;
    // A view no journey reacts to needs no state (process() skips it): nothing to read.
    const std::optional<codec::EventKind> kind = codec::peek_event_kind(m.payload, m.format);
    if (kind && !engine_.reads_state(kind->type, kind->page_type)) continue;
    if (Partition* p = find(m.partition)) {
      p->hints.emplace_back(reinterpret_cast<const char*>(m.key.data()), m.key.size());
    }
  }
  reading_.clear();
  // A hand-over costs the read thread's wake-up and this thread's reads of what the read thread
  // has not reached when processing gets there, one at a time: worth it only with another
  // batch to process meanwhile. A batch processed right away is read here, in one batched read.
  const bool ahead = options_.read_ahead && when == Prefetch::kAhead;
  for (auto& [_, p] : partitions_) {
    if (p->hints.empty()) continue;
    if (ahead) {
      p->cache.stage(p->hints);
      if (p->cache.staged() > 0) reading_.push_back(&p->cache);
    } else {
      p->cache.prefetch(p->hints);
    }
    p->hints.clear();
  }
  if (reading_.empty()) return;
  ++read_ahead_batches_;
  // A few customers of each partition in turn, so that every partition's first ones come soon.
  reader_.start([this] {
    for (bool more = true; more;) {
      more = false;
      for (auto* cache : reading_) more |= cache->read_staged(kReadChunk);
    }
    return Status::ok();
  });
}

Status Worker::process(const InputMessage& message) {
  Partition* p = find(message.partition);
  if (p == nullptr) return Status::ok();  // revoked: the new owner replays it from stored offsets
  auto it = p->consumed.find(message.topic);
  if (it == p->consumed.end()) {
    it = p->consumed.emplace(std::string(message.topic), Partition::Consumed{message.offset, message.offset}).first;
  } else if (message.offset >= it->second.first && message.offset < it->second.next) {
    // Processed already since the partition was assigned: a redelivery. A batch the consumer
    // handed out before a revocation can be processed after the same partition came back, and
    // the new assignment then fetches the same offsets again from the stored ones. Its state
    // changes and actions are already here. (An offset below `first` is a reset to an earlier
    // offset, e.g. of a recreated topic: processed, at least once.)
    observer_.on_redelivered();
    return Status::ok();
  }
  ++processed_;
  // The offset is recorded first: whatever happens to the message, it is never consumed twice
  // into state (a crash replays from the last commit, which is consistent with this record).
  it->second.next = Offset(message.offset.value() + 1);

  journey::Event& event = event_;  // the decoder resets it
  codec::DecodeFailure failure;
  if (!decoder_.decode(message.payload, message.format, event, failure)) {
    observer_.on_dead_letter(codec::to_string(failure.reason));
    DeadLetter letter{message.topic, message.partition, message.offset, message.key, message.payload,
                      codec::to_string(failure.reason), failure.detail};
    return sink_.send_dead_letter(letter);
  }
  observer_.on_consumed(event.type);

  // Clamp timestamps far ahead of the wall clock (DESIGN.md §4); replay has no wall clock.
  if (!options_.replay) {
    const EventTime limit = EventTime(clock_.now().ms()) + config_.time.max_future_skew;
    if (event.timestamp > limit) {
      event.timestamp = limit;
      observer_.on_clamped_event();
    }
  }

  const EventTime frontier_before = p->frontier;
  if (engine_.reads_state(event)) {
    p->timers.prefetch_changes(event.customer_id);  // while the state is found and the event decided
    auto state = p->cache.get(event.customer_id);
    if (!state) return state.status();
    outcome_.clear();
    engine_.on_event(**state, event, frontier_before, outcome_);
    if (outcome_.late) observer_.on_late_event();
    if (Status s = apply(*p, event.customer_id, **state); !s) return s;
  } else if (JourneyEngine::is_late(event, frontier_before)) {
    // A view no journey reacts to: no state to load or write.
    observer_.on_late_event();
  }

  p->max_event_time = std::max(p->max_event_time, event.timestamp);
  const EventTime frontier = advance_frontier(*p);
  auto next = p->timers.next_due();
  if (next && *next <= frontier) return fire_partition(*p);
  return Status::ok();
}

Status Worker::apply(Partition& p, std::string_view customer, CustomerState& state) {
  for (const journey::TimerRef& t : outcome_.cancelled) {
    p.timers.cancel(customer, t.id, t.due);
    observer_.on_timer_cancelled(JourneyEngine::trigger_of_timer(t.id));
  }
  for (const journey::TimerRef& t : outcome_.scheduled) {
    p.timers.schedule(customer, t.id, t.due);
    observer_.on_timer_scheduled(JourneyEngine::trigger_of_timer(t.id));
  }
  for (const journey::Action& a : outcome_.actions) {
    if (Status s = sink_.send(a); !s) return s;
    observer_.on_action(a);
  }
  for (const journey::Action& a : outcome_.held_out) {
    if (Status s = sink_.send_held_out(a); !s) return s;
    observer_.on_held_out(a);
  }
  for (const journey::Suppression& s : outcome_.suppressions) observer_.on_suppressed(s);
  if (outcome_.erase_customer) {
    p.cache.erase(customer);
  } else if (outcome_.state_changed) {
    p.cache.mark_dirty(customer);
  }
  return Status::ok();
}

Status Worker::fire_partition(Partition& p) {
  const EventTime frontier = p.frontier;
  const WallTime now = clock_.now();
  state::DueTimer due;
  for (;;) {
    auto popped = p.timers.pop_due(frontier, due);
    if (!popped) return popped.status();
    if (!*popped) return Status::ok();
    auto state = p.cache.get(due.customer);
    if (!state) return state.status();
    outcome_.clear();
    const journey::TimerRef timer{due.id, due.due};
    engine_.on_timer(**state, due.customer, timer, frontier, outcome_);
    if (outcome_.stale_timer) {
      observer_.on_stale_timer(JourneyEngine::trigger_of_timer(due.id));
    } else {
      observer_.on_timer_fired(JourneyEngine::trigger_of_timer(due.id), Millis(now.ms() - due.due.ms()));
    }
    for (int i = 0; i < outcome_.deferred; ++i) observer_.on_deferred(JourneyEngine::trigger_of_timer(due.id));
    if (Status s = apply(p, due.customer, **state); !s) return s;
  }
}

Status Worker::fire_due_timers() {
  for (auto& [_, p] : partitions_) {
    const EventTime frontier = advance_frontier(*p);
    auto next = p->timers.next_due();
    if (!next || *next > frontier) continue;
    if (Status s = fire_partition(*p); !s) return s;
  }
  return Status::ok();
}

std::optional<Millis> Worker::wall_time_until_next_timer() {
  if (options_.replay) return std::nullopt;
  std::optional<Millis> soonest;
  const int64_t now = clock_.now().ms();
  for (auto& [_, p] : partitions_) {
    if (!p->caught_up) continue;
    auto next = p->timers.next_due();
    if (!next) continue;
    const Millis wait(std::max<int64_t>(0, next->ms() - now));
    if (!soonest || wait < *soonest) soonest = wait;
  }
  return soonest;
}

bool Worker::commit_due() const {
  if (clock_.now() - last_commit_ >= options_.commit_interval) return true;
  for (const auto& [_, p] : partitions_) {
    if (p->cache.over_capacity()) return true;
  }
  return false;
}

bool Worker::commit_in_flight() const { return committer_.busy(); }

Status Worker::begin_commit(std::optional<Millis> flush_timeout) {
  Millis timeout = flush_timeout.value_or(options_.flush_timeout);
  if (committer_.busy()) {
    // A shorter timeout (shutdown's) also bounds the wait of the commit in flight, and this
    // commit gets what is left of it: a stop waits for acknowledgements at most `timeout`.
    const auto waited_from = std::chrono::steady_clock::now();
    if (flush_timeout) tighten_flush_deadline(*flush_timeout);
    if (Status s = complete_commit(/*wait=*/true); !s) return s;
    if (flush_timeout) {
      const auto waited = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - waited_from);
      timeout = std::max(Millis(0), *flush_timeout - waited);
    }
  }
  const auto started = std::chrono::steady_clock::now();
  // One batch: state, timers, offsets, frontiers of every owned partition.
  if (!batch_) batch_ = std::make_unique<state::CommitBatch>(store_);
  state::CommitBatch& batch = *batch_;
  batch.clear();
  flight_.offsets.clear();
  flight_.caches.clear();
  flight_.timers.clear();
  for (auto& [_, p] : partitions_) {
    // The customers' puts are encoded on the commit thread (StateCache::encode_flush), except
    // those this thread touches first; so are the timer changes, sorted there (this thread
    // copies them).
    p->cache.cut_flush();
    flight_.caches.push_back(&p->cache);
    if (Status s = p->timers.cut_flush(); !s) {
      observer_.on_commit_failed();
      return s;
    }
    flight_.timers.push_back(&p->timers);
    for (const auto& [topic, offsets] : p->consumed) {
      batch.put_offset(p->id, topic, offsets.next);
      flight_.offsets.push_back({topic, p->id, offsets.next});
    }
    batch.put_meta(p->id, kFrontierMetaKey, encode_frontier(p->max_event_time, p->frontier));
  }
  flight_.started = started;
  // Every message decided so far must be acknowledged before the state that records it.
  const uint64_t sealed = sink_.seal();
  flush_deadline_ms_.store(steady_ms() + timeout.count(), std::memory_order_relaxed);
  last_commit_ = clock_.now();
  committer_.start([this, sealed] {
    // Revoking waits for this job, so the caches and timer queues (and their partitions)
    // outlive it. The caches first: the worker encodes the cut entries it touches before this
    // thread gets to them, while the timers' cut is this thread's alone.
    for (auto* cache : flight_.caches) cache->encode_flush(*batch_);
    for (auto* timers : flight_.timers) timers->encode_flush(*batch_);
    flight_.bytes = batch_->bytes();
    flight_.entries = batch_->count();
    if (Status s = wait_for_acknowledgements(sealed); !s) return s;
    Status s = store_.commit(*batch_);
    flight_.written = std::chrono::steady_clock::now();
    return s;
  });
  return Status::ok();
}

int64_t Worker::steady_ms() {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Worker::tighten_flush_deadline(Millis timeout) {
  const int64_t deadline = steady_ms() + timeout.count();
  int64_t current = flush_deadline_ms_.load(std::memory_order_relaxed);
  while (deadline < current && !flush_deadline_ms_.compare_exchange_weak(current, deadline)) {
  }
}

Status Worker::wait_for_acknowledgements(uint64_t sealed) {
  // In slices, so that a deadline tightened meanwhile (tighten_flush_deadline) takes effect.
  constexpr int64_t kSliceMs = 100;
  const int64_t from = steady_ms();
  for (;;) {
    const int64_t left = flush_deadline_ms_.load(std::memory_order_relaxed) - steady_ms();
    Status s = sink_.wait_sealed(sealed, Millis(std::clamp<int64_t>(left, 0, kSliceMs)));
    if (s.is_ok() || s.code() != Status::Code::kRetriable) return s;
    if (left <= kSliceMs) {
      return Status::retriable(s.message() + " (" + std::to_string(steady_ms() - from) + " ms in all)");
    }
  }
}

Status Worker::complete_commit(bool wait) {
  if (!committer_.busy()) return Status::ok();
  std::optional<Status> result;
  if (wait) {
    // Rather than sit idle, encode what the commit thread has not got to yet. It goes through
    // the caches in order: start from the last.
    for (auto cache = flight_.caches.rbegin(); cache != flight_.caches.rend(); ++cache) (*cache)->help_encode();
    result = committer_.wait();
  } else {
    result = committer_.poll();
    if (!result) return Status::ok();
  }
  if (!result->is_ok()) {
    // Nothing of the batch was written: its entries and timer changes stay dirty (no
    // on_committed) and the next commit writes them again.
    observer_.on_commit_failed();
    return *result;
  }
  // Partitions revoked since the cut are gone; those assigned since have nothing in the batch.
  // The caches evict while the read thread may still be reading: eviction skips the entries it
  // has not got to.
  for (auto& [_, p] : partitions_) {
    p->cache.on_committed();
    p->timers.on_committed();
  }
  durable_ = std::move(flight_.offsets);
  flight_.offsets.clear();
  const auto pending = pending_timers_by_trigger();
  for (size_t t = 0; t < pending.size(); ++t) stats_.pending_timers[t].store(pending[t], std::memory_order_relaxed);
  stats_.cache_entries.store(cached_customers(), std::memory_order_relaxed);
  const CacheCounts counts = cache_counts();
  stats_.cache_hits.store(counts.hits, std::memory_order_relaxed);
  stats_.cache_misses.store(counts.misses, std::memory_order_relaxed);
  stats_.read_ahead_waits.store(counts.read_waits, std::memory_order_relaxed);
  stats_.read_ahead_worker_reads.store(counts.owner_reads, std::memory_order_relaxed);
  stats_.read_ahead_batches.store(read_ahead_batches_, std::memory_order_relaxed);
  stats_.partitions.store(partitions_.size(), std::memory_order_relaxed);
  {
    std::lock_guard lock(published_mu_);
    published_frontiers_.clear();
    for (const auto& [_, p] : partitions_) published_frontiers_.emplace_back(p->id, p->frontier);
  }
  // From the cut to durable: encoding, the wait for acknowledgements and the write.
  const double seconds = std::chrono::duration<double>(flight_.written - flight_.started).count();
  observer_.on_commit(seconds, flight_.bytes, flight_.entries);
  return Status::ok();
}

Result<std::vector<CommittedOffset>> Worker::finish_commit(bool wait) {
  if (Status s = complete_commit(wait); !s) return s;
  return std::exchange(durable_, {});
}

Result<std::vector<CommittedOffset>> Worker::commit(std::optional<Millis> flush_timeout) {
  if (Status s = begin_commit(flush_timeout); !s) return s;
  return finish_commit(/*wait=*/true);
}

EventTime Worker::frontier(PartitionId partition) const {
  auto it = partitions_.find(partition.value());
  return it == partitions_.end() ? EventTime::min() : it->second->frontier;
}

Worker::CacheCounts& Worker::CacheCounts::operator+=(const CacheCounts& o) {
  hits += o.hits;
  misses += o.misses;
  loads += o.loads;
  owner_reads += o.owner_reads;
  read_waits += o.read_waits;
  cut_puts += o.cut_puts;
  owner_encodes += o.owner_encodes;
  return *this;
}

Worker::CacheCounts Worker::cache_counts() const {
  CacheCounts n = revoked_counts_;
  for (const auto& [_, p] : partitions_) n += counts_of(p->cache);
  return n;
}

size_t Worker::cached_customers() const {
  size_t n = 0;
  for (const auto& [_, p] : partitions_) n += p->cache.size();
  return n;
}

int64_t Worker::pending_timers() const {
  int64_t n = 0;
  for (const auto& [_, p] : partitions_) n += p->timers.pending();
  return n;
}

std::vector<std::pair<PartitionId, EventTime>> Worker::published_frontiers() const {
  std::lock_guard lock(published_mu_);
  return published_frontiers_;
}

std::array<int64_t, journey::kTriggerCount> Worker::pending_timers_by_trigger() const {
  static_assert(state::TimerQueue::kTimerClasses == journey::kTriggerCount,
                "the timer class is the trigger (top two bits of the timer id)");
  std::array<int64_t, journey::kTriggerCount> out{};
  for (const auto& [_, p] : partitions_) {
    for (size_t c = 0; c < out.size(); ++c) out[c] += p->timers.pending_in_class(c);
  }
  return out;
}

}  // namespace beckon::pipeline
