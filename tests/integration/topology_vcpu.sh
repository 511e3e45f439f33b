#!/bin/sh
# A VM is not one process: a QEMU with two vCPUs and an IO thread, in a group that places its threads apart, gets a
# threaded subtree below its cgroup. vcpu0 and vcpu1 hold the thread ids QMP's query-cpus-fast gives for cpu 0 and
# 1, iothread0 the IO thread, emulator the main loop; the children are threaded and cpu is enabled for them, while
# memory stays at the VM. SIGTERM puts every thread back with the process where it came from and removes the
# subtree. Then a running VM whose vCPU 0 spins: VCPUQuota=20% throttles that vCPU in most periods and not the
# emulator, and a vCPU hot-plugged over QMP is placed in a vcpu1 of its own. A second paused QEMU with
# debug-threads=on and no QMP gets the same layout from its thread names.
set -eu
. /vmtest/lib.sh
require_vmgov
command -v vmgov-threads >/dev/null || fail "vmgov-threads is not in the guest (build/tests/helpers was not built)"

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl

[group topo]
MatchName = topo-*
Placement = own
CPUWeight = 100
VCPUQuota = 50%
EmulatorQuota = 30%
VCPUAllowedCPUs = 0-1
EmulatorAllowedCPUs = 1
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

home=$(cg_create topo-home)
sock=$VMTEST_TMP/qmp.sock
# two vCPUs under multi-threaded TCG (a thread each), an IO thread, paused (-S): the threads exist, nothing burns
pid=$(VM_CGROUP=$home VM_NAME_STYLE=libvirt vm_start topo-1 '' -machine pc -accel tcg,thread=multi -smp 2 -m 32 -S \
	-object iothread,id=io0 -qmp "unix:$sock,server=on,wait=off")
# the truth, from QMP itself (2 s: QEMU under TCG in this TCG guest can be slow to answer)
map=$(vmgov-threads --timeout-ms 2000 "$pid") || fail "vmgov-threads $pid exited $?: $map"
cpu0=$(echo "$map" | awk '$1 == "vcpu" && $2 == 0 { print $3 }')
cpu1=$(echo "$map" | awk '$1 == "vcpu" && $2 == 1 { print $3 }')
io0=$(echo "$map" | awk '$1 == "iothread" && $2 == "io0" { print $3 }')
[ -n "$cpu0" ] && [ -n "$cpu1" ] && [ -n "$io0" ] || fail "no vCPU or IO thread ids in: $map"
log "QMP: vCPU 0 = $cpu0, vCPU 1 = $cpu1, io0 = $io0, main = $pid"
# the same layout from the thread names alone: debug-threads=on and no QMP socket
named=$(VM_CGROUP=$home VM_NAME_STYLE=libvirt vm_start topo-2 '' -machine pc -accel tcg,thread=multi -smp 2 -m 32 -S)
tid_named() {
	for _t in /proc/"$1"/task/*; do
		[ "$(cat "$_t/comm" 2>/dev/null)" = "$2" ] && echo "${_t##*/}" && return 0
	done
	fail "QEMU $1 has no thread named '$2'"
}
n0=$(tid_named "$named" "CPU 0/TCG") n1=$(tid_named "$named" "CPU 1/TCG")

"$VMGOV" --policy "$policy" --interval 200ms run 2>"$VMTEST_TMP/run.log" &
engine=$!
bg_track "$engine"

vm=/sys/fs/cgroup/vmgov/topo/topo-1
holds() { grep -qx "$2" "$vm/$1/cgroup.threads" 2>/dev/null; }
all_placed() { holds vcpu0 "$cpu0" && holds vcpu1 "$cpu1" && holds iothread0 "$io0" && holds emulator "$pid"; }
wait_for 30 "the threads in vcpu0, vcpu1, iothread0 and emulator" all_placed
for c in vcpu0 vcpu1 iothread0 emulator; do
	assert_file_eq "$vm/$c/cgroup.type" threaded "$c's type"
