#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 4   (make test fails unless exactly this many PASS or FAIL lines come out)
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

# Each mask of known flags in kcs.h names every flag of its kind, and nothing else: the glue
# refuses bits outside the mask, so a flag missing from it could never be passed.
for kind in GFP SLAB; do
	flags=$(sed -n "s/^#define \(KCS_${kind}_[A-Z_]*\)[[:space:]]\+0x.*/\1/p" "$ROOT/arch/kernel/glue/kcs.h" | sort)
	mask=$(awk -v name="KCS_KNOWN_${kind}_FLAGS" '
		$1 == "#define" && $2 == name { on = 1 }
		on { line = $0; gsub(/KCS_KNOWN_[A-Z]+_FLAGS/, "", line); while (match(line, /KCS_[A-Z_]+/)) { print substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH) } }
		on && !/\\$/ { on = 0 }' "$ROOT/arch/kernel/glue/kcs.h" | sort)
	if [ -n "$flags" ] && [ "$flags" = "$mask" ]; then
		echo "PASS KCS_KNOWN_${kind}_FLAGS in kcs.h names each of the $(echo "$flags" | wc -l) KCS_${kind}_* flags"
	else
		echo "FAIL KCS_KNOWN_${kind}_FLAGS in kcs.h does not name exactly the KCS_${kind}_* flags (< flags, > mask)"
		diff <(echo "$flags") <(echo "$mask") | sed 's/^/    | /'
	fi
done

# Every entry point named in include/linux/ModuleEntry.cs is declared in kcs.h and called by a
# trampoline in entry.S: the glue and the model find a module's entry points by these names only.
names=$(sed -n 's/.*public const string [A-Za-z]* = "\(kcs_[a-z_]*\)";.*/\1/p' "$ROOT/include/linux/ModuleEntry.cs")
missing=
for name in $names; do
	grep -Eq "^extern [a-z ]+\**${name}\(" "$ROOT/arch/kernel/glue/kcs.h" || missing="$missing $name (kcs.h)"
	grep -Eq "^KCS_ENTRY kcs_enter_[a-z_]+, ${name}\$" "$ROOT/arch/kernel/glue/entry.S" || missing="$missing $name (entry.S)"
done
if [ -n "$names" ] && [ -z "$missing" ]; then
	echo "PASS the $(echo "$names" | wc -w) entry points of ModuleEntry.cs are declared in kcs.h and entered by entry.S"
else
	echo "FAIL entry points of include/linux/ModuleEntry.cs missing from the glue:${missing:- none found in ModuleEntry.cs}"
fi
