#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 10   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The build check of the C# object (arch/kernel/glue/check-csharp-object.sh) for arm64: it must
# accept the real linux-arm64 object with the glue built for an arm64 kernel, and reject each
# kind of object the arm64 module loader would refuse or a BTI kernel would crash on, made here
# with the cross compiler from small C and assembly files. The tools are the cross binutils, as
# kbuild passes them (READELF, NM, OBJDUMP).

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$ROOT/arch/kernel/glue/check-csharp-object.sh
. "$ROOT/tests/host/lib/verdict.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
X=aarch64-linux-gnu-
export READELF=${X}readelf NM=${X}nm OBJDUMP=${X}objdump
if ! command -v ${X}gcc >/dev/null; then
	echo "FAIL the arm64 cross compiler (${X}gcc) is not installed (run make deps-arm64)"
	exit 1
fi

LABEL="arm64 object check" CC=${X}gcc
. "$ROOT/tests/host/lib/object-check.sh"

mk() { # mk NAME: compile $tmp/NAME.c or .s to $tmp/NAME.o, with the arm64 kernel's code model
	if [ -f "$tmp/$1.c" ]; then ${X}gcc -c -O2 -fno-pic -mcmodel=small -mgeneral-regs-only -o "$tmp/$1.o" "$tmp/$1.c"
	else ${X}gcc -c -o "$tmp/$1.o" "$tmp/$1.s"; fi
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

cat > "$tmp/indirect.c" <<'C'
void g(void (*fn)(void)) { fn(); fn(); }
C
mk indirect; expect reject "an indirect call (blr: a function pointer)" "$tmp/indirect.o" "indirect calls or jumps"

cat > "$tmp/table.s" <<'S'
	.text
	.globl f
f:	adr x1, 1f
	ldr x1, [x1, x0, lsl #3]
	br x1
1:	.quad f
S
mk table; expect reject "an indirect jump (br: a switch jump table)" "$tmp/table.o" "indirect calls or jumps"

cat > "$tmp/abs32.s" <<'S'
	.text
	.globl f
f:	ret
	.data
	.word f
S
mk abs32; expect reject "an R_AARCH64_ABS32 relocation (cannot reach module addresses)" "$tmp/abs32.o" "R_AARCH64_ABS32"

cat > "$tmp/tls.c" <<'C'
__thread int counter;
int f(void) { return ++counter; }
C
${X}gcc -c -O2 -fno-pic -o "$tmp/tls.o" "$tmp/tls.c"
expect reject "a thread-local variable (TLS relocation)" "$tmp/tls.o" "R_AARCH64_TLS"

# The address of a weak symbol, as GCC loads it: through the GOT, which the loader never fills.
cat > "$tmp/got.s" <<'S'
	.weak w
	.text
	.globl f
f:	adrp x0, :got:w
	ldr x0, [x0, #:got_lo12:w]
	ret
S
mk got; expect reject "a GOT load (the address of a weak symbol)" "$tmp/got.o" "R_AARCH64_LD64_GOT_LO12_NC"
cp "$tmp/got.o" "$tmp/gotglue.o"
expect reject "a glue object with a GOT load (the loader would refuse the module)" "$tmp/good.o" "the glue .*GOT relocations" "$tmp/gotglue.o"

cat > "$tmp/hydrated.s" <<'S'
	.section .hydrated,"aw",@nobits
	.zero 16
	.text
	.globl f
f:	ret
S
mk hydrated; expect reject "a .hydrated section" "$tmp/hydrated.o" "IlcDehydrate=false"

# The real thing: the module's C# object for linux-arm64 against the glue built for an arm64 kernel.
. "$ROOT/tools/vm/vm.sh"
VM_ARCH=arm64 VM_SYSROOT=${ARM64_ROOT:-$ROOT/build/arm64/root}
rel=$(vm_kernels | tail -n 1)
real_object "$rel" "$ROOT/build/csharp-arm64/simple_cache.o" deps-arm64 ARCH=arm64
