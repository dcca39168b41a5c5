#include "ingest/runner.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "core/log.h"
#include "core/thread_name.h"

namespace beckon::ingest {

// Messages taken from the queue at once: [0, n) are owned here until processed or dropped;
// inputs[i] is what the worker takes of messages[i] (set when it holds data).
struct Runner::Batch {
  std::vector<rd_kafka_message_t*> messages;
  std::vector<pipeline::InputMessage> inputs;
  size_t n = 0;

  explicit Batch(size_t size = 0) : messages(size), inputs(size) {}
  void release() {
    for (size_t i = 0; i < n; ++i) rd_kafka_message_destroy(messages[i]);
    n = 0;
  }
  // Destroys the messages of `partitions`, keeping the others in order.
  void drop(const std::set<int32_t>& partitions) {
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      if (partitions.count(messages[i]->partition)) {
        rd_kafka_message_destroy(messages[i]);
        continue;
      }
      messages[kept] = messages[i];
      inputs[kept] = inputs[i];
      ++kept;
    }
    n = kept;
  }
};

struct Runner::WorkerSlot {
  pipeline::Worker* worker = nullptr;
  kafka::QueuePtr queue;
  std::mutex mu;  // held while the worker processes; the rebalance handler takes it to hand over
  std::thread thread;
  // Next offset per (topic, partition) as far as this worker knows (processed or end-of-partition).
  std::map<std::pair<std::string, int32_t>, int64_t> positions;
  // The position last written by dispatch() (messages come in runs of one partition): saves a
  // map lookup per message. Reset whenever positions lose an element.
  std::map<std::pair<std::string, int32_t>, int64_t>::iterator last_position = positions.end();

  void set_position(std::string_view topic, int32_t partition, int64_t next) {
    if (last_position == positions.end() || last_position->first.second != partition ||
        last_position->first.first != topic) {
      last_position = positions.try_emplace({std::string(topic), partition}, next).first;
    }
    last_position->second = next;
  }
  void forget_last_position() { last_position = positions.end(); }

  // The next batch, taken (without waiting) and prefetched while the worker processes the
  // current one, when the worker reads ahead: its states are read meanwhile. Guarded by mu. A
  // revocation drops its messages of the partitions revoked: they were not processed, so the
  // offsets committed on revocation still lead their next owner to them.
  Batch held;
};

namespace {

void error_cb(rd_kafka_t* rk, int err, const char* reason, void*) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof(buf));
    spdlog::critical("consumer fatal error: {}", buf);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    spdlog::error("all brokers are down; waiting for them to come back: {}", reason);
    return;
  }
  // Transport errors are already in the log (kafka::make_conf routes librdkafka's log lines).
  spdlog::debug("consumer: {} ({})", reason, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

}  // namespace

Runner::Runner(RunnerOptions options, std::vector<pipeline::Worker*> workers, RunnerHooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)) {
  for (pipeline::Worker* w : workers) {
    auto slot = std::make_unique<WorkerSlot>();
    slot->worker = w;
    slot->held = Batch(static_cast<size_t>(options_.batch_size));
    slots_.push_back(std::move(slot));
  }
}

Runner::~Runner() {
  stop();
  for (auto& slot : slots_) {
    if (slot->thread.joinable()) slot->thread.join();
  }
}

codec::InputFormat Runner::format_of(std::string_view topic) const {
  for (const InputTopic& t : options_.topics) {
    if (t.name == topic) return t.format;
  }
  return codec::InputFormat::kAuto;
}

void Runner::fail(Status status) {
  {
    std::lock_guard lock(fatal_mu_);
    if (fatal_.is_ok()) {
      spdlog::critical("stopping: {}", status.to_string());
      fatal_ = std::move(status);
    }
  }
  stopping_.store(true);
}

int Runner::stats_cb(rd_kafka_t*, char* json, size_t len, void* opaque) {
  auto* self = static_cast<Runner*>(opaque);
  if (self->hooks_.on_stats) self->hooks_.on_stats(std::string(json, len));
  return 0;  // librdkafka frees json
}

void Runner::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                          void* opaque) {
  auto* self = static_cast<Runner*>(rd_kafka_opaque(rk));
  (void)opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->on_assign(parts);
  } else {
    self->on_revoke(parts);
  }
}

