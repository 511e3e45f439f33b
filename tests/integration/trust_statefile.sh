#!/bin/sh
# A state file with a torn tail (a crash mid-append) and a line that is not understood: `vmgov restore` names both
# by line, skips them, and writes back every valid original, the VM it moved included.
set -eu
. /vmtest/lib.sh
require_vmgov

state=$VMTEST_TMP/state
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none

[group own]
MatchName = own-*
CPUWeight = 400

[group keep]
MatchName = keep-*
Placement = inplace
CPUQuota = 25%
CPUWeight = 300
INI

cg=$(cg_create operator/vm)
cg_enable /sys/fs/cgroup/operator cpu memory io
cg_write "$cg" cpu.max "60000 100000"
keep=$(VM_CGROUP=$cg vm_idle keep-1)
own=$(vm_idle own-1)
own_from=$(proc_cgroup "$own")

assert_cmd "vmgov once" "$VMGOV" --policy "$policy" --state-file "$state" once
assert_file_eq "$cg/cpu.max" "25000 100000" "once applied cpu.max"
assert_eq /vmgov/own/own-1 "$(proc_cgroup "$own")" "once moved own-1"
good=$(wc -l <"$state")
# a bad line in the middle, and a torn last record
sed -i '2a\
original cgroup=../../etc file=passwd dev=0:0 controller=0 value=x' "$state"
printf 'original cgroup=operator/vm file=cpu.weight dev=0:0 controller=0 val' >>"$state"
log "state file:"
cat "$state"
echo

out=$("$VMGOV" --state-file "$state" restore 2>&1) || fail "restore failed: $out"
printf '%s\n' "$out"
assert_contains "$out" "$state:3" "the bad line named"
assert_contains "$out" "$state:$((good + 2))" "the torn line named"
assert_file_eq "$cg/cpu.max" "60000 100000" "cpu.max back"
assert_file_eq "$cg/cpu.weight" 100 "cpu.weight back"
assert_eq "$own_from" "$(proc_cgroup "$own")" "own-1 back where it came from"
pid_alive "$keep" || fail "keep-1 died"
log "ok"
