#!/usr/bin/awk -f
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Passes kbuild's output through, except for two kinds of expected lines:
#  - objtool's warnings about the C# functions, which it counts and sums up in one note at the
#    end. NativeAOT names the assembly's methods "simple_cache_<namespace>_<type>__<method>"
#    (generic instances add "<...>"), its startup stub "__managed__Startup", and the core
#    library's runtime helpers "Rh..." (arch/kernel/corelib/Runtime.cs). The warnings come
#    on kernels that run objtool on the linked module (IBT kernels, e.g. Debian's 6.12): RyuJIT's
#    code returns with a plain ret, not through the kernel's return thunk, and has no ENDBR64
#    (which the glue's address-of-the-constructor and proc-show checks trip over);
#  - "Skipping BTF generation ... due to unavailability of vmlinux": a headers package has no
#    vmlinux, and BTF only serves tracing tools; the module is complete without it.
# Every other line, warnings about the C glue included, is printed as it comes.
/warning: objtool: ((simple_cache_|__managed__|Rh)[^+ ]+\+0x[0-9a-f]+: 'naked' return found|kcs_[a-z_]+\+0x[0-9a-f]+: relocation to !ENDBR: simple_cache_)/ {
	csharp++
	next
}
/^Skipping BTF generation for .* due to unavailability of vmlinux$/ { next }
{ print; fflush() }
END {
	if (csharp)
		printf "  NOTE    objtool: %d expected warnings about C# code (plain ret, no ENDBR64); see docs/csharp-in-the-kernel.md\n", csharp
}
