#!/bin/sh
# vmtest-timeout: 300
# units/vmgov.service as far as it goes without systemd: the cgroup that Slice=machine.slice and Delegate=yes give
# the unit, units/vmgov-start (ExecStart=), and CapabilityBoundingSet= applied the way systemd applies it (capbound).
#
# 1. A first start with the bounding set CAP_SYS_PTRACE only, in the unit's cgroup: the engine moves itself into
#    vmgov.service/engine, makes vmgov.service/vms/GROUP/VM and limits a root QEMU and a -runas nobody QEMU there.
#    So making cgroups, enabling controllers, moving processes and writing limits need no capability at all in the
#    delegated tree (no CAP_SYS_ADMIN, no CAP_DAC_OVERRIDE).
# 2. A start with the unit's full set while the unit's cgroup still has controllers for its children (a unit left so
#    by an older vmgov, without ExecStopPost=), so that no process can be put there (EBUSY): started from the root
#    cgroup, vmgov-start finds the unit's cgroup by name. (Under systemd 252 such a start fails with 219/CGROUP;
#    unit_systemd shows the unit's ExecStopPost= releasing the controllers so that a restart works.) The engine loads its BPF programs, keeps exactly
#    CAP_SYS_PTRACE CAP_NET_ADMIN CAP_BPF CAP_PERFMON after start-up, and SIGTERM restores the originals.
# 3. Why each capability is there: without CAP_SYS_PTRACE no QEMU is found (not even root's: a process with fewer
#    capabilities than its target needs CAP_SYS_PTRACE to read its /proc/PID/exe); without CAP_BPF or CAP_PERFMON
#    run-queue latency falls back to schedstat; without CAP_NET_ADMIN the proc connector (before Linux 6.6) and tc
#    are refused; without CAP_SYS_NICE a root QEMU cannot be moved once cpuset is active below the root (Linux 6.1).
set -eu
. /vmtest/lib.sh
require_vmgov
command -v capbound >/dev/null || fail "the capbound test helper is not in the guest"
[ -f /vmtest/units/vmgov-start.in ] || fail "units/vmgov-start.in is not in the guest"

start=$VMTEST_TMP/vmgov-start
sed 's|@SBINDIR@|/usr/sbin|' /vmtest/units/vmgov-start.in >"$start"
chmod 0755 "$start"
unit_caps=sys_ptrace,net_admin,sys_nice,sys_resource,bpf,perfmon
# CapEff/CapBnd for exactly those: bits 12 (net_admin), 19 (sys_ptrace), 23 (sys_nice), 24 (sys_resource),
# 38 (perfmon), 39 (bpf)
unit_mask=000000c001881000

# What systemd does for Slice=machine.slice and Delegate=yes: the unit's cgroup, with the controllers available.
slice=$(cg_create machine.slice)
cg_enable "$slice" cpu memory io pids
unit=$(cg_create machine.slice/vmgov.service)
vms=$unit/vms

umask 022
policy=$VMTEST_TMP/policy.ini
write_policy() {
	cat >"$policy" <<INI
[engine]
Interval = 300ms

[group svc]
MatchName = svc-*
; a QEMU started with -runas nobody is nobody's once it runs: only a group that names the user takes it
MatchUser = root nobody
CPUQuota = $1
CPUWeight = 50
INI
}

root_vm=$(vm_idle svc-root)
nobody_vm=$(vm_idle svc-nobody "" -runas nobody)
assert_eq 65534 "$(awk '/^Uid:/ { print $2 }' "/proc/$nobody_vm/status")" "the -runas QEMU's uid"

# 1. First start, CAP_SYS_PTRACE only, from the unit's cgroup.
write_policy 30%
rc=0
(
	echo 0 >"$unit/cgroup.procs"
	exec capbound sys_ptrace -- "$start" vmgov.service --policy "$policy" --audit-log none \
		--state-file "$VMTEST_TMP/state-1" once
) >"$VMTEST_TMP/once.log" 2>&1 || rc=$?
cat "$VMTEST_TMP/once.log"
assert_eq 0 "$rc" "vmgov once with CAP_SYS_PTRACE only"
assert_eq "/machine.slice/vmgov.service/vms/svc/svc-root" "$(proc_cgroup "$root_vm")" "root QEMU placed"
assert_eq "/machine.slice/vmgov.service/vms/svc/svc-nobody" "$(proc_cgroup "$nobody_vm")" "nobody QEMU placed"
assert_file_eq "$vms/svc/svc-root/cpu.max" "30000 100000" "root QEMU's cpu.max"
assert_file_eq "$vms/svc/svc-nobody/cpu.max" "30000 100000" "nobody QEMU's cpu.max"
assert_file_eq "$vms/svc/svc-nobody/cpu.weight" 50 "nobody QEMU's cpu.weight"
assert_file_eq "$unit/cgroup.procs" "" "no process left in the unit's own cgroup"
assert_contains "$(cat "$unit/cgroup.subtree_control")" cpu "controllers enabled for the unit's children"

# 2. Start with the unit's capabilities. The unit's cgroup refuses processes now.
if echo 0 2>/dev/null >"$unit/cgroup.procs"; then
	fail "a process could still be put in the unit's cgroup, which has controllers for its children"
