#!/bin/sh
# A host's scale: 1000 QEMU-like processes (tests/helpers/qemu_lookalike.c installed as qemu-system-x86_64), each
# with its own -name, Placement=own, the engine started under a soft RLIMIT_NOFILE of 1024 (what systemd gives a
# service that sets no LimitNOFILE=) before they start, so that its eBPF maps, sized for none, grow as they come.
# Every VM is placed, limited and sensed (its run-queue latency too), nothing says "Too many open files",
# and the engine's fds and memory are printed. SIGTERM puts all 1000 back where they came from; a SIGKILL in the
# middle of placing them, a restart and a SIGTERM lose nothing either.
set -eu
. /vmtest/lib.sh
require_vmgov
N=${SCALE_VMS:-1000}

bin=/usr/local/lib/vmgov-scale
mkdir -p "$bin"
chmod 0755 /usr/local /usr/local/lib "$bin"
cp /usr/bin/qemu-lookalike "$bin/qemu-system-x86_64"

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none
QemuTrustedPaths = $bin/qemu-system-x86_64

[group scale]
MatchName = scale-*
CPUWeight = 150
MemoryHigh = 64M
INI

home=$(cg_create scale-home)
all_placed() { [ "$(wc -l <"$home/cgroup.procs")" -eq 0 ]; }
all_home() { [ "$(wc -l <"$home/cgroup.procs")" -eq "$N" ]; }
n_placed() { echo $((N - $(wc -l <"$home/cgroup.procs"))); }

run_engine() { # LOG
	(ulimit -S -n 1024 && exec "$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" \
		--status-file "$VMTEST_TMP/status" --interval 1s run) 2>"$1" &
	engine=$!
	bg_track "$engine"
}

# The first engine starts before the VMs: it sizes its eBPF maps for none (64) and must grow them as they come,
# placing each at its exec event.
run_engine "$VMTEST_TMP/run1.log"
wait_for 30 "the engine to start" grep -q "run-queue latency from" "$VMTEST_TMP/run1.log"
t0=$(date +%s)
(
	echo 0 >"$home/cgroup.procs"
	i=1
	while [ "$i" -le "$N" ]; do
		"$bin/qemu-system-x86_64" -name "scale-$i" -machine none -nodefaults </dev/null >/dev/null 2>&1 &
		echo $! >>"$VMTEST_TMP/pids"
		i=$((i + 1))
	done
)
pids=$(cat "$VMTEST_TMP/pids")
for p in $pids; do bg_track "$p"; done
wait_for 240 "all $N VMs placed" all_placed
log "$N look-alikes started and placed in $(($(date +%s) - t0)) s"
sensed() {
	"$VMGOV" --status-file "$VMTEST_TMP/status" status --json >"$VMTEST_TMP/status.json" 2>/dev/null || return 1
	[ "$(grep -o '"signals":{' "$VMTEST_TMP/status.json" | wc -l)" -eq "$N" ] &&
		[ "$(grep -o '"runq_source":"bpf"' "$VMTEST_TMP/status.json" | wc -l)" -eq "$N" ]
}
deadline=$(($(cut -d. -f1 /proc/uptime) + 120))
while ! sensed && [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ]; do sleep 1; done
if ! sensed; then
	log "sensed: $(grep -o '"signals":{' "$VMTEST_TMP/status.json" | wc -l) of $N, run-queue latency from eBPF:" \
		"$(grep -o '"runq_source":"bpf"' "$VMTEST_TMP/status.json" | wc -l); the engine's warnings:"
	grep '^<[0-4]>' "$VMTEST_TMP/run1.log" | sort | uniq -c | sort -rn | head -20
	fail "not every VM sensed"
fi
grep "eBPF maps" "$VMTEST_TMP/run1.log" | sed 's/^/    /'
assert_eq 2 "$(grep -c "eBPF maps for .* were full; made again" "$VMTEST_TMP/run1.log")" \
	"times the eBPF maps grew (64 VMs, then 256, then 1024)"
sample=$(echo "$pids" | awk 'NR % 50 == 1')
assert_eq 20 "$(echo "$sample" | wc -w)" "a sample of 20"
for p in $sample; do
	cg=/sys/fs/cgroup$(proc_cgroup "$p")
	assert_file_eq "$cg/cpu.weight" 150 "cpu.weight of pid $p"
	assert_file_eq "$cg/memory.high" 67108864 "memory.high of pid $p"
done
fds=$(ls "/proc/$engine/fd" | wc -l)
log "engine: $fds fds ($(awk "BEGIN { printf \"%.2f\", $fds / $N }") per VM), soft limit $(awk '/Max open files/ { print $4 }' "/proc/$engine/limits"), $(grep -E '^(Vm(RSS|HWM)|Rss(Anon|File))' "/proc/$engine/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
emfile=$(grep -c "Too many open files" "$VMTEST_TMP/run1.log" || true)
assert_eq 0 "$emfile" "lines saying Too many open files"
warnings=$(grep -c '^<[0-4]>' "$VMTEST_TMP/run1.log" || true)
log "warning and error lines in the engine's log: $warnings"
assert_gt 50 "$warnings" "warning and error lines (at most a few, said once each)"

t0=$(date +%s)
kill -TERM "$engine"
wait "$engine" || fail "engine exit status $? after SIGTERM"
all_home || fail "after SIGTERM only $(wc -l <"$home/cgroup.procs") of $N VMs are back where they came from"
log "SIGTERM: all $N back in $(($(date +%s) - t0)) s"
left=$(find /sys/fs/cgroup/vmgov/scale -mindepth 1 -type d 2>/dev/null | wc -l)
assert_eq 0 "$left" "cgroups left in the engine's tree after SIGTERM"

# SIGKILL in the middle of placing them, a restart, a SIGTERM: nothing lost
run_engine "$VMTEST_TMP/run2.log"
some() { [ "$(n_placed)" -ge $((N / 4)) ]; }
wait_for 240 "a quarter placed" some
kill -KILL "$engine"
wait "$engine" 2>/dev/null || true
log "SIGKILL with $(n_placed) of $N placed"
run_engine "$VMTEST_TMP/run3.log"
wait_for 240 "all $N placed again" all_placed
kill -TERM "$engine"
wait "$engine" || fail "engine exit status $? after the second SIGTERM"
all_home || fail "after the restart and SIGTERM only $(wc -l <"$home/cgroup.procs") of $N VMs are back"
assert_eq 1 "$(wc -l <"$VMTEST_TMP/state")" "the journal holds only its header"
log "ok"
