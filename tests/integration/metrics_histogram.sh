#!/bin/sh
# Run-queue latency as a Prometheus histogram is the engine's own measure: a real QEMU spinning a vCPU shares one
# CPU with a busy loop of another cgroup, and the engine runs in dry-run with a metrics textfile and a signal
# recording. For consecutive ticks, the p99 that Prometheus's histogram_quantile() computes from the increase of
# each bucket between the two textfiles (what a query over two scrapes one tick apart sees) lies in the same log2
# bucket as the engine's own p99 of that tick (the recording). The histogram is cumulative, its +Inf bucket its
# count.
# vmtest-timeout: 240
set -eu
. /vmtest/lib.sh
require_vmgov
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux): no eBPF histograms"

policy=$VMTEST_TMP/policy.ini
cat >"$policy" <<INI
[engine]
DefaultGroup = default

[group default]
CPUWeight = 100
INI

vmcg=$(cg_create vmtest-metrics/vm)
other=$(cg_create vmtest-metrics-other)
uuid=$(vm_uuid)
pid=$(VM_CGROUP=$vmcg vm_burn metrics-vm "$uuid")
taskset -a -p 2 "$pid" >/dev/null
sh -c 'echo $$ >"$1/cgroup.procs"; exec taskset 2 sh -c "while :; do :; done"' sh "$other" &
bg_track $!

prom=$VMTEST_TMP/vmgov.prom
rec=$VMTEST_TMP/signals.rec
"$VMGOV" --policy "$policy" --dry-run --interval 500ms --audit-log none --status-file none --metrics-file "$prom" \
	--record-signals "$rec" run 2>"$VMTEST_TMP/vmgov.log" &
bg_track $!
wait_for 30 "the first textfile" test -s "$prom"

# a copy of each textfile as the engine rewrites it, named after its tick
ticks() { awk '$1 == "vmgov_ticks_total" { print $2 }' "$1"; }
seen=
end=$(($(cut -d. -f1 /proc/uptime) + 40))
while [ "$(ls "$VMTEST_TMP" | grep -c '^tick-')" -lt 12 ] && [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
	cp "$prom" "$VMTEST_TMP/now.prom"
	n=$(ticks "$VMTEST_TMP/now.prom")
	if [ -n "$n" ] && [ "$n" != "$seen" ]; then
		mv "$VMTEST_TMP/now.prom" "$VMTEST_TMP/tick-$n.prom"
		seen=$n
	fi
	sleep 0.1
done
log "$(grep -o 'run-queue latency from [a-z_]*' "$VMTEST_TMP/vmgov.log" | head -n 1);" \
	"textfiles of ticks $(ls "$VMTEST_TMP" | sed -n 's/^tick-\([0-9]*\)\.prom$/\1/p' | sort -n | tr '\n' ' ')"

series='vmgov_vm_runqueue_latency_seconds'
labels="vm=\"metrics-vm\",uuid=\"$uuid\",group=\"default\""

# histogram_quantile(0.99, increase(..._bucket)) between two textfiles, as Prometheus computes it: the first bucket
# whose count reaches the rank, linear between its lower bound (the previous le; 0 for the first) and its le; in
# +Inf, the last finite bound. In ns.
hq() {
	awk -v q=0.99 -v s="${series}_bucket{$labels,le=\"" '
	FNR == 1 { f++ }
	index($0, s) == 1 {
		le = substr($0, length(s) + 1); le = substr(le, 1, index(le, "\"") - 1)
		if (f == 1) a[le] = $NF; else { b[le] = $NF; if (le != "+Inf") les[n++] = le }
	}
	END {
		for (i = 1; i < n; i++) for (j = i; j > 0 && les[j - 1] + 0 > les[j] + 0; j--) { t = les[j]; les[j] = les[j - 1]; les[j - 1] = t }
		total = b["+Inf"] - a["+Inf"]
		if (total <= 0) { print "none"; exit }
		rank = q * total; lower = 0; below = 0
		for (i = 0; i < n; i++) {
			c = b[les[i]] - a[les[i]]
			if (c >= rank) { printf "%.0f\n", (lower + (les[i] - lower) * (rank - below) / (c - below)) * 1e9; exit }
			lower = les[i]; below = c
		}
		printf "%.0f\n", les[n - 1] * 1e9
	}' "$1" "$2"
}
# the engine's own p99 of tick N, in ns: the recording's Nth tick
own() {
	awk -v n="$1" '/^tick / { t++ } t == n && /^vm .* name=metrics-vm / {
		for (i = 1; i <= NF; i++) if ($i ~ /^runq_p99_usec=/) { split($i, kv, "="); print kv[2] * 1000 } }' "$rec"
}
bucket() { awk -v ns="$1" 'BEGIN { b = 0; while (ns >= 2) { ns /= 2; b++ } print b }'; }

pairs=0
for f in $(ls "$VMTEST_TMP" | sed -n 's/^tick-\([0-9]*\)\.prom$/\1/p' | sort -n); do
	inf=$(grep -F "${series}_bucket{$labels,le=\"+Inf\"}" "$VMTEST_TMP/tick-$f.prom" | awk '{ print $NF }')
	count=$(grep -F "${series}_count{$labels}" "$VMTEST_TMP/tick-$f.prom" | awk '{ print $NF }')
	assert_eq "${count:-none}" "${inf:-none}" "tick $f: the histogram's +Inf bucket against its count"
	prev=$((f - 1))
	[ -f "$VMTEST_TMP/tick-$prev.prom" ] && [ "$f" -gt 2 ] || continue
	q=$(hq "$VMTEST_TMP/tick-$prev.prom" "$VMTEST_TMP/tick-$f.prom")
	o=$(own "$f")
	[ "$q" != none ] && [ -n "$o" ] || continue
	log "tick $f: histogram_quantile(0.99) ${q} ns (log2 bucket $(bucket "$q")), the engine's own p99 ${o} ns" \
		"(bucket $(bucket "$o"))"
	assert_eq "$(bucket "$o")" "$(bucket "$q")" "tick $f: the log2 bucket of histogram_quantile's p99 against the engine's own"
	pairs=$((pairs + 1))
done
assert_ge "$pairs" 3 "ticks compared (consecutive textfiles with waits in them)"
grep -F "${series}_" "$VMTEST_TMP/tick-$seen.prom" | grep -F "$labels" | grep -v ' 0$' | sed 's/^/    /'
grep -F 'vmgov_vm_cpu_usage_seconds_total{' "$VMTEST_TMP/tick-$seen.prom" | sed 's/^/    /'
