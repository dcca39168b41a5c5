#!/usr/bin/env python3
"""End to end through real processes: `beckon broker`, `beckon run`, and kcat as the outside
producer and consumer. JSON events go in; actions come out on the channel topics with their
action_id header; garbage goes to the dead-letter topic and later events are still processed;
SIGTERM drains and exits 0."""
import json
import shutil
import sys
import time

import beckon_harness as h

CHANNELS = ["email", "sms", "app_push", "web_push", "whatsapp", "ads_audience"]

EXTRA_CONFIG = """
time:
  allowed_lateness: 1s
policies:
  consent_default: granted
  frequency_caps: []
  quiet_hours: { enabled: false }
  after_order_pause: 0s
journeys:
  - name: cart_reminder
    trigger: cart_abandonment
    steps:
      - { delay: 2s, channels: [app_push, email], template: cart_push_1 }
      - { delay: 4s, channels: [email], template: cart_email_1 }
  - name: signup_reminder
    trigger: signup_abandonment
    grace: 1s
    steps:
      - { delay: 2s, channels: [email], template: signup_benefits }
  - name: replenishment
    trigger: replenishment
    cycles: { lead_days: 3, by_category: { skincare: 30 } }
    steps:
      - { delay: 0s, channels: [email], template: replenish_1 }
  - name: shipping_delay
    trigger: shipping_delay
    transactional: true
    shipping_grace: 2s
    steps:
      - { delay: 0s, channels: [email], template: shipping_sorry }
"""


def profile(eid, customer, ts):
    return (customer, h.event(eid, customer, ts, "ProfileUpdated",
                              {"timezone": "Europe/Paris", "locale": "fr-FR", "email_known": True,
                               "push_token_known": True}))


def main():
    work = h.workdir("beckon-it-")
    broker = h.Broker(work)
    engine = None
    try:
        engine = h.Engine(work, h.engine_config(broker.bootstrap, work + "/state", "beckon-it", extra=EXTRA_CONFIG))
        t = h.now_ms()
        day = 24 * 3600 * 1000
        cart = {"items": [{"sku": "LIP-01", "quantity": 1, "unit_price": 19.5, "category": "makeup"}],
                "currency": "EUR"}
        order = {"order_id": "o-1", "items": cart["items"], "total": 19.5, "currency": "EUR"}
        events = []
        for c in ["c-cart", "c-order", "c-signup", "c-signup-done", "c-ship-delay", "c-ship-late",
                  "c-replenish", "c-after-garbage"]:
            events.append(profile(f"p-{c}", c, t))
        events += [
            ("c-cart", h.event("e1", "c-cart", t, "CartUpdated", cart)),
            ("c-order", h.event("e2", "c-order", t, "CartUpdated", cart)),
            ("c-order", h.event("e3", "c-order", t + 500, "OrderPlaced", order)),
            ("c-signup", h.event("e4", "c-signup", t, "SignupStarted", {"form": "loyalty"})),
            ("c-signup-done", h.event("e5", "c-signup-done", t, "SignupStarted", {"form": "account"})),
            ("c-signup-done", h.event("e6", "c-signup-done", t + 300, "SignupCompleted", {"form": "account"})),
            ("c-ship-delay", h.event("e7", "c-ship-delay", t, "OrderShipped",
                                     {"order_id": "o-7", "carrier": "DHL", "promised_delivery_ms": t + 60000})),
            ("c-ship-delay", h.event("e8", "c-ship-delay", t + 100, "ShipmentDelayed",
                                     {"order_id": "o-7", "new_eta_ms": t + 120000, "reason": "weather"})),
            ("c-ship-delay", h.event("e9", "c-ship-delay", t + 200, "ShipmentDelayed",
                                     {"order_id": "o-7", "new_eta_ms": t + 180000, "reason": "weather"})),
            ("c-ship-late", h.event("e10", "c-ship-late", t, "OrderShipped",
                                    {"order_id": "o-10", "carrier": "UPS", "promised_delivery_ms": t + 500})),
            # An order imported 40 days late: 30-day skincare cycle minus 3 lead days is already due.
            ("c-replenish", h.event("e11", "c-replenish", t - 40 * day, "OrderPlaced",
                                    {"order_id": "o-11", "total": 34.0, "currency": "EUR", "items": [
                                        {"sku": "SERUM-VITC-30", "quantity": 1, "unit_price": 34.0,
                                         "category": "skincare"}]})),
            # Garbage, then a valid event that must still be processed.
            ("c-garbage", "this is not an event"),
            ("c-garbage", '{"event_id":"g2","timestamp_ms":%d,"body_type":"CartUpdated","body":{}}' % t),
            ("c-after-garbage", h.event("e12", "c-after-garbage", t, "CartUpdated", cart)),
        ]
        h.produce_lines(broker.bootstrap, "shop.events", events)
        print(f"produced {len(events)} events with kcat to {broker.bootstrap}")

        def collect():
            actions = []
            for ch in CHANNELS:
                for m in h.consume_all(broker.bootstrap, "beckon.actions." + ch):
                    a = json.loads(m["value"])
                    actions.append((ch, m, a))
            return actions

        expected = {("c-cart", "cart_abandonment", 0), ("c-cart", "cart_abandonment", 1),
                    ("c-signup", "signup_abandonment", 0), ("c-ship-delay", "shipping_delay", 0),
                    ("c-ship-late", "shipping_delay", 0), ("c-replenish", "replenishment", 0),
                    ("c-after-garbage", "cart_abandonment", 0)}

        def all_seen():
            acts = collect()
            seen = {(a["customer_id"], a["trigger"], a.get("step", 0)) for _, _, a in acts}
            return acts if expected <= seen else None

        actions = h.wait_for(all_seen, 60, "every expected action", interval=1.0, alive=engine.check_alive)
        time.sleep(3)  # let anything that should NOT happen have its chance
        actions = collect()
        seen = [(a["customer_id"], a["trigger"], a.get("step", 0)) for _, _, a in actions]
        print(f"read {len(actions)} actions with kcat: {sorted(set(seen))}")
        assert not any(c == "c-order" for c, _, _ in seen), "an order must end the cart journey"
        assert not any(c == "c-signup-done" for c, _, _ in seen), "completion must cancel the signup reminder"
        assert sum(1 for c, tr, _ in seen if c == "c-ship-delay") == 1, "one shipping notice per order"
        for ch, m, a in actions:
            assert m["key"] == a["customer_id"], "actions are keyed by customer_id"
            assert m["headers"].get("action_id") == a["action_id"], "action_id header matches payload"
            assert len(a["action_id"]) == 32
        ship = next(a for _, _, a in actions if a["customer_id"] == "c-ship-delay")
        assert ship["payload"]["order_id"] == "o-7" and ship["payload"]["incentive"]["code"], ship
        assert len({a["action_id"] for _, _, a in actions}) == len(actions), "action ids are unique per decision"

        dlq = h.consume_all(broker.bootstrap, "beckon.dlq")
        reasons = [m["headers"].get("beckon.reason") for m in dlq]
        print(f"dead letters: {reasons}")
        assert len(dlq) == 2, dlq
        assert all(reasons), "every dead letter names its reason"
        assert dlq[0]["value"] == b"this is not an event", "dead letters keep the original bytes"
        assert all(m["headers"].get("beckon.source.topic") == "shop.events" for m in dlq)

        code = engine.terminate(timeout=30)
        engine = None
        assert code == 0, f"SIGTERM must drain and exit 0, got {code}"
        print("kcat round trip: ok")
    finally:
        if engine is not None:
            engine.kill()
            print(engine.output()[-4000:], file=sys.stderr)
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
