#!/usr/bin/env bash
# Host test (meson suite 'host', root): the Prometheus textfile that `vmgov run` writes on this machine's own kernel
# is one Prometheus's own checker accepts (`promtool check metrics`, from Debian's prometheus package, fetched by
# scripts/get-promtool and cached in the build directory), with run-queue latency as histograms whose +Inf bucket
# is their count, and counters that only grow from one textfile to the next.
# Three real QEMUs (TCG): one spinning a vCPU, one idle, one with a name made to hurt (quote, backslash, newline,
# not UTF-8), each alone in a cgroup the test makes under the cgroup2 mount (removed afterwards); the engine runs in
# dry-run, so it senses them where they are and writes nothing.
# Usage: metrics.sh VMGOV BUILD_DIR SOURCE_DIR. One "ok"/"FAIL" line per check, "N passed, N failed" last. It FAILS
# (never skips) when it cannot run: not root, no cgroup2 mount, no QEMU, no promtool.
set -uo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VMGOV=${1:-} BUILD=${2:-} SRC=${3:-}


[ -x "$VMGOV" ] || cannot_run "vmgov not found at '$VMGOV'"
[ "$(id -u)" = 0 ] || cannot_run "needs root (cgroups, BPF)"
command -v qemu-system-x86_64 >/dev/null || cannot_run "qemu-system-x86_64 is not installed (scripts/setup)"
PROMTOOL=$("$SRC/scripts/get-promtool" "$BUILD") || cannot_run "no promtool (see the line above)"
MOUNT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$MOUNT" ] || cannot_run "no cgroup2 mount"

tmp=$(mktemp -d)
root=$MOUNT/vmgov-metrics-$$
pids=()
cleanup() {
	local cg
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	for cg in "$root"/*/ "$root"; do
		[ -d "$cg" ] || continue
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.2
		done
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
set +m
trap 'exit 130' INT TERM

# qemu NAME CGROUP ARGS...: a QEMU alone in a cgroup of its own
qemu() {
	local name=$1 cg=$root/$2
	shift 2
	mkdir -p "$cg" || cannot_run "cannot create $cg"
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		qemu-system-x86_64 -name "$name" -nodefaults -display none -accel tcg "$@" >>"$tmp/qemu.log" 2>&1 &
	pids+=($!)
}
{ printf '\353\376'; head -c 508 /dev/zero; printf '\125\252'; } >"$tmp/boot.img"
qemu metrics-burn burn -machine pc -smp 1 -m 32 -drive "file=$tmp/boot.img,format=raw,if=ide" -boot c
qemu metrics-idle idle -machine none -S
qemu "$(printf 'metrics-"q\\x\ny\377')" hostile -machine none -S
sleep 1

cat >"$tmp/policy.ini" <<INI
[engine]
DefaultGroup = default

[group default]
CPUWeight = 100
INI
chmod 0644 "$tmp/policy.ini"
prom=$tmp/vmgov.prom
"$VMGOV" --policy "$tmp/policy.ini" --dry-run --interval 500ms --audit-log none --status-file none \
	--metrics-file "$prom" run 2>"$tmp/vmgov.log" &
engine=$!
sleep 2.5
cp "$prom" "$tmp/first.prom" 2>/dev/null
sleep 2.5
kill -TERM "$engine"
wait "$engine"
rc=$?
echo "kernel $(uname -r), cgroup2 at $MOUNT; vmgov run --dry-run for 5 s at 500 ms: exit $rc; load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -s "$prom" ] || {
	tail -n 20 "$tmp/vmgov.log"
	cannot_run "vmgov wrote no metrics file"
}
# the daemon removes nothing of it at exit: the last textfile stays for node_exporter
cp "$prom" "$tmp/last.prom"

echo "    promtool check metrics:"
"$PROMTOOL" check metrics <"$tmp/last.prom" >"$tmp/promtool.out" 2>&1
prc=$?
sed 's/^/      /' "$tmp/promtool.out"
check "promtool check metrics accepts the textfile (exit $prc)" [ "$prc" -eq 0 ]

series() { grep -E "^$1" "$2" | head -n 1 | awk '{ print $NF }'; }
burn_inf=$(series 'vmgov_vm_runqueue_latency_seconds_bucket\{vm="metrics-burn",group="default",le="\+Inf"\}' "$tmp/last.prom")
burn_count=$(series 'vmgov_vm_runqueue_latency_seconds_count\{vm="metrics-burn",group="default"\}' "$tmp/last.prom")
echo "    metrics-burn: run-queue latency histogram +Inf ${burn_inf:-none}, count ${burn_count:-none}; source: $(grep -o 'run-queue latency from [a-z_]*' "$tmp/vmgov.log" | head -n 1)"
check "the spinning VM has a run-queue latency histogram with waits in it" [ "${burn_count:-0}" -gt 0 ]
check "its +Inf bucket is its count" [ "${burn_inf:-x}" = "${burn_count:-y}" ]
check "no pid label but on vmgov_vm_info" \
	sh -c '! grep -v "^#" "$1" | grep -v "^vmgov_vm_info{" | grep -q "pid=\""' sh "$tmp/last.prom"
grep -a '^vmgov_vm_info' "$tmp/last.prom" | sed 's/^/    /'
check "the hostile name is escaped in its labels" grep -qF 'vm="metrics-\"q\\x\ny' "$tmp/last.prom"

# Every counter and histogram sample of the first textfile is there in the last one, and not smaller.
shrunk=$(awk 'FNR == 1 { file++ }
	/^# TYPE / { type[$3] = $4; next }
	/^#/ { next }
	{ key = $0; sub(/ [^ ]*$/, "", key); name = key; sub(/\{.*/, "", name)
	  base = name; sub(/_(bucket|sum|count)$/, "", base)
	  if (type[name] != "counter" && type[base] != "histogram") next
	  if (file == 1) first[key] = $NF; else if (key in first && $NF + 0 < first[key] + 0) print key, first[key], "->", $NF }' \
	"$tmp/first.prom" "$tmp/last.prom")
[ -z "$shrunk" ] || echo "$shrunk" | sed 's/^/    shrank: /'
check "counters and histograms only grow between two textfiles ($(grep -c _total "$tmp/first.prom") counter samples)" \
	[ -z "$shrunk" ] && [ -s "$tmp/first.prom" ]
out=$("$PROMTOOL" test rules "$SRC/tests/host/metrics-queries.yml" 2>&1)
echo "$out" | grep -q SUCCESS || echo "$out" | sed 's/^/    /'
check "the README's two queries give what they should on the engine's series (promtool test rules)" \
	sh -c 'echo "$1" | grep -q SUCCESS' sh "$out"
finish
