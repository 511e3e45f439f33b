#!/bin/sh
# Names from QEMU command lines are hostile input: '/', '..', quotes, control characters, 4 KiB. None of them
# steers a path out of the engine's tree, each gets a cgroup of its own, the audit JSON stays one valid line per
# record, and the engine does not crash. A value the kernel refuses is reported with the file and the value,
# and the VM's other limits are still applied.
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl
DefaultGroup = all

[group refused]
MatchName = refused
CPUWeight = 77
; no such block device: the kernel refuses io.max for it
IOReadBandwidthMax = 250:250 1M

[group all]
CPUWeight = 123
INI

long=$(awk 'BEGIN { for (i = 0; i < 4096; i++) printf "x"; }')
a=$(vm_idle '../../../etc')
b=$(vm_idle 'a"b\c')
c=$(vm_idle "$(printf 'tab\there')")
d=$(vm_idle "$long")
e=$(vm_idle 'cpu.max')
f=$(vm_idle refused)

rc=0
"$VMGOV" --policy "$policy" once 2>"$VMTEST_TMP/once.log" || rc=$?
cat "$VMTEST_TMP/once.log"
assert_eq 1 "$rc" "exit status of once with a refused write"
assert_contains "$(cat "$VMTEST_TMP/once.log")" 'write vmgov/refused/refused/io.max "250:250 rbps=1000000 wbps=max riops=max wiops=max": the kernel refused it' "refusal names file and value"
assert_file_eq /sys/fs/cgroup/vmgov/refused/refused/cpu.weight 77 "the refused VM's other limit"

for p in "$a" "$b" "$c" "$d" "$e"; do
	cg=$(proc_cgroup "$p")
	case "$cg" in
	/vmgov/all/*/*) fail "pid $p in a nested cgroup $cg" ;;
	/vmgov/all/*) ;;
	*) fail "pid $p in $cg, outside the engine's tree" ;;
	esac
	assert_file_eq "/sys/fs/cgroup$cg/cpu.weight" 123 "cpu.weight of $cg"
	echo "$cg" >>"$VMTEST_TMP/cgroups"
done
assert_eq 5 "$(sort -u "$VMTEST_TMP/cgroups" | wc -l)" "five VMs, five cgroups"
assert_eq "" "$(ls /sys/fs/cgroup | grep -v -e '^cgroup\.' -e '^cpu' -e '^io\.' -e '^memory\.' -e '^misc\.' -e '^pids\.' -e '^hugetlb\.' -e '^rdma\.' -e '^vmgov$' || true)" "nothing created outside vmgov/"

audit=$VMTEST_TMP/audit.jsonl
# 6 moves + 6 cpu.weight + 1 refused io.max (not audited: it was not written)
assert_eq 12 "$(wc -l <"$audit")" "audit lines"
assert_contains "$(cat "$audit")" '"vm":"a\"b\\c"' "quote and backslash escaped"
assert_contains "$(cat "$audit")" '"vm":"tab\u0009here"' "tab escaped"
# every line is one object: starts with {" and ends with }
assert_eq 0 "$(grep -cv '^{"time":".*}$' "$audit")" "lines that are not one JSON object"
log "ok"
