#!/bin/sh
# Issue 5, scenario (c) IO: a batch VM streaming from a fast local disk slows a latency VM's reads; the loop
# restores them. Two real QEMU VMs (lat-1 in [group lat], batch-1 in [group batch]); a tiny QEMU guest cannot
# generate this I/O, so each VM's disk workload runs as a process inside that VM's cgroup
# (/sys/fs/cgroup/vmgov/GROUP/NAME, where the engine placed the VM): tests/helpers/iolat, O_DIRECT random 4 KiB
# reads at 100/s, in lat-1, and `iolat --stream`, sequential O_DIRECT 128 KiB reads back to back, in batch-1.
#
# The disk is a null_blk device made through configfs, standing in for the issue's RAM disk: brd (/dev/ram0)
# completes every bio with a memcpy in the submitter's context, so readers never wait on each other and the
# latency reader's io pressure stays 0 however hard the neighbour streams (measured on 6.1: 0 us/s beside a 1 GB/s
# streamer; only the CPU is shared, and io.max is the wrong knob for that). The null_blk disk (memory_backed=0,
# irqmode=0, mbps=100: no data, a 100 MiB/s bandwidth) queues a reader behind the stream: measured, the latency
# reader's io pressure goes from 0 to 50-60% and its p50 from ~0.1 ms to 10-17 ms. Its io.max is checked to read
# back as written.
#
# Off: the engine runs with --dry-run (senses, records, decides, writes nothing) for a window; on: it runs for real.
# Asserts on kernel counters (the latency cgroup's io.pressure "some" total, io.stat bytes), on the audit's io.max
# writes (inside IOBandwidthMaxRange=, or back to no limit; hold and dwell kept), on latency ratios, on the relax
# back to no limit once the latency reader stops, and that `vmgov replay` of the recording makes the live loop's
# io.max decisions one for one. The figures (off/on, ticks to converge, limits, relax) are printed.
# vmtest-timeout: 240
set -eu
. /vmtest/lib.sh
require_vmgov

IOLAT=/usr/bin/iolat
[ -x "$IOLAT" ] || fail "iolat is not in the guest (tests/helpers/iolat was not built)"

TARGET_PCT=10       # IOPressureTarget= of the latency VM
RANGE_MIN=10000000  # IOBandwidthMaxRange=10M..100M (base 1000, as systemd)
RANGE_MAX=100000000
WINDOW=6            # seconds of each measured window (off, on)
SETTLE=5            # seconds after the engine's first io.max write before the "on" window

# ---- the device: a 100 MiB/s null_blk disk
nbroot=/sys/kernel/config/nullb
[ -d "$nbroot" ] || skip "no null_blk configfs directory $nbroot (configfs or null_blk missing)"
nb=$nbroot/vmgovio
nullb_remove() {
	[ -d "$nb" ] || return 0
	echo 0 >"$nb/power" 2>/dev/null || true
	rmdir "$nb" 2>/dev/null || echo "loop_io: cannot remove $nb" >&2
}
on_exit() {
	vmtest_cleanup # stops the readers and VMs first (it does nothing in a $(...) subshell)
	_vmtest_self
	# shellcheck disable=SC2154 # set by lib.sh's _vmtest_self
	[ "$_vmtest_self_pid" = "$_VMTEST_MAIN_PID" ] && [ "$VMTEST_KEEP" != 1 ] && nullb_remove
	return 0
}
trap on_exit EXIT
mkdir "$nb" || fail "cannot create $nb"
for kv in size=1024 queue_mode=2 irqmode=0 hw_queue_depth=64 submit_queues=1 blocksize=4096 memory_backed=0 \
	mbps=100; do
	cg_write "$nb" "${kv%%=*}" "${kv#*=}"
done
cg_write "$nb" power 1
# 6.1 names the disk after the configfs directory; older kernels nullbINDEX
disk=vmgovio
[ -e "/sys/block/$disk" ] || disk=nullb$(cat "$nb/index")
dev=/dev/$disk
[ -b "$dev" ] || fail "null_blk disk $dev did not appear"
mm=$(blk_dev "$disk")
log "device $dev ($mm): null_blk queue_mode=2 irqmode=0 memory_backed=0 mbps=100, 1 GiB," \
	"scheduler $(cat /sys/block/"$disk"/queue/scheduler), max_sectors_kb $(cat /sys/block/"$disk"/queue/max_sectors_kb)"
