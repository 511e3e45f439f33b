#!/bin/sh
# The static keys of issue #15: MemoryMin=, MemoryLow=, MemorySwapMax=, MemoryZSwapMax= read back from a real VM's
# cgroup as memory.min, memory.low, memory.swap.max and memory.zswap.max once `vmgov run` applied them, and SIGTERM
# puts the operator's values back (and so does `vmgov restore` from the journal after `vmgov once`). IODeviceLatencyTargetSec= on the ram disk reads back as io.latency where the
# kernel has io.latency; where it has not (Debian's 6.1: no CONFIG_BLK_CGROUP_IOLATENCY), the engine says so once,
# naming the file and the VM, and still writes the rest. IOWeight= on the ram disk (no io.cost, no bfq) is named as
# doing nothing, and on the null_blk disk only while io.cost is not enabled for it in the root's io.cost.qos. A policy whose MemoryLow= is above MemoryHighRange='s floor is refused by `vmgov check` at its line.
set -eu
. /vmtest/lib.sh
require_vmgov

ram=$(ram_dev)
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl

[group keep]
MatchName = keep-*
Placement = inplace
MemoryMin = 64M
MemoryLow = 128M
MemoryHigh = 512M
MemorySwapMax = 32M
MemoryZSwapMax = 16M
IOWeight = 300
IODeviceLatencyTargetSec = /dev/ram0 25ms
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"

# the VM's own cgroup, with the operator's values in it: what SIGTERM must put back
cg=$(cg_create operator/vm)
cg_enable /sys/fs/cgroup/operator cpu memory io
for f in memory.min memory.low memory.swap.max memory.zswap.max; do
	assert_exists "$cg/$f" "the kernel's $f"
done
cg_write "$cg" memory.low 8388608
cg_write "$cg" memory.swap.max 1073741824
cg_write "$cg" memory.zswap.max 536870912
before_min=$(cat "$cg/memory.min")
before_high=$(cat "$cg/memory.high")
keep=$(VM_CGROUP=$cg vm_idle keep-1)

"$VMGOV" --policy "$policy" --interval 200ms run 2>"$VMTEST_TMP/run.log" &
engine=$!
bg_track "$engine"

applied() { [ "$(cat "$cg/memory.zswap.max")" = 16777216 ] && [ "$(cat "$cg/memory.low")" = 134217728 ]; }
wait_for 60 "vmgov to apply the limits" applied
assert_file_eq "$cg/memory.min" 67108864 "memory.min while running (MemoryMin=64M)"
assert_file_eq "$cg/memory.low" 134217728 "memory.low while running (MemoryLow=128M)"
assert_file_eq "$cg/memory.high" 536870912 "memory.high while running"
assert_file_eq "$cg/memory.swap.max" 33554432 "memory.swap.max while running (MemorySwapMax=32M)"
assert_file_eq "$cg/memory.zswap.max" 16777216 "memory.zswap.max while running (MemoryZSwapMax=16M)"
assert_eq "default 300" "$(head -n1 "$cg/io.weight")" "io.weight while running"
assert_eq "$cg" "/sys/fs/cgroup$(proc_cgroup "$keep")" "inplace VM not moved"

# the ram disk: no io.cost and no choice of scheduler, so IOWeight= does nothing there, and it is said
assert_contains "$(cat "$VMTEST_TMP/run.log")" "IOWeight= ([group keep] at $policy:4) does nothing on device ram0 ($ram)" \
	"the warning that IOWeight= does nothing on ram0"

if [ -e "$cg/io.latency" ]; then
	log "this kernel has io.latency: reading the target back"
	assert_file_eq "$cg/io.latency" "$ram target=25000" "io.latency while running"
	latency_restore=1
else
	log "this kernel has no io.latency (CONFIG_BLK_CGROUP_IOLATENCY): the engine must say so once"
	said=$(grep -c "has no io.latency" "$VMTEST_TMP/run.log" || true)
	assert_eq 1 "$said" "warnings about io.latency in the log (once, however many ticks)"
	assert_contains "$(cat "$VMTEST_TMP/run.log")" \
		"VM keep-1 (pid $keep, group keep): cgroup operator/vm has no io.latency (the kernel has no io.latency" \
		"the io.latency warning names the file and the VM"
	latency_restore=0
fi
# a few more ticks: nothing is rewritten, nothing said again
sleep 1
assert_eq 1 "$(grep -c '"file":"memory.low"' "$VMTEST_TMP/audit.jsonl")" "memory.low written once"

# status, from the running daemon's status file: the protection, in text and JSON
status=$("$VMGOV" status 2>&1) || fail "vmgov status: $status"
assert_contains "$status" "memory protection (MemoryMin=, MemoryLow=, MemorySwapMax=, MemoryZSwapMax=)" \
	"vmgov status's protection table"
row=$(echo "$status" | sed -n '/^memory protection/,/^$/p' | grep "^$keep ")
assert_eq "$keep keep-1 67108864 134217728 33554432 16777216" "$(echo "$row" | tr -s ' ')" \
	"keep-1's row in the protection table"
