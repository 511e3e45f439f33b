#!/bin/sh
# No original is lost when the engine dies: after a SIGKILL in the middle of its loop, a restarted engine takes the
# journalled originals over and a SIGTERM puts them back; after `vmgov once`, `vmgov restore` puts them back.
set -eu
. /vmtest/lib.sh
require_vmgov

state=$VMTEST_TMP/state
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none

[group keep]
MatchName = keep-*
Placement = inplace
CPUWeight = 300
CPUQuota = 25%
MemoryHigh = 150M
INI

cg=$(cg_create operator/vm)
cg_enable /sys/fs/cgroup/operator cpu memory io
cg_write "$cg" cpu.max "60000 100000"
cg_write "$cg" memory.high 500000000
vm=$(VM_CGROUP=$cg vm_idle keep-1)
orig_mem=$(cat "$cg/memory.high")

"$VMGOV" --policy "$policy" --state-file "$state" --interval 200ms run 2>"$VMTEST_TMP/run1.log" &
e1=$!
bg_track "$e1"
applied() { [ "$(cat "$cg/cpu.max")" = "25000 100000" ] && [ "$(cat "$cg/cpu.weight")" = 300 ]; }
wait_for 60 "the limits" applied
assert_exists "$state" "state file"
log "state file while running:"
cat "$state"
assert_contains "$(cat "$state")" "file=cpu.max dev=0:0 controller=0 value=60000%20100000" "cpu.max original journalled"

kill -KILL "$e1"
wait "$e1" 2>/dev/null || true
assert_file_eq "$cg/cpu.max" "25000 100000" "a SIGKILLed engine restored nothing"

"$VMGOV" --policy "$policy" --state-file "$state" --interval 200ms run 2>"$VMTEST_TMP/run2.log" &
e2=$!
bg_track "$e2"
took() { grep -q "took over 3 original values" "$VMTEST_TMP/run2.log"; }
wait_for 60 "the restarted engine to take the originals over" took
sleep 1
kill -TERM "$e2"
rc=0
wait "$e2" || rc=$?
cat "$VMTEST_TMP/run2.log"
assert_eq 0 "$rc" "exit status after SIGTERM"
assert_file_eq "$cg/cpu.max" "60000 100000" "cpu.max back to the operator's value"
assert_file_eq "$cg/cpu.weight" 100 "cpu.weight back"
assert_file_eq "$cg/memory.high" "$orig_mem" "memory.high back"
assert_eq 1 "$(wc -l <"$state")" "state file holds only its header after the restore"

# once leaves its limits in force and the originals in the journal; restore puts them back
assert_cmd "vmgov once" "$VMGOV" --policy "$policy" --state-file "$state" once
assert_file_eq "$cg/cpu.max" "25000 100000" "once applied cpu.max"
assert_cmd "vmgov restore" "$VMGOV" --state-file "$state" restore
assert_file_eq "$cg/cpu.max" "60000 100000" "restore put cpu.max back"
assert_file_eq "$cg/memory.high" "$orig_mem" "restore put memory.high back"
pid_alive "$vm" || fail "the VM died"
log "ok"
