#!/bin/sh
# SIGHUP reloads the policy: a good new policy takes effect on the next tick, and what it no longer sets (CPUQuota=,
# MemoryMax=) goes back to its value before the engine; a broken one is refused with file:line in the log, and the
# old policy stays in force.
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
write_policy() {
	cat >"$policy" <<INI
[engine]
AuditLog = none
[group all]
MatchName = *
CPUWeight = $1
${2:-}
INI
}
write_policy 200
vm=$(vm_idle reload-1)
from=$(proc_cgroup "$vm")
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" --interval 200ms run 2>"$VMTEST_TMP/run.log" &
e=$!
bg_track "$e"
cg=/sys/fs/cgroup/vmgov/all/reload-1
weight_is() { [ -f "$cg/cpu.weight" ] && [ "$(cat "$cg/cpu.weight")" = "$1" ]; }
wait_for 60 "cpu.weight 200" weight_is 200

write_policy 400
kill -HUP "$e"
wait_for 60 "cpu.weight 400 after a reload" weight_is 400

# a reload that drops keys gives their files back: as they were before the engine, the rest held
write_policy 400 "CPUQuota = 30%
MemoryMax = 256M"
kill -HUP "$e"
file_is() { [ "$(cat "$cg/$1")" = "$2" ]; }
wait_for 60 "cpu.max 30% after a reload" file_is cpu.max "30000 100000"
wait_for 10 "memory.max 256M" file_is memory.max 268435456
write_policy 400
kill -HUP "$e"
wait_for 60 "cpu.max given back after a reload without CPUQuota=" file_is cpu.max "max 100000"
wait_for 10 "memory.max given back" file_is memory.max max
assert_file_eq "$cg/cpu.weight" 400 "cpu.weight still held"
assert_contains "$(cat "$VMTEST_TMP/run.log")" "gave back vmgov/all/reload-1/cpu.max (\"max 100000\", its value before the engine)" \
	"the log says what went back"

printf '[engine]\nAuditLog = none\n[group all]\nMatchName = *\nCPUWeight = 99999\n' >"$policy"
kill -HUP "$e"
refused() { grep -q "reload refused, the old policy stays in force: $policy:5: CPUWeight=99999" "$VMTEST_TMP/run.log"; }
wait_for 60 "the refusal in the log" refused
sleep 1
assert_file_eq "$cg/cpu.weight" 400 "cpu.weight under the old policy"
pid_alive "$e" || fail "the engine died on a broken policy"

kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
assert_eq "$from" "$(proc_cgroup "$vm")" "on exit the VM is back where it came from"
[ ! -e "$cg" ] || fail "on exit the engine's cgroup $cg is still there"
log "ok"
