#!/usr/bin/env bash
# Writes deploy/kubernetes/prometheusrule.yaml, the Prometheus Operator's PrometheusRule carrying the
# groups of alerts.rules.yml, which stays the one source of the rules (promtool tests it).
#   scripts/gen-prometheusrule.sh          regenerate
#   scripts/gen-prometheusrule.sh --check  exit 1 if the committed file is stale
# TestPrometheusRuleMatchesRulesFile (deploy/kubernetes) fails when the two drift.
set -euo pipefail
cd "$(dirname "$0")/.."

rules=alerts.rules.yml
out=deploy/kubernetes/prometheusrule.yaml

render() {
	cat <<'HEADER'
# Generated from alerts.rules.yml by scripts/gen-prometheusrule.sh: edit alerts.rules.yml and rerun it.
# Match your Prometheus' ruleSelector (kube-prometheus-stack: label release: <release>).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: defender-exporter
  labels:
    app.kubernetes.io/name: defender-exporter
spec:
HEADER
	# The rules file's top level (groups:) becomes spec's: every non-empty line indented by two spaces,
	# which keeps block scalars and comments intact. Its opening comment (how to load the file) is left
	# out: here the operator loads it.
	awk 'started || !/^(#|$)/ { started = 1; print }' "$rules" | sed -e 's/^\(.\)/  \1/'
}

if [[ "${1:-}" == "--check" ]]; then
	if ! diff -u "$out" <(render) >/dev/null; then
		echo "$out is stale: run scripts/gen-prometheusrule.sh" >&2
		exit 1
	fi
	exit 0
fi
render >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