probe_cg=$(cg_create loop-io-probe)
cg_write "$probe_cg" io.max "$mm rbps=1000000"
assert_file_eq "$probe_cg/io.max" "$mm rbps=1000000 wbps=max riops=max wiops=max" "io.max on $dev read back"

# ---- the VMs, placed by the engine
policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[group lat]
MatchName = lat-*
Class = latency
Adapt = io
IOPressureTarget = ${TARGET_PCT}%
AdaptDwellSec = 1s
AdaptHoldSec = 2s

[group batch]
MatchName = batch-*
Class = batch
Adapt = io
IOBandwidthMaxRange = 10M..100M
AdaptDwellSec = 1s
AdaptHoldSec = 2s
INI
assert_cmd "vmgov check" "$VMGOV" check "$policy"
vm_idle lat-1 >/dev/null
vm_idle batch-1 >/dev/null
state=$VMTEST_TMP/state
assert_cmd "vmgov once (placement)" "$VMGOV" --policy "$policy" --state-file "$state" \
	--audit-log "$VMTEST_TMP/once.jsonl" once
latcg=/sys/fs/cgroup/vmgov/lat/lat-1
batcg=/sys/fs/cgroup/vmgov/batch/batch-1
assert_exists "$latcg/cgroup.procs" "lat-1 placed"
assert_exists "$batcg/cgroup.procs" "batch-1 placed"
assert_eq "" "$(cat "$batcg/io.max")" "batch-1 io.max before the loop"

# ---- the workloads, inside the VMs' cgroups
(
	echo 0 >"$latcg/cgroup.procs"
	exec "$IOLAT" --rate 100 --bs 4096 "$dev"
) >"$VMTEST_TMP/iolat.out" 2>&1 &
reader=$!
bg_track "$reader"
(
	echo 0 >"$batcg/cgroup.procs"
	exec "$IOLAT" --stream --bs 131072 "$dev"
) >"$VMTEST_TMP/stream.out" 2>&1 &
streamer=$!
bg_track "$streamer"

