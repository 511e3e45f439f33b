#!/bin/sh
# A CPU-burning QEMU (a spinning boot sector under TCG) in a cgroup: unlimited it is never throttled; after
# cpu.max "20000 100000" the kernel throttles it in most periods. Asserts on cpu.stat, not on wall time.
# vmtest-timeout: 300
set -eu
. /vmtest/lib.sh

cg=$(cg_create vmtest-cpu)
assert_file_eq "$cg/cpu.max" "max 100000" "default cpu.max"
pid=$(VM_CGROUP=$cg vm_burn burner)
log "burning QEMU pid $pid in $cg"

# it burns: usage grows by at least 0.5 s of CPU (TCG on a loaded host may need a while to get there)
u0=$(cg_key "$cg" cpu.stat usage_usec)
usage_grew() { [ "$(cg_key "$cg" cpu.stat usage_usec)" -ge $((u0 + 500000)) ]; }
wait_for 120 "the burning QEMU to use 0.5 s of CPU" usage_grew
assert_eq 0 "$(cg_key "$cg" cpu.stat nr_throttled)" "nr_throttled without a limit"

cg_write "$cg" cpu.max "20000 100000"
assert_file_eq "$cg/cpu.max" "20000 100000" "cpu.max read back"
p0=$(cg_key "$cg" cpu.stat nr_periods)
t0=$(cg_key "$cg" cpu.stat nr_throttled)
periods_passed() { [ "$(cg_key "$cg" cpu.stat nr_periods)" -ge $((p0 + 20)) ]; }
wait_for 180 "20 cpu.max periods" periods_passed
p1=$(cg_key "$cg" cpu.stat nr_periods)
t1=$(cg_key "$cg" cpu.stat nr_throttled)
log "under 20000/100000: $((t1 - t0)) of $((p1 - p0)) periods throttled; cpu.stat:"
sed 's/^/    /' "$cg/cpu.stat"
assert_gt $((t1 - t0)) 0 "nr_throttled growth under cpu.max 20000 100000"
# a spinning vCPU exhausts 20 ms of quota in nearly every 100 ms period: demand at least half
assert_ge $((2 * (t1 - t0))) $((p1 - p0)) "throttled periods (2 x throttled >= periods)"
pid_alive "$pid" || fail "the burning QEMU died"
log "ok"
