# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Helpers for guest scripts (busybox sh, inside the VM). The kernel log is read with dmesg -c
# (read and clear), so each step sees only its own messages; every message is also appended to
# /tmp/klog, the whole log of the run.

# The module tools are kmod's and dmesg is util-linux's, as on a Debian system. Busybox's shell
# would run its own applets for these names whatever PATH says (and busybox insmod retries a failed load with
# init_module, which would run the module's init twice), so they are named explicitly.
insmod() { /sbin/insmod "$@"; }
rmmod() { /sbin/rmmod "$@"; }
lsmod() { /sbin/lsmod; }
modinfo() { /sbin/modinfo "$@"; }
dmesg() { /usr/bin/dmesg "$@"; }

: > /tmp/klog
PASSED=0
FAILED=0
TAG=$(sed -n 's/.*kcs.tag=\([^ ]*\).*/\1/p' /proc/cmdline)

# klog: prints (and keeps) the kernel messages since the last call, without timestamps.
klog() {
	dmesg -c | tee -a /tmp/klog | sed 's/^\[[^]]*\] //'
}

# cache_lines: the module's own messages since the last klog call.
cache_lines() {
	klog | grep '^CACHE: ' || true
}

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

summary() {
	echo "RESULT [$TAG] $PASSED passed, $FAILED failed"
}
