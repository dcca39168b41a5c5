#!/usr/bin/env python3
"""Generates deploy/grafana/beckon-dashboard.json (run: python3 deploy/grafana/generate_dashboard.py).
Edit the panels here, regenerate, and commit both; ctest deploy.validate checks every expression
against docs/metrics.md and integration.prometheus_scrape runs them against a real Prometheus."""
import json

SEL = 'job="$job", instance=~"$instance"'
DS = {"type": "prometheus", "uid": "${datasource}"}
panels = []
pid = [0]
y = [0]


def nid():
    pid[0] += 1
    return pid[0]


def row(title):
    panels.append({"type": "row", "title": title, "id": nid(), "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    y[0] += 1


layout = {"x": 0, "h": 0}


def place(w, h):
    if layout["x"] + w > 24:
        y[0] += layout["h"]
        layout["x"] = 0
        layout["h"] = 0
    pos = {"h": h, "w": w, "x": layout["x"], "y": y[0]}
    layout["x"] += w
    layout["h"] = max(layout["h"], h)
    return pos


def flush():
    y[0] += layout["h"]
    layout["x"] = 0
    layout["h"] = 0


def targets(exprs):
    out = []
    for i, (expr, legend) in enumerate(exprs):
        out.append({"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(65 + i),
                    "range": True})
    return out


def ts(title, exprs, unit="short", w=12, h=8, stack=False, desc="", minzero=True):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 20 if stack else 5,
              "showPoints": "never", "spanNulls": True,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    defaults = {"unit": unit, "custom": custom}
    if minzero:
        defaults["min"] = 0
    panels.append({"type": "timeseries", "title": title, "id": nid(), "datasource": DS,
                   "description": desc, "gridPos": place(w, h), "targets": targets(exprs),
                   "fieldConfig": {"defaults": defaults, "overrides": []},
                   "options": {"legend": {"displayMode": "table", "placement": "right",
                                          "calcs": ["lastNotNull", "max"]},
                               "tooltip": {"mode": "multi", "sort": "desc"}}})


def stat(title, expr, unit="short", w=4, h=4, desc="", thresholds=None, legend=""):
    steps = thresholds or [{"color": "green", "value": None}]
    panels.append({"type": "stat", "title": title, "id": nid(), "datasource": DS,
                   "description": desc, "gridPos": place(w, h), "targets": targets([(expr, legend)]),
                   "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                                   "overrides": []},
                   "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                               "colorMode": "value", "graphMode": "area", "textMode": "auto"}})


def heatmap(title, expr, w=12, h=8, desc=""):
    t = targets([(expr, "{{le}}")])
    t[0]["format"] = "heatmap"
    panels.append({"type": "heatmap", "title": title, "id": nid(), "datasource": DS,
                   "description": desc, "gridPos": place(w, h), "targets": t,
                   "options": {"calculate": False, "yAxis": {"unit": "s"},
                               "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
                               "tooltip": {"show": True, "yHistogram": True}},
                   "fieldConfig": {"defaults": {}, "overrides": []}})


R = "$__rate_interval"
red_at = lambda v: [{"color": "green", "value": None}, {"color": "red", "value": v}]

row("Overview")
stat("Instances up", f'sum(up{{{SEL}}})', desc="Targets answering scrapes.",
     thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}])
stat("Partitions assigned", f'sum(beckon_partitions_assigned{{{SEL}}})',
     desc="Input partitions owned across the selected instances. 0 = /readyz 503 everywhere.",
     thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}])
stat("Events / s", f'sum(rate(beckon_events_consumed_total{{{SEL}}}[{R}]))', unit="ops")
stat("Actions / s", f'sum(rate(beckon_actions_emitted_total{{{SEL}}}[{R}]))', unit="ops")
stat("Dead letters / s", f'sum(rate(beckon_dead_letters_total{{{SEL}}}[{R}]))', unit="ops",
     thresholds=red_at(0.001))
stat("Consumer lag", f'sum(beckon_consumer_lag_messages{{{SEL}}})', unit="short",
     thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1000},
                 {"color": "red", "value": 100000}])
flush()
ts("Uptime and version", [(f'time() - process_start_time_seconds{{{SEL}}}', "{{instance}}"),
                          ], unit="s", w=12, h=6)
ts("Build info", [(f'beckon_build_info{{{SEL}}}', "{{instance}} {{version}}")], w=12, h=6)
flush()

row("Ingest")
ts("Events consumed by type", [(f'sum by (type) (rate(beckon_events_consumed_total{{{SEL}}}[{R}]))', "{{type}}")],
   unit="ops", stack=True, desc="Decoded input events per second, by body type.")
ts("Consumer lag by topic", [(f'sum by (topic) (beckon_consumer_lag_messages{{{SEL}}})', "{{topic}}")],
   desc="Messages between the consumer position and the high watermark (librdkafka statistics, every 5 s).")
ts("Consumer lag by partition", [(f'max by (topic, partition) (beckon_consumer_lag_messages{{{SEL}}})',
                                  "{{topic}}/{{partition}}")])