# counters: the latency cgroup's io pressure "some" total (us), its reads, the batch VM's bytes on the device
psi_total() { awk '$1 == "some" { sub("total=", "", $5); print $5 }' "$latcg/io.pressure"; }
iostat_key() { awk -v d="$mm" -v k="$2" '$1 == d { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1/io.stat"; }
up() { cut -d' ' -f1 /proc/uptime; }
snap() { echo "$(up) $(psi_total) $(iostat_key "$batcg" rbytes) $(iostat_key "$latcg" rios)"; }
# window FROM TO: "pressure_permille batch_kBps lat_reads_per_s" between two snaps
window() {
	echo "$1 $2" | awk '{ dt = $5 - $1; printf "%d %d %d\n", ($6 - $2) / (dt * 1000), ($7 - $3) / (dt * 1000), ($8 - $4) / dt }'
}
# the iolat summary of window N: KEY's value
iolat_val() { sed -n "s/^window=$1 .* $2=\([0-9]*\).*/\1/p" "$VMTEST_TMP/iolat.out"; }
iolat_window() {
	kill -USR1 "$reader"
	_w() { grep -q "^window=$1 " "$VMTEST_TMP/iolat.out"; }
	wait_for 10 "iolat window $1" _w "$1"
}

# ---- off: the engine in dry-run, the same policy and interval, for WINDOW seconds
"$VMGOV" --policy "$policy" --dry-run --interval 200ms --audit-log "$VMTEST_TMP/off.jsonl" \
	--record-signals "$VMTEST_TMP/off.rec" run 2>"$VMTEST_TMP/off.log" &
eng=$!
bg_track "$eng"
sleep 1
iolat_window 0 # warm-up, not counted
s0=$(snap)
sleep "$WINDOW"
s1=$(snap)
iolat_window 1
kill -TERM "$eng"
wait "$eng" || fail "vmgov --dry-run run exited with $?"
assert_eq "" "$(cat "$batcg/io.max")" "batch-1 io.max after the dry-run (it changes nothing)"
off_io=$(grep -c '"file":"io.max"' "$VMTEST_TMP/off.jsonl" || true)
assert_gt "$off_io" 0 "io.max decisions the dry-run would have written"
assert_eq 0 "$(grep -c '"dry_run":false' "$VMTEST_TMP/off.jsonl" || true)" "real writes in the dry-run audit"
# shellcheck disable=SC2046 # words on purpose
set -- $(window "$s0" "$s1")
off_psi=$1 off_bw=$2 off_rate=$3
off_p50=$(iolat_val 1 p50_us) off_p99=$(iolat_val 1 p99_us) off_mean=$(iolat_val 1 mean_us)
log "OFF (dry-run, ${WINDOW}s): lat-1 io pressure ${off_psi} permille, reads p50 ${off_p50} us p99 ${off_p99} us" \
	"mean ${off_mean} us (${off_rate} reads/s); batch-1 streams ${off_bw} kB/s; the dry-run would have written" \
	"io.max ${off_io} times"

# ---- on: the engine for real
audit=$VMTEST_TMP/on.jsonl
rec=$VMTEST_TMP/on.rec
"$VMGOV" --policy "$policy" --interval 200ms --state-file "$state" --audit-log "$audit" --record-signals "$rec" \
	run 2>"$VMTEST_TMP/on.log" &
eng=$!
bg_track "$eng"
t_on=$(up)
# every io.max the kernel holds for batch-1 from now on, 5 times a second
(
	while :; do
		echo "$(up) $(cat "$batcg/io.max")"
		sleep 0.2
	done
) >"$VMTEST_TMP/iomax.samples" 2>/dev/null &
sampler=$!
bg_track "$sampler"
limited() { [ -n "$(cat "$batcg/io.max")" ]; }
wait_for 60 "the engine's first io.max on batch-1" limited
t_first=$(up)
sleep "$SETTLE"
iolat_window 2 # converging, not counted
s2=$(snap)
sleep "$WINDOW"
s3=$(snap)
iolat_window 3
# shellcheck disable=SC2046 # words on purpose
set -- $(window "$s2" "$s3")
on_psi=$1 on_bw=$2 on_rate=$3
on_p50=$(iolat_val 3 p50_us) on_p99=$(iolat_val 3 p99_us) on_mean=$(iolat_val 3 mean_us)
log "ON (${WINDOW}s, from ${SETTLE}s after the first limit): lat-1 io pressure ${on_psi} permille, reads p50" \
	"${on_p50} us p99 ${on_p99} us mean ${on_mean} us (${on_rate} reads/s); batch-1 streams ${on_bw} kB/s;" \
	"io.max now '$(cat "$batcg/io.max")'"

# ---- relax: the latency reader stops; once no protected VM has been above 80% of its target for AdaptHoldSec, the
# batch limit steps back up by a tenth of the range per AdaptDwellSec, to no limit
kill -TERM "$reader"
wait "$reader" || true
t_stop=$(up)
relaxed() { [ -z "$(cat "$batcg/io.max")" ]; }
wait_for 90 "batch-1's io.max to relax back to no limit" relaxed
t_relaxed=$(up)
kill "$sampler"
kill -TERM "$eng"
wait "$eng" || fail "vmgov run exited with $?"
kill -TERM "$streamer"
wait "$streamer" || true

# ---- the figures
io_lines() { grep '"file":"io.max"' "$audit" | grep '"reason":"io: '; }
n_io=$(io_lines | wc -l)
"$VMGOV" replay "$rec" --policy "$policy" >"$VMTEST_TMP/replay.out" 2>&1 ||
	fail "vmgov replay failed: $(tail -n 3 "$VMTEST_TMP/replay.out")"
grep ' \[batch\] io: ' "$VMTEST_TMP/replay.out" >"$VMTEST_TMP/replay.io" || true
n_replay=$(wc -l <"$VMTEST_TMP/replay.io")
log "replay of the recording: $(grep '^replayed' "$VMTEST_TMP/replay.out"); ${n_replay} io.max decisions, live ${n_io}"
# the laws are pure: the recording through them gives the live loop's io.max decisions, one for one
assert_eq "$n_io" "$n_replay" "io.max decisions replayed from the recording against the live audit"
# so each live write gets the time of its tick, relative to the engine's first tick: "SECS react|probe BPS|max"
sed 's/^+\([0-9.]*\)s .*/\1/' "$VMTEST_TMP/replay.io" >"$VMTEST_TMP/d.t"
sed 's/.* > target .*/react/; s/.*every protected VM under 80%.*/probe/' "$VMTEST_TMP/replay.io" >"$VMTEST_TMP/d.k"
io_lines | sed 's/.*"new":"[^"]* rbps=\([0-9a-z]*\) .*/\1/' >"$VMTEST_TMP/d.v"
paste -d' ' "$VMTEST_TMP/d.t" "$VMTEST_TMP/d.k" "$VMTEST_TMP/d.v" >"$VMTEST_TMP/decisions"
grep -v -e ' react [0-9]*$' -e ' probe [0-9a-z]*$' "$VMTEST_TMP/decisions" && fail "unclassified io.max decisions"

# each tick with deltas of lat-1 in a recording: "SECS IO_SOME_PPM RBYTES"
rec_ticks() {
	awk '$1 == "tick" {
		for (i = 2; i <= NF; i++) if ($i ~ /^now_usec=/) now = substr($i, 10) + 0
		if (!first) first = now
	}
	$1 == "vm" && / name=lat-1 / {
		iv = 0; p = 0; rb = 0
		for (i = 2; i <= NF; i++) {
			if ($i ~ /^interval_usec=/) iv = substr($i, 15) + 0
			else if ($i ~ /^io_some_ppm=/) p = substr($i, 13) + 0
			else if ($i ~ /^io[0-9]+=/) { split(substr($i, index($i, "=") + 1), f, ":"); rb += f[3] }
		}
		if (iv) printf "%.1f %d %d\n", (now - first) / 1e6, p, rb
	}' "$1"
}
rec_ticks "$VMTEST_TMP/off.rec" >"$VMTEST_TMP/off.ticks"
rec_ticks "$rec" >"$VMTEST_TMP/on.ticks"
target_ppm=$((TARGET_PCT * 10000))
# converged: the last tightening before the first relax step (the limit then held for AdaptHoldSec)
# shellcheck disable=SC2046 # words on purpose
set -- $(awk '$2 == "probe" { exit } $2 == "react" { n++; t = $1; v = $3 } END { print n + 0, t + 0, v + 0 }' "$VMTEST_TMP/decisions")
n_descent=$1 t_conv=$2 conv_limit=$3
t_last_read=$(awk '$3 > 0 { t = $1 } END { print t + 0 }' "$VMTEST_TMP/on.ticks")
# ticks above target: off (dry-run), and on from convergence to the reader's stop
# shellcheck disable=SC2046 # words on purpose
set -- $(awk -v t="$target_ppm" '{ n++; if ($2 > t) a++ } END { print n + 0, a + 0 }' "$VMTEST_TMP/off.ticks")
off_ticks=$1 off_above=$2
# shellcheck disable=SC2046 # words on purpose
set -- $(awk -v t="$target_ppm" -v c="$t_conv" -v e="$t_last_read" '$1 > c && $1 <= e { n++; if ($2 > t) a++ } END { print n + 0, a + 0 }' "$VMTEST_TMP/on.ticks")
on_ticks=$1 on_above=$2
# the limit while converged: lowest and highest written between convergence and the reader's stop
# shellcheck disable=SC2046 # words on purpose
set -- $(awk -v c="$t_conv" -v e="$t_last_read" -v l="$conv_limit" 'BEGIN { lo = hi = l } $1 > c && $1 <= e && $3 != "max" { if ($3 < lo) lo = $3; if ($3 > hi) hi = $3 } END { print lo, hi }' "$VMTEST_TMP/decisions")
held_lo=$1 held_hi=$2
# what the engine decided once the pressure it measured no longer covers the reader: its PSI triggers' window (1 s)
# and a tick (0.2 s) after the last tick with reads, a tightening may still answer a stall from before the stop
t_quiet=$(awk -v e="$t_last_read" 'BEGIN { printf "%.1f", e + 1.2 }')
awk -v q="$t_quiet" '$1 > q' "$VMTEST_TMP/decisions" >"$VMTEST_TMP/relax"
relax_steps=$(wc -l <"$VMTEST_TMP/relax")
last_react=$(awk '$2 == "react" { t = $1 } END { print t + 0 }' "$VMTEST_TMP/decisions")
first_relax=$(awk 'NR == 1 { print $1 + 0 }' "$VMTEST_TMP/relax")
min_gap=$(awk 'NR > 1 { g = $1 - p; if (m == "" || g < m) m = g } { p = $1 } END { print m + 0 }' "$VMTEST_TMP/relax")
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

