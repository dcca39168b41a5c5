#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "config/config.h"

namespace beckon::config {
namespace {

using journey::Channel;
using journey::Trigger;
using ::testing::HasSubstr;
using ::testing::Not;

const std::map<std::string, std::string> kNoEnv;

// The smallest valid file: one input topic, everything else default.
constexpr const char* kMinimal = "inputs: [shop.events]\n";

Result<AppConfig> load(const std::string& yaml, const std::map<std::string, std::string>& env = kNoEnv) {
  return load_config_string(yaml, "beckon.yaml", &env);
}

// The error text of a configuration that must fail.
std::string errors_of(const std::string& yaml) {
  auto r = load(yaml);
  EXPECT_FALSE(r.is_ok()) << "expected the configuration to be rejected:\n" << yaml;
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

// ---- valid files ------------------------------------------------------------------------------

TEST(ConfigLoad, ExampleFileFromDeployValidates) {
  auto r = load_config_file(BECKON_EXAMPLE_CONFIG, &kNoEnv);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const AppConfig& c = r.value();
  EXPECT_EQ(c.kafka.bootstrap_servers, "localhost:9092");
  EXPECT_EQ(c.kafka.properties.at("client.id"), "beckon");
  ASSERT_EQ(c.inputs.size(), 2u);
  EXPECT_EQ(c.inputs[0].name, "shop.events");
  EXPECT_EQ(c.inputs[0].format, InputFormat::kAuto);
  EXPECT_EQ(c.inputs[1].format, InputFormat::kFlatbuffers);
  EXPECT_EQ(c.output.topic_for(Channel::kEmail), "beckon.actions.email");
  EXPECT_EQ(c.output.topic_for(Channel::kAdsAudience), "marketing.audiences.beckon");
  EXPECT_EQ(c.output.format_for(Channel::kEmail), OutputFormat::kFlatbuffers);
  EXPECT_EQ(c.output.format_for(Channel::kAdsAudience), OutputFormat::kJson);
  EXPECT_EQ(c.state.block_cache_bytes, size_t{256} << 20);
  EXPECT_EQ(c.processing.max_message_bytes, size_t{1} << 20);
  ASSERT_EQ(c.engine.journeys.size(), 4u);
  const auto& cart = c.engine.journeys[0];
  EXPECT_EQ(cart.trigger, Trigger::kCartAbandonment);
  ASSERT_EQ(cart.steps.size(), 3u);
  EXPECT_EQ(cart.steps[0].delay, Millis(3'600'000));
  EXPECT_EQ(cart.steps[0].channels, (std::vector<Channel>{Channel::kAppPush, Channel::kWebPush}));
  EXPECT_EQ(cart.steps[0].template_id, "cart_reminder_push");
  const auto& signup = c.engine.journeys[1];
  EXPECT_EQ(signup.reentry, journey::ReentryRule::kCooldown);
  EXPECT_EQ(signup.reentry_cooldown, Millis(7 * 86'400'000LL));
  const auto& repl = c.engine.journeys[2];
  EXPECT_FALSE(repl.default_cycle_days.has_value());
  EXPECT_EQ(repl.cycle_days_by_category.at("skincare"), 30);
  const auto& ship = c.engine.journeys[3];
  EXPECT_TRUE(ship.transactional);
  EXPECT_EQ(ship.incentive, (journey::Incentive{"coupon", "SORRY10", 10}));
}

void expect_same_journey(const journey::JourneyConfig& a, const journey::JourneyConfig& b) {
  SCOPED_TRACE(b.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.trigger, b.trigger);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.transactional, b.transactional);
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) {
    EXPECT_EQ(a.steps[i].delay, b.steps[i].delay) << i;
    EXPECT_EQ(a.steps[i].channels, b.steps[i].channels) << i;
    EXPECT_EQ(a.steps[i].most_engaged, b.steps[i].most_engaged) << i;
    EXPECT_EQ(a.steps[i].template_id, b.steps[i].template_id) << i;
  }
  EXPECT_EQ(a.expires_after, b.expires_after);
  EXPECT_EQ(a.min_cart_value, b.min_cart_value);
  EXPECT_EQ(a.forms, b.forms);
  EXPECT_EQ(a.signup_grace, b.signup_grace);
  EXPECT_EQ(a.signup_from_page_views, b.signup_from_page_views);
  EXPECT_EQ(a.cycle_days_by_sku, b.cycle_days_by_sku);
  EXPECT_EQ(a.cycle_days_by_category, b.cycle_days_by_category);
  EXPECT_EQ(a.default_cycle_days, b.default_cycle_days);
  EXPECT_EQ(a.lead_days, b.lead_days);
  EXPECT_EQ(a.shipping_grace, b.shipping_grace);
  EXPECT_EQ(a.incentive, b.incentive);
  EXPECT_EQ(a.holdout_percent, b.holdout_percent);
  EXPECT_EQ(a.variants.size(), b.variants.size());
  EXPECT_EQ(a.reentry, b.reentry);
  EXPECT_EQ(a.reentry_cooldown, b.reentry_cooldown);
}

// The example file spells out the built-in journeys (journey::default_engine_config()), so the two
// must not drift apart.
TEST(ConfigLoad, ExampleFileJourneysAreTheBuiltInJourneys) {
  auto r = load_config_file(BECKON_EXAMPLE_CONFIG, &kNoEnv);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto expected = journey::default_engine_config().journeys;
  ASSERT_EQ(r->engine.journeys.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) expect_same_journey(r->engine.journeys[i], expected[i]);
}

// The example documents the defaults: loading it must give the same values as the structs'
// defaults for every section it spells out with default values.
TEST(ConfigLoad, ExampleFileStatesTheDocumentedDefaults) {
  auto r = load_config_file(BECKON_EXAMPLE_CONFIG, &kNoEnv);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const AppConfig& c = r.value();
  const AppConfig d;
  EXPECT_EQ(c.kafka.group_id, d.kafka.group_id);
  EXPECT_EQ(c.output.topic_prefix, d.output.topic_prefix);
  EXPECT_EQ(c.output.format, d.output.format);
  EXPECT_EQ(c.output.dead_letter_topic, d.output.dead_letter_topic);
  EXPECT_EQ(c.state.dir, d.state.dir);
  EXPECT_EQ(c.state.cache_entries, d.state.cache_entries);
  EXPECT_EQ(c.state.commit_interval, d.state.commit_interval);
  EXPECT_EQ(c.state.block_cache_bytes, d.state.block_cache_bytes);
  EXPECT_EQ(c.processing.workers, d.processing.workers);
  EXPECT_EQ(c.processing.max_in_flight_actions, d.processing.max_in_flight_actions);
  EXPECT_EQ(c.processing.max_message_bytes, d.processing.max_message_bytes);
  EXPECT_EQ(c.metrics.listen, d.metrics.listen);
  EXPECT_EQ(c.log.level, d.log.level);
  EXPECT_EQ(c.engine.time.allowed_lateness, d.engine.time.allowed_lateness);
  EXPECT_EQ(c.engine.time.max_future_skew, d.engine.time.max_future_skew);
  const auto& p = c.engine.policies;
  const journey::PolicyConfig dp;
  EXPECT_EQ(p.consent_default_granted, dp.consent_default_granted);
  ASSERT_EQ(p.frequency_caps.size(), dp.frequency_caps.size());
  for (size_t i = 0; i < p.frequency_caps.size(); ++i) {
    EXPECT_EQ(p.frequency_caps[i].window, dp.frequency_caps[i].window);
    EXPECT_EQ(p.frequency_caps[i].max_actions, dp.frequency_caps[i].max_actions);
  }
  EXPECT_EQ(p.quiet_start_hour, dp.quiet_start_hour);
  EXPECT_EQ(p.quiet_end_hour, dp.quiet_end_hour);
  EXPECT_EQ(p.default_timezone, dp.default_timezone);
  EXPECT_EQ(p.after_order_pause, dp.after_order_pause);
  ASSERT_EQ(p.loyalty_tiers.size(), dp.loyalty_tiers.size());
  EXPECT_EQ(p.loyalty_tiers[2].min_lifetime_value, dp.loyalty_tiers[2].min_lifetime_value);
}

TEST(ConfigLoad, MinimalFileKeepsAllDefaults) {
  auto r = load(kMinimal);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const AppConfig& c = r.value();
  const AppConfig d;
  ASSERT_EQ(c.inputs.size(), 1u);
  EXPECT_EQ(c.inputs[0].name, "shop.events");
  EXPECT_EQ(c.inputs[0].format, InputFormat::kAuto);
  EXPECT_EQ(c.kafka.bootstrap_servers, d.kafka.bootstrap_servers);
  EXPECT_EQ(c.output.topic_for(Channel::kWebPush), "beckon.actions.web_push");
  EXPECT_EQ(c.state.commit_interval, Millis(1000));
  EXPECT_EQ(c.processing.workers, 1);
  EXPECT_EQ(c.processing.read_ahead, ReadAhead::kAuto);
  EXPECT_EQ(c.engine.policies.quiet_start_hour, 21);
}

TEST(ConfigLoad, ReadAheadIsAutoTrueOrFalse) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, ReadAhead>>{
           {"auto", ReadAhead::kAuto}, {"true", ReadAhead::kOn}, {"false", ReadAhead::kOff}}) {
    auto r = load("inputs: [a]\nprocessing: {read_ahead: " + text + "}\n");
    ASSERT_TRUE(r.is_ok()) << text << ": " << r.status().message();
    EXPECT_EQ(r.value().processing.read_ahead, want) << text;
  }
  EXPECT_THAT(errors_of("inputs: [a]\nprocessing:\n  read_ahead: sometimes\n"),
              HasSubstr("beckon.yaml:3: processing.read_ahead: expected auto, true or false, got 'sometimes'"));
}

