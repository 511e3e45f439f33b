#!/bin/sh
# The engine shapes a real QEMU's tap in both directions from the policy's NetIngressRate/NetEgressRate: found
# through the tap's fdinfo, written through the same decisions, audit and journal as the cgroup limits, read back
# with tc, and removed (qdiscs, redirect and ifb) when it stops. Dry-run shapes nothing.
set -eu
. /vmtest/lib.sh
require_vmgov

TC=/usr/sbin/tc # iproute2's; busybox's tc shows no options
[ -x $TC ] || fail "iproute2's tc is not in the guest"
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl
[group net]
MatchName = net-*
NetIngressRate = 8M
NetEgressRate = 4M
NetEgressBurst = 32K
INI

ifbs_before=$(ls /sys/class/net | grep '^ifb-' || true)
new_ifb() { ls /sys/class/net | grep '^ifb-' | grep -vxF "$ifbs_before" || true; }
pid=$(vm_tap net-1 "" vmtap1)
ip link set vmtap1 up

assert_cmd "vmgov --dry-run once" "$VMGOV" --policy "$policy" --dry-run --state-file "$VMTEST_TMP/state" once
assert_eq "" "$($TC qdisc show dev vmtap1 | grep tbf || true)" "dry-run installed no qdisc"

"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" --interval 300ms run 2>"$VMTEST_TMP/run.log" &
e=$!
bg_track "$e"
shaped() { $TC qdisc show dev vmtap1 | grep -q 'tbf 766d:' && [ -n "$(new_ifb)" ]; }
wait_for 60 "the tap to be shaped" shaped
qd=$($TC qdisc show dev vmtap1)
ifb=$(new_ifb)
log "tap: $(echo "$qd" | tr '\n' '|')"
log "$ifb: $($TC qdisc show dev "$ifb" | tr '\n' '|')"
assert_contains "$qd" "rate 8Mbit" "VM ingress rate on the tap"
assert_contains "$($TC qdisc show dev "$ifb")" "rate 4Mbit" "VM egress rate on the ifb"
assert_contains "$($TC qdisc show dev "$ifb")" "burst 32Kb" "VM egress burst"
assert_contains "$($TC filter show dev vmtap1 ingress)" "$ifb" "the tap's ingress is redirected to the ifb"
assert_contains "$(cat "$VMTEST_TMP/audit.jsonl")" '"file":"net.ingress","old":"vmtap1 rate=max","new":"vmtap1 rate=8000000' "audit of the ingress rate"

kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
cat "$VMTEST_TMP/run.log"
assert_eq "" "$($TC qdisc show dev vmtap1 | grep -e tbf -e ingress || true)" "the tap's qdiscs removed on exit"
assert_eq "" "$(new_ifb)" "the ifb removed on exit"
pid_alive "$pid" || fail "the VM died"
log "ok"
