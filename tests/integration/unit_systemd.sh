#!/bin/sh
# vmtest-timeout: 300
# units/vmgov.service, as meson configured it, under a real systemd (Debian's, PID 1 of a container in the guest:
# its own pid, mount and cgroup namespaces, rooted at a cgroup of its own): the hardened unit starts (Type=notify:
# active only after READY=1), the engine places and limits a QEMU that systemd-run started, keeps exactly the
# unit's capabilities, pings the watchdog, reloads on `systemctl reload`, logs to the journal with priorities, and
# `systemctl stop` restores every original and ends the unit with Result=success.
set -eu
. /vmtest/lib.sh
require_vmgov
[ -x /lib/systemd/systemd ] || fail "systemd is not in the guest (scripts/setup installs it; scripts/vmtest copies it)"
unit=/vmtest/units-built/vmgov.service
start_script=/vmtest/units-built/vmgov-start
[ -f "$unit" ] && [ -f "$start_script" ] || fail "the built unit is not in the guest (BUILD/units/)"

# Install the unit as meson configured it: vmgov-start where ExecStart= says, the engine where vmgov-start execs it.
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
engine_path=$(sed -n 's/^exec \([^ ]*\/vmgov\) .*/\1/p' "$start_script")
[ -n "$exec_start" ] && [ -n "$engine_path" ] || fail "cannot read ExecStart= ($exec_start) or the engine path ($engine_path)"
mkdir -p "$(dirname "$exec_start")" "$(dirname "$engine_path")" /etc/systemd/system/vmgov.service.d /etc/vmgov/policy.d
cp "$start_script" "$exec_start"
chmod 0755 "$exec_start"
[ "$engine_path" = "$VMGOV" ] || ln -sf "$VMGOV" "$engine_path"
cp "$unit" /etc/systemd/system/vmgov.service
# The test's own settings, in a drop-in as an operator would write one: a watchdog short enough to see pings.
cat >/etc/systemd/system/vmgov.service.d/test.conf <<EOF
[Service]
WatchdogSec=2s
RestartSec=1s
EOF
cat >/etc/vmgov/policy.d/test.ini <<EOF
[engine]
Interval = 200ms
AuditLog = /var/log/vmgov/audit.jsonl

[group web]
MatchName = web-*
CPUWeight = 250
CPUQuota = 30%
MemoryHigh = 200M
EOF
chmod 0644 /etc/vmgov/policy.d/test.ini
cat >/etc/systemd/system/vmtest.target <<EOF
[Unit]
Description=vmtest: the journal and the targets every unit's default dependencies need
Wants=systemd-journald.service basic.target
After=basic.target
EOF
cleanup_files() {
	rm -rf /etc/systemd/system/vmgov.service /etc/systemd/system/vmgov.service.d /etc/systemd/system/vmtest.target \
		/etc/vmgov "$exec_start"
	[ "$engine_path" = "$VMGOV" ] || rm -f "$engine_path"
}

# The container: systemd as PID 1 of new pid, mount and cgroup namespaces, in a cgroup of its own, with cgroup2
# mounted afresh (so /sys/fs/cgroup is its cgroup namespace's root) and a /run of its own.
host_cg=$(cg_create systemd-ct)
sh -c 'echo $$ >"$1/cgroup.procs" && exec /usr/bin/unshare --pid --fork --mount --cgroup --propagation private sh -c "
	mount -t proc proc /proc && umount -l /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && mount -t tmpfs -o mode=0755 tmpfs /run &&
	exec env container=vmtest /lib/systemd/systemd --unit=vmtest.target"' sh "$host_cg" \
	>"$VMTEST_TMP/systemd.out" 2>&1 &
ct=$!
bg_track "$ct"
pid1=""
find_pid1() {
	pid1=$(cat "/proc/$ct/task/$ct/children" 2>/dev/null | awk '{ print $1 }')
	[ -n "$pid1" ] && [ "$(cat "/proc/$pid1/comm" 2>/dev/null)" = systemd ]
}
_i=0
while ! find_pid1; do
	_i=$((_i + 1))
	if [ "$_i" -gt 150 ]; then
		sed 's/^/    container: /' "$VMTEST_TMP/systemd.out"
		ps -o pid,ppid,comm,args 2>/dev/null | sed 's/^/    ps: /' || ps | sed 's/^/    ps: /'
		fail "no systemd as PID 1 of the container after 30 s"
	fi
	sleep 0.2
