#!/bin/sh
# Degrade before anything is killed (issue #15): with HostFreezePressure= set, host memory pressure "full" held
# above it freezes (cgroup.freeze) the batch VM whose group allows it, never the latency VM; FreezeMaxSec= thaws it
# whatever the pressure; after FreezeCooldownSec= it may be frozen again; `vmgov status` shows it frozen; SIGTERM
# thaws it: here by the move back to the cgroup it came from (an inplace VM by the journalled original of
# cgroup.freeze: tests/unit/test_actuator.c). Each freeze and thaw is audited with its reason, counted in the
# metrics, and replayed by `vmgov replay` from the signal recording.
# The pressure: a memhog outside any VM, in a cgroup whose memory.high is a quarter of its working set, with zram
# swap: it stalls on memory nearly all the time, and as it is the guest's only busy task the stall is "full".
# vmtest-timeout: 420
set -eu
. /vmtest/lib.sh
require_vmgov

MIB=1048576
command -v memhog >/dev/null || fail "memhog (tests/helpers) is not in the guest"
[ -r /proc/pressure/memory ] || skip "no /proc/pressure/memory: the kernel has no PSI"
zram_swap 256M

audit=$VMTEST_TMP/audit.jsonl
rec=$VMTEST_TMP/signals.rec
state=$VMTEST_TMP/state
metrics=$VMTEST_TMP/vmgov.prom
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
HostFreezePressure = 1%
HostFreezeAfterSec = 1s
HostThawAfterSec = 2s
FreezeMaxSec = 6s
FreezeCooldownSec = 2s

[group web]
MatchName = web-*
Class = latency

[group batch]
MatchName = batch-*
Class = batch
FreezeOnHostPressure = yes
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

web=$(vm_idle web-1)
batch=$(vm_idle batch-1)
# a cgroup of its own to come from, whose freezer state can be read after the engine puts it back
cg_move "$batch" "$(cg_create origin-batch)"
batch_from=$(proc_cgroup "$batch")
"$VMGOV" --policy "$policy" --interval 200ms --audit-log "$audit" --record-signals "$rec" --state-file "$state" \
	--metrics-file "$metrics" run 2>"$VMTEST_TMP/vmgov.log" &
engine=$!
bg_track "$engine"
bcg=/sys/fs/cgroup/vmgov/batch/batch-1
wcg=/sys/fs/cgroup/vmgov/web/web-1
placed() { [ "$(proc_cgroup "$batch")" = /vmgov/batch/batch-1 ] && [ "$(proc_cgroup "$web")" = /vmgov/web/web-1 ]; }
wait_for 60 "both VMs placed" placed
assert_file_eq "$bcg/cgroup.freeze" 0 "the batch VM's cgroup.freeze before any pressure"

hcg=$(cg_create hog)
cg_write "$hcg" memory.high $((24 * MIB))
sh -c 'echo $$ >"$1/cgroup.procs" && exec memhog --sleep-ms 1 96 96 96' sh "$hcg" >"$VMTEST_TMP/memhog.out" 2>&1 &
hog=$!
bg_track "$hog"

freeze_lines() { grep '"file":"cgroup.freeze"' "$audit" 2>/dev/null | grep -c "\"new\":\"$1\"" || true; }
frozen() { [ "$(cat "$bcg/cgroup.freeze")" = 1 ] && [ "$(cg_key "$bcg" cgroup.events frozen)" = 1 ]; }
wait_for 180 "the batch VM frozen (cgroup.freeze 1, cgroup.events frozen 1)" frozen
assert_file_eq "$wcg/cgroup.freeze" 0 "the latency VM's cgroup.freeze while the batch VM is frozen"
first=$(grep '"file":"cgroup.freeze"' "$audit" | head -n 1)
assert_contains "$first" '"vm":"batch-1"' "the first freeze's VM"
assert_contains "$first" '"old":"0","new":"1","reason":"freeze: host memory pressure (full) ' "the first freeze"
assert_contains "$first" "> HostFreezePressure=1.00% for 1s: the batch VM that holds the most memory" \
	"the first freeze's reason"

bound() { [ "$(freeze_lines 0)" -ge 1 ]; }
wait_for 60 "the bound (FreezeMaxSec=6s) to thaw it" bound
thaw=$(grep '"file":"cgroup.freeze"' "$audit" | grep '"new":"0"' | head -n 1)
assert_contains "$thaw" "the bound (FreezeMaxSec=6s): thawed whatever the host's memory pressure" "the thaw's reason"

again() { [ "$(freeze_lines 1)" -ge 2 ] && frozen; }
wait_for 60 "a second freeze after the cool-down" again
# the metrics are written after the act stage of the same tick
counted() {
	grep -q '^vmgov_vm_frozen{vm="batch-1",uuid="[^"]*",group="batch"} 1$' "$metrics" &&
		grep -q '^vmgov_vm_frozen{vm="web-1",uuid="[^"]*",group="web"} 0$' "$metrics" &&
		grep -q '^vmgov_vms_frozen 1$' "$metrics"
}
wait_for 3 "the metrics to show the batch VM frozen" counted
shown() { "$VMGOV" status 2>/dev/null | grep -q "^frozen: VM batch-1 (pid $batch) for [0-9]*s, thawed at the latest"; }
wait_for 3 "vmgov status to show the batch VM frozen" shown
n_counted=$(sed -n 's/^vmgov_vm_freezes_total{vm="batch-1",uuid="[^"]*",group="batch"} //p' "$metrics")
assert_ge "$n_counted" 2 "the metrics' freezes of the batch VM"
n_freezes=$(freeze_lines 1)
n_thaws=$(freeze_lines 0)
host_full=$(awk '$1 == "full" { print $2 }' /proc/pressure/memory)

# SIGTERM while it is frozen: the engine puts everything back, and the VM runs.
kill -TERM "$engine"
wait "$engine" || fail "the engine exited with $? on SIGTERM: $(tail -n 5 "$VMTEST_TMP/vmgov.log")"
kill -TERM "$hog"
wait "$hog" 2>/dev/null || true
assert_eq "$batch_from" "$(proc_cgroup "$batch")" "the batch VM's cgroup after SIGTERM"
assert_eq 0 "$(cg_key "/sys/fs/cgroup$batch_from" cgroup.events frozen)" "the batch VM's cgroup frozen after SIGTERM"
state_letter=$(awk '/^State:/ { print $2 }' "/proc/$batch/status")
log "the batch QEMU's state after SIGTERM: $state_letter"
pid_alive "$batch" || fail "the batch VM died"
pid_alive "$web" || fail "the latency VM died"
assert_eq "" "$(grep '"file":"cgroup.freeze"' "$audit" | grep '"vm":"web-1"' || true)" "freezes of the latency VM"

# replay decides the same freezes from the recording
"$VMGOV" replay "$rec" --policy "$policy" >"$VMTEST_TMP/replay.out" || fail "replay failed"
n_replayed=$(grep -c '^+[0-9.]*s batch-1 \[batch\] freeze: host memory pressure (full) .* is frozen' \
	"$VMTEST_TMP/replay.out" || true)
assert_eq "" "$(grep '^+[0-9.]*s web-1 ' "$VMTEST_TMP/replay.out" || true)" "replay's decisions for the latency VM"
assert_ge "$n_replayed" 2 "freezes replayed"

log "FIGURES: $n_freezes freezes and $n_thaws thaws of the batch VM (audit), $n_replayed freezes replayed;" \
	"host memory pressure at the end: full $host_full"
log "ok"
