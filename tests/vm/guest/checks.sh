# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The tests' helpers inside the VM (busybox sh), sourced after tools/vm/guest/lib.sh: one PASS or
# FAIL line per check, tagged with the boot (kcs.tag= on the kernel command line), the kernel log
# after a failure, and the RESULT line that tests/vm/ reads.

PASSED=0
FAILED=0
TAG=$(sed -n 's/.*kcs.tag=\([^ ]*\).*/\1/p' /proc/cmdline)

pass() { PASSED=$((PASSED + 1)); echo "PASS [$TAG] $1"; }

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL [$TAG] $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    | /'
	echo "    --- kernel log (last 40 lines) ---"
	tail -n 40 /tmp/klog | sed 's/^/    | /'
}

# check NAME COMMAND...: PASS if the command succeeds.
check() {
	local name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		pass "$name"
	else
		fail "$name" "$(cat /tmp/check.out)"
	fi
}

# expect_lines NAME EXPECTED ACTUAL: PASS if the two texts are equal, line for line.
expect_lines() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected:
$2
got:
$3"
	fi
}

# log_is_clean: no BUG, WARNING, Oops or leaked objects anywhere in the run's kernel log.
log_is_clean() {
	klog >/dev/null
	! grep -E 'BUG|WARNING|Oops|Objects remaining|still has objects|general protection|list_(add|del) corruption' /tmp/klog
}

in_slabinfo() { grep -q '^simple_cache ' /proc/slabinfo; }
in_lsmod() { lsmod | grep -q '^simple_cache '; }
# nothing_loaded: neither the module nor its cache is there.
nothing_loaded() { ! in_lsmod && ! in_slabinfo; }
# contains TEXT PATTERN: TEXT has a line matching the basic regular expression PATTERN.
contains() { printf '%s\n' "$1" | grep -q -- "$2"; }
# last_line_is TEXT LINE: the last line of TEXT is exactly LINE.
last_line_is() { [ "$(printf '%s\n' "$1" | tail -n 1)" = "$2" ]; }

# section NAME: starts timing a part of the run; summary prints how long each part took, so a
# slow part of the suite shows (TCG emulation makes every instruction count).
SECTIONS=
SECTION_NAME=
SECTION_START=
uptime_s() { cut -d' ' -f1 /proc/uptime; }
section() {
	local now
	now=$(uptime_s)
	[ -n "$SECTION_NAME" ] && SECTIONS="$SECTIONS $SECTION_NAME=$(awk -v a="$SECTION_START" -v b="$now" 'BEGIN { printf "%.0fs", b - a }')"
	SECTION_NAME=$1
	SECTION_START=$now
}

# plan N: the number of checks the script runs (no silent skips): summary fails the run if any
# other number ran, e.g. when a tool it needs is missing from the VM.
PLANNED=
plan() { PLANNED=$1; }

summary() {
	section end
	echo "TIMES [$TAG]$SECTIONS"
	if [ -z "$PLANNED" ]; then
		fail "the script does not state how many checks it runs (plan N)"
	elif [ $((PASSED + FAILED)) -ne "$PLANNED" ]; then
		fail "$((PASSED + FAILED)) checks ran; the script plans $PLANNED"
	fi
	echo "RESULT [$TAG] $PASSED passed, $FAILED failed"
}
