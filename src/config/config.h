#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "journey/journey_config.h"
#include "journey/types.h"

namespace beckon::config {

// The whole process configuration, read from ONE YAML file (docs/configuration.md is the
// reference of every key). These are plain values: load_config_*() fills and validates them once
// at start-up, then the app hands the relevant part to each module. Defaults below are the
// documented defaults; a key absent from the file keeps its default.

// Wire format of an input topic. `kAuto` sniffs each message (FlatBuffers identifier, else JSON).
// codec/ has its own enum; app/ converts.
enum class InputFormat : uint8_t { kFlatbuffers, kJson, kAuto };
// Wire format of an action topic.
enum class OutputFormat : uint8_t { kFlatbuffers, kJson };

std::string_view to_string(InputFormat v);   // "flatbuffers", "json", "auto"
std::string_view to_string(OutputFormat v);  // "flatbuffers", "json"

struct KafkaConfig {
  std::string bootstrap_servers = "localhost:9092";  // env BECKON_BOOTSTRAP_SERVERS overrides
  std::string group_id = "beckon";                   // env BECKON_GROUP_ID overrides
  // librdkafka pass-through for consumer and producer (security.protocol, sasl.*, ssl.*, ...).
  // env BECKON_KAFKA_<NAME> sets property <name> with '_' read as '.', e.g.
  // BECKON_KAFKA_SASL_PASSWORD -> sasl.password. Never holds bootstrap.servers, group.id or the
  // offset-commit settings beckon manages itself.
  std::map<std::string, std::string> properties;
};

struct InputTopic {
  std::string name;                          // required
  InputFormat format = InputFormat::kAuto;
};

struct OutputConfig {
  // Action topic of a channel = topic_prefix + channel name (email, sms, app_push, web_push,
  // whatsapp, ads_audience), unless the channel is in topic_overrides.
  std::string topic_prefix = "beckon.actions.";
  std::map<journey::Channel, std::string> topic_overrides;
  OutputFormat format = OutputFormat::kFlatbuffers;        // for every action topic...
  std::map<journey::Channel, OutputFormat> format_overrides;  // ...unless overridden per channel
  std::string dead_letter_topic = "beckon.dlq";
  std::string holdout_topic;  // empty = held-out decisions are only counted, not written

  std::string topic_for(journey::Channel c) const;
  OutputFormat format_for(journey::Channel c) const;
};

struct StateConfig {
  std::string dir = "/var/lib/beckon";          // RocksDB directory
  size_t cache_entries = 1'000'000;             // write-back cache, customers per instance
  bool sync_commits = false;                    // fsync the WAL on every commit
  Millis commit_interval{1000};                 // time between commits; >= 10 ms
  size_t block_cache_bytes = size_t{256} << 20; // RocksDB block cache, bytes (256 MiB)
};

// Whether each worker reads its batches' states on a read thread (pipeline::WorkerOptions::
// read_ahead). kAuto: when the process has at least two cores per worker (app::read_ahead_on).
enum class ReadAhead { kAuto, kOn, kOff };

struct ProcessingConfig {
  int workers = 1;                          // worker threads, 1..64
  ReadAhead read_ahead = ReadAhead::kAuto;  // auto, true or false
  bool replay = false;                      // frontier from the data only, no wall clock
  size_t max_in_flight_actions = 100'000;   // unacknowledged actions before consumption pauses
  size_t max_message_bytes = size_t{1} << 20;  // larger input messages are dead-lettered, bytes
};

struct MetricsConfig {
  std::string listen = "0.0.0.0:9464";  // host:port of /metrics, /healthz, /readyz
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  bool json = false;           // one JSON object per line instead of text
};

struct AppConfig {
  KafkaConfig kafka;
  std::vector<InputTopic> inputs;  // at least one
  OutputConfig output;
  StateConfig state;
  ProcessingConfig processing;
  MetricsConfig metrics;
  LogConfig log;
  // journeys (default: journey::default_engine_config().journeys), policies and time.
  journey::EngineConfig engine;
};

// Reads and validates a configuration. Never throws: a bad file yields an invalid_argument
// Status whose message lists every problem found, one per line, each naming the source, the
// line, and the key path, e.g.
//   beckon.yaml:12: journeys[1].steps[0].delay: expected a duration like 30s, 15m, 1h, 3d, got 'soon'
// `env` supplies the environment overrides (BECKON_BOOTSTRAP_SERVERS, BECKON_GROUP_ID,
// BECKON_KAFKA_*); nullptr reads the process environment.
Result<AppConfig> load_config_file(const std::string& path,
                                   const std::map<std::string, std::string>* env = nullptr);
Result<AppConfig> load_config_string(std::string_view yaml, std::string_view source_name,
                                     const std::map<std::string, std::string>* env = nullptr);

// "500ms", "30s", "15m", "1h", "3d", "1w", compounds like "1h30m", and "0". nullopt otherwise
// (negative, fractional, unknown unit, overflow).
std::optional<Millis> parse_duration(std::string_view text);
// Bytes: "4096", "512B", "64KiB", "64MiB", "1GiB", "1TiB" (binary) or "10KB", "10MB", "1GB"
// (decimal). nullopt otherwise.
std::optional<uint64_t> parse_size(std::string_view text);
// The shortest exact spelling parse_duration() reads back, e.g. 5400000 ms -> "1h30m".
std::string format_duration(Millis d);

}  // namespace beckon::config