TEST(ConfigLoad, AbsentJourneysKeyGivesTheBuiltInJourneys) {
  auto r = load(kMinimal);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto expected = journey::default_engine_config().journeys;
  ASSERT_EQ(expected.size(), 4u);
  ASSERT_EQ(r->engine.journeys.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) expect_same_journey(r->engine.journeys[i], expected[i]);
}

TEST(ConfigLoad, ReadsEverySectionsValues) {
  auto r = load(R"(kafka:
  bootstrap_servers: "b1:9092,b2:9092"
  group_id: shop-beckon
  properties: {security.protocol: SASL_SSL, sasl.mechanisms: PLAIN, queue.buffering.max.ms: 5}
inputs:
  - {topic: a.events, format: json}
  - b.events
output: {topic_prefix: "act-", topics: {sms: texts}, format: json, formats: {email: flatbuffers},
         dead_letter_topic: dead, holdout_topic: held}
state: {dir: /tmp/x, cache_entries: 1_000, sync_commits: true, commit_interval: 250ms, block_cache: 1GiB}
processing: {workers: 8, replay: true, max_in_flight_actions: 50, max_message_bytes: 4096}
time: {allowed_lateness: 0, max_future_skew: 1m}
metrics: {listen: "[::]:9000"}
log: {level: debug, json: true}
policies:
  consent_default: granted
  frequency_caps: []
  quiet_hours: {enabled: false, start: "22:00", end: "07:00", default_timezone: Europe/Berlin}
  after_order_pause: 0
  loyalty_tiers: [{name: member, min_lifetime_value: 0}, {name: vip, min_lifetime_value: 500.5}]
journeys:
  - name: carts
    trigger: cart_abandonment
    enabled: false
    steps: [{delay: 30m, channels: [whatsapp]}]
    min_cart_value: 25.5
    holdout_percent: 12.5
    reentry: once
)");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const AppConfig& c = r.value();
  EXPECT_EQ(c.kafka.bootstrap_servers, "b1:9092,b2:9092");
  EXPECT_EQ(c.kafka.group_id, "shop-beckon");
  EXPECT_EQ(c.kafka.properties.size(), 3u);
  EXPECT_EQ(c.kafka.properties.at("queue.buffering.max.ms"), "5");
  EXPECT_EQ(c.inputs[0].format, InputFormat::kJson);
  EXPECT_EQ(c.inputs[1].name, "b.events");
  EXPECT_EQ(c.output.topic_for(Channel::kSms), "texts");
  EXPECT_EQ(c.output.topic_for(Channel::kEmail), "act-email");
  EXPECT_EQ(c.output.format_for(Channel::kEmail), OutputFormat::kFlatbuffers);
  EXPECT_EQ(c.output.format_for(Channel::kSms), OutputFormat::kJson);
  EXPECT_EQ(c.output.holdout_topic, "held");
  EXPECT_EQ(c.state.cache_entries, 1000u);
  EXPECT_TRUE(c.state.sync_commits);
  EXPECT_EQ(c.state.commit_interval, Millis(250));
  EXPECT_EQ(c.state.block_cache_bytes, size_t{1} << 30);
  EXPECT_EQ(c.processing.workers, 8);
  EXPECT_TRUE(c.processing.replay);
  EXPECT_EQ(c.processing.max_message_bytes, 4096u);
  EXPECT_EQ(c.engine.time.allowed_lateness, Millis(0));
  EXPECT_EQ(c.metrics.listen, "[::]:9000");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_TRUE(c.log.json);
  const auto& p = c.engine.policies;
  EXPECT_TRUE(p.consent_default_granted);
  EXPECT_TRUE(p.frequency_caps.empty());
  EXPECT_FALSE(p.quiet_hours_enabled);
  EXPECT_EQ(p.quiet_start_hour, 22);
  EXPECT_EQ(p.quiet_end_hour, 7);
  EXPECT_EQ(p.default_timezone, "Europe/Berlin");
  EXPECT_EQ(p.loyalty_tiers.size(), 2u);
  ASSERT_EQ(c.engine.journeys.size(), 1u);
  const auto& j = c.engine.journeys[0];
  EXPECT_FALSE(j.enabled);
  EXPECT_EQ(j.min_cart_value, 25.5);
  EXPECT_EQ(j.holdout_percent, 12.5);
  EXPECT_EQ(j.reentry, journey::ReentryRule::kOnce);
  EXPECT_EQ(j.steps[0].channels, std::vector<Channel>{Channel::kWhatsapp});
}

