#!/bin/sh
# vmgov status shows the live daemon's view: while `vmgov run` governs a VM, status (table and --json) reads the
# status file the daemon rewrites each tick (/run/vmgov/status by default) and shows the daemon, the limits it holds
# the VM at (which the kernel's files hold too), the VM's signals and the feedback loop's last decision with its
# reason. A daemon stopped with SIGTERM removes the file; one killed with SIGKILL leaves it behind, and status then
# says so and samples the cgroups itself.
set -eu
. /vmtest/lib.sh
require_vmgov

state=$VMTEST_TMP/state
status=/run/vmgov/status
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none

[group st]
MatchName = st-*
CPUWeight = 300
Adapt = memory
MemoryHighRange = 64M..1G
MemoryPressureTarget = 1%
MemoryProbe = high
AdaptDwellSec = 0
AdaptHoldSec = 0
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"
qemu=$(vm_idle st-1)
cg=/sys/fs/cgroup/vmgov/st/st-1

"$VMGOV" --policy "$policy" --state-file "$state" --interval 200ms run 2>"$VMTEST_TMP/run1.log" &
e1=$!
bg_track "$e1"
decided() { [ -f "$status" ] && grep -q 'reason=memory' "$status"; }
wait_for 60 "a status file with a decision of the memory law" decided

table=$("$VMGOV" --policy "$policy" status 2>"$VMTEST_TMP/status.err")
log "status while the daemon runs:"
printf '%s\n' "$table" | sed 's/^/    /'
assert_contains "$table" "vmgov daemon pid $e1 (enforcing, policy $policy)" "the daemon line"
assert_contains "$table" "st-1" "the VM"
assert_contains "$table" "/vmgov/st/st-1" "its cgroup"
assert_contains "$table" "memory: pressure 0.00% < target 1.00%: memory.high" "the last decision's reason"
row=$(printf '%s\n' "$table" | grep "^$qemu " | head -n 1)
assert_contains "$row" " 300 " "cpu.weight 300 in the VM's row"

uuid=$(tr '\0' '\n' <"/proc/$qemu/cmdline" | grep -A 1 '^-uuid$' | tail -n 1)
js=$("$VMGOV" --policy "$policy" --json status 2>>"$VMTEST_TMP/status.err")
kernel_high=$(cat "$cg/memory.high")
assert_contains "$js" "\"source\":\"daemon\"" "status --json source"
assert_contains "$js" "\"daemon\":{\"pid\":$e1," "status --json daemon pid"
assert_contains "$js" "\"dry_run\":false" "status --json dry_run"
assert_contains "$js" "\"name\":\"st-1\",\"uuid\":\"$uuid\",\"group\":\"st\",\"cgroup\":\"/vmgov/st/st-1\",\"target_cgroup\":\"vmgov/st/st-1\",\"limits\":{\"cpu.max\":null,\"cpu.weight\":\"300\"" "status --json VM"
assert_contains "$js" "\"last_decision\":{\"time_usec\":" "status --json last decision"
# the daemon's memory.high is what the kernel holds: the same, or (a tick later) 1% lower
daemon_high=$(printf '%s' "$js" | sed -n 's/.*"memory.high":"\([0-9]*\)".*/\1/p')
assert_ge "$daemon_high" "$kernel_high" "the kernel's memory.high against the daemon's"
assert_ge "$kernel_high" $((daemon_high * 95 / 100)) "the kernel's memory.high against 95% of the daemon's"
assert_eq "" "$(cat "$VMTEST_TMP/status.err")" "status's stderr"

kill -TERM "$e1"
wait "$e1" || fail "engine exit status $?"
[ ! -e "$status" ] || fail "the status file is still there after SIGTERM"
table=$("$VMGOV" --policy "$policy" --interval 200ms status 2>&1)
assert_contains "$table" "no vmgov daemon is running" "status after SIGTERM"

# SIGKILL: the file stays, naming a pid that is gone; status says so and samples the kernel's files itself.
"$VMGOV" --policy "$policy" --state-file "$state" --interval 200ms run 2>"$VMTEST_TMP/run2.log" &
e2=$!
bg_track "$e2"
written() { [ -f "$status" ] && grep -q "^daemon pid=$e2 " "$status"; }
wait_for 60 "the second daemon's status file" written
kill -KILL "$e2"
wait "$e2" 2>/dev/null || true
assert_exists "$status" "status file after SIGKILL"
js=$("$VMGOV" --policy "$policy" --interval 200ms --json status 2>"$VMTEST_TMP/status.err")
assert_contains "$(cat "$VMTEST_TMP/status.err")" "status file $status was left by vmgov pid $e2, which is not running; sampling instead" "status's warning"
assert_contains "$js" "\"source\":\"sample\"" "status --json source after SIGKILL"
assert_contains "$js" "\"daemon\":null" "status --json daemon after SIGKILL"
assert_contains "$js" "\"cpu.weight\":\"300\"" "the kernel's cpu.weight, sampled"
assert_cmd "vmgov restore" "$VMGOV" --state-file "$state" restore
rm -f "$status"
log "ok"
