#!/bin/sh
# Only real QEMU, and only the users a group names: a copy of QEMU in a directory a user could write, or one a user
# owns, is not taken for QEMU; a real QEMU that runs as a user MatchUser= names is managed; one that runs as a user
# no group names is left alone. Each refusal is said once, with its reason.
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none

[group web]
MatchName = web-*
MatchUser = root nobody
CPUWeight = 200
INI

# look-alikes: a program that takes QEMU's options and idles (tests/helpers/qemu_lookalike.c), copied as
# qemu-system-x86_64 where a user could have put it
la=$VMTEST_TMP/lookalike
mkdir -p "$la/tmp" "$la/own"
chmod 1777 "$la/tmp"
cp /usr/bin/qemu-lookalike "$la/tmp/qemu-system-x86_64"
cp /usr/bin/qemu-lookalike "$la/own/qemu-system-x86_64"
chown nobody "$la/own/qemu-system-x86_64"
in_tmp=$(VMTEST_QEMU=$la/tmp/qemu-system-x86_64 vm_idle web-tmp)
owned=$(VMTEST_QEMU=$la/own/qemu-system-x86_64 vm_idle web-owned)
real_nobody=$(vm_idle web-nobody "" -runas nobody)
real_other=$(vm_idle web-other "" -runas vmuser)
real_root=$(vm_idle web-root)
for p in $in_tmp $owned $real_nobody $real_other $real_root; do
	eval "from_$p=\$(proc_cgroup $p)"
done

log=$VMTEST_TMP/once.log
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" once 2>"$log" || fail "vmgov once failed: $(cat "$log")"
cat "$log"

unmoved() { eval "assert_eq \"\$from_$1\" \"\$(proc_cgroup $1)\" \"$2 left where it was\""; }
unmoved "$in_tmp" "the copy in a sticky world-writable directory"
unmoved "$owned" "the copy owned by nobody"
unmoved "$real_other" "the real QEMU run as vmuser"
assert_eq /vmgov/web/web-nobody "$(proc_cgroup "$real_nobody")" "the real QEMU run as nobody, whom MatchUser names"
assert_eq /vmgov/web/web-root "$(proc_cgroup "$real_root")" "the real QEMU run as root"
assert_file_eq /sys/fs/cgroup/vmgov/web/web-nobody/cpu.weight 200 "nobody's VM limited"

assert_contains "$(grep "pid $in_tmp:" "$log")" "which is writable by group or others (mode 1777)" "why the copy in tmp"
assert_contains "$(grep "pid $owned:" "$log")" "is owned by uid 65534, not root" "why the owned copy"
assert_contains "$(grep "(pid $real_other)" "$log")" "runs as uid 1000, not root, and no group's MatchUser= names that user" \
	"why vmuser's VM"
assert_eq 1 "$(grep -c "pid $in_tmp: not taken for QEMU" "$log")" "the refusal said once"

# a running engine says it once too, not every tick
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state2" --interval 200ms --dry-run run 2>"$VMTEST_TMP/run.log" &
engine=$!
bg_track "$engine"
sleep 3
kill -TERM "$engine"
wait "$engine" || true
assert_eq 1 "$(grep -c "pid $owned: not taken for QEMU" "$VMTEST_TMP/run.log")" "said once over 15 ticks"
assert_cmd "vmgov restore" "$VMGOV" --state-file "$VMTEST_TMP/state" restore
eval "want=\$from_$real_root"
assert_eq "$want" "$(proc_cgroup "$real_root")" "restore moved the root VM back"
log "ok"
