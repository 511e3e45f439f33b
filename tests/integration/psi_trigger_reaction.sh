#!/bin/sh
# Sub-second reactions: with Interval=6s, a latency VM's cpu pressure rises at a known moment (a workload starts
# in its cgroup, on the one CPU a batch VM burns). The time from that moment to the first tightening of the batch
# VM's cpu.max is measured with PSI triggers (the engine's default) and with the tick alone
# (--no-pressure-triggers), both printed; the trigger path must react within its window (1 s) + 1 s. The triggers
# are armed for the VM's target and the host's, and armed again for a reload's new target. Then the same for the
# host: its memory pressure rises (a process that is no VM thrashes into zram swap), and the time to the host law's
# first step on a batch VM is measured with and without triggers.
# vmtest-timeout: 200
set -eu
. /vmtest/lib.sh
require_vmgov

audit=$VMTEST_TMP/audit.jsonl
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
Interval = 6s
AuditLog = $audit
HostMemoryPressureTarget = 50%

[group lat]
MatchName = lat-*
Class = latency
Adapt = cpu
CPUWeightRange = 100..10000
CPUPressureTarget = 20%
AdaptDwellSec = 400ms

[group batch]
MatchName = batch-*
Class = batch
CPUQuota = 100%
Adapt = cpu
CPUQuotaRange = 5%..100%
AdaptDwellSec = 400ms
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

lcg=$(cg_create vmgov/lat/lat-1)
bcg=$(cg_create vmgov/batch/batch-1)
cg_enable /sys/fs/cgroup/vmgov cpu memory io
cg_enable /sys/fs/cgroup/vmgov/lat cpu memory io
cg_enable /sys/fs/cgroup/vmgov/batch cpu memory io
lat=$(VM_CGROUP=$lcg vm_idle lat-1)
batch=$(VM_CGROUP=$bcg vm_burn batch-1)
# the latency VM's own idle QEMU stays off CPU 0, where the batch VM burns: its pressure is the workload's alone
for t in /proc/"$lat"/task/*; do taskset -p 2 "${t##*/}" >/dev/null; done

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# below the policy's CPUQuota=100% ("100000 100000", the engine's first write)
tightened() {
	_q=$(cut -d' ' -f1 "$bcg/cpu.max")
	[ "$_q" != max ] && [ "$_q" -lt 100000 ]
}

