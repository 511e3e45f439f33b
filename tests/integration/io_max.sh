#!/bin/sh
# /dev/ram0 exists (brd) and io.max on its MAJ:MIN reads back as written, and resets.
set -eu
. /vmtest/lib.sh

assert_exists /dev/ram0 "brd RAM disk"
[ -b /dev/ram0 ] || fail "/dev/ram0 is not a block device"
dev=$(ram_dev)
log "ram0 is $dev, $(cat /sys/block/ram0/size) sectors"
assert_eq "$(cat /sys/block/ram0/size)" 131072 "ram0 size in 512-byte sectors (rd_size=65536 KiB)"

cg=$(cg_create vmtest-io)
assert_eq "" "$(cat "$cg/io.max")" "io.max of a new cgroup"
cg_write "$cg" io.max "$dev rbps=1048576 wiops=120"
assert_file_eq "$cg/io.max" "$dev rbps=1048576 wbps=max riops=max wiops=120" "io.max read back"
cg_write "$cg" io.max "$dev wbps=2097152 riops=max"
assert_file_eq "$cg/io.max" "$dev rbps=1048576 wbps=2097152 riops=max wiops=120" "io.max after a second write"
cg_write "$cg" io.max "$dev rbps=max wbps=max riops=max wiops=max"
assert_eq "" "$(cat "$cg/io.max")" "io.max after resetting every limit to max"

# a limit on a device that is not there is refused by the kernel
if (printf '%s' "250:250 rbps=1" >"$cg/io.max") 2>/dev/null; then
	fail "io.max accepted a limit for a device that does not exist"
fi
log "ok"
