// The golden-scenario driver: runs every tests/scenarios/cases/*.yaml file as one GoogleTest case.
//
// A scenario wires the real parts of one worker thread — state::Store (RocksDB in a temp dir),
// pipeline::Worker, journey::JourneyEngine with the tz database, codec::EventDecoder — around a
// ManualClock, an in-memory ActionSink and a counting WorkerObserver, then plays the file's steps:
// events (built as the JSON wire form and decoded for real), clock advances, backlog flags,
// stops/restarts/crashes, and expectations. docs/scenarios.md is the reference of the format.

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "codec/action_encoder.h"
#include "codec/event_decoder.h"
#include "config/config.h"
#include "core/clock.h"
#include "journey/engine.h"
#include "journey/types.h"
#include "pipeline/action_sink.h"
#include "pipeline/observer.h"
#include "pipeline/worker.h"
#include "scenario_files.h"
#include "state/store.h"

namespace beckon::scenarios {
namespace {

namespace fs = std::filesystem;
using journey::Action;
using nlohmann::json;

constexpr std::string_view kTopic = "shop.events";
constexpr std::string_view kDefaultStart = "2026-11-23T10:00:00Z";  // a Monday, 10:00 UTC

// ---------------------------------------------------------------------------------------------
// Errors: a step that cannot be run (bad file) or an expectation that does not hold.

struct ScenarioError {
  std::string message;
};

[[noreturn]] void fail(const std::string& message) { throw ScenarioError{message}; }

std::string where(const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return "";
  return "line " + std::to_string(node.Mark().line + 1) + ": ";
}

std::string scalar(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) fail(where(node) + std::string(what) + ": expected a scalar");
  return node.Scalar();
}

// ---------------------------------------------------------------------------------------------
// Time: "+5m"/"-1m" (relative to the clock now), "T", "T+1h", "T-2d" (relative to the scenario
// start), ISO 8601 ("2026-11-23T21:30:00Z", "2026-11-23T16:30:00-05:00"), or epoch milliseconds.

std::optional<Millis> parse_signed_duration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  auto d = config::parse_duration(text);
  if (!d) return std::nullopt;
  return negative ? -*d : *d;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> parse_iso8601(const std::string& text) {
  static const std::regex re(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) return std::nullopt;
  auto num = [&](int i) { return m[i].matched ? std::stoll(m[i].str()) : 0LL; };
  int64_t ms = days_from_civil(num(1), static_cast<unsigned>(num(2)), static_cast<unsigned>(num(3))) * 86'400'000;
  ms += ((num(4) * 60 + num(5)) * 60 + num(6)) * 1000;
  if (m[7].matched) {
    std::string frac = m[7].str();
    while (frac.size() < 3) frac.push_back('0');
    ms += std::stoll(frac);
  }
  const std::string zone = m[8].str();
  if (zone != "Z") {
    const int64_t off = (std::stoll(zone.substr(1, 2)) * 60 + std::stoll(zone.substr(4, 2))) * 60'000;
    ms -= zone[0] == '+' ? off : -off;
  }
  return ms;
}

std::string format_signed_duration(int64_t ms) {
  if (ms < 0) return "-" + config::format_duration(Millis(-ms));
  return "+" + config::format_duration(Millis(ms));
}

std::string iso8601(int64_t ms) {
  const int64_t days = (ms >= 0 ? ms : ms - 86'399'999) / 86'400'000;
  int64_t rem = ms - days * 86'400'000;
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned mo = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (mo <= 2);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), mo, d,
                static_cast<long long>(rem / 3'600'000), static_cast<long long>(rem / 60'000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Fakes

// Records everything a worker hands over. Each action is also encoded as a FlatBuffer and
// decoded back (schemas/actions.fbs), so the action wire format is exercised by every scenario.
class RecordingSink final : public pipeline::ActionSink {
 public:
  struct Letter {
    std::string reason;
    std::string detail;
    int32_t partition;
    int64_t offset;
  };

  Status send(const Action& action) override {
    actions.push_back(round_trip(action));
    return Status::ok();
  }
  Status send_held_out(const Action& action) override {
    held_out.push_back(round_trip(action));
    return Status::ok();
  }
  Status send_dead_letter(const pipeline::DeadLetter& letter) override {
    dead_letters.push_back(
        {std::string(letter.reason), std::string(letter.detail), letter.partition.value(), letter.offset.value()});
    return Status::ok();
  }
  uint64_t seal() override { return ++flushes; }
  Status wait_sealed(uint64_t, Millis) override { return Status::ok(); }

  std::vector<Action> actions;
  std::vector<Action> held_out;
  std::vector<Letter> dead_letters;
  std::vector<std::string> wire_errors;
  int flushes = 0;

 private:
  Action round_trip(const Action& action) {
    auto bytes = encoder_.encode(action, codec::OutputFormat::kFlatBuffers);
    auto decoded = codec::decode_action(bytes);
    if (!decoded) {
      wire_errors.push_back("action " + action.action_id + " did not decode: " + decoded.status().message());
      return action;
    }
    if (!(*decoded == action)) {
      wire_errors.push_back("action " + action.action_id + " changed through the FlatBuffers wire form");
    }
    return std::move(decoded).value();
  }
  codec::ActionEncoder encoder_;
};

class CountingObserver final : public pipeline::WorkerObserver {
 public:
  void on_consumed(journey::EventType) override { ++counts["consumed"]; }
  void on_dead_letter(std::string_view) override { ++counts["dead_letters"]; }
  void on_late_event() override { ++counts["late"]; }
  void on_clamped_event() override { ++counts["clamped"]; }
  void on_timer_scheduled(journey::Trigger) override { ++counts["timers_scheduled"]; }
  void on_timer_cancelled(journey::Trigger) override { ++counts["timers_cancelled"]; }
  void on_timer_fired(journey::Trigger, Millis) override { ++counts["timers_fired"]; }
  void on_action(const Action&) override { ++counts["actions"]; }
  void on_held_out(const Action&) override { ++counts["held_out"]; }
  void on_suppressed(const journey::Suppression& s) override {
    ++counts["suppressed"];
    suppressions.push_back({std::string(journey::to_string(s.reason)), s.trigger, std::string(s.journey), s.step});
  }
  void on_deferred(journey::Trigger) override { ++counts["deferred"]; }
  void on_commit(double, size_t, size_t) override { ++counts["commits"]; }
  void on_commit_failed() override { ++counts["commit_failures"]; }

  struct Suppressed {
    std::string reason;
    journey::Trigger trigger;
    std::string journey;
    int32_t step;
  };
  std::map<std::string, int64_t> counts;
  std::vector<Suppressed> suppressions;
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/beckon-scenario-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// YAML -> JSON (the event body). Quoted scalars stay strings; plain ones become bool, null,
// integer or number when they read as such.

json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: break;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted
  if (s == "true") return true;
  if (s == "false") return false;
  if (s == "null" || s == "~") return nullptr;
  static const std::regex integer(R"(^-?\d+$)");
  static const std::regex number(R"(^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$)");
  if (std::regex_match(s, integer)) return std::stoll(s);
  if (std::regex_match(s, number)) return std::stod(s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Matching expectations against actions.

bool near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)}); }

