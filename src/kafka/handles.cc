#include "kafka/handles.h"

#include "core/log.h"

namespace beckon::kafka {

namespace {

// librdkafka's own log lines go through beckon's logger (one format, one destination).
void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const char* name = rk ? rd_kafka_name(rk) : "rdkafka";
  if (level <= 3) {
    spdlog::error("{} {}: {}", name, facility, message);
  } else if (level == 4) {
    spdlog::warn("{} {}: {}", name, facility, message);
  } else if (level <= 6) {
    spdlog::info("{} {}: {}", name, facility, message);
  } else {
    spdlog::debug("{} {}: {}", name, facility, message);
  }
}

}  // namespace

Result<ConfPtr> make_conf(const Properties& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  char err[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return Status::invalid_argument("kafka property '" + key + "': " + err);
    }
  }
  return conf;
}

bool is_fatal(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
      return true;
    default:
      return false;
  }
}

Status map_error(rd_kafka_resp_err_t err, std::string_view context) {
  std::string message = std::string(context) + ": " + rd_kafka_err2str(err);
  return is_fatal(err) ? Status::fatal(std::move(message)) : Status::retriable(std::move(message));
}

std::string header_value(const rd_kafka_message_t* message, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || !value) return {};
  return std::string(static_cast<const char*>(value), size);
}

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start(int brokers) {
  auto conf = make_conf({{"client.id", "beckon-embedded-broker"}, {"log_level", "3"}});
  if (!conf) return conf.status();
  char err[512];
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof(err)));
  if (!broker->handle_) return Status::fatal(std::string("embedded broker handle: ") + err);
  broker->cluster_ = rd_kafka_mock_cluster_new(broker->handle_.get(), brokers);
  if (!broker->cluster_) return Status::fatal("embedded broker: could not start the mock cluster");
  broker->bootstraps_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
}

Status EmbeddedBroker::create_topic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return map_error(err, "create topic " + topic);
  }
  return Status::ok();
}

}  // namespace beckon::kafka
