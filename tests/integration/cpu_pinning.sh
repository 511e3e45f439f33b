#!/bin/sh
# Issue #14, the VM-level CPU keys: AllowedCPUs=, AllowedMemoryNodes= and CPUQuotaBurstSec= read back from a real
# VM's cgroup as cpuset.cpus, cpuset.mems and cpu.max.burst once `vmgov run` applied them, and the QEMU's threads'
# Cpus_allowed_list follows cpuset.cpus. The guest has 2 CPUs (scripts/vmtest: -smp 2): a VM the engine places in a
# cgroup of its own (Placement=own, which needs cpuset handed down the engine's path: the engine does it) is pinned
# to CPU 0, one in its operator's cgroup (Placement=inplace) to CPU 1, once the operator hands that cgroup cpuset (until
# then AllowedCPUs= is passed over without an error, and the group's other keys are written). SIGTERM puts everything back: the own VM goes back where it came
# from, the inplace cgroup's cpuset.cpus gets its parent's CPUs (the kernel does not empty it while the cgroup holds a
# process: the engine writes what the parent has in effect, and says so), and both run on every CPU again.
# `vmgov check` refuses a pin outside the host's online CPUs at its file:line.
set -eu
. /vmtest/lib.sh
require_vmgov

online=$(cat /sys/devices/system/cpu/online)
log "the guest's online CPUs: $online"
assert_eq "0-1" "$online" "the guest's CPUs (scripts/vmtest boots it with -smp 2)"
grep -qw cpuset /sys/fs/cgroup/cgroup.controllers || fail "the guest's cgroup v2 has no cpuset controller"

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl

[group pin]
MatchName = pin-*
AllowedCPUs = 0
AllowedMemoryNodes = 0
CPUQuota = 50%
CPUQuotaBurstSec = 20ms

[group keep]
MatchName = keep-*
Placement = inplace
AllowedCPUs = 1
CPUWeight = 200
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

# the inplace VM's own cgroup, without cpuset for now: the guest's root does not hand it down (tests/vm/init)
assert_eq "" "$(grep -w cpuset /sys/fs/cgroup/cgroup.subtree_control || true)" "cpuset in the root's subtree_control before"
cg=$(cg_create operator/vm)
cg_enable /sys/fs/cgroup/operator cpu memory io

# pin-1 runs without capabilities, as libvirt runs QEMU: the kernel lets the engine, which has dropped most of its own,
# move a process into a cgroup with cpuset only if the process has no capability the engine lacks (else CAP_SYS_NICE)
command -v capbound >/dev/null || fail "the capbound test helper is not in the guest"
nocaps=$VMTEST_TMP/qemu-nocaps
printf '#!/bin/sh\nexec capbound none -- %s "$@"\n' "$VMTEST_QEMU" >"$nocaps"
chmod 755 "$nocaps"
pin=$(VMTEST_QEMU=$nocaps vm_idle pin-1)
assert_eq 0000000000000000 "$(awk '$1 == "CapPrm:" { print $2 }' "/proc/$pin/status")" "pin-1's capabilities"
pin_from=$(proc_cgroup "$pin")
keep=$(VM_CGROUP=$cg vm_idle keep-1)
assert_eq "0-1" "$(proc_threads_cpus "$pin")" "pin-1's threads' CPUs before"
assert_eq "0-1" "$(proc_threads_cpus "$keep")" "keep-1's threads' CPUs before"

"$VMGOV" --policy "$policy" --interval 200ms run 2>"$VMTEST_TMP/run.log" &
engine=$!
bg_track "$engine"

o=/sys/fs/cgroup/vmgov/pin/pin-1
applied() { [ -f "$o/cpuset.cpus" ] && [ "$(cat "$o/cpuset.cpus")" = 0 ] && [ "$(cat "$o/cpu.max.burst")" = 20000 ]; }
if ! (wait_for 60 "vmgov to apply the limits" applied); then
	log "engine log:"
	cat "$VMTEST_TMP/run.log"
	for f in cgroup.subtree_control cpuset.cpus cpuset.mems cpu.max cpu.max.burst; do
		log "$o/$f: $(cat "$o/$f" 2>&1 | tr '\n' ' ')"
	done
	fail "vmgov did not apply AllowedCPUs=, AllowedMemoryNodes= and CPUQuotaBurstSec= to $o in 60 s"
fi
assert_eq "/vmgov/pin/pin-1" "$(proc_cgroup "$pin")" "pin-1 placed in a cgroup of its own"
for p in /sys/fs/cgroup /sys/fs/cgroup/vmgov /sys/fs/cgroup/vmgov/pin; do
	assert_contains "$(cat "$p/cgroup.subtree_control")" cpuset "cpuset handed down by $p (the engine's placement)"
