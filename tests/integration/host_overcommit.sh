#!/bin/sh
# The host as a whole: memory is overcommitted by three VMs, each an idle QEMU whose cgroup runs a memhog
# (tests/helpers/memhog.c): a latency VM with MemoryLow=, a normal one, and a batch one whose working set grows past
# what is left, with zram swap. The "host" is the engine's tree, held to 128 MiB (memory.max of /vmgov): a TCG
# guest writes memory too slowly to fill its 1 GiB in a test's time, and the stalls of reclaim under that limit are
# the host's memory pressure (/proc/pressure/memory counts every task's). Run once without the engine and once with it (host pressure target, the batch
# VM allowed to be frozen). Printed for each run: the latency VM's memory pressure (mean and p99 of 1 s samples),
# OOM kills per VM (memory.events), what each VM gave (memory.current at the start and the end, and what went to
# swap), and the batch VM's frozen time. Asserted with the engine: no OOM kill in the latency VM, its pressure under
# its target, and the batch VM thawed and running at the end. The run without the engine is a test of its own,
# host_overcommit_baseline (OVERCOMMIT_RUNS=without), which asserts that the scenario is real: without the engine the
# host's memory pressure is over the engine's target. The two run side by side in two guests, each on a fresh kernel.
# vmtest-timeout: 420
set -eu
. /vmtest/lib.sh
require_vmgov

MIB=1048576
RUN=${OVERCOMMIT_SECONDS:-20}
command -v memhog >/dev/null || fail "memhog (tests/helpers) is not in the guest"
[ -r /proc/pressure/memory ] || skip "no /proc/pressure/memory: the kernel has no PSI"
zram_swap 512M

audit=$VMTEST_TMP/audit.jsonl
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $audit
HostMemoryPressureTarget = 5%
HostFreezePressure = 20%
HostFreezeAfterSec = 1s
HostThawAfterSec = 5s
FreezeMaxSec = 15s
FreezeCooldownSec = 5s

[group lat]
MatchName = lat-*
Class = latency
Adapt = memory
MemoryLow = 60M
MemoryHighRange = 64M..1G
MemoryPressureTarget = 10%
AdaptDwellSec = 200ms

[group norm]
MatchName = norm-*
Class = normal
Adapt = memory
MemoryHighRange = 64M..1G
MemoryPressureTarget = 20%
AdaptDwellSec = 200ms

[group batch]
MatchName = batch-*
Class = batch
Adapt = memory
MemoryHighRange = 32M..1G
MemoryPressureTarget = 50%
FreezeOnHostPressure = yes
AdaptDwellSec = 200ms
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

# the VMs in the cgroups the engine would give them, so both runs measure the same cgroups
cg_enable /sys/fs/cgroup cpu memory io
for g in lat norm batch; do
	cg_create "vmgov/$g/$g-1" >/dev/null
done
cg_enable /sys/fs/cgroup/vmgov cpu memory io
cg_write /sys/fs/cgroup/vmgov memory.max $((128 * MIB))
for g in lat norm batch; do cg_enable "/sys/fs/cgroup/vmgov/$g" cpu memory io; done
lat=$(VM_CGROUP=/sys/fs/cgroup/vmgov/lat/lat-1 vm_idle lat-1)
norm=$(VM_CGROUP=/sys/fs/cgroup/vmgov/norm/norm-1 vm_idle norm-1)
batch=$(VM_CGROUP=/sys/fs/cgroup/vmgov/batch/batch-1 vm_idle batch-1)
cgl=/sys/fs/cgroup/vmgov/lat/lat-1
cgn=/sys/fs/cgroup/vmgov/norm/norm-1
cgb=/sys/fs/cgroup/vmgov/batch/batch-1

