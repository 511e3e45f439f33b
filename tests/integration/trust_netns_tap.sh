#!/bin/sh
# A tap named like a host tap, in a network namespace of its own, never gets the host tap shaped (issue 12, item 5).
# The host has vmgbarhost, the tap of another VM (not managed: no group names it), with the kernel's own qdisc, the
# one the engine would replace if it took that tap for a VM's. A managed QEMU started by `unshare -n` makes a tap of
# the same name inside its namespace; the engine, asked to shape its group's taps, must leave the host's
# vmgbarhost byte for byte as it was (qdiscs, filters, classes, no ifb), say why once, and still shape the tap of
# a managed QEMU in its own namespace (the control that lets this test fail). The same for a managed QEMU in the
# host's namespace that holds the fd of a tap made in another namespace (what SCM_RIGHTS would give it).
# vmtest-timeout: 400
set -eu
. /vmtest/lib.sh
require_vmgov

TC=/usr/sbin/tc # iproute2's; busybox's tc shows no options
[ -x $TC ] || fail "iproute2's tc is not in the guest"
command -v unshare >/dev/null || fail "unshare is not in the guest"
command -v nsenter >/dev/null || fail "nsenter is not in the guest"
host_tap=vmgbarhost
good_tap=vmgood0
net_cleanup() {
	for i in /sys/class/net/ifb-*; do
		[ -e "$i" ] && ip link del "${i##*/}" 2>/dev/null
	done
	vmtest_cleanup
}
trap 'net_cleanup' EXIT

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
AuditLog = $VMTEST_TMP/audit.jsonl
[group net]
MatchName = net-*
NetIngressRate = 8M
NetEgressRate = 4M
INI

# ---- the host's tap: another VM's (its name matches no group), up, with the kernel's default root qdisc
other=$(vm_tap other-vm "" $host_tap)
ip link set $host_tap up
tap_state() { # DEV: everything tc says about it, without counters (which move with any packet)
	echo "qdisc:"
	$TC qdisc show dev "$1"
	echo "ingress filters:"
	$TC filter show dev "$1" ingress 2>&1 || true
	echo "root filters:"
	$TC filter show dev "$1" root 2>&1 || true
	echo "classes:"
	$TC class show dev "$1"
}
before=$(tap_state $host_tap)
log "host $host_tap before: $(echo "$before" | tr '\n' '|')"
case "$before" in
*"tbf 766d:"* | *"ingress ffff:"*) fail "the host tap is shaped before the engine ran: $before" ;;
esac

