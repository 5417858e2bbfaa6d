#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# bugs.sh RELEASE plain|fzpu BUG CACHE [CPUS]: one classic slab bug, in the real kernel and in the
# model. Boots RELEASE (CPUS CPUs, default 1; insmod runs on CPU 0; slab_nomerge, and for fzpu
# slub_debug=FZPU) with tests/kernel/slab_bugs.ko
# (the C module), runs the commands below as a learner would (tests/vm/guest/transcript.sh), and
# runs the same commands in the model with slab_bugs.ko the C# port
# (tests/kernel/slab_bugs/SlabBugs.cs); then diffs the two transcripts after normalising what
# cannot be equal: addresses (and pointers in slub_debug's hex dumps), pids, module sizes, the
# kernel's release and hardware, code offsets, which slot of the slab an object got, the names
# gcc's inlining and tail calls give slab_bugs.ko's return addresses, and what the model does
# not print (the register dump, the code bytes, the stack frames of the call trace and of the
# stack depot). Everything else must match: what insmod and the shell print, the
# exit status, every report line with its log level (the kernel BUG line, the oops header, the
# task line with its taint, slub_debug's reports and FIX lines, the WARNINGs with their file and
# line), the taint after, the module's state, rmmod's answer, and the cache's slabinfo row.
# BUG may be a list, BUG1+BUG2+..., each item BUG or BUG/CACHE (CACHE is the default): the bugs
# the kernel survives (slub_debug's reports, a leaked cache) share one boot, insmod after insmod,
# each with its own dmesg, taint and slabinfo; a bug that oopses gets a boot of its own, since an
# oops leaves a kernel that is not the next scenario's.
# tests/vm/run.sh runs a set of them for every kernel; BUGS_ALL=1 runs every bug with each cache.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=$1 mode=$2 bug=$3 cache=$4 cpus=${5:-1}
tag="$rel, $mode, $bug $cache$([ "$cpus" = 1 ] || echo ", $cpus CPUs")"
ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
bugs=$VM_ROOT/build/kernel/$rel/slab_matrix/slab_bugs.ko
need "[$tag] bugs" "$ko" "$bugs" "$VM_CLI" || exit 1
version=$(model_version "[$tag] bugs" "$rel") || exit 1
debug= model_debug=
if [ "$mode" = fzpu ]; then
	debug="slub_debug=FZPU"
	model_debug="--slub-debug FZPU"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scenario=$work/scenario.txt
# vm_run boots with oops=panic, so that an unexpected oops stops a test boot; here one is expected.
echo "echo 0 > /proc/sys/kernel/panic_on_oops" > "$scenario"
for item in ${bug//+/ }; do
	b=${item%%/*} c=$cache
	[ "$b" = "$item" ] || c=${item#*/}
	cat >> "$scenario" <<EOF
taskset -c 0 insmod slab_bugs.ko bug=$b cache=$c
echo \$?
dmesg -c -t -x
cat /proc/sys/kernel/tainted
grep slab_bugs /proc/modules
rmmod slab_bugs
echo \$?
dmesg -c -t -x
EOF
	# 6.1 under slub_debug: a double free beside a live object oopses inside SLUB with the node's
	# list_lock held, and reading /proc/slabinfo then spins on that lock for good (the VM freezes).
	if ! [ "$version" = 6.1 ] || ! [ "$mode$b" = fzpudouble_free_live ]; then
		echo "grep bug_ /proc/slabinfo" >> "$scenario"
	fi
done

log=${BUGS_LOG_DIR:-$VM_ROOT/build/vm$VM_SUFFIX}/bugs-$rel-$mode-${bug//\//-}-$cache$([ "$cpus" = 1 ] || echo "-$cpus").log
# BUGS_REUSE_LOG=1: compare with the console log of an earlier boot, kept in BUGS_LOG_DIR (work on
# the model side only, without booting).
if [ "${BUGS_REUSE_LOG:-0}" != 1 ] || ! [ -s "$log" ]; then
	VM_SMP=$cpus VM_EXTRA_FILES="$scenario $bugs" vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/transcript.sh" \
		"kcs.tag=$rel slab_nomerge $debug" >"$log" 2>&1
fi
finished "[$tag] bugs" "$log" '^TRANSCRIPT-END$' || exit 1

# normalise: the lines both sides can be held to (tests/vm/bugs-normalise.sh).
normalise() {
	"$VM_ROOT/tests/vm/bugs-normalise.sh" "$version" "$mode" "$cache"
}
real=$(transcript "$log" | normalise)
# The record: what this kernel printed for this scenario, normalised, kept in
# tests/model/data/bugs/ so that the model's own tests (BugsRecordTests) hold the model to the
# kernel without a VM. The kernel must still print it; BUGS_RECORD=1 writes it anew.
record=$VM_ROOT/tests/model/data/bugs/$(echo "$version-$mode-$cache-${cpus}cpu-$bug" | tr '/+' '@,').txt
[ "${BUGS_RECORD:-0}" != 1 ] || printf '%s\n' "$real" > "$record"
if ! [ -f "$record" ]; then
	echo "FAIL [$tag] bugs: no record of this scenario ($record; BUGS_RECORD=1 writes it)"
	exit 1
elif [ "$real" != "$(cat "$record")" ]; then
	echo "FAIL [$tag] bugs: the kernel's transcript differs from its record (< record, > kernel)"
	diff "$record" <(echo "$real") | sed 's/^/    | /' | head -n 60
	exit 1
fi
model=$("$VM_CLI" run --kernel "$version" --cpus "$cpus" $model_debug "$scenario" | normalise)
if [ "$real" = "$model" ]; then
	echo "PASS [$tag] bugs: the kernel prints its record, and the model ($version) does what the kernel does ($(grep -c '^kern  :' <<<"$real") kernel log lines with their levels, $(grep -c '^\$ ' <<<"$real") commands)"
else
	echo "FAIL [$tag] bugs: the model's transcript ($version) differs from the kernel's (< kernel, > model)"
	diff <(echo "$real") <(echo "$model") | sed 's/^/    | /' | head -n 60
	exit 1
fi
