# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The real-kernel checks of simple_cache.ko, run inside the VM (busybox sh) by tests/vm/module.sh.
# One PASS or FAIL line per check, the kernel log on failure, and a RESULT line at the end.

. /lib.sh
. /checks.sh
# 69 checks of its own, from simple-cache-ctl 103 in the battery, 51 in the sequence, 6 in the
# stress test, 6 when the ids run out and 27 in the constructed-state run, and 70 from the
# fault-injection loop: for 2 and 4 names, 6 and 8 failing points with 5 checks each (4 at the
# first: no cache to destroy yet), and one for the load that then succeeds.
plan 332
KO=/simple_cache.ko
klog >/dev/null   # start with an empty log: boot messages are not the module's

# --- load and unload, as the brief shows them ---------------------------------------------

section load
check "insmod simple_cache.ko succeeds" insmod $KO
expect_lines "load logs the brief's lines, in order" \
"CACHE: created object 1 alpha
CACHE: created object 2 beta" "$(cache_lines)"
check "lsmod lists simple_cache" in_lsmod
check "/proc/slabinfo has the simple_cache cache" in_slabinfo
grep '^simple_cache ' /proc/slabinfo | sed 's/^/    slabinfo: /'
# The module's own cache as the kernel made it: its slabinfo row and every attribute in
# /sys/kernel/slab/simple_cache, for tests/vm/module.sh to compare with the model's.
echo "CACHE-SLABINFO $(grep '^simple_cache ' /proc/slabinfo)"
for f in /sys/kernel/slab/simple_cache/*; do
	v=
	read -r v < "$f" 2>/dev/null
	echo "CACHE-ATTR ${f##*/} $v"
done
# SLUB counts every object of a CPU's active slab as in use, so active_objs is not 2: check
# that the cache has room for at least the 2 objects (num_objs, column 3).
check "the cache holds the 2 objects (num_objs >= 2)" test "$(grep '^simple_cache ' /proc/slabinfo | awk '{ print $3 }')" -ge 2
check "rmmod simple_cache succeeds" rmmod simple_cache
expect_lines "unload logs the cleanup lines, in order" \
"CACHE: freeing object 1
CACHE: freeing object 2
CACHE: cache destroyed" "$(cache_lines)"
check "the cache is gone from /proc/slabinfo" eval "! in_slabinfo"
check "lsmod no longer lists simple_cache" eval "! in_lsmod"
check "kernel log clean after load/unload (no BUG, WARNING, Oops, leaks)" log_is_clean

# --- the map: where the kernel put each object (/proc/simple_cache_map, simple-cache-ctl map) ---

section map
check "insmod for the map" insmod $KO
# ls -l's mode column: the registry is 0644, the map 0400 (C# has no octal literals: the modes
# come from include/linux/Proc.cs's Stat bits).
check "/proc/simple_cache is -rw-r--r-- (0644)" sh -c "ls -l /proc/simple_cache | grep -q '^-rw-r--r-- '"
check "/proc/simple_cache_map is -r-------- (0400)" sh -c "ls -l /proc/simple_cache_map | grep -q '^-r-------- '"
out=$(su -s /bin/sh nobody -c 'cat /proc/simple_cache_map' 2>&1)
check "a user who is not root cannot read the map (Permission denied)" contains "$out" 'Permission denied'
# kptr_restrict decides what %pK shows: 1 the addresses (root has CAP_SYSLOG), 2 zeros, 0 a hash.
restrict=$(cat /proc/sys/kernel/kptr_restrict)
echo 1 > /proc/sys/kernel/kptr_restrict
view=$(cat /proc/simple_cache_map)
printf '%s\n' "$view" | sed 's/^/    map: /'
# (Kernel addresses start ffff with 4-level paging, ff... with 5-level: QEMU's -cpu max has LA57.)
check "kptr_restrict=1: root sees each slab's kernel address (ff...)" test "$(printf '%s\n' "$view" | awk 'NR > 2 && $3 ~ /^ff[0-9a-f]{14}$/ && $3 !~ /^00000000/' | wc -l)" -eq 2
check "the map lists alpha and beta, in list order" test "$(printf '%s\n' "$view" | awk 'NR > 2 { printf "%s %s,", $1, $2 }')" = "1 alpha,2 beta,"
check "simple-cache-ctl map: the view agrees with /sys/kernel/slab/simple_cache" /simple-cache-ctl map
for i in $(seq 1 40); do echo "add object$i" > /proc/simple_cache; done
/simple-cache-ctl map > /tmp/map.out 2>&1
map_rc=$?
sed 's/^/    ctl: /' /tmp/map.out
check "simple-cache-ctl map after 40 more objects: consistent, 42 objects" sh -c "[ $map_rc -eq 0 ] && grep -q '^simple_cache in the running kernel: 42 objects' /tmp/map.out"
slabs_used=$(awk 'NR > 2 { print $3 }' /proc/simple_cache_map | sort -u | wc -l)
num_slabs=$(awk '$1 == "simple_cache" { print $15 }' /proc/slabinfo)
check "the 42 objects are in $slabs_used slabs, at most the $num_slabs of /proc/slabinfo and at least 2 (32 per slab)" \
	sh -c "[ $slabs_used -ge 2 ] && [ $slabs_used -le $num_slabs ]"
