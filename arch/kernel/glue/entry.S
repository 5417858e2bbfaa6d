/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Entry trampolines from the kernel's C into C#.
 *
 * x86-64: the kernel keeps the stack only 8-byte aligned (-mpreferred-stack-boundary=3) and, with
 * CONFIG_RANDOMIZE_KSTACK_OFFSET, moves it by a random amount on every system call. Code from
 * RyuJIT assumes the SysV ABI's 16-byte alignment and uses movaps on stack slots, which faults
 * on a misaligned stack: a general protection fault, on some boots only. Every entry into C#
 * therefore passes through one of these: save the frame, align %rsp down to 16, call the C#
 * function directly (arguments stay in their registers), restore, return through the kernel's
 * return thunk (RET). Only register arguments are supported: at most six integer arguments.
 * The calls are direct: on a kernel with IBT an indirect branch into C# code, which has no
 * ENDBR64, would fault.
 *
 * arm64: sp is 16-byte aligned at every instruction (the architecture checks it), so there is
 * nothing to realign: the trampoline is a direct branch to the C# function, which returns to the
 * trampoline's caller (at most eight integer arguments, in x0-x7). SYM_FUNC_START gives the
 * trampoline the kernel's landing pad (bti c) where the kernel is built for BTI; the C# code has
 * none and is only ever reached by this direct branch.
 */
#include <linux/linkage.h>

#if defined(CONFIG_X86)
#include <asm/nospec-branch.h>

.macro KCS_ENTRY name, target
SYM_FUNC_START(\name)
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	call	\target
	leave
	RET
SYM_FUNC_END(\name)
.endm

#elif defined(CONFIG_ARM64)

.macro KCS_ENTRY name, target
SYM_FUNC_START(\name)
	b	\target
SYM_FUNC_END(\name)
.endm

#endif

	.weak	kcs_slab_ctor
	.weak	kcs_proc_open
	.weak	kcs_proc_show
	.weak	kcs_proc_write
	.weak	kcs_proc_release
	.weak	kcs_proc_single_show

KCS_ENTRY kcs_enter_module_init, kcs_module_init
KCS_ENTRY kcs_enter_module_exit, kcs_module_exit
KCS_ENTRY kcs_enter_slab_ctor, kcs_slab_ctor
KCS_ENTRY kcs_enter_proc_open, kcs_proc_open
KCS_ENTRY kcs_enter_proc_show, kcs_proc_show
KCS_ENTRY kcs_enter_proc_write, kcs_proc_write
KCS_ENTRY kcs_enter_proc_release, kcs_proc_release
KCS_ENTRY kcs_enter_proc_single_show, kcs_proc_single_show
