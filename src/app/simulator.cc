#include "app/simulator.h"

#include <array>

namespace beckon::app {

namespace {

struct Product {
  const char* sku;
  const char* category;
  double price;
  int replenish_days;  // 0: let the journey's tables decide
};

constexpr std::array<Product, 10> kCatalogue{{
    {"SERUM-VITC-30", "skincare", 34.0, 30},
    {"CREAM-HYDRA-50", "skincare", 28.5, 0},
    {"CLEANSER-GEL-150", "skincare", 16.0, 45},
    {"LIP-MATTE-01", "makeup", 19.5, 0},
    {"MASCARA-VOL", "makeup", 24.0, 0},
    {"FOUND-LIQ-N20", "makeup", 39.0, 60},
    {"PERF-ROSE-50", "fragrance", 79.0, 0},
    {"SHAMPOO-REPAIR", "haircare", 14.0, 40},
    {"SPF50-FLUID", "skincare", 22.0, 0},
    {"NAILS-RED-07", "nails", 9.5, 0},
}};

constexpr std::array<const char*, 5> kTimezones{"Europe/Paris", "Europe/London", "America/New_York",
                                                "Asia/Tokyo", "Europe/Istanbul"};
constexpr std::array<const char*, 5> kLocales{"fr-FR", "en-GB", "en-US", "ja-JP", "tr-TR"};

}  // namespace

ShopperSimulator::ShopperSimulator(SimulatorOptions options)
    : options_(options), rng_(options.seed), onboarded_(static_cast<size_t>(options.customers), false) {}

void ShopperSimulator::push(int64_t due_ms, codec::EventSpec spec) {
  queue_.push(Pending{due_ms, seq_++, std::move(spec)});
}

codec::EventSpec ShopperSimulator::make(journey::EventType type, const std::string& customer) {
  codec::EventSpec s;
  s.type = type;
  s.customer_id = customer;
  return s;
}

std::vector<codec::LineItemSpec> ShopperSimulator::random_items(int max_items) {
  std::uniform_int_distribution<int> count(1, max_items);
  std::uniform_int_distribution<size_t> pick(0, kCatalogue.size() - 1);
  std::vector<codec::LineItemSpec> items;
  const int n = count(rng_);
  for (int i = 0; i < n; ++i) {
    const Product& p = kCatalogue[pick(rng_)];
    items.push_back({p.sku, 1 + static_cast<int32_t>(rng_() % 2), p.price, p.category, p.replenish_days});
  }
  return items;
}

void ShopperSimulator::start_visit(int64_t now) {
  std::uniform_int_distribution<int> who(0, options_.customers - 1);
  const int c = who(rng_);
  char id[16];
  std::snprintf(id, sizeof(id), "c%05d", c);
  const std::string customer = id;
  const int64_t step = options_.step.count();
  int64_t t = now;

  if (!onboarded_[static_cast<size_t>(c)]) {
    onboarded_[static_cast<size_t>(c)] = true;
    auto profile = make(journey::EventType::kProfileUpdated, customer);
    profile.timezone = kTimezones[static_cast<size_t>(c) % kTimezones.size()];
    profile.locale = kLocales[static_cast<size_t>(c) % kLocales.size()];
    profile.email_known = true;
    profile.phone_known = c % 3 == 0;
    profile.push_token_known = c % 2 == 0;
    push(t, profile);
    for (auto ch : {journey::Channel::kEmail, journey::Channel::kAppPush, journey::Channel::kWebPush,
                    journey::Channel::kSms}) {
      auto consent = make(journey::EventType::kConsentChanged, customer);
      consent.channel = ch;
      consent.granted = ch != journey::Channel::kSms || c % 3 == 0;
      push(t, consent);
    }
  }

  auto view = make(journey::EventType::kPageViewed, customer);
  view.url = "https://shop.example/";
  view.page_type = journey::PageType::kHome;
  view.session_id = "s" + std::to_string(seq_);
  push(t, view);
  auto product = make(journey::EventType::kProductViewed, customer);
  const Product& p = kCatalogue[rng_() % kCatalogue.size()];
  product.sku = p.sku;
  product.category = p.category;
  product.price = p.price;
  push(t += step / 2, product);

  const int scenario = static_cast<int>(rng_() % 100);
  if (scenario < 60) {
    // Cart: add, maybe change, then abandon or order.
    auto cart = make(journey::EventType::kCartUpdated, customer);
    cart.items = random_items(3);
    cart.currency = "EUR";
    push(t += step, cart);
    if (rng_() % 3 == 0) {
      cart.items.push_back({"MASCARA-VOL", 1, 24.0, "makeup", 0});
      push(t += step, cart);
    }
    if (scenario < 30) return;  // abandoned: the cart journey takes it from here
    auto checkout = make(journey::EventType::kCheckoutStarted, customer);
    double value = 0;
    for (const auto& i : cart.items) value += i.unit_price * i.quantity;
    checkout.amount = value;
    checkout.currency = "EUR";
    push(t += step, checkout);
    auto order = make(journey::EventType::kOrderPlaced, customer);
    order.order_id = "o" + std::to_string(++orders_);
    order.items = cart.items;
    order.amount = value;
    order.currency = "EUR";
    push(t += step, order);
    auto shipped = make(journey::EventType::kOrderShipped, customer);
    shipped.order_id = order.order_id;
    shipped.carrier = (orders_ % 2) ? "DHL" : "Colissimo";
    shipped.promised_delivery = EventTime(t + 4 * step);
    push(t += step, shipped);
    const int fate = static_cast<int>(rng_() % 10);
    if (fate < 4) {
      auto delivered = make(journey::EventType::kOrderDelivered, customer);
      delivered.order_id = order.order_id;
      push(t + 3 * step, delivered);
    } else if (fate < 7) {
      auto delayed = make(journey::EventType::kShipmentDelayed, customer);
      delayed.order_id = order.order_id;
      delayed.new_eta = EventTime(t + 12 * step);
      delayed.reason = "carrier_backlog";
      push(t + 2 * step, delayed);
    }  // else: no news; the overdue check fires after the promised date plus grace.
  } else if (scenario < 85) {
    auto started = make(journey::EventType::kSignupStarted, customer);
    started.form = (scenario % 2) ? journey::SignupForm::kLoyalty : journey::SignupForm::kAccount;
    push(t += step, started);
    if (rng_() % 2 == 0) {
      auto done = make(journey::EventType::kSignupCompleted, customer);
      done.form = started.form;
      push(t + 2 * step, done);
    }
  } else {
    auto engaged = make(journey::EventType::kChannelEngaged, customer);
    engaged.channel = (scenario % 2) ? journey::Channel::kEmail : journey::Channel::kAppPush;
    engaged.engagement = journey::EngagementKind::kClicked;
    push(t += step, engaged);
  }
}

void ShopperSimulator::step(WallTime now, const Emit& emit) {
  // About seven events per visit: start visits at rate / 7.
  const int64_t visit_gap = std::max<int64_t>(1, static_cast<int64_t>(7000.0 / options_.events_per_second));
  if (next_visit_ms_ == 0) next_visit_ms_ = now.ms();
  while (next_visit_ms_ <= now.ms()) {
    start_visit(next_visit_ms_);
    next_visit_ms_ += visit_gap;
  }
  std::uniform_real_distribution<double> unit(0, 1);
  while (!queue_.empty() && queue_.top().due_ms <= now.ms()) {
    Pending p = queue_.top();
    queue_.pop();
    p.spec.timestamp = EventTime(p.due_ms);
    p.spec.event_id = "e" + std::to_string(p.seq);
    ++produced_;
    if (unit(rng_) < options_.garbage_fraction) {
      static const std::string kGarbage = "{\"event_id\":\"bad\",\"customer_id\":";  // truncated JSON
      emit(p.spec.customer_id, {reinterpret_cast<const uint8_t*>(kGarbage.data()), kGarbage.size()});
      continue;
    }
    if (unit(rng_) < options_.json_fraction) {
      const std::string json = codec::event_spec_to_json(p.spec);
      emit(p.spec.customer_id, {reinterpret_cast<const uint8_t*>(json.data()), json.size()});
    } else {
      emit(p.spec.customer_id, builder_.build(p.spec));
    }
  }
}

}  // namespace beckon::app