TEST(ConfigLoad, MissingFileNamesThePath) {
  auto r = load_config_file("/nonexistent/beckon.yaml", &kNoEnv);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/beckon.yaml"));
}

// ---- errors: each names the source, the line and the key path ----------------------------------

TEST(ConfigErrors, BadDurationNamesKeyPathAndLine) {
  EXPECT_THAT(errors_of(R"(inputs: [shop.events]
journeys:
  - name: cart
    trigger: cart_abandonment
    steps:
      - {delay: 1h, channels: [email]}
  - name: cart2
    trigger: cart_abandonment
    steps:
      - delay: soon
        channels: [email]
)"),
              HasSubstr("beckon.yaml:10: journeys[1].steps[0].delay: expected a duration like 30s, 15m, 1h, 3d, "
                        "got 'soon'"));
}

TEST(ConfigErrors, UnknownTopLevelKeySuggestsTheNearMiss) {
  EXPECT_THAT(errors_of("inputs: [a]\nprocesing: {workers: 2}\n"),
              HasSubstr("beckon.yaml:2: procesing: unknown key 'procesing'; did you mean 'processing'?"));
}

TEST(ConfigErrors, UnknownNestedKeyNamesItsPath) {
  const std::string e = errors_of("inputs: [a]\nstate:\n  dir: /x\n  cache_entrys: 5\n");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: state.cache_entrys: unknown key 'cache_entrys'; did you mean 'cache_entries'?"));
}

