#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 8   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The pictures: `simple-cache slabs --svg`, `layout --svg` and `run --html` must be well-formed
# and show what the model holds (as many slots as /proc/slabinfo counts, as many objects in use
# as the module's /proc/simple_cache counts, one list arrow between each two objects), and
# headless Chromium must render them with the slots in their colours (picture-check counts the
# screenshot's pixels of each colour of tools/cli/SlabSvg.cs).

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kcs-pictures.XXXXXX)
trap 'rm -rf "$work"' EXIT

. "$ROOT/tests/host/lib/dotnet.sh"
build_or_fail "$work" tools/cli tests/pictures
CHECK=$ROOT/build/dotnet/bin/PictureCheck/Release/net10.0/picture-check
# The colours of tools/cli/SlabSvg.cs: in use, free on the CPU's freelist, free on the slab's, the list.
green='#2e7d32' blue='#29b6f6' grey='#bdbdbd' orange='#ef6c00'

# field NAME TEXT: the number after NAME in picture-check's "name value name value" output.
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }

# shot FILE PNG: Chromium's screenshot of FILE, 1150 by 1000 pixels.
shot() {
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
		--window-size=1150,1000 --screenshot="$2" "file://$1" > "$work/chromium.log" 2>&1 && [ -s "$2" ]
}

cat > "$work/script" <<'EOF'
insmod simple_cache.ko
for i in $(seq 1 37); do echo add object$i > /proc/simple_cache; done
for i in $(seq 4 5 30); do echo del $i > /proc/simple_cache; done
EOF
state=$({ cat "$work/script"; echo "cat /proc/simple_cache"; echo "grep simple_cache /proc/slabinfo"; } | "$CLI" run --seed 5 -)
objects=$(sed -n 's/^objects: \([0-9]*\),.*/\1/p' <<<"$state")
num_objs=$(awk '$1 == "simple_cache" { print $3 }' <<<"$state")

# 1. The slab map's SVG against the module's and the kernel's own counts.
"$CLI" slabs --seed 5 --script "$work/script" --svg "$work/slabs.svg" > /dev/null 2>&1
svg=$("$CHECK" svg "$work/slabs.svg" 2>&1)
if [ $? -eq 0 ] && [ -n "$objects" ] && [ "$(field slots "$svg")" = "$num_objs" ] && [ "$(field in-use "$svg")" = "$objects" ] &&
	[ "$(field links "$svg")" = "$((objects - 1))" ]; then
	echo "PASS slabs --svg is well-formed and draws $num_objs slots (slabinfo), $objects in use (/proc/simple_cache) and $((objects - 1)) list arrows"
else
	echo "FAIL slabs --svg: picture-check says '$svg'; wanted $num_objs slots, $objects in use, $((objects - 1)) links"
fi

# 2. The layout's SVG: the seven regions of simple_cache's slot under slub_debug=FZPU.
svg=$("$CHECK" svg <("$CLI" layout --slub-debug FZPU --svg /dev/stdout | sed -n '/^<?xml/,$p') 2>&1)
if [ "$(field regions "$svg")" = 7 ]; then
	echo "PASS layout --svg is well-formed and draws the 7 regions of an FZPU slot"
else
	echo "FAIL layout --svg: picture-check says '$svg'; wanted 7 regions"
fi

# 3. The HTML page: one picture per step once the module's cache exists (boot and insmod have
# none before it; the script's three steps and rmmod's none after), each well-formed.
{ cat "$work/script"; echo "rmmod simple_cache"; } | "$CLI" run --seed 5 --html "$work/session.html" - > /dev/null 2>&1
html=$("$CHECK" html "$work/session.html" 2>&1)
if [ $? -eq 0 ] && [ "$(field svgs "$html")" = 3 ] && grep -q '<code>\$ rmmod simple_cache</code>' "$work/session.html" &&
	grep -q 'CACHE: cache destroyed' "$work/session.html"; then
	echo "PASS run --html writes one page: every step, its kernel log, 3 well-formed pictures of the cache ($html)"
else
	echo "FAIL run --html: picture-check says '$html' (wanted 3 pictures), or a step or log line is missing"
fi

# 4-6. Chromium renders the page: the first picture (after insmod: 2 objects in use, 30 free on
# the CPU's freelist) shows its slots in their colours, and the list's arrow. Each cell is 22 by
# 22 pixels; a number in it takes some, so at least half of each cell's pixels must show.
if shot "$work/session.html" "$work/session.png"; then
	png=$("$CHECK" png "$work/session.png" "$green" "$blue" "$orange")
	for c in "green $green 2" "blue $blue 30" "orange $orange 0"; do
		set -- $c
		want=$(($3 * 22 * 22 / 2))
		[ "$1" = orange ] && want=100
		got=$(field "$2" "$png")
		if [ "${got:-0}" -ge "$want" ]; then
			echo "PASS Chromium's screenshot of the session page shows $1 ($2): $got pixels, at least $want wanted"
		else
			echo "FAIL Chromium's screenshot of the session page: $got pixels of $1 ($2), wanted at least $want ($png)"
		fi
	done
else
	for c in green blue orange; do echo "FAIL Chromium could not render the session page ($c not checked)"; done
	tail -n 5 "$work/chromium.log" | sed 's/^/    | /'
fi

# 7. Under slub_debug there are no CPU slabs: every free slot is on its slab's freelist (grey).
"$CLI" slabs --slub-debug FZPU --seed 5 --svg "$work/debug.svg" > /dev/null 2>&1
svg=$("$CHECK" svg "$work/debug.svg" 2>&1)
free=$(field slab-free "$svg")
if shot "$work/debug.svg" "$work/debug.png"; then
	png=$("$CHECK" png "$work/debug.png" "$grey" "$blue")
	if [ "$(field cpu-free "$svg")" = 0 ] && [ "${free:-0}" -gt 0 ] && [ "$(field "$grey" "$png")" -ge $((free * 22 * 22 / 2)) ] &&
		[ "$(field "$blue" "$png")" -lt $((22 * 22)) ]; then
		echo "PASS under slub_debug=FZPU the $free free slots are grey (on the slab's freelist), none blue: $png"
	else
		echo "FAIL slub_debug picture: '$svg', screenshot '$png'"
	fi
else
	echo "FAIL Chromium could not render the slub_debug picture"
fi

# 8. The slab map's SVG renders too (the README's picture is one).
if shot "$work/slabs.svg" "$work/slabs.png"; then
	png=$("$CHECK" png "$work/slabs.png" "$green" "$orange")
	if [ "$(field "$green" "$png")" -ge $((objects * 22 * 22 / 2)) ] && [ "$(field "$orange" "$png")" -ge 100 ]; then
		echo "PASS Chromium's screenshot of slabs --svg shows the $objects objects in green and the list in orange ($png)"
	else
		echo "FAIL Chromium's screenshot of slabs --svg: $png; wanted at least $((objects * 22 * 22 / 2)) green pixels"
	fi
else
	echo "FAIL Chromium could not render slabs --svg"
fi
