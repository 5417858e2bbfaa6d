#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 9   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The build check of the C# object (arch/kernel/glue/check-csharp-object.sh) must accept the real
# object and reject each kind of object the kernel would refuse or an IBT kernel would crash on.
# The bad objects are made here from small C and assembly files.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$ROOT/arch/kernel/glue/check-csharp-object.sh
. "$ROOT/tests/host/lib/verdict.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

LABEL="object check" CC=gcc
. "$ROOT/tests/host/lib/object-check.sh"

mk() { # mk NAME: compile $tmp/NAME.c or .s to $tmp/NAME.o
	if [ -f "$tmp/$1.c" ]; then gcc -c -O2 -fno-pic -mcmodel=kernel -fcf-protection=none -o "$tmp/$1.o" "$tmp/$1.c"
	else gcc -c -o "$tmp/$1.o" "$tmp/$1.s"; fi
}

cat > "$tmp/good.c" <<'C'
void kcs_printk(int, const char *, int);
void f(void) { kcs_printk(6, "x", 1); }
C
mk good; expect accept "an object that calls only the glue" "$tmp/good.o"

cat > "$tmp/undef.c" <<'C'
void printk(const char *);
void f(void) { printk("x"); }
C
mk undef; expect reject "a call to a symbol the glue does not define" "$tmp/undef.o" "undefined symbol 'printk'"

# What `new int[4]` in the module leaves behind: a call to the runtime's array allocator, which
# the check names with the C# construct behind it.
cat > "$tmp/newarray.c" <<'C'
void *RhpNewArrayFast(void *type, int n);
void *f(void) { return RhpNewArrayFast(0, 4); }
C
mk newarray; expect reject "an array allocation (new T[]), named as such" "$tmp/newarray.o" "RhpNewArrayFast: an array allocation (new T\[\]); the kernel has no GC heap"

cat > "$tmp/indirect.c" <<'C'
void g(void (*fn)(void)) { fn(); fn(); }
C
mk indirect; expect reject "an indirect call (function pointer)" "$tmp/indirect.o" "indirect calls or jumps"

cat > "$tmp/table.s" <<'S'
	.text
	.globl f
f:	lea 1f(%rip), %rax
	jmp *(%rax,%rdi,8)
	.section .rodata
1:	.quad f
S
mk table; expect reject "an indirect jump (switch jump table)" "$tmp/table.o" "indirect calls or jumps"

cat > "$tmp/abs32.s" <<'S'
	.text
	.globl f
f:	movl $data, %eax
	ret
	.data
data:	.long 0
S
mk abs32; expect reject "an R_X86_64_32 relocation (cannot reach module addresses)" "$tmp/abs32.o" "R_X86_64_32 "

cat > "$tmp/tls.c" <<'C'
__thread int counter;
int f(void) { return ++counter; }
C
gcc -c -O2 -fno-pic -o "$tmp/tls.o" "$tmp/tls.c"
expect reject "a thread-local variable (TLS relocation)" "$tmp/tls.o" "R_X86_64_TPOFF32"

cat > "$tmp/hydrated.s" <<'S'
	.section .hydrated,"aw",@nobits
	.zero 16
	.text
	.globl f
f:	ret
S
mk hydrated; expect reject "a .hydrated section" "$tmp/hydrated.o" "IlcDehydrate=false"

# The real thing: the module's C# object against the glue built for an installed kernel.
. "$ROOT/tools/vm/vm.sh"
rel=$(vm_kernels | tail -n 1)
real_object "$rel" "$ROOT/build/csharp/simple_cache.o" deps