log "decisions (seconds from the engine's first tick, kind, rbps=wbps):"
sed 's/^/  /' "$VMTEST_TMP/decisions"
log "first limit $(awk -v a="$t_on" -v b="$t_first" 'BEGIN { printf "%.1f", b - a }') s after the engine started;" \
	"converged: ${n_descent} tightenings, the last at +${t_conv}s ($(ms 0 "$t_conv") ms = $(($(ms 0 "$t_conv") / 200)) ticks" \
	"of 200 ms from the engine's first tick) to ${conv_limit} B/s; until the reader stopped the limit stayed in" \
	"${held_lo}..${held_hi} B/s and lat-1 was above its target in ${on_above} of ${on_ticks} ticks" \
	"(off: ${off_above} of ${off_ticks})"
log "relax: the reader stopped after +${t_last_read}s (its pressure measured until +${t_quiet}s); first step" \
	"after that at +${first_relax}s (last tightening at" \
	"+${last_react}s), ${relax_steps} steps at least ${min_gap}s apart, no limit" \
	"$(awk -v a="$t_stop" -v b="$t_relaxed" 'BEGIN { printf "%.1f", b - a }') s after the stop"

# ---- what must hold
# the loop restored the latency VM: its io pressure and read latency fall by at least 3x (measured ~10-100x)
assert_gt "$off_psi" $((TARGET_PCT * 10)) "lat-1's io pressure with the engine off is above the target (permille)"
assert_ge "$off_psi" $((on_psi * 3)) "lat-1's io pressure off (${off_psi}) >= 3x on (${on_psi}) (permille)"
assert_gt $((TARGET_PCT * 15)) "$on_psi" "lat-1's io pressure on (${on_psi} permille) within 1.5x of the target"
assert_ge "$off_p50" $((on_p50 * 3)) "lat-1's read p50 off (${off_p50} us) >= 3x on (${on_p50} us)"
assert_ge "$off_mean" $((on_mean * 2)) "lat-1's mean read latency off (${off_mean} us) >= 2x on (${on_mean} us)"
assert_ge $((off_above * 2)) "$off_ticks" "off: lat-1 above its target in at least half of the ticks"
assert_ge $((on_ticks / 4)) "$on_above" "on, converged: lat-1 above its target in at most a quarter of the ticks"
# by limiting the streamer, which the kernel held to what the engine wrote (+25% for bursts)
assert_ge $((off_bw * 2)) $((on_bw * 3)) "batch-1's bandwidth off (${off_bw} kB/s) >= 1.5x on (${on_bw} kB/s)"
assert_gt "$on_bw" 0 "batch-1 still streams under the limit (nothing starves)"
win_lim=$(awk -v a="${s2%% *}" -v b="${s3%% *}" '$1 >= a - 0.3 && $1 <= b { for (i = 2; i <= NF; i++) if ($i ~ /^rbps=/) { v = substr($i, 6); if (v == "max") v = 1e12; if (v + 0 > m) m = v + 0 } } END { printf "%d\n", m / 1000 }' "$VMTEST_TMP/iomax.samples")
assert_ge $((win_lim * 5 / 4)) "$on_bw" "batch-1's bandwidth on (kB/s) against the highest io.max in the window (${win_lim} kB/s)"
# every io.max the loop wrote was inside IOBandwidthMaxRange=, or no limit; the same for what the kernel held
assert_gt "$n_descent" 0 "io.max tightenings before the first relax step"
for v in $(io_lines | sed 's/.*"new":"\([^"]*\)".*/\1/' | tr ' ' '\n' | sed -n 's/^[rw]bps=//p') \
	$(tr ' ' '\n' <"$VMTEST_TMP/iomax.samples" | sed -n 's/^[rw]bps=//p'); do
	[ "$v" = max ] && continue
	if [ "$v" -lt "$RANGE_MIN" ] || [ "$v" -gt "$RANGE_MAX" ]; then
		fail "io.max bandwidth $v outside ${RANGE_MIN}..${RANGE_MAX}"
	fi
done
assert_eq 0 "$(grep '"file":"io.max"' "$audit" | grep -vc "\"new\":\"$mm " || true)" "io.max writes on another device"
assert_eq 0 "$(grep '"vm":"lat-1"' "$audit" | grep -c '"file":"io.max"' || true)" "io.max writes on the latency VM"
# once its pressure no longer covers the reader: relax steps only, AdaptHoldSec after the last tightening at the
# earliest, at least AdaptDwellSec apart (0.1 s for the replay's rounding), up to no limit
assert_gt "$relax_steps" 0 "relax steps after the reader stopped"
assert_eq 0 "$(grep -vc ' probe ' "$VMTEST_TMP/relax" || true)" "tightenings after the latency reader stopped"
assert_ge "$(ms "$last_react" "$first_relax")" 1900 "ms from the last tightening to the first relax step (AdaptHoldSec=2s)"
[ "$relax_steps" -lt 2 ] || assert_ge "$(ms 0 "$min_gap")" 900 "ms between relax steps (AdaptDwellSec=1s)"
assert_eq max "$(tail -n 1 "$VMTEST_TMP/relax" | cut -d' ' -f3)" "the last relax step (no limit)"
log "ok"
