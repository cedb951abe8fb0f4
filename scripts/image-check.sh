#!/usr/bin/env bash
# Builds the container image from the repository's Dockerfile (make image, with podman) and runs what
# it ships, without a container runtime: the image's filesystem is exported from a created (never
# started) container, and its binary runs there under chroot as uid 65534 with --demo.
#
# Asserts that
#   1. the image runs as 65534:65534, with /bin/defender_exporter as entrypoint, port 9925 exposed and
#      the default --config.file=/etc/defender_exporter/defender.yml,
#   2. its filesystem holds only the binary, the CA bundle, /etc/defender_exporter and /tmp (mode 1777),
#      and the binary is statically linked,
#   3. that binary, run inside that filesystem as uid 65534, serves /-/healthy, becomes ready on
#      /-/ready, and exports defender_up 1 for both demo tenants, with the version `make` stamped.
#
# podman here: Debian's, with the vfs storage driver and chroot isolation, which need neither a daemon
# nor overlay mounts; nothing is pulled (FROM scratch). Needs root (chroot). The image and every
# process started here are removed on exit; KEEP_TMP=1 keeps the work directory.
# Usage: scripts/image-check.sh   (or: make image-check)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
START=$(date +%s)
log() { echo "image-check [$(($(date +%s) - START))s]: $*"; }
fail() {
	echo "image-check: FAIL: $*" >&2
	exit 1
}