TEST(ConfigErrors, FarOffUnknownKeyHasNoSuggestion) {
  const std::string e = errors_of("inputs: [a]\nlog: {colour: red}\n");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:2: log.colour: unknown key 'colour'"));
  EXPECT_THAT(e, Not(HasSubstr("did you mean")));
}

TEST(ConfigErrors, WrongTypesAreNamed) {
  const std::string e = errors_of(R"(inputs: [a]
processing:
  workers: many
  replay: yes
state: [1, 2]
metrics: {listen: 9464}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: processing.workers: expected a whole number, got 'many'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: processing.replay: expected true or false, got 'yes'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:5: state: expected a mapping"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:6: metrics.listen: expected host:port"));
}

TEST(ConfigErrors, CollectsEveryErrorOnePerLineInFileOrder) {
  const std::string e = errors_of(R"(inputs: [a]
processing: {workers: 0}
state: {commit_interval: 5ms}
log: {level: loud}
)");
  EXPECT_EQ(e, "beckon.yaml:2: processing.workers: must be between 1 and 64, got '0'\n"
               "beckon.yaml:3: state.commit_interval: must be at least 10ms, got '5ms'\n"
               "beckon.yaml:4: log.level: expected one of trace, debug, info, warn, error, critical or off, got 'loud'");
}

