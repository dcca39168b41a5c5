#!/usr/bin/env python3
"""Bad input (issue 4): garbage of every kind goes into a running `beckon run` through kcat —
random bytes, truncated and bit-flipped FlatBuffers, an Action buffer given as an event, an
oversized message, malformed JSON, wrong JSON types, a missing customer id, negative quantity and
price, timestamps in 1970 and in the year 3000. Each must land on the dead-letter topic with its
original bytes and a `beckon.reason` header; a plausible far-future timestamp (now + 1 day) is
clamped, not dead-lettered; valid events after the garbage still produce their actions."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import urllib.request

import beckon_harness as h

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FLATC = os.environ.get("FLATC_BIN", "flatc")

EXTRA_CONFIG = """
processing:
  max_message_bytes: 64KiB
policies:
  consent_default: granted
  quiet_hours: { enabled: false }
"""

DAY = 86_400_000


def flatc_binary(work, schema, name, obj):
    """FlatBuffers binary of `obj` (FlatBuffers' JSON mapping) built by flatc from `schema`."""
    src = os.path.join(work, name + ".json")
    with open(src, "w") as f:
        json.dump(obj, f)
    subprocess.run([FLATC, "-b", "-o", work, os.path.join(REPO, "schemas", schema), src], check=True,
                   cwd=os.path.join(REPO, "schemas"))
    with open(os.path.join(work, name + ".bin"), "rb") as f:
        return f.read()


def produce_file(bootstrap, work, key, name, payload):
    """One message per file: kcat -P sends each file as one message, bytes untouched."""
    path = os.path.join(work, "msg-" + name)
    with open(path, "wb") as f:
        f.write(payload)
    subprocess.run([h.KCAT, "-P", "-b", bootstrap, "-t", "shop.events", "-k", key, "-X",
                    "message.max.bytes=1000000", path], check=True, timeout=30)


def main():
    work = h.workdir("beckon-bad-input-")
    broker = h.Broker(work, partitions=2)
    engine = None
    try:
        engine = h.Engine(work, h.engine_config(broker.bootstrap, work + "/state", "beckon-bad-input", extra=EXTRA_CONFIG),
                          name="bad")
        now = h.now_ms()
        ev = {"event_id": "fb-1", "customer_id": "c-fb", "timestamp_ms": now, "body_type": "ShipmentDelayed",
              "body": {"order_id": "o-fb", "new_eta_ms": now + DAY, "reason": "storm"}}
        good_fb = flatc_binary(work, "events.fbs", "event", ev)
        assert good_fb[4:8] == b"BKEV", good_fb[:8]
        action = {"action_id": "0" * 32, "customer_id": "c-action", "trigger": "cart_abandonment",
                  "journey": "cart_abandonment", "step": 0, "channel": "email", "created_ms": now,
                  "due_ms": now, "expires_ms": now + DAY}
        action_fb = flatc_binary(work, "actions.fbs", "action", action)
        assert action_fb[4:8] == b"BKAC", action_fb[:8]

        rng = random.Random(7)
        root_broken = bytearray(good_fb)
        root_broken[2] ^= 0xFF  # root offset points far outside the buffer
        ident_flipped = bytearray(good_fb)
        ident_flipped[5] ^= 0x01  # "BKEV" -> "BJEV"
        vtable_broken = bytearray(good_fb)
        root = int.from_bytes(good_fb[0:4], "little")
        vtable_broken[root + 3] ^= 0x40  # the table's vtable offset (soffset) points outside

        def js(customer, ts, body_type, body, eid="x"):
            o = {"event_id": eid, "timestamp_ms": ts, "body_type": body_type, "body": body}
            if customer is not None:
                o["customer_id"] = customer
            return json.dumps(o).encode()

        cart_item = {"sku": "LIP-01", "quantity": 1, "unit_price": 19.5}
        bad = [  # (name, payload, acceptable reasons)
            ("random bytes 1", bytes(rng.getrandbits(8) for _ in range(64)), {"verify_failed", "wrong_identifier"}),
            ("random bytes 2", bytes(rng.getrandbits(8) for _ in range(4000)), {"verify_failed", "wrong_identifier"}),
            ("random bytes 3", b"\x00" * 3, {"verify_failed", "wrong_identifier"}),
            ("truncated flatbuffer", good_fb[: len(good_fb) // 2], {"verify_failed"}),
            ("truncated flatbuffer (8 bytes)", good_fb[:8], {"verify_failed"}),
            ("flipped root offset", bytes(root_broken), {"verify_failed"}),
            ("flipped vtable offset", bytes(vtable_broken), {"verify_failed"}),
            ("flipped file identifier", bytes(ident_flipped), {"wrong_identifier"}),
            ("Action buffer as event", action_fb, {"wrong_identifier"}),
            ("oversized (70 KiB)", js("c-big", now, "PageViewed", {"url": "/" + "x" * 70_000}), {"oversized"}),
            ("malformed JSON", b'{"event_id": "m1", "customer_id": "c-m", ', {"malformed_json"}),
            ("JSON syntax error {]", b'{]', {"malformed_json", "schema_mismatch"}),
            ("wrong JSON type (timestamp string)", js("c-t", "yesterday", "PageViewed", {"url": "/"}),
             {"schema_mismatch"}),
            ("wrong JSON type (quantity string)",
             js("c-t", now, "CartUpdated", {"items": [dict(cart_item, quantity="two")]}), {"schema_mismatch"}),
            ("unknown enum name", js("c-t", now, "SignupStarted", {"form": "premium"}), {"schema_mismatch"}),
            ("missing customer id", js(None, now, "CartUpdated", {"items": [cart_item]}), {"missing_customer_id"}),
            ("empty customer id", js("", now, "CartUpdated", {"items": [cart_item]}), {"missing_customer_id"}),
            ("missing body", json.dumps({"event_id": "b", "customer_id": "c-b", "timestamp_ms": now}).encode(),
             {"missing_body"}),
            ("negative quantity", js("c-n", now, "CartUpdated", {"items": [dict(cart_item, quantity=-2)]}),
             {"invalid_field"}),
            ("negative price", js("c-n", now, "CartUpdated", {"items": [dict(cart_item, unit_price=-19.5)]}),
             {"invalid_field"}),
            ("timestamp in 1970", js("c-old", 86_400_000, "PageViewed", {"url": "/"}), {"invalid_timestamp"}),
            ("timestamp in year 3000", js("c-far", 32_503_680_000_000, "PageViewed", {"url": "/"}),
             {"invalid_timestamp"}),
        ]
        # The customers of the valid events are known (profile with an address) and have a shipped order.
        setup = []
        for c in ["c-fb", "c-json", "c-future"]:
            setup.append((c, h.event(f"p-{c}", c, now - 2000, "ProfileUpdated",
                                     {"timezone": "UTC", "email_known": True, "push_token_known": True})))
            setup.append((c, h.event(f"s-{c}", c, now - 1000, "OrderShipped",
                                     {"order_id": "o-" + c[2:], "carrier": "DHL", "promised_delivery_ms": now + DAY})))
        h.produce_lines(broker.bootstrap, "shop.events", setup)
        for i, (name, payload, _) in enumerate(bad):
            produce_file(broker.bootstrap, work, f"bad-{i}", f"bad-{i}", payload)
        # Valid events after the garbage: a FlatBuffers event, a JSON one, and one stamped a day
        # ahead (plausible, so clamped to now + max_future_skew rather than dead-lettered).
        produce_file(broker.bootstrap, work, "c-fb", "good-fb", good_fb)
        future = now + DAY
        h.produce_lines(broker.bootstrap, "shop.events", [
            ("c-json", h.event("j-1", "c-json", now, "ShipmentDelayed",
                               {"order_id": "o-json", "new_eta_ms": now + DAY, "reason": "strike"})),
            ("c-future", h.event("f-1", "c-future", future, "ShipmentDelayed",
                                 {"order_id": "o-future", "new_eta_ms": future + DAY, "reason": "storm"})),
        ])
        print(f"produced {len(bad)} bad inputs and 3 valid events with kcat")

        def actions():
            out = {}
            for ch in ["email", "sms", "app_push"]:
                for m in h.consume_all(broker.bootstrap, "beckon.actions." + ch):
                    a = json.loads(m["value"])
                    out[a["customer_id"]] = a
            return out

        expected = {"c-fb", "c-json", "c-future"}
        got = h.wait_for(lambda: (lambda a: a if expected <= set(a) else None)(actions()), 60,
                         "the actions of the valid events", interval=1.0, alive=engine.check_alive)
        dlq = h.wait_for(lambda: (lambda d: d if len(d) >= len(bad) else None)(
            h.consume_all(broker.bootstrap, "beckon.dlq")), 30, "every dead letter", interval=1.0)

        by_key = {m["key"]: m for m in dlq}
        problems = []
        print(f"{'input':40} reason")
        for i, (name, payload, reasons) in enumerate(bad):
            m = by_key.get(f"bad-{i}")
            reason = m["headers"].get("beckon.reason") if m else None
            print(f"{name:40} {reason}")
            if m is None:
                problems.append(f"{name}: not dead-lettered")
                continue
            if reason not in reasons:
                problems.append(f"{name}: reason {reason!r}, expected one of {sorted(reasons)}")
            if m["value"] != payload:
                problems.append(f"{name}: dead letter does not carry the original bytes")
            if m["headers"].get("beckon.source.topic") != "shop.events":
                problems.append(f"{name}: no beckon.source.topic header ({m['headers']})")
        extra = [m["key"] for m in dlq if not m["key"].startswith("bad-")]
        if extra:
            problems.append(f"valid events were dead-lettered: {extra}")

        port = int(re.findall(r"metrics on port (\d+)", engine.output())[-1])
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        clamped = sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                      if l.startswith("beckon_clamped_events_total"))
        if clamped != 1:
            problems.append(f"beckon_clamped_events_total is {clamped}, expected 1")
        fut = got["c-future"]
        if not fut["created_ms"] <= h.now_ms() + 5 * 60_000 + 1000:
            problems.append(f"the future event's action was not clamped: created_ms {fut['created_ms']}, "
                            f"event time {future}")

        code = engine.terminate()
        engine = None
        if code != 0:
            problems.append(f"SIGTERM exit code {code}")
        reasons = sorted({m["headers"].get("beckon.reason") for m in dlq})
        print(f"bad input: {len(bad)} inputs tried, {len(dlq)} dead letters, reasons {reasons}, "
              f"{clamped:.0f} clamped, {len(expected)} valid events acted on after the garbage")
        assert not problems, "\n".join(problems)
    finally:
        if engine is not None:
            engine.kill()
            print(engine.output()[-4000:], file=sys.stderr)
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