done
assert_file_eq "$vm/cgroup.type" "domain threaded" "the VM's type"
assert_contains "$(cat "$vm/cgroup.subtree_control")" cpu "cpu enabled below the VM"
case " $(cat "$vm/cgroup.subtree_control") " in *" memory "* | *" io "*) fail "memory or io below the VM: $(cat "$vm/cgroup.subtree_control")" ;; esac
assert_eq "" "$(cat "$vm/cgroup.threads")" "no thread left in the VM's cgroup itself"
# every thread of the process is in one of the children
for t in /proc/"$pid"/task/*; do
	case "$(grep '^0::' "$t/cgroup")" in
	0::/vmgov/topo/topo-1/vcpu[01] | 0::/vmgov/topo/topo-1/iothread0 | 0::/vmgov/topo/topo-1/emulator) ;;
	*) fail "thread ${t##*/} is in $(grep '^0::' "$t/cgroup")" ;;
	esac
done
assert_contains "$(cat "$VMTEST_TMP/run.log")" "2 vCPU and 1 IO threads" "the engine says what it placed"
vmn=/sys/fs/cgroup/vmgov/topo/topo-2
named_placed() { grep -qx "$n0" "$vmn/vcpu0/cgroup.threads" 2>/dev/null && grep -qx "$n1" "$vmn/vcpu1/cgroup.threads" &&
	grep -qx "$named" "$vmn/emulator/cgroup.threads"; }
wait_for 30 "topo-2's threads (named CPU 0/TCG, CPU 1/TCG; no QMP) in vcpu0, vcpu1 and emulator" named_placed
assert_contains "$(cat "$VMTEST_TMP/run.log")" "2 vCPU and 0 IO threads (from thread-names)" "topo-2's map, from the names"
# VCPUQuota= in each vCPU's child, EmulatorQuota= in the emulator's; the IO thread has none; the VM none either
quota_set() { [ "$(cat "$vm/vcpu0/cpu.max")" = "50000 100000" ]; }
wait_for 10 "vcpu0's cpu.max" quota_set
assert_file_eq "$vm/vcpu1/cpu.max" "50000 100000" "vcpu1's cpu.max (VCPUQuota=50%)"
assert_file_eq "$vm/emulator/cpu.max" "30000 100000" "the emulator's cpu.max (EmulatorQuota=30%)"
assert_file_eq "$vm/iothread0/cpu.max" "max 100000" "the IO thread's cpu.max"
assert_file_eq "$vm/cpu.max" "max 100000" "the VM's cpu.max"
assert_contains "$(cat "$VMTEST_TMP/audit.jsonl")" '"cgroup":"vmgov/topo/topo-1/vcpu0"' "the audit names vcpu0's write"
# VCPUAllowedCPUs=0-1 dealt one CPU per vCPU, EmulatorAllowedCPUs=1; and the threads' affinity follows
assert_file_eq "$vm/vcpu0/cpuset.cpus" 0 "vcpu0's cpuset.cpus"
assert_file_eq "$vm/vcpu1/cpuset.cpus" 1 "vcpu1's cpuset.cpus"
assert_file_eq "$vm/emulator/cpuset.cpus" 1 "the emulator's cpuset.cpus"
assert_eq 0 "$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/task/$cpu0/status")" "vCPU 0's CPUs"
assert_eq 1 "$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/task/$cpu1/status")" "vCPU 1's CPUs"
assert_eq 1 "$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/status")" "the main thread's CPUs"
# status shows a row per child: the thread it holds and where it may run
rows_shown() { "$VMGOV" status 2>/dev/null | grep -Eq "^$pid +topo-1 +emulator +- "; }
wait_for 10 "vmgov status's rows for topo-1's children" rows_shown
status=$("$VMGOV" status 2>&1)
echo "$status" | grep -E "^(PID +NAME +THREAD +TID|$pid +topo-1 +(vcpu|iothread|emulator))" | sed 's/^/    /'
for row in "vcpu0 +$cpu0 .* 0$" "vcpu1 +$cpu1 .* 1$" "iothread0 +$io0 .* 0-1$" "emulator +- .* 1$"; do
	echo "$status" | grep -Eq "^$pid +topo-1 +$row" || fail "vmgov status has no row '$row' for topo-1: $status"