# ---- the attacker: a managed QEMU (group net) in a network namespace of its own, a tap of the same name inside
wrapper=$VMTEST_TMP/qemu-in-netns
printf '#!/bin/sh\nexec unshare -n %s "$@"\n' "$(command -v qemu-system-x86_64)" >"$wrapper"
chmod 755 "$wrapper"
evil=$(VMTEST_QEMU=$wrapper vm_tap net-evil "" $host_tap)
[ "$(readlink "/proc/$evil/ns/net")" != "$(readlink /proc/self/ns/net)" ] || fail "the QEMU $evil is in the host's namespace"
nsenter -t "$evil" -n ip link show $host_tap >/dev/null || fail "no $host_tap inside the QEMU's namespace"
nsenter -t "$evil" -n ip link set $host_tap up
evil_before=$(nsenter -t "$evil" -n $TC qdisc show dev $host_tap)
found=0
for fd in "/proc/$evil"/fdinfo/*; do
	grep -q "^iff:[[:space:]]*$host_tap\$" "$fd" && found=1
done
assert_eq 1 "$found" "the QEMU $evil holds a tun fd whose fdinfo names $host_tap"

# ---- the same name by another way: a managed QEMU in the host's namespace that holds the fd of a tap made in a
# namespace of its own (as an fd passed over a unix socket from there would be): -netdev tap,fd=3
command -v vmgov-nettool >/dev/null || fail "vmgov-nettool missing from the guest (tests/helpers not built?)"
passer=$VMTEST_TMP/qemu-with-foreign-tap
printf '#!/bin/sh\nexec vmgov-nettool tapns %s %s "$@"\n' $host_tap "$(command -v qemu-system-x86_64)" >"$passer"
chmod 755 "$passer"
passed=$(VMTEST_QEMU=$passer vm_start net-passed "" -machine pc -accel tcg -smp 1 -m 32 -S \
	-netdev tap,id=n0,fd=3,vhost=off -device virtio-net-pci,netdev=n0,romfile=)
assert_eq "$(readlink /proc/self/ns/net)" "$(readlink "/proc/$passed/ns/net")" "net-passed runs in the host's namespace"
assert_contains "$(cat "/proc/$passed/fdinfo/3")" "$host_tap" "net-passed holds the foreign $host_tap as fd 3"

# ---- the control: a managed QEMU in the host's namespace with its own tap
good=$(vm_tap net-good "" $good_tap)
ip link set $good_tap up

# ---- one pass of the engine, for real (not dry-run)
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" once 2>"$VMTEST_TMP/once.log" ||
	fail "vmgov once: $(tail -n 5 "$VMTEST_TMP/once.log" | tr '\n' ' ')"
cat "$VMTEST_TMP/once.log"

after=$(tap_state $host_tap)
log "host $host_tap after: $(echo "$after" | tr '\n' '|')"
assert_eq "$before" "$after" "the host's $host_tap, byte for byte, after the engine shaped group net"
assert_eq "$evil_before" "$(nsenter -t "$evil" -n $TC qdisc show dev $host_tap)" \
	"the tap inside the QEMU's namespace (the engine shapes only in its own)"
assert_contains "$($TC qdisc show dev $good_tap)" "rate 8Mbit" "the control: the tap of net-good is shaped"
ifb=$(ls /sys/class/net | grep '^ifb-' || true)
assert_eq 1 "$(echo "$ifb" | grep -c .)" "one ifb, the control's: $ifb"
assert_eq "vmgov:$good_tap" "$(cat /sys/class/net/"$ifb"/ifalias)" "the ifb belongs to the control's tap"
audit=$(cat "$VMTEST_TMP/audit.jsonl")
assert_contains "$audit" "\"old\":\"$good_tap rate=max\"" "audit of the control's tap"
case "$audit" in
*"$host_tap"*) fail "the audit log names $host_tap: $(grep "$host_tap" "$VMTEST_TMP/audit.jsonl")" ;;
esac
skip_line="VM net-evil (pid $evil): tap $host_tap belongs to a QEMU in another network namespace than the engine's: not shaped"
assert_contains "$(cat "$VMTEST_TMP/once.log")" "$skip_line" "the engine says why it skipped the tap"
passed_line="VM net-passed (pid $passed): tap $host_tap lives in another network namespace than the engine's and the QEMU's (its fd came from there): not shaped"
assert_contains "$(cat "$VMTEST_TMP/once.log")" "$passed_line" "the engine says why it skipped the passed tap"
assert_contains "$(cat "$VMTEST_TMP/state")" "$good_tap" "the control's original is journalled"

# ---- the daemon for a few ticks: the same, and the reason said once, not every tick
rec=$VMTEST_TMP/run.rec
"$VMGOV" --policy "$policy" --state-file "$VMTEST_TMP/state" --interval 300ms --record-signals "$rec" run \
	2>"$VMTEST_TMP/run.log" &
e=$!
bg_track "$e"
five_ticks() { [ "$(grep -c '^tick ' "$rec" 2>/dev/null)" -ge 5 ]; }
wait_for 120 "five ticks of the engine" five_ticks
pid_alive "$e" || fail "the engine exited: $(tail -n 5 "$VMTEST_TMP/run.log" | tr '\n' ' ')"
assert_contains "$($TC qdisc show dev $good_tap)" "rate 8Mbit" "the control shaped by the daemon"
kill -TERM "$e"
wait "$e" || fail "engine exit status $?"
cat "$VMTEST_TMP/run.log"
assert_eq 1 "$(grep -c "tap $host_tap belongs to a QEMU in another network namespace" "$VMTEST_TMP/run.log")" \
	"the skip said once over several ticks"
assert_eq 1 "$(grep -c "tap $host_tap lives in another network namespace" "$VMTEST_TMP/run.log")" \
	"the passed tap's skip said once over several ticks"
assert_eq "$before" "$(tap_state $host_tap)" "the host's $host_tap after the daemon ran and stopped"
assert_eq "" "$($TC qdisc show dev $good_tap | grep -e tbf -e ingress || true)" "the control's qdiscs removed on stop"
for p in "$other" "$evil" "$passed" "$good"; do
	pid_alive "$p" || fail "QEMU $p died"
done
log "ok"