hog() { # CGROUP TOTAL WS GROWN NAME: a memhog in the cgroup, its pid in $VMTEST_TMP/hog-NAME
	sh -c 'echo $$ >"$1/cgroup.procs" && exec memhog --sleep-ms 5 "$2" "$3" "$4"' sh "$1" "$2" "$3" "$4" \
		>"$VMTEST_TMP/hog-$5.out" 2>&1 &
	echo $! >"$VMTEST_TMP/hog-$5"
	bg_track "$!"
}
event() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.events"; }
some_total() { awk '/^some/ { sub("total=", "", $5); print $5 }' "$1/memory.pressure"; }
frozen() { awk '$1 == "frozen" { print $2 }' "$1/cgroup.events"; }

# LABEL [ENGINE OPTIONS...]: one run; its figures in $VMTEST_TMP/LABEL.*
run() {
	_label=$1
	shift
	for g in lat norm batch; do echo "$(event "/sys/fs/cgroup/vmgov/$g/$g-1" oom_kill)" >"$VMTEST_TMP/$_label.oom0-$g"; done
	hog "$cgl" 56 56 56 lat
	hog "$cgn" 48 40 40 norm
	hog "$cgb" 96 32 96 batch
	started() { grep -q 'phase 1' "$VMTEST_TMP/hog-lat.out" && grep -q 'phase 1' "$VMTEST_TMP/hog-norm.out" &&
		grep -q 'phase 1' "$VMTEST_TMP/hog-batch.out"; }
	wait_for 120 "$_label: the three memhogs to write their memory" started
	for g in lat norm batch; do cat "/sys/fs/cgroup/vmgov/$g/$g-1/memory.current" >"$VMTEST_TMP/$_label.cur0-$g"; done
	_e=
	if [ "$_label" = with ]; then
		"$VMGOV" --policy "$policy" --interval 500ms --state-file "$VMTEST_TMP/state" run 2>"$VMTEST_TMP/engine.log" &
		_e=$!
		bg_track "$_e"
		sleep 2
	fi
	kill -USR1 "$(cat "$VMTEST_TMP/hog-batch")" # the batch VM's working set grows past what is left
	: >"$VMTEST_TMP/$_label.psi"
	: >"$VMTEST_TMP/$_label.hostpsi"
	_frozen=0
	_prev=$(some_total "$cgl")
	_hprev=$(some_total /sys/fs/cgroup/vmgov)
	_i=0
	while [ "$_i" -lt "$RUN" ]; do
		sleep 1
		_now=$(some_total "$cgl")
		echo $(((_now - _prev) / 1000)) >>"$VMTEST_TMP/$_label.psi" # µs stalled in ~1 s: ‰ of the second
		_prev=$_now
		_now=$(some_total /sys/fs/cgroup/vmgov)
		echo $(((_now - _hprev) / 1000)) >>"$VMTEST_TMP/$_label.hostpsi"
		_hprev=$_now
		[ "$(frozen "$cgb")" != 1 ] || _frozen=$((_frozen + 1))
		_i=$((_i + 1))
	done
	echo "$_frozen" >"$VMTEST_TMP/$_label.frozen"
	if [ -n "$_e" ]; then
		kill -TERM "$_e"
		wait "$_e" || fail "the engine exited $? on SIGTERM: $(grep -v '^<[67]>' "$VMTEST_TMP/engine.log" | tail -n 5)"
	fi
	for g in lat norm batch; do
		_cg=/sys/fs/cgroup/vmgov/$g/$g-1
		echo "$(($(event "$_cg" oom_kill) - $(cat "$VMTEST_TMP/$_label.oom0-$g")))" >"$VMTEST_TMP/$_label.oom-$g"
		cat "$_cg/memory.current" >"$VMTEST_TMP/$_label.cur1-$g"
		cat "$_cg/memory.swap.current" >"$VMTEST_TMP/$_label.swap-$g"
	done
	pid_alive "$(cat "$VMTEST_TMP/hog-batch")" && echo yes >"$VMTEST_TMP/$_label.batch-alive" ||
		echo no >"$VMTEST_TMP/$_label.batch-alive"
	frozen "$cgb" >"$VMTEST_TMP/$_label.batch-frozen-end"
	for g in lat norm batch; do kill "$(cat "$VMTEST_TMP/hog-$g")" 2>/dev/null || true; done
	sleep 2 # the memhogs' memory freed, swap drained
}

