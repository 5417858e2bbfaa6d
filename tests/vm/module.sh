#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# module.sh RELEASE plain|slub_debug: one boot of the real-kernel checks of simple_cache.ko
# (tests/vm/guest/module.sh: load and unload as the brief shows them, 20 cycles, fault injection
# at every allocation point, custom and bad names, the registry battery, writers and readers at
# once), then compares the module's own cache (its slabinfo row, all its sysfs attributes) with
# the model's after the same insmod. "slub_debug" boots with slub_debug=FZPU: sanity checks, red zones, poisoning and user
# tracking on every cache, so a module bug that overwrites or double-frees shows in the log.
# Prints the guest's PASS and FAIL lines, then its RESULT line; tests/vm/run.sh runs this for
# every kernel, after building the module and simple-cache-ctl.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=$1 mode=$2
ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
case "$mode" in
plain) extra="kcs.tag=$rel" ;;
slub_debug) extra="kcs.tag=$rel+slub_debug slub_debug=FZPU" ;;
*) echo "usage: $0 RELEASE plain|slub_debug" >&2; exit 2 ;;
esac
need "[$rel $mode] module" "$ko" "$VM_CTL" "$VM_CLI" || exit 1
version=$(model_version "[$rel $mode] module" "$rel") || exit 1

log=$VM_ROOT/build/vm$VM_SUFFIX/module-$rel-$mode.log
VM_EXTRA_FILES=$VM_CTL vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/module.sh" "$extra" > "$log" 2>&1
grep -E '^(PASS|FAIL|    )' "$log"
finished "[$rel $mode] module" "$log" '^RESULT ' || exit 1
result=$(grep -E '^RESULT ' "$log")
echo "$result"
grep -E '^TIMES ' "$log" | sed 's/^TIMES /    time: /'
status=0
grep -q ' 0 failed$' <<<"$result" || status=1

# --- the module's own cache, in the kernel and in the model ---------------------------------------
#
# Right after insmod the guest printed simple_cache's /proc/slabinfo row and every attribute of
# /sys/kernel/slab/simple_cache. The model, following this kernel's version and booted with the
# same slub_debug, must show the same after the same insmod (every count included: the CPU slab
# and its partial list, as 6.1 and 6.12 keep them), except where it legitimately differs, named
# here:
#  - ctor: the kernel names the function it calls, the glue's C thunk (kcs_ctor_thunk), which
#    calls the C# constructor; the model calls the C# constructor (kcs_slab_ctor) itself;
#  - failslab: the model's own (Debian's kernels are built without CONFIG_FAILSLAB).
debug=
[ "$mode" = slub_debug ] && debug="--slub-debug FZPU"
attrs=$(sed -n 's/^CACHE-ATTR \([a-z_]*\).*/\1/p' "$log")
# One model run reads the slabinfo row, each attribute the kernel has, and (last) the model's own
# list of attributes.
transcript=$({ echo "insmod simple_cache.ko"; echo "grep '^simple_cache ' /proc/slabinfo"
	for a in $attrs; do echo "cat /sys/kernel/slab/simple_cache/$a"; done
	echo "ls /sys/kernel/slab/simple_cache"; } |
	"$VM_CLI" run --kernel "$version" --cpus 1 $debug -)
model=$(sed '/^\$ ls /,$d' <<<"$transcript" |
	awk '/^\$ / { cmd = $0; next } NF && cmd != "" { out[cmd] = $0; cmd = "" }
		END { for (c in out) { if (c ~ /slabinfo/) print "SLABINFO " out[c]; else { a = c; sub(/.*\//, "", a); print "ATTR " a " " out[c] } } }')
if [ -z "$attrs" ]; then
	echo "FAIL [$rel $mode] cache: the guest printed no attributes of /sys/kernel/slab/simple_cache"
	status=1
fi
for a in $attrs; do
	real=$(sed -n "s/^CACHE-ATTR $a //p" "$log")
	mine=$(sed -n "s/^ATTR $a //p" <<<"$model")
	if [ "$real" = "$mine" ]; then
		echo "PASS [$rel $mode] cache: /sys/kernel/slab/simple_cache/$a is '$real' in the kernel and the model"
	elif [ "$a" = ctor ] && [[ $real == kcs_ctor_thunk+* ]] && [[ $mine == kcs_slab_ctor+* ]]; then
		echo "    cache: ctor differs as named (the kernel calls the glue's thunk): kernel '$real', model '$mine'"
	else
		echo "FAIL [$rel $mode] cache: /sys/kernel/slab/simple_cache/$a is '$real' in the kernel, '$mine' in the model"
		status=1
	fi
done
# The model's own list of attributes (not just those the kernel has): any the kernel lacks is a
# difference too, as skip_kfence would be on 6.1.
model_attrs=$(sed -n '/^\$ ls /,$p' <<<"$transcript" | sed '1d' | grep -v '^$')
[ -n "$model_attrs" ] || { echo "FAIL [$rel $mode] cache: the model listed no attributes of /sys/kernel/slab/simple_cache"; status=1; }
model_only=$(grep -vx -F "$attrs" <<<"$model_attrs" | grep -vx failslab)
[ -z "$model_only" ] || { echo "FAIL [$rel $mode] cache: the model has attributes the kernel lacks: $model_only"; status=1; }
# slabinfo: the whole row, every column.
real=$(sed -n 's/^CACHE-SLABINFO //p' "$log" | tr -s ' ')
mine=$(sed -n 's/^SLABINFO //p' <<<"$model" | tr -s ' ')
if [ -n "$real" ] && [ "$real" = "$mine" ]; then
	echo "PASS [$rel $mode] cache: the slabinfo row is the same in the kernel and the model ($real)"
else
	echo "FAIL [$rel $mode] cache: the slabinfo row differs: kernel '$real', model '$mine'"
	status=1
fi
exit $status
