#!/bin/sh
# Run by scripts/bench/exec-enforced in the VM harness (VMTEST_SUITE=tests/bench/vm): the latency from a QEMU's exec
# to its limit being written, enforcing, on the real kernel. The same launches (bench-exec-latency: N fake QEMUs,
# one every GAP ms, each living LIFE ms) twice, one after the other in this guest: first against bench-exec-floor
# (the same exec event, mkdir under a parent that hands down cpu, memory and io as the engine's do, cgroup.procs move
# and one limit write, nothing else), then against `vmgov run`
# (Placement=own, CPUWeight=50, journal and audit log). Prints "BENCH floor ...", "BENCH vmgov ..." and the ratios.
set -eu
. /vmtest/lib.sh
require_vmgov
N=$(sed -n 's/.*vmgov\.bench_n=\([0-9]*\).*/\1/p' /proc/cmdline)
N=${N:-1000}
LIFE=500
GAP=50

dir=/usr/local/lib/vmgov-bench
mkdir -p "$dir"
chmod 0755 /usr/local /usr/local/lib "$dir"
cp /usr/bin/bench-exec-latency "$dir/qemu-system-x86_64"

# Where each process runs, as on a host: the launches in a cgroup of their own (the user's tooling), the governor
# (the floor, then the engine) in another (units/vmgov.service gives the engine a leaf of its own), each at the
# default weight. In one cgroup, the governor would share its CPU with every fake QEMU not yet placed and still
# loading its libraries.
launcher=$(cg_create /sys/fs/cgroup/bench-launcher)
governor=$(cg_create /sys/fs/cgroup/bench-governor)
# in_cgroup CGROUP CMD...: exec CMD in CGROUP (the caller's shell becomes it: run it with & or in a subshell)
in_cgroup() { exec sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"; }

floor=$(cg_create /sys/fs/cgroup/exec-floor)
# the controllers the engine's VM cgroups get (place/placement.c): the kernel's cost of making the cgroup and of
# moving a process into it depends on them (a memory cgroup's most of all), so the floor pays the same
echo "+cpu +memory +io" >"$floor/cgroup.subtree_control"
: >"$VMTEST_TMP/floor.jsonl"
in_cgroup "$governor" bench-exec-floor "$floor" "$VMTEST_TMP/floor.jsonl" &
fpid=$!
bg_track "$fpid"
sleep 1
# the CPU time (user + system) a governor spent during the launches, per launch: from /proc/PID/stat, in clock
# ticks of 10 ms, less what it had spent before them (cpu_ticks PID before the launches)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_per_launch() {
	awk -v n="$N" -v before="$2" '{ printf "%.1f", ($14 + $15 - before) * 10 / n }' "/proc/$1/stat"
}
# the median by tenth of the run: whether the latency drifts as launches accumulate
by_tenth() {
	_out=
	for _t in 0 1 2 3 4 5 6 7 8 9; do
		_v=$(awk -v n="$N" -v t="$_t" '$1 == "launch" && int($2 * 10 / n) == t { print $6 }' "$1")
		_miss=$(echo "$_v" | grep -c '^-1$' || true)
		_med=$(echo "$_v" | grep -v '^-1$' | sort -n |
			awk '{ v[NR] = $1 } END { if (NR) printf "%.0f", v[int((NR + 1) / 2)] / 1000; else printf "-" }')
		_out="$_out $_med"
		[ "$_miss" -eq 0 ] || _out="$_out($_miss missed)"
	done
	echo "$_out"
}
floor_ticks=$(cpu_ticks "$fpid")
(in_cgroup "$launcher" bench-exec-latency -v "$VMTEST_TMP/floor.jsonl" "$N" "$LIFE" "$GAP" "$dir/qemu-system-x86_64") >"$VMTEST_TMP/floor.out"
floor_line=$(tail -n 1 "$VMTEST_TMP/floor.out")
floor_cpu=$(cpu_per_launch "$fpid" "$floor_ticks")
kill "$fpid"
wait "$fpid" 2>/dev/null || true
echo "BENCH floor  $floor_line"
echo "BENCH floor  CPU $floor_cpu ms per launch"
echo "BENCH floor  p50 ms by tenth of the launches:$(by_tenth "$VMTEST_TMP/floor.out")"

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
Interval = 1s

[group bench]
MatchName = exec-bench-*
CPUWeight = 50
INI
: >"$VMTEST_TMP/audit.jsonl"
in_cgroup "$governor" "$VMGOV" --policy "$policy" --audit-log "$VMTEST_TMP/audit.jsonl" --state-file "$VMTEST_TMP/state" \
	--log-level warning run 2>"$VMTEST_TMP/run.log" &
engine=$!
bg_track "$engine"
sleep 2
vmgov_ticks=$(cpu_ticks "$engine")
(in_cgroup "$launcher" bench-exec-latency -v "$VMTEST_TMP/audit.jsonl" "$N" "$LIFE" "$GAP" "$dir/qemu-system-x86_64") >"$VMTEST_TMP/vmgov.out"
vmgov_line=$(tail -n 1 "$VMTEST_TMP/vmgov.out")
vmgov_cpu=$(cpu_per_launch "$engine" "$vmgov_ticks")
kill -TERM "$engine"
wait "$engine" || true
echo "BENCH vmgov  $vmgov_line"
echo "BENCH vmgov  CPU $vmgov_cpu ms per launch"
echo "BENCH vmgov  p50 ms by tenth of the launches:$(by_tenth "$VMTEST_TMP/vmgov.out")"
echo "BENCH vmgov  state file $(wc -c <"$VMTEST_TMP/state") bytes, audit log $(wc -l <"$VMTEST_TMP/audit.jsonl") lines, cgroups left $(find /sys/fs/cgroup/vmgov -type d | wc -l)"
echo "$floor_line" "$vmgov_line" | awk '{
	for (i = 1; i < NF; i++) { if ($i == "p50_ms") { p50[++a] = $(i + 1) } if ($i == "p99_ms") { p99[++b] = $(i + 1) } }
	printf "BENCH ratio  p50 %.2fx  p99 %.2fx (vmgov / floor)\n", p50[2] / p50[1], p99[2] / p99[1] }'
grep '^<[0-3]>' "$VMTEST_TMP/run.log" | head -5 || true
log "ok"
