# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The walk through the brief, inside the VM: each command as a learner would type it on a real
# machine, then what it printed.

. /lib.sh
dmesg -c >/dev/null   # the boot messages are not the module's

run() {
	echo
	echo "\$ $*"
	eval "$@" 2>&1
}

echo "Inside a throwaway VM running Linux $(uname -r)."
run "modinfo simple_cache.ko"
run "insmod simple_cache.ko"
run "lsmod | grep -E '^(Module|simple_cache)'"
run "dmesg | grep CACHE"
run "grep -E '^(# name|simple_cache)' /proc/slabinfo"
echo
echo "The registry in /proc/simple_cache: read it, write add NAME, del ID, rename ID NAME, clear:"
run "cat /proc/simple_cache"
run "echo add gamma > /proc/simple_cache"
run "echo del 99 > /proc/simple_cache"
run "cat /proc/simple_cache"
echo
echo "Where the kernel put them: /proc/simple_cache_map (root only) gives each object's slab, as %pK"
echo "prints addresses (kptr_restrict=1 shows them to root), and its offset; simple-cache-ctl map draws it:"
run "ls -l /proc/simple_cache_map"
run "echo 1 > /proc/sys/kernel/kptr_restrict"
run "cat /proc/simple_cache_map"
run "/simple-cache-ctl map"
run "slabtop -o -s c | head -n 14"
run "rmmod simple_cache"
run "dmesg | grep CACHE"
echo
echo "Module parameters: names=... (your own objects) and fail_nth=N (the Nth allocation fails):"
dmesg -c >/dev/null
run "insmod simple_cache.ko names=inode,dentry,socket"
run "rmmod simple_cache"
run "insmod simple_cache.ko fail_nth=3"
run "dmesg | grep CACHE"
run "lsmod | grep -c '^simple_cache' # nothing left behind"