done
in_ct() { /usr/bin/nsenter -t "$pid1" -m -p -C -- "$@"; }
ct_stop() {
	[ -n "$pid1" ] && kill -0 "$pid1" 2>/dev/null || return 0
	in_ct systemctl poweroff >/dev/null 2>&1 || kill -TERM "$pid1" 2>/dev/null || true
	_i=0
	while kill -0 "$ct" 2>/dev/null && [ "$_i" -lt 40 ]; do
		sleep 0.5
		_i=$((_i + 1))
	done
	kill -KILL "$pid1" 2>/dev/null || true
}
trap 'ct_stop; vmtest_cleanup; cleanup_files' EXIT

booted() {
	_s=$(in_ct systemctl is-system-running 2>/dev/null) || true
	[ "$_s" = running ] || [ "$_s" = degraded ]
}
_i=0
while ! booted; do
	_i=$((_i + 1))
	if [ "$_i" -gt 300 ]; then
		sed 's/^/    systemd: /' "$VMTEST_TMP/systemd.out"
		in_ct systemctl list-jobs 2>&1 | sed 's/^/    job: /' || true
		fail "systemd did not finish starting up within 60 s: $(in_ct systemctl is-system-running 2>&1 || true)"
	fi
	sleep 0.2
done
log "systemd $(in_ct systemctl --version | head -n 1) is up: $(in_ct systemctl is-system-running || true)"

in_ct systemctl --failed --no-legend | sed 's/^/    failed: /'


# A QEMU started as systemd users start one: a transient unit, in system.slice.
in_ct systemd-run --quiet --unit=qemu-web-1 "$VMTEST_QEMU" -name web-1 -nodefaults -display none -machine none \
	-accel tcg -S || fail "systemd-run of QEMU failed"
qemu_host_pid() {
	for _d in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$_d/cmdline"; } 2>/dev/null | grep -q -- '-name web-1 '; then
			echo "${_d#/proc/}"
			return 0
		fi
	done
	return 1
}
wait_for 20 "QEMU web-1" qemu_host_pid
qemu=$(qemu_host_pid)
qemu_from=$(proc_cgroup "$qemu")
log "QEMU web-1: pid $qemu, cgroup $(proc_cgroup "$qemu") (in the container's cgroup namespace)"

# Without the controllers delegated to the container, Delegate=yes cannot give the unit any: the engine refuses to
# start, saying which are missing and where.
show() { in_ct systemctl show vmgov.service -p "$1" --value; }
if in_ct systemctl start vmgov.service 2>/dev/null; then
	fail "vmgov.service started without cpu, memory and io delegated to it"
fi
assert_contains "$(in_ct journalctl -u vmgov.service --no-pager -o cat -p err)" \
	"cannot make the engine's cgroup tree in /sys/fs/cgroup/machine.slice/vmgov.service: the controllers cpu memory io are not enabled for it by its parent" \
	"the engine's error in the journal"
in_ct systemctl stop vmgov.service # no restart (Restart=on-failure) while the test sets things right
in_ct systemctl reset-failed vmgov.service 2>/dev/null || true
in_ct journalctl --rotate --vacuum-files=1 >/dev/null 2>&1 || true
# The delegation a container manager (systemd-nspawn, or the host's systemd for a Delegate=yes unit) gives: the
# controllers enabled in the container's root cgroup, which the systemd inside may not enable itself (nsdelegate).
# The root must hold no process for that: unshare's parent waits in a sibling cgroup.
keeper=$(cg_create systemd-ct-keeper)
cg_write "$keeper" cgroup.procs "$ct"
cg_enable "$host_cg" cpu memory io pids

