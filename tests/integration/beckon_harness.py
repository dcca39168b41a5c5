"""Shared helpers for beckon's process-level tests: start `beckon broker` and `beckon run` as real
processes on loopback, produce with kcat, read topics with kcat. Every wait is bounded."""
import json
import os
import signal
import subprocess
import tempfile
import textwrap
import time

import yaml

BECKON = os.environ.get("BECKON_BIN", "beckon")
KCAT = os.environ.get("KCAT_BIN", "kcat")


def wait_for(predicate, timeout, what, interval=0.2, alive=None):
    """Polls `predicate` until it returns a true value; `alive` (optional) raises if a process died."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if alive:
            alive()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Broker:
    """`beckon broker` in its own process; the bootstrap address comes from --address-file."""

    def __init__(self, workdir, partitions=2):
        self.address_file = os.path.join(workdir, "broker.address")
        self.log = open(os.path.join(workdir, "broker.log"), "w")
        self.proc = subprocess.Popen(
            [BECKON, "broker", "--partitions", str(partitions), "--address-file", self.address_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.bootstrap = wait_for(self._address, 15, "the embedded broker's address")

    def _address(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"beckon broker exited with {self.proc.returncode}")
        if os.path.exists(self.address_file):
            return open(self.address_file).read().strip()
        return None

    def stop(self):
        stop_process(self.proc, self.log, 15)


def engine_config(bootstrap, state, group, topic="shop.events", input_format="auto", commit_interval="200ms",
                  listen="127.0.0.1:0", kafka_properties=None, topic_prefix=None, extra=""):
    """The YAML of a `beckon run` configuration for a test: consumes `topic` as `group`, writes JSON
    actions (to `<topic_prefix><channel>` and `<topic_prefix>dlq` when a prefix is given), commits
    every `commit_interval`, serves metrics on `listen`. `extra` (YAML text: policies, journeys,
    processing...) is appended as it is."""
    kafka = {"bootstrap_servers": bootstrap, "group_id": group}
    if kafka_properties:
        kafka["properties"] = kafka_properties
    output = {"format": "json"}
    if topic_prefix is not None:
        output.update(topic_prefix=topic_prefix, dead_letter_topic=topic_prefix + "dlq")
    doc = {
        "kafka": kafka,
        "inputs": [{"topic": topic, "format": input_format}],
        "output": output,
        "state": {"dir": state, "commit_interval": commit_interval},
        "metrics": {"listen": listen},
        "log": {"level": "info"},
    }
    return yaml.safe_dump(doc, sort_keys=False) + textwrap.dedent(extra)


def stop_process(proc, log, timeout):
    """SIGTERM, then SIGKILL after `timeout` seconds; closes the process's log file."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


class Engine:
    """`beckon run --config FILE` in its own process."""

    def __init__(self, workdir, config_text, name="engine"):
        self.config_path = os.path.join(workdir, f"{name}.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([BECKON, "run", "--config", self.config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"beckon run exited with {self.proc.returncode}:\n{self.output()[-3000:]}")

    def terminate(self, timeout=30):
        """SIGTERM, then the exit code (the engine must drain and exit by itself)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def output(self):
        with open(self.log_path) as f:
            return f.read()


def produce_lines(bootstrap, topic, keyed_lines):
    """Produces (key, value) pairs with kcat, one message per line."""
    data = "".join(f"{k}\t{v}\n" for k, v in keyed_lines)
    subprocess.run([KCAT, "-P", "-b", bootstrap, "-t", topic, "-K", "\t"], input=data.encode(),
                   check=True, timeout=30)


def parse_headers(text):
    """kcat's %h rendering ("k1=v1,k2=v2" or "NULL") as a dict."""
    hdrs = {}
    if text and text != "NULL":
        for pair in text.split(","):
            if "=" in pair:
                k, v = pair.split("=", 1)
                hdrs[k] = v
    return hdrs


def consume_all(bootstrap, topic, timeout=20):
    """Every message of `topic` as dicts {key, value, headers, partition, offset}, read with kcat.
    Binary-safe: each value is read by its length, so payloads may hold any bytes."""
    fmt = "%k\x1f%h\x1f%p\x1f%o\x1f%S\x1f%s"
    result = subprocess.run([KCAT, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                             "-f", fmt], capture_output=True, timeout=timeout)
    data, pos, out = result.stdout, 0, []
    while pos < len(data):
        fields = []
        for _ in range(5):
            end = data.index(b"\x1f", pos)
            fields.append(data[pos:end])
            pos = end + 1
        key, headers, partition, offset, size = fields
        n = max(0, int(size))
        value = data[pos:pos + n]
        pos += n
        out.append({"key": key.decode(errors="replace"), "value": value,
                    "headers": parse_headers(headers.decode(errors="replace")),
                    "partition": int(partition), "offset": int(offset)})
    return out


def event(event_id, customer, ts, body_type, body):
    return json.dumps({"event_id": event_id, "customer_id": customer, "timestamp_ms": ts,
                       "body_type": body_type, "body": body}, separators=(",", ":"))


def now_ms():
    return int(time.time() * 1000)


def workdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)

