#include "journey/engine.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>

#include <date/tz.h>

#include "core/hash.h"

namespace beckon::journey {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr std::string_view kOverdueReason = "delivery_overdue";

int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return r < 0 ? r + b : r;
}

bool addressable(const CustomerState& s, Channel c) {
  switch (c) {
    case Channel::kEmail: return s.profile.email_known;
    case Channel::kSms:
    case Channel::kWhatsapp: return s.profile.phone_known;
    case Channel::kAppPush:
    case Channel::kWebPush: return s.profile.push_token_known;
    case Channel::kAdsAudience: return true;
  }
  return false;
}

uint64_t engagement_score(const ChannelEngagement& e) {
  return 2 * static_cast<uint64_t>(e.clicked) + e.opened;
}

// Updates rewrite mostly unchanged strings (cart lines, timer names): compare before copying.
template <typename S>  // std::string or CompactString
void set_string(S& dst, std::string_view src) {
  if (std::string_view(dst) != src) dst.assign(src);
}

// Netting keeps `scheduled` and `cancelled` free of pairs that cancel out within one call.
void push_schedule(Outcome& out, TimerRef ref) {
  auto it = std::find(out.cancelled.begin(), out.cancelled.end(), ref);
  if (it != out.cancelled.end()) {
    out.cancelled.erase(it);  // it is still in the index: nothing to do
  } else {
    out.scheduled.push_back(ref);
  }
}

void push_cancel(Outcome& out, TimerRef ref) {
  auto it = std::find(out.scheduled.begin(), out.scheduled.end(), ref);
  if (it != out.scheduled.end()) {
    out.scheduled.erase(it);  // never reached the index
  } else {
    out.cancelled.push_back(ref);
  }
}

// The fields of a PendingTimer, with views for its strings. The views must not point into
// `s.pending` (scheduling may grow it).
struct TimerSpec {
  uint64_t id = 0;
  EventTime due;
  EventTime original_due;
  std::string_view journey;
  Trigger trigger = Trigger::kCartAbandonment;
  std::string_view key;
  uint32_t instance = 0;
  int32_t step = 0;
};

TimerSpec spec_of(const PendingTimer& p) {
  return TimerSpec{p.id, p.due, p.original_due, p.journey, p.trigger, p.key, p.instance, p.step};
}

// Adds or replaces (same id) a pending timer. Strings are assigned in place, so replacing a
// timer reuses its storage.
void schedule_timer(CustomerState& s, const TimerSpec& t, Outcome& out) {
  PendingTimer* p = s.find_pending(t.id);
  if (p == nullptr) {
    p = &s.pending.emplace_back();
    push_schedule(out, TimerRef{t.id, t.due});
  } else if (p->due != t.due) {
    push_cancel(out, TimerRef{p->id, p->due});
    push_schedule(out, TimerRef{t.id, t.due});
  }
  p->id = t.id;
  p->due = t.due;
  p->original_due = t.original_due;
  set_string(p->journey, t.journey);
  p->trigger = t.trigger;
  set_string(p->key, t.key);
  p->instance = t.instance;
  p->step = t.step;
  out.state_changed = true;
}

template <typename Pred>
void cancel_timers_where(CustomerState& s, Outcome& out, Pred&& pred) {
  auto it = std::remove_if(s.pending.begin(), s.pending.end(), [&](const PendingTimer& p) {
    if (!pred(p)) return false;
    push_cancel(out, TimerRef{p.id, p.due});
    out.state_changed = true;
    return true;
  });
  s.pending.erase(it, s.pending.end());
}

void cancel_timer(CustomerState& s, uint64_t id, Outcome& out) {
  cancel_timers_where(s, out, [id](const PendingTimer& p) { return p.id == id; });
}

std::string instance_discriminator(std::string_view key, uint32_t instance) {
  std::string d(key);
  d.push_back('#');
  d.append(std::to_string(instance));
  return d;
}

Millis signup_delay(const JourneyConfig& j, int32_t step) {
  return std::max(j.signup_grace, j.steps[static_cast<size_t>(step)].delay);
}

std::optional<int32_t> cycle_days(const JourneyConfig& j, const LineItemView& item) {
  if (item.replenish_after_days > 0) return item.replenish_after_days;
  if (auto it = j.cycle_days_by_sku.find(item.sku); it != j.cycle_days_by_sku.end() && it->second > 0) {
    return it->second;
  }
  if (auto it = j.cycle_days_by_category.find(item.category);
      it != j.cycle_days_by_category.end() && it->second > 0) {
    return it->second;
  }
  if (j.default_cycle_days && *j.default_cycle_days > 0) return j.default_cycle_days;
  return std::nullopt;
}

class TzdbLocalTime final : public LocalTime {
 public:
  explicit TzdbLocalTime(std::string fallback) : fallback_(std::move(fallback)) {}

