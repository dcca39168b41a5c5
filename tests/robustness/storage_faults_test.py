#!/usr/bin/env python3
"""Storage faults and SIGTERM (issue 4).

1. state.dir is a regular file, or a RocksDB directory whose CURRENT was overwritten, or whose
   MANIFEST was truncated: `beckon run` exits non-zero within 20 s with a message naming the state
   directory — never a silent fresh start.
2. SIGTERM while a steady stream is processed: exit 0 within 30 s; a restart on the same state
   resumes from the stored offsets, so (replay mode) the action ids equal those of a run without
   the stop."""
import glob
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import beckon_harness as h

EXTRA_CONFIG = """
processing:
  replay: {replay}
policies:
  consent_default: granted
  quiet_hours: {{ enabled: false }}
journeys:
  - name: cart
    trigger: cart_abandonment
    steps:
      - {{ delay: 1h, channels: [email], template: cart_1 }}
  - name: shipping
    trigger: shipping_delay
    transactional: true
    steps:
      - {{ delay: 0s, channels: [email], template: sorry }}
"""
CHANNELS = ["email"]


def config(bootstrap, group, topic, prefix, state, replay="true"):
    return h.engine_config(bootstrap, state, group, topic=topic, input_format="json", commit_interval="100ms",
                           kafka_properties={"session.timeout.ms": 6000}, topic_prefix=prefix,
                           extra=EXTRA_CONFIG.format(replay=replay))


def expect_refusal(work, bootstrap, state, what):
    t0 = time.time()
    engine = h.Engine(work, config(bootstrap, "storage-" + what, "shop.events", "st.", state), name="bad-" + what)
    try:
        code = engine.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        engine.kill()
        raise AssertionError(f"{what}: beckon run still running after 20 s (silent fresh start?):\n"
                             f"{engine.output()[-2000:]}")
    engine.log.close()
    out = engine.output()
    line = next((l for l in out.splitlines() if state in l), "")
    print(f"{what}: exit {code} after {time.time() - t0:.1f}s: {line.strip()[:300]}")
    assert code != 0, f"{what}: exit code 0:\n{out[-2000:]}"
    assert line, f"{what}: no message names the state directory {state}:\n{out[-2000:]}"


def stream(n, customers=200, start=None):
    """n events: profiles, carts (reminded after 1 h unless updated) and shipment delays (acted on
    at once)."""
    start = start or h.now_ms() - 10 * 86_400_000
    out = []
    seen = set()
    i = 0
    while len(out) < n:
        c = f"c{i % customers}"
        t = start + i * 60_000
        if c not in seen:
            seen.add(c)
            out.append((c, h.event(f"p{i}", c, t, "ProfileUpdated", {"timezone": "UTC", "email_known": True})))
        elif i % 3 == 0:
            out.append((c, h.event(f"o{i}", c, t, "OrderShipped",
                                   {"order_id": f"o{i}", "carrier": "DHL", "promised_delivery_ms": t + 86_400_000})))
            out.append((c, h.event(f"s{i}", c, t + 1, "ShipmentDelayed",
                                   {"order_id": f"o{i}", "new_eta_ms": t + 2 * 86_400_000, "reason": "x"})))
        else:
            out.append((c, h.event(f"e{i}", c, t, "CartUpdated",
                                   {"items": [{"sku": "S", "quantity": 1 + i % 3, "unit_price": 5.0}]})))
        i += 1
    return out


def wait_stable(count, timeout, what, engine, quiet=3.0):
    """Until count() is positive and has not changed for `quiet` seconds."""
    last, since, deadline = None, time.time(), time.time() + timeout
    while time.time() < deadline:
        engine.check_alive()
        c = count()
        if c != last:
            last, since = c, time.time()
        elif c and time.time() - since >= quiet:
            return c
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last count {last})")


def ids(bootstrap, prefix):
    out = []
    for ch in CHANNELS:
        out += [json.loads(m["value"])["action_id"] for m in h.consume_all(bootstrap, prefix + ch, timeout=60)]
    return out


