#!/bin/sh
# vmgov places two real QEMU VMs of two groups in their own cgroups and writes each group's limits: cpu.max,
# cpu.weight, memory.high, memory.max, io.weight and io.max read back from the kernel exactly as expected, every
# thread of each QEMU is moved, and every write is one audit line.
set -eu
. /vmtest/lib.sh
require_vmgov

ram=$(ram_dev)
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl

[group web]
MatchName = web-*
Class = latency
CPUWeight = 200
CPUQuota = 150%
MemoryHigh = 256M
MemoryMax = 512M
IOWeight = 300
IOReadBandwidthMax = /dev/ram0 1M

[group batch]
MatchUUID = 0000beef-*
Class = batch
CPUWeight = 50
CPUQuota = 20%
CPUQuotaPeriodSec = 50ms
MemoryHigh = 128M
IOWriteBandwidthMax = $ram 2M
IOReadIOPSMax = /dev/ram0 100

[group idle]
MatchName = idle-*
CPUWeight = idle
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

web=$(vm_idle web-1 6b29fc40-ca47-1067-b31d-00dd010662da)
batch=$(vm_idle worker 0000beef-0000-4000-8000-000000000001)
other=$(vm_idle unmatched)
idle=$(vm_idle idle-1)

assert_cmd "vmgov once" "$VMGOV" --policy "$policy" once

assert_eq /vmgov/web/web-1 "$(proc_cgroup "$web")" "web-1's cgroup"
assert_eq /vmgov/batch/worker "$(proc_cgroup "$batch")" "worker's cgroup"
assert_eq / "$(proc_cgroup "$other")" "a VM no group matches stays where it is"

assert_file_eq /sys/fs/cgroup/vmgov/idle/idle-1/cpu.idle 1 "CPUWeight=idle is cpu.idle 1"

# every thread moved, not just the main one
for t in /proc/"$web"/task/*; do
	assert_eq 0::/vmgov/web/web-1 "$(grep '^0::' "$t/cgroup")" "thread ${t##*/} of web-1"
done

w=/sys/fs/cgroup/vmgov/web/web-1
b=/sys/fs/cgroup/vmgov/batch/worker
assert_file_eq "$w/cpu.max" "150000 100000" "web cpu.max"
assert_file_eq "$w/cpu.weight" "200" "web cpu.weight"
assert_file_eq "$w/memory.high" "268435456" "web memory.high"
assert_file_eq "$w/memory.max" "536870912" "web memory.max"
assert_eq "default 300" "$(head -n1 "$w/io.weight")" "web io.weight"
assert_file_eq "$w/io.max" "$ram rbps=1000000 wbps=max riops=max wiops=max" "web io.max"

assert_file_eq "$b/cpu.max" "10000 50000" "batch cpu.max (20% of a 50 ms period)"
assert_file_eq "$b/cpu.weight" "50" "batch cpu.weight"
assert_file_eq "$b/memory.high" "134217728" "batch memory.high"
assert_file_eq "$b/memory.max" "max" "batch memory.max untouched"
assert_file_eq "$b/io.max" "$ram rbps=max wbps=2000000 riops=100 wiops=max" "batch io.max"

# controllers enabled down the path
for cg in /sys/fs/cgroup/vmgov /sys/fs/cgroup/vmgov/web; do
	for c in cpu memory io; do
		assert_contains "$(cat "$cg/cgroup.subtree_control")" "$c" "$c enabled in $cg"
	done
done

audit=$VMTEST_TMP/audit.jsonl
# web: move + 6 files; batch: move + 4 files; idle: move + cpu.idle
assert_eq 14 "$(wc -l <"$audit")" "audit lines"
assert_contains "$(cat "$audit")" '"vm":"web-1","uuid":"6b29fc40-ca47-1067-b31d-00dd010662da","pid":'"$web"',"group":"web","cgroup":"vmgov/web/web-1","file":"cpu.max","old":"max 100000","new":"150000 100000"' "audit line for web cpu.max"
assert_contains "$(cat "$audit")" '"file":"cgroup.procs","old":"/","new":"'"$batch"'"' "audit line for moving worker"

# A second pass finds everything in place and writes nothing.
assert_cmd "vmgov once (again)" "$VMGOV" --policy "$policy" once
assert_eq 14 "$(wc -l <"$audit")" "audit lines after a pass with nothing to change"

# status shows both
st=$("$VMGOV" --policy "$policy" status)
log "status:"
echo "$st"
assert_contains "$st" "150000 100000" "status shows web's cpu.max"
assert_contains "$st" "/vmgov/batch/worker" "status shows worker's cgroup"
js=$("$VMGOV" --policy "$policy" --json status)
assert_contains "$js" '"name":"web-1","uuid":"6b29fc40-ca47-1067-b31d-00dd010662da","group":"web","cgroup":"/vmgov/web/web-1","limits":{"cpu.max":"150000 100000","cpu.weight":"200"' "status --json"
log "ok"
