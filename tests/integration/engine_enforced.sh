#!/bin/sh
# The limits vmgov writes are the kernel's: a CPU-burning QEMU under CPUQuota=20% is throttled (cpu.stat
# nr_throttled grows in most periods), and reads in a cgroup under IOReadBandwidthMax=/dev/ram0 1M take
# many times longer than the same reads unlimited.
# vmtest-timeout: 400
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = none

[group burn]
MatchName = burner
CPUQuota = 20%

[group reader]
MatchName = reader
IOReadBandwidthMax = /dev/ram0 1M
INI

pid=$(vm_burn burner)
reader=$(vm_idle reader)
assert_cmd "vmgov once" "$VMGOV" --policy "$policy" once
cg=/sys/fs/cgroup/vmgov/burn/burner
assert_eq /vmgov/burn/burner "$(proc_cgroup "$pid")" "burner's cgroup"
assert_file_eq "$cg/cpu.max" "20000 100000" "cpu.max"

p0=$(cg_key "$cg" cpu.stat nr_periods)
t0=$(cg_key "$cg" cpu.stat nr_throttled)
periods_passed() { [ "$(cg_key "$cg" cpu.stat nr_periods)" -ge $((p0 + 20)) ]; }
wait_for 200 "20 cpu.max periods" periods_passed
p1=$(cg_key "$cg" cpu.stat nr_periods)
t1=$(cg_key "$cg" cpu.stat nr_throttled)
log "burner under vmgov's cpu.max: $((t1 - t0)) of $((p1 - p0)) periods throttled"
assert_ge $((2 * (t1 - t0))) $((p1 - p0)) "throttled in at least half the periods"

# io: time 2 MiB of O_DIRECT reads from /dev/ram0, unlimited, then from inside the reader VM's cgroup.
dd if=/dev/zero of=/dev/ram0 bs=1M count=4 2>/dev/null
uptime_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
timed_read() { # CGROUP SKIP_MB -> centiseconds
	sh -c 'echo $$ >"$1/cgroup.procs"; exec dd if=/dev/ram0 of=/dev/null bs=64k count=32 skip=$(($2 * 16)) iflag=direct 2>/dev/null' \
		sh "$1" "$2" &
	wait $!
}
a=$(uptime_cs)
timed_read /sys/fs/cgroup 0
b=$(uptime_cs)
timed_read /sys/fs/cgroup/vmgov/reader/reader 2
c=$(uptime_cs)
free=$((b - a))
limited=$((c - b))
log "2 MiB O_DIRECT: unlimited ${free}0 ms, under rbps=1M ${limited}0 ms"
# 2 MiB at 1 MB/s is about 2 s; unlimited it is well under that. Ratio, with slack for a slow host.
assert_ge "$limited" 150 "limited read time (cs)"
assert_ge "$limited" $((5 * free)) "limited read time against 5x the unlimited one"
pid_alive "$reader" || fail "reader QEMU died"
log "ok"