  int64_t utc_offset_ms(std::string_view tz, EventTime at) const override {
    const date::time_zone* zone = resolve(tz);
    if (zone == nullptr) return 0;
    try {
      auto info = zone->get_info(date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(at.ms())));
      return std::chrono::duration_cast<std::chrono::milliseconds>(info.offset).count();
    } catch (const std::exception&) {
      return 0;
    }
  }

 private:
  static constexpr size_t kMaxCachedZones = 1024;

  const date::time_zone* lookup(std::string_view tz) const {
    // Third-party boundary: date::locate_zone throws for unknown names or a missing database.
    try {
      return date::locate_zone(std::string(tz));
    } catch (const std::exception&) {
      return nullptr;
    }
  }

  const date::time_zone* resolve(std::string_view tz) const {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(tz); it != cache_.end()) return it->second;
    const date::time_zone* zone = lookup(tz);
    if (zone == nullptr) {
      if (!fallback_resolved_) {
        fallback_zone_ = lookup(fallback_);
        if (fallback_zone_ == nullptr) fallback_zone_ = lookup("UTC");
        fallback_resolved_ = true;
      }
      zone = fallback_zone_;
    }
    if (cache_.size() < kMaxCachedZones) cache_.emplace(std::string(tz), zone);
    return zone;
  }

  std::string fallback_;
  mutable std::mutex mu_;
  mutable std::map<std::string, const date::time_zone*, std::less<>> cache_;
  mutable const date::time_zone* fallback_zone_ = nullptr;
  mutable bool fallback_resolved_ = false;
};

}  // namespace

std::unique_ptr<LocalTime> make_tzdb_local_time(std::string fallback_timezone) {
  return std::make_unique<TzdbLocalTime>(std::move(fallback_timezone));
}

int64_t FixedOffsetLocalTime::utc_offset_ms(std::string_view tz, EventTime /*at*/) const {
  auto it = offsets_.find(tz);
  return it == offsets_.end() ? default_offset_ms_ : it->second;
}

// ---------------------------------------------------------------------------------------------
// Identity

uint64_t JourneyEngine::timer_id(std::string_view journey, Trigger trigger, std::string_view key, uint32_t instance) {
  static_assert(kTriggerCount <= 4, "the trigger must fit in the top two bits of a timer id");
  const uint64_t hash = HashBuilder().add(journey).add(to_string(trigger)).add(key).add(uint64_t{instance}).digest64();
  return (hash & (~uint64_t{0} >> 2)) | (static_cast<uint64_t>(trigger) << 62);
}

std::string JourneyEngine::action_id(std::string_view customer_id, Trigger trigger, std::string_view journey,
                                     std::string_view discriminator, int32_t step) {
  return HashBuilder()
      .add(customer_id)
      .add(to_string(trigger))
      .add(journey)
      .add(discriminator)
      .add(static_cast<uint64_t>(step))
      .hex128();
}

uint32_t JourneyEngine::holdout_bucket(std::string_view customer_id, std::string_view journey) {
  return static_cast<uint32_t>(HashBuilder().add("holdout").add(customer_id).add(journey).digest64() % 10000);
}

std::string_view JourneyEngine::variant_for(std::string_view customer_id, const JourneyConfig& journey) {
  uint64_t total = 0;
  for (const auto& v : journey.variants) total += v.weight;
  if (total == 0) return {};
  uint64_t pick = HashBuilder().add("variant").add(customer_id).add(journey.name).digest64() % total;
  for (const auto& v : journey.variants) {
    if (pick < v.weight) return v.name;
    pick -= v.weight;
  }
  return journey.variants.back().name;
}

// ---------------------------------------------------------------------------------------------
// Engine

JourneyEngine::JourneyEngine(const EngineConfig& config, const LocalTime& local_time)
    : config_(config), local_time_(local_time) {
  for (const auto& cap : config_.policies.frequency_caps) {
    max_cap_window_ms_ = std::max<int64_t>(max_cap_window_ms_, cap.window.count());
    max_cap_actions_ = std::max(max_cap_actions_, cap.max_actions);
  }
  static_assert(kEventTypeCount <= 32, "event types must fit the exit mask");
  for (const JourneyConfig& j : config_.journeys) {
    by_trigger_[static_cast<size_t>(j.trigger)].push_back(&j);
    if (!j.enabled) continue;
    for (EventType t : j.exit_on) exit_event_mask_ |= uint32_t{1} << static_cast<unsigned>(t);
  }
}