fi
write_policy 20%
(
	exec capbound "$unit_caps" -- "$start" vmgov.service --policy "$policy" --audit-log none \
		--state-file "$VMTEST_TMP/state-2" run
) >"$VMTEST_TMP/run.log" 2>&1 &
engine=$!
bg_track "$engine"
limited() {
	[ "$(cat "$vms/svc/svc-root/cpu.max")" = "20000 100000" ] && [ "$(cat "$vms/svc/svc-nobody/cpu.max")" = "20000 100000" ]
}
wait_for 60 "the restarted engine to apply CPUQuota=20%" limited
assert_eq "/machine.slice/vmgov.service/engine" "$(proc_cgroup "$engine")" "the engine's own cgroup"
assert_eq "$unit_mask" "$(awk '/^CapBnd:/ { print $2 }' "/proc/$engine/status")" "the engine's bounding set"
assert_eq "$unit_mask" "$(awk '/^CapEff:/ { print $2 }' "/proc/$engine/status")" "the engine's effective set"
assert_contains "$(cat "$VMTEST_TMP/run.log")" "run-queue latency from tp_btf" "BPF loaded with the unit's set"
kill -TERM "$engine"
rc=0
wait "$engine" || rc=$?
cat "$VMTEST_TMP/run.log"
assert_eq 0 "$rc" "exit status after SIGTERM"
assert_file_eq "$vms/svc/svc-root/cpu.max" "30000 100000" "root QEMU's cpu.max restored to what it was before"
assert_file_eq "$vms/svc/svc-nobody/cpu.max" "30000 100000" "nobody QEMU's cpu.max restored"
pid_alive "$root_vm" || fail "the root QEMU died"
pid_alive "$nobody_vm" || fail "the nobody QEMU died"

# 3. Each capability's part, in dry-run.
dry() {
	capbound "$1" -- "$VMGOV" --policy "$policy" --dry-run --audit-log none --log-level debug once 2>&1
}
out=$(dry "$unit_caps")
assert_contains "$out" "found VM svc-root" "with the unit's set: root QEMU"
assert_contains "$out" "found VM svc-nobody" "with the unit's set: nobody QEMU"
out=$(dry net_admin,bpf,perfmon)
case "$out" in
*"found VM svc-"*) fail "a QEMU was found without CAP_SYS_PTRACE: $out" ;;
esac
assert_contains "$out" "pid $root_vm: cannot read its exe link, skipping: Permission denied" \
	"without CAP_SYS_PTRACE: root QEMU"
assert_contains "$out" "pid $nobody_vm: cannot read its exe link, skipping: Permission denied" \
	"without CAP_SYS_PTRACE: nobody QEMU"
assert_contains "$(dry sys_ptrace,net_admin,perfmon)" "run-queue latency from schedstat" "without CAP_BPF"
assert_contains "$(dry sys_ptrace,net_admin,bpf)" "run-queue latency from schedstat" "without CAP_PERFMON"
if command -v vmgov-nettool >/dev/null; then
	kver=$(uname -r)
	case "$kver" in
	[1-5].* | 6.[0-5].* | 6.[0-5]-*)
		assert_contains "$(capbound sys_ptrace,bpf,perfmon -- vmgov-nettool events 2 true 2>&1)" "open EPERM" \
			"proc connector without CAP_NET_ADMIN on $kver"
		log "proc connector without CAP_NET_ADMIN on $kver: EPERM"
		;;
	esac
	out=$(capbound "$unit_caps" -- vmgov-nettool events 5 true 2>&1) || fail "proc connector with the unit's set: $out"
	vm_tap tap-holder "" svctap0 >/dev/null
	out=$(capbound sys_ptrace,bpf,perfmon -- vmgov-nettool shape svctap0 egress 10000000 2>&1) &&
		fail "tc worked without CAP_NET_ADMIN: $out"
	assert_contains "$out" "Operation not permitted" "tc without CAP_NET_ADMIN"
	log "tc on a tap without CAP_NET_ADMIN: EPERM"
	out=$(capbound "$unit_caps" -- vmgov-nettool shape svctap0 egress 10000000 2>&1) ||
		fail "tc with the unit's set: $out"
fi

# CAP_SYS_NICE: with cpuset active below the root (pins, partitions, or systemd's AllowedCPUs= on any unit), Linux
# 6.1 lets a process move one that holds capabilities it does not hold only with CAP_SYS_NICE (cpuset_can_attach).
# A root QEMU holds every capability; the engine does not.
echo +cpuset >/sys/fs/cgroup/cgroup.subtree_control
nice_vm=$(vm_idle svc-nice)
write_policy 20%
once_from_root() {
	capbound "$1" -- "$start" vmgov.service --policy "$policy" --audit-log none --state-file "$VMTEST_TMP/state-3" \
		once 2>&1
}
rc=0
out=$(once_from_root sys_ptrace) || rc=$?
log "once with CAP_SYS_PTRACE only, cpuset active: exit $rc, cgroup $(proc_cgroup "$nice_vm")"
case "$(uname -r)" in
6.1.*)
	assert_ne 0 "$rc" "once's exit status without CAP_SYS_NICE, cpuset active, on $(uname -r)"
	assert_contains "$out" "move pid $nice_vm into machine.slice/vmgov.service/vms/svc/svc-nice: Operation not permitted (cpuset is active below the root: moving a process that holds capabilities the engine does not hold needs CAP_SYS_NICE" \
		"the refused move's error"
	assert_eq / "$(proc_cgroup "$nice_vm")" "the root QEMU where it was after the refused move"
	[ ! -d "$vms/svc/svc-nice" ] || fail "the refused move left its cgroup behind"
	;;
esac
rc=0
out=$(once_from_root sys_ptrace,sys_nice) || rc=$?
assert_eq 0 "$rc" "once with CAP_SYS_PTRACE and CAP_SYS_NICE, cpuset active: $out"
assert_eq "/machine.slice/vmgov.service/vms/svc/svc-nice" "$(proc_cgroup "$nice_vm")" "root QEMU placed with CAP_SYS_NICE"
assert_file_eq "$vms/svc/svc-nice/cpu.max" "20000 100000" "its cpu.max"
log "ok"