ts("Timer frontier lag", [(f'max by (instance) (beckon_frontier_lag_seconds{{{SEL}}})', "{{instance}}")],
   unit="s", desc="How far the timer frontier trails the wall clock; timers due in this window wait.")
ts("Decode failures by reason", [(f'sum by (reason) (rate(beckon_decode_failures_total{{{SEL}}}[{R}]))', "{{reason}}")],
   unit="ops", stack=True)
ts("Late and clamped events", [(f'sum(rate(beckon_late_events_total{{{SEL}}}[{R}]))', "late"),
                               (f'sum(rate(beckon_clamped_events_total{{{SEL}}}[{R}]))', "clamped")],
   unit="ops")
ts("Rebalances", [(f'sum by (kind) (increase(beckon_rebalances_total{{{SEL}}}[{R}]))', "{{kind}}"),
                  (f'sum(increase(beckon_redelivered_messages_total{{{SEL}}}[{R}]))', "redelivered messages")],
   desc="Rebalance callbacks, and input messages a worker skipped because it had processed them "
        "already since the partition was assigned (a batch taken just before a revocation).")
ts("Partitions assigned per instance", [(f'beckon_partitions_assigned{{{SEL}}}', "{{instance}}")], stack=True)
flush()

row("Triggers and timers")
ts("Timers scheduled by trigger", [(f'sum by (trigger) (rate(beckon_timers_scheduled_total{{{SEL}}}[{R}]))', "{{trigger}}")], unit="ops")
ts("Timers fired by trigger", [(f'sum by (trigger) (rate(beckon_timers_fired_total{{{SEL}}}[{R}]))', "{{trigger}}")], unit="ops")
ts("Timers cancelled by trigger", [(f'sum by (trigger) (rate(beckon_timers_cancelled_total{{{SEL}}}[{R}]))', "{{trigger}}")], unit="ops")
ts("Timers pending by trigger", [(f'sum by (trigger) (beckon_timers_pending{{{SEL}}})', "{{trigger}}")], stack=True)
ts("Timer lateness quantiles", [
    (f'histogram_quantile(0.5, sum by (trigger, le) (rate(beckon_timer_lateness_seconds_bucket{{{SEL}}}[{R}])))', "p50 {{trigger}}"),
    (f'histogram_quantile(0.99, sum by (trigger, le) (rate(beckon_timer_lateness_seconds_bucket{{{SEL}}}[{R}])))', "p99 {{trigger}}")],
   unit="s", desc="Wall-clock time between a timer's due time and its firing. Alert: p99 > 60 s.")
heatmap("Timer lateness heatmap", f'sum by (le) (increase(beckon_timer_lateness_seconds_bucket{{{SEL}}}[{R}]))')
ts("Stale timers by trigger", [(f'sum by (trigger) (increase(beckon_timers_stale_total{{{SEL}}}[{R}]))', "{{trigger}}")],
   desc="Timers that came due but were not pending in the customer's state. Should stay 0 (docs/operations.md).")
flush()

row("Journeys and actions")
ts("Actions by channel", [(f'sum by (channel) (rate(beckon_actions_emitted_total{{{SEL}}}[{R}]))', "{{channel}}")], unit="ops", stack=True)
ts("Actions by trigger", [(f'sum by (trigger) (rate(beckon_actions_emitted_total{{{SEL}}}[{R}]))', "{{trigger}}")], unit="ops", stack=True)
ts("Suppressions by reason", [(f'sum by (reason) (rate(beckon_suppressions_total{{{SEL}}}[{R}]))', "{{reason}}")], unit="ops", stack=True)
ts("Deferred (quiet hours) and holdout", [
    (f'sum by (trigger) (rate(beckon_actions_deferred_total{{{SEL}}}[{R}]))', "deferred {{trigger}}"),
    (f'sum by (trigger) (rate(beckon_holdout_total{{{SEL}}}[{R}]))', "holdout {{trigger}}")], unit="ops")
flush()

row("Emit and dead letters")
ts("Dead letters by reason", [(f'sum by (reason) (rate(beckon_dead_letters_total{{{SEL}}}[{R}]))', "{{reason}}")], unit="ops", stack=True)
ts("Delivery errors by reason", [(f'sum by (reason) (rate(beckon_delivery_errors_total{{{SEL}}}[{R}]))', "{{reason}}")], unit="ops", stack=True)
ts("Actions in flight and producer queue", [(f'sum by (instance) (beckon_actions_in_flight{{{SEL}}})', "in flight {{instance}}"),
                                            (f'sum by (instance) (beckon_producer_queue_messages{{{SEL}}})', "queue {{instance}}")])
ts("Backpressure pauses", [(f'sum by (instance) (increase(beckon_backpressure_pauses_total{{{SEL}}}[{R}]))', "{{instance}}")])
flush()

