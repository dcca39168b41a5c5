#!/usr/bin/env python3
"""Static checks of deploy/ (ctest deploy.validate), all local, no network, no containers:

- every YAML file under deploy/ parses (multi-document), every JSON file too;
- every PromQL expression in the Grafana dashboard and the alert rules names only metrics that
  docs/metrics.md lists (plus `up` and the standard process_* names);
- every alert has a runbook annotation whose anchor is a heading of docs/operations.md;
- `beckon validate-config` accepts deploy/compose/beckon.yaml and the ConfigMap's beckon.yaml
  (the latter with the environment the StatefulSet gives it);
- `promtool check config deploy/prometheus/prometheus.yml` (which also checks alerts.yml);
- the compose stack creates every topic its beckon.yaml uses, with one partition count;
- the Kubernetes manifests agree with each other (selectors, names, ports, paths, state dir);
- the Dockerfile's runtime stage installs a package for every shared library the binary needs
  (readelf NEEDED -> ldconfig -> dpkg -S), and has the required runtime settings.

Env: BECKON_BIN (the beckon binary), PROMTOOL (default /usr/bin/promtool)."""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
BECKON = os.environ.get("BECKON_BIN", os.path.join(ROOT, "build", "src", "app", "beckon"))
PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def rel(path):
    return os.path.relpath(path, ROOT)


# --- metric catalogue -------------------------------------------------------------------------

def catalogue():
    """Metric names of docs/metrics.md with their types; histograms expand to _bucket/_sum/_count."""
    names = set()
    text = open(os.path.join(ROOT, "docs", "metrics.md")).read()
    for m in re.finditer(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*\|",
                         text, re.M):
        name, kind = m.group(1), m.group(2)
        names.add(name)
        if kind == "histogram":
            names.update({name + "_bucket", name + "_sum", name + "_count"})
    return names


PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                "offset", "bool", "inf", "nan", "le"}