done
# a reload that drops VCPUQuota= while the pins stay: the vCPUs' cpu.max back to what it was, the emulator's kept
sed -i '/^VCPUQuota/d' "$policy"
kill -HUP "$engine"
vcpu_unlimited() { [ "$(cat "$vm/vcpu0/cpu.max")" = "max 100000" ] && [ "$(cat "$vm/vcpu1/cpu.max")" = "max 100000" ]; }
wait_for 20 "vcpu0's and vcpu1's cpu.max given back after a reload without VCPUQuota=" vcpu_unlimited
assert_file_eq "$vm/emulator/cpu.max" "30000 100000" "the emulator's cpu.max after the reload (EmulatorQuota= stays)"
assert_file_eq "$vm/vcpu0/cpuset.cpus" 0 "vcpu0's cpuset.cpus after the reload"

kill -TERM "$engine"
wait "$engine" || fail "vmgov run exited $? on SIGTERM: $(tail -n 5 "$VMTEST_TMP/run.log")"
for t in /proc/"$pid"/task/*; do
	[ "$(grep '^0::' "$t/cgroup")" = "0::/${home#/sys/fs/cgroup/}" ] ||
		fail "thread ${t##*/} is in $(grep '^0::' "$t/cgroup") after SIGTERM; the engine said: $(grep -v '^<7>' "$VMTEST_TMP/run.log" | tail -n 12)"
done
[ ! -e "$vm" ] || fail "$vm is still there after SIGTERM: $(ls "$vm")"
[ ! -e "$vmn" ] || fail "$vmn is still there after SIGTERM: $(ls "$vmn")"
for t in /proc/"$named"/task/*; do
	[ "$(grep '^0::' "$t/cgroup")" = "0::/${home#/sys/fs/cgroup/}" ] || fail "topo-2's thread ${t##*/} not back after SIGTERM"
done

# ---- a running VM: vCPU 0 spins (vm_burn's boot sector), so VCPUQuota=20% throttles it while the emulator, with a
# quota of its own it does not use up, is never throttled; then a second vCPU is hot-plugged over QMP and lands in
# vcpu1 (the proc connector tells of the new thread, which starts in the emulator's child)
policy2=$VMTEST_TMP/spin.ini
spin_policy() { # the group's CPU keys, one per argument
	printf '[engine]\nAuditLog = %s\n\n[group spin]\nMatchName = spin-*\nPlacement = own\n' "$VMTEST_TMP/audit2.jsonl"
	printf '%s\n' "$@"
}
spin_policy "VCPUQuota = 20%" "EmulatorQuota = 100%" >"$policy2"
assert_cmd "vmgov check (spin)" "$VMGOV" check "$policy2"
img=$VMTEST_TMP/spin.img
bootsector "$img"
sock2=$VMTEST_TMP/qmp2.sock
spin=$(VM_CGROUP=$home VM_NAME_STYLE=libvirt vm_start spin-1 '' -machine pc -accel tcg,thread=multi -smp 1,maxcpus=2,sockets=2,cores=1,threads=1 \
	-m 32 -drive "file=$img,format=raw,if=ide,index=0" -boot c -qmp "unix:$sock2,server=on,wait=off")
