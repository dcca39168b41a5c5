#!/usr/bin/env python3
"""Crash test (issue 4): the same 200,000 events go through a crash-free `beckon run` (run A) and
through a `beckon run` that is SIGKILLed at random moments (0.3-3 s after it got its partitions)
at least 20 times and restarted on the same state directory each time (run B). Run A's topic is
filled before it starts; run B's identical topic is fed live while the kills happen, so every kill
hits a working processor. Replay mode makes decisions a function of the input alone,
so run B must emit every action id of run A, no other id (duplicates allowed), and end with the
same per-customer state (`beckon inspect --all`).

Environment: BECKON_BIN, optional CRASH_EVENTS (default 200000), CRASH_KILLS (default 20),
CRASH_SEED (default 4), CRASH_FEED_SECONDS (default 90), CRASH_KEEP (keep the work dir)."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import beckon_harness as h

EVENTS = int(os.environ.get("CRASH_EVENTS", "200000"))
KILLS = int(os.environ.get("CRASH_KILLS", "20"))
SEED = int(os.environ.get("CRASH_SEED", "4"))
FEED_SECONDS = float(os.environ.get("CRASH_FEED_SECONDS", "90"))
CUSTOMERS = 3000
PARTITIONS = 16  # 200k compact events stay well under the mock broker's 5 MiB per partition
TOPIC_A = "crash.in.a"
TOPIC_B = "crash.in.b"
CHANNELS = ["email", "sms", "app_push", "web_push", "whatsapp", "ads_audience"]

EXTRA_CONFIG = """
processing:
  replay: true
policies:
  consent_default: granted
  quiet_hours: { enabled: false }
