#!/bin/sh
# A VM's own cgroup is the engine's own: when a process that is not the VM lives in the cgroup a VM of that name
# would get (left there by an earlier process that claimed the name), the VM gets a fresh, empty leaf, the engine
# says so, and the squatter's cgroup is not touched.
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl

[group web]
MatchName = web-*
CPUWeight = 300
INI

# what a departed look-alike named web-x would have left: a child in vmgov/web/web-x
sq=$(cg_create /sys/fs/cgroup/vmgov/web/web-x)
sleep 1000 &
squatter=$!
bg_track "$squatter"
cg_move "$squatter" "$sq"

vm=$(vm_idle web-x)
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" once 2>"$VMTEST_TMP/once.log" ||
	fail "vmgov once failed: $(cat "$VMTEST_TMP/once.log")"
cat "$VMTEST_TMP/once.log"

fresh=/vmgov/web/web-x-pid$vm
assert_eq "$fresh" "$(proc_cgroup "$vm")" "the VM in a fresh leaf"
assert_eq "$vm" "$(cat "/sys/fs/cgroup$fresh/cgroup.procs")" "the fresh leaf holds the VM alone"
assert_file_eq "/sys/fs/cgroup$fresh/cpu.weight" 300 "the VM's limits in its fresh leaf"
assert_eq "$squatter" "$(cat "$sq/cgroup.procs")" "the squatter stays where it was, alone"
assert_ne 300 "$(cat "$sq/cpu.weight")" "the squatter's cgroup does not get the VM's cpu.weight"
if grep -q '"cgroup":"vmgov/web/web-x"' "$VMTEST_TMP/audit.jsonl"; then
	fail "the engine wrote into the squatter's cgroup: $(grep '"cgroup":"vmgov/web/web-x"' "$VMTEST_TMP/audit.jsonl")"
fi
assert_contains "$(cat "$VMTEST_TMP/once.log")" \
	"cgroup /sys/fs/cgroup/vmgov/web/web-x holds pid $squatter, which is not the VM: placed in a fresh cgroup" \
	"the engine says why"

assert_cmd "vmgov restore" "$VMGOV" --state-file "$VMTEST_TMP/state" restore
[ ! -e "/sys/fs/cgroup$fresh" ] || fail "the fresh leaf is still there after restore"
log "ok"