echo 2 > /proc/sys/kernel/kptr_restrict
check "kptr_restrict=2: every slab reads as zeros" test "$(awk 'NR > 2 && $3 != "0000000000000000"' /proc/simple_cache_map | wc -l)" -eq 0
echo 0 > /proc/sys/kernel/kptr_restrict
# kptr_restrict=0 prints %pK as %p: hashed (00000000 and 8 hex digits, one value per slab), but
# slub_debug turns on no_hash_pointers at boot (mm/slub.c: kmem_cache_init()), and then %p
# prints the address itself.
values=$(awk 'NR > 2 { print $3 }' /proc/simple_cache_map | sort -u)
printf '%s\n' "$values" | sed 's/^/    kptr_restrict=0: /'
if grep -q 'slub_debug' /proc/cmdline; then
	want='^ff[0-9a-f]\{14\}$' what="unhashed (slub_debug sets no_hash_pointers)"
else
	want='^00000000[0-9a-f]\{8\}$' what="hashed (00000000 and 8 hex digits)"
fi
check "kptr_restrict=0: the slabs are $what, one value per slab" test "$(printf '%s\n' "$values" | grep -c "$want")" -eq "$slabs_used"
echo "$restrict" > /proc/sys/kernel/kptr_restrict
check "rmmod after the map" rmmod simple_cache
check "the map is gone with the module" test ! -e /proc/simple_cache_map
check "kernel log clean after the map" log_is_clean

# --- 50 cycles ------------------------------------------------------------------------------

section cycles
cycles_ok=0
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	insmod $KO || break
	rmmod simple_cache || break
	cycles_ok=$i
done
check "20 insmod/rmmod cycles succeed ($cycles_ok done)" test "$cycles_ok" -eq 20
created=$(klog | grep -c '^CACHE: created object' || true)
check "the cycles created and freed 40 objects ($created created)" test "$created" -eq 40
check "no module and no cache left after the cycles" nothing_loaded
check "kernel log clean after 20 cycles" log_is_clean

# --- fault injection at every allocation point -------------------------------------------------

section faults
# fault_points NAMES: fails each allocation in turn (fail_nth=1, 2, ...) until a load succeeds.
fault_points() {
	local names=$1 count n=1 out
	count=$(($(echo "$names" | tr ',' '\n' | wc -l) + 4))   # the cache, one per object, the lock, the two proc files
	while [ $n -le $((count + 1)) ]; do
		if out=$(insmod $KO names=$names fail_nth=$n 2>&1); then
			rmmod simple_cache
			klog >/dev/null
			check "fail_nth=$n (past the last allocation) loads normally [$names]" test $n -eq $((count + 1))
			return
		fi
		check "fail_nth=$n: insmod fails with 'Cannot allocate memory' [$names]" contains "$out" 'Cannot allocate memory'
		log=$(cache_lines)
		check "fail_nth=$n: the injected failure is logged [$names]" contains "$log" "fault injection: failing allocation $n\$"
		if [ $n -gt 1 ]; then
			check "fail_nth=$n: the cache is destroyed last [$names]" last_line_is "$log" "CACHE: cache destroyed"
		fi
		made=$((n - 2 > 0 ? n - 2 : 0))
		[ $made -gt $((count - 4)) ] && made=$((count - 4))
		freed=$(printf '%s\n' "$log" | grep -c 'freeing object' || true)
		check "fail_nth=$n: every object made before the failure is freed ($freed of $made) [$names]" \
			test "$freed" -eq $made
		check "fail_nth=$n: no module and no cache left behind [$names]" nothing_loaded
		n=$((n + 1))
	done
	fail "fault injection never let the module load [$names]"
}
fault_points alpha,beta
fault_points one,two,three,four
check "kernel log clean after fault injection" log_is_clean

# --- custom names -------------------------------------------------------------------------------

section names
check "names=gamma,delta,epsilon loads" insmod $KO names=gamma,delta,epsilon
expect_lines "custom names are created in order" \
"CACHE: created object 1 gamma
CACHE: created object 2 delta
CACHE: created object 3 epsilon" "$(cache_lines)"
check "rmmod after custom names" rmmod simple_cache
expect_lines "custom names are freed in order" \
"CACHE: freeing object 1
CACHE: freeing object 2
CACHE: freeing object 3
CACHE: cache destroyed" "$(cache_lines)"

