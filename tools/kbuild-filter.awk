#!/usr/bin/awk -f
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Passes kbuild's output through, except objtool's warnings about the C# functions (their
# symbols start with "simple_cache_", the prefix NativeAOT gives the assembly's methods), which
# it counts and sums up in one note at the end. Those warnings are expected on kernels that run
# objtool on the linked module (IBT kernels, e.g. Debian's 6.12): RyuJIT's code returns with a
# plain ret, not through the kernel's return thunk, and has no ENDBR64. Every other line,
# warnings about the C glue included, is printed as it comes.
/warning: objtool: (simple_cache_[A-Za-z0-9_]+\+0x[0-9a-f]+: 'naked' return found|kcs_kmem_cache_create\+0x[0-9a-f]+: relocation to !ENDBR: simple_cache_)/ {
	csharp++
	next
}
{ print; fflush() }
END {
	if (csharp)
		printf "  NOTE    objtool: %d expected warnings about C# code (plain ret, no ENDBR64); see docs/csharp-in-the-kernel.md\n", csharp
}