stats() { # FILE [FROM]: "mean p99" of the ‰ samples (from sample FROM on), as percentages
	tail -n +"${2:-1}" "$1" | sort -n | awk '{ v[NR] = $1; s += $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; if (i > NR) i = NR
		printf "%.1f%% %.1f%%", s / NR / 10, v[i] / 10 }'
}
report() {
	_l=$1
	log "$_l the engine: the host's (/vmgov's) memory pressure mean/p99 $(stats "$VMTEST_TMP/$_l.hostpsi");" \
		"latency VM memory pressure mean/p99 $(stats "$VMTEST_TMP/$_l.psi"), over the second half $(stats "$VMTEST_TMP/$_l.psi" $((RUN / 2 + 1)));" \
		"OOM kills lat/norm/batch $(cat "$VMTEST_TMP/$_l.oom-lat")/$(cat "$VMTEST_TMP/$_l.oom-norm")/$(cat "$VMTEST_TMP/$_l.oom-batch");" \
		"batch frozen $(cat "$VMTEST_TMP/$_l.frozen") s, alive at the end: $(cat "$VMTEST_TMP/$_l.batch-alive")"
	for g in lat norm batch; do
		log "    $g: memory.current $(($(cat "$VMTEST_TMP/$_l.cur0-$g") / MIB)) -> $(($(cat "$VMTEST_TMP/$_l.cur1-$g") / MIB)) MiB, in swap $(($(cat "$VMTEST_TMP/$_l.swap-$g") / MIB)) MiB"
	done
}

RUNS=${OVERCOMMIT_RUNS:-with}
for r in $RUNS; do run "$r"; done
for r in $RUNS; do report "$r"; done
# LABEL: the latency VM's mean memory pressure over the second half of that run, in %
second_half() { stats "$VMTEST_TMP/$1.psi" $((RUN / 2 + 1)) | cut -d% -f1; }

case " $RUNS " in *" without "*)
	# Which VM the kernel takes the memory from varies from boot to boot (the latency VM's pressure was 0% in one
	# baseline, 90% in another): what holds every time is that the host's memory is overcommitted.
	mean=$(stats "$VMTEST_TMP/without.hostpsi" | cut -d% -f1)
	awk -v m="$mean" 'BEGIN { exit !(m >= 5) }' ||
		fail "without the engine the host's memory pressure is $mean%, under HostMemoryPressureTarget=5%: the scenario overcommits nothing"
	;;
esac
case " $RUNS " in *" with "*)
	log "the engine's decisions:"
	grep -h '"file":"\(memory.high\|memory.reclaim\|cgroup.freeze\)"' "$audit" | sed 's/.*"cgroup":"\([^"]*\)".*"file":"\([^"]*\)".*"new":"\([^"]*\)".*"reason":"\([^"]*\)".*/    \1 \2 \3: \4/' | head -n 12

	assert_eq 0 "$(cat "$VMTEST_TMP/with.oom-lat")" "OOM kills in the latency VM with the engine"
	# once the engine has had the first half of the run to act (it starts as the batch VM grows)
	mean=$(second_half with)
	awk -v m="$mean" 'BEGIN { exit !(m < 10) }' ||
		fail "the latency VM's memory pressure with the engine, second half of the run: mean $mean%, target 10%"
	assert_eq yes "$(cat "$VMTEST_TMP/with.batch-alive")" "the batch VM's workload alive at the end"
	assert_eq 0 "$(cat "$VMTEST_TMP/with.batch-frozen-end")" "the batch VM thawed at the end"
	;;
esac
pid_alive "$batch" || fail "the batch QEMU died"
pid_alive "$lat" || fail "the latency QEMU died"
log ok
