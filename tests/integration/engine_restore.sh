#!/bin/sh
# SIGTERM makes `vmgov run` put back everything it changed, and exit 0: a VM it moved into a cgroup of its own goes
# back to the cgroup it came from (and the engine's cgroup goes), a VM's existing cgroup under Placement=inplace gets
# the operator's values back. Placement=inplace refuses a cgroup that holds anything besides the VM.
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl

[group own]
MatchName = own-*
CPUWeight = 400
CPUQuota = 30%
MemoryMax = 300M

[group keep]
MatchName = keep-*
Placement = inplace
CPUQuota = 20%
MemoryHigh = 200M
INI

cg=$(cg_create operator/vm)
cg_enable /sys/fs/cgroup/operator cpu memory io
cg_write "$cg" cpu.max "50000 100000"
cg_write "$cg" memory.high 1073741824
crowded=$(cg_create operator/shared)

own=$(vm_idle own-1)
own_from=$(proc_cgroup "$own")
keep=$(VM_CGROUP=$cg vm_idle keep-1)
shared=$(VM_CGROUP=$crowded vm_idle keep-2)
sleep 1000 &
sleeper=$!
bg_track "$sleeper"
cg_move "$sleeper" "$crowded"

"$VMGOV" --policy "$policy" --interval 200ms run 2>"$VMTEST_TMP/run.log" &
engine=$!
bg_track "$engine"

o=/sys/fs/cgroup/vmgov/own/own-1
applied() { [ "$(cat "$cg/cpu.max")" = "20000 100000" ] && [ -f "$o/cpu.max" ] && [ "$(cat "$o/cpu.max")" = "30000 100000" ]; }
wait_for 60 "vmgov to apply the limits" applied
assert_file_eq "$o/cpu.weight" 400 "own cpu.weight while running"
assert_file_eq "$o/memory.max" 314572800 "own memory.max while running"
assert_file_eq "$cg/memory.high" 209715200 "inplace memory.high while running"
assert_eq "$cg" "/sys/fs/cgroup$(proc_cgroup "$keep")" "inplace VM not moved"
# the crowded cgroup is refused, with the foreign pid named, and left alone
assert_file_eq "$crowded/cpu.max" "max 100000" "crowded cgroup untouched"
assert_contains "$(cat "$VMTEST_TMP/run.log")" "Placement=inplace: cgroup /operator/shared holds pid" "refusal message"

kill -TERM "$engine"
rc=0
wait "$engine" || rc=$?
assert_eq 0 "$rc" "vmgov exit status after SIGTERM"
log "engine log:"
cat "$VMTEST_TMP/run.log"

assert_file_eq "$cg/cpu.max" "50000 100000" "inplace cpu.max restored to the operator's value"
assert_file_eq "$cg/memory.high" 1073741824 "inplace memory.high restored"
assert_eq "$own_from" "$(proc_cgroup "$own")" "own-1 back in the cgroup it came from"
[ ! -e "$o" ] || fail "the engine's cgroup $o is still there after the stop"
assert_eq "" "$(find /sys/fs/cgroup/vmgov -name cgroup.procs -exec cat {} + 2>/dev/null)" \
	"no process left in the engine's tree"
assert_eq 2 "$(grep -c '"reason":"restore original on exit"' "$VMTEST_TMP/audit.jsonl")" "restore lines in the audit"
assert_eq 1 "$(grep -c '"reason":"restore: the VM goes back to the cgroup it came from"' "$VMTEST_TMP/audit.jsonl")" \
	"move-back lines in the audit"
pid_alive "$own" || fail "own-1 died"
pid_alive "$keep" || fail "keep-1 died"
log "ok"
