#!/bin/sh
# Which thread of a real QEMU is which (engine/discover/vcpus.h through tests/helpers/vmgov_threads.c): through its
# QMP socket, through its thread names once the socket is gone, and unknown (with what to do) with neither. The
# truth is what the kernel shows of QEMU's own thread names (-name ...,debug-threads=on).
set -eu
. /vmtest/lib.sh

command -v vmgov-threads >/dev/null || fail "vmgov-threads is not in the guest (build/tests/helpers was not built)"

# the tid of the thread of $1 whose comm is exactly $2
tid_named() {
	for _t in /proc/"$1"/task/*; do
		if [ "$(cat "$_t/comm" 2>/dev/null)" = "$2" ]; then
			echo "${_t##*/}"
			return 0
		fi
	done
	fail "QEMU $1 has no thread named '$2': $(cat /proc/"$1"/task/*/comm | tr '\n' '|')"
}

sock=$VMTEST_TMP/qmp.sock
# two vCPUs under multi-threaded TCG (one thread each), an IO thread, paused (-S): the threads exist, nothing burns
pid=$(VM_NAME_STYLE=libvirt vm_start threads '' -machine pc -accel tcg,thread=multi -smp 2 -m 32 -S \
	-object iothread,id=io0 -qmp "unix:$sock,server=on,wait=off")
log "QEMU pid $pid: $(proc_cmdline "$pid")"
cpu0=$(tid_named "$pid" "CPU 0/TCG")
cpu1=$(tid_named "$pid" "CPU 1/TCG")
io0=$(tid_named "$pid" "IO io0")
log "by the kernel's names: vCPU 0 = $cpu0, vCPU 1 = $cpu1, io0 = $io0"

# 1. QMP answers (query-cpus-fast, query-iothreads). QEMU under TCG inside this TCG guest can take longer than the
# engine's 200 ms to answer (seen once, just after its start): the budget is 2 s here, except where it is the point.
out=$(vmgov-threads --timeout-ms 2000 "$pid") || fail "vmgov-threads $pid exited $?: $out"
log "through QMP:
$out"
assert_contains "$out" "source qmp" "map source with a QMP socket"
assert_contains "$out" "vcpu 0 $cpu0
vcpu 1 $cpu1" "vCPUs through QMP"
assert_contains "$out" "iothread io0 $io0" "IO thread through QMP"
assert_contains "$out" "emulator $pid" "the main thread through QMP"
case "$out" in *reason*) fail "QMP answered, yet a reason is given: $out" ;; esac
# QMP is asked and let go: it answers a second time (QEMU serves one client at a time)
out2=$(vmgov-threads --timeout-ms 2000 "$pid") || fail "vmgov-threads $pid (second time) exited $?: $out2"
assert_eq "$out" "$out2" "a second QMP exchange"

# 2. another client holds the monitor: no greeting comes, QMP is given up within its default 200 ms and the names
# answer
fifo=$VMTEST_TMP/held
mkfifo "$fifo"
vmgov-threads --hold "$sock" 30 >"$fifo" &
holder=$!
bg_track "$holder"
read -r held <"$fifo" || true
assert_eq held "$held" "the other client's greeting"
t0=$(cut -d' ' -f1 /proc/uptime | tr -d .)
out=$(vmgov-threads "$pid") || fail "vmgov-threads $pid with the monitor held exited $?: $out"
t1=$(cut -d' ' -f1 /proc/uptime | tr -d .)
log "with the monitor held ($(((t1 - t0) * 10)) ms):
$out"
# not waited out: the holder keeps it 30 s (3 s leaves room for a slow TCG guest, QMP's share is 200 ms)
assert_gt 3000 $(((t1 - t0) * 10)) "milliseconds to fall through a held monitor"
assert_contains "$out" "source thread-names" "map source with the monitor held"
assert_contains "$out" "reason QMP socket $sock busy (another client holds it)" "reason with the monitor held"
assert_contains "$out" "vcpu 0 $cpu0
vcpu 1 $cpu1" "vCPUs with the monitor held"
vm_stop "$holder"
# let go, QEMU serves the next client (it first meets the connection given up above, already closed)
wait_for 10 "QMP to answer again" sh -c "vmgov-threads --timeout-ms 2000 $pid | grep -qx 'source qmp'"

# 3. the socket gone: the thread names answer, and the status says why QMP did not
rm -f "$sock"
out=$(vmgov-threads "$pid") || fail "vmgov-threads $pid without the socket exited $?: $out"
log "without the socket:
$out"
assert_contains "$out" "source thread-names" "map source without the QMP socket"
assert_contains "$out" "reason QMP socket $sock: No such file or directory" "reason without the QMP socket"
assert_contains "$out" "vcpu 0 $cpu0
vcpu 1 $cpu1" "vCPUs through thread names"
assert_contains "$out" "iothread io0 $io0" "IO thread through thread names"
# the monitor's own IO thread is QEMU's, not one of the VM's
mon=$(tid_named "$pid" "IO mon_iothread")
assert_contains "$out" "emulator $mon" "the monitor's IO thread"

# 4. neither QMP nor names: unknown, with what to do
pid2=$(vm_start plain '' -machine pc -accel tcg,thread=multi -smp 2 -m 32 -S)
rc=0
out=$(vmgov-threads "$pid2") || rc=$?
log "no QMP, no names (exit $rc):
$out"
assert_eq 4 "$rc" "exit status of vmgov-threads for an unknown map"
assert_contains "$out" "source unknown" "map source with neither"
assert_contains "$out" "reason no QMP socket on its command line; its threads are not named; start QEMU with -name NAME,debug-threads=on" "reason with neither"
case "$out" in *"vcpu "*) fail "vCPUs guessed: $out" ;; esac

vm_stop "$pid"
vm_stop "$pid2"
log "ok"
