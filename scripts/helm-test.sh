#!/usr/bin/env bash
# Lints and renders the Helm chart (deploy/helm/defender-exporter) for its scenarios and checks what it
# renders with the Go test deploy/helm/rendered_test.go (build tag helm).
#
#   default            values.yaml as shipped
#   sharding           ci/sharding-values.yaml (3 replicas, existing Secret, ServiceMonitor, PrometheusRule)
#   workload-identity  ci/workload-identity-values.yaml
#   demo               ci/demo-values.yaml
#   existing-config    an existing ConfigMap (its own key) and an existing Secret, given with --set
#
# Also checks that values which cannot work are refused with an error naming the value, and that the
# chart's copy of alerts.rules.yml is current. HELM names the helm binary (make helm-test installs
# helm v4 into GOBIN). KEEP_TMP=1 keeps the rendered files.
# Usage: scripts/helm-test.sh   (or: make helm-test)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
HELM=${HELM:-helm}
GO=${GO:-go}
CHART=deploy/helm/defender-exporter
RELEASE=defender-exporter
fail() {
	echo "helm-test: FAIL: $*" >&2
	exit 1
}
command -v "$HELM" >/dev/null || fail "no helm at $HELM (make helm-test installs it)"
echo "helm-test: $("$HELM" version --short 2>/dev/null || "$HELM" version)"

cmp -s alerts.rules.yml "$CHART/files/alerts.rules.yml" ||
	fail "$CHART/files/alerts.rules.yml differs from alerts.rules.yml: run make helm-rules"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/defender-helm.XXXXXX")
cleanup() {
	local rc=$?
	if [ "${KEEP_TMP:-}" = 1 ] || [ $rc -ne 0 ]; then
		echo "helm-test: rendered files kept in $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- lint and render each scenario
declare -A VALUES=(
	[default]=""
	[sharding]=$CHART/ci/sharding-values.yaml
	[workload-identity]=$CHART/ci/workload-identity-values.yaml
	[demo]=$CHART/ci/demo-values.yaml
	[existing-config]="--set config.existingConfigMap.name=defender-config --set config.existingConfigMap.key=exporter.yml --set secrets.existingSecret=defender-credentials"
)
for scenario in default sharding workload-identity demo existing-config; do
	args=()
	case "${VALUES[$scenario]}" in
	"") ;;
	--*) read -ra args <<<"${VALUES[$scenario]}" ;;
	*) args=(-f "${VALUES[$scenario]}") ;;
	esac
	"$HELM" lint --strict "$CHART" "${args[@]}" >"$TMP/lint-$scenario.txt" 2>&1 || {
		cat "$TMP/lint-$scenario.txt" >&2
		fail "helm lint ($scenario)"
	}
	"$HELM" template "$RELEASE" "$CHART" --namespace monitoring "${args[@]}" >"$TMP/$scenario.yaml" 2>"$TMP/template-$scenario.err" || {
		cat "$TMP/template-$scenario.err" >&2
		fail "helm template ($scenario)"
	}
	# Helm reports overridden values of another type and the like as warnings on stderr.
	if [ -s "$TMP/template-$scenario.err" ]; then
		cat "$TMP/template-$scenario.err" >&2
		fail "helm template ($scenario) warned"
	fi
	echo "helm-test: $scenario: lint OK, $(grep -c '^kind:' "$TMP/$scenario.yaml") objects rendered"
done

# ---------------------------------------------------------------- values that cannot work
# Each must fail to render, with an error that names the value to fix.
refuse() {
	local want=$1
	shift
	if "$HELM" template "$RELEASE" "$CHART" "$@" >/dev/null 2>"$TMP/refused.err"; then
		fail "helm template $* rendered; it must be refused ($want)"
	fi
	grep -qF -- "$want" "$TMP/refused.err" || {
		cat "$TMP/refused.err" >&2
		fail "helm template $*: the error does not name $want"
	}
}
refuse "image.tag: latest" --set image.tag=latest
refuse "/replicas" --set replicas=0
refuse "'replica' not allowed" --set replica=3
refuse "workloadIdentity.clientId" --set workloadIdentity.enabled=true
refuse "demo.enabled" --set demo.enabled=true --set config.existingConfigMap.name=defender
refuse "config.inline or config.existingConfigMap.name" --set config.inline=tenants --set config.existingConfigMap.name=defender
refuse "serviceAccount.name" --set serviceAccount.create=false
refuse "/image/digest" --set image.digest=latest
echo "helm-test: 8 unworkable values refused"

# ---------------------------------------------------------------- the rendered objects
# make lint does not see files behind the helm build tag.
"$GO" vet -tags helm ./deploy/helm/
HELM_RENDERED=$TMP "$GO" test -tags helm -count=1 ./deploy/helm/
