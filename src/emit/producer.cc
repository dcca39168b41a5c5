#include "emit/producer.h"

#include <chrono>

#include "core/log.h"
#include "core/thread_name.h"

namespace beckon::emit {

void DeliveryTracker::on_report(rd_kafka_resp_err_t err) {
  std::lock_guard lock(mu_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failed_.fetch_add(1);
    if (first_error_.empty()) first_error_ = rd_kafka_err2str(err);
  }
  reported_.fetch_add(1);
  cv_.notify_all();
}

Status DeliveryTracker::wait_all(Millis timeout) {
  std::unique_lock lock(mu_);
  bool done = cv_.wait_for(lock, timeout, [&] { return reported_.load() >= sent_.load(); });
  if (failed_.load() > 0) {
    return Status::fatal("action delivery failed (" + std::to_string(failed_.load()) + " messages): " + first_error_);
  }
  if (!done) {
    return Status::retriable(std::to_string(sent_.load() - reported_.load()) +
                             " messages still unacknowledged after " + std::to_string(timeout.count()) + " ms");
  }
  return Status::ok();
}

namespace {

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  if (auto* tracker = static_cast<DeliveryTracker*>(msg->_private)) tracker->on_report(msg->err);
  if (msg->err) {
    spdlog::error("delivery to {} failed: {}", rd_kafka_topic_name(msg->rkt), rd_kafka_err2str(msg->err));
  }
}

void on_error(rd_kafka_t* rk, int err, const char* reason, void*) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof(buf));
    spdlog::critical("producer fatal error: {}", buf);
    return;
  }
  // Transport errors are already in the log (kafka::make_conf routes librdkafka's log lines).
  spdlog::debug("producer: {} ({})", reason, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

}  // namespace

Result<std::unique_ptr<Producer>> Producer::create(const kafka::Properties& properties) {
  kafka::Properties props = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "200000"},
      {"message.timeout.ms", "300000"},
      {"client.id", "beckon-producer"},
  };
  for (const auto& [k, v] : properties) props[k] = v;
  auto conf = kafka::make_conf(props);
  if (!conf) return conf.status();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery);
  rd_kafka_conf_set_error_cb(conf->get(), on_error);
  char err[512];
  std::unique_ptr<Producer> p(new Producer());
  p->rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof(err)));
  if (!p->rk_) return Status::fatal(std::string("producer: ") + err);
  p->poller_ = std::thread([raw = p.get()] {
    set_thread_name("beckon-produce");
    raw->poll_loop();
  });
  return p;
}

Producer::~Producer() { stop(); }

void Producer::poll_loop() {
  while (!stopping_.load(std::memory_order_acquire)) rd_kafka_poll(rk_.get(), 50);
}

std::string Producer::fatal_error() const {
  char buf[512];
  if (rd_kafka_fatal_error(rk_.get(), buf, sizeof(buf)) == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return buf;
}

Status Producer::produce(const std::string& topic, std::span<const uint8_t> key, std::span<const uint8_t> value,
                         std::span<const Header> headers, DeliveryTracker* tracker) {
  for (;;) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const Header& h : headers) {
        rd_kafka_header_add(hdrs, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<uint8_t*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<uint8_t*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(tracker),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (tracker) tracker->on_sent();
      return Status::ok();
    }
    if (hdrs) rd_kafka_headers_destroy(hdrs);  // not taken over on failure
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Backpressure: the poll thread drains delivery reports; wait for room.
      backpressure_waits_.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    return kafka::map_error(err, "produce to " + topic);
  }
}

Status Producer::flush(Millis timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
  if (err) return kafka::map_error(err, "producer flush");
  return Status::ok();
}

void Producer::stop() {
  if (!rk_ || stopping_.exchange(true)) return;
  if (poller_.joinable()) poller_.join();
  rd_kafka_flush(rk_.get(), 10000);  // serves the remaining delivery reports on this thread
}

}  // namespace beckon::emit
