#!/usr/bin/env bash
# End-to-end check of the operator assets: the exporter (--demo), Prometheus with the shipped
# alerts.rules.yml, Alertmanager and a webhook receiver, all on 127.0.0.1.
#
# Asserts that
#   1. promtool check rules / test rules pass on alerts.rules.yml,
#   2. every query of every dashboard (and every template variable) returns data from Prometheus
#      (panels whose description starts with "Optional" may be empty),
#   3. the demo's burst of High-severity alerts in tenant contoso reaches the webhook as
#      DefenderHighSeverityAlertsNew{tenant="contoso"}, and no alert reached it before,
#   4. dashboards/*.json are what dashboards/generator writes, and the exporter is the
#      Dockerfile's static build.
#
# Installs Debian's prometheus and prometheus-alertmanager when missing. Every wait is bounded;
# every process started here is stopped on exit. KEEP_TMP=1 keeps the work directory.
# Usage: scripts/e2e.sh   (or: make e2e)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BURST_AFTER=${BURST_AFTER:-40s}
START=$(date +%s)

log() { echo "e2e [$(($(date +%s) - START))s]: $*"; }

# ---------------------------------------------------------------- tools
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# --no-install-recommends: no node exporter; policy-rc.d-less containers just skip the
	# service start.
	$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
ALERTMANAGER=$(command -v prometheus-alertmanager || command -v alertmanager)
log "$(promtool --version 2>&1 | head -1)"

# ---------------------------------------------------------------- rules
log "promtool check rules / test rules"
promtool check rules alerts.rules.yml
promtool test rules alerts.rules.test.yml
log "static checks of dashboards/ and examples/ (docker-compose is not run)"
promtool check config --syntax-only examples/prometheus.yml >/dev/null
amtool check-config examples/alertmanager.yml >/dev/null
python3 scripts/e2e_static.py
gen=$(mktemp -d "${TMPDIR:-/tmp}/defender-dashboards.XXXXXX")
(cd dashboards/generator && go run . "$gen")
if ! diff -r -q "$gen" dashboards --exclude=provisioning --exclude=generator >/dev/null; then
	diff -r -u "$gen" dashboards --exclude=provisioning --exclude=generator | head -40 >&2
	rm -rf "$gen"
	echo "e2e: FAIL: dashboards/*.json differ from what dashboards/generator writes: edit the generator and run make dashboards" >&2
	exit 1
fi
rm -rf "$gen"

# ---------------------------------------------------------------- work directory, cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/defender-e2e.XXXXXX")
PIDS=()
cleanup() {
	local rc=$?
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		# bounded: a process that ignores SIGTERM for 10s gets SIGKILL.
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "${KEEP_TMP:-}" = 1 ]; then
		echo "e2e: kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT

