# shellcheck shell=sh
# /vmtest/lib.sh — helpers for integration tests that run inside the vmtest guest (busybox ash).
#
# A test is tests/integration/NAME.sh. It is run by /vmtest/run.sh as `sh NAME.sh` with its own temporary
# directory, and starts with:
#
#     #!/bin/sh
#     # vmtest-timeout: 300        (optional; seconds for this test, default 240)
#     set -eu
#     . /vmtest/lib.sh
#
# Exit status: 0 = PASS, 77 = SKIP (shown on the console and counted; use it only for something the kernel
# lacks, never for a missing engine), anything else = FAIL. The reason shown on the result line is the message
# of the last fail/skip call (or "exit N" / "timed out").
#
# The guest: Debian's kernel, pure cgroup v2 at /sys/fs/cgroup with +cpu +memory +io +pids in the root's
# subtree_control, bpffs at /sys/fs/bpf, tracefs at /sys/kernel/tracing, debugfs at /sys/kernel/debug,
# configfs at /sys/kernel/config, /dev/ram0 (brd, 64 MiB), /dev/nullb0 (null_blk), zram/loop/tun/ifb and the
# tc modules loaded where the kernel has them as modules. Real qemu-system-x86_64 (TCG only, no /dev/kvm),
# iproute2's ip and tc when the host had them, otherwise busybox's. The engine, when it was built, is
# /usr/sbin/vmgov; policies/ is /vmtest/policies; the kernel's config is /vmtest/kernel-config. The test helpers
# (executables built in BUILD/tests/helpers/, e.g. schedlat-check) are in /usr/bin.
#
# Environment given to a test:
#   VMTEST_NAME   the test's name          VMTEST_TMP  its private temporary directory (on tmpfs)
#   VMTEST_KEEP   1 when started with `vmtest --keep`: cleanup leaves VMs, processes and cgroups in place
#
# Messages and failures
#   log MSG...                 print MSG with the guest's uptime
#   fail MSG...                record MSG as the reason and exit 1 (from a $(...) subshell too: the reason is kept)
#   skip MSG...                record MSG as the reason and exit 77
#
# Assertions (each fails the test with MSG plus what it saw)
#   assert_eq EXPECTED ACTUAL MSG      string equality
#   assert_ne UNEXPECTED ACTUAL MSG    string inequality
#   assert_gt A B MSG                  integer A > B        assert_ge A B MSG   integer A >= B
#   assert_contains HAYSTACK NEEDLE MSG
#   assert_file_eq FILE EXPECTED MSG   the file's content (trailing newline stripped) equals EXPECTED
#   assert_exists PATH MSG
#   assert_cmd MSG CMD [ARGS...]       run CMD; fail with MSG and CMD's output when it exits non-zero
#   wait_for SECS DESCRIPTION CMD [ARGS...]
#                                      run CMD every 0.2 s until it succeeds; fail after SECS with
#                                      "timed out after SECS s waiting for DESCRIPTION". Be generous: TCG on a
#                                      loaded host can be 10x slower. Assert on kernel counters, not wall time.
#
# QEMU workloads (real qemu-system-x86_64, daemonized; each prints the QEMU pid on stdout, is recorded for
# cleanup, logs to $VMTEST_TMP/qemu-NAME.log, and fails the test with QEMU's error if it does not start)
#   vm_idle NAME [UUID [QEMU-ARGS...]]      -machine none -nodefaults -display none -S: up in <1 s, ~18 MB
#   vm_burn NAME [UUID [QEMU-ARGS...]]      -machine pc -accel tcg -smp 1 booting a 512-byte boot sector
#                                           that spins (`jmp $`): one vCPU thread at 100% CPU
#   vm_tap NAME UUID IFNAME [QEMU-ARGS...]  -machine pc -S with -netdev tap,ifname=IFNAME,script=no,
#                                           downscript=no and a virtio-net-pci NIC: QEMU creates IFNAME
#   vm_start NAME UUID MACHINE-ARGS...      the common part: any other machine
#   NAME may be anything, hostile too: commas are doubled for QEMU's parser (",," is a literal comma, as
#   libvirt writes it: /proc/PID/cmdline shows "a,,b" for NAME "a,b"); the pid and log files are named after
#   a sanitized, shortened copy.
#   Before any of these, set VM_CGROUP=/sys/fs/cgroup/PATH to start the QEMU inside that cgroup (it is
#   moved before exec, so every thread is born there). An empty UUID ("") means a fresh random one.
#   VM_NAME_STYLE=libvirt passes `-name guest=NAME,debug-threads=on` (libvirt's form, vCPU threads are then
#   named "CPU 0/TCG") instead of `-name NAME`.
#   vm_stop PID                 SIGTERM, then SIGKILL after 10 s; waits until the process is gone
#   vm_uuid                     print a random UUID
#   bootsector PATH             write the spinning 512-byte boot sector to PATH (printf, no assembler)
#
# Processes
#   pid_alive PID               true while PID exists and is not a zombie
#   bg_track PID                stop PID (like vm_stop) at cleanup, e.g. a vmgov started with `&`
#   proc_cmdline PID            print /proc/PID/cmdline with NULs turned into spaces
#   proc_cgroup PID             print PID's cgroup v2 path (the "0::" line of /proc/PID/cgroup)
#   proc_threads_cpus PID       print the Cpus_allowed_list all of PID's threads share, else "mixed: LIST LIST ..."
#
# cgroups (paths are absolute directories under /sys/fs/cgroup)
#   cg_create NAME              mkdir /sys/fs/cgroup/NAME (parents too), print the path; removed at cleanup
#   cg_enable CG CONTROLLERS... write "+c" for each to CG/cgroup.subtree_control
#   cg_write CG FILE VALUE      one write of VALUE to CG/FILE; fails the test with the kernel's error
#   cg_read CG FILE             print CG/FILE
#   cg_key CG FILE KEY          print KEY's value from a flat keyed file (cpu.stat, memory.events, ...)
#   cg_move PID CG              move PID (the whole process) into CG
#
# Block devices
#   ram_dev                     print MAJ:MIN of /dev/ram0 (from /sys/block/ram0/dev)
#   blk_dev NAME                print MAJ:MIN of /sys/block/NAME
#
# The engine
#   require_vmgov               FAIL (never skip) when /usr/sbin/vmgov is missing, i.e. the engine was not
#                               built; sets VMGOV to its path
#
# Cleanup runs on exit of the test's main shell (not in $(...) subshells): tracked processes are stopped,
# then created cgroups removed, deepest first. /vmtest/run.sh also kills every leftover qemu/vmgov process and
# removes every non-root cgroup after each test, so tests start from a clean guest.

