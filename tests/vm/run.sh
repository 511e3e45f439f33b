#!/bin/sh
# /vmtest/run.sh [NAME...] — run integration tests inside the vmtest guest and print console markers.
#
# Without NAME it runs every /vmtest/integration/*.sh in name order. Per test it prints the test's output
# (prefixed "  NAME| ") and then exactly one line
#     VMTEST-RESULT PASS|FAIL|SKIP NAME (SECONDSs)[: reason]
# and at the end
#     VMTEST-SUMMARY N passed, N failed, N skipped
# scripts/vmtest on the host decides from these lines only.
#
# Environment: VMTEST_TEST_TIMEOUT (default 240 s; a test may ask for more with a "# vmtest-timeout: SECS"
# line), VMTEST_KEEP=1 to leave each test's processes and cgroups behind (for --keep).

TESTDIR=/vmtest/integration
TIMEOUT=${VMTEST_TEST_TIMEOUT:-240}
KEEP=${VMTEST_KEEP:-0}

now() {
	cut -d' ' -f1 /proc/uptime
}

# seconds between two /proc/uptime readings, one decimal
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}

# A line on the second serial port every 5 s while a test runs: the host tells a hung guest (no more lines) from a
# slow test (scripts/vmtest). It stops when the watchdog has sent SIGKILL: a test that survives that is stuck too.
heartbeat() {
	[ $(($1 % 10)) -ne 0 ] || echo "VMTEST-ALIVE $(cut -d' ' -f1 /proc/uptime)" >/dev/ttyS1 2>/dev/null
}

# watchdog PID SECS MARKER: after SECS, TERM the test's whole session, KILL it 15 s later
watchdog() {
	_i=0
	while [ "$_i" -lt "$(($2 * 2))" ]; do
		heartbeat "$_i"
		sleep 0.5
		kill -0 "$1" 2>/dev/null || exit 0
		_i=$((_i + 1))
	done
	echo "SIGTERM sent" >"$3"
	kill -TERM -- "-$1" 2>/dev/null
	_i=0
	while [ "$_i" -lt 30 ]; do
		heartbeat "$_i"
		sleep 0.5
		kill -0 "$1" 2>/dev/null || exit 0
		_i=$((_i + 1))
	done
	echo "SIGTERM sent, SIGKILL 15 s later" >"$3"
	kill -KILL -- "-$1" 2>/dev/null
}

# The root's cgroup.subtree_control as the guest booted: a test that hands cpuset down from the root (pins,
# partitions) must not change what the next test finds (with cpuset there, Linux 6.1 asks for CAP_SYS_NICE to move a
# process with capabilities the mover lacks).
ROOT_SUBTREE=$(cat /sys/fs/cgroup/cgroup.subtree_control)
DYING_LEFT=0 # the dying cgroups the last sweep left (sweep())

# Kill what a test left behind, remove every non-root cgroup and give the root back the controllers it had for its
# children: each test starts from a clean guest.
sweep() {
	_left=""
	for _d in /proc/[0-9]*; do
		_p=${_d#/proc/}
		read -r _c <"$_d/comm" 2>/dev/null || continue # no fork per process: this runs between every two tests
		case "$_c" in
		qemu-system-* | vmgov) _left="$_left $_p" ;;
		esac
	done
	if [ -n "$_left" ]; then
		echo "  (sweep: killing leftover processes:$_left)"
		# shellcheck disable=SC2086
		kill -TERM $_left 2>/dev/null
		sleep 1
		# shellcheck disable=SC2086
		kill -KILL $_left 2>/dev/null
		sleep 0.5
	fi
	find /sys/fs/cgroup -mindepth 1 -depth -type d 2>/dev/null | while read -r _cg; do
		rmdir "$_cg" 2>/dev/null || echo "  (sweep: cannot remove cgroup $_cg)"
	done
	# the kernel tears removed cgroups down in the background (a thousand of scale_1000's, its kworkers and RCU
	# callbacks busy for seconds): the next test, a timing one perhaps, starts once that is over, that is once the
	# count of dying cgroups is back to what the last sweep left or has not fallen for 0.5 s (a memory cgroup whose
	# pages are still charged stays dying until they are reclaimed), and after 10 s at most
	_i=0
	_same=0
	_prev=-1
	while [ "$_i" -lt 100 ] && [ "$_same" -lt 5 ]; do
		_dying=0
		while read -r _k _v; do [ "$_k" != nr_dying_descendants ] || _dying=$_v; done </sys/fs/cgroup/cgroup.stat
		[ "$_dying" -gt "$DYING_LEFT" ] || break
		if [ "$_dying" -lt "$_prev" ] || [ "$_prev" -lt 0 ]; then _same=0; else _same=$((_same + 1)); fi
		_prev=$_dying
		_i=$((_i + 1))
		sleep 0.1
	done
	DYING_LEFT=$_dying
	for _c in $(cat /sys/fs/cgroup/cgroup.subtree_control); do
		case " $ROOT_SUBTREE " in
		*" $_c "*) ;;
		*) echo "-$_c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
			echo "  (sweep: cannot take $_c back from the root's children)" ;;
		esac
	done
}

if [ $# -gt 0 ]; then
	names="$*"
else
	names=""
	for f in "$TESTDIR"/*.sh; do
		[ -e "$f" ] || continue
		n=${f##*/}
		names="$names ${n%.sh}"
	done
fi

echo "VMTEST-PLAN$(for n in $names; do printf ' %s' "$n"; done)"

passed=0
failed=0
skipped=0
for name in $names; do
	f=$TESTDIR/$name.sh
	tmp=/tmp/vmtest/$name
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [ ! -f "$f" ]; then
		echo "VMTEST-RESULT FAIL $name (0.0s): no such test: $f"
		failed=$((failed + 1))
		continue
	fi
	t=$(sed -n 's/^# *vmtest-timeout: *\([0-9][0-9]*\).*/\1/p' "$f" | head -n 1)
	[ -n "$t" ] || t=$TIMEOUT

	echo "VMTEST-START $name (timeout ${t}s)"
	start=$(now)
	# the test runs in its own session, so a timeout signals all of it (a foreground sleep too, which
	# would otherwise hold back the test's TERM trap and its cleanup)
	VMTEST_NAME=$name VMTEST_TMP=$tmp VMTEST_KEEP=$KEEP VMTEST_REASON_FILE=$tmp/reason \
		setsid sh "$f" >"$tmp/output" 2>&1 </dev/null &
	tpid=$!
	watchdog "$tpid" "$t" "$tmp/timedout" &
	wpid=$!
	wait "$tpid"
	rc=$?
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	end=$(now)
	sed "s/^/  $name| /" "$tmp/output"

	reason=""
	[ -s "$tmp/reason" ] && reason=$(tail -n 1 "$tmp/reason")
	case $rc in
	0) status=PASS ;;
	77) status=SKIP ;;
	*)
		status=FAIL
		if [ -e "$tmp/timedout" ]; then
			reason="timed out after ${t}s ($(cat "$tmp/timedout"))${reason:+; last reason: $reason}"
		elif [ -z "$reason" ] && [ "$rc" -gt 128 ]; then
			reason="killed by signal $((rc - 128))"
		fi
		[ -n "$reason" ] || reason="exit $rc"
		;;
	esac
	[ "$KEEP" = 1 ] || sweep

	line="VMTEST-RESULT $status $name ($(elapsed "$start" "$end")s)"
	[ -n "$reason" ] && line="$line: $reason"
	echo "$line"
	case $status in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done

echo "VMTEST-SUMMARY $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