# and one with neither QMP nor thread names (no debug-threads=on): its threads stay together, and status says why
whole=$(VM_CGROUP=$home vm_idle spin-whole)
prom=$VMTEST_TMP/metrics.prom
"$VMGOV" --policy "$policy2" --interval 500ms --metrics-file "$prom" run 2>"$VMTEST_TMP/run2.log" &
engine=$!
bg_track "$engine"
vm2=/sys/fs/cgroup/vmgov/spin/spin-1
map=$(vmgov-threads --timeout-ms 2000 "$spin") || fail "vmgov-threads $spin exited $?: $map"
s0=$(echo "$map" | awk '$1 == "vcpu" && $2 == 0 { print $3 }')
[ -n "$s0" ] || fail "no vCPU 0 in: $map"
held() { grep -qx "$2" "$vm2/$1/cgroup.threads" 2>/dev/null; }
wait_for 30 "spin-1's vCPU 0 (QMP: thread $s0) in vcpu0" held vcpu0 "$s0"
assert_contains "$(cat "$VMTEST_TMP/run2.log")" "1 vCPU and 0 IO threads (from qmp)" "spin-1's map, from QMP"
quota20() { [ "$(cat "$vm2/vcpu0/cpu.max")" = "20000 100000" ]; }
wait_for 10 "vcpu0's cpu.max (VCPUQuota=20%)" quota20
stat() { awk -v k="$2" '$1 == k { print $2 }' "$vm2/$1/cpu.stat"; }
p0=$(stat vcpu0 nr_periods) t0=$(stat vcpu0 nr_throttled) ep0=$(stat emulator nr_periods) et0=$(stat emulator nr_throttled)
sleep 3
p1=$(stat vcpu0 nr_periods) t1=$(stat vcpu0 nr_throttled) ep1=$(stat emulator nr_periods) et1=$(stat emulator nr_throttled)
log "over 3 s, vCPU 0 (spinning, VCPUQuota=20%) was throttled in $((t1 - t0)) of $((p1 - p0)) periods, the emulator" \
	"(EmulatorQuota=100%) in $((et1 - et0)) of $((ep1 - ep0))"
assert_gt "$((p1 - p0))" 10 "vCPU 0's periods in 3 s"
assert_gt "$((2 * (t1 - t0)))" "$((p1 - p0))" "twice vCPU 0's throttled periods against its periods (throttled in most)"
assert_eq 0 "$((et1 - et0))" "the emulator's throttled periods"

# hot-plug: cpu-index 1 at socket 1
vmgov-threads --execute "$sock2" \
	'{"execute":"device_add","arguments":{"driver":"qemu64-x86_64-cpu","id":"cpu1","socket-id":1,"core-id":0,"thread-id":0}}' \
	>"$VMTEST_TMP/device_add.out" 2>&1 || fail "device_add of vCPU 1: $(cat "$VMTEST_TMP/device_add.out")"
t_plug=$(cut -d' ' -f1 /proc/uptime)
s1=
vcpu1_known() {
	s1=$(vmgov-threads --timeout-ms 2000 "$spin" | awk '$1 == "vcpu" && $2 == 1 { print $3 }')
	[ -n "$s1" ]
}
wait_for 20 "QMP to list the hot-plugged vCPU 1" vcpu1_known
wait_for 20 "the hot-plugged vCPU 1 (thread $s1) in vcpu1" held vcpu1 "$s1"
log "hot-plugged vCPU 1 (thread $s1) placed in vcpu1 by $(cut -d' ' -f1 /proc/uptime) s (plugged at $t_plug s)"
assert_file_eq "$vm2/vcpu1/cpu.max" "20000 100000" "the hot-plugged vCPU's cpu.max"

# vmgov status, from the daemon's status file: how each VM's threads are placed, or why they stay together
st_two() { "$VMGOV" status 2>/dev/null | grep -q "^$spin  *spin-1  *apart: 2 vCPU and 0 IO threads (from qmp)"; }
wait_for 10 "vmgov status to show spin-1's two vCPUs apart" st_two
status=$("$VMGOV" status 2>&1)
echo "$status" | sed -n '/^threads/,/^$/p' | sed 's/^/    /'
echo "$status" | grep -Eq "^$whole +spin-whole +together: no QMP socket on its command line; its threads are not named" ||
	fail "vmgov status does not say why spin-whole's threads stay together: $(echo "$status" | grep "^$whole ")"
