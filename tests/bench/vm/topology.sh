#!/bin/sh
# Run by scripts/bench/topology in the VM harness (VMTEST_SUITE=tests/bench/vm): why a VM's threads are placed
# apart. One QEMU whose vCPU 0 spins (vm_burn's boot sector, multi-threaded TCG, a QMP socket) under a quota of 20%
# of one CPU, applied once to the whole VM (CPUQuota=20%) and once to its vCPUs only (VCPUQuota=20%), one after the
# other in this guest. For each: the emulator's responsiveness (QMP query-status round trips, p50 and p99, through
# vmgov-threads --rtt), and the guest-visible throttling (the vCPU thread's throttled periods and its CPU time,
# from the cgroup that holds it, over 5 s). Prints "BENCH whole ...", "BENCH split ..." and the ratios.
set -eu
. /vmtest/lib.sh
require_vmgov
N=$(sed -n 's/.*vmgov\.bench_n=\([0-9]*\).*/\1/p' /proc/cmdline)
N=${N:-200}

img=$VMTEST_TMP/spin.img
bootsector "$img"
home=$(cg_create topo-home)
stat() { awk -v k="$2" '$1 == k { print $2 }' "$1/cpu.stat"; }

# MODE KEY: one configuration, its figures in one line
run() {
	_mode=$1 _key=$2
	_policy=$VMTEST_TMP/$_mode.ini
	cat >"$_policy" <<INI
[group spin]
MatchName = spin-*
Placement = own
$_key = 20%
INI
	_sock=$VMTEST_TMP/$_mode.sock
	_pid=$(VM_CGROUP=$home VM_NAME_STYLE=libvirt vm_start "spin-$_mode" '' -machine pc -accel tcg,thread=multi -smp 1 \
		-m 32 -drive "file=$img,format=raw,if=ide,index=0" -boot c -qmp "unix:$_sock,server=on,wait=off")
	"$VMGOV" --policy "$_policy" --state-file "$VMTEST_TMP/state-$_mode" --interval 1s run 2>"$VMTEST_TMP/$_mode.log" &
	_e=$!
	bg_track "$_e"
	_vm=/sys/fs/cgroup/vmgov/spin/spin-$_mode
	if [ "$_mode" = split ]; then _vcg=$_vm/vcpu0; else _vcg=$_vm; fi
	limited() { [ "$(cut -d' ' -f1 "$_vcg/cpu.max" 2>/dev/null)" = 20000 ]; }
	wait_for 60 "$_mode: the quota in $_vcg" limited
	sleep 2
	_vtid=$(vmgov-threads --timeout-ms 2000 "$_pid" | awk '$1 == "vcpu" && $2 == 0 { print $3 }')
	_u0=$(awk '{ print $14 + $15 }' "/proc/$_pid/task/$_vtid/stat")
	_p0=$(stat "$_vcg" nr_periods) _th0=$(stat "$_vcg" nr_throttled) _t0=$(cut -d' ' -f1 /proc/uptime)
	sleep 5 # the vCPU's share over 5 s, with nothing asked of the emulator
	_u1=$(awk '{ print $14 + $15 }' "/proc/$_pid/task/$_vtid/stat")
	_p1=$(stat "$_vcg" nr_periods) _th1=$(stat "$_vcg" nr_throttled) _t1=$(cut -d' ' -f1 /proc/uptime)
	_rtt=$(vmgov-threads --rtt "$_sock" "$N") || fail "$_mode: vmgov-threads --rtt: $_rtt"
	_ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
	echo "BENCH $_mode ($_key=20%, quota in $(echo "$_vcg" | sed 's|/sys/fs/cgroup/||')) $_rtt" \
		"vcpu_throttled $((_th1 - _th0)) of $((_p1 - _p0)) periods" \
		"vcpu_cpu $(awk -v u="$((_u1 - _u0))" -v hz="$_ticks" -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.0f%%", 100 * u / hz / (b - a) }')"
	kill -TERM "$_e"
	wait "$_e" || fail "$_mode: vmgov exit status $?"
	vm_stop "$_pid"
}

run whole CPUQuota >"$VMTEST_TMP/whole"
run split VCPUQuota >"$VMTEST_TMP/split"
cat "$VMTEST_TMP/whole" "$VMTEST_TMP/split"
cat "$VMTEST_TMP/whole" "$VMTEST_TMP/split" | awk '{
	for (i = 1; i < NF; i++) { if ($i == "p50_ms") { p50[++a] = $(i + 1) } if ($i == "p99_ms") { p99[++b] = $(i + 1) } }
	} END { printf "BENCH ratio  query-status p50 %.2fx  p99 %.2fx (whole VM / vCPUs only)\n", p50[1] / p50[2], p99[1] / p99[2] }'
log "ok"
