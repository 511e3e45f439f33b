#!/bin/sh
# An idle QEMU started through the lib is a real process whose /proc cmdline carries its -name and -uuid.
set -eu
. /vmtest/lib.sh

uuid=$(vm_uuid)
pid=$(vm_idle web-01 "$uuid")
log "idle QEMU pid $pid"
pid_alive "$pid" || fail "QEMU $pid is not running"
assert_eq qemu-system-x86 "$(cat /proc/$pid/comm)" "comm of the QEMU process (15 characters)"

cmdline=$(proc_cmdline "$pid")
log "cmdline: $cmdline"
assert_contains "$cmdline" "-name web-01 " "QEMU cmdline"
assert_contains "$cmdline" "-uuid $uuid " "QEMU cmdline"
assert_contains "$(readlink /proc/$pid/exe)" qemu-system-x86_64 "/proc/$pid/exe"

# libvirt's spelling of -name, which the engine must parse as well
pid2=$(VM_NAME_STYLE=libvirt vm_idle db-02)
assert_contains "$(proc_cmdline "$pid2")" "-name guest=db-02,debug-threads=on " "libvirt-style cmdline"

# a comma in a name reaches QEMU doubled (its parser's escape), as libvirt writes it
pid4=$(vm_idle 'a,b')
assert_contains "$(proc_cmdline "$pid4")" "-name a,,b " "cmdline of a VM named 'a,b'"

# a VM started with VM_CGROUP is born in that cgroup, all its threads with it
cg=$(cg_create vmtest-identity/vm)
pid3=$(VM_CGROUP=$cg vm_idle in-cgroup)
assert_eq /vmtest-identity/vm "$(proc_cgroup "$pid3")" "cgroup of a VM started with VM_CGROUP"
threads=$(ls /proc/$pid3/task | wc -l)
assert_ge "$threads" 2 "threads of QEMU $pid3"
for t in /proc/$pid3/task/*; do
	assert_eq /vmtest-identity/vm "$(sed -n 's/^0:://p' "$t/cgroup")" "cgroup of thread ${t##*/}"
done

vm_stop "$pid"
pid_alive "$pid" && fail "QEMU $pid still alive after vm_stop"
log "ok"