def main():
    work = h.workdir("beckon-storage-")
    broker = h.Broker(work, partitions=4)
    engines = []
    real_engine = h.Engine

    def tracked(*args, **kwargs):
        e = real_engine(*args, **kwargs)
        engines.append(e)
        return e
    h.Engine = tracked
    try:
        # 1a. A regular file.
        path = os.path.join(work, "not-a-dir")
        with open(path, "w") as f:
            f.write("hello")
        expect_refusal(work, broker.bootstrap, path, "file")

        # A valid store, written by one clean run.
        good = os.path.join(work, "good")
        h.produce_lines(broker.bootstrap, "shop.events", stream(600))
        e = h.Engine(work, config(broker.bootstrap, "storage-seed", "shop.events", "seed.", good), name="seed")
        h.wait_for(lambda: len(ids(broker.bootstrap, "seed.")) >= 5, 60, "the seed run's actions",
                   interval=1.0, alive=e.check_alive)
        assert e.terminate() == 0
        # 1b. CURRENT overwritten.
        d = os.path.join(work, "bad-current")
        shutil.copytree(good, d)
        with open(os.path.join(d, "CURRENT"), "w") as f:
            f.write("MANIFEST-999999\n")
        expect_refusal(work, broker.bootstrap, d, "current")
        # 1c. MANIFEST truncated.
        d = os.path.join(work, "bad-manifest")
        shutil.copytree(good, d)
        manifests = glob.glob(os.path.join(d, "MANIFEST-*"))
        assert manifests, os.listdir(d)
        for m in manifests:
            with open(m, "r+b") as f:
                f.truncate(10)
        expect_refusal(work, broker.bootstrap, d, "manifest")

        # 2. SIGTERM mid-stream, restart, compare with an uninterrupted run (replay mode).
        n = 20_000
        events = stream(n, customers=2000)
        h.produce_lines(broker.bootstrap, "term.a", events)
        h.produce_lines(broker.bootstrap, "term.b", events[:1])  # creates the topic
        events = events[1:]
        ref = h.Engine(work, config(broker.bootstrap, "term-a", "term.a", "term_a.", work + "/term-a"), name="term-a")
        t0 = time.time()
        wait_stable(lambda: len(ids(broker.bootstrap, "term_a.")), 120, "run A's actions", ref)
        assert ref.terminate() == 0
        ids_a = ids(broker.bootstrap, "term_a.")
        print(f"uninterrupted run: {len(ids_a)} actions in {time.time() - t0:.1f}s")

        # Run B gets the same events as a steady stream (chunks every 0.25 s) while it works.
        b = h.Engine(work, config(broker.bootstrap, "term-b", "term.b", "term_b.", work + "/term-b"), name="term-b")
        h.wait_for(lambda: "assigned" in b.output(), 30, "run B's partition assignment", alive=b.check_alive)
        chunks = [events[i:i + 500] for i in range(0, n, 500)]
        producer = threading.Thread(target=lambda: [
            (h.produce_lines(broker.bootstrap, "term.b", c), time.sleep(0.25)) for c in chunks])
        producer.start()
        time.sleep(3)
        before = len(ids(broker.bootstrap, "term_b."))
        t0 = time.time()
        code = b.terminate(timeout=30)
        print(f"SIGTERM while streaming ({before} of {len(ids_a)} actions out): exit {code} "
              f"in {time.time() - t0:.1f}s")
        assert code == 0, f"SIGTERM exit {code}"
        assert 0 < before < len(ids_a), "the stop should fall in the middle of the stream"
        producer.join()
        b = h.Engine(work, config(broker.bootstrap, "term-b", "term.b", "term_b.", work + "/term-b"), name="term-b")
        h.wait_for(lambda: set(ids(broker.bootstrap, "term_b.")) >= set(ids_a), 120,
                   "the restarted run to catch up", interval=1.0, alive=b.check_alive)
        time.sleep(2)
        assert b.terminate() == 0
        ids_b = ids(broker.bootstrap, "term_b.")
        assert len(set(ids_a)) == len(ids_a), "duplicates in the uninterrupted run"
        assert set(ids_b) == set(ids_a), (f"{len(set(ids_a) - set(ids_b))} missing, "
                                          f"{len(set(ids_b) - set(ids_a))} extra")
        dup = len(ids_b) - len(set(ids_b))
        print(f"storage faults: 3 corrupt state dirs refused; SIGTERM restart: {len(ids_a)} actions compared, "
              f"0 missing, 0 extra, {dup} duplicates after the clean stop")
        assert dup == 0, f"a clean SIGTERM committed everything, yet {dup} actions were emitted twice"
    finally:
        h.Engine = real_engine
        for e in engines:
            if e.proc.poll() is None:
                e.kill()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
