#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The C# API's flag bits (include/linux/Flags.cs) and the glue's copy of them
# (arch/kernel/glue/kcs.h) must agree, name for name and value for value: the glue maps these
# bits to the kernel's, so a drift would silently change what a flag means.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# "Enum Member Value" from the C# enums Gfp and SlabFlags.
cs=$(awk '
	function hex(s,   i, v) { s = tolower(s); sub(/^0x/, "", s); v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
	/public enum (Gfp|SlabFlags)/ { e = $3; next }
	e && /^    }/ { e = "" }
	e && /^ *[A-Za-z]+ = 0x[0-9a-fA-F]+,/ { gsub(/[=,]/, ""); printf "%s %s %d\n", e, tolower($1), hex($2) }
' "$ROOT/include/linux/Flags.cs" | sort)

# The same from kcs.h, names turned into the C# spelling (KCS_SLAB_HWCACHE_ALIGN and HwcacheAlign both become hwcachealign).
c=$(awk '
	function hex(s,   i, v) { s = tolower(s); sub(/^0x/, "", s); v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
	/^#define KCS_(GFP|SLAB)_/ {
		name = $2; enumname = (name ~ /^KCS_GFP_/) ? "Gfp" : "SlabFlags"
		sub(/^KCS_(GFP|SLAB)_/, "", name)
		member = tolower(name); gsub(/_/, "", member)
		printf "%s %s %d\n", enumname, member, hex($3)
	}' "$ROOT/arch/kernel/glue/kcs.h" | sort)

if [ -n "$cs" ] && [ "$cs" = "$c" ]; then
	echo "PASS flag bits agree between include/linux/Flags.cs and kcs.h ($(echo "$cs" | wc -l) flags)"
else
	echo "FAIL flag bits differ between include/linux/Flags.cs and arch/kernel/glue/kcs.h"
	diff <(echo "$cs") <(echo "$c") | sed 's/^/    | /'
fi