VMTEST_NAME=${VMTEST_NAME:-adhoc}
VMTEST_TMP=${VMTEST_TMP:-/tmp/vmtest-$VMTEST_NAME}
VMTEST_KEEP=${VMTEST_KEEP:-0}
VMTEST_REASON_FILE=${VMTEST_REASON_FILE:-$VMTEST_TMP/reason}
VMTEST_QEMU=${VMTEST_QEMU:-qemu-system-x86_64}
VMTEST_CGROOT=${VMTEST_CGROOT:-/sys/fs/cgroup}
mkdir -p "$VMTEST_TMP"
_VMTEST_PIDS=$VMTEST_TMP/.pids
_VMTEST_CGS=$VMTEST_TMP/.cgroups
: >>"$_VMTEST_PIDS"
: >>"$_VMTEST_CGS"

# The real pid of the current shell ($$ is the parent's in a subshell): the read builtin's redirection is
# opened by the shell process itself.
_vmtest_self() {
	read -r _vmtest_self_pid _ </proc/self/stat
}
_vmtest_self
_VMTEST_MAIN_PID=$_vmtest_self_pid

log() {
	_up=$(cut -d' ' -f1 /proc/uptime)
	echo "[$_up] $*"
}

fail() {
	echo "$*" >"$VMTEST_REASON_FILE"
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$*" >"$VMTEST_REASON_FILE"
	echo "SKIP: $*" >&2
	exit 77
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

assert_ne() {
	[ "$1" != "$2" ] || fail "$3: got '$2', which it must not be"
}

_vmtest_int() {
	case "$1" in
	'' | *[!0-9-]*) fail "$2: '$1' is not an integer" ;;
	esac
}