bool as_bool(const YAML::Node& n, std::string_view what) {
  const std::string s = scalar(n, what);
  if (s == "true") return true;
  if (s == "false") return false;
  fail(where(n) + std::string(what) + ": expected true or false, got '" + s + "'");
}

int64_t as_int(const YAML::Node& n, std::string_view what) {
  const std::string s = scalar(n, what);
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail(where(n) + std::string(what) + ": expected an integer, got '" + s + "'");
}

double as_double(const YAML::Node& n, std::string_view what) {
  const std::string s = scalar(n, what);
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail(where(n) + std::string(what) + ": expected a number, got '" + s + "'");
}

void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed, std::string_view what) {
  if (!map.IsMap()) fail(where(map) + std::string(what) + ": expected a map");
  for (const auto& kv : map) {
    const std::string& k = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(where(kv.first) + std::string(what) + ": unknown key '" + k + "' (known: " + list + ")");
    }
  }
}

class Scenario;

// Renders an action on one line, in the vocabulary of the expectation format.
std::string render(const Action& a, int64_t start_ms) {
  auto t = [&](EventTime e) { return "T" + format_signed_duration(e.ms() - start_ms); };
  std::ostringstream o;
  o << "{trigger: " << journey::to_string(a.trigger) << ", customer: " << a.customer_id << ", step: " << a.step
    << ", channel: " << journey::to_string(a.channel) << ", journey: " << a.journey;
  if (!a.variant.empty()) o << ", variant: " << a.variant;
  if (!a.template_id.empty()) o << ", template: " << a.template_id;
  o << ", created: " << t(a.created) << ", due: " << t(a.due) << ", expires: " << t(a.expires);
  const auto& c = a.context;
  o << ", context: {first_time_buyer: " << (c.first_time_buyer ? "true" : "false") << ", order_count: " << c.order_count
    << ", lifetime_value: " << c.lifetime_value << ", loyalty_tier: " << c.loyalty_tier << ", locale: " << c.locale
    << ", timezone: " << c.timezone << "}";
  o << ", payload: {";
  switch (a.trigger) {
    case journey::Trigger::kCartAbandonment:
      o << "cart_value: " << a.cart_value << ", currency: " << a.currency << ", items: [";
      for (size_t i = 0; i < a.items.size(); ++i) {
        o << (i ? ", " : "") << "{sku: " << a.items[i].sku << ", quantity: " << a.items[i].quantity
          << ", unit_price: " << a.items[i].unit_price;
        if (!a.items[i].category.empty()) o << ", category: " << a.items[i].category;
        o << "}";
      }
      o << "]";
      break;
    case journey::Trigger::kSignupAbandonment: o << "form: " << journey::to_string(a.form); break;
    case journey::Trigger::kReplenishment:
      o << "sku: " << a.sku << ", category: " << a.category << ", quantity: " << a.quantity
        << ", order_id: " << a.order_id << ", last_order: " << t(a.last_order);
      break;
    case journey::Trigger::kShippingDelay:
      o << "order_id: " << a.order_id << ", carrier: " << a.carrier << ", promised_delivery: "
        << (a.promised_delivery.ms() ? t(a.promised_delivery) : "none")
        << ", new_eta: " << (a.new_eta.ms() ? t(a.new_eta) : "none") << ", reason: " << a.reason << ", incentive: ";
      if (a.incentive.kind.empty()) {
        o << "none";
      } else {
        o << "{kind: " << a.incentive.kind << ", code: " << a.incentive.code << ", value: " << a.incentive.value << "}";
      }
      break;
  }
  o << "}, action_id: " << a.action_id << "}";
  return o.str();
}

