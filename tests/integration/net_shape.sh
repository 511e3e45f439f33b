#!/bin/sh
# netshape on a real QEMU tap, both directions, on Debian's kernel (cls_matchall, act_mirred, ifb, sch_tbf as
# modules): the VM's taps are found through fdinfo, the qdiscs and the redirect are what tc shows, traffic through
# each direction passes at no more than the rate, everything goes away on removal, and the ifb of a VM that exited
# is collected. The QEMU has no guest to speak of, so the traffic comes from outside it: frames sent out of the tap
# reach QEMU (VM ingress), and UDP datagrams to QEMU's socket netdev, which a hub connects to the tap, are written
# into the tap by QEMU (VM egress). Also: the proc connector as root and as nobody on this 6.1 kernel.
# vmtest-timeout: 400
set -eu
. /vmtest/lib.sh

T=vmgov-nettool
# iproute2's tc (/usr/sbin): busybox's, first on PATH here, shows no options and knows no "parent"
TC=/usr/sbin/tc
[ -x $TC ] || fail "iproute2's tc is not in the guest (scripts/vmtest copies it from the host)"
command -v $T >/dev/null || fail "$T missing from the guest (tests/helpers not built?)"
tap=vmtap0
# whatever happens, no ifb of ours outlives the test (the QEMU and its tap go with lib.sh's cleanup)
net_cleanup() {
	for i in /sys/class/net/ifb-*; do
		[ -e "$i" ] && ip link del "${i##*/}" 2>/dev/null
	done
	vmtest_cleanup
}
trap 'net_cleanup' EXIT
in_rate=4000000
eg_rate=2000000

# ---- the proc connector on this kernel
out=$($T events 30 /bin/true 2>&1) || fail "proc connector as root: $out"
assert_contains "$out" "exec " "exec event of a child"
assert_contains "$out" "exit " "exit event of a child"
# the daemon's fallback: before Linux 6.6 listening needs CAP_NET_ADMIN
out=$(su -s /bin/sh nobody -c "$T events 5 /bin/true" 2>&1 || true)
log "proc connector as nobody: $out"
case "$(uname -r)" in
6.[0-5].* | [1-5].*) assert_contains "$out" "open EPERM" "unprivileged listen refused with EPERM" ;;
esac

# ---- a QEMU whose tap is joined by a hub to a UDP socket netdev on loopback
# Running (no -S: QEMU moves no packet of a stopped VM), and -machine none: no CPU to emulate.
pid=$(vm_start net-shape "" -machine none -accel tcg \
	-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
	-netdev socket,id=s0,udp=127.0.0.1:7001,localaddr=127.0.0.1:7000 \
	-netdev hubport,id=h0,hubid=0,netdev=n0 -netdev hubport,id=h1,hubid=0,netdev=s0)
log "QEMU pid $pid"
assert_cmd "bring $tap up" ip link set "$tap" up
assert_eq "fdinfo $tap" "$($T taps "$pid")" "the VM's taps, from /proc/$pid/fdinfo"

field() { # DIR KEY
	$T show "$tap" | awk -v d="$1" -v k="$2" '$1 == d { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}
assert_eq "0 0" "$(field ingress shaped) $(field egress shaped)" "unshaped at first"
assert_cmd "shape VM ingress" $T shape "$tap" ingress $in_rate
assert_cmd "shape VM egress" $T shape "$tap" egress $eg_rate
assert_cmd "re-shape VM egress (replace, not stack)" $T shape "$tap" egress $eg_rate
assert_eq "$in_rate $eg_rate" "$(field ingress rate) $(field egress rate)" "rates read back through netlink"

qd=$($TC qdisc show dev "$tap")
log "tc qdisc: $(echo "$qd" | tr '\n' '|')"
assert_contains "$qd" "qdisc tbf 766d: root" "tbf at the tap's root"
assert_contains "$qd" "rate 4Mbit" "the tap's tbf rate, as tc shows it"
assert_contains "$qd" "qdisc ingress ffff:" "ingress qdisc on the tap"
filters=$($TC filter show dev "$tap" parent ffff:)
log "tc filter: $(echo "$filters" | tr '\n' '|')"
assert_contains "$filters" "pref 30317 matchall" "our matchall filter (cls_matchall is a module here)"
ifb=$(ls /sys/class/net | grep '^ifb-' || true)
assert_eq 1 "$(echo "$ifb" | grep -c .)" "one ifb: re-shaping did not stack"
assert_file_eq /sys/class/net/"$ifb"/ifalias "vmgov:$tap" "the ifb names its tap"
assert_contains "$($TC qdisc show dev "$ifb")" "qdisc tbf 766d: root" "a tbf on the ifb"

# ---- traffic. TCG in TCG: the bound that matters is the shaping one (never more than the rate); the rates are
# printed as NETSHAPE-VM lines
within() { # GOT RATE: no more than 110% of the rate, and at least half of it (TCG in TCG on a loaded host)
	[ $(($1 * 100)) -ge $(($2 * 50)) ] && [ $(($1 * 100)) -le $(($2 * 110)) ]
}
$T flood "$tap" 8 >/dev/null &
fpid=$!
sleep 2
m=$($T measure "$tap" ingress 4)
wait $fpid || true
got=$(echo "$m" | awk '{ print $2 }')
log "VM ingress: $m (limit $in_rate)"
echo "NETSHAPE-VM ingress rate=$in_rate measured=$got"
within "$got" $in_rate || fail "VM ingress: measured $got bit/s for $in_rate"

ifb_tx0=$(cat /sys/class/net/"$ifb"/statistics/tx_packets)
$T udpflood 7000 8 $((eg_rate * 2)) >/dev/null &
fpid=$!
sleep 2
m=$($T measure "$tap" egress 4)
wait $fpid || true
got=$(echo "$m" | awk '{ print $2 }')
log "VM egress: $m (limit $eg_rate, offered $((eg_rate * 2)))"
echo "NETSHAPE-VM egress rate=$eg_rate measured=$got"
assert_gt "$(cat /sys/class/net/"$ifb"/statistics/tx_packets)" "$ifb_tx0" "packets went through the ifb"
assert_gt "$(echo "$m" | awk '{ print $6 }')" 0 "the ifb's tbf dropped what was over the rate"
within "$got" $eg_rate || fail "VM egress: measured $got bit/s for $eg_rate"
$TC -s filter show dev "$tap" parent ffff: | grep -q 'Sent [1-9]' || log "(tc shows no counters for the filter)"

# ---- removal, then the ifb of a VM that exits
assert_cmd "unshape VM ingress" $T shape "$tap" ingress max
assert_cmd "unshape VM egress" $T shape "$tap" egress max
qd=$($TC qdisc show dev "$tap")
case "$qd" in *tbf* | *ingress*) fail "left behind on $tap: $qd" ;; esac
[ ! -e /sys/class/net/"$ifb" ] || fail "$ifb left behind"

assert_cmd "shape VM egress again" $T shape "$tap" egress $eg_rate
assert_exists /sys/class/net/"$ifb" "the ifb again"
vm_stop "$pid"
gone() { [ ! -e /sys/class/net/$tap ]; }
wait_for 30 "$tap to go with its QEMU" gone
assert_eq "deleted 1" "$($T gc)" "gc deletes the ifb of the tap that is gone"
[ ! -e /sys/class/net/"$ifb" ] || fail "$ifb survived gc"
log "ok"