# fail COMPONENT MESSAGE: print the message and the logs of the component (all: every log).
fail() {
	local component=$1
	shift
	echo "e2e: FAIL: $*" >&2
	for f in "$TMP"/*.log; do
		[ -f "$f" ] || continue
		case "$component" in all | "$(basename "$f" .log)") ;; *) continue ;; esac
		echo "----- $(basename "$f") (last 80 lines) -----" >&2
		tail -n 80 "$f" >&2
	done
	exit 1
}

# wait_for DESCRIPTION COMPONENT SECONDS COMMAND...: poll COMMAND every second.
wait_for() {
	local what=$1 component=$2 secs=$3
	shift 3
	local deadline=$(($(date +%s) + secs))
	until "$@" >/dev/null 2>&1; do
		if (($(date +%s) > deadline)); then
			fail "$component" "$what: not after ${secs}s"
		fi
		for pid in "${PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null || fail all "a process exited early (pid $pid) while waiting for $what"
		done
		sleep 1
	done
}

free_ports() {
	python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()'
}
read -r EXPORTER_PORT PROM_PORT AM_PORT < <(free_ports)
EXPORTER=127.0.0.1:$EXPORTER_PORT
PROM=127.0.0.1:$PROM_PORT
AM=127.0.0.1:$AM_PORT

# ---------------------------------------------------------------- build
# The binary the image packs (the Dockerfile copies `make build`'s static, version-stamped build),
# so that the e2e runs what the image ships.
log "building the exporter as the image's (make build: CGO_ENABLED=0 -trimpath, version stamped)"
make -s build BINARY="$TMP/defender_exporter" || fail none "make build"
if ldd "$TMP/defender_exporter" 2>&1 | grep -q '=>'; then
	fail none "the exporter is dynamically linked; the scratch image could not run it: $(ldd "$TMP/defender_exporter" 2>&1 | head -3)"
fi

# ---------------------------------------------------------------- webhook receiver
python3 scripts/e2e_webhook.py "$TMP/webhook.jsonl" "$TMP/webhook.port" >"$TMP/webhook.log" 2>&1 &
PIDS+=($!)
wait_for "webhook receiver" webhook 20 test -s "$TMP/webhook.port"
WEBHOOK=127.0.0.1:$(cat "$TMP/webhook.port")

# ---------------------------------------------------------------- alertmanager
# repeat_interval 10s (and Prometheus's --rules.alert.resend-delay=5s below): a group already
# firing is sent again with its new annotations, so the burst shows up at the webhook within
# seconds.
cat >"$TMP/alertmanager.yml" <<EOF
route:
  receiver: webhook
  group_by: [alertname, tenant]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 10s
receivers:
  - name: webhook
    webhook_configs:
      - url: http://$WEBHOOK/
        send_resolved: false
EOF
amtool check-config "$TMP/alertmanager.yml" >/dev/null || fail none "amtool check-config"
"$ALERTMANAGER" --config.file="$TMP/alertmanager.yml" --storage.path="$TMP/alertmanager-data" \
	--web.listen-address="$AM" --cluster.listen-address= >"$TMP/alertmanager.log" 2>&1 &
PIDS+=($!)

# ---------------------------------------------------------------- prometheus
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $ROOT/alerts.rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["$AM"]
scrape_configs:
  - job_name: defender
    static_configs:
      - targets: ["$EXPORTER"]
EOF
promtool check config "$TMP/prometheus.yml" >/dev/null || fail none "promtool check config"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus-data" \
	--web.listen-address="$PROM" --rules.alert.resend-delay=5s >"$TMP/prometheus.log" 2>&1 &
PIDS+=($!)

# ---------------------------------------------------------------- exporter
log "starting the exporter (--demo, burst after $BURST_AFTER) on $EXPORTER"
"$TMP/defender_exporter" --demo --demo.alert-burst-after="$BURST_AFTER" \
	--web.listen-address="$EXPORTER" >"$TMP/exporter.log" 2>&1 &
PIDS+=($!)

wait_for "Alertmanager ready" alertmanager 60 curl -fsS "http://$AM/-/ready"
wait_for "Prometheus ready" prometheus 60 curl -fsS "http://$PROM/-/ready"
wait_for "exporter ready" exporter 120 curl -fsS "http://$EXPORTER/-/ready"
log "exporter ready"

# promtool's lint of the exposition every collector produced (node_exporter's checkmetrics).
curl -fsS "http://$EXPORTER/metrics" >"$TMP/metrics.prom"
if ! lint=$(promtool check metrics <"$TMP/metrics.prom" 2>&1); then
	echo "$lint" | head -40
	fail "promtool check metrics found problems in the demo's /metrics"
fi
log "promtool check metrics: clean ($(grep -vc '^#' "$TMP/metrics.prom") series)"

prom_has() { # prom_has EXPR: the instant query returns at least one series
	curl -fsS "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'
}
wait_for "scrape target up" prometheus 60 prom_has 'up{job="defender"} == 1'
wait_for "recording rules evaluated" prometheus 60 prom_has 'tenant:defender_machines:sum'
log "Prometheus scrapes the exporter and evaluates the rules"

# ---------------------------------------------------------------- dashboards
log "running every dashboard query"
# A failure here is reported at the end, after the alert check, so that one run shows both.
DASHBOARDS_OK=1
python3 scripts/e2e_queries.py --prometheus "http://$PROM" --tenant contoso --deadline 60 dashboards/*.json ||
	DASHBOARDS_OK=0

# ---------------------------------------------------------------- the alert burst
# The demo's drift raises no High alerts, so nothing fires before the burst (checked below); the
# burst is the notification that arrives after the exporter logged it, with a rise of at least
# 20 (25 injected, a few may be picked up by the fake analysts before the next refresh).
log "waiting for the burst of High-severity alerts to reach the webhook"
wait_for "burst injected" exporter 120 grep -q "injected a burst" "$TMP/exporter.log"
burst_received() {
	python3 - "$TMP/webhook.jsonl" "$TMP/exporter.log" <<'EOF'
import datetime, json, re, sys
path, exporter_log = sys.argv[1], sys.argv[2]
# when the burst happened, from the exporter's log line (ts=2026-01-02T03:04:05.123456789Z)
for line in open(exporter_log, encoding="utf-8"):
    if "injected a burst" in line:
        ts = re.search(r"\bts=(\S+?)(\.\d+)?Z", line).group(1)
        since = datetime.datetime.fromisoformat(ts).replace(tzinfo=datetime.timezone.utc).timestamp() - 1
        break
else:
    sys.exit(1)
try:
    lines = open(path, encoding="utf-8").read().splitlines()
except FileNotFoundError:
    sys.exit(1)
for line in lines:
    n = json.loads(line)
    if n["received"] < since:
        continue
    for a in n["payload"].get("alerts", []):
        l, ann = a.get("labels", {}), a.get("annotations", {})
        m = re.match(r"(\d+) new", ann.get("summary", ""))
        if (a.get("status") == "firing" and l.get("alertname") == "DefenderHighSeverityAlertsNew"
                and l.get("tenant") == "contoso" and l.get("severity") == "critical"
                and m and int(m.group(1)) >= 20 and ann.get("description") and ann.get("runbook_url")):
            print(f'{ann["summary"]} (received {n["received"] - since - 1:.0f}s after the burst)')
            sys.exit(0)
sys.exit(1)
EOF
}
wait_for "DefenderHighSeverityAlertsNew{tenant=\"contoso\"} at the webhook" all 150 burst_received
log "webhook got: $(burst_received)"

# No alerting rule fired before the burst: a healthy demo is quiet, so a rule that fires on it
# would page every real user too.
early=$(python3 - "$TMP/webhook.jsonl" "$TMP/exporter.log" <<'EOF'
import datetime, json, re, sys
path, exporter_log = sys.argv[1], sys.argv[2]
for line in open(exporter_log, encoding="utf-8"):
    if "injected a burst" in line:
        ts = re.search(r"\bts=(\S+?)(\.\d+)?Z", line).group(1)
        since = datetime.datetime.fromisoformat(ts).replace(tzinfo=datetime.timezone.utc).timestamp()
        break
fired = set()
for line in open(path, encoding="utf-8").read().splitlines():
    n = json.loads(line)
    if n["received"] < since:
        for a in n["payload"].get("alerts", []):
            fired.add(f'{a["labels"].get("alertname")}{{tenant="{a["labels"].get("tenant", "")}"}}')
print(" ".join(sorted(fired)))
EOF
)
[ -z "$early" ] || fail all "alerts fired on the demo before the burst: $early"
log "no alert fired before the burst"

[ "$DASHBOARDS_OK" = 1 ] || fail exporter "dashboard queries without data (listed above)"
log "PASS in $(($(date +%s) - START))s"