# Type=notify: `systemctl start` returns once the engine has sent READY=1.
in_ct systemctl start vmgov.service || {
	in_ct journalctl -u vmgov --no-pager -o cat | tail -n 20 | sed 's/^/    journal: /'
	fail "systemctl start vmgov failed"
}
assert_eq active "$(show ActiveState)" "ActiveState after start"
assert_eq running "$(show SubState)" "SubState after start"
unit_cg=$host_cg$(show ControlGroup)
assert_exists "$unit_cg/engine/cgroup.procs"
engine=$(head -n 1 "$unit_cg/engine/cgroup.procs")
log "vmgov.service: main pid $(show MainPID) in the container ($engine here), cgroup $(show ControlGroup)"
assert_eq vmgov "$(cat "/proc/$engine/comm")" "the process in vmgov.service/engine"

vm_cg=$unit_cg/vms/web/web-1
placed() { [ "$(cat "$vm_cg/cpu.max" 2>/dev/null)" = "30000 100000" ]; }
wait_for 30 "the engine to limit web-1 in $vm_cg" placed
assert_file_eq "$vm_cg/cpu.weight" 250
assert_file_eq "$vm_cg/memory.high" 209715200
assert_contains "$(cat "$vm_cg/cgroup.procs")" "$qemu" "QEMU in its cgroup beneath the unit's"

# The hardening as systemd applied it: exactly the unit's capabilities, no new privileges.
# CapBnd and CapEff: bits 12 (net_admin), 19 (sys_ptrace), 23 (sys_nice), 24 (sys_resource), 38 (perfmon), 39 (bpf)
caps=$(awk '/^CapEff:/ { e = $2 } /^CapBnd:/ { b = $2 } /^NoNewPrivs:/ { n = $2 } END { print e, b, n }' "/proc/$engine/status")
assert_eq "000000c001881000 000000c001881000 1" "$caps" "CapEff, CapBnd and NoNewPrivs of the engine"
assert_contains "$(in_ct sh -c "cat /proc/\$(systemctl show vmgov -p MainPID --value)/mountinfo")" " / / ro," \
	"the engine's root is read-only (ProtectSystem=strict)"

# WATCHDOG=1 at half of WatchdogSec=2s: systemd's timestamp of the last ping moves.
w1=$(show WatchdogTimestampMonotonic)
sleep 2.5
w2=$(show WatchdogTimestampMonotonic)
assert_gt "$w2" "$w1" "WatchdogTimestampMonotonic after 2.5 s"

# The live view, through vmgov status inside the container.
st=$(in_ct "$VMGOV" status)
assert_contains "$st" "vmgov daemon pid $(show MainPID) (enforcing" "vmgov status names the unit's daemon"
assert_contains "$st" "30000 100000" "vmgov status shows web-1's cpu.max"

# systemctl reload: SIGHUP, and the new policy is in force.
sed -i 's/^CPUQuota = 30%/CPUQuota = 40%/' /etc/vmgov/policy.d/test.ini
in_ct systemctl reload vmgov.service || fail "systemctl reload failed"
reloaded() { [ "$(cat "$vm_cg/cpu.max")" = "40000 100000" ]; }
wait_for 30 "the reloaded policy in force" reloaded
assert_eq active "$(show ActiveState)" "ActiveState after reload"

# The journal: the engine's lines with their priorities.
journal=$(in_ct journalctl -u vmgov.service --no-pager -o cat -p info..info)
assert_contains "$journal" "found VM web-1" "an info line in the journal"
assert_contains "$journal" "run-queue latency from tp_btf" "BPF loaded and attached under SystemCallFilter="
assert_contains "$journal" "policy reloaded from /etc/vmgov/policy.d" "the reload in the journal"
# (The kernel serves the proc connector to the initial pid namespace only, and this systemd runs in a container: the
# engine says it scans instead, the one warning expected here.)
assert_eq "" "$(in_ct journalctl -u vmgov.service --no-pager -o cat -p warning _PID="$(show MainPID)" |
	grep -v '^no process events (proc connector): Connection timed out; scanning every 200ms instead$' || true)" \
	"warning and error lines in the journal from the running engine (a system call SystemCallFilter= refused, say)"
assert_contains "$(cat /var/log/vmgov/audit.jsonl)" '"file":"cpu.max","old":"30000 100000","new":"40000 100000"' \
	"the audit log in LogsDirectory="