# MODE [OPTION]: the reaction in ms, or "none" if the batch VM was not tightened within 25 s, into $VMTEST_TMP/MODE
reaction() {
	_mode=$1
	shift
	"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state-$_mode" "$@" run 2>"$VMTEST_TMP/$_mode.log" &
	_e=$!
	bg_track "$_e"
	sleep 3 # started, placed nothing (the VMs are where it would put them), sensed once; the next tick is at 6 s
	if [ "$_mode" = triggers ]; then
		# armed for the VM's target and the host's (105% of each target's share of the 1 s window) ...
		assert_contains "$(cat "$VMTEST_TMP/$_mode.log")" "PSI trigger on cpu.pressure: 210 ms stalled in 1000 ms" \
			"the latency VM's trigger (CPUPressureTarget=20%)"
		assert_contains "$(cat "$VMTEST_TMP/$_mode.log")" \
			"PSI trigger on the host's /proc/pressure/memory: 525 ms stalled in 1000 ms" \
			"the host's trigger (HostMemoryPressureTarget=50%)"
		# ... and again for a reload's new targets, at the next tick (which the SIGHUP does not bring: a 6 s wait
		# at most; the reaction below is measured after it)
		sed -i 's/^CPUPressureTarget = 20%/CPUPressureTarget = 30%/' "$policy"
		kill -HUP "$_e"
		rearmed() { grep -q "PSI trigger on cpu.pressure: 315 ms stalled in 1000 ms" "$VMTEST_TMP/$_mode.log"; }
		wait_for 15 "the latency VM's trigger re-armed for CPUPressureTarget=30%" rearmed
		sed -i 's/^CPUPressureTarget = 30%/CPUPressureTarget = 20%/' "$policy"
	fi
	tightened && fail "$_mode: the batch VM was tightened before the latency VM had any pressure: $(grep -h '"file":"cpu.max"' "$audit" | head -n 1 | sed 's/.*"reason":"\([^"]*\)".*/\1/'); lat cpu.pressure: $(head -n1 "$lcg/cpu.pressure")"
	_t0=$(now_ms)
	# the batch VM's threads on CPU 0 (all of them, whenever QEMU made them), and a busy loop there in the latency
	# VM's cgroup: runnable half the time it waits, so its cpu pressure is about 50%
	for _t in /proc/"$batch"/task/*; do taskset -p 1 "${_t##*/}" >/dev/null; done
	sh -c 'echo $$ > "$1/cgroup.procs"; exec taskset 1 sh -c "while :; do :; done"' sh "$lcg" >/dev/null &
	_w=$!
	bg_track "$_w"
	_t1=
	while [ $(($(now_ms) - _t0)) -lt 25000 ]; do
		if tightened; then
			_t1=$(now_ms)
			break
		fi
		sleep 0.05
	done
	kill "$_w" 2>/dev/null || true
	wait "$_w" 2>/dev/null || true
	kill -TERM "$_e"
	wait "$_e" || fail "$_mode: engine exit status $?: $(tail -n 3 "$VMTEST_TMP/$_mode.log")"
	assert_file_eq "$bcg/cpu.max" "max 100000" "$_mode: batch cpu.max restored"
	if [ -n "$_t1" ]; then echo $((_t1 - _t0)); else echo none; fi >"$VMTEST_TMP/$_mode"
}

reaction triggers --log-level debug
log "ticks PSI triggers brought: $(grep -c "a tick now" "$VMTEST_TMP/triggers.log" || true)"
reaction tick --no-pressure-triggers
with=$(cat "$VMTEST_TMP/triggers")
tick=$(cat "$VMTEST_TMP/tick")
log "from the latency VM's pressure rising to the batch VM's first tightening: with PSI triggers ${with} ms," \
	"with the 6 s tick alone ${tick} ms"
grep -h '"file":"cpu.max"' "$audit" | head -n 2 | sed 's/.*"reason":"\([^"]*\)".*/    \1/'
[ "$with" != none ] || fail "with triggers, the batch VM was never tightened: $(grep -v '^<7>' "$VMTEST_TMP/triggers.log" | tail -n 5)"
[ "$tick" != none ] || fail "with the tick alone, the batch VM was never tightened within 25 s"
assert_ge 2000 "$with" "the trigger path's reaction (ms), within its 1 s window + 1 s"
assert_gt "$tick" "$with" "the tick alone reacts later than the trigger"

# ---- the host's trigger: its memory pressure rises (a process that is no VM thrashes its small cgroup into zram
# swap), and the host's memory law takes from a batch VM (memory.reclaim or memory.high); the moment is when /proc/pressure/memory's stall total
# first grows by more than 10% of the time between two reads (50 ms apart)
zram_swap 256M
haudit=$VMTEST_TMP/host-audit.jsonl
hpolicy=$VMTEST_TMP/host.ini
cat >"$hpolicy" <<INI
[engine]
Interval = 6s
AuditLog = $haudit
HostMemoryPressureTarget = 10%

[group bmem]
MatchName = bmem-*
Class = batch
Adapt = memory
MemoryHighRange = 64M..512M
MemoryPressureTarget = 50%
AdaptDwellSec = 400ms
INI
assert_cmd "vmgov check (host)" "$VMGOV" check "$hpolicy"
mcg=$(cg_create vmgov/bmem/bmem-1)
cg_enable /sys/fs/cgroup/vmgov/bmem cpu memory io
bmem=$(VM_CGROUP=$mcg vm_idle bmem-1)
hog=$(cg_create hostload)
cg_write "$hog" memory.max $((16 * 1024 * 1024))
host_stall() { awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/memory; }
# the batch VM's memory: 96 MiB written once, 8 MiB of it in use, the rest cold, for the host's law to take
sh -c 'echo $$ >"$1/cgroup.procs" && exec memhog 96 8 8' sh "$mcg" >"$VMTEST_TMP/bmem-hog.out" 2>&1 &
bg_track "$!"
wait_for 60 "the batch VM's memory written" grep -q 'phase 1' "$VMTEST_TMP/bmem-hog.out"
# the host law's first step on it: memory.reclaim or memory.high, its reason naming the host's pressure
taken() { grep -q '"file":"memory\.\(reclaim\|high\)".*"reason":"memory: host memory pressure' "$haudit"; }

# MODE [OPTION]: from the host's pressure rising to the host law's first step on the batch VM, in ms ("none" after
# 25 s), into $VMTEST_TMP/host-MODE
host_reaction() {
	_mode=$1
	shift
	: >"$haudit"
	"$VMGOV" --policy "$hpolicy" --state-file "$VMTEST_TMP/hstate-$_mode" "$@" run 2>"$VMTEST_TMP/host-$_mode.log" &
	_e=$!
	bg_track "$_e"
	sleep 3 # sensed once, memory.high at the range's top; the next tick is at 6 s
	taken && fail "host $_mode: the host's law took from the batch VM before the host had any pressure"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec memhog --sleep-ms 0 32 32 32' sh "$hog" >/dev/null 2>&1 &
	_h=$!
	bg_track "$_h"
	_t0= _t1= _prev=$(host_stall) _pt=$(now_ms) _start=$(now_ms)
	while [ $(($(now_ms) - _start)) -lt 25000 ]; do
		sleep 0.05
		_now=$(host_stall) _nt=$(now_ms)
		if [ -z "$_t0" ] && [ $((_now - _prev)) -gt $(((_nt - _pt) * 100)) ]; then _t0=$_pt; fi # µs > 10% of ms
		_prev=$_now _pt=$_nt
		if [ -n "$_t0" ] && taken; then
			_t1=$(now_ms)
			break
		fi
	done
	log "host $_mode: pressure rose at ${_t0:-never} ms, the host law's first step at ${_t1:-never} ms (from ${_start} ms);" \
		"/proc/pressure/memory: $(head -n 1 /proc/pressure/memory); the hog $(pid_alive "$_h" && echo runs || echo is gone)," \
		"in swap $(awk '/SwapTotal|SwapFree/ { printf "%s ", $2 }' /proc/meminfo)kB; memory.high $(cat "$mcg/memory.high")"
	kill "$_h" 2>/dev/null || true
	wait "$_h" 2>/dev/null || true
	kill -TERM "$_e"
	wait "$_e" || fail "host $_mode: engine exit status $?: $(tail -n 3 "$VMTEST_TMP/host-$_mode.log")"
	if [ -n "$_t1" ]; then echo $((_t1 - _t0)); else echo none; fi >"$VMTEST_TMP/host-$_mode"
	sleep 1 # the hog's memory back from swap
}
host_reaction triggers
host_reaction tick --no-pressure-triggers
hwith=$(cat "$VMTEST_TMP/host-triggers")
htick=$(cat "$VMTEST_TMP/host-tick")
log "from the host's memory pressure rising to the host law's first step on the batch VM: with PSI triggers" \
	"${hwith} ms, with the 6 s tick alone ${htick} ms"
grep -h '"reason":"memory: host memory pressure' "$haudit" | head -n 1 | sed 's/.*"reason":"\([^"]*\)".*/    \1/'
[ "$hwith" != none ] || fail "with triggers, the host's law never took from the batch VM: $(grep -v '^<7>' "$VMTEST_TMP/host-triggers.log" | tail -n 5)"
[ "$htick" != none ] || fail "with the tick alone, the host's law never took from the batch VM within 25 s"
assert_ge 2000 "$hwith" "the host trigger's reaction (ms), within its 1 s window + 1 s"
assert_gt "$htick" "$hwith" "the tick alone reacts later than the host's trigger"
log ok
