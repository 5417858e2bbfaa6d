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
# Each scenario has its own boot: an oops leaves a kernel that is not the next scenario's.
# tests/vm/run.sh runs a set of them for every kernel; BUGS_ALL=1 runs all 56 (7 bugs x 2 caches
# x plain/fzpu x 2 kernels).

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
cat > "$scenario" <<EOF
echo 0 > /proc/sys/kernel/panic_on_oops
taskset -c 0 insmod slab_bugs.ko bug=$bug cache=$cache
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
if ! [ "$version" = 6.1 ] || ! [ "$mode$bug" = fzpudouble_free_live ]; then
	echo "grep bug_ /proc/slabinfo" >> "$scenario"
fi

log=${BUGS_LOG_DIR:-$VM_ROOT/build/vm}/bugs-$rel-$mode-$bug-$cache$([ "$cpus" = 1 ] || echo "-$cpus").log
# BUGS_REUSE_LOG=1: compare with the console log of an earlier boot, kept in BUGS_LOG_DIR (work on
# the model side only, without booting).
if [ "${BUGS_REUSE_LOG:-0}" != 1 ] || ! [ -s "$log" ]; then
	VM_SMP=$cpus VM_EXTRA_FILES="$scenario $bugs" vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/transcript.sh" \
		"kcs.tag=$rel slab_nomerge $debug" >"$log" 2>&1
fi
finished "[$tag] bugs" "$log" '^TRANSCRIPT-END$' || exit 1

# The object slot size (s->size, the objsize of /proc/slabinfo), the same on 6.1 and 6.12.
case $mode-$cache in
	plain-ctor) slot=128 ;; plain-plain) slot=64 ;; fzpu-ctor) slot=256 ;; fzpu-plain) slot=160 ;;
esac

# normalise: the lines both sides can be held to.
normalise() {
	sed -E '/^\[ *[0-9]+\.[0-9]+\] /d' |   # the console's copy of kernel messages (the VM's)
	awk '
		/: Call Trace:$/ { skip = 1; next }          # the stack frames, to </TASK>
		skip && / <\/TASK>$/ { skip = 0; next }
		skip { next }
		/: (Code|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|DR0|DR3|PKRU): / { next }   # the register dump
		/: RIP: 0033:/ { next }                      # the user-space registers
		/: (Allocated|Freed) in / { depot = 1; print; next }   # slub_debug=U tracks: the stack
		depot && /^kern  :warn  :  / { next }        # depot frames, the model has not got the kernel ones
		{ depot = 0; print }' |
	sed -E 's/\b(0x)?[0-9a-f]{16}\b/<addr>/g;
		s/^(kern  :info  : PGD ).*/\1<page table walk>/; s/ PID: [0-9]+ / PID: <pid> /; s/\[[0-9]+\]/[<pid>]/g; s/(Comm: [^ ]+ Tainted: .{19}) .*/\1 <release>/;
		s/^(slab_bugs) [0-9]+ /\1 <size> /; s/Hardware name: .*/Hardware name: <hardware>/;
		s/\+0x[0-9a-f]+\/0x[0-9a-f]+/+<offset>/g; s/ (age|pid)=[0-9]+/ \1=<n>/g' |
	# Where gcc's code puts a return address that %pS prints, the model (no inlining, no tail
	# calls) has the C function: free_one() ends in a tail call to kmem_cache_free(), so the free
	# track's _RET_IP_ is in slab_bugs_init (both builds); the 6.12 build also has alloc_one() and
	# destroy_cache() inlined into slab_bugs_init() (the 6.1 build keeps them).
	sed -E 's/\bfree_one\+<offset> \[slab_bugs\]/slab_bugs_init+<offset> [slab_bugs]/g' |
	if [ "$version" = 6.12 ]; then
		sed -E 's/\b(alloc_one|destroy_cache)\+<offset> \[slab_bugs\]/slab_bugs_init+<offset> [slab_bugs]/g'
	else
		cat
	fi |
	# Pointers inside an object that slub_debug's hex dump shows (the ctor's list_head points to
	# itself) are addresses too: an 8-byte little-endian group that is a kernel address (top
	# byte 0xff) or a model one (0x00007e.../0x00007f..., the model's mmap()ed memory) becomes
	# <pointer>, and the line's ASCII column, which shows the same bytes, <ascii>.
	awk '/: (Object   |Redzone  |Padding  |Bytes b4 )<addr>: / {
		i = index($0, "<addr>: ") + 7
		head = substr($0, 1, i); n = split(substr($0, i + 1, 47), b, " ")
		changed = 0
		for (g = 1; g + 7 <= n; g += 8) {
			kernel = b[g + 7] == "ff" && b[g + 6] != "ff"
			model = (b[g + 5] == "7f" || b[g + 5] == "7e") && b[g + 6] == "00" && b[g + 7] == "00"
			if (kernel || model) {
				b[g] = "<pointer>"
				for (k = g + 1; k < g + 8; k++) b[k] = ""
				changed = 1
			}
		}
		if (changed) {
			hex = ""
			for (k = 1; k <= n; k++) if (b[k] != "") hex = hex (hex == "" ? "" : " ") b[k]
			$0 = head hex "  <ascii>"
		}
	}
	{ print }' |
	# slub_debug's "@offset=N" counts from the slab's first byte, and which slot an object gets is
	# random (CONFIG_SLAB_FREELIST_RANDOM, on both sides): keep the offset inside the slot.
	awk -v slot="$slot" '{
		while (match($0, /@offset=[0-9]+/)) {
			n = substr($0, RSTART + 8, RLENGTH - 8)
			$0 = substr($0, 1, RSTART - 1) "@offset=<slot>+" (n % slot) substr($0, RSTART + RLENGTH)
		}
		print }'
}
real=$(transcript "$log" | normalise)
model=$("$VM_CLI" run --kernel "$version" --cpus "$cpus" $model_debug "$scenario" | normalise)
if [ "$real" = "$model" ]; then
	echo "PASS [$tag] bugs: the model ($version) does what the kernel does ($(grep -c '^kern  :' <<<"$real") kernel log lines with their levels, $(grep -c '^\$ ' <<<"$real") commands)"
else
	echo "FAIL [$tag] bugs: the model's transcript ($version) differs from the kernel's (< kernel, > model)"
	diff <(echo "$real") <(echo "$model") | sed 's/^/    | /' | head -n 60
	exit 1
fi
