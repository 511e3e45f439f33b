#!/usr/bin/env bash
# Host test (meson suite 'host', root): netshape and procevents on this kernel, inside a network namespace this
# test makes and removes; the host's own interfaces are never touched.
#   - the proc connector reports the exec and the exit of a child;
#   - netshape installs a tbf on a veth "tap" and the ifb redirect for the other direction, reads both back through
#     netlink with the right rate, re-applies without stacking, refuses someone else's root qdisc, removes all of
#     it (the ifb too), and netshape_gc deletes an ifb whose tap is gone;
#   - raw frames pushed through each shaped direction pass at the configured rate, within 10%.
# Usage: netshape.sh PATH/TO/vmgov-nettool. Prints one "ok"/"FAIL" line per check and "N passed, N failed" last.
# It FAILS (never skips) when it cannot run: not root, no ip(8), no network namespaces.
set -uo pipefail

TOOL=${1:-}
NS=vmgov-nettest-$$
passed=0
failed=0

ok() {
	echo "ok   $*"
	passed=$((passed + 1))
}
bad() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
check() { # MSG CMD...: ok when CMD succeeds
	local msg=$1
	shift
	if "$@"; then ok "$msg"; else bad "$msg"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
cannot_run() {
	bad "cannot run: $*"
	finish
}

[ -x "$TOOL" ] || cannot_run "vmgov-nettool not found at '$TOOL' (build the tests: meson compile)"
[ "$(id -u)" = 0 ] || cannot_run "needs root (CAP_NET_ADMIN) to make a network namespace and qdiscs"
command -v ip >/dev/null || cannot_run "ip(8) from iproute2 is missing"
command -v tc >/dev/null || cannot_run "tc(8) from iproute2 is missing"

cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || cannot_run "ip netns add $NS failed (no network namespaces?)"
X() { ip netns exec "$NS" "$@"; }
T() { ip netns exec "$NS" "$TOOL" "$@"; }

# ---- proc connector
out=$("$TOOL" events 10 /bin/true 2>&1)
case "$out" in
open*) bad "proc connector: cannot listen here: $out" ;;
*)
	exec_pid=$(echo "$out" | awk '$1 == "exec" { print $2 }')
	exit_pid=$(echo "$out" | awk '$1 == "exit" { print $2 }')
	if [ -n "$exec_pid" ] && [ "$exec_pid" = "$exit_pid" ]; then
		ok "proc connector: exec and exit of pid $exec_pid"
	else
		bad "proc connector: expected exec and exit of the child, got: $(echo "$out" | tr '\n' ' ')"
	fi
	;;
esac

