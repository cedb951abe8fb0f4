#!/usr/bin/env bash
# Runs every fuzz target of the module for a short while: each `func FuzzXxx`
# in a *_test.go file, one after the other (go test -fuzz takes one target
# at a time).
#
#   FUZZTIME=50000x  how much each target runs (go test -fuzztime: 50000x, 30s, 1m)
#   FUZZ=regexp      only the targets whose name matches, e.g. FUZZ=NextLink
#
# The default is a count of executions, not a duration. With a duration, Go
# before 1.27 can fail a target with a bare "context deadline exceeded" when
# the time runs out while a worker is mid-call (https://go.dev/issue/75804):
# no failing input, nothing to fix, and a red CI. A count has no deadline to
# race, so every failure this script reports is a real one. Durations still
# work for a long local run.
#
# A failing input is written by go test to <package>/testdata/fuzz/<Target>/
# and replays as a regression test in every later `go test` until fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-50000x}"
filter="${FUZZ:-.}"
go="${GO:-go}"

# "dir Target" per line, in a stable order.
targets=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Z0-9_a-z]*\(f \*testing\.F\)' . |
	while read -r file; do
		dir=$(dirname "$file")
		grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s#^func #$dir #"
	done | sort -u | grep -E " .*${filter}" || true)

if [ -z "$targets" ]; then
	echo "no fuzz target matches ${filter}" >&2
	exit 1
fi

start=$(date +%s)
failed=()
while read -r dir name; do
	echo ">> ${dir#./} ${name} (${fuzztime})"
	if ! "$go" test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir"; then
		failed+=("${dir#./} ${name}")
	fi
done <<<"$targets"

echo ">> $(wc -l <<<"$targets") fuzz targets in $(($(date +%s) - start))s"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