row("State store and commits")
ts("Commit latency", [
    (f'histogram_quantile(0.5, sum by (le) (rate(beckon_commit_duration_seconds_bucket{{{SEL}}}[{R}])))', "p50"),
    (f'histogram_quantile(0.99, sum by (le) (rate(beckon_commit_duration_seconds_bucket{{{SEL}}}[{R}])))', "p99"),
    (f'sum(rate(beckon_commit_duration_seconds_sum{{{SEL}}}[{R}])) / sum(rate(beckon_commit_duration_seconds_count{{{SEL}}}[{R}]))', "mean")],
   unit="s", desc="One commit: waiting for producer acks plus writing the state batch.")
ts("Commits and failures", [(f'sum by (instance) (rate(beckon_commits_total{{{SEL}}}[{R}]))', "commits {{instance}}"),
                            (f'sum by (instance) (increase(beckon_commit_failures_total{{{SEL}}}[{R}]))', "failures {{instance}}")],
   unit="short")
ts("Commit bytes / s", [(f'sum by (instance) (rate(beckon_commit_bytes_sum{{{SEL}}}[{R}]))', "{{instance}}")], unit="Bps")
ts("State cache hit ratio", [(f'sum by (instance) (rate(beckon_state_cache_hits_total{{{SEL}}}[{R}])) / '
                              f'(sum by (instance) (rate(beckon_state_cache_hits_total{{{SEL}}}[{R}])) + '
                              f'sum by (instance) (rate(beckon_state_cache_misses_total{{{SEL}}}[{R}])))', "{{instance}}")],
   unit="percentunit",
   desc="Of the events that need the customer's state; views no journey reacts to make no lookup. "
        "A low ratio with few misses per second is harmless: watch the misses.")
ts("State cache entries", [(f'beckon_state_cache_entries{{{SEL}}}', "{{instance}}")])
ts("Read-ahead: misses the worker read itself or waited for", [
    (f'sum by (instance) (rate(beckon_state_read_ahead_worker_reads_total{{{SEL}}}[{R}])) / '
     f'sum by (instance) (rate(beckon_state_cache_misses_total{{{SEL}}}[{R}]))', "read by worker {{instance}}"),
    (f'sum by (instance) (rate(beckon_state_read_ahead_waits_total{{{SEL}}}[{R}])) / '
     f'sum by (instance) (rate(beckon_state_cache_misses_total{{{SEL}}}[{R}]))', "waited {{instance}}")],
   unit="percentunit",
   desc="With processing.read_ahead: shares of the cache misses that the read thread had not reached. "
        "Most of them means the read threads lack CPU (docs/operations.md).")
ts("Read-ahead: batches read ahead / s", [
    (f'sum by (instance) (rate(beckon_state_read_ahead_batches_total{{{SEL}}}[{R}]))', "{{instance}}")],
   unit="short",
   desc="With processing.read_ahead: batches whose state reads went to a read thread. Only a batch "
        "queued behind the one being processed goes there: zero while the engine keeps up.")
ts("RocksDB memtables", [(f'beckon_rocksdb_memtable_bytes{{{SEL}}}', "{{instance}}")], unit="bytes")
ts("RocksDB pending compaction", [(f'beckon_rocksdb_pending_compaction_bytes{{{SEL}}}', "{{instance}}")], unit="bytes",
   desc="Sustained growth means write stalls ahead.")
ts("RocksDB block cache", [(f'beckon_rocksdb_block_cache_bytes{{{SEL}}}', "{{instance}}")], unit="bytes")
ts("RocksDB estimated keys by column family", [(f'sum by (cf) (beckon_rocksdb_estimated_keys{{{SEL}}})', "{{cf}}")])
flush()

dashboard = {
    "__inputs": [],
    "annotations": {"list": []},
    "description": "beckon: consumption, triggers and timers, actions, dead letters, commits, RocksDB. "
                   "Metric catalogue: docs/metrics.md. Alerts: deploy/prometheus/alerts.yml.",
    "editable": True,
    "graphTooltip": 1,
    "id": None,
    "links": [],
    "panels": panels,
    "refresh": "30s",
    "schemaVersion": 39,
    "tags": ["beckon", "kafka"],
    "templating": {"list": [
        {"name": "datasource", "label": "Datasource", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []},
        {"name": "job", "label": "Job", "type": "query", "datasource": DS,
         "query": {"query": "label_values(beckon_build_info, job)", "refId": "job"},
         "definition": "label_values(beckon_build_info, job)",
         "current": {"text": "beckon", "value": "beckon", "selected": True},
         "refresh": 1, "includeAll": False, "multi": False, "sort": 1, "hide": 0, "options": []},
        {"name": "instance", "label": "Instance", "type": "query", "datasource": DS,
         "query": {"query": 'label_values(beckon_build_info{job="$job"}, instance)', "refId": "instance"},
         "definition": 'label_values(beckon_build_info{job="$job"}, instance)',
         "current": {"text": "All", "value": "$__all", "selected": True},
         "refresh": 2, "includeAll": True, "allValue": ".*", "multi": True, "sort": 1, "hide": 0, "options": []},
    ]},
    "time": {"from": "now-3h", "to": "now"},
    "timepicker": {},
    "timezone": "",
    "title": "beckon",
    "uid": "beckon-overview",
    "version": 1,
}
import os
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "beckon-dashboard.json")
with open(out, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(len(panels), "panels")