command -v podman >/dev/null || fail "podman is not installed (apt-get install podman)"
[ "$(id -u)" -eq 0 ] || fail "chroot needs root"
CHROOT=$(command -v chroot || echo /usr/sbin/chroot)
PODMAN=(podman --storage-driver vfs)
IMAGE=localhost/defender-exporter-image-check
TAG=run$$
REF=$IMAGE:$TAG
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/defender-image-check.XXXXXX")
PID=
CID=
cleanup() {
	local rc=$?
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null || true
		# bounded: the exporter drains for up to --web.shutdown-timeout (10s), then SIGKILL.
		for _ in $(seq 1 120); do
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$PID" 2>/dev/null || true
	fi
	[ -z "$CID" ] || "${PODMAN[@]}" rm -f "$CID" >/dev/null 2>&1 || true
	"${PODMAN[@]}" rmi -f "$REF" >/dev/null 2>&1 || true
	if [ "${KEEP_TMP:-}" = 1 ] || [ $rc -ne 0 ]; then
		echo "image-check: work directory kept: $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- build
log "make image (podman, vfs storage, chroot isolation)"
make -s image GO="$GO" VERSION="$VERSION" CONTAINER_ENGINE="${PODMAN[*]}" IMAGE_BUILD_FLAGS="--isolation chroot --layers=false --quiet" \
	IMAGE="$IMAGE" IMAGE_TAG="$TAG" >"$TMP/build.log" 2>&1 || {
	tail -30 "$TMP/build.log" >&2
	fail "make image"
}

# ---------------------------------------------------------------- image configuration
cfg=$("${PODMAN[@]}" image inspect "$REF" \
	--format '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{json .Config.ExposedPorts}}|{{index .Config.Labels "org.opencontainers.image.version"}}')
want='65534:65534|["/bin/defender_exporter"]|["--config.file=/etc/defender_exporter/defender.yml"]|{"9925/tcp":{}}|'"$VERSION"
[ "$cfg" = "$want" ] || fail "image configuration (user|entrypoint|cmd|ports|version label):
  got  $cfg
  want $want"
log "image configuration: $cfg"

# ---------------------------------------------------------------- filesystem
# A created container is never started: podman only lays out its filesystem, which export writes.
CID=$("${PODMAN[@]}" create "$REF")
"${PODMAN[@]}" export -o "$TMP/rootfs.tar" "$CID"
"${PODMAN[@]}" rm "$CID" >/dev/null
CID=
listing=$(tar -tvf "$TMP/rootfs.tar" | awk '{print $1, $2, $NF}' | sort -k3)
want_listing=$(sort -k3 <<'EOF'
drwxr-xr-x 0/0 bin/
-rwxr-xr-x 0/0 bin/defender_exporter
drwxr-xr-x 0/0 etc/
drwxr-xr-x 0/0 etc/defender_exporter/
drwxr-xr-x 0/0 etc/ssl/
drwxr-xr-x 0/0 etc/ssl/certs/
-rw-r--r-- 0/0 etc/ssl/certs/ca-certificates.crt
drwxrwxrwt 0/0 tmp/
EOF
)
[ "$listing" = "$want_listing" ] || fail "the image's filesystem (mode, owner, path):
$(diff <(echo "$want_listing") <(echo "$listing") || true)"
mkdir "$TMP/rootfs"
tar -xpf "$TMP/rootfs.tar" -C "$TMP/rootfs"
rm "$TMP/rootfs.tar"
if ldd "$TMP/rootfs/bin/defender_exporter" 2>&1 | grep -q '=>'; then
	fail "the image's binary is dynamically linked: $(ldd "$TMP/rootfs/bin/defender_exporter" 2>&1 | head -3)"
fi
cmp -s "$TMP/rootfs/etc/ssl/certs/ca-certificates.crt" "${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" ||
	fail "the image's CA bundle is not the build machine's"
log "filesystem: $(wc -l <<<"$listing") entries, static binary, CA bundle"

# ---------------------------------------------------------------- run
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# An empty environment, as the image's (it sets none); no /proc, /dev or /etc/hosts in the chroot, so
# the process_* metrics are absent here, unlike under a container runtime.
env -i "$CHROOT" --userspec=65534:65534 "$TMP/rootfs" /bin/defender_exporter --demo \
	--web.listen-address="127.0.0.1:$PORT" >"$TMP/exporter.log" 2>&1 &
PID=$!
log "exporter (pid $PID) on 127.0.0.1:$PORT, chroot $TMP/rootfs, uid 65534"

get() { curl -fsS --max-time 10 "http://127.0.0.1:$PORT$1"; }
healthy=
for _ in $(seq 1 60); do
	kill -0 "$PID" 2>/dev/null || {
		cat "$TMP/exporter.log" >&2
		fail "the exporter exited"
	}
	if get /-/healthy >/dev/null 2>&1; then
		healthy=1
		break
	fi
	sleep 0.5
done
[ -n "$healthy" ] || fail "/-/healthy did not answer 200 within 30s"
uid=$(awk '/^Uid:/ {print $2, $3}' "/proc/$PID/status")
[ "$uid" = "65534 65534" ] || fail "the exporter runs as uid $uid (real, effective), want 65534"

# /-/ready answers 200 once every demo tenant finished its first refresh cycle (a minute at most on a
# busy machine); then defender_up must be 1 for both.
ready=
for _ in $(seq 1 180); do
	if get /-/ready >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 1
done
[ -n "$ready" ] || {
	tail -20 "$TMP/exporter.log" >&2
	fail "/-/ready did not answer 200 within 180s"
}
get /metrics >"$TMP/metrics.txt" || fail "GET /metrics"
for tenant in contoso fabrikam; do
	grep -qx "defender_up{tenant=\"$tenant\"} 1" "$TMP/metrics.txt" ||
		fail "no defender_up{tenant=\"$tenant\"} 1 in /metrics: $(grep '^defender_up' "$TMP/metrics.txt" || echo none)"
done
grep -q "^defender_exporter_build_info{.*version=\"$VERSION\"" "$TMP/metrics.txt" ||
	fail "defender_exporter_build_info does not carry version=\"$VERSION\": $(grep '^defender_exporter_build_info' "$TMP/metrics.txt")"
log "demo: $(grep -c '^defender_' "$TMP/metrics.txt") defender_* samples, defender_up 1 for contoso and fabrikam, version $VERSION"

# ---------------------------------------------------------------- the documented docker run
# docs/install.md runs the image with
#   -v $PWD/defender.yml:/etc/defender_exporter/defender.yml:ro -v $PWD/secrets:/run/secrets:ro
# and the secret file owned by 65534, mode 0400. Those files go where the mounts put them (a runtime
# creates /run/secrets as a mount point), and the image's own command line (entrypoint and cmd) with
# --config.check must read them as uid 65534 and never print the secret.
SECRET="image-check-$$-not-a-real-secret"
mkdir -p "$TMP/rootfs/run/secrets"
cat >"$TMP/rootfs/etc/defender_exporter/defender.yml" <<'EOF'
tenants:
  - name: contoso
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 00000000-0000-0000-0000-000000000000
    client_secret_file: /run/secrets/defender
EOF
printf '%s\n' "$SECRET" >"$TMP/rootfs/run/secrets/defender"
chown 65534:65534 "$TMP/rootfs/run/secrets/defender"
chmod 0400 "$TMP/rootfs/run/secrets/defender"
cmd=$("${PODMAN[@]}" image inspect "$REF" --format '{{join .Config.Entrypoint " "}} {{join .Config.Cmd " "}}')
# shellcheck disable=SC2086 # the image's command line, split as the runtime would
env -i "$CHROOT" --userspec=65534:65534 "$TMP/rootfs" $cmd --config.check >"$TMP/config-check.txt" 2>&1 || {
	cat "$TMP/config-check.txt" >&2
	fail "$cmd --config.check with the documented mounts"
}
grep -q '^configuration is valid (/etc/defender_exporter/defender.yml): 1 tenant' "$TMP/config-check.txt" &&
	grep -q 'client_secret_file: /run/secrets/defender' "$TMP/config-check.txt" ||
	fail "--config.check did not validate the mounted configuration: $(head -3 "$TMP/config-check.txt")"
! grep -q "$SECRET" "$TMP/config-check.txt" || fail "--config.check printed the secret"
log "OK: the image's command line reads the mounted configuration and secret as uid 65534"