TEST(ConfigErrors, WorkersAboveLimit) {
  EXPECT_THAT(errors_of("inputs: [a]\nprocessing:\n  workers: 65\n"),
              HasSubstr("beckon.yaml:3: processing.workers: must be between 1 and 64, got '65'"));
}

TEST(ConfigErrors, InputsMissingOrEmpty) {
  EXPECT_THAT(errors_of("log: {level: info}\n"), HasSubstr("beckon.yaml:1: inputs: required"));
  EXPECT_THAT(errors_of("log: {level: info}\ninputs: []\n"),
              HasSubstr("beckon.yaml:2: inputs: must list at least one input topic"));
  EXPECT_THAT(errors_of(""), HasSubstr("inputs: required"));
}

TEST(ConfigErrors, InputFormatAndDuplicates) {
  const std::string e = errors_of(R"(inputs:
  - {topic: a, format: jsn}
  - {topic: b}
  - b
  - {format: json}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:2: inputs[0].format: expected one of flatbuffers, json or auto, got 'jsn'; "
                           "did you mean 'json'?"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: inputs[2]: topic 'b' is listed twice (first on line 3)"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:5: inputs[3]: missing required key 'topic'"));
}

TEST(ConfigErrors, DuplicateYamlKey) {
  EXPECT_THAT(errors_of("inputs: [a]\nlog:\n  level: info\n  level: debug\n"),
              HasSubstr("beckon.yaml:4: log.level: duplicate key (first given on line 3)"));
}

TEST(ConfigErrors, YamlSyntaxErrorHasLine) {
  EXPECT_THAT(errors_of("inputs: [a]\nlog: {level: info\nstate: {}\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(errors_of("inputs: [a]\nlog:\n  level: info\n   json: true\n"),
              HasSubstr("beckon.yaml:4: YAML syntax error"));
}

TEST(ConfigErrors, SizeValues) {
  const std::string e = errors_of(R"(inputs: [a]
state: {block_cache: 64 megabytes}
processing: {max_message_bytes: 2GiB}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:2: state.block_cache: expected a size like 64MiB, 1GiB or a number of "
                           "bytes, got '64 megabytes'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: processing.max_message_bytes: must be between 1KiB and 1GiB, got '2GiB'"));
}

TEST(ConfigErrors, NegativeNumbersAndDurations) {
  const std::string e = errors_of(R"(inputs: [a]
time: {allowed_lateness: -5s}
journeys:
  - name: c
    trigger: cart_abandonment
    steps: [{delay: 1h, channels: [email]}]
    min_cart_value: -1
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:2: time.allowed_lateness: must not be negative, got '-5s'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:7: journeys[0].min_cart_value: must not be negative, got '-1'"));
}

TEST(ConfigErrors, ManagedKafkaPropertiesAreRejected) {
  const std::string e = errors_of("inputs: [a]\nkafka:\n  properties:\n    group.id: x\n    sasl.password: {a: 1}\n");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: kafka.properties.group.id: 'group.id' is managed by beckon; use kafka.group_id"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:5: kafka.properties.sasl.password: expected a string value, got a mapping"));
}

TEST(ConfigErrors, OutputChannelsAndTopics) {
  const std::string e = errors_of(R"(inputs: [shop.events]
output:
  topics: {e-mail: mails, sms: "bad topic"}
  formats: {email: xml}
  dead_letter_topic: shop.events
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: output.topics.e-mail: unknown channel 'e-mail'; did you mean 'email'?"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: output.topics.sms: 'bad topic' is not a valid Kafka topic name"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: output.formats.email: expected one of flatbuffers or json, got 'xml'"));
  EXPECT_THAT(e, HasSubstr("output: dead_letter_topic 'shop.events' is also an input topic"));
}

TEST(ConfigErrors, ActionTopicThatIsAnInputTopic) {
  EXPECT_THAT(errors_of("inputs: [beckon.actions.email]\n"),
              HasSubstr("action topic 'beckon.actions.email' of channel email is also an input topic"));
}

TEST(ConfigErrors, QuietHoursFormatAndTimezone) {
  const std::string e = errors_of(R"(inputs: [a]
policies:
  quiet_hours:
    start: "9pm"
    end: "08:30"
    default_timezone: Europe/Berln
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: policies.quiet_hours.start: expected a time of day HH:MM like \"21:00\", got '9pm'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:5: policies.quiet_hours.end: quiet hours start and end on whole hours (HH:00), got '08:30'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:6: policies.quiet_hours.default_timezone: unknown IANA time zone 'Europe/Berln'"));
}

