#!/usr/bin/env python3
"""beckon-bench at a small size: every run mode completes, `--json` holds the figures issue 5
names, and the engine decides the same actions alone, through the broker from a backlog, and
through the broker at a steady rate.

The engine run gets as many partitions as the input topic: timers fire by each partition's
event-time frontier, so different partitionings of the same events may leave different timers
due at the end."""
import json
import os
import subprocess
import sys

BENCH = os.environ["BECKON_BENCH_BIN"]
SMALL = ["--customers", "3000", "--events", "40000", "--e2e-events", "40000",
         "--partitions", "32", "--e2e-partitions", "32", "--json"]
REQUIRED = ["engine_events_per_s", "naive_rmw_events_per_s", "end_to_end_events_per_s",
            "raw_consume_events_per_s", "timer_lateness_p99_ms", "peak_rss_bytes"]


def run(*args):
    proc = subprocess.run([BENCH, *SMALL, *args], capture_output=True, text=True, timeout=150)
    if proc.returncode != 0:
        sys.exit(f"beckon-bench {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout)


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")


full = run("--pending-timers", "3000", "--timer-spread", "2", "--timer-window", "1")
for key in REQUIRED:
    check(isinstance(full.get(key), (int, float)) and full[key] > 0, f"{key} = {full.get(key)}")
check(full["parameters"]["customers"] == 3000, "the parameters are reported")
e2e = full["e2e"]
check(e2e["complete"] and e2e["e2e_consumed"] == e2e["retained"] == 40000,
      f"end to end consumed all {e2e['retained']} retained events")
check(e2e["e2e_dead_letters"] == 0, "no dead letters")
engine_actions = full["engine"]["actions_emitted"]
check(engine_actions > 0, f"the engine decided {engine_actions} actions")
check(e2e["e2e_actions"] == engine_actions,
      f"end to end decided as many actions as the engine alone ({e2e['e2e_actions']})")
check(full["timer_lateness_measured"] > 0, f"{full['timer_lateness_measured']} timer firings measured")

paced = run("--skip-naive", "--skip-engine", "--skip-timers", "--no-warmup", "--e2e-rate", "20000")
p = paced["e2e_paced"]
check(p["complete"] and p["consumed"] == 40000, "the paced run consumed every event")
check(p["actions"] == engine_actions, f"the paced run decided the same actions ({p['actions']})")
check(p["engine_cpu_cores"] > 0 and p["engine_cpu_us_per_event"] > 0, "the engine's CPU is reported")
check(0 <= p["delay_ms_p50"] <= p["delay_ms_p99"] <= p["delay_ms_max"], "delay percentiles are ordered")
check(paced["end_to_end_events_per_s"] is None, "a paced run reports no backlog figure")
print("PASS")