"""


def config(bootstrap, group, topic, prefix, state):
    return h.engine_config(bootstrap, state, group, topic=topic, input_format="json", commit_interval="100ms",
                           kafka_properties={"session.timeout.ms": 6000, "heartbeat.interval.ms": 500},
                           topic_prefix=prefix, extra=EXTRA_CONFIG)


# ---------------------------------------------------------------------------------------------
# Deterministic input: a few thousand shoppers over ~30 simulated days.

SKUS = [("SKN-SERUM", "skincare", 34.0), ("SKN-CREAM", "skincare", 22.5), ("SKN-SPF", "skincare", 18.0),
        ("MKP-LIP", "makeup", 19.5), ("MKP-MASC", "makeup", 24.0), ("FRG-EDP", "fragrance", 79.0),
        ("HAIR-OIL", "haircare", 15.0), ("ACC-BAG", "accessories", 9.0)]
FORMS = ["account", "loyalty", "newsletter"]


def generate(seed, n_events, n_customers, start_ms):
    """Returns [(customer, json_line)] in increasing event time."""
    rng = random.Random(seed)
    out = []
    t = start_ms
    customers = [f"c{i:04d}" for i in range(n_customers)]
    profiled = set()
    carts = {}      # customer -> list of items
    signups = {}    # customer -> form in progress
    shipments = {}  # customer -> list of (order_id, promised)
    seq = 0

    def emit(c, body_type, body):
        nonlocal seq
        seq += 1
        out.append((c, json.dumps({"event_id": f"e{seq}", "customer_id": c, "timestamp_ms": t,
                                   "body_type": body_type, "body": body}, separators=(",", ":"))))

    def item(sku_index, qty):
        sku, cat, price = SKUS[sku_index]
        return {"sku": sku, "quantity": qty, "unit_price": price, "category": cat}

    while len(out) < n_events:
        t += rng.randint(0, 26_000)  # ~13 s per event on average: 200k events span ~30 days
        c = customers[min(n_customers - 1, int(rng.paretovariate(1.2) * 40) % n_customers)
                      if rng.random() < 0.3 else rng.randrange(n_customers)]
        if c not in profiled:
            profiled.add(c)
            emit(c, "ProfileUpdated", {"timezone": rng.choice(["Europe/Paris", "UTC", "America/New_York"]),
                                       "email_known": True, "push_token_known": rng.random() < 0.6,
                                       "phone_known": rng.random() < 0.3})
            if rng.random() < 0.15:
                emit(c, "ConsentChanged", {"channel": rng.choice(["email", "sms", "app_push"]),
                                           "granted": False})
            continue
        r = rng.random()
        if r < 0.20:
            emit(c, "PageViewed", {"url": "/p", "page_type": rng.choice(["home", "product", "category"])})
        elif r < 0.32:
            emit(c, "ProductViewed", {"sku": SKUS[rng.randrange(len(SKUS))][0], "price": 10.0})
        elif r < 0.52:
            items = carts.setdefault(c, [])
            if items and (rng.random() < 0.1 or len(items) >= 4):
                items.clear()
            else:
                items.append(item(rng.randrange(len(SKUS)), rng.randint(1, 3)))
            emit(c, "CartUpdated", {"items": list(items), "currency": "EUR"})
        elif r < 0.64:
            items = carts.get(c)
            if items:
                oid = f"o{seq}"
                total = round(sum(i["quantity"] * i["unit_price"] for i in items), 2)
                emit(c, "OrderPlaced", {"order_id": oid, "items": list(items), "total": total, "currency": "EUR"})
                carts[c] = []
                shipments.setdefault(c, []).append([oid, None])
            else:
                emit(c, "CheckoutStarted", {"cart_value": 0.0, "currency": "EUR"})
        elif r < 0.72:
            pending = shipments.get(c)
            if pending:
                oid, promised = pending[0]
                if promised is None:
                    promised = t + rng.randint(1, 4) * 86_400_000
                    pending[0][1] = promised
                    emit(c, "OrderShipped", {"order_id": oid, "carrier": "DHL", "promised_delivery_ms": promised})
                elif rng.random() < 0.25:
                    emit(c, "ShipmentDelayed", {"order_id": oid, "new_eta_ms": promised + 86_400_000,
                                                "reason": "weather"})
                    pending[0][1] = promised + 86_400_000
                elif rng.random() < 0.7:
                    emit(c, "OrderDelivered", {"order_id": oid})
                    pending.pop(0)
                else:
                    emit(c, "PageViewed", {"url": "/track", "page_type": "other"})
            else:
                emit(c, "PageViewed", {"url": "/", "page_type": "home"})
        elif r < 0.80:
            if c in signups and rng.random() < 0.5:
                emit(c, "SignupCompleted", {"form": signups.pop(c)})
            else:
                signups[c] = rng.choice(FORMS)
                emit(c, "SignupStarted", {"form": signups[c]})
        elif r < 0.88:
            emit(c, "ChannelEngaged", {"channel": rng.choice(["email", "app_push", "sms"]),
                                       "kind": rng.choice(["delivered", "opened", "clicked"])})
        elif r < 0.92:
            emit(c, "ConsentChanged", {"channel": rng.choice(["email", "sms", "app_push", "web_push"]),
                                       "granted": rng.random() < 0.7})
        else:
            emit(c, "PageViewed", {"url": "/signup", "page_type": rng.choice(["signup", "loyalty_signup", "home"])})
    return out[:n_events]


# ---------------------------------------------------------------------------------------------
# Process helpers.

def metrics_port(engine, timeout=20, skip=0):
    """The metrics port the engine logged; `skip` earlier ports in the same (appended) log are
    those of previous processes."""
    def port():
        engine.check_alive()
        m = re.findall(r"metrics on port (\d+)", engine.output())
        return int(m[-1]) if len(m) > skip else None
    return h.wait_for(port, timeout, "the metrics port in the engine log")


def count_in_log(path, text):
    try:
        with open(path) as f:
            return f.read().count(text)
    except FileNotFoundError:
        return 0


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    consumed = dead = 0.0
    lags = {}
    for line in text.splitlines():
        if line.startswith("beckon_events_consumed_total"):
            consumed += float(line.rsplit(" ", 1)[1])
        elif line.startswith("beckon_dead_letters_total"):
            dead += float(line.rsplit(" ", 1)[1])
        elif line.startswith("beckon_consumer_lag_messages{"):
            lags[line.split("}")[0]] = float(line.rsplit(" ", 1)[1])
    return consumed, dead, lags


def wait_drained(engine, port, expected=None, timeout=300):
    """Until the engine consumed everything: consumed+dead == expected (if given); otherwise (a
    restart that does not know how much is left) the counts have not moved for 5 s and every
    reported partition lag is 0 (librdkafka reports no lag for a partition it fetched nothing
    from)."""
    last = None
    stable_since = time.time()
    deadline = time.time() + timeout
    while time.time() < deadline:
        engine.check_alive()
        s = scrape(port)
        if s is not None:
            consumed, dead, lags = s
            total = consumed + dead
            if total != last:
                last, stable_since = total, time.time()
            if expected is not None and total >= expected and time.time() - stable_since > 1:
                return int(total)
            if expected is None and all(v == 0 for v in lags.values()) and time.time() - stable_since > 5:
                return int(total)
        time.sleep(0.5)
    raise AssertionError(f"engine did not drain within {timeout}s (last count {last})")


def action_ids(bootstrap, prefix):
    ids = []
    for ch in CHANNELS:
        for m in h.consume_all(bootstrap, prefix + ch, timeout=120):
            a = json.loads(m["value"])
            assert m["headers"].get("action_id") == a["action_id"], "header and payload action_id differ"
            ids.append(a["action_id"])
    return ids


def inspect_all(state_dir):
    r = subprocess.run([h.BECKON, "inspect", "--state-dir", state_dir, "--all"], capture_output=True,
                       timeout=120)
    assert r.returncode == 0, f"beckon inspect failed: {r.stderr.decode()[-2000:]}"
    states = {}
    for line in r.stdout.decode().splitlines():
        if line.strip():
            o = json.loads(line)
            states[o["customer"]] = o
    return states


def topic_partitions(bootstrap, topic):
    r = subprocess.run([h.KCAT, "-L", "-b", bootstrap, "-t", topic, "-J"], capture_output=True, timeout=30)
    meta = json.loads(r.stdout)
    return len(meta["topics"][0]["partitions"])


def count_messages(bootstrap, topic):
    r = subprocess.run([h.KCAT, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                        "-f", "%p %o\n"], capture_output=True, timeout=120)
    lines = r.stdout.decode().split()
    return len(lines) // 2, lines


def check_readable(bootstrap, topic):
    n, lines = count_messages(bootstrap, topic)
    first = {}
    for p, o in zip(lines[0::2], lines[1::2]):
        first.setdefault(p, int(o))
    assert n == EVENTS, f"{topic}: {n} of {EVENTS} messages readable (mock broker retention?)"
    assert all(o == 0 for o in first.values()), f"{topic}: a partition does not start at offset 0: {first}"


def stream_topic(bootstrap, topic, events, seconds):
    """Produces `events` to `topic` in order, in chunks spread over about `seconds`: a live feed."""
    chunks = 50
    size = (len(events) + chunks - 1) // chunks
    start = time.time()
    for i in range(chunks):
        part = events[i * size:(i + 1) * size]
        if part:
            subprocess.run([h.KCAT, "-P", "-b", bootstrap, "-t", topic, "-K", "\t"], check=True, timeout=120,
                           input="".join(f"{k}\t{v}\n" for k, v in part).encode())
        time.sleep(max(0.0, start + (i + 1) * seconds / chunks - time.time()))


def main():
    assert "inspect" in subprocess.run([h.BECKON, "--help"], capture_output=True, text=True).stdout, \
        "this build has no `beckon inspect`"
    work = h.workdir("beckon-crash-")
    rng = random.Random(SEED)
    # The broker creates both input topics with the same partition count.
    broker_log = open(os.path.join(work, "broker.log"), "w")
    address_file = os.path.join(work, "broker.address")
    broker = subprocess.Popen([h.BECKON, "broker", "--partitions", str(PARTITIONS), "--input-topic", TOPIC_A,
                               "--topic", TOPIC_B, "--address-file", address_file],
                              stdout=broker_log, stderr=subprocess.STDOUT)
    engine = None
    try:
        bootstrap = h.wait_for(lambda: os.path.exists(address_file) and open(address_file).read().strip(),
                               15, "the broker address")
        for t in (TOPIC_A, TOPIC_B):
            n = topic_partitions(bootstrap, t)
            assert n == PARTITIONS, f"{t} has {n} partitions, expected {PARTITIONS}"

        t0 = time.time()
        start = h.now_ms() - 40 * 86_400_000
        events = generate(SEED, EVENTS, CUSTOMERS, start)
        data = "".join(f"{k}\t{v}\n" for k, v in events).encode()
        size = len(data)
        subprocess.run([h.KCAT, "-P", "-b", bootstrap, "-t", TOPIC_A, "-K", "\t"], input=data, check=True,
                       timeout=180)
        check_readable(bootstrap, TOPIC_A)
        print(f"produced {EVENTS} events ({size / 1e6:.1f} MB, {CUSTOMERS} customers, "
              f"{(json.loads(events[-1][1])['timestamp_ms'] - start) / 86_400_000:.1f} "
              f"simulated days) to {TOPIC_A} in {time.time() - t0:.1f}s", flush=True)

        # Run A: crash-free.
        state_a, state_b = os.path.join(work, "state-a"), os.path.join(work, "state-b")
        cfg_a = config(bootstrap, "crash-a", TOPIC_A, "run_a.", state_a)
        cfg_b = config(bootstrap, "crash-b", TOPIC_B, "run_b.", state_b)
        t0 = time.time()
        engine = h.Engine(work, cfg_a, name="run-a")
        consumed_a = wait_drained(engine, metrics_port(engine), expected=EVENTS)
        code = engine.terminate()
        engine = None
        assert code == 0, f"run A: SIGTERM must exit 0, got {code}"
        print(f"run A: {consumed_a} events consumed in {time.time() - t0:.1f}s, exit {code}", flush=True)

        # Run B: the same events arrive as a live feed while the processor is SIGKILLed at random
        # moments (0.3-3 s after it got its partitions) and restarted on the same state directory.
        t0 = time.time()
        feeder = threading.Thread(target=stream_topic, args=(bootstrap, TOPIC_B, events, FEED_SECONDS))
        feeder.start()
        kills = 0
        progress = []
        log_b = os.path.join(work, "run-b.log")  # appended by every run B process
        while kills < KILLS:
            # A SIGKILLed member stays in its consumer group until its session times out, and the
            # mock coordinator then needs ~11 s to rebalance. beckon resumes from the offsets in
            # its state directory, not from the group's, so each restart joins a fresh group
            # (BECKON_GROUP_ID) and starts working within ~3 s.
            os.environ["BECKON_GROUP_ID"] = f"crash-b-{kills}"
            ports_before = count_in_log(log_b, "metrics on port")
            assigned_before = count_in_log(log_b, "assigned")
            engine = h.Engine(work, cfg_b, name="run-b")
            os.environ.pop("BECKON_GROUP_ID")
            port = metrics_port(engine, skip=ports_before)
            h.wait_for(lambda: count_in_log(log_b, "assigned") > assigned_before, 60,
                       "run B's partition assignment", interval=0.05, alive=engine.check_alive)
            time.sleep(rng.uniform(0.3, 3.0))
            engine.check_alive()
            s = scrape(port)
            progress.append(int(s[0] + s[1]) if s else -1)
            os.kill(engine.proc.pid, signal.SIGKILL)
            engine.proc.wait()
            engine.log.close()
            engine = None
            kills += 1
        print(f"run B: {kills} SIGKILLs in {time.time() - t0:.1f}s; events consumed by each killed "
              f"process before its kill: {progress}", flush=True)
        feeder.join()
        check_readable(bootstrap, TOPIC_B)
        working = sum(1 for p in progress if p > 0)
        assert working >= KILLS * 3 // 4, f"most kills must hit a working processor, consumed counts {progress}"
        os.environ["BECKON_GROUP_ID"] = "crash-b-final"
        ports_before = count_in_log(log_b, "metrics on port")
        assigned_before = count_in_log(log_b, "assigned")
        engine = h.Engine(work, cfg_b, name="run-b")
        os.environ.pop("BECKON_GROUP_ID")
        port = metrics_port(engine, skip=ports_before)
        h.wait_for(lambda: count_in_log(log_b, "assigned") > assigned_before, 60, "the final run's assignment",
                   alive=engine.check_alive)
        final = wait_drained(engine, port, expected=None)
        code = engine.terminate()
        engine = None
        assert code == 0, f"run B: SIGTERM must exit 0, got {code}"
        print(f"run B: final process consumed {final} events, exit {code}", flush=True)

        # Compare the actions.
        ids_a = action_ids(bootstrap, "run_a.")
        ids_b = action_ids(bootstrap, "run_b.")
        set_a, set_b = set(ids_a), set(ids_b)
        assert len(set_a) == len(ids_a), "run A (crash-free) emitted a duplicate action id"
        missing = set_a - set_b
        extra = set_b - set_a
        print(f"actions: run A {len(ids_a)}, run B {len(ids_b)} with duplicates, {len(set_b)} distinct; "
              f"{len(missing)} missing, {len(extra)} extra", flush=True)
        dlq_a = len(h.consume_all(bootstrap, "run_a.dlq"))
        dlq_b = len(h.consume_all(bootstrap, "run_b.dlq"))

        states_a = inspect_all(state_a)
        states_b = inspect_all(state_b)
        differing = sorted(c for c in set(states_a) | set(states_b) if states_a.get(c) != states_b.get(c))
        for c in differing[:5]:
            print(f"state differs for {c}:\n  A: {states_a.get(c)}\n  B: {states_b.get(c)}")
        assert len(set_a) > 1000, f"the input should produce many actions, got {len(set_a)}"
        assert not missing, f"{len(missing)} action ids of the crash-free run are missing, e.g. {sorted(missing)[:5]}"
        assert not extra, f"{len(extra)} action ids not in the crash-free run, e.g. {sorted(extra)[:5]}"
        assert dlq_a == dlq_b == 0, f"dead letters: A {dlq_a}, B {dlq_b}"
        assert len(states_a) >= CUSTOMERS * 0.9, f"only {len(states_a)} customers in state A"
        assert not differing, f"{len(differing)} of {len(states_a)} customer states differ"
        print(f"crash test: {kills} kills, {EVENTS} events, {len(set_a)} actions compared "
              f"({len(ids_b)} in run B with duplicates), 0 missing, 0 extra, "
              f"{len(states_a)} customer states equal")
    finally:
        if engine is not None:
            engine.kill()
            print(engine.output()[-4000:], file=sys.stderr)
        if broker.poll() is None:
            broker.send_signal(signal.SIGTERM)
            try:
                broker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()
        broker_log.close()
        if os.environ.get("CRASH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