json=$("$VMGOV" status --json 2>&1) || fail "vmgov status --json: $json"
assert_contains "$json" '"memory.min":"67108864","memory.low":"134217728","memory.swap.max":"33554432","memory.zswap.max":"16777216"' \
	"the protection in vmgov status --json"

kill -TERM "$engine"
rc=0
wait "$engine" || rc=$?
assert_eq 0 "$rc" "vmgov exit status after SIGTERM"
log "engine log:"
cat "$VMTEST_TMP/run.log"

assert_file_eq "$cg/memory.min" "$before_min" "memory.min restored"
assert_file_eq "$cg/memory.low" 8388608 "memory.low restored to the operator's value"
assert_file_eq "$cg/memory.high" "$before_high" "memory.high restored"
assert_file_eq "$cg/memory.swap.max" 1073741824 "memory.swap.max restored to the operator's value"
assert_file_eq "$cg/memory.zswap.max" 536870912 "memory.zswap.max restored to the operator's value"
assert_eq "default 100" "$(head -n1 "$cg/io.weight")" "io.weight restored"
[ "$latency_restore" = 0 ] || assert_file_eq "$cg/io.latency" "" "io.latency target removed"
for f in memory.min memory.low memory.swap.max memory.zswap.max; do
	assert_eq 1 "$(grep '"reason":"restore original on exit"' "$VMTEST_TMP/audit.jsonl" | grep -c "\"file\":\"$f\"")" \
		"restore line for $f in the audit"
done

# `vmgov once` leaves the values in force and their originals in the journal; `vmgov restore`, reading the journal
# back, puts them back: the journal takes the new files
state=$VMTEST_TMP/state
assert_cmd "vmgov once" "$VMGOV" --policy "$policy" --state-file "$state" once
assert_file_eq "$cg/memory.zswap.max" 16777216 "memory.zswap.max after vmgov once"
assert_file_eq "$cg/memory.min" 67108864 "memory.min after vmgov once"
for f in memory.min memory.low memory.swap.max memory.zswap.max; do
	assert_contains "$(cat "$state")" "file=$f dev=0:0" "$f's original in the journal"
done
assert_cmd "vmgov restore" "$VMGOV" --state-file "$state" restore
assert_file_eq "$cg/memory.min" "$before_min" "memory.min put back by vmgov restore"
assert_file_eq "$cg/memory.low" 8388608 "memory.low put back by vmgov restore"
assert_file_eq "$cg/memory.swap.max" 1073741824 "memory.swap.max put back by vmgov restore"
assert_file_eq "$cg/memory.zswap.max" 536870912 "memory.zswap.max put back by vmgov restore"
pid_alive "$keep" || fail "keep-1 died"

# IOWeight= on a disk where io.cost is enabled in the root's io.cost.qos is not warned about; where it is not, it is
nb=$(blk_dev nullb0)
weight=$VMTEST_TMP/weight.ini
cat >"$weight" <<INI
[group w]
MatchName = nothing-*
IOWeight = 200
IOReadBandwidthMax = /dev/nullb0 100M
INI
cg_write /sys/fs/cgroup io.cost.qos "$nb enable=1"
assert_contains "$(cat /sys/fs/cgroup/io.cost.qos)" "$nb enable=1" "io.cost enabled for nullb0"
"$VMGOV" --policy "$weight" --state-file "$VMTEST_TMP/state2" once 2>"$VMTEST_TMP/once-on.log" ||
	fail "vmgov once with io.cost on: $(cat "$VMTEST_TMP/once-on.log")"
out=$(grep "does nothing on device" "$VMTEST_TMP/once-on.log" || true)
assert_eq "" "$out" "IOWeight= warnings with io.cost enabled for the policy's only disk"
cg_write /sys/fs/cgroup io.cost.qos "$nb enable=0"
"$VMGOV" --policy "$weight" --state-file "$VMTEST_TMP/state2" once 2>"$VMTEST_TMP/once-off.log" ||
	fail "vmgov once with io.cost off: $(cat "$VMTEST_TMP/once-off.log")"
assert_contains "$(cat "$VMTEST_TMP/once-off.log")" \
	"IOWeight= ([group w] at $weight:1) does nothing on device nullb0 ($nb): its scheduler is" \
	"the IOWeight= warning once io.cost is off for nullb0"
log "with io.cost off: $(grep "does nothing on device" "$VMTEST_TMP/once-off.log")"

# a protection above the floor the memory law may probe to is refused, at its line, with the values
bad=$VMTEST_TMP/bad.ini
cat >"$bad" <<INI
[group db]
MatchName = db-*
Adapt = memory
MemoryHighRange = 256M..1G
MemoryPressureTarget = 1%
MemoryLow = 512M
INI
rc=0
out=$("$VMGOV" check "$bad" 2>&1) || rc=$?
assert_ne 0 "$rc" "vmgov check exit status for MemoryLow= above MemoryHighRange='s floor"
assert_contains "$out" "$bad:6: [group db]: MemoryLow=512M is above the floor of MemoryHighRange=256M..1G" \
	"vmgov check names the file, the line and the values"
log "ok"
