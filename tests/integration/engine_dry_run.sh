#!/bin/sh
# In dry-run vmgov creates no directory, moves no process and writes nothing under the cgroup mount: the whole
# tree (every directory, every limit file, every process's cgroup) is identical before and after, while the
# log and the audit say exactly what would have been written.
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl
DefaultGroup = all

[group all]
CPUWeight = 300
CPUQuota = 50%
MemoryHigh = 100M
IOReadBandwidthMax = /dev/ram0 5M
INI

inplace_cg=$(cg_create vmtest-inplace)
vm1=$(vm_idle dry-a)
vm2=$(VM_CGROUP=$inplace_cg vm_idle dry-b)

snapshot() {
	find /sys/fs/cgroup -type d | sort
	for f in $(find /sys/fs/cgroup -name cpu.max -o -name cpu.weight -o -name memory.high -o -name memory.max \
		-o -name io.max -o -name io.weight -o -name cgroup.subtree_control | sort); do
		echo "== $f"
		cat "$f"
	done
	for p in "$vm1" "$vm2"; do
		echo "== pid $p"
		grep '^0::' /proc/"$p"/cgroup
		cat /proc/"$p"/task/*/cgroup | sort | uniq -c
	done
}

snapshot >"$VMTEST_TMP/before"
assert_cmd "vmgov --dry-run once" sh -c "'$VMGOV' --policy '$policy' --dry-run once 2>'$VMTEST_TMP/once.log'"
audit=$VMTEST_TMP/audit.jsonl
# 2 moves + 4 files each
assert_eq 10 "$(grep -c '"dry_run":true' "$audit")" "dry-run audit lines from once"
# and the loop, for a few ticks
"$VMGOV" --policy "$policy" --dry-run --interval 200ms run 2>"$VMTEST_TMP/run.log" &
loop=$!
bg_track "$loop"
sleep 2
kill -TERM "$loop"
wait "$loop" || fail "vmgov --dry-run run exited with $?"
snapshot >"$VMTEST_TMP/after"

if ! cmp -s "$VMTEST_TMP/before" "$VMTEST_TMP/after"; then
	diff "$VMTEST_TMP/before" "$VMTEST_TMP/after" || true
	fail "the cgroup tree changed in dry-run"
fi
[ -d /sys/fs/cgroup/vmgov ] && fail "dry-run created /sys/fs/cgroup/vmgov"

log "dry-run log:"
cat "$VMTEST_TMP/once.log"
assert_contains "$(cat "$VMTEST_TMP/once.log")" "dry-run: would create cgroup /sys/fs/cgroup/vmgov/all/dry-a and move VM dry-a (pid $vm1)" "placement in the log"
assert_contains "$(cat "$VMTEST_TMP/once.log")" "dry-run: would write vmgov/all/dry-a/cpu.max: \"50000 100000\"" "cpu.max in the log"
# the loop's first tick says the same again (a new process); later ticks say nothing new
assert_eq 20 "$(wc -l <"$audit")" "audit lines after once and a multi-tick loop"
assert_eq 0 "$(grep -c '"dry_run":false' "$audit")" "real writes in the audit"
log "ok"