TEST(ConfigErrors, QuietHoursOutOfRangeOrEmpty) {
  EXPECT_THAT(errors_of("inputs: [a]\npolicies: {quiet_hours: {start: \"25:00\"}}\n"),
              HasSubstr("beckon.yaml:2: policies.quiet_hours.start: '25:00' is not a time of day"));
  EXPECT_THAT(errors_of("inputs: [a]\npolicies: {quiet_hours: {start: \"08:00\", end: \"08:00\"}}\n"),
              HasSubstr("policies.quiet_hours.end: quiet hours start and end are equal"));
}

TEST(ConfigErrors, FrequencyCapsAndTiers) {
  const std::string e = errors_of(R"(inputs: [a]
policies:
  consent_default: maybe
  frequency_caps:
    - {window: 1h, max: 0}
    - {window: 1d}
  loyalty_tiers:
    - {name: gold, min_lifetime_value: 1000}
    - {name: silver, min_lifetime_value: 200}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: policies.consent_default: expected one of denied or granted, got 'maybe'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:5: policies.frequency_caps[0].max: must be between 1 and 1000000, got '0'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:6: policies.frequency_caps[1]: missing required key 'max'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:9: policies.loyalty_tiers[1].min_lifetime_value: tiers must be in increasing "
                           "min_lifetime_value order"));
}

// ---- journeys -----------------------------------------------------------------------------------

TEST(ConfigJourneyErrors, DuplicateNames) {
  EXPECT_THAT(errors_of(R"(inputs: [a]
journeys:
  - {name: j, trigger: cart_abandonment, steps: [{delay: 1h, channels: [email]}]}
  - {name: j, trigger: replenishment, steps: [{delay: 0, channels: [email]}]}
)"),
              HasSubstr("beckon.yaml:4: journeys[1]: journey name 'j' is already used on line 3"));
}

TEST(ConfigJourneyErrors, TriggerSpecificKeyOnTheWrongTrigger) {
  const std::string e = errors_of(R"(inputs: [a]
journeys:
  - name: c
    trigger: cart_abandonment
    steps: [{delay: 1h, channels: [email]}]
    grace: 30m
    incentive: {kind: coupon}
  - name: s
    trigger: signup_abandonment
    steps: [{delay: 24h, channels: [email]}]
    min_cart_value: 5
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:6: journeys[0].grace: only valid for trigger signup_abandonment, this "
                           "journey's trigger is cart_abandonment"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:7: journeys[0].incentive: only valid for trigger shipping_delay"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:11: journeys[1].min_cart_value: only valid for trigger cart_abandonment"));
}

TEST(ConfigJourneyErrors, UnknownJourneyKeySuggestsTheNearMiss) {
  EXPECT_THAT(errors_of(R"(inputs: [a]
journeys:
  - name: c
    trigger: cart_abandonment
    steps: [{delay: 1h, channels: [email]}]
    holdout_percnt: 5
)"),
              HasSubstr("beckon.yaml:6: journeys[0].holdout_percnt: unknown key 'holdout_percnt'; did you mean "
                        "'holdout_percent'?"));
}

