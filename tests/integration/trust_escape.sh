#!/bin/sh
# Nothing forged (issue 12, item 6): a VM whose -name holds a newline, a syslog priority and a terminal escape, in a
# cgroup whose path holds an escape sequence, a C1 CSI and a right-to-left override. What vmgov prints about it (the
# log of `once`, `status` as a table and as JSON, the audit log) is one line per message with no control character
# in it, and no line the VM's name starts: journald would file every line at the engine's own priority.
set -eu
. /vmtest/lib.sh
require_vmgov

csi=$(printf '\302\233')
rlo=$(printf '\342\200\256')
policy=$VMTEST_TMP/policy.ini
audit=$VMTEST_TMP/audit.jsonl
cat >"$policy" <<INI
[engine]
AuditLog = $audit
DefaultGroup = all

[group all]
CPUWeight = 123
INI

# No space in the cgroup's name: the harness's cleanup splits its list of cgroups on white space.
cg=$(cg_create "$(printf 'trust-esc\033[31m<0>x\302\2332J%s' "$rlo")")
vm=$(VM_CGROUP=$cg vm_idle "$(printf 'web\n<0>evil\033[31m')")
assert_eq "$cg" "/sys/fs/cgroup$(proc_cgroup "$vm")" "the VM in the hostile cgroup"

# No C0 control byte in FILE but the line ends, no DEL, no C1 CSI, no right-to-left override.
clean() {
	_what=$1
	_f=$2
	_ctl=$(tr -d '\n\040-\176\200-\377' <"$_f" | wc -c)
	assert_eq 0 "$_ctl" "control bytes in $_what"
	assert_eq 0 "$(grep -c -e "$csi" -e "$rlo" "$_f" || true)" "C1 or bidi characters in $_what"
}

"$VMGOV" --policy "$policy" status >"$VMTEST_TMP/status.txt" 2>"$VMTEST_TMP/status.err"
"$VMGOV" --policy "$policy" --json status >"$VMTEST_TMP/status.json" 2>>"$VMTEST_TMP/status.err"
cat "$VMTEST_TMP/status.txt"
clean "status" "$VMTEST_TMP/status.txt"
clean "status --json" "$VMTEST_TMP/status.json"
assert_eq 1 "$(wc -l <"$VMTEST_TMP/status.json")" "status --json lines"
assert_eq 0 "$(grep -c '^<' "$VMTEST_TMP/status.txt" || true)" "status lines starting with <"
row=$(grep "^$vm " "$VMTEST_TMP/status.txt" | head -n 1)
assert_contains "$row" 'web\u000a<0>evil\u001b[31m ' "the name in the table"
assert_contains "$row" '/trust-esc\x1b[31m<0>x\xc2\x9b2J\xe2\x80\xae ' "the cgroup in the table"
assert_contains "$(cat "$VMTEST_TMP/status.json")" '"name":"web\u000a<0>evil\u001b[31m"' "the name in JSON"
assert_contains "$(cat "$VMTEST_TMP/status.json")" '"cgroup":"/trust-esc\u001b[31m<0>x\u009b2J\u202e"' "the cgroup in JSON"

rc=0
"$VMGOV" --policy "$policy" once 2>"$VMTEST_TMP/once.log" || rc=$?
cat "$VMTEST_TMP/once.log"
assert_eq 0 "$rc" "exit status of once"
clean "the log" "$VMTEST_TMP/once.log"
assert_eq 0 "$(grep -c -v '^<[0-7]>[^<]' "$VMTEST_TMP/once.log" || true)" "log lines without one <N> of the engine's"
log=$(cat "$VMTEST_TMP/once.log")
assert_contains "$log" "found VM web\\u000a<0>evil\\u001b[31m (pid $vm" "the name in the log"
# place/stage.c prints the cgroup it came from as it is: the logger escapes it.
assert_contains "$log" '(was /trust-esc\x1b[31m<0>x\xc2\x9b2J\xe2\x80\xae)' "the cgroup in the log"
assert_file_eq "/sys/fs/cgroup$(proc_cgroup "$vm")/cpu.weight" 123 "the VM governed all the same"

clean "the audit log" "$audit"
assert_eq 0 "$(grep -cv '^{"time":".*}$' "$audit")" "audit lines that are not one JSON object"
assert_contains "$(cat "$audit")" '"old":"/trust-esc\u001b[31m<0>x\u009b2J\u202e"' "the cgroup it came from, audited"
log "ok"
