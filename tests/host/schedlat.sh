#!/usr/bin/env bash
# Host test (meson suite 'host', root): engine/sense/schedlat.c on this machine's own kernel (the VM suite covers
# Debian's 6.1). tests/helpers/schedlat-check runs a known contention in a cgroup it tracks (two busy "CPU n/KVM"
# threads and one waking every millisecond, pinned to one CPU, against two busy threads of an untracked cgroup)
# and compares total wait and samples with the kernel's run_delay and run count from schedstat: within 10%; the
# untracked threads are not counted. Runs: tp_btf (the default), the workload in a child cgroup, raw_tp,
# schedstat. The cgroups are made under the cgroup2 mount (/sys/fs/cgroup/unified on a hybrid host) and removed.
# Usage: schedlat.sh PATH/TO/schedlat-check. One "ok"/"FAIL" line per run, "N passed, N failed" last.
# It FAILS (never skips) when it cannot run: not root, no cgroup2 mount.
set -uo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOOL=${1:-}


[ -x "$TOOL" ] || cannot_run "schedlat-check not found at '$TOOL' (build the tests: meson compile)"
[ "$(id -u)" = 0 ] || cannot_run "needs root (BPF, cgroups)"
MOUNT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$MOUNT" ] || cannot_run "no cgroup2 mount"

A=$MOUNT/vmgov-schedlat-$$-tracked
B=$MOUNT/vmgov-schedlat-$$-untracked
C=$A/libvirt/vcpus
cleanup() {
	local cg
	for cg in "$C" "$A/libvirt" "$A" "$B"; do
		[ -d "$cg" ] || continue
		xargs -r kill -KILL <"$cg/cgroup.procs" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.2
		done
		[ ! -d "$cg" ] || echo "cannot remove $cg" >&2
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$C" "$B" || cannot_run "cannot create cgroups under $MOUNT"
CPU=$(($(nproc) - 1))

# run NAME ARGS...: schedlat-check, its figures indented, ok/FAIL
run() {
	local name=$1 out rc=0
	shift
	out=$("$TOOL" --cpu "$CPU" --seconds 2 "$@" 2>&1) || rc=$?
	echo "$out" | grep -E '^(mode|source|vcpu_samples|schedstat|untracked|error|FAIL)' | sed 's/^/    /'
	if [ "$rc" -eq 0 ]; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $(echo "$out" | grep -E '^FAIL:' | tr '\n' ' ')"
		failed=$((failed + 1))
	fi
}

echo "kernel $(uname -r), cgroup2 at $MOUNT, pinned to CPU $CPU; load $(cut -d' ' -f1-3 /proc/loadavg)"
run "tp_btf: wait and samples within 10% of schedstat, untracked not counted" --cgroup "$A" --other "$B"
run "tp_btf: threads in a child cgroup of the tracked one" --cgroup "$A" --workload-cgroup "$C" --other "$B"
run "raw_tp: the same" --use raw_tp --cgroup "$A" --other "$B"
run "schedstat fallback: the same" --use schedstat --cgroup "$A" --other "$B"
finish
