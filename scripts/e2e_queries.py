#!/usr/bin/env python3
"""Runs every query of the Grafana dashboards against a Prometheus and checks that it returns data.

Used by scripts/e2e.sh. Grafana's variables are substituted first: built-ins ($__rate_interval,
$__interval, $__range...) by durations, multi-value variables with "All" by .*, single-value ones by
a real value (--tenant for `tenant`, else the first value the variable's own query returns).
Template variable queries (label_values) must return values too. Panels whose description starts
with "Optional" may be empty (listed, not failed). Failing queries are retried until --deadline.

Usage: e2e_queries.py --prometheus http://127.0.0.1:9090 --tenant contoso dashboards/*.json
"""
import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request

BUILTINS = [
    ("${__rate_interval}", "1m"), ("$__rate_interval", "1m"),
    ("${__interval_ms}", "60000"), ("$__interval_ms", "60000"),
    ("${__interval}", "1m"), ("$__interval", "1m"),
    ("${__range_s}", "3600"), ("$__range_s", "3600"),
    ("${__range_ms}", "3600000"), ("$__range_ms", "3600000"),
    ("${__range}", "1h"), ("$__range", "1h"),
]
VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]")
LABEL_VALUES_RE = re.compile(r"^\s*label_values\((?:(.*),)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def _post(self, path, params):
        data = urllib.parse.urlencode(params, doseq=True).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as e:
            try:
                return json.load(e)
            except ValueError:
                return {"status": "error", "error": f"HTTP {e.code}"}

    def query(self, expr):
        """Returns (ok, n_results, error)."""
        r = self._post("/api/v1/query", {"query": expr})
        if r.get("status") != "success":
            return False, 0, r.get("error", "unknown error")
        data = r["data"]
        if data["resultType"] in ("scalar", "string"):
            return True, 1, ""
        return True, len(data["result"]), ""

    def label_values(self, selector, label):
        r = self._post("/api/v1/series", {"match[]": [selector], "start": str(time.time() - 3600)})
        if r.get("status") != "success":
            return None, r.get("error", "unknown error")
        return sorted({s[label] for s in r["data"] if label in s}), ""


def substitute(expr, values):
    for k, v in BUILTINS:
        expr = expr.replace(k, v)

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in values:
            raise KeyError(f"unknown variable ${name}")
        return values[name]

    return VAR_RE.sub(repl, expr)


def var_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    return q or ""


def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))


def collect(path, prom, tenant):
    """Returns (checks, problems): checks are (where, expr, optional) to run."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    name = path.rsplit("/", 1)[-1]
    values, problems, checks = {}, [], []
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "datasource":
            values[v["name"]] = "prometheus"
            continue
        if v.get("type") != "query":
            values[v["name"]] = str(v.get("current", {}).get("value", ""))
            continue
        q = var_query(v)
        m = LABEL_VALUES_RE.match(q)
        if not m or not m.group(1):
            problems.append(f"{name}: variable {v['name']}: unsupported query {q!r}")
            continue
        # Prometheus may not have scraped every series yet when this runs:
        # retry an empty answer for a while, as the panel queries are.
        give_up = time.time() + 30
        while True:
            vals, err = prom.label_values(substitute(m.group(1), values), m.group(2))
            if vals or time.time() > give_up:
                break
            time.sleep(2)
        if not vals:
            problems.append(f"{name}: variable {v['name']}: {q} returned no values {err}")
            values[v["name"]] = ".*"
            continue
        if v.get("includeAll"):
            values[v["name"]] = v.get("allValue") or ".*"
        elif v["name"] == "tenant" and tenant in vals:
            values[v["name"]] = tenant
        else:
            values[v["name"]] = vals[0]
    for p in walk(d.get("panels", [])):
        optional = p.get("description", "").startswith("Optional")
        for t in p.get("targets", []):
            if not t.get("expr"):
                continue
            where = f"{name}: panel {p.get('title')!r} target {t.get('refId')}"
            try:
                checks.append((where, substitute(t["expr"], values), optional))
            except KeyError as e:
                problems.append(f"{where}: {e}")
    return checks, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--tenant", default="contoso")
    ap.add_argument("--deadline", type=float, default=60, help="seconds to keep retrying failing queries")
    ap.add_argument("dashboards", nargs="+")
    args = ap.parse_args()
    prom = Prometheus(args.prometheus)

    checks, problems = [], []
    for path in args.dashboards:
        c, p = collect(path, prom, args.tenant)
        checks += c
        problems += p

    pending = list(checks)
    results = {}
    deadline = time.time() + args.deadline
    while True:
        still = []
        for where, expr, optional in pending:
            ok, n, err = prom.query(expr)
            results[where] = (expr, optional, ok, n, err)
            if not ok or n == 0:
                still.append((where, expr, optional))
        pending = [c for c in still if not c[2]]
        if not pending or time.time() > deadline:
            break
        time.sleep(5)

    empty_optional = []
    for where, (expr, optional, ok, n, err) in results.items():
        if ok and n > 0:
            continue
        if not ok:
            problems.append(f"{where}: query failed: {err}\n    {expr}")
        elif optional:
            empty_optional.append(f"{where}\n    {expr}")
        else:
            problems.append(f"{where}: no data\n    {expr}")
    with_data = sum(1 for (_, _, ok, n, _) in results.values() if ok and n > 0)
    print(f"dashboard queries: {len(results)} run, {with_data} returned data, "
          f"{len(empty_optional)} optional without data, {len(problems)} problems")
    for e in empty_optional:
        print(f"  optional, no data: {e}")
    for p in problems:
        print(f"  FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
