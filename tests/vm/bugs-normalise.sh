#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# bugs-normalise.sh VERSION MODE CACHE: a slab_bugs transcript (stdin) as tests/vm/bugs.sh holds
# the kernel and the model to it (stdout): addresses, pids, the release, the hardware, code offsets,
# which slot an object got and the kernel's other kmalloc-64 users put aside; register dumps, call
# traces and stack depot frames left out. VERSION is 6.1 or 6.12, MODE plain or fzpu, CACHE the
# scenario's default cache (ctor or plain). bugs.sh runs it on both transcripts, and the model's
# tests (tests/model/BugsRecordTests.cs) on the model's, against the kernel's record.

set -euo pipefail
version=$1 mode=$2 cache=$3
# The object slot size of each cache a report can name (s->size, the objsize of /proc/slabinfo),
# the same on 6.1 and 6.12 (kmalloc-64's with slub_debug=FZPU: 64 bytes of left red zone, as the
# cache is aligned to 64).
case $mode in
	plain) slots="bug_ctor=128 bug_plain=64 kmalloc-64=64" ;;
	fzpu) slots="bug_ctor=256 bug_plain=160 kmalloc-64=256" ;;
esac

# normalise: the lines both sides can be held to.
sed -E '/^\[ *[0-9]+\.[0-9]+\] /d; /: clocksource: /d' |   # the console's copy of kernel messages (the VM's), and its clock's complaints under TCG
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
# random (CONFIG_SLAB_FREELIST_RANDOM, on both sides): keep the offset inside the slot, whose
# size is that of the cache the report is about (the last BUG or FIX line's). The slab's own
# padding is at the same place in every slab: its offset stays as it is.
awk -v slots="$slots" -v cache="bug_$cache" 'BEGIN { n = split(slots, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); size[p[1]] = p[2] }; slot = size[cache] }
	# A scenario starts with its own cache; a report names its cache in its BUG and FIX lines,
	# but 6.12 prints the range of a bad area before the BUG line: a kmalloc red zone is kmalloc-64'"'"'s.
	/: bug: start / { if (("bug_" $NF) in size) slot = size["bug_" $NF] }
	/\[kmalloc Redzone overwritten\]/ { slot = size["kmalloc-64"] }
	match($0, /: (BUG|FIX) [^ :(]+/) { c = substr($0, RSTART + 6, RLENGTH - 6); if (c in size) slot = size[c] }
	/Padding overwritten/ { print; next }
	# kmalloc-64 is the whole kernel'"'"'s: how many of a slab'"'"'s objects are in use, and who freed
	# the object before slab_bugs got it, are the kernel'"'"'s other users'"'"' business.
	/: BUG kmalloc-64 / { kmalloc = 1 } /: bug: (start|done)/ { kmalloc = 0 }
	kmalloc && /: Freed in / { next }
	kmalloc && /: Slab <addr> objects=/ { sub(/ used=[0-9]+/, " used=<n>") }
	{
	while (match($0, /@offset=[0-9]+/)) {
		n = substr($0, RSTART + 8, RLENGTH - 8)
		$0 = substr($0, 1, RSTART - 1) "@offset=<slot>+" (n % slot) substr($0, RSTART + RLENGTH)
	}
	print }'