done
assert_file_eq "$o/cpuset.cpus" 0 "cpuset.cpus while running (AllowedCPUs=0)"
assert_file_eq "$o/cpuset.cpus.effective" 0 "cpuset.cpus.effective while running"
assert_file_eq "$o/cpuset.mems" 0 "cpuset.mems while running (AllowedMemoryNodes=0)"
assert_file_eq "$o/cpu.max" "50000 100000" "cpu.max while running (CPUQuota=50%)"
assert_file_eq "$o/cpu.max.burst" 20000 "cpu.max.burst while running (CPUQuotaBurstSec=20ms)"
# the operator's cgroup has no cpuset: AllowedCPUs= passed over, without an error, and CPUWeight= written all the same
weighted() { [ "$(cat "$cg/cpu.weight")" = 200 ]; }
wait_for 10 "keep-1's cpu.weight" weighted
[ ! -e "$cg/cpuset.cpus" ] || fail "$cg has cpuset.cpus though its parent does not hand cpuset down"
assert_eq "" "$(grep '^<3>' "$VMTEST_TMP/run.log" || true)" "errors in the log while cpuset is not handed to keep-1"
# once the operator hands it down, the next tick writes it
cg_enable /sys/fs/cgroup/operator cpuset
assert_file_eq "$cg/cpuset.cpus" "" "the operator's cgroup's cpuset.cpus once cpuset is there (empty: its parent's CPUs)"
pinned() { [ "$(cat "$cg/cpuset.cpus")" = 1 ]; }
wait_for 20 "vmgov to write keep-1's cpuset.cpus (a file that was missing is looked at again within 13 s)" pinned
assert_file_eq "$cg/cpuset.cpus" 1 "the inplace cgroup's cpuset.cpus while running (AllowedCPUs=1)"
# the kernel moves the threads as cpuset.cpus changes
follows() { [ "$(proc_threads_cpus "$pin")" = 0 ] && [ "$(proc_threads_cpus "$keep")" = 1 ]; }
wait_for 10 "the QEMUs' threads to follow cpuset.cpus" follows
log "pin-1's threads on CPUs $(proc_threads_cpus "$pin"), keep-1's on $(proc_threads_cpus "$keep")"
# a few more ticks: nothing rewritten
sleep 1
assert_eq 1 "$(grep '"file":"cpuset.cpus"' "$VMTEST_TMP/audit.jsonl" | grep -c '"cgroup":"vmgov/pin/pin-1"')" \
	"pin-1's cpuset.cpus written once"
assert_eq 1 "$(grep -c '"file":"cpu.max.burst"' "$VMTEST_TMP/audit.jsonl")" "cpu.max.burst written once"

kill -TERM "$engine"
rc=0
wait "$engine" || rc=$?
log "engine log:"
cat "$VMTEST_TMP/run.log"
assert_eq 0 "$rc" "vmgov exit status after SIGTERM"

assert_eq "$pin_from" "$(proc_cgroup "$pin")" "pin-1 back in the cgroup it came from"
[ ! -e "$o" ] || fail "the engine's cgroup $o is still there after SIGTERM"
# the kernel does not empty cpuset.cpus while the cgroup holds a process (ENOSPC): it gets its parent's, in effect
assert_file_eq "$cg/cpuset.cpus" "$(cat /sys/fs/cgroup/operator/cpuset.cpus.effective)" \
	"the inplace cgroup's cpuset.cpus restored to its parent's, in effect"
assert_contains "$(cat "$VMTEST_TMP/run.log")" \
	"restored operator/vm/cpuset.cpus: \"0-1\" (its parent's, in effect: the kernel does not empty it while the cgroup" \
	"the engine says why cpuset.cpus is not empty again"
back() { [ "$(proc_threads_cpus "$pin")" = "0-1" ] && [ "$(proc_threads_cpus "$keep")" = "0-1" ]; }
wait_for 10 "the QEMUs' threads back on every CPU" back
assert_eq 1 "$(grep '"reason":"restore original on exit"' "$VMTEST_TMP/audit.jsonl" | grep -c '"file":"cpuset.cpus"')" \
	"restore line for the inplace cgroup's cpuset.cpus in the audit"
pid_alive "$pin" || fail "pin-1 died"
pid_alive "$keep" || fail "keep-1 died"

# `vmgov once` leaves the pins in force and their originals in the journal; `vmgov restore`, reading the journal back,
# puts them back: the journal takes the new files
state=$VMTEST_TMP/state
assert_cmd "vmgov once" "$VMGOV" --policy "$policy" --state-file "$state" once
assert_file_eq "$o/cpuset.cpus" 0 "pin-1's cpuset.cpus after vmgov once"
assert_file_eq "$o/cpu.max.burst" 20000 "pin-1's cpu.max.burst after vmgov once"
assert_file_eq "$cg/cpuset.cpus" 1 "keep-1's cpuset.cpus after vmgov once"
for f in cpuset.cpus cpuset.mems cpu.max.burst; do
	assert_contains "$(cat "$state")" "cgroup=vmgov/pin/pin-1 file=$f dev=0:0" "pin-1's $f original in the journal"
done
assert_contains "$(cat "$state")" "cgroup=operator/vm file=cpuset.cpus dev=0:0" "keep-1's cpuset.cpus in the journal"
assert_cmd "vmgov restore" "$VMGOV" --state-file "$state" restore
assert_eq "$pin_from" "$(proc_cgroup "$pin")" "pin-1 moved back by vmgov restore"
assert_file_eq "$cg/cpuset.cpus" 0-1 "keep-1's cpuset.cpus put back by vmgov restore"
wait_for 10 "the QEMUs' threads back on every CPU after vmgov restore" back

# a pin outside the host's CPUs is refused, at its line, with the values
bad=$VMTEST_TMP/bad.ini
cat >"$bad" <<INI
[group far]
MatchName = far-*
AllowedCPUs = 0 7
INI
rc=0
out=$("$VMGOV" check "$bad" 2>&1) || rc=$?
assert_ne 0 "$rc" "vmgov check exit status for AllowedCPUs= outside the host's CPUs"
assert_contains "$out" "$bad:3: [group far]: AllowedCPUs=0,7 names 7 outside the host's online CPUs 0-1" \
	"vmgov check's refusal"
log "vmgov check said: $out"

# leave the guest's cgroups as they were for the tests after this one: cpuset handed down nowhere (best effort)
for d in /sys/fs/cgroup/operator /sys/fs/cgroup/vmgov/pin /sys/fs/cgroup/vmgov /sys/fs/cgroup; do
	echo -cpuset >"$d/cgroup.subtree_control" 2>/dev/null || true
done
log "ok"
