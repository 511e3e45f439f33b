#!/usr/bin/env bash
# tests/valgrind/run.sh VMGOV SOURCE_ROOT MODE — run one vmgov command under valgrind over the fixture /proc tree
# and fail on any memory error or definite/indirect leak (memcheck), or on an unexpected exit status of vmgov.
#
# MODE: once    `vmgov --proc FIXTURES --dry-run --audit-log none once` (discover, place, sense, decide, act in dry-run)
#       status  `vmgov --proc FIXTURES status`, and with --json
#       check   `vmgov check` on a good policy directory, and on a refused one (exit 2: the error paths free too)
#       replay  `vmgov replay` of the signals a dry-run `once` recorded
#       probe   `vmgov probe` on hosts that cannot enforce (no cgroup2; a mount that is not there) and on this one:
#               each prints exactly one line, stdout and stderr together
#
# The fixture tree is copied to a scratch directory with self/mountinfo taken from this machine's /proc, so the
# engine finds the real cgroup2 mount (only read: everything runs in dry-run). Exit 77 (skip) without valgrind.
set -euo pipefail

vmgov=$1 src=$2 mode=$3
command -v valgrind >/dev/null || {
	echo "valgrind is not installed (scripts/setup installs it): skipped"
	exit 77
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$src/tests/fixtures/proc" "$tmp/proc"
mkdir -p "$tmp/proc/self"
cp /proc/self/mountinfo "$tmp/proc/self/mountinfo"
good=$src/tests/fixtures/policy/good.d
bad=$src/tests/fixtures/policy/bad.d

# The fixture's exe links name /usr/bin/qemu-system-x86_64 and the like, which this machine may not have, and the
# engine takes a process for QEMU only if its executable is root's or vouched for: each link is pointed at a file of
# its name in $tmp/exe (" (deleted)" too, as the kernel writes it), which the policy vouches for. Its VMs run as
# uids 1000, 1002 and 107, and one is libvirt's: the policy names those users and takes libvirt's VMs, so that the
# engine governs them all, as before.
mkdir "$tmp/exe"
for link in "$tmp"/proc/*/exe; do
	name=$(readlink "$link")
	name=${name##*/}
	: >"$tmp/exe/$name"
	chmod 755 "$tmp/exe/$name"
	ln -sfn "$tmp/exe/$name" "$link"
done
policy=$tmp/policy
cp -a "$good" "$policy"
printf '[engine]\nQemuTrustedPaths = %s\nManageLibvirt = yes\n\n[group users]\nMatchUser = 1000 1002 107\n' \
	"$tmp/exe" >"$policy/30-fixture.ini"
chmod 644 "$policy/30-fixture.ini"

failures=0
# vg EXPECTED_STATUS ARGS...: one vmgov run under memcheck.
vg() {
	local want=$1 log rc
	shift
	log=$tmp/valgrind.$((++runs)).log
	rc=0
	valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --track-origins=yes --suppressions="$src/tests/valgrind/libbpf.supp" \
		--log-file="$log" \
		"$vmgov" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	local errors leaks
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
	leaks=$(awk '/definitely lost:|indirectly lost:/ {gsub(",", "", $4); s += $4} END {print s + 0}' "$log")
	echo "vmgov $*: exit $rc (expected $want), ${errors:-?} errors, $leaks bytes definitely or indirectly lost"
	if [ "${errors:-1}" != 0 ] || [ "$leaks" != 0 ] || [ "$rc" != "$want" ]; then
		cat "$log"
		echo "--- vmgov's stderr:"
		tail -n 20 "$tmp/err"
		failures=$((failures + 1))
	fi
}
runs=0

case "$mode" in
once)
	vg 0 --proc "$tmp/proc" --policy "$policy" --dry-run --audit-log none --log-level debug once
	# and the fixture's QEMUs were all taken, and governed
	for pid in 100 200 400 500; do
		grep -q "found VM .*(pid $pid," "$tmp/err" || {
			echo "pid $pid was not found as a VM"
			failures=$((failures + 1))
		}
	done
	if grep "not taken for QEMU\|left unmanaged" "$tmp/err"; then
		failures=$((failures + 1))
	fi
	;;
status)
	vg 0 --proc "$tmp/proc" --policy "$policy" status
	vg 0 --proc "$tmp/proc" --policy "$policy" --json status
	;;
check)
	vg 0 check "$good"
	vg 2 check "$bad"
	;;
replay)
	"$vmgov" --proc "$tmp/proc" --policy "$policy" --dry-run --audit-log none --record-signals "$tmp/signals" once \
		2>/dev/null
	vg 0 --policy "$policy" replay "$tmp/signals"
	;;
probe)
	# one_line EXPECTED_STATUS EXPECTED_LINE ARGS...: the whole output is that one line ("" = any one line).
	one_line() {
		local want_line=$2
		vg "$1" "${@:3}"
		local out
		out=$(cat "$tmp/out" "$tmp/err")
		echo "  printed: $out"
		if [ "$(printf '%s\n' "$out" | wc -l)" != 1 ] || { [ -n "$want_line" ] && [ "$out" != "$want_line" ]; }; then
			echo "  expected exactly one line${want_line:+: $want_line}"
			failures=$((failures + 1))
		fi
	}
	cp "$src/tests/fixtures/mountinfo/no-cgroup2" "$tmp/proc/self/mountinfo"
	one_line 3 "cannot enforce: no cgroup2 filesystem is mounted (none in self/mountinfo)" --proc "$tmp/proc" probe
	echo "30 22 0:26 / /nonexistent/cgroup rw,nosuid - cgroup2 cgroup2 rw" >"$tmp/proc/self/mountinfo"
	one_line 3 "cannot enforce: cannot open the cgroup2 mount /nonexistent/cgroup: No such file or directory" \
		--proc "$tmp/proc" probe
	rc=0
	"$vmgov" probe >/dev/null 2>&1 || rc=$?
	one_line "$rc" "" probe
	;;
*)
	echo "unknown mode $mode" >&2
	exit 2
	;;
esac
[ "$failures" -eq 0 ]
