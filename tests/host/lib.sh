# shellcheck shell=bash
# tests/host/lib.sh — what the host tests share: counting checks, and the closing "N passed, N failed" line that
# scripts/test reads. A test that cannot run FAILS (never skips).
passed=0
failed=0

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

cannot_run() {
	echo "FAIL cannot run: $*"
	failed=$((failed + 1))
	finish
}

# check NAME COMMAND...: run COMMAND; "ok NAME" when it succeeds, "FAIL NAME" otherwise
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}