const JourneyConfig* JourneyEngine::find_journey(std::string_view name) const {
  for (const auto& j : config_.journeys) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

void JourneyEngine::on_event(CustomerState& s, const Event& e, EventTime frontier, Outcome& out) {
  if (is_late(e, frontier)) out.late = true;
  switch (e.type) {
    // reads_state() names the events below that change nothing: keep the two in step.
    case EventType::kPageViewed:
      if (e.page_type == PageType::kSignup) {
        start_signup(s, SignupForm::kAccount, e.timestamp, true, out);
      } else if (e.page_type == PageType::kLoyaltySignup) {
        start_signup(s, SignupForm::kLoyalty, e.timestamp, true, out);
      }
      break;
    case EventType::kProductViewed:
    case EventType::kCheckoutStarted:
      break;  // no trigger reacts to these (yet)
    case EventType::kCartUpdated:
      on_cart_updated(s, e, out);
      break;
    case EventType::kOrderPlaced:
      on_order_placed(s, e, out);
      break;
    case EventType::kSignupStarted:
      start_signup(s, e.form, e.timestamp, false, out);
      break;
    case EventType::kSignupCompleted:
      on_signup_completed(s, e.form, out);
      break;
    case EventType::kOrderShipped:
      on_order_shipped(s, e, out);
      break;
    case EventType::kShipmentDelayed:
      on_shipment_delayed(s, e, out);
      break;
    case EventType::kOrderDelivered:
      on_order_delivered(s, e, out);
      break;
    case EventType::kConsentChanged: {
      auto& c = s.consent[static_cast<size_t>(e.channel)];
      auto next = e.granted ? ConsentState::kGranted : ConsentState::kDenied;
      if (c != next) {
        c = next;
        out.state_changed = true;
      }
      break;
    }
    case EventType::kChannelEngaged: {
      auto& g = s.engagement[static_cast<size_t>(e.channel)];
      auto bump = [](uint32_t& n) {
        if (n < UINT32_MAX) ++n;
      };
      switch (e.engagement) {
        case EngagementKind::kDelivered: bump(g.delivered); break;
        case EngagementKind::kOpened: bump(g.opened); break;
        case EngagementKind::kClicked: bump(g.clicked); break;
      }
      g.last = std::max(g.last, e.timestamp);
      out.state_changed = true;
      break;
    }
    case EventType::kProfileUpdated: {
      auto& p = s.profile;
      if (!e.timezone.empty()) set_string(p.timezone, e.timezone);
      if (!e.locale.empty()) set_string(p.locale, e.locale);
      if (e.email_known) p.email_known = *e.email_known;
      if (e.phone_known) p.phone_known = *e.phone_known;
      if (e.push_token_known) p.push_token_known = *e.push_token_known;
      out.state_changed = true;
      break;
    }
    case EventType::kCustomerErased:
      on_erased(s, out);
      return;
  }
  // Configured exit conditions, after the event's own effects.
  if ((exit_event_mask_ & (uint32_t{1} << static_cast<unsigned>(e.type))) == 0) return;
  for (const JourneyConfig& j : config_.journeys) {
    if (!j.enabled || std::find(j.exit_on.begin(), j.exit_on.end(), e.type) == j.exit_on.end()) continue;
    for (JourneyProgress& prog : s.progress) {
      if (prog.journey == j.name && prog.active) {
        prog.active = false;
        out.state_changed = true;
      }
    }
    cancel_timers_where(s, out, [&](const PendingTimer& p) { return p.journey == j.name; });
  }
}

void JourneyEngine::on_timer(CustomerState& s, std::string_view customer, const TimerRef& timer, EventTime frontier,
                             Outcome& out) {
  PendingTimer* found = s.find_pending(timer.id);
  if (found == nullptr || found->due != timer.due) {
    // The index and the state commit together and every change to one is mirrored in the other,
    // so this means they disagree: nothing to decide, but the caller reports it.
    out.stale_timer = true;
    return;
  }
  PendingTimer p = std::move(*found);
  s.pending.erase(s.pending.begin() + (found - s.pending.data()));
  out.state_changed = true;

  const JourneyConfig* j = find_journey(p.journey);
  if (j == nullptr || !j->enabled || j->trigger != p.trigger || p.step < 0 ||
      static_cast<size_t>(p.step) >= j->steps.size()) {
    return;  // the journey was removed or changed since the timer was set: drop it
  }
  switch (p.trigger) {
    case Trigger::kCartAbandonment: fire_cart(s, customer, *j, p, out); break;
    case Trigger::kSignupAbandonment: fire_signup(s, customer, *j, p, out); break;
    case Trigger::kReplenishment: fire_replenishment(s, customer, *j, p, out); break;
    case Trigger::kShippingDelay: fire_shipping(s, customer, *j, p, p.due, out); break;
  }
}

// ---------------------------------------------------------------------------------------------
// Instances

bool JourneyEngine::may_start(const JourneyProgress* prog, const JourneyConfig& j, EventTime at) const {
  if (prog == nullptr || prog->instance == 0) return true;
  switch (j.reentry) {
    case ReentryRule::kAlways: return true;
    case ReentryRule::kOnce: return false;
    case ReentryRule::kCooldown: return at >= prog->instance_start + j.reentry_cooldown;
  }
  return true;
}

JourneyProgress& JourneyEngine::start_instance(CustomerState& s, JourneyProgress* prog, const JourneyConfig& j,
                                               std::string_view key, EventTime at) {
  if (prog == nullptr) {
    s.progress.push_back(JourneyProgress{});
    prog = &s.progress.back();
    prog->journey = j.name;
    prog->key = std::string(key);
  }
  ++prog->instance;
  prog->active = true;
  prog->next_step = 0;
  prog->anchor = at;
  prog->instance_start = at;
  return *prog;
}

void JourneyEngine::end_instance(CustomerState& s, const JourneyConfig& j, JourneyProgress& prog, Outcome& out) {
  cancel_timer(s, timer_id(j.name, j.trigger, prog.key, prog.instance), out);
  prog.active = false;
  out.state_changed = true;
}

void JourneyEngine::defer(CustomerState& s, const PendingTimer& p, EventTime until, Outcome& out) {
  TimerSpec next = spec_of(p);
  next.due = until;
  schedule_timer(s, next, out);
  ++out.deferred;
}

// ---------------------------------------------------------------------------------------------
// Cart abandonment

void JourneyEngine::on_cart_updated(CustomerState& s, const Event& e, Outcome& out) {
  auto& cart = s.cart;
  // The event is the full cart: an older snapshot than the one applied must not revert it.
  if (e.timestamp < cart.last_update) return;
  // Lines are overwritten in place (a cart update usually changes one line of a few).
  size_t lines = 0;
  cart.value = 0;
  for (const auto& item : e.items) {
    if (item.quantity <= 0) continue;
    cart.value += item.quantity * item.unit_price;
    if (lines < CustomerState::kMaxCartLines) {
      if (lines == cart.items.size()) cart.items.emplace_back();
      CartLine& line = cart.items[lines++];
      set_string(line.sku, item.sku);
      line.quantity = item.quantity;
      line.unit_price = item.unit_price;
      set_string(line.category, item.category);
    }
  }
  cart.items.resize(lines);
  set_string(cart.currency, e.currency);
  cart.last_update = e.timestamp;
  const bool empty = cart.items.empty();
  if (empty) {
    cart.active = false;
  } else if (!cart.active) {
    cart.active = true;
    ++cart.instance;
  }
  out.state_changed = true;

  for (const JourneyConfig* jp : journeys_of(Trigger::kCartAbandonment)) {
    const JourneyConfig& j = *jp;
    if (!j.enabled) continue;
    JourneyProgress* prog = s.find_progress(j.name, "");
    const bool active = prog != nullptr && prog->active;
    if (empty || cart.value < j.min_cart_value) {
      if (active) {
        end_instance(s, j, *prog, out);
      } else if (!empty) {
        out.suppressions.push_back(Suppression{j.trigger, j.name, SuppressionReason::kBelowMinimumValue, 0});
      }
      continue;
    }
    if (!active) {
      if (!may_start(prog, j, e.timestamp)) continue;
      prog = &start_instance(s, prog, j, "", e.timestamp);
    }
    // Every update restarts the countdown to the next unsent step.
    prog->anchor = e.timestamp;
    if (static_cast<size_t>(prog->next_step) >= j.steps.size()) continue;  // all steps decided
    const int32_t step = prog->next_step;
    const EventTime due = e.timestamp + j.steps[static_cast<size_t>(step)].delay;
    schedule_timer(s,
                   TimerSpec{timer_id(j.name, j.trigger, "", prog->instance), due, due, j.name, j.trigger, "",
                             prog->instance, step},
                   out);
  }
}

void JourneyEngine::fire_cart(CustomerState& s, std::string_view customer, const JourneyConfig& j,
                              const PendingTimer& p, Outcome& out) {
  JourneyProgress* prog = s.find_progress(j.name, p.key);
  if (prog == nullptr || !prog->active || prog->instance != p.instance || prog->next_step != p.step || !s.cart.active) {
    return;
  }
  const EventTime now = p.due;
  const Decision d = check_policies(s, j, p.step, p.original_due, now, out);
  if (d.verdict == Verdict::kDeferred) return defer(s, p, d.defer_until, out);
  if (d.verdict == Verdict::kSent) {
    Action& action = emit(s, customer, j, p.step, p.original_due, now, d.channel,
                          instance_discriminator(p.key, p.instance), out);
    action.items = s.cart.items;
    action.cart_value = s.cart.value;
    action.currency = s.cart.currency;
  }

  // Neither the policies nor emit() touch progress, so `prog` is still valid.
  ++prog->next_step;
  if (static_cast<size_t>(prog->next_step) >= j.steps.size()) {
    prog->completed_once = true;  // stays active (exhausted) until an order or an emptied cart
    return;
  }
  EventTime due = prog->anchor + j.steps[static_cast<size_t>(prog->next_step)].delay;
  due = std::max(due, now + Millis(1));
  schedule_timer(s, TimerSpec{p.id, due, due, j.name, j.trigger, p.key, p.instance, prog->next_step}, out);
}

// ---------------------------------------------------------------------------------------------
// Orders: end cart instances, order stats, replenishment

void JourneyEngine::on_order_placed(CustomerState& s, const Event& e, Outcome& out) {
  out.state_changed = true;
  const EventTime at = e.timestamp;

  // Order stats. A redelivered copy of the last order is not counted twice.
  auto& o = s.orders;
  if (e.order_id.empty() || o.last_order_id != e.order_id) {
    if (o.order_count == 0 || at < o.first_order) o.first_order = at;
    if (o.order_count < INT32_MAX) ++o.order_count;
    o.lifetime_value += e.amount;
    if (o.order_count == 1 || at >= o.last_order) {
      o.last_order = at;
      o.last_order_id = e.order_id;
    }
  }

  // Cart: the order ends every cart instance that started before it, even when the order is late.
  for (const JourneyConfig* j : journeys_of(Trigger::kCartAbandonment)) {
    if (!j->enabled) continue;
    JourneyProgress* prog = s.find_progress(j->name, "");
    if (prog != nullptr && prog->active && at >= prog->instance_start) end_instance(s, *j, *prog, out);
  }
  if (at >= s.cart.last_update) {
    s.cart.items.clear();
    s.cart.value = 0;
    s.cart.active = false;
    s.cart.last_update = at;
  }

  // Replenishment.
  for (const auto& item : e.items) {
    if (item.sku.empty()) continue;
    ReplenishmentItem* r = s.find_replenishment(item.sku);
    if (r != nullptr && at < r->last_order) continue;  // an older order of this SKU: keep the newer one
    if (r == nullptr) {
      if (s.replenishment.size() >= CustomerState::kMaxReplenishmentItems) {
        auto oldest = std::min_element(s.replenishment.begin(), s.replenishment.end(),
                                       [](const auto& a, const auto& b) { return a.last_order < b.last_order; });
        const std::string sku = oldest->sku;
        cancel_timers_where(s, out, [&](const PendingTimer& p) {
          return p.trigger == Trigger::kReplenishment && p.key == sku;
        });
        s.replenishment.erase(oldest);
      }
      s.replenishment.push_back(ReplenishmentItem{});
      r = &s.replenishment.back();
      r->sku.assign(item.sku);
    }
    set_string(r->category, item.category);
    set_string(r->last_order_id, e.order_id);
    r->last_order = at;
    r->quantity = std::max(1, item.quantity);
    r->due = EventTime();

    for (const JourneyConfig* jp : journeys_of(Trigger::kReplenishment)) {
      const JourneyConfig& j = *jp;
      if (!j.enabled || j.steps.empty()) continue;
      const uint64_t id = timer_id(j.name, j.trigger, item.sku, 0);
      auto cycle = cycle_days(j, item);
      if (!cycle) {
        cancel_timer(s, id, out);  // the re-order makes an older reminder moot
        continue;
      }
      const int64_t days = static_cast<int64_t>(*cycle) * r->quantity - j.lead_days;
      EventTime base = std::max(at, at + Millis(days * j.day_length.count()));
      EventTime due = base + j.steps[0].delay;
      schedule_timer(s, TimerSpec{id, due, due, j.name, j.trigger, r->sku, 0, 0}, out);
      r->due = due;
    }
  }
}

void JourneyEngine::fire_replenishment(CustomerState& s, std::string_view customer, const JourneyConfig& j,
                                       const PendingTimer& p, Outcome& out) {
  ReplenishmentItem* r = s.find_replenishment(p.key);
  if (r == nullptr) return;
  const EventTime now = p.due;
  const Decision d = check_policies(s, j, p.step, p.original_due, now, out);
  if (d.verdict == Verdict::kDeferred) return defer(s, p, d.defer_until, out);
  if (d.verdict == Verdict::kSent) {
    std::string discriminator = r->sku;
    discriminator.push_back('@');
    discriminator.append(r->last_order_id);
    Action& action = emit(s, customer, j, p.step, p.original_due, now, d.channel, discriminator, out);
    action.sku = r->sku;
    action.category = r->category;
    action.quantity = r->quantity;
    action.order_id = r->last_order_id;
    action.last_order = r->last_order;
  }

  // Neither the policies nor emit() touch the replenishment items, so `r` is still valid.
  const size_t next = static_cast<size_t>(p.step) + 1;
  if (next >= j.steps.size()) {
    r->due = EventTime();
    return;
  }
  const EventTime base = p.original_due - j.steps[static_cast<size_t>(p.step)].delay;
  EventTime due = std::max(base + j.steps[next].delay, now + Millis(1));
  schedule_timer(s, TimerSpec{p.id, due, due, j.name, j.trigger, p.key, 0, static_cast<int32_t>(next)}, out);
  r->due = due;
}

// ---------------------------------------------------------------------------------------------
// Signup abandonment

void JourneyEngine::start_signup(CustomerState& s, SignupForm form, EventTime at, bool from_page_view, Outcome& out) {
  auto& sig = s.signups[static_cast<size_t>(form)];
  if (sig.completed) return;  // already signed up with this form
  if (!sig.started) {
    sig.started = true;
    sig.start = at;
    ++sig.instance;
    out.state_changed = true;
  }
  const std::string_view key = to_string(form);
  for (const JourneyConfig* jp : journeys_of(Trigger::kSignupAbandonment)) {
    const JourneyConfig& j = *jp;
    if (!j.enabled || j.steps.empty()) continue;
    if (from_page_view && !j.signup_from_page_views) continue;
    if (std::find(j.forms.begin(), j.forms.end(), form) == j.forms.end()) continue;
    JourneyProgress* prog = s.find_progress(j.name, key);
    if (prog != nullptr && prog->active) continue;
    if (!may_start(prog, j, at)) continue;
    JourneyProgress& started = start_instance(s, prog, j, key, at);
    const EventTime due = at + signup_delay(j, 0);
    schedule_timer(s,
                   TimerSpec{timer_id(j.name, j.trigger, key, started.instance), due, due, j.name, j.trigger, key,
                             started.instance, 0},
                   out);
  }
}

void JourneyEngine::on_signup_completed(CustomerState& s, SignupForm form, Outcome& out) {
  auto& sig = s.signups[static_cast<size_t>(form)];
  sig.completed = true;
  sig.started = false;
  out.state_changed = true;
  const std::string_view key = to_string(form);
  for (const JourneyConfig* j : journeys_of(Trigger::kSignupAbandonment)) {
    JourneyProgress* prog = s.find_progress(j->name, key);
    if (prog != nullptr && prog->active) end_instance(s, *j, *prog, out);
  }
}

void JourneyEngine::fire_signup(CustomerState& s, std::string_view customer, const JourneyConfig& j,
                                const PendingTimer& p, Outcome& out) {
  JourneyProgress* prog = s.find_progress(j.name, p.key);
  auto form = parse_signup_form(p.key);
  if (prog == nullptr || !form || !prog->active || prog->instance != p.instance || prog->next_step != p.step) return;
  if (s.signups[static_cast<size_t>(*form)].completed) {
    prog->active = false;
    return;
  }
  const EventTime now = p.due;
  const Decision d = check_policies(s, j, p.step, p.original_due, now, out);
  if (d.verdict == Verdict::kDeferred) return defer(s, p, d.defer_until, out);
  if (d.verdict == Verdict::kSent) {
    Action& action = emit(s, customer, j, p.step, p.original_due, now, d.channel,
                          instance_discriminator(p.key, p.instance), out);
    action.form = *form;
  }

  // Neither the policies nor emit() touch progress, so `prog` is still valid.
  ++prog->next_step;
  if (static_cast<size_t>(prog->next_step) >= j.steps.size()) {
    prog->active = false;  // one reminder per instance: the instance is over
    prog->completed_once = true;
    return;
  }
  EventTime due = std::max(prog->anchor + signup_delay(j, prog->next_step), now + Millis(1));
  schedule_timer(s, TimerSpec{p.id, due, due, j.name, j.trigger, p.key, p.instance, prog->next_step}, out);
}

// ---------------------------------------------------------------------------------------------
// Shipping delay

namespace {

Shipment& upsert_shipment(CustomerState& s, std::string_view order_id, Outcome& out) {
  if (Shipment* sh = s.find_shipment(order_id)) return *sh;
  if (s.shipments.size() >= CustomerState::kMaxShipments) {
    // Evict the oldest finished shipment (delivered or notified) without a timer, else the oldest.
    auto has_timer = [&](const Shipment& sh) {
      return std::any_of(s.pending.begin(), s.pending.end(), [&](const PendingTimer& p) {
        return p.trigger == Trigger::kShippingDelay && p.key == sh.order_id;
      });
    };
    auto victim = s.shipments.end();
    for (auto it = s.shipments.begin(); it != s.shipments.end(); ++it) {
      if ((it->delivered || it->notified) && !has_timer(*it) &&
          (victim == s.shipments.end() || it->shipped < victim->shipped)) {
        victim = it;
      }
    }
    if (victim == s.shipments.end()) {
      victim = std::min_element(s.shipments.begin(), s.shipments.end(),
                                [](const Shipment& a, const Shipment& b) { return a.shipped < b.shipped; });
    }
    const std::string evicted = victim->order_id;
    cancel_timers_where(s, out, [&](const PendingTimer& p) {
      return p.trigger == Trigger::kShippingDelay && p.key == evicted;
    });
    s.shipments.erase(victim);
  }
  s.shipments.push_back(Shipment{});
  s.shipments.back().order_id = std::string(order_id);
  return s.shipments.back();
}

}  // namespace

void JourneyEngine::on_order_shipped(CustomerState& s, const Event& e, Outcome& out) {
  if (e.order_id.empty()) return;
  Shipment& sh = upsert_shipment(s, e.order_id, out);
  set_string(sh.carrier, e.carrier);
  sh.shipped = e.timestamp;
  sh.promised_delivery = e.promised_delivery;
  out.state_changed = true;
  if (sh.delivered || sh.notified || e.promised_delivery.ms() <= 0) return;
  const std::string_view order_id = sh.order_id;  // scheduling changes `pending`, not `shipments`
  for (const JourneyConfig* jp : journeys_of(Trigger::kShippingDelay)) {
    const JourneyConfig& j = *jp;
    if (!j.enabled || j.steps.empty()) continue;
    const EventTime due = e.promised_delivery + j.shipping_grace;
    schedule_timer(s, TimerSpec{timer_id(j.name, j.trigger, order_id, 0), due, due, j.name, j.trigger, order_id, 0, 0},
                   out);
  }
}

void JourneyEngine::on_shipment_delayed(CustomerState& s, const Event& e, Outcome& out) {
  if (e.order_id.empty()) return;
  Shipment* existing = s.find_shipment(e.order_id);
  if (existing != nullptr && existing->delivered) return;  // nothing to apologise for any more
  if (existing != nullptr && existing->notified) {
    for (const JourneyConfig* j : journeys_of(Trigger::kShippingDelay)) {
      if (!j->enabled) continue;
      out.suppressions.push_back(Suppression{j->trigger, j->name, SuppressionReason::kAlreadyNotified, 0});
    }
    return;
  }
  Shipment& sh = upsert_shipment(s, e.order_id, out);
  sh.notified = true;
  sh.new_eta = e.new_eta;
  sh.reason.assign(e.reason);
  out.state_changed = true;
  const std::string order_id = sh.order_id;
  for (const JourneyConfig* jp : journeys_of(Trigger::kShippingDelay)) {
    const JourneyConfig& j = *jp;
    if (!j.enabled || j.steps.empty()) continue;
    const uint64_t id = timer_id(j.name, j.trigger, order_id, 0);
    cancel_timer(s, id, out);  // the notice replaces the overdue check
    fire_shipping(s, e.customer_id, j, PendingTimer{id, e.timestamp, e.timestamp, j.name, j.trigger, order_id, 0, 0},
                  e.timestamp, out);
  }
}

void JourneyEngine::on_order_delivered(CustomerState& s, const Event& e, Outcome& out) {
  Shipment* sh = s.find_shipment(e.order_id);
  if (sh == nullptr) return;
  sh->delivered = true;
  out.state_changed = true;
  const std::string_view order_id = sh->order_id;  // cancelling changes `pending`, not `shipments`
  cancel_timers_where(s, out, [&](const PendingTimer& p) {
    return p.trigger == Trigger::kShippingDelay && p.key == order_id;
  });
}

void JourneyEngine::fire_shipping(CustomerState& s, std::string_view customer, const JourneyConfig& j,
                                  const PendingTimer& p, EventTime now, Outcome& out) {
  Shipment* sh = s.find_shipment(p.key);
  if (sh == nullptr || sh->delivered) return;
  if (!sh->notified) {  // the overdue check: promised delivery + grace passed without news
    sh->notified = true;
    sh->new_eta = EventTime();
    sh->reason.assign(kOverdueReason);
  }
  const Decision d = check_policies(s, j, p.step, p.original_due, now, out);
  if (d.verdict == Verdict::kDeferred) return defer(s, p, d.defer_until, out);
  if (d.verdict == Verdict::kSent) {
    Action& action = emit(s, customer, j, p.step, p.original_due, now, d.channel, sh->order_id, out);
    action.order_id = sh->order_id;
    action.carrier = sh->carrier;
    action.promised_delivery = sh->promised_delivery;
    action.new_eta = sh->new_eta;
    action.reason = sh->reason;
    action.incentive = j.incentive;
  }
}

// ---------------------------------------------------------------------------------------------
// Erasure

void JourneyEngine::on_erased(CustomerState& s, Outcome& out) {
  cancel_timers_where(s, out, [](const PendingTimer&) { return true; });
  s = CustomerState{};
  out.erase_customer = true;
  out.state_changed = true;
}

// ---------------------------------------------------------------------------------------------
// Policies

bool JourneyEngine::consented(const CustomerState& s, Channel c) const {
  switch (s.consent[static_cast<size_t>(c)]) {
    case ConsentState::kGranted: return true;
    case ConsentState::kDenied: return false;
    case ConsentState::kUnknown: break;
  }
  return config_.policies.consent_default_granted;
}

std::string_view JourneyEngine::timezone_of(const CustomerState& s) const {
  return s.profile.timezone.empty() ? std::string_view(config_.policies.default_timezone)
                                    : std::string_view(s.profile.timezone);
}

std::optional<EventTime> JourneyEngine::quiet_hours_end(const CustomerState& s, EventTime now) const {
  const auto& pol = config_.policies;
  const int64_t start = pol.quiet_start_hour;
  const int64_t end = pol.quiet_end_hour;
  if (!pol.quiet_hours_enabled || start == end) return std::nullopt;
  const std::string_view tz = timezone_of(s);
  const int64_t offset = local_time_.utc_offset_ms(tz, now);
  const int64_t local = now.ms() + offset;
  const int64_t ms_of_day = floor_mod(local, kDayMs);
  const int64_t hour = ms_of_day / kHourMs;
  const bool quiet = start < end ? (hour >= start && hour < end) : (hour >= start || hour < end);
  if (!quiet) return std::nullopt;
  int64_t end_local = local - ms_of_day + end * kHourMs;
  if (end_local <= local) end_local += kDayMs;
  // The offset at the window's end may differ (a DST change during the night).
  const int64_t end_offset = local_time_.utc_offset_ms(tz, EventTime(end_local - offset));
  int64_t until = end_local - end_offset;
  if (until <= now.ms()) until = end_local - offset;
  if (until <= now.ms()) until = now.ms() + kHourMs;
  return EventTime(until);
}

void JourneyEngine::record_send(CustomerState& s, EventTime at) const {
  auto& sends = s.recent_sends;
  sends.insert(std::upper_bound(sends.begin(), sends.end(), at), at);
  // Only sends inside the largest window, and only the most recent max_actions of them, can
  // decide a cap.
  const EventTime horizon = at - Millis(max_cap_window_ms_);
  sends.erase(sends.begin(), std::lower_bound(sends.begin(), sends.end(), horizon));
  const size_t keep = std::min<size_t>(CustomerState::kMaxRecentSends, static_cast<size_t>(std::max(1, max_cap_actions_)));
  if (sends.size() > keep) sends.erase(sends.begin(), sends.end() - static_cast<std::ptrdiff_t>(keep));
}

JourneyEngine::Decision JourneyEngine::check_policies(const CustomerState& s, const JourneyConfig& j, int32_t step,
                                                      EventTime due, EventTime now, Outcome& out) const {
  const auto& pol = config_.policies;
  const StepConfig& st = j.steps[static_cast<size_t>(step)];
  auto suppress = [&](SuppressionReason reason) {
    out.suppressions.push_back(Suppression{j.trigger, j.name, reason, step});
    return Decision{Verdict::kSuppressed, {}, {}};
  };

  if (now > due + j.expires_after) return suppress(SuppressionReason::kExpired);

  // Channel: consent, then a known address; the step's order or the most engaged channel.
  bool any_consent = false;
  std::optional<Channel> chosen;
  uint64_t best_score = 0;
  for (Channel c : st.channels) {
    if (!consented(s, c)) continue;
    any_consent = true;
    if (!addressable(s, c)) continue;
    if (!st.most_engaged) {
      chosen = c;
      break;
    }
    const uint64_t score = engagement_score(s.engagement[static_cast<size_t>(c)]);
    if (!chosen || score > best_score) {
      chosen = c;
      best_score = score;
    }
  }
  if (!chosen) return suppress(any_consent ? SuppressionReason::kNoAddress : SuppressionReason::kNoConsent);

  // No marketing right after an order (an order just after the decision counts too).
  if (!j.transactional && pol.after_order_pause.count() > 0 && s.orders.order_count > 0 &&
      s.orders.last_order > now - pol.after_order_pause) {
    return suppress(SuppressionReason::kRecentOrder);
  }

  if (auto until = quiet_hours_end(s, now)) return Decision{Verdict::kDeferred, *until, {}};

  if (!j.transactional) {
    for (const auto& cap : pol.frequency_caps) {
      const EventTime from = now - cap.window;
      const auto n = std::count_if(s.recent_sends.begin(), s.recent_sends.end(),
                                   [&](EventTime t) { return t > from && t <= now; });
      if (n >= cap.max_actions) return suppress(SuppressionReason::kFrequencyCap);
    }
  }
  return Decision{Verdict::kSent, {}, *chosen};
}

Action& JourneyEngine::emit(CustomerState& s, std::string_view customer, const JourneyConfig& j, int32_t step,
                            EventTime due, EventTime now, Channel channel, std::string_view discriminator,
                            Outcome& out) {
  const auto& pol = config_.policies;
  const bool held_out =
      j.holdout_percent > 0 && static_cast<double>(holdout_bucket(customer, j.name)) < j.holdout_percent * 100.0;
  Action& action = held_out ? out.held_out.emplace_back() : out.actions.emplace_back();
  action.action_id = action_id(customer, j.trigger, j.name, discriminator, step);
  action.customer_id.assign(customer);
  action.trigger = j.trigger;
  action.journey = j.name;
  action.step = step;
  action.channel = channel;
  action.created = now;
  action.due = due;
  action.expires = due + j.expires_after;
  action.variant.assign(variant_for(customer, j));
  action.template_id = j.steps[static_cast<size_t>(step)].template_id;
  auto& ctx = action.context;
  ctx.order_count = s.orders.order_count;
  ctx.first_time_buyer = s.orders.order_count <= 1;
  ctx.lifetime_value = s.orders.lifetime_value;
  const LoyaltyTier* tier = nullptr;
  for (const auto& t : pol.loyalty_tiers) {
    if (s.orders.lifetime_value >= t.min_lifetime_value && (tier == nullptr || t.min_lifetime_value >= tier->min_lifetime_value)) {
      tier = &t;
    }
  }
  if (tier != nullptr) ctx.loyalty_tier = tier->name;
  ctx.locale = s.profile.locale;
  ctx.timezone.assign(timezone_of(s));

  if (held_out) {
    out.suppressions.push_back(Suppression{j.trigger, j.name, SuppressionReason::kHoldout, step});
    return action;
  }
  if (!j.transactional) record_send(s, now);
  out.state_changed = true;
  return action;
}

}  // namespace beckon::journey