namespace {

// Milliseconds since `start` (steady clock), for the rebalance log lines.
int64_t ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void Runner::on_assign(rd_kafka_topic_partition_list_t* parts) {
  const auto started = std::chrono::steady_clock::now();
  const size_t n = slots_.size();
  std::set<int32_t> partitions;
  for (int i = 0; i < parts->cnt; ++i) partitions.insert(parts->elems[i].partition);
  for (int32_t pid : partitions) {
    WorkerSlot& slot = *slots_[static_cast<size_t>(pid) % n];
    std::lock_guard lock(slot.mu);
    if (Status s = slot.worker->assign(PartitionId(pid)); !s) {
      fail(Status::fatal("restoring partition " + std::to_string(pid) + ": " + s.to_string()));
      return;
    }
  }
  for (int i = 0; i < parts->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = parts->elems[i];
    WorkerSlot& slot = *slots_[static_cast<size_t>(tp.partition) % n];
    std::lock_guard lock(slot.mu);
    auto stored = slot.worker->stored_offset(PartitionId(tp.partition), tp.topic);
    if (!stored) {
      fail(Status::fatal(std::string("reading stored offset of ") + tp.topic + ": " + stored.status().to_string()));
      return;
    }
    // Resume exactly after the last durable commit; a partition never committed starts from the
    // group's committed offset, else auto.offset.reset (earliest by default).
    tp.offset = stored->has_value() ? (*stored)->value() : RD_KAFKA_OFFSET_STORED;
    if (stored->has_value()) slot.positions[{tp.topic, tp.partition}] = (*stored)->value();
    rd_kafka_queue_t* partq = rd_kafka_queue_get_partition(consumer_.get(), tp.topic, tp.partition);
    if (partq) {
      rd_kafka_queue_forward(partq, slot.queue.get());
      rd_kafka_queue_destroy(partq);
    }
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), parts);
  if (err) {
    fail(kafka::map_error(err, "assign"));
    return;
  }
  assigned_.store(partitions.size());
  ready_.store(true);
  // The time the group waits on this member: restoring (timers, offsets, frontiers) included.
  spdlog::info("assigned {} partitions ({} topic-partitions) in {} ms", partitions.size(), parts->cnt,
               ms_since(started));
  if (hooks_.on_rebalance) hooks_.on_rebalance("assign", {partitions.begin(), partitions.end()});
}

void Runner::on_revoke(rd_kafka_topic_partition_list_t* parts) {
  const auto started = std::chrono::steady_clock::now();
  ready_.store(false);
  const size_t n = slots_.size();
  std::set<int32_t> partitions;
  for (int i = 0; i < parts->cnt; ++i) partitions.insert(parts->elems[i].partition);
  std::set<WorkerSlot*> touched;
  for (int32_t pid : partitions) touched.insert(slots_[static_cast<size_t>(pid) % n].get());
  bool failed;
  {
    std::lock_guard lock(fatal_mu_);
    failed = !fatal_.is_ok();
  }
  for (WorkerSlot* slot : touched) {
    std::lock_guard lock(slot->mu);
    // After a fatal error nothing more is committed: the next owner replays from stored offsets.
    if (!failed) {
      if (Status s = commit_worker(*slot); !s) spdlog::error("commit on revoke failed: {}", s.to_string());
    }
    for (int32_t pid : partitions) {
      if (slots_[static_cast<size_t>(pid) % n].get() == slot) slot->worker->revoke(PartitionId(pid));
    }
    for (int i = 0; i < parts->cnt; ++i) {
      slot->positions.erase({parts->elems[i].topic, parts->elems[i].partition});
    }
    slot->held.drop(partitions);
    slot->forget_last_position();
  }
  for (int i = 0; i < parts->cnt; ++i) {
    rd_kafka_queue_t* partq = rd_kafka_queue_get_partition(consumer_.get(), parts->elems[i].topic,
                                                           parts->elems[i].partition);
    if (partq) {
      rd_kafka_queue_forward(partq, nullptr);
      rd_kafka_queue_destroy(partq);
    }
  }
  rd_kafka_assign(consumer_.get(), nullptr);
  assigned_.store(0);
  // The time the group waits on this member: the workers' commits of what they lose included,
  // which wait for the acknowledgements of the actions decided so far.
  spdlog::info("revoked {} partitions in {} ms", partitions.size(), ms_since(started));
  if (hooks_.on_rebalance) hooks_.on_rebalance("revoke", {partitions.begin(), partitions.end()});
}

Status Runner::commit_worker(WorkerSlot& slot, std::optional<Millis> flush_timeout) {
  return publish_commit(slot.worker->commit(flush_timeout));
}

Status Runner::publish_commit(const Result<std::vector<pipeline::CommittedOffset>>& committed) {
  if (!committed) {
    fail(committed.status());
    return committed.status();
  }
  if (committed->empty()) return Status::ok();
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(committed->size())));
  for (const pipeline::CommittedOffset& c : committed.value()) {
    rd_kafka_topic_partition_list_add(list.get(), c.topic.c_str(), c.partition.value())->offset = c.next.value();
  }
  // Consumer-group offsets only serve lag monitoring; RocksDB holds the truth. Async is enough.
  rd_kafka_commit(consumer_.get(), list.get(), 1);
  return Status::ok();
}