# systemctl restart: after the stop, ExecStopPost= (vmgov-start --release) disables the controllers in the unit's
# subtree, so that systemd 252 can put the new engine in the unit's cgroup (else: 219/CGROUP); the new engine
# governs the same VM, where it was left.
old_main=$(show MainPID)
in_ct systemctl restart vmgov.service || {
	in_ct journalctl -u vmgov.service --no-pager -o cat | tail -n 15 | sed 's/^/    journal: /'
	fail "systemctl restart failed"
}
assert_eq active "$(show ActiveState)" "ActiveState after restart"
assert_ne "$old_main" "$(show MainPID)" "MainPID after restart"
engine=$(head -n 1 "$unit_cg/engine/cgroup.procs")
assert_eq vmgov "$(cat "/proc/$engine/comm")" "the restarted engine in vmgov.service/engine"
wait_for 30 "the restarted engine's limits" reloaded
assert_contains "$(cat "$vm_cg/cgroup.procs")" "$qemu" "QEMU still in its cgroup after the restart"
log "restarted: main pid $old_main -> $(show MainPID) in the container; $vm_cg holds cpu.max $(cat "$vm_cg/cpu.max")"

# A crash: SIGKILL to the engine. ExecStopPost= restores the originals it journalled, the VM back in its own unit's
# cgroup (nothing tight is left while no engine runs), and releases the controllers; Restart=on-failure starts a new engine RestartSec= later (1 s in
# the test's drop-in, 5 s in the unit), which limits the VM again.
crashed_main=$(show MainPID)
kill -KILL "$engine"
released() { [ -z "$(cat "$unit_cg/cgroup.subtree_control")" ]; }
wait_for 20 "ExecStopPost to release the unit's controllers after the SIGKILL" released
restarted() { [ "$(show NRestarts)" = 1 ] && [ "$(show ActiveState)" = active ] && reloaded; }
wait_for 30 "Restart=on-failure to bring a new engine up and limit web-1 again" restarted
assert_ne "$crashed_main" "$(show MainPID)" "MainPID after the crash"
engine=$(head -n 1 "$unit_cg/engine/cgroup.procs")
assert_contains "$(in_ct journalctl -u vmgov.service --no-pager -o cat)" \
	"back from machine.slice/vmgov.service/vms/web/web-1 to /system.slice/qemu-web-1.service" \
	"vmgov restore (ExecStopPost=) moved the VM back, in the journal"
pid_alive "$qemu" || fail "QEMU web-1 died in the crash"
log "after SIGKILL: restarted once (NRestarts $(show NRestarts)), main pid $(show MainPID), cpu.max $(cat "$vm_cg/cpu.max")"

# systemctl stop: SIGTERM, the VM back in its own unit's cgroup and the engine's cgroup for it gone (audited), exit 0;
# the VM keeps running (KillMode=process), and the stop leaves no VM in the engine's tree.
audit_before=$(wc -l </var/log/vmgov/audit.jsonl)
in_ct systemctl stop vmgov.service || fail "systemctl stop failed"
assert_eq inactive "$(show ActiveState)" "ActiveState after stop"
assert_eq success "$(show Result)" "Result after stop"
assert_eq 0 "$(show ExecMainStatus)" "the engine's exit status"
assert_eq "$qemu_from" "$(proc_cgroup "$qemu")" "web-1 back in its unit's cgroup after the stop"
backs=$(tail -n +$((audit_before + 1)) /var/log/vmgov/audit.jsonl |
	grep -c '"reason":"restore: the VM goes back to the cgroup it came from"' || true)
assert_eq 1 "$backs" "the move back in the audit log"
[ ! -e "$vm_cg" ] || fail "the engine's cgroup $vm_cg is still there after the stop"
assert_eq "" "$(find "$unit_cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" "no process left in the unit's tree"
assert_eq "" "$(cat "$unit_cg/cgroup.subtree_control")" "the unit's controllers for its children after the stop"
pid_alive "$qemu" || fail "QEMU web-1 died with the engine"
assert_eq active "$(in_ct systemctl show qemu-web-1.service -p ActiveState --value)" "QEMU's own unit"
in_ct systemctl stop qemu-web-1.service
log "ok"
