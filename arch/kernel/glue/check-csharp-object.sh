#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# check-csharp-object.sh CSHARP_OBJECT GLUE_OBJECT...
#
# Checks the object NativeAOT made from the C# module before kbuild links it into a .ko, and
# fails with a clear message if it holds anything the kernel would reject or that would be
# unsafe to run there:
#   1. a .hydrated section: ILC's default, filled by the .NET runtime's startup code, which a
#      kernel module does not have (set IlcDehydrate=false);
#   2. an undefined symbol that the glue objects do not define: C# may call only the glue;
#   3. a relocation type the x86-64 module loader (apply_relocate_add) does not apply, or
#      R_X86_64_32, which cannot reach a module's addresses; TLS relocations fall under this;
#   4. an indirect call or jump (switch jump tables, virtual or interface calls, function
#      pointers): on an IBT kernel (Debian's 6.12) an indirect branch to code without ENDBR64
#      faults, and any indirect branch in C# would bypass the kernel's retpolines.
set -eu

obj=$1
shift
fail=0
say() { echo "check-csharp-object: $obj: $*" >&2; }

for tool in readelf nm objdump; do
	command -v "$tool" >/dev/null 2>&1 || { say "needs '$tool' (binutils)"; exit 1; }
done

# 1. No .hydrated section.
if readelf -S -W "$obj" | grep -q '\.hydrated'; then
	say "has a .hydrated section: build the C# with IlcDehydrate=false"
	fail=1
fi

# 2. Undefined symbols must all be defined by the glue. A symbol of the .NET runtime's helpers
# is named with the C# construct that calls it (the analyzer, analyzers/, reports the same at
# the construct's own line; this is the last line of defence).
construct() {
	case $1 in
	RhpNewFast|RhpNewFinalizable|RhpNewObject|RhpNewPtrArrayFast) echo "a class instance (new C()); the kernel has no GC heap: use a struct, or Slab.Kmalloc" ;;
	RhpNewArrayFast|RhpNewArray|RhpNewArrayFastAlign8|RhNewArray|RhpNewVariableSizeObject) echo "an array allocation (new T[]); the kernel has no GC heap: use stackalloc or Slab.Kmalloc" ;;
	RhpNewString|RhNewString) echo "a string built at run time; print with Printk and a u8 format instead" ;;
	RhBox|RhpBox|RhBoxAny|RhUnbox*) echo "boxing a value into an object; pass the value or a pointer to it" ;;
	RhpThrowEx|RhpRethrow|RhpThrowHwEx|RhpCallCatchFunclet|RhpCallFinallyFunclet|RhpCallFilterFunclet) echo "throw or try; return a negative errno instead" ;;
	RhpInitialDynamicInterfaceDispatch|RhpInterfaceDispatch*|RhpResolveInterfaceMethod*) echo "an interface call; call a static method instead" ;;
	RhTypeCast_*|RhpStelemRef|RhpLdelemaRef) echo "a runtime type check or cast (is, as, (T)obj on a class); the kernel build has no type system" ;;
	RhpAssignRef*|RhpCheckedAssignRef*|RhpByRefAssignRef|RhpCheckedLockCmpXchg|RhpCheckedXchg) echo "a store of an object reference (GC write barrier); the kernel has no GC heap" ;;
	__GetNonGCStaticBase*|__GetGCStaticBase*|RhpGetThreadStaticBase*|*Cctor*) echo "a static constructor or a static field initialiser; set statics in Init (they start zeroed)" ;;
	RhpPInvoke|RhpPInvokeReturn|RhpReversePInvoke*) echo "a P/Invoke transition; bindings must be [SuppressGCTransition]" ;;
	*) return 1 ;;
	esac
}
defined=$(nm --defined-only "$@" | awk 'NF == 3 && $2 ~ /[TtDdBbRr]/ { print $3 }' | sort -u)
for sym in $(nm -u "$obj" | awk '{ print $2 }' | sort -u); do
	if ! printf '%s\n' "$defined" | grep -qx "$sym"; then
		if what=$(construct "$sym"); then
			say "undefined symbol '$sym' is not provided by the glue: $sym: $what ($*)"
		else
			say "undefined symbol '$sym' is not provided by the glue ($*)"
		fi
		fail=1
	fi
done

# 3. Relocation types, in the sections that get loaded (debug sections are stripped later).
alloc_sections=$(readelf -S -W "$obj" | awk '/^ *\[/ { sub(/^ *\[ *[0-9]+\] */, ""); if ($0 ~ / A|WA|AX/) print $1 }')
bad_relocs=$(readelf -r -W "$obj" | awk -v secs="$alloc_sections" '
	BEGIN { n = split(secs, s, "\n"); for (i = 1; i <= n; i++) alloc[".rela" s[i]] = 1 }
	/^Relocation section/ { cur = $3; gsub(/\047/, "", cur); next }
	/R_X86_64_/ && (cur in alloc) {
		if ($3 != "R_X86_64_64" && $3 != "R_X86_64_PC32" && $3 != "R_X86_64_PLT32" && $3 != "R_X86_64_32S" && $3 != "R_X86_64_PC64")
			print cur ": " $3 " " $5
	}')
if [ -n "$bad_relocs" ]; then
	say "relocations the x86-64 module loader rejects:"
	printf '%s\n' "$bad_relocs" | sort | uniq -c | head -20 >&2
	fail=1
fi

# 4. No indirect branches in code.
indirect=$(objdump -d --no-show-raw-insn "$obj" | awk '
	/^[0-9a-f]+ <.*>:$/ { fn = $2 }
	/\t(notrack )?(call|jmp)q? +\*/ { print fn ": " $0 }')
if [ -n "$indirect" ]; then
	say "indirect calls or jumps (an IBT kernel faults on them; avoid switch tables, virtual calls, function pointers):"
	printf '%s\n' "$indirect" | head -20 >&2
	fail=1
fi

[ "$fail" -eq 0 ] || exit 1
exit 0
