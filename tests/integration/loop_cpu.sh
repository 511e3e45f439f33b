#!/bin/sh
# Noisy neighbour: a latency-class VM and a batch-class VM that burns share one CPU. The latency VM's run-queue
# p99 (eBPF, the engine's own signal) is measured with the engine off (dry-run: it senses and decides but writes
# nothing) and on; with it on, the latency VM's cpu.weight goes up and the batch VM's cpu.max comes down until the
# target holds, and every change stays inside the policy's ranges.
# A tiny QEMU guest cannot serve requests, so the latency VM's workload is `waker` (work 1.5 ms, sleep 1 ms: it
# wants 60% of the CPU, more than the half an equal weight gives it) running inside the latency VM's cgroup; the
# batch VM is a real QEMU spinning a vCPU under TCG. Asserted on the kernel's own counters (the latency cgroup's
# cpu pressure) and on the eBPF run-queue percentiles, as ratios between off and on.
# vmtest-timeout: 300
set -eu
. /vmtest/lib.sh
require_vmgov

audit=$VMTEST_TMP/audit.jsonl
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $audit

[group lat]
MatchName = lat-*
Class = latency
Adapt = cpu
CPUWeightRange = 100..10000
RunQueueLatencyTarget = 1ms
CPUPressureTarget = 20%
AdaptDwellSec = 400ms
AdaptHoldSec = 120s

[group batch]
MatchName = batch-*
Class = batch
CPUQuota = 100%
Adapt = cpu
CPUQuotaRange = 5%..100%
AdaptDwellSec = 400ms
AdaptHoldSec = 120s
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

# The VMs start in the cgroups the engine would give them, so that the engine off (dry-run) senses the same
# cgroups as the engine on.
lcg=$(cg_create vmgov/lat/lat-1)
bcg=$(cg_create vmgov/batch/batch-1)
cg_enable /sys/fs/cgroup/vmgov cpu memory io
cg_enable /sys/fs/cgroup/vmgov/lat cpu memory io
cg_enable /sys/fs/cgroup/vmgov/batch cpu memory io
lat=$(VM_CGROUP=$lcg vm_idle lat-1)
batch=$(VM_CGROUP=$bcg vm_burn batch-1)
# everything on CPU 0: one CPU to share
for t in /proc/"$batch"/task/* /proc/"$lat"/task/*; do taskset -p 1 "${t##*/}" >/dev/null; done

# waker runs for the whole test inside the latency VM's cgroup, pinned to CPU 0 too
sh -c 'echo $$ > "$1/cgroup.procs"; exec taskset 1 waker --work-us 1500 --sleep-us 1000 --seconds 34' sh "$lcg" \
	>"$VMTEST_TMP/waker.out" &
waker=$!
bg_track "$waker"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'; }
# a signal of a VM per tick from a recording, skipping its first tick (no deltas yet)
sig() { grep "^vm .* name=$2 " "$1" | sed -n "s/.* $3=\\([0-9]*\\).*/\\1/p" | tail -n +2; }
p99s() { sig "$1" lat-1 runq_p99_usec; }

log "engine off (dry-run) for 6 s"
"$VMGOV" --policy "$policy" --dry-run --interval 500ms --record-signals "$VMTEST_TMP/off.rec" run \
	2>"$VMTEST_TMP/off.log" &
e=$!
bg_track "$e"
sleep 6
kill -TERM "$e"
wait "$e" || fail "dry-run engine exit status $?"
off=$(p99s "$VMTEST_TMP/off.rec" | median)
off90=$(sig "$VMTEST_TMP/off.rec" lat-1 runq_p90_usec | median)
offpsi=$(sig "$VMTEST_TMP/off.rec" lat-1 cpu_some_ppm | median)
assert_file_eq "$bcg/cpu.max" "max 100000" "dry-run left the batch VM's cpu.max alone"
assert_gt "$(p99s "$VMTEST_TMP/off.rec" | wc -l)" 6 "ticks recorded with the engine off"

log "engine on for 13 s"
"$VMGOV" --policy "$policy" --interval 500ms --record-signals "$VMTEST_TMP/on.rec" \
	--state-file "$VMTEST_TMP/state" run 2>"$VMTEST_TMP/on.log" &
e=$!
bg_track "$e"
sleep 13
quota=$(cut -d' ' -f1 "$bcg/cpu.max")
weight=$(cat "$lcg/cpu.weight")
kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
# the last 8 ticks (4 s), and the tick the target was first met
on=$(p99s "$VMTEST_TMP/on.rec" | tail -n 8 | median)
on90=$(sig "$VMTEST_TMP/on.rec" lat-1 runq_p90_usec | tail -n 8 | median)
onpsi=$(sig "$VMTEST_TMP/on.rec" lat-1 cpu_some_ppm | tail -n 8 | median)
busage=$(sig "$VMTEST_TMP/on.rec" batch-1 cpu_usage_usec | tail -n 8 | median)
first_met=$(p99s "$VMTEST_TMP/on.rec" | awk '$1 <= 1000 { print NR; exit }')
kill -TERM "$waker" 2>/dev/null || true # its run ends here, with its figures
wait "$waker" || true
log "latency VM, engine off -> on (medians per 500 ms tick): run-queue p99 ${off} -> ${on} us, p90 ${off90} ->" \
	"${on90} us (target 1000 us, first met after ${first_met:-no} ticks), cpu pressure ${offpsi} -> ${onpsi} ppm;" \
	"batch cpu.max quota ${quota}/100000 (batch used ${busage} us per tick), latency cpu.weight ${weight}"
log "waker: $(cat "$VMTEST_TMP/waker.out")"
grep -h '"file":"cpu' "$audit" | sed 's/.*"file":"\([^"]*\)","old":"\([^"]*\)","new":"\([^"]*\)","reason":"\([^"]*\)".*/    \1: \2 -> \3  (\4)/' | head -n 12

assert_gt "$off" 1000 "p99 with the engine off is above the target (else this is no contention)"
assert_gt "$offpsi" $((2 * onpsi)) "cpu pressure with the engine off against twice the one with it on"
assert_gt "$off90" "$on90" "run-queue p90, engine off against on"
assert_gt "$off" "$on" "run-queue p99, engine off against on"
assert_ge "$quota" 5000 "batch quota never below CPUQuotaRange's 5%"
assert_gt 100000 "$quota" "batch quota tightened"
assert_gt "$weight" 100 "latency weight raised"
assert_ge 10000 "$weight" "latency weight inside CPUWeightRange"
assert_contains "$(cat "$audit")" '"reason":"cpu: latency VM lat-1: run-queue p99' "decisions name the signal"
# SIGTERM put the originals back
assert_file_eq "$bcg/cpu.max" "max 100000" "batch cpu.max restored"
assert_file_eq "$lcg/cpu.weight" 100 "latency cpu.weight restored"

# the same recording, replayed offline through the same policy, makes the same first decisions
"$VMGOV" replay "$VMTEST_TMP/on.rec" --policy "$policy" >"$VMTEST_TMP/replay.out" || fail "replay failed"
tail -n 3 "$VMTEST_TMP/replay.out"
assert_contains "$(head -n 2 "$VMTEST_TMP/replay.out")" "cpu.max 100000 -> 70000 per 100000" "replay's first batch decision"
log "ok"
