# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Helpers for every guest script (busybox sh, inside the VM): the demo's and the tests'. The
# kernel log is read with dmesg -c (read and clear), so each step sees only its own messages;
# every message is also appended to /tmp/klog, the whole log of the run. The tests' PASS/FAIL
# helpers are in tests/vm/guest/checks.sh.

# The module tools are kmod's and dmesg is util-linux's, as on a Debian system. Busybox's shell
# would run its own applets for these names whatever PATH says (and busybox insmod retries a failed load with
# init_module, which would run the module's init twice), so they are named explicitly.
insmod() { /sbin/insmod "$@"; }
rmmod() { /sbin/rmmod "$@"; }
lsmod() { /sbin/lsmod; }
modinfo() { /sbin/modinfo "$@"; }
dmesg() { /usr/bin/dmesg "$@"; }

: > /tmp/klog

# klog: prints (and keeps) the kernel messages since the last call, without timestamps.
klog() {
	dmesg -c | tee -a /tmp/klog | sed 's/^\[[^]]*\] //'
}

# cache_lines: the module's own messages since the last klog call.
cache_lines() {
	klog | grep '^CACHE: ' || true
}
