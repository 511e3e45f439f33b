#!/bin/sh
# Adapt=burst: a VM throttled in short spikes gets a cpu.max.burst that grows inside CPUQuotaBurstRange=, and
# SIGTERM puts the original back. The VM is an idle QEMU; its load is two `waker`s in its cgroup: a steady one
# (0.3 ms of work every 3 ms) and a spike (70 ms of work every second) that runs out of the 50 ms quota of a
# 100 ms period. The mean stays far under the quota, so the kernel throttles in a few periods only: what a burst
# absorbs.
# Asserted on cpu.max.burst read back, on the audit's reasons, and on replay making the same first decision.
# vmtest-timeout: 300
set -eu
. /vmtest/lib.sh
require_vmgov

audit=$VMTEST_TMP/audit.jsonl
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $audit

[group spiky]
MatchName = spiky-*
Class = batch
CPUQuota = 50%
Adapt = burst
CPUQuotaBurstRange = 0..50ms
AdaptDwellSec = 500ms
AdaptHoldSec = 120s
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

cg=$(cg_create vmgov/spiky/spiky-1)
cg_enable /sys/fs/cgroup/vmgov cpu memory io
cg_enable /sys/fs/cgroup/vmgov/spiky cpu memory io
[ -e "$cg/cpu.max.burst" ] || fail "no cpu.max.burst (Linux 5.14+)"
assert_file_eq "$cg/cpu.max.burst" 0 "cpu.max.burst before the engine"
vm=$(VM_CGROUP=$cg vm_idle spiky-1)

# waker WORK_US SLEEP_US, inside the VM's cgroup
load() {
	sh -c 'echo $$ > "$1/cgroup.procs"; exec waker --work-us "$2" --sleep-us "$3" --seconds 40' sh "$cg" "$1" "$2" \
		>/dev/null &
	bg_track $!
}
load 300 3000
load 70000 930000

s0=$(cat "$cg/cpu.stat")
"$VMGOV" --policy "$policy" --interval 1s --record-signals "$VMTEST_TMP/on.rec" --state-file "$VMTEST_TMP/state" \
	run 2>"$VMTEST_TMP/on.log" &
e=$!
bg_track "$e"
# 70 ms of demand (and the steady load's share) against a quota of 50 ms: it doubles from 3.125 ms until the spike
# fits, at 25 ms or at the top of the range, 50 ms
grown() { [ "$(cat "$cg/cpu.max.burst")" -ge 25000 ]; }
wait_for 60 "cpu.max.burst to reach 25ms" grown
# a step to 50 ms comes with one of the next spikes: 10 s leave the last 6 ticks after it
sleep 10
burst=$(cat "$cg/cpu.max.burst")
quota=$(cat "$cg/cpu.max")
s1=$(cat "$cg/cpu.stat")
kill -TERM "$e"
wait "$e" || fail "engine exit status $?"

d() { echo $(($(echo "$s1" | sed -n "s/^$1 //p") - $(echo "$s0" | sed -n "s/^$1 //p"))); }
log "cpu.max $quota, cpu.max.burst grew to $burst us; over the run: $(d nr_throttled) of $(d nr_periods) periods" \
	"throttled, $(d nr_bursts) bursts ($(d burst_usec) us)"
grep -h '"file":"cpu.max.burst".*"reason":"burst' "$audit" |
	sed 's/.*"old":"\([^"]*\)","new":"\([^"]*\)","reason":"\([^"]*\)".*/    \1 -> \2  (\3)/' | head -n 8

assert_eq "50000 100000" "$quota" "cpu.max held at CPUQuota=50%"
assert_ge "$burst" 25000 "cpu.max.burst grew"
assert_ge 50000 "$burst" "cpu.max.burst inside CPUQuotaBurstRange=0..50ms"
assert_gt "$(d nr_bursts)" 0 "the kernel used the burst (cpu.stat nr_bursts)"
# throttling falls: the periods throttled in the first 6 ticks with deltas (6 spikes) against the last 6
throttled() { grep "^vm .* name=spiky-1 " "$VMTEST_TMP/on.rec" | sed -n 's/.* cpu_nr_throttled=\([0-9]*\).*/\1/p' |
	tail -n +2 | "$@" | awk '{ n += $1 } END { print n + 0 }'; }
early=$(throttled head -n 6)
late=$(throttled tail -n 6)
log "throttled periods: $early in the first 6 ticks, $late in the last 6"
assert_gt "$early" "$late" "throttled periods, first 6 ticks against the last 6"
assert_contains "$(cat "$audit")" '"reason":"burst: throttled in ' "decisions name the throttling"
# SIGTERM put the original back
assert_file_eq "$cg/cpu.max.burst" 0 "cpu.max.burst restored"
assert_file_eq "$cg/cpu.max" "max 100000" "cpu.max restored"
pid_alive "$vm" || fail "the VM died"

# the recording, replayed through the same policy, makes the same first decision
"$VMGOV" replay "$VMTEST_TMP/on.rec" --policy "$policy" >"$VMTEST_TMP/replay.out" || fail "replay failed"
tail -n 2 "$VMTEST_TMP/replay.out"
first=$(grep -h '"file":"cpu.max.burst' "$audit" | head -n 1 | sed 's/.*"reason":"\([^"]*\)".*/\1/')
assert_contains "$(head -n 1 "$VMTEST_TMP/replay.out")" "$first" "replay's first decision is the engine's"
log "ok"
