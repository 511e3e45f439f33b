#!/bin/sh
# Churn: 500 real QEMU processes start and exit (20 rounds of 25) while the engine runs its loop with process
# events. It must not crash, its open file descriptors must not grow, every write it makes is beneath its own tree
# (none to a cgroup it does not manage), and the cgroups of exited VMs are removed.
# vmtest-timeout: 600
set -eu
. /vmtest/lib.sh
require_vmgov

audit=$VMTEST_TMP/audit.jsonl
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $audit
[group churn]
MatchName = churn-*
CPUWeight = 222
MemoryHigh = 256M
INI
# a bystander in a cgroup of its own that no group matches: must never be touched
other=$(cg_create bystander)
by=$(VM_CGROUP=$other vm_idle bystander-1)

"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" --interval 200ms run 2>"$VMTEST_TMP/run.log" &
e=$!
bg_track "$e"
ready() { grep -q "interval 200ms" "$VMTEST_TMP/run.log"; }
wait_for 30 "the engine to start" ready
sleep 1
# the fewest of a few samples: a tick in progress holds a /proc fd or two for a moment
fdcount() {
	_min=100000
	for _i in 1 2 3 4 5 6 7 8; do
		_n=$(ls /proc/"$e"/fd | wc -l)
		[ "$_n" -lt "$_min" ] && _min=$_n
		usleep 70000
	done
	echo "$_min"
}
round=0
while [ $round -lt 20 ]; do
	pids=""
	i=0
	while [ $i -lt 25 ]; do
		qemu-system-x86_64 -machine none -nodefaults -display none -S -name "churn-$round-$i" >/dev/null 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	usleep 300000
	kill $pids 2>/dev/null || true
	# bounded: a QEMU that outlives SIGTERM fails the test with where it is stuck, rather than hanging it
	_n=0
	while :; do
		_alive=
		for p in $pids; do pid_alive "$p" && _alive="$_alive $p"; done
		[ -n "$_alive" ] || break
		_n=$((_n + 1))
		if [ "$_n" -ge 100 ]; then
			for p in $_alive; do
				log "pid $p alive 20 s after SIGTERM: $(grep -E '^(State|SigBlk|SigPnd|ShdPnd)' /proc/$p/status | tr '\n' ' ')" \
					"wchan $(cat /proc/$p/wchan 2>/dev/null) cgroup $(proc_cgroup "$p")" \
					"frozen $(cat "/sys/fs/cgroup$(proc_cgroup "$p")/cgroup.freeze" 2>/dev/null)"
				cat "/proc/$p/stack" 2>/dev/null | head -n 12
			done
			tail -n 20 "$VMTEST_TMP/run.log"
			fail "QEMU processes$_alive did not exit on SIGTERM in round $round"
		fi
		usleep 200000
	done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	pid_alive "$e" || fail "the engine died in round $round: $(tail -n 5 "$VMTEST_TMP/run.log")"
	if [ $round -eq 0 ]; then
		# the baseline, once the engine holds what it holds for good: the journal of originals is opened at the
		# first original it records, which the first round's VMs bring
		sleep 1
		fds0=$(fdcount)
	fi
	round=$((round + 1))
done
sleep 3 # a few ticks to sweep the last round and remove its cgroups
fds1=$(fdcount)
[ "$fds1" -le "$fds0" ] || ls -l /proc/"$e"/fd
placed=$(grep -c '"file":"cgroup.procs"' "$audit" || true)
leftover=$(find /sys/fs/cgroup/vmgov/churn -mindepth 1 -type d 2>/dev/null | wc -l)
log "500 launches: the engine placed $placed of them while they lived; open fds $fds0 after the first round, $fds1 after the last;" \
	"$leftover cgroups left under vmgov/churn"

log "engine log: $(grep -c "found VM churn" "$VMTEST_TMP/run.log") found, $(grep -c "exited" "$VMTEST_TMP/run.log") exited; other lines:"
grep -v -e "found VM" -e "placed VM" -e "wrote " -e "exited" "$VMTEST_TMP/run.log" | sort | uniq -c | sort -rn | head -n 15
pid_alive "$e" || fail "the engine died"
assert_ge "$fds0" "$fds1" "open fds after the churn against before"
assert_eq 0 "$leftover" "cgroups of exited VMs left behind"
assert_eq 0 "$(grep -v '"cgroup":"vmgov/churn/' "$audit" | wc -l)" "audit lines for anything but the engine's own churn cgroups"
assert_file_eq "$other/cpu.weight" 100 "the bystander's cgroup untouched"
assert_eq /bystander "$(proc_cgroup "$by")" "the bystander not moved"
kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
log "ok"
