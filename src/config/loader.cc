// YAML -> AppConfig. One Reader walks the document once, collecting every problem with its line
// and key path instead of stopping at the first; yaml-cpp exceptions are caught here and never
// escape. Lookups go through our own Map (never yaml-cpp's operator[], which can insert keys and
// hides duplicate keys).

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <span>
#include <sstream>
#include <utility>

#include <date/tz.h>

#include "config/config.h"

extern char** environ;

namespace beckon::config {
namespace {

using journey::Channel;
using journey::EventType;
using journey::SignupForm;
using journey::Trigger;

template <typename E>
struct Name {
  std::string_view name;
  E value;
};

constexpr Name<Channel> kChannels[] = {
    {"email", Channel::kEmail},       {"sms", Channel::kSms},
    {"app_push", Channel::kAppPush},  {"web_push", Channel::kWebPush},
    {"whatsapp", Channel::kWhatsapp}, {"ads_audience", Channel::kAdsAudience},
};
constexpr Name<Trigger> kTriggers[] = {
    {"cart_abandonment", Trigger::kCartAbandonment},
    {"signup_abandonment", Trigger::kSignupAbandonment},
    {"replenishment", Trigger::kReplenishment},
    {"shipping_delay", Trigger::kShippingDelay},
};
// Event body types as the schema and the JSON form name them.
constexpr Name<EventType> kEventTypes[] = {
    {"PageViewed", EventType::kPageViewed},           {"ProductViewed", EventType::kProductViewed},
    {"CartUpdated", EventType::kCartUpdated},         {"CheckoutStarted", EventType::kCheckoutStarted},
    {"OrderPlaced", EventType::kOrderPlaced},         {"SignupStarted", EventType::kSignupStarted},
    {"SignupCompleted", EventType::kSignupCompleted}, {"OrderShipped", EventType::kOrderShipped},
    {"ShipmentDelayed", EventType::kShipmentDelayed}, {"OrderDelivered", EventType::kOrderDelivered},
    {"ConsentChanged", EventType::kConsentChanged},   {"ChannelEngaged", EventType::kChannelEngaged},
    {"ProfileUpdated", EventType::kProfileUpdated},
};
constexpr Name<SignupForm> kForms[] = {
    {"account", SignupForm::kAccount},
    {"loyalty", SignupForm::kLoyalty},
    {"newsletter", SignupForm::kNewsletter},
};
constexpr Name<InputFormat> kInputFormats[] = {
    {"flatbuffers", InputFormat::kFlatbuffers}, {"json", InputFormat::kJson}, {"auto", InputFormat::kAuto}};
constexpr Name<OutputFormat> kOutputFormats[] = {
    {"flatbuffers", OutputFormat::kFlatbuffers}, {"json", OutputFormat::kJson}};
constexpr Name<bool> kConsentDefaults[] = {{"denied", false}, {"granted", true}};
constexpr Name<std::string_view> kLogLevels[] = {
    {"trace", "trace"}, {"debug", "debug"}, {"info", "info"},       {"warn", "warn"},
    {"error", "error"}, {"critical", "critical"}, {"off", "off"}};

template <typename E>
std::string_view name_of(std::span<const Name<E>> table, E v) {
  for (const auto& n : table) {
    if (n.value == v) return n.name;
  }
  return "?";
}

// librdkafka properties that beckon sets itself; a pass-through value would break it.
constexpr std::string_view kManagedProperties[] = {
    "bootstrap.servers", "metadata.broker.list", "group.id", "enable.auto.commit",
    "enable.auto.offset.store"};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "; did you mean 'x'?" when one candidate is close to `got`, else "".
std::string did_you_mean(std::string_view got, std::span<const std::string_view> candidates) {
  std::string_view best;
  size_t best_d = std::string_view::npos;
  for (std::string_view c : candidates) {
    const size_t d = edit_distance(got, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, best.size() / 3));
  if (best.empty() || best_d > limit) return "";
  return "; did you mean '" + std::string(best) + "'?";
}

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

bool is_topic_name(std::string_view s) {
  if (s.empty() || s.size() > 249 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// A value in the document with its key path and 1-based line (0 = unknown).
struct Field {
  YAML::Node node;
  std::string path;
  int line = 0;
};

int line_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  const YAML::Mark m = n.Mark();
  return m.line < 0 ? 0 : m.line + 1;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

// The entries of one YAML mapping after unknown and duplicate keys were reported.
class Map {
 public:
  Map(Field self) : self_(std::move(self)) {}
  void add(std::string key, Field value) { entries_.emplace_back(std::move(key), std::move(value)); }
  const Field* get(std::string_view key) const {
    for (const auto& [k, v] : entries_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }
  const Field& self() const { return self_; }
  const std::vector<std::pair<std::string, Field>>& entries() const { return entries_; }

 private:
  Field self_;
  std::vector<std::pair<std::string, Field>> entries_;
};

// Walks the document and collects errors. Not thread-safe; one per load.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  void error(const Field& at, const std::string& message) { error_at(at.line, at.path, message); }
  void error_at(int line, const std::string& path, const std::string& message) {
    std::string text = source_;
    if (line > 0) text += ":" + std::to_string(line);
    text += ": ";
    if (!path.empty()) text += path + ": ";
    text += message;
    errors_.push_back({line > 0 ? line : kNoLine, std::move(text)});
  }
  void env_error(std::string_view var, const std::string& message) {
    errors_.push_back({kNoLine, "env " + std::string(var) + ": " + message});
  }
  bool has_errors() const { return !errors_.empty(); }
  std::string message() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& [line, text] : errors_) {
      if (!out.empty()) out += '\n';
      out += text;
    }
    return out;
  }

  static Field child(const Field& parent, std::string_view key, const YAML::Node& key_node,
                     const YAML::Node& value) {
    Field f{value, parent.path.empty() ? std::string(key) : parent.path + "." + std::string(key), 0};
    f.line = line_of(value);
    if (f.line == 0 || value.IsNull()) f.line = line_of(key_node);
    if (f.line == 0) f.line = parent.line;
    return f;
  }

  // A mapping whose keys must be among `allowed` (empty span: any key).
  std::optional<Map> map(const Field& f, std::span<const std::string_view> allowed) {
    if (!f.node.IsMap()) {
      error(f, "expected a mapping (key: value lines), got " + describe(f.node));
      return std::nullopt;
    }
    Map m(f);
    for (auto it = f.node.begin(); it != f.node.end(); ++it) {
      const YAML::Node key_node = it->first;
      if (!key_node.IsScalar()) {
        error(Field{key_node, f.path, line_of(key_node)}, "keys must be plain names");
        continue;
      }
      const std::string key = key_node.Scalar();
      Field value = child(f, key, key_node, it->second);
      value.line = line_of(key_node) ? line_of(key_node) : value.line;
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(value, "unknown key '" + key + "'" + did_you_mean(key, allowed));
        continue;
      }
      if (const Field* first = m.get(key)) {
        error(value, "duplicate key (first given on line " + std::to_string(first->line) + ")");
        continue;
      }
      m.add(key, std::move(value));
    }
    return m;
  }
  std::optional<Map> map(const Field& f, std::initializer_list<std::string_view> allowed) {
    return map(f, std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }

  std::optional<std::vector<Field>> list(const Field& f) {
    if (!f.node.IsSequence()) {
      error(f, "expected a list, got " + describe(f.node));
      return std::nullopt;
    }
    std::vector<Field> out;
    size_t i = 0;
    for (const YAML::Node& item : f.node) {
      Field c{item, f.path + "[" + std::to_string(i++) + "]", line_of(item)};
      if (c.line == 0) c.line = f.line;
      out.push_back(std::move(c));
    }
    return out;
  }

  std::optional<std::string> scalar(const Field& f, std::string_view expected) {
    if (!f.node.IsScalar()) {
      error(f, "expected " + std::string(expected) + ", got " + describe(f.node));
      return std::nullopt;
    }
    return f.node.Scalar();
  }

  std::optional<std::string> string(const Field& f, bool allow_empty = false) {
    auto s = scalar(f, "a string");
    if (s && s->empty() && !allow_empty) {
      error(f, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> topic(const Field& f, bool allow_empty = false) {
    auto s = string(f, allow_empty);
    if (!s || s->empty()) return s;
    if (!is_topic_name(*s)) {
      error(f, "'" + *s + "' is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> identifier(const Field& f) {
    auto s = string(f);
    if (s && !is_identifier(*s)) {
      error(f, "'" + *s + "' must be 1..64 letters, digits, '.', '_' or '-'");
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(const Field& f) {
    auto s = scalar(f, "true or false");
    if (!s) return std::nullopt;
    if (auto b = bool_word(*s)) return b;
    error(f, "expected true or false, got '" + *s + "'");
    return std::nullopt;
  }

  // The YAML 1.2 core schema's spellings of a boolean, or nullopt.
  static std::optional<bool> bool_word(std::string_view s) {
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    return std::nullopt;
  }

  std::optional<int64_t> integer(const Field& f, int64_t lo, int64_t hi) {
    auto s = scalar(f, "a whole number");
    if (!s) return std::nullopt;
    std::string digits;
    for (char c : *s) {
      if (c != '_') digits += c;
    }
    if (!digits.empty() && digits[0] == '+') digits.erase(0, 1);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec == std::errc::invalid_argument || ptr != digits.data() + digits.size()) {
      error(f, "expected a whole number, got '" + *s + "'");
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
      range_error(f, *s, std::to_string(lo), std::to_string(hi), lo == 0 && !digits.empty() && digits[0] == '-',
                  hi == std::numeric_limits<int64_t>::max());
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> number(const Field& f, double lo, double hi) {
    auto s = scalar(f, "a number");
    if (!s) return std::nullopt;
    double v = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (s->empty() || ec != std::errc() || ptr != s->data() + s->size() || !std::isfinite(v)) {
      error(f, "expected a number, got '" + *s + "'");
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      range_error(f, *s, trim_number(lo), trim_number(hi), lo == 0 && v < 0, std::isinf(hi));
      return std::nullopt;
    }
    return v;
  }

  std::optional<Millis> duration(const Field& f, Millis lo) {
    auto s = scalar(f, "a duration like 30s, 15m, 1h, 3d");
    if (!s) return std::nullopt;
    if (!s->empty() && s->front() == '-') {
      error(f, "must not be negative, got '" + *s + "'");
      return std::nullopt;
    }
    auto d = parse_duration(*s);
    if (!d) {
      const bool bare_number = !s->empty() && std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; });
      error(f, "expected a duration like 30s, 15m, 1h, 3d, got '" + *s + "'" +
                   (bare_number ? " (a unit is required: ms, s, m, h, d or w)" : ""));
      return std::nullopt;
    }
    if (*d < lo) {
      error(f, "must be at least " + format_duration(lo) + ", got '" + *s + "'");
      return std::nullopt;
    }
    return d;
  }

  std::optional<uint64_t> size(const Field& f, uint64_t lo, uint64_t hi, std::string_view lo_text,
                               std::string_view hi_text) {
    auto s = scalar(f, "a size like 64MiB, 1GiB");
    if (!s) return std::nullopt;
    if (!s->empty() && s->front() == '-') {
      error(f, "must not be negative, got '" + *s + "'");
      return std::nullopt;
    }
    auto v = parse_size(*s);
    if (!v) {
      error(f, "expected a size like 64MiB, 1GiB or a number of bytes, got '" + *s + "'");
      return std::nullopt;
    }
    if (*v < lo || *v > hi) {
      error(f, "must be between " + std::string(lo_text) + " and " + std::string(hi_text) + ", got '" + *s + "'");
      return std::nullopt;
    }
    return v;
  }

  template <typename E>
  std::optional<E> one_of(const Field& f, std::span<const Name<E>> table) {
    std::vector<std::string_view> names;
    for (const auto& n : table) names.push_back(n.name);
    auto s = scalar(f, "one of " + join(names));
    if (!s) return std::nullopt;
    for (const auto& n : table) {
      if (n.name == *s) return n.value;
    }
    error(f, "expected one of " + join(names) + ", got '" + *s + "'" + did_you_mean(*s, names));
    return std::nullopt;
  }

  // The name of a channel used as a mapping key.
  std::optional<Channel> channel_key(const Field& f, const std::string& key) {
    for (const auto& n : kChannels) {
      if (n.name == key) return n.value;
    }
    std::vector<std::string_view> names;
    for (const auto& n : kChannels) names.push_back(n.name);
    error(f, "unknown channel '" + key + "'" + did_you_mean(key, names) + " (channels: " + join(names) + ")");
    return std::nullopt;
  }

 private:
  static constexpr int kNoLine = 1 << 30;

  static std::string trim_number(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  }

  void range_error(const Field& f, const std::string& got, const std::string& lo, const std::string& hi,
                   bool negative, bool unbounded) {
    if (negative) error(f, "must not be negative, got '" + got + "'");
    else if (unbounded) error(f, "must be at least " + lo + ", got '" + got + "'");
    else error(f, "must be between " + lo + " and " + hi + ", got '" + got + "'");
  }

  std::string source_;
  std::vector<std::pair<int, std::string>> errors_;
};

template <typename T, typename U>
void set(T& target, const std::optional<U>& v) {
  if (v) target = static_cast<T>(*v);
}

// ---- sections ---------------------------------------------------------------------------------

void read_kafka(Reader& r, const Field& f, KafkaConfig& out) {
  auto m = r.map(f, {"bootstrap_servers", "group_id", "properties"});
  if (!m) return;
  if (auto* v = m->get("bootstrap_servers")) set(out.bootstrap_servers, r.string(*v));
  if (auto* v = m->get("group_id")) set(out.group_id, r.string(*v));
  if (auto* v = m->get("properties")) {
    auto props = r.map(*v, std::span<const std::string_view>());
    if (!props) return;
    for (const auto& [key, value] : props->entries()) {
      if (std::find(std::begin(kManagedProperties), std::end(kManagedProperties), key) !=
          std::end(kManagedProperties)) {
        r.error(value, "'" + key + "' is managed by beckon" +
                           (key == "group.id"                                         ? "; use kafka.group_id"
                            : key == "bootstrap.servers" || key == "metadata.broker.list" ? "; use kafka.bootstrap_servers"
                                                                                      : ""));
        continue;
      }
      if (!value.node.IsScalar()) {
        // Never echo values here: properties hold secrets.
        r.error(value, "expected a string value, got " +
                           std::string(value.node.IsMap() ? "a mapping" : value.node.IsSequence() ? "a list" : "nothing"));
        continue;
      }
      out.properties[key] = value.node.Scalar();
    }
  }
}

void read_inputs(Reader& r, const Field& f, std::vector<InputTopic>& out) {
  auto items = r.list(f);
  if (!items) return;
  if (items->empty()) {
    r.error(f, "must list at least one input topic");
    return;
  }
  std::map<std::string, int> seen;
  for (const Field& item : *items) {
    InputTopic in;
    Field name_field = item;
    if (item.node.IsScalar()) {
      // Short form: "- shop.events" (format auto).
      auto t = r.topic(item);
      if (!t) continue;
      in.name = *t;
    } else {
      auto m = r.map(item, {"topic", "format"});
      if (!m) continue;
      const Field* t = m->get("topic");
      if (!t) {
        r.error(item, "missing required key 'topic'");
        continue;
      }
      name_field = *t;
      auto name = r.topic(*t);
      if (auto* fmt = m->get("format")) set(in.format, r.one_of<InputFormat>(*fmt, kInputFormats));
      if (!name) continue;
      in.name = *name;
    }
    if (auto it = seen.find(in.name); it != seen.end()) {
      r.error(name_field, "topic '" + in.name + "' is listed twice (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    seen[in.name] = name_field.line;
    out.push_back(std::move(in));
  }
}

void read_output(Reader& r, const Field& f, OutputConfig& out) {
  auto m = r.map(f, {"topic_prefix", "topics", "format", "formats", "dead_letter_topic", "holdout_topic"});
  if (!m) return;
  if (auto* v = m->get("topic_prefix")) {
    auto p = r.string(*v, /*allow_empty=*/true);
    if (p && !p->empty() && !is_topic_name(*p + "ads_audience")) {
      r.error(*v, "'" + *p + "' does not make valid Kafka topic names (letters, digits, '.', '_', '-')");
    } else {
      set(out.topic_prefix, p);
    }
  }
  if (auto* v = m->get("topics")) {
    if (auto topics = r.map(*v, std::span<const std::string_view>())) {
      for (const auto& [key, value] : topics->entries()) {
        auto ch = r.channel_key(value, key);
        auto t = r.topic(value);
        if (ch && t) out.topic_overrides[*ch] = *t;
      }
    }
  }
  if (auto* v = m->get("format")) set(out.format, r.one_of<OutputFormat>(*v, kOutputFormats));
  if (auto* v = m->get("formats")) {
    if (auto formats = r.map(*v, std::span<const std::string_view>())) {
      for (const auto& [key, value] : formats->entries()) {
        auto ch = r.channel_key(value, key);
        auto fmt = r.one_of<OutputFormat>(value, kOutputFormats);
        if (ch && fmt) out.format_overrides[*ch] = *fmt;
      }
    }
  }
  if (auto* v = m->get("dead_letter_topic")) set(out.dead_letter_topic, r.topic(*v));
  if (auto* v = m->get("holdout_topic")) set(out.holdout_topic, r.topic(*v, /*allow_empty=*/true));
}

void read_state(Reader& r, const Field& f, StateConfig& out) {
  auto m = r.map(f, {"dir", "cache_entries", "sync_commits", "commit_interval", "block_cache"});
  if (!m) return;
  if (auto* v = m->get("dir")) set(out.dir, r.string(*v));
  if (auto* v = m->get("cache_entries")) set(out.cache_entries, r.integer(*v, 1, 1'000'000'000));
  if (auto* v = m->get("sync_commits")) set(out.sync_commits, r.boolean(*v));
  if (auto* v = m->get("commit_interval")) set(out.commit_interval, r.duration(*v, Millis(10)));
  if (auto* v = m->get("block_cache")) {
    set(out.block_cache_bytes, r.size(*v, uint64_t{1} << 20, uint64_t{1} << 40, "1MiB", "1TiB"));
  }
}

void read_processing(Reader& r, const Field& f, ProcessingConfig& out) {
  auto m = r.map(f, {"workers", "read_ahead", "replay", "max_in_flight_actions", "max_message_bytes"});
  if (!m) return;
  if (auto* v = m->get("workers")) set(out.workers, r.integer(*v, 1, 64));
  if (auto* v = m->get("read_ahead")) {
    if (auto s = r.scalar(*v, "auto, true or false")) {
      if (*s == "auto") {
        out.read_ahead = ReadAhead::kAuto;
      } else if (auto on = Reader::bool_word(*s)) {
        out.read_ahead = *on ? ReadAhead::kOn : ReadAhead::kOff;
      } else {
        r.error(*v, "expected auto, true or false, got '" + *s + "'");
      }
    }
  }
  if (auto* v = m->get("replay")) set(out.replay, r.boolean(*v));
  if (auto* v = m->get("max_in_flight_actions")) set(out.max_in_flight_actions, r.integer(*v, 1, 100'000'000));
  if (auto* v = m->get("max_message_bytes")) {
    set(out.max_message_bytes, r.size(*v, uint64_t{1} << 10, uint64_t{1} << 30, "1KiB", "1GiB"));
  }
}

void read_time(Reader& r, const Field& f, journey::TimeConfig& out) {
  auto m = r.map(f, {"allowed_lateness", "max_future_skew"});
  if (!m) return;
  if (auto* v = m->get("allowed_lateness")) set(out.allowed_lateness, r.duration(*v, Millis(0)));
  if (auto* v = m->get("max_future_skew")) set(out.max_future_skew, r.duration(*v, Millis(0)));
}

void read_metrics(Reader& r, const Field& f, MetricsConfig& out) {
  auto m = r.map(f, {"listen"});
  if (!m) return;
  if (auto* v = m->get("listen")) {
    auto s = r.string(*v);
    if (!s) return;
    const size_t colon = s->rfind(':');
    int port = 0;
    const char* begin = s->data() + (colon == std::string::npos ? 0 : colon + 1);
    const char* end = s->data() + s->size();
    auto [ptr, ec] = std::from_chars(begin, end, port);
    if (colon == std::string::npos || colon == 0 || begin == end || ec != std::errc() || ptr != end || port < 0 ||
        port > 65535) {
      r.error(*v, "expected host:port with a port 0..65535 (0 = any free port; e.g. 0.0.0.0:9464), got '" + *s + "'");
      return;
    }
    out.listen = *s;
  }
}

void read_log(Reader& r, const Field& f, LogConfig& out) {
  auto m = r.map(f, {"level", "json"});
  if (!m) return;
  if (auto* v = m->get("level")) set(out.level, r.one_of<std::string_view>(*v, kLogLevels));
  if (auto* v = m->get("json")) set(out.json, r.boolean(*v));
}

bool timezone_exists(const std::string& name) {
  try {
    (void)date::locate_zone(name);
    return true;
  } catch (const std::exception&) {
  }
  // Without a readable tz database every name fails; do not reject a config for that.
  try {
    (void)date::locate_zone("UTC");
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

std::optional<int32_t> read_hour(Reader& r, const Field& f) {
  auto s = r.scalar(f, "a time of day like \"21:00\"");
  if (!s) return std::nullopt;
  // "8:00" reads as "08:00".
  const std::string t = s->size() == 4 && (*s)[1] == ':' ? "0" + *s : *s;
  const bool shape = t.size() == 5 && std::isdigit(static_cast<unsigned char>(t[0])) &&
                     std::isdigit(static_cast<unsigned char>(t[1])) && t[2] == ':' &&
                     std::isdigit(static_cast<unsigned char>(t[3])) && std::isdigit(static_cast<unsigned char>(t[4]));
  if (!shape) {
    r.error(f, "expected a time of day HH:MM like \"21:00\", got '" + *s + "'");
    return std::nullopt;
  }
  const int hour = (t[0] - '0') * 10 + (t[1] - '0');
  const int minute = (t[3] - '0') * 10 + (t[4] - '0');
  if (hour > 23 || minute > 59) {
    r.error(f, "'" + t + "' is not a time of day (00:00..23:59)");
    return std::nullopt;
  }
  if (minute != 0) {
    r.error(f, "quiet hours start and end on whole hours (HH:00), got '" + t + "'");
    return std::nullopt;
  }
  return hour;
}

void read_policies(Reader& r, const Field& f, journey::PolicyConfig& out) {
  auto m = r.map(f, {"consent_default", "frequency_caps", "quiet_hours", "after_order_pause", "loyalty_tiers"});
  if (!m) return;
  if (auto* v = m->get("consent_default")) set(out.consent_default_granted, r.one_of<bool>(*v, kConsentDefaults));
  if (auto* v = m->get("frequency_caps")) {
    if (auto items = r.list(*v)) {
      std::vector<journey::FrequencyCap> caps;
      std::map<int64_t, int> windows;
      bool ok = true;
      for (const Field& item : *items) {
        auto cm = r.map(item, {"window", "max"});
        if (!cm) { ok = false; continue; }
        journey::FrequencyCap cap;
        const Field* w = cm->get("window");
        const Field* mx = cm->get("max");
        if (!w) { r.error(item, "missing required key 'window'"); ok = false; }
        if (!mx) { r.error(item, "missing required key 'max'"); ok = false; }
        if (!w || !mx) continue;
        auto window = r.duration(*w, Millis(1000));
        auto max = r.integer(*mx, 1, 1'000'000);
        if (!window || !max) { ok = false; continue; }
        if (auto it = windows.find(window->count()); it != windows.end()) {
          r.error(*w, "a cap over " + format_duration(*window) + " is already given on line " + std::to_string(it->second));
          ok = false;
          continue;
        }
        windows[window->count()] = w->line;
        cap.window = *window;
        cap.max_actions = static_cast<int32_t>(*max);
        caps.push_back(cap);
      }
      if (ok) out.frequency_caps = std::move(caps);
    }
  }
  if (auto* v = m->get("quiet_hours")) {
    if (auto q = r.map(*v, {"enabled", "start", "end", "default_timezone"})) {
      if (auto* e = q->get("enabled")) set(out.quiet_hours_enabled, r.boolean(*e));
      std::optional<int32_t> start, end;
      if (auto* e = q->get("start")) start = read_hour(r, *e);
      if (auto* e = q->get("end")) end = read_hour(r, *e);
      set(out.quiet_start_hour, start);
      set(out.quiet_end_hour, end);
      if ((start || end) && out.quiet_hours_enabled && out.quiet_start_hour == out.quiet_end_hour) {
        r.error(q->get("end") ? *q->get("end") : *q->get("start"),
                "quiet hours start and end are equal; set enabled: false to turn quiet hours off");
      }
      if (auto* e = q->get("default_timezone")) {
        if (auto tz = r.string(*e)) {
          if (timezone_exists(*tz)) out.default_timezone = *tz;
          else r.error(*e, "unknown IANA time zone '" + *tz + "' (e.g. UTC, Europe/Berlin, America/New_York)");
        }
      }
    }
  }
  if (auto* v = m->get("after_order_pause")) set(out.after_order_pause, r.duration(*v, Millis(0)));
  if (auto* v = m->get("loyalty_tiers")) {
    if (auto items = r.list(*v)) {
      std::vector<journey::LoyaltyTier> tiers;
      std::map<std::string, int> names;
      bool ok = true;
      for (const Field& item : *items) {
        auto tm = r.map(item, {"name", "min_lifetime_value"});
        if (!tm) { ok = false; continue; }
        const Field* n = tm->get("name");
        const Field* mv = tm->get("min_lifetime_value");
        if (!n) { r.error(item, "missing required key 'name'"); ok = false; }
        if (!mv) { r.error(item, "missing required key 'min_lifetime_value'"); ok = false; }
        if (!n || !mv) continue;
        auto name = r.identifier(*n);
        auto value = r.number(*mv, 0, HUGE_VAL);
        if (!name || !value) { ok = false; continue; }
        if (auto it = names.find(*name); it != names.end()) {
          r.error(*n, "tier '" + *name + "' is already defined on line " + std::to_string(it->second));
          ok = false;
          continue;
        }
        names[*name] = n->line;
        if (!tiers.empty() && *value <= tiers.back().min_lifetime_value) {
          r.error(*mv, "tiers must be in increasing min_lifetime_value order");
          ok = false;
          continue;
        }
        tiers.push_back({*name, *value});
      }
      if (ok) out.loyalty_tiers = std::move(tiers);
    }
  }
}

// ---- journeys ---------------------------------------------------------------------------------

constexpr std::string_view kJourneyKeys[] = {
    "name", "trigger", "enabled", "transactional", "steps", "expires_after", "min_cart_value", "forms", "grace",
    "start_on_page_view", "cycles", "shipping_grace", "incentive", "holdout_percent", "variants", "reentry",
    "exit_on"};

struct TriggerKey {
  std::string_view key;
  Trigger trigger;
};
constexpr TriggerKey kTriggerKeys[] = {
    {"min_cart_value", Trigger::kCartAbandonment},   {"forms", Trigger::kSignupAbandonment},
    {"grace", Trigger::kSignupAbandonment},          {"start_on_page_view", Trigger::kSignupAbandonment},
    {"cycles", Trigger::kReplenishment},             {"shipping_grace", Trigger::kShippingDelay},
    {"incentive", Trigger::kShippingDelay},
};

void read_steps(Reader& r, const Field& f, journey::JourneyConfig& j) {
  auto items = r.list(f);
  if (!items) return;
  if (items->empty()) {
    r.error(f, "must have at least one step");
    return;
  }
  std::vector<journey::StepConfig> steps;
  bool ok = true;
  for (const Field& item : *items) {
    auto m = r.map(item, {"delay", "channels", "most_engaged", "template"});
    if (!m) { ok = false; continue; }
    journey::StepConfig step;
    const Field* delay = m->get("delay");
    if (!delay) {
      r.error(item, "missing required key 'delay'");
      ok = false;
    } else if (auto d = r.duration(*delay, Millis(0))) {
      step.delay = *d;
    } else {
      ok = false;
    }
    const Field* channels = m->get("channels");
    if (!channels) {
      r.error(item, "missing required key 'channels'");
      ok = false;
    } else if (auto list = r.list(*channels)) {
      if (list->empty()) { r.error(*channels, "must name at least one channel"); ok = false; }
      for (const Field& c : *list) {
        auto ch = r.one_of<Channel>(c, kChannels);
        if (!ch) { ok = false; continue; }
        if (std::find(step.channels.begin(), step.channels.end(), *ch) != step.channels.end()) {
          r.error(c, "channel '" + c.node.Scalar() + "' is listed twice");
          ok = false;
          continue;
        }
        step.channels.push_back(*ch);
      }
    } else {
      ok = false;
    }
    if (auto* v = m->get("most_engaged")) set(step.most_engaged, r.boolean(*v));
    if (auto* v = m->get("template")) set(step.template_id, r.string(*v, /*allow_empty=*/true));
    if (ok && !steps.empty() && step.delay <= steps.back().delay) {
      r.error(*delay, "steps must be in increasing delay order: " + format_duration(step.delay) +
                          " is not after the previous step's " + format_duration(steps.back().delay));
      ok = false;
    }
    steps.push_back(std::move(step));
  }
  if (ok) j.steps = std::move(steps);
}

void read_cycles(Reader& r, const Field& f, journey::JourneyConfig& j) {
  auto m = r.map(f, {"default_days", "lead_days", "by_sku", "by_category"});
  if (!m) return;
  if (auto* v = m->get("default_days")) {
    if (v->node.IsNull() || (v->node.IsScalar() && (v->node.Scalar() == "none" || v->node.Scalar() == "null"))) {
      j.default_cycle_days.reset();
    } else if (auto d = r.integer(*v, 1, 3650)) {
      j.default_cycle_days = static_cast<int32_t>(*d);
    }
  }
  if (auto* v = m->get("lead_days")) set(j.lead_days, r.integer(*v, 0, 3650));
  auto table = [&](const char* key, std::map<std::string, int32_t, std::less<>>& out) {
    const Field* v = m->get(key);
    if (!v) return;
    auto t = r.map(*v, std::span<const std::string_view>());
    if (!t) return;
    for (const auto& [name, value] : t->entries()) {
      if (name.empty()) { r.error(value, "empty name"); continue; }
      if (auto d = r.integer(value, 1, 3650)) out[name] = static_cast<int32_t>(*d);
    }
  };
  table("by_sku", j.cycle_days_by_sku);
  table("by_category", j.cycle_days_by_category);
}

void read_incentive(Reader& r, const Field& f, journey::JourneyConfig& j) {
  if (f.node.IsScalar() && f.node.Scalar() == "none") {
    j.incentive = journey::Incentive{};
    return;
  }
  auto m = r.map(f, {"kind", "code", "value"});
  if (!m) return;
  journey::Incentive inc;
  const Field* kind = m->get("kind");
  if (!kind) {
    r.error(f, "missing required key 'kind' (e.g. coupon, free_shipping; or write 'incentive: none')");
    return;
  }
  auto k = r.identifier(*kind);
  if (!k) return;
  inc.kind = *k == "none" ? "" : *k;
  if (auto* v = m->get("code")) {
    auto c = r.string(*v, /*allow_empty=*/true);
    if (!c) return;
    inc.code = *c;
  }
  if (auto* v = m->get("value")) {
    auto x = r.number(*v, 0, HUGE_VAL);
    if (!x) return;
    inc.value = *x;
  }
  j.incentive = std::move(inc);
}

void read_variants(Reader& r, const Field& f, journey::JourneyConfig& j) {
  auto items = r.list(f);
  if (!items) return;
  std::map<std::string, int> names;
  for (const Field& item : *items) {
    auto m = r.map(item, {"name", "weight"});
    if (!m) continue;
    journey::VariantConfig v;
    const Field* n = m->get("name");
    if (!n) { r.error(item, "missing required key 'name'"); continue; }
    auto name = r.identifier(*n);
    if (!name) continue;
    if (auto it = names.find(*name); it != names.end()) {
      r.error(*n, "variant '" + *name + "' is already defined on line " + std::to_string(it->second));
      continue;
    }
    names[*name] = n->line;
    v.name = *name;
    if (auto* w = m->get("weight")) {
      auto weight = r.integer(*w, 1, 1'000'000);
      if (!weight) continue;
      v.weight = static_cast<uint32_t>(*weight);
    }
    j.variants.push_back(std::move(v));
  }
}

void read_reentry(Reader& r, const Field& f, journey::JourneyConfig& j) {
  if (f.node.IsScalar()) {
    const std::string& s = f.node.Scalar();
    if (s == "always") { j.reentry = journey::ReentryRule::kAlways; return; }
    if (s == "once") { j.reentry = journey::ReentryRule::kOnce; return; }
    constexpr std::string_view kNames[] = {"always", "once", "cooldown"};
    r.error(f, "expected always, once or {cooldown: <duration>}, got '" + s + "'" + did_you_mean(s, kNames));
    return;
  }
  auto m = r.map(f, {"cooldown"});
  if (!m) return;
  const Field* c = m->get("cooldown");
  if (!c) {
    r.error(f, "missing required key 'cooldown'");
    return;
  }
  if (auto d = r.duration(*c, Millis(1))) {
    j.reentry = journey::ReentryRule::kCooldown;
    j.reentry_cooldown = *d;
  }
}

void read_journey(Reader& r, const Field& f, journey::JourneyConfig& j, bool& ok) {
  auto m = r.map(f, kJourneyKeys);
  if (!m) { ok = false; return; }
  if (const Field* n = m->get("name")) {
    if (auto name = r.identifier(*n)) j.name = *name;
  } else {
    r.error(f, "missing required key 'name'");
  }
  std::optional<Trigger> trigger;
  if (const Field* t = m->get("trigger")) {
    trigger = r.one_of<Trigger>(*t, kTriggers);
  } else {
    r.error(f, "missing required key 'trigger' (" + join(std::vector<std::string_view>{
                   "cart_abandonment", "signup_abandonment", "replenishment", "shipping_delay"}) + ")");
  }
  if (trigger) {
    j.trigger = *trigger;
    for (const TriggerKey& tk : kTriggerKeys) {
      if (tk.trigger == *trigger) continue;
      if (const Field* v = m->get(tk.key)) {
        r.error(*v, "only valid for trigger " + std::string(name_of<Trigger>(kTriggers, tk.trigger)) +
                        ", this journey's trigger is " + std::string(name_of<Trigger>(kTriggers, *trigger)));
      }
    }
  }
  if (auto* v = m->get("enabled")) set(j.enabled, r.boolean(*v));
  if (auto* v = m->get("transactional")) set(j.transactional, r.boolean(*v));
  if (const Field* s = m->get("steps")) {
    read_steps(r, *s, j);
  } else {
    r.error(f, "missing required key 'steps'");
  }
  if (auto* v = m->get("expires_after")) set(j.expires_after, r.duration(*v, Millis(1000)));
  if (auto* v = m->get("min_cart_value")) set(j.min_cart_value, r.number(*v, 0, HUGE_VAL));
  if (auto* v = m->get("forms")) {
    if (auto items = r.list(*v)) {
      std::vector<SignupForm> forms;
      bool forms_ok = true;
      if (items->empty()) { r.error(*v, "must name at least one form"); forms_ok = false; }
      for (const Field& item : *items) {
        auto form = r.one_of<SignupForm>(item, kForms);
        if (!form) { forms_ok = false; continue; }
        if (std::find(forms.begin(), forms.end(), *form) != forms.end()) {
          r.error(item, "form '" + item.node.Scalar() + "' is listed twice");
          forms_ok = false;
          continue;
        }
        forms.push_back(*form);
      }
      if (forms_ok) j.forms = std::move(forms);
    }
  }
  const Field* grace = m->get("grace");
  if (grace) set(j.signup_grace, r.duration(*grace, Millis(0)));
  if (auto* v = m->get("start_on_page_view")) set(j.signup_from_page_views, r.boolean(*v));
  if (auto* v = m->get("cycles")) read_cycles(r, *v, j);
  if (auto* v = m->get("shipping_grace")) set(j.shipping_grace, r.duration(*v, Millis(0)));
  if (auto* v = m->get("incentive")) read_incentive(r, *v, j);
  if (auto* v = m->get("holdout_percent")) set(j.holdout_percent, r.number(*v, 0, 100));
  if (auto* v = m->get("variants")) read_variants(r, *v, j);
  if (auto* v = m->get("reentry")) read_reentry(r, *v, j);
  if (auto* v = m->get("exit_on")) {
    if (auto items = r.list(*v)) {
      std::vector<EventType> exits;
      bool exits_ok = true;
      for (const Field& item : *items) {
        auto type = r.one_of<EventType>(item, kEventTypes);
        if (!type) { exits_ok = false; continue; }
        if (std::find(exits.begin(), exits.end(), *type) != exits.end()) {
          r.error(item, "event type '" + item.node.Scalar() + "' is listed twice");
          exits_ok = false;
          continue;
        }
        exits.push_back(*type);
      }
      if (exits_ok) j.exit_on = std::move(exits);
    }
  }

  // Nothing is sent during the signup grace period, so a step due inside it could never be sent.
  if (trigger == Trigger::kSignupAbandonment && !j.steps.empty() && j.steps.front().delay < j.signup_grace) {
    const Field& at = grace ? *grace : *m->get("steps");
    r.error(at, "the first step's delay (" + format_duration(j.steps.front().delay) +
                    ") is inside the grace period (" + format_duration(j.signup_grace) +
                    ") during which nothing is sent");
  }
}

void read_journeys(Reader& r, const Field& f, std::vector<journey::JourneyConfig>& out) {
  auto items = r.list(f);
  if (!items) return;
  if (items->empty()) {
    r.error(f, "must list at least one journey (omit the key for the defaults; use enabled: false to turn one off)");
    return;
  }
  std::map<std::string, int> names;
  for (const Field& item : *items) {
    journey::JourneyConfig j;
    bool ok = true;
    read_journey(r, item, j, ok);
    if (!ok) continue;
    if (!j.name.empty()) {
      if (auto it = names.find(j.name); it != names.end()) {
        r.error(item, "journey name '" + j.name + "' is already used on line " + std::to_string(it->second));
        continue;
      }
      names[j.name] = item.line;
    }
    out.push_back(std::move(j));
  }
}

// ---- cross-section checks and environment --------------------------------------------------------

void check_topics(Reader& r, const Map& root, const AppConfig& c) {
  std::set<std::string> inputs;
  for (const InputTopic& in : c.inputs) inputs.insert(in.name);
  const Field* output = root.get("output");
  const Field at = output ? *output : root.self();
  for (const auto& n : kChannels) {
    const std::string t = c.output.topic_for(n.value);
    if (inputs.count(t)) r.error(at, "action topic '" + t + "' of channel " + std::string(n.name) + " is also an input topic");
    if (t == c.output.dead_letter_topic) {
      r.error(at, "action topic '" + t + "' of channel " + std::string(n.name) + " is also the dead-letter topic");
    }
  }
  if (inputs.count(c.output.dead_letter_topic)) {
    r.error(at, "dead_letter_topic '" + c.output.dead_letter_topic + "' is also an input topic");
  }
  if (!c.output.holdout_topic.empty() && inputs.count(c.output.holdout_topic)) {
    r.error(at, "holdout_topic '" + c.output.holdout_topic + "' is also an input topic");
  }
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("BECKON_", 0) != 0) continue;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

void apply_env(Reader& r, const std::map<std::string, std::string>& env, KafkaConfig& kafka) {
  constexpr std::string_view kPropertyPrefix = "BECKON_KAFKA_";
  for (const auto& [name, value] : env) {
    if (name == "BECKON_BOOTSTRAP_SERVERS") {
      if (value.empty()) r.env_error(name, "must not be empty");
      else kafka.bootstrap_servers = value;
    } else if (name == "BECKON_GROUP_ID") {
      if (value.empty()) r.env_error(name, "must not be empty");
      else kafka.group_id = value;
    } else if (name.rfind(kPropertyPrefix, 0) == 0) {
      std::string property = name.substr(kPropertyPrefix.size());
      if (property.empty()) {
        r.env_error(name, "names no property (e.g. BECKON_KAFKA_SASL_PASSWORD sets sasl.password)");
        continue;
      }
      for (char& ch : property) {
        ch = ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      if (std::find(std::begin(kManagedProperties), std::end(kManagedProperties), property) !=
          std::end(kManagedProperties)) {
        r.env_error(name, "'" + property + "' is managed by beckon; use BECKON_BOOTSTRAP_SERVERS or BECKON_GROUP_ID");
        continue;
      }
      kafka.properties[property] = value;
    }
  }
}

Result<AppConfig> load(std::string_view yaml, const std::string& source,
                       const std::map<std::string, std::string>* env) {
  Reader r(source);
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    r.error_at(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
    return Status::invalid_argument(r.message());
  }

  AppConfig c;
  try {
    Field root_field{doc, "", 1};
    if (doc.IsNull() || !doc.IsDefined()) root_field.node = YAML::Node(YAML::NodeType::Map);
    constexpr std::string_view kSections[] = {"kafka",   "inputs", "output", "state",    "processing",
                                              "time",    "metrics", "log",   "policies", "journeys"};
    auto root = r.map(root_field, kSections);
    if (!root) return Status::invalid_argument(r.message());

    if (auto* v = root->get("kafka")) read_kafka(r, *v, c.kafka);
    if (auto* v = root->get("inputs")) read_inputs(r, *v, c.inputs);
    else r.error_at(1, "inputs", "required: list at least one input topic, e.g. inputs: [{topic: shop.events, format: auto}]");
    if (auto* v = root->get("output")) read_output(r, *v, c.output);
    if (auto* v = root->get("state")) read_state(r, *v, c.state);
    if (auto* v = root->get("processing")) read_processing(r, *v, c.processing);
    if (auto* v = root->get("time")) read_time(r, *v, c.engine.time);
    if (auto* v = root->get("metrics")) read_metrics(r, *v, c.metrics);
    if (auto* v = root->get("log")) read_log(r, *v, c.log);
    if (auto* v = root->get("policies")) read_policies(r, *v, c.engine.policies);
    if (auto* v = root->get("journeys")) {
      read_journeys(r, *v, c.engine.journeys);
    } else {
      c.engine.journeys = journey::default_engine_config().journeys;
    }
    check_topics(r, *root, c);
  } catch (const std::exception& e) {
    // Defensive: yaml-cpp throws on misuse; report it instead of letting it escape.
    r.error_at(0, "", std::string("internal error while reading the configuration: ") + e.what());
  }

  if (env) {
    apply_env(r, *env, c.kafka);
  } else {
    apply_env(r, process_environment(), c.kafka);
  }

  if (r.has_errors()) return Status::invalid_argument(r.message());
  return c;
}

}  // namespace

std::string_view to_string(InputFormat v) { return name_of<InputFormat>(kInputFormats, v); }
std::string_view to_string(OutputFormat v) { return name_of<OutputFormat>(kOutputFormats, v); }

std::string OutputConfig::topic_for(journey::Channel c) const {
  if (auto it = topic_overrides.find(c); it != topic_overrides.end()) return it->second;
  return topic_prefix + std::string(name_of<Channel>(kChannels, c));
}

OutputFormat OutputConfig::format_for(journey::Channel c) const {
  if (auto it = format_overrides.find(c); it != format_overrides.end()) return it->second;
  return format;
}

Result<AppConfig> load_config_string(std::string_view yaml, std::string_view source_name,
                                     const std::map<std::string, std::string>* env) {
  return load(yaml, std::string(source_name), env);
}

Result<AppConfig> load_config_file(const std::string& path, const std::map<std::string, std::string>* env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid_argument(path + ": cannot open the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::invalid_argument(path + ": cannot read the configuration file");
  return load(text.str(), path, env);
}

}  // namespace beckon::config
