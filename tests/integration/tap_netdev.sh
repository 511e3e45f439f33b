#!/bin/sh
# A QEMU with -netdev tap creates its tap interface (tun/tap module and /dev/net/tun in the guest), and it
# goes away with the QEMU.
set -eu
. /vmtest/lib.sh

assert_exists /dev/net/tun "tun device node"
ifname=vmtap0
ip link show "$ifname" >/dev/null 2>&1 && fail "$ifname exists before QEMU started"
pid=$(vm_tap net-01 "" "$ifname")
log "tap QEMU pid $pid"
assert_exists "/sys/class/net/$ifname" "tap interface"
assert_exists "/sys/class/net/$ifname/tun_flags" "tun_flags of $ifname (it is a tun/tap device)"
# IFF_TAP is 0x0002
flags=$(cat /sys/class/net/$ifname/tun_flags)
[ $((flags & 2)) -ne 0 ] || fail "$ifname tun_flags $flags: not a tap device"
assert_cmd "bring $ifname up" ip link set "$ifname" up
ip link show "$ifname"
# the fd holding it belongs to the QEMU process
found=0
for fd in /proc/$pid/fd/*; do
	[ "$(readlink "$fd")" = /dev/net/tun ] && found=1
done
assert_eq 1 "$found" "QEMU $pid holds /dev/net/tun open"

vm_stop "$pid"
gone() { [ ! -e "/sys/class/net/$ifname" ]; }
wait_for 30 "$ifname to disappear after QEMU exits" gone
log "ok"