std::string render_yaml(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

// ---------------------------------------------------------------------------------------------
// The scenario run.

struct LoggedMessage {
  int32_t partition;
  std::string key;
  std::string payload;
  codec::InputFormat format;
};

class Scenario {
 public:
  explicit Scenario(std::string file) : file_(std::move(file)) {}

  // Returns the skip reason when the file is marked `skip:`; runs it otherwise.
  std::optional<std::string> load() {
    try {
      root_ = YAML::LoadFile(file_);
    } catch (const YAML::Exception& e) {
      fail(std::string("cannot parse: ") + e.what());
    }
    check_keys(root_, {"description", "config", "start", "wire", "skip", "steps"}, "scenario");
    if (!root_["description"]) fail("missing 'description'");
    if (!root_["steps"] || !root_["steps"].IsSequence() || root_["steps"].size() == 0) {
      fail("missing 'steps' (a non-empty list)");
    }
    if (auto s = root_["skip"]) return scalar(s, "skip");
    return std::nullopt;
  }

  void run() {
    setup();
    const YAML::Node steps = root_["steps"];
    for (size_t i = 0; i < steps.size(); ++i) {
      step_index_ = i;
      step_node_ = steps[i];
      run_step(steps[i]);
      if (worker_ && worker_->commit_due()) commit();
    }
    step_index_ = steps.size();
    step_node_ = YAML::Node();
    finish();
  }

  std::string position() const {
    std::string s = file_ + ": step " + std::to_string(step_index_ + 1);
    if (step_node_.IsDefined() && !step_node_.Mark().is_null()) s += " (line " + std::to_string(step_node_.Mark().line + 1) + ")";
    return s;
  }

 private:
  // --- setup -------------------------------------------------------------------------------

  void setup() {
    YAML::Node cfg = root_["config"] ? YAML::Clone(root_["config"]) : YAML::Node(YAML::NodeType::Map);
    if (!cfg.IsMap()) fail(where(root_["config"]) + "config: expected a map in the format of beckon.yaml");
    if (!cfg["inputs"]) cfg["inputs"].push_back(std::string(kTopic));
    YAML::Emitter emitter;
    emitter << cfg;
    const std::map<std::string, std::string> no_env;
    auto loaded = config::load_config_string(emitter.c_str(), "config", &no_env);
    if (!loaded) {
      fail("config is not valid:\n" + loaded.status().message() + "\n--- config as loaded ---\n" + emitter.c_str());
    }
    app_config_ = std::move(loaded).value();

    start_ms_ = *parse_iso8601(std::string(kDefaultStart));
    if (auto s = root_["start"]) {
      const std::string text = scalar(s, "start");
      auto t = parse_iso8601(text);
      if (!t && std::regex_match(text, std::regex(R"(^\d+$)"))) t = std::stoll(text);
      if (!t) fail(where(s) + "start: expected ISO 8601 (2026-11-23T10:00:00Z) or epoch ms, got '" + text + "'");
      start_ms_ = *t;
    }
    clock_.set(WallTime(start_ms_));
    if (auto w = root_["wire"]) default_format_ = parse_wire(w);

    local_time_ = journey::make_tzdb_local_time(app_config_.engine.policies.default_timezone);
    state::StoreOptions so;
    so.path = dir_.path() + "/state";
    so.block_cache_bytes = size_t{8} << 20;
    so.write_buffer_bytes = size_t{4} << 20;
    auto store = state::Store::open(so);
    if (!store) fail("cannot open the store: " + store.status().message());
    store_ = std::move(store).value();

    options_.commit_interval = app_config_.state.commit_interval;
    options_.replay = app_config_.processing.replay;
    options_.decoder.max_message_bytes = app_config_.processing.max_message_bytes;
    partitions_.insert(0);
    start_worker(/*backlog_caught_up=*/true);
  }

  codec::InputFormat parse_wire(const YAML::Node& n) {
    const std::string w = scalar(n, "wire");
    if (w == "json") return codec::InputFormat::kJson;
    if (w == "flatbuffers") return codec::InputFormat::kFlatBuffers;
    fail(where(n) + "wire: expected json or flatbuffers, got '" + w + "'");
  }

  // Creates a worker on the store, assigns every known partition, consumes the backlog from the
  // stored offsets while not caught up, then (if `caught_up_after`) switches to live.
  void start_worker(bool caught_up_after) {
    worker_ = std::make_unique<pipeline::Worker>(*store_, app_config_.engine, *local_time_, clock_, sink_, observer_,
                                                 options_);
    for (int32_t p : partitions_) assign(p, /*caught_up=*/false);
    consume_backlog();
    if (caught_up_after) set_caught_up(true);
  }

  void assign(int32_t p, bool caught_up) {
    if (Status s = worker_->assign(PartitionId(p)); !s) fail("assign failed: " + s.message());
    auto stored = worker_->stored_offset(PartitionId(p), kTopic);
    if (!stored) fail("stored_offset failed: " + stored.status().message());
    position_[p] = stored->has_value() ? (*stored)->value() : 0;
    worker_->set_caught_up(PartitionId(p), caught_up);
    caught_up_[p] = caught_up;
  }

  void consume_backlog() {
    for (int32_t p : partitions_) {
      auto& log = log_[p];
      while (position_[p] < static_cast<int64_t>(log.size())) process(p, position_[p]++);
    }
  }

  void process(int32_t p, int64_t offset) {
    const LoggedMessage& m = log_[p][static_cast<size_t>(offset)];
    pipeline::InputMessage in{kTopic,
                              PartitionId(p),
                              Offset(offset),
                              std::span(reinterpret_cast<const uint8_t*>(m.key.data()), m.key.size()),
                              std::span(reinterpret_cast<const uint8_t*>(m.payload.data()), m.payload.size()),
                              m.format};
    worker_->prefetch(std::span(&in, 1), pipeline::Worker::Prefetch::kNow);  // as the ingest loop does, from the message key
    if (Status s = worker_->process(in); !s) fail("Worker::process failed: " + s.message());
  }

  void set_caught_up(bool value) {
    for (int32_t p : partitions_) {
      worker_->set_caught_up(PartitionId(p), value);
      caught_up_[p] = value;
    }
    fire();
  }

  void fire() {
    if (Status s = worker_->fire_due_timers(); !s) fail("fire_due_timers failed: " + s.message());
  }

  void commit() {
    auto r = worker_->commit();
    if (!r) fail("commit failed: " + r.status().message());
  }

  // --- steps -------------------------------------------------------------------------------

  void run_step(const YAML::Node& step) {
    if (!step.IsMap() || step.size() != 1) {
      fail(where(step) + "a step is a map with exactly one key (event, advance, caught_up, commit, stop, restart, "
                         "crash, expect, expect_none, expect_held_out, expect_suppressed, expect_dead_letters, "
                         "expect_counts, expect_stored, expect_frontier)");
    }
    const std::string kind = step.begin()->first.Scalar();
    const YAML::Node arg = step.begin()->second;
    if (kind == "event") return on_event(arg);
    if (kind == "advance") return on_advance(arg);
    if (kind == "caught_up") {
      require_running(kind);
      return set_caught_up(as_bool(arg, kind));
    }
    if (kind == "commit") {
      require_running(kind);
      return commit();
    }
    if (kind == "stop") return on_stop(/*commit_first=*/true);
    if (kind == "crash") return on_stop(/*commit_first=*/false);
    if (kind == "restart") return on_restart(arg);
    if (kind == "expect") return expect_actions(arg, sink_.actions, checked_actions_, "actions");
    if (kind == "expect_held_out") return expect_actions(arg, sink_.held_out, checked_held_out_, "held-out decisions");
    if (kind == "expect_none") return expect_none(arg);
    if (kind == "expect_suppressed") return expect_suppressed(arg);
    if (kind == "expect_dead_letters") return expect_dead_letters(arg);
    if (kind == "expect_counts") return expect_counts(arg);
    if (kind == "expect_stored") return expect_stored(arg);
    if (kind == "expect_frontier") return expect_frontier(arg);
    fail(where(step) + "unknown step '" + kind + "'");
  }

  void require_running(std::string_view what) {
    if (!worker_) fail(std::string(what) + ": the worker is stopped (add a restart step first)");
  }

  EventTime time_of(const YAML::Node& n, std::string_view what) const {
    const std::string text = scalar(n, what);
    const int64_t now = clock_.now().ms();
    if (text == "now") return EventTime(now);
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
      if (auto d = parse_signed_duration(text)) return EventTime(now + d->count());
    } else if (!text.empty() && text[0] == 'T' && (text.size() == 1 || text[1] == '+' || text[1] == '-')) {
      if (text.size() == 1) return EventTime(start_ms_);
      if (auto d = parse_signed_duration(text.substr(1))) return EventTime(start_ms_ + d->count());
    } else if (auto t = parse_iso8601(text)) {
      return EventTime(*t);
    } else if (std::regex_match(text, std::regex(R"(^\d+$)"))) {
      return EventTime(std::stoll(text));
    }
    fail(where(n) + std::string(what) +
         ": expected a time like +5m (from now), T+1h (from the scenario start), 2026-11-23T21:30:00Z or epoch ms, "
         "got '" + text + "'");
  }

  void on_event(const YAML::Node& e) {
    if (!e.IsMap()) fail(where(e) + "event: expected a map");
    LoggedMessage m{0, "", "", default_format_};
    if (auto p = e["partition"]) m.partition = static_cast<int32_t>(as_int(p, "partition"));
    if (auto w = e["wire"]) m.format = parse_wire(w);
    if (auto raw = e["raw"]) {
      check_keys(e, {"raw", "partition", "customer"}, "event");
      m.payload = scalar(raw, "raw");
      m.key = e["customer"] ? scalar(e["customer"], "customer") : "";
      m.format = codec::InputFormat::kAuto;
    } else {
      if (!e["type"]) fail(where(e) + "event: missing 'type' (CartUpdated, OrderPlaced, ...)");
      json j;
      j["event_id"] = e["event_id"] ? scalar(e["event_id"], "event_id") : "e" + std::to_string(++event_seq_);
      j["customer_id"] = e["customer"] ? scalar(e["customer"], "customer") : std::string("c1");
      j["timestamp_ms"] = e["at"] ? time_of(e["at"], "at").ms() : clock_.now().ms();
      j["body_type"] = scalar(e["type"], "type");
      json body = json::object();
      for (const auto& kv : e) {
        const std::string& k = kv.first.Scalar();
        if (k == "type" || k == "customer" || k == "at" || k == "event_id" || k == "partition" || k == "wire") continue;
        const bool time_field = k.size() > 3 && k.compare(k.size() - 3, 3, "_ms") == 0 && kv.second.IsScalar() &&
                                kv.second.Tag() != "!" && !std::regex_match(kv.second.Scalar(), std::regex(R"(^\d+$)"));
        body[k] = time_field ? json(time_of(kv.second, k).ms()) : to_json(kv.second);
      }
      j["body"] = std::move(body);
      m.key = j["customer_id"].get<std::string>();
      m.payload = j.dump();
      if (m.format == codec::InputFormat::kFlatBuffers) {
        auto fb = codec::event_json_to_flatbuffer(m.payload);
        if (!fb) fail(where(e) + "event does not fit schemas/events.fbs: " + fb.status().message() + "\n" + m.payload);
        m.payload = std::move(fb).value();
      }
    }
    if (!partitions_.count(m.partition)) {
      partitions_.insert(m.partition);
      if (worker_) assign(m.partition, caught_up_.empty() ? true : caught_up_.begin()->second);
    }
    auto& log = log_[m.partition];
    log.push_back(std::move(m));
    const int32_t p = log.back().partition;
    if (worker_) {
      // Live: the worker consumes the message at once (it is the only one in the backlog).
      while (position_[p] < static_cast<int64_t>(log.size())) process(p, position_[p]++);
    }
  }

  void on_advance(const YAML::Node& n) {
    auto d = config::parse_duration(scalar(n, "advance"));
    if (!d) fail(where(n) + "advance: expected a duration like 30s, 15m, 1h, 3d, 1h30m, got '" + n.Scalar() + "'");
    clock_.advance(*d);
    if (worker_) fire();
  }

  void on_stop(bool commit_first) {
    require_running(commit_first ? "stop" : "crash");
    if (commit_first) commit();
    for (int32_t p : partitions_) worker_->revoke(PartitionId(p));
    worker_.reset();
  }

  void on_restart(const YAML::Node& n) {
    bool caught_up_after = true;
    if (n.IsMap()) {
      check_keys(n, {"caught_up"}, "restart");
      if (auto c = n["caught_up"]) caught_up_after = as_bool(c, "restart.caught_up");
    } else if (!n.IsNull()) {
      fail(where(n) + "restart: expected {} or {caught_up: false}");
    }
    if (worker_) on_stop(/*commit_first=*/true);
    start_worker(caught_up_after);
  }

  // --- expectations ------------------------------------------------------------------------

  std::vector<std::string> mismatches(const YAML::Node& exp, const Action& a) {
    check_keys(exp,
               {"trigger", "journey", "customer", "step", "channel", "variant", "template", "created", "due",
                "expires", "action_id", "duplicate", "context", "payload"},
               "expected action");
    std::vector<std::string> out;
    auto str = [&](const char* key, std::string_view actual) {
      if (auto n = exp[key]; n && scalar(n, key) != actual) {
        out.push_back(std::string(key) + ": expected " + n.Scalar() + ", got " + std::string(actual));
      }
    };
    auto time = [&](const char* key, EventTime actual) {
      if (auto n = exp[key]) {
        if (n.Scalar() == "none") {
          if (actual.ms() != 0) out.push_back(std::string(key) + ": expected none");
        } else if (time_of(n, key) != actual) {
          out.push_back(std::string(key) + ": expected " + n.Scalar() + ", got T" +
                        format_signed_duration(actual.ms() - start_ms_) + " (" + iso8601(actual.ms()) + ")");
        }
      }
    };
    auto integer = [&](const char* key, int64_t actual) {
      if (auto n = exp[key]; n && as_int(n, key) != actual) {
        out.push_back(std::string(key) + ": expected " + n.Scalar() + ", got " + std::to_string(actual));
      }
    };
    str("trigger", journey::to_string(a.trigger));
    str("journey", a.journey);
    str("customer", a.customer_id);
    integer("step", a.step);
    str("channel", journey::to_string(a.channel));
    str("variant", a.variant);
    str("template", a.template_id);
    str("action_id", a.action_id);
    time("created", a.created);
    time("due", a.due);
    time("expires", a.expires);
    if (auto n = exp["duplicate"]) {
      const bool dup = duplicate_ids_.count(&a) > 0;
      if (as_bool(n, "duplicate") != dup) {
        out.push_back(dup ? "duplicate: expected a new action_id, got one emitted before"
                          : "duplicate: expected the action_id of an earlier action, got a new one");
      }
    }
    if (auto c = exp["context"]) {
      check_keys(c, {"first_time_buyer", "order_count", "lifetime_value", "loyalty_tier", "locale", "timezone"},
                 "context");
      if (auto n = c["first_time_buyer"]; n && as_bool(n, "first_time_buyer") != a.context.first_time_buyer) {
        out.push_back(std::string("context.first_time_buyer: expected ") + n.Scalar());
      }
      YAML::Node ctx = c;
      auto sub = [&](const char* key, std::string_view actual) {
        if (auto n = ctx[key]; n && scalar(n, key) != actual) {
          out.push_back(std::string("context.") + key + ": expected " + n.Scalar() + ", got " + std::string(actual));
        }
      };
      if (auto n = c["order_count"]; n && as_int(n, "order_count") != a.context.order_count) {
        out.push_back("context.order_count: expected " + n.Scalar() + ", got " + std::to_string(a.context.order_count));
      }
      if (auto n = c["lifetime_value"]; n && !near(as_double(n, "lifetime_value"), a.context.lifetime_value)) {
        out.push_back("context.lifetime_value: expected " + n.Scalar() + ", got " +
                      std::to_string(a.context.lifetime_value));
      }
      sub("loyalty_tier", a.context.loyalty_tier);
      sub("locale", a.context.locale);
      sub("timezone", a.context.timezone);
    }
    if (auto p = exp["payload"]) {
      check_keys(p,
                 {"items", "cart_value", "currency", "form", "sku", "category", "quantity", "order_id", "last_order",
                  "carrier", "promised_delivery", "new_eta", "reason", "incentive"},
                 "payload");
      auto pstr = [&](const char* key, std::string_view actual) {
        if (auto n = p[key]; n && scalar(n, key) != actual) {
          out.push_back(std::string("payload.") + key + ": expected " + n.Scalar() + ", got " + std::string(actual));
        }
      };
      auto ptime = [&](const char* key, EventTime actual) {
        if (auto n = p[key]) {
          if (n.Scalar() == "none" ? actual.ms() != 0 : time_of(n, key) != actual) {
            out.push_back(std::string("payload.") + key + ": expected " + n.Scalar() + ", got " +
                          (actual.ms() ? "T" + format_signed_duration(actual.ms() - start_ms_) : "none"));
          }
        }
      };
      pstr("currency", a.currency);
      pstr("form", journey::to_string(a.form));
      pstr("sku", a.sku);
      pstr("category", a.category);
      pstr("order_id", a.order_id);
      pstr("carrier", a.carrier);
      pstr("reason", a.reason);
      ptime("last_order", a.last_order);
      ptime("promised_delivery", a.promised_delivery);
      ptime("new_eta", a.new_eta);
      if (auto n = p["cart_value"]; n && !near(as_double(n, "cart_value"), a.cart_value)) {
        out.push_back("payload.cart_value: expected " + n.Scalar() + ", got " + std::to_string(a.cart_value));
      }
      if (auto n = p["quantity"]; n && as_int(n, "quantity") != a.quantity) {
        out.push_back("payload.quantity: expected " + n.Scalar() + ", got " + std::to_string(a.quantity));
      }
      if (auto n = p["incentive"]) {
        if (n.IsScalar() && n.Scalar() == "none") {
          if (!a.incentive.kind.empty()) out.push_back("payload.incentive: expected none, got " + a.incentive.kind);
        } else {
          check_keys(n, {"kind", "code", "value"}, "payload.incentive");
          if (auto k = n["kind"]; k && k.Scalar() != a.incentive.kind) out.push_back("payload.incentive.kind differs");
          if (auto k = n["code"]; k && k.Scalar() != a.incentive.code) out.push_back("payload.incentive.code differs");
          if (auto k = n["value"]; k && !near(as_double(k, "value"), a.incentive.value)) {
            out.push_back("payload.incentive.value differs");
          }
        }
      }
      if (auto n = p["items"]) {
        if (!n.IsSequence()) fail(where(n) + "payload.items: expected a list");
        if (n.size() != a.items.size()) {
          out.push_back("payload.items: expected " + std::to_string(n.size()) + " lines, got " +
                        std::to_string(a.items.size()));
        } else {
          for (size_t i = 0; i < n.size(); ++i) {
            const YAML::Node it = n[i];
            check_keys(it, {"sku", "quantity", "unit_price", "category"}, "payload.items[]");
            const auto& line = a.items[i];
            const std::string at = "payload.items[" + std::to_string(i) + "]";
            if (auto v = it["sku"]; v && v.Scalar() != line.sku) out.push_back(at + ".sku: got " + line.sku);
            if (auto v = it["quantity"]; v && as_int(v, "quantity") != line.quantity) {
              out.push_back(at + ".quantity: got " + std::to_string(line.quantity));
            }
            if (auto v = it["unit_price"]; v && !near(as_double(v, "unit_price"), line.unit_price)) {
              out.push_back(at + ".unit_price: got " + std::to_string(line.unit_price));
            }
            if (auto v = it["category"]; v && v.Scalar() != line.category) {
              out.push_back(at + ".category: got " + line.category);
            }
          }
        }
      }
    }
    return out;
  }

  // Finds a one-to-one assignment of expected items to actual actions (augmenting paths; the
  // lists are small). Returns, per expected item, the index of its action or -1.
  std::vector<int> assign_matches(const std::vector<std::vector<bool>>& ok, size_t actual_count) {
    std::vector<int> owner(actual_count, -1);
    std::function<bool(size_t, std::vector<bool>&)> augment = [&](size_t e, std::vector<bool>& seen) {
      for (size_t a = 0; a < actual_count; ++a) {
        if (!ok[e][a] || seen[a]) continue;
        seen[a] = true;
        if (owner[a] < 0 || augment(static_cast<size_t>(owner[a]), seen)) {
          owner[a] = static_cast<int>(e);
          return true;
        }
      }
      return false;
    };
    std::vector<int> match(ok.size(), -1);
    for (size_t e = 0; e < ok.size(); ++e) {
      std::vector<bool> seen(actual_count, false);
      augment(e, seen);
    }
    for (size_t a = 0; a < actual_count; ++a) {
      if (owner[a] >= 0) match[static_cast<size_t>(owner[a])] = static_cast<int>(a);
    }
    return match;
  }

  void expect_actions(const YAML::Node& list, const std::vector<Action>& all, size_t& checked, std::string_view what) {
    if (worker_) commit();
    if (!list.IsSequence()) fail(where(list) + "expected a list of actions (use expect_none for none)");
    std::vector<Action> window(all.begin() + static_cast<std::ptrdiff_t>(checked), all.end());
    checked = all.size();

    // An action is a duplicate when an earlier action (this window or before) had its id.
    duplicate_ids_.clear();
    std::set<std::string> ids = seen_ids_;
    for (const Action& a : window) {
      if (!ids.insert(a.action_id).second) duplicate_ids_.insert(&a);
    }
    std::vector<std::vector<bool>> ok(list.size(), std::vector<bool>(window.size()));
    std::vector<std::vector<std::vector<std::string>>> why(list.size(), std::vector<std::vector<std::string>>(window.size()));
    for (size_t e = 0; e < list.size(); ++e) {
      for (size_t a = 0; a < window.size(); ++a) {
        why[e][a] = mismatches(list[e], window[a]);
        ok[e][a] = why[e][a].empty();
      }
    }
    std::vector<int> match = assign_matches(ok, window.size());
    std::vector<bool> used(window.size(), false);
    bool all_matched = true;
    for (size_t e = 0; e < match.size(); ++e) {
      if (match[e] < 0) all_matched = false;
      else used[static_cast<size_t>(match[e])] = true;
    }
    for (const Action& a : window) seen_ids_.insert(a.action_id);
    if (all_matched && window.size() == list.size()) return;

    std::ostringstream o;
    o << "expected " << list.size() << " " << what << ", got " << window.size() << " since the previous check\n";
    for (size_t e = 0; e < list.size(); ++e) {
      if (match[e] >= 0) {
        o << "    matched   " << render_yaml(list[e]) << "\n";
        continue;
      }
      o << "  - missing   " << where(list[e]) << render_yaml(list[e]) << "\n";
      // The closest actual action (fewest mismatching fields) explains the difference.
      size_t best = window.size();
      for (size_t a = 0; a < window.size(); ++a) {
        if (best == window.size() || why[e][a].size() < why[e][best].size()) best = a;
      }
      if (best < window.size()) {
        o << "      closest actual differs in:";
        for (const auto& m : why[e][best]) o << "\n        " << m;
        o << "\n";
      }
    }
    for (size_t a = 0; a < window.size(); ++a) {
      if (!used[a]) o << "  + unexpected " << render(window[a], start_ms_) << "\n";
    }
    o << "  actual " << what << " in this window:";
    if (window.empty()) o << " none";
    for (const Action& a : window) o << "\n    " << render(a, start_ms_);
    fail(o.str());
  }

  void expect_none(const YAML::Node& n) {
    if (!as_bool(n, "expect_none")) fail(where(n) + "expect_none: only 'true' makes sense");
    YAML::Node empty(YAML::NodeType::Sequence);
    expect_actions(empty, sink_.actions, checked_actions_, "actions");
    expect_actions(empty, sink_.held_out, checked_held_out_, "held-out decisions");
  }

  void expect_suppressed(const YAML::Node& list) {
    if (!list.IsSequence()) fail(where(list) + "expect_suppressed: expected a list of {reason, trigger}");
    const auto& all = observer_.suppressions;
    std::vector<CountingObserver::Suppressed> window(all.begin() + static_cast<std::ptrdiff_t>(checked_suppressions_),
                                                     all.end());
    checked_suppressions_ = all.size();
    std::vector<std::vector<bool>> ok(list.size(), std::vector<bool>(window.size()));
    for (size_t e = 0; e < list.size(); ++e) {
      check_keys(list[e], {"reason", "trigger", "journey", "step"}, "expected suppression");
      for (size_t a = 0; a < window.size(); ++a) {
        const auto& s = window[a];
        const YAML::Node x = list[e];
        ok[e][a] = (!x["reason"] || x["reason"].Scalar() == s.reason) &&
                   (!x["trigger"] || x["trigger"].Scalar() == journey::to_string(s.trigger)) &&
                   (!x["journey"] || x["journey"].Scalar() == s.journey) &&
                   (!x["step"] || as_int(x["step"], "step") == s.step);
      }
    }
    std::vector<int> match = assign_matches(ok, window.size());
    const bool all_matched = std::all_of(match.begin(), match.end(), [](int m) { return m >= 0; });
    if (all_matched && window.size() == list.size()) return;
    std::ostringstream o;
    o << "expected " << list.size() << " suppressions, got " << window.size() << " since the previous check\n";
    for (size_t e = 0; e < list.size(); ++e) {
      o << (match[e] >= 0 ? "    matched   " : "  - missing   ") << render_yaml(list[e]) << "\n";
    }
    o << "  actual:";
    if (window.empty()) o << " none";
    for (const auto& s : window) {
      o << "\n    {reason: " << s.reason << ", trigger: " << journey::to_string(s.trigger) << ", journey: " << s.journey
        << ", step: " << s.step << "}";
    }
    fail(o.str());
  }

  void expect_dead_letters(const YAML::Node& list) {
    if (!list.IsSequence()) fail(where(list) + "expect_dead_letters: expected a list of reasons");
    const auto& all = sink_.dead_letters;
    std::vector<std::string> expected, actual;
    for (const auto& n : list) expected.push_back(scalar(n, "reason"));
    for (size_t i = checked_dead_letters_; i < all.size(); ++i) actual.push_back(all[i].reason);
    const size_t from = checked_dead_letters_;
    checked_dead_letters_ = all.size();
    auto e = expected, a = actual;
    std::sort(e.begin(), e.end());
    std::sort(a.begin(), a.end());
    if (e == a) return;
    std::ostringstream o;
    o << "dead letters differ\n  expected: [";
    for (size_t i = 0; i < expected.size(); ++i) o << (i ? ", " : "") << expected[i];
    o << "]\n  actual:";
    if (actual.empty()) o << " none";
    for (size_t i = from; i < all.size(); ++i) {
      o << "\n    " << all[i].reason << " (partition " << all[i].partition << ", offset " << all[i].offset
        << "): " << all[i].detail;
    }
    fail(o.str());
  }

  void expect_counts(const YAML::Node& map) {
    if (!map.IsMap()) fail(where(map) + "expect_counts: expected a map of counter: value");
    static const std::set<std::string> known = {"consumed", "dead_letters", "late", "clamped", "timers_scheduled",
                                                "timers_cancelled", "timers_fired", "actions", "held_out",
                                                "suppressed", "deferred", "commits", "commit_failures",
                                                "pending_timers"};
    std::ostringstream o;
    for (const auto& kv : map) {
      const std::string& k = kv.first.Scalar();
      if (!known.count(k)) fail(where(kv.first) + "expect_counts: unknown counter '" + k + "'");
      const int64_t want = as_int(kv.second, k);
      int64_t got;
      if (k == "pending_timers") {
        require_running("expect_counts.pending_timers");
        got = worker_->pending_timers();
      } else {
        auto it = observer_.counts.find(k);
        got = it == observer_.counts.end() ? 0 : it->second;
      }
      if (got != want) o << "\n  " << k << ": expected " << want << ", got " << got;
    }
    if (!o.str().empty()) fail("counts differ (cumulative since the scenario start):" + o.str());
  }

  void expect_stored(const YAML::Node& n) {
    check_keys(n, {"customer", "partition", "present"}, "expect_stored");
    if (worker_) commit();
    const std::string customer = n["customer"] ? scalar(n["customer"], "customer") : "c1";
    const int32_t p = n["partition"] ? static_cast<int32_t>(as_int(n["partition"], "partition")) : 0;
    if (!n["present"]) fail(where(n) + "expect_stored: missing 'present: true|false'");
    const bool want = as_bool(n["present"], "present");
    std::string value;
    Status s = store_->get_customer(PartitionId(p), customer, &value);
    if (!s && s.code() != Status::Code::kNotFound) fail("store read failed: " + s.message());
    const bool present = s.is_ok();
    if (present != want) {
      fail("stored state of customer " + customer + ": expected " + (want ? "present" : "absent") + ", got " +
           (present ? "present (" + std::to_string(value.size()) + " bytes)" : "absent"));
    }
  }

  void expect_frontier(const YAML::Node& n) {
    require_running("expect_frontier");
    const EventTime want = time_of(n, "expect_frontier");
    const EventTime got = worker_->frontier(PartitionId(0));
    if (got != want) {
      fail("frontier of partition 0: expected " + n.Scalar() + " (" + iso8601(want.ms()) + "), got T" +
           format_signed_duration(got.ms() - start_ms_) + " (" + iso8601(got.ms()) + ")");
    }
  }

  void finish() {
    if (!sink_.wire_errors.empty()) {
      std::string all;
      for (const auto& e : sink_.wire_errors) all += "\n  " + e;
      fail("actions did not survive the FlatBuffers wire form:" + all);
    }
    std::ostringstream o;
    for (size_t i = checked_actions_; i < sink_.actions.size(); ++i) {
      o << "\n  + unexpected action " << render(sink_.actions[i], start_ms_);
    }
    for (size_t i = checked_held_out_; i < sink_.held_out.size(); ++i) {
      o << "\n  + unexpected held-out " << render(sink_.held_out[i], start_ms_);
    }
    for (size_t i = checked_dead_letters_; i < sink_.dead_letters.size(); ++i) {
      o << "\n  + unexpected dead letter " << sink_.dead_letters[i].reason << ": " << sink_.dead_letters[i].detail;
    }
    if (!o.str().empty()) fail("decisions after the last expectation were never checked (list every one):" + o.str());
    if (worker_) commit();
  }

  std::string file_;
  YAML::Node root_;
  size_t step_index_ = 0;
  YAML::Node step_node_;

  config::AppConfig app_config_;
  int64_t start_ms_ = 0;
  codec::InputFormat default_format_ = codec::InputFormat::kJson;
  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<journey::LocalTime> local_time_;
  std::unique_ptr<state::Store> store_;
  RecordingSink sink_;
  CountingObserver observer_;
  pipeline::WorkerOptions options_;
  std::unique_ptr<pipeline::Worker> worker_;

  std::set<int32_t> partitions_;
  std::map<int32_t, std::vector<LoggedMessage>> log_;  // the input topic: offset = index
  std::map<int32_t, int64_t> position_;                // next offset the worker consumes
  std::map<int32_t, bool> caught_up_;
  int64_t event_seq_ = 0;

  size_t checked_actions_ = 0;
  size_t checked_held_out_ = 0;
  size_t checked_suppressions_ = 0;
  size_t checked_dead_letters_ = 0;
  std::set<std::string> seen_ids_;  // action ids of earlier windows
  std::set<const Action*> duplicate_ids_;  // actions of the current window whose id came earlier
};

