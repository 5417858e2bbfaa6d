#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# check-fpu-sections.sh GLUE_OBJECT
#
# Checks the glue as kbuild compiled it for one kernel (kcs.o): C# code runs inside
# kernel_fpu_begin() ... kernel_fpu_end() on x86-64, kernel_neon_begin() ... kernel_neon_end() on
# arm64, where nothing called may sleep. Fails the build, naming the function and the call, if:
#   1. a call that may sleep, or that takes a lock which sleeps on PREEMPT_RT, happens inside a
#      section: allocating, freeing (SLUB's own locks are sleeping locks on RT), creating or
#      destroying caches and proc files, copy_from_user, and the sleeping locks themselves:
#      mutexes, semaphores, and rt_spin_lock, which is what spin_lock() compiles to on an RT
#      kernel (the reason the C# API's lock is raw_spinlock_t);
#   2. C# is entered (a kcs_enter_* trampoline) outside a section;
#   3. a section is begun inside another one (neither kernel_fpu_begin nor kernel_neon_begin nests).
#
# How it knows where the sections are: it walks each function's calls in the order the compiler
# laid them out (objdump's relocations), starting inside a section for the wrappers that C#
# calls (the global kcs_* functions) and outside one for what the kernel calls (the static
# thunks, init_module, cleanup_module); the begin and end calls switch the state,
# and a call to a static helper is followed into the helper. The walk follows code order, not
# every branch: it is exact for the glue's straight-line wrappers (KCS_IN_FPU and
# KCS_OUTSIDE_FPU in kcs.c); a wrapper with branches around a section should be checked by eye.
set -eu

obj=$1
say() { echo "check-fpu-sections: $obj: $*" >&2; }
# kbuild passes its own tools (aarch64-linux-gnu-objdump for arm64): a host objdump cannot
# disassemble another architecture's code.
NM=${NM:-nm}
OBJDUMP=${OBJDUMP:-objdump}
for tool in "$NM" "$OBJDUMP"; do
	command -v "$tool" >/dev/null 2>&1 || { say "needs '$tool' (binutils)"; exit 1; }
done
dis=$("$OBJDUMP" -dr --no-show-raw-insn "$obj") || { say "$OBJDUMP cannot disassemble it"; exit 1; }

# Kernel functions that may sleep, or take a lock that sleeps on PREEMPT_RT. Names as they appear
# in 6.1 and 6.12 objects (kmalloc is __kmalloc or kmalloc_trace in 6.1, __kmalloc_noprof or
# __kmalloc_cache_noprof in 6.12; kmem_cache_alloc gained _noprof in 6.10; copy_from_user is
# _copy_from_user on x86-64, __arch_copy_from_user on arm64).
may_sleep='^(rt_spin_|rt_read_|rt_write_|rt_mutex_|mutex_lock|mutex_trylock|down|up_read|up_write|__might_sleep|__might_resched|__might_fault|msleep|usleep|schedule|cond_resched|__cond_resched|kmem_cache_alloc|kmem_cache_free|kmem_cache_create|__kmem_cache_create|kmem_cache_destroy|kmem_cache_shrink|__kmalloc|kmalloc|kfree|kvfree|krealloc|vmalloc|vfree|proc_create|proc_remove|remove_proc_entry|_copy_from_user|_copy_to_user|copy_from_user|copy_to_user|__arch_copy_from_user|__arch_copy_to_user|single_open|single_release|seq_release|synchronize_rcu|flush_work|wait_for_completion)'

printf '%s\n' "$dis" | awk -v may_sleep="$may_sleep" -v obj="$obj" -v nm="$NM" '
	function report(msg) { printf "check-fpu-sections: %s: %s\n", obj, msg > "/dev/stderr"; bad = 1 }
	# Which functions are global (T) and which static (t), from nm.
	BEGIN {
		cmd = nm " \"" obj "\""
		while ((cmd | getline line) > 0) {
			split(line, w, " ")
			if (w[2] == "T") scope[w[3]] = "global"
			else if (w[2] == "t") scope[w[3]] = "local"
		}
		close(cmd)
	}
	# A function header: "0000000000000560 <kcs_kmem_cache_alloc>:"
	/^[0-9a-f]+ <[^>]+>:$/ {
		fn = $2; gsub(/[<>:]/, "", fn)
		if (fn ~ /-0x/) { fn = ""; next }
		order[++nfn] = fn; nev[fn] = 0
		next
	}
	fn == "" { next }
	# A call or jump whose target the linker fills in: the relocation line after it names it.
	# A function of this object reached through a relocation (each function in its own section:
	# arm64, or -ffunction-sections) is followed as a direct call is.
	/R_X86_64_(PLT32|PC32)|R_AARCH64_(CALL26|JUMP26)/ {
		t = $3; sub(/[-+]0x[0-9a-f]+$/, "", t)
		if (t in scope) { ev[fn, ++nev[fn]] = "local " t; if (scope[t] == "local") helper[t] = 1 }
		else ev[fn, ++nev[fn]] = "ext " t
		next
	}
	# A direct call to another function of this object: "call 1c0 <kcs_gfp.part.0>" (x86-64),
	# "bl 1c0 <kcs_gfp.part.0>" or a tail call "b 1c0 <...>" (arm64).
	/\t(call|bl|b)[ \t]+[0-9a-f]+ <[^+>]+>$/ {
		t = $NF; gsub(/[<>]/, "", t)
		if (t in scope) { ev[fn, ++nev[fn]] = "local " t; helper[t] = 1 }
		next
	}
	# walk(f, state): follows f from state (1 = inside a section); returns the state at its end.
	function walk(f, state, depth,   i, kind, t, e) {
		if (depth > 8) return state
		for (i = 1; i <= nev[f]; i++) {
			split(ev[f, i], e, " "); kind = e[1]; t = e[2]
			if (kind == "local") { state = walk(t, state, depth + 1); continue }
			if (t == "kernel_fpu_begin" || t == "kernel_fpu_begin_mask" || t == "kernel_neon_begin") {
				if (state) report(f ": " t " inside an FPU section (sections do not nest)")
				state = 1
			} else if (t == "kernel_fpu_end" || t == "kernel_neon_end") {
				state = 0
			} else if (t ~ /^kcs_enter_/) {
				if (!state) report(f ": enters C# (" t ") outside an FPU section: C# code uses SSE (x86-64) or NEON (arm64) registers")
			} else if (t ~ /^rt_(spin|read|write)_|^rt_mutex_/) {
				if (state) report(f ": takes a sleeping lock (" t ") inside an FPU section: on PREEMPT_RT spinlock_t is an rt_mutex; the lock C# code takes must be a raw_spinlock_t")
			} else if (t ~ may_sleep) {
				if (state) report(f ": calls " t " inside an FPU section, where preemption is disabled and nothing may sleep (on PREEMPT_RT that includes the slab allocator locks); wrap the call in KCS_OUTSIDE_FPU()")
			}
		}
		return state
	}
	END {
		for (i = 1; i <= nfn; i++) {
			f = order[i]
			if (f in helper) continue
			if (!(f in scope)) continue
			# The global kcs_* wrappers are called from C#; everything else by the kernel.
			walk(f, (scope[f] == "global" && f ~ /^kcs_/) ? 1 : 0, 0)
			checked++
		}
		if (checked == 0) report("no functions found to check")
		exit bad
	}' || exit 1
exit 0