void Runner::update_caught_up(WorkerSlot& slot) {
  for (PartitionId pid : slot.worker->partitions()) {
    bool caught_up = true;
    for (const InputTopic& t : options_.topics) {
      int64_t lo = 0, hi = 0;
      auto it = slot.positions.find({t.name, pid.value()});
      if (it == slot.positions.end() ||
          rd_kafka_get_watermark_offsets(consumer_.get(), t.name.c_str(), pid.value(), &lo, &hi) ||
          hi < 0 || it->second < hi) {
        caught_up = false;
        break;
      }
    }
    slot.worker->set_caught_up(pid, caught_up);
  }
}

pipeline::InputMessage Runner::input_of(const rd_kafka_message_t& msg) const {
  const char* topic = rd_kafka_topic_name(msg.rkt);
  return pipeline::InputMessage{topic,
                                PartitionId(msg.partition),
                                Offset(msg.offset),
                                {static_cast<const uint8_t*>(msg.key), msg.key_len},
                                {static_cast<const uint8_t*>(msg.payload), msg.len},
                                format_of(topic)};
}

Status Runner::dispatch(WorkerSlot& slot, const pipeline::InputMessage& in) {
  // A message of a partition this worker no longer owns is left to its new owner, which replays
  // it from the stored offsets.
  if (!slot.worker->owns(in.partition)) return Status::ok();
  Status status = slot.worker->process(in);
  slot.set_position(in.topic, in.partition.value(), in.offset.value() + 1);
  return status;
}

void Runner::take(WorkerSlot& slot, Batch& batch, Millis timeout) {
  // rd_kafka_consume_batch_queue waits until the whole batch is filled or the timeout passes;
  // so it waits only for the first message, then takes what is already queued without waiting.
  ssize_t n = rd_kafka_consume_batch_queue(slot.queue.get(), static_cast<int>(timeout.count()), batch.messages.data(), 1);
  if (n == 1 && batch.messages.size() > 1) {
    const ssize_t more =
        rd_kafka_consume_batch_queue(slot.queue.get(), 0, batch.messages.data() + 1, batch.messages.size() - 1);
    if (more > 0) n += more;
  }
  batch.n = n > 0 ? static_cast<size_t>(n) : 0;
}

void Runner::prefetch(WorkerSlot& slot, Batch& batch, std::vector<pipeline::InputMessage>& hints,
                      pipeline::Worker::Prefetch when) {
  // The keys of the batch (customer ids) let the worker load the state it lacks in one read;
  // the payloads let it leave out the customers of events that need no state.
  hints.clear();
  for (size_t i = 0; i < batch.n; ++i) {
    const rd_kafka_message_t* m = batch.messages[i];
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    batch.inputs[i] = input_of(*m);
    if (m->key_len > 0) hints.push_back(batch.inputs[i]);
  }
  slot.worker->prefetch(hints, when);
}

void Runner::worker_loop(WorkerSlot& slot) {
  const auto size = static_cast<size_t>(options_.batch_size);
  Batch current(size);
  std::vector<pipeline::InputMessage> hints;
  hints.reserve(size);
  Millis timeout = options_.poll_timeout;
  while (!stopping_.load()) {
    std::unique_lock lock(slot.mu);
    if (slot.held.n > 0) {
      std::swap(current, slot.held);  // prefetched with the last batch
    } else {
      // Taken unlocked, so a rebalance is not held up for a poll timeout. A revocation between
      // the take and the lock leaves the batch's messages of the revoked partitions to
      // dispatch(), which drops them when the worker no longer owns the partition; if the
      // partition came back meanwhile they are processed, and the Worker skips the copies the
      // new assignment fetches again (Worker::process).
      lock.unlock();
      take(slot, current, timeout);
      lock.lock();
      prefetch(slot, current, hints, pipeline::Worker::Prefetch::kNow);
    }
    // With a read thread, the next batch's states are read while this one is processed: take
    // what is already queued, without waiting. A quiet queue leaves the next batch to the
    // waiting take above, whose batch is read before it is processed (Worker::Prefetch).
    if (current.n > 0 && slot.worker->reads_ahead()) {
      take(slot, slot.held, Millis(0));
      if (slot.held.n > 0) prefetch(slot, slot.held, hints, pipeline::Worker::Prefetch::kAhead);
    }
    Status status;
    for (size_t i = 0; i < current.n; ++i) {
      kafka::MessagePtr msg(current.messages[i]);
      if (!status.is_ok()) continue;  // after a fatal error: release, do not process
      const char* topic = rd_kafka_topic_name(msg->rkt);
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        slot.positions[{topic, msg->partition}] = msg->offset;
        continue;
      }
      if (msg->err) {
        if (kafka::is_fatal(msg->err)) status = kafka::map_error(msg->err, "consume");
        else spdlog::warn("consume {}[{}]: {}", topic, msg->partition, rd_kafka_err2str(msg->err));
        continue;
      }
      status = dispatch(slot, current.inputs[i]);
    }
    current.n = 0;
    if (status.is_ok()) {
      update_caught_up(slot);
      status = slot.worker->fire_due_timers();
    }
    // Commits are written on the worker's commit thread while the next batches are processed;
    // the consumer group hears of one when it is durable.
    if (status.is_ok() && slot.worker->commit_due()) status = slot.worker->begin_commit();
    if (status.is_ok()) status = publish_commit(slot.worker->finish_commit());
    slot.worker->end_batch();
    if (!status.is_ok()) {
      fail(status);
      break;
    }
    // Wake up for the next timer rather than at the end of a full poll timeout (1 ms at least,
    // so a timer waiting on anything but the clock cannot spin this loop).
    timeout = options_.poll_timeout;
    if (auto until = slot.worker->wall_time_until_next_timer()) {
      timeout = std::clamp(*until, Millis(1), options_.poll_timeout);
    }
  }
  std::lock_guard lock(slot.mu);
  slot.held.release();  // never processed: the stored offsets lead back to them
}

