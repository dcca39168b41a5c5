#!/usr/bin/env python3
"""A real Prometheus scraping a real beckon (ctest integration.prometheus_scrape).

Starts `beckon broker`, `beckon run` with its ops listener on a free loopback port, produces events
with kcat, starts /usr/bin/prometheus scraping beckon every second with deploy/prometheus/alerts.yml
loaded, then checks through Prometheus' HTTP API that:
- up{job="beckon"} == 1 and beckon_events_consumed_total carries exactly the events produced;
- the dead letter and partition gauges arrived;
- every alert rule of deploy/prometheus/alerts.yml is loaded and evaluates without error;
- every PromQL expression of the Grafana dashboard is accepted by Prometheus;
and that beckon's /healthz and /readyz answer 200 once partitions are assigned, and its threads are named.
Every wait is bounded; all processes are stopped at the end."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import beckon_harness as h

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "beckon-dashboard.json")



PROM_CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {alerts}
scrape_configs:
  - job_name: beckon
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=3):
    """(status, body) of a GET; (None, error) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
        return None, str(e)


class Prometheus:
    def __init__(self, workdir, target_port):
        self.port = free_port()
        self.config = os.path.join(workdir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(PROM_CONFIG.format(alerts=ALERTS, port=target_port))
        self.log = open(os.path.join(workdir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config}",
             f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.proc.returncode}:\n{self.output()[-3000:]}")

    def api(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        status, body = http_get(url, timeout=5)
        if status is None:
            return None
        return json.loads(body)

    def query(self, expr):
        r = self.api("/api/v1/query", query=expr)
        if not r or r.get("status") != "success":
            return None
        return r["data"]["result"]

    def stop(self):
        h.stop_process(self.proc, self.log, 20)

    def output(self):
        with open(self.log.name) as f:
            return f.read()


def dashboard_queries():
    dash = json.load(open(DASHBOARD))
    out = []

    def walk(n):
        if isinstance(n, dict):
            if isinstance(n.get("expr"), str):
                out.append(n["expr"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(dash)
    return out


def main():
    work = h.workdir("beckon-prom-")
    broker = h.Broker(work, partitions=2)
    engine = None
    prom = None
    try:
        port = free_port()
        engine = h.Engine(work, h.engine_config(broker.bootstrap, work + "/state", "beckon-prom-it", listen=f"127.0.0.1:{port}"))
        ops = f"http://127.0.0.1:{port}"
        h.wait_for(lambda: http_get(ops + "/healthz")[0] == 200, 30, "/healthz 200", alive=engine.check_alive)
        status, body = http_get(ops + "/healthz")
        print(f"/healthz: {status} {body.strip()}")
        h.wait_for(lambda: http_get(ops + "/readyz")[0] == 200, 60, "/readyz 200 (partitions assigned)",
                   alive=engine.check_alive)
        status, body = http_get(ops + "/readyz")
        print(f"/readyz: {status} {body.strip()}")

        # Operators tell the threads apart in `top -H` / `ps -L` by name.
        task_dir = f"/proc/{engine.proc.pid}/task"
        names = set()
        for tid in os.listdir(task_dir):
            try:
                with open(os.path.join(task_dir, tid, "comm")) as f:
                    names.add(f.read().strip())
            except FileNotFoundError:
                pass  # the thread ended meanwhile
        print(f"thread names: {sorted(names)}")
        for want in ("beckon-worker-0", "beckon-gauges", "beckon-produce", "beckon-http"):
            if want not in names:
                raise AssertionError(f"no thread named {want} in {sorted(names)}")

        t = h.now_ms()
        cart = {"items": [{"sku": "LIP-01", "quantity": 1, "unit_price": 19.5}], "currency": "EUR"}
        events = []
        for i in range(6):
            c = f"c-prom-{i}"
            events.append((c, h.event(f"pv-{i}", c, t, "PageViewed", {"url": "/", "page_type": "home"})))
            events.append((c, h.event(f"cu-{i}", c, t + 1, "CartUpdated", cart)))
        events.append(("c-garbage", "this is not an event"))
        h.produce_lines(broker.bootstrap, "shop.events", events)
        valid = len(events) - 1
        print(f"produced {len(events)} records with kcat ({valid} valid, 1 garbage)")

        prom = Prometheus(work, port)
        h.wait_for(lambda: http_get(prom.base + "/-/ready")[0] == 200, 30, "prometheus /-/ready",
                   alive=prom.check_alive)

        def consumed():
            prom.check_alive()
            engine.check_alive()
            r = prom.query('sum(beckon_events_consumed_total{job="beckon"})')
            return r and float(r[0]["value"][1]) >= valid and r

        h.wait_for(consumed, 60, f"Prometheus to see {valid} consumed events", interval=0.5)
        series = prom.query("beckon_events_consumed_total")
        nonzero = {s["metric"]["type"]: float(s["value"][1]) for s in series if float(s["value"][1]) > 0}
        print(f"Prometheus: beckon_events_consumed_total has {len(series)} series; non-zero: {nonzero}")
        assert all(s["metric"].get("job") == "beckon" for s in series), series
        assert nonzero == {"PageViewed": 6.0, "CartUpdated": 6.0}, nonzero
        assert len(series) == 14, f"every event type is exported from start-up, got {len(series)}"

        up = prom.query('up{job="beckon"}')
        print(f"Prometheus: up{{job=\"beckon\"}} = {[s['value'][1] for s in up]}")
        assert len(up) == 1 and up[0]["value"][1] == "1", up

        dead = h.wait_for(lambda: (r := prom.query('sum(beckon_dead_letters_total{job="beckon"})'))
                          and float(r[0]["value"][1]) >= 1 and r, 20, "the dead letter in Prometheus", interval=0.5)
        parts = prom.query('beckon_partitions_assigned{job="beckon"}')
        print(f"Prometheus: dead letters = {dead[0]['value'][1]}, partitions assigned = {parts[0]['value'][1]}")
        assert float(dead[0]["value"][1]) == 1.0

        # The live endpoint, with real traffic behind it, must satisfy promtool's conventions.
        status, text = http_get(ops + "/metrics")
        assert status == 200
        lint = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=text.encode(),
                              capture_output=True, timeout=30)
        complaints = (lint.stdout + lint.stderr).decode().strip()
        print(f"promtool check metrics on the live /metrics ({len(text.splitlines())} lines): "
              f"{'ok' if lint.returncode == 0 and not complaints else complaints}")
        assert lint.returncode == 0 and not complaints, complaints
        assert float(parts[0]["value"][1]) == 2.0

        # Alert rules: all loaded, and evaluated at least once without error.
        expected_rules = open(ALERTS).read().count("- alert:")

        def rules_evaluated():
            r = prom.api("/api/v1/rules")
            if not r or r.get("status") != "success":
                return None
            rules = [x for g in r["data"]["groups"] for x in g["rules"]]
            if len(rules) == expected_rules and all(x.get("health") == "ok" for x in rules):
                return rules
            return None

        rules = h.wait_for(rules_evaluated, 30, f"{expected_rules} alert rules evaluated with health ok",
                           interval=0.5)
        states = {}
        for x in rules:
            states[x["state"]] = states.get(x["state"], 0) + 1
        print(f"Prometheus: {len(rules)} alert rules loaded, all health=ok; states {states}")

        # Dashboard expressions: Prometheus must accept every one (with Grafana's variables bound).
        bad = []
        exprs = dashboard_queries()
        for e in exprs:
            q = e.replace("$__rate_interval", "1m").replace("$job", "beckon").replace("$instance", ".*")
            r = prom.api("/api/v1/query", query=q)
            if not r or r.get("status") != "success":
                bad.append((e, r))
        print(f"Prometheus: {len(exprs) - len(bad)}/{len(exprs)} dashboard expressions accepted")
        assert not bad, bad

        prom.stop()
        prom = None
        code = engine.terminate(timeout=30)
        engine = None
        assert code == 0, f"SIGTERM must drain and exit 0, got {code}"
        print("prometheus scrape: ok")
    finally:
        if prom is not None:
            print(prom.output()[-3000:], file=sys.stderr)
            prom.stop()
        if engine is not None:
            print(engine.output()[-3000:], file=sys.stderr)
            engine.kill()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
