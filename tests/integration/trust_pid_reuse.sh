#!/bin/sh
# Identity at every move: a VM's pid taken by another process between discovery and the move (forced with
# ns_last_pid by the pidreuse shim, tests/helpers/pidreuse.c) is never moved as the VM; when the reuse falls in the
# instant between the engine's check and its write, the process moved by mistake goes back at once to where fork put
# it, and the engine's cgroup goes.
set -eu
. /vmtest/lib.sh
require_vmgov
shim=/usr/bin/libpidreuse.so
[ -f "$shim" ] || fail "$shim missing (tests/helpers not built?)"

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none

[group web]
MatchName = reuse-*
CPUWeight = 300
INI

# A QEMU whose parent reaps it at once, so that its pid is free the moment it is killed.
reaped_vm() {
	sh -c '"$0" -name "$1" -machine none -accel tcg -S -nodefaults -display none & echo $! >"$2"; wait' \
		"$VMTEST_QEMU" "$1" "$VMTEST_TMP/$1.pid" >/dev/null 2>&1 &
	bg_track $!
	for _i in $(seq 50); do [ -s "$VMTEST_TMP/$1.pid" ] && break; sleep 0.1; done
	cat "$VMTEST_TMP/$1.pid"
}

here=$(proc_cgroup $$)
for at in procs mkdir; do
	vm=$(reaped_vm "reuse-$at")
	wait_for 10 "QEMU reuse-$at to exec" sh -c "grep -q qemu /proc/$vm/comm 2>/dev/null || readlink /proc/$vm/exe | grep -q qemu"
	assert_eq "$here" "$(proc_cgroup "$vm")" "reuse-$at starts beside the test"
	out=$VMTEST_TMP/reuse-$at.out
	LD_PRELOAD=$shim PIDREUSE_PID=$vm PIDREUSE_AT=$at PIDREUSE_CGROUP=reuse-$at PIDREUSE_OUT=$out \
		"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state-$at" once 2>"$VMTEST_TMP/once-$at.log" || true
	cat "$VMTEST_TMP/once-$at.log"
	[ -s "$out" ] || fail "$at: the shim never fired (the engine made no cgroup / wrote no cgroup.procs?)"
	stranger=$(cat "$out")
	[ "$stranger" != miss ] || fail "$at: could not hand pid $vm to another process (ns_last_pid)"
	bg_track "$stranger"
	assert_eq "$vm" "$stranger" "$at: the other process has the VM's pid"
	assert_eq sleep "$(cat "/proc/$stranger/comm")" "$at: and is not QEMU"
	assert_eq "$here" "$(proc_cgroup "$stranger")" "$at: the other process is where fork put it, not in the VM's cgroup"
	[ ! -e "/sys/fs/cgroup/vmgov/web/reuse-$at" ] || fail "$at: the engine's cgroup for the VM was left behind"
	if grep -q "placed VM reuse-$at" "$VMTEST_TMP/once-$at.log"; then
		fail "$at: the engine says it placed the VM"
	fi
	if [ "$at" = procs ]; then
		assert_contains "$(cat "$VMTEST_TMP/once-$at.log")" \
			"pid $vm now belongs to another process" "procs: the engine says it undid the move"
	fi
	kill "$stranger" 2>/dev/null || true
done
log "ok"
