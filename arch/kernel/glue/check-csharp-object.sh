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
#   3. a relocation type the module loader (apply_relocate_add) does not apply: on x86-64 only
#      R_X86_64_64, PC32, PLT32, 32S and PC64 (R_X86_64_32 cannot reach a module's addresses);
#      on arm64 only what arch/arm64/kernel/module.c applies, without ABS32/ABS16 (which cannot
#      reach them either). TLS relocations, and arm64's GOT relocations (which GCC emits for the
#      address of a weak symbol), fall under this; on arm64 the glue objects are checked for GOT
#      relocations too, since the loader would refuse the whole module;
#   4. an indirect call or jump (switch jump tables, virtual or interface calls, function
#      pointers): on an IBT kernel (Debian's 6.12 on x86-64) an indirect branch to code without
#      ENDBR64 faults, any indirect branch in C# would bypass the kernel's retpolines, and on an
#      arm64 kernel built with BTI (ARM64_BTI_KERNEL; Debian's are not, today) one to code without
#      a landing pad faults: C# code has none, so it may branch only directly.
# The object's machine (x86-64 or AArch64) says which rules apply. kbuild passes its own
# READELF, NM and OBJDUMP (the cross tools for arm64); a host objdump cannot disassemble arm64.
set -eu

obj=$1
shift
fail=0
say() { echo "check-csharp-object: $obj: $*" >&2; }

READELF=${READELF:-readelf}
NM=${NM:-nm}
OBJDUMP=${OBJDUMP:-objdump}
for tool in "$READELF" "$NM" "$OBJDUMP"; do
	command -v "$tool" >/dev/null 2>&1 || { say "needs '$tool' (binutils)"; exit 1; }
done
case $("$READELF" -h "$obj" | sed -n 's/^ *Machine: *//p') in
*X86-64*) machine=x86_64 ;;
AArch64) machine=aarch64 ;;
*) say "is neither an x86-64 nor an AArch64 object"; exit 1 ;;
esac

# 1. No .hydrated section.
if "$READELF" -S -W "$obj" | grep -q '\.hydrated'; then
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
defined=$("$NM" --defined-only "$@" | awk 'NF == 3 && $2 ~ /[TtDdBbRr]/ { print $3 }' | sort -u)
for sym in $("$NM" -u "$obj" | awk '{ print $2 }' | sort -u); do
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
# bad_relocations OBJECT: each relocation of a loaded section that the loader would refuse.
bad_relocations() {
	"$READELF" -r -W "$1" | awk -v secs="$("$READELF" -S -W "$1" | awk '/^ *\[/ { sub(/^ *\[ *[0-9]+\] */, ""); if ($0 ~ / A|WA|AX/) print $1 }')" -v machine="$machine" '
	BEGIN {
		n = split(secs, s, "\n"); for (i = 1; i <= n; i++) alloc[".rela" s[i]] = 1
		# arch/x86/kernel/module.c and arch/arm64/kernel/module.c, 6.1 and 6.12.
		if (machine == "x86_64") ok = "R_X86_64_64 R_X86_64_PC32 R_X86_64_PLT32 R_X86_64_32S R_X86_64_PC64"
		else ok = "R_AARCH64_ABS64 R_AARCH64_PREL64 R_AARCH64_PREL32 R_AARCH64_PREL16 R_AARCH64_CALL26 R_AARCH64_JUMP26 " \
			"R_AARCH64_ADR_PREL_PG_HI21 R_AARCH64_ADR_PREL_PG_HI21_NC R_AARCH64_ADR_PREL_LO21 R_AARCH64_ADD_ABS_LO12_NC " \
			"R_AARCH64_LDST8_ABS_LO12_NC R_AARCH64_LDST16_ABS_LO12_NC R_AARCH64_LDST32_ABS_LO12_NC R_AARCH64_LDST64_ABS_LO12_NC " \
			"R_AARCH64_LDST128_ABS_LO12_NC R_AARCH64_LD_PREL_LO19 R_AARCH64_CONDBR19 R_AARCH64_TSTBR14 " \
			"R_AARCH64_MOVW_UABS_G0 R_AARCH64_MOVW_UABS_G0_NC R_AARCH64_MOVW_UABS_G1 R_AARCH64_MOVW_UABS_G1_NC " \
			"R_AARCH64_MOVW_UABS_G2 R_AARCH64_MOVW_UABS_G2_NC R_AARCH64_MOVW_UABS_G3"
		m = split(ok, o, " "); for (i = 1; i <= m; i++) allowed[o[i]] = 1
	}
	/^Relocation section/ { cur = $3; gsub(/\047/, "", cur); next }
	/R_(X86_64|AARCH64)_/ && (cur in alloc) && !($3 in allowed) { print cur ": " $3 " " $5 }'
}
bad_relocs=$(bad_relocations "$obj")
if [ -n "$bad_relocs" ]; then
	say "relocations the $machine module loader rejects:"
	printf '%s\n' "$bad_relocs" | sort | uniq -c | head -20 >&2
	fail=1
fi
if [ "$machine" = aarch64 ]; then
	for glue in "$@"; do
		got=$(bad_relocations "$glue" | grep '_GOT' || true)
		if [ -n "$got" ]; then
			say "the glue $glue has GOT relocations, which the arm64 module loader does not apply (an address of a weak symbol taken in C: hold it in data):"
			printf '%s\n' "$got" | sort | uniq -c | head -20 >&2
			fail=1
		fi
	done
fi

# 4. No indirect branches in code.
if ! dis=$("$OBJDUMP" -d --no-show-raw-insn "$obj" 2>&1); then
	say "$OBJDUMP cannot disassemble it: $dis"
	exit 1
fi
indirect=$(printf '%s\n' "$dis" | awk -v machine="$machine" '
	/^[0-9a-f]+ <.*>:$/ { fn = $2 }
	machine == "x86_64" && /\t(notrack )?(call|jmp)q? +\*/ { print fn ": " $0 }
	machine == "aarch64" && /\t(br|blr|braaz|brabz|blraaz|blrabz|braa|brab|blraa|blrab)\t/ { print fn ": " $0 }')
if [ -n "$indirect" ]; then
	say "indirect calls or jumps (an IBT or BTI kernel faults on them; avoid switch tables, virtual calls, function pointers):"
	printf '%s\n' "$indirect" | head -20 >&2
	fail=1
fi

[ "$fail" -eq 0 ] || exit 1
exit 0