assert_gt() {
	_vmtest_int "$1" "$3"
	_vmtest_int "$2" "$3"
	[ "$1" -gt "$2" ] || fail "$3: expected $1 > $2"
}

assert_ge() {
	_vmtest_int "$1" "$3"
	_vmtest_int "$2" "$3"
	[ "$1" -ge "$2" ] || fail "$3: expected $1 >= $2"
}

assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: '$2' not found in '$1'" ;;
	esac
}

assert_file_eq() {
	[ -e "$1" ] || fail "$3: $1 does not exist"
	_got=$(cat "$1") || fail "$3: cannot read $1"
	[ "$_got" = "$2" ] || fail "$3: $1 is '$_got', expected '$2'"
}

assert_exists() {
	[ -e "$1" ] || fail "$2: $1 does not exist"
}

assert_cmd() {
	_msg=$1
	shift
	if ! _out=$("$@" 2>&1); then
		fail "$_msg: '$*' failed: $_out"
	fi
}

wait_for() {
	_secs=$1
	_what=$2
	shift 2
	_deadline=$(($(cut -d. -f1 /proc/uptime) + _secs))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_deadline" ]; then
			fail "timed out after ${_secs} s waiting for $_what"
		fi
		sleep 0.2
	done
}

# ---- processes

pid_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	# field 3 is the state; the comm in field 2 may hold spaces, so cut after the last ')'. With the shell's own
	# read and expansions: no fork, which costs milliseconds under TCG and is asked for a thousand pids at cleanup
	read -r _st <"/proc/$1/stat" 2>/dev/null || return 1
	_st=${_st##*) }
	_st=${_st%% *}
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

bg_track() {
	echo "$1" >>"$_VMTEST_PIDS"
}

# _vmtest_stop PID...: SIGTERM to each that lives, in the order given, without waiting for it; then all waited for
# together, SIGKILL after 10 s, and given up after 30 s (1, said on stderr). One by one, a test's thousand processes
# took half a minute to stop.
_vmtest_stop() {
	_left=
	for _p in "$@"; do
		pid_alive "$_p" && kill -TERM "$_p" 2>/dev/null && _left="$_left $_p"
	done
	_i=0
	while [ -n "$_left" ]; do
		_alive=
		for _p in $_left; do
			pid_alive "$_p" && _alive="$_alive $_p"
		done
		_left=$_alive
		[ -n "$_left" ] || break
		_i=$((_i + 1))
		[ "$_i" -ne 50 ] || kill -KILL $_left 2>/dev/null || true
		if [ "$_i" -ge 150 ]; then
			echo "vmtest: pids$_left survived SIGKILL for 20 s" >&2
			return 1
		fi
		sleep 0.2
	done
}

vm_stop() {
	_vmtest_stop "$1" || fail "cannot stop pid $1"
}

proc_cmdline() {
	tr '\0' ' ' <"/proc/$1/cmdline" | sed 's/ $//'
}

proc_cgroup() {
	sed -n 's/^0:://p' "/proc/$1/cgroup"
}

proc_threads_cpus() {
	_lists=$(for _t in /proc/"$1"/task/*; do awk '$1 == "Cpus_allowed_list:" { print $2 }' "$_t/status"; done | sort -u)
	case "$_lists" in
	*"
"*) echo "mixed: $(echo "$_lists" | tr '\n' ' ')" ;;
	*) echo "$_lists" ;;
	esac
}

# ---- QEMU workloads

vm_uuid() {
	cat /proc/sys/kernel/random/uuid
}

bootsector() {
	# jmp $ (eb fe), zeros up to byte 510, then the 55 aa boot signature
	{
		printf '\353\376'
		head -c 508 /dev/zero
		printf '\125\252'
	} >"$1"
	_sz=$(wc -c <"$1")
	[ "$_sz" -eq 512 ] || fail "boot sector $1 is $_sz bytes, not 512"
}

vm_start() {
	_name=$1
	_uuid=$2
	shift 2
	[ -n "$_uuid" ] || _uuid=$(vm_uuid)
	# QEMU's option parser splits on ','; ',,' is a literal comma (libvirt escapes the same way)
	case "$_name" in
	*,*) _qname=$(printf '%s' "$_name" | sed 's/,/,,/g') ;;
	*) _qname=$_name ;;
	esac
	if [ "${VM_NAME_STYLE:-plain}" = libvirt ]; then
		_namearg="guest=$_qname,debug-threads=on"
	else
		_namearg=$_qname
	fi
	# the name may be hostile on purpose ('../x', 4 KiB): file names get a plain form plus a counter
	_vmtest_seq=$((${_vmtest_seq:-0} + 1))
	_file=$(printf '%s' "$_name" | tr -c 'A-Za-z0-9_-' '_' | cut -c1-48)-$_vmtest_seq
	_pidfile=$VMTEST_TMP/qemu-$_file.pid
	_log=$VMTEST_TMP/qemu-$_file.log
	rm -f "$_pidfile"
	if ! (
		if [ -n "${VM_CGROUP:-}" ]; then
			echo 0 >"$VM_CGROUP/cgroup.procs" || exit 1
		fi
		exec "$VMTEST_QEMU" -name "$_namearg" -uuid "$_uuid" -nodefaults -display none \
			-daemonize -pidfile "$_pidfile" -D "$_log" "$@"
	) >>"$_log" 2>&1; then
		fail "QEMU '$_name' did not start: $(tail -n 5 "$_log" | tr '\n' ' ')"
	fi
	[ -s "$_pidfile" ] || fail "QEMU '$_name' wrote no pid file"
	_pid=$(cat "$_pidfile")
	bg_track "$_pid"
	pid_alive "$_pid" || fail "QEMU '$_name' (pid $_pid) exited right after starting: $(tail -n 5 "$_log" | tr '\n' ' ')"
	echo "$_pid"
}

vm_idle() {
	_n=$1
	_u=${2:-}
	[ $# -ge 2 ] && shift 2 || shift $#
	vm_start "$_n" "$_u" -machine none -accel tcg -S "$@"
}

vm_burn() {
	_n=$1
	_u=${2:-}
	[ $# -ge 2 ] && shift 2 || shift $#
	_img=$VMTEST_TMP/bootsector-$_n.img
	bootsector "$_img"
	vm_start "$_n" "$_u" -machine pc -accel tcg -smp 1 -m 32 \
		-drive "file=$_img,format=raw,if=ide,index=0" -boot c "$@"
}

vm_tap() {
	[ $# -ge 3 ] || fail "vm_tap NAME UUID IFNAME: missing arguments"
	_n=$1
	_u=$2
	_if=$3
	shift 3
	[ -c /dev/net/tun ] || fail "/dev/net/tun missing (tun module not loaded?)"
	vm_start "$_n" "$_u" -machine pc -accel tcg -smp 1 -m 32 -S \
		-netdev "tap,id=n0,ifname=$_if,script=no,downscript=no,vhost=off" \
		-device virtio-net-pci,netdev=n0,romfile= "$@"
}

# ---- cgroups

cg_create() {
	case "$1" in
	/*) _cg=$1 ;;
	*) _cg=$VMTEST_CGROOT/$1 ;;
	esac
	mkdir -p "$_cg" || fail "cannot create cgroup $_cg"
	echo "$_cg" >>"$_VMTEST_CGS"
	echo "$_cg"
}

cg_write() {
	# one write(2) by ash's echo builtin, which reports the kernel's error (its printf builtin does not)
	if ! _err=$( (echo -n "$3" >"$1/$2") 2>&1); then
		fail "write '$3' to $1/$2 failed: ${_err:-no error message}"
	fi
}

cg_read() {
	cat "$1/$2" || fail "cannot read $1/$2"
}

cg_key() {
	_v=$(awk -v k="$3" '$1 == k { print $2; exit }' "$1/$2") || fail "cannot read $1/$2"
	[ -n "$_v" ] || fail "no key '$3' in $1/$2"
	echo "$_v"
}

cg_enable() {
	_cg=$1
	shift
	for _c in "$@"; do
		cg_write "$_cg" cgroup.subtree_control "+$_c"
	done
}

cg_move() {
	cg_write "$2" cgroup.procs "$1"
}

# ---- block devices

blk_dev() {
	[ -r "/sys/block/$1/dev" ] || fail "no block device $1 (/sys/block/$1/dev missing)"
	cat "/sys/block/$1/dev"
}

ram_dev() {
	blk_dev ram0
}

# ---- the engine

require_vmgov() {
	VMGOV=/usr/sbin/vmgov
	[ -x "$VMGOV" ] || fail "the engine is not in the guest ($VMGOV missing: build/engine/vmgov was not built)"
}

# ---- swap

# zram swap of SIZE (e.g. 512M) for a test whose workload has cold anonymous memory to put somewhere; taken down
# again at exit, after the processes whose pages it holds are gone.
zram_swap() {
	[ -e /sys/block/zram0/disksize ] || skip "no zram device (/sys/block/zram0): the kernel lacks zram"
	trap 'vmtest_cleanup; _zram_off' EXIT
	_zram_off # a device left set up would refuse a new disksize
	cg_write /sys/block/zram0 disksize "$1"
	assert_cmd "mkswap /dev/zram0" mkswap /dev/zram0
	assert_cmd "swapon /dev/zram0" swapon /dev/zram0
	assert_contains "$(cat /proc/swaps)" /dev/zram0 "zram swap in /proc/swaps"
}

_zram_off() {
	_vmtest_self
	[ "$_vmtest_self_pid" = "$_VMTEST_MAIN_PID" ] && [ "$VMTEST_KEEP" != 1 ] || return 0
	swapoff /dev/zram0 2>/dev/null || true
	echo 1 >/sys/block/zram0/reset 2>/dev/null || true
}

# ---- cleanup

vmtest_cleanup() {
	_vmtest_self
	[ "$_vmtest_self_pid" = "$_VMTEST_MAIN_PID" ] || return 0
	if [ "$VMTEST_KEEP" = 1 ]; then
		echo "vmtest: --keep: leaving processes $(tr '\n' ' ' <"$_VMTEST_PIDS")and cgroups in place" >&2
		return 0
	fi
	# newest first
	# shellcheck disable=SC2046 # one pid per word
	_vmtest_stop $(sed '1!G;h;$!d' "$_VMTEST_PIDS") || true
	: >"$_VMTEST_PIDS"
	for _cg in $(sort -r -u "$_VMTEST_CGS"); do
		[ -d "$_cg" ] || continue
		# children first (deepest paths sort last in find's output, so reverse it)
		find "$_cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		[ -d "$_cg" ] && echo "vmtest: cannot remove cgroup $_cg: $(cat "$_cg/cgroup.procs" 2>/dev/null | tr '\n' ' ')" >&2
	done
	: >"$_VMTEST_CGS"
	return 0
}

trap 'vmtest_cleanup' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