TEST(ConfigJourneyErrors, MissingRequiredKeysAndBadTrigger) {
  const std::string e = errors_of(R"(inputs: [a]
journeys:
  - trigger: cart_abandonmnt
  - name: x
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: journeys[0]: missing required key 'name'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: journeys[0].trigger: expected one of cart_abandonment, signup_abandonment, "
                           "replenishment or shipping_delay, got 'cart_abandonmnt'; did you mean 'cart_abandonment'?"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:3: journeys[0]: missing required key 'steps'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:4: journeys[1]: missing required key 'trigger'"));
}

TEST(ConfigJourneyErrors, EmptyStepsAndEmptyJourneyList) {
  EXPECT_THAT(errors_of("inputs: [a]\njourneys:\n  - {name: c, trigger: cart_abandonment, steps: []}\n"),
              HasSubstr("beckon.yaml:3: journeys[0].steps: must have at least one step"));
  EXPECT_THAT(errors_of("inputs: [a]\njourneys: []\n"),
              HasSubstr("beckon.yaml:2: journeys: must list at least one journey"));
}

TEST(ConfigJourneyErrors, StepsMustBeInIncreasingDelayOrder) {
  EXPECT_THAT(errors_of(R"(inputs: [a]
journeys:
  - name: c
    trigger: cart_abandonment
    steps:
      - {delay: 1h, channels: [app_push]}
      - {delay: 24h, channels: [email]}
      - {delay: 24h, channels: [email]}
)"),
              HasSubstr("beckon.yaml:8: journeys[0].steps[2].delay: steps must be in increasing delay order: 1d is "
                        "not after the previous step's 1d"));
}

TEST(ConfigJourneyErrors, UnknownAndRepeatedChannels) {
  const std::string e = errors_of(R"(inputs: [a]
journeys:
  - name: c
    trigger: cart_abandonment
    steps:
      - delay: 1h
        channels: [email, push, email]
      - {delay: 2h, channels: []}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:7: journeys[0].steps[0].channels[1]: expected one of email, sms, app_push, "
                           "web_push, whatsapp or ads_audience, got 'push'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:7: journeys[0].steps[0].channels[2]: channel 'email' is listed twice"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:8: journeys[0].steps[1].channels: must name at least one channel"));
}

TEST(ConfigJourneyErrors, HoldoutVariantsAndReentry) {
  const std::string e = errors_of(R"(inputs: [a]
journeys:
  - name: c
    trigger: cart_abandonment
    steps: [{delay: 1h, channels: [email]}]
    holdout_percent: 101
    variants:
      - {name: A, weight: 0}
      - {name: B}
      - {name: B}
    reentry: sometimes
  - name: d
    trigger: cart_abandonment
    steps: [{delay: 1h, channels: [email]}]
    reentry: {cooldown: 0}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:6: journeys[0].holdout_percent: must be between 0 and 100, got '101'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:8: journeys[0].variants[0].weight: must be between 1 and 1000000, got '0'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:10: journeys[0].variants[2].name: variant 'B' is already defined on line 9"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:11: journeys[0].reentry: expected always, once or {cooldown: <duration>}, "
                           "got 'sometimes'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:15: journeys[1].reentry.cooldown: must be at least 1ms, got '0'"));
}

TEST(ConfigJourneyErrors, SignupStepInsideGracePeriod) {
  EXPECT_THAT(errors_of(R"(inputs: [a]
journeys:
  - name: s
    trigger: signup_abandonment
    steps: [{delay: 30m, channels: [email]}]
    grace: 1h
    forms: [account, acount]
)"),
              ::testing::AllOf(
                  HasSubstr("beckon.yaml:6: journeys[0].grace: the first step's delay (30m) is inside the grace period (1h)"),
                  HasSubstr("beckon.yaml:7: journeys[0].forms[1]: expected one of account, loyalty or newsletter, got "
                            "'acount'; did you mean 'account'?")));
}

TEST(ConfigJourneyErrors, ReplenishmentCycles) {
  const std::string e = errors_of(R"(inputs: [a]
journeys:
  - name: r
    trigger: replenishment
    steps: [{delay: 0, channels: [email]}]
    cycles:
      default_days: 0
      lead_days: -1
      by_sku: {LIP-01: 1.5}
      by_categry: {}
)");
  EXPECT_THAT(e, HasSubstr("beckon.yaml:7: journeys[0].cycles.default_days: must be between 1 and 3650, got '0'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:8: journeys[0].cycles.lead_days: must not be negative, got '-1'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:9: journeys[0].cycles.by_sku.LIP-01: expected a whole number, got '1.5'"));
  EXPECT_THAT(e, HasSubstr("beckon.yaml:10: journeys[0].cycles.by_categry: unknown key 'by_categry'; did you mean 'by_category'?"));
}

TEST(ConfigJourneys, ShippingIncentiveNoneAndDefaults) {
  auto r = load(R"(inputs: [a]
journeys:
  - name: ship
    trigger: shipping_delay
    steps: [{delay: 0, channels: [email]}]
    incentive: none
  - name: ship2
    trigger: shipping_delay
    steps: [{delay: 0, channels: [sms]}]
    incentive: {kind: free_shipping}
)");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->engine.journeys[0].incentive, journey::Incentive{});
  EXPECT_EQ(r->engine.journeys[1].incentive, (journey::Incentive{"free_shipping", "", 0}));
  EXPECT_EQ(r->engine.journeys[1].shipping_grace, Millis(24 * 3'600'000));
}

// ---- environment overrides -------------------------------------------------------------------------

TEST(ConfigEnvOverrides, ReplaceConnectionSettingsFromTheFile) {
  const std::map<std::string, std::string> env{
      {"BECKON_BOOTSTRAP_SERVERS", "kafka-1:9093,kafka-2:9093"},
      {"BECKON_GROUP_ID", "beckon-prod"},
      {"BECKON_KAFKA_SASL_PASSWORD", "s3cret"},
      {"BECKON_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
      {"BECKON_UNRELATED", "x"},
      {"PATH", "/bin"},
  };
  auto r = load(R"(inputs: [a]
kafka:
  bootstrap_servers: localhost:9092
  group_id: dev
  properties: {security.protocol: PLAINTEXT, client.id: me}
)", env);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->kafka.bootstrap_servers, "kafka-1:9093,kafka-2:9093");
  EXPECT_EQ(r->kafka.group_id, "beckon-prod");
  EXPECT_EQ(r->kafka.properties.at("sasl.password"), "s3cret");
  EXPECT_EQ(r->kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(r->kafka.properties.at("client.id"), "me");
  EXPECT_EQ(r->kafka.properties.size(), 3u);
}

TEST(ConfigEnvOverrides, InvalidValuesAreReportedByVariableName) {
  const std::map<std::string, std::string> env{
      {"BECKON_BOOTSTRAP_SERVERS", ""},
      {"BECKON_KAFKA_GROUP_ID", "x"},
      {"BECKON_KAFKA_SASL_PASSWORD", "s3cret"},
  };
  auto r = load(kMinimal, env);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("env BECKON_BOOTSTRAP_SERVERS: must not be empty"));
  EXPECT_THAT(r.status().message(), HasSubstr("env BECKON_KAFKA_GROUP_ID: 'group.id' is managed by beckon"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("s3cret")));
}

TEST(ConfigEnvOverrides, NullEnvReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("BECKON_GROUP_ID", "from-process-env", 1), 0);
  auto r = load_config_string(kMinimal, "beckon.yaml");
  unsetenv("BECKON_GROUP_ID");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->kafka.group_id, "from-process-env");
}