n31=abcdefghijklmnopqrstuvwxyz01234     # 31 bytes: fits in name[32] with its NUL
n32=abcdefghijklmnopqrstuvwxyz012345    # 32 bytes: does not
check "a 31-byte name loads" insmod $KO names=alpha,$n31
expect_lines "the 31-byte name is kept whole" \
"CACHE: created object 1 alpha
CACHE: created object 2 $n31" "$(cache_lines)"
check "rmmod after the 31-byte name" rmmod simple_cache
klog >/dev/null

# bad_names NAMES MESSAGE: insmod must fail with EINVAL, say why, and create nothing.
bad_names() {
	local out log
	out=$(insmod $KO "names=$1" 2>&1) && { rmmod simple_cache; fail "names=$1 was accepted"; return; }
	check "names=$1: insmod fails with EINVAL ('Invalid parameters', kmod's words for it)" contains "$out" 'Invalid parameters'
	log=$(cache_lines)
	check "names=$1: the log says why ($2)" contains "$log" "$2"
	check "names=$1: no object was created" eval '! contains "$log" "created object"'
	check "names=$1: no module and no cache left behind" nothing_loaded
}
bad_names "alpha,$n32" "object name 2 is 32 bytes, longer than the 31 that fit in name\[32\]"
bad_names "alpha,,beta" "object name 2 is empty"
bad_names "," "object name 1 is empty"
check "kernel log clean after custom names" log_is_clean

# --- /proc/simple_cache, the live registry ---------------------------------------------------------

section registry
# fail_nth=7: the cache, alpha, beta, the lock and the two files are allocations 1 to 6, so the
# first object added through /proc fails with ENOMEM (the battery's first check).
check "insmod with fail_nth=7 for the registry battery" insmod $KO fail_nth=7
check "/proc/simple_cache lists alpha and beta" sh -c "grep -q ' alpha ' /proc/simple_cache && grep -q ' beta ' /proc/simple_cache"
klog >/dev/null
# ctl_checks ARGS...: runs simple-cache-ctl's checks (tests/registry/RegistryChecks.cs) and counts
# their PASS and FAIL lines with this script's own.
ctl_checks() {
	/simple-cache-ctl "$@" | sed "s/^\(PASS\|FAIL\) /\1 [$TAG] /" > /tmp/ctl.out
	cat /tmp/ctl.out
	PASSED=$((PASSED + $(grep -c '^PASS' /tmp/ctl.out))); FAILED=$((FAILED + $(grep -c '^FAIL' /tmp/ctl.out)))
}

section battery
ctl_checks battery
check "kernel log clean after the battery" log_is_clean
ctl_checks sequence
section stress
ctl_checks stress 4000 2 1 2
check "rmmod after the registry tests" rmmod simple_cache
check "no module and no cache left after the registry tests" nothing_loaded
check "kernel log clean after the registry tests" log_is_clean

# --- when the ids run out (the last_id test parameter) -------------------------------------------

section ids
check "insmod with last_id=2147483645: alpha and beta get the last two ids" insmod $KO last_id=2147483645
ctl_checks ids-run-out
check "rmmod after the ids ran out" rmmod simple_cache
klog >/dev/null
# bad_load ARGS ERROR MESSAGE: insmod must fail with kmod's ERROR text, the log must say MESSAGE,
# and nothing may be left behind.
bad_load() {
	local out log
	out=$(insmod $KO $1 2>&1) && { rmmod simple_cache; fail "$1 was accepted"; return; }
	check "$1: insmod fails with '$2'" contains "$out" "$2"
	log=$(cache_lines)
	check "$1: the log says why ($3)" contains "$log" "$3"
	check "$1: no module and no cache left behind" nothing_loaded
}
bad_load last_id=2147483647 'No space left on device' 'no id left for the next object (the last id is 2147483647), undoing'
bad_load last_id=-1 'Invalid parameters' 'last_id must not be negative'
check "kernel log clean after the ids ran out" log_is_clean

# --- free objects in the constructor's state (the selfcheck test parameter) ---------------------

section constructed
check "insmod with selfcheck=1 last_id=2147483600" insmod $KO selfcheck=1 last_id=2147483600
ctl_checks constructed
selfchecks=$(cache_lines | grep -c "^CACHE: self-check: \([0-9]*\) free objects, \1 in the constructor's state$" || true)
check "the log has the 6 self-checks, each with every object in the constructor's state ($selfchecks)" test "$selfchecks" -eq 6
check "rmmod after the self-checks" rmmod simple_cache
check "no module and no cache left after the self-checks" nothing_loaded
check "kernel log clean after the self-checks" log_is_clean

summary
