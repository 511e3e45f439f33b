#!/bin/sh
# Sub-second reactions: with Interval=10s, a latency VM's cpu pressure rises at a known moment (a workload starts
# in its cgroup, on the one CPU a batch VM burns). The time from that moment to the first tightening of the batch
# VM's cpu.max is measured with PSI triggers (the engine's default) and with the tick alone
# (--no-pressure-triggers), both printed; the trigger path must react within its window (1 s) + 1 s. The triggers
# are armed for the VM's target and the host's, and armed again for a reload's new target.
# vmtest-timeout: 200
set -eu
. /vmtest/lib.sh
require_vmgov

audit=$VMTEST_TMP/audit.jsonl
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
Interval = 10s
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
	sleep 3 # started, placed nothing (the VMs are where it would put them), sensed once; the next tick is at 10 s
	if [ "$_mode" = triggers ]; then
		# armed for the VM's target and the host's (105% of each target's share of the 1 s window) ...
		assert_contains "$(cat "$VMTEST_TMP/$_mode.log")" "PSI trigger on cpu.pressure: 210 ms stalled in 1000 ms" \
			"the latency VM's trigger (CPUPressureTarget=20%)"
		assert_contains "$(cat "$VMTEST_TMP/$_mode.log")" \
			"PSI trigger on the host's /proc/pressure/memory: 525 ms stalled in 1000 ms" \
			"the host's trigger (HostMemoryPressureTarget=50%)"
		# ... and again for a reload's new targets, at the next tick (which the SIGHUP does not bring: a 10 s wait
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
	"with the 10 s tick alone ${tick} ms"
grep -h '"file":"cpu.max"' "$audit" | head -n 2 | sed 's/.*"reason":"\([^"]*\)".*/    \1/'
[ "$with" != none ] || fail "with triggers, the batch VM was never tightened: $(grep -v '^<7>' "$VMTEST_TMP/triggers.log" | tail -n 5)"
[ "$tick" != none ] || fail "with the tick alone, the batch VM was never tightened within 25 s"
assert_ge 2000 "$with" "the trigger path's reaction (ms), within its 1 s window + 1 s"
assert_gt "$tick" "$with" "the tick alone reacts later than the trigger"
log ok