[ -z "$(ls -d "/sys/fs/cgroup/vmgov/spin/spin-whole/"*/ 2>/dev/null)" ] || fail "spin-whole's cgroup has children"
# a row per vCPU and one for the emulator: CPU used, periods throttled (most for the spinning vCPU 0, none for the
# emulator), and vCPU 0's run-queue p99 measured by eBPF on the thread QMP named
row() { echo "$status" | awk -v p="$spin" -v c="$1" '$1 == p && $2 == "spin-1" && $3 == c'; }
echo "$status" | grep -E "^(PID +NAME +THREAD +TID|$spin +spin-1 +(vcpu|emulator))" | sed 's/^/    /'
r0=$(row vcpu0) r1=$(row vcpu1) re=$(row emulator)
[ -n "$r0" ] && [ -n "$r1" ] && [ -n "$re" ] || fail "vmgov status lacks spin-1's vcpu0, vcpu1 or emulator row: $status"
assert_eq "$s0" "$(echo "$r0" | awk '{ print $4 }')" "vcpu0's row: the thread QMP gives for cpu 0"
assert_eq "$s1" "$(echo "$r1" | awk '{ print $4 }')" "vcpu1's row: the hot-plugged thread"
thr=$(echo "$r0" | awk '{ print $6 }') per=$(echo "$r0" | awk '{ print $8 }')
assert_gt "$((2 * thr))" "$per" "twice vcpu0's throttled periods in status against its periods"
assert_eq 0 "$(echo "$re" | awk '{ print $6 }')" "the emulator's throttled periods in status"
case "$(echo "$r0" | awk '{ print $10 }')" in
*us) ;;
*) fail "vcpu0's run-queue p99 in status: $r0" ;;
esac
json=$("$VMGOV" status --json)
echo "$json" | grep -q "\"thread_cgroups\":\[{\"cgroup\":\"vcpu0\",\"tid\":$s0,\"cpu_usage\":" ||
	fail "status --json has no thread_cgroups row for vcpu0 (tid $s0): $json"
# the metrics: the same, per child
grep -Eq "^vmgov_thread_cpu_throttled_periods_total\{vm=\"spin-1\",[^}]*group=\"spin\",thread=\"vcpu0\"\} [1-9]" "$prom" ||
	fail "no throttled periods for spin-1's vcpu0 in the metrics: $(grep vmgov_thread "$prom")"
grep -Eq "^vmgov_thread_info\{vm=\"spin-1\",[^}]*group=\"spin\",thread=\"vcpu0\",tid=\"$s0\"" "$prom" ||
	fail "no vmgov_thread_info for spin-1's vcpu0: $(grep vmgov_thread_info "$prom")"
grep -Eq "^vmgov_thread_runq_latency_p99_seconds\{vm=\"spin-1\",[^}]*group=\"spin\",thread=\"vcpu0\"\} " "$prom" ||
	fail "no run-queue p99 for spin-1's vcpu0 in the metrics: $(grep vmgov_thread "$prom")"
grep -Eq "^vmgov_thread_cpu_throttled_periods_total\{vm=\"spin-1\",[^}]*group=\"spin\",thread=\"emulator\"\} 0$" "$prom" ||
	fail "the emulator's throttled periods in the metrics: $(grep 'thread="emulator"' "$prom")"

# a reload whose group no longer places threads apart: every thread back in spin-1's own cgroup, the children gone
spin_policy "CPUQuota = 50%" >"$policy2"
kill -HUP "$engine"
gathered() { [ -z "$(ls -d "$vm2"/*/ 2>/dev/null)" ]; }
wait_for 20 "spin-1's children removed after a reload without VCPUQuota=" gathered
for t in /proc/"$spin"/task/*; do
	[ "$(grep '^0::' "$t/cgroup")" = "0::/vmgov/spin/spin-1" ] || fail "spin-1's thread ${t##*/} is in $(grep '^0::' "$t/cgroup") after the reload"
done
assert_file_eq "$vm2/cpu.max" "50000 100000" "spin-1's cpu.max (CPUQuota=50%) after the reload"
assert_contains "$(cat "$VMTEST_TMP/run2.log")" "its group no longer places its threads apart: gathered back into vmgov/spin/spin-1" \
	"the engine says it gathered the threads"

kill -TERM "$engine"
wait "$engine" || fail "vmgov run exited $? on SIGTERM: $(tail -n 5 "$VMTEST_TMP/run2.log")"
for t in /proc/"$spin"/task/*; do
	[ "$(grep '^0::' "$t/cgroup")" = "0::/${home#/sys/fs/cgroup/}" ] ||
		fail "spin-1's thread ${t##*/} is in $(grep '^0::' "$t/cgroup") after SIGTERM"
done
[ ! -e "$vm2" ] || fail "$vm2 is still there after SIGTERM: $(ls "$vm2")"
log ok
