#!/bin/sh
# A VM launched while the engine runs is governed at its exec (proc connector), long before the engine's next
# interval: with Interval=60s, its cgroup and limits are in place within 20 s of its start however slow the host,
# which only events can do. SIGTERM puts it back, though under -daemonize the process moved at its exec is gone by
# then. With --no-proc-events the same launch waits for the next scan.
# vmtest-timeout: 200
set -eu
. /vmtest/lib.sh
require_vmgov

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
Interval = 60s
AuditLog = none
[group all]
MatchName = *
CPUWeight = 321
INI

"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" run 2>"$VMTEST_TMP/run.log" &
e=$!
bg_track "$e"
ready() { grep -q "interval 60000ms" "$VMTEST_TMP/run.log"; }
wait_for 30 "the engine to start" ready
sleep 1 # its first scan is done: what follows is a new exec

t0=$(cut -d' ' -f1 /proc/uptime)
pid=$(vm_idle late-1)
weighted() { [ -f /sys/fs/cgroup/vmgov/all/late-1/cpu.weight ] && [ "$(cat /sys/fs/cgroup/vmgov/all/late-1/cpu.weight)" = 321 ]; }
wait_for 20 "the new VM's cpu.weight (the interval is 60 s)" weighted
t1=$(cut -d' ' -f1 /proc/uptime)
log "VM started at ${t0}s, governed by ${t1}s (interval 60 s)"
assert_eq /vmgov/all/late-1 "$(proc_cgroup "$pid")" "the new VM's cgroup"
kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
# the QEMU daemonized (vm_idle: -daemonize): the process moved at its exec exited and its child runs the VM; the
# child goes back where the VM came from all the same, and the engine's cgroup is removed
assert_eq / "$(proc_cgroup "$pid")" "after SIGTERM, the daemonized VM's cgroup"
[ ! -d /sys/fs/cgroup/vmgov/all/late-1 ] || fail "vmgov/all/late-1 left after SIGTERM"

# scanning alone: the next VM waits for the next scan (60 s away), so 6 s later it is still where it started
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" --no-proc-events run 2>"$VMTEST_TMP/scan.log" &
e=$!
bg_track "$e"
ready2() { grep -q "interval 60000ms" "$VMTEST_TMP/scan.log"; }
wait_for 30 "the engine to start" ready2
sleep 1
pid2=$(vm_idle late-2)
sleep 6
assert_eq / "$(proc_cgroup "$pid2")" "without events, a new VM waits for the next scan"
kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
log "ok"
