#!/bin/sh
# The guest's cgroup2 is pure v2 with cpu, memory, io and pids available and enabled for children.
set -eu
. /vmtest/lib.sh

root=/sys/fs/cgroup
fstype=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
assert_eq cgroup2 "$fstype" "file system mounted at $root"
assert_contains "$(awk '$2 == "/sys/fs/cgroup" { print $4 }' /proc/mounts)" nsdelegate "cgroup2 mount options"

controllers=" $(cat $root/cgroup.controllers) "
subtree=" $(cat $root/cgroup.subtree_control) "
log "cgroup.controllers:$controllers"
log "cgroup.subtree_control:$subtree"
for c in cpu memory io pids; do
	assert_contains "$controllers" " $c " "$root/cgroup.controllers"
	assert_contains "$subtree" " $c " "$root/cgroup.subtree_control"
done

# and a child really gets the interface files of each
cg=$(cg_create vmtest-controllers)
for f in cpu.max cpu.weight cpu.stat memory.high memory.max memory.events io.max io.stat pids.max \
	cpu.pressure memory.pressure io.pressure; do
	assert_exists "$cg/$f" "interface file of a child cgroup"
done
# PSI is on in this kernel: reading must work (it fails with EOPNOTSUPP when PSI is off at boot)
assert_cmd "PSI readable" cat "$cg/cpu.pressure"
log "ok"