Status Runner::run() {
  kafka::Properties props = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "true"},
      // Range assignment keeps partition p of every co-partitioned input topic together.
      {"partition.assignment.strategy", "range"},
      {"statistics.interval.ms", hooks_.on_stats ? "5000" : "0"},
      // Each partition's fetcher backs off (for a second) once its queue holds queued.min.messages
      // (default 100000); with the partition queues forwarded to one worker queue, that count is
      // the worker queue's, so a worker with a backlog stalled its fetchers for seconds at a time.
      // queued.max.messages.kbytes (64 MiB) still bounds the memory of prefetched messages.
      {"queued.min.messages", "1000000"},
      {"client.id", "beckon-consumer"},
  };
  for (const auto& [k, v] : options_.consumer_properties) props[k] = v;
  auto conf = kafka::make_conf(props);
  if (!conf) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_rebalance_cb(conf->get(), &Runner::rebalance_cb);
  rd_kafka_conf_set_error_cb(conf->get(), error_cb);
  if (hooks_.on_stats) rd_kafka_conf_set_stats_cb(conf->get(), stats_cb);
  char err[512];
  consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof(err)));
  if (!consumer_) return Status::fatal(std::string("consumer: ") + err);
  rd_kafka_poll_set_consumer(consumer_.get());

  for (auto& slot : slots_) slot->queue.reset(rd_kafka_queue_new(consumer_.get()));

  kafka::PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
  for (const InputTopic& t : options_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.name.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(consumer_.get(), topics.get()); e) {
    return kafka::map_error(e, "subscribe");
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i]->thread = std::thread([this, i, s = slots_[i].get()] {
      set_thread_name("beckon-worker-" + std::to_string(i));
      worker_loop(*s);
    });
  }

  while (!stopping_.load()) {
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(options_.poll_timeout.count()));
    if (raw == nullptr) continue;
    kafka::MessagePtr msg(raw);
    if (msg->err) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (kafka::is_fatal(msg->err) || msg->err == RD_KAFKA_RESP_ERR__FATAL) {
        fail(kafka::map_error(msg->err, "consumer"));
      } else {
        spdlog::warn("consumer: {}", rd_kafka_message_errstr(msg.get()));
      }
      continue;
    }
    // Partition queues are forwarded to workers before assignment, so data arrives here only
    // in a race at assignment; dispatch it to its owner in order.
    WorkerSlot& slot = *slots_[static_cast<size_t>(msg->partition) % slots_.size()];
    std::lock_guard lock(slot.mu);
    if (Status s = dispatch(slot, input_of(*msg)); !s) fail(s);
    slot.worker->end_batch();
  }

  for (auto& slot : slots_) {
    if (slot->thread.joinable()) slot->thread.join();
  }
  bool failed;
  {
    std::lock_guard lock(fatal_mu_);
    failed = !fatal_.is_ok();
  }
  if (!failed) {
    // Drain: everything processed so far is acknowledged and committed before leaving.
    for (auto& slot : slots_) {
      std::lock_guard lock(slot->mu);
      Status s = commit_worker(*slot, options_.shutdown_flush_timeout);
      slot->worker->end_batch();
      if (!s) break;
    }
  }
  rd_kafka_consumer_close(consumer_.get());
  for (auto& slot : slots_) slot->queue.reset();
  consumer_.reset();
  std::lock_guard lock(fatal_mu_);
  return fatal_;
}

}  // namespace beckon::ingest
