#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# geometry.sh RELEASE CPUS: compares the model's slab geometry with a real kernel's. Boots RELEASE
# with CPUS CPUs (the CPU count changes calculate_order()'s min_objects) and slab_nomerge, loads
# tests/kernel/slab_matrix.ko, reads object_size, slab_size, objs_per_slab, order and align of
# every cache it made (and the objsize, objperslab, pagesperslab columns of /proc/slabinfo), and
# has `simple-cache check-geometry` compare each with the model. One PASS or FAIL line per cache.
# tests/vm/run.sh runs this for every kernel with 2 and 4 CPUs, after building what it needs.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=$1 smp=$2
ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
matrix=$VM_ROOT/build/kernel/$rel/slab_matrix/slab_matrix.ko
need "[$rel, $smp CPUs] geometry" "$ko" "$matrix" "$VM_CLI" || exit 1
version=$(model_version "[$rel, $smp CPUs] geometry" "$rel") || exit 1

log=$VM_ROOT/build/vm$VM_SUFFIX/geometry-$rel-$smp.log
timing=${matrix%/*}/slab_timing.ko
VM_SMP=$smp VM_EXTRA_FILES="$matrix $timing" vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/geometry.sh" \
	"kcs.tag=$rel slab_nomerge" >"$log" 2>&1
finished "[$rel, $smp CPUs] geometry" "$log" '^GEOM-DONE' || exit 1
cpus=$(sed -n 's/^NRCPUS \([0-9]*\).*/\1/p' "$log")
# No silent skips: tests/kernel/slab_matrix.c tries 47 sizes x 2 alignments x 7 flag sets x with
# and without a constructor = 1316 caches; every one must be either made (a GEOM line) or refused
# (a REFUSED line), and the model must pass judgement on each.
planned=1316
made=$(sed -n 's/^NRCACHES \([0-9]*\).*/\1/p' "$log")
refused=$(sed -n 's/^NRREFUSED \([0-9]*\).*/\1/p' "$log")
described=$(grep -c -E '^(GEOM|REFUSED) ' "$log")
out=$(grep -E '^(GEOM|SLABINFO|REFUSED|REFUSAL) ' "$log" | "$VM_CLI" check-geometry --kernel "$version" --cpus "$cpus" --tag "$rel, $cpus CPUs" -)
rc=$?
echo "$out"
judged=$(grep -c -E '^(PASS|FAIL) .* geometry of ' <<<"$out")
if [ "$((${made:-0} + ${refused:-0}))" != "$planned" ] || [ "$described" != "$planned" ] || [ "$judged" != "$planned" ]; then
	echo "FAIL [$rel, $cpus CPUs] geometry: $planned caches planned, slab_matrix.ko made ${made:-none} and had ${refused:-none} refused, the VM described $described, the model judged $judged"
	exit 1
fi
# The model's xunit tests judge the model against a record of these lines
# (tests/model/data/geometry/, GeometryRecordTests): the record must still be what the kernel prints.
record=$VM_ROOT/tests/model/data/geometry/$version-${cpus}cpus.txt
if [ ! -f "$record" ]; then
	echo "FAIL [$rel, $cpus CPUs] geometry: no record $record for the model's tests"
	exit 1
fi
differences=$(diff <(grep -v '^#' "$record") <(grep -E '^(NRCPUS|NRCACHES|NRREFUSED|GEOM|SLABINFO|REFUSED|REFUSAL) ' "$log" | tr -s ' ' | LC_ALL=C sort))
changed=$(grep -c '^[<>]' <<<"$differences")
if [ "$changed" != 0 ]; then
	echo "FAIL [$rel, $cpus CPUs] geometry: $changed lines differ from the record ${record#$VM_ROOT/}, which the model's tests use; the kernel's lines are in $log"
	head -n 6 <<<"$differences" | sed 's/^/    | /'
	exit 1
fi
echo "PASS [$rel, $cpus CPUs] geometry: the kernel's lines are the record ${record#$VM_ROOT/}"

# The kernel's kmalloc caches, held to their record (tests/model/data/kmalloc/), which the model's
# tests (KmallocRecordTests) hold the model's kmalloc caches to.
arch=x86_64
[ "$VM_ARCH" = arm64 ] && arch=arm64
krecord=$VM_ROOT/tests/model/data/kmalloc/$arch-$version-${cpus}cpus.txt
klines=$(grep -E '^KMALLOC ' "$log" | tr -s ' ' | LC_ALL=C sort)
if [ -z "$klines" ]; then
	echo "FAIL [$rel, $cpus CPUs] kmalloc: the guest printed no kmalloc caches"
	exit 1
elif [ ! -f "$krecord" ]; then
	echo "FAIL [$rel, $cpus CPUs] kmalloc: no record ${krecord#$VM_ROOT/} for the model's tests; the kernel's lines:"
	sed 's/^/    | /' <<<"$klines"
	exit 1
elif ! kdiff=$(diff <(grep -v '^#' "$krecord") <(echo "$klines")); then
	echo "FAIL [$rel, $cpus CPUs] kmalloc: the kernel's kmalloc caches differ from the record ${krecord#$VM_ROOT/}, which the model's tests use"
	head -n 8 <<<"$kdiff" | sed 's/^/    | /'
	exit 1
fi
echo "PASS [$rel, $cpus CPUs] kmalloc: the kernel's $(wc -l <<<"$klines") kmalloc caches are the record ${krecord#$VM_ROOT/}"

# The same boot timed kmem_cache_alloc against kmalloc (with the constructor's initialisation at
# every allocation) for the brief's struct: ns per alloc and free under QEMU's software emulation,
# whose absolute times mean little; the ratio of the two, measured side by side, is the figure.
timings=$(grep -E '^TIMING (pair|batch) kmem_cache [0-9]+ kmalloc [0-9]+$' "$log")
if [ "$(wc -l <<<"$timings")" = 2 ] && ! grep -q '^TIMING-ERROR' "$log"; then
	echo "PASS [$rel, $cpus CPUs] slab_timing: $(awk '{printf "%s%s: kmem_cache %s ns, kmalloc %s ns per alloc and free (kmalloc/kmem_cache %.2f)", (NR > 1 ? "; " : ""), $2, $4, $6, $6 / $4}' <<<"$timings") under TCG"
else
	echo "FAIL [$rel, $cpus CPUs] slab_timing: no timing from slab_timing.ko ($(grep -E '^TIMING' "$log" | head -n 2 | tr '\n' ' '))"
	rc=1
fi
exit $rc