# ---- a veth pair stands for a tap: vm0 is the "tap", peer0 the VM's side
X ip link add vm0 type veth peer name peer0 || cannot_run "ip link add veth failed"
X ip link set vm0 up && X ip link set peer0 up && X ip link set lo up
field() { # DIR KEY: from `show vm0`
	T show vm0 | awk -v d="$1" -v k="$2" '$1 == d { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}

check "unshaped tap reads back unshaped" [ "$(field ingress shaped)/$(field egress shaped)" = 0/0 ]
check "shape VM ingress 20 Mbit/s" T shape vm0 ingress 20000000
check "shape VM egress 10 Mbit/s" T shape vm0 egress 10000000
check "ingress read back through netlink: rate 20000000 burst 25000" \
	[ "$(field ingress rate) $(field ingress burst)" = "20000000 25000" ]
check "egress read back through netlink: rate 10000000" [ "$(field egress rate)" = 10000000 ]
ifb=$(X ip -o link show type ifb | awk -F': ' '{ print $2 }')
check "one ifb, named ifb-XXXXXXXX ($ifb)" [ "$(echo "$ifb" | grep -c '^ifb-[0-9a-f]\{8\}$')" = 1 ]
check "tc sees the tbf on the tap" bash -c "ip netns exec $NS tc qdisc show dev vm0 | grep -q 'tbf 766d: root.*rate 20Mbit'"
check "tc sees the tbf on the ifb" bash -c "ip netns exec $NS tc qdisc show dev '$ifb' | grep -q 'tbf 766d: root.*rate 10Mbit'"
check "tc sees the redirect to the ifb" bash -c "ip netns exec $NS tc filter show dev vm0 ingress | grep -q 'Egress Redirect to device $ifb'"

# re-apply, with other values: replaced, never stacked
filters_before=$(X tc filter show dev vm0 ingress | wc -l)
check "re-shape ingress 30 Mbit/s burst 200000" T shape vm0 ingress 30000000 200000
check "re-shape egress 10 Mbit/s" T shape vm0 egress 10000000
check "ingress reads back 30000000, burst 200000 within the kernel's rounding" \
	bash -c "b=\$(ip netns exec $NS $TOOL show vm0 | sed -n 's/^ingress.* burst=\([0-9]*\).*/\1/p'); [ \$b -ge 199980 ] && [ \$b -le 200020 ] && [ '$(field ingress rate)' = 30000000 ]"
check "still one qdisc on the tap's root, one ingress qdisc, one ifb" \
	[ "$(X tc qdisc show dev vm0 | grep -c .)/$(X ip -o link show type ifb | grep -c .)" = 2/1 ]
check "the ingress filter is not stacked" [ "$(X tc filter show dev vm0 ingress | wc -l)" = "$filters_before" ]
T shape vm0 ingress 20000000 >/dev/null

# ---- traffic: raw frames through each direction; the shaping tbf's byte counter over 3 s. A loaded host delays
# timers, so up to three tries.
measure() { # DIR RATE FLOOD-ARGS...: the measured rate, within 10% of RATE in one of three tries
	local dir=$1 rate=$2 i got
	shift 2
	for i in 1 2 3; do
		T flood "$@" >/dev/null &
		local fpid=$!
		sleep 1
		got=$(T measure vm0 "$dir" 3 | awk '{ print $2 }')
		wait "$fpid"
		echo "     VM $dir try $i: $got bit/s for $rate" >&2
		if [ -n "$got" ] && [ $((got * 100)) -ge $((rate * 90)) ] && [ $((got * 100)) -le $((rate * 110)) ]; then
			echo "$got"
			return 0
		fi
	done
	echo "${got:-none}"
	return 1
}
if got=$(measure ingress 20000000 vm0 5); then
	ok "VM ingress (tap egress) 20 Mbit/s: measured $got bit/s"
else
	bad "VM ingress (tap egress) 20 Mbit/s: measured $got bit/s, not within 10%"
fi
if got=$(measure egress 10000000 peer0 5 20000000); then
	ok "VM egress (tap ingress → ifb) 10 Mbit/s, offered 20: measured $got bit/s"
else
	bad "VM egress (tap ingress → ifb) 10 Mbit/s: measured $got bit/s, not within 10%"
fi

# ---- someone else's root qdisc is left alone
X ip link add vm1 type veth peer name peer1 && X ip link set vm1 up
X tc qdisc add dev vm1 root handle 1: pfifo limit 100
if out=$(T shape vm1 ingress 1000000 2>&1); then
	bad "a foreign root qdisc was replaced"
else
	check "a foreign root qdisc is refused ($out)" bash -c "echo '$out' | grep -q busy"
fi
check "and stays" bash -c "ip netns exec $NS tc qdisc show dev vm1 | grep -q 'pfifo 1: root'"

# ---- removal
check "unshape VM ingress" T shape vm0 ingress max
check "unshape VM egress" T shape vm0 egress max
check "the tap's root is the default again" bash -c "ip netns exec $NS tc qdisc show dev vm0 | grep -q 'noqueue 0: root'"
check "no ingress qdisc, no filter left" [ "$(X tc qdisc show dev vm0 ingress | grep -c .)/$(X tc filter show dev vm0 ingress | grep -c .)" = 0/0 ]
check "the ifb is gone" [ "$(X ip -o link show type ifb | grep -c .)" = 0 ]
check "unshaping again is a no-op" T shape vm0 egress max

# ---- an ifb whose tap went away (the VM exited) is collected
T shape vm0 egress 5000000 >/dev/null
X ip link del vm0
check "gc deletes the orphaned ifb" [ "$(T gc)" = "deleted 1" ]
check "no ifb left" [ "$(X ip -o link show type ifb | grep -c .)" = 0 ]

finish
