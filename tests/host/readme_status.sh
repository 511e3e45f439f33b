#!/usr/bin/env bash
# Host test (meson suite 'host', root): the README's way to watch the engine, exactly as written there: `scripts/run`
# in one terminal, `build/engine/vmgov status` in another, from the top of the source tree. status must show the
# running daemon's view (read from its status file: no --policy needed), and after the daemon stops, without a
# policy to sample with, say how to give one. Usage: readme_status.sh SOURCE_DIR.
set -uo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=${1:-}
[ "$(id -u)" = 0 ] || cannot_run "needs root (scripts/run)"
cd "$SRC" || exit 1
[ ! -e /run/vmgov/status ] || cannot_run "/run/vmgov/status exists: another vmgov is running here"

tmp=$(mktemp -d)
setsid scripts/run >"$tmp/run.log" 2>&1 &
run=$!
cleanup() {
	pkill -TERM -s "$run" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$run" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 300); do [ -s /run/vmgov/status ] && break; sleep 0.1; done

build/engine/vmgov status >"$tmp/status.out" 2>&1
rc=$?
sed 's/^/    /' "$tmp/status.out" | head -n 8
check "build/engine/vmgov status, beside scripts/run, exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "it shows the running daemon's view" grep -q "^vmgov daemon pid " "$tmp/status.out"

pkill -TERM -s "$run" 2>/dev/null
for _ in $(seq 100); do kill -0 "$run" 2>/dev/null || break; sleep 0.1; done
build/engine/vmgov status >"$tmp/status2.out" 2>&1
rc=$?
sed 's/^/    /' "$tmp/status2.out" | head -n 4
if [ -e /usr/local/share/vmgov/default.ini ] || [ -d /etc/vmgov/policy.d ]; then
	check "without a daemon it samples on the installed policy (exit $rc)" [ "$rc" -eq 0 ]
else
	check "without a daemon or a policy it says how to give one (exit $rc)" \
		sh -c '[ "$1" -eq 2 ] && grep -q "give one with --policy" "$2"' sh "$rc" "$tmp/status2.out"
fi
finish