// ---------------------------------------------------------------------------------------------
// GoogleTest wiring: one test per file, named after it.

std::string scenario_dir() {
  if (const char* env = std::getenv("BECKON_SCENARIO_DIR"); env != nullptr && *env) return env;
  return BECKON_SCENARIO_DIR;
}

std::vector<std::string> scenario_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scenario_dir(), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") out.push_back(entry.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenScenario, Runs) {
  Scenario scenario(scenario_dir() + "/" + GetParam());
  try {
    if (auto skip = scenario.load()) GTEST_SKIP() << GetParam() << ": " << *skip;
    scenario.run();
  } catch (const ScenarioError& e) {
    FAIL() << scenario.position() << ": " << e.message;
  } catch (const YAML::Exception& e) {
    FAIL() << scenario.position() << ": YAML error: " << e.what();
  }
}

TEST(GoldenScenarioSuite, EveryConfiguredFileIsPresent) {
  // The build lists the files it saw; a file listed here but gone means a stale build, and an
  // empty directory means the suite silently tests nothing.
  const auto files = scenario_files();
  EXPECT_GE(files.size(), 1u) << "no scenario files in " << scenario_dir();
  for (const char* const* f = kConfiguredScenarioFiles; *f != nullptr; ++f) {
    EXPECT_TRUE(std::find(files.begin(), files.end(), *f) != files.end()) << *f << " vanished; re-run cmake";
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.rfind('.'));
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenScenario, ::testing::ValuesIn(scenario_files()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenScenario);

}  // namespace
}  // namespace beckon::scenarios
