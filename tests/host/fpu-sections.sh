#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 14   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The build check of the glue's FPU sections (arch/kernel/glue/check-fpu-sections.sh) must accept
# the real glue on every kernel and reject, on the kernel where each one matters, a glue that:
#   - takes a spinlock_t inside C# on PREEMPT_RT (spin_lock() is rt_spin_lock() there: it sleeps);
#   - frees memory inside the FPU section (SLUB's locks sleep on PREEMPT_RT);
#   - enters C# outside an FPU section (C# code uses SSE registers);
#   - begins an FPU section inside another.
# It must also accept spin_lock on an ordinary kernel, where it spins: the check is about what
# the code compiles to on each kernel, not about names. On arm64 (Debian's 6.1 and 6.12, built
# with the cross compiler) the sections are kernel_neon_begin/end and the calls bl: the glue must
# pass there too, and a free, a nested section, or copy_from_user (__arch_copy_from_user there)
# inside a section must be caught. Each variant of kcs.c is compiled by the
# kernel's own kbuild, as the real build compiles it.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tools/vm/vm.sh"
CHECK=$ROOT/arch/kernel/glue/check-fpu-sections.sh
. "$ROOT/tests/host/lib/verdict.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

plain= rt= all=$(vm_kernels)
for rel in $all; do
	if vm_is_rt "$rel"; then rt=$rel; else plain=$rel; fi
done
[ -n "$plain" ] || { echo "FAIL fpu-sections: no kernel headers without PREEMPT_RT installed (run make deps)"; exit 1; }
[ -n "$rt" ] || { echo "FAIL fpu-sections: no PREEMPT_RT kernel headers installed (run make deps)"; exit 1; }
ARM64_SYSROOT=${ARM64_ROOT:-$ROOT/build/arm64/root}
arm64=$(VM_ARCH=arm64; VM_SYSROOT=$ARM64_SYSROOT; vm_kernels)
[ "$(wc -w <<<"$arm64")" -ge 2 ] || { echo "FAIL fpu-sections: Debian's arm64 6.1 and 6.12 headers are not in $ARM64_SYSROOT (run make deps-arm64)"; exit 1; }
arm64_new=$(tail -n 1 <<<"$arm64")

# dir NAME: the folder of a variant (kbuild wants no spaces in M=).
dir() { echo "$tmp/$(tr -c 'a-zA-Z0-9\n' _ <<<"$1")"; }

# variant NAME SED-SCRIPT: a copy of the glue, changed by SED-SCRIPT, in $(dir NAME).
variant() {
	local d
	d=$(dir "$1")
	mkdir -p "$d"
	cp "$ROOT/arch/kernel/glue/kcs.c" "$ROOT/arch/kernel/glue/kcs.h" "$d/"
	printf 'obj-m := kcs.o\n' > "$d/Kbuild"
	[ -z "$2" ] || sed -i "$2" "$d/kcs.c"
	if [ -n "$2" ] && cmp -s "$ROOT/arch/kernel/glue/kcs.c" "$d/kcs.c"; then
		echo "FAIL fpu-sections: the variant '$1' changed nothing in kcs.c (has the glue changed?)"
		return 1
	fi
}

# expect accept|reject RELEASE NAME [MESSAGE]: compiles $tmp/NAME/kcs.c for RELEASE and checks it
# (an arm64 RELEASE with the cross compiler, and the check with its binutils, as kbuild runs it).
expect() {
	local want=$1 rel=$2 name=$3 msg=${4:-} out rc=0 d kdir cross=() tools=()
	d=$(dir "$name")
	rm -f "$d/kcs.o"
	kdir=$(vm_kdir "$rel")
	if [[ $rel == *-arm64 ]]; then
		kdir=$(VM_ARCH=arm64; VM_SYSROOT=$ARM64_SYSROOT; vm_kdir "$rel")
		cross=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
		tools=(NM=aarch64-linux-gnu-nm OBJDUMP=aarch64-linux-gnu-objdump)
	fi
	if ! make -s -C "$kdir" M="$d" "${cross[@]}" kcs.o >"$d/build.log" 2>&1; then
		echo "FAIL fpu-sections: the variant '$name' does not compile for $rel"
		sed 's/^/    | /' "$d/build.log" | tail -n 20
		return
	fi
	out=$(env "${tools[@]}" sh "$CHECK" "$d/kcs.o" 2>&1) || rc=$?
	verdict "fpu-sections [$rel]" "$want" "$name" "$rc" "$out" "$msg"
}

variant "the glue as it is" ""
for rel in $all $arm64; do
	expect accept "$rel" "the glue as it is"
done

variant "spin_lock in place of raw_spin_lock" 's/raw_spinlock_t/spinlock_t/; s/raw_spin_lock_init(/spin_lock_init(/; s/\traw_spin_lock(lock)/\tspin_lock(lock)/; s/\traw_spin_unlock(lock)/\tspin_unlock(lock)/'
expect reject "$rt" "spin_lock in place of raw_spin_lock" "kcs_raw_spin_lock: takes a sleeping lock (rt_spin_lock)"
expect accept "$plain" "spin_lock in place of raw_spin_lock"

variant "kfree inside the FPU section" 's/^\tKCS_OUTSIDE_FPU(kfree(p));/\tkfree(p);/'
expect reject "$rt" "kfree inside the FPU section" "kcs_kfree: calls kfree inside an FPU section"
expect reject "$plain" "kfree inside the FPU section" "kcs_kfree: calls kfree inside an FPU section"
expect reject "$arm64_new" "kfree inside the FPU section" "kcs_kfree: calls kfree inside an FPU section"

variant "C# entered without an FPU section" 's/^\tKCS_IN_FPU(ret = kcs_enter_proc_write(buf, len));/\tret = kcs_enter_proc_write(buf, len);/'
expect reject "$plain" "C# entered without an FPU section" "kcs_fops_write: enters C# (kcs_enter_proc_write) outside an FPU section"

variant "a section inside a section" 's/^\tKCS_OUTSIDE_FPU(p = kmem_cache_alloc(s, gfp));/\tKCS_IN_FPU(p = kmem_cache_alloc(s, gfp));/'
expect reject "$plain" "a section inside a section" "kcs_kmem_cache_alloc: kernel_fpu_begin.* inside an FPU section"
expect reject "$arm64_new" "a section inside a section" "kcs_kmem_cache_alloc: kernel_neon_begin inside an FPU section"

variant "copy_from_user inside the FPU section" 's/^\tKCS_OUTSIDE_FPU(left = kcs_copy_from_user_outside(to, from, n));/\tleft = kcs_copy_from_user_outside(to, from, n);/'
expect reject "$arm64_new" "copy_from_user inside the FPU section" "kcs_copy_from_user_outside: calls __arch_copy_from_user inside an FPU section"