TEST(ConfigEnvOverrides, EmptyEnvMapIgnoresTheProcessEnvironment) {
  ASSERT_EQ(setenv("BECKON_GROUP_ID", "from-process-env", 1), 0);
  auto r = load(kMinimal);
  unsetenv("BECKON_GROUP_ID");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->kafka.group_id, "beckon");
}

}  // namespace
}  // namespace beckon::config

namespace beckon::config {
namespace {

TEST(ConfigJourneys, ExitOnListsEventTypesByTheirSchemaNames) {
  auto r = load_config_string(
      "inputs: [shop.events]\n"
      "journeys:\n"
      "  - name: cart\n"
      "    trigger: cart_abandonment\n"
      "    exit_on: [CheckoutStarted, SignupCompleted]\n"
      "    steps: [ { delay: 1h, channels: [email] } ]\n",
      "beckon.yaml", &kNoEnv);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->engine.journeys[0].exit_on,
            (std::vector<journey::EventType>{journey::EventType::kCheckoutStarted,
                                             journey::EventType::kSignupCompleted}));
}

TEST(ConfigJourneys, ExitOnRejectsUnknownAndRepeatedEventTypesWithTheLine) {
  const std::string errors = errors_of(
      "inputs: [shop.events]\n"
      "journeys:\n"
      "  - name: cart\n"
      "    trigger: cart_abandonment\n"
      "    exit_on: [CheckoutStarted, CheckoutStarted, CheckoutBegun]\n"
      "    steps: [ { delay: 1h, channels: [email] } ]\n");
  EXPECT_THAT(errors, HasSubstr("beckon.yaml:5"));
  EXPECT_THAT(errors, HasSubstr("listed twice"));
  EXPECT_THAT(errors, HasSubstr("CheckoutBegun"));
}

}  // namespace
}  // namespace beckon::config