def metric_names(expr):
    """Metric names an expression selects: identifiers that are not functions, keywords, label
    names in matchers or grouping clauses, durations, Grafana variables or template strings."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # string literals
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "", e)                  # Grafana variables
    e = re.sub(r"\{[^}]*\}", "{}", e)                        # label matchers
    e = re.sub(r"\[[^\]]*\]", "[]", e)                       # range / subquery durations
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def allowed_metric(name, known):
    return name in known or name == "up" or name.startswith("process_")


def check_exprs(where, exprs, known):
    count = 0
    for expr in exprs:
        names = metric_names(expr)
        check(names, f"{where}: expression selects no metric: {expr}")
        for n in names:
            check(allowed_metric(n, known), f"{where}: metric '{n}' is not in docs/metrics.md: {expr}")
        count += 1
    return count


def dashboard_exprs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "expr" and isinstance(v, str):
                yield v
            elif k == "query" and isinstance(v, str) and "label_values" not in v and node.get("type") != "datasource":
                yield v
            else:
                yield from dashboard_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_exprs(v)


def anchors(markdown_path):
    """GitHub-style anchors of the headings of a Markdown file."""
    out = set()
    for line in open(markdown_path):
        m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out


# --- checks -----------------------------------------------------------------------------------

def check_parse():
    docs = {}
    for dirpath, _, files in os.walk(DEPLOY):
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            if f.endswith((".yml", ".yaml")):
                try:
                    docs[path] = [d for d in yaml.safe_load_all(open(path)) if d is not None]
                    check(docs[path], f"{rel(path)}: no YAML document")
                except yaml.YAMLError as e:
                    check(False, f"{rel(path)}: YAML does not parse: {e}")
            elif f.endswith(".json"):
                try:
                    json.load(open(path))
                except ValueError as e:
                    check(False, f"{rel(path)}: JSON does not parse: {e}")
    print(f"parsed {len(docs)} YAML files under deploy/ "
          f"({sum(len(v) for v in docs.values())} documents)")
    return docs


def check_promql(known):
    dash_path = os.path.join(DEPLOY, "grafana", "beckon-dashboard.json")
    dash = json.load(open(dash_path))
    n = check_exprs(rel(dash_path), list(dashboard_exprs(dash)), known)
    check(n >= 20, f"dashboard has only {n} expressions")
    titles = " ".join(p.get("title", "") for p in dash["panels"]).lower()
    for word in ["events consumed", "lag", "timers scheduled", "timers fired", "timers pending",
                 "lateness", "actions by channel", "actions by trigger", "suppressions", "dead letters",
                 "commit latency", "memtable", "pending compaction", "block cache", "hit ratio"]:
        check(word in titles, f"dashboard: no panel about '{word}'")
    ids = [p["id"] for p in dash["panels"]]
    check(len(ids) == len(set(ids)), "dashboard: duplicate panel ids")

    rules_path = os.path.join(DEPLOY, "prometheus", "alerts.yml")
    rules = yaml.safe_load(open(rules_path))
    runbook_anchors = anchors(os.path.join(ROOT, "docs", "operations.md"))
    alerts = []
    for group in rules["groups"]:
        for r in group["rules"]:
            check_exprs(f"{rel(rules_path)}:{r.get('alert') or r.get('record')}", [r["expr"]], known)
            if "alert" in r:
                alerts.append(r["alert"])
                check(r.get("labels", {}).get("severity") in ("critical", "warning", "info"),
                      f"alert {r['alert']}: severity label missing or unknown")
                rb = r.get("annotations", {}).get("runbook", "")
                check(rb == "docs/operations.md#" + r["alert"].lower(),
                      f"alert {r['alert']}: runbook annotation '{rb}' is not docs/operations.md#{r['alert'].lower()}")
                check(r["alert"].lower() in runbook_anchors,
                      f"alert {r['alert']}: docs/operations.md has no heading '{r['alert']}'")
    check(len(alerts) == len(set(alerts)), "duplicate alert names")
    print(f"PromQL: {n} dashboard expressions and {len(alerts)} alerts use only catalogued metrics")

    # The checker must be able to say no.
    check(metric_names('sum by (type) (rate(beckon_nope_total{job="$job"}[$__rate_interval]))') ==
          {"beckon_nope_total"}, "metric_names self-check")
    check(not allowed_metric("beckon_nope_total", known), "catalogue self-check")


def beckon_validate(path, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BECKON_")}
    env.update(env_extra)
    r = subprocess.run([BECKON, "validate-config", path], capture_output=True, text=True, env=env,
                       timeout=60)
    check(r.returncode == 0, f"beckon validate-config {path} failed ({r.returncode}): {r.stderr.strip()}")
    print(f"validate-config: {(r.stdout or r.stderr).strip()}")
    return yaml.safe_load(open(path))


def check_compose(docs):
    compose_path = os.path.join(DEPLOY, "compose", "docker-compose.yml")
    compose = docs[compose_path][0]
    services = compose["services"]
    for s in ["kafka", "kafka-init", "beckon", "prometheus", "grafana"]:
        check(s in services, f"compose: service '{s}' missing")
    cfg = beckon_validate(os.path.join(DEPLOY, "compose", "beckon.yaml"),
                          {k: str(v) for k, v in (services["beckon"].get("environment") or {}).items()})
    env = services["kafka-init"]["environment"]
    created = set(env["TOPICS"].split())
    check(int(env["PARTITIONS"]) > 0, "compose: PARTITIONS")
    prefix = cfg.get("output", {}).get("topic_prefix", "beckon.actions.")
    overrides = cfg.get("output", {}).get("topics", {}) or {}
    needed = {i["topic"] if isinstance(i, dict) else i for i in cfg["inputs"]}
    needed |= {overrides.get(c, prefix + c) for c in
               ["email", "sms", "app_push", "web_push", "whatsapp", "ads_audience"]}
    needed.add(cfg.get("output", {}).get("dead_letter_topic", "beckon.dlq"))
    check(needed <= created, f"compose: topics used but not created: {sorted(needed - created)}")
    kenv = services["kafka"]["environment"]
    check("controller" in kenv.get("KAFKA_PROCESS_ROLES", ""), "compose: Kafka is not in KRaft mode")
    check(str(kenv.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() == "false",
          "compose: topic auto-creation should be off")
    b = services["beckon"]
    check(b["build"]["dockerfile"] == "deploy/Dockerfile", "compose: beckon not built from deploy/Dockerfile")
    check("/healthz" in " ".join(b["healthcheck"]["test"]), "compose: beckon healthcheck is not /healthz")
    check(any(v.endswith(":/var/lib/beckon") for v in b["volumes"]), "compose: no state volume")
    check(cfg["state"]["dir"] == "/var/lib/beckon", "compose: state.dir is not the volume")
    port = cfg["metrics"]["listen"].rsplit(":", 1)[1]
    prom = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus", "prometheus.yml")))
    targets = [t for j in prom["scrape_configs"] if j["job_name"] == "beckon"
               for sc in j["static_configs"] for t in sc["targets"]]
    check(targets == [f"beckon:{port}"], f"prometheus.yml scrapes {targets}, beckon listens on {port}")
    mounts = " ".join(services["prometheus"]["volumes"])
    check("alerts.yml" in mounts, "compose: alerts.yml not mounted into Prometheus")
    check("provisioning" in " ".join(services["grafana"]["volumes"]), "compose: grafana provisioning not mounted")
    print(f"compose: {len(services)} services, {len(created)} topics with {env['PARTITIONS']} partitions each")


def check_k8s(docs):
    k8s = os.path.join(DEPLOY, "k8s")
    objs = {}
    for path, ds in docs.items():
        if not path.startswith(k8s + os.sep) or path.endswith("kustomization.yaml"):
            continue
        for d in ds:
            check("namespace" not in d.get("metadata", {}), f"{rel(path)}: names a namespace")
            objs[(d["kind"], d["metadata"]["name"])] = (path, d)
    kust = docs[os.path.join(k8s, "kustomization.yaml")][0]
    for r in kust["resources"]:
        check(os.path.exists(os.path.join(k8s, r)), f"kustomization: resource {r} missing")
    check("namespace" not in kust, "kustomization sets a namespace")

    sts = objs[("StatefulSet", "beckon")][1]
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    check(spec["replicas"] == 3, "statefulset: replicas")
    check(spec["podManagementPolicy"] == "Parallel", "statefulset: podManagementPolicy")
    check(pod["terminationGracePeriodSeconds"] == 60, "statefulset: terminationGracePeriodSeconds")
    labels = sts["spec"]["template"]["metadata"]["labels"]
    check(all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
          "statefulset: selector does not match the template labels")
    check(pod["securityContext"].get("runAsNonRoot") is True, "statefulset: not runAsNonRoot")
    c = pod["containers"][0]
    check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "statefulset: readiness is not /readyz")
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "statefulset: liveness is not /healthz")
    check(c["resources"].get("requests") and c["resources"].get("limits"), "statefulset: resources")
    env = {e["name"]: e for e in c["env"]}
    check(env.get("BECKON_KAFKA_SASL_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef"),
          "statefulset: BECKON_KAFKA_SASL_PASSWORD not from a Secret")
    ann = sts["spec"]["template"]["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true", "statefulset: no prometheus.io/scrape annotation")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    claim = spec["volumeClaimTemplates"][0]["metadata"]["name"]
    check(mounts.get(claim) == "/var/lib/beckon", "statefulset: the PVC is not mounted at /var/lib/beckon")
    cm_vol = next(v for v in pod["volumes"] if "configMap" in v)
    cm_name = cm_vol["configMap"]["name"]
    check(("ConfigMap", cm_name) in objs, f"statefulset: ConfigMap {cm_name} not defined")
    check(mounts.get(cm_vol["name"]) == "/etc/beckon", "statefulset: config not mounted at /etc/beckon")
    check(c["args"][-1].startswith("/etc/beckon/"), "statefulset: --config not under /etc/beckon")

    # The ConfigMap's beckon.yaml, with the environment the pod gets (secrets as placeholders).
    cm = objs[("ConfigMap", cm_name)][1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "beckon.yaml")
        open(path, "w").write(cm["data"]["beckon.yaml"])
        pod_env = {k: (e["value"] if "value" in e else "placeholder") for k, e in env.items()}
        cfg = beckon_validate(path, pod_env)
    check(cfg["state"]["dir"] == "/var/lib/beckon", "configmap: state.dir is not the PVC")
    port = int(cfg["metrics"]["listen"].rsplit(":", 1)[1])
    check(c["ports"][0]["containerPort"] == port, "statefulset: containerPort != metrics.listen port")
    check(ann.get("prometheus.io/port") == str(port), "statefulset: prometheus.io/port != metrics port")

    svc = [d for (k, _), (_, d) in objs.items() if k == "Service"]
    check(any(s["spec"].get("clusterIP") == "None" and s["metadata"]["name"] == spec["serviceName"] for s in svc),
          "no headless Service named by serviceName")
    check(any(s["metadata"]["name"] != spec["serviceName"] for s in svc), "no metrics Service")
    for s in svc:
        check(all(labels.get(k) == v for k, v in s["spec"]["selector"].items()),
              f"service {s['metadata']['name']}: selector does not match the pods")
    pdb = objs[("PodDisruptionBudget", "beckon")][1]
    check(pdb["spec"].get("maxUnavailable") == 1, "pdb: maxUnavailable != 1")
    pm = objs.get(("PodMonitor", "beckon"))
    check(pm and pm[1]["spec"].get("jobLabel"), "optional PodMonitor missing or without jobLabel")
    print(f"k8s: {len(objs)} objects consistent; ConfigMap beckon.yaml valid")


def check_promtool():
    for args in (["check", "config", os.path.join(DEPLOY, "prometheus", "prometheus.yml")],
                 ["check", "rules", os.path.join(DEPLOY, "prometheus", "alerts.yml")]):
        r = subprocess.run([PROMTOOL] + args, capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"promtool {' '.join(args)}: {r.stdout}{r.stderr}")
        print(f"promtool {args[0]} {args[1]}: {'ok' if r.returncode == 0 else 'FAILED'}")


def dockerfile_runtime_packages(text):
    stages = re.split(r"^FROM\s+", text, flags=re.M)
    runtime = next(s for s in stages if re.match(r"\S+\s+AS\s+runtime", s, re.I))
    pkgs = set()
    for m in re.finditer(r"apt-get install([^&]*)", runtime.replace("\\\n", " ")):
        pkgs.update(w for w in m.group(1).split() if not w.startswith("-"))
    return runtime, pkgs


def check_dockerfile():
    text = open(os.path.join(DEPLOY, "Dockerfile")).read()
    check(re.search(r"^FROM debian:12|^ARG DEBIAN_IMAGE=debian:12", text, re.M), "Dockerfile: not debian:12")
    check("-DBECKON_BUILD_TESTS=OFF" in text and "-DBECKON_BUILD_BENCH=OFF" in text,
          "Dockerfile: tests/bench not off")
    runtime, pkgs = dockerfile_runtime_packages(text)
    for line in ['ENTRYPOINT ["beckon"]', 'CMD ["run", "--config", "/etc/beckon/beckon.yaml"]',
                 "VOLUME /var/lib/beckon", "EXPOSE 9464", "STOPSIGNAL SIGTERM", "USER 10001"]:
        check(line in runtime, f"Dockerfile runtime stage lacks: {line}")
    # Every NEEDED library of the binary must come from a package installed in the runtime stage
    # or from the base image's essential packages.
    base = {"libc6", "libstdc++6", "libgcc-s1"}
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", BECKON], capture_output=True, text=True).stdout)
    check(needed, "readelf found no NEEDED libraries (static binary?)")
    # A sanitizer build of the test suite links the sanitizer runtimes; the image never does.
    needed = [lib for lib in needed if not re.match(r"lib(asan|ubsan|lsan|tsan)\.so", lib)]
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    owners = {}
    for lib in needed:
        m = re.search(r"^\s*" + re.escape(lib) + r" \(libc6,x86-64[^)]*\) => (\S+)", cache, re.M) or \
            re.search(r"^\s*" + re.escape(lib) + r" \([^)]*\) => (\S+)", cache, re.M)
        if not check(m, f"{lib}: not in the ld cache"):
            continue
        # Merged /usr: dpkg may know the library under /lib or /usr/lib, as a link or its target.
        candidates = []
        for p in (m.group(1), os.path.realpath(m.group(1))):
            candidates += [p, p.replace("/usr/lib/", "/lib/", 1), p.replace("/lib/", "/usr/lib/", 1)]
        r = None
        for p in dict.fromkeys(candidates):
            r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
            if r.returncode == 0:
                break
        pkg = r.stdout.split(":")[0].strip() if r.returncode == 0 else None
        owners[lib] = pkg
        check(pkg and (pkg in pkgs or pkg in base),
              f"Dockerfile: {lib} comes from package {pkg}, which the runtime stage does not install")
    print("Dockerfile runtime libraries: " + ", ".join(f"{k}<-{v}" for k, v in sorted(owners.items())))


def main():
    known = catalogue()
    check(len(known) > 30, f"docs/metrics.md: only {len(known)} metric names found")
    docs = check_parse()
    check_promql(known)
    check_promtool()
    check_compose(docs)
    check_k8s(docs)
    check_dockerfile()
    if failures:
        print(f"\n{len(failures)} problem(s):", file=sys.stderr)
        for f in failures:
            print("  - " + f, file=sys.stderr)
        sys.exit(1)
    print("deploy validation: ok")


if __name__ == "__main__":
    main()
